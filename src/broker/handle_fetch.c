/*
 * handle_fetch.c - Fetch (key 1), v4+ (record batches only).
 *
 * Records are never copied: each partition's result is a byte range of a
 * segment file that goes into the response as a file chunk and out through
 * sendfile.  Limits follow KIP-74: the response stops at min(max_bytes,
 * fetch.max.bytes) and each partition at its partition_max_bytes, except
 * that the first batch of the first partition with data is always sent
 * whole, so a batch larger than the limits cannot stall a consumer.
 *
 * Long polling: if fewer than min_bytes are available the request parks as
 * a delayed operation watching its partitions; an append to any of them
 * wakes it (partition_notify), and max_wait_ms bounds the wait.  Errors
 * (unknown partition, offset out of range) answer at once.
 *
 * Fetch sessions (KIP-227) are resolved first (fetch_session.h); the read
 * works on the resulting partition list and the session decides which
 * partitions an incremental response includes.
 *
 * read_committed (isolation_level 1) reads up to the last stable offset
 * and returns the aborted transactions of the range (from the .txnindex
 * files, plog_read); read_uncommitted is unchanged, and both stay
 * zero-copy.  A marker or a HW move wakes parked fetches (the LSO moves).
 *
 * A follower fetch (replica_id >= 0: the v0-14 field, replica_state from
 * v15) is the same read up to the log end instead of the high watermark
 * (PLOG_ISOLATION_LOG_END), from a replica of the partition only.  Before
 * reading, the leader records the follower's position (its fetch offset)
 * and advances the high watermark (C6, docs/replication.md), waking parked
 * acks=-1 produces and consumer fetches when it moves.  Followers out of
 * the ISR of throttled partitions get no records while the leader's
 * replication rate is over leader.replication.throttled.rate.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/entities.h"
#include "server/delayed.h"
#include "broker/dispatch.h"
#include "broker/fetch_session.h"
#include "broker/lookup.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/fetch.h"
#include "repl/isr_manager.h"
#include "storage/partition_log.h"

#define BROKER_FETCH_MAX_BYTES (55 << 20)   /* fetch.max.bytes, Kafka's default */

typedef struct fetch_part {
    const fs_part *sp;
    topic *t;                    /* referenced until the response is built */
    partition *p;
    int16_t error;
    leader_hint leader;          /* for CurrentLeader when error names it */
    bool throttled;              /* a follower out of the ISR under the leader's throttle */
    plog_read_result rr;         /* rr.file referenced when set */
} fetch_part;

typedef struct fetch_op {
    delayed_op op;               /* op.rq is set only once it parks */
    broker *b;
    fs_context ctx;
    fetch_part *parts;
    int nparts;
    partition **watch;
    int nwatch;
    int32_t min_bytes, max_bytes;
    int isolation;
    bool min_one_allowed;
    bool any_error;
    int64_t bytes;
} fetch_op;

static void drop_reads(fetch_op *fo)
{
    for (int i = 0; i < fo->nparts; i++) {
        plog_read_result_free(&fo->parts[i].rr);
        fo->parts[i].rr.len = 0;
    }
}

/* recheck: the op was parked, so leadership may have moved since
 * lookup_partition checked it (Kafka's DelayedFetch case A); the first
 * pass, right after that check, skips it. */
static void read_pass(fetch_op *fo, bool recheck)
{
    drop_reads(fo);
    fo->bytes = 0;
    fo->any_error = false;
    for (int i = 0; i < fo->nparts; i++) {
        fetch_part *fp = &fo->parts[i];
        if (recheck && !fp->error)
            fp->error = lookup_recheck(fo->b, fp->p, fp->sp->current_leader_epoch, &fp->leader);
        if (fp->error) {
            fo->any_error = true;
            continue;
        }
        int64_t left = fo->max_bytes - fo->bytes;
        int32_t limit = fp->sp->max_bytes;
        if (limit > left)
            limit = left < 0 ? 0 : (int32_t)left;
        bool min_one = fo->min_one_allowed && fo->bytes == 0;
        if (fp->throttled && rate_exceeded(&fo->b->leader_quota,
                                           broker_config_current(fo->b)->leader_replication_throttled_rate,
                                           mono_ms())) {
            limit = 0;           /* over the rate: offsets and watermarks only (Kafka's) */
            min_one = false;
        }
        memset(&fp->rr, 0, sizeof fp->rr);
        plog_read(fp->p->log, fp->sp->fetch_offset, limit, min_one, fo->isolation, &fp->rr);
        if (fp->rr.error)
            fo->any_error = true;
        fo->bytes += fp->rr.len;
    }
}

static bool fetch_ready(delayed_op *op)
{
    fetch_op *fo = (fetch_op *)op;
    read_pass(fo, true);
    return fo->any_error || fo->bytes >= fo->min_bytes;
}

/* The follower's id, or -1 for a consumer: the v0-14 field, replica_state
 * (a tagged struct) from v15. */
static int32_t fetch_replica_id(const fetch_req *req, int ver)
{
    if (ver < 15)
        return req->replica_id;
    return req->replica_state ? req->replica_state->replica_id : -1;
}

/* Leader-side replication throttle (docs/cluster.md "Replication
 * throttles"): a follower fetch of a partition listed in the topic's
 * leader.replication.throttled.replicas for this broker, by a follower out
 * of the ISR (C25: never one in it), while leader.replication.throttled.rate
 * is set.  Nothing but one config load is paid when no rate is set. */
static bool leader_throttled(broker *b, topic *t, partition *p, int32_t replica_id)
{
    if (broker_config_current(b)->leader_replication_throttled_rate == INT64_MAX ||
        !topic_throttled(t, THROTTLE_LEADER, p->index))
        return false;
    partition_state *st = partition_state_get(p);
    bool in_isr = false;
    for (int32_t i = 0; st && i < st->nisr && !in_isr; i++)
        in_isr = st->isr[i] == replica_id;
    pstate_unref(st);
    return !in_isr;
}

static bool is_replica(partition *p, int32_t id)
{
    partition_state *st = partition_state_get(p);
    bool found = false;
    for (int32_t i = 0; st && i < st->nreplicas && !found; i++)
        found = st->replicas[i] == id;
    pstate_unref(st);
    return found;
}

/* A follower fetched p at fetch_offset: record its position, then move the
 * high watermark (C6); the partition error (a fetch from a broker that is
 * not a replica of p is refused, as Kafka's updateFollowerFetchState). */
static int16_t follower_fetched(broker *b, partition *p, int32_t replica_id, int64_t fetch_offset)
{
    if (!is_replica(p, replica_id) || replica_id == b->set.node_id)
        return KERR_NOT_LEADER_OR_FOLLOWER;
    int64_t leo = plog_log_end_offset(p->log);
    if (fetch_offset < 0 || fetch_offset > leo)
        return KERR_NONE;            /* plog_read answers OFFSET_OUT_OF_RANGE */
    if (replica_progress_record(&p->progress, replica_id, fetch_offset, leo, wall_ms()) < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    if (partition_advance_hw(p, b->set.node_id))
        partition_notify(p);         /* acks=-1 produces and consumer fetches waiting on the HW */
    isr_manager_follower_fetched(b->isr, p, replica_id, fetch_offset);   /* C7: may rejoin */
    return KERR_NONE;
}

/* v16+: the leaders named in CurrentLeader fields, as NodeEndpoints. */
static void add_node_endpoints(kreq *rq, fetch_resp *resp, const int32_t *leaders, int n)
{
    broker_view *v;
    int k = n > 0 ? lookup_brokers_named(broker_of(rq), rq, leaders, n, &v) : 0;
    fetch_resp_node_endpoints *ne = k > 0 ? KARRAY_ALLOC(&rq->arena, &resp->node_endpoints, k) : NULL;
    for (int i = 0; ne && i < k; i++)
        ne[i] = (fetch_resp_node_endpoints){ .node_id = v[i].id, .host = v[i].host,
                                             .port = v[i].port, .rack = v[i].rack };
}

/* Build and send the response; releases every reference the op holds. */
static void respond(kreq *rq, fetch_op *fo)
{
    broker *b = broker_of(rq);
    fetch_resp *resp = kreq_new_response(rq);
    int n = fo->nparts;
    /* Things to release after the response has been encoded (the op and
     * the response live in the request arena, which respond may free). */
    fileref **files = malloc((size_t)(n + 1) * sizeof *files);
    topic **topics = malloc((size_t)(n + 1) * sizeof *topics);
    int nfiles = 0, ntop = 0;
    int64_t *hw = arena_alloc(&rq->arena, (size_t)(n + 1) * 3 * sizeof(int64_t));
    bool *flag = arena_alloc(&rq->arena, (size_t)(n + 1) * 2 * sizeof(bool));
    int32_t *leaders = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *leaders);
    int nleaders = 0;
    if (!resp || !files || !topics || !hw || !flag || !leaders) {
        free(files);
        free(topics);
        drop_reads(fo);
        for (int i = 0; i < n; i++)
            if (fo->parts[i].t)
                topic_unref(fo->parts[i].t);
        kreq_fail_close(rq, "out of memory building fetch response");
        return;
    }
    int64_t *lso = hw + (n + 1), *lstart = lso + (n + 1);
    bool *has = flag, *include = flag + (n + 1);
    for (int i = 0; i < n; i++) {
        fetch_part *fp = &fo->parts[i];
        hw[i] = fp->error ? -1 : fp->rr.high_watermark;
        lso[i] = fp->error ? -1 : fp->rr.last_stable_offset;
        lstart[i] = fp->error ? -1 : fp->rr.log_start_offset;
        has[i] = fp->error || fp->rr.error || fp->rr.len > 0;
    }
    /* consumer_byte_rate (S-ENT4), Kafka's way: the records this response
     * would carry are recorded; when that earns a throttle they are taken
     * back and the response goes out empty (no partition; the session's
     * "sent" state unchanged, so the next fetch gets them) with the
     * throttle, then the connection is muted for it.  Followers (which
     * read to the log end) are exempt (S-ENT6). */
    bool quota_throttled = false;
    if (fo->isolation != PLOG_ISOLATION_LOG_END) {
        int64_t sent = 0;
        for (int i = 0; i < n; i++)
            if (!fo->parts[i].error && fo->parts[i].rr.file && fo->parts[i].rr.len > 0)
                sent += fo->parts[i].rr.len;
        if (sent > 0 && quotas_record(b, rq, QK_FETCH, (double)sent) > 0) {
            quotas_unrecord(b, rq, QK_FETCH, (double)sent);
            quota_throttled = true;
        }
    }
    if (quota_throttled)
        memset(include, 0, (size_t)(n + 1) * sizeof *include);
    else
        fetch_sessions_end(b->sessions, &fo->ctx, hw, lso, lstart, has, include);
    resp->session_id = fo->ctx.response_session_id;
    resp->error_code = fo->ctx.error;

    /* Group consecutive partitions of the same topic. */
    int ntopics = 0;
    for (int i = 0; i < n; i++)
        if (include[i] && (ntopics == 0 || i == 0 || !include[i - 1] ||
                           fo->parts[i].sp->partition < 0 ||
                           strcmp(fo->parts[i].sp->topic, fo->parts[i - 1].sp->topic) ||
                           !kuuid_eq(fo->parts[i].sp->topic_id, fo->parts[i - 1].sp->topic_id)))
            ntopics++;
    fetch_resp_responses *rts = KARRAY_ALLOC(&rq->arena, &resp->responses, ntopics);
    int ti = -1;
    for (int i = 0; i < n; i++) {
        if (fo->parts[i].throttled && fo->parts[i].rr.len > 0)
            rate_record(&b->leader_quota, fo->parts[i].rr.len, mono_ms());
        if (fo->parts[i].rr.file)
            files[nfiles++] = fo->parts[i].rr.file;
        if (fo->parts[i].t)
            topics[ntop++] = fo->parts[i].t;
    }
    for (int i = 0; rts && i < n; i++) {
        fetch_part *fp = &fo->parts[i];
        if (!include[i])
            continue;
        bool new_topic = ti < 0 || !include[i - 1] || strcmp(fp->sp->topic, fo->parts[i - 1].sp->topic) ||
                         !kuuid_eq(fp->sp->topic_id, fo->parts[i - 1].sp->topic_id);
        if (new_topic) {
            ti++;
            rts[ti].topic = kstr_c(fp->sp->topic);
            rts[ti].topic_id = fp->sp->topic_id;
            rts[ti].partitions.n = 0;
            /* Count this topic's run to size its array. */
            int run = 0;
            for (int k = i; k < n; k++) {
                if (!include[k])
                    continue;
                if (strcmp(fo->parts[k].sp->topic, fp->sp->topic) ||
                    !kuuid_eq(fo->parts[k].sp->topic_id, fp->sp->topic_id))
                    break;
                run++;
            }
            KARRAY_ALLOC(&rq->arena, &rts[ti].partitions, run);
            rts[ti].partitions.n = 0;
        }
        fetch_resp_partitions *rp = &rts[ti].partitions.v[rts[ti].partitions.n++];
        kcodec_defaults(&fetch_resp_partitions_schema, rp);
        rp->partition_index = fp->sp->partition;
        rp->error_code = fp->error ? fp->error : fp->rr.error;
        rp->high_watermark = hw[i];
        rp->last_stable_offset = lso[i];
        rp->log_start_offset = lstart[i];
        rp->aborted_transactions.n = fo->isolation == 1 && !rp->error_code ? 0 : -1;
        /* As Kafka: a read that failed (offset out of range) carries no
         * offsets (its LogReadResult has unknown offset metadata), and a
         * partition refused before the read (unknown topic, id or
         * partition: FetchResponse.partitionResponse) an empty, not null,
         * aborted-transactions list.  Except for a follower: it restarts
         * its log at the log start offset it is given here (repl/fetcher.c;
         * Kafka's follower asks for it with a ListOffsets instead), and
         * only Samsa followers fetch from a Samsa leader. */
        if (rp->error_code == KERR_OFFSET_OUT_OF_RANGE && fo->isolation != PLOG_ISOLATION_LOG_END)
            rp->high_watermark = rp->last_stable_offset = rp->log_start_offset = -1;
        if (rp->error_code == KERR_UNKNOWN_TOPIC_OR_PARTITION || rp->error_code == KERR_UNKNOWN_TOPIC_ID)
            rp->aborted_transactions.n = 0;
        /* read_committed: the aborted transactions overlapping the data
         * (plog_read TL12), so the client drops their records. */
        if (rp->aborted_transactions.n == 0 && fp->rr.naborted > 0) {
            fetch_resp_aborted_transactions *at =
                KARRAY_ALLOC(&rq->arena, &rp->aborted_transactions, fp->rr.naborted);
            for (int k = 0; at && k < fp->rr.naborted; k++)
                at[k] = (fetch_resp_aborted_transactions){ fp->rr.aborted[k].producer_id,
                                                           fp->rr.aborted[k].first_offset };
            if (!at) {                    /* never records without their aborted list */
                rp->error_code = KERR_UNKNOWN_SERVER_ERROR;
                fp->rr.len = 0;
            }
        }
        rp->preferred_read_replica = -1;
        if (fp->rr.file && fp->rr.len > 0) {
            rp->records = (krecords){ NULL, fp->rr.len, fp->rr.file, fp->rr.file_pos };
        } else {
            rp->records = (krecords){ NULL, 0, NULL, 0 };
        }
        if (rp->error_code == KERR_UNKNOWN_TOPIC_ID)
            rp->records.len = 0;
        if (rq->hdr.api_version >= 12 && lookup_error_names_leader(rp->error_code)) {
            fetch_resp_current_leader *cl = arena_alloc(&rq->arena, sizeof *cl);
            if (cl) {
                *cl = (fetch_resp_current_leader){ fp->leader.leader_id, fp->leader.leader_epoch };
                rp->current_leader = cl;
                leaders[nleaders++] = fp->leader.leader_id;
            }
        }
    }
    if (rq->hdr.api_version >= 16)
        add_node_endpoints(rq, resp, leaders, nleaders);
    for (int i = 0; i < n; i++) {                   /* copied into the arena above */
        free(fo->parts[i].rr.aborted);
        fo->parts[i].rr.aborted = NULL;
        fo->parts[i].rr.naborted = 0;
    }
    kreq_respond(rq, resp);
    for (int i = 0; i < nfiles; i++)
        fileref_unref(files[i]);
    for (int i = 0; i < ntop; i++)
        topic_unref(topics[i]);
    free(files);
    free(topics);
}

static void fetch_complete(delayed_op *op, enum delayed_reason why)
{
    fetch_op *fo = (fetch_op *)op;
    kreq *rq = op->rq;
    if (why == DELAYED_CANCELLED) {
        drop_reads(fo);
        for (int i = 0; i < fo->nparts; i++)
            if (fo->parts[i].t)
                topic_unref(fo->parts[i].t);
        kreq_complete_silently(rq);
        return;
    }
    if (why == DELAYED_EXPIRED)
        read_pass(fo, true);
    respond(rq, fo);
}

void handle_fetch(kreq *rq)
{
    broker *b = broker_of(rq);
    fetch_req *req = rq->body;
    int ver = rq->hdr.api_version;
    bool by_id = ver >= 13;

    int nupd = 0, nfgt = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        nupd += req->topics.v[i].partitions.n;
    for (int32_t i = 0; i < req->forgotten_topics_data.n; i++)
        nfgt += req->forgotten_topics_data.v[i].partitions.n;
    fs_update *upd = arena_alloc(&rq->arena, (size_t)(nupd + 1) * sizeof *upd);
    fs_forget *fgt = arena_alloc(&rq->arena, (size_t)(nfgt + 1) * sizeof *fgt);
    fetch_op *fo = arena_alloc(&rq->arena, sizeof *fo);
    if (!upd || !fgt || !fo) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int k = 0;
    for (int32_t i = 0; i < req->topics.n; i++) {
        fetch_req_topics *t = &req->topics.v[i];
        for (int32_t j = 0; j < t->partitions.n; j++) {
            fetch_req_partitions *p = &t->partitions.v[j];
            upd[k++] = (fs_update){ .topic = by_id ? NULL : t->topic.p,
                                    .topic_len = by_id ? -1 : t->topic.len,
                                    .topic_id = t->topic_id, .partition = p->partition,
                                    .fetch_offset = p->fetch_offset,
                                    .max_bytes = p->partition_max_bytes,
                                    .current_leader_epoch = p->current_leader_epoch };
        }
    }
    k = 0;
    for (int32_t i = 0; i < req->forgotten_topics_data.n; i++) {
        fetch_req_forgotten_topics_data *t = &req->forgotten_topics_data.v[i];
        for (int32_t j = 0; j < t->partitions.n; j++)
            fgt[k++] = (fs_forget){ .topic = by_id ? NULL : t->topic.p,
                                    .topic_len = by_id ? -1 : t->topic.len,
                                    .topic_id = t->topic_id, .partition = t->partitions.v[j] };
    }
    fetch_sessions_begin(b->sessions, ver >= 7 ? req->session_id : 0, ver >= 7 ? req->session_epoch : -1,
                         upd, nupd, fgt, nfgt, mono_ms(), &rq->arena, &fo->ctx);

    fo->nparts = fo->ctx.error ? 0 : fo->ctx.nparts;
    fo->parts = arena_alloc(&rq->arena, (size_t)(fo->nparts + 1) * sizeof *fo->parts);
    fo->watch = arena_alloc(&rq->arena, (size_t)(fo->nparts + 1) * sizeof *fo->watch);
    if (!fo->parts || !fo->watch) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    fo->b = b;
    fo->min_bytes = req->min_bytes;
    fo->max_bytes = req->max_bytes < BROKER_FETCH_MAX_BYTES ? req->max_bytes : BROKER_FETCH_MAX_BYTES;
    if (fo->max_bytes < 0)
        fo->max_bytes = 0;
    int32_t replica_id = fetch_replica_id(req, ver);
    /* A consumer with a consumer_byte_rate reads at most what its quota
     * allows over the window, else every answer would be throttled
     * (Kafka's getMaxValueInQuotaWindow cap). */
    double quota_max = replica_id >= 0 ? 0 : quotas_window_max(b, rq, QK_FETCH);
    if (quota_max > 0 && quota_max < fo->max_bytes) {
        fo->max_bytes = quota_max < 1 ? 1 : (int32_t)quota_max;
        if (fo->min_bytes > fo->max_bytes)
            fo->min_bytes = fo->max_bytes;
    }
    /* A follower reads to the log end; a consumer to the HW (or the LSO). */
    fo->isolation = replica_id >= 0 ? PLOG_ISOLATION_LOG_END : req->isolation_level == 1 ? 1 : 0;
    fo->min_one_allowed = ver >= 3;
    for (int i = 0; i < fo->nparts; i++) {
        fetch_part *fp = &fo->parts[i];
        fp->sp = &fo->ctx.parts[i];
        kstr name = fp->sp->topic[0] ? kstr_c(fp->sp->topic) : (kstr){ NULL, -1 };
        /* docs/security.md, Fetch: a follower needs Cluster CLUSTER_ACTION,
         * a consumer READ on each topic (by id: once resolved). */
        if (b->authz && (replica_id >= 0 ? !authz_cluster(b, rq, ACL_OP_CLUSTER_ACTION)
                                         : name.len >= 0 && !authz_allowed_k(b, rq, ACL_OP_READ,
                                                                             ACL_RT_TOPIC, name))) {
            fp->error = KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        fp->error = lookup_partition(b, name, fp->sp->topic_id, fp->sp->partition,
                                     fp->sp->current_leader_epoch, &fp->leader, &fp->t, &fp->p);
        if (!fp->error && b->authz && replica_id < 0 && name.len < 0 &&
            !authz_allowed(b, rq, ACL_OP_READ, ACL_RT_TOPIC, fp->t->name, strlen(fp->t->name))) {
            fp->error = KERR_TOPIC_AUTHORIZATION_FAILED;
            topic_unref(fp->t);
            fp->t = NULL;
            continue;
        }
        if (!fp->error && replica_id >= 0) {
            fp->error = follower_fetched(b, fp->p, replica_id, fp->sp->fetch_offset);
            fp->throttled = !fp->error && leader_throttled(b, fp->t, fp->p, replica_id);
        }
        if (!fp->error)
            fo->watch[fo->nwatch++] = fp->p;
        else if (fp->t) {
            topic_unref(fp->t);
            fp->t = NULL;
        }
    }
    read_pass(fo, false);
    if (fo->ctx.error || fo->any_error || fo->bytes >= fo->min_bytes || req->max_wait_ms <= 0 ||
        fo->nwatch == 0) {
        respond(rq, fo);
        return;
    }
    drop_reads(fo);
    fo->op.ready = fetch_ready;
    fo->op.complete = fetch_complete;
    delayed_park(&fo->op, rq, fo->watch, fo->nwatch, req->max_wait_ms);
}
