/*
 * config_inter_broker.c - which listener brokers talk to each other on
 * (docs/security.md, "The cluster over secured listeners").
 *
 * Kafka's rules (KafkaConfig, ZooKeeper mode):
 *   - inter.broker.listener.name names the listener; otherwise it is the
 *     listener named after security.inter.broker.protocol (default
 *     PLAINTEXT: the listener called PLAINTEXT).  Setting both is an error.
 *   - That listener must be one of advertised.listeners: it is the
 *     endpoint every other broker finds in this broker's registration.
 *   - Over SASL, the broker logs in with sasl.mechanism.inter.broker.protocol
 *     (Kafka's default GSSAPI; Samsa logs in with PLAIN or SCRAM only).
 *
 * The result is the derived cfg->inter_broker_listener (upper-case name)
 * and cfg->inter_broker_secproto, read by the broker for every
 * broker-to-broker connection (src/broker/inter_broker.c).
 *
 * Embedded mode (no zookeeper.connect) has no other broker; the only
 * inter-broker traffic is the transaction coordinator's markers to this
 * broker itself.  There a default that names no listener falls back to a
 * PLAINTEXT listener, else the first one (warned), instead of refusing to
 * start as Kafka would: single-broker configurations with only an SSL or
 * SASL listener keep starting.
 */
#include "config/config_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct cfg_endpoint *advertised(const struct broker_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nadvertised; i++)
        if (!strcasecmp(cfg->advertised[i].name, name))
            return &cfg->advertised[i];
    return NULL;
}

static void names(const struct broker_config *cfg, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < cfg->nadvertised && at < cap; i++) {
        int n = snprintf(buf + at, cap - at, "%s%s", i ? "," : "", cfg->advertised[i].name);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

/* S-CL3: a mechanism the broker can log in with (rpc/kclient_sasl.c). */
static bool mechanism_supported(const char *m)
{
    return !strcmp(m, "PLAIN") || !strcmp(m, "SCRAM-SHA-256") || !strcmp(m, "SCRAM-SHA-512");
}

int cfg_resolve_inter_broker(struct broker_config *cfg, char *why, size_t wn)
{
    bool by_name = broker_config_is_set(cfg, "inter.broker.listener.name");
    bool by_proto = broker_config_is_set(cfg, "security.inter.broker.protocol");
    bool cluster = cfg->zookeeper_connect && cfg->zookeeper_connect[0];
    char list[512];
    /* S-CL1: one way to choose the inter-broker listener, not two. */
    if (by_name && by_proto) {
        snprintf(why, wn, "Only one of inter.broker.listener.name and "
                          "security.inter.broker.protocol should be set.");
        return -1;
    }
    const char *want = by_name && cfg->inter_broker_listener_name
                           ? cfg->inter_broker_listener_name
                           : cfg->security_inter_broker_protocol;
    const struct cfg_endpoint *ep = advertised(cfg, want ? want : "PLAINTEXT");
    bool fallback = !ep;
    if (!ep) {
        names(cfg, list, sizeof list);
        /* S-CL2: in a cluster (or when chosen explicitly) the listener must
         * exist: a broker never guesses which endpoint its peers take. */
        if (cluster || by_name || by_proto) {
            if (by_name)
                snprintf(why, wn, "inter.broker.listener.name must be a listener name defined in "
                                  "advertised.listeners. The valid options based on currently "
                                  "configured listeners are %s", list);
            else
                snprintf(why, wn, "security.inter.broker.protocol=%s: brokers connect to each "
                                  "other on the listener named %s, which is not in "
                                  "advertised.listeners (%s); set inter.broker.listener.name",
                         want, want, list);
            return -1;
        }
        for (size_t i = 0; !ep && i < cfg->nadvertised; i++)
            if (cfg->advertised[i].security_protocol == CFG_PLAINTEXT)
                ep = &cfg->advertised[i];
        if (!ep && cfg->nadvertised)
            ep = &cfg->advertised[0];
        if (!ep) {
            snprintf(why, wn, "no advertised listener for inter-broker requests");
            return -1;
        }
        if (ep->security_protocol != CFG_PLAINTEXT)
            cfg_strv_push(&cfg->warnings, &cfg->nwarnings,
                          "no listener named %s (security.inter.broker.protocol default): this "
                          "broker's transaction markers to itself use listener %s (%s)",
                          want ? want : "PLAINTEXT", ep->name,
                          cfg_secproto_name(ep->security_protocol));
    }
    snprintf(cfg->inter_broker_listener, sizeof cfg->inter_broker_listener, "%s", ep->name);
    cfg->inter_broker_secproto = ep->security_protocol;
    bool sasl = ep->security_protocol == CFG_SASL_PLAINTEXT ||
                ep->security_protocol == CFG_SASL_SSL;
    const char *mech = cfg->sasl_mechanism_inter_broker_protocol;
    if (sasl && (!mech || !mechanism_supported(mech))) {
        if (fallback) {
            cfg_strv_push(&cfg->warnings, &cfg->nwarnings,
                          "sasl.mechanism.inter.broker.protocol=%s: this broker cannot log in to "
                          "its own listener %s for transaction markers (PLAIN, SCRAM-SHA-256 or "
                          "SCRAM-SHA-512 needed)", mech ? mech : "", ep->name);
            return 0;
        }
        snprintf(why, wn, "sasl.mechanism.inter.broker.protocol=%s: the inter-broker listener %s "
                          "uses %s and Samsa logs in to other brokers with PLAIN, SCRAM-SHA-256 "
                          "or SCRAM-SHA-512 only",
                 mech ? mech : "", ep->name, cfg_secproto_name(ep->security_protocol));
        return -1;
    }
    return 0;
}
