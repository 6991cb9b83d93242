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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "storage/sio.h"

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
    if (write_partition_metadata(dir, topic_id) < 0)
        goto out;
    if (!(s = segment_new(dir, 0, now_ms)))
        goto out;
    s->index_interval = cfg->index_interval_bytes;
    if (segment_create(s) < 0 || plog_push_segment(l, s) < 0)
        goto out;
    s = NULL;
    if (sio_fsync_dir(dir) < 0 || sio_fsync_dir(log_dir) < 0)
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

/* One pass over the dir: segments, snapshots, leftovers. */
static int scan_dir(plog *l, scan_result *r)
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
        } else if (ends_with(n, ".deleted") || ends_with(n, ".cleaned") || ends_with(n, ".tmp")) {
            snprintf(path, sizeof path, "%s/%s", l->dir, n);
            unlink(path);                       /* leftovers of an interrupted delete/clean/replace */
        } else if (ends_with(n, ".swap")) {
            LOG_WRN("storage", "%s: ignoring %s (compaction swap files are not supported)", l->dir, n);
        } else {
            LOG_WRN("storage", "%s: ignoring unknown file %s", l->dir, n);
        }
    }
    closedir(d);
    qsort(r->bases, (size_t)r->nbases, sizeof *r->bases, cmp_i64);
    return 0;
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
        pstate_replay(&c->l->ps, h);
    return 0;
}

/* Recover segs[from..]; cuts the first bad batch and deletes later segments. */
static int recover_from(plog *l, int from, int64_t *leo)
{
    load_ctx ctx = { l, false };
    int64_t next = from > 0 ? l->segs[from]->base_offset : 0;
    for (int i = from; i < l->nsegs; i++) {
        segment *s = l->segs[i];
        int64_t cut, bad_pos, seg_next;
        const char *why;
        if (segment_recover(s, l->cfg.index_interval_bytes, next, load_batch_cb, &ctx,
                            &cut, &bad_pos, &why, &seg_next) < 0) {
            LOG_ERR("storage", "%s: I/O error recovering %s: %s", l->dir, s->log_path, strerror(errno));
            return -1;
        }
        next = seg_next > s->base_offset ? seg_next : s->base_offset;
        if (why) {
            LOG_WRN("storage", "recovery: %s: truncated at position %" PRId64 ", cut %" PRId64
                    " bytes: %s", s->log_path, bad_pos, cut, why);
            l->dir_dirty = true;
            while (l->nsegs - 1 > i) {
                segment *gone = l->segs[--l->nsegs];
                LOG_WRN("storage", "recovery: deleting segment %s (%" PRId64
                        " bytes) after the truncation of %s", gone->log_path, gone->size, s->log_path);
                segment_unlink(gone);
                segment_free(gone);
            }
        }
        if (i < l->nsegs - 1 && segment_seal(s) < 0)
            return -1;
    }
    *leo = next;
    return 0;
}

typedef struct replay_ctx {
    plog *l;
    int64_t from;
} replay_ctx;

static int replay_cb(void *vctx, const rb_header *h, int64_t pos)
{
    replay_ctx *c = vctx;
    (void)pos;
    if (h->base_offset >= c->from)
        pstate_replay(&c->l->ps, h);
    return 0;
}

/* Producer state: newest valid snapshot <= LEO, then replay after it. */
static void load_producer_state(plog *l, int64_t now_ms)
{
    while (l->nsnaps && l->snaps[l->nsnaps - 1] > l->leo) {
        char path[4200];
        pstate_snapshot_path(path, sizeof path, l->dir, l->snaps[l->nsnaps - 1]);
        unlink(path);                            /* beyond the log: stale */
        l->nsnaps--;
    }
    int64_t from = -1;
    while (l->nsnaps) {
        int64_t off = l->snaps[l->nsnaps - 1];
        if (pstate_snapshot_load(&l->ps, l->dir, off) == 0) {
            from = off;
            break;
        }
        LOG_WRN("storage", "%s: producer snapshot %020" PRId64 ".snapshot is corrupt, deleting it", l->dir, off);
        char path[4200];
        pstate_snapshot_path(path, sizeof path, l->dir, off);
        unlink(path);
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
    load_producer_state(l, lp->now_ms);
    l->hw = l->leo;
    plog_update_hw_pos(l);
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
        /* Producer state at the LEO, so a clean load needs no replay. */
        if (pstate_snapshot_write(&l->ps, l->dir, l->leo, true) == 0) {
            plog_snap_add(l, l->leo);
            plog_snap_prune(l);
        } else {
            rc = KERR_KAFKA_STORAGE_ERROR;
        }
        if (lec_write(&l->lec, l->dir, true) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        segment *a = l->segs[l->nsegs - 1];
        if (idxf_sync(&a->oidx) < 0 || idxf_sync(&a->tidx) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
        if (sio_fsync_dir(l->dir) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
    }
    l->closed = true;
    pthread_rwlock_unlock(&l->lock);
out:
    pthread_mutex_unlock(&l->flush_mu);
    return rc;
}
