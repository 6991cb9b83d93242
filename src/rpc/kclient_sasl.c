/* kclient_sasl.c - SASL for the broker's own client (kclient_int.h).
 * Placeholder until the SASL work lands: refuses SASL_PLAINTEXT and SASL_SSL. */
#include <stdio.h>

#include "rpc/kclient_int.h"

int kclient_sasl_start(kclient *c, int64_t deadline, char *err, size_t errlen)
{
    (void)deadline;
    snprintf(err, errlen, "%s: SASL to other brokers is not implemented", c->peer);
    return -1;
}
