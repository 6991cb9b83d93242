/*
 * handle_write_txn_markers.c - WriteTxnMarkers (key 27, v0-1): the
 * transaction coordinator (src/txn/, over the wire, also to this broker
 * itself) asks the leader of each partition of a finished transaction to
 * write the commit or abort marker (Kafka's KafkaApis.
 * handleWriteTxnMarkersRequest).
 *
 * Per marker and partition:
 *   - not led here -> NOT_LEADER_OR_FOLLOWER (the coordinator refreshes its
 *     metadata and retries); unknown -> UNKNOWN_TOPIC_OR_PARTITION;
 *   - an ISR smaller than min.insync.replicas -> NOT_ENOUGH_REPLICAS,
 *     nothing written (markers are appended with acks=all, like Kafka);
 *   - plog_append_marker: INVALID_PRODUCER_EPOCH for an older producer
 *     epoch, TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch
 *     than the partition's producer state holds;
 *   - then the answer waits, as a Produce with acks=-1 does
 *     (append_wait.h), until the high watermark covers the marker.
 * Read_committed fetches parked on the partition are woken by the append
 * (the LSO moves with the marker, or when the HW passes it).
 * TL15: for a __consumer_offsets partition, coordinator_txn_complete() is
 * called only once its marker is replicated (the part answered NONE), so
 * the group coordinator never materializes transactional offsets whose
 * marker could still be lost with a leader change.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/append_wait.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/clock.h"
#include "core/errors.h"
#include "group/coordinator.h"
#include "proto/codec.h"
#include "proto/messages/write_txn_markers.h"
#include "server/delayed.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"

/* Kafka waits request.timeout.ms (30 s default) for the markers' acks. */
#define WTM_TIMEOUT_MS 30000

typedef struct wtm_part {
    int32_t index;
    int64_t producer_id;
    bool commit;
    bool offsets;                /* a __consumer_offsets partition (TL15) */
} wtm_part;

typedef struct wtm_op {
    delayed_op op;
    write_txn_markers_resp *resp;
    append_wait *waits;
    wtm_part *parts;             /* parallel to waits */
    int n;
} wtm_op;

static bool wtm_ready(delayed_op *op)
{
    wtm_op *w = (wtm_op *)op;
    return append_wait_all_done(w->waits, w->n);
}

/* The marker is on enough replicas: the group coordinator may apply the
 * transaction's offsets (TL15). */
static void wtm_notify_groups(broker *b, const append_wait *waits, const wtm_part *parts, int n)
{
    for (int i = 0; i < n; i++)
        if (parts[i].offsets && *waits[i].error == KERR_NONE && b->coord)
            coordinator_txn_complete(b->coord, parts[i].index, parts[i].producer_id, parts[i].commit);
}

static void wtm_complete(delayed_op *op, enum delayed_reason why)
{
    wtm_op *w = (wtm_op *)op;
    kreq *rq = op->rq;
    broker *b = broker_of(rq);
    append_wait_finish(w->waits, w->n, why, atomic_load(&b->stopping));
    if (why != DELAYED_CANCELLED)
        wtm_notify_groups(b, w->waits, w->parts, w->n);
    append_wait_release(w->waits, w->n);
    if (why == DELAYED_CANCELLED)
        kreq_complete_silently(rq);
    else
        kreq_respond(rq, w->resp);
}

/* One partition of one marker: check, append, and fill *wt when there is
 * something to wait for (returns true). */
static bool write_one(kreq *rq, const write_txn_markers_req_markers *m, kstr topic_name, int32_t index,
                      write_txn_markers_resp_partitions *out, append_wait *wt, wtm_part *wp, int64_t now)
{
    broker *b = broker_of(rq);
    topic *t;
    partition *p;
    out->partition_index = index;
    out->error_code = lookup_partition(b, topic_name, (kuuid){ { 0 } }, index, -1, NULL, &t, &p);
    if (out->error_code)
        return false;
    if (atomic_load(&t->min_insync_replicas) > append_wait_isr_size(p)) {
        out->error_code = KERR_NOT_ENOUGH_REPLICAS;
        topic_unref(t);
        return false;
    }
    int32_t epoch = atomic_load_explicit(&p->leader_epoch, memory_order_acquire);
    plog_append_result ar;
    plog_append_marker(p->log, m->producer_id, m->producer_epoch, m->transaction_result,
                       m->coordinator_epoch, epoch, now, &ar);
    out->error_code = ar.error;
    if (ar.error) {
        topic_unref(t);
        return false;
    }
    if (atomic_load_explicit(&p->isr_solo, memory_order_relaxed))
        plog_set_high_watermark(p->log, ar.end_offset);
    partition_notify(p);             /* the LSO may have moved: wake read_committed fetches */
    *wt = (append_wait){ .t = t, .p = p, .error = &out->error_code, .need_offset = ar.last_offset + 1,
                         .leader_epoch = epoch, .self = b->set.node_id, .need_flush = ar.flush_needed,
                         .need_hw = true };
    if (wt->need_flush)
        log_manager_request_flush(b->logs, p->log);
    *wp = (wtm_part){ index, m->producer_id, m->transaction_result,
                      topic_name.len == (int32_t)strlen(OFFSETS_TOPIC) &&
                          !memcmp(topic_name.p, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC)) };
    return true;
}

void handle_write_txn_markers(kreq *rq)
{
    write_txn_markers_req *req = rq->body;
    write_txn_markers_resp *resp = kreq_new_response(rq);
    int64_t now = wall_ms();
    int total = 0;
    for (int32_t i = 0; i < req->markers.n; i++)
        for (int32_t j = 0; j < req->markers.v[i].topics.n; j++)
            total += req->markers.v[i].topics.v[j].partition_indexes.n;
    append_wait *waits = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *waits);
    wtm_part *parts = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *parts);
    partition **watch = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *watch);
    write_txn_markers_resp_markers *rms = KARRAY_ALLOC(&rq->arena, &resp->markers, req->markers.n);
    if (!waits || !parts || !watch || (req->markers.n > 0 && !rms)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int n = 0, nwatch = 0;
    /* docs/security.md, WriteTxnMarkers: Cluster CLUSTER_ACTION, else
     * every partition CLUSTER_AUTHORIZATION_FAILED and nothing written. */
    bool allowed = authz_cluster(broker_of(rq), rq, ACL_OP_CLUSTER_ACTION);
    for (int32_t i = 0; i < req->markers.n; i++) {
        const write_txn_markers_req_markers *m = &req->markers.v[i];
        rms[i].producer_id = m->producer_id;
        write_txn_markers_resp_topics *rts = KARRAY_ALLOC(&rq->arena, &rms[i].topics, m->topics.n);
        for (int32_t j = 0; rts && j < m->topics.n; j++) {
            const write_txn_markers_req_topics *qt = &m->topics.v[j];
            rts[j].name = qt->name;
            write_txn_markers_resp_partitions *rps =
                KARRAY_ALLOC(&rq->arena, &rts[j].partitions, qt->partition_indexes.n);
            for (int32_t k = 0; rps && k < qt->partition_indexes.n; k++) {
                if (!allowed) {
                    rps[k] = (write_txn_markers_resp_partitions){
                        qt->partition_indexes.v[k], KERR_CLUSTER_AUTHORIZATION_FAILED };
                    continue;
                }
                if (!write_one(rq, m, qt->name, qt->partition_indexes.v[k], &rps[k], &waits[n], &parts[n], now))
                    continue;
                if (!append_wait_satisfied(&waits[n]))
                    watch[nwatch++] = waits[n].p;
                n++;
            }
        }
    }
    if (nwatch == 0) {
        append_wait_finish(waits, n, DELAYED_READY, false);
        wtm_notify_groups(broker_of(rq), waits, parts, n);
        append_wait_release(waits, n);
        kreq_respond(rq, resp);
        return;
    }
    wtm_op *w = arena_alloc(&rq->arena, sizeof *w);
    if (!w) {
        append_wait_release(waits, n);
        kreq_fail_close(rq, "out of memory");
        return;
    }
    *w = (wtm_op){ .resp = resp, .waits = waits, .parts = parts, .n = n };
    w->op.ready = wtm_ready;
    w->op.complete = wtm_complete;
    delayed_park(&w->op, rq, watch, nwatch, WTM_TIMEOUT_MS);
}
