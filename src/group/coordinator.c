/*
 * coordinator.c - the coordinator thread: its loop, request hand-off,
 * writing records durably (and, with followers in the ISR, replicated:
 * G13), and offset expiration.  Loading and partition ownership are in
 * coord_load.c.  See coordinator.h for the model.
 */
#include "group/coordinator_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/offsets_records.h"
#include "proto/codec.h"
#include "proto/messages/join_group.h"
#include "proto/messages/sync_group.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "storage/record_iter.h"

#define COORD_LOOP_ID -1            /* not a network loop (it parks no delayed ops) */

int64_t coord_now_ms(void) { return wall_ms(); }

char *coord_strdup_k(kstr s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s.p, n);
        p[n] = 0;
    }
    return p;
}

int coord_entry_set_metadata(offset_entry *e, kstr s)
{
    e->metadata = coord_strdup_k(s);
    e->metadata_len = e->metadata && s.len > 0 ? s.len : 0;
    return e->metadata ? 0 : -1;
}

kstr coord_entry_metadata(const offset_entry *e)
{
    return e->metadata ? (kstr){ e->metadata, e->metadata_len } : kstr_c("");
}

bool kstr_is(kstr s, const char *c)
{
    if (!c)
        return s.len < 0;
    return s.len >= 0 && (size_t)s.len == strlen(c) && !memcmp(s.p, c, (size_t)s.len);
}

/* -------------------------------------------------------------- hand-off */

void coord_respond(kreq *rq, const void *resp)
{
    kreq_respond_remote(rq, resp);
}

typedef struct submit_msg {
    coordinator *co;
    kreq *rq;
    void (*fn)(coordinator *, kreq *);
} submit_msg;

static void run_submitted(loop *lp, void *arg)
{
    submit_msg *m = arg;
    m->fn(m->co, m->rq);
    free(m);
}

void coordinator_submit(coordinator *co, kreq *rq, void (*fn)(coordinator *, kreq *))
{
    submit_msg *m = malloc(sizeof *m);
    if (m) {
        m->co = co;
        m->rq = rq;
        m->fn = fn;
    }
    if (!m || !co || atomic_load(&co->stopped) || loop_post(co->lp, run_submitted, m) < 0) {
        free(m);
        kreq_fail_close(rq, "group coordinator unavailable");
    }
}

/* ---------------------------------------------------------------- groups */

group *coord_group(coordinator *co, const char *id)
{
    return strmap_get(&co->groups, id, strlen(id));
}

group *coord_group_create(coordinator *co, const char *id)
{
    int32_t part = group_partition_for(id, strlen(id), co->nparts > 0 ? co->nparts : 1);
    group *g = group_new(id, part);
    if (!g)
        return NULL;
    g->co = co;
    g->state_ts_ms = coord_now_ms();
    int err = 0;
    strmap_put(&co->groups, id, strlen(id), g, &err);
    if (err) {
        group_free(g);
        return NULL;
    }
    return g;
}

void coord_group_delete(coordinator *co, group *g)
{
    loop_timer_cancel(co->lp, &g->join_timer);
    loop_timer_cancel(co->lp, &g->sync_timer);
    for (int i = 0; i < g->nmembers; i++)
        loop_timer_cancel(co->lp, &g->members[i]->session);
    for (int i = 0; i < g->npending; i++)
        loop_timer_cancel(co->lp, &g->pending[i]->expiry);
    strmap_del(&co->groups, g->id, strlen(g->id));
    strmap_del(&co->txn_groups, g->id, strlen(g->id));    /* TG4 */
    group_free(g);
}

/* --------------------------------------------------------------- records */

void coord_record_free(bb_record *rec)
{
    free((void *)rec->key);
    free((void *)rec->value);
    memset(rec, 0, sizeof *rec);
}

static int group_key(const group *g, bb_record *rec)
{
    orec_group_key k = { .group = kstr_c(g->id) };
    uint8_t *p;
    int32_t n;
    if (kcodec_encode_versioned(OREC_KEY_GROUP, &orec_group_key_schema, false, &k, &p, &n))
        return -1;
    rec->key = p;
    rec->key_len = n;
    return 0;
}

int coord_group_tombstone(const group *g, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    rec->value_len = -1;
    return group_key(g, rec);
}

int coord_group_record(const group *g, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    if (group_key(g, rec))
        return -1;
    orec_group_value v;
    kcodec_defaults(&orec_group_value_schema, &v);
    v.protocol_type = kstr_c(g->protocol_type ? g->protocol_type : "");
    v.generation = g->generation;
    v.protocol = g->protocol ? kstr_c(g->protocol) : (kstr){ NULL, -1 };
    v.leader = g->leader ? kstr_c(g->leader) : (kstr){ NULL, -1 };
    v.current_state_timestamp = g->state_ts_ms;
    orec_group_member *ms = calloc((size_t)g->nmembers + 1, sizeof *ms);
    if (!ms) {
        coord_record_free(rec);
        return -1;
    }
    v.members.n = g->nmembers;
    v.members.v = ms;
    for (int i = 0; i < g->nmembers; i++) {
        const member *m = g->members[i];
        const group_protocol *pr = member_protocol(m, g->protocol);
        ms[i] = (orec_group_member){
            .member_id = kstr_c(m->id),
            .group_instance_id = m->instance_id ? kstr_c(m->instance_id) : (kstr){ NULL, -1 },
            .client_id = kstr_c(m->client_id), .client_host = kstr_c(m->client_host),
            .rebalance_timeout = m->rebalance_timeout_ms, .session_timeout = m->session_timeout_ms,
            .subscription = pr ? (kbytes){ pr->meta, pr->meta_len } : (kbytes){ NULL, 0 },
            .assignment = (kbytes){ m->assignment, m->assignment_len },
        };
    }
    uint8_t *p;
    int32_t n;
    int rc = kcodec_encode_versioned(3, &orec_group_value_schema, false, &v, &p, &n);
    free(ms);
    if (rc) {
        coord_record_free(rec);
        return -1;
    }
    rec->value = p;
    rec->value_len = n;
    return 0;
}

int coord_offset_record(const char *group_id, const char *topic_name, int32_t partition_index,
                        const offset_entry *e, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    orec_offset_key k = { .group = kstr_c(group_id), .topic = kstr_c(topic_name), .partition = partition_index };
    uint8_t *p;
    int32_t n;
    if (kcodec_encode_versioned(OREC_KEY_OFFSET, &orec_offset_key_schema, false, &k, &p, &n))
        return -1;
    rec->key = p;
    rec->key_len = n;
    if (!e) {
        rec->value_len = -1;
        return 0;
    }
    orec_offset_value v = { .offset = e->offset, .leader_epoch = e->leader_epoch,
                            .metadata = coord_entry_metadata(e),
                            .commit_timestamp = e->commit_ts, .expire_timestamp = e->expire_ts };
    /* v1 is the only version that carries an explicit expire timestamp. */
    int ver = e->expire_ts >= 0 ? 1 : 3;
    if (kcodec_encode_versioned((int16_t)ver, &orec_offset_value_schema, false, &v, &p, &n)) {
        coord_record_free(rec);
        return -1;
    }
    rec->value = p;
    rec->value_len = n;
    return 0;
}

int16_t coord_map_store_error(int16_t err, bool for_offsets)
{
    switch (err) {
    case KERR_NONE: return KERR_NONE;
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KERR_NOT_ENOUGH_REPLICAS:
    case KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        return KERR_COORDINATOR_NOT_AVAILABLE;
    case KERR_NOT_LEADER_OR_FOLLOWER:
    case KERR_KAFKA_STORAGE_ERROR:
        return KERR_NOT_COORDINATOR;
    case KERR_REQUEST_TIMED_OUT:
        /* Kafka: a commit passes it on (retriable); a group write asks the
         * members to rejoin. */
        return for_offsets ? KERR_REQUEST_TIMED_OUT : KERR_REBALANCE_IN_PROGRESS;
    case KERR_MESSAGE_TOO_LARGE:
    case KERR_RECORD_LIST_TOO_LARGE:
    case KERR_INVALID_FETCH_SIZE:
        return for_offsets ? KERR_INVALID_COMMIT_OFFSET_SIZE : KERR_UNKNOWN_SERVER_ERROR;
    default:
        return err;
    }
}

/* ------------------------------------------------------------ persistence */

/* Where a wait stands: 1 still waiting, else the answer (NONE or an error). */
static int wait_status(coordinator *co, const flush_wait *w, partition *p)
{
    if (!p)
        return KERR_NOT_COORDINATOR;
    if (w->hw) {
        /* G13: leadership lost (or lost and regained: the records may be
         * gone) before the HW covered the append.  An epoch bump with this
         * broker still leading and the records kept (an ISR change) keeps
         * the wait (C9). */
        if (partition_append_lost(p, co->ctx.node_id, w->epoch, w->need))
            return KERR_NOT_COORDINATOR;
        if (plog_high_watermark(p->log) < w->need)
            return 1;
    }
    if (w->flush && plog_recovery_point(p->log) < w->need)
        return 1;
    return KERR_NONE;
}

/* Remove waits[i] and run its continuation with err (which may add
 * waits: the array is re-read by the caller). */
static void finish_wait(coordinator *co, int i, int16_t err)
{
    flush_wait done = co->waits[i];
    memmove(&co->waits[i], &co->waits[i + 1], (size_t)(co->nwaits - i - 1) * sizeof *co->waits);
    co->nwaits--;
    if (done.done)
        done.done(co, done.arg, err);
}

/* Complete, in append order per partition, every wait whose data is now
 * durable (and replicated, for hw waits). */
static void check_waits(coordinator *co)
{
    for (int i = 0; i < co->nwaits;) {
        flush_wait *w = &co->waits[i];
        int st = wait_status(co, w, co->offsets ? topic_partition(co->offsets, w->partition) : NULL);
        if (st == 1)
            i++;
        else
            finish_wait(co, i, (int16_t)st);
    }
}

void coord_fail_waits(coordinator *co, int32_t part, int16_t err)
{
    for (int i = 0; i < co->nwaits;) {
        if (co->waits[i].partition == part)
            finish_wait(co, i, err);
        else
            i++;
    }
}

/* Arm the wait timer for the earliest hw wait, if any. */
static void arm_wait_timer(coordinator *co)
{
    int64_t first = INT64_MAX;
    for (int i = 0; i < co->nwaits; i++)
        if (co->waits[i].hw && co->waits[i].deadline_us < first)
            first = co->waits[i].deadline_us;
    if (first != INT64_MAX)
        loop_timer_arm(co->lp, &co->wait_timer, first);
}

/* G13: a replicated write the ISR did not take within
 * offsets.commit.timeout.ms is answered REQUEST_TIMED_OUT (mapped per API
 * by coord_map_store_error). */
static void waits_timed_out(loop *lp, ktimer *t)
{
    coordinator *co = (coordinator *)((char *)t - offsetof(coordinator, wait_timer));
    check_waits(co);
    int64_t now = loop_now_us(lp);
    for (int i = 0; i < co->nwaits;) {
        flush_wait *w = &co->waits[i];
        if (w->hw && w->deadline_us <= now) {
            LOG_WRN("group", "%s-%d: write to offset %" PRId64 " not replicated within %d ms",
                    OFFSETS_TOPIC, w->partition, w->need - 1, co->commit_timeout_ms);
            finish_wait(co, i, KERR_REQUEST_TIMED_OUT);
        } else {
            i++;
        }
    }
    arm_wait_timer(co);
}

static int32_t isr_size(partition *p)
{
    partition_state *st = partition_state_get(p);
    int32_t n = st ? st->nisr : 0;
    pstate_unref(st);
    return n;
}

int16_t coord_persist(coordinator *co, int32_t partno, const bb_record *recs, int n,
                      persist_done done, void *arg)
{
    return coord_persist_ex(co, partno, recs, n, NULL, done, arg);
}

int16_t coord_persist_ex(coordinator *co, int32_t partno, const bb_record *recs, int n,
                         const persist_opts *o, persist_done done, void *arg)
{
    partition *p = co->offsets ? topic_partition(co->offsets, partno) : NULL;
    if (!p || !p->log)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (!partition_led_by(p, co->ctx.node_id))
        return KERR_NOT_COORDINATOR;           /* M4: only the leader appends */
    /* Kafka appends with acks=all: min.insync.replicas applies. */
    int min_isr = atomic_load(&co->offsets->min_insync_replicas);
    if (min_isr > 1 && isr_size(p) < min_isr)
        return KERR_NOT_ENOUGH_REPLICAS;
    bb_params bp;
    bb_params_init(&bp);
    bool txn = o && o->producer_id >= 0;
    if (txn) {
        /* TG3: a transactional batch with the producer's id and epoch, no
         * sequence (Kafka's coordinator writes them so); the log checks
         * the epoch (plog_append_coordinator). */
        bp.producer_id = o->producer_id;
        bp.producer_epoch = o->producer_epoch;
        bp.extra_attributes = RB_ATTR_TRANSACTIONAL;
    }
    uint8_t *batch = NULL;
    size_t len = 0;
    if (bb_build(&bp, recs, n, &batch, &len) != KERR_NONE)
        return KERR_UNKNOWN_SERVER_ERROR;
    int32_t epoch = atomic_load(&p->leader_epoch);
    plog_append_result ar;
    if (txn && o->verify)
        plog_append_coordinator_verified(p->log, batch, len, epoch, coord_now_ms(), o->guard, &ar);
    else if (txn)
        plog_append_coordinator(p->log, batch, len, epoch, coord_now_ms(), &ar);
    else
        plog_append(p->log, batch, len, epoch, coord_now_ms(), &ar);
    free(batch);
    if (ar.error)
        return ar.error;
    if (o && o->appended)
        o->appended(co, arg, ar.base_offset);
    /* C6: the leader alone is the ISR: the HW is the log end (the
     * single-node path, unchanged).  With followers it moves when they
     * fetch (handle_fetch.c), and the answer waits for it (G13). */
    bool solo = atomic_load_explicit(&p->isr_solo, memory_order_relaxed);
    if (solo)
        plog_set_high_watermark(p->log, ar.end_offset);
    partition_notify(p);                 /* consumers of the topic, and followers */
    if (!ar.flush_needed && (solo || !done)) {
        if (done)
            done(co, arg, KERR_NONE);
        return KERR_NONE;
    }
    if (ar.flush_needed)
        log_manager_request_flush(co->ctx.logs, p->log);
    if (co->nwaits == co->capwaits) {
        int cap = co->capwaits ? co->capwaits * 2 : 64;
        flush_wait *nw = realloc(co->waits, (size_t)cap * sizeof *nw);
        if (!nw)
            return KERR_UNKNOWN_SERVER_ERROR;
        co->waits = nw;
        co->capwaits = cap;
    }
    bool hw = !solo && done;
    co->waits[co->nwaits++] = (flush_wait){
        .partition = partno, .need = ar.last_offset + 1, .flush = ar.flush_needed, .hw = hw,
        .epoch = epoch, .deadline_us = loop_now_us(co->lp) + (int64_t)co->commit_timeout_ms * 1000,
        .done = done, .arg = arg,
    };
    if (hw && !ktimer_armed(&co->wait_timer))
        loop_timer_arm(co->lp, &co->wait_timer, co->waits[co->nwaits - 1].deadline_us);
    check_waits(co);          /* the flusher or the followers may already be there */
    return KERR_NONE;
}

void coord_store_group(coordinator *co, group *g)
{
    bb_record rec;
    if (coord_group_record(g, &rec) < 0) {
        LOG_ERR("group", "group %s: cannot encode its metadata", g->id);
        return;
    }
    int16_t err = coord_persist(co, g->partition, &rec, 1, NULL, NULL);
    if (err)
        LOG_ERR("group", "group %s: cannot store its metadata: %s", g->id, kerr_name(err));
    coord_record_free(&rec);
}

/* ------------------------------------------------------ offset expiration */

static void expire_offsets(loop *lp, ktimer *t)
{
    coordinator *co = (coordinator *)((char *)t - offsetof(coordinator, expire_timer));
    int64_t now = coord_now_ms();
    size_t it = 0;
    void *v;
    group **dead = NULL;
    int ndead = 0;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (g->state != GROUP_EMPTY || !coord_owns_partition(co, g->partition))
            continue;      /* G10: a partition being loaded is not ours yet */
        /* KIP-211: a consumer group's offsets expire once it has been empty
         * for the retention time; a group that never had members (manual
         * commits) expires each offset from its commit time. */
        size_t oit = 0;
        const char *k;
        size_t kl;
        void *ev;
        int nexp = 0;
        bb_record *recs = NULL;
        int cap = 0;
        char **keys = NULL;
        size_t *klens = NULL;
        while (strmap_next(&g->offsets, &oit, &k, &kl, &ev)) {
            offset_entry *e = ev;
            int64_t base = g->protocol_type ? g->state_ts_ms : e->commit_ts;
            bool expired = e->expire_ts >= 0 ? e->expire_ts <= now : now - base >= co->retention_ms;
            /* TG6: not while a transaction has an offset pending for it. */
            if (!expired || (g->txn.count > 0 && group_txn_pending_for(g, k, kl)))
                continue;
            if (nexp == cap) {
                cap = cap ? cap * 2 : 16;
                recs = realloc(recs, (size_t)cap * sizeof *recs);
                keys = realloc(keys, (size_t)cap * sizeof *keys);
                klens = realloc(klens, (size_t)cap * sizeof *klens);
                if (!recs || !keys || !klens)
                    break;
            }
            size_t tl = strlen(k);
            int32_t part = (int32_t)be32_load(k + tl + 1);
            if (coord_offset_record(g->id, k, part, NULL, &recs[nexp]) < 0)
                continue;
            keys[nexp] = malloc(kl);
            memcpy(keys[nexp], k, kl);
            klens[nexp] = kl;
            nexp++;
        }
        if (nexp > 0 && coord_persist(co, g->partition, recs, nexp, NULL, NULL) == KERR_NONE) {
            for (int i = 0; i < nexp; i++)
                offset_entry_free(strmap_del(&g->offsets, keys[i], klens[i]));
            LOG_INF("group", "group %s: expired %d committed offset(s)", g->id, nexp);
        }
        for (int i = 0; i < nexp; i++) {
            coord_record_free(&recs[i]);
            free(keys[i]);
        }
        free(recs);
        free(keys);
        free(klens);
        if (g->offsets.count == 0 && g->nmembers == 0 && g->txn.count == 0) {    /* TG6 */
            group **nd = realloc(dead, (size_t)(ndead + 1) * sizeof *nd);
            if (nd) {
                dead = nd;
                dead[ndead++] = g;
            }
        }
    }
    for (int i = 0; i < ndead; i++) {
        bb_record rec;
        if (dead[i]->generation > 0 && coord_group_tombstone(dead[i], &rec) == 0) {
            coord_persist(co, dead[i]->partition, &rec, 1, NULL, NULL);
            coord_record_free(&rec);
        }
        coord_group_delete(co, dead[i]);
    }
    free(dead);
    loop_timer_arm(lp, t, loop_now_us(lp) + co->retention_check_ms * 1000);
}

/* ------------------------------------------------------------ the thread */

/* Partition watchers (a flush, a HW move, a leadership change) and the
 * loads both run from the kick hook, after the mailbox. */
static void on_kick(loop *lp, void *arg)
{
    coordinator *co = arg;
    if (atomic_exchange(&co->watcher.dirty, false))
        check_waits(co);
    if (co->nloading > 0 && coord_load_step(co))
        loop_kick(lp);       /* next chunk after the requests that come meanwhile (G12) */
}

static void *coord_main(void *arg)
{
    coordinator *co = arg;
    coord_load_all(co);
    loop_timer_arm(co->lp, &co->expire_timer, loop_now_us(co->lp) + co->retention_check_ms * 1000);
    loop_run(co->lp);
    return NULL;
}

typedef struct created_msg {
    coordinator *co;
    topic *t;
} created_msg;

static void created_on_loop(loop *lp, void *arg)
{
    created_msg *m = arg;
    coord_offsets_created(m->co, m->t);
    topic_unref(m->t);
    free(m);
}

void coordinator_offsets_topic_created(coordinator *co, topic *t)
{
    created_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (!m)
        return;
    topic_ref(t);
    m->co = co;
    m->t = t;
    if (loop_post(co->lp, created_on_loop, m) < 0) {
        topic_unref(t);
        free(m);
    }
}

coordinator *coordinator_start(const coord_ctx *ctx, char *err, size_t errlen)
{
    const struct broker_config *cfg = ctx->config(ctx->config_arg);
    coordinator *co = calloc(1, sizeof *co);
    if (!co) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    co->ctx = *ctx;
    strmap_init(&co->groups);
    strmap_init(&co->txn_groups);
    co->lp = loop_new(COORD_LOOP_ID);
    if (!co->lp) {
        free(co);
        snprintf(err, errlen, "cannot create the coordinator loop");
        return NULL;
    }
    co->watcher.lp = co->lp;
    atomic_init(&co->watcher.dirty, false);
    loop_set_kick(co->lp, on_kick, co);
    ktimer_init(&co->expire_timer, expire_offsets);
    ktimer_init(&co->wait_timer, waits_timed_out);
    co->min_session_ms = cfg->group_min_session_timeout_ms;
    co->max_session_ms = cfg->group_max_session_timeout_ms;
    co->initial_delay_ms = cfg->group_initial_rebalance_delay_ms;
    co->max_group_size = cfg->group_max_size;
    co->max_metadata_bytes = cfg->offset_metadata_max_bytes;
    co->retention_ms = (int64_t)cfg->offsets_retention_minutes * 60000;
    co->retention_check_ms = cfg->offsets_retention_check_interval_ms;
    co->max_record_bytes = (size_t)cfg->message_max_bytes;
    co->commit_timeout_ms = cfg->offsets_commit_timeout_ms;
    if (pthread_create(&co->thread, NULL, coord_main, co) != 0) {
        loop_free(co->lp);
        free(co);
        snprintf(err, errlen, "cannot start the group coordinator thread");
        return NULL;
    }
    pthread_setname_np(co->thread, "samsa-groups");
    co->running = true;
    return co;
}

static void shutdown_on_loop(loop *lp, void *arg)
{
    coordinator *co = arg;
    /* Parked requests: answer them so clients retry elsewhere later. */
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        coord_answer_parked(co, g, KERR_NOT_COORDINATOR);
        for (int i = 0; i < g->npending; i++)
            loop_timer_cancel(lp, &g->pending[i]->expiry);
        loop_timer_cancel(lp, &g->join_timer);
        loop_timer_cancel(lp, &g->sync_timer);
    }
    /* Commits waiting for a flush: the final flush has run by now.  Those
     * waiting for followers will not see them: NOT_COORDINATOR. */
    check_waits(co);
    for (int32_t i = 0; i < co->nparts; i++)
        coord_fail_waits(co, i, KERR_NOT_COORDINATOR);
    loop_timer_cancel(lp, &co->wait_timer);
    loop_timer_cancel(lp, &co->expire_timer);
    loop_stop(lp);
}

void coordinator_stop(coordinator *co)
{
    if (!co || !co->running || atomic_exchange(&co->stopped, true))
        return;
    loop_post(co->lp, shutdown_on_loop, co);
    pthread_join(co->thread, NULL);
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v))
        group_free(v);
    strmap_free(&co->groups);
    strmap_free(&co->txn_groups);
    if (co->offsets) {
        for (int32_t i = 0; i < co->nparts; i++)
            partition_unwatch(topic_partition(co->offsets, i), &co->watcher);
        topic_unref(co->offsets);
    }
    free(co->waits);
    co->waits = NULL;
    co->offsets = NULL;
    for (int32_t i = 0; co->parts && i < co->nparts; i++)
        free(co->parts[i].markers);
    free(co->parts);
    co->parts = NULL;
    co->nloading = 0;
    free(co->load_buf);
    co->load_buf = NULL;
}

void coordinator_free(coordinator *co)
{
    if (!co)
        return;
    coordinator_stop(co);
    loop_free(co->lp);
    free(co);
}
