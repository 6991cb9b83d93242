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
 * Transactional producers (transactional_id set, transactional batches)
 * are accepted (transactional batches without a transactional_id:
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition, as Kafka): the log applies the transaction rules (storage/
 * producer_state.h TL4-TL7).  KIP-890 part 1 (the leader asking the
 * transaction coordinator whether the partition was added to the
 * transaction) is not done: docs/transactions.md, "Partition side".
 * acks=0 gets no response; if any partition failed, the connection is
 * closed instead, as Kafka does, so the producer notices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/append_wait.h"
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
#include "storage/record_batch.h"

typedef struct produce_op {
    delayed_op op;
    produce_resp *resp;
    append_wait *parts;
    int nparts;
    partition **watch;
    int nwatch;
} produce_op;

static bool produce_ready(delayed_op *op)
{
    produce_op *po = (produce_op *)op;
    return append_wait_all_done(po->parts, po->nparts);
}

static void produce_complete(delayed_op *op, enum delayed_reason why)
{
    produce_op *po = (produce_op *)op;
    kreq *rq = op->rq;
    append_wait_finish(po->parts, po->nparts, why, atomic_load(&broker_of(rq)->stopping));
    append_wait_release(po->parts, po->nparts);
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

/* Kafka's ProduceRequest.hasTransactionalRecords: a transactional batch
 * in any partition (bit 4 of the first batch's attributes). */
static bool has_transactional_records(const produce_req *req)
{
    for (int32_t i = 0; i < req->topic_data.n; i++)
        for (int32_t j = 0; j < req->topic_data.v[i].partition_data.n; j++) {
            const krecords *r = &req->topic_data.v[i].partition_data.v[j].records;
            if (r->p && r->len >= RB_HEADER_SIZE && (be16_load(r->p + RB_OFF_ATTRIBUTES) & RB_ATTR_TRANSACTIONAL))
                return true;
        }
    return false;
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
    /* Kafka's KafkaApis: transactional records need a transactional id
     * (the authorization of that id is the only check there without ACLs). */
    bool txn_refused = req->transactional_id.len < 0 && has_transactional_records(req);
    bool any_error = false;

    int total = 0;
    for (int32_t i = 0; i < req->topic_data.n; i++)
        total += req->topic_data.v[i].partition_data.n;
    append_wait *parts = arena_alloc(&rq->arena, (size_t)(total ? total : 1) * sizeof *parts);
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
            if (!acks_ok || txn_refused) {
                rp->error_code = txn_refused ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED : KERR_INVALID_REQUIRED_ACKS;
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
            if (req->acks == -1 && atomic_load(&t->min_insync_replicas) > append_wait_isr_size(p)) {
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
            append_wait *pp = &parts[np++];
            *pp = (append_wait){ .t = t, .p = p, .error = &rp->error_code, .need_offset = ar.last_offset + 1,
                                  .leader_epoch = epoch, .self = b->set.node_id,
                                  .need_flush = ar.flush_needed, .need_hw = req->acks == -1 };
            if (pp->need_flush)
                log_manager_request_flush(b->logs, p->log);
            if (!append_wait_satisfied(pp))
                watch[nwatch++] = p;
        }
    }
    add_node_endpoints(rq, resp, leaders, nleaders);

    if (req->acks == 0) {
        append_wait_release(parts, np);
        if (any_error)
            kreq_fail_close(rq, "acks=0 produce failed; closing so the producer notices");
        else
            kreq_complete_silently(rq);
        return;
    }
    if (nwatch == 0) {
        for (int i = 0; i < np; i++)
            append_wait_check_min_insync(&parts[i]);
        append_wait_release(parts, np);
        kreq_respond(rq, resp);
        return;
    }
    produce_op *po = arena_alloc(&rq->arena, sizeof *po);
    if (!po) {
        append_wait_release(parts, np);
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
