/*
 * txn_ops.c - the producer APIs of the transaction coordinator and the
 * transaction state machine (Kafka's TransactionCoordinator with
 * transaction version 1 clients; docs/transactions.md has the diagram).
 *
 *   Empty/CompleteCommit/CompleteAbort --AddPartitions/AddOffsets--> Ongoing
 *   Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
 *   Ongoing --EndTxn(abort), fence, timeout--> PrepareAbort --markers--> CompleteAbort
 *   Empty/Complete* --InitProducerId--> Empty (epoch + 1, or a new producer id)
 *   Empty/Complete* --expiration--> Dead (tombstone)
 *
 * Every transition is a write of the new image (txn_write): it becomes the
 * current state only once replicated (TC2), and while it is in flight the
 * id answers CONCURRENT_TRANSACTIONS (TC3).  Thread: the coordinator's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/javahash.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/add_offsets_to_txn.h"
#include "proto/messages/add_partitions_to_txn.h"
#include "proto/messages/end_txn.h"
#include "proto/messages/init_producer_id.h"
#include "txn/txn_int.h"

#define OFFSETS_TOPIC_NAME "__consumer_offsets"
#define MAX_EPOCH 32767                /* Short.MaxValue */

/* Kafka's isEpochExhausted: the next bump would reach Short.MaxValue. */
static bool epoch_exhausted(int16_t e) { return e >= MAX_EPOCH - 1; }

static txn_image *image_of(const txn_meta *m)
{
    txn_image *im = malloc(sizeof *im);
    if (im && txn_image_copy(im, &m->cur) < 0) {
        free(im);
        return NULL;
    }
    return im;
}

/* ------------------------------------------------------------- markers */

static void start_markers(txn_coordinator *co, txn_meta *m)
{
    bool commit = m->cur.state == TXN_PREPARE_COMMIT;
    if (m->cur.ntps == 0) {
        /* Nothing to mark: complete at once. */
        txn_markers_done(co, m->id, m->part, co->parts[m->part].epoch, KERR_NONE);
        return;
    }
    m->sending = true;
    if (txn_markers_send(co->mk, m->id, m->part, co->parts[m->part].epoch, m->cur.producer_id,
                         m->cur.epoch, commit, m->cur.tps, m->cur.ntps) < 0) {
        m->sending = false;             /* TC6: tried again by the next abort pass */
        LOG_ERR("txn", "transactional id %s: cannot queue its markers", m->id);
    }
}

void txn_resume(txn_coordinator *co, txn_meta *m)
{
    if (!m->pending && !m->sending &&
        (m->cur.state == TXN_PREPARE_COMMIT || m->cur.state == TXN_PREPARE_ABORT))
        start_markers(co, m);
}

static void complete_written(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)co;
    (void)arg;
    if (err)
        LOG_WRN("txn", "transactional id %s: cannot write its completion: %s (retried)", m->id,
                kerr_name(err));
}

/* TC5: every partition has its marker (or its topic is gone): write
 * CompleteCommit/CompleteAbort.  A result for a partition this coordinator
 * no longer owns, or owned at another epoch, is ignored (TC8). */
void txn_markers_done(txn_coordinator *co, const char *id, int32_t part, int32_t coord_epoch,
                      int16_t err)
{
    txn_meta *m = txn_get(co, kstr_c(id));
    if (!m || m->part != part || !txn_owns(co, part) || co->parts[part].epoch != coord_epoch)
        return;
    m->sending = false;
    if (m->pending || (m->cur.state != TXN_PREPARE_COMMIT && m->cur.state != TXN_PREPARE_ABORT))
        return;
    if (err) {
        /* TRANSACTION_COORDINATOR_FENCED / INVALID_PRODUCER_EPOCH: a newer
         * coordinator owns the transaction (Kafka stops sending too). */
        LOG_WRN("txn", "transactional id %s: markers refused: %s; leaving it to the newer coordinator",
                id, kerr_name(err));
        return;
    }
    txn_image *next = image_of(m);
    if (!next)
        return;
    next->state = m->cur.state == TXN_PREPARE_COMMIT ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
    txn_image_free(next);               /* Kafka's prepareComplete: no partitions */
    next->update_ms = txn_now_ms();
    txn_write(co, m, next, complete_written, NULL);
}

/* ---------------------------------------------------------- prepare */

typedef enum prep_for { PREP_CLIENT, PREP_INIT, PREP_TIMEOUT } prep_for;

static void answer_end(kreq *rq, int16_t err)
{
    end_txn_resp *r = kreq_new_response(rq);
    r->error_code = err;
    txn_respond(rq, r);
}

static void answer_init(kreq *rq, int16_t err, int64_t pid, int16_t epoch)
{
    init_producer_id_resp *r = kreq_new_response(rq);
    r->error_code = err;
    r->producer_id = err ? -1 : pid;
    r->producer_epoch = err ? -1 : epoch;
    txn_respond(rq, r);
}

/* TC4: the producer hears of the end of its transaction only once the
 * Prepare record is replicated; the markers follow. */
static void prepared(txn_coordinator *co, txn_meta *m, int16_t err, kreq *rq, prep_for why)
{
    if (why == PREP_CLIENT)
        answer_end(rq, err);
    else if (why == PREP_INIT)
        answer_init(rq, err ? err : KERR_CONCURRENT_TRANSACTIONS, -1, -1);
    if (!err)
        start_markers(co, m);
}

static void prepared_client(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    prepared(co, m, err, arg, PREP_CLIENT);
}

static void prepared_init(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    prepared(co, m, err, arg, PREP_INIT);
}

static void prepared_timeout(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    prepared(co, m, err, arg, PREP_TIMEOUT);
}

/* Abort m's ongoing transaction with the epoch bumped (Kafka's
 * prepareFenceProducerEpoch + endTransaction(abort)): the old producer's
 * requests are fenced from now on (TC10). */
static void fence_and_abort(txn_coordinator *co, txn_meta *m, kreq *init_rq)
{
    txn_image *next = image_of(m);
    if (!next) {
        if (init_rq)
            answer_init(init_rq, KERR_UNKNOWN_SERVER_ERROR, -1, -1);
        return;
    }
    if (next->epoch < MAX_EPOCH)
        next->epoch++;
    next->last_epoch = -1;
    next->state = TXN_PREPARE_ABORT;
    next->update_ms = txn_now_ms();
    txn_write(co, m, next, init_rq ? prepared_init : prepared_timeout, init_rq);
}

/* ------------------------------------------------------ InitProducerId */

static void init_written(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)co;
    answer_init(arg, err, m->cur.producer_id, m->cur.epoch);
}

void txn_init_producer_id(txn_coordinator *co, kreq *rq, void *spare_arg)
{
    init_producer_id_req *req = rq->body;
    int64_t spare = spare_arg ? *(int64_t *)spare_arg : -1;
    kstr id = req->transactional_id;
    bool expected = req->producer_id >= 0;
    int32_t part = -1;
    int16_t err = KERR_NONE;
    if (id.len <= 0)
        err = KERR_INVALID_REQUEST;
    else if (req->transaction_timeout_ms <= 0 || req->transaction_timeout_ms > co->max_timeout_ms)
        err = KERR_INVALID_TRANSACTION_TIMEOUT;      /* TC11 */
    else
        err = txn_check_owner(co, id, &part);
    if (err) {
        answer_init(rq, err, -1, -1);
        return;
    }
    txn_meta *m = txn_get(co, id);
    if (!m) {
        if (spare < 0) {
            answer_init(rq, KERR_COORDINATOR_NOT_AVAILABLE, -1, -1);
            return;
        }
        if (!(m = txn_create(co, id, part))) {
            answer_init(rq, KERR_UNKNOWN_SERVER_ERROR, -1, -1);
            return;
        }
        m->cur.producer_id = spare;
        m->cur.timeout_ms = req->transaction_timeout_ms;
        m->cur.update_ms = txn_now_ms();
        spare = -1;
    }
    if (m->pending) {
        answer_init(rq, KERR_CONCURRENT_TRANSACTIONS, -1, -1);
        return;
    }
    /* Kafka's isValidProducerId (KIP-360). */
    if (expected && !(m->cur.epoch < 0 || req->producer_id == m->cur.producer_id ||
                      (req->producer_id == m->cur.last_producer_id && epoch_exhausted(req->producer_epoch)))) {
        answer_init(rq, KERR_PRODUCER_FENCED, -1, -1);
        return;
    }
    switch (m->cur.state) {
    case TXN_ONGOING:
        fence_and_abort(co, m, rq);      /* CONCURRENT_TRANSACTIONS once prepared */
        return;
    case TXN_EMPTY:
    case TXN_COMPLETE_COMMIT:
    case TXN_COMPLETE_ABORT:
        break;
    default:                             /* Prepare*: markers out; the client retries */
        answer_init(rq, KERR_CONCURRENT_TRANSACTIONS, -1, -1);
        return;
    }
    txn_image *next = image_of(m);
    if (!next) {
        answer_init(rq, KERR_UNKNOWN_SERVER_ERROR, -1, -1);
        return;
    }
    if (epoch_exhausted(m->cur.epoch) && (!expected || req->producer_epoch == m->cur.epoch)) {
        /* Kafka's prepareProducerIdRotation. */
        if (spare < 0) {
            txn_image_free(next);
            free(next);
            answer_init(rq, KERR_COORDINATOR_NOT_AVAILABLE, -1, -1);
            return;
        }
        next->last_producer_id = m->cur.producer_id;
        next->producer_id = spare;
        next->epoch = 0;
        next->last_epoch = expected ? m->cur.epoch : -1;
    } else if (!expected) {
        next->epoch = (int16_t)(m->cur.epoch + 1);
        next->last_epoch = -1;
    } else if (req->producer_epoch < 0 || m->cur.epoch < 0 || req->producer_epoch == m->cur.epoch) {
        next->epoch = (int16_t)(m->cur.epoch + 1);
        next->last_epoch = m->cur.epoch;
    } else if (req->producer_epoch != m->cur.last_epoch) {
        txn_image_free(next);
        free(next);
        answer_init(rq, KERR_PRODUCER_FENCED, -1, -1);
        return;
    }                                    /* else: a retry of the last bump, answered again */
    next->timeout_ms = req->transaction_timeout_ms;
    next->state = TXN_EMPTY;
    next->start_ms = -1;
    txn_image_free(next);
    next->update_ms = txn_now_ms();
    txn_write(co, m, next, init_written, rq);
}

/* ------------------------------------------- AddPartitions / AddOffsets */

/* Kafka's checks before adding partitions (TC10). */
static int16_t check_producer(txn_coordinator *co, kstr id, int64_t pid, int16_t epoch, txn_meta **out)
{
    if (id.len <= 0)
        return KERR_INVALID_REQUEST;
    int16_t err = txn_check_owner(co, id, NULL);
    if (err)
        return err;
    txn_meta *m = txn_get(co, id);
    if (!m || m->cur.producer_id != pid)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (m->cur.epoch != epoch)
        return KERR_PRODUCER_FENCED;
    if (m->pending || m->cur.state == TXN_PREPARE_COMMIT || m->cur.state == TXN_PREPARE_ABORT)
        return KERR_CONCURRENT_TRANSACTIONS;
    *out = m;
    return KERR_NONE;
}

/* Add tps to m's transaction; done(arg) with the result.  Returns 1 when a
 * write was started, else the answer (NONE: all there already). */
static int add_tps(txn_coordinator *co, txn_meta *m, const txn_tp *tps, int n, txn_write_done done,
                   void *arg)
{
    int nnew = 0;
    for (int i = 0; i < n; i++)
        if (!txn_image_has(&m->cur, tps[i].topic, tps[i].partition))
            nnew++;
    if (m->cur.state == TXN_ONGOING && nnew == 0)
        return KERR_NONE;
    txn_image *next = image_of(m);
    txn_tp *grown = next ? realloc(next->tps, (size_t)(next->ntps + nnew + 1) * sizeof *grown) : NULL;
    if (!grown) {
        if (next) {
            txn_image_free(next);
            free(next);
        }
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    next->tps = grown;
    for (int i = 0; i < n; i++) {
        if (txn_image_has(next, tps[i].topic, tps[i].partition))
            continue;
        char *t = strdup(tps[i].topic);
        if (!t)
            break;
        next->tps[next->ntps++] = (txn_tp){ t, tps[i].partition };
    }
    int64_t now = txn_now_ms();
    if (m->cur.state != TXN_ONGOING)
        next->start_ms = now;
    next->state = TXN_ONGOING;
    next->update_ms = now;
    txn_write(co, m, next, done, arg);
    return 1;
}

/* The v0-3 response: every partition of the request with `err`, or, when
 * `unknown` is set, UNKNOWN_TOPIC_OR_PARTITION for the partitions that do
 * not exist and OPERATION_NOT_ATTEMPTED for the others (Kafka). */
static void answer_add(txn_coordinator *co, kreq *rq, int16_t err, bool unknown)
{
    add_partitions_to_txn_req *req = rq->body;
    add_partitions_to_txn_resp *r = kreq_new_response(rq);
    add_partitions_to_txn_topic_result *ts = KARRAY_ALLOC(&rq->arena, &r->results_by_topic, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        add_partitions_to_txn_topic *t = &req->topics.v[i];
        ts[i].name = t->name;
        topic *tp = unknown && t->name.len > 0
                        ? topic_registry_get(co->ctx.topics, t->name.p, (size_t)t->name.len) : NULL;
        add_partitions_to_txn_partition_result *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].results_by_partition, t->partitions.n);
        for (int32_t j = 0; ps && j < t->partitions.n; j++) {
            int32_t p = t->partitions.v[j];
            bool exists = tp && !atomic_load(&tp->deleted) && p >= 0 && p < topic_nparts(tp);
            ps[j].partition_index = p;
            ps[j].partition_error_code = !unknown ? err : exists ? KERR_OPERATION_NOT_ATTEMPTED
                                                                 : KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        topic_unref(tp);
    }
    txn_respond(rq, r);
}

static void add_written(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)m;
    answer_add(co, arg, err, false);
}

void txn_add_partitions(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    add_partitions_to_txn_req *req = rq->body;
    txn_meta *m = NULL;
    int16_t err = check_producer(co, req->transactional_id, req->producer_id, req->producer_epoch, &m);
    if (err) {
        answer_add(co, rq, err, false);
        return;
    }
    int n = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        n += req->topics.v[i].partitions.n > 0 ? req->topics.v[i].partitions.n : 0;
    int32_t ntopics = req->topics.n > 0 ? req->topics.n : 0;
    txn_tp *tps = calloc((size_t)n + 1, sizeof *tps);
    char **names = calloc((size_t)ntopics + 1, sizeof *names);
    bool missing = false;
    int k = 0;
    for (int32_t i = 0; tps && names && i < ntopics; i++) {
        add_partitions_to_txn_topic *t = &req->topics.v[i];
        topic *tp = t->name.len > 0 ? topic_registry_get(co->ctx.topics, t->name.p, (size_t)t->name.len) : NULL;
        names[i] = tp ? strdup(tp->name) : NULL;
        for (int32_t j = 0; j < t->partitions.n; j++) {
            int32_t p = t->partitions.v[j];
            if (!tp || !names[i] || atomic_load(&tp->deleted) || p < 0 || p >= topic_nparts(tp))
                missing = true;
            else
                tps[k++] = (txn_tp){ names[i], p };
        }
        topic_unref(tp);
    }
    int rc;
    if (!tps || !names)
        rc = KERR_UNKNOWN_SERVER_ERROR;
    else if (missing)
        rc = -1;
    else
        rc = add_tps(co, m, tps, k, add_written, rq);
    for (int32_t i = 0; names && i < ntopics; i++)    /* rq may be answered and gone */
        free(names[i]);
    free(names);
    free(tps);
    if (rc < 0)
        answer_add(co, rq, KERR_NONE, true);
    else if (rc != 1)
        answer_add(co, rq, (int16_t)rc, false);
}

static void answer_offsets(kreq *rq, int16_t err)
{
    add_offsets_to_txn_resp *r = kreq_new_response(rq);
    r->error_code = err;
    txn_respond(rq, r);
}

static void offsets_written(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)co;
    (void)m;
    answer_offsets(arg, err);
}

/* The group's __consumer_offsets partition joins the transaction, so its
 * coordinator gets a marker (for the TxnOffsetCommits) at the end. */
void txn_add_offsets(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    add_offsets_to_txn_req *req = rq->body;
    txn_meta *m = NULL;
    int16_t err = check_producer(co, req->transactional_id, req->producer_id, req->producer_epoch, &m);
    if (!err && req->group_id.len <= 0)
        err = KERR_INVALID_REQUEST;
    if (err) {
        answer_offsets(rq, err);
        return;
    }
    int32_t n = co->ctx.offsets_partitions ? co->ctx.offsets_partitions(co->ctx.arg) : 50;
    txn_tp tp = { (char *)OFFSETS_TOPIC_NAME,
                  java_partition_for(req->group_id.p, (size_t)req->group_id.len, n > 0 ? n : 1) };
    int rc = add_tps(co, m, &tp, 1, offsets_written, rq);
    if (rc != 1)
        answer_offsets(rq, (int16_t)rc);
}

/* --------------------------------------------------------------- EndTxn */

void txn_end_txn(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    end_txn_req *req = rq->body;
    kstr id = req->transactional_id;
    int16_t err = id.len <= 0 ? KERR_INVALID_REQUEST : txn_check_owner(co, id, NULL);
    txn_meta *m = err ? NULL : txn_get(co, id);
    if (!err && (!m || m->cur.producer_id != req->producer_id))
        err = KERR_INVALID_PRODUCER_ID_MAPPING;
    else if (!err && req->producer_epoch != m->cur.epoch)
        err = KERR_PRODUCER_FENCED;      /* TC10: strict equality for clients */
    else if (!err && m->pending)
        err = KERR_CONCURRENT_TRANSACTIONS;
    if (err) {
        answer_end(rq, err);
        return;
    }
    bool commit = req->committed;
    switch (m->cur.state) {
    case TXN_ONGOING:
        break;
    case TXN_COMPLETE_COMMIT:            /* a retry of what is done: NONE */
        answer_end(rq, commit ? KERR_NONE : KERR_INVALID_TXN_STATE);
        return;
    case TXN_COMPLETE_ABORT:
        answer_end(rq, commit ? KERR_INVALID_TXN_STATE : KERR_NONE);
        return;
    case TXN_PREPARE_COMMIT:             /* markers still out: retry later */
        answer_end(rq, commit ? KERR_CONCURRENT_TRANSACTIONS : KERR_INVALID_TXN_STATE);
        return;
    case TXN_PREPARE_ABORT:
        answer_end(rq, commit ? KERR_INVALID_TXN_STATE : KERR_CONCURRENT_TRANSACTIONS);
        return;
    default:
        answer_end(rq, KERR_INVALID_TXN_STATE);
        return;
    }
    txn_image *next = image_of(m);
    if (!next) {
        answer_end(rq, KERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    next->state = commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
    next->update_ms = txn_now_ms();
    txn_write(co, m, next, prepared_client, rq);
}

/* ------------------------------------------------------------- timers */

/* The owned transactional ids with no write or markers in flight for
 * which pick(co, m, now) holds (malloc'd; *n entries). */
static txn_meta **collect(txn_coordinator *co, bool (*pick)(txn_coordinator *, const txn_meta *, int64_t),
                          int *n)
{
    int64_t now = txn_now_ms();
    size_t it = 0;
    void *v;
    txn_meta **out = NULL;
    *n = 0;
    while (strmap_next(&co->txns, &it, NULL, NULL, &v)) {
        txn_meta *m = v;
        if (m->pending || m->sending || !txn_owns(co, m->part) || !pick(co, m, now))
            continue;
        txn_meta **no = realloc(out, (size_t)(*n + 1) * sizeof *no);
        if (!no)
            break;
        out = no;
        out[(*n)++] = m;
    }
    return out;
}

static bool timed_out_or_prepared(txn_coordinator *co, const txn_meta *m, int64_t now)
{
    (void)co;
    txn_state s = m->cur.state;
    return (s == TXN_ONGOING && m->cur.start_ms + m->cur.timeout_ms < now) ||
           s == TXN_PREPARE_COMMIT || s == TXN_PREPARE_ABORT;
}

/* Kafka's abortTimedOutTransactions: an Ongoing transaction older than its
 * timeout is aborted with the epoch bumped, so its producer is fenced
 * (TC12).  Prepared transactions whose markers are not out (a failed
 * queueing or completion write) are sent again (TC6). */
void txn_abort_timed_out(txn_coordinator *co)
{
    int n;
    txn_meta **todo = collect(co, timed_out_or_prepared, &n);
    for (int i = 0; i < n; i++) {
        txn_meta *m = todo[i];
        if (m->cur.state == TXN_ONGOING) {
            LOG_INF("txn", "transactional id %s: aborting its transaction (producer id %" PRId64
                    ", epoch %d): older than its timeout of %d ms", m->id, m->cur.producer_id,
                    m->cur.epoch, m->cur.timeout_ms);
            fence_and_abort(co, m, NULL);
        } else {
            txn_resume(co, m);
        }
    }
    free(todo);
}

static bool expired(txn_coordinator *co, const txn_meta *m, int64_t now)
{
    txn_state s = m->cur.state;
    return (s == TXN_EMPTY || s == TXN_COMPLETE_COMMIT || s == TXN_COMPLETE_ABORT) &&
           m->cur.update_ms + co->id_expiration_ms <= now;
}

/* Kafka's removeExpiredTransactionalIds: ids without a transaction for
 * transactional.id.expiration.ms get a tombstone (TC13). */
void txn_expire_ids(txn_coordinator *co)
{
    int n;
    txn_meta **todo = collect(co, expired, &n);
    for (int i = 0; i < n; i++)
        txn_write_tombstone(co, todo[i]);
    free(todo);
}
