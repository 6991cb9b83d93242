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
 * producer_state.h TL4-TL7).  KIP-890 part 1 (Kafka's ReplicaManager with
 * transaction.partition.verification.enable): when a transactional batch's
 * producer has no open transaction on the partition at that epoch, the
 * log records a verification guard (TV1) and the request waits, off the
 * network thread, while rpc/txn_verify.h asks the transaction coordinator
 * (AddPartitionsToTxn v4 verify_only); then the whole request is run again
 * with the answers: a partition not in the transaction is INVALID_TXN_STATE
 * (v11+: TRANSACTION_ABORTABLE as the coordinator says), a coordinator that
 * cannot answer NOT_ENOUGH_REPLICAS (retriable, no metadata refresh), and
 * the others append presenting their guard, so a marker written meanwhile
 * fails the append (TV2) instead of reopening the transaction.
 * acks=0 gets no response; if any partition failed, the connection is
 * closed instead, as Kafka does, so the producer notices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/append_wait.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/entities.h"
#include "server/delayed.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/produce.h"
#include "rpc/txn_verify.h"
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

/* --------------------------------------------- KIP-890 part 1 verification */

/* What one request learned from the coordinator, per partition in request
 * order (flattened index k). */
typedef struct produce_verify {
    int total;
    uint64_t *guard;              /* TV1: 0 = the transaction was already open */
    int16_t *error;               /* the coordinator's answer, mapped (NONE: verified) */
    int32_t *of_job;              /* job index -> k */
    int njob;
} produce_verify;

static void produce_run(kreq *rq, produce_verify *pv);

/* Kafka's ReplicaManager: INVALID_TXN_STATE as is; errors an older client
 * would not retry become NOT_ENOUGH_REPLICAS (retriable, no metadata
 * refresh). */
static int16_t verify_error(int16_t code, const char **msg)
{
    switch (code) {
    case KERR_NONE:
        return KERR_NONE;
    case KERR_INVALID_TXN_STATE:
        *msg = "Partition was not added to the transaction";
        return code;
    case KERR_CONCURRENT_TRANSACTIONS: case KERR_NETWORK_EXCEPTION: case KERR_COORDINATOR_LOAD_IN_PROGRESS:
    case KERR_COORDINATOR_NOT_AVAILABLE: case KERR_NOT_COORDINATOR:
        *msg = code == KERR_CONCURRENT_TRANSACTIONS
                   ? "Unable to verify the partition has been added to the transaction. Underlying error: CONCURRENT_TRANSACTIONS"
               : code == KERR_NETWORK_EXCEPTION
                   ? "Unable to verify the partition has been added to the transaction. Underlying error: NETWORK_EXCEPTION"
               : code == KERR_COORDINATOR_LOAD_IN_PROGRESS
                   ? "Unable to verify the partition has been added to the transaction. Underlying error: COORDINATOR_LOAD_IN_PROGRESS"
               : code == KERR_COORDINATOR_NOT_AVAILABLE
                   ? "Unable to verify the partition has been added to the transaction. Underlying error: COORDINATOR_NOT_AVAILABLE"
                   : "Unable to verify the partition has been added to the transaction. Underlying error: NOT_COORDINATOR";
        return KERR_NOT_ENOUGH_REPLICAS;
    default:
        return code;
    }
}

typedef struct produce_wait {
    kreq *rq;
    produce_verify *pv;
} produce_wait;

static void produce_verified(void *arg, const int16_t *errors, int n)
{
    produce_wait *w = arg;
    kreq *rq = w->rq;
    produce_verify *pv = w->pv;
    for (int i = 0; i < n && i < pv->njob; i++)
        pv->error[pv->of_job[i]] = errors[i];
    produce_run(rq, pv);
}

/* The first look at a request: which partitions need the coordinator's
 * word (TV1)?  true when a verification was sent (the request continues
 * in produce_verified); false to run the request now. */
/* The header of the k-th partition's batch when it is transactional data
 * with a producer id (what KIP-890 verifies). */
static bool verifiable(const produce_req_partition_data *pd, rb_header *h)
{
    const krecords *r = &pd->records;
    return r->p && rb_parse_header((const uint8_t *)r->p, (size_t)r->len, h) == KERR_NONE &&
           rb_is_transactional(h) && !rb_is_control(h) && rb_has_producer_id(h);
}

static bool start_verification(kreq *rq, produce_verify *pv)
{
    broker *b = broker_of(rq);
    produce_req *req = rq->body;
    int64_t now = wall_ms();
    txn_verify_tp *tps = arena_alloc(&rq->arena, (size_t)pv->total * sizeof *tps + 1);
    if (!tps)
        return false;
    /* Kafka's ReplicaManager: one producer per request's transactional
     * records, else INVALID_PRODUCER_ID_MAPPING for all of them. */
    int64_t pid = -1;
    int16_t pepoch = -1;
    bool mixed = false;
    rb_header h;
    for (int32_t i = 0; i < req->topic_data.n; i++)
        for (int32_t j = 0; j < req->topic_data.v[i].partition_data.n; j++)
            if (verifiable(&req->topic_data.v[i].partition_data.v[j], &h)) {
                mixed |= pid >= 0 && (h.producer_id != pid || h.producer_epoch != pepoch);
                pid = h.producer_id;
                pepoch = h.producer_epoch;
            }
    int k = 0, n = 0;
    for (int32_t i = 0; i < req->topic_data.n; i++) {
        produce_req_topic_data *td = &req->topic_data.v[i];
        for (int32_t j = 0; j < td->partition_data.n; j++, k++) {
            if (!verifiable(&td->partition_data.v[j], &h))
                continue;
            if (mixed) {
                pv->error[k] = KERR_INVALID_PRODUCER_ID_MAPPING;
                continue;
            }
            topic *t;
            partition *p;
            leader_hint lh;
            if (lookup_partition(b, td->name, (kuuid){ { 0 } }, td->partition_data.v[j].index, -1, &lh, &t, &p))
                continue;                  /* answered by the main pass */
            if (!t->internal) {
                pv->guard[k] = plog_txn_verify_start(p->log, h.producer_id, h.producer_epoch, now);
                if (pv->guard[k]) {
                    tps[n] = (txn_verify_tp){ td->name.p, (size_t)td->name.len, td->partition_data.v[j].index };
                    pv->of_job[n++] = k;
                }
            }
            topic_unref(t);
        }
    }
    pv->njob = n;
    if (n == 0)
        return false;
    /* The request stays pending (unanswered requests keep their client
     * alive) and its arena with it until the answer comes back. */
    produce_wait *w = arena_alloc(&rq->arena, sizeof *w);
    if (w)
        *w = (produce_wait){ rq, pv };
    if (!w || txn_verify_submit(b->txn_verify, rq->lp, req->transactional_id.p, (size_t)req->transactional_id.len,
                                pid, pepoch, rq->hdr.api_version >= 11, tps, n, produce_verified, w) < 0) {
        for (int i = 0; i < n; i++)
            pv->error[pv->of_job[i]] = KERR_NETWORK_EXCEPTION;
        return false;
    }
    return true;
}

void handle_produce(kreq *rq)
{
    produce_req *req = rq->body;
    /* producer_byte_rate (S-ENT4): the request's bytes, as Kafka counts. */
    quotas_record(broker_of(rq), rq, QK_PRODUCE, (double)rq->frame_len);
    int total = 0;
    for (int32_t i = 0; i < req->topic_data.n; i++)
        total += req->topic_data.v[i].partition_data.n;
    produce_verify *pv = NULL;
    if (broker_config_current(broker_of(rq))->transaction_partition_verification_enable &&
        req->transactional_id.len >= 0 && has_transactional_records(req) && (req->acks == 0 || req->acks == 1 ||
                                                                            req->acks == -1) &&
        authz_allowed_k(broker_of(rq), rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID, req->transactional_id)) {
        pv = arena_alloc(&rq->arena, sizeof *pv);
        size_t m = (size_t)(total ? total : 1);
        if (pv) {
            *pv = (produce_verify){ .total = total,
                                    .guard = arena_alloc(&rq->arena, m * sizeof *pv->guard),
                                    .error = arena_alloc(&rq->arena, m * sizeof *pv->error),
                                    .of_job = arena_alloc(&rq->arena, m * sizeof *pv->of_job) };
            if (!pv->guard || !pv->error || !pv->of_job) {
                kreq_fail_close(rq, "out of memory");
                return;
            }
            memset(pv->guard, 0, m * sizeof *pv->guard);
            memset(pv->error, 0, m * sizeof *pv->error);
        } else {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        if (start_verification(rq, pv))
            return;                        /* continues in produce_verified */
    }
    produce_run(rq, pv);
}

static void produce_run(kreq *rq, produce_verify *pv)
{
    broker *b = broker_of(rq);
    produce_req *req = rq->body;
    produce_resp *resp = kreq_new_response(rq);
    int64_t now = wall_ms();
    bool acks_ok = req->acks == 0 || req->acks == 1 || req->acks == -1;
    /* Kafka's KafkaApis: transactional records need a transactional id
     * (the authorization of that id is the only check there without ACLs). */
    /* docs/security.md, Produce: transactional records need WRITE on the
     * TransactionalId (else every partition fails), each topic WRITE
     * (KIP-679: idempotence needs no Cluster IDEMPOTENT_WRITE here). */
    bool txn_refused = has_transactional_records(req) &&
                       (req->transactional_id.len < 0 ||
                        !authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID,
                                         req->transactional_id));
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
    int np = 0, nwatch = 0, k = -1;
    for (int32_t i = 0; i < req->topic_data.n; i++) {
        produce_req_topic_data *td = &req->topic_data.v[i];
        produce_resp_responses *rt = &rts[i];
        rt->name = td->name;
        produce_resp_partition_responses *rps =
            KARRAY_ALLOC(&rq->arena, &rt->partition_responses, td->partition_data.n);
        bool topic_ok = authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TOPIC, td->name);
        for (int32_t j = 0; rps && j < td->partition_data.n; j++) {
            produce_req_partition_data *pd = &td->partition_data.v[j];
            produce_resp_partition_responses *rp = &rps[j];
            k++;
            kcodec_defaults(&produce_resp_partition_responses_schema, rp);
            rp->index = pd->index;
            rp->base_offset = -1;
            if (!acks_ok || txn_refused) {
                rp->error_code = txn_refused ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED : KERR_INVALID_REQUIRED_ACKS;
                any_error = true;
                continue;
            }
            if (!topic_ok) {
                rp->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
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
            const char *vmsg = NULL;
            if (pv && (rp->error_code = verify_error(pv->error[k], &vmsg))) {
                if (vmsg)
                    rp->error_message = kstr_c(vmsg);
                topic_unref(t);
                any_error = true;
                continue;
            }
            plog_append_result ar;
            int32_t epoch = atomic_load_explicit(&p->leader_epoch, memory_order_acquire);
            if (pv)
                plog_append_verified(p->log, (uint8_t *)pd->records.p, (size_t)pd->records.len, epoch, now,
                                     pv->guard[k], &ar);
            else
                plog_append(p->log, (uint8_t *)pd->records.p, (size_t)pd->records.len, epoch, now, &ar);
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
