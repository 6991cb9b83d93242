/*
 * fuzz_sasl_oauth.c - OAUTHBEARER initial responses and unsecured JWTs
 * (src/auth/oauthbearer.c, cJSON underneath) from an unauthenticated
 * client.
 *
 * Input: one selector byte (bit 0: require scope "read"; bit 1: principal
 * claim "user" instead of "sub"; bit 2: 60 s allowed clock skew), then the
 * client's message.  Variant: when the message has no \x01, it is taken
 * as a JWT and wrapped in "n,,\x01auth=Bearer <jwt>\x01\x01", so the
 * fuzzer reaches the JSON checks quickly.
 *
 * Oracle: no crash or leak; an accepted token has a non-empty principal
 * and an expiry after FUZZ_NOW_MS minus the skew; a refused valid-shaped
 * token answers a JSON status.
 */
#include <string.h>

#include "auth/oauthbearer.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > OAUTH_MAX_MSG)
        return 0;
    char text[256], why[256], status[128], principal[OAUTH_MAX_PRINCIPAL];
    snprintf(text, sizeof text, "%s required %s %s %s;", JAAS_OAUTHBEARER_MODULE,
             (data[0] & 1) ? "unsecuredValidatorRequiredScope=\"read\"" : "",
             (data[0] & 2) ? "unsecuredValidatorPrincipalClaimName=user" : "",
             (data[0] & 4) ? "unsecuredValidatorAllowableClockSkewMs=60000" : "");
    jaas_config jc;
    FUZZ_ASSERT(jaas_parse(text, &jc, why, sizeof why) == 0, "jaas: %s", why);
    const uint8_t *m = data + 1;
    size_t n = size - 1;
    uint8_t wrapped[OAUTH_MAX_MSG + 32];
    if (!memchr(m, 0x01, n) && n + 24 < sizeof wrapped) {
        memcpy(wrapped, "n,,\x01" "auth=Bearer ", 16);
        memcpy(wrapped + 16, m, n);
        memcpy(wrapped + 16 + n, "\x01\x01", 2);
        m = wrapped;
        n += 18;
    }
    int64_t exp = 0;
    int rc = oauth_server_validate(&jc, m, n, FUZZ_NOW_MS, principal, sizeof principal, &exp,
                                   status, sizeof status, why, sizeof why);
    if (rc == OAUTH_OK) {
        FUZZ_ASSERT(principal[0] != '\0', "empty principal");
        FUZZ_ASSERT(exp > FUZZ_NOW_MS - ((data[0] & 4) ? 60000 : 0), "expired token accepted");
    } else if (rc == OAUTH_EINVALID) {
        FUZZ_ASSERT(!strncmp(status, "{\"status\":\"", 11), "status is not JSON");
    }
    jaas_free(&jc);
    return 0;
}
