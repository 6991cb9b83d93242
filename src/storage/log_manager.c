/* log_manager.c - see log_manager.h.
 *
 * Locking: lm->mu guards the registry (parts/map), the per-dir partition
 * counts, the flush queue and the plogs' lm_* fields; lm->del_mu guards only
 * the deletion queue; lm->ckpt_mu serializes checkpoint file writers (the
 * scheduler and the cleaner threads both write them).  The retire hook runs under a plog's write lock and
 * takes del_mu (a leaf lock: nothing is called while holding it).  While
 * holding lm->mu this file never waits for a shared plog's lock: it
 * collects references (plog_ref is atomic), drops lm->mu, then works on
 * them.  (plog_create + plog_set_retire_hook under lm->mu touch a plog
 * nobody else can see yet.)
 */
#include "storage/log_manager.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/strmap.h"
#include "storage/checkpoint.h"
#include "storage/log_cleaner.h"
#include "storage/log_dir.h"
#include "storage/partition_log_int.h"
#include "os/sio.h"

typedef struct lm_part {
    plog *l;
    int dir;
    size_t idx;                 /* position in lm->parts */
} lm_part;

typedef struct lm_deletion {
    struct lm_deletion *next;
    int64_t due_ms;
    segment *seg;               /* a retired segment, or */
    char *path;                 /* a "-delete" partition dir */
} lm_deletion;

struct log_manager {
    log_manager_config cfg;
    char **dirs;
    int *lock_fds;
    int *dir_parts;             /* partitions per dir */
    int ndirs;

    pthread_mutex_t mu;
    pthread_mutex_t del_mu;     /* deletions only (leaf lock) */
    pthread_cond_t cond;        /* scheduler wakeups / stop */
    pthread_cond_t flush_cond;  /* flusher wakeups */
    strmap map;                 /* key(topic, partition) -> lm_part* */
    lm_part **parts;
    size_t nparts, parts_cap;
    lm_deletion *deletions;
    plog *flush_head, *flush_tail;
    bool stop;
    bool threads;
    pthread_t sched_thr, flush_thr;
    pthread_mutex_t ckpt_mu;    /* serializes checkpoint file writers */
    ckpt_cache (*ckpt_last)[4]; /* per dir: recovery point, log start, cleaner, HW (ckpt_mu) */
    pthread_cond_t cleaner_cond;/* cleaner backoff / stop */
    pthread_t *cleaner_thr;
    int ncleaners;
    atomic_bool cleaner_abort;  /* set at shutdown: in-flight cleanings stop */
};

static size_t part_key(char *buf, size_t cap, const char *topic, int32_t partition)
{
    size_t n = strlen(topic);
    if (n + 5 > cap)
        n = cap - 5;
    memcpy(buf, topic, n);
    buf[n] = 0;
    memcpy(buf + n + 1, &partition, 4);
    return n + 5;
}

void log_manager_config_defaults(log_manager_config *c)
{
    memset(c, 0, sizeof *c);
    log_config_defaults(&c->defaults);
    c->retention_check_interval_ms = 300000;
    c->flush_check_interval_ms = 1000;
    c->recovery_checkpoint_interval_ms = 60000;
    c->start_offset_checkpoint_interval_ms = 60000;
    c->start_threads = true;
    c->cleaner_enable = true;
    c->cleaner_threads = 1;
    c->cleaner_dedupe_buffer_size = LOG_CLEANER_DEFAULT_DEDUPE_BYTES;
    c->cleaner_backoff_ms = 15000;
}

/* ---------------------------------------------------------------- registry */

static int registry_add(log_manager *lm, plog *l, int dir)
{
    lm_part *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->l = l;
    p->dir = dir;
    if (lm->nparts == lm->parts_cap) {
        size_t nc = lm->parts_cap ? lm->parts_cap * 2 : 64;
        lm_part **np = realloc(lm->parts, sizeof *np * nc);
        if (!np) {
            free(p);
            return -1;
        }
        lm->parts = np;
        lm->parts_cap = nc;
    }
    char key[300];
    size_t kl = part_key(key, sizeof key, l->topic, l->partition);
    int err = 0;
    strmap_put(&lm->map, key, kl, p, &err);
    if (err) {
        free(p);
        return -1;
    }
    p->idx = lm->nparts;
    lm->parts[lm->nparts++] = p;
    lm->dir_parts[dir]++;
    return 0;
}

static void registry_remove(log_manager *lm, lm_part *p)
{
    char key[300];
    size_t kl = part_key(key, sizeof key, p->l->topic, p->l->partition);
    strmap_del(&lm->map, key, kl);
    lm->parts[p->idx] = lm->parts[--lm->nparts];
    lm->parts[p->idx]->idx = p->idx;
    lm->dir_parts[p->dir]--;
    free(p);
}

/* References to every log (and its dir), taken under mu. */
static size_t snapshot_logs(log_manager *lm, plog ***out, int **dirs)
{
    pthread_mutex_lock(&lm->mu);
    size_t n = lm->nparts;
    *out = malloc(sizeof **out * (n ? n : 1));
    if (dirs)
        *dirs = malloc(sizeof **dirs * (n ? n : 1));
    if (!*out || (dirs && !*dirs)) {
        pthread_mutex_unlock(&lm->mu);
        free(*out);
        if (dirs)
            free(*dirs);
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = plog_ref(lm->parts[i]->l);
        if (dirs)
            (*dirs)[i] = lm->parts[i]->dir;
    }
    pthread_mutex_unlock(&lm->mu);
    return n;
}

static void release_logs(plog **v, size_t n, int *dirs)
{
    for (size_t i = 0; i < n; i++)
        plog_unref(v[i]);
    free(v);
    free(dirs);
}

/* ---------------------------------------------------------------- deletion */

static void retire_hook(void *ctx, segment *s, int64_t delay_ms)
{
    log_manager *lm = ctx;
    lm_deletion *d = calloc(1, sizeof *d);
    if (!d) {
        segment_unlink(s);
        segment_free(s);
        return;
    }
    d->seg = s;
    d->due_ms = mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    pthread_mutex_lock(&lm->del_mu);
    d->next = lm->deletions;
    lm->deletions = d;
    pthread_mutex_unlock(&lm->del_mu);
}

static void queue_dir_deletion(log_manager *lm, const char *path, int64_t delay_ms)
{
    lm_deletion *d = calloc(1, sizeof *d);
    char *p = strdup(path);
    if (!d || !p) {
        free(d);
        free(p);
        sio_rm_rf(path);
        return;
    }
    d->path = p;
    d->due_ms = mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    pthread_mutex_lock(&lm->del_mu);
    d->next = lm->deletions;
    lm->deletions = d;
    pthread_mutex_unlock(&lm->del_mu);
}

void log_manager_run_deletions(log_manager *lm, int64_t now_ms, bool force)
{
    (void)now_ms;
    int64_t now = mono_ms();
    lm_deletion *due = NULL;
    pthread_mutex_lock(&lm->del_mu);
    for (lm_deletion **pp = &lm->deletions; *pp;) {
        lm_deletion *d = *pp;
        if (force || d->due_ms <= now) {
            *pp = d->next;
            d->next = due;
            due = d;
        } else {
            pp = &d->next;
        }
    }
    pthread_mutex_unlock(&lm->del_mu);
    while (due) {
        lm_deletion *d = due;
        due = d->next;
        if (d->seg) {
            segment_unlink(d->seg);     /* open filerefs keep the inode alive */
            segment_free(d->seg);
        } else {
            if (sio_rm_rf(d->path) < 0)
                LOG_WRN("storage", "could not delete %s: %s", d->path, strerror(errno));
            free(d->path);
        }
        free(d);
    }
}

/* ---------------------------------------------------------------- load */

/* "<topic>-<partition>" -> topic, partition.  false if not a partition dir. */
static bool parse_partition_dir(const char *name, char *topic, size_t cap, int32_t *partition)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || !dash[1] || (size_t)(dash - name) >= cap)
        return false;
    int64_t p = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || p > INT32_MAX / 10)
            return false;
        p = p * 10 + (*c - '0');
    }
    if (p > INT32_MAX)
        return false;
    for (const char *c = name; c < dash; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = 0;
    *partition = (int32_t)p;
    return true;
}

static bool is_dir(const char *parent, struct dirent *de)
{
    if (de->d_type == DT_DIR)
        return true;
    if (de->d_type != DT_UNKNOWN)
        return false;
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", parent, de->d_name);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Checkpoint lookup table: key(topic, partition) -> offset+1 (as a pointer). */
static void ckpt_to_map(strmap *m, const ckpt_entry *e, size_t n)
{
    char key[300];
    for (size_t i = 0; i < n; i++) {
        size_t kl = part_key(key, sizeof key, e[i].topic, e[i].partition);
        strmap_put(m, key, kl, (void *)(intptr_t)(e[i].offset + 1), NULL);
    }
}

static int64_t ckpt_map_get(strmap *m, const char *topic, int32_t partition)
{
    char key[300];
    size_t kl = part_key(key, sizeof key, topic, partition);
    void *v = strmap_get(m, key, kl);
    return v ? (int64_t)(intptr_t)v - 1 : -1;
}

static int load_dir(log_manager *lm, int di, char *err, size_t errlen)
{
    const char *dir = lm->dirs[di];
    bool clean = log_dir_clean_shutdown(dir);
    ckpt_entry *rp = NULL, *ls = NULL, *cl = NULL, *hw = NULL;
    size_t nrp = 0, nls = 0, ncl = 0, nhw = 0;
    strmap rpm, lsm, clm, hwm;
    strmap_init(&rpm);
    strmap_init(&lsm);
    strmap_init(&clm);
    strmap_init(&hwm);
    if (ckpt_read(dir, CKPT_RECOVERY_POINT, &rp, &nrp) < 0 && errno != ENOENT) {
        LOG_WRN("storage", "%s/%s is unreadable (%s): recovering every log in the dir",
                dir, CKPT_RECOVERY_POINT, strerror(errno));
        clean = false;
    }
    if (ckpt_read(dir, CKPT_LOG_START, &ls, &nls) < 0 && errno != ENOENT)
        LOG_WRN("storage", "%s/%s is unreadable (%s): log starts default to the first segment",
                dir, CKPT_LOG_START, strerror(errno));
    if (ckpt_read(dir, CKPT_CLEANER, &cl, &ncl) < 0 && errno != ENOENT)
        LOG_WRN("storage", "%s/%s is unreadable (%s): compacted logs will be cleaned from their start",
                dir, CKPT_CLEANER, strerror(errno));
    /* Like Kafka, a bad high-watermark file is ignored with a warning: every
     * HW then starts at its log start (the leader moves it on). */
    if (ckpt_read(dir, CKPT_REPLICATION, &hw, &nhw) < 0 && errno != ENOENT)
        LOG_WRN("storage", "%s/%s is unreadable (%s): ignoring it, high watermarks start at the log start",
                dir, CKPT_REPLICATION, strerror(errno));
    ckpt_to_map(&rpm, rp, nrp);
    ckpt_to_map(&lsm, ls, nls);
    ckpt_to_map(&clm, cl, ncl);
    ckpt_to_map(&hwm, hw, nhw);
    ckpt_free(rp, nrp);
    ckpt_free(ls, nls);
    ckpt_free(cl, ncl);
    ckpt_free(hw, nhw);

    int rc = KERR_NONE;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read log directory %s: %s", dir, strerror(errno));
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    bool warned = false;
    struct dirent *de;
    int64_t now = wall_ms();
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        char path[4200], topic[256];
        int32_t part;
        if (n[0] == '.' || !is_dir(dir, de))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, n);
        size_t nl = strlen(n);
        if (nl > 7 && !strcmp(n + nl - 7, "-delete")) {
            queue_dir_deletion(lm, path, 0);
            continue;
        }
        if ((nl > 7 && !strcmp(n + nl - 7, "-future")) || (nl > 6 && !strcmp(n + nl - 6, "-stray")) ||
            !parse_partition_dir(n, topic, sizeof topic, &part)) {
            LOG_WRN("storage", "%s: skipping %s (not a partition directory)", dir, n);
            continue;
        }
        if (!clean && !warned) {
            LOG_WRN("storage", "%s: no clean shutdown marker, logs will be recovered", dir);
            warned = true;
        }
        log_config cfg = lm->cfg.defaults;
        if (lm->cfg.config_for)
            lm->cfg.config_for(lm->cfg.config_ctx, topic, &cfg);
        /* A partition missing from the HW file starts at 0 as in Kafka
         * (plog_load clamps it to [log start, LEO]). */
        int64_t hw_off = ckpt_map_get(&hwm, topic, part);
        plog_load_params lp = { clean, ckpt_map_get(&rpm, topic, part), ckpt_map_get(&lsm, topic, part), now,
                                true, hw_off >= 0 ? hw_off : 0 };
        plog *l;
        int e = plog_load(path, topic, part, &cfg, &lp, &l);
        if (e) {
            LOG_ERR("storage", "cannot load %s: %s; the partition stays offline", path, kerr_name(e));
            continue;
        }
        plog_set_retire_hook(l, retire_hook, lm);
        int64_t first_dirty = ckpt_map_get(&clm, topic, part);
        if (first_dirty >= 0)
            plog_set_cleaner_offset(l, first_dirty);
        pthread_mutex_lock(&lm->mu);
        char key[300];
        size_t kl = part_key(key, sizeof key, topic, part);
        bool dup = strmap_get(&lm->map, key, kl) != NULL;
        int r = dup ? -1 : registry_add(lm, l, di);
        pthread_mutex_unlock(&lm->mu);
        if (r < 0) {
            LOG_ERR("storage", "%s: %s-%d is %s; ignoring this copy", path, topic, part,
                    dup ? "present in more than one log dir" : "not registrable (out of memory)");
            plog_close(l);
            plog_unref(l);
        }
    }
    closedir(d);
    /* From now on a crash must be seen as unclean. */
    if (clean && log_dir_remove_clean_shutdown(dir) < 0)
        LOG_WRN("storage", "could not remove %s/%s: %s", dir, LOG_DIR_CLEAN_SHUTDOWN_FILE, strerror(errno));
out:
    strmap_free(&rpm);
    strmap_free(&lsm);
    strmap_free(&clm);
    strmap_free(&hwm);
    return rc;
}

/* ---------------------------------------------------------------- threads */

static plog *flush_pop(log_manager *lm)
{
    plog *l = lm->flush_head;
    if (l) {
        lm->flush_head = l->lm_flush_next;
        if (!lm->flush_head)
            lm->flush_tail = NULL;
        l->lm_flush_next = NULL;
        l->lm_flush_queued = false;     /* later requests queue it again */
    }
    return l;
}

static void flush_and_notify(log_manager *lm, plog *l)
{
    plog_flush(l);
    int64_t rp = plog_recovery_point(l);
    pthread_mutex_lock(&lm->mu);
    void (*cb)(void *, int64_t) = l->lm_on_flushed;
    void *owner = l->lm_owner;
    pthread_mutex_unlock(&lm->mu);
    if (cb)
        cb(owner, rp);
}

static void *flusher_main(void *arg)
{
    log_manager *lm = arg;
    pthread_mutex_lock(&lm->mu);
    for (;;) {
        plog *l = flush_pop(lm);
        if (!l) {
            if (lm->stop)
                break;
            pthread_cond_wait(&lm->flush_cond, &lm->mu);
            continue;
        }
        pthread_mutex_unlock(&lm->mu);
        flush_and_notify(lm, l);
        plog_unref(l);
        pthread_mutex_lock(&lm->mu);
    }
    pthread_mutex_unlock(&lm->mu);
    return NULL;
}

static void time_flush_pass(log_manager *lm, int64_t now)
{
    plog **v;
    size_t n = snapshot_logs(lm, &v, NULL);
    for (size_t i = 0; i < n; i++)
        if (plog_flush_due(v[i], now))
            log_manager_request_flush(lm, v[i]);
    release_logs(v, n, NULL);
}

static void *scheduler_main(void *arg)
{
    log_manager *lm = arg;
    int64_t start = mono_ms();
    int64_t next_ret = start + lm->cfg.retention_check_interval_ms;
    int64_t next_flush = start + lm->cfg.flush_check_interval_ms;
    int64_t next_rp = start + lm->cfg.recovery_checkpoint_interval_ms;
    int64_t next_ls = start + lm->cfg.start_offset_checkpoint_interval_ms;
    pthread_mutex_lock(&lm->mu);
    while (!lm->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;           /* 100 ms tick: deletions are coarse anyway */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&lm->cond, &lm->mu, &ts);
        if (lm->stop)
            break;
        pthread_mutex_unlock(&lm->mu);
        int64_t now = mono_ms();
        if (now >= next_ret) {
            log_manager_run_retention(lm, wall_ms());
            next_ret = now + lm->cfg.retention_check_interval_ms;
        }
        if (now >= next_flush) {
            time_flush_pass(lm, wall_ms());
            next_flush = now + lm->cfg.flush_check_interval_ms;
        }
        if (now >= next_rp || now >= next_ls) {
            log_manager_write_checkpoints(lm);
            next_rp = now + lm->cfg.recovery_checkpoint_interval_ms;
            next_ls = now + lm->cfg.start_offset_checkpoint_interval_ms;
        }
        log_manager_run_deletions(lm, now, false);
        pthread_mutex_lock(&lm->mu);
    }
    pthread_mutex_unlock(&lm->mu);
    return NULL;
}

/* ---------------------------------------------------------------- cleaner */

static int64_t cleaner_map_bytes(const log_manager *lm)
{
    int t = lm->cfg.cleaner_threads > 0 ? lm->cfg.cleaner_threads : 1;
    int64_t b = lm->cfg.cleaner_dedupe_buffer_size > 0 ? lm->cfg.cleaner_dedupe_buffer_size
                                                       : LOG_CLEANER_DEFAULT_DEDUPE_BYTES;
    return b / t;
}

/* cleaner-offset-checkpoint of one dir: every log there with a known
 * first dirty offset. */
static int write_cleaner_checkpoint(log_manager *lm, int dir)
{
    plog **v;
    int *dirs;
    size_t n = snapshot_logs(lm, &v, &dirs), k = 0;
    int rc = KERR_NONE;
    ckpt_entry *e = malloc(sizeof *e * (n ? n : 1));
    if (!e) {
        release_logs(v, n, dirs);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t off;
        if (dirs[i] != dir || (off = plog_cleaner_offset(v[i])) < 0)
            continue;
        e[k++] = (ckpt_entry){ v[i]->topic, v[i]->partition, off };
    }
    pthread_mutex_lock(&lm->ckpt_mu);
    if (ckpt_write_cached(lm->dirs[dir], CKPT_CLEANER, e, k, &lm->ckpt_last[dir][2]) < 0) {
        LOG_ERR("storage", "cannot write %s/%s: %s", lm->dirs[dir], CKPT_CLEANER, strerror(errno));
        rc = KERR_KAFKA_STORAGE_ERROR;
    }
    pthread_mutex_unlock(&lm->ckpt_mu);
    free(e);
    release_logs(v, n, dirs);
    return rc;
}

/* Clean l (already marked lm_cleaning), then update the bookkeeping. */
static int clean_marked(log_manager *lm, plog *l, int dir, int64_t now, bool force, log_cleaner_stats *st)
{
    log_cleaner_opts o;
    log_cleaner_opts_init(&o);
    o.dedupe_buffer_size = cleaner_map_bytes(lm);
    o.force = force;
    o.abort = &lm->cleaner_abort;
    int rc = plog_clean_ex(l, now, &o, st);
    pthread_mutex_lock(&lm->mu);
    l->lm_cleaning = false;
    if (rc != KERR_NONE && rc != KERR_UNKNOWN_TOPIC_OR_PARTITION)
        l->lm_uncleanable = true;
    else if (rc == KERR_NONE && st->cleaned)
        l->lm_uncleanable = false;     /* a forced pass (admin) succeeded */
    pthread_mutex_unlock(&lm->mu);
    if (rc != KERR_NONE && rc != KERR_UNKNOWN_TOPIC_OR_PARTITION)
        LOG_WRN("storage", "cleaning %s-%d failed (%s): it is marked uncleanable until the log is reloaded",
                l->topic, l->partition, kerr_name(rc));
    if (st->cleaned)
        write_cleaner_checkpoint(lm, dir);
    return rc;
}

/* Kafka's grabFilthiestCompactedLog + clean: the log with the highest
 * dirty ratio among those that should be cleaned.  1 if a log was
 * cleaned, 0 if none needed it.  `skip` (optional, n_skip entries) lists
 * logs not to pick. */
static int clean_filthiest(log_manager *lm, int64_t now, plog **skip, size_t n_skip, plog **picked)
{
    plog **v;
    int *dirs;
    size_t n = snapshot_logs(lm, &v, &dirs);
    int best = -1, done = 0;
    double best_ratio = -1;
    for (size_t i = 0; i < n; i++) {
        bool busy = false;
        for (size_t j = 0; j < n_skip; j++)
            busy |= skip[j] == v[i];
        pthread_mutex_lock(&lm->mu);
        busy |= v[i]->lm_cleaning || v[i]->lm_uncleanable;
        pthread_mutex_unlock(&lm->mu);
        log_cleaner_info in;
        if (busy || plog_cleaner_info(v[i], now, &in) != KERR_NONE || !in.should_clean)
            continue;
        if (in.dirty_ratio > best_ratio) {
            best = (int)i;
            best_ratio = in.dirty_ratio;
        }
    }
    if (best >= 0) {
        plog *l = v[best];
        pthread_mutex_lock(&lm->mu);
        bool mine = !l->lm_cleaning;
        l->lm_cleaning = true;
        pthread_mutex_unlock(&lm->mu);
        if (mine) {
            log_cleaner_stats st;
            clean_marked(lm, l, dirs[best], now, true, &st);
            done = st.cleaned;
            if (picked)
                *picked = l;
        }
    }
    release_logs(v, n, dirs);
    return done;
}

static void *cleaner_main(void *arg)
{
    log_manager *lm = arg;
    pthread_mutex_lock(&lm->mu);
    while (!lm->stop) {
        pthread_mutex_unlock(&lm->mu);
        int done = clean_filthiest(lm, wall_ms(), NULL, 0, NULL);
        pthread_mutex_lock(&lm->mu);
        if (lm->stop || done)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (lm->cfg.cleaner_backoff_ms % 1000) * 1000000L;
        ts.tv_sec += (time_t)(lm->cfg.cleaner_backoff_ms / 1000 + ns / 1000000000L);
        ts.tv_nsec = (long)(ns % 1000000000L);
        pthread_cond_timedwait(&lm->cleaner_cond, &lm->mu, &ts);
    }
    pthread_mutex_unlock(&lm->mu);
    return NULL;
}

int log_manager_run_cleaner(log_manager *lm, int64_t now_ms)
{
    size_t n = log_manager_count(lm), k = 0;
    plog **done = malloc(sizeof *done * (n ? n : 1));
    if (!done)
        return 0;
    int cleaned = 0;
    while (k < n) {
        plog *p = NULL;
        int r = clean_filthiest(lm, now_ms, done, k, &p);
        if (!p)
            break;
        done[k++] = p;               /* identity only: each log at most once per pass */
        cleaned += r;
    }
    free(done);
    return cleaned;
}

int log_manager_clean_log(log_manager *lm, plog *l, int64_t now_ms, log_cleaner_stats *st)
{
    log_cleaner_stats dummy;
    char key[300];
    size_t kl = part_key(key, sizeof key, l->topic, l->partition);
    pthread_mutex_lock(&lm->mu);
    lm_part *p = strmap_get(&lm->map, key, kl);
    int dir = p && p->l == l ? p->dir : -1;
    bool was = l->lm_cleaning;
    l->lm_cleaning = true;           /* keep the threads off it (plog_clean serializes anyway) */
    pthread_mutex_unlock(&lm->mu);
    if (dir < 0) {
        pthread_mutex_lock(&lm->mu);
        l->lm_cleaning = was;
        pthread_mutex_unlock(&lm->mu);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    return clean_marked(lm, l, dir, now_ms, true, st ? st : &dummy);
}

/* ---------------------------------------------------------------- public */

static void lm_free(log_manager *lm)
{
    for (size_t i = 0; i < lm->nparts; i++) {
        plog_unref(lm->parts[i]->l);
        free(lm->parts[i]);
    }
    free(lm->parts);
    strmap_free(&lm->map);
    for (int i = 0; i < lm->ndirs; i++) {
        log_dir_unlock(lm->lock_fds[i]);
        free(lm->dirs[i]);
    }
    free(lm->dirs);
    free(lm->lock_fds);
    free(lm->dir_parts);
    for (int i = 0; lm->ckpt_last && i < lm->ndirs; i++)
        for (int k = 0; k < 4; k++)
            ckpt_cache_free(&lm->ckpt_last[i][k]);
    free(lm->ckpt_last);
    free(lm->cleaner_thr);
    pthread_mutex_destroy(&lm->mu);
    pthread_mutex_destroy(&lm->del_mu);
    pthread_mutex_destroy(&lm->ckpt_mu);
    pthread_cond_destroy(&lm->cond);
    pthread_cond_destroy(&lm->flush_cond);
    pthread_cond_destroy(&lm->cleaner_cond);
    free(lm);
}

int log_manager_open(const log_manager_config *cfg, log_manager **out, char *err, size_t errlen)
{
    *out = NULL;
    err[0] = 0;
    if (cfg->ndirs <= 0) {
        snprintf(err, errlen, "no log directory configured (log.dirs)");
        return KERR_INVALID_CONFIG;
    }
    log_manager *lm = calloc(1, sizeof *lm);
    if (!lm)
        return KERR__NOMEM;
    lm->cfg = *cfg;
    pthread_mutex_init(&lm->mu, NULL);
    pthread_mutex_init(&lm->del_mu, NULL);
    pthread_mutex_init(&lm->ckpt_mu, NULL);
    pthread_cond_init(&lm->cond, NULL);
    pthread_cond_init(&lm->flush_cond, NULL);
    pthread_cond_init(&lm->cleaner_cond, NULL);
    atomic_init(&lm->cleaner_abort, false);
    strmap_init(&lm->map);
    lm->dirs = calloc((size_t)cfg->ndirs, sizeof *lm->dirs);
    lm->lock_fds = malloc(sizeof *lm->lock_fds * (size_t)cfg->ndirs);
    lm->dir_parts = calloc((size_t)cfg->ndirs, sizeof *lm->dir_parts);
    lm->ckpt_last = calloc((size_t)cfg->ndirs, sizeof *lm->ckpt_last);
    if (!lm->dirs || !lm->lock_fds || !lm->dir_parts || !lm->ckpt_last) {
        lm_free(lm);
        return KERR__NOMEM;
    }
    int rc = KERR_NONE;
    for (int i = 0; i < cfg->ndirs; i++)
        lm->lock_fds[i] = -1;
    lm->ndirs = cfg->ndirs;
    for (int i = 0; i < cfg->ndirs && rc == KERR_NONE; i++) {
        if (!(lm->dirs[i] = strdup(cfg->dirs[i]))) {
            rc = KERR__NOMEM;
            break;
        }
        if ((lm->lock_fds[i] = log_dir_lock(lm->dirs[i], err, errlen)) < 0)
            rc = KERR_KAFKA_STORAGE_ERROR;
    }
    for (int i = 0; i < cfg->ndirs && rc == KERR_NONE; i++)
        rc = load_dir(lm, i, err, errlen);
    if (rc) {
        lm_free(lm);
        return rc;
    }
    log_manager_write_checkpoints(lm);
    if (cfg->start_threads) {
        if (pthread_create(&lm->sched_thr, NULL, scheduler_main, lm) != 0 ||
            pthread_create(&lm->flush_thr, NULL, flusher_main, lm) != 0) {
            snprintf(err, errlen, "cannot start storage threads");
            /* scheduler may be running: stop it */
            pthread_mutex_lock(&lm->mu);
            lm->stop = true;
            pthread_cond_broadcast(&lm->cond);
            pthread_mutex_unlock(&lm->mu);
            pthread_join(lm->sched_thr, NULL);
            lm_free(lm);
            return KERR__NOMEM;
        }
        lm->threads = true;
        int nc = cfg->cleaner_enable && cfg->cleaner_threads > 0 ? cfg->cleaner_threads : 0;
        if (nc && (lm->cleaner_thr = calloc((size_t)nc, sizeof *lm->cleaner_thr))) {
            for (int i = 0; i < nc; i++) {
                if (pthread_create(&lm->cleaner_thr[i], NULL, cleaner_main, lm) != 0) {
                    LOG_ERR("storage", "cannot start log cleaner thread %d", i);
                    break;
                }
                lm->ncleaners++;
            }
        }
    }
    *out = lm;
    return KERR_NONE;
}

int log_manager_shutdown(log_manager *lm)
{
    if (!lm)
        return KERR_NONE;
    if (lm->threads) {
        pthread_mutex_lock(&lm->mu);
        lm->stop = true;
        atomic_store(&lm->cleaner_abort, true);
        pthread_cond_broadcast(&lm->cond);
        pthread_cond_broadcast(&lm->flush_cond);
        pthread_cond_broadcast(&lm->cleaner_cond);
        pthread_mutex_unlock(&lm->mu);
        for (int i = 0; i < lm->ncleaners; i++)
            pthread_join(lm->cleaner_thr[i], NULL);
        pthread_join(lm->sched_thr, NULL);
        pthread_join(lm->flush_thr, NULL);   /* drains queued flushes first */
    }
    pthread_mutex_lock(&lm->mu);
    plog *q;
    while ((q = flush_pop(lm))) {
        pthread_mutex_unlock(&lm->mu);
        flush_and_notify(lm, q);
        plog_unref(q);
        pthread_mutex_lock(&lm->mu);
    }
    pthread_mutex_unlock(&lm->mu);

    plog **v;
    int *dirs;
    size_t n = snapshot_logs(lm, &v, &dirs);
    bool *dir_ok = calloc((size_t)lm->ndirs, sizeof *dir_ok);
    int rc = KERR_NONE;
    for (int i = 0; i < lm->ndirs && dir_ok; i++)
        dir_ok[i] = true;
    for (size_t i = 0; i < n; i++) {
        if (plog_close(v[i]) != KERR_NONE) {
            rc = KERR_KAFKA_STORAGE_ERROR;
            if (dir_ok)
                dir_ok[dirs[i]] = false;
        }
    }
    if (log_manager_write_checkpoints(lm) != KERR_NONE)
        rc = KERR_KAFKA_STORAGE_ERROR;
    for (int i = 0; i < lm->ndirs; i++) {
        if (dir_ok && dir_ok[i] && rc == KERR_NONE) {
            if (log_dir_write_clean_shutdown(lm->dirs[i]) < 0)
                rc = KERR_KAFKA_STORAGE_ERROR;
        } else {
            LOG_WRN("storage", "%s: not marking a clean shutdown (a log failed to close)", lm->dirs[i]);
        }
    }
    free(dir_ok);
    release_logs(v, n, dirs);
    log_manager_run_deletions(lm, 0, true);
    lm_free(lm);
    return rc;
}

void log_manager_foreach(log_manager *lm, void (*fn)(void *ctx, const lm_partition_info *p), void *ctx)
{
    plog **v;
    int *dirs;
    size_t n = snapshot_logs(lm, &v, &dirs);
    for (size_t i = 0; i < n; i++) {
        lm_partition_info pi = { v[i]->topic, v[i]->partition, v[i], lm->dirs[dirs[i]], v[i]->topic_id };
        fn(ctx, &pi);
    }
    release_logs(v, n, dirs);
}

size_t log_manager_count(log_manager *lm)
{
    pthread_mutex_lock(&lm->mu);
    size_t n = lm->nparts;
    pthread_mutex_unlock(&lm->mu);
    return n;
}

plog *log_manager_get(log_manager *lm, const char *topic, int32_t partition)
{
    char key[300];
    size_t kl = part_key(key, sizeof key, topic, partition);
    pthread_mutex_lock(&lm->mu);
    lm_part *p = strmap_get(&lm->map, key, kl);
    plog *l = p ? plog_ref(p->l) : NULL;
    pthread_mutex_unlock(&lm->mu);
    return l;
}

int log_manager_create_partition(log_manager *lm, const char *topic, int32_t partition,
                                 kuuid topic_id, const log_config *cfg, plog **out)
{
    char key[300];
    size_t kl = part_key(key, sizeof key, topic, partition);
    *out = NULL;
    if (strlen(topic) > 249 || strlen(topic) == 0 || partition < 0)
        return KERR_INVALID_TOPIC_EXCEPTION;
    pthread_mutex_lock(&lm->mu);
    if (strmap_get(&lm->map, key, kl)) {
        pthread_mutex_unlock(&lm->mu);
        return KERR_TOPIC_ALREADY_EXISTS;
    }
    int best = 0;
    for (int i = 1; i < lm->ndirs; i++)
        if (lm->dir_parts[i] < lm->dir_parts[best])
            best = i;
    /* Creation does file I/O; holding mu keeps two creators of the same
     * partition apart and is rare enough not to matter. */
    plog *l;
    int rc = plog_create(lm->dirs[best], topic, partition, topic_id, cfg, wall_ms(), &l);
    if (rc == KERR_NONE) {
        plog_set_retire_hook(l, retire_hook, lm);
        if (registry_add(lm, l, best) < 0) {
            plog_unref(l);
            rc = KERR_KAFKA_STORAGE_ERROR;
        } else {
            *out = l;
        }
    }
    pthread_mutex_unlock(&lm->mu);
    return rc;
}

int log_manager_delete_partition(log_manager *lm, plog *l)
{
    char key[300], newdir[4300], parent[4200];
    size_t kl = part_key(key, sizeof key, l->topic, l->partition);
    pthread_mutex_lock(&lm->mu);
    lm_part *p = strmap_get(&lm->map, key, kl);
    if (!p || p->l != l) {
        pthread_mutex_unlock(&lm->mu);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    snprintf(parent, sizeof parent, "%s", lm->dirs[p->dir]);
    registry_remove(lm, p);
    pthread_mutex_unlock(&lm->mu);

    kuuid u = kuuid_random();
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", u.b[i]);
    snprintf(newdir, sizeof newdir, "%s/%s-%" PRId32 ".%s-delete", parent, l->topic, l->partition, hex);
    int rc = KERR_NONE;
    log_config cfg;
    plog_get_config(l, &cfg);
    pthread_rwlock_rdlock(&l->lock);
    char *olddir = strdup(l->dir);
    pthread_rwlock_unlock(&l->lock);
    if (!olddir || sio_rename(olddir, newdir) < 0) {
        LOG_ERR("storage", "cannot rename %s for deletion: %s", olddir ? olddir : "?", strerror(errno));
        rc = KERR_KAFKA_STORAGE_ERROR;
        plog_mark_deleted(l, NULL);
    } else {
        sio_fsync_dir(parent);
        plog_mark_deleted(l, newdir);
        queue_dir_deletion(lm, newdir, cfg.file_delete_delay_ms);
    }
    free(olddir);
    plog_unref(l);                      /* the registry's reference */
    return rc;
}

void log_manager_set_flush_callback(log_manager *lm, plog *l,
                                    void (*on_flushed)(void *owner, int64_t flushed_offset), void *owner)
{
    pthread_mutex_lock(&lm->mu);
    l->lm_on_flushed = on_flushed;
    l->lm_owner = owner;
    pthread_mutex_unlock(&lm->mu);
}

void log_manager_request_flush(log_manager *lm, plog *l)
{
    if (!lm->threads) {
        flush_and_notify(lm, l);
        return;
    }
    pthread_mutex_lock(&lm->mu);
    if (!l->lm_flush_queued) {
        l->lm_flush_queued = true;
        plog_ref(l);
        if (lm->flush_tail)
            lm->flush_tail->lm_flush_next = l;
        else
            lm->flush_head = l;
        lm->flush_tail = l;
        pthread_cond_signal(&lm->flush_cond);
    }
    pthread_mutex_unlock(&lm->mu);
}

void log_manager_run_retention(log_manager *lm, int64_t now_ms)
{
    plog **v;
    size_t n = snapshot_logs(lm, &v, NULL);
    for (size_t i = 0; i < n; i++) {
        int d;
        plog_retention(v[i], now_ms, &d);
    }
    release_logs(v, n, NULL);
}

int log_manager_truncate_to(log_manager *lm, plog *l, int64_t offset)
{
    int rc = plog_truncate_to(l, offset);
    if (rc == KERR_NONE && log_manager_write_checkpoints(lm) != KERR_NONE)   /* S8 */
        rc = KERR_KAFKA_STORAGE_ERROR;
    return rc;
}

int log_manager_truncate_fully_and_start_at(log_manager *lm, plog *l, int64_t offset)
{
    int rc = plog_truncate_fully_and_start_at(l, offset);
    if (rc == KERR_NONE && log_manager_write_checkpoints(lm) != KERR_NONE)   /* S8 */
        rc = KERR_KAFKA_STORAGE_ERROR;
    return rc;
}

int log_manager_write_checkpoints(log_manager *lm)
{
    plog **v;
    int *dirs;
    size_t n = snapshot_logs(lm, &v, &dirs);
    int rc = KERR_NONE;
    ckpt_entry *rp = malloc(sizeof *rp * (n ? n : 1)), *ls = malloc(sizeof *ls * (n ? n : 1));
    ckpt_entry *cl = malloc(sizeof *cl * (n ? n : 1)), *hw = malloc(sizeof *hw * (n ? n : 1));
    if (!rp || !ls || !cl || !hw) {
        rc = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    pthread_mutex_lock(&lm->ckpt_mu);
    for (int d = 0; d < lm->ndirs; d++) {
        size_t k = 0, kc = 0;
        for (size_t i = 0; i < n; i++) {
            if (dirs[i] != d)
                continue;
            rp[k].topic = ls[k].topic = hw[k].topic = v[i]->topic;
            rp[k].partition = ls[k].partition = hw[k].partition = v[i]->partition;
            rp[k].offset = plog_recovery_point(v[i]);
            ls[k].offset = plog_log_start_offset(v[i]);
            hw[k].offset = plog_high_watermark(v[i]);
            k++;
            int64_t co = plog_cleaner_offset(v[i]);
            if (co >= 0)
                cl[kc++] = (ckpt_entry){ v[i]->topic, v[i]->partition, co };
        }
        /* Unchanged files are not rewritten (no fsync for an idle broker). */
        ckpt_cache *last = lm->ckpt_last[d];
        if (ckpt_write_cached(lm->dirs[d], CKPT_RECOVERY_POINT, rp, k, &last[0]) < 0 ||
            ckpt_write_cached(lm->dirs[d], CKPT_LOG_START, ls, k, &last[1]) < 0 ||
            ckpt_write_cached(lm->dirs[d], CKPT_CLEANER, cl, kc, &last[2]) < 0 ||
            ckpt_write_cached(lm->dirs[d], CKPT_REPLICATION, hw, k, &last[3]) < 0) {
            LOG_ERR("storage", "cannot write checkpoints in %s: %s", lm->dirs[d], strerror(errno));
            rc = KERR_KAFKA_STORAGE_ERROR;
        }
    }
    pthread_mutex_unlock(&lm->ckpt_mu);
out:
    free(rp);
    free(ls);
    free(cl);
    free(hw);
    release_logs(v, n, dirs);
    return rc;
}
