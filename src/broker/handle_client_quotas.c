/*
 * handle_client_quotas.c - DescribeClientQuotas (key 48, v0-1) and
 * AlterClientQuotas (key 49, v0-1; KIP-546): client quotas as configs of
 * the user and client-id entities (broker/entities.h), with Kafka's
 * (ZooKeeper-mode) validation and errors.
 *
 * Entity types "user" and "client-id", each named or the default (a null
 * name); "ip" is refused with INVALID_REQUEST (Samsa keeps no IP quotas),
 * any other type with UNSUPPORTED_VERSION as Kafka does.  Keys:
 * producer_byte_rate and consumer_byte_rate (Kafka's LONG: a value must be
 * a whole number), request_percentage (DOUBLE); any other key is
 * INVALID_REQUEST naming it; a value must be positive.  Describe filters:
 * match type 0 exact name, 1 the default, 2 any (named or default) per
 * entity type; strict leaves out entities with types the filter does not
 * name.  Describe reads the snapshot on the network thread; Alter writes
 * on the admin thread, one entity write per entry, nothing when
 * validate_only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/entities.h"
#include "cluster/metadata.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/alter_client_quotas.h"
#include "proto/messages/describe_client_quotas.h"

#define TYPE_USER "user"
#define TYPE_CLIENT "client-id"
#define TYPE_IP "ip"

static kstr dupmsg(kreq *rq, const char *s)
{
    return kstr_c(arena_strndup(&rq->arena, s, strlen(s)));
}

/* A name from the wire into dst (ENT_NAME_MAX + 1); false when too long,
 * empty or holding a NUL (S-ENT1). */
static bool name_from(kstr k, char *dst)
{
    if (k.len <= 0 || k.len > ENT_NAME_MAX || memchr(k.p, 0, (size_t)k.len))
        return false;
    memcpy(dst, k.p, (size_t)k.len);
    dst[k.len] = 0;
    return true;
}

/* ---------------------------------------------------------------- describe */

typedef struct qfilter {
    bool has[2];            /* [0] user, [1] client-id */
    int8_t match[2];
    char name[2][ENT_NAME_MAX + 1];
} qfilter;

static bool part_matches(const qfilter *f, int t, bool has, bool dflt, const char *name)
{
    if (!f->has[t])
        return true;
    if (!has)
        return false;
    switch (f->match[t]) {
    case 0: return !dflt && !strcmp(name, f->name[t]);
    case 1: return dflt;
    default: return true;
    }
}

static bool entry_matches(const qfilter *f, bool strict, const ent_entry *e)
{
    const ent_name *n = &e->name;
    if (strict && ((n->has_user && !f->has[0]) || (n->has_client && !f->has[1])))
        return false;
    return part_matches(f, 0, n->has_user, n->user_default, n->user) &&
           part_matches(f, 1, n->has_client, n->client_default, n->client);
}

static int16_t parse_filter(const describe_client_quotas_req *req, qfilter *f, char *msg,
                            size_t mn)
{
    memset(f, 0, sizeof *f);
    for (int32_t i = 0; i < req->components.n; i++) {
        const describe_client_quotas_req_components *c = &req->components.v[i];
        int t = kstr_eq(c->entity_type, TYPE_USER) ? 0 : kstr_eq(c->entity_type, TYPE_CLIENT) ? 1 : -1;
        if (c->entity_type.len <= 0) {
            snprintf(msg, mn, "Unexpected empty filter component entity type");
            return KERR_INVALID_REQUEST;
        }
        if (kstr_eq(c->entity_type, TYPE_IP)) {
            snprintf(msg, mn, "Samsa keeps no IP quotas: entity type 'ip' is not supported");
            return KERR_INVALID_REQUEST;
        }
        if (t < 0) {
            snprintf(msg, mn, "Custom entity type '%.*s' not supported",
                     (int)(c->entity_type.len > 200 ? 200 : c->entity_type.len), c->entity_type.p);
            return KERR_UNSUPPORTED_VERSION;
        }
        if (f->has[t]) {
            snprintf(msg, mn, "Duplicate %s filter component entity type", t ? "client" : "user");
            return KERR_INVALID_REQUEST;
        }
        f->has[t] = true;
        f->match[t] = c->match_type;
        if (c->match_type == 0 && c->match.len < 0) {
            snprintf(msg, mn, "Unexpected null match string for exact match (entity type %s)",
                     t ? TYPE_CLIENT : TYPE_USER);
            return KERR_INVALID_REQUEST;
        }
        if (c->match_type < 0 || c->match_type > 2) {
            snprintf(msg, mn, "Unexpected match type %d", c->match_type);
            return KERR_INVALID_REQUEST;
        }
        if (c->match_type == 0 && !name_from(c->match, f->name[t]))
            f->name[t][0] = 0;        /* matches nothing stored */
        if (c->match_type == 0 && !f->name[t][0])
            f->match[t] = 3;          /* an impossible name: nothing matches */
    }
    return 0;
}

void handle_describe_client_quotas(kreq *rq)
{
    /* docs/security.md, DescribeClientQuotas: Cluster DESCRIBE_CONFIGS. */
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_DESCRIBE_CONFIGS, describe_client_quotas_resp);
    describe_client_quotas_req *req = rq->body;
    describe_client_quotas_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    qfilter f;
    char msg[512];
    r->error_code = parse_filter(req, &f, msg, sizeof msg);
    if (r->error_code) {
        r->error_message = dupmsg(rq, msg);
        r->entries.n = -1;           /* Kafka: null entries with an error */
        kreq_respond(rq, r);
        return;
    }
    ent_snapshot *s = entities_get(broker_of(rq)->ents);
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        const ent_entry *e = &s->v[i];
        bool any = e->quota[QK_PRODUCE] > 0 || e->quota[QK_FETCH] > 0 || e->quota[QK_REQUEST] > 0;
        n += any && entry_matches(&f, req->strict, e);
    }
    describe_client_quotas_resp_entries *out = KARRAY_ALLOC(&rq->arena, &r->entries, n);
    int k = 0;
    for (int i = 0; out && i < s->n; i++) {
        const ent_entry *e = &s->v[i];
        int nv = (e->quota[QK_PRODUCE] > 0) + (e->quota[QK_FETCH] > 0) + (e->quota[QK_REQUEST] > 0);
        if (!nv || !entry_matches(&f, req->strict, e))
            continue;
        describe_client_quotas_resp_entries *o = &out[k++];
        int ne = e->name.has_user + e->name.has_client, j = 0;
        describe_client_quotas_resp_entity *ent = KARRAY_ALLOC(&rq->arena, &o->entity, ne);
        describe_client_quotas_resp_values *val = KARRAY_ALLOC(&rq->arena, &o->values, nv);
        if (!ent || !val)
            break;
        if (e->name.has_user)
            ent[j++] = (describe_client_quotas_resp_entity){
                kstr_c(TYPE_USER), e->name.user_default ? (kstr){ NULL, -1 }
                                                        : dupmsg(rq, e->name.user) };
        if (e->name.has_client)
            ent[j++] = (describe_client_quotas_resp_entity){
                kstr_c(TYPE_CLIENT), e->name.client_default ? (kstr){ NULL, -1 }
                                                            : dupmsg(rq, e->name.client) };
        j = 0;
        for (int q = 0; q < QK_COUNT; q++)
            if (e->quota[q] > 0)
                val[j++] = (describe_client_quotas_resp_values){ kstr_c(quota_keys[q]), e->quota[q] };
    }
    ent_snapshot_unref(s);
    kreq_respond(rq, r);
}

/* ------------------------------------------------------------------- alter */

/* Kafka's stored text of a value: LONG keys as a whole number, DOUBLE as
 * Java's Double.toString for ordinary values ("200.0"). */
static int16_t format_value(int q, double v, char *out, size_t n, char *msg, size_t mn)
{
    if (!isfinite(v) || v <= 0) {
        snprintf(msg, mn, "Invalid value %g for configuration %s: must be positive", v,
                 quota_keys[q]);
        return KERR_INVALID_REQUEST;
    }
    if (q != QK_REQUEST) {
        double w = floor(v + 1e-6);
        if (fabs(w - v) > 1e-6 || w > 9.2e18) {
            snprintf(msg, mn, "Configuration %s must be a LONG value", quota_keys[q]);
            return KERR_INVALID_REQUEST;
        }
        snprintf(out, n, "%lld", (long long)w);
    } else if (v == floor(v) && v < 1e7) {
        snprintf(out, n, "%.1f", v);
    } else {
        snprintf(out, n, "%.17g", v);
    }
    return 0;
}

static int16_t parse_entity(const alter_client_quotas_req_entries *q, ent_name *n, char *msg,
                            size_t mn)
{
    memset(n, 0, sizeof *n);
    if (q->entity.n <= 0) {
        snprintf(msg, mn, "Invalid empty client quota entity");
        return KERR_INVALID_REQUEST;
    }
    for (int32_t i = 0; i < q->entity.n; i++) {
        const alter_client_quotas_entity *e = &q->entity.v[i];
        bool user = kstr_eq(e->entity_type, TYPE_USER), cl = kstr_eq(e->entity_type, TYPE_CLIENT);
        if (kstr_eq(e->entity_type, TYPE_IP)) {
            snprintf(msg, mn, "Samsa keeps no IP quotas: entity type 'ip' is not supported");
            return KERR_INVALID_REQUEST;
        }
        if (!user && !cl) {
            snprintf(msg, mn, "Unhandled client quota entity type: %.*s",
                     (int)(e->entity_type.len > 200 ? 200 : e->entity_type.len > 0 ? e->entity_type.len : 0),
                     e->entity_type.p ? e->entity_type.p : "");
            return KERR_INVALID_REQUEST;
        }
        if ((user && n->has_user) || (cl && n->has_client)) {
            snprintf(msg, mn, "Duplicate %s entity type", user ? TYPE_USER : TYPE_CLIENT);
            return KERR_INVALID_REQUEST;
        }
        bool dflt = e->entity_name.len < 0;
        char *dst = user ? n->user : n->client;
        if (!dflt && e->entity_name.len == 0) {       /* Kafka's words */
            snprintf(msg, mn, "Empty %s not supported", user ? TYPE_USER : TYPE_CLIENT);
            return KERR_INVALID_REQUEST;
        }
        if (!dflt && !name_from(e->entity_name, dst)) {
            snprintf(msg, mn, "Invalid %s entity name: empty, longer than %d bytes or holding "
                     "a NUL", user ? TYPE_USER : TYPE_CLIENT, ENT_NAME_MAX);
            return KERR_INVALID_REQUEST;
        }
        if (user) {
            n->has_user = true;
            n->user_default = dflt;
        } else {
            n->has_client = true;
            n->client_default = dflt;
        }
    }
    return 0;
}

static int16_t alter_entry(kreq *rq, const alter_client_quotas_req_entries *q, bool validate_only,
                           char *msg, size_t mn)
{
    broker *b = broker_of(rq);
    ent_name n;
    char path[ENT_PATH_MAX];
    int16_t ec = parse_entity(q, &n, msg, mn);
    if (ec)
        return ec;
    if (ent_path_format(&n, path, sizeof path) < 0) {
        snprintf(msg, mn, "Invalid client quota entity");
        return KERR_INVALID_REQUEST;
    }
    ent_snapshot *s = entities_get(b->ents);
    ent_kvs kv;
    if (ent_kvs_init(&kv, ent_find(s, &n)) < 0) {
        ent_snapshot_unref(s);
        snprintf(msg, mn, "Out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    ent_snapshot_unref(s);
    for (int32_t i = 0; !ec && i < q->ops.n; i++) {
        const alter_client_quotas_req_ops *op = &q->ops.v[i];
        int k = -1;
        for (int j = 0; j < QK_COUNT; j++)
            if (kstr_eq(op->key, quota_keys[j]))
                k = j;
        if (k < 0) {
            snprintf(msg, mn, "Invalid configuration key %.*s",
                     (int)(op->key.len > 200 ? 200 : op->key.len > 0 ? op->key.len : 0),
                     op->key.p ? op->key.p : "");
            ec = KERR_INVALID_REQUEST;
            break;
        }
        for (int32_t j = 0; j < i; j++)
            if (kstr_eq(q->ops.v[j].key, quota_keys[k])) {
                snprintf(msg, mn, "Duplicate quota key %s", quota_keys[k]);
                ec = KERR_INVALID_REQUEST;
            }
        if (ec)
            break;
        if (op->remove) {
            ent_kvs_del(&kv, quota_keys[k]);
            continue;
        }
        char val[64];
        ec = format_value(k, op->value, val, sizeof val, msg, mn);
        if (!ec && ent_kvs_set(&kv, quota_keys[k], val) < 0) {
            snprintf(msg, mn, "Out of memory");
            ec = KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    if (!ec && !validate_only) {
        char err[512];
        if (entities_store(b, path, &kv, err, sizeof err) != MD_OK) {
            snprintf(msg, mn, "%s", err);
            ec = KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    ent_kvs_free(&kv);
    return ec;
}

static void alter_work(admin_job *job)
{
    kreq *rq = job->rq;
    alter_client_quotas_req *req = rq->body;
    alter_client_quotas_resp *r = job->arg;
    alter_client_quotas_resp_entries *out = KARRAY_ALLOC(&rq->arena, &r->entries, req->entries.n);
    for (int32_t i = 0; out && i < req->entries.n; i++) {
        char msg[512] = "";
        kcodec_defaults(&alter_client_quotas_resp_entries_schema, &out[i]);
        out[i].entity.n = req->entries.v[i].entity.n;
        out[i].entity.v = req->entries.v[i].entity.v;
        out[i].error_code = alter_entry(rq, &req->entries.v[i], req->validate_only, msg, sizeof msg);
        if (out[i].error_code)
            out[i].error_message = dupmsg(rq, msg);
    }
}

static void respond_job(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_alter_client_quotas(kreq *rq)
{
    alter_client_quotas_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    /* docs/security.md, AlterClientQuotas: Cluster ALTER_CONFIGS, else
     * every entry CLUSTER_AUTHORIZATION_FAILED and nothing changed. */
    if (!authz_cluster(broker_of(rq), rq, ACL_OP_ALTER_CONFIGS)) {
        alter_client_quotas_req *req = rq->body;
        alter_client_quotas_resp_entries *es = KARRAY_ALLOC(&rq->arena, &r->entries, req->entries.n);
        for (int32_t i = 0; es && i < req->entries.n; i++) {
            es[i].error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
            es[i].error_message = (kstr){ NULL, -1 };
            es[i].entity.n = req->entries.v[i].entity.n;
            es[i].entity.v = req->entries.v[i].entity.v;
        }
        kreq_respond(rq, r);
        return;
    }
    admin_submit(broker_of(rq), rq, alter_work, respond_job, r);
}
