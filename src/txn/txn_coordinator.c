/*
 * txn_coordinator.c - the transaction coordinator's thread: request
 * hand-off, the metadata of transactional ids, writing state changes to
 * __transaction_state and waiting until the ISR has them (TC2), and the
 * periodic timers (timed-out transactions, expired transactional ids).
 * See txn_coordinator.h for the model, docs/transactions.md for the rules.
 */
#include "txn/txn_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/javahash.h"
#include "core/log.h"
#include "proto/codec.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"

#define TXN_LOOP_ID -1
/* Kafka appends transaction state with request.timeout.ms (30 s) as the
 * longest wait for acks=all. */
#define TXN_WRITE_TIMEOUT_MS 30000

static const char *const state_names[TXN_NSTATES] = {
    "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
    "Dead", "PrepareEpochFence",
};

const char *txn_state_name(txn_state s)
{
    return (int)s >= 0 && (int)s < TXN_NSTATES ? state_names[s] : "Unknown";
}

int txn_state_by_name(kstr name)
{
    for (int i = 0; i < TXN_NSTATES; i++)
        if (name.len >= 0 && (size_t)name.len == strlen(state_names[i]) &&
            !memcmp(name.p, state_names[i], (size_t)name.len))
            return i;
    return -1;
}

int32_t txn_partition_for(const char *id, size_t len, int32_t nparts)
{
    return java_partition_for(id, len, nparts);
}

int64_t txn_now_ms(void) { return wall_ms(); }

/* -------------------------------------------------------------- hand-off */

void txn_respond(kreq *rq, const void *resp)
{
    kreq_respond_remote(rq, resp);
}

typedef struct submit_msg {
    txn_coordinator *co;
    kreq *rq;
    void (*fn)(txn_coordinator *, kreq *, void *);
    void *arg;
} submit_msg;

static void run_submitted(loop *lp, void *arg)
{
    (void)lp;
    submit_msg *m = arg;
    m->fn(m->co, m->rq, m->arg);
    free(m);
}

void txn_submit(txn_coordinator *co, kreq *rq, void (*fn)(txn_coordinator *, kreq *, void *),
                void *arg)
{
    submit_msg *m = malloc(sizeof *m);
    if (m)
        *m = (submit_msg){ co, rq, fn, arg };
    if (!m || !co || atomic_load(&co->stopped) || loop_post(co->lp, run_submitted, m) < 0) {
        free(m);
        kreq_fail_close(rq, "transaction coordinator unavailable");
    }
}

/* -------------------------------------------------------------- metadata */

txn_meta *txn_get(txn_coordinator *co, kstr id)
{
    return id.len > 0 ? strmap_get(&co->txns, id.p, (size_t)id.len) : NULL;
}

txn_meta *txn_create(txn_coordinator *co, kstr id, int32_t part)
{
    txn_meta *m = calloc(1, sizeof *m);
    char *s = id.len > 0 ? malloc((size_t)id.len + 1) : NULL;
    if (!m || !s) {
        free(m);
        free(s);
        return NULL;
    }
    memcpy(s, id.p, (size_t)id.len);
    s[id.len] = 0;
    m->id = s;
    m->part = part;
    m->cur = (txn_image){ .producer_id = -1, .last_producer_id = -1, .epoch = -1, .last_epoch = -1,
                          .state = TXN_EMPTY, .start_ms = -1 };
    int err = 0;
    strmap_put(&co->txns, s, (size_t)id.len, m, &err);
    if (err) {
        free(s);
        free(m);
        return NULL;
    }
    return m;
}

void txn_image_free(txn_image *im)
{
    for (int i = 0; im && i < im->ntps; i++)
        free(im->tps[i].topic);
    if (im) {
        free(im->tps);
        im->tps = NULL;
        im->ntps = 0;
    }
}

int txn_image_copy(txn_image *dst, const txn_image *src)
{
    *dst = *src;
    dst->tps = NULL;
    dst->ntps = 0;
    if (src->ntps == 0)
        return 0;
    dst->tps = calloc((size_t)src->ntps, sizeof *dst->tps);
    if (!dst->tps)
        return -1;
    for (int i = 0; i < src->ntps; i++) {
        dst->tps[i].partition = src->tps[i].partition;
        if (!(dst->tps[i].topic = strdup(src->tps[i].topic))) {
            txn_image_free(dst);
            return -1;
        }
        dst->ntps++;
    }
    return 0;
}

bool txn_image_has(const txn_image *im, const char *tname, int32_t part)
{
    for (int i = 0; i < im->ntps; i++)
        if (im->tps[i].partition == part && !strcmp(im->tps[i].topic, tname))
            return true;
    return false;
}

void txn_meta_free(txn_meta *m)
{
    if (!m)
        return;
    txn_image_free(&m->cur);
    if (m->pending) {
        txn_image_free(m->pending);
        free(m->pending);
    }
    free(m->id);
    free(m);
}

/* --------------------------------------------------------------- records */

/* The image as TransactionLogValue v0: partitions grouped per topic, null
 * in state Empty (as Kafka writes it). */
int txn_record(const char *id, const txn_image *im, uint8_t **key, int32_t *klen, uint8_t **val,
               int32_t *vlen)
{
    trec_key k = { .transactional_id = kstr_c(id) };
    *val = NULL;
    *vlen = -1;
    if (kcodec_encode_versioned(0, &trec_key_schema, false, &k, key, klen))
        return -1;
    if (!im)
        return 0;                        /* tombstone */
    trec_value v;
    kcodec_defaults(&trec_value_schema, &v);
    v.producer_id = im->producer_id;
    v.previous_producer_id = im->last_producer_id;
    v.producer_epoch = im->epoch;
    v.transaction_timeout_ms = im->timeout_ms;
    v.transaction_status = (int8_t)im->state;
    v.last_update_timestamp_ms = im->update_ms;
    v.start_timestamp_ms = im->start_ms;
    trec_partitions *ps = calloc((size_t)im->ntps + 1, sizeof *ps);
    int32_t *ids = calloc((size_t)im->ntps + 1, sizeof *ids);
    int rc = -1;
    if (!ps || !ids)
        goto out;
    int np = 0, nid = 0;
    for (int i = 0; i < im->ntps; i++) {
        int j = 0;
        while (j < np && strcmp(ps[j].topic.p, im->tps[i].topic))
            j++;
        if (j < np)
            continue;                    /* topic done with its first occurrence */
        ps[np].topic = kstr_c(im->tps[i].topic);
        ps[np].partition_ids.v = &ids[nid];
        for (int l = i; l < im->ntps; l++)
            if (!strcmp(im->tps[l].topic, im->tps[i].topic))
                ids[nid++] = im->tps[l].partition;
        ps[np].partition_ids.n = (int32_t)(&ids[nid] - ps[np].partition_ids.v);
        np++;
    }
    v.transaction_partitions.n = im->state == TXN_EMPTY ? -1 : np;
    v.transaction_partitions.v = ps;
    rc = kcodec_encode_versioned(0, &trec_value_schema, false, &v, val, vlen);
out:
    free(ps);
    free(ids);
    if (rc) {
        free(*key);
        *key = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- writes */

/* Kafka's TransactionStateManager.appendTransactionToLog error mapping. */
static int16_t map_write_error(int16_t err)
{
    switch (err) {
    case KERR_NONE: return KERR_NONE;
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KERR_NOT_ENOUGH_REPLICAS:
    case KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case KERR_REQUEST_TIMED_OUT:
        return KERR_COORDINATOR_NOT_AVAILABLE;
    case KERR_NOT_LEADER_OR_FOLLOWER:
    case KERR_KAFKA_STORAGE_ERROR:
    case KERR_NOT_COORDINATOR:
        return KERR_NOT_COORDINATOR;
    case KERR_COORDINATOR_NOT_AVAILABLE:
        return err;
    default:
        return KERR_UNKNOWN_SERVER_ERROR;
    }
}

/* The write of m's pending image ended: TC2 makes it current only now. */
static void write_ended(txn_coordinator *co, txn_meta *m, int16_t err, txn_write_done done, void *arg)
{
    txn_image *next = m->pending;
    m->pending = NULL;
    err = map_write_error(err);
    if (!err && next) {
        txn_image_free(&m->cur);
        m->cur = *next;
    } else if (next) {
        txn_image_free(next);
    }
    free(next);
    if (done)
        done(co, m, err, arg);
}

/* TC2: 1 while waiting, else the answer.  A new leader epoch with this
 * broker still leading (an ISR change bumps it) keeps the wait when the
 * leader-epoch cache says the record's offsets still belong to the epoch it
 * was appended in (docs/cluster.md C9); otherwise the record may be gone:
 * NOT_COORDINATOR. */
static int wait_status(txn_coordinator *co, const txn_wait *w)
{
    partition *p = co->tt ? topic_partition(co->tt, w->part) : NULL;
    if (!p || !p->log || !partition_led_by(p, co->ctx.node_id))
        return KERR_NOT_COORDINATOR;
    int32_t now = atomic_load(&p->leader_epoch);
    if (now != w->epoch) {
        int32_t e = -1;
        int64_t end = -1;
        plog_epoch_end_offset(p->log, w->epoch, now, &e, &end);
        if (e != w->epoch || end < w->need)
            return KERR_NOT_COORDINATOR;
    }
    return plog_high_watermark(p->log) >= w->need ? KERR_NONE : 1;
}

static void finish_wait(txn_coordinator *co, int i, int16_t err)
{
    txn_wait w = co->waits[i];
    memmove(&co->waits[i], &co->waits[i + 1], (size_t)(co->nwaits - i - 1) * sizeof *co->waits);
    co->nwaits--;
    write_ended(co, w.m, err, w.done, w.arg);
}

static void check_waits(txn_coordinator *co)
{
    for (int i = 0; i < co->nwaits;) {
        int st = wait_status(co, &co->waits[i]);
        if (st == 1)
            i++;
        else
            finish_wait(co, i, (int16_t)st);
    }
}

void txn_fail_waits(txn_coordinator *co, int32_t part, int16_t err)
{
    for (int i = 0; i < co->nwaits;) {
        if (co->waits[i].part == part)
            finish_wait(co, i, err);
        else
            i++;
    }
}

static void waits_timed_out(loop *lp, ktimer *t)
{
    txn_coordinator *co = (txn_coordinator *)((char *)t - offsetof(txn_coordinator, wait_timer));
    check_waits(co);
    int64_t now = loop_now_us(lp), first = INT64_MAX;
    for (int i = 0; i < co->nwaits;) {
        if (co->waits[i].deadline_us <= now) {
            LOG_WRN("txn", "%s-%d: write of transactional id %s not replicated within %d ms",
                    TXN_TOPIC, co->waits[i].part, co->waits[i].m->id, co->write_timeout_ms);
            finish_wait(co, i, KERR_REQUEST_TIMED_OUT);
            continue;
        }
        if (co->waits[i].deadline_us < first)
            first = co->waits[i].deadline_us;
        i++;
    }
    if (first != INT64_MAX)
        loop_timer_arm(lp, t, first);
}

/* Append one record to m's partition (leader only, min.insync.replicas
 * checked first, as Kafka's acks=all append); the HW wait follows. */
static int16_t append_record(txn_coordinator *co, txn_meta *m, const txn_image *im, int64_t *need,
                             int32_t *epoch)
{
    partition *p = co->tt ? topic_partition(co->tt, m->part) : NULL;
    if (!p || !p->log)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (!partition_led_by(p, co->ctx.node_id) || !txn_owns(co, m->part))
        return KERR_NOT_COORDINATOR;
    partition_state *st = partition_state_get(p);
    int32_t nisr = st ? st->nisr : 0;
    pstate_unref(st);
    if (nisr < atomic_load(&co->tt->min_insync_replicas))
        return KERR_NOT_ENOUGH_REPLICAS;
    bb_record rec = { .timestamp = txn_now_ms() };
    uint8_t *k = NULL, *v = NULL;
    int32_t kl = 0, vl = -1;
    if (txn_record(m->id, im->state == TXN_DEAD ? NULL : im, &k, &kl, &v, &vl) < 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    rec.key = k;
    rec.key_len = kl;
    rec.value = v;
    rec.value_len = vl;
    bb_params bp;
    bb_params_init(&bp);
    uint8_t *batch = NULL;
    size_t len = 0;
    int16_t err = (int16_t)bb_build(&bp, &rec, 1, &batch, &len);
    free(k);
    free(v);
    if (err)
        return KERR_UNKNOWN_SERVER_ERROR;
    *epoch = atomic_load(&p->leader_epoch);
    plog_append_result ar;
    plog_append(p->log, batch, len, *epoch, txn_now_ms(), &ar);
    free(batch);
    if (ar.error)
        return ar.error;
    if (atomic_load_explicit(&p->isr_solo, memory_order_relaxed))
        plog_set_high_watermark(p->log, ar.end_offset);   /* C6: the leader alone is the ISR */
    partition_notify(p);
    *need = ar.last_offset + 1;
    return KERR_NONE;
}

void txn_write(txn_coordinator *co, txn_meta *m, txn_image *next, txn_write_done done, void *arg)
{
    m->pending = next;                 /* TC3: CONCURRENT_TRANSACTIONS until it ends */
    next->update_ms = next->update_ms > 0 ? next->update_ms : txn_now_ms();
    int64_t need = 0;
    int32_t epoch = -1;
    int16_t err = append_record(co, m, next, &need, &epoch);
    if (err) {
        LOG_WRN("txn", "transactional id %s: cannot write %s: %s", m->id, txn_state_name(next->state),
                kerr_name(err));
        write_ended(co, m, err, done, arg);
        return;
    }
    if (co->nwaits == co->capwaits) {
        int cap = co->capwaits ? co->capwaits * 2 : 64;
        txn_wait *nw = realloc(co->waits, (size_t)cap * sizeof *nw);
        if (!nw) {
            write_ended(co, m, KERR_UNKNOWN_SERVER_ERROR, done, arg);
            return;
        }
        co->waits = nw;
        co->capwaits = cap;
    }
    co->waits[co->nwaits++] = (txn_wait){
        .part = m->part, .need = need, .epoch = epoch,
        .deadline_us = loop_now_us(co->lp) + (int64_t)co->write_timeout_ms * 1000,
        .m = m, .done = done, .arg = arg,
    };
    if (!ktimer_armed(&co->wait_timer))
        loop_timer_arm(co->lp, &co->wait_timer, co->waits[co->nwaits - 1].deadline_us);
    check_waits(co);
}

static void tombstone_done(txn_coordinator *co, txn_meta *m, int16_t err, void *arg)
{
    (void)arg;
    if (err)
        return;                        /* kept: tried again at the next expiration pass */
    LOG_INF("txn", "transactional id %s expired", m->id);
    strmap_del(&co->txns, m->id, strlen(m->id));
    txn_meta_free(m);
}

void txn_write_tombstone(txn_coordinator *co, txn_meta *m)
{
    /* The pending image says Dead; the record itself is a tombstone. */
    txn_image *dead = calloc(1, sizeof *dead);
    if (!dead)
        return;
    *dead = (txn_image){ .producer_id = m->cur.producer_id, .last_producer_id = m->cur.last_producer_id,
                         .epoch = m->cur.epoch, .last_epoch = m->cur.last_epoch,
                         .timeout_ms = m->cur.timeout_ms, .state = TXN_DEAD,
                         .start_ms = m->cur.start_ms, .update_ms = txn_now_ms() };
    txn_write(co, m, dead, tombstone_done, NULL);
}

/* ---------------------------------------------------------------- timers */

static void abort_tick(loop *lp, ktimer *t)
{
    txn_coordinator *co = (txn_coordinator *)((char *)t - offsetof(txn_coordinator, abort_timer));
    txn_abort_timed_out(co);
    loop_timer_arm(lp, t, loop_now_us(lp) + co->abort_interval_ms * 1000);
}

static void expire_tick(loop *lp, ktimer *t)
{
    txn_coordinator *co = (txn_coordinator *)((char *)t - offsetof(txn_coordinator, expire_timer));
    txn_expire_ids(co);
    loop_timer_arm(lp, t, loop_now_us(lp) + co->expire_interval_ms * 1000);
}

/* ------------------------------------------------------------ the thread */

static void on_kick(loop *lp, void *arg)
{
    txn_coordinator *co = arg;
    if (atomic_exchange(&co->watcher.dirty, false))
        check_waits(co);
    if (co->nloading > 0 && txn_load_step(co))
        loop_kick(lp);
}

static void *txn_main(void *arg)
{
    txn_coordinator *co = arg;
    txn_load_all(co);
    int64_t now = loop_now_us(co->lp);
    loop_timer_arm(co->lp, &co->abort_timer, now + co->abort_interval_ms * 1000);
    loop_timer_arm(co->lp, &co->expire_timer, now + co->expire_interval_ms * 1000);
    loop_run(co->lp);
    return NULL;
}

typedef struct created_msg {
    txn_coordinator *co;
    topic *t;
} created_msg;

static void created_on_loop(loop *lp, void *arg)
{
    (void)lp;
    created_msg *m = arg;
    txn_topic_attach(m->co, m->t, true);
    topic_unref(m->t);
    free(m);
}

void txn_coordinator_topic_created(txn_coordinator *co, topic *t)
{
    created_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (!m)
        return;
    topic_ref(t);
    *m = (created_msg){ co, t };
    if (loop_post(co->lp, created_on_loop, m) < 0) {
        topic_unref(t);
        free(m);
    }
}

txn_coordinator *txn_coordinator_start(const txn_ctx *ctx, char *err, size_t errlen)
{
    const struct broker_config *cfg = ctx->config(ctx->arg);
    txn_coordinator *co = calloc(1, sizeof *co);
    if (!co) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    co->ctx = *ctx;
    strmap_init(&co->txns);
    co->lp = loop_new(TXN_LOOP_ID);
    if (!co->lp) {
        free(co);
        snprintf(err, errlen, "cannot create the transaction coordinator loop");
        return NULL;
    }
    co->watcher.lp = co->lp;
    atomic_init(&co->watcher.dirty, false);
    loop_set_kick(co->lp, on_kick, co);
    ktimer_init(&co->wait_timer, waits_timed_out);
    ktimer_init(&co->abort_timer, abort_tick);
    ktimer_init(&co->expire_timer, expire_tick);
    co->max_timeout_ms = cfg->transaction_max_timeout_ms;
    co->id_expiration_ms = cfg->transactional_id_expiration_ms;
    co->abort_interval_ms = cfg->transaction_abort_timed_out_transaction_cleanup_interval_ms;
    co->expire_interval_ms = cfg->transaction_remove_expired_transaction_cleanup_interval_ms;
    co->write_timeout_ms = TXN_WRITE_TIMEOUT_MS;
    if (!(co->mk = txn_markers_start(co, err, errlen))) {
        loop_free(co->lp);
        free(co);
        return NULL;
    }
    if (pthread_create(&co->thread, NULL, txn_main, co) != 0) {
        txn_markers_free(co->mk);
        loop_free(co->lp);
        free(co);
        snprintf(err, errlen, "cannot start the transaction coordinator thread");
        return NULL;
    }
    pthread_setname_np(co->thread, "samsa-txn");
    co->running = true;
    return co;
}

static void shutdown_on_loop(loop *lp, void *arg)
{
    txn_coordinator *co = arg;
    for (int32_t i = 0; i < co->nparts; i++)
        txn_fail_waits(co, i, KERR_NOT_COORDINATOR);
    loop_timer_cancel(lp, &co->wait_timer);
    loop_timer_cancel(lp, &co->abort_timer);
    loop_timer_cancel(lp, &co->expire_timer);
    loop_stop(lp);
}

void txn_coordinator_stop(txn_coordinator *co)
{
    if (!co || !co->running || atomic_exchange(&co->stopped, true))
        return;
    txn_markers_stop(co->mk);          /* no completion is posted after this; sends now fail */
    loop_post(co->lp, shutdown_on_loop, co);   /* after the completions already posted */
    pthread_join(co->thread, NULL);
    size_t it = 0;
    void *v;
    while (strmap_next(&co->txns, &it, NULL, NULL, &v))
        txn_meta_free(v);
    strmap_free(&co->txns);
    if (co->tt) {
        for (int32_t i = 0; i < co->nparts; i++)
            partition_unwatch(topic_partition(co->tt, i), &co->watcher);
        topic_unref(co->tt);
        co->tt = NULL;
    }
    free(co->waits);
    co->waits = NULL;
    free(co->parts);
    co->parts = NULL;
    txn_markers_free(co->mk);          /* the coordinator thread, its other user, is joined */
    co->mk = NULL;
}

void txn_coordinator_free(txn_coordinator *co)
{
    if (!co)
        return;
    txn_coordinator_stop(co);
    loop_free(co->lp);
    free(co);
}
