/*
 * fuzz_sasl_plain.c - SASL/PLAIN tokens (src/auth/plain.c) from an
 * unauthenticated client, checked against fixed JAAS users.
 *
 * Input: the token.  Oracle: no crash or leak; success only for exactly
 * "[authzid]\0user\0password" of a configured user with an empty or equal
 * authzid, and then the authcid is that user.
 */
#include <string.h>

#include "auth/plain.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jaas_config jc;
    static int ready;
    char why[128], user[PLAIN_MAX_USER];
    const char *msg;
    if (!ready) {
        FUZZ_ASSERT(jaas_parse(JAAS_PLAIN_MODULE " required user_alice=\"alice-secret\" "
                               "user_b=\"\";", &jc, why, sizeof why) == 0, "jaas");
        ready = 1;
    }
    int rc = plain_authenticate(&jc, data, size, user, sizeof user, &msg);
    if (rc == PLAIN_OK) {
        FUZZ_ASSERT(!strcmp(user, "alice"), "authenticated someone else");
        FUZZ_ASSERT(size >= 19 && !memcmp(data + size - 19, "\0alice\0alice-secret", 19),
                    "accepted a token that does not end in alice's credentials");
    } else {
        FUZZ_ASSERT(msg != NULL, "no message");
    }
    return 0;
}
