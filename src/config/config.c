/*
 * config.c - building a struct broker_config: defaults, the properties
 * file, --override arguments, then cross-key validation and derived
 * values; plus the broker's DescribeConfigs view and the generated docs.
 *
 * Life of a config (see config.h for the contract):
 *   broker_config_init      every row's default lands in its field
 *   broker_config_set       per key: table row -> check, canonicalise,
 *                           land; Kafka key we lack -> kept + warning;
 *                           anything else -> remembered as unknown
 *   broker_config_finish    unknown keys (error with a suggestion, or
 *                           warnings), aliases (node.id/broker.id,
 *                           legacy host.name/port), precedence
 *                           (ms > minutes > hours), listeners, limits
 *
 * Bookkeeping (struct cfg_state, config_int.h): for every table row the
 * effective canonical string (NULL = default), its origin for messages
 * and the layer that set it (file or override, to detect duplicates; or a
 * dynamic layer), the static and the dynamic values separately (for
 * DescribeConfigs synonyms); the accepted-but-unimplemented and unknown
 * keys; and the log of static set() calls (config_dynamic.c replays it).
 *
 * Errors are one line, "config error: KEY=VALUE: why [origin]"; password
 * values are never echoed.  Warnings are collected in cfg->warnings.
 *
 * Main thread only, before the broker starts (see config.h).
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/errors.h"
#include "core/log.h"

#define MAX_FILE_BYTES (16u << 20)

#define DEF(i) (&cfg_broker_defs[i])

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "config error: ");
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < errlen)
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
        /* Keys and values may hold escaped line breaks or other control
         * characters (\n in .properties): keep the message one line. */
        for (char *p = err; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return code;
}

#define WARN(cfg, ...) cfg_strv_push(&(cfg)->warnings, &(cfg)->nwarnings, __VA_ARGS__)

/* A value as it may appear in messages: passwords are masked. */
static const char *shown(int type, const char *v)
{
    return type == CFG_T_PASSWORD ? "****" : v;
}

static int idx_of(const char *name)
{
    int i = cfg_broker_find(name);
    return i;
}

/* ---- init / free ---- */

int broker_config_init(struct broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    struct cfg_state *st = calloc(1, sizeof *st);
    if (!st)
        return KERR__NOMEM;
    cfg->st = st;
    st->raw = calloc(cfg_broker_ndefs, sizeof *st->raw);
    st->origin = calloc(cfg_broker_ndefs, sizeof *st->origin);
    st->layer = calloc(cfg_broker_ndefs, 1);
    st->stat = calloc(cfg_broker_ndefs, sizeof *st->stat);
    st->dyn[0] = calloc(cfg_broker_ndefs, sizeof *st->dyn[0]);
    st->dyn[1] = calloc(cfg_broker_ndefs, sizeof *st->dyn[1]);
    if (!st->raw || !st->origin || !st->layer || !st->stat || !st->dyn[0] || !st->dyn[1])
        return KERR__NOMEM;
    for (size_t i = 0; i < cfg_broker_ndefs; i++)
        if (cfgv_land(DEF(i), DEF(i)->dflt, cfg) < 0)
            return KERR__NOMEM;
    cfg->log_level = LOG_INFO;
    return 0;
}

static void strv_free_n(char **v)
{
    for (size_t i = 0; v && i < cfg_broker_ndefs; i++)
        free(v[i]);
    free(v);
}

static void free_derived(struct broker_config *cfg)
{
    free(cfg->endpoints);
    free(cfg->advertised);
    cfg_strv_free(cfg->log_dir_list, cfg->nlog_dirs);
    free(cfg->conn_overrides);
    cfg->endpoints = cfg->advertised = NULL;
    cfg->log_dir_list = NULL;
    cfg->conn_overrides = NULL;
    cfg->nendpoints = cfg->nadvertised = cfg->nlog_dirs = cfg->nconn_overrides = 0;
}

void broker_config_free(struct broker_config *cfg)
{
    struct cfg_state *st = cfg->st;
    for (size_t i = 0; i < cfg_broker_ndefs; i++)
        cfgv_land(DEF(i), NULL, cfg);           /* frees string fields */
    if (st) {
        strv_free_n(st->raw);
        strv_free_n(st->origin);
        strv_free_n(st->stat);
        strv_free_n(st->dyn[0]);
        strv_free_n(st->dyn[1]);
        free(st->layer);
        for (size_t i = 0; i < st->nextra; i++) {
            free(st->extra[i].key);
            free(st->extra[i].value);
            free(st->extra[i].origin);
            free(st->extra[i].dyn[0]);
            free(st->extra[i].dyn[1]);
        }
        free(st->extra);
        for (size_t i = 0; i < st->nlog; i++) {
            free(st->log[i].key);
            free(st->log[i].value);
            free(st->log[i].origin);
        }
        free(st->log);
        free(st);
    }
    free_derived(cfg);
    cfg_strv_free(cfg->warnings, cfg->nwarnings);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- set ---- */

/* A static value for row i (the caller has landed it in its field).  A
 * dynamic value already in effect stays in effect (and in the field). */
static int record(struct broker_config *cfg, int i, const char *canon, enum cfg_layer layer,
                  const char *origin)
{
    struct cfg_state *st = cfg->st;
    char *r = canon ? cfg_strdup(canon) : NULL, *o = cfg_strdup(origin);
    char *sv = canon ? cfg_strdup(canon) : NULL;
    if ((canon && (!r || !sv)) || !o) {
        free(r);
        free(o);
        free(sv);
        return -1;
    }
    free(st->stat[i]);
    st->stat[i] = sv;
    if (st->layer[i] >= CFG_LAYER_DYN_DEFAULT) {
        free(r);
        free(o);
        return cfgv_land(DEF(i), st->raw[i], cfg);
    }
    free(st->raw[i]);
    free(st->origin[i]);
    st->raw[i] = r;
    st->origin[i] = o;
    st->layer[i] = (uint8_t)layer;
    return 0;
}

/* Remember a successful static set() for broker_config_with_dynamic. */
static int log_set(struct cfg_state *st, const char *key, const char *value,
                   enum cfg_layer layer, const char *origin)
{
    if (st->nlog == st->caplog) {
        size_t nc = st->caplog ? st->caplog * 2 : 32;
        struct cfg_logent *nv = realloc(st->log, nc * sizeof *nv);
        if (!nv)
            return -1;
        st->log = nv;
        st->caplog = nc;
    }
    struct cfg_logent *l = &st->log[st->nlog];
    l->key = cfg_strdup(key);
    l->value = cfg_strdup(value);
    l->origin = cfg_strdup(origin);
    l->layer = (uint8_t)layer;
    if (!l->key || !l->value || !l->origin) {
        free(l->key);
        free(l->value);
        free(l->origin);
        return -1;
    }
    st->nlog++;
    return 0;
}

/* The extra entry for key, created (empty) if needed; NULL on OOM. */
static struct cfg_extra *extra_for(struct cfg_state *st, const char *key)
{
    for (size_t i = 0; i < st->nextra; i++)
        if (!strcmp(st->extra[i].key, key))
            return &st->extra[i];
    if (st->nextra == st->capextra) {
        size_t nc = st->capextra ? st->capextra * 2 : 16;
        struct cfg_extra *nv = realloc(st->extra, nc * sizeof *nv);
        if (!nv)
            return NULL;
        st->extra = nv;
        st->capextra = nc;
    }
    struct cfg_extra *x = &st->extra[st->nextra];
    memset(x, 0, sizeof *x);
    if (!(x->key = cfg_strdup(key)))
        return NULL;
    st->nextra++;
    return x;
}

int cfg_extra_set_dynamic(struct broker_config *cfg, const char *key, int kind, int layer,
                          const char *value)
{
    struct cfg_extra *x = extra_for(cfg->st, key);
    char *v = value ? cfg_strdup(value) : NULL;
    if (!x || (value && !v)) {
        free(v);
        return -1;
    }
    if (!x->value)
        x->kind = (uint8_t)kind;
    free(x->dyn[layer]);
    x->dyn[layer] = v;
    return 0;
}

static int set_extra(struct broker_config *cfg, const char *key, const char *value, int kind,
                     enum cfg_layer layer, const char *origin)
{
    struct cfg_state *st = cfg->st;
    struct cfg_extra *x = NULL;
    for (size_t i = 0; i < st->nextra; i++)
        if (!strcmp(st->extra[i].key, key))
            x = &st->extra[i];
    if (x && x->layer == layer)
        WARN(cfg, "%s is set more than once (%s, then %s); the last value wins", key, x->origin,
             origin);
    if (!x && !(x = extra_for(st, key)))
        return -1;
    char *v = cfg_strdup(value), *o = cfg_strdup(origin);
    if (!v || !o) {
        free(v);
        free(o);
        return -1;
    }
    free(x->value);
    free(x->origin);
    x->value = v;
    x->origin = o;
    x->kind = (uint8_t)kind;
    x->layer = (uint8_t)layer;
    return 0;
}

int broker_config_set(struct broker_config *cfg, const char *key, const char *value,
                      enum cfg_layer layer, const char *origin, char *err, size_t errlen)
{
    char why[512];
    if (!origin)
        origin = "?";
    if (!value)
        return fail(err, errlen, KERR_INVALID_CONFIG, "%s: a value is required [%s]", key, origin);
    if (!key[0])
        return fail(err, errlen, KERR_INVALID_CONFIG, "empty key (value '%s') [%s]", value, origin);
    int i = idx_of(key);
    if (i >= 0) {
        const struct cfg_def *d = DEF(i);
        if (cfgv_check(d, value, why, sizeof why) < 0)
            return fail(err, errlen, KERR_INVALID_CONFIG, "%s=%s: %s [%s]", key,
                        shown(d->type, value), why, origin);
        char *canon = cfgv_canonical(d, value);
        if (!canon)
            return fail(err, errlen, KERR__NOMEM, "out of memory");
        if (cfg->st->layer[i] == layer)
            WARN(cfg, "%s is set more than once (%s, then %s); the last value wins", key,
                 cfg->st->origin[i], origin);
        int r = cfgv_land(d, canon, cfg) < 0 || record(cfg, i, canon, layer, origin) < 0 ||
                log_set(cfg->st, key, value, layer, origin) < 0;
        free(canon);
        return r ? fail(err, errlen, KERR__NOMEM, "out of memory") : 0;
    }
    const char *fam;
    int kind = cfg_kafka_known(key, &fam);
    const struct cfg_def *ld = cfg_listener_row(key);
    if (ld) {
        /* listener.name.<l>.<key> of a key implemented per listener:
         * validated as the key itself, read by broker_config_listener_value. */
        if (cfgv_check(ld, value, why, sizeof why) < 0)
            return fail(err, errlen, KERR_INVALID_CONFIG, "%s=%s: %s [%s]", key,
                        shown(ld->type, value), why, origin);
        kind = CFG_KNOWN_LISTENER;
    } else if (cfg_listener_key_implemented(key)) {
        kind = CFG_KNOWN_LISTENER;      /* listener.name.<l>.<mech>.sasl.jaas.config */
    }
    if (set_extra(cfg, key, value, kind, layer, origin) < 0 ||
        log_set(cfg->st, key, value, layer, origin) < 0)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    if (kind == CFG_KNOWN_KAFKA)
        WARN(cfg, "%s is a Kafka config that Samsa does not implement yet; ignored [%s]", key,
             origin);
    else if (kind == CFG_KNOWN_PREFIX)
        WARN(cfg, "%s: %s; ignored [%s]", key, fam, origin);
    return 0;
}

bool broker_config_is_set(const struct broker_config *cfg, const char *key)
{
    int i = idx_of(key);
    return i >= 0 && cfg->st->layer[i] != 0;
}

static bool is_set_i(const struct broker_config *cfg, int i)
{
    return i >= 0 && cfg->st->layer[i] != 0;
}
#define IS_SET(cfg, name) is_set_i((cfg), idx_of(name))

/* ---- loading ---- */

int broker_config_load_string(struct broker_config *cfg, const char *text, size_t len,
                              const char *name, char *err, size_t errlen)
{
    struct props p;
    char why[512], origin[512];
    if (props_parse(text, len, &p, why, sizeof why) < 0)
        return fail(err, errlen, KERR_INVALID_CONFIG, "%s: %s", name, why);
    int rc = 0;
    for (size_t i = 0; i < p.n && !rc; i++) {
        snprintf(origin, sizeof origin, "%s:%d", name, p.v[i].line);
        rc = broker_config_set(cfg, p.v[i].key, p.v[i].value, CFG_LAYER_FILE, origin, err, errlen);
    }
    props_free(&p);
    return rc;
}

int broker_config_load_file(struct broker_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, KERR__IO, "cannot open config file %s: %s", path, strerror(errno));
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int rderr = ferror(f);
    fclose(f);
    if (!buf)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    int rc;
    if (rderr)
        rc = fail(err, errlen, KERR__IO, "cannot read config file %s", path);
    else if (n > MAX_FILE_BYTES)
        rc = fail(err, errlen, KERR_INVALID_CONFIG, "config file %s is larger than %u bytes", path,
                  MAX_FILE_BYTES);
    else
        rc = broker_config_load_string(cfg, buf, n, path, err, errlen);
    free(buf);
    return rc;
}

/* ---- finish: unknown keys ---- */

struct suggest {
    const char *key;
    const char *best;
    int bestd;
    int cap;
};

static void suggest_visit(const char *name, void *arg)
{
    struct suggest *s = arg;
    int d = cfg_edit_distance(s->key, name, s->cap);
    if (d <= s->cap && d < s->bestd) {
        s->bestd = d;
        s->best = name;
    }
}

const char *cfg_suggest(const char *key)
{
    size_t len = strlen(key);
    struct suggest s = { key, NULL, 1 << 30, len <= 6 ? 1 : len <= 15 ? 2 : 3 };
    for (size_t i = 0; i < cfg_broker_ndefs; i++)
        suggest_visit(DEF(i)->name, &s);
    cfg_kafka_foreach(suggest_visit, &s);
    return s.best;
}

static int check_unknown(struct broker_config *cfg, char *err, size_t errlen)
{
    struct cfg_state *st = cfg->st;
    bool warn_only = !strcmp(cfg->samsa_unknown_config_policy, "warn");
    size_t nunknown = 0;
    const struct cfg_extra *first = NULL;
    for (size_t i = 0; i < st->nextra; i++) {
        const struct cfg_extra *x = &st->extra[i];
        if (x->kind != CFG_KNOWN_NONE)
            continue;
        if (!nunknown++)
            first = x;
        if (warn_only) {
            const char *s = cfg_suggest(x->key);
            WARN(cfg, "%s: unknown config key%s%s%s; ignored (samsa.unknown.config.policy=warn) [%s]",
                 x->key, s ? "; did you mean " : "", s ? s : "", s ? "?" : "", x->origin);
        }
    }
    if (!nunknown || warn_only)
        return 0;
    const char *s = cfg_suggest(first->key);
    char more[64] = "";
    if (nunknown > 1)
        snprintf(more, sizeof more, " (and %zu more unknown key%s)", nunknown - 1,
                 nunknown > 2 ? "s" : "");
    if (s)
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "%s: unknown config key; did you mean %s? [%s]%s", first->key, s,
                    first->origin, more);
    return fail(err, errlen, KERR_INVALID_CONFIG,
                "%s: unknown config key (not a Kafka or Samsa broker config) [%s]%s", first->key,
                first->origin, more);
}

/* ---- finish: aliases and precedence ---- */

/* Set a derived value for row name as if configured (describe shows it). */
static int derive_set(struct broker_config *cfg, const char *name, const char *value,
                      const char *origin)
{
    int i = idx_of(name);
    if (cfgv_land(DEF(i), value, cfg) < 0)
        return -1;
    return record(cfg, i, value, CFG_LAYER_FILE, origin);
}

static int resolve_ids(struct broker_config *cfg, char *err, size_t errlen)
{
    bool ns = IS_SET(cfg, "node.id"), bs = IS_SET(cfg, "broker.id");
    char buf[16];
    if (ns && bs && cfg->node_id != cfg->broker_id)
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "node.id=%d and broker.id=%d must match (they are the same setting; set one)",
                    cfg->node_id, cfg->broker_id);
    if (cfg->node_id < 0 || cfg->broker_id < 0) {
        WARN(cfg, "%s=-1 asks Kafka to generate a broker id, which Samsa does not do; using 0",
             cfg->node_id < 0 ? "node.id" : "broker.id");
        if (derive_set(cfg, "node.id", "0", "(default for -1)") < 0 ||
            derive_set(cfg, "broker.id", "0", "(default for -1)") < 0)
            return fail(err, errlen, KERR__NOMEM, "out of memory");
        return 0;
    }
    snprintf(buf, sizeof buf, "%d", bs ? cfg->broker_id : cfg->node_id);
    if (bs && !ns && derive_set(cfg, "node.id", buf, "(alias broker.id)") < 0)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    if (ns && !bs && derive_set(cfg, "broker.id", buf, "(alias node.id)") < 0)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    return 0;
}

static int resolve_times(struct broker_config *cfg, char *err, size_t errlen)
{
    const char *from;
    int64_t ms;
    if (IS_SET(cfg, "log.retention.ms")) {
        ms = cfg->log_retention_ms;
        from = "log.retention.ms";
    } else if (IS_SET(cfg, "log.retention.minutes")) {
        ms = (int64_t)cfg->log_retention_minutes * 60000;
        from = "log.retention.minutes";
    } else {
        ms = (int64_t)cfg->log_retention_hours * 3600000;
        from = "log.retention.hours";
    }
    if (ms == 0) {
        int i = idx_of(from);
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "%s=%s: retention must be unlimited (-1) or at least 1 ms [%s]", from,
                    cfg->st->raw[i] ? cfg->st->raw[i] : DEF(i)->dflt,
                    cfg->st->origin[i] ? cfg->st->origin[i] : "default");
    }
    cfg->retention_ms = ms < 0 ? -1 : ms;
    cfg->roll_ms = IS_SET(cfg, "log.roll.ms") ? cfg->log_roll_ms
                                              : (int64_t)cfg->log_roll_hours * 3600000;
    cfg->roll_jitter_ms = IS_SET(cfg, "log.roll.jitter.ms")
                              ? cfg->log_roll_jitter_ms
                              : (int64_t)cfg->log_roll_jitter_hours * 3600000;
    cfg->flush_ms = IS_SET(cfg, "log.flush.interval.ms") ? cfg->log_flush_interval_ms
                                                         : cfg->log_flush_scheduler_interval_ms;
    cfg->zookeeper_connection_timeout_eff_ms = IS_SET(cfg, "zookeeper.connection.timeout.ms")
                                                   ? cfg->zookeeper_connection_timeout_ms
                                                   : cfg->zookeeper_session_timeout_ms;
    return 0;
}

/* Kafka < 3.0 host.name/port and advertised.host.name/advertised.port. */
static int resolve_legacy_listeners(struct broker_config *cfg, char *err, size_t errlen)
{
    char buf[400];
    bool lset = IS_SET(cfg, "listeners"), aset = IS_SET(cfg, "advertised.listeners");
    bool hp = IS_SET(cfg, "host.name") || IS_SET(cfg, "port");
    bool ahp = IS_SET(cfg, "advertised.host.name") || IS_SET(cfg, "advertised.port");
    if (hp && lset)
        WARN(cfg, "host.name/port are deprecated and ignored because listeners is set");
    if (hp && !lset) {
        const char *h = cfg->host_name;
        bool v6 = strchr(h, ':') != NULL;
        snprintf(buf, sizeof buf, "PLAINTEXT://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                 cfg->port);
        WARN(cfg, "host.name/port are deprecated (removed in Kafka 3.0); using listeners=%s", buf);
        if (derive_set(cfg, "listeners", buf, "(from host.name/port)") < 0)
            return fail(err, errlen, KERR__NOMEM, "out of memory");
    }
    if (ahp && aset)
        WARN(cfg, "advertised.host.name/advertised.port are deprecated and ignored because "
                  "advertised.listeners is set");
    if (ahp && !aset) {
        const char *h = cfg->advertised_host_name ? cfg->advertised_host_name : cfg->host_name;
        int port = cfg->advertised_port != CFG_NULL_INT ? cfg->advertised_port : cfg->port;
        bool v6 = strchr(h, ':') != NULL;
        snprintf(buf, sizeof buf, "PLAINTEXT://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "", port);
        WARN(cfg, "advertised.host.name/advertised.port are deprecated (removed in Kafka 3.0); "
                  "using advertised.listeners=%s", buf);
        char why[256];
        if (cfg_check_advertised(buf, why, sizeof why) < 0)
            return fail(err, errlen, KERR_INVALID_CONFIG, "advertised.host.name: %s", why);
        if (derive_set(cfg, "advertised.listeners", buf, "(from advertised.host.name/port)") < 0)
            return fail(err, errlen, KERR__NOMEM, "out of memory");
    }
    return 0;
}

static void machine_hostname(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0 || !buf[0])
        snprintf(buf, n, "localhost");
    buf[n - 1] = 0;
}

static bool name_in_list(const char *list, const char *name)
{
    char **items;
    size_t n;
    bool found = false;
    if (!list || cfg_split_list(list, &items, &n) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        found |= !strcasecmp(items[i], name);
    cfg_strv_free(items, n);
    return found;
}

static const struct cfg_endpoint *find_ep(const struct broker_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nendpoints; i++)
        if (!strcasecmp(cfg->endpoints[i].name, name))
            return &cfg->endpoints[i];
    return NULL;
}

static int resolve_listeners(struct broker_config *cfg, char *err, size_t errlen)
{
    char why[512], host[256];
    const char *map = cfg->listener_security_protocol_map;
    if (cfg_parse_endpoints(cfg->listeners, map, true, &cfg->endpoints, &cfg->nendpoints, why,
                            sizeof why) < 0)
        return fail(err, errlen, KERR_INVALID_CONFIG, "listeners=%s: %s", cfg->listeners, why);
    size_t served = 0;
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        struct cfg_endpoint *ep = &cfg->endpoints[i];
        if (name_in_list(cfg->controller_listener_names, ep->name)) {
            ep->controller = true;
            WARN(cfg, "listener %s is a KRaft controller listener (controller.listener.names); "
                      "Samsa runs no controller and does not serve it", ep->name);
            continue;
        }
        served++;
    }
    if (!served)
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "listeners=%s: no listener left to serve clients (all are controller listeners)",
                    cfg->listeners);
    if (cfg->inter_broker_listener_name) {
        const struct cfg_endpoint *ep = find_ep(cfg, cfg->inter_broker_listener_name);
        if (!ep || ep->controller)
            return fail(err, errlen, KERR_INVALID_CONFIG,
                        "inter.broker.listener.name=%s: not one of the listeners (%s)",
                        cfg->inter_broker_listener_name, cfg->listeners);
    }
    machine_hostname(host, sizeof host);
    if (cfg->advertised_listeners) {
        if (cfg_parse_endpoints(cfg->advertised_listeners, map, false, &cfg->advertised,
                                &cfg->nadvertised, why, sizeof why) < 0)
            return fail(err, errlen, KERR_INVALID_CONFIG, "advertised.listeners=%s: %s",
                        cfg->advertised_listeners, why);
        for (size_t i = 0; i < cfg->nadvertised; i++) {
            struct cfg_endpoint *a = &cfg->advertised[i];
            const struct cfg_endpoint *l = find_ep(cfg, a->name);
            if (!l || l->controller)
                return fail(err, errlen, KERR_INVALID_CONFIG,
                            "advertised.listeners=%s: listener %s is not one of the %slisteners (%s)",
                            cfg->advertised_listeners, a->name, l ? "non-controller " : "",
                            cfg->listeners);
            if (!a->host[0]) {
                snprintf(a->host, sizeof a->host, "%s", host);
                a->wildcard = false;
                a->ipv6 = strchr(a->host, ':') != NULL;
            }
        }
        return 0;
    }
    cfg->advertised = calloc(cfg->nendpoints, sizeof *cfg->advertised);
    if (!cfg->advertised)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct cfg_endpoint *l = &cfg->endpoints[i];
        if (l->controller)
            continue;
        struct cfg_endpoint *a = &cfg->advertised[cfg->nadvertised++];
        *a = *l;
        if (l->wildcard) {
            if (l->host[0])
                WARN(cfg, "listener %s binds %s and advertised.listeners is not set; advertising "
                          "this machine's host name '%s'", l->name, l->host, host);
            snprintf(a->host, sizeof a->host, "%s", host);
            a->wildcard = false;
            a->ipv6 = strchr(a->host, ':') != NULL;
        }
    }
    return 0;
}

static int resolve_limits(struct broker_config *cfg, char *err, size_t errlen)
{
    char why[512];
    if (cfg_parse_conn_overrides(cfg->max_connections_per_ip_overrides, &cfg->conn_overrides,
                                 &cfg->nconn_overrides, why, sizeof why) < 0)
        return fail(err, errlen, KERR_INVALID_CONFIG, "max.connections.per.ip.overrides=%s: %s",
                    cfg->max_connections_per_ip_overrides, why);
    if (cfg->max_connections_per_ip == 0 && !cfg->nconn_overrides)
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "max.connections.per.ip=0: allowed only with max.connections.per.ip.overrides");
    if (cfg->group_min_session_timeout_ms > cfg->group_max_session_timeout_ms)
        return fail(err, errlen, KERR_INVALID_CONFIG,
                    "group.min.session.timeout.ms=%d: greater than group.max.session.timeout.ms=%d",
                    cfg->group_min_session_timeout_ms, cfg->group_max_session_timeout_ms);
    if (cfg_split_list(cfg->log_dirs ? cfg->log_dirs : cfg->log_dir, &cfg->log_dir_list,
                       &cfg->nlog_dirs) < 0)
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    return 0;
}

/* Keys that deserve a note when set: deprecated ones, and ones accepted
 * without effect (yet). */
static const struct {
    const char *key, *why;
} deprecated[] = {
    { "log.message.timestamp.difference.max.ms",
      "deprecated since Kafka 3.6; prefer log.message.timestamp.before.max.ms/after.max.ms" },
    { "log.message.format.version", "deprecated and ignored: Samsa always writes record batch v2" },
    /* Accepted (so Kafka files start) but without effect yet: each entry
     * goes away when the feature lands. */
    { "num.io.threads", "has no effect: Samsa handles requests on its network threads" },
    { "log.preallocate", "has no effect: the active segment is always reserved ahead on disk, its size unchanged "
                         "(docs/storage-format.md §8); index files are written at their used size" },
    { "num.replica.fetchers", "has no effect yet: one fetcher thread per leader broker (docs/replication.md)" },
    { "queued.max.requests", "has no effect: flow control is per connection (see docs/threading.md)" },
    { "queued.max.request.bytes", "has no effect: flow control is per connection (see docs/threading.md)" },
    { "compression.type", "only 'producer' is implemented: batches are stored as the producer compressed them" },
};

int broker_config_finish(struct broker_config *cfg, char *err, size_t errlen)
{
    int rc;
    free_derived(cfg);
    if ((rc = check_unknown(cfg, err, errlen)) || (rc = resolve_ids(cfg, err, errlen)) ||
        (rc = resolve_times(cfg, err, errlen)) ||
        (rc = resolve_legacy_listeners(cfg, err, errlen)) ||
        (rc = resolve_listeners(cfg, err, errlen)) || (rc = resolve_limits(cfg, err, errlen)))
        return rc;
    char why[640];
    if (cfg_resolve_inter_broker(cfg, why, sizeof why) < 0 || cfg_sasl_validate(cfg, why, sizeof why) < 0)
        return fail(err, errlen, KERR_INVALID_CONFIG, "%s", why);
    cfg->log_level = log_level_parse(cfg->samsa_log_level);
    for (size_t i = 0; i < sizeof deprecated / sizeof *deprecated; i++)
        if (IS_SET(cfg, deprecated[i].key) &&
            (strcmp(deprecated[i].key, "compression.type") || strcmp(cfg->compression_type, "producer")))
            WARN(cfg, "%s: %s", deprecated[i].key, deprecated[i].why);
    return 0;
}

void broker_config_log_warnings(const struct broker_config *cfg)
{
    for (size_t i = 0; i < cfg->nwarnings; i++)
        LOG_WRN("config", "%s", cfg->warnings[i]);
}

/* ---- command line ---- */

void broker_config_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [CONFIG.properties] [--override KEY=VALUE]...\n"
            "\n"
            "Start a Samsa broker.  CONFIG.properties is a Kafka-style server.properties\n"
            "file; without one the built-in defaults apply (listeners=PLAINTEXT://127.0.0.1:9092,\n"
            "log.dirs=./data).  Overrides are applied after the file, in order.\n"
            "\n"
            "  --override KEY=VALUE   set a config key (repeatable; also --override=KEY=VALUE)\n"
            "  --print-config-docs    print every supported config key as Markdown and exit\n"
            "  -h, --help             show this help and exit\n"
            "  --version              print the version and exit\n",
            prog);
}

static int apply_override(struct broker_config *cfg, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return fail(err, errlen, KERR_INVALID_CONFIG, "--override expects KEY=VALUE, got '%s'", kv);
    char *k = cfg_trim_dup(kv, (size_t)(eq - kv)), *v = cfg_trim_dup(eq + 1, strlen(eq + 1));
    int rc;
    if (!k || !v)
        rc = fail(err, errlen, KERR__NOMEM, "out of memory");
    else if (!k[0])
        rc = fail(err, errlen, KERR_INVALID_CONFIG, "--override expects KEY=VALUE, got '%s'", kv);
    else
        rc = broker_config_set(cfg, k, v, CFG_LAYER_OVERRIDE, "--override", err, errlen);
    free(k);
    free(v);
    return rc;
}

int broker_config_from_argv(struct broker_config *cfg, int argc, char *const argv[],
                            enum cfg_cli_action *action, char *err, size_t errlen)
{
    const char *file = NULL;
    *action = CFG_CLI_RUN;
    if (broker_config_init(cfg))
        return fail(err, errlen, KERR__NOMEM, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            *action = CFG_CLI_HELP;
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            *action = CFG_CLI_VERSION;
            return 0;
        }
        if (!strcmp(argv[i], "--print-config-docs")) {
            *action = CFG_CLI_PRINT_DOCS;
            return 0;
        }
    }
    /* First pass: syntax of the arguments and the file name. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--override")) {
            if (i + 1 >= argc)
                return fail(err, errlen, KERR_INVALID_CONFIG, "--override needs KEY=VALUE");
            i++;
        } else if (!strncmp(a, "--override=", 11)) {
            continue;
        } else if (a[0] == '-' && a[1]) {
            return fail(err, errlen, KERR_INVALID_CONFIG, "unknown option '%s' (try --help)", a);
        } else if (file) {
            return fail(err, errlen, KERR_INVALID_CONFIG,
                        "more than one config file given ('%s' and '%s')", file, a);
        } else {
            file = a;
        }
    }
    int rc;
    if (file && (rc = broker_config_load_file(cfg, file, err, errlen)))
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *kv = NULL;
        if (!strcmp(argv[i], "--override"))
            kv = argv[++i];
        else if (!strncmp(argv[i], "--override=", 11))
            kv = argv[i] + 11;
        if (kv && (rc = apply_override(cfg, kv, err, errlen)))
            return rc;
    }
    return broker_config_finish(cfg, err, errlen);
}

/* ---- DescribeConfigs ---- */

bool cfg_key_wanted(const char *name, const char *const *keys, size_t nkeys)
{
    if (!keys)
        return true;
    for (size_t i = 0; i < nkeys; i++)
        if (keys[i] && !strcmp(keys[i], name))
            return true;
    return false;
}

static int dup_or_null(const char *s, char **out)
{
    *out = NULL;
    return s && !(*out = cfg_strdup(s)) ? -1 : 0;
}

int cfg_entry_add_synonym(struct cfg_entry *e, const char *name, const char *value, int source,
                          bool sensitive)
{
    if (e->nsynonyms >= CFG_MAX_SYNONYMS)
        return 0;
    struct cfg_synonym *s = &e->synonyms[e->nsynonyms];
    s->name = name;
    s->source = (int8_t)source;
    if (!sensitive && dup_or_null(value, &s->value) < 0)
        return -1;
    e->nsynonyms++;
    return 0;
}

const struct cfg_def *cfg_listener_row(const char *key)
{
    static const char lp[] = "listener.name.";
    if (strncmp(key, lp, sizeof lp - 1))
        return NULL;
    const char *dot = strchr(key + sizeof lp - 1, '.');
    if (!dot || dot == key + sizeof lp - 1)
        return NULL;
    int j = idx_of(dot + 1);
    return j >= 0 && DEF(j)->per_listener ? DEF(j) : NULL;
}

const char *broker_config_listener_value(const struct broker_config *cfg, const char *listener,
                                         const char *key)
{
    char pk[320];
    int n = snprintf(pk, sizeof pk, "listener.name.%s.%s", listener ? listener : "", key);
    if (listener && n > 0 && (size_t)n < sizeof pk) {
        for (char *p = pk + 14; *p && *p != '.'; p++)
            *p = (char)tolower((unsigned char)*p);    /* Kafka's normalised listener name */
        const struct cfg_state *st = cfg->st;
        for (size_t k = 0; st && k < st->nextra; k++) {
            const struct cfg_extra *x = &st->extra[k];
            if (strcmp(x->key, pk))
                continue;
            if (x->dyn[CFG_DYN_BROKER])
                return x->dyn[CFG_DYN_BROKER];
            if (x->dyn[CFG_DYN_CLUSTER_DEFAULT])
                return x->dyn[CFG_DYN_CLUSTER_DEFAULT];
            if (x->value)
                return x->value;
        }
    }
    return cfg_broker_value(cfg, key);
}

const char *cfg_broker_value(const struct broker_config *cfg, const char *name)
{
    int j = idx_of(name);
    if (j < 0)
        return NULL;
    return cfg->st->raw[j] ? cfg->st->raw[j] : DEF(j)->dflt;
}

int cfg_broker_synonyms_of(const struct broker_config *cfg, const char *const *names, int n,
                           unsigned mask, struct cfg_entry *e)
{
    static const struct {
        unsigned bit;
        int8_t source;
    } layers[] = {
        { CFG_SYN_DYN_BROKER, CFG_SRC_DYNAMIC_BROKER },
        { CFG_SYN_DYN_DEFAULT, CFG_SRC_DYNAMIC_DEFAULT_BROKER },
        { CFG_SYN_STATIC, CFG_SRC_STATIC_BROKER },
        { CFG_SYN_DEFAULT, CFG_SRC_DEFAULT },
    };
    const struct cfg_state *st = cfg->st;
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        if (!(mask & layers[l].bit))
            continue;
        for (int k = 0; k < n && names[k]; k++) {
            int j = idx_of(names[k]);
            if (j < 0)
                continue;
            const char *v;
            switch (layers[l].bit) {
            case CFG_SYN_DYN_BROKER: v = st->dyn[CFG_DYN_BROKER][j]; break;
            case CFG_SYN_DYN_DEFAULT: v = st->dyn[CFG_DYN_CLUSTER_DEFAULT][j]; break;
            case CFG_SYN_STATIC: v = st->stat[j]; break;
            default: v = DEF(j)->dflt; break;
            }
            if (v && cfg_entry_add_synonym(e, DEF(j)->name, v, layers[l].source,
                                           DEF(j)->type == CFG_T_PASSWORD) < 0)
                return -1;
        }
    }
    return 0;
}

int cfg_broker_synonyms(const struct broker_config *cfg, const char *name, struct cfg_entry *e)
{
    return cfg_broker_synonyms_of(cfg, &name, 1, CFG_SYN_ALL, e);
}

void cfg_description_free(struct cfg_description *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].value);
        for (int s = 0; s < d->v[i].nsynonyms; s++)
            free(d->v[i].synonyms[s].value);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

const struct cfg_entry *cfg_description_find(const struct cfg_description *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].name, name))
            return &d->v[i];
    return NULL;
}

int broker_config_describe(const struct broker_config *cfg, const char *const *keys,
                           size_t nkeys, struct cfg_description *out)
{
    const struct cfg_state *st = cfg->st;
    out->n = 0;
    out->v = calloc(cfg_broker_ndefs + st->nextra + 1, sizeof *out->v);
    if (!out->v)
        return KERR__NOMEM;
    for (size_t i = 0; i < cfg_broker_ndefs; i++) {
        const struct cfg_def *d = DEF(i);
        if (!cfg_key_wanted(d->name, keys, nkeys))
            continue;
        struct cfg_entry *e = &out->v[out->n++];
        e->name = d->name;
        e->config_type = (int8_t)d->type;
        e->read_only = !broker_cfg_is_dynamic(d->name);
        e->is_sensitive = d->type == CFG_T_PASSWORD;
        e->doc = d->doc;
        if (!e->is_sensitive && dup_or_null(st->raw[i] ? st->raw[i] : d->dflt, &e->value) < 0)
            goto oom;
        if (d->syn[0] ? cfg_broker_synonyms_of(cfg, d->syn, 3, CFG_SYN_ALL, e) < 0
                      : cfg_broker_synonyms(cfg, d->name, e) < 0)
            goto oom;
        e->source = e->nsynonyms ? e->synonyms[0].source : CFG_SRC_DEFAULT;
    }
    for (size_t i = 0; i < st->nextra; i++) {
        const struct cfg_extra *x = &st->extra[i];
        if (x->kind == CFG_KNOWN_NONE || !cfg_key_wanted(x->key, keys, nkeys))
            continue;
        if (!x->value && !x->dyn[CFG_DYN_BROKER] && !x->dyn[CFG_DYN_CLUSTER_DEFAULT])
            continue;
        int kdyn = cfg_kafka_dynamic(x->key) & CFG_KDYN_MODE;
        struct cfg_entry *e = &out->v[out->n++];
        e->name = x->key;
        e->is_sensitive = cfg_key_is_sensitive(x->key);
        e->config_type = e->is_sensitive ? CFG_T_PASSWORD : CFG_T_UNKNOWN;
        e->read_only = kdyn == CFG_KDYN_NONE || kdyn == CFG_KDYN_LISTENER_ONLY;
        e->doc = e->read_only ? "Kafka config accepted but not implemented by Samsa (ignored)."
                              : "Kafka config accepted and stored but not implemented by Samsa "
                                "(not acted on).";
        /* Synonyms in precedence order: per-broker, cluster default, static. */
        static const struct { int layer; int8_t src; } dl[] = {
            { CFG_DYN_BROKER, CFG_SRC_DYNAMIC_BROKER },
            { CFG_DYN_CLUSTER_DEFAULT, CFG_SRC_DYNAMIC_DEFAULT_BROKER },
        };
        for (size_t k = 0; k < 2; k++)
            if (x->dyn[dl[k].layer] &&
                cfg_entry_add_synonym(e, x->key, x->dyn[dl[k].layer], dl[k].src, e->is_sensitive) < 0)
                goto oom;
        if (x->value &&
            cfg_entry_add_synonym(e, x->key, x->value, CFG_SRC_STATIC_BROKER, e->is_sensitive) < 0)
            goto oom;
        e->source = e->synonyms[0].source;
        if (!e->is_sensitive && dup_or_null(e->synonyms[0].value, &e->value) < 0)
            goto oom;
    }
    return 0;
oom:
    cfg_description_free(out);
    return KERR__NOMEM;
}

/* ---- Markdown ---- */

static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s, out);
    }
}

static void md_default(FILE *out, const char *d)
{
    if (!d)
        fputs("null", out);
    else if (!d[0])
        fputs("\"\"", out);
    else {
        fputc('`', out);
        md_cell(out, d);
        fputc('`', out);
    }
}

static void md_valid(FILE *out, const struct cfg_def *d)
{
    if (d->valid) {
        md_cell(out, d->valid);
    } else if (d->type == CFG_T_DOUBLE && d->has_range) {
        fprintf(out, "[%g, %g]", d->dmin, d->dmax);
    } else if (d->has_range) {
        int64_t hi = d->type == CFG_T_SHORT ? INT16_MAX : d->type == CFG_T_INT ? INT32_MAX : INT64_MAX;
        if (d->max >= hi)
            fprintf(out, "[%lld, ...]", (long long)d->min);
        else
            fprintf(out, "[%lld, %lld]", (long long)d->min, (long long)d->max);
    } else if (d->enums) {
        fputs(d->type == CFG_T_LIST ? "list of: " : "", out);
        for (int i = 0; d->enums[i]; i++)
            fprintf(out, "%s%s", i ? ", " : "", d->enums[i]);
    }
}

static const char *mode_name(int m)
{
    return m == CFG_PER_BROKER ? "per-broker" : m == CFG_CLUSTER_WIDE ? "cluster-wide" : "read-only";
}

/* Samsa's update mode; Kafka's too when it differs. */
static void md_mode(FILE *out, const struct cfg_def *d)
{
    if (d->static_only)
        fprintf(out, "read-only (Kafka: %s)", mode_name(d->mode));
    else
        fputs(mode_name(d->mode), out);
}

static void md_doc(FILE *out, const struct cfg_def *d)
{
    md_cell(out, d->doc);
    if (d->note) {
        fputs(" *Samsa:* ", out);
        md_cell(out, d->note);
    }
}

void config_print_markdown(FILE *out)
{
    fputs("### Broker configs\n\n"
          "| Key | Type | Default | Valid values | Update mode | Description |\n"
          "|---|---|---|---|---|---|\n", out);
    for (size_t i = 0; i < cfg_broker_ndefs; i++) {
        const struct cfg_def *d = DEF(i);
        fprintf(out, "| `%s` | %s | ", d->name, cfgv_type_name(d->type));
        md_default(out, d->dflt);
        fputs(" | ", out);
        md_valid(out, d);
        fputs(" | ", out);
        md_mode(out, d);
        fputs(" | ", out);
        md_doc(out, d);
        fputs(" |\n", out);
    }
    fputs("\n### Topic configs\n\n"
          "| Key | Type | Default | Valid values | Broker default from | Description |\n"
          "|---|---|---|---|---|---|\n", out);
    for (size_t i = 0; i < cfg_topic_ndefs; i++) {
        const struct cfg_def *d = &cfg_topic_defs[i];
        fprintf(out, "| `%s` | %s | ", d->name, cfgv_type_name(d->type));
        md_default(out, d->dflt);
        fputs(" | ", out);
        md_valid(out, d);
        fputs(" | ", out);
        for (int s = 0; s < 3 && d->syn[s]; s++)
            fprintf(out, "%s`%s`", s ? ", " : "", d->syn[s]);
        if (!d->syn[0])
            fputs("-", out);
        fputs(" | ", out);
        md_doc(out, d);
        fputs(" |\n", out);
    }
}
