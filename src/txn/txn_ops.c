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
 * no longer owns is ignored (TC8); one sent at an older coordinator epoch
 * of a partition still owned (its leader epoch moved on, an ISR change)
 * has the markers sent again at the current epoch. */
void txn_markers_done(txn_coordinator *co, const char *id, int32_t part, int32_t coord_epoch,
                      int16_t err)
{
    txn_meta *m = txn_get(co, kstr_c(id));
    if (!m || m->part != part || !txn_owns(co, part))
        return;
    m->sending = false;
    if (co->parts[part].epoch != coord_epoch) {
        txn_resume(co, m);
        return;
    }
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

static int16_t fenced_for(const kreq *rq, int16_t err);

static void answer_end(kreq *rq, int16_t err)
{
    end_txn_resp *r = kreq_new_response(rq);
    r->error_code = fenced_for(rq, err);
    txn_respond(rq, r);
}

static void answer_init(kreq *rq, int16_t err, int64_t pid, int16_t epoch)
{
    init_producer_id_resp *r = kreq_new_response(rq);
    r->error_code = fenced_for(rq, err);
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
    /* Kafka 4.4 (checked against it): while the markers of the last
     * transaction are out, even an older epoch is told to retry. */
    if (m->pending || m->cur.state == TXN_PREPARE_COMMIT || m->cur.state == TXN_PREPARE_ABORT)
        return KERR_CONCURRENT_TRANSACTIONS;
    if (m->cur.epoch != epoch)
        return KERR_PRODUCER_FENCED;
    *out = m;
    return KERR_NONE;
}

/* KIP-588: PRODUCER_FENCED exists from InitProducerId v4, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn v2; older versions get INVALID_PRODUCER_EPOCH. */
static int16_t fenced_for(const kreq *rq, int16_t err)
{
    int16_t first = rq->hdr.api_key == INIT_PRODUCER_ID_API_KEY ? 4 : 2;
    return err == KERR_PRODUCER_FENCED && rq->hdr.api_version < first ? KERR_INVALID_PRODUCER_EPOCH : err;
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

/* AddPartitionsToTxn: v0-3 carry one transaction (a producer's); v4+ a
 * list (the batched form brokers send, KIP-890), each answered on its own,
 * verify_only asking whether the partitions are in the transaction.  Every
 * transaction's partition answers are kept in request order until the last
 * write ends; then the response is built. */
typedef struct apt_req apt_req;

typedef struct apt_txn {
    apt_req *req;
    kstr id;
    int64_t pid;
    int16_t epoch;
    bool verify;
    int32_t ntopics;
    add_partitions_to_txn_topic *topics;
    int16_t *codes;                /* one per partition, request order */
    int ncodes;
} apt_txn;

struct apt_req {
    kreq *rq;
    int pending;                   /* writes in flight + 1 while the request is walked */
    int32_t n;
    apt_txn *txns;
};

static void codes_all(apt_txn *t, int16_t err)
{
    for (int i = 0; i < t->ncodes; i++)
        t->codes[i] = err;
}

static add_partitions_to_txn_topic_result *topic_results(kreq *rq, const apt_txn *t, void *arr)
{
    add_partitions_to_txn_topic_result *ts = karray_alloc(&rq->arena, arr, t->ntopics, sizeof *ts);
    int k = 0;
    for (int32_t i = 0; ts && i < t->ntopics; i++) {
        ts[i].name = t->topics[i].name;
        int32_t np = t->topics[i].partitions.n > 0 ? t->topics[i].partitions.n : 0;
        add_partitions_to_txn_partition_result *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].results_by_partition, np);
        for (int32_t j = 0; ps && j < np; j++, k++)
            ps[j] = (add_partitions_to_txn_partition_result){ t->topics[i].partitions.v[j],
                                                              fenced_for(rq, t->codes[k]) };
    }
    return ts;
}

static void apt_done(apt_req *a)
{
    if (--a->pending > 0)
        return;
    kreq *rq = a->rq;
    add_partitions_to_txn_resp *r = kreq_new_response(rq);
    if (rq->hdr.api_version < 4) {
        if (a->n == 1)
            topic_results(rq, &a->txns[0], &r->results_by_topic);
    } else {
        add_partitions_to_txn_result *rs = KARRAY_ALLOC(&rq->arena, &r->results_by_transaction, a->n);
        for (int32_t i = 0; rs && i < a->n; i++) {
            rs[i].transactional_id = a->txns[i].id;
            topic_results(rq, &a->txns[i], &rs[i].topic_results);
        }
    }
    txn_respond(rq, r);
}

static void apt_written(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)co;
    (void)m;
    apt_txn *t = arg;
    codes_all(t, err);
    apt_done(t->req);
}

static bool meta_has(const txn_meta *m, kstr topic_name, int32_t index)
{
    char name[256];
    if (topic_name.len <= 0 || (size_t)topic_name.len >= sizeof name)
        return false;
    memcpy(name, topic_name.p, (size_t)topic_name.len);
    name[topic_name.len] = 0;
    return txn_image_has(&m->cur, name, index);
}

/* Kafka checks that the partitions exist before anything else (KafkaApis,
 * every version, verify_only too): when one does not, the unknown ones are
 * UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED (true). */
static bool apt_unknown(txn_coordinator *co, apt_txn *t)
{
    bool missing = false;
    int c = 0;
    for (int32_t i = 0; i < t->ntopics; i++) {
        add_partitions_to_txn_topic *tt = &t->topics[i];
        topic *tp = tt->name.len > 0 ? topic_registry_get(co->ctx.topics, tt->name.p, (size_t)tt->name.len) : NULL;
        for (int32_t j = 0; j < tt->partitions.n; j++, c++) {
            int32_t p = tt->partitions.v[j];
            bool exists = tp && !atomic_load(&tp->deleted) && p >= 0 && p < topic_nparts(tp);
            t->codes[c] = exists ? KERR_OPERATION_NOT_ATTEMPTED : KERR_UNKNOWN_TOPIC_OR_PARTITION;
            missing |= !exists;
        }
        topic_unref(tp);
    }
    return missing;
}

/* Kafka's handleVerifyPartitionsInTransaction: no write. */
static void apt_verify(txn_coordinator *co, apt_txn *t)
{
    int16_t err = t->id.len <= 0 ? KERR_INVALID_REQUEST : txn_check_owner(co, t->id, NULL);
    txn_meta *m = err ? NULL : txn_get(co, t->id);
    if (!err && (!m || m->cur.producer_id != t->pid))
        err = KERR_INVALID_PRODUCER_ID_MAPPING;
    else if (!err && m->cur.epoch != t->epoch)
        err = KERR_PRODUCER_FENCED;
    else if (!err && (m->cur.state == TXN_PREPARE_COMMIT || m->cur.state == TXN_PREPARE_ABORT))
        err = KERR_CONCURRENT_TRANSACTIONS;
    if (err) {
        codes_all(t, err);
        return;
    }
    int k = 0;
    for (int32_t i = 0; i < t->ntopics; i++)
        for (int32_t j = 0; j < t->topics[i].partitions.n; j++, k++)
            t->codes[k] = meta_has(m, t->topics[i].name, t->topics[i].partitions.v[j])
                              ? KERR_NONE : KERR_TRANSACTION_ABORTABLE;
}

/* Add t's partitions: its codes are set now, or by apt_written once the
 * write started here ends. */
static void apt_add(txn_coordinator *co, apt_txn *t)
{
    txn_meta *m = NULL;
    int16_t err = check_producer(co, t->id, t->pid, t->epoch, &m);
    txn_tp *tps = err ? NULL : calloc((size_t)t->ncodes + 1, sizeof *tps);
    char **names = err ? NULL : calloc((size_t)t->ntopics + 1, sizeof *names);
    if (!err && (!tps || !names))
        err = KERR_UNKNOWN_SERVER_ERROR;
    int k = 0;
    for (int32_t i = 0; !err && i < t->ntopics; i++) {
        add_partitions_to_txn_topic *tt = &t->topics[i];
        topic *tp = tt->name.len > 0 ? topic_registry_get(co->ctx.topics, tt->name.p, (size_t)tt->name.len) : NULL;
        names[i] = tp ? strdup(tp->name) : NULL;
        for (int32_t j = 0; j < tt->partitions.n; j++) {
            if (!names[i] || tt->partitions.v[j] >= topic_nparts(tp))
                err = KERR_UNKNOWN_TOPIC_OR_PARTITION;    /* gone since apt_unknown */
            else
                tps[k++] = (txn_tp){ names[i], tt->partitions.v[j] };
        }
        topic_unref(tp);
    }
    if (err) {
        codes_all(t, err);
    } else {
        t->req->pending++;
        int rc = add_tps(co, m, tps, k, apt_written, t);
        if (rc != 1) {
            t->req->pending--;
            codes_all(t, (int16_t)rc);
        }
    }
    for (int32_t i = 0; names && i < t->ntopics; i++)
        free(names[i]);
    free(names);
    free(tps);
}

static int apt_init(kreq *rq, apt_txn *t, apt_req *a, kstr id, int64_t pid, int16_t epoch, bool verify,
                    int32_t ntopics, add_partitions_to_txn_topic *topics)
{
    *t = (apt_txn){ .req = a, .id = id, .pid = pid, .epoch = epoch, .verify = verify,
                    .ntopics = ntopics > 0 ? ntopics : 0, .topics = topics };
    for (int32_t i = 0; i < t->ntopics; i++)
        t->ncodes += t->topics[i].partitions.n > 0 ? t->topics[i].partitions.n : 0;
    t->codes = arena_alloc(&rq->arena, (size_t)t->ncodes * sizeof *t->codes + 1);
    return t->codes ? 0 : -1;
}

void txn_add_partitions(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    add_partitions_to_txn_req *req = rq->body;
    bool batched = rq->hdr.api_version >= 4;
    apt_req *a = arena_alloc(&rq->arena, sizeof *a);
    int32_t n = batched ? (req->transactions.n > 0 ? req->transactions.n : 0) : 1;
    apt_txn *ts = a ? arena_alloc(&rq->arena, (size_t)n * sizeof *ts + 1) : NULL;
    if (!ts) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    *a = (apt_req){ .rq = rq, .pending = 1, .n = n, .txns = ts };
    for (int32_t i = 0; i < n; i++) {
        int rc = batched ? apt_init(rq, &ts[i], a, req->transactions.v[i].transactional_id,
                                    req->transactions.v[i].producer_id,
                                    req->transactions.v[i].producer_epoch,
                                    req->transactions.v[i].verify_only, req->transactions.v[i].topics.n,
                                    req->transactions.v[i].topics.v)
                         : apt_init(rq, &ts[i], a, req->transactional_id, req->producer_id,
                                    req->producer_epoch, false, req->topics.n, req->topics.v);
        if (rc < 0) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
    }
    for (int32_t i = 0; i < n; i++) {
        if (apt_unknown(co, &ts[i]))
            continue;
        if (ts[i].verify)
            apt_verify(co, &ts[i]);
        else
            apt_add(co, &ts[i]);
    }
    apt_done(a);                  /* the walk's own count: answers when no write is left */
}

static void answer_offsets(kreq *rq, int16_t err)
{
    add_offsets_to_txn_resp *r = kreq_new_response(rq);
    r->error_code = fenced_for(rq, err);
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
