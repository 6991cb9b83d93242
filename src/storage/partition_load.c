/*
 * partition_load.c - creating, loading (with recovery) and closing a
 * partition log.  See partition_log.h; structure in partition_log_int.h.
 *
 * Load, clean shutdown (marker present):
 *   list the dir once; stat each .log; only the ACTIVE segment is opened:
 *   its .index/.timeindex are read into memory and batch headers are walked
 *   from the last index entry to the end of the file to learn the LEO and
 *   max timestamp.  Older segments stay untouched until first used.
 *   Producer state comes from the snapshot at the LEO (written at close).
 * Load, either way: a compaction the broker crashed in is finished first
 *   (complete_swaps: *.cleaned deleted, a *.log.swap replaces the segments
 *   in its offset range, its indexes are rebuilt), like Kafka's LogLoader.
 * Load, unclean shutdown:
 *   every segment from the one holding the recovery point onwards is
 *   re-validated batch by batch (size, magic, CRC, offsets increasing); the
 *   first bad batch and everything after it are cut (later segments are
 *   deleted), indexes are rebuilt, and each cut is logged with LOG_WRN
 *   (file, position, bytes, reason).  Producer state is rebuilt from the
 *   newest valid snapshot <= LEO plus a replay of batch headers after it.
 * Threads: load/create run before the plog is shared; close takes the lock.
 */
#include "storage/partition_log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "storage/segment_reader.h"
#include "os/sio.h"

/* ---------------------------------------------------------------- create */

static int write_partition_metadata(const char *dir, kuuid id)
{
    char s[KUUID_STR_LEN + 1], buf[96];
    kuuid_to_str(id, s);
    int n = snprintf(buf, sizeof buf, "version: 0\ntopic_id: %s\n", s);
    return sio_write_file_atomic(dir, PARTITION_METADATA_FILE, buf, (size_t)n, 1);
}

static void read_partition_metadata(plog *l)
{
    char path[4200], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", l->dir, PARTITION_METADATA_FILE);
    if (sio_read_file(path, 4096, &buf, &len) < 0)
        return;
    const char *t = strstr(buf, "topic_id:");
    if (t) {
        t += 9;
        while (*t == ' ')
            t++;
        char id[KUUID_STR_LEN + 1];
        size_t n = strcspn(t, "\r\n ");
        if (n == KUUID_STR_LEN) {
            memcpy(id, t, n);
            id[n] = 0;
            if (!kuuid_from_str(id, &l->topic_id))
                LOG_WRN("storage", "%s: bad topic_id in %s", l->dir, PARTITION_METADATA_FILE);
        }
    }
    free(buf);
}

int plog_create(const char *log_dir, const char *topic, int32_t partition, kuuid topic_id,
                const log_config *cfg, int64_t now_ms, plog **out)
{
    char dir[4200];
    plog *l = NULL;
    segment *s = NULL;
    int rc = KERR_KAFKA_STORAGE_ERROR;
    *out = NULL;
    snprintf(dir, sizeof dir, "%s/%s-%" PRId32, log_dir, topic, partition);
    if (mkdir(dir, 0755) < 0) {
        if (errno == EEXIST)
            return KERR_TOPIC_ALREADY_EXISTS;
        LOG_ERR("storage", "cannot create %s: %s", dir, strerror(errno));
        return KERR_KAFKA_STORAGE_ERROR;
    }
    if (!(l = plog_alloc(dir, topic, partition, cfg)))
        goto out;
    l->topic_id = topic_id;
    if (!(s = segment_new(dir, 0, now_ms)))
        goto out;
    s->index_interval = cfg->index_interval_bytes;
    if (segment_create(s) < 0 || plog_push_segment(l, s) < 0)
        goto out;
    s = NULL;
    /* Written last: its dir fsync (after the rename) also makes the
     * segment files' entries durable. */
    if (write_partition_metadata(dir, topic_id) < 0 || sio_fsync_dir(log_dir) < 0)
        goto out;
    l->last_flush_ms = now_ms;
    plog_update_hw_pos(l);
    *out = l;
    l = NULL;
    rc = KERR_NONE;
out:
    if (rc) {
        LOG_ERR("storage", "cannot create partition %s: %s", dir, strerror(errno));
        segment_free(s);
        if (l)
            plog_free_mem(l);
        sio_rm_rf(dir);
    }
    return rc;
}

/* ---------------------------------------------------------------- load */

/* "<20 digits><suffix>" -> offset; -1 if the name does not match. */
static int64_t parse_offset_name(const char *name, const char *suffix)
{
    size_t sl = strlen(suffix), n = strlen(name);
    if (n != 20 + sl || strcmp(name + 20, suffix) != 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        if (v > (INT64_MAX - (name[i] - '0')) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

typedef struct scan_result {
    int64_t *bases;
    int nbases, cap;
} scan_result;

static int add_base(scan_result *r, int64_t b)
{
    if (r->nbases == r->cap) {
        int nc = r->cap ? r->cap * 2 : 8;
        int64_t *nb = realloc(r->bases, sizeof *nb * (size_t)nc);
        if (!nb)
            return -1;
        r->bases = nb;
        r->cap = nc;
    }
    r->bases[r->nbases++] = b;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- interrupted compaction */

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static int names_add(name_list *nl, const char *name)
{
    if (nl->n == nl->cap) {
        int nc = nl->cap ? nl->cap * 2 : 8;
        char **nv = realloc(nl->v, sizeof *nv * (size_t)nc);
        if (!nv)
            return -1;
        nl->v = nv;
        nl->cap = nc;
    }
    if (!(nl->v[nl->n] = strdup(name)))
        return -1;
    nl->n++;
    return 0;
}

static void names_free(name_list *nl)
{
    for (int i = 0; i < nl->n; i++)
        free(nl->v[i]);
    free(nl->v);
}

/* Offset prefix of "<20 digits>.<anything>", or -1. */
static int64_t name_offset(const char *n)
{
    if (strlen(n) < 21 || n[20] != '.')
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (n[i] < '0' || n[i] > '9' || v > (INT64_MAX - (n[i] - '0')) / 10)
            return -1;
        v = v * 10 + (n[i] - '0');
    }
    return v;
}

/* Offset after the last whole batch of a .log file (its base if none). */
static int64_t log_next_offset(const char *path, int64_t base)
{
    int64_t next = base;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return next;
    if (fstat(fd, &st) == 0) {
        seg_reader rd;
        rb_header h;
        int64_t at;
        const char *why;
        segr_init(&rd, fd, 0, st.st_size);
        while (segr_next(&rd, &h, &at, &why) == SEGR_BATCH)
            if (rb_last_offset(&h) + 1 > next)
                next = rb_last_offset(&h) + 1;
        segr_free(&rd);
    }
    close(fd);
    return next;
}

static void unlink_logged(plog *l, const char *name, const char *why)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", l->dir, name);
    if (unlink(path) == 0)
        LOG_INF("storage", "%s: deleted %s (%s)", l->dir, name, why);
}

/* Finish what a crash interrupted in the log cleaner's swap (Kafka's
 * LogLoader: removeTempFilesAndCollectSwapFiles, then the swap passes):
 *   1. *.cleaned files were never complete: delete them.  A *.swap whose
 *      offset is >= the smallest *.cleaned offset belongs to an unfinished
 *      multi-segment operation: delete it too.
 *   2. A <base>.log.swap was complete and fsynced before it got that name:
 *      it replaces every segment file whose offset lies in [base, offset
 *      after its last batch), so delete those (they may still be there, or
 *      already be *.deleted).
 *   3. Rename <base>.log.swap to <base>.log.  Its index files are rebuilt
 *      from the .log (whatever state their renames were in), and the
 *      segment is checked like recovery checks one.  Orphan index *.swap
 *      files (no .log.swap) are deleted: their segment was never replaced.
 *      A <base>.txnindex.swap is renamed to <base>.txnindex instead, with
 *      or without its .log.swap: the swap renames it last
 *      (segment_set_suffix), so it belongs to the cleaned segment, whose
 *      .log is either still *.swap or already in place. */
static int complete_swaps(plog *l)
{
    name_list cleaned = { 0 }, swaps = { 0 }, all = { 0 };
    int64_t min_cleaned = INT64_MAX, min_swap = INT64_MAX, max_swap = INT64_MIN;
    int64_t *bases = NULL;
    int nbases = 0, rc = -1;
    char path[4200], np[4200];
    DIR *d = opendir(l->dir);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        int e = 0;
        if (ends_with(n, ".cleaned")) {
            e = names_add(&cleaned, n);
            int64_t off = name_offset(n);
            if (off >= 0 && off < min_cleaned)
                min_cleaned = off;
        } else if (ends_with(n, ".swap")) {
            e = names_add(&swaps, n);
        } else if (n[0] != '.') {
            e = names_add(&all, n);
        }
        if (e < 0) {
            closedir(d);
            goto out;
        }
    }
    closedir(d);
    if (swaps.n && !(bases = malloc(sizeof *bases * (size_t)swaps.n)))
        goto out;
    for (int i = 0; i < swaps.n; i++) {
        const char *n = swaps.v[i];
        int64_t off = name_offset(n), base = parse_offset_name(n, ".log.swap");
        if (off < 0 || off >= min_cleaned) {
            unlink_logged(l, n, "swap file of an unfinished operation");
            continue;
        }
        if (base < 0)
            continue;                       /* index swaps: handled below */
        snprintf(path, sizeof path, "%s/%s", l->dir, n);
        int64_t next = log_next_offset(path, base);
        LOG_WRN("storage", "%s: finishing an interrupted compaction swap: %s covers offsets [%" PRId64
                ", %" PRId64 ")", l->dir, n, base, next);
        if (base < min_swap)
            min_swap = base;
        if (next > max_swap)
            max_swap = next;
        bases[nbases++] = base;
    }
    for (int i = 0; i < cleaned.n; i++)
        unlink_logged(l, cleaned.v[i], "unfinished compaction output");
    /* 2. the replaced segments */
    for (int i = 0; i < all.n && nbases; i++) {
        const char *n = all.v[i];
        int64_t off = parse_offset_name(n, ".log");
        if (off < 0)
            off = parse_offset_name(n, ".index");
        if (off < 0)
            off = parse_offset_name(n, ".timeindex");
        if (off < 0)
            off = parse_offset_name(n, ".txnindex");
        if (off >= min_swap && off < max_swap)
            unlink_logged(l, n, "replaced by a compacted segment");
    }
    /* 3. rename the logs, drop every other swap file and stale indexes */
    for (int i = 0; i < swaps.n; i++) {
        const char *n = swaps.v[i];
        int64_t off = name_offset(n), base = parse_offset_name(n, ".log.swap");
        if (off < 0 || off >= min_cleaned)
            continue;
        snprintf(path, sizeof path, "%s/%s", l->dir, n);
        if (base < 0) {
            int64_t xb = parse_offset_name(n, ".txnindex.swap");
            segment_name(np, sizeof np, l->dir, xb, ".txnindex");
            if (xb < 0 || sio_rename(path, np) < 0)
                unlink(path);               /* offset/time indexes are rebuilt; the txnindex is kept */
            continue;
        }
        segment_name(np, sizeof np, l->dir, base, ".log");
        if (sio_rename(path, np) < 0) {
            LOG_ERR("storage", "%s: cannot rename %s: %s", l->dir, n, strerror(errno));
            goto out;
        }
    }
    for (int i = 0; i < nbases; i++) {
        segment *s = segment_new(l->dir, bases[i], l->last_flush_ms);
        if (!s)
            goto out;
        unlink(s->oidx.path);
        unlink(s->tidx.path);
        int64_t cut, bad, next;
        const char *why;
        int r = segment_open_existing(s) < 0 ? -1
                : segment_recover(s, l->cfg.index_interval_bytes, bases[i], NULL, NULL, &cut, &bad, &why, &next);
        if (r == 0 && why)
            LOG_WRN("storage", "recovery: %s: truncated at position %" PRId64 ", cut %" PRId64 " bytes: %s",
                    s->log_path, bad, cut, why);
        if (r == 0 && (segment_seal(s) < 0 || segment_flush(s) < 0))
            r = -1;
        if (r < 0)
            LOG_ERR("storage", "%s: cannot rebuild the indexes of %s: %s", l->dir, s->log_path, strerror(errno));
        segment_free(s);
        if (r < 0)
            goto out;
    }
    rc = sio_fsync_dir(l->dir);
out:
    free(bases);
    names_free(&cleaned);
    names_free(&swaps);
    names_free(&all);
    return rc;
}

/* One pass over the dir: segments, snapshots, leftovers.  *swaps is set
 * when compaction left *.cleaned or *.swap files (complete_swaps first). */
static int scan_dir_once(plog *l, scan_result *r, bool *swaps, bool second)
{
    DIR *d = opendir(l->dir);
    if (!d)
        return -1;
    struct dirent *de;
    char path[4200];
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        int64_t off;
        if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
            continue;
        if ((off = parse_offset_name(n, ".log")) >= 0) {
            if (add_base(r, off) < 0) {
                closedir(d);
                return -1;
            }
        } else if ((off = parse_offset_name(n, ".snapshot")) >= 0) {
            plog_snap_add(l, off);
        } else if (parse_offset_name(n, ".index") >= 0 || parse_offset_name(n, ".timeindex") >= 0 ||
                   parse_offset_name(n, ".txnindex") >= 0 ||
                   !strcmp(n, PARTITION_METADATA_FILE) || !strcmp(n, "leader-epoch-checkpoint")) {
            /* known */
        } else if (ends_with(n, ".deleted") || ends_with(n, ".tmp") || (second && ends_with(n, ".cleaned"))) {
            snprintf(path, sizeof path, "%s/%s", l->dir, n);
            unlink(path);                       /* leftovers of an interrupted delete/replace */
            l->dir_dirty = true;
        } else if (ends_with(n, ".cleaned") || ends_with(n, ".swap")) {
            if (second)
                LOG_WRN("storage", "%s: ignoring %s (the interrupted swap could not be finished)", l->dir, n);
            *swaps = true;
        } else {
            LOG_WRN("storage", "%s: ignoring unknown file %s", l->dir, n);
        }
    }
    closedir(d);
    qsort(r->bases, (size_t)r->nbases, sizeof *r->bases, cmp_i64);
    return 0;
}

static int scan_dir(plog *l, scan_result *r)
{
    bool swaps = false;
    if (scan_dir_once(l, r, &swaps, false) < 0)
        return -1;
    if (!swaps)
        return 0;
    if (complete_swaps(l) < 0)
        LOG_ERR("storage", "%s: could not finish an interrupted compaction swap: %s", l->dir, strerror(errno));
    r->nbases = 0;
    l->nsnaps = 0;
    return scan_dir_once(l, r, &swaps, true);
}

typedef struct load_ctx {
    plog *l;
    bool replay_pstate;
} load_ctx;

static int load_batch_cb(void *vctx, const rb_header *h, int64_t pos)
{
    load_ctx *c = vctx;
    (void)pos;
    lec_assign(&c->l->lec, h->leader_epoch, h->base_offset);
    if (c->replay_pstate)
        pstate_replay(&c->l->ps, h, -1);
    return 0;
}

typedef struct span_ctx {
    producer_state *ps;
    int64_t from, to;
} span_ctx;

static int span_cb(void *vctx, const rb_header *h, int64_t pos)
{
    span_ctx *c = vctx;
    (void)pos;
    if (h->base_offset >= c->from && h->base_offset < c->to)
        pstate_replay(c->ps, h, -1);
    return 0;
}

/* The producer state at offset `at` (before recovering the segment based
 * there): the newest valid snapshot <= at plus a replay of the batches
 * from it up to `at`; without a snapshot, a replay of the segment before
 * (Kafka's two-segment rule). */
static void pstate_at(plog *l, producer_state *ps, int64_t at)
{
    int64_t from = -1;
    for (int k = l->nsnaps - 1; k >= 0 && from < 0; k--)
        if (l->snaps[k] <= at && pstate_snapshot_load(ps, l->dir, l->snaps[k]) == 0)
            from = l->snaps[k];
    if (from < 0) {
        pstate_clear(ps);
        int i = 0;
        while (i + 1 < l->nsegs && l->segs[i + 1]->base_offset < at)
            i++;
        from = l->segs[i > 0 && l->segs[i]->base_offset >= at ? i - 1 : i]->base_offset;
    }
    span_ctx c = { ps, from, at };
    for (int i = 0; i < l->nsegs && l->segs[i]->base_offset < at; i++) {
        if (i + 1 < l->nsegs && l->segs[i + 1]->base_offset <= from)
            continue;
        if (segment_scan(l->segs[i], 0, l->segs[i]->size, span_cb, &c) < 0)
            LOG_WRN("storage", "%s: producer state replay stopped early in %s", l->dir, l->segs[i]->log_path);
    }
}

/* Recovery's per-batch work: the epoch cache, and the .txnindex of the
 * segment being recovered rebuilt from its abort markers (TL13), with the
 * producer state carried along to know where each transaction began. */
typedef struct recover_ctx {
    plog *l;
    producer_state ps;
    segment *s;
    bool failed;
} recover_ctx;

static int recover_batch_cb(void *vctx, const rb_header *h, int64_t pos)
{
    recover_ctx *c = vctx;
    lec_assign(&c->l->lec, h->leader_epoch, h->base_offset);
    int type = -1;
    int32_t ce = -1;
    if (rb_is_control(h) && rb_has_producer_id(h)) {
        uint8_t buf[512];
        size_t n = rb_size(h) < sizeof buf ? rb_size(h) : sizeof buf;
        fileref *f = segment_file_get(c->s);
        if (f && sio_pread_full(f->fd, buf, n, (off_t)pos) == (ssize_t)n) {
            type = rb_control_type(buf, n);
            ce = rb_control_coordinator_epoch(buf, n);
        } else {
            c->failed = true;
        }
        fileref_unref(f);
    }
    int64_t first = pstate_replay(&c->ps, h, ce);
    if (type == RB_CONTROL_ABORT) {
        int64_t open = pstate_first_open(&c->ps);
        txn_aborted a = { h->producer_id, first, h->base_offset, open >= 0 ? open : h->base_offset + 1 };
        if (segment_txn_append(c->s, &a) < 0)
            c->failed = true;
    }
    return 0;
}

/* Recover segs[from..]; cuts the first bad batch and deletes later segments. */
static int recover_from(plog *l, int from, int64_t *leo)
{
    recover_ctx ctx = { .l = l };
    pstate_init(&ctx.ps);
    pstate_at(l, &ctx.ps, l->segs[from]->base_offset);
    int rc = -1;
    int64_t next = from > 0 ? l->segs[from]->base_offset : 0;
    for (int i = from; i < l->nsegs; i++) {
        segment *s = l->segs[i];
        int64_t cut, bad_pos, seg_next;
        const char *why;
        ctx.s = s;
        if (segment_txn_reset(s) < 0 ||
            segment_recover(s, l->cfg.index_interval_bytes, next, recover_batch_cb, &ctx,
                            &cut, &bad_pos, &why, &seg_next) < 0 || ctx.failed) {
            LOG_ERR("storage", "%s: I/O error recovering %s: %s", l->dir, s->log_path, strerror(errno));
            goto out;
        }
        next = seg_next > s->base_offset ? seg_next : s->base_offset;
        /* Segments never overlap: a later one named below the end of this
         * one's data is as untrustworthy as the segments after a cut (kept,
         * it would become the active segment and a clean load would take
         * its base as the LEO, reusing offsets). */
        bool overlap = !why && i + 1 < l->nsegs && l->segs[i + 1]->base_offset < next;
        if (overlap)
            LOG_WRN("storage", "recovery: %s starts at offset %" PRId64 ", below the end (%" PRId64
                    ") of %s", l->segs[i + 1]->log_path, l->segs[i + 1]->base_offset, next, s->log_path);
        if (why || overlap) {
            if (why)
                LOG_WRN("storage", "recovery: %s: truncated at position %" PRId64 ", cut %" PRId64
                        " bytes: %s", s->log_path, bad_pos, cut, why);
            l->dir_dirty = true;
            while (l->nsegs - 1 > i) {
                segment *gone = l->segs[--l->nsegs];
                LOG_WRN("storage", "recovery: deleting segment %s (%" PRId64 " bytes) after the %s of %s",
                        gone->log_path, gone->size, why ? "truncation" : "overlap", s->log_path);
                segment_unlink(gone);
                segment_free(gone);
            }
        }
        /* A sealed segment is synced now, one at a time, rather than all
         * together by the flush that ends the load: that keeps the
         * descriptors a long recovery holds at once to one segment's. */
        if (i < l->nsegs - 1 && (segment_seal(s) < 0 || segment_flush(s) < 0)) {
            LOG_ERR("storage", "%s: cannot sync the recovered %s: %s", l->dir, s->log_path, strerror(errno));
            goto out;
        }
    }
    *leo = next;
    rc = 0;
out:
    pstate_free(&ctx.ps);
    return rc;
}

typedef struct replay_ctx {
    plog *l;
    int64_t from;
} replay_ctx;

static int replay_cb(void *vctx, const rb_header *h, int64_t pos)
{
    replay_ctx *c = vctx;
    (void)pos;
    if (h->base_offset >= c->from) {
        int64_t first = pstate_replay(&c->l->ps, h, -1);
        if (rb_is_control(h) && rb_has_producer_id(h))
            plog_unrepl_add(c->l, first, h->base_offset);      /* TL8: pruned by the HW */
    }
    return 0;
}

int64_t plog_rebuild_producer_state(plog *l, int64_t now_ms)
{
    int64_t used = -1;
    pstate_clear(&l->ps);
    l->nunrepl = 0;
    while (l->nsnaps && l->snaps[l->nsnaps - 1] > l->leo) {
        char path[4200];
        pstate_snapshot_path(path, sizeof path, l->dir, l->snaps[l->nsnaps - 1]);
        unlink(path);                            /* beyond the log: stale */
        l->dir_dirty = true;
        l->nsnaps--;
    }
    int64_t from = -1;
    while (l->nsnaps) {
        int64_t off = l->snaps[l->nsnaps - 1];
        if (pstate_snapshot_load(&l->ps, l->dir, off) == 0) {
            from = used = off;
            break;
        }
        LOG_WRN("storage", "%s: producer snapshot %020" PRId64 ".snapshot is corrupt, deleting it", l->dir, off);
        char path[4200];
        pstate_snapshot_path(path, sizeof path, l->dir, off);
        unlink(path);
        l->dir_dirty = true;
        l->nsnaps--;
    }
    if (from < 0) {
        /* No snapshot: like Kafka, replay at most the last two segments. */
        int i = l->nsegs >= 2 ? l->nsegs - 2 : 0;
        from = l->segs[i]->base_offset;
        if (from < l->log_start)
            from = l->log_start;
    }
    if (from < l->leo) {
        replay_ctx rc = { l, from };
        int i = 0;
        while (i + 1 < l->nsegs && l->segs[i + 1]->base_offset <= from)
            i++;
        for (; i < l->nsegs; i++) {
            segment *s = l->segs[i];
            int64_t start = 0;
            segment_pos p;
            if (s->base_offset < from && segment_find(s, from, s->size, &p) == 1)
                start = p.pos;
            if (segment_scan(s, start, s->size, replay_cb, &rc) < 0)
                LOG_WRN("storage", "%s: producer state replay stopped early in %s", l->dir, s->log_path);
        }
    }
    pstate_expire(&l->ps, now_ms, l->cfg.producer_id_expiration_ms);
    (void)pstate_first_open(&l->ps);
    return used;                 /* the caller prunes l->unrepl once the HW is set */
}

int plog_load(const char *dir, const char *topic, int32_t partition, const log_config *cfg,
              const plog_load_params *lp, plog **out)
{
    scan_result sr = { 0 };
    int rc = KERR_KAFKA_STORAGE_ERROR;
    plog *l = plog_alloc(dir, topic, partition, cfg);
    *out = NULL;
    if (!l)
        return KERR_KAFKA_STORAGE_ERROR;
    l->last_flush_ms = lp->now_ms;
    if (scan_dir(l, &sr) < 0) {
        LOG_ERR("storage", "cannot list %s: %s", dir, strerror(errno));
        goto out;
    }
    read_partition_metadata(l);
    if (lec_read(&l->lec, dir) < 0)
        LOG_WRN("storage", "%s: leader-epoch-checkpoint is corrupt, rebuilding it from the log", dir);
    if (!lp->clean_shutdown)
        l->lec.synced = false;       /* read back after a crash: maybe never reached the disk */

    if (sr.nbases == 0) {
        int64_t base = lp->log_start_offset > 0 ? lp->log_start_offset : 0;
        segment *s = segment_new(dir, base, lp->now_ms);
        if (!s || segment_create(s) < 0 || plog_push_segment(l, s) < 0) {
            segment_free(s);
            goto out;
        }
        s->index_interval = cfg->index_interval_bytes;
        l->dir_dirty = true;
    } else {
        for (int i = 0; i < sr.nbases; i++) {
            segment *s = segment_new(dir, sr.bases[i], lp->now_ms);
            if (!s)
                goto out;
            s->index_interval = cfg->index_interval_bytes;
            if (plog_push_segment(l, s) < 0) {
                segment_free(s);
                goto out;
            }
            if (segment_open_existing(s) < 0)
                goto out;
        }
    }
    l->log_start = l->segs[0]->base_offset;
    if (lp->log_start_offset > l->log_start)
        l->log_start = lp->log_start_offset;

    int64_t leo = l->segs[l->nsegs - 1]->base_offset;
    bool need_recovery = !lp->clean_shutdown;
    segment *a = l->segs[l->nsegs - 1];
    if (!need_recovery && a->size > 0) {
        load_ctx ctx = { l, false };
        int r = segment_load_active(a, cfg->index_interval_bytes, &leo, load_batch_cb, &ctx);
        if (r < 0)
            goto out;
        if (r == 1) {
            LOG_WRN("storage", "%s: active segment %s is not consistent after a clean shutdown; recovering it",
                    dir, a->log_path);
            if (recover_from(l, l->nsegs - 1, &leo) < 0)
                goto out;
        }
    } else if (!need_recovery) {
        if (idxf_create(&a->oidx) < 0 || idxf_create(&a->tidx) < 0)
            goto out;
        a->ts_known = true;
        a->indexes_checked = true;
    } else {
        int64_t rp = lp->recovery_point >= 0 ? lp->recovery_point : 0;
        int from = 0;
        while (from + 1 < l->nsegs && l->segs[from + 1]->base_offset <= rp)
            from++;
        LOG_INF("storage", "%s: unclean shutdown, recovering from offset %" PRId64 " (%d segment(s))",
                dir, l->segs[from]->base_offset, l->nsegs - from);
        if (recover_from(l, from, &leo) < 0)
            goto out;
        a = l->segs[l->nsegs - 1];
    }
    if (leo < a->base_offset)
        leo = a->base_offset;
    l->leo = leo;
    if (l->log_start > l->leo)
        l->log_start = l->leo;
    lec_truncate_from_end(&l->lec, l->leo);
    lec_truncate_from_start(&l->lec, l->log_start);
    /* After a clean shutdown the snapshot at the LEO was fsynced by close:
     * the next close need not write it again if nothing changes. */
    if (plog_rebuild_producer_state(l, lp->now_ms) == l->leo && !need_recovery)
        l->snap_synced = l->leo;
    l->hw = l->leo;
    if (lp->hw_known && lp->high_watermark < l->leo)   /* S1: clamped to [log start, LEO] */
        l->hw = lp->high_watermark > l->log_start ? lp->high_watermark : l->log_start;
    plog_update_hw_pos(l);
    plog_unrepl_prune(l);
    /* After recovery, make what was kept (and cut) durable before trusting
     * it; after a clean shutdown everything already is. */
    l->recovery_point = need_recovery ? 0 : l->leo;
    if (need_recovery && plog_flush_locked_io(l) != KERR_NONE)
        goto out;
    l->recovery_point = l->leo;
    *out = l;
    l = NULL;
    rc = KERR_NONE;
out:
    free(sr.bases);
    if (l)
        plog_free_mem(l);
    return rc;
}

/* ---------------------------------------------------------------- close */

int plog_close(plog *l)
{
    pthread_mutex_lock(&l->flush_mu);
    int rc = KERR_NONE;
    pthread_rwlock_wrlock(&l->lock);
    bool skip = l->closed || l->deleted;
    pthread_rwlock_unlock(&l->lock);
    if (skip)
        goto out;
    rc = plog_flush_locked_io(l);
    pthread_rwlock_wrlock(&l->lock);
    if (rc == KERR_NONE && !l->failed) {
        /* Producer state at the LEO, so a clean load needs no replay.  Not
         * rewritten when a durable one is there already (nothing appended
         * since it was written or loaded), nor for a log without a single
         * batch (a load has nothing to replay).  Likewise the epoch file
         * and the dir are synced only if they changed: closing an unchanged
         * log costs no fsync. */
        bool empty = l->leo == l->segs[0]->base_offset && pstate_count(&l->ps) == 0;
        if (l->snap_synced != l->leo && !empty) {
            if (pstate_snapshot_write(&l->ps, l->dir, l->leo, true) == 0) {
                plog_snap_add(l, l->leo);
                plog_snap_prune(l);
                l->snap_synced = l->leo;
            } else {
                rc = KERR_KAFKA_STORAGE_ERROR;
            }
        }
        if (lec_needs_sync(&l->lec) && lec_write(&l->lec, l->dir, true) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        segment *a = l->segs[l->nsegs - 1];
        if (idxf_sync(&a->oidx) < 0 || idxf_sync(&a->tidx) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        if (l->dir_dirty) {
            if (sio_fsync_dir(l->dir) < 0)
                rc = KERR_KAFKA_STORAGE_ERROR;
            else
                l->dir_dirty = false;
        }
    }
    l->closed = true;
    pthread_rwlock_unlock(&l->lock);
out:
    pthread_mutex_unlock(&l->flush_mu);
    return rc;
}
