/*
 * log_cleaner.c - one compaction pass over a partition log (see
 * log_cleaner.h for the design; Kafka's LogCleaner.Cleaner and
 * LogCleanerManager.cleanableOffsets are the model).
 *
 * A pass:
 *   plan()        read lock: range, source segments (filerefs), producers
 *   build_map()   no lock: key -> last offset over the dirty range
 *   clean_group() no lock: recopy a group of segments into <base>.*.cleaned,
 *                 fsync, rename to *.swap, fsync the dir
 *   swap_in()     write lock: retire the old segments, rename *.swap to the
 *                 final names, splice the new segment into segs[]
 * Threads: any thread; clean_mu serializes passes over one log.
 */
#include "storage/log_cleaner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/varint.h"
#include "storage/compression.h"
#include "storage/partition_log_int.h"
#include "storage/record_iter.h"
#include "storage/segment_reader.h"
#include "os/sio.h"

#define WBUF_FLUSH (1u << 20)                       /* write the output in ~1 MiB pwrites */
#define MAX_BATCH ((size_t)INT32_MAX + RB_LOG_OVERHEAD)
#define MAP_INITIAL_SLOTS 65536
#define MAP_MIN_SLOTS 64
#define ABORTED 1                                   /* internal: pass abandoned */

static const uint8_t XERIAL_MAGIC[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

/* ------------------------------------------------------------ key hash */

/* 128-bit key hash (the MurmurHash3 x64-128 construction).  Kafka's
 * SkimpyOffsetMap keys its map by the MD5 of the record key; like it, two
 * keys with the same 128-bit hash count as one key. */
static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static void key_hash(const uint8_t *p, size_t len, uint64_t out[2])
{
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0x9747b28c, h2 = 0x9747b28c, k1, k2;
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++) {
        memcpy(&k1, p + i * 16, 8);
        memcpy(&k2, p + i * 16 + 8, 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const uint8_t *tail = p + nblocks * 16;
    size_t rest = len & 15;
    k1 = k2 = 0;
    for (size_t i = rest; i > 8; i--)
        k2 ^= (uint64_t)tail[i - 1] << ((i - 9) * 8);
    if (rest > 8) {
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
    }
    for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
        k1 ^= (uint64_t)tail[i - 1] << ((i - 1) * 8);
    if (rest > 0) {
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

/* ------------------------------------------------------------ offset map */

/* Open addressing, linear probing, 24-byte slots.  It starts small and
 * doubles up to max_slots (the dedupe buffer / 24); "full" is Kafka's rule:
 * no new put once size reaches 90% of max_slots, so a probe always ends. */
typedef struct omap_slot {
    uint64_t h1, h2;
    int64_t off1;                   /* offset + 1; 0 = empty slot */
} omap_slot;

typedef struct offset_map {
    omap_slot *slots;
    size_t cap, size, max_slots, max_entries;
    int64_t latest;                 /* highest offset the map covers, -1 none */
} offset_map;

static int omap_init(offset_map *m, int64_t bytes)
{
    memset(m, 0, sizeof *m);
    if (bytes <= 0)
        bytes = LOG_CLEANER_DEFAULT_DEDUPE_BYTES;
    size_t slots = (size_t)(bytes / LOG_CLEANER_MAP_ENTRY_BYTES);
    if (slots < MAP_MIN_SLOTS)
        slots = MAP_MIN_SLOTS;
    m->max_slots = slots;
    m->max_entries = (size_t)((double)slots * LOG_CLEANER_MAP_LOAD_FACTOR);
    m->cap = slots < MAP_INITIAL_SLOTS ? slots : MAP_INITIAL_SLOTS;
    m->latest = -1;
    m->slots = calloc(m->cap, sizeof *m->slots);
    return m->slots ? 0 : -1;
}

static void omap_free(offset_map *m)
{
    free(m->slots);
    m->slots = NULL;
}

static omap_slot *omap_find(omap_slot *slots, size_t cap, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)(((unsigned __int128)h1 * cap) >> 64);
    for (;;) {
        omap_slot *s = &slots[i];
        if (s->off1 == 0 || (s->h1 == h1 && s->h2 == h2))
            return s;
        if (++i == cap)
            i = 0;
    }
}

static int omap_grow(offset_map *m)
{
    size_t ncap = m->cap * 2 < m->max_slots ? m->cap * 2 : m->max_slots;
    omap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].off1)
            *omap_find(ns, ncap, m->slots[i].h1, m->slots[i].h2) = m->slots[i];
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

static bool omap_full(const offset_map *m)
{
    return m->size >= m->max_entries;
}

static int omap_put(offset_map *m, const uint8_t *key, size_t len, int64_t offset)
{
    uint64_t h[2];
    if (m->cap < m->max_slots && (m->size + 1) * 4 > m->cap * 3 && omap_grow(m) < 0)
        return -1;
    key_hash(key, len, h);
    omap_slot *s = omap_find(m->slots, m->cap, h[0], h[1]);
    if (!s->off1) {
        s->h1 = h[0];
        s->h2 = h[1];
        m->size++;
    }
    s->off1 = offset + 1;
    m->latest = offset;
    return 0;
}

static int64_t omap_get(const offset_map *m, const uint8_t *key, size_t len)
{
    uint64_t h[2];
    key_hash(key, len, h);
    const omap_slot *s = omap_find(m->slots, m->cap, h[0], h[1]);
    return s->off1 - 1;
}

/* ------------------------------------------------------------ cleanable range */

/* Index of the segment holding offset (greatest base <= offset), or 0. */
static int seg_floor(const plog *l, int64_t offset)
{
    int lo = 0, hi = l->nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
}

/* maxTimestamp of the first batch (Kafka's getFirstBatchTimestamp), -1 if
 * none.  Reads the header through the fileref: no shared state changes. */
static int64_t first_batch_ts(segment *s)
{
    uint8_t h[RB_HEADER_SIZE];
    fileref *f = s->size >= RB_HEADER_SIZE ? segment_file_get(s) : NULL;
    bool ok = f && sio_pread_full(f->fd, h, sizeof h, 0) == (ssize_t)sizeof h;
    fileref_unref(f);
    return ok ? (int64_t)be64_load(h + RB_OFF_MAX_TIMESTAMP) : -1;
}

/* Kafka's cleanableOffsets + calculateCleanableBytes + maxCompactionDelay.
 * Caller holds l->lock.  *fd_idx / *fu_idx: segments holding the first
 * dirty and the first uncleanable offsets. */
static void compute_info(plog *l, int64_t now, log_cleaner_info *in, int *fd_idx, int *fu_idx)
{
    const log_config *c = &l->cfg;
    memset(in, 0, sizeof *in);
    in->compact = c->compact;
    int64_t fd = l->first_dirty < 0 ? l->log_start : l->first_dirty;
    if (fd < l->log_start || fd > l->leo)
        fd = l->log_start;
    in->first_dirty_offset = fd;
    int fdi = seg_floor(l, fd), last = l->nsegs - 1;

    int64_t unc = l->segs[last]->base_offset;     /* the active segment */
    int64_t lso = plog_lso_locked(l);              /* TL16: never past the last stable offset */
    if (lso < unc)
        unc = lso;
    int64_t lag = c->min_compaction_lag_ms > 0 ? c->min_compaction_lag_ms : 0;
    if (lag > 0) {
        for (int i = fdi; i < last; i++) {
            int64_t ts, off;
            segment_max_timestamp(l->segs[i], &ts, &off);
            if (ts > sat_sub(now, lag)) {
                if (l->segs[i]->base_offset < unc)
                    unc = l->segs[i]->base_offset;
                break;
            }
        }
    }
    int fui = seg_floor(l, unc);
    int64_t fu = l->segs[fui]->base_offset;
    in->first_uncleanable_offset = fu;

    for (int i = 0; i < l->nsegs && l->segs[i]->base_offset < fd; i++)
        in->clean_bytes += l->segs[i]->size;
    if (fd < fu)
        for (int i = fdi; i < fui; i++)
            in->cleanable_bytes += l->segs[i]->size;
    int64_t total = in->clean_bytes + in->cleanable_bytes;
    in->dirty_ratio = total > 0 ? (double)in->cleanable_bytes / (double)total : 0.0;

    int64_t maxlag = c->max_compaction_lag_ms > 0 ? c->max_compaction_lag_ms : 0;
    int64_t until = sat_sub(now, maxlag);
    if (until > 0) {                                /* else no timestamp can be older */
        for (int i = fdi; i < last; i++) {
            int64_t t = first_batch_ts(l->segs[i]);
            if (t > 0 && t < until) {
                in->need_compaction_now = true;
                break;
            }
        }
    }
    in->should_clean = in->compact && total > 0 &&
                       ((in->need_compaction_now && in->cleanable_bytes > 0) ||
                        in->dirty_ratio > c->min_cleanable_ratio);
    *fd_idx = fdi;
    *fu_idx = fui;
}

int plog_cleaner_info(plog *l, int64_t now_ms, log_cleaner_info *out)
{
    int a, b;
    pthread_rwlock_rdlock(&l->lock);
    if (l->deleted || l->closed || l->nsegs == 0) {
        memset(out, 0, sizeof *out);
        pthread_rwlock_unlock(&l->lock);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    compute_info(l, now_ms, out, &a, &b);
    pthread_rwlock_unlock(&l->lock);
    return KERR_NONE;
}

int64_t plog_cleaner_offset(plog *l)
{
    pthread_rwlock_rdlock(&l->lock);
    int64_t v = l->first_dirty;
    pthread_rwlock_unlock(&l->lock);
    return v;
}

void plog_set_cleaner_offset(plog *l, int64_t offset)
{
    pthread_rwlock_wrlock(&l->lock);
    l->first_dirty = offset;
    pthread_rwlock_unlock(&l->lock);
}

void log_cleaner_opts_init(log_cleaner_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dedupe_buffer_size = LOG_CLEANER_DEFAULT_DEDUPE_BYTES;
    o->force = true;
}

/* ------------------------------------------------------------ the pass */

typedef struct src_seg {
    segment *seg;               /* identity only: compared under the lock, never dereferenced outside it */
    int64_t base, end;          /* offsets in [base, end): end = next segment's base */
    int64_t size;
    fileref *file;              /* own reference */
    int64_t index_bytes, timeindex_bytes;
    struct timespec mtime;
} src_seg;

typedef struct pid_last {
    int64_t pid, last_offset;   /* a live producer's last data offset; -1: its last entry is a marker */
    int16_t epoch;
} pid_last;

/* Kafka's CleanedTransactionMetadata for one walk over batches in offset
 * order (TL17): which transactional batches belong to aborted transactions
 * (dropped), and which markers may go (no data of their transaction left
 * in what was walked). */
typedef struct tm_aborted {
    txn_aborted a;
    bool seen;                  /* a batch of it was walked (lastObservedBatchOffset) */
} tm_aborted;

typedef struct txn_meta {
    const txn_aborted *q;       /* the pass's aborted transactions, by first offset */
    size_t nq, qi;
    int64_t from;               /* entries ending below this are not for this walk */
    tm_aborted *ab;             /* ongoing aborted transactions (one per producer) */
    size_t nab, cab;
    int64_t *com;               /* producers with an ongoing committed transaction */
    size_t ncom, ccom;
} txn_meta;

typedef struct kept_rec {
    rb_record r;
    const uint8_t *raw;         /* the record's bytes (length varint included) */
    size_t raw_len;
} kept_rec;

typedef struct cleaner {
    plog *l;
    log_config cfg;
    char *dir;
    int64_t now;
    const atomic_bool *abort;
    log_cleaner_stats *st;
    int64_t first_dirty, fu, end;
    int fd_idx;
    int64_t dirty_pos;          /* position of first_dirty in src[fd_idx] */
    src_seg *src;               /* segments with base < fu, ascending */
    int nsrc;
    pid_last *pids;
    size_t npids;
    txn_aborted *aborted_q;     /* aborted transactions overlapping the cleanable range, by first offset */
    size_t naborted_q, caborted_q;
    bool aborted_overflow;
    txn_meta tm;                /* the current walk (build_map, then each group) */
    uint64_t gen;               /* l->seg_gen the plan was made at (moved by our own swaps) */
    offset_map map;
    uint8_t *wbuf;              /* output batches not written yet */
    size_t wlen, wcap;
    uint8_t *plain;             /* records of a rebuilt batch */
    size_t plain_cap;
    kept_rec *kept;
    size_t kept_cap;
} cleaner;

static bool aborted(const cleaner *c)
{
    return c->abort && atomic_load(c->abort);
}

static size_t dec_cap(const cleaner *c, size_t batch_size)
{
    size_t cap = batch_size * 64;
    size_t floor = (size_t)(c->cfg.max_message_bytes > 0 ? c->cfg.max_message_bytes : PLOG_DEFAULT_MAX_MESSAGE_BYTES) * 16;
    if (cap < floor)
        cap = floor;
    return cap > COMPRESSION_HARD_CAP ? COMPRESSION_HARD_CAP : cap;
}

/* After a read error: did the log change under us (truncation, deletion)?
 * Then the pass is abandoned instead of blaming the data. */
static bool log_changed(cleaner *c)
{
    pthread_rwlock_rdlock(&c->l->lock);
    bool ch = c->l->seg_gen != c->gen || c->l->deleted || c->l->closed;
    pthread_rwlock_unlock(&c->l->lock);
    return ch;
}

static int cmp_pid(const void *a, const void *b)
{
    int64_t x = ((const pid_last *)a)->pid, y = ((const pid_last *)b)->pid;
    return x < y ? -1 : x > y;
}

/* Room for one more element in a growable array (*v, *cap elements of
 * `elem` bytes, n used).  0 / -1 (out of memory, or past `max`). */
static int grow_one(void *vp, size_t *cap, size_t n, size_t elem, size_t first, size_t max)
{
    void **v = vp;
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : first;
    void *nv = nc <= max ? realloc(*v, elem * nc) : NULL;
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

static void tm_reset(txn_meta *t, const txn_aborted *q, size_t nq, int64_t from)
{
    t->q = q;
    t->nq = nq;
    t->qi = 0;
    t->from = from;
    t->nab = t->ncom = 0;
}

static void tm_free(txn_meta *t)
{
    free(t->ab);
    free(t->com);
    memset(t, 0, sizeof *t);
}

static tm_aborted *tm_find_ab(txn_meta *t, int64_t pid)
{
    for (size_t i = 0; i < t->nab; i++)
        if (t->ab[i].a.producer_id == pid)
            return &t->ab[i];
    return NULL;
}

/* consumeAbortedTxnsUpTo: aborted transactions that began at or before
 * `offset` become ongoing.  0 / -1 (out of memory). */
static int tm_consume(txn_meta *t, int64_t offset)
{
    while (t->qi < t->nq && t->q[t->qi].first_offset <= offset) {
        const txn_aborted *a = &t->q[t->qi++];
        if (a->last_offset < t->from || tm_find_ab(t, a->producer_id))
            continue;
        if (grow_one(&t->ab, &t->cab, t->nab, sizeof *t->ab, 8, SIZE_MAX / sizeof *t->ab) < 0)
            return -1;
        t->ab[t->nab++] = (tm_aborted){ *a, false };
    }
    return 0;
}

/* onBatchRead: 1 when the batch belongs to an aborted transaction (its
 * records go), 0 when not, -1 out of memory. */
static int tm_on_batch(txn_meta *t, const rb_header *h)
{
    if (tm_consume(t, rb_last_offset(h)) < 0)
        return -1;
    if (!rb_is_transactional(h))
        return 0;
    tm_aborted *a = tm_find_ab(t, h->producer_id);
    if (a) {
        a->seen = true;
        return 1;
    }
    for (size_t i = 0; i < t->ncom; i++)
        if (t->com[i] == h->producer_id)
            return 0;
    if (grow_one(&t->com, &t->ccom, t->ncom, sizeof *t->com, 8, SIZE_MAX / sizeof *t->com) < 0)
        return -1;
    t->com[t->ncom++] = h->producer_id;
    return 0;
}

/* onControlBatchRead for a marker of `type` (-1: an empty or unreadable
 * control batch, which may go): 1 when the marker may be discarded (no
 * batch of its transaction was walked), 0 when it stays; *keep_entry gets
 * the .txnindex entry to carry into the cleaned segment (an abort whose
 * data is still there).  -1 out of memory. */
static int tm_on_control(txn_meta *t, const rb_header *h, int type, txn_aborted *keep_entry, bool *keep)
{
    *keep = false;
    if (tm_consume(t, rb_last_offset(h)) < 0)
        return -1;
    if (type == RB_CONTROL_ABORT) {
        tm_aborted *a = tm_find_ab(t, h->producer_id);
        if (!a)
            return 1;
        *keep = a->seen;
        *keep_entry = a->a;
        *a = t->ab[--t->nab];
        return *keep ? 0 : 1;
    }
    if (type == RB_CONTROL_COMMIT) {
        for (size_t i = 0; i < t->ncom; i++)
            if (t->com[i] == h->producer_id) {
                t->com[i] = t->com[--t->ncom];
                return 0;
            }
        return 1;
    }
    return 1;
}

static int cmp_aborted_first(const void *a, const void *b)
{
    int64_t x = ((const txn_aborted *)a)->first_offset, y = ((const txn_aborted *)b)->first_offset;
    return x < y ? -1 : x > y;
}

static void add_aborted(void *ctx, const txn_aborted *a)
{
    cleaner *c = ctx;
    if (c->aborted_overflow)
        return;
    if (grow_one(&c->aborted_q, &c->caborted_q, c->naborted_q, sizeof *c->aborted_q, 16, PLOG_MAX_ABORTED) < 0) {
        c->aborted_overflow = true;
        return;
    }
    c->aborted_q[c->naborted_q++] = *a;
}

/* Under the read lock: the range and everything the pass needs from the
 * log's shared state.  Returns a KERR code; *go false when nothing to do. */
static int plan(cleaner *c, bool force, bool *go)
{
    plog *l = c->l;
    log_cleaner_stats *st = c->st;
    int rc = KERR_NONE, fdi, fui;
    *go = false;
    pthread_rwlock_rdlock(&l->lock);
    if (l->deleted || l->closed || l->nsegs == 0) {
        rc = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (l->failed) {
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    c->cfg = l->cfg;
    if (!c->cfg.compact) {
        st->note = "not a compacted log (cleanup.policy has no compact)";
        goto out;
    }
    log_cleaner_info in;
    compute_info(l, c->now, &in, &fdi, &fui);
    st->first_dirty_offset = c->first_dirty = in.first_dirty_offset;
    st->first_uncleanable_offset = c->fu = in.first_uncleanable_offset;
    st->end_offset = c->first_dirty;
    st->dirty_ratio = in.dirty_ratio;
    if (c->first_dirty >= c->fu) {
        st->note = "nothing to clean (no dirty data below the active segment, the HW and min.compaction.lag.ms)";
        goto out;
    }
    if (!force && !in.should_clean) {
        st->note = "dirty ratio not above min.cleanable.dirty.ratio";
        goto out;
    }
    if (!(c->dir = strdup(l->dir)) || !(c->src = calloc((size_t)fui, sizeof *c->src))) {
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    for (int i = 0; i < fui; i++) {
        segment *s = l->segs[i];
        src_seg *d = &c->src[i];
        fileref *f = segment_file_get(s);
        if (!f) {
            LOG_ERR("storage", "%s: cleaner cannot open %s: %s", l->dir, s->log_path, strerror(errno));
            rc = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        d->file = f;
        c->nsrc = i + 1;
        d->seg = s;
        d->base = s->base_offset;
        d->end = l->segs[i + 1]->base_offset;
        d->size = s->size;
        struct stat sb;
        if (fstat(f->fd, &sb) == 0)
            d->mtime = sb.st_mtim;
        d->index_bytes = stat(s->oidx.path, &sb) == 0 ? (int64_t)sb.st_size : 0;
        d->timeindex_bytes = stat(s->tidx.path, &sb) == 0 ? (int64_t)sb.st_size : 0;
    }
    c->fd_idx = fdi;
    c->dirty_pos = 0;
    if (c->first_dirty > c->src[fdi].base) {
        segment_pos p;
        int r = segment_find(l->segs[fdi], c->first_dirty, l->segs[fdi]->size, &p);
        if (r < 0) {
            rc = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        c->dirty_pos = r == 1 ? p.pos : l->segs[fdi]->size;
    }
    /* Live producers' last data offsets (Kafka's lastRecordsOfActiveProducers). */
    size_t np = pstate_count(&l->ps), k = 0;
    if (np && !(c->pids = malloc(sizeof *c->pids * np))) {
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    const char *key;
    size_t kl;
    void *v;
    for (size_t it = 0; k < np && strmap_next(&l->ps.map, &it, &key, &kl, &v);) {
        const pstate_entry *e = v;
        c->pids[k++] = (pid_last){ e->producer_id, e->nbatches > 0 ? e->b[e->nbatches - 1].last_offset : -1,
                                   e->epoch };
    }
    c->npids = k;
    if (k > 1)
        qsort(c->pids, k, sizeof *c->pids, cmp_pid);
    /* The aborted transactions overlapping [log's first segment, fu) from the
     * .txnindex files (Kafka's collectAbortedTransactions per cleaned
     * segment; one list for the pass). */
    for (int i = 0; i < l->nsegs; i++) {
        const txn_index *t = segment_txn_index(l->segs[i]);
        if (!t) {
            LOG_ERR("storage", "%s: cleaner cannot read %s: %s", l->dir, l->segs[i]->txi.path, strerror(errno));
            rc = KERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        if (txi_collect(t, c->src[0].base, c->fu, add_aborted, c))
            break;
    }
    if (c->aborted_overflow) {
        st->note = "too many aborted transactions in the cleanable range";
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    if (c->naborted_q > 1)
        qsort(c->aborted_q, c->naborted_q, sizeof *c->aborted_q, cmp_aborted_first);
    c->gen = l->seg_gen;
    *go = true;
out:
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

static bool last_batch_of_live_producer(const cleaner *c, const rb_header *h)
{
    size_t lo = 0, hi = c->npids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->pids[mid].pid < h->producer_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= c->npids || c->pids[lo].pid != h->producer_id)
        return false;
    const pid_last *p = &c->pids[lo];
    if (p->last_offset >= 0)
        return p->last_offset == rb_last_offset(h);
    return rb_is_control(h) && h->producer_epoch == p->epoch;   /* the marker holds the last epoch */
}

/* Map key -> last offset over [first_dirty, fu).  Sets c->end. */
static int build_map(cleaner *c)
{
    log_cleaner_stats *st = c->st;
    int rc = KERR_NONE;
    tm_reset(&c->tm, c->aborted_q, c->naborted_q, c->first_dirty);
    bool full = false;
    for (int i = c->fd_idx; i < c->nsrc && !full && rc == KERR_NONE; i++) {
        src_seg *s = &c->src[i];
        seg_reader rd;
        rb_header h;
        int64_t at;
        const char *why;
        int r;
        segr_init(&rd, s->file->fd, i == c->fd_idx ? c->dirty_pos : 0, s->size);
        while ((r = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH) {
            if (aborted(c)) {
                rc = ABORTED;
                break;
            }
            if (rb_last_offset(&h) < c->first_dirty)
                continue;
            const uint8_t *b = segr_batch(&rd, &h, at, MAX_BATCH);
            if (!b) {
                rc = KERR_KAFKA_STORAGE_ERROR;
                break;
            }
            /* TL17: records of aborted transactions never enter the map (they
             * must not supersede committed ones); markers move the state. */
            txn_aborted unused;
            bool unused_keep;
            int t = rb_is_control(&h) ? tm_on_control(&c->tm, &h, rb_control_type(b, rb_size(&h)), &unused,
                                                      &unused_keep)
                                      : tm_on_batch(&c->tm, &h);
            if (t < 0) {
                rc = KERR_KAFKA_STORAGE_ERROR;
                break;
            }
            if (rb_is_control(&h) || t == 1)
                continue;
            rb_iter it;
            rb_iter_record rec;
            int e = rb_iter_init(&it, b, rb_size(&h), dec_cap(c, rb_size(&h))), k = 0;
            if (e) {
                why = "batch cannot be decompressed";
                rc = KERR_CORRUPT_MESSAGE;
                break;
            }
            while ((k = rb_iter_next(&it, &rec)) == 1) {
                st->map_records++;
                if (!rec.r.key || rec.offset < c->first_dirty)
                    continue;
                if (omap_full(&c->map) || omap_put(&c->map, rec.r.key, (size_t)rec.r.key_len, rec.offset) < 0) {
                    full = true;
                    break;
                }
            }
            rb_iter_free(&it);
            if (k < 0) {
                why = "bad record framing";
                rc = KERR_CORRUPT_MESSAGE;
                break;
            }
            if (full)
                break;
        }
        if (rc == KERR_NONE && (r == SEGR_IOERR || r == SEGR_CORRUPT))
            rc = r == SEGR_IOERR ? KERR_KAFKA_STORAGE_ERROR : KERR_CORRUPT_MESSAGE;
        if (rc != KERR_NONE && rc != ABORTED)
            LOG_ERR("storage", "%s: cleaner: %020" PRId64 ".log at position %" PRId64 ": %s", c->dir,
                    s->base, rd.pos, rc == KERR_KAFKA_STORAGE_ERROR ? strerror(errno) : why);
        segr_free(&rd);
        /* A segment read to its end is mapped up to the next one's base. */
        if (rc == KERR_NONE && !full && c->map.latest < s->end - 1)
            c->map.latest = s->end - 1;
    }
    st->map_full = full;
    st->map_entries = (int64_t)c->map.size;
    c->end = c->map.latest + 1;
    return rc;
}

/* ---- output ---- */

static int wbuf_reserve(cleaner *c, size_t more)
{
    if (c->wlen + more <= c->wcap)
        return 0;
    size_t nc = c->wcap ? c->wcap : WBUF_FLUSH + (WBUF_FLUSH >> 2);
    while (nc < c->wlen + more)
        nc *= 2;
    uint8_t *nb = realloc(c->wbuf, nc);
    if (!nb)
        return -1;
    c->wbuf = nb;
    c->wcap = nc;
    return 0;
}

static int out_flush(cleaner *c, segment *out)
{
    if (!c->wlen)
        return KERR_NONE;
    if (out->size + (int64_t)c->wlen > INT32_MAX) {   /* index positions are int32 */
        LOG_ERR("storage", "%s: cleaned segment %s would exceed 2 GiB", c->dir, out->log_path);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    if (segment_append_batches(out, c->wbuf, c->wlen) < 0) {
        LOG_ERR("storage", "%s: cannot write %s: %s", c->dir, out->log_path, strerror(errno));
        return KERR_KAFKA_STORAGE_ERROR;
    }
    c->st->bytes_written += (int64_t)c->wlen;
    c->wlen = 0;
    return KERR_NONE;
}

static int emit(cleaner *c, segment *out, const uint8_t *b, size_t n)
{
    if (wbuf_reserve(c, n) < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    memcpy(c->wbuf + c->wlen, b, n);
    c->wlen += n;
    c->st->batches_written++;
    return c->wlen >= WBUF_FLUSH ? out_flush(c, out) : KERR_NONE;
}

static void put_header(uint8_t *p, const rb_header *h, size_t size, int16_t attrs, int64_t base_ts,
                       int64_t max_ts, int32_t count)
{
    be64_store(p + RB_OFF_BASE_OFFSET, (uint64_t)h->base_offset);
    be32_store(p + RB_OFF_LENGTH, (uint32_t)(size - RB_LOG_OVERHEAD));
    be32_store(p + RB_OFF_LEADER_EPOCH, (uint32_t)h->leader_epoch);
    p[RB_OFF_MAGIC] = 2;
    be16_store(p + RB_OFF_ATTRIBUTES, (uint16_t)attrs);
    be32_store(p + RB_OFF_LAST_OFFSET_DELTA, (uint32_t)h->last_offset_delta);
    be64_store(p + RB_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
    be64_store(p + RB_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
    be64_store(p + RB_OFF_PRODUCER_ID, (uint64_t)h->producer_id);
    be16_store(p + RB_OFF_PRODUCER_EPOCH, (uint16_t)h->producer_epoch);
    be32_store(p + RB_OFF_BASE_SEQUENCE, (uint32_t)h->base_sequence);
    be32_store(p + RB_OFF_RECORDS_COUNT, (uint32_t)count);
    be32_store(p + RB_OFF_CRC, rb_compute_crc(p, size));
}

/* DefaultRecordBatch.writeEmptyHeader: keeps the offsets, producer fields
 * and maxTimestamp; no codec, no records, baseTimestamp -1. */
static int emit_empty(cleaner *c, segment *out, const rb_header *h)
{
    if (wbuf_reserve(c, RB_HEADER_SIZE) < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    int16_t attrs = (int16_t)(h->attributes & (RB_ATTR_LOG_APPEND_TIME | RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL));
    put_header(c->wbuf + c->wlen, h, RB_HEADER_SIZE, attrs, -1, h->max_timestamp, 0);
    c->wlen += RB_HEADER_SIZE;
    c->st->batches_written++;
    c->st->empty_batches_kept++;
    return c->wlen >= WBUF_FLUSH ? out_flush(c, out) : KERR_NONE;
}

static inline uint64_t zz32(int32_t v) { return (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)); }
static inline uint64_t zz64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

/* Body size of a record re-encoded against base_ts. */
static size_t rec_body_size(const rb_record *r, int64_t tsd)
{
    int32_t kl = r->key ? r->key_len : -1, vl = r->value ? r->value_len : -1;
    return 1 + uvarint_size(zz64(tsd)) + uvarint_size(zz32(r->offset_delta)) +
           uvarint_size(zz32(kl)) + (kl > 0 ? (size_t)kl : 0) +
           uvarint_size(zz32(vl)) + (vl > 0 ? (size_t)vl : 0) +
           uvarint_size(zz32(r->headers_count)) + r->headers_len;
}

/* Rebuild the batch from its kept records (Kafka's buildRetainedRecordsInto:
 * same base offset, last offset delta, producer fields, leader epoch,
 * timestamp type and codec; baseTimestamp = the delete horizon when set,
 * else the first kept record's timestamp). */
static int rebuild(cleaner *c, segment *out, const uint8_t *b, const rb_header *h, size_t nkept,
                   bool horizon_bit, int64_t base_ts)
{
    /* 1. plain records */
    size_t need = 0;
    int64_t max_ts = -1;
    bool same_base = base_ts == h->base_timestamp;
    for (size_t i = 0; i < nkept; i++) {
        const kept_rec *k = &c->kept[i];
        if (k->r.timestamp > max_ts)
            max_ts = k->r.timestamp;
        if (same_base) {
            need += k->raw_len;
        } else {
            size_t body = rec_body_size(&k->r, (int64_t)((uint64_t)k->r.timestamp - (uint64_t)base_ts));
            need += uvarint_size(zz32((int32_t)body)) + body;
        }
    }
    if (rb_is_log_append_time(h))
        max_ts = h->max_timestamp;
    if (need > c->plain_cap) {
        uint8_t *np = realloc(c->plain, need);
        if (!np)
            return KERR_KAFKA_STORAGE_ERROR;
        c->plain = np;
        c->plain_cap = need;
    }
    uint8_t *w = c->plain;
    for (size_t i = 0; i < nkept; i++) {
        const kept_rec *k = &c->kept[i];
        if (same_base) {
            memcpy(w, k->raw, k->raw_len);
            w += k->raw_len;
            continue;
        }
        const rb_record *r = &k->r;
        int64_t tsd = (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts);
        int32_t kl = r->key ? r->key_len : -1, vl = r->value ? r->value_len : -1;
        w += varint32_encode(w, (int32_t)rec_body_size(r, tsd));
        *w++ = 0;                                   /* record attributes (unused) */
        w += varint64_encode(w, tsd);
        w += varint32_encode(w, r->offset_delta);
        w += varint32_encode(w, kl);
        if (kl > 0)
            memcpy(w, r->key, (size_t)kl), w += kl;
        w += varint32_encode(w, vl);
        if (vl > 0)
            memcpy(w, r->value, (size_t)vl), w += vl;
        w += varint32_encode(w, r->headers_count);
        if (r->headers_len)
            memcpy(w, r->headers, r->headers_len), w += r->headers_len;
    }
    size_t plain_len = (size_t)(w - c->plain);

    /* 2. recompress with the batch's codec (snappy keeps its framing) */
    const uint8_t *body = c->plain;
    size_t body_len = plain_len;
    uint8_t *comp = NULL;
    int codec = rb_codec(h);
    if (codec != RB_CODEC_NONE) {
        size_t src_len = rb_size(h) - RB_HEADER_SIZE;
        int xerial = codec == RB_CODEC_SNAPPY && src_len >= 16 &&
                     memcmp(b + RB_HEADER_SIZE, XERIAL_MAGIC, sizeof XERIAL_MAGIC) == 0;
        int e = codec_compress(codec, xerial, c->plain, plain_len, &comp, &body_len);
        if (e) {
            LOG_ERR("storage", "%s: cleaner cannot recompress the batch at offset %" PRId64 ": %s",
                    c->dir, h->base_offset, kerr_name(e));
            return KERR_KAFKA_STORAGE_ERROR;
        }
        body = comp;
    }

    /* 3. header + body straight into the write buffer */
    size_t size = RB_HEADER_SIZE + body_len;
    if (size - RB_LOG_OVERHEAD > INT32_MAX || wbuf_reserve(c, size) < 0) {
        free(comp);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    uint8_t *p = c->wbuf + c->wlen;
    memcpy(p + RB_HEADER_SIZE, body, body_len);
    free(comp);
    int16_t attrs = (int16_t)((h->attributes & (RB_ATTR_CODEC_MASK | RB_ATTR_LOG_APPEND_TIME |
                                                RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL)) |
                              (horizon_bit ? RB_ATTR_DELETE_HORIZON : 0));
    put_header(p, h, size, attrs, base_ts, max_ts, (int32_t)nkept);
    c->wlen += size;
    c->st->batches_written++;
    return c->wlen >= WBUF_FLUSH ? out_flush(c, out) : KERR_NONE;
}

/* Kafka's Cleaner.shouldRetainRecord for a v2 batch. */
static bool retain(const cleaner *c, const rb_iter_record *rec, bool has_horizon, int64_t horizon)
{
    if (rec->offset > c->map.latest)                /* past what the map covers */
        return true;
    if (!rec->r.key)                                /* no key: invalid in a compacted log */
        return false;
    if (rec->offset < omap_get(&c->map, rec->r.key, (size_t)rec->r.key_len))
        return false;                               /* superseded */
    if (rec->r.value)
        return true;
    return !has_horizon || c->now < horizon;        /* tombstone: until its delete horizon */
}

/* Filter one batch into the output (MemoryRecords.filterTo + the
 * cleaner's RecordFilter, without transactions). */
/* A control batch (Kafka's checkBatchRetention for markers, TL17): kept
 * while its transaction has data left; once it has none, the marker gets a
 * delete horizon (now + delete.retention.ms) at its first such cleaning
 * and goes at the first cleaning after it - unless it holds the last epoch
 * of a live producer (then it stays, emptied).  A kept abort marker whose
 * transaction still has data carries its .txnindex entry into the cleaned
 * segment. */
static int filter_control(cleaner *c, segment *out, const uint8_t *b, const rb_header *h)
{
    txn_aborted entry;
    bool keep_entry;
    int can_discard = tm_on_control(&c->tm, h, rb_control_type(b, rb_size(h)), &entry, &keep_entry);
    if (can_discard < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    bool has_h = (h->attributes & RB_ATTR_DELETE_HORIZON) != 0;
    bool discard_records = can_discard && has_h && h->base_timestamp <= c->now;
    bool last_of_producer = rb_has_producer_id(h) && last_batch_of_live_producer(c, h);
    if (keep_entry && segment_txn_append(out, &entry) < 0) {
        LOG_ERR("storage", "%s: cleaner cannot write %s: %s", c->dir, out->txi.path, strerror(errno));
        return KERR_KAFKA_STORAGE_ERROR;
    }
    if (h->records_count < 1)                      /* emptied before: goes unless it holds an epoch */
        return last_of_producer ? emit(c, out, b, rb_size(h)) : KERR_NONE;
    if (discard_records)
        return last_of_producer ? emit_empty(c, out, h) : KERR_NONE;
    if (!can_discard || has_h)
        return emit(c, out, b, rb_size(h));
    /* first cleaning with no data left: start the marker's delete horizon */
    rb_iter it;
    rb_iter_record rec;
    if (rb_iter_init(&it, b, rb_size(h), dec_cap(c, rb_size(h))))
        return KERR_CORRUPT_MESSAGE;
    size_t n = 0;
    int k, rc = KERR_NONE;
    const uint8_t *rp = it.p;
    while ((k = rb_iter_next(&it, &rec)) == 1) {
        if (grow_one(&c->kept, &c->kept_cap, n, sizeof *c->kept, 256, SIZE_MAX / sizeof *c->kept) < 0) {
            rc = KERR_KAFKA_STORAGE_ERROR;
            break;
        }
        c->kept[n++] = (kept_rec){ rec.r, rp, (size_t)(it.p - rp) };
        rp = it.p;
    }
    if (k < 0)
        rc = KERR_CORRUPT_MESSAGE;
    if (rc == KERR_NONE)
        rc = rebuild(c, out, b, h, n, true, sat_add(c->now, c->cfg.delete_retention_ms));
    rb_iter_free(&it);
    return rc;
}

static int filter_batch(cleaner *c, segment *out, const uint8_t *b, const rb_header *h)
{
    log_cleaner_stats *st = c->st;
    if (rb_is_control(h))
        return filter_control(c, out, b, h);
    int in_aborted = tm_on_batch(&c->tm, h);      /* TL17: aborted data goes */
    if (in_aborted < 0)
        return KERR_KAFKA_STORAGE_ERROR;
    if (in_aborted) {
        st->records_read += h->records_count > 0 ? h->records_count : 0;
        return rb_has_producer_id(h) && last_batch_of_live_producer(c, h) ? emit_empty(c, out, h) : KERR_NONE;
    }
    rb_iter it;
    rb_iter_record rec;
    int e = rb_iter_init(&it, b, rb_size(h), dec_cap(c, rb_size(h)));
    if (e)
        return KERR_CORRUPT_MESSAGE;
    bool has_h = (h->attributes & RB_ATTR_DELETE_HORIZON) != 0, all = true, tomb = false;
    size_t n = 0;
    int k, rc = KERR_NONE;
    const uint8_t *rp = it.p;
    while ((k = rb_iter_next(&it, &rec)) == 1) {
        st->records_read++;
        const uint8_t *rend = it.p;
        if (retain(c, &rec, has_h, h->base_timestamp)) {
            if (grow_one(&c->kept, &c->kept_cap, n, sizeof *c->kept, 256, SIZE_MAX / sizeof *c->kept) < 0) {
                rc = KERR_KAFKA_STORAGE_ERROR;
                goto out;
            }
            c->kept[n++] = (kept_rec){ rec.r, rp, (size_t)(rend - rp) };
            if (!rec.r.value)
                tomb = true;
        } else {
            all = false;
            if (!rec.r.value)
                st->tombstones_removed++;
        }
        rp = rend;
    }
    if (k < 0) {
        rc = KERR_CORRUPT_MESSAGE;
        goto out;
    }
    st->records_retained += (int64_t)n;
    if (n > 0) {
        bool need_h = tomb && !has_h;               /* first cleaning of a tombstone: start its clock */
        if (all && !need_h)
            rc = emit(c, out, b, rb_size(h));       /* untouched: byte for byte */
        else
            rc = rebuild(c, out, b, h, n, need_h || has_h,
                         need_h ? sat_add(c->now, c->cfg.delete_retention_ms)
                         : has_h ? h->base_timestamp : c->kept[0].r.timestamp);
    } else if (rb_has_producer_id(h) && last_batch_of_live_producer(c, h)) {
        rc = emit_empty(c, out, h);                 /* keep the producer's sequence (KIP-98) */
    }
out:
    rb_iter_free(&it);
    return rc;
}

/* Recopy one source segment into out. */
static int clean_into(cleaner *c, const src_seg *s, segment *out)
{
    seg_reader rd;
    rb_header h;
    int64_t at;
    const char *why = NULL;
    int r, rc = KERR_NONE;
    segr_init(&rd, s->file->fd, 0, s->size);
    while ((r = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH) {
        if (aborted(c)) {
            rc = ABORTED;
            break;
        }
        const uint8_t *b = segr_batch(&rd, &h, at, MAX_BATCH);
        if (!b) {
            rc = KERR_KAFKA_STORAGE_ERROR;
            break;
        }
        if (!rb_crc_ok(b, &h)) {
            why = "CRC mismatch";
            rc = KERR_CORRUPT_MESSAGE;
            break;
        }
        c->st->batches_read++;
        c->st->bytes_read += (int64_t)rb_size(&h);
        if ((rc = filter_batch(c, out, b, &h)) != KERR_NONE) {
            why = "bad record framing or compressed data";
            break;
        }
    }
    if (rc == KERR_NONE && (r == SEGR_IOERR || r == SEGR_CORRUPT))
        rc = r == SEGR_IOERR ? KERR_KAFKA_STORAGE_ERROR : KERR_CORRUPT_MESSAGE;
    if (rc != KERR_NONE && rc != ABORTED)
        LOG_ERR("storage", "%s: cleaner: %020" PRId64 ".log at position %" PRId64 ": %s", c->dir, s->base,
                rd.pos, rc == KERR_CORRUPT_MESSAGE && why ? why : strerror(errno));
    segr_free(&rd);
    c->st->segments_read++;
    return rc;
}

static void discard(segment *out)
{
    segment_unlink(out);
    segment_free(out);
}

/* Under the write lock: replace src[gi..gj) by out (Kafka's replaceSegments). */
static int swap_in(cleaner *c, int gi, int gj, segment *out, bool last_group)
{
    plog *l = c->l;
    int n = gj - gi, k = -1, rc = KERR_NONE;
    pthread_rwlock_wrlock(&l->lock);
    bool ok = !l->deleted && !l->closed && !l->failed && l->seg_gen == c->gen;
    if (ok) {
        for (int i = 0; i < l->nsegs; i++)
            if (l->segs[i] == c->src[gi].seg) {
                k = i;
                break;
            }
        ok = k >= 0 && k + n < l->nsegs;            /* never the active segment */
        for (int m = 0; ok && m < n; m++)
            ok = l->segs[k + m] == c->src[gi + m].seg;
    }
    if (!ok) {
        pthread_rwlock_unlock(&l->lock);
        discard(out);
        c->st->aborted = true;
        c->st->note = "the log changed during cleaning (truncation, retention, deletion): abandoned";
        return ABORTED;
    }
    for (int m = 0; m < n; m++)
        plog_retire_segment(l, l->segs[k + m]);     /* *.deleted; unlinked later */
    if (segment_set_suffix(out, "", true) < 0) {
        LOG_ERR("storage", "%s: cannot rename the cleaned segment %s into place: %s; the log is now offline "
                "(the swap completes at the next load)", l->dir, out->log_path, strerror(errno));
        l->failed = true;
        rc = KERR_KAFKA_STORAGE_ERROR;
    }
    l->segs[k] = out;
    plog_tail_reset(l);
    memmove(l->segs + k + 1, l->segs + k + n, sizeof *l->segs * (size_t)(l->nsegs - k - n));
    l->nsegs -= n - 1;
    c->gen = l->seg_gen;
    l->dir_dirty = true;
    if (last_group && rc == KERR_NONE)
        l->first_dirty = c->end;
    plog_update_hw_pos(l);
    pthread_rwlock_unlock(&l->lock);
    if (sio_fsync_dir(c->dir) < 0)
        LOG_WRN("storage", "%s: fsync of the dir after a cleaner swap failed: %s", c->dir, strerror(errno));
    return rc;
}

/* Clean src[gi..gj) into one new segment and swap it in. */
static int clean_group(cleaner *c, int gi, int gj, bool last_group)
{
    segment *out = segment_new(c->dir, c->src[gi].base, c->now);
    int rc = KERR_KAFKA_STORAGE_ERROR;
    if (!out)
        return rc;
    out->index_interval = c->cfg.index_interval_bytes;
    if (segment_set_suffix(out, ".cleaned", false) < 0 || segment_create(out) < 0) {
        LOG_ERR("storage", "%s: cannot create %s: %s", c->dir, out->log_path, strerror(errno));
        goto fail;
    }
    for (int i = gi; i < gj; i++)
        if ((rc = clean_into(c, &c->src[i], out)) != KERR_NONE)
            goto fail;
    if ((rc = out_flush(c, out)) != KERR_NONE)
        goto fail;
    rc = KERR_KAFKA_STORAGE_ERROR;
    /* Durable before it may replace anything; keep the originals' mtime
     * (retention of segments without timestamps uses it). */
    if (segment_seal(out) < 0 || segment_flush(out) < 0) {
        LOG_ERR("storage", "%s: cannot flush %s: %s", c->dir, out->log_path, strerror(errno));
        goto fail;
    }
    idxf_unload(&out->oidx);                       /* synced: drop the entries */
    idxf_unload(&out->tidx);
    fileref *f = segment_file_get(out);
    struct timespec times[2] = { { 0, UTIME_OMIT }, c->src[gj - 1].mtime };
    if (f && c->src[gj - 1].mtime.tv_sec)
        futimens(f->fd, times);
    fileref_unref(f);
    if (segment_set_suffix(out, ".swap", true) < 0 || sio_fsync_dir(c->dir) < 0) {
        LOG_ERR("storage", "%s: cannot rename %s: %s", c->dir, out->log_path, strerror(errno));
        goto fail;
    }
    rc = swap_in(c, gi, gj, out, last_group);
    if (rc != ABORTED)
        c->st->segments_written++;
    return rc;
fail:
    discard(out);
    return rc;
}

/* Kafka's groupSegmentsBySize over src[0..n). */
static int next_group_end(const cleaner *c, int i, int n)
{
    const src_seg *s = &c->src[i];
    int64_t log = s->size, idx = s->index_bytes, tidx = s->timeindex_bytes;
    int j = i + 1;
    while (j < n) {
        const src_seg *t = &c->src[j];
        if (log + t->size > c->cfg.segment_bytes || idx + t->index_bytes > c->cfg.segment_index_bytes ||
            tidx + t->timeindex_bytes > c->cfg.segment_index_bytes ||
            (t->size > 0 && t->end - 1 - s->base > INT32_MAX))
            break;
        log += t->size;
        idx += t->index_bytes;
        tidx += t->timeindex_bytes;
        j++;
    }
    return j;
}

static void cleaner_free(cleaner *c)
{
    tm_free(&c->tm);
    free(c->aborted_q);
    for (int i = 0; i < c->nsrc; i++)
        fileref_unref(c->src[i].file);
    free(c->src);
    free(c->pids);
    free(c->dir);
    free(c->wbuf);
    free(c->plain);
    free(c->kept);
    omap_free(&c->map);
}

int plog_clean_ex(plog *l, int64_t now_ms, const log_cleaner_opts *o, log_cleaner_stats *st_out)
{
    log_cleaner_stats dummy;
    log_cleaner_stats *st = st_out ? st_out : &dummy;
    cleaner c;
    memset(st, 0, sizeof *st);
    memset(&c, 0, sizeof c);
    st->first_dirty_offset = st->end_offset = st->first_uncleanable_offset = -1;
    c.l = l;
    c.now = now_ms;
    c.abort = o->abort;
    c.st = st;
    int64_t t0 = mono_us();
    bool go;
    pthread_mutex_lock(&l->clean_mu);
    int rc = plan(&c, o->force, &go);
    if (rc != KERR_NONE || !go)
        goto out;
    if (omap_init(&c.map, o->dedupe_buffer_size) < 0) {
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    rc = build_map(&c);
    int64_t t1 = mono_us();
    st->map_us = t1 - t0;
    if (rc == KERR_NONE && c.end <= c.first_dirty) {
        st->note = "offset map could not hold a single key";
        goto out;
    }
    st->end_offset = c.end;
    /* The swap drops records superseded by later ones in [first dirty, end):
     * those must be on disk before any swap is (a cleaned segment is
     * fsynced; the originals it relies on may not be yet: segments are not
     * flushed on roll here).  One flush of the log covers it. */
    if (rc == KERR_NONE && plog_recovery_point(l) < c.end && plog_flush(l) != KERR_NONE) {
        LOG_ERR("storage", "%s: cleaner: flush before the swap failed", c.dir);
        rc = KERR_KAFKA_STORAGE_ERROR;
    }
    if (rc == KERR_NONE) {
        int n = 0;
        while (n < c.nsrc && c.src[n].base < c.end)
            n++;
        /* One transaction walk over every group of the pass, in offset
         * order: a marker in a later group than its data knows the data is
         * still there (Kafka restarts it per group and may drop such a
         * marker early). */
        tm_reset(&c.tm, c.aborted_q, c.naborted_q, c.src[0].base);
        for (int i = 0; i < n && rc == KERR_NONE;) {
            int j = next_group_end(&c, i, n);
            rc = clean_group(&c, i, j, j == n);
            i = j;
        }
    }
    st->copy_us = mono_us() - t1;
    if (rc != KERR_NONE && rc != ABORTED && log_changed(&c))
        rc = ABORTED;                       /* read errors because the log was truncated or deleted */
    if (rc == ABORTED) {
        st->aborted = true;
        if (!st->note)
            st->note = aborted(&c) ? "aborted" : "the log changed during cleaning: abandoned";
        rc = KERR_NONE;
    } else if (rc == KERR_NONE) {
        st->cleaned = true;
    }
out:
    pthread_mutex_unlock(&l->clean_mu);
    if (rc == KERR_NONE && !st->cleaned)
        st->end_offset = st->end_offset < 0 ? st->first_dirty_offset : st->end_offset;
    st->total_us = mono_us() - t0;
    if (st->cleaned)
        LOG_INF("storage", "%s: cleaned offsets [%" PRId64 ", %" PRId64 "): %d segment(s) -> %d, "
                "%.1f MB -> %.1f MB, %" PRId64 " -> %" PRId64 " records, %" PRId64 " keys mapped%s, "
                "%.1f ms", c.dir, st->first_dirty_offset, st->end_offset, st->segments_read,
                st->segments_written, (double)st->bytes_read / 1e6, (double)st->bytes_written / 1e6,
                st->records_read, st->records_retained, st->map_entries,
                st->map_full ? " (map full)" : "", (double)st->total_us / 1000.0);
    cleaner_free(&c);
    return rc;
}

int plog_clean(plog *l, int64_t now_ms, log_cleaner_stats *st)
{
    log_cleaner_opts o;
    log_cleaner_opts_init(&o);
    return plog_clean_ex(l, now_ms, &o, st);
}
