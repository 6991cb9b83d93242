/*
 * handle_user_scram.c - DescribeUserScramCredentials (key 50, v0) and
 * AlterUserScramCredentials (key 51, v0; KIP-554): SCRAM credentials as
 * the "SCRAM-SHA-256" / "SCRAM-SHA-512" configs of user entities
 * (broker/entities.h), Kafka's validation and errors.
 *
 * Describe reads the broker's entity snapshot on the network thread: every
 * user with a credential (null or empty list), or the named ones (unknown:
 * RESOURCE_NOT_FOUND; named twice: DUPLICATE_RESOURCE, once).  Alter runs on the
 * admin thread: a user named twice for one mechanism is DUPLICATE_RESOURCE;
 * an empty name UNACCEPTABLE_CREDENTIAL; a mechanism other than the two
 * UNSUPPORTED_SASL_MECHANISM; iterations outside [4096, 16384]
 * UNACCEPTABLE_CREDENTIAL; deleting a credential the user lacks
 * RESOURCE_NOT_FOUND.  One result per user, and a user's changes are all
 * applied or none (one entity write).
 *
 * S-ENT3: the salted password of an upsertion becomes the stored and
 * server keys (scram_cred_from_salted) and is wiped; it is never stored,
 * logged or echoed, nor is any stored credential.
 */
#include <openssl/crypto.h>
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
#include "proto/messages/alter_user_scram_credentials.h"
#include "proto/messages/describe_user_scram_credentials.h"

static bool ks_eq(kstr a, kstr b)
{
    return a.len == b.len && (a.len <= 0 || !memcmp(a.p, b.p, (size_t)a.len));
}

static kstr dupmsg(kreq *rq, const char *s)
{
    return kstr_c(arena_strndup(&rq->arena, s, strlen(s)));
}

/* ---------------------------------------------------------------- describe */

static void describe_one(kreq *rq, const ent_snapshot *s, const ent_entry *e, kstr user,
                         describe_user_scram_credentials_resp_results *out)
{
    kcodec_defaults(&describe_user_scram_credentials_resp_results_schema, out);
    out->user = user;
    int n = e ? e->has_scram[SCRAM_SHA_256] + e->has_scram[SCRAM_SHA_512] : 0;
    (void)s;
    if (n == 0) {
        char msg[ENT_NAME_MAX + 80];
        snprintf(msg, sizeof msg, "Attempt to describe a user credential that does not exist: %.*s",
                 (int)user.len, user.p);
        out->error_code = KERR_RESOURCE_NOT_FOUND;
        out->error_message = dupmsg(rq, msg);
        return;
    }
    describe_user_scram_credentials_resp_infos *ci =
        KARRAY_ALLOC(&rq->arena, &out->credential_infos, n);
    int k = 0;
    for (int8_t m = SCRAM_SHA_256; ci && m <= SCRAM_SHA_512; m++)
        if (e->has_scram[m])
            ci[k++] = (describe_user_scram_credentials_resp_infos){ m, e->scram[m].iterations };
}

void handle_describe_user_scram_credentials(kreq *rq)
{
    /* docs/security.md, DescribeUserScramCredentials: Cluster DESCRIBE. */
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_DESCRIBE, describe_user_scram_credentials_resp);
    describe_user_scram_credentials_req *req = rq->body;
    describe_user_scram_credentials_resp *r = kreq_new_response(rq);
    ent_snapshot *s = entities_get(broker_of(rq)->ents);
    if (!r)
        goto out;
    if (req->users.n <= 0) {
        int n = 0;
        for (int i = 0; i < s->n; i++)
            n += s->v[i].has_scram[SCRAM_SHA_256] || s->v[i].has_scram[SCRAM_SHA_512];
        describe_user_scram_credentials_resp_results *res =
            KARRAY_ALLOC(&rq->arena, &r->results, n);
        int k = 0;
        for (int i = 0; res && i < s->n; i++)
            if (s->v[i].has_scram[SCRAM_SHA_256] || s->v[i].has_scram[SCRAM_SHA_512])
                describe_one(rq, s, &s->v[i],
                             kstr_c(arena_strndup(&rq->arena, s->v[i].name.user,
                                                  strlen(s->v[i].name.user))),
                             &res[k++]);
    } else {
        describe_user_scram_credentials_resp_results *res =
            KARRAY_ALLOC(&rq->arena, &r->results, req->users.n);
        /* One result per user named, as Kafka: a user named twice gets
         * DUPLICATE_RESOURCE once. */
        int k = 0;
        for (int32_t i = 0; res && i < req->users.n; i++) {
            kstr u = req->users.v[i].name;
            bool dup = false, seen = false;
            for (int32_t j = 0; j < req->users.n; j++) {
                dup |= j != i && ks_eq(req->users.v[j].name, u);
                seen |= j < i && ks_eq(req->users.v[j].name, u);
            }
            if (seen)
                continue;
            if (dup) {
                char msg[ENT_NAME_MAX + 100];
                kcodec_defaults(&describe_user_scram_credentials_resp_results_schema, &res[k]);
                res[k].user = u;
                res[k].error_code = KERR_DUPLICATE_RESOURCE;
                snprintf(msg, sizeof msg, "Cannot describe SCRAM credentials for the same user "
                         "twice in a single request: %.*s", (int)u.len, u.p);
                res[k++].error_message = dupmsg(rq, msg);
                continue;
            }
            ent_name n = { .has_user = true };
            const ent_entry *e = NULL;
            if (u.len > 0 && u.len <= ENT_NAME_MAX) {
                memcpy(n.user, u.p, (size_t)u.len);
                e = ent_find(s, &n);
            }
            describe_one(rq, s, e, u, &res[k++]);
        }
        if (res)
            r->results.n = k;
    }
out:
    ent_snapshot_unref(s);
    kreq_respond(rq, r);
}

/* ------------------------------------------------------------------- alter */

typedef struct scram_op {
    kstr user;
    int8_t mech;
    bool upsert;
    const alter_user_scram_credentials_req_upsertions *up;
} scram_op;

/* The error of one change alone (Kafka's per-change validation). */
static int16_t op_error(const scram_op *op, const char **msg)
{
    if (op->user.len <= 0) {
        *msg = "Username must not be empty";
        return KERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (op->user.len > ENT_NAME_MAX || memchr(op->user.p, 0, (size_t)op->user.len)) { /* S-ENT1 */
        *msg = "Username is too long or holds a NUL character";
        return KERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (op->mech != SCRAM_SHA_256 && op->mech != SCRAM_SHA_512) {
        *msg = "Unknown SCRAM mechanism";
        return KERR_UNSUPPORTED_SASL_MECHANISM;
    }
    if (op->upsert && op->up->iterations < SCRAM_MIN_ITERATIONS) {
        *msg = "Too few iterations";
        return KERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (op->upsert && op->up->iterations > SCRAM_MAX_ITERATIONS) {
        *msg = "Too many iterations";
        return KERR_UNACCEPTABLE_CREDENTIAL;
    }
    return 0;
}

/* Apply every change of `user` (ops[0..n)) as one entity write: all or
 * none (S-ENT7). */
static void alter_user(kreq *rq, const scram_op *ops, int n, kstr user,
                       alter_user_scram_credentials_resp_results *res)
{
    broker *b = broker_of(rq);
    const char *msg = NULL;
    char buf[512];
    int16_t ec = 0;
    for (int i = 0; i < n && !ec; i++) {
        if (!ks_eq(ops[i].user, user))
            continue;
        ec = op_error(&ops[i], &msg);
        for (int j = 0; j < n && !ec; j++)
            if (j != i && ks_eq(ops[j].user, user) && ops[j].mech == ops[i].mech) {
                ec = KERR_DUPLICATE_RESOURCE;
                msg = "A user credential cannot be altered twice in the same request";
            }
    }
    ent_name name = { .has_user = true };
    char path[ENT_PATH_MAX];
    ent_snapshot *s = entities_get(b->ents);
    ent_kvs kv = { 0 };
    if (!ec) {
        memcpy(name.user, user.p, (size_t)user.len);
        if (ent_path_format(&name, path, sizeof path) < 0 ||
            ent_kvs_init(&kv, ent_find(s, &name)) < 0) {
            ec = KERR_UNKNOWN_SERVER_ERROR;
            msg = "Out of memory";
        }
    }
    for (int i = 0; i < n && !ec; i++) {
        if (!ks_eq(ops[i].user, user))
            continue;
        const char *key = scram_mech_name(ops[i].mech);
        if (!ops[i].upsert) {
            if (!ent_kvs_del(&kv, key)) {
                ec = KERR_RESOURCE_NOT_FOUND;
                msg = "Attempt to delete a user credential that does not exist";
            }
            continue;
        }
        const alter_user_scram_credentials_req_upsertions *up = ops[i].up;
        scram_cred c;
        char stored[1024];
        if (up->salt.len <= 0 || up->salted_password.len < 0 ||
            scram_cred_from_salted(ops[i].mech, up->salt.p, (size_t)up->salt.len,
                                   up->salted_password.p, (size_t)up->salted_password.len,
                                   up->iterations, &c) < 0) {
            ec = KERR_UNACCEPTABLE_CREDENTIAL;
            snprintf(buf, sizeof buf, "The salt (1 to %d bytes) or the salted password (%zu "
                     "bytes for %s) is malformed", SCRAM_MAX_SALT, scram_digest_len(ops[i].mech),
                     key);
            msg = buf;
        } else if (scram_cred_format(&c, stored, sizeof stored) < 0 ||
                   ent_kvs_set(&kv, key, stored) < 0) {
            ec = KERR_UNKNOWN_SERVER_ERROR;
            msg = "Out of memory";
        }
        OPENSSL_cleanse(&c, sizeof c);
        OPENSSL_cleanse(stored, sizeof stored);
    }
    /* The request's copy of the salted password is wiped too (S-ENT3). */
    for (int i = 0; i < n; i++)
        if (ks_eq(ops[i].user, user) && ops[i].upsert && ops[i].up->salted_password.len > 0)
            OPENSSL_cleanse((void *)ops[i].up->salted_password.p,
                            (size_t)ops[i].up->salted_password.len);
    if (!ec) {
        char err[512];
        if (entities_store(b, path, &kv, err, sizeof err) != MD_OK) {
            ec = KERR_UNKNOWN_SERVER_ERROR;
            snprintf(buf, sizeof buf, "%s", err);
            msg = buf;
        }
    }
    ent_kvs_free(&kv);
    ent_snapshot_unref(s);
    kcodec_defaults(&alter_user_scram_credentials_resp_results_schema, res);
    res->user = user;
    res->error_code = ec;
    if (ec)
        res->error_message = dupmsg(rq, msg);
}

static void alter_work(admin_job *job)
{
    kreq *rq = job->rq;
    alter_user_scram_credentials_req *req = rq->body;
    alter_user_scram_credentials_resp *r = job->arg;
    int n = req->deletions.n + req->upsertions.n;
    scram_op *ops = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *ops);
    kstr *users = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *users);
    if (!ops || !users)
        return;
    int k = 0, nu = 0;
    for (int32_t i = 0; i < req->deletions.n; i++)
        ops[k++] = (scram_op){ req->deletions.v[i].name, req->deletions.v[i].mechanism, false, NULL };
    for (int32_t i = 0; i < req->upsertions.n; i++)
        ops[k++] = (scram_op){ req->upsertions.v[i].name, req->upsertions.v[i].mechanism, true,
                               &req->upsertions.v[i] };
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < nu && !seen; j++)
            seen = ks_eq(users[j], ops[i].user);
        if (!seen)
            users[nu++] = ops[i].user;
    }
    alter_user_scram_credentials_resp_results *res = KARRAY_ALLOC(&rq->arena, &r->results, nu);
    for (int u = 0; res && u < nu; u++)
        alter_user(rq, ops, n, users[u], &res[u]);
}

static void respond_job(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_alter_user_scram_credentials(kreq *rq)
{
    alter_user_scram_credentials_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    /* docs/security.md, AlterUserScramCredentials: Cluster ALTER, else
     * every user CLUSTER_AUTHORIZATION_FAILED and nothing changed. */
    if (!authz_cluster(broker_of(rq), rq, ACL_OP_ALTER)) {
        alter_user_scram_credentials_req *req = rq->body;
        int32_t nd = req->deletions.n > 0 ? req->deletions.n : 0;
        int32_t nu = req->upsertions.n > 0 ? req->upsertions.n : 0;
        alter_user_scram_credentials_resp_results *rs =
            KARRAY_ALLOC(&rq->arena, &r->results, nd + nu);
        for (int32_t i = 0; rs && i < nd + nu; i++)
            rs[i] = (alter_user_scram_credentials_resp_results){
                .user = i < nd ? req->deletions.v[i].name : req->upsertions.v[i - nd].name,
                .error_code = KERR_CLUSTER_AUTHORIZATION_FAILED,
                .error_message = { NULL, -1 } };
        kreq_respond(rq, r);
        return;
    }
    admin_submit(broker_of(rq), rq, alter_work, respond_job, r);
}
