/*
 * handle_configs.c - DescribeConfigs (32), AlterConfigs (33) and
 * IncrementalAlterConfigs (44) for topics and brokers.
 *
 * Resource types: 2 = TOPIC, 4 = BROKER (name = this node id for the
 * per-broker layer, "" for the cluster-wide default layer), 8 =
 * BROKER_LOGGER (not supported: INVALID_REQUEST).  Describing reads the
 * live config tables (config/config.h); altering runs on the admin thread,
 * validates every entry first and applies all-or-nothing, persists the
 * new overrides in the metadata store and pushes the effective settings to
 * the affected partition logs.  AlterConfigs replaces a resource's whole
 * override set; IncrementalAlterConfigs edits it (SET/DELETE/APPEND/
 * SUBTRACT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "config/config.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/alter_configs.h"
#include "proto/messages/describe_configs.h"
#include "proto/messages/incremental_alter_configs.h"

#define RES_TOPIC 2
#define RES_BROKER 4
#define RES_BROKER_LOGGER 8
#define MSG_LEN 300

static const char *adup(kreq *rq, const char *s)
{
    return s ? arena_strndup(&rq->arena, s, strlen(s)) : NULL;
}

static kstr astr(kreq *rq, const char *s)
{
    return s ? kstr_c(adup(rq, s)) : (kstr){ NULL, -1 };
}

/* Is `name` this broker's resource name?  "" = cluster default layer. */
static int broker_resource(const broker *b, kstr name, bool *is_default)
{
    *is_default = name.len == 0;
    if (name.len <= 0)
        return name.len == 0 ? 0 : -1;
    char buf[16];
    if (name.len >= (int32_t)sizeof buf)
        return -1;
    memcpy(buf, name.p, (size_t)name.len);
    buf[name.len] = 0;
    char *end;
    long id = strtol(buf, &end, 10);
    return *end == 0 && id == b->set.node_id ? 0 : -1;
}

/* -------------------------------------------------------- DescribeConfigs */

static void fill_described(kreq *rq, describe_configs_resp_results *res,
                           const struct cfg_description *d, bool synonyms, bool docs)
{
    describe_configs_resp_configs *cs = KARRAY_ALLOC(&rq->arena, &res->configs, (int32_t)d->n);
    for (size_t i = 0; cs && i < d->n; i++) {
        const struct cfg_entry *e = &d->v[i];
        describe_configs_resp_configs *c = &cs[i];
        kcodec_defaults(&describe_configs_resp_configs_schema, c);
        c->name = kstr_c(e->name);
        c->value = astr(rq, e->value);
        c->read_only = e->read_only;
        c->is_default = e->source == CFG_SRC_DEFAULT;
        c->config_source = e->source;
        c->is_sensitive = e->is_sensitive;
        c->config_type = e->config_type;
        c->documentation = docs && e->doc ? kstr_c(e->doc) : (kstr){ NULL, -1 };
        if (synonyms) {
            describe_configs_resp_synonyms *sy =
                KARRAY_ALLOC(&rq->arena, &c->synonyms, e->nsynonyms);
            for (int k = 0; sy && k < e->nsynonyms; k++) {
                sy[k].name = kstr_c(e->synonyms[k].name);
                sy[k].value = astr(rq, e->synonyms[k].value);
                sy[k].source = e->synonyms[k].source;
            }
        }
    }
}

/* docs/security.md, Describe/AlterConfigs and IncrementalAlterConfigs:
 * DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic (else
 * TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the Cluster (else
 * CLUSTER_AUTHORIZATION_FAILED).  KERR_NONE when allowed. */
static int16_t config_denied(kreq *rq, int8_t type, kstr name, int op)
{
    broker *b = broker_of(rq);
    if (!b->authz)
        return KERR_NONE;
    if (type == RES_TOPIC)
        return authz_allowed_k(b, rq, op, ACL_RT_TOPIC, name) ? KERR_NONE
                                                              : KERR_TOPIC_AUTHORIZATION_FAILED;
    return authz_cluster(b, rq, op) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
}

void handle_describe_configs(kreq *rq)
{
    broker *b = broker_of(rq);
    describe_configs_req *req = rq->body;
    describe_configs_resp *r = kreq_new_response(rq);
    bool synonyms = rq->hdr.api_version >= 1 && req->include_synonyms;
    bool docs = rq->hdr.api_version >= 3 && req->include_documentation;
    describe_configs_resp_results *rs = KARRAY_ALLOC(&rq->arena, &r->results, req->resources.n);
    for (int32_t i = 0; rs && i < req->resources.n; i++) {
        describe_configs_req_resources *q = &req->resources.v[i];
        describe_configs_resp_results *res = &rs[i];
        kcodec_defaults(&describe_configs_resp_results_schema, res);
        res->resource_type = q->resource_type;
        res->resource_name = q->resource_name;
        const char **keys = NULL;
        size_t nkeys = 0;
        if (q->configuration_keys.n > 0) {
            keys = arena_alloc(&rq->arena, (size_t)(q->configuration_keys.n + 1) * sizeof *keys);
            for (int32_t k = 0; keys && k < q->configuration_keys.n; k++)
                keys[nkeys++] = arena_strndup(&rq->arena, q->configuration_keys.v[k].p,
                                              (size_t)q->configuration_keys.v[k].len);
        }
        struct cfg_description d = { 0 };
        int rc;
        if ((res->error_code = config_denied(rq, q->resource_type, q->resource_name,
                                             ACL_OP_DESCRIBE_CONFIGS))) {
            res->error_message = kstr_c("Authorization failed.");
            continue;
        }
        if (q->resource_type == RES_TOPIC) {
            topic *t = topic_registry_get(&b->topics, q->resource_name.p, (size_t)q->resource_name.len);
            if (!t) {
                res->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                res->error_message = kstr_c("Topic does not exist");
                continue;
            }
            topic_registry_rdlock(&b->topics);
            cfg_kv *kv = arena_alloc(&rq->arena, (size_t)(t->nconfigs + 1) * sizeof *kv);
            int n = 0;
            for (int k = 0; kv && k < t->nconfigs; k++, n++)
                kv[k] = (cfg_kv){ (char *)adup(rq, t->configs[k].key), (char *)adup(rq, t->configs[k].value) };
            topic_registry_unlock(&b->topics);
            topic_unref(t);
            rc = topic_cfg_describe(broker_config_current(b), kv, (size_t)n, keys ? keys : NULL,
                                    nkeys, &d);
        } else if (q->resource_type == RES_BROKER) {
            bool is_default;
            if (broker_resource(b, q->resource_name, &is_default) < 0) {
                res->error_code = KERR_INVALID_REQUEST;
                res->error_message = kstr_c("Unexpected broker id: this broker is the only one");
                continue;
            }
            rc = is_default ? broker_config_describe_default(broker_config_current(b), keys, nkeys, &d)
                            : broker_config_describe(broker_config_current(b), keys, nkeys, &d);
        } else {
            res->error_code = KERR_INVALID_REQUEST;
            res->error_message = kstr_c("Unsupported resource type");
            continue;
        }
        if (rc) {
            res->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        fill_described(rq, res, &d, synonyms, docs);
        cfg_description_free(&d);
    }
    kreq_respond(rq, r);
}

/* ------------------------------------------------ Alter / IncrementalAlter */

typedef struct alter_item {
    const char *key, *value;   /* value NULL = null */
    int op;                    /* enum cfg_alter_op; AlterConfigs uses SET */
} alter_item;

/* Apply one resource's changes (admin thread).  Fills code/msg. */
static int16_t alter_resource(kreq *rq, int8_t type, kstr name, const alter_item *items, int n,
                              bool incremental, bool validate_only, char *msg, size_t msglen)
{
    broker *b = broker_of(rq);
    int16_t denied = config_denied(rq, type, name, ACL_OP_ALTER_CONFIGS);
    if (denied) {
        snprintf(msg, msglen, "Authorization failed.");
        return denied;
    }
    if (type == RES_TOPIC) {
        char *tname = arena_strndup(&rq->arena, name.p ? name.p : "", (size_t)(name.len > 0 ? name.len : 0));
        topic *t = topic_registry_get(&b->topics, tname, strlen(tname));
        if (!t) {
            snprintf(msg, msglen, "Topic %s does not exist", tname);
            return KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        /* Start from the current overrides (incremental) or from nothing. */
        struct topic_overrides o;
        topic_overrides_init(&o);
        int16_t code = KERR_NONE;
        if (incremental) {
            topic_registry_rdlock(&b->topics);
            for (int k = 0; k < t->nconfigs && !code; k++)
                if (topic_overrides_put(&o, t->configs[k].key, t->configs[k].value))
                    code = KERR_UNKNOWN_SERVER_ERROR;
            topic_registry_unlock(&b->topics);
        }
        topic_unref(t);
        for (int i = 0; i < n && !code; i++) {
            const alter_item *it = &items[i];
            if (!incremental) {
                if (!it->value) {
                    snprintf(msg, msglen, "Null value not supported for topic configs: %s", it->key);
                    code = KERR_INVALID_CONFIG;
                } else if ((code = (int16_t)topic_cfg_validate(it->key, it->value, msg, msglen)) == 0 &&
                           topic_overrides_put(&o, it->key, it->value)) {
                    code = KERR_UNKNOWN_SERVER_ERROR;
                }
                continue;
            }
            if (it->op != CFG_OP_DELETE && !it->value) {
                snprintf(msg, msglen, "Null value not supported for %s", it->key);
                code = KERR_INVALID_CONFIG;
                continue;
            }
            if (it->op < 0 || it->op > 3) {
                snprintf(msg, msglen, "Unknown config operation %d", it->op);
                code = KERR_INVALID_REQUEST;
                continue;
            }
            code = (int16_t)topic_cfg_alter(broker_config_current(b), &o, it->key, it->op,
                                            it->value, msg, msglen);
        }
        if (!code)
            code = (int16_t)topic_cfg_validate_set(broker_config_current(b), o.v, o.n, msg, msglen);
        if (!code) {
            topic_kv *kv = arena_alloc(&rq->arena, (o.n + 1) * sizeof *kv);
            for (size_t k = 0; kv && k < o.n; k++)
                kv[k] = (topic_kv){ o.v[k].key, o.v[k].value };
            code = topic_admin_set_configs(b, tname, kv, (int)o.n, true, validate_only, msg, msglen);
        }
        topic_overrides_free(&o);
        return code;
    }
    if (type == RES_BROKER) {
        bool is_default;
        if (broker_resource(b, name, &is_default) < 0) {
            snprintf(msg, msglen, "Unexpected broker id: this broker is the only one");
            return KERR_INVALID_REQUEST;
        }
        topic_kv *kv = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *kv);
        int *ops = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *ops);
        if (!kv || !ops)
            return KERR_UNKNOWN_SERVER_ERROR;
        for (int i = 0; i < n; i++) {
            kv[i] = (topic_kv){ (char *)items[i].key, (char *)items[i].value };
            ops[i] = incremental ? items[i].op : CFG_OP_SET;
        }
        return broker_admin_set_configs(b, is_default, kv, ops, n, !incremental, validate_only,
                                        msg, msglen);
    }
    snprintf(msg, msglen, "Unsupported resource type %d", type);
    return KERR_INVALID_REQUEST;
}

static void alter_work(admin_job *job)
{
    kreq *rq = job->rq;
    alter_configs_req *req = rq->body;
    alter_configs_resp *r = job->arg;
    for (int32_t i = 0; i < req->resources.n; i++) {
        alter_configs_req_resources *q = &req->resources.v[i];
        alter_configs_resp_responses *res = &r->responses.v[i];
        alter_item *items = arena_alloc(&rq->arena, (size_t)(q->configs.n + 1) * sizeof *items);
        for (int32_t k = 0; items && k < q->configs.n; k++) {
            alter_configs_req_configs *c = &q->configs.v[k];
            items[k].key = arena_strndup(&rq->arena, c->name.p, (size_t)c->name.len);
            items[k].value = c->value.len >= 0 ? arena_strndup(&rq->arena, c->value.p, (size_t)c->value.len) : NULL;
            items[k].op = CFG_OP_SET;
        }
        char msg[MSG_LEN] = "";
        res->resource_type = q->resource_type;
        res->resource_name = q->resource_name;
        res->error_code = items ? alter_resource(rq, q->resource_type, q->resource_name, items,
                                                 q->configs.n, false, req->validate_only, msg, sizeof msg)
                                : KERR_UNKNOWN_SERVER_ERROR;
        res->error_message = res->error_code ? astr(rq, msg) : (kstr){ NULL, -1 };
    }
}

static void incremental_work(admin_job *job)
{
    kreq *rq = job->rq;
    incremental_alter_configs_req *req = rq->body;
    incremental_alter_configs_resp *r = job->arg;
    for (int32_t i = 0; i < req->resources.n; i++) {
        incremental_alter_configs_req_resources *q = &req->resources.v[i];
        incremental_alter_configs_resp_responses *res = &r->responses.v[i];
        alter_item *items = arena_alloc(&rq->arena, (size_t)(q->configs.n + 1) * sizeof *items);
        bool dup = false;
        for (int32_t k = 0; items && k < q->configs.n; k++) {
            incremental_alter_configs_req_configs *c = &q->configs.v[k];
            items[k].key = arena_strndup(&rq->arena, c->name.p, (size_t)c->name.len);
            items[k].value = c->value.len >= 0 ? arena_strndup(&rq->arena, c->value.p, (size_t)c->value.len) : NULL;
            items[k].op = c->config_operation;
            for (int32_t j = 0; j < k; j++)
                if (!strcmp(items[j].key, items[k].key))
                    dup = true;
        }
        char msg[MSG_LEN] = "";
        res->resource_type = q->resource_type;
        res->resource_name = q->resource_name;
        if (dup) {
            res->error_code = KERR_INVALID_REQUEST;
            res->error_message = kstr_c("Error due to duplicate config keys");
            continue;
        }
        res->error_code = items ? alter_resource(rq, q->resource_type, q->resource_name, items,
                                                 q->configs.n, true, req->validate_only, msg, sizeof msg)
                                : KERR_UNKNOWN_SERVER_ERROR;
        res->error_message = res->error_code ? astr(rq, msg) : (kstr){ NULL, -1 };
    }
}

static void respond_job(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_alter_configs(kreq *rq)
{
    alter_configs_req *req = rq->body;
    alter_configs_resp *r = kreq_new_response(rq);
    KARRAY_ALLOC(&rq->arena, &r->responses, req->resources.n);
    admin_submit(broker_of(rq), rq, alter_work, respond_job, r);
}

void handle_incremental_alter_configs(kreq *rq)
{
    incremental_alter_configs_req *req = rq->body;
    incremental_alter_configs_resp *r = kreq_new_response(rq);
    KARRAY_ALLOC(&rq->arena, &r->responses, req->resources.n);
    admin_submit(broker_of(rq), rq, incremental_work, respond_job, r);
}
