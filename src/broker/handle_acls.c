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

/* ---- response memory ------------------------------------------------- */

/* The ACLs listed in a Describe/DeleteAcls answer are as many as the store
 * holds, not bounded by the request's size (its arena's cap): they live in
 * this pool of malloc'd blocks, freed once the response is encoded
 * (kreq_respond encodes before it returns). */
typedef struct pool {
    void **v;
    int n, cap;
    bool oom;
} pool;

static void *pool_alloc(pool *p, size_t size)
{
    if (p->oom)
        return NULL;
    if (p->n == p->cap) {
        int nc = p->cap ? p->cap * 2 : 16;
        void **nv = realloc(p->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return NULL;
        }
        p->v = nv;
        p->cap = nc;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m)
        p->oom = true;
    else
        p->v[p->n++] = m;
    return m;
}

static const char *pool_str(pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pool_alloc(p, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void pool_free(pool *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- DescribeAcls ---------------------------------------------------- */

typedef struct collect {
    pool *mem;
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
    d->name = pool_str(c->mem, b->name);
    d->principal = pool_str(c->mem, b->principal);
    d->host = pool_str(c->mem, b->host);
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
    pool mem = { 0 };
    collect c = { .mem = &mem };
    acl_authz_each(b->authz, &f, collect_cb, &c);
    int nres = 0;
    for (int i = 0; i < c.n; i++)
        nres += !i || !same_res(&c.v[i - 1], &c.v[i]);
    describe_acls_resp_resources *rs = c.oom ? NULL : pool_alloc(&mem, (size_t)nres * sizeof *rs);
    for (int i = 0, ri = -1; rs && i < c.n; i++) {
        if (!i || !same_res(&c.v[i - 1], &c.v[i])) {
            int cnt = 1;
            while (i + cnt < c.n && same_res(&c.v[i], &c.v[i + cnt]))
                cnt++;
            ri++;
            rs[ri].resource_type = c.v[i].rtype;
            rs[ri].resource_name = kstr_c(c.v[i].name);
            rs[ri].pattern_type = c.v[i].pattern;
            rs[ri].acls.v = pool_alloc(&mem, (size_t)cnt * sizeof *rs[ri].acls.v);
            rs[ri].acls.n = 0;
            if (!rs[ri].acls.v) {
                rs = NULL;
                break;
            }
        }
        describe_acls_resp_acls *a = &rs[ri].acls.v[rs[ri].acls.n++];
        a->principal = kstr_c(c.v[i].principal);
        a->host = kstr_c(c.v[i].host);
        a->operation = c.v[i].op;
        a->permission_type = c.v[i].perm;
    }
    if (rs) {
        r->resources.n = nres;
        r->resources.v = rs;
    } else {
        r->error_code = KERR_UNKNOWN_SERVER_ERROR;
        r->error_message = kstr_c("Out of memory listing the ACLs");
    }
    free(c.v);
    kreq_respond(rq, r);            /* encodes now: then the pool can go */
    pool_free(&mem);
}

/* ---- CreateAcls ------------------------------------------------------ */

static void create_work(admin_job *job)
{
    kreq *rq = job->rq;
    broker *b = broker_of(rq);
    create_acls_req *req = rq->body;
    create_acls_resp *r = job->arg;
    int32_t n = req->creations.n > 0 ? req->creations.n : 0;
    acl_binding *bd = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *bd);
    const acl_binding **ok = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *ok);
    int32_t *idx = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *idx);
    int *rcs = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *rcs);
    int nok = 0;
    char why[512];
    for (int32_t i = 0; bd && ok && idx && rcs && i < n; i++) {
        create_acls_req_creations *q = &req->creations.v[i];
        create_acls_resp_results *res = &r->results.v[i];
        res->error_message = (kstr){ NULL, -1 };
        bool bad = false;
        bd[i] = (acl_binding){ .rtype = q->resource_type, .pattern = q->resource_pattern_type,
                               .op = q->operation, .perm = q->permission_type,
                               .name = dup_k(rq, q->resource_name, &bad),
                               .principal = dup_k(rq, q->principal, &bad),
                               .host = dup_k(rq, q->host, &bad) };
        if (bad || acl_binding_validate(&bd[i], why, sizeof why)) {   /* S-ACL6 */
            if (bad)
                snprintf(why, sizeof why, "Invalid string in the ACL binding");
            res->error_code = KERR_INVALID_REQUEST;
            res->error_message = kstr_c(arena_strndup(&rq->arena, why, strlen(why)));
            continue;
        }
        idx[nok] = i;
        ok[nok++] = &bd[i];
    }
    if (!bd || !ok || !idx || !rcs) {
        for (int32_t i = 0; i < n; i++)
            r->results.v[i] = (create_acls_resp_results){ KERR_UNKNOWN_SERVER_ERROR,
                                                          { NULL, -1 } };
        return;
    }
    why[0] = 0;
    acl_store_create_many(b->acl_store, ok, nok, rcs, why, sizeof why);
    for (int k = 0; k < nok; k++) {
        if (!rcs[k])
            continue;
        create_acls_resp_results *res = &r->results.v[idx[k]];
        res->error_code = KERR_UNKNOWN_SERVER_ERROR;
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
    pool *mem;
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
        delete_acls_resp_matching *nv = pool_alloc(c->mem, (size_t)nc * sizeof *nv);
        if (!nv) {
            c->oom = true;
            return;
        }
        if (c->res->matching_acls.n > 0)
            memcpy(nv, c->res->matching_acls.v, (size_t)c->res->matching_acls.n * sizeof *nv);
        c->res->matching_acls.v = nv;
        c->cap = nc;
    }
    const char *name = pool_str(c->mem, b->name);
    const char *pr = pool_str(c->mem, b->principal);
    const char *host = pool_str(c->mem, b->host);
    if (!name || !pr || !host) {
        c->oom = true;
        return;
    }
    c->res->matching_acls.v[c->res->matching_acls.n++] = (delete_acls_resp_matching){
        .resource_type = b->rtype, .resource_name = kstr_c(name), .pattern_type = b->pattern,
        .principal = kstr_c(pr), .host = kstr_c(host), .operation = b->op,
        .permission_type = b->perm, .error_message = { NULL, -1 } };
}

typedef struct del_job {
    delete_acls_resp *r;
    pool mem;
} del_job;

static void delete_work(admin_job *job)
{
    kreq *rq = job->rq;
    broker *b = broker_of(rq);
    delete_acls_req *req = rq->body;
    del_job *dj = job->arg;
    delete_acls_resp *r = dj->r;
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
        del_ctx c = { .mem = &dj->mem, .res = res };
        if (bad || acl_filter_validate(&f, why, sizeof why)) {
            res->error_code = KERR_INVALID_REQUEST;
            snprintf(why, sizeof why, "%s", bad ? "Invalid string in the filter"
                                                : "The filter contains UNKNOWN elements");
        } else if (acl_store_delete(b->acl_store, &f, deleted_cb, &c, why, sizeof why) < 0) {
            res->error_code = KERR_UNKNOWN_SERVER_ERROR;
            res->matching_acls.n = 0;
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

static void delete_done(admin_job *job)
{
    del_job *dj = job->arg;
    pool mem = dj->mem;             /* dj is in the request's arena, gone after respond */
    kreq_respond(job->rq, dj->r);   /* encodes now: then the pool can go */
    pool_free(&mem);
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
    del_job *dj = arena_alloc(&rq->arena, sizeof *dj);
    if (!dj) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    dj->r = r;
    admin_submit(broker_of(rq), rq, delete_work, delete_done, dj);
}
