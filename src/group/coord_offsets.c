/*
 * coord_offsets.c - OffsetCommit, OffsetFetch (single and multi-group) and
 * OffsetDelete.
 *
 * Commits from group members are checked against the group (member,
 * generation, static instance); a commit with generation -1 and no member
 * id is a standalone commit (consumers that assign partitions themselves),
 * allowed while the group has no members, creating the group if needed.
 * Every request first checks that the group is ours (G10).  Each accepted
 * offset becomes one record in the group's partition of __consumer_offsets
 * (one batch per request); the in-memory map changes only once the append
 * succeeded, and the answer waits for an fsync when flush.messages asks for
 * one and, with followers in the ISR, for the high watermark (G13).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator_int.h"
#include "proto/codec.h"
#include "proto/messages/offset_commit.h"
#include "proto/messages/offset_delete.h"
#include "proto/messages/offset_fetch.h"

/* ------------------------------------------------------------ OffsetCommit */

int16_t coord_commit_prepare(coordinator *co, const char *group_id, commit_one *c, bb_record *rec)
{
    c->e = NULL;
    c->key = NULL;
    if (!c->t || !topic_partition(c->t, c->partition))
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (c->metadata.len > co->max_metadata_bytes)
        return KERR_OFFSET_METADATA_TOO_LARGE;
    char key[512];
    size_t kl = c->tname ? offset_key(key, sizeof key, c->tname, c->tlen, c->partition) : 0;
    offset_entry *e = kl ? calloc(1, sizeof *e) : NULL;
    if (!e || coord_entry_set_metadata(e, c->metadata) < 0)
        goto fail;
    e->offset = c->offset;
    e->leader_epoch = c->leader_epoch;
    e->commit_ts = c->commit_ts;
    e->expire_ts = c->expire_ts;
    e->append_offset = -1;
    if (!(c->key = malloc(kl)) || coord_offset_record(group_id, c->tname, c->partition, e, rec) < 0)
        goto fail;
    memcpy(c->key, key, kl);
    c->klen = kl;
    c->e = e;
    return KERR_NONE;
fail:
    offset_entry_free(e);
    free(c->key);
    c->key = NULL;
    return KERR_UNKNOWN_SERVER_ERROR;
}

typedef struct commit_item {
    offset_commit_resp_partitions *out;
    char *key;
    size_t klen;
    offset_entry *e;
} commit_item;

typedef struct commit_ctx {
    kreq *rq;
    offset_commit_resp *resp;
    char *group_id;
    commit_item *items;
    int n;
} commit_ctx;

/* TG2: each entry remembers where its batch went in the log. */
static void commit_appended(coordinator *co, void *arg, int64_t base)
{
    commit_ctx *cc = arg;
    (void)co;
    for (int i = 0; i < cc->n; i++)
        if (cc->items[i].e)
            cc->items[i].e->append_offset = base;
}

static void commit_ctx_free(commit_ctx *cc)
{
    for (int i = 0; i < cc->n; i++) {
        free(cc->items[i].key);
        offset_entry_free(cc->items[i].e);
    }
    free(cc->items);
    free(cc->group_id);
    free(cc);
}

/* The records are durable (as configured): publish the new offsets in
 * memory and answer.  Completions run in append order, so the map always
 * ends with the newest commit per partition. */
static void commit_done(coordinator *co, void *arg, int16_t err)
{
    commit_ctx *cc = arg;
    int16_t code = coord_map_store_error(err, true);
    group *g = err ? NULL : coord_group(co, cc->group_id);
    for (int i = 0; i < cc->n; i++) {
        commit_item *it = &cc->items[i];
        it->out->error_code = code;
        if (g && it->key) {
            coord_offset_apply(g, it->key, it->klen, it->e);    /* TG2 */
            it->e = NULL;
        }
    }
    coord_respond(cc->rq, cc->resp);
    commit_ctx_free(cc);
}

static int16_t validate_commit(coordinator *co, group **gp, const offset_commit_req *req, int ver)
{
    char *gid = coord_strdup_k(req->group_id);
    group *g = gid ? coord_group(co, gid) : NULL;
    int16_t err = KERR_NONE;
    int32_t gen = ver >= 1 ? req->generation_id_or_member_epoch : -1;
    bool standalone = gen < 0 && req->member_id.len <= 0 && req->group_instance_id.len < 0;
    if (!gid || !gid[0]) {
        err = KERR_INVALID_GROUP_ID;
        goto out;
    }
    if ((err = coord_check_owner(co, gid)))
        goto out;
    if (!g) {
        if (!standalone) {
            err = KERR_ILLEGAL_GENERATION;
            goto out;
        }
        if (!(g = coord_group_create(co, gid)))
            err = KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    if (g->state == GROUP_DEAD) {
        err = KERR_COORDINATOR_NOT_AVAILABLE;
        goto out;
    }
    if (standalone && g->state == GROUP_EMPTY)
        goto out;
    member *m;
    err = coord_check_member(g, req->member_id, req->group_instance_id, gen, &m);
    if (!err && g->state == GROUP_COMPLETING_REBALANCE)
        err = KERR_REBALANCE_IN_PROGRESS;
    if (!err)
        coord_schedule_session(co, m);
out:
    free(gid);
    *gp = g;
    return err;
}

void coord_offset_commit(coordinator *co, kreq *rq)
{
    offset_commit_req *req = rq->body;
    offset_commit_resp *r = kreq_new_response(rq);
    int ver = rq->hdr.api_version;
    int total = 0;
    offset_commit_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        ts[i].name = req->topics.v[i].name;
        offset_commit_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, req->topics.v[i].partitions.n);
        for (int32_t j = 0; ps && j < req->topics.v[i].partitions.n; j++)
            ps[j].partition_index = req->topics.v[i].partitions.v[j].partition_index;
        total += req->topics.v[i].partitions.n;
    }
    group *g = NULL;
    int16_t err = co->offsets ? validate_commit(co, &g, req, ver) : KERR_COORDINATOR_NOT_AVAILABLE;
    if (err) {
        for (int32_t i = 0; ts && i < r->topics.n; i++)
            for (int32_t j = 0; j < ts[i].partitions.n; j++)
                ts[i].partitions.v[j].error_code = err;
        coord_respond(rq, r);
        return;
    }
    commit_ctx *cc = calloc(1, sizeof *cc);
    bb_record *recs = calloc((size_t)total + 1, sizeof *recs);
    if (cc)
        cc->items = calloc((size_t)total + 1, sizeof *cc->items);
    if (!cc || !recs || !cc->items || !(cc->group_id = strdup(g->id))) {
        if (cc)
            commit_ctx_free(cc);
        free(recs);
        coord_respond(rq, NULL);          /* closes the connection */
        return;
    }
    cc->rq = rq;
    cc->resp = r;
    int64_t now = coord_now_ms();
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        offset_commit_req_topics *qt = &req->topics.v[i];
        topic *t = topic_registry_get(co->ctx.topics, qt->name.p ? qt->name.p : "", (size_t)(qt->name.len > 0 ? qt->name.len : 0));
        char *tname = coord_strdup_k(qt->name);
        /* docs/security.md, OffsetCommit: Topic READ per topic. */
        bool readable = coord_authorized(co, rq, ACL_OP_READ, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; j < qt->partitions.n; j++) {
            offset_commit_req_partitions *qp = &qt->partitions.v[j];
            offset_commit_resp_partitions *rp = &ts[i].partitions.v[j];
            if (!readable) {
                rp->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            int64_t cts = ver == 1 && qp->commit_timestamp >= 0 ? qp->commit_timestamp : now;
            int64_t ets = ver >= 2 && ver <= 4 && req->retention_time_ms > 0 ? cts + req->retention_time_ms : -1;
            commit_item *it = &cc->items[cc->n];
            commit_one one = { .t = t, .tname = tname, .tlen = qt->name.len, .partition = qp->partition_index,
                               .offset = qp->committed_offset, .leader_epoch = qp->committed_leader_epoch,
                               .metadata = qp->committed_metadata, .commit_ts = cts, .expire_ts = ets };
            if ((rp->error_code = coord_commit_prepare(co, g->id, &one, &recs[cc->n])))
                continue;
            it->out = rp;
            it->key = one.key;
            it->klen = one.klen;
            it->e = one.e;
            cc->n++;
        }
        free(tname);
        if (t)
            topic_unref(t);
    }
    if (cc->n == 0) {
        free(recs);
        coord_respond(rq, r);
        commit_ctx_free(cc);
        return;
    }
    int nrec = cc->n;
    persist_opts o = { .producer_id = -1, .appended = commit_appended };
    int16_t serr = coord_persist_ex(co, g->partition, recs, nrec, &o, commit_done, cc);
    for (int i = 0; i < nrec; i++)
        coord_record_free(&recs[i]);
    free(recs);
    if (serr)
        commit_done(co, cc, serr);
}

/* ------------------------------------------------------------- OffsetFetch */

/* The committed offset of (tname, part) in g, never a pending
 * transactional one (TG1).  Returns the partition's error: with
 * require_stable (v7+), UNSTABLE_OFFSET_COMMIT and no offset while some
 * producer has a pending offset for it (TG6, Kafka 4's OffsetFetch). */
static int16_t fill_partition(group *g, const char *tname, int32_t tlen, int32_t part, int64_t *off,
                              int32_t *epoch, kstr *meta, bool stable)
{
    *off = -1;
    *epoch = -1;
    *meta = kstr_c("");
    if (!g)
        return KERR_NONE;
    char key[512];
    size_t kl = offset_key(key, sizeof key, tname, tlen, part);
    if (kl && stable && g->txn.count > 0 && group_txn_pending_for(g, key, kl))
        return KERR_UNSTABLE_OFFSET_COMMIT;
    offset_entry *e = kl ? strmap_get(&g->offsets, key, kl) : NULL;
    if (!e)
        return KERR_NONE;
    *off = e->offset;
    *epoch = e->leader_epoch;
    *meta = coord_entry_metadata(e);
    return KERR_NONE;
}

/* Every (topic, partition) committed by g, grouped by topic. */
typedef struct topic_list {
    char **names;
    int32_t **parts;
    int *nparts;
    int n;
} topic_list;

static void collect_all(group *g, topic_list *tl)
{
    memset(tl, 0, sizeof *tl);
    if (!g)
        return;
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&g->offsets, &it, &k, &kl, &v)) {
        int32_t part = (int32_t)be32_load(k + strlen(k) + 1);
        int ti = -1;
        for (int i = 0; i < tl->n; i++)
            if (!strcmp(tl->names[i], k)) {
                ti = i;
                break;
            }
        if (ti < 0) {
            tl->names = realloc(tl->names, (size_t)(tl->n + 1) * sizeof *tl->names);
            tl->parts = realloc(tl->parts, (size_t)(tl->n + 1) * sizeof *tl->parts);
            tl->nparts = realloc(tl->nparts, (size_t)(tl->n + 1) * sizeof *tl->nparts);
            if (!tl->names || !tl->parts || !tl->nparts)
                return;
            ti = tl->n++;
            tl->names[ti] = strdup(k);
            tl->parts[ti] = NULL;
            tl->nparts[ti] = 0;
        }
        int32_t *np = realloc(tl->parts[ti], (size_t)(tl->nparts[ti] + 1) * sizeof *np);
        if (!np)
            return;
        tl->parts[ti] = np;
        np[tl->nparts[ti]++] = part;
    }
}

static void topic_list_free(topic_list *tl)
{
    for (int i = 0; i < tl->n; i++) {
        free(tl->names[i]);
        free(tl->parts[i]);
    }
    free(tl->names);
    free(tl->parts);
    free(tl->nparts);
}

/* docs/security.md, OffsetFetch: topics the principal may not DESCRIBE
 * are left out of an "all topics" answer. */
static void topic_list_authorized(coordinator *co, const kreq *rq, topic_list *tl)
{
    int k = 0;
    for (int i = 0; i < tl->n; i++) {
        if (!coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, kstr_c(tl->names[i]))) {
            free(tl->names[i]);
            free(tl->parts[i]);
            continue;
        }
        tl->names[k] = tl->names[i];
        tl->parts[k] = tl->parts[i];
        tl->nparts[k] = tl->nparts[i];
        k++;
    }
    tl->n = k;
}

static group *lookup_group(coordinator *co, kstr id)
{
    char *gid = coord_strdup_k(id);
    group *g = gid ? coord_group(co, gid) : NULL;
    free(gid);
    return g;
}

static void fetch_v0_7(coordinator *co, kreq *rq, offset_fetch_req *req, offset_fetch_resp *r)
{
    /* G10; as Kafka, v2+ carries the error once, v0-1 in every partition
     * asked for. */
    /* docs/security.md, OffsetFetch: Group DESCRIBE first. */
    int16_t err = !coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_GROUP, req->group_id)
                      ? KERR_GROUP_AUTHORIZATION_FAILED
                      : coord_check_owner_k(co, req->group_id);
    if (err && rq->hdr.api_version >= 2) {
        r->error_code = err;
        return;
    }
    group *g = err ? NULL : lookup_group(co, req->group_id);
    if (req->topics.n < 0) {
        topic_list tl;
        collect_all(g, &tl);
        topic_list_authorized(co, rq, &tl);
        offset_fetch_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, tl.n);
        for (int i = 0; ts && i < tl.n; i++) {
            ts[i].name = kstr_c(arena_strndup(&rq->arena, tl.names[i], strlen(tl.names[i])));
            offset_fetch_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &ts[i].partitions, tl.nparts[i]);
            for (int j = 0; ps && j < tl.nparts[i]; j++) {
                ps[j].partition_index = tl.parts[i][j];
                ps[j].error_code = fill_partition(g, tl.names[i], (int32_t)strlen(tl.names[i]), tl.parts[i][j],
                                                  &ps[j].committed_offset, &ps[j].committed_leader_epoch,
                                                  &ps[j].metadata, req->require_stable);
            }
        }
        topic_list_free(&tl);
        return;
    }
    offset_fetch_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        offset_fetch_req_topics *qt = &req->topics.v[i];
        ts[i].name = qt->name;
        offset_fetch_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partition_indexes.n);
        char *tn = coord_strdup_k(qt->name);
        bool described = coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; ps && tn && j < qt->partition_indexes.n; j++) {
            ps[j].partition_index = qt->partition_indexes.v[j];
            ps[j].error_code = err;
            if (!described) {
                ps[j].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                ps[j].committed_offset = -1;
                continue;
            }
            int16_t perr = fill_partition(g, tn, qt->name.len, ps[j].partition_index, &ps[j].committed_offset,
                                          &ps[j].committed_leader_epoch, &ps[j].metadata, req->require_stable);
            if (perr)
                ps[j].error_code = perr;
        }
        free(tn);
    }
}

static void fetch_v8(coordinator *co, kreq *rq, offset_fetch_req *req, offset_fetch_resp *r)
{
    offset_fetch_resp_groups *gs = KARRAY_ALLOC(&rq->arena, &r->groups, req->groups.n);
    for (int32_t gi = 0; gs && gi < req->groups.n; gi++) {
        offset_fetch_req_groups *qg = &req->groups.v[gi];
        offset_fetch_resp_groups *rg = &gs[gi];
        rg->group_id = qg->group_id;
        if (!coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_GROUP, qg->group_id)) {
            rg->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        if ((rg->error_code = coord_check_owner_k(co, qg->group_id)))    /* G10 */
            continue;
        group *g = lookup_group(co, qg->group_id);
        if (qg->topics.n < 0) {
            topic_list tl;
            collect_all(g, &tl);
            topic_list_authorized(co, rq, &tl);
            offset_fetch_resp_groups_topics *ts = KARRAY_ALLOC(&rq->arena, &rg->topics, tl.n);
            for (int i = 0; ts && i < tl.n; i++) {
                ts[i].name = kstr_c(arena_strndup(&rq->arena, tl.names[i], strlen(tl.names[i])));
                offset_fetch_resp_groups_topics_partitions *ps =
                    KARRAY_ALLOC(&rq->arena, &ts[i].partitions, tl.nparts[i]);
                for (int j = 0; ps && j < tl.nparts[i]; j++) {
                    ps[j].partition_index = tl.parts[i][j];
                    ps[j].error_code = fill_partition(g, tl.names[i], (int32_t)strlen(tl.names[i]),
                                                      tl.parts[i][j], &ps[j].committed_offset,
                                                      &ps[j].committed_leader_epoch, &ps[j].metadata,
                                                      req->require_stable);
                }
            }
            topic_list_free(&tl);
            continue;
        }
        offset_fetch_resp_groups_topics *ts = KARRAY_ALLOC(&rq->arena, &rg->topics, qg->topics.n);
        for (int32_t i = 0; ts && i < qg->topics.n; i++) {
            offset_fetch_req_groups_topics *qt = &qg->topics.v[i];
            ts[i].name = qt->name;
            offset_fetch_resp_groups_topics_partitions *ps =
                KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partition_indexes.n);
            char *tn = coord_strdup_k(qt->name);
            bool described = coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, qt->name);
            for (int32_t j = 0; ps && tn && j < qt->partition_indexes.n; j++) {
                ps[j].partition_index = qt->partition_indexes.v[j];
                if (!described) {
                    ps[j].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                    ps[j].committed_offset = -1;
                    continue;
                }
                ps[j].error_code = fill_partition(g, tn, qt->name.len, ps[j].partition_index,
                                                  &ps[j].committed_offset, &ps[j].committed_leader_epoch,
                                                  &ps[j].metadata, req->require_stable);
            }
            free(tn);
        }
    }
}

void coord_offset_fetch(coordinator *co, kreq *rq)
{
    offset_fetch_req *req = rq->body;
    offset_fetch_resp *r = kreq_new_response(rq);
    if (rq->hdr.api_version >= 8)
        fetch_v8(co, rq, req, r);
    else
        fetch_v0_7(co, rq, req, r);
    coord_respond(rq, r);
}

/* ------------------------------------------------------------ OffsetDelete */

/* Topics the group's members subscribe to, from their consumer protocol
 * metadata (ConsumerProtocolSubscription: INT16 version, ARRAY of STRING
 * topics, ...).  Unreadable metadata counts as subscribing to nothing. */
static bool subscribed(const group *g, const char *tname)
{
    if (!g->protocol_type || strcmp(g->protocol_type, "consumer") || !g->protocol)
        return false;
    size_t tl = strlen(tname);
    for (int i = 0; i < g->nmembers; i++) {
        const group_protocol *pr = member_protocol(g->members[i], g->protocol);
        if (!pr || pr->meta_len < 6)
            continue;
        kreader r;
        kr_init(&r, pr->meta, (size_t)pr->meta_len);
        kr_i16(&r);
        int32_t n = kr_i32(&r);
        for (int32_t k = 0; k < n && !r.err; k++) {
            int16_t len = kr_i16(&r);
            const uint8_t *p = len >= 0 ? kr_bytes(&r, (size_t)len) : NULL;
            if (p && (size_t)len == tl && !memcmp(p, tname, tl))
                return true;
        }
    }
    return false;
}

void coord_offset_delete(coordinator *co, kreq *rq)
{
    offset_delete_req *req = rq->body;
    offset_delete_resp *r = kreq_new_response(rq);
    /* docs/security.md, OffsetDelete: Group DELETE, then Topic READ. */
    if (!coord_authorized(co, rq, ACL_OP_DELETE, ACL_RT_GROUP, req->group_id)) {
        r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
        coord_respond(rq, r);
        return;
    }
    if ((r->error_code = coord_check_owner_k(co, req->group_id))) {    /* G10 */
        coord_respond(rq, r);
        return;
    }
    group *g = lookup_group(co, req->group_id);
    if (!g || g->state == GROUP_DEAD) {
        r->error_code = KERR_GROUP_ID_NOT_FOUND;
        coord_respond(rq, r);
        return;
    }
    if (g->state != GROUP_EMPTY && (!g->protocol_type || strcmp(g->protocol_type, "consumer"))) {
        r->error_code = KERR_NON_EMPTY_GROUP;
        coord_respond(rq, r);
        return;
    }
    int total = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        total += req->topics.v[i].partitions.n;
    bb_record *recs = calloc((size_t)total + 1, sizeof *recs);
    char **keys = calloc((size_t)total + 1, sizeof *keys);
    size_t *klens = calloc((size_t)total + 1, sizeof *klens);
    int n = 0;
    offset_delete_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && recs && keys && klens && i < req->topics.n; i++) {
        offset_delete_req_topics *qt = &req->topics.v[i];
        ts[i].name = qt->name;
        offset_delete_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partitions.n);
        char *tn = coord_strdup_k(qt->name);
        bool sub = tn && g->state != GROUP_EMPTY && subscribed(g, tn);
        bool readable = coord_authorized(co, rq, ACL_OP_READ, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; ps && tn && j < qt->partitions.n; j++) {
            ps[j].partition_index = qt->partitions.v[j].partition_index;
            if (!readable) {
                ps[j].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            if (sub) {
                ps[j].error_code = KERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            char key[512];
            size_t kl = offset_key(key, sizeof key, tn, qt->name.len, ps[j].partition_index);
            if (!kl || !strmap_get(&g->offsets, key, kl))
                continue;            /* nothing to delete: fine */
            if (coord_offset_record(g->id, tn, ps[j].partition_index, NULL, &recs[n]) < 0) {
                ps[j].error_code = KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            keys[n] = malloc(kl);
            if (keys[n])
                memcpy(keys[n], key, kl);
            klens[n] = kl;
            n++;
        }
        free(tn);
    }
    if (n > 0) {
        int16_t err = coord_persist(co, g->partition, recs, n, NULL, NULL);
        if (err)
            r->error_code = coord_map_store_error(err, true);
        else
            for (int i = 0; i < n; i++)
                if (keys[i]) {
                    offset_entry_free(strmap_del(&g->offsets, keys[i], klens[i]));
                    /* TG5: as a reload reads the tombstone (Kafka's replay) */
                    coord_txn_drop_key(co, g, keys[i], klens[i]);
                }
    }
    for (int i = 0; i < n; i++) {
        coord_record_free(&recs[i]);
        free(keys[i]);
    }
    free(recs);
    free(keys);
    free(klens);
    coord_respond(rq, r);
}
