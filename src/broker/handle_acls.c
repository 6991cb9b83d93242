/*
 * handle_acls.c - DescribeAcls (29), CreateAcls (30), DeleteAcls (31), as
 * Kafka's AclApis answers them.
 *
 * Without an authorizer every answer is SECURITY_DISABLED ("No Authorizer
 * is configured.").  Describe needs DESCRIBE on the Cluster, create and
 * delete ALTER on the Cluster (else CLUSTER_AUTHORIZATION_FAILED for the
 * whole request).  Each creation is validated as Kafka does (S-ACL6:
 * INVALID_REQUEST with the reason, per result); each delete filter must
 * hold no UNKNOWN value.  Describe reads the in-memory index on the
 * request's loop; create and delete write the store (ZooKeeper or the
 * ACL file) on the admin thread, which serialises them.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "cluster/acl_store.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/create_acls.h"
#include "proto/messages/delete_acls.h"
#include "proto/messages/describe_acls.h"

#define NO_AUTHORIZER "No Authorizer is configured."

/* A NUL-terminated copy in the request's arena; NULL for a null string.
 * *bad when the string holds a NUL byte or the arena is full. */
static const char *dup_k(kreq *rq, kstr s, bool *bad)
{
    if (s.len < 0 || !s.p)
        return NULL;
    if (memchr(s.p, 0, (size_t)s.len)) {
        *bad = true;
        return "";
    }
    char *d = arena_strndup(&rq->arena, s.p, (size_t)s.len);
    if (!d) {
        *bad = true;
        return "";
    }
    return d;
}

/* Gate shared by the three APIs: 0 = go on, else the error for all. */
static int16_t gate(kreq *rq, int op)
{
    broker *b = broker_of(rq);
    if (!b->authz)
        return KERR_SECURITY_DISABLED;
    if (!authz_cluster(b, rq, op))
        return KERR_CLUSTER_AUTHORIZATION_FAILED;
    return KERR_NONE;
}

static const char *gate_msg(int16_t err)
{
    return err == KERR_SECURITY_DISABLED ? NO_AUTHORIZER
                                         : "Cluster authorization failed.";
}

/* ---- DescribeAcls ---------------------------------------------------- */

typedef struct collect {
    kreq *rq;
    acl_binding *v;
    int n, cap;
    bool oom;
} collect;

static void collect_cb(const acl_binding *b, void *ctx)
{
    collect *c = ctx;
    if (c->oom)
        return;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 16;
        acl_binding *nv = realloc(c->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            c->oom = true;
            return;
        }
        c->v = nv;
        c->cap = nc;
    }
    acl_binding *d = &c->v[c->n];
    *d = *b;
    d->name = arena_strndup(&c->rq->arena, b->name, strlen(b->name));
    d->principal = arena_strndup(&c->rq->arena, b->principal, strlen(b->principal));
    d->host = arena_strndup(&c->rq->arena, b->host, strlen(b->host));
    if (!d->name || !d->principal || !d->host)
        c->oom = true;
    else
        c->n++;
}

static bool same_res(const acl_binding *a, const acl_binding *b)
{
    return a->rtype == b->rtype && a->pattern == b->pattern && !strcmp(a->name, b->name);
}

void handle_describe_acls(kreq *rq)
{
    broker *b = broker_of(rq);
    describe_acls_req *req = rq->body;
    describe_acls_resp *r = kreq_new_response(rq);
    r->error_code = gate(rq, ACL_OP_DESCRIBE);
    if (r->error_code) {
        r->error_message = kstr_c(gate_msg(r->error_code));
        kreq_respond(rq, r);
        return;
    }
    bool bad = false;
    acl_binding f = { .rtype = req->resource_type_filter, .pattern = req->pattern_type_filter,
                      .op = req->operation, .perm = req->permission_type,
                      .name = dup_k(rq, req->resource_name_filter, &bad),
                      .principal = dup_k(rq, req->principal_filter, &bad),
                      .host = dup_k(rq, req->host_filter, &bad) };
    char why[256];
    if (bad || acl_filter_validate(&f, why, sizeof why)) {
        r->error_code = KERR_INVALID_REQUEST;
        r->error_message = kstr_c(bad ? "Invalid string in the filter" : "The filter contains UNKNOWN elements");
        kreq_respond(rq, r);
        return;
    }
    collect c = { .rq = rq };
    acl_authz_each(b->authz, &f, collect_cb, &c);
    int nres = 0;
    for (int i = 0; i < c.n; i++)
        nres += !i || !same_res(&c.v[i - 1], &c.v[i]);
    describe_acls_resp_resources *rs =
        c.oom ? NULL : nres ? KARRAY_ALLOC(&rq->arena, &r->resources, nres) : NULL;
    if (c.oom || (nres && !rs)) {
        free(c.v);
        r->resources.n = 0;
        r->error_code = KERR_UNKNOWN_SERVER_ERROR;
        r->error_message = kstr_c("Too many ACLs match the filter for one response");
        kreq_respond(rq, r);
        return;
    }
    for (int i = 0, ri = -1; i < c.n; i++) {
        if (!i || !same_res(&c.v[i - 1], &c.v[i])) {
            int cnt = 1;
            while (i + cnt < c.n && same_res(&c.v[i], &c.v[i + cnt]))
                cnt++;
            ri++;
            rs[ri].resource_type = c.v[i].rtype;
            rs[ri].resource_name = kstr_c(c.v[i].name);
            rs[ri].pattern_type = c.v[i].pattern;
            if (!KARRAY_ALLOC(&rq->arena, &rs[ri].acls, cnt)) {
                free(c.v);
                kreq_fail_close(rq, "out of memory");
                return;
            }
            rs[ri].acls.n = 0;
        }
        describe_acls_resp_acls *a = &rs[ri].acls.v[rs[ri].acls.n++];
        a->principal = kstr_c(c.v[i].principal);
        a->host = kstr_c(c.v[i].host);
        a->operation = c.v[i].op;
        a->permission_type = c.v[i].perm;
    }
    free(c.v);
    kreq_respond(rq, r);
}

/* ---- CreateAcls ------------------------------------------------------ */

static void create_work(admin_job *job)
{
    kreq *rq = job->rq;
    broker *b = broker_of(rq);
    create_acls_req *req = rq->body;
    create_acls_resp *r = job->arg;
    for (int32_t i = 0; i < req->creations.n; i++) {
        create_acls_req_creations *q = &req->creations.v[i];
        create_acls_resp_results *res = &r->results.v[i];
        res->error_message = (kstr){ NULL, -1 };
        bool bad = false;
        acl_binding bd = { .rtype = q->resource_type, .pattern = q->resource_pattern_type,
                           .op = q->operation, .perm = q->permission_type,
                           .name = dup_k(rq, q->resource_name, &bad),
                           .principal = dup_k(rq, q->principal, &bad),
                           .host = dup_k(rq, q->host, &bad) };
        char why[512];
        if (bad || acl_binding_validate(&bd, why, sizeof why)) {
            res->error_code = KERR_INVALID_REQUEST;
            if (bad)
                snprintf(why, sizeof why, "Invalid string in the ACL binding");
        } else if (acl_store_create(b->acl_store, &bd, why, sizeof why)) {
            res->error_code = KERR_UNKNOWN_SERVER_ERROR;
        } else {
            continue;
        }
        res->error_message = kstr_c(arena_strndup(&rq->arena, why, strlen(why)));
    }
}

static void respond_job(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_create_acls(kreq *rq)
{
    create_acls_req *req = rq->body;
    create_acls_resp *r = kreq_new_response(rq);
    create_acls_resp_results *rs = KARRAY_ALLOC(&rq->arena, &r->results, req->creations.n);
    if (req->creations.n > 0 && !rs) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int16_t err = gate(rq, ACL_OP_ALTER);
    if (err) {
        for (int32_t i = 0; i < req->creations.n; i++)
            rs[i] = (create_acls_resp_results){ .error_code = err,
                                                .error_message = kstr_c(gate_msg(err)) };
        kreq_respond(rq, r);
        return;
    }
    admin_submit(broker_of(rq), rq, create_work, respond_job, r);
}

/* ---- DeleteAcls ------------------------------------------------------ */

typedef struct del_ctx {
    kreq *rq;
    delete_acls_resp_results *res;
    int cap;
    bool oom;
} del_ctx;

static void deleted_cb(const acl_binding *b, void *vctx)
{
    del_ctx *c = vctx;
    if (c->oom)
        return;
    if (c->res->matching_acls.n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 8;
        delete_acls_resp_matching *nv = arena_alloc(&c->rq->arena, (size_t)nc * sizeof *nv);
        if (!nv) {
            c->oom = true;
            return;
        }
        if (c->res->matching_acls.n > 0)
            memcpy(nv, c->res->matching_acls.v, (size_t)c->res->matching_acls.n * sizeof *nv);
        c->res->matching_acls.v = nv;
        c->cap = nc;
    }
    arena *a = &c->rq->arena;
    const char *name = arena_strndup(a, b->name, strlen(b->name));
    const char *pr = arena_strndup(a, b->principal, strlen(b->principal));
    const char *host = arena_strndup(a, b->host, strlen(b->host));
    if (!name || !pr || !host) {
        c->oom = true;
        return;
    }
    c->res->matching_acls.v[c->res->matching_acls.n++] = (delete_acls_resp_matching){
        .resource_type = b->rtype, .resource_name = kstr_c(name), .pattern_type = b->pattern,
        .principal = kstr_c(pr), .host = kstr_c(host), .operation = b->op,
        .permission_type = b->perm, .error_message = { NULL, -1 } };
}

static void delete_work(admin_job *job)
{
    kreq *rq = job->rq;
    broker *b = broker_of(rq);
    delete_acls_req *req = rq->body;
    delete_acls_resp *r = job->arg;
    for (int32_t i = 0; i < req->filters.n; i++) {
        delete_acls_req_filters *q = &req->filters.v[i];
        delete_acls_resp_results *res = &r->filter_results.v[i];
        res->matching_acls.n = 0;
        res->error_message = (kstr){ NULL, -1 };
        bool bad = false;
        acl_binding f = { .rtype = q->resource_type_filter, .pattern = q->pattern_type_filter,
                          .op = q->operation, .perm = q->permission_type,
                          .name = dup_k(rq, q->resource_name_filter, &bad),
                          .principal = dup_k(rq, q->principal_filter, &bad),
                          .host = dup_k(rq, q->host_filter, &bad) };
        char why[512];
        del_ctx c = { .rq = rq, .res = res };
        if (bad || acl_filter_validate(&f, why, sizeof why)) {
            res->error_code = KERR_INVALID_REQUEST;
            snprintf(why, sizeof why, "%s", bad ? "Invalid string in the filter"
                                                : "The filter contains UNKNOWN elements");
        } else if (acl_store_delete(b->acl_store, &f, deleted_cb, &c, why, sizeof why) < 0) {
            res->error_code = KERR_UNKNOWN_SERVER_ERROR;
        } else if (c.oom) {
            res->error_code = KERR_UNKNOWN_SERVER_ERROR;
            snprintf(why, sizeof why, "ACLs deleted, but too many to list in one response");
            res->matching_acls.n = 0;
        res->error_message = (kstr){ NULL, -1 };
        } else {
            continue;
        }
        res->error_message = kstr_c(arena_strndup(&rq->arena, why, strlen(why)));
    }
}

void handle_delete_acls(kreq *rq)
{
    delete_acls_req *req = rq->body;
    delete_acls_resp *r = kreq_new_response(rq);
    delete_acls_resp_results *rs = KARRAY_ALLOC(&rq->arena, &r->filter_results, req->filters.n);
    if (req->filters.n > 0 && !rs) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int16_t err = gate(rq, ACL_OP_ALTER);
    if (err) {
        for (int32_t i = 0; i < req->filters.n; i++)
            rs[i] = (delete_acls_resp_results){ .error_code = err,
                                                .error_message = kstr_c(gate_msg(err)) };
        kreq_respond(rq, r);
        return;
    }
    admin_submit(broker_of(rq), rq, delete_work, respond_job, r);
}
