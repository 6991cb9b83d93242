/* kclient_tls.c - TLS for the broker's own client (kclient_int.h).
 * Placeholder until the TLS work lands: refuses SSL and SASL_SSL. */
#include <stdio.h>

#include "rpc/kclient_int.h"

int kclient_tls_start(kclient *c, const char *host, int64_t deadline, char *err, size_t errlen)
{
    (void)host;
    (void)deadline;
    snprintf(err, errlen, "%s: TLS to other brokers is not implemented", c->peer);
    return -1;
}

void kclient_tls_end(kclient *c)
{
    c->ssl = NULL;
}
