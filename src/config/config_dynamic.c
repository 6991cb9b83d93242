/*
 * config_dynamic.c - dynamic broker configs: what Kafka's AlterConfigs and
 * IncrementalAlterConfigs do to BROKER resources.
 *
 * Model (Kafka's DynamicBrokerConfig): two dynamic layers sit above the
 * static config - the cluster-wide default (resource name "") and the
 * per-broker layer (resource name = the broker id), the latter winning.
 * Each layer is a set of (key, canonical value) the caller owns and
 * persists; this file validates edits to a set (broker_cfg_alter,
 * broker_cfg_replace) and builds the config that results from the static
 * layer plus both sets (broker_config_with_dynamic).
 *
 * Building: a fresh config is initialised, base's static set() calls are
 * replayed in their original order (cfg_state.log - so duplicate-key and
 * unimplemented-key warnings come out the same, and values derived by
 * finish() such as node.id from broker.id are derived again rather than
 * copied), then the cluster-default and the per-broker values land in
 * their fields and in cfg_state.dyn[], then broker_config_finish() applies
 * the alias rules (log.retention.ms > .minutes > .hours sees the dynamic
 * .ms) and the cross-key checks.  DescribeConfigs reads cfg_state.dyn[]
 * and cfg_state.stat[] for the synonyms of each layer.
 *
 * Which keys: broker_cfg_is_dynamic() - a table row whose Kafka update
 * mode is per-broker or cluster-wide and that is not static_only (Samsa
 * cannot resize thread pools or rebind listeners live).
 *
 * Errors are client-facing single lines (see config.h for the codes).
 * Pure functions over their arguments, like the rest of the module.
 */
#include "config/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/errors.h"

#define DEF(i) (&cfg_broker_defs[i])
#define WARN(cfg, ...) cfg_strv_push(&(cfg)->warnings, &(cfg)->nwarnings, __VA_ARGS__)

static int msg(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int msg(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *layer_origin(enum cfg_dyn_layer l)
{
    return l == CFG_DYN_BROKER ? "dynamic broker config" : "dynamic default broker config";
}

static bool valid_layer(int l)
{
    return l == CFG_DYN_CLUSTER_DEFAULT || l == CFG_DYN_BROKER;
}

bool broker_cfg_is_dynamic(const char *key)
{
    int i = key ? cfg_broker_find(key) : -1;
    return i >= 0 && DEF(i)->mode != CFG_READ_ONLY && !DEF(i)->static_only;
}

/* A Kafka key Samsa does not implement but Kafka updates dynamically:
 * stored and described, not acted on (Kafka's rule for what may change at
 * runtime applies to it all the same). */
static bool stored_only(const char *key)
{
    const char *why;
    return cfg_broker_find(key) < 0 && cfg_kafka_known(key, &why) != CFG_KNOWN_NONE &&
           (cfg_kafka_dynamic(key) & CFG_KDYN_MODE) != CFG_KDYN_NONE;
}

bool broker_cfg_is_stored_only(const char *key)
{
    return key && stored_only(key);
}

/* Which of Kafka's refusals applies to key in layer l (0: none).  Kafka
 * checks these for every key of a request before any value. */
enum key_refusal { KEY_OK, KEY_UNKNOWN, KEY_READ_ONLY, KEY_PER_BROKER, KEY_LISTENER_ONLY };

static enum key_refusal key_refusal(enum cfg_dyn_layer l, const char *key)
{
    int i = cfg_broker_find(key);
    int mode;
    if (i >= 0) {
        if (!broker_cfg_is_dynamic(key))
            return KEY_READ_ONLY;
        if (DEF(i)->listener_only)
            return KEY_LISTENER_ONLY;
        mode = DEF(i)->mode == CFG_PER_BROKER ? CFG_KDYN_PER_BROKER : CFG_KDYN_CLUSTER_WIDE;
    } else {
        const char *why;
        if (cfg_kafka_known(key, &why) == CFG_KNOWN_NONE)
            return KEY_UNKNOWN;
        mode = cfg_kafka_dynamic(key) & CFG_KDYN_MODE;
    }
    if (mode == CFG_KDYN_NONE)
        return KEY_READ_ONLY;
    if (mode == CFG_KDYN_LISTENER_ONLY)
        return KEY_LISTENER_ONLY;
    if (l == CFG_DYN_CLUSTER_DEFAULT && mode == CFG_KDYN_PER_BROKER)
        return KEY_PER_BROKER;
    return KEY_OK;
}

static const char *const refusal_text[] = {
    [KEY_READ_ONLY] = "Cannot update these configs dynamically",
    [KEY_PER_BROKER] = "Cannot update these configs at default cluster level, broker id must be "
                       "specified",
    [KEY_LISTENER_ONLY] = "These security configs can be dynamically updated only per-listener "
                          "using the listener prefix",
};

/* May key be set in layer l?  0, or an error code with the message. */
static int check_key(enum cfg_dyn_layer l, const char *key, char *err, size_t errlen)
{
    enum key_refusal r = key_refusal(l, key);
    if (r == KEY_OK)
        return 0;
    if (r == KEY_UNKNOWN) {
        const char *s = cfg_suggest(key);
        return msg(err, errlen, KERR_INVALID_CONFIG, "Unknown broker config name: %s%s%s%s", key,
                   s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
    }
    return msg(err, errlen, KERR_INVALID_REQUEST, "%s: Set(%s)", refusal_text[r], key);
}

/* Validate value for row d; *canon receives its canonical form. */
static int check_value(const struct cfg_def *d, const char *value, char **canon, char *err,
                       size_t errlen)
{
    char why[512];
    *canon = NULL;
    if (!value)
        return msg(err, errlen, KERR_INVALID_CONFIG,
                   "Invalid value null for configuration %s: a value is required", d->name);
    if (cfgv_check(d, value, why, sizeof why) < 0)
        return msg(err, errlen, KERR_INVALID_CONFIG, "Invalid value %s for configuration %s: %s",
                   d->type == CFG_T_PASSWORD ? "[hidden]" : value, d->name, why);
    if (!(*canon = cfgv_canonical(d, value)))
        return msg(err, errlen, KERR__NOMEM, "out of memory");
    return 0;
}

/* The value of row i in effect below layer l in cur. */
static const char *value_below(const struct broker_config *cur, enum cfg_dyn_layer l, int i)
{
    const struct cfg_state *st = cur->st;
    if (l == CFG_DYN_BROKER && st->dyn[CFG_DYN_CLUSTER_DEFAULT][i])
        return st->dyn[CFG_DYN_CLUSTER_DEFAULT][i];
    return st->stat[i] ? st->stat[i] : DEF(i)->dflt;
}

/* The value of stored-only key in effect below layer l in cur (NULL: none). */
static const char *extra_below(const struct broker_config *cur, enum cfg_dyn_layer l,
                               const char *key)
{
    const struct cfg_state *st = cur->st;
    for (size_t k = 0; st && k < st->nextra; k++) {
        const struct cfg_extra *x = &st->extra[k];
        if (strcmp(x->key, key))
            continue;
        if (l == CFG_DYN_BROKER && x->dyn[CFG_DYN_CLUSTER_DEFAULT])
            return x->dyn[CFG_DYN_CLUSTER_DEFAULT];
        return x->value;
    }
    return NULL;
}

/* broker_cfg_alter for a stored-only key: Samsa knows no type for it, so
 * the value is kept as given (Kafka's list keys take APPEND/SUBTRACT). */
static int alter_stored_only(const struct broker_config *cur, enum cfg_dyn_layer layer,
                             struct topic_overrides *layer_set, const char *key, int op,
                             const char *value, char *err, size_t errlen)
{
    char *nv;
    const struct cfg_def *ld = cfg_listener_row(key);
    char why[512];
    if (ld && value && op == CFG_OP_SET && cfgv_check(ld, value, why, sizeof why) < 0)
        return msg(err, errlen, KERR_INVALID_CONFIG, "Invalid value %s for configuration %s: %s",
                   cfg_key_is_sensitive(key) ? "[hidden]" : value, key, why);
    if (op == CFG_OP_SET) {
        if (!value)
            return msg(err, errlen, KERR_INVALID_CONFIG,
                       "Invalid value null for configuration %s: a value is required", key);
        nv = cfg_strdup(value);
    } else {
        if (!(cfg_kafka_dynamic(key) & CFG_KDYN_LIST))
            return msg(err, errlen, KERR_INVALID_REQUEST,
                       "Config value %s is not allowed for config key: %s",
                       op == CFG_OP_APPEND ? "append" : "subtract", key);
        const char *curv = topic_overrides_get(layer_set, key);
        if (!curv)
            curv = extra_below(cur, layer, key);
        nv = cfg_list_edit(curv ? curv : "", value ? value : "", op == CFG_OP_APPEND);
    }
    int rc = !nv || topic_overrides_put(layer_set, key, nv);
    free(nv);
    return rc ? msg(err, errlen, KERR__NOMEM, "out of memory") : 0;
}

int broker_cfg_alter(const struct broker_config *cur, enum cfg_dyn_layer layer,
                     struct topic_overrides *layer_set, const char *key, int op,
                     const char *value, char *err, size_t errlen)
{
    if (!valid_layer((int)layer))
        return msg(err, errlen, KERR_INVALID_REQUEST, "Unknown dynamic config layer %d", (int)layer);
    if (!key)
        return msg(err, errlen, KERR_INVALID_REQUEST, "A config name is required");
    switch (op) {
    case CFG_OP_DELETE:
        topic_overrides_del(layer_set, key);
        return 0;
    case CFG_OP_SET:
    case CFG_OP_APPEND:
    case CFG_OP_SUBTRACT:
        break;
    default:
        return msg(err, errlen, KERR_INVALID_REQUEST, "Unknown config operation %d for %s", op, key);
    }
    int rc = check_key(layer, key, err, errlen);
    if (rc)
        return rc;
    if (stored_only(key))
        return alter_stored_only(cur, layer, layer_set, key, op, value, err, errlen);
    int i = cfg_broker_find(key);
    const struct cfg_def *d = DEF(i);
    char *nv = NULL;
    if (op == CFG_OP_SET) {
        if ((rc = check_value(d, value, &nv, err, errlen)))
            return rc;
    } else {
        if (d->type != CFG_T_LIST)
            return msg(err, errlen, KERR_INVALID_REQUEST,
                       "Config value %s is not allowed for config key: %s",
                       op == CFG_OP_APPEND ? "append" : "subtract", key);
        const char *curv = topic_overrides_get(layer_set, key);
        if (!curv)
            curv = value_below(cur, layer, i);
        char *edited = cfg_list_edit(curv ? curv : "", value ? value : "", op == CFG_OP_APPEND);
        if (!edited)
            return msg(err, errlen, KERR__NOMEM, "out of memory");
        rc = check_value(d, edited, &nv, err, errlen);
        free(edited);
        if (rc)
            return rc;
    }
    rc = topic_overrides_put(layer_set, key, nv);       /* leaves the set as it was on OOM */
    free(nv);
    return rc ? msg(err, errlen, KERR__NOMEM, "out of memory") : 0;
}

/* Append ", key" (or "key") to a Set(...) list unless already there. */
static void list_add(char *buf, size_t n, const char *key)
{
    size_t len = strlen(buf), kl = strlen(key);
    for (const char *p = buf; (p = strstr(p, key)); p += kl)
        if ((p == buf || p[-1] == ' ') && (p[kl] == ',' || !p[kl]))
            return;
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "", key);
}

int broker_cfg_replace(enum cfg_dyn_layer layer, struct topic_overrides *layer_set,
                       const cfg_kv *kv, size_t n, char *err, size_t errlen)
{
    char ro[1024] = "", pb[1024] = "";
    if (!valid_layer((int)layer))
        return msg(err, errlen, KERR_INVALID_REQUEST, "Unknown dynamic config layer %d", (int)layer);
    /* Kafka checks every key's update mode before any value, in this
     * order: read-only keys, then SSL stores without a listener prefix,
     * then per-broker keys at the cluster default. */
    char ls[1024] = "";
    for (size_t k = 0; k < n; k++) {
        if (!kv[k].key || !kv[k].value)
            continue;
        enum key_refusal r = key_refusal(layer, kv[k].key);
        if (r == KEY_READ_ONLY)
            list_add(ro, sizeof ro, kv[k].key);
        else if (r == KEY_LISTENER_ONLY)
            list_add(ls, sizeof ls, kv[k].key);
        else if (r == KEY_PER_BROKER)
            list_add(pb, sizeof pb, kv[k].key);
    }
    const char *first = ro[0] ? ro : ls[0] ? ls : pb[0] ? pb : NULL;
    if (first)
        return msg(err, errlen, KERR_INVALID_REQUEST, "%s: Set(%s)",
                   refusal_text[first == ro ? KEY_READ_ONLY
                                : first == ls ? KEY_LISTENER_ONLY : KEY_PER_BROKER], first);
    struct topic_overrides t;
    topic_overrides_init(&t);
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        if (!kv[k].key || !kv[k].value)
            continue;
        char *canon = NULL;
        if ((rc = check_key(layer, kv[k].key, err, errlen)))
            break;
        if (stored_only(kv[k].key))
            canon = cfg_strdup(kv[k].value);
        else if ((rc = check_value(DEF(cfg_broker_find(kv[k].key)), kv[k].value, &canon, err, errlen)))
            break;
        if (!canon || topic_overrides_put(&t, kv[k].key, canon))
            rc = msg(err, errlen, KERR__NOMEM, "out of memory");
        free(canon);
    }
    if (rc) {
        topic_overrides_free(&t);
        return rc;
    }
    topic_overrides_free(layer_set);
    *layer_set = t;
    return 0;
}

/* Land the valid entries of one dynamic layer in cfg; skip the others
 * with a warning.  -1 on OOM. */
static int apply_layer(struct broker_config *cfg, enum cfg_dyn_layer l,
                       const struct topic_overrides *set)
{
    struct cfg_state *st = cfg->st;
    const char *origin = layer_origin(l);
    char why[512];
    for (size_t k = 0; set && k < set->n; k++) {
        const char *key = set->v[k].key, *value = set->v[k].value;
        char *canon = NULL;
        int rc = check_key(l, key, why, sizeof why);
        const struct cfg_def *ld = cfg_listener_row(key);
        if (!rc && ld) {
            /* listener.name.<l>.<key>: implemented; validated as <key>. */
            if (!value || cfgv_check(ld, value, why, sizeof why) < 0) {
                WARN(cfg, "%s=%s: ignored [%s]: %s", key, cfg_key_is_sensitive(key) ? "****" :
                     value ? value : "null", origin, value ? why : "a value is required");
                continue;
            }
            if (cfg_extra_set_dynamic(cfg, key, CFG_KNOWN_LISTENER, (int)l, value) < 0)
                return -1;
            continue;
        }
        if (!rc && stored_only(key)) {
            const char *fam;
            if (cfg_extra_set_dynamic(cfg, key, cfg_kafka_known(key, &fam), (int)l, value) < 0)
                return -1;
            WARN(cfg, "%s=%s [%s]: a Kafka config that Samsa does not implement; stored and "
                 "described, not acted on", key,
                 cfg_key_is_sensitive(key) ? "****" : value ? value : "null", origin);
            continue;
        }
        int i = rc ? -1 : cfg_broker_find(key);
        if (!rc)
            rc = check_value(DEF(i), value, &canon, why, sizeof why);
        if (rc == KERR__NOMEM)
            return -1;
        if (rc) {
            WARN(cfg, "%s=%s: ignored [%s]: %s", key,
                 cfg_key_is_sensitive(key) ? "****" : value ? value : "null", origin, why);
            continue;
        }
        char *r = cfg_strdup(canon), *o = cfg_strdup(origin);
        if (!r || !o || cfgv_land(DEF(i), canon, cfg) < 0) {
            free(r);
            free(o);
            free(canon);
            return -1;
        }
        free(st->dyn[l][i]);
        st->dyn[l][i] = canon;
        free(st->raw[i]);
        st->raw[i] = r;
        free(st->origin[i]);
        st->origin[i] = o;
        st->layer[i] = l == CFG_DYN_BROKER ? CFG_LAYER_DYN_BROKER : CFG_LAYER_DYN_DEFAULT;
    }
    return 0;
}

int broker_config_with_dynamic(const struct broker_config *base,
                               const struct topic_overrides *cluster_default,
                               const struct topic_overrides *per_broker,
                               struct broker_config *out, char *err, size_t errlen)
{
    static const char prefix[] = "config error: ";
    char e[1024] = "";
    int rc;
    if ((rc = broker_config_init(out))) {
        snprintf(e, sizeof e, "out of memory");
        goto fail;
    }
    const struct cfg_state *bs = base->st;
    for (size_t k = 0; bs && k < bs->nlog; k++) {
        const struct cfg_logent *l = &bs->log[k];
        if ((rc = broker_config_set(out, l->key, l->value, (enum cfg_layer)l->layer, l->origin, e,
                                    sizeof e)))
            goto fail;
    }
    if (apply_layer(out, CFG_DYN_CLUSTER_DEFAULT, cluster_default) < 0 ||
        apply_layer(out, CFG_DYN_BROKER, per_broker) < 0) {
        rc = KERR__NOMEM;
        snprintf(e, sizeof e, "out of memory");
        goto fail;
    }
    if ((rc = broker_config_finish(out, e, sizeof e)))
        goto fail;
    return 0;
fail:
    broker_config_free(out);
    msg(err, errlen, rc, "%s", strncmp(e, prefix, sizeof prefix - 1) ? e : e + sizeof prefix - 1);
    return rc;
}

int broker_config_dynamic_layer(const struct broker_config *cfg, enum cfg_dyn_layer layer,
                                struct topic_overrides *out)
{
    struct topic_overrides t;
    topic_overrides_init(&t);
    if (!valid_layer((int)layer))
        return KERR_INVALID_REQUEST;
    for (size_t i = 0; cfg->st && i < cfg_broker_ndefs; i++) {
        const char *v = cfg->st->dyn[layer][i];
        if (v && topic_overrides_put(&t, DEF(i)->name, v)) {
            topic_overrides_free(&t);
            return KERR__NOMEM;
        }
    }
    for (size_t k = 0; cfg->st && k < cfg->st->nextra; k++) {
        const struct cfg_extra *x = &cfg->st->extra[k];
        if (x->dyn[layer] && topic_overrides_put(&t, x->key, x->dyn[layer])) {
            topic_overrides_free(&t);
            return KERR__NOMEM;
        }
    }
    topic_overrides_free(out);
    *out = t;
    return 0;
}

int broker_config_describe_default(const struct broker_config *cfg, const char *const *keys,
                                   size_t nkeys, struct cfg_description *out)
{
    const struct cfg_state *st = cfg->st;
    out->n = 0;
    out->v = calloc(cfg_broker_ndefs + st->nextra + 1, sizeof *out->v);
    if (!out->v)
        return KERR__NOMEM;
    for (size_t i = 0; i < cfg_broker_ndefs; i++) {
        const struct cfg_def *d = DEF(i);
        const char *v = st->dyn[CFG_DYN_CLUSTER_DEFAULT][i];
        if (!v || !cfg_key_wanted(d->name, keys, nkeys))
            continue;
        struct cfg_entry *e = &out->v[out->n++];
        e->name = d->name;
        e->config_type = (int8_t)d->type;
        e->read_only = !broker_cfg_is_dynamic(d->name);
        e->is_sensitive = d->type == CFG_T_PASSWORD;
        e->doc = d->doc;
        e->source = CFG_SRC_DYNAMIC_DEFAULT_BROKER;
        if (!e->is_sensitive && !(e->value = cfg_strdup(v)))
            goto oom;
        const char *self[1] = { d->name };
        if (cfg_broker_synonyms_of(cfg, d->syn[0] ? d->syn : self, d->syn[0] ? 3 : 1,
                                   CFG_SYN_DYN_DEFAULT, e) < 0)
            goto oom;
    }
    for (size_t k = 0; k < st->nextra; k++) {
        const struct cfg_extra *x = &st->extra[k];
        const char *v = x->dyn[CFG_DYN_CLUSTER_DEFAULT];
        if (!v || !cfg_key_wanted(x->key, keys, nkeys))
            continue;
        struct cfg_entry *e = &out->v[out->n++];
        e->name = x->key;
        e->is_sensitive = cfg_key_is_sensitive(x->key);
        e->config_type = e->is_sensitive ? CFG_T_PASSWORD : CFG_T_UNKNOWN;
        e->doc = "Kafka config accepted and stored but not implemented by Samsa (not acted on).";
        e->source = CFG_SRC_DYNAMIC_DEFAULT_BROKER;
        if (!e->is_sensitive && !(e->value = cfg_strdup(v)))
            goto oom;
        if (cfg_entry_add_synonym(e, x->key, v, CFG_SRC_DYNAMIC_DEFAULT_BROKER, e->is_sensitive) < 0)
            goto oom;
    }
    return 0;
oom:
    cfg_description_free(out);
    return KERR__NOMEM;
}
