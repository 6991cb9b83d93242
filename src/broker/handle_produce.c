/*
 * handle_produce.c - Produce (key 0), record batch v2 only (v3+).
 *
 * For each partition the records are handed to the partition log as they
 * arrived (the log validates, assigns offsets and writes them without
 * per-record work).  The response waits, as a delayed operation, until
 *   - the data is fsynced, when the topic's flush.messages threshold was
 *     reached (the flush runs on the log manager's flusher thread, which
 *     group-commits concurrent requests), and
 *   - for acks=-1, the high watermark covers the data (immediately when
 *     the ISR is this broker alone; else once every ISR member has fetched
 *     past it, C6).
 * acks=-1 and min.insync.replicas (the topic's effective value), as
 * Kafka: an ISR smaller than it refuses the partition with
 * NOT_ENOUGH_REPLICAS before anything is appended; when the high watermark
 * reaches the batch, an ISR that shrank below it meanwhile (the leader's
 * ISR manager removed a laggard, repl/isr_manager.h) answers
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND (the data is in the log, not on enough
 * replicas).  acks=0/1 ignore min.insync.replicas.
 * Only the partition's leader appends (lookup_partition): any other broker
 * answers NOT_LEADER_OR_FOLLOWER and, from v10, names the current leader
 * and its endpoint (KIP-951).
 * acks=0 gets no response; if any partition failed, the connection is
 * closed instead, as Kafka does, so the producer notices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "server/delayed.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/produce.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"

typedef struct produce_part {
    topic *t;                    /* referenced while waiting */
    partition *p;
    produce_resp_partition_responses *out;
    int64_t need_offset;         /* exclusive end of what we appended */
    int32_t leader_epoch;        /* ours when we appended (acks=-1) */
    int32_t self;                /* this broker's id */
    bool need_flush, need_hw;
} produce_part;

typedef struct produce_op {
    delayed_op op;
    produce_resp *resp;
    produce_part *parts;
    int nparts;
    partition **watch;
    int nwatch;
} produce_op;

static bool part_satisfied(const produce_part *pp)
{
    if (pp->need_flush && plog_recovery_point(pp->p->log) < pp->need_offset)
        return false;
    if (pp->need_hw && plog_high_watermark(pp->p->log) < pp->need_offset)
        return false;
    return true;
}

/* C9: an acks=-1 append waits for the high watermark over the batch it
 * appended.  If the leader epoch moved meanwhile (this broker lost the
 * partition, or lost and regained it, or the controller bumped the epoch
 * on an ISR change), the batch may have been truncated and its offsets
 * reused with other data, so the HW passing them proves nothing by
 * itself.  The leader-epoch cache tells: when the offsets up to the batch's
 * end still belong to the epoch it was appended in, they hold that batch
 * (Kafka's log matching: same offset and epoch, same data) and the wait
 * goes on; otherwise the part is answered NOT_LEADER_OR_FOLLOWER, never as
 * written, and the producer retries on the new leader (an idempotent
 * producer's retry is deduplicated).
 * C38: once another broker leads, the wait ends at once with
 * NOT_LEADER_OR_FOLLOWER, as Kafka's DelayedProduce does: an ex-leader's
 * HW may never cover the batch (its divergent tail is truncated, and a
 * truncation wakes nobody), and a producer left waiting times out locally,
 * which an idempotent producer must treat as "possibly written" (librdkafka
 * then fails fatally with a sequence desynchronization when its next batch
 * reaches the new leader: found by the cluster fault runner). */
static bool part_lost(const produce_part *pp)
{
    if (!pp->need_hw)
        return false;
    int32_t now = atomic_load_explicit(&pp->p->leader_epoch, memory_order_acquire);
    if (now == pp->leader_epoch)
        return false;
    if (!partition_led_by(pp->p, pp->self))
        return true;                                 /* C38 */
    int32_t e = -1;
    int64_t end = -1;
    plog_epoch_end_offset(pp->p->log, pp->leader_epoch, now, &e, &end);
    return e != pp->leader_epoch || end < pp->need_offset;
}

/* A part whose log went offline while it waited (a failed flush) will
 * never be satisfied: it is answered KAFKA_STORAGE_ERROR now instead of
 * REQUEST_TIMED_OUT when the producer's timeout runs out. */
static bool part_failed(const produce_part *pp)
{
    return part_lost(pp) || (!part_satisfied(pp) && plog_offline(pp->p->log));
}

static bool produce_ready(delayed_op *op)
{
    produce_op *po = (produce_op *)op;
    for (int i = 0; i < po->nparts; i++)
        if (!part_satisfied(&po->parts[i]) && !part_failed(&po->parts[i]))
            return false;
    return true;
}

static int32_t isr_size(partition *p)
{
    partition_state *st = partition_state_get(p);
    int32_t n = st ? st->nisr : 0;
    pstate_unref(st);
    return n;
}

/* Kafka's DelayedProduce check once the HW covers the batch: the ISR
 * must still hold min.insync.replicas (acks=-1 only). */
static void check_min_insync_after_append(produce_part *pp)
{
    if (pp->need_hw && pp->out->error_code == KERR_NONE &&
        atomic_load(&pp->t->min_insync_replicas) > isr_size(pp->p))
        pp->out->error_code = KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
}

static void release_parts(produce_part *parts, int n)
{
    for (int i = 0; i < n; i++)
        if (parts[i].t)
            topic_unref(parts[i].t);
}

static void produce_complete(delayed_op *op, enum delayed_reason why)
{
    produce_op *po = (produce_op *)op;
    kreq *rq = op->rq;
    for (int i = 0; i < po->nparts; i++) {
        produce_part *pp = &po->parts[i];
        if (part_lost(pp))
            pp->out->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
        else if (part_failed(pp))
            pp->out->error_code = KERR_KAFKA_STORAGE_ERROR;
        else if (!part_satisfied(pp))
            /* a leaving broker no longer leads it (controlled shutdown):
             * retriable, and the producer goes to the new leader at once */
            pp->out->error_code = why == DELAYED_EXPIRED && atomic_load(&broker_of(rq)->stopping)
                                      ? KERR_NOT_LEADER_OR_FOLLOWER
                                      : KERR_REQUEST_TIMED_OUT;
        else
            check_min_insync_after_append(pp);
    }
    release_parts(po->parts, po->nparts);
    /* Everything lives in the request arena: respond last. */
    if (why == DELAYED_CANCELLED)
        kreq_complete_silently(rq);
    else
        kreq_respond(rq, po->resp);
}

/* Kafka's ProduceRequest rule for v3+: exactly one record batch per
 * partition.  NULL if fine (the log validates the batch itself). */
static const char *records_shape_error(const krecords *r, int version)
{
    /* Kafka iterates the batches: none complete (empty, or a batch cut
     * short) is "no batch", not a corrupt one. */
    if (r->len < 12)
        return "Produce requests with version 3+ must have at least one record batch per partition";
    int64_t batch_len = (int32_t)be32_load(r->p + 8);
    if (batch_len >= 0 && batch_len + 12 > r->len)
        return "Produce requests with version 3+ must have at least one record batch per partition";
    if (batch_len >= 0 && batch_len + 12 < r->len)
        return "Produce requests with version 3+ are only allowed to contain exactly one record batch per partition";
    if (r->len > 16 && r->p[16] != 2)
        return "Produce requests with version 3+ are only allowed to contain record batches with magic version 2";
    (void)version;
    return NULL;
}

/* Kafka 4's LogValidator: a client's batch starts at offset 0 (the broker
 * assigns the offsets). */
static bool nonzero_base_offset(const krecords *r)
{
    return r->len >= 8 && (int64_t)be64_load(r->p) != 0;
}

/* v10+: the leaders named in CurrentLeader fields, as NodeEndpoints. */
static void add_node_endpoints(kreq *rq, produce_resp *resp, const int32_t *leaders, int n)
{
    broker_view *v;
    int k = n > 0 ? lookup_brokers_named(broker_of(rq), rq, leaders, n, &v) : 0;
    produce_resp_node_endpoints *ne = k > 0 ? KARRAY_ALLOC(&rq->arena, &resp->node_endpoints, k) : NULL;
    for (int i = 0; ne && i < k; i++)
        ne[i] = (produce_resp_node_endpoints){ .node_id = v[i].id, .host = v[i].host,
                                               .port = v[i].port, .rack = v[i].rack };
}

void handle_produce(kreq *rq)
{
    broker *b = broker_of(rq);
    produce_req *req = rq->body;
    produce_resp *resp = kreq_new_response(rq);
    int64_t now = wall_ms();
    bool acks_ok = req->acks == 0 || req->acks == 1 || req->acks == -1;
    bool any_error = false;

    int total = 0;
    for (int32_t i = 0; i < req->topic_data.n; i++)
        total += req->topic_data.v[i].partition_data.n;
    produce_part *parts = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *parts);
    partition **watch = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *watch);
    int32_t *leaders = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *leaders);
    int nleaders = 0;
    produce_resp_responses *rts = KARRAY_ALLOC(&rq->arena, &resp->responses, req->topic_data.n);
    if (!parts || !watch || !leaders || (req->topic_data.n > 0 && !rts)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int np = 0, nwatch = 0;
    for (int32_t i = 0; i < req->topic_data.n; i++) {
        produce_req_topic_data *td = &req->topic_data.v[i];
        produce_resp_responses *rt = &rts[i];
        rt->name = td->name;
        produce_resp_partition_responses *rps =
            KARRAY_ALLOC(&rq->arena, &rt->partition_responses, td->partition_data.n);
        for (int32_t j = 0; rps && j < td->partition_data.n; j++) {
            produce_req_partition_data *pd = &td->partition_data.v[j];
            produce_resp_partition_responses *rp = &rps[j];
            kcodec_defaults(&produce_resp_partition_responses_schema, rp);
            rp->index = pd->index;
            rp->base_offset = -1;
            if (!acks_ok) {
                rp->error_code = KERR_INVALID_REQUIRED_ACKS;
                any_error = true;
                continue;
            }
            if (req->transactional_id.len >= 0) {
                rp->error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
                any_error = true;
                continue;
            }
            topic *t;
            partition *p;
            leader_hint lh;
            rp->error_code = lookup_partition(b, td->name, (kuuid){ { 0 } }, pd->index, -1, &lh, &t, &p);
            if (rp->error_code) {
                if (rq->hdr.api_version >= 10 && lookup_error_names_leader(rp->error_code)) {
                    produce_resp_current_leader *cl = arena_alloc(&rq->arena, sizeof *cl);
                    if (cl) {
                        *cl = (produce_resp_current_leader){ lh.leader_id, lh.leader_epoch };
                        rp->current_leader = cl;
                        leaders[nleaders++] = lh.leader_id;
                    }
                }
                any_error = true;
                continue;
            }
            if (t->internal) {
                rp->error_code = KERR_INVALID_TOPIC_EXCEPTION;
                rp->error_message = kstr_c("Cannot append to internal topic");
                topic_unref(t);
                any_error = true;
                continue;
            }
            if (req->acks == -1 && atomic_load(&t->min_insync_replicas) > isr_size(p)) {
                rp->error_code = KERR_NOT_ENOUGH_REPLICAS;
                rp->error_message = kstr_c("the in-sync replica set is smaller than min.insync.replicas");
                topic_unref(t);
                any_error = true;
                continue;
            }
            const char *shape = records_shape_error(&pd->records, rq->hdr.api_version);
            if (shape) {
                rp->error_code = KERR_INVALID_RECORD;
                rp->error_message = kstr_c(shape);
                topic_unref(t);
                any_error = true;
                continue;
            }
            if (nonzero_base_offset(&pd->records)) {
                rp->error_code = KERR_INVALID_RECORD;     /* no message, as Kafka */
                rp->log_start_offset = plog_log_start_offset(p->log);
                topic_unref(t);
                any_error = true;
                continue;
            }
            plog_append_result ar;
            int32_t epoch = atomic_load_explicit(&p->leader_epoch, memory_order_acquire);
            plog_append(p->log, (uint8_t *)pd->records.p, (size_t)pd->records.len, epoch, now,
                        &ar);
            rp->error_code = ar.error;
            if (ar.error) {
                /* As Kafka's ReplicaManager: the log start offset comes back
                 * with validation and idempotence errors, not with the
                 * errors it treats as "unknown append info" (size, CRC,
                 * storage). */
                if (ar.error != KERR_MESSAGE_TOO_LARGE && ar.error != KERR_RECORD_LIST_TOO_LARGE &&
                    ar.error != KERR_CORRUPT_MESSAGE && ar.error != KERR_KAFKA_STORAGE_ERROR)
                    rp->log_start_offset = ar.log_start_offset;
                if (ar.error_message)
                    rp->error_message = kstr_c(ar.error_message);
                if (rq->hdr.api_version >= 8 && ar.bad_batch_index >= 0) {
                    produce_resp_record_errors *re = KARRAY_ALLOC(&rq->arena, &rp->record_errors, 1);
                    if (re) {
                        re->batch_index = ar.bad_batch_index;
                        re->batch_index_error_message = rp->error_message;
                    }
                }
                topic_unref(t);
                any_error = true;
                continue;
            }
            /* C6: the leader alone is the whole ISR, so the high watermark
             * is the log end.  With followers in the ISR it moves when they
             * fetch (handle_fetch.c), never here. */
            if (!ar.duplicate && atomic_load_explicit(&p->isr_solo, memory_order_relaxed))
                plog_set_high_watermark(p->log, ar.end_offset);
            rp->base_offset = ar.base_offset;
            rp->log_append_time_ms = ar.log_append_time;
            rp->log_start_offset = ar.log_start_offset;
            if (!ar.duplicate)
                partition_notify(p);            /* wake long-poll fetches */
            produce_part *pp = &parts[np++];
            *pp = (produce_part){ .t = t, .p = p, .out = rp, .need_offset = ar.last_offset + 1,
                                  .leader_epoch = epoch, .self = b->set.node_id,
                                  .need_flush = ar.flush_needed, .need_hw = req->acks == -1 };
            if (pp->need_flush)
                log_manager_request_flush(b->logs, p->log);
            if (!part_satisfied(pp))
                watch[nwatch++] = p;
        }
    }
    add_node_endpoints(rq, resp, leaders, nleaders);

    if (req->acks == 0) {
        release_parts(parts, np);
        if (any_error)
            kreq_fail_close(rq, "acks=0 produce failed; closing so the producer notices");
        else
            kreq_complete_silently(rq);
        return;
    }
    if (nwatch == 0) {
        for (int i = 0; i < np; i++)
            check_min_insync_after_append(&parts[i]);
        release_parts(parts, np);
        kreq_respond(rq, resp);
        return;
    }
    produce_op *po = arena_alloc(&rq->arena, sizeof *po);
    if (!po) {
        release_parts(parts, np);
        kreq_fail_close(rq, "out of memory");
        return;
    }
    po->resp = resp;
    po->parts = parts;
    po->nparts = np;
    po->watch = watch;
    po->nwatch = nwatch;
    po->op.ready = produce_ready;
    po->op.complete = produce_complete;
    delayed_park(&po->op, rq, watch, nwatch, req->timeout_ms);
}
