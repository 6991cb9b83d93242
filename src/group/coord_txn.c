/*
 * coord_txn.c - transactional offset commits: TxnOffsetCommit (KIP-98,
 * with KIP-447's member checks), the pending offsets of each producer,
 * and their completion by transaction markers (coordinator_txn_complete).
 *
 * Model (Kafka's GroupMetadata pendingTransactionalOffsetCommits): a
 * TxnOffsetCommit writes its offsets to the group's __consumer_offsets
 * partition as one transactional batch carrying the producer's id and
 * epoch.  Those offsets are *pending* for (group, producer id): OffsetFetch
 * does not return them, and with require_stable it answers
 * UNSTABLE_OFFSET_COMMIT for their partitions.  When the transaction
 * coordinator's marker for that producer is written on the partition
 * (WriteTxnMarkers, acks=all), a commit makes them the group's committed
 * offsets, an abort drops them.  Loading replays the same rules from the
 * log (coord_load.c).  The rules, TG1-TG7, are in docs/groups.md
 * ("Transactional offsets") and docs/transactions.md.
 *
 * Index: co->txn_groups holds exactly the groups with pending offsets of
 * some producer (id -> group*), so a marker visits only those (TG4).
 *
 * KIP-890 part 1 (Kafka's GroupCoordinatorService with
 * transaction.partition.verification.enable): when the producer has no
 * transaction open on the group's offsets partition, the log records a
 * verification guard (producer_state.h TV1), the transaction coordinator
 * is asked through rpc/txn_verify.h whether the partition was added
 * (AddOffsetsToTxn) and the request is run again with the answer: not in
 * the transaction INVALID_TXN_STATE (v4: TRANSACTION_ABORTABLE), other
 * answers as the group APIs map append errors; the append presents the
 * guard, so a marker written meanwhile fails it (TV2).
 *
 * Thread: the coordinator thread, except coordinator_txn_complete, which
 * only posts to it.  Pending entries are owned by their txn_pending.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator_int.h"
#include "proto/codec.h"
#include "config/config.h"
#include "proto/messages/txn_offset_commit.h"
#include "rpc/txn_verify.h"
#include "storage/partition_log.h"

/* ----------------------------------------------------- pending offsets */

static void pid_key(char out[8], int64_t pid)
{
    be64_store(out, (uint64_t)pid);
}

static txn_pending *pending_of(group *g, int64_t pid, bool create)
{
    char k[8];
    pid_key(k, pid);
    txn_pending *tp = strmap_get(&g->txn, k, sizeof k);
    if (tp || !create)
        return tp;
    if (!(tp = calloc(1, sizeof *tp)))
        return NULL;
    tp->producer_id = pid;
    strmap_init(&tp->offsets);
    int err = 0;
    strmap_put(&g->txn, k, sizeof k, tp, &err);
    if (err) {
        txn_pending_free(tp);
        return NULL;
    }
    return tp;
}

/* TG4: co->txn_groups lists g exactly while g has pending offsets. */
static void index_update(coordinator *co, group *g)
{
    if (g->txn.count > 0) {
        int err = 0;
        strmap_put(&co->txn_groups, g->id, strlen(g->id), g, &err);
        if (err)
            LOG_ERR("group", "group %s: out of memory indexing its open transactions", g->id);
    } else {
        strmap_del(&co->txn_groups, g->id, strlen(g->id));
    }
}

static void drop_producer(coordinator *co, group *g, txn_pending *tp)
{
    char k[8];
    pid_key(k, tp->producer_id);
    strmap_del(&g->txn, k, sizeof k);
    txn_pending_free(tp);
    index_update(co, g);
}

int coord_txn_add(coordinator *co, group *g, int64_t pid, const char *key, size_t klen, offset_entry *e)
{
    txn_pending *tp = pending_of(g, pid, true);
    int err = 0;
    if (tp)
        offset_entry_free(strmap_put(&tp->offsets, key, klen, e, &err));
    if (!tp || err) {
        offset_entry_free(e);
        if (tp && tp->offsets.count == 0)
            drop_producer(co, g, tp);
        return -1;
    }
    index_update(co, g);
    return 0;
}

void coord_txn_remove(coordinator *co, group *g, int64_t pid, const char *key, size_t klen,
                      int64_t append_offset)
{
    txn_pending *tp = pending_of(g, pid, false);
    offset_entry *e = tp ? strmap_get(&tp->offsets, key, klen) : NULL;
    if (!e || (append_offset >= 0 && e->append_offset != append_offset))
        return;
    offset_entry_free(strmap_del(&tp->offsets, key, klen));
    if (tp->offsets.count == 0)
        drop_producer(co, g, tp);
}

void coord_txn_drop_key(coordinator *co, group *g, const char *key, size_t klen)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&g->txn, &it, NULL, NULL, &v))
        offset_entry_free(strmap_del(&((txn_pending *)v)->offsets, key, klen));
    /* Producers left with nothing pending go (not while iterating). */
    for (bool again = true; again;) {
        again = false;
        it = 0;
        while (strmap_next(&g->txn, &it, NULL, NULL, &v))
            if (((txn_pending *)v)->offsets.count == 0) {
                drop_producer(co, g, v);
                again = true;
                break;
            }
    }
}

/* TG2: a pending offset becomes the committed one only if it was written
 * after the committed one (Kafka orders them by append offset): a plain
 * commit appended between the transaction's offsets and its marker wins. */
void coord_offset_apply(group *g, const char *key, size_t klen, offset_entry *e)
{
    offset_entry *cur = strmap_get(&g->offsets, key, klen);
    if (cur && e->append_offset >= 0 && cur->append_offset > e->append_offset) {
        offset_entry_free(e);
        return;
    }
    int err = 0;
    offset_entry_free(strmap_put(&g->offsets, key, klen, e, &err));
    if (err) {
        LOG_ERR("group", "group %s: out of memory storing a committed offset", g->id);
        offset_entry_free(e);
    }
}

/* Complete producer pid's pending offsets in g (commit: apply, TG2). */
static int complete_group(coordinator *co, group *g, int64_t pid, bool commit)
{
    txn_pending *tp = pending_of(g, pid, false);
    if (!tp)
        return 0;
    int n = 0;
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&tp->offsets, &it, &k, &kl, &v)) {
        if (commit)
            coord_offset_apply(g, k, kl, v);
        else
            offset_entry_free(v);
        n++;
    }
    strmap_free(&tp->offsets);
    strmap_init(&tp->offsets);
    drop_producer(co, g, tp);
    return n;
}

int coord_txn_complete_partition(coordinator *co, int32_t part, int64_t pid, bool commit)
{
    group *hit[32];
    int nhit = 0, total = 0;
    bool more = true;
    while (more) {
        /* complete_group edits the index: collect, then complete. */
        more = false;
        nhit = 0;
        size_t it = 0;
        void *v;
        while (strmap_next(&co->txn_groups, &it, NULL, NULL, &v)) {
            group *g = v;
            if (g->partition != part || !pending_of(g, pid, false))
                continue;
            if (nhit == 32) {
                more = true;
                break;
            }
            hit[nhit++] = g;
        }
        for (int i = 0; i < nhit; i++)
            total += complete_group(co, hit[i], pid, commit);
    }
    return total;
}

/* ------------------------------------------------ coordinator_txn_complete */

typedef struct complete_msg {
    coordinator *co;
    int32_t part;
    int64_t pid;
    bool commit;
} complete_msg;

static void complete_on_loop(loop *lp, void *arg)
{
    complete_msg *m = arg;
    coordinator *co = m->co;
    (void)lp;
    /* TG4: only what this coordinator serves.  While the partition loads,
     * the marker (written past the end the load reads to) waits for the
     * load to have read every offset it may complete. */
    coord_part *cp = co->parts && m->part >= 0 && m->part < co->nparts ? &co->parts[m->part] : NULL;
    if (cp && cp->state == CPART_LOADING) {
        if (cp->nmarkers == cp->capmarkers) {
            int cap = cp->capmarkers ? cp->capmarkers * 2 : 8;
            txn_marker *nm = realloc(cp->markers, (size_t)cap * sizeof *nm);
            if (!nm) {
                LOG_ERR("group", "%s-%d: out of memory keeping producer %lld's marker for after the load",
                        OFFSETS_TOPIC, m->part, (long long)m->pid);
                free(m);
                return;
            }
            cp->markers = nm;
            cp->capmarkers = cap;
        }
        cp->markers[cp->nmarkers++] = (txn_marker){ m->pid, m->commit };
    } else if (coord_owns_partition(co, m->part)) {
        int n = coord_txn_complete_partition(co, m->part, m->pid, m->commit);
        if (n > 0)
            LOG_DBG("group", "%s-%d: producer %lld's %d pending offset(s) %s", OFFSETS_TOPIC, m->part,
                    (long long)m->pid, n, m->commit ? "committed" : "aborted");
    }
    free(m);
}

void coord_txn_flush_markers(coordinator *co, int32_t part, bool apply)
{
    coord_part *cp = &co->parts[part];
    for (int i = 0; apply && i < cp->nmarkers; i++)
        coord_txn_complete_partition(co, part, cp->markers[i].producer_id, cp->markers[i].commit);
    free(cp->markers);
    cp->markers = NULL;
    cp->nmarkers = cp->capmarkers = 0;
}

void coordinator_txn_complete(coordinator *co, int32_t part, int64_t producer_id, bool commit)
{
    complete_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (!m) {
        if (co)
            LOG_ERR("group", "%s-%d: cannot hand producer %lld's marker to the coordinator", OFFSETS_TOPIC,
                    part, (long long)producer_id);
        return;
    }
    *m = (complete_msg){ co, part, producer_id, commit };
    if (loop_post(co->lp, complete_on_loop, m) < 0) {
        LOG_ERR("group", "%s-%d: cannot hand producer %lld's marker to the coordinator", OFFSETS_TOPIC, part,
                (long long)producer_id);
        free(m);
    }
}

/* ------------------------------------------------------- TxnOffsetCommit */

typedef struct txn_item {
    txn_offset_commit_resp_partitions *out;
    char *key;
    size_t klen;
    offset_entry *e;               /* until appended: then owned by the pending map */
} txn_item;

typedef struct txn_ctx {
    kreq *rq;
    txn_offset_commit_resp *resp;
    char *group_id;
    int64_t pid;
    int64_t base;                  /* append offset of the batch; -1 not appended */
    txn_item *items;
    int n;
} txn_ctx;

static void txn_ctx_free(txn_ctx *tc)
{
    for (int i = 0; i < tc->n; i++) {
        free(tc->items[i].key);
        offset_entry_free(tc->items[i].e);
    }
    free(tc->items);
    free(tc->group_id);
    free(tc);
}

/* TG3: the batch is in the log: its offsets are pending from now on,
 * before the acks, so a marker can never find them missing. */
static void txn_appended(coordinator *co, void *arg, int64_t base)
{
    txn_ctx *tc = arg;
    tc->base = base;
    group *g = coord_group(co, tc->group_id);
    for (int i = 0; i < tc->n; i++) {
        txn_item *it = &tc->items[i];
        offset_entry *e = it->e;
        it->e = NULL;
        e->append_offset = base;
        if (!g || coord_txn_add(co, g, tc->pid, it->key, it->klen, e) < 0)
            LOG_ERR("group", "group %s: cannot keep producer %lld's pending offset", tc->group_id,
                    (long long)tc->pid);
    }
}

static void txn_done(coordinator *co, void *arg, int16_t err)
{
    txn_ctx *tc = arg;
    int16_t code = coord_map_store_error(err, true);
    group *g = coord_group(co, tc->group_id);
    for (int i = 0; i < tc->n; i++) {
        txn_item *it = &tc->items[i];
        it->out->error_code = code;
        /* Kafka's failPendingTxnOffsetCommit: a write that failed leaves
         * nothing pending (only this batch's entry, TG3). */
        if (err && g && tc->base >= 0)
            coord_txn_remove(co, g, tc->pid, it->key, it->klen, tc->base);
    }
    coord_respond(tc->rq, tc->resp);
    txn_ctx_free(tc);
}

/* TG7: Kafka's ClassicGroup.validateOffsetCommit for a transactional
 * commit: generation -1 on an Empty group (or a missing one, created
 * empty) is a standalone commit; a member id, instance id or generation
 * given is checked (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 * ILLEGAL_GENERATION); a request from before KIP-447 (no member, no
 * generation) passes in any state, and no state refuses it for a
 * rebalance. */
static int16_t validate_txn_commit(coordinator *co, group **gp, const txn_offset_commit_req *req)
{
    char *gid = coord_strdup_k(req->group_id);
    group *g = gid ? coord_group(co, gid) : NULL;
    int16_t err = KERR_NONE;
    int32_t gen = req->generation_id;
    bool identified = gen >= 0 || req->member_id.len > 0 || req->group_instance_id.len >= 0;
    if (!gid || !gid[0]) {
        err = gid ? KERR_INVALID_GROUP_ID : KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    if ((err = coord_check_owner(co, gid)))          /* G10 */
        goto out;
    if (!g) {
        if (gen >= 0) {
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
    if (gen < 0 && g->state == GROUP_EMPTY)
        goto out;
    if (identified) {
        member *m;
        err = coord_check_member(g, req->member_id, req->group_instance_id, gen, &m);
    }
out:
    free(gid);
    *gp = g;
    return err;
}

/* What the verification (KIP-890) found, kept in the request's arena while
 * the request waits for the transaction coordinator. */
typedef struct txn_verified {
    coordinator *co;
    kreq *rq;
    bool asked;                    /* the answer is in */
    int16_t error;
    uint64_t guard;                /* TV1 (0: the transaction was open already) */
} txn_verified;

static void txn_commit_run(coordinator *co, kreq *rq, txn_verified *tv);

static void txn_verify_answer(void *arg, const int16_t *errors, int n)
{
    txn_verified *tv = arg;
    tv->asked = true;
    tv->error = n > 0 ? errors[0] : KERR_UNKNOWN_SERVER_ERROR;
    txn_commit_run(tv->co, tv->rq, tv);
}

/* TV1: start the verification of the group's offsets partition when the
 * producer has no transaction open there; true when the request now waits
 * for the answer (txn_verify_answer runs it again). */
static bool txn_verify_start(coordinator *co, kreq *rq, const group *g, txn_verified **tvp)
{
    txn_offset_commit_req *req = rq->body;
    txn_verifier *v = co->ctx.verifier ? co->ctx.verifier(co->ctx.config_arg) : NULL;
    const struct broker_config *cfg = co->ctx.config ? co->ctx.config(co->ctx.config_arg) : NULL;
    partition *p = co->offsets ? topic_partition(co->offsets, g->partition) : NULL;
    if (!v || !cfg || !cfg->transaction_partition_verification_enable || !p || !p->log)
        return false;
    txn_verified *tv = arena_alloc(&rq->arena, sizeof *tv);
    if (!tv)
        return false;
    *tv = (txn_verified){ .co = co, .rq = rq };
    *tvp = tv;
    tv->guard = plog_txn_verify_start(p->log, req->producer_id, req->producer_epoch, coord_now_ms());
    if (!tv->guard) {
        tv->asked = true;              /* open already: the append needs no guard */
        return false;
    }
    txn_verify_tp tp = { OFFSETS_TOPIC, strlen(OFFSETS_TOPIC), g->partition };
    if (txn_verify_submit(v, co->lp, req->transactional_id.p, (size_t)(req->transactional_id.len > 0
                                                                           ? req->transactional_id.len : 0),
                          req->producer_id, req->producer_epoch, rq->hdr.api_version >= 4, &tp, 1,
                          txn_verify_answer, tv) < 0) {
        tv->asked = true;
        tv->error = KERR_NETWORK_EXCEPTION;
        return false;
    }
    return true;
}

void coord_txn_offset_commit(coordinator *co, kreq *rq)
{
    txn_commit_run(co, rq, NULL);
}

static void txn_commit_run(coordinator *co, kreq *rq, txn_verified *tv)
{
    txn_offset_commit_req *req = rq->body;
    txn_offset_commit_resp *r = kreq_new_response(rq);
    int total = 0;
    txn_offset_commit_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        ts[i].name = req->topics.v[i].name;
        txn_offset_commit_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, req->topics.v[i].partitions.n);
        for (int32_t j = 0; ps && j < req->topics.v[i].partitions.n; j++)
            ps[j].partition_index = req->topics.v[i].partitions.v[j].partition_index;
        total += req->topics.v[i].partitions.n;
    }
    if (req->topics.n > 0 && !ts) {
        coord_respond(rq, NULL);          /* out of memory: closes the connection */
        return;
    }
    group *g = NULL;
    /* docs/security.md, TxnOffsetCommit: TransactionalId WRITE, Group READ
     * (every partition), then Topic READ per topic. */
    int16_t err = !coord_authorized(co, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID,
                                    req->transactional_id)
                      ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                  : !coord_authorized(co, rq, ACL_OP_READ, ACL_RT_GROUP, req->group_id)
                      ? KERR_GROUP_AUTHORIZATION_FAILED
                  : co->offsets ? validate_txn_commit(co, &g, req) : KERR_COORDINATOR_NOT_AVAILABLE;
    if (!err && req->producer_id < 0)
        err = KERR_INVALID_PRODUCER_ID_MAPPING;
    if (!err && !tv && txn_verify_start(co, rq, g, &tv))
        return;                            /* continues in txn_verify_answer */
    if (!err && tv && tv->error)
        err = coord_map_store_error(tv->error, true);
    if (err) {
        for (int32_t i = 0; i < r->topics.n; i++)
            for (int32_t j = 0; j < ts[i].partitions.n; j++)
                ts[i].partitions.v[j].error_code = err;
        coord_respond(rq, r);
        return;
    }
    txn_ctx *tc = calloc(1, sizeof *tc);
    bb_record *recs = calloc((size_t)total + 1, sizeof *recs);
    if (tc)
        tc->items = calloc((size_t)total + 1, sizeof *tc->items);
    if (!tc || !recs || !tc->items || !(tc->group_id = strdup(g->id))) {
        if (tc)
            txn_ctx_free(tc);
        free(recs);
        coord_respond(rq, NULL);
        return;
    }
    tc->rq = rq;
    tc->resp = r;
    tc->pid = req->producer_id;
    tc->base = -1;
    int64_t now = coord_now_ms();
    for (int32_t i = 0; i < req->topics.n; i++) {
        txn_offset_commit_req_topics *qt = &req->topics.v[i];
        topic *t = topic_registry_get(co->ctx.topics, qt->name.p ? qt->name.p : "",
                                      (size_t)(qt->name.len > 0 ? qt->name.len : 0));
        char *tname = coord_strdup_k(qt->name);
        bool readable = coord_authorized(co, rq, ACL_OP_READ, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; j < qt->partitions.n; j++) {
            txn_offset_commit_req_partitions *qp = &qt->partitions.v[j];
            txn_offset_commit_resp_partitions *rp = &ts[i].partitions.v[j];
            if (!readable) {
                rp->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            txn_item *it = &tc->items[tc->n];
            commit_one one = { .t = t, .tname = tname, .tlen = qt->name.len, .partition = qp->partition_index,
                               .offset = qp->committed_offset, .leader_epoch = qp->committed_leader_epoch,
                               .metadata = qp->committed_metadata, .commit_ts = now, .expire_ts = -1 };
            if ((rp->error_code = coord_commit_prepare(co, g->id, &one, &recs[tc->n])))
                continue;
            it->out = rp;
            it->key = one.key;
            it->klen = one.klen;
            it->e = one.e;
            tc->n++;
        }
        free(tname);
        if (t)
            topic_unref(t);
    }
    if (tc->n == 0) {
        free(recs);
        coord_respond(rq, r);
        txn_ctx_free(tc);
        return;
    }
    int nrec = tc->n;
    persist_opts o = { .producer_id = req->producer_id, .producer_epoch = req->producer_epoch,
                       .appended = txn_appended, .verify = tv != NULL, .guard = tv ? tv->guard : 0 };
    int16_t serr = coord_persist_ex(co, g->partition, recs, nrec, &o, txn_done, tc);
    for (int i = 0; i < nrec; i++)
        coord_record_free(&recs[i]);
    free(recs);
    if (serr)
        txn_done(co, tc, serr);
}
