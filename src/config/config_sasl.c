/*
 * config_sasl.c - SASL settings of the listeners: which mechanisms each
 * SASL_* listener serves and their JAAS configs, checked at startup.
 *
 * Kafka's keys: sasl.enabled.mechanisms (or
 * listener.name.<l>.sasl.enabled.mechanisms), and for every enabled
 * mechanism listener.name.<l>.<mechanism lower>.sasl.jaas.config holding
 * the mechanism's login module (PLAIN: PlainLoginModule with user_<name>
 * options; SCRAM: ScramLoginModule; OAUTHBEARER: OAuthBearerLoginModule).
 *
 *   S-SASL5  A SASL_* listener starts only with a non-empty list of
 *            supported mechanisms (GSSAPI is refused, naming the key) and
 *            a JAAS config for each one that parses and names the
 *            mechanism's login module; a broker never serves a SASL
 *            listener on which nobody could authenticate by mistake.
 */
#include "config/config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/jaas.h"

/* "listener.name.<listener lower>.<key>" into buf. */
static const char *listener_key(const char *listener, const char *key, char *buf, size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "listener.name.");
    for (const char *p = listener; *p && o + 1 < n; p++)
        buf[o++] = (char)tolower((unsigned char)*p);
    snprintf(buf + o, o < n ? n - o : 0, ".%s", key);
    return buf;
}

const char *broker_config_sasl_mechanisms(const struct broker_config *cfg, const char *listener)
{
    return broker_config_listener_value(cfg, listener, "sasl.enabled.mechanisms");
}

/* "<mech lower>.<key>" into buf. */
static const char *mech_key(const char *mech, const char *key, char *buf, size_t n)
{
    size_t i;
    for (i = 0; mech[i] && i + 1 < n && i < 32; i++)
        buf[i] = (char)tolower((unsigned char)mech[i]);
    snprintf(buf + i, n - i, ".%s", key);
    return buf;
}

int broker_config_sasl_reauth_ms(const struct broker_config *cfg, const char *listener,
                                 const char *mech, int64_t *out)
{
    char k[96];
    int64_t v;
    const char *s = broker_config_listener_value(cfg, listener,
                                                 mech_key(mech, "connections.max.reauth.ms", k, sizeof k));
    if (!s)
        s = broker_config_listener_value(cfg, listener, "connections.max.reauth.ms");
    if (!s || cfgv_parse_i64(s, &v) < 0 || v < 0)
        return -1;
    *out = v;
    return 0;
}

const char *broker_config_sasl_jaas(const struct broker_config *cfg, const char *listener,
                                    const char *mech, char *keybuf, size_t kn)
{
    char base[96];
    size_t i;
    for (i = 0; mech[i] && i + 1 < sizeof base - 17; i++)
        base[i] = (char)tolower((unsigned char)mech[i]);
    snprintf(base + i, sizeof base - i, ".sasl.jaas.config");
    listener_key(listener, base, keybuf, kn);
    return broker_config_listener_value(cfg, listener, base);
}

static bool supported(const char *m)
{
    return !strcmp(m, "PLAIN") || !strcmp(m, "SCRAM-SHA-256") || !strcmp(m, "SCRAM-SHA-512") ||
           !strcmp(m, "OAUTHBEARER");
}

bool cfg_listener_key_implemented(const char *key)
{
    static const char lp[] = "listener.name.";
    if (strncmp(key, lp, sizeof lp - 1))
        return false;
    const char *rest = strchr(key + sizeof lp - 1, '.');
    if (!rest)
        return false;
    rest++;
    /* <mechanism lower>.sasl.jaas.config and <mechanism lower>.connections.max.reauth.ms */
    static const char *const mechs[] = { "plain.", "scram-sha-256.", "scram-sha-512.", "oauthbearer." };
    for (size_t i = 0; i < sizeof mechs / sizeof *mechs; i++) {
        size_t ml = strlen(mechs[i]);
        if (!strncmp(rest, mechs[i], ml) &&
            (!strcmp(rest + ml, "sasl.jaas.config") || !strcmp(rest + ml, "connections.max.reauth.ms")))
            return true;
    }
    return false;
}

static int check_listener(const struct broker_config *cfg, const struct cfg_endpoint *ep, char *why,
                          size_t wn)
{
    char mkey[256], jkey[256], jwhy[256];
    const char *mv = broker_config_sasl_mechanisms(cfg, ep->name);
    listener_key(ep->name, "sasl.enabled.mechanisms", mkey, sizeof mkey);
    const char *mk = broker_config_listener_value(cfg, ep->name, "sasl.enabled.mechanisms") !=
                             broker_config_listener_value(cfg, NULL, "sasl.enabled.mechanisms")
                         ? mkey
                         : "sasl.enabled.mechanisms";
    char **items = NULL;
    size_t n = 0;
    if (cfg_split_list(mv ? mv : "", &items, &n) < 0) {
        snprintf(why, wn, "out of memory");
        return -1;
    }
    int rc = -1;
    if (n == 0) {
        snprintf(why, wn, "%s is empty: SASL listener %s needs at least one mechanism", mk, ep->name);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(items[i], "GSSAPI")) {
            snprintf(why, wn, "%s=%s: GSSAPI (Kerberos) is not supported by Samsa; set %s to "
                     "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and/or OAUTHBEARER for listener %s",
                     mk, mv, mk, ep->name);
            goto out;
        }
        if (!supported(items[i])) {
            snprintf(why, wn, "%s=%s: unknown SASL mechanism '%s' (expected PLAIN, SCRAM-SHA-256, "
                     "SCRAM-SHA-512 or OAUTHBEARER)", mk, mv, items[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int64_t reauth;
        if (broker_config_sasl_reauth_ms(cfg, ep->name, items[i], &reauth) < 0) {
            char mk2[96];
            snprintf(why, wn, "%s: not a number >= 0 (connections.max.reauth.ms of %s on listener %s)",
                     listener_key(ep->name, mech_key(items[i], "connections.max.reauth.ms", mk2,
                                                     sizeof mk2), jkey, sizeof jkey),
                     items[i], ep->name);
            goto out;
        }
        const char *jaas = broker_config_sasl_jaas(cfg, ep->name, items[i], jkey, sizeof jkey);
        if (!jaas) {
            snprintf(why, wn, "%s is not set: listener %s enables SASL mechanism %s (%s) and needs "
                     "its JAAS config", jkey, ep->name, items[i], mk);
            goto out;
        }
        jaas_config jc;
        if (jaas_parse(jaas, &jc, jwhy, sizeof jwhy) < 0) {
            snprintf(why, wn, "%s: %s", jkey, jwhy);
            goto out;
        }
        const char *want = jaas_module_for(items[i]);
        bool ok = !strcmp(jc.module, want);
        if (!ok)
            snprintf(why, wn, "%s: login module %.200s is not %s, the login module of %s", jkey,
                     jc.module, want, items[i]);
        jaas_free(&jc);
        if (!ok)
            goto out;
    }
    rc = 0;
out:
    cfg_strv_free(items, n);
    return rc;
}

int cfg_sasl_validate(const struct broker_config *cfg, char *why, size_t wn)
{
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct cfg_endpoint *ep = &cfg->endpoints[i];
        if (ep->controller ||
            (ep->security_protocol != CFG_SASL_PLAINTEXT && ep->security_protocol != CFG_SASL_SSL))
            continue;
        if (check_listener(cfg, ep, why, wn) < 0)
            return -1;
    }
    /* Kafka: the inter-broker mechanism must be enabled on a SASL
     * inter-broker listener (config_inter_broker.c chose the listener; a
     * listener it fell back to, unchosen, only warns there). */
    const char *ibl = cfg->inter_broker_listener;
    bool chosen = broker_config_is_set(cfg, "inter.broker.listener.name") ||
                  broker_config_is_set(cfg, "security.inter.broker.protocol");
    if (ibl[0] && chosen && (cfg->inter_broker_secproto == CFG_SASL_PLAINTEXT ||
                   cfg->inter_broker_secproto == CFG_SASL_SSL)) {
        const char *mv = broker_config_sasl_mechanisms(cfg, ibl);
        const char *m = cfg->sasl_mechanism_inter_broker_protocol;
        char **items = NULL;
        size_t n = 0;
        bool found = false;
        if (cfg_split_list(mv ? mv : "", &items, &n) == 0)
            for (size_t k = 0; k < n; k++)
                found |= m && !strcmp(items[k], m);
        cfg_strv_free(items, n);
        if (!found) {
            snprintf(why, wn, "sasl.mechanism.inter.broker.protocol=%s must be included in the "
                     "sasl.enabled.mechanisms of inter-broker listener %s (%s)", m ? m : "", ibl,
                     mv ? mv : "");
            return -1;
        }
    }
    return 0;
}

int broker_config_sasl_login(const struct broker_config *cfg, const char *listener,
                             const char *mech, char *user, size_t un, char *pw, size_t pn,
                             char *why, size_t wn)
{
    char key[256], jwhy[256];
    const char *text = broker_config_sasl_jaas(cfg, listener, mech, key, sizeof key);
    jaas_config jc;
    if (!text) {
        snprintf(why, wn, "%s is not set: the broker logs in to listener %s with %s from it", key,
                 listener, mech);
        return -1;
    }
    if (jaas_parse(text, &jc, jwhy, sizeof jwhy) < 0) {
        snprintf(why, wn, "%s: %s", key, jwhy);
        return -1;
    }
    bool oauth = !strcmp(mech, "OAUTHBEARER");
    const char *u = jaas_get(&jc, oauth ? "unsecuredLoginStringClaim_sub" : "username");
    const char *p = oauth ? "" : jaas_get(&jc, "password");
    int rc = -1;
    if (!u || !u[0] || !p)
        snprintf(why, wn, "%s: the broker's own login needs %s", key,
                 oauth ? "unsecuredLoginStringClaim_sub" : "username and password");
    else if (strlen(u) >= un || strlen(p) >= pn)
        snprintf(why, wn, "%s: the broker's user name or password is too long", key);
    else {
        memcpy(user, u, strlen(u) + 1);
        memcpy(pw, p, strlen(p) + 1);
        rc = 0;
    }
    jaas_free(&jc);
    return rc;
}
