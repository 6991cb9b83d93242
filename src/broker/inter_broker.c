/*
 * inter_broker.c - the broker's own identity towards the other brokers
 * (inter_broker.h).
 *
 * Kafka's model: a broker connects to its peers on the inter-broker
 * listener with that listener's settings, as a client would - TLS with
 * the listener's truststore (and keystore, for peers that require client
 * certificates), SASL with sasl.mechanism.inter.broker.protocol and the
 * username/password of the listener's JAAS login module
 * (listener.name.<l>.<mech>.sasl.jaas.config: `username=` and `password=`,
 * beside the `user_<name>=` entries PLAIN serves).  With ACLs on, that
 * principal needs Cluster ClusterAction (in practice: super.users).
 *
 * Invariants (docs/security.md):
 *   S-CL6  The inter-broker security is complete before any thread starts:
 *          a missing or unusable TLS store, a missing JAAS identity, or an
 *          identity that does not fit stops the broker with a message
 *          naming the key; nothing falls back to PLAINTEXT.
 *   S-CL7  The password is kept only in the kclient_security (never
 *          logged) and wiped when it is freed.
 */
#include "broker/inter_broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "auth/jaas.h"
#include "config/config.h"
#include "rpc/kclient.h"
#include "server/server_tls.h"

/* S-CL6: username/password of the JAAS config for mech on the listener. */
static int sasl_identity(const struct broker_config *cfg, const char *listener, const char *mech,
                         kclient_security *s, char *err, size_t errlen)
{
    char key[256], why[256];
    const char *text = broker_config_sasl_jaas(cfg, listener, mech, key, sizeof key);
    jaas_config jc;
    if (!text || !text[0]) {
        snprintf(err, errlen, "config error: %s is not set: the broker logs in to the other "
                 "brokers (sasl.mechanism.inter.broker.protocol=%s) with its username and "
                 "password", key, mech);
        return -1;
    }
    if (jaas_parse(text, &jc, why, sizeof why) < 0) {
        snprintf(err, errlen, "config error: %s: %s", key, why);
        return -1;
    }
    const char *user = jaas_get(&jc, "username"), *pass = jaas_get(&jc, "password");
    int rc = -1;
    if (!user || !pass || !user[0])
        snprintf(err, errlen, "config error: %s has no username and password for the broker to "
                 "log in to the other brokers with (sasl.mechanism.inter.broker.protocol=%s)",
                 key, mech);
    else if (strlen(user) >= sizeof s->sasl_username || strlen(pass) >= sizeof s->sasl_password)
        snprintf(err, errlen, "config error: %s: the username or password is longer than %zu "
                 "bytes", key, sizeof s->sasl_username - 1);
    else
        rc = 0;
    if (rc == 0) {
        snprintf(s->sasl_mechanism, sizeof s->sasl_mechanism, "%s", mech);
        snprintf(s->sasl_username, sizeof s->sasl_username, "%s", user);
        snprintf(s->sasl_password, sizeof s->sasl_password, "%s", pass);
    }
    jaas_free(&jc);
    return rc;
}

int inter_broker_security_new(const struct broker_config *cfg, kclient_security **out, char *err,
                              size_t errlen)
{
    *out = NULL;
    int8_t proto = cfg->inter_broker_secproto;
    if (proto == CFG_PLAINTEXT)
        return 0;
    kclient_security *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *l = cfg->inter_broker_listener;
    if (server_tls_kclient_security(cfg, l, proto, s, err, errlen) < 0) {
        inter_broker_security_free(s);
        return -1;
    }
    if (proto == CFG_SASL_PLAINTEXT || proto == CFG_SASL_SSL) {
        const char *mech = cfg->sasl_mechanism_inter_broker_protocol;
        if (sasl_identity(cfg, l, mech ? mech : "", s, err, errlen) < 0) {
            inter_broker_security_free(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

void inter_broker_security_free(kclient_security *s)
{
    if (!s)
        return;
    if (s->ssl_ctx)
        SSL_CTX_free(s->ssl_ctx);
    OPENSSL_cleanse(s, sizeof *s);   /* S-CL7 */
    free(s);
}
