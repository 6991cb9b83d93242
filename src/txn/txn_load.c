/*
 * txn_load.c - which __transaction_state partitions this coordinator
 * serves, and rebuilding their transactional ids from the log.
 *
 * TC7-TC9 (docs/transactions.md, Kafka's TransactionStateManager): the
 * transactional ids of partition P are served only while this broker leads
 * P and has loaded it.  An election (LeaderAndIsr) marks P LOADING: its
 * requests get COORDINATOR_LOAD_IN_PROGRESS until the loop has read P from
 * its log start to its log end (newest record per id wins, a tombstone
 * deletes), one partition per loop pass so other partitions keep being
 * served.  Once loaded, every transaction found in PrepareCommit or
 * PrepareAbort has its markers sent again (its client was answered before
 * the failover).  A resignation drops P's ids (NOT_COORDINATOR); the
 * markers still being sent for them are ignored when they come back.
 * Elections and resignations older than the newest leader epoch seen for
 * P are ignored.  The coordinator epoch of P's transactions is that leader
 * epoch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "storage/partition_log.h"
#include "storage/record_iter.h"
#include "txn/txn_int.h"

#define READ_CHUNK (4u << 20)

bool txn_owns(const txn_coordinator *co, int32_t part)
{
    return co->parts && part >= 0 && part < co->nparts && co->parts[part].state == TPART_OWNED;
}

/* TC7: NONE when this broker coordinates `id` now (*part_out its
 * partition); else what to answer. */
int16_t txn_check_owner(txn_coordinator *co, kstr id, int32_t *part_out)
{
    if (!co->tt || !co->parts)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (co->ctx.may_lead && !co->ctx.may_lead(co->ctx.arg))
        return KERR_NOT_COORDINATOR;
    int32_t part = txn_partition_for(id.p, id.len > 0 ? (size_t)id.len : 0, co->nparts);
    if (part_out)
        *part_out = part;
    if (co->parts[part].state == TPART_LOADING)
        return KERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (co->parts[part].state != TPART_OWNED)
        return KERR_NOT_COORDINATOR;
    partition *p = topic_partition(co->tt, part);
    return p && partition_led_by(p, co->ctx.node_id) ? KERR_NONE : KERR_NOT_COORDINATOR;
}

/* ------------------------------------------------------------- loading */

static void load_value(txn_meta *m, const trec_value *v)
{
    txn_image_free(&m->cur);
    m->cur = (txn_image){
        .producer_id = v->producer_id, .last_producer_id = v->previous_producer_id,
        .epoch = v->producer_epoch, .last_epoch = -1, .timeout_ms = v->transaction_timeout_ms,
        .state = v->transaction_status >= 0 && v->transaction_status < TXN_NSTATES
                     ? (txn_state)v->transaction_status : TXN_EMPTY,
        .start_ms = v->start_timestamp_ms, .update_ms = v->last_update_timestamp_ms,
    };
    int n = 0;
    for (int32_t i = 0; i < v->transaction_partitions.n; i++)
        n += v->transaction_partitions.v[i].partition_ids.n > 0 ? v->transaction_partitions.v[i].partition_ids.n : 0;
    m->cur.tps = n ? calloc((size_t)n, sizeof *m->cur.tps) : NULL;
    if (!m->cur.tps)
        return;
    for (int32_t i = 0; i < v->transaction_partitions.n; i++) {
        const trec_partitions *tp = &v->transaction_partitions.v[i];
        for (int32_t j = 0; j < tp->partition_ids.n; j++) {
            char *t = malloc((size_t)(tp->topic.len > 0 ? tp->topic.len : 0) + 1);
            if (!t)
                return;
            memcpy(t, tp->topic.p, (size_t)(tp->topic.len > 0 ? tp->topic.len : 0));
            t[tp->topic.len > 0 ? tp->topic.len : 0] = 0;
            m->cur.tps[m->cur.ntps++] = (txn_tp){ t, tp->partition_ids.v[j] };
        }
    }
}

static void load_record(txn_coordinator *co, int32_t part, const rb_iter_record *r, int64_t *nrec)
{
    if (!r->r.key || r->r.key_len < 2 || be16_load(r->r.key) != 0)
        return;                             /* only TransactionLogKey v0 exists */
    arena a;
    arena_init(&a, 1 << 20);
    kreader kr;
    kr_init(&kr, r->r.key + 2, (size_t)r->r.key_len - 2);
    trec_key k;
    if (kcodec_decode(&trec_key_schema, 0, false, &kr, &a, &k) != 0 || k.transactional_id.len <= 0)
        goto out;
    txn_meta *m = txn_get(co, k.transactional_id);
    if (!r->r.value) {
        if (m) {
            strmap_del(&co->txns, m->id, strlen(m->id));
            txn_meta_free(m);
        }
        goto out;
    }
    if (r->r.value_len < 2)
        goto out;
    int16_t ver = (int16_t)be16_load(r->r.value);
    if (ver < 0 || ver > TREC_VALUE_MAX_VERSION)
        goto out;
    kreader vr;
    kr_init(&vr, r->r.value + 2, (size_t)r->r.value_len - 2);
    trec_value v;
    if (kcodec_decode(&trec_value_schema, ver, ver >= TREC_FLEX_FROM, &vr, &a, &v) != 0) {
        LOG_WRN("txn", "%s-%d: unreadable transaction record at offset %" PRId64, TXN_TOPIC, part, r->offset);
        goto out;
    }
    if (!m && !(m = txn_create(co, k.transactional_id, part)))
        goto out;
    load_value(m, &v);
    (*nrec)++;
out:
    arena_reset(&a);
}

/* Read partition `part` whole (from its log start to its log end).  0 or
 * -1 on a read error (named in the log). */
static int load_partition(txn_coordinator *co, int32_t part, int64_t *nrec)
{
    partition *p = topic_partition(co->tt, part);
    if (!p || !p->log)
        return -1;
    int64_t off = plog_log_start_offset(p->log), end = plog_log_end_offset(p->log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (off < end) {
        plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(p->log, off, READ_CHUNK, true, PLOG_ISOLATION_LOG_END, &rr);
        if (rr.error || !rr.file || rr.len <= 0) {
            if (rr.file)
                fileref_unref(rr.file);
            rc = rr.error ? -1 : 0;
            break;
        }
        if ((size_t)rr.len > cap) {
            uint8_t *nb = realloc(buf, (size_t)rr.len);
            if (!nb) {
                fileref_unref(rr.file);
                rc = -1;
                break;
            }
            buf = nb;
            cap = (size_t)rr.len;
        }
        ssize_t got = pread(rr.file->fd, buf, (size_t)rr.len, rr.file_pos);
        fileref_unref(rr.file);
        if (got != rr.len) {
            rc = -1;
            break;
        }
        int64_t next = off;
        for (size_t pos = 0; pos + RB_LOG_OVERHEAD <= (size_t)got;) {
            rb_header h;
            if (rb_parse_header(buf + pos, (size_t)got - pos, &h) != KERR_NONE || rb_size(&h) > (size_t)got - pos)
                break;
            rb_iter it;
            if (rb_last_offset(&h) >= off && !rb_is_control(&h) &&
                rb_iter_init(&it, buf + pos, rb_size(&h), 64u << 20) == KERR_NONE) {
                rb_iter_record r;
                while (rb_iter_next(&it, &r) == 1)
                    if (r.offset >= off)
                        load_record(co, part, &r, nrec);
                rb_iter_free(&it);
            }
            next = rb_last_offset(&h) + 1;
            pos += rb_size(&h);
        }
        if (next <= off)
            break;                          /* no whole batch: nothing more readable */
        off = next;
    }
    free(buf);
    if (rc < 0)
        LOG_ERR("txn", "reading %s-%d at offset %" PRId64 " failed", TXN_TOPIC, part, off);
    return rc;
}

/* The partition is loaded: it is served from now on, and its prepared
 * transactions get their markers again (TC9). */
static void loaded(txn_coordinator *co, int32_t part, int64_t nrec, int64_t t0)
{
    co->parts[part].state = TPART_OWNED;
    int nids = 0, nresumed = 0;
    size_t it = 0;
    void *v;
    txn_meta **resume = NULL;
    while (strmap_next(&co->txns, &it, NULL, NULL, &v)) {
        txn_meta *m = v;
        if (m->part != part)
            continue;
        nids++;
        if (m->cur.state == TXN_PREPARE_COMMIT || m->cur.state == TXN_PREPARE_ABORT) {
            txn_meta **nr = realloc(resume, (size_t)(nresumed + 1) * sizeof *nr);
            if (nr) {
                resume = nr;
                resume[nresumed++] = m;
            }
        }
    }
    if (nrec > 0 || nresumed > 0)
        LOG_INF("txn", "%s-%d (coordinator epoch %d): loaded %" PRId64 " records, %d transactional "
                "id(s) in %.1f ms; %d prepared transaction(s) resume", TXN_TOPIC, part,
                co->parts[part].epoch, nrec, nids, (double)(mono_us() - t0) / 1000.0, nresumed);
    for (int i = 0; i < nresumed; i++)
        txn_resume(co, resume[i]);
    free(resume);
}

/* ------------------------------------------------------------ ownership */

static bool led_here(txn_coordinator *co, int32_t part, int32_t *epoch)
{
    partition *p = topic_partition(co->tt, part);
    partition_state *st = p && p->log ? partition_state_get(p) : NULL;
    bool led = st && st->leader == co->ctx.node_id;
    if (led)
        *epoch = st->leader_epoch;
    pstate_unref(st);
    return led;
}

void txn_topic_attach(txn_coordinator *co, topic *t, bool load_led)
{
    if (co->tt)
        return;
    int32_t n = topic_nparts(t);
    txn_part *parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts) {
        LOG_ERR("txn", "%s: out of memory attaching its %d partition(s)", TXN_TOPIC, n);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        parts[i] = (txn_part){ .state = TPART_UNOWNED, .epoch = -1 };
    topic_ref(t);
    co->tt = t;
    co->nparts = n;
    co->parts = parts;
    for (int32_t i = 0; i < n; i++)
        partition_watch(topic_partition(t, i), &co->watcher);
    if (!load_led)
        return;
    for (int32_t i = 0; i < n; i++) {
        int32_t epoch;
        if (!led_here(co, i, &epoch))
            continue;
        int64_t nrec = 0, t0 = mono_us();
        co->parts[i].epoch = epoch;
        if (load_partition(co, i, &nrec) == 0)
            loaded(co, i, nrec, t0);
    }
}

void txn_load_all(txn_coordinator *co)
{
    topic *t = topic_registry_get(co->ctx.topics, TXN_TOPIC, strlen(TXN_TOPIC));
    if (!t)
        return;
    txn_topic_attach(co, t, true);
    topic_unref(t);
}

/* One partition being loaded per call (TC7: requests that came meanwhile
 * are answered between partitions).  True when loads remain. */
bool txn_load_step(txn_coordinator *co)
{
    for (int32_t i = 0; i < co->nparts; i++) {
        if (co->parts[i].state != TPART_LOADING)
            continue;
        co->nloading--;
        int64_t nrec = 0, t0 = mono_us();
        if (load_partition(co, i, &nrec) < 0) {
            LOG_ERR("txn", "%s-%d: loading failed; not coordinating its transactional ids", TXN_TOPIC, i);
            txn_drop_partition(co, i, KERR_NOT_COORDINATOR);
            co->parts[i].state = TPART_UNOWNED;
        } else {
            loaded(co, i, nrec, t0);
        }
        break;
    }
    return co->nloading > 0;
}

void txn_drop_partition(txn_coordinator *co, int32_t part, int16_t err)
{
    txn_fail_waits(co, part, err);
    txn_meta **drop = NULL;
    int n = 0;
    size_t it = 0;
    void *v;
    while (strmap_next(&co->txns, &it, NULL, NULL, &v)) {
        txn_meta *m = v;
        if (m->part != part)
            continue;
        txn_meta **nd = realloc(drop, (size_t)(n + 1) * sizeof *nd);
        if (!nd)
            break;
        drop = nd;
        drop[n++] = m;
    }
    for (int i = 0; i < n; i++) {
        strmap_del(&co->txns, drop[i]->id, strlen(drop[i]->id));
        txn_meta_free(drop[i]);
    }
    free(drop);
}

typedef struct elect_msg {
    txn_coordinator *co;
    int32_t part, epoch;
    bool elect;
} elect_msg;

static void leadership_on_loop(loop *lp, void *arg)
{
    (void)lp;
    elect_msg *m = arg;
    txn_coordinator *co = m->co;
    if (!co->tt) {
        topic *t = topic_registry_get(co->ctx.topics, TXN_TOPIC, strlen(TXN_TOPIC));
        if (t) {
            txn_topic_attach(co, t, false);
            topic_unref(t);
        }
    }
    if (!co->parts || m->part < 0 || m->part >= co->nparts) {
        LOG_WRN("txn", "%s-%d: %s at leader epoch %d ignored: partition unknown", TXN_TOPIC, m->part,
                m->elect ? "election" : "resignation", m->epoch);
        goto out;
    }
    txn_part *tp = &co->parts[m->part];
    if (m->epoch < tp->epoch)
        goto out;                         /* TC8: reordered or stale */
    tp->epoch = m->epoch;
    if (m->elect && tp->state == TPART_UNOWNED) {
        tp->state = TPART_LOADING;
        co->nloading++;
        LOG_INF("txn", "%s-%d: elected at leader epoch %d; loading", TXN_TOPIC, m->part, m->epoch);
        loop_kick(co->lp);
    } else if (!m->elect && tp->state != TPART_UNOWNED) {
        if (tp->state == TPART_LOADING)
            co->nloading--;
        txn_drop_partition(co, m->part, KERR_NOT_COORDINATOR);
        tp->state = TPART_UNOWNED;
        LOG_INF("txn", "%s-%d: resigned at leader epoch %d", TXN_TOPIC, m->part, m->epoch);
    }
out:
    free(m);
}

static void post_leadership(txn_coordinator *co, int32_t part, int32_t epoch, bool elect)
{
    elect_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (m)
        *m = (elect_msg){ co, part, epoch, elect };
    if (m && loop_post(co->lp, leadership_on_loop, m) == 0)
        return;
    free(m);
    if (co)
        LOG_ERR("txn", "%s-%d: cannot hand the %s at leader epoch %d to the coordinator", TXN_TOPIC,
                part, elect ? "election" : "resignation", epoch);
}

void txn_coordinator_elect(txn_coordinator *co, int32_t part, int32_t leader_epoch)
{
    post_leadership(co, part, leader_epoch, true);
}

void txn_coordinator_resign(txn_coordinator *co, int32_t part, int32_t leader_epoch)
{
    post_leadership(co, part, leader_epoch, false);
}
