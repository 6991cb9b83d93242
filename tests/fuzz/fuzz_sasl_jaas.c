/*
 * fuzz_sasl_jaas.c - Kafka's sasl.jaas.config syntax (src/auth/jaas.c):
 * operator text, but also what AlterConfigs may carry for a listener.
 *
 * Input: the JAAS text (NUL-terminated here).  Oracle: no crash or leak; a
 * parsed config has a module, a known flag, at most JAAS_MAX_OPTIONS
 * options with non-empty keys, and jaas_get finds each key's value.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/jaas.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > JAAS_MAX_TEXT + 1)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    jaas_config jc;
    char why[256];
    if (jaas_parse(text, &jc, why, sizeof why) == 0) {
        FUZZ_ASSERT(jc.module && jc.module[0], "no module");
        FUZZ_ASSERT(jc.flag >= JAAS_REQUIRED && jc.flag <= JAAS_OPTIONAL, "flag");
        FUZZ_ASSERT(jc.nopts <= JAAS_MAX_OPTIONS, "too many options");
        for (size_t i = 0; i < jc.nopts; i++) {
            FUZZ_ASSERT(jc.opts[i].key[0], "empty key");
            FUZZ_ASSERT(jaas_get(&jc, jc.opts[i].key) == jc.opts[i].value, "lookup");
        }
        jaas_free(&jc);
    } else {
        FUZZ_ASSERT(why[0], "refused without a reason");
    }
    free(text);
    return 0;
}
