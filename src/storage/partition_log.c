/*
 * partition_log.c - append, read, ListOffsets, log start, flush, retention,
 * truncation of one partition log.  Creation, loading, recovery and close
 * live in partition_load.c.  See partition_log.h for the contract and
 * partition_log_int.h for the structure and its locking.
 */
#include "storage/partition_log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "storage/batch_builder.h"
#include "storage/compression.h"
#include "storage/offset_index.h"
#include "storage/record_iter.h"
#include "storage/segment_reader.h"
#include "os/sio.h"
#include "storage/time_index.h"

void log_config_defaults(log_config *c)
{
    c->segment_bytes = 1073741824;
    c->segment_ms = 604800000;
    c->segment_jitter_ms = 0;
    c->segment_index_bytes = 10485760;
    c->index_interval_bytes = 4096;
    c->retention_ms = 604800000;
    c->retention_bytes = -1;
    c->max_message_bytes = PLOG_DEFAULT_MAX_MESSAGE_BYTES;
    c->flush_messages = INT64_MAX;
    c->flush_ms = INT64_MAX;
    c->timestamp_type = 0;
    c->timestamp_before_max_ms = INT64_MAX;
    c->timestamp_after_max_ms = INT64_MAX;
    c->file_delete_delay_ms = 60000;
    c->producer_id_expiration_ms = 86400000;
    c->compact = false;
    c->delete_retention = true;
    c->min_cleanable_ratio = 0.5;
    c->min_compaction_lag_ms = 0;
    c->max_compaction_lag_ms = INT64_MAX;
    c->delete_retention_ms = 86400000;
}

/* ---------------------------------------------------------------- basics */

plog *plog_alloc(const char *dir, const char *topic, int32_t partition, const log_config *cfg)
{
    plog *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    atomic_init(&l->refs, 1);
    pthread_mutex_init(&l->flush_mu, NULL);
    pthread_rwlock_init(&l->lock, NULL);
    pthread_mutex_init(&l->clean_mu, NULL);
    l->first_dirty = -1;
    l->snap_synced = -1;
    l->dir = strdup(dir);
    l->topic = strdup(topic);
    l->partition = partition;
    l->cfg = *cfg;
    pstate_init(&l->ps);
    lec_init(&l->lec);
    if (!l->dir || !l->topic) {
        plog_free_mem(l);
        return NULL;
    }
    return l;
}

void plog_free_mem(plog *l)
{
    for (int i = 0; i < l->nsegs; i++)
        segment_free(l->segs[i]);
    free(l->segs);
    pstate_free(&l->ps);
    free(l->unrepl);
    lec_free(&l->lec);
    free(l->snaps);
    free(l->dir);
    free(l->topic);
    pthread_rwlock_destroy(&l->lock);
    pthread_mutex_destroy(&l->clean_mu);
    pthread_mutex_destroy(&l->flush_mu);
    free(l);
}

plog *plog_ref(plog *l)
{
    atomic_fetch_add(&l->refs, 1);
    return l;
}

void plog_unref(plog *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1)
        plog_free_mem(l);
}

kuuid plog_topic_id(const plog *l) { return l->topic_id; }

void plog_tail_reset(plog *l)
{
    l->tail_seg = NULL;
    l->tail_n = l->tail_next = 0;
}

/* Remember a batch just written at pos of the active segment. */
static void tail_add(plog *l, const rb_header *h, int64_t pos)
{
    segment *s = l->segs[l->nsegs - 1];
    if (l->tail_seg != s) {
        plog_tail_reset(l);
        l->tail_seg = s;
    }
    l->tail[l->tail_next] = (segment_pos){ pos, (int32_t)rb_size(h), h->base_offset, rb_last_offset(h),
                                           h->leader_epoch };
    l->tail_next = (l->tail_next + 1) % PLOG_TAIL_BATCHES;
    if (l->tail_n < PLOG_TAIL_BATCHES)
        l->tail_n++;
}

/* segment_find for a batch still in the tail entries: 1 found, 0 not. */
static int tail_find(const plog *l, const segment *s, int64_t offset, int64_t limit, segment_pos *out)
{
    if (s != l->tail_seg)
        return 0;
    for (int i = 0; i < l->tail_n; i++) {
        const segment_pos *e = &l->tail[i];
        if (e->base_offset <= offset && offset <= e->last_offset && e->pos + e->size <= limit) {
            *out = *e;
            return 1;
        }
    }
    return 0;
}

int plog_push_segment(plog *l, segment *s)
{
    plog_tail_reset(l);
    if (l->nsegs == l->segs_cap) {
        int nc = l->segs_cap ? l->segs_cap * 2 : 8;
        segment **ns = realloc(l->segs, sizeof *ns * (size_t)nc);
        if (!ns)
            return -1;
        l->segs = ns;
        l->segs_cap = nc;
    }
    l->segs[l->nsegs++] = s;
    return 0;
}

static segment *active(plog *l)
{
    return l->segs[l->nsegs - 1];
}

/* Index of the segment holding offset (greatest base <= offset), or -1. */
static int seg_index_for(plog *l, int64_t offset)
{
    int lo = 0, hi = l->nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

void plog_retire_segment(plog *l, segment *s)
{
    plog_tail_reset(l);
    if (segment_rename_deleted(s) < 0)
        LOG_WRN("storage", "could not rename %s for deletion: %s", s->log_path, strerror(errno));
    l->dir_dirty = true;
    l->seg_gen++;
    if (l->retire) {
        l->retire(l->retire_ctx, s, l->cfg.file_delete_delay_ms);
    } else {
        segment_unlink(s);
        segment_free(s);
    }
}

/* Remove segs[0..n) (retention, log start). */
static void drop_head_segments(plog *l, int n)
{
    for (int i = 0; i < n; i++)
        plog_retire_segment(l, l->segs[i]);
    memmove(l->segs, l->segs + n, sizeof *l->segs * (size_t)(l->nsegs - n));
    l->nsegs -= n;
}

void plog_snap_add(plog *l, int64_t off)
{
    for (int i = 0; i < l->nsnaps; i++)
        if (l->snaps[i] == off)
            return;
    if (l->nsnaps == l->snaps_cap) {
        int nc = l->snaps_cap ? l->snaps_cap * 2 : 4;
        int64_t *ns = realloc(l->snaps, sizeof *ns * (size_t)nc);
        if (!ns)
            return;
        l->snaps = ns;
        l->snaps_cap = nc;
    }
    int i = l->nsnaps++;
    while (i > 0 && l->snaps[i - 1] > off) {
        l->snaps[i] = l->snaps[i - 1];
        i--;
    }
    l->snaps[i] = off;
}

static void snap_delete_at(plog *l, int i)
{
    char path[4200];
    pstate_snapshot_path(path, sizeof path, l->dir, l->snaps[i]);
    unlink(path);
    if (l->snaps[i] == l->snap_synced)
        l->snap_synced = -1;
    l->dir_dirty = true;
    memmove(l->snaps + i, l->snaps + i + 1, sizeof *l->snaps * (size_t)(l->nsnaps - i - 1));
    l->nsnaps--;
}

void plog_snap_prune(plog *l)
{
    /* Keep the newest two; never keep one below the log start unless it is
     * the newest (it still describes the state at its offset). */
    while (l->nsnaps > 2)
        snap_delete_at(l, 0);
    while (l->nsnaps > 1 && l->snaps[0] < l->log_start)
        snap_delete_at(l, 0);
}

void plog_update_hw_pos(plog *l)
{
    segment *a = active(l);
    if (l->hw >= l->leo) {
        l->hw = l->leo;
        l->hw_seg_base = a->base_offset;
        l->hw_pos = a->size;
        return;
    }
    int i = seg_index_for(l, l->hw);
    if (i < 0)
        i = 0;
    segment *s = l->segs[i];
    segment_pos p;
    int r = segment_find(s, l->hw, s->size, &p);
    l->hw_seg_base = s->base_offset;
    l->hw_pos = r == 1 ? p.pos : s->size;
}

/* ---------------------------------------------------------------- append */

static void res_init(plog *l, plog_append_result *res)
{
    memset(res, 0, sizeof *res);
    res->base_offset = res->last_offset = -1;
    res->log_append_time = -1;
    res->log_start_offset = l->log_start;
    res->end_offset = l->leo;
    res->bad_batch_index = -1;
}

static bool should_roll(plog *l, size_t len, int64_t max_ts_in_msgs, int64_t max_offset, int64_t now)
{
    segment *s = active(l);
    const log_config *c = &l->cfg;
    if (s->size > c->segment_bytes - (int64_t)len)
        return true;
    if (s->size > 0) {
        int64_t first = segment_first_batch_ts(s);
        int64_t waited = first >= 0 ? max_ts_in_msgs - first : now - s->created_ms;
        if (waited > c->segment_ms - s->roll_jitter_ms)
            return true;
    }
    if (segment_index_full(s, c->segment_index_bytes))
        return true;
    return max_offset - s->base_offset > INT32_MAX;
}

static int64_t jitter(const log_config *c)
{
    if (c->segment_jitter_ms <= 0)
        return 0;
    int64_t max = c->segment_jitter_ms < c->segment_ms ? c->segment_jitter_ms : c->segment_ms;
    return max > 0 ? (int64_t)((uint64_t)random() % (uint64_t)max) : 0;
}

/* Start a new active segment at `base` (the LEO; a follower append whose
 * first batch is beyond the LEO - the leader's log has a gap there - rolls
 * at that batch, as Kafka does). */
static int roll(plog *l, int64_t base, int64_t now)
{
    segment *old = active(l);
    segment *s = segment_new(l->dir, base, now);
    if (!s)
        return -1;
    s->index_interval = l->cfg.index_interval_bytes;
    s->roll_jitter_ms = jitter(&l->cfg);
    if (segment_create(s) < 0 || plog_push_segment(l, s) < 0) {
        LOG_ERR("storage", "%s: cannot roll a new segment at offset %" PRId64 ": %s",
                l->dir, base, strerror(errno));
        segment_unlink(s);
        segment_free(s);
        return -1;
    }
    l->dir_dirty = true;
    if (segment_seal(old) < 0)
        LOG_WRN("storage", "%s: could not persist the index of %s: %s", l->dir, old->log_path, strerror(errno));
    /* Producer snapshot at the new segment's base (written without fsync:
     * the CRC catches a torn file; plog_flush makes it durable). */
    if (pstate_snapshot_write(&l->ps, l->dir, base, false) == 0) {
        plog_snap_add(l, base);
        l->snap_unsynced = true;
        plog_snap_prune(l);
    }
    if (l->lec.dirty)
        lec_write(&l->lec, l->dir, false);
    return 0;
}

static size_t decompress_cap(const plog *l, size_t batch_size);

/* Compacted topics need a key on every record.  rb_validate_client_batch
 * walks uncompressed records; a compressed batch is decompressed here
 * (bounded, like ListOffsets) so the rule holds for it too, as in Kafka's
 * LogValidator.  Only compacted topics pay for this. */
static void check_compressed_keys(const plog *l, const uint8_t *p, const rb_header *h, rb_verdict *v)
{
    rb_iter it;
    rb_iter_record rec;
    int e = rb_iter_init(&it, p, rb_size(h), decompress_cap(l, rb_size(h)));
    if (e) {
        v->error = e == KERR__NOMEM ? KERR_KAFKA_STORAGE_ERROR : (int16_t)e;
        v->message = "Compressed record batch could not be decompressed";
        return;
    }
    int r;
    while ((r = rb_iter_next(&it, &rec)) == 1) {
        if (!rec.r.key) {
            v->error = KERR_INVALID_RECORD;
            v->record_index = it.index - 1;
            v->message = "Compacted topic cannot accept message without key";
            break;
        }
    }
    if (r < 0) {
        v->error = KERR_CORRUPT_MESSAGE;
        v->record_index = -1;
        v->message = "Record framing is inconsistent with its length";
    }
    rb_iter_free(&it);
}

typedef struct batch_ref {
    uint8_t *p;
    rb_header h;
} batch_ref;

/* The batches of one append: b starts as the caller's one-entry array and
 * grows on the heap. */
typedef struct batch_list {
    batch_ref *b, one[1];
    int n, cap;
} batch_list;

static batch_ref *batch_list_next(batch_list *bl)
{
    if (!bl->b) {
        bl->b = bl->one;
        bl->cap = 1;
    }
    if (bl->n == bl->cap) {
        int nc = bl->cap * 4;
        batch_ref *nb = malloc(sizeof *nb * (size_t)nc);
        if (!nb)
            return NULL;
        memcpy(nb, bl->b, sizeof *nb * (size_t)bl->n);
        if (bl->b != bl->one)
            free(bl->b);
        bl->b = nb;
        bl->cap = nc;
    }
    return &bl->b[bl->n];
}

static void batch_list_free(batch_list *bl)
{
    if (bl->b != bl->one)
        free(bl->b);
}

/* What validation learnt about the batches of one append. */
typedef struct append_info {
    int64_t first, last;             /* first and last offsets */
    int64_t max_ts, offset_of_max;
    int32_t records;
} append_info;

/* Step "roll if needed, then ONE write" of both appends, and the tail
 * entries.  KERR_NONE or the error (res->error_message set). */
static int write_batches(plog *l, uint8_t *data, size_t len, const batch_list *bl, const append_info *ai,
                         int64_t now_ms, plog_append_result *res)
{
    /* Offsets must fit the index relative to the segment base: a follower
     * append far above the LEO rolls even an empty active segment. */
    bool overflow = ai->last - active(l)->base_offset > INT32_MAX;
    if ((overflow || (active(l)->size > 0 && should_roll(l, len, ai->max_ts, ai->last, now_ms))) &&
        roll(l, ai->first > l->leo ? ai->first : l->leo, now_ms) < 0) {
        res->error_message = "Could not roll a new segment";
        return KERR_KAFKA_STORAGE_ERROR;
    }
    bool fatal;
    if (segment_append(active(l), data, len, ai->last, ai->max_ts, ai->offset_of_max,
                       l->cfg.index_interval_bytes, &fatal) < 0) {
        LOG_ERR("storage", "%s: append of %zu bytes at offset %" PRId64 " failed: %s%s",
                l->dir, len, l->leo, strerror(errno),
                fatal ? " (and the file could not be truncated back: log is now offline)" : "");
        if (fatal)
            l->failed = true;
        res->error_message = "Write to the log failed";
        return KERR_KAFKA_STORAGE_ERROR;
    }
    int64_t written_at = active(l)->size - (int64_t)len;
    for (int i = 0; i < bl->n; i++)
        tail_add(l, &bl->b[i].h, written_at + (int64_t)(bl->b[i].p - data));
    return KERR_NONE;
}

/* The common start of both appends: take the write lock, refuse a log
 * that cannot be written.  Returns res->error. */
static int append_enter(plog *l, plog_append_result *res)
{
    pthread_rwlock_wrlock(&l->lock);
    res_init(l, res);
    if (l->deleted || l->closed) {
        res->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        res->error_message = "Partition is being deleted or closed";
    } else if (l->failed) {
        res->error = KERR_KAFKA_STORAGE_ERROR;
        res->error_message = "Log is offline after a storage error";
    }
    return res->error;
}

static void append_leave(plog *l, plog_append_result *res)
{
    (void)pstate_first_open(&l->ps);     /* readers find the cache fresh */
    res->end_offset = l->leo;
    res->log_start_offset = l->log_start;
    pthread_rwlock_unlock(&l->lock);
}

/* The common end of both appends: the LEO and the flush accounting. */
static void publish_end(plog *l, const append_info *ai, plog_append_result *res)
{
    res->base_offset = ai->first;
    res->last_offset = ai->last;
    res->record_count = ai->records;
    l->leo = ai->last + 1;
    l->appended_msgs += ai->records;
    res->flush_needed = l->cfg.flush_messages != INT64_MAX &&
                        l->appended_msgs - l->flushed_msgs >= l->cfg.flush_messages;
}

/* plog_append (origin CLIENT) and plog_append_coordinator (TL6). */
static int append_leader(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                         plog_append_result *res, int origin, uint64_t guard, bool verify)
{
    batch_list bl = { 0 };
    pstate_stage st = { 0 };
    const log_config *c = &l->cfg;
    rb_limits lim = { c->max_message_bytes, c->timestamp_type, c->timestamp_before_max_ms,
                      c->timestamp_after_max_ms, c->compact, origin == PSTATE_ORIGIN_COORDINATOR };
#define FAILR(code, msg) do { res->error = (code); res->error_message = (msg); goto out; } while (0)
    if (append_enter(l, res))
        goto out;

    /* 1. validate every batch */
    append_info ai = { l->leo, -1, -1, -1, 0 };
    int64_t next = l->leo;
    size_t pos = 0;
    while (pos < len) {
        rb_verdict v;
        batch_ref *r = batch_list_next(&bl);
        if (!r)
            FAILR(KERR_KAFKA_STORAGE_ERROR, "Out of memory");
        r->p = data + pos;
        rb_validate_client_batch(r->p, len - pos, &lim, now_ms, &r->h, &v);
        if (!v.error && c->compact && rb_codec(&r->h) != RB_CODEC_NONE)
            check_compressed_keys(l, r->p, &r->h, &v);
        if (v.error) {
            res->bad_batch_index = v.record_index;
            FAILR(v.error, v.message);
        }
        /* 2. assign offsets, stamp epoch and timestamps in place */
        size_t sz = rb_size(&r->h);
        rb_set_base_offset(r->p, next);
        r->h.base_offset = next;
        rb_set_leader_epoch(r->p, leader_epoch);
        r->h.leader_epoch = leader_epoch;
        int64_t bts;
        if (c->timestamp_type == 1) {
            rb_set_max_timestamp(r->p, sz, true, now_ms);
            bts = now_ms;
        } else {
            rb_set_max_timestamp(r->p, sz, false, v.max_timestamp);
            bts = v.max_timestamp;
        }
        r->h.max_timestamp = bts;
        if (bts > ai.max_ts) {
            ai.max_ts = bts;
            ai.offset_of_max = rb_last_offset(&r->h);
        }
        next = rb_last_offset(&r->h) + 1;
        ai.records += r->h.records_count;
        pos += sz;
        bl.n++;
    }
    if (bl.n == 0)
        FAILR(KERR_INVALID_RECORD, "Produce request has no record batch for the partition");
    if ((int64_t)len > c->segment_bytes)
        FAILR(KERR_RECORD_LIST_TOO_LARGE, "Record batch is larger than the segment size");
    ai.last = next - 1;

    /* 3. idempotence */
    for (int i = 0; i < bl.n; i++) {
        pstate_batch dup;
        int e = pstate_check(&l->ps, &st, &bl.b[i].h, &dup, origin);
        if (e == KERR_DUPLICATE_SEQUENCE_NUMBER) {
            res->duplicate = true;
            res->base_offset = dup.first_offset;
            res->last_offset = dup.last_offset;
            res->record_count = (int32_t)(dup.last_offset - dup.first_offset + 1);
            if (c->timestamp_type == 1)
                res->log_append_time = dup.timestamp;
            goto out;
        }
        if (e)
            FAILR(e == KERR__NOMEM ? KERR_KAFKA_STORAGE_ERROR : e,
                  e == KERR_INVALID_PRODUCER_EPOCH ? "Producer epoch is older than the current one"
                  : e == KERR_OUT_OF_ORDER_SEQUENCE_NUMBER ? "Out of order sequence number"
                  : e == KERR_INVALID_TXN_STATE ? "Expected a transactional write from the producer: its transaction is open"
                  : "Producer state error");
        /* TV1: a transactional batch that would open its producer's
         * transaction needs the guard of a verification still standing. */
        const rb_header *h = &bl.b[i].h;
        if (verify && rb_is_transactional(h) && !rb_is_control(h)) {
            const pstate_entry *pe = pstate_get(&l->ps, h->producer_id);
            bool open = pe && pe->txn_first_offset >= 0 && pe->epoch == h->producer_epoch;
            if (!open && !pstate_verify_ok(&l->ps, h->producer_id, guard))
                FAILR(KERR_INVALID_TXN_STATE, "Record was not part of an ongoing transaction");
        }
    }

    /* 4. roll if needed, then ONE write */
    if ((res->error = (int16_t)write_batches(l, data, len, &bl, &ai, now_ms, res)))
        goto out;

    /* 5. publish */
    pstate_commit(&l->ps, &st);
    lec_assign(&l->lec, leader_epoch, ai.first);     /* S4: only a newer epoch adds an entry */
    if (c->timestamp_type == 1)
        res->log_append_time = now_ms;
    publish_end(l, &ai, res);
out:
#undef FAILR
    append_leave(l, res);
    pstate_stage_free(&st);
    batch_list_free(&bl);
    return res->error;
}

int plog_append(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                plog_append_result *res)
{
    return append_leader(l, data, len, leader_epoch, now_ms, res, PSTATE_ORIGIN_CLIENT, 0, false);
}

int plog_append_verified(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                         uint64_t guard, plog_append_result *res)
{
    return append_leader(l, data, len, leader_epoch, now_ms, res, PSTATE_ORIGIN_CLIENT, guard, true);
}

int plog_append_coordinator(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                            plog_append_result *res)
{
    return append_leader(l, data, len, leader_epoch, now_ms, res, PSTATE_ORIGIN_COORDINATOR, 0, false);
}

int plog_append_coordinator_verified(plog *l, uint8_t *data, size_t len, int32_t leader_epoch,
                                     int64_t now_ms, uint64_t guard, plog_append_result *res)
{
    return append_leader(l, data, len, leader_epoch, now_ms, res, PSTATE_ORIGIN_COORDINATOR, guard, true);
}

uint64_t plog_txn_verify_start(plog *l, int64_t producer_id, int16_t producer_epoch, int64_t now_ms)
{
    pthread_rwlock_wrlock(&l->lock);
    uint64_t g = pstate_verify_start(&l->ps, producer_id, producer_epoch, now_ms);
    pthread_rwlock_unlock(&l->lock);
    return g;
}

/* ---------------------------------------------------------------- transactions */

int64_t plog_lso_locked(const plog *l)
{
    int64_t lso = l->hw;                                  /* TL9 */
    int64_t open = pstate_first_open_peek(&l->ps);
    if (open >= 0 && open < lso)
        lso = open;
    for (int i = 0; i < l->nunrepl; i++)
        if (l->unrepl[i].first < lso)
            lso = l->unrepl[i].first;
    return lso < l->log_start ? l->log_start : lso;
}

void plog_unrepl_add(plog *l, int64_t first, int64_t marker)
{
    if (l->nunrepl == l->unrepl_cap) {
        int nc = l->unrepl_cap ? l->unrepl_cap * 2 : 8;
        struct plog_txn_span *nu = realloc(l->unrepl, sizeof *nu * (size_t)nc);
        if (!nu) {
            LOG_WRN("storage", "%s: out of memory tracking a completed transaction", l->dir);
            return;
        }
        l->unrepl = nu;
        l->unrepl_cap = nc;
    }
    l->unrepl[l->nunrepl++] = (struct plog_txn_span){ first, marker };
}

void plog_unrepl_prune(plog *l)
{
    int n = 0;
    while (n < l->nunrepl && l->unrepl[n].last < l->hw)
        n++;
    if (n) {
        memmove(l->unrepl, l->unrepl + n, sizeof *l->unrepl * (size_t)(l->nunrepl - n));
        l->nunrepl -= n;
    }
}

int plog_note_marker(plog *l, segment *s, int64_t pid, bool abort, int64_t first, int64_t marker)
{
    plog_unrepl_add(l, first, marker);
    if (!abort)
        return 0;
    /* Kafka's ProducerStateManager.lastStableOffset(completedTxn): the
     * oldest OTHER open transaction (this one is closed already). */
    int64_t open = pstate_first_open(&l->ps);
    txn_aborted a = { pid, first, marker, open >= 0 ? open : marker + 1 };
    if (segment_txn_append(s, &a) < 0) {
        LOG_ERR("storage", "%s: cannot append to %s: %s; the log is now offline", l->dir, s->txi.path,
                strerror(errno));
        l->failed = true;
        return -1;
    }
    return 0;
}

int plog_append_marker(plog *l, int64_t producer_id, int16_t producer_epoch, bool commit,
                       int32_t coordinator_epoch, int32_t leader_epoch, int64_t now_ms,
                       plog_append_result *res)
{
    batch_list bl = { 0 };
    uint8_t *data = NULL;
    size_t len = 0;
#define FAILR(code, msg) do { res->error = (code); res->error_message = (msg); goto out; } while (0)
    if (append_enter(l, res))
        goto out;
    if (producer_id < 0 || producer_epoch < 0)
        FAILR(KERR_INVALID_REQUEST, "Transaction marker without a producer id or epoch");
    int e = pstate_check_marker(&l->ps, producer_id, producer_epoch, coordinator_epoch);
    if (e)
        FAILR(e, e == KERR_INVALID_PRODUCER_EPOCH ? "Marker's producer epoch is older than the producer's"
                 : "Marker's coordinator epoch is older than the producer's");
    /* Kafka's EndTransactionMarker as a control batch (TL10). */
    uint8_t key[4], val[6];
    be16_store(key, 0);
    be16_store(key + 2, commit ? RB_CONTROL_COMMIT : RB_CONTROL_ABORT);
    be16_store(val, 0);
    be32_store(val + 2, (uint32_t)coordinator_epoch);
    bb_record rec = { key, 4, val, 6, now_ms };
    bb_params bp;
    bb_params_init(&bp);
    bp.base_offset = l->leo;
    bp.leader_epoch = leader_epoch;
    bp.extra_attributes = RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL;
    bp.producer_id = producer_id;
    bp.producer_epoch = producer_epoch;
    bp.base_sequence = -1;
    if (bb_build(&bp, &rec, 1, &data, &len) != KERR_NONE)
        FAILR(KERR_KAFKA_STORAGE_ERROR, "Out of memory");
    batch_ref *r = batch_list_next(&bl);
    if (!r)
        FAILR(KERR_KAFKA_STORAGE_ERROR, "Out of memory");
    r->p = data;
    if (rb_parse_header(data, len, &r->h) != KERR_NONE)
        FAILR(KERR_KAFKA_STORAGE_ERROR, "Could not build the marker");
    bl.n = 1;
    append_info ai = { l->leo, l->leo, now_ms, l->leo, 1 };
    if ((res->error = (int16_t)write_batches(l, data, len, &bl, &ai, now_ms, res)))
        goto out;
    int64_t first = pstate_replay(&l->ps, &r->h, coordinator_epoch);
    lec_assign(&l->lec, leader_epoch, ai.first);
    publish_end(l, &ai, res);
    if (plog_note_marker(l, active(l), producer_id, !commit, first, ai.first) < 0)
        FAILR(KERR_KAFKA_STORAGE_ERROR, "Could not write the aborted-transaction index");
out:
#undef FAILR
    append_leave(l, res);
    batch_list_free(&bl);
    free(data);
    return res->error;
}

int plog_append_follower(plog *l, uint8_t *data, size_t len, int64_t now_ms, plog_append_result *res)
{
    batch_list bl = { 0 };
#define FAILR(code, msg) do { res->error = (code); res->error_message = (msg); goto out; } while (0)
    if (append_enter(l, res))
        goto out;

    /* 1. validate every batch as Kafka's appendAsFollower does: framing,
     *    magic 2, CRC, offsets not below the LEO and strictly increasing
     *    (S6).  No size, timestamp or record-level checks: the leader made
     *    them.  A trailing partial batch (a fetch cut by max_bytes) is left
     *    out, like Kafka's trimInvalidBytes. */
    append_info ai = { -1, -1, -1, -1, 0 };
    size_t pos = 0;
    while (pos < len) {
        batch_ref *r = batch_list_next(&bl);
        if (!r)
            FAILR(KERR_KAFKA_STORAGE_ERROR, "Out of memory");
        r->p = data + pos;
        int e = rb_parse_header(r->p, len - pos, &r->h);
        if (e == KERR__AGAIN || (e == KERR_NONE && rb_size(&r->h) > len - pos))
            break;
        if (e)
            FAILR(KERR_CORRUPT_MESSAGE, "Record batch header is invalid");
        if (r->h.magic != 2)
            FAILR(KERR_CORRUPT_MESSAGE, "Record batch is not magic v2");
        if (!rb_crc_ok(r->p, &r->h))
            FAILR(KERR_CORRUPT_MESSAGE, "Record batch CRC mismatch");
        if (r->h.last_offset_delta < 0 || r->h.base_offset < 0 ||
            r->h.base_offset > INT64_MAX - 1 - r->h.last_offset_delta)
            FAILR(KERR_CORRUPT_MESSAGE, "Record batch offsets are invalid");
        /* 2. no offset assignment: the leader's offsets and epochs stay */
        if (bl.n == 0 && r->h.base_offset < l->leo)
            FAILR(KERR__APPEND_OFFSET, "First offset is below the log end offset");
        if (bl.n > 0 && r->h.base_offset <= ai.last)
            FAILR(KERR__OFFSETS_OUT_OF_ORDER, "Offsets are not increasing inside the append");
        if (bl.n == 0)
            ai.first = r->h.base_offset;
        if (r->h.max_timestamp > ai.max_ts) {
            ai.max_ts = r->h.max_timestamp;
            ai.offset_of_max = rb_last_offset(&r->h);
        }
        ai.last = rb_last_offset(&r->h);
        ai.records += r->h.records_count > 0 ? r->h.records_count : 0;
        pos += rb_size(&r->h);
        bl.n++;
    }
    if (bl.n == 0)
        goto out;                    /* nothing whole to append (Kafka returns early too) */
    len = pos;
    if ((int64_t)len > l->cfg.segment_bytes)
        FAILR(KERR_RECORD_LIST_TOO_LARGE, "Record batch is larger than the segment size");
    if (ai.last - ai.first > INT32_MAX)
        FAILR(KERR_RECORD_LIST_TOO_LARGE, "Offsets of one append span more than one segment can index");
    /* 3. producer state: no sequence checks (the leader made them); it is
     *    updated at step 5, after the write. */

    /* 4. roll if needed, then ONE write */
    if ((res->error = (int16_t)write_batches(l, data, len, &bl, &ai, now_ms, res)))
        goto out;

    /* 5. publish: producer state and epoch cache from every batch */
    publish_end(l, &ai, res);
    for (int i = 0; i < bl.n; i++) {
        const batch_ref *b = &bl.b[i];
        int32_t ce = rb_is_control(&b->h) ? rb_control_coordinator_epoch(b->p, rb_size(&b->h)) : -1;
        int64_t first = pstate_replay(&l->ps, &b->h, ce);
        lec_assign(&l->lec, b->h.leader_epoch, b->h.base_offset);   /* S4 */
        /* A marker from the leader: the same transaction bookkeeping as
         * the leader's (TL8, TL11) */
        if (rb_is_control(&b->h) && rb_has_producer_id(&b->h) &&
            plog_note_marker(l, active(l), b->h.producer_id,
                             rb_control_type(b->p, rb_size(&b->h)) == RB_CONTROL_ABORT, first,
                             b->h.base_offset) < 0)
            FAILR(KERR_KAFKA_STORAGE_ERROR, "Could not write the aborted-transaction index");
    }
out:
#undef FAILR
    append_leave(l, res);
    batch_list_free(&bl);
    return res->error;
}

/* ---------------------------------------------------------------- read */

static void read_res_init(plog *l, plog_read_result *res)
{
    memset(res, 0, sizeof *res);
    res->high_watermark = l->hw;
    res->last_stable_offset = plog_lso_locked(l);
    res->log_start_offset = l->log_start;
    res->log_end_offset = l->leo;
}

/* File position of the batch starting at `lso` (a batch start: TL9). */
static int lso_position(plog *l, int64_t lso, int64_t *base, int64_t *pos)
{
    int i = seg_index_for(l, lso);
    if (i < 0)
        i = 0;
    segment *s = l->segs[i];
    segment_pos p;
    int r = tail_find(l, s, lso, s->size, &p);
    if (r == 0)
        r = segment_find(s, lso, s->size, &p);
    if (r < 0)
        return -1;
    *base = s->base_offset;
    *pos = r == 1 ? p.pos : s->size;
    return 0;
}

/* Kafka's fetchUpperBoundOffset: an offset at or above the end of the
 * data returned from segs[i] (ending at file position endpos): the first
 * offset-index entry at or past endpos (so at most index.interval.bytes
 * of data beyond), else the next segment's base / the read bound. */
static int64_t upper_bound(plog *l, int i, int64_t endpos, int64_t end)
{
    segment *s = l->segs[i];
    int64_t ub = i + 1 < l->nsegs ? l->segs[i + 1]->base_offset : l->leo;
    if (segment_ensure_indexes(s) == 0 && s->oidx.n) {
        size_t lo = 0, hi = s->oidx.n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int32_t rel, pos;
            oidx_get(&s->oidx, mid, &rel, &pos);
            if (pos < endpos)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < s->oidx.n) {
            int32_t rel, pos;
            oidx_get(&s->oidx, lo, &rel, &pos);
            ub = s->base_offset + rel;
        }
    }
    return ub < end ? ub : end;
}

typedef struct abort_acc {
    plog_read_result *res;
    int cap;
    bool overflow;
} abort_acc;

static void abort_add(void *ctx, const txn_aborted *a)
{
    abort_acc *acc = ctx;
    plog_read_result *r = acc->res;
    if (r->naborted == acc->cap) {
        if (acc->cap >= PLOG_MAX_ABORTED) {
            acc->overflow = true;
            return;
        }
        int nc = acc->cap ? acc->cap * 2 : 8;
        plog_aborted *na = realloc(r->aborted, sizeof *na * (size_t)nc);
        if (!na) {
            acc->overflow = true;
            return;
        }
        r->aborted = na;
        acc->cap = nc;
    }
    r->aborted[r->naborted++] = (plog_aborted){ a->producer_id, a->first_offset };
}

/* Kafka's collectAbortedTxns(from, upper): the .txnindex entries of
 * segs[i..] overlapping [from, upper), until one shows the search is
 * complete (TL12).  0 / -1. */
static int collect_aborted(plog *l, int i, int64_t from, int64_t upper, plog_read_result *res)
{
    abort_acc acc = { res, 0, false };
    for (; i < l->nsegs; i++) {
        const txn_index *t = segment_txn_index(l->segs[i]);
        if (!t) {
            LOG_ERR("storage", "%s: cannot read %s: %s", l->dir, l->segs[i]->txi.path, strerror(errno));
            return -1;
        }
        if (txi_collect(t, from, upper, abort_add, &acc))
            break;
    }
    if (acc.overflow)
        LOG_WRN("storage", "%s: more than %d aborted transactions overlap [%" PRId64 ", %" PRId64
                "): the list was cut", l->dir, PLOG_MAX_ABORTED, from, upper);
    return 0;
}

int plog_read(plog *l, int64_t offset, int32_t max_bytes, bool min_one_batch, int isolation,
              plog_read_result *res)
{
    pthread_rwlock_rdlock(&l->lock);
    read_res_init(l, res);
    if (l->deleted) {
        res->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (offset < l->log_start || offset > l->leo) {
        res->error = KERR_OFFSET_OUT_OF_RANGE;
        goto out;
    }
    /* S3: consumers stop at the HW, read_committed ones at the LSO (TL9);
     * replica fetches read on to the LEO. */
    int64_t end = l->hw, end_base = l->hw_seg_base, end_pos = l->hw_pos;
    if (isolation == PLOG_ISOLATION_LOG_END) {
        end = l->leo;
        end_base = active(l)->base_offset;
        end_pos = active(l)->size;
    } else if (isolation == PLOG_ISOLATION_COMMITTED && res->last_stable_offset < l->hw) {
        end = res->last_stable_offset;
        if (offset < end && lso_position(l, end, &end_base, &end_pos) < 0) {
            res->error = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
    }
    if (offset >= end)
        goto out;
    for (int i = seg_index_for(l, offset); i >= 0 && i < l->nsegs; i++) {
        segment *s = l->segs[i];
        if (s->base_offset > end_base)
            break;
        int64_t limit = s->base_offset == end_base ? end_pos : s->size;
        segment_pos p;
        int r = tail_find(l, s, offset, limit, &p);
        if (r == 0)
            r = segment_find(s, offset, limit, &p);
        if (r < 0) {
            res->error = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        if (r == 0)
            continue;
        int64_t avail = limit - p.pos;
        int64_t want = max_bytes < 0 ? 0 : max_bytes;
        if (min_one_batch && want < p.size)
            want = p.size;
        int64_t n = want < avail ? want : avail;
        if (n <= 0)
            break;
        fileref *f = segment_file_get(s);
        if (!f) {
            res->error = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        res->file = f;
        res->file_pos = p.pos;
        res->len = (int32_t)n;
        if (isolation == PLOG_ISOLATION_COMMITTED &&
            collect_aborted(l, i, offset, upper_bound(l, i, p.pos + n, end), res) < 0) {
            fileref_unref(res->file);
            res->file = NULL;
            res->len = 0;
            res->error = KERR_KAFKA_STORAGE_ERROR;
        }
        break;
    }
out:
    pthread_rwlock_unlock(&l->lock);
    return res->error;
}

void plog_read_result_free(plog_read_result *res)
{
    if (res->file)
        fileref_unref(res->file);
    res->file = NULL;
    free(res->aborted);
    res->aborted = NULL;
    res->naborted = 0;
}

int plog_aborted_txns(plog *l, int64_t from, int64_t upper, plog_aborted **out, int *n)
{
    plog_read_result tmp;
    memset(&tmp, 0, sizeof tmp);
    pthread_rwlock_rdlock(&l->lock);
    int i = seg_index_for(l, from);
    int rc = collect_aborted(l, i < 0 ? 0 : i, from, upper, &tmp);
    pthread_rwlock_unlock(&l->lock);
    *out = tmp.aborted;
    *n = tmp.naborted;
    return rc < 0 ? KERR_KAFKA_STORAGE_ERROR : KERR_NONE;
}

int64_t plog_last_stable_offset(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    int64_t v = plog_lso_locked(l);
    pthread_rwlock_unlock(&l->lock);
    return v;
}

/* ---------------------------------------------------------------- ListOffsets */

static size_t decompress_cap(const plog *l, size_t batch_size)
{
    size_t cap = batch_size * 64;
    size_t floor = (size_t)(l->cfg.max_message_bytes > 0 ? l->cfg.max_message_bytes : PLOG_DEFAULT_MAX_MESSAGE_BYTES) * 16;
    if (cap < floor)
        cap = floor;
    return cap > COMPRESSION_HARD_CAP ? COMPRESSION_HARD_CAP : cap;
}

/* Search segment s from position `from` for the first record with
 * timestamp >= target (or == target when exact) and offset >= min_offset.
 * 1 found, 0 none, <0 error code. */
static int search_ts(plog *l, segment *s, int64_t from, int64_t limit, int64_t target, bool exact,
                     int64_t min_offset, int64_t *off, int64_t *ts, int32_t *epoch)
{
    fileref *f = segment_file_get(s);
    if (!f)
        return -KERR_KAFKA_STORAGE_ERROR;
    seg_reader rd;
    segr_init(&rd, f->fd, from, limit);
    rb_header h;
    int64_t at;
    const char *why;
    int rc, found = 0;
    while (!found && (rc = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH) {
        if (h.max_timestamp < target || rb_last_offset(&h) < min_offset)
            continue;
        size_t cap = decompress_cap(l, rb_size(&h));
        const uint8_t *bp = segr_batch(&rd, &h, at, cap);
        if (!bp) {
            rc = SEGR_IOERR;
            break;
        }
        rb_iter it;
        int e = rb_iter_init(&it, bp, rb_size(&h), cap);
        if (e) {
            LOG_WRN("storage", "%s: cannot read the records of the batch at %" PRId64 ": %s",
                    s->log_path, at, kerr_name(e));
            rb_iter_free(&it);
            found = -KERR_CORRUPT_MESSAGE;
            break;
        }
        rb_iter_record r;
        int n;
        while ((n = rb_iter_next(&it, &r)) == 1) {
            if (r.offset < min_offset)
                continue;
            if (exact ? r.timestamp == target : r.timestamp >= target) {
                *off = r.offset;
                *ts = r.timestamp;
                *epoch = h.leader_epoch;
                found = 1;
                break;
            }
        }
        rb_iter_free(&it);
        if (n < 0) {
            found = -KERR_CORRUPT_MESSAGE;
            break;
        }
    }
    segr_free(&rd);
    fileref_unref(f);
    if (!found && (rc == SEGR_IOERR || rc == SEGR_CORRUPT))
        return -KERR_KAFKA_STORAGE_ERROR;
    return found;
}

static int64_t seg_limit(plog *l, segment *s)
{
    if (s->base_offset > l->hw_seg_base)
        return 0;
    return s->base_offset == l->hw_seg_base ? l->hw_pos : s->size;
}

static int list_by_timestamp(plog *l, int64_t target, int64_t *off, int64_t *ts, int32_t *ep)
{
    for (int i = 0; i < l->nsegs; i++) {
        segment *s = l->segs[i];
        int64_t mts, moff;
        segment_max_timestamp(s, &mts, &moff);
        if (mts < target)
            continue;
        if (segment_ensure_indexes(s) < 0)
            return KERR_KAFKA_STORAGE_ERROR;
        int64_t tts;
        int32_t trel;
        int64_t start = s->base_offset;
        if (tidx_lookup(&s->tidx, target, &tts, &trel))
            start = s->base_offset + trel;
        if (start < l->log_start)
            start = l->log_start;
        /* segment_find, not a bare index lookup: it falls back to a scan
         * from the segment start if an index entry disagrees with the log */
        int64_t limit = seg_limit(l, s);
        segment_pos p;
        int r = segment_find(s, start, limit, &p);
        if (r < 0)
            return KERR_KAFKA_STORAGE_ERROR;
        if (r == 0)
            return KERR_NONE;
        r = search_ts(l, s, p.pos, limit, target, false, l->log_start, off, ts, ep);
        if (r < 0)
            return -r;
        return KERR_NONE;            /* like Kafka: only the first candidate segment */
    }
    return KERR_NONE;
}

static int list_max_timestamp(plog *l, int64_t *off, int64_t *ts, int32_t *ep)
{
    segment *best = NULL;
    int64_t best_ts = -1, best_off = -1;
    for (int i = 0; i < l->nsegs; i++) {
        int64_t mts, moff;
        segment_max_timestamp(l->segs[i], &mts, &moff);
        if (mts > best_ts) {
            best_ts = mts;
            best_off = moff;
            best = l->segs[i];
        }
    }
    if (!best)
        return KERR_NONE;
    int64_t limit = seg_limit(l, best);
    segment_pos p;
    int r = segment_find(best, best_off, limit, &p);
    if (r < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    if (r == 0)
        return KERR_NONE;
    r = search_ts(l, best, p.pos, limit, best_ts, true, l->log_start, off, ts, ep);
    return r < 0 ? -r : KERR_NONE;
}

int plog_list_offset(plog *l, int64_t timestamp, int isolation, int64_t *offset, int64_t *ts_out,
                     int32_t *leader_epoch_out)
{
    int rc = KERR_NONE;
    *offset = -1;
    *ts_out = -1;
    *leader_epoch_out = -1;
    pthread_rwlock_rdlock(&l->lock);
    if (l->deleted) {
        rc = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    switch (timestamp) {
    case PLOG_TS_EARLIEST:
    case PLOG_TS_EARLIEST_LOCAL:
        *offset = l->log_start;
        *leader_epoch_out = lec_epoch_for_offset(&l->lec, l->log_start);
        goto out;
    case PLOG_TS_LATEST:
        *offset = isolation == PLOG_ISOLATION_COMMITTED ? plog_lso_locked(l) : l->hw;
        *leader_epoch_out = lec_latest_epoch(&l->lec);
        goto out;
    case PLOG_TS_LATEST_TIERED:
        goto out;
    case PLOG_TS_MAX_TIMESTAMP:
        rc = list_max_timestamp(l, offset, ts_out, leader_epoch_out);
        break;
    default:
        if (timestamp < 0) {
            rc = KERR_INVALID_REQUEST;
            goto out;
        }
        rc = list_by_timestamp(l, timestamp, offset, ts_out, leader_epoch_out);
        break;
    }
    if (rc || *offset >= (isolation == PLOG_ISOLATION_COMMITTED ? plog_lso_locked(l) : l->hw)) {
        *offset = -1;
        *ts_out = -1;
        *leader_epoch_out = -1;
    } else if (*offset >= 0 && *leader_epoch_out < 0) {
        *leader_epoch_out = lec_epoch_for_offset(&l->lec, *offset);
    }
out:
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

/* ---------------------------------------------------------------- offsets */

#define GETTER(name, field) \
    int64_t name(plog *l) { pthread_rwlock_rdlock(&l->lock); int64_t v = l->field; pthread_rwlock_unlock(&l->lock); return v; }
GETTER(plog_log_start_offset, log_start)
GETTER(plog_log_end_offset, leo)
GETTER(plog_high_watermark, hw)
GETTER(plog_recovery_point, recovery_point)
#undef GETTER

bool plog_offline(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    bool v = l->failed;
    pthread_rwlock_unlock(&l->lock);
    return v;
}

int64_t plog_unflushed_messages(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    int64_t v = l->appended_msgs - l->flushed_msgs;
    pthread_rwlock_unlock(&l->lock);
    return v;
}

int64_t plog_size_bytes(plog *l)
{
    int64_t t = 0;
    pthread_rwlock_rdlock(&l->lock);
    for (int i = 0; i < l->nsegs; i++)
        t += l->segs[i]->size;
    pthread_rwlock_unlock(&l->lock);
    return t;
}

int plog_segment_count(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    int n = l->nsegs;
    pthread_rwlock_unlock(&l->lock);
    return n;
}

/* Clamp hw to [log start, LEO] and publish it if it moves forward (write
 * lock held).  Concurrent appenders publish their ends in either order, so
 * a later call may carry a smaller value: it is ignored (S2). */
static void set_hw_locked(plog *l, int64_t hw)
{
    if (hw < l->log_start)
        hw = l->log_start;
    if (hw > l->leo)
        hw = l->leo;                 /* S1: the HW never exceeds the LEO */
    if (hw > l->hw || hw == l->leo) {    /* S2: monotone (truncation alone lowers it) */
        l->hw = hw;
        plog_update_hw_pos(l);
        plog_unrepl_prune(l);            /* TL8 */
    }
}

void plog_set_high_watermark(plog *l, int64_t hw)
{
    pthread_rwlock_wrlock(&l->lock);
    set_hw_locked(l, hw);
    pthread_rwlock_unlock(&l->lock);
}

/* Move the log start up and drop segments wholly below it. */
static int advance_log_start(plog *l, int64_t start)
{
    if (start > l->log_start) {
        l->log_start = start;
        lec_truncate_from_start(&l->lec, start);
    }
    int n = 0;
    while (n < l->nsegs - 1 && l->segs[n + 1]->base_offset <= l->log_start &&
           l->segs[n + 1]->base_offset <= l->hw)
        n++;
    if (n) {
        drop_head_segments(l, n);
        plog_update_hw_pos(l);      /* the HW's segment may have gone */
    }
    plog_snap_prune(l);
    return n;
}

int plog_delete_records(plog *l, int64_t before_offset, int64_t *new_log_start)
{
    int rc = KERR_NONE;
    pthread_rwlock_wrlock(&l->lock);
    if (l->deleted) {
        rc = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (before_offset == -1)
        before_offset = l->hw;
    if (before_offset < 0 || before_offset > l->hw) {
        rc = KERR_OFFSET_OUT_OF_RANGE;
        goto out;
    }
    advance_log_start(l, before_offset);
out:
    *new_log_start = l->log_start;
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

/* ---------------------------------------------------------------- retention */

static int64_t segment_retention_ts(segment *s)
{
    int64_t ts, off;
    segment_max_timestamp(s, &ts, &off);
    if (ts >= 0)
        return ts;
    struct stat st;                  /* Kafka: no timestamps -> last modified */
    if (stat(s->log_path, &st) == 0)
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return INT64_MAX;
}

int plog_retention(plog *l, int64_t now_ms, int *deleted_segments)
{
    int n = 0;
    pthread_rwlock_wrlock(&l->lock);
    if (l->deleted || l->closed)
        goto out;
    const log_config *c = &l->cfg;
    /* Like Kafka, an active segment that retention would delete (wholly
     * expired, or over the size limit, and all below the HW) is first
     * rolled, so idle topics expire too; the new empty active segment is
     * never deleted. */
    segment *act = active(l);
    if (c->delete_retention && act->size > 0 && l->hw >= l->leo && !l->failed) {
        int64_t total = 0;
        for (int i = 0; i < l->nsegs; i++)
            total += l->segs[i]->size;
        bool expired = c->retention_ms >= 0 && now_ms - segment_retention_ts(act) > c->retention_ms;
        /* Size retention deletes oldest first while the excess covers a
         * whole segment; it reaches the active one only if everything is
         * excess (retention.bytes 0). */
        bool too_big = c->retention_bytes >= 0 && total - c->retention_bytes >= total;
        if ((expired || too_big) && roll(l, l->leo, now_ms) < 0)
            LOG_WRN("storage", "%s: could not roll an expired active segment", l->dir);
    }
    /* Candidates: sealed segments whose successor starts at or below the HW. */
    int max_del = 0;
    while (max_del < l->nsegs - 1 && l->segs[max_del + 1]->base_offset <= l->hw)
        max_del++;
    if (c->delete_retention && c->retention_ms >= 0) {
        while (n < max_del && now_ms - segment_retention_ts(l->segs[n]) > c->retention_ms)
            n++;
    }
    if (c->delete_retention && c->retention_bytes >= 0) {
        int64_t total = 0;
        for (int i = 0; i < l->nsegs; i++)
            total += l->segs[i]->size;
        int64_t diff = total - c->retention_bytes;
        for (int i = 0; i < n; i++)
            diff -= l->segs[i]->size;
        while (n < max_del && diff - l->segs[n]->size >= 0) {
            diff -= l->segs[n]->size;
            n++;
        }
    }
    if (n) {
        int64_t new_start = l->segs[n]->base_offset;
        LOG_INF("storage", "%s: retention deletes %d segment(s), log start %" PRId64 " -> %" PRId64,
                l->dir, n, l->log_start, new_start > l->log_start ? new_start : l->log_start);
        drop_head_segments(l, n);
        plog_update_hw_pos(l);
        if (new_start > l->log_start) {
            l->log_start = new_start;
            lec_truncate_from_start(&l->lec, new_start);
        }
    }
    n += advance_log_start(l, l->log_start);
    pstate_expire(&l->ps, now_ms, c->producer_id_expiration_ms);
out:
    pthread_rwlock_unlock(&l->lock);
    if (deleted_segments)
        *deleted_segments = n;
    return KERR_NONE;
}

/* ---------------------------------------------------------------- flush */

bool plog_flush_due(plog *l, int64_t now_ms)
{
    pthread_rwlock_rdlock(&l->lock);
    bool due = l->cfg.flush_ms != INT64_MAX && l->appended_msgs != l->flushed_msgs &&
               now_ms - l->last_flush_ms >= l->cfg.flush_ms;
    pthread_rwlock_unlock(&l->lock);
    return due;
}

int plog_flush_locked_io(plog *l)
{
    int cap = 16, n = 0, rc = KERR_NONE;
    fileref **fds = malloc(sizeof *fds * (size_t)cap);
    char *dir = NULL;
    if (!fds)
        return KERR_KAFKA_STORAGE_ERROR;

    pthread_rwlock_wrlock(&l->lock);
    if (l->failed) {
        pthread_rwlock_unlock(&l->lock);
        free(fds);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    int64_t target = l->leo, msgs = l->appended_msgs;
    int first = seg_index_for(l, l->recovery_point);
    if (first < 0)
        first = 0;
    for (int i = first; i < l->nsegs && rc == KERR_NONE; i++) {
        if (n + 3 > cap) {
            cap *= 2;
            fileref **nf = realloc(fds, sizeof *fds * (size_t)cap);
            if (!nf) {
                rc = KERR_KAFKA_STORAGE_ERROR;
                break;
            }
            fds = nf;
        }
        int k = segment_flush_prepare(l->segs[i], fds + n);
        if (k < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        else
            n += k;
        /* TL14: a .txnindex is durable before the recovery point passes its
         * markers (recovery rebuilds only what lies above).  Synced here,
         * under the lock: only segments that got an abort marker since the
         * last flush have anything to sync. */
        if (txi_sync(&l->segs[i]->txi) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
    }
    if (rc == KERR_NONE && l->lec.dirty && lec_write(&l->lec, l->dir, true) < 0)
        rc = KERR_KAFKA_STORAGE_ERROR;
    bool sync_dir = l->dir_dirty || l->snap_unsynced;
    int64_t snap = l->snap_unsynced && l->nsnaps ? l->snaps[l->nsnaps - 1] : -1;
    l->dir_dirty = false;
    l->snap_unsynced = false;
    if (sync_dir)
        dir = strdup(l->dir);
    pthread_rwlock_unlock(&l->lock);

    for (int i = 0; i < n; i++) {
        if (sio_fdatasync(fds[i]->fd) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        fileref_unref(fds[i]);
    }
    free(fds);
    if (snap >= 0 && dir) {
        char path[4200];
        pstate_snapshot_path(path, sizeof path, dir, snap);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (sio_fsync(fd) < 0)
                rc = KERR_KAFKA_STORAGE_ERROR;
            close(fd);
        }
    }
    if (dir && sio_fsync_dir(dir) < 0)
        rc = KERR_KAFKA_STORAGE_ERROR;
    free(dir);

    pthread_rwlock_wrlock(&l->lock);
    if (rc == KERR_NONE) {
        if (target > l->recovery_point)
            l->recovery_point = target < l->leo ? target : l->leo;
        if (msgs > l->flushed_msgs)
            l->flushed_msgs = msgs;
    } else {
        LOG_ERR("storage", "%s: flush failed: %s; the log is now offline", l->dir, strerror(errno));
        l->failed = true;            /* like Kafka: a failed fsync takes the log offline */
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

int plog_flush(plog *l)
{
    pthread_mutex_lock(&l->flush_mu);
    int rc = plog_flush_locked_io(l);
    pthread_rwlock_wrlock(&l->lock);
    l->last_flush_ms = wall_ms();
    pthread_rwlock_unlock(&l->lock);
    pthread_mutex_unlock(&l->flush_mu);
    return rc;
}

/* ---------------------------------------------------------------- misc */

void plog_set_config(plog *l, const log_config *cfg)
{
    pthread_rwlock_wrlock(&l->lock);
    l->cfg = *cfg;
    if (l->nsegs)
        active(l)->index_interval = cfg->index_interval_bytes;
    pthread_rwlock_unlock(&l->lock);
}

void plog_get_config(plog *l, log_config *cfg)
{
    pthread_rwlock_rdlock(&l->lock);
    *cfg = l->cfg;
    pthread_rwlock_unlock(&l->lock);
}

static int last_offset_cb(void *ctx, const rb_header *h, int64_t pos)
{
    (void)pos;
    *(int64_t *)ctx = rb_last_offset(h) + 1;
    return 0;
}

/* Next offset after the last batch of s (scans from its last index entry). */
static int64_t segment_next_offset(segment *s)
{
    int64_t next = s->base_offset, start = 0;
    if (s->oidx.n) {
        int32_t r, p;
        oidx_get(&s->oidx, s->oidx.n - 1, &r, &p);
        start = p;
    }
    segment_scan(s, start, s->size, last_offset_cb, &next);
    return next;
}

/* plog_truncate_to, or (fully) plog_truncate_fully_and_start_at. */
static int truncate_impl(plog *l, int64_t offset, bool fully)
{
    int rc = KERR_NONE;
    pthread_rwlock_wrlock(&l->lock);
    if (l->deleted || l->closed || l->failed) {
        rc = l->failed ? KERR_KAFKA_STORAGE_ERROR : KERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (offset < 0) {
        rc = KERR_OFFSET_OUT_OF_RANGE;
        goto out;
    }
    if (offset >= l->leo && !fully)
        goto out;
    LOG_INF("storage", "%s: truncating from offset %" PRId64 " to %" PRId64 "%s", l->dir, l->leo,
            offset, fully ? " (everything; the log restarts there)" : "");
    plog_tail_reset(l);
    if (fully || offset < l->log_start || offset < l->segs[0]->base_offset) {
        segment *s = segment_new(l->dir, offset, wall_ms());
        if (!s) {
            rc = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        s->index_interval = l->cfg.index_interval_bytes;
        while (l->nsegs > 0)
            plog_retire_segment(l, l->segs[--l->nsegs]);
        if (segment_create(s) < 0 || plog_push_segment(l, s) < 0) {
            segment_free(s);
            l->failed = true;
            rc = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        l->log_start = offset;
        l->leo = offset;
        pstate_clear(&l->ps);
        while (l->nsnaps)
            snap_delete_at(l, l->nsnaps - 1);
        lec_truncate_from_end(&l->lec, 0);
    } else {
        int i = seg_index_for(l, offset);
        bool dropped = l->nsegs - 1 > i;
        while (l->nsegs - 1 > i)
            plog_retire_segment(l, l->segs[--l->nsegs]);
        segment *s = active(l);
        /* S7: the later segments are gone on disk before the cut, so a crash
         * at any point leaves a prefix of the old log no shorter than
         * `offset`.  Should that fsync or the cut fail, the log goes
         * offline, ending where its active segment now ends. */
        if ((dropped && sio_fsync_dir(l->dir) < 0) || segment_ensure_indexes(s) < 0 ||
            idxf_to_mem(&s->oidx) < 0 || idxf_to_mem(&s->tidx) < 0 || segment_truncate_to(s, offset) < 0) {
            LOG_ERR("storage", "%s: truncation to %" PRId64 " failed: %s; the log is now offline", l->dir,
                    offset, strerror(errno));
            l->failed = true;
            rc = KERR_KAFKA_STORAGE_ERROR;
        } else {
            s->indexes_checked = true;
        }
        l->leo = segment_next_offset(s);
        while (l->nsnaps && l->snaps[l->nsnaps - 1] > l->leo)
            snap_delete_at(l, l->nsnaps - 1);
        /* Like Kafka's truncateTo: producer state from the newest snapshot
         * at or below the new end plus a replay, so epochs and sequences
         * are those of the kept batches only. */
        plog_rebuild_producer_state(l, wall_ms());
        lec_truncate_from_end(&l->lec, l->leo);    /* S5 */
    }
    l->dir_dirty = true;
    l->snap_synced = -1;
    if (l->first_dirty > offset)       /* Kafka's maybeTruncateCheckpoint */
        l->first_dirty = offset;
    if (l->hw > l->leo || fully)
        l->hw = l->leo;              /* S1, S2: truncation alone lowers the HW */
    if (l->recovery_point > l->leo || fully)
        l->recovery_point = l->leo;
    plog_update_hw_pos(l);
    if (fully)
        l->nunrepl = 0;
    plog_unrepl_prune(l);
out:
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

int plog_truncate_to(plog *l, int64_t offset)
{
    return truncate_impl(l, offset, false);
}

int plog_truncate_fully_and_start_at(plog *l, int64_t offset)
{
    return truncate_impl(l, offset, true);
}

void plog_epoch_end_offset(plog *l, int32_t epoch, int32_t leader_epoch, int32_t *epoch_out, int64_t *end_offset)
{
    pthread_rwlock_rdlock(&l->lock);
    lec_end_offset_for(&l->lec, epoch, l->leo, leader_epoch, epoch_out, end_offset);
    pthread_rwlock_unlock(&l->lock);
}

int32_t plog_latest_epoch(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    int32_t e = lec_latest_epoch(&l->lec);
    pthread_rwlock_unlock(&l->lock);
    return e;
}

void plog_assign_leader_epoch(plog *l, int32_t epoch)
{
    pthread_rwlock_wrlock(&l->lock);
    lec_assign(&l->lec, epoch, l->leo);     /* S4 */
    pthread_rwlock_unlock(&l->lock);
}

void plog_foreach_producer(plog *l, void (*fn)(void *ctx, const plog_producer_info *p), void *ctx)
{
    pthread_rwlock_rdlock(&l->lock);
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&l->ps.map, &it, &k, &kl, &v);) {
        const pstate_entry *e = v;
        plog_producer_info pi = {
            e->producer_id, e->epoch, e->nbatches ? e->b[e->nbatches - 1].last_seq : -1,
            e->last_timestamp, e->txn_first_offset, e->coordinator_epoch,
        };
        fn(ctx, &pi);
    }
    pthread_rwlock_unlock(&l->lock);
}

void plog_set_retire_hook(plog *l, void (*retire)(void *ctx, struct segment *s, int64_t delay_ms), void *ctx)
{
    pthread_rwlock_wrlock(&l->lock);
    l->retire = retire;
    l->retire_ctx = ctx;
    pthread_rwlock_unlock(&l->lock);
}

void plog_mark_deleted(plog *l, const char *new_dir)
{
    pthread_rwlock_wrlock(&l->lock);
    l->deleted = true;
    char *d = new_dir ? strdup(new_dir) : NULL;
    if (d) {
        free(l->dir);
        l->dir = d;
        /* Files closed by the fd cache are reopened by path (a flush still
         * in the queue): follow the rename. */
        for (int i = 0; i < l->nsegs; i++)
            if (segment_set_dir(l->segs[i], d) < 0)
                LOG_WRN("storage", "%s: out of memory renaming segment paths", d);
    }
    pthread_rwlock_unlock(&l->lock);
}

