/* test_storage_fd_cache.c - the fd cache of segment files (fd_cache.h):
 * the cap holds (cache count and the process's real descriptors), evicted
 * files reopen and read the right data, a reference held by a reader
 * outlives eviction, renamed files (retention, compaction swap, partition
 * deletion) reopen under their new names, a vanished file is an error,
 * hot segments cost no open and no cache lock, EMFILE makes room, and
 * concurrent readers and writers survive a tiny cap. */
#include "test.h"
#include "test_storage_util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "storage/fd_cache.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log_int.h"

#define NPARTS 100
#define NBATCH 3

typedef struct expect {
    uint8_t *b;                 /* the batch as stored (offsets stamped) */
    size_t len;
    int64_t base;
} expect;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;                /* the DIR's own descriptor */
}

static plog *mk_part(const char *dir, int32_t part, const log_config *cfg)
{
    plog *l = NULL;
    if (plog_create(dir, "fc", part, kuuid_random(), cfg, T0, &l) != KERR_NONE)
        return NULL;
    return l;
}

/* Append a batch that differs per (part, k): record count and timestamps. */
static int put(plog *l, int32_t part, int k, expect *e)
{
    size_t len;
    uint8_t *b = mkbatch_ex(1 + (part + k) % 5, T0 + part * 1000 + k, 1, RB_CODEC_NONE, -1, -1, -1, 0, &len);
    if (!b)
        return -1;
    plog_append_result r;
    int rc = plog_append(l, b, len, 0, T0, &r);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    e->b = b;
    e->len = len;
    e->base = r.base_offset;
    return rc;
}

/* The batch at e->base reads back byte for byte. */
static bool read_matches(plog *l, const expect *e)
{
    plog_read_result r;
    if (plog_read(l, e->base, 1 << 20, true, 0, &r) != KERR_NONE || !r.file || (size_t)r.len < e->len)
        return false;
    uint8_t *got = malloc(e->len);
    bool ok = got && pread(r.file->fd, got, e->len, r.file_pos) == (ssize_t)e->len &&
              !memcmp(got, e->b, e->len);
    free(got);
    fileref_unref(r.file);
    return ok;
}

/* Partitions 0..n-1 of topic "fc", each with one batch if ex is set. */
static bool mk_parts(const char *dir, const log_config *cfg, plog **logs, int n, expect *ex)
{
    for (int i = 0; i < n; i++)
        if (!(logs[i] = mk_part(dir, i, cfg)) || (ex && put(logs[i], i, 0, &ex[i]) != KERR_NONE))
            return false;
    return true;
}

static void close_all(plog **v, int n)
{
    for (int i = 0; i < n; i++) {
        if (v[i]) {
            plog_close(v[i]);
            plog_unref(v[i]);
        }
    }
}

TEST(fdcache_cap_respected_and_reads_right_data)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 200;                     /* a few segments per partition */
    fdc_set_cap(16);
    int base_fds = count_fds();
    fdc_stats s0, st;
    fdc_get_stats(&s0);
    static plog *logs[NPARTS];
    static expect ex[NPARTS][NBATCH];
    memset(logs, 0, sizeof logs);
    int max_fds = 0;
    for (int i = 0; i < NPARTS; i++) {
        REQUIRE((logs[i] = mk_part(dir, i, &cfg)) != NULL);
        int n = count_fds();
        max_fds = n > max_fds ? n : max_fds;
    }
    for (int k = 0; k < NBATCH; k++) {           /* round-robin: every append misses the cache */
        for (int i = 0; i < NPARTS; i++) {
            REQUIRE_EQ(put(logs[i], i, k, &ex[i][k]), KERR_NONE);
            int n = count_fds();
            max_fds = n > max_fds ? n : max_fds;
            fdc_get_stats(&st);
            CHECK(st.open <= 16);
        }
    }
    CHECK(plog_segment_count(logs[7]) > 1);
    for (int k = 0; k < NBATCH; k++)
        for (int i = NPARTS - 1; i >= 0; i--) {
            CHECK(read_matches(logs[i], &ex[i][k]));
            int n = count_fds();
            max_fds = n > max_fds ? n : max_fds;
        }
    fdc_get_stats(&st);
    CHECK(st.open <= 16);
    CHECK(st.evictions - s0.evictions > (uint64_t)NPARTS);
    CHECK(st.opens - s0.opens > (uint64_t)NPARTS);
    /* descriptors: the cap plus a few transient ones (a create, a dir fsync) */
    CHECK(max_fds - base_fds <= 16 + 4);
    /* and it all reopens cleanly with the same data */
    close_all(logs, NPARTS);
    for (int i = 0; i < NPARTS; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/fc-%d", dir, i);
        plog_load_params lp = { true, -1, -1, T0 };
        REQUIRE_EQ(plog_load(path, "fc", i, &cfg, &lp, &logs[i]), KERR_NONE);
    }
    for (int i = 0; i < NPARTS; i++)
        for (int k = 0; k < NBATCH; k++) {
            CHECK(read_matches(logs[i], &ex[i][k]));
            free(ex[i][k].b);
        }
    CHECK(count_fds() - base_fds <= 16 + 4);
    close_all(logs, NPARTS);
    fdc_set_cap(0);
}

TEST(fdcache_evicted_file_stays_valid_for_reader)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    fdc_set_cap(16);
    plog *logs[40] = { 0 };
    expect ex[40];
    REQUIRE(mk_parts(dir, &cfg, logs, 40, ex));
    /* A Fetch takes partition 0's file ... */
    plog_read_result r;
    REQUIRE_EQ(plog_read(logs[0], 0, 1 << 20, true, 0, &r), KERR_NONE);
    REQUIRE(r.file);
    /* ... then 39 others are used: 0 is evicted from the cache */
    for (int i = 1; i < 40; i++)
        CHECK(read_matches(logs[i], &ex[i]));
    CHECK(logs[0]->segs[0]->fde.file == NULL);
    /* the response's reference still reads partition 0's bytes */
    uint8_t *got = malloc(4096);
    CHECK_EQ(pread(r.file->fd, got, ex[0].len, r.file_pos), (ssize_t)ex[0].len);
    CHECK(!memcmp(got, ex[0].b, ex[0].len));
    struct stat a, b;
    char path[700];
    snprintf(path, sizeof path, "%s/fc-0/%020d.log", dir, 0);
    REQUIRE(fstat(r.file->fd, &a) == 0 && stat(path, &b) == 0);
    CHECK_EQ(a.st_ino, b.st_ino);
    /* a new read reopens the same file */
    CHECK(read_matches(logs[0], &ex[0]));
    fileref_unref(r.file);
    /* DeleteRecords renames the segment (*.deleted) while a reader holds it */
    REQUIRE_EQ(plog_read(logs[1], 0, 1 << 20, true, 0, &r), KERR_NONE);
    logs[1]->cfg.segment_ms = 0;                 /* roll on the next append */
    expect e2;
    REQUIRE_EQ(put(logs[1], 1, 2, &e2), KERR_NONE);
    CHECK_EQ(plog_segment_count(logs[1]), 2);
    int64_t ls;
    REQUIRE_EQ(plog_delete_records(logs[1], e2.base, &ls), KERR_NONE);
    CHECK_EQ(plog_segment_count(logs[1]), 1);
    CHECK(logs[1]->segs[0]->base_offset == e2.base);
    CHECK_EQ(pread(r.file->fd, got, ex[1].len, r.file_pos), (ssize_t)ex[1].len);
    CHECK(!memcmp(got, ex[1].b, ex[1].len));
    fileref_unref(r.file);
    CHECK(read_matches(logs[1], &e2));
    free(e2.b);
    free(got);
    for (int i = 0; i < 40; i++)
        free(ex[i].b);
    close_all(logs, 40);
    fdc_set_cap(0);
}

/* Evict every segment file of l (what a full cache does). */
static void evict_log(plog *l)
{
    for (int i = 0; i < l->nsegs; i++)
        fdc_close(&l->segs[i]->fde);
}

TEST(fdcache_reopen_after_renames)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.compact = true;
    cfg.min_cleanable_ratio = 0;
    cfg.segment_ms = 0;                          /* one batch per segment */
    plog *l = mk_part(dir, 0, &cfg);
    REQUIRE(l);
    expect ex[4];
    for (int k = 0; k < 4; k++)
        REQUIRE_EQ(put(l, 0, k, &ex[k]), KERR_NONE);
    CHECK_EQ(plog_segment_count(l), 4);
    /* compaction swap: .cleaned -> .swap -> final names, then evicted */
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0 + 10000, &st), KERR_NONE);
    CHECK(st.cleaned);
    evict_log(l);
    plog_read_result r;
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, 0, &r), KERR_NONE);
    REQUIRE(r.file && r.len >= RB_HEADER_SIZE);
    uint8_t *b = malloc((size_t)r.len);
    rb_header h;
    CHECK_EQ(pread(r.file->fd, b, (size_t)r.len, r.file_pos), r.len);
    CHECK(rb_parse_header(b, (size_t)r.len, &h) == KERR_NONE && rb_crc_ok(b, &h));
    free(b);
    fileref_unref(r.file);
    CHECK(read_matches(l, &ex[3]));              /* the active segment is not compacted */
    /* the partition dir is renamed for deletion: a queued flush reopens
     * the files under the new name */
    char newdir[800];
    snprintf(newdir, sizeof newdir, "%s/fc-0.0123-delete", dir);
    REQUIRE(rename(l->dir, newdir) == 0);
    plog_mark_deleted(l, newdir);
    evict_log(l);
    l->segs[l->nsegs - 1]->unflushed = true;
    CHECK_EQ(plog_flush(l), KERR_NONE);
    for (int k = 0; k < 4; k++)
        free(ex[k].b);
    plog_unref(l);
}

TEST(fdcache_vanished_file_is_an_error)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = mk_part(dir, 0, &cfg);
    REQUIRE(l);
    expect e;
    REQUIRE_EQ(put(l, 0, 0, &e), KERR_NONE);
    evict_log(l);
    char path[700];
    snprintf(path, sizeof path, "%s/fc-0/%020d.log", dir, 0);
    REQUIRE(unlink(path) == 0);
    cap_state cs;
    cap_begin(&cs, dir);
    plog_read_result r;
    int rr = plog_read(l, 0, 1 << 20, true, 0, &r);
    size_t len;
    uint8_t *b = mkbatch(2, T0, &len);
    plog_append_result ar;
    int ra = plog_append(l, b, len, 0, T0, &ar);
    char *log = cap_end(&cs);
    CHECK_EQ(rr, KERR_KAFKA_STORAGE_ERROR);
    CHECK(r.file == NULL);
    CHECK_EQ(ra, KERR_KAFKA_STORAGE_ERROR);
    CHECK(strstr(log, "No such file") != NULL);
    free(log);
    free(b);
    free(e.b);
    plog_unref(l);
}

TEST(fdcache_hot_segments_cost_no_open)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    fdc_set_cap(64);
    plog *logs[16] = { 0 };
    REQUIRE(mk_parts(dir, &cfg, logs, 16, NULL));
    fdc_stats a, b;
    fdc_get_stats(&a);
    for (int k = 0; k < 200; k++) {
        for (int i = 0; i < 16; i++) {
            expect e;
            REQUIRE_EQ(put(logs[i], i, k, &e), KERR_NONE);
            CHECK(read_matches(logs[i], &e));
            free(e.b);
        }
    }
    fdc_get_stats(&b);
    CHECK_EQ(b.opens - a.opens, 0);              /* no open/close per request */
    CHECK_EQ(b.evictions - a.evictions, 0);
    CHECK_EQ(b.moves - a.moves, 0);              /* 16 <= cap/2: never the cache mutex */
    close_all(logs, 16);
    fdc_set_cap(0);
}

TEST(fdcache_out_of_descriptors_makes_room)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    fdc_set_cap(100000);                         /* the cap never triggers here */
    plog *logs[50] = { 0 };
    expect ex[50];
    REQUIRE(mk_parts(dir, &cfg, logs, 50, ex));
    for (int i = 0; i < 50; i++)
        evict_log(logs[i]);
    struct rlimit old, low;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
    low = old;
    low.rlim_cur = (rlim_t)count_fds() + 8;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int ok = 0;
    for (int i = 0; i < 50; i++)                 /* EMFILE after ~8 opens: the LRU ones close */
        ok += read_matches(logs[i], &ex[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    CHECK_EQ(ok, 50);
    for (int i = 0; i < 50; i++)
        free(ex[i].b);
    close_all(logs, 50);
    fdc_set_cap(0);
}

typedef struct stress_ctx {
    plog **logs;
    int n;
    atomic_int bad;
    unsigned seed;
} stress_ctx;

static void *stress_thread(void *arg)
{
    stress_ctx *c = arg;
    unsigned seed = c->seed;
    for (int it = 0; it < 3000; it++) {
        int i = (int)(rand_r(&seed) % (unsigned)c->n);
        if (rand_r(&seed) % 4 == 0) {
            expect e = { 0 };
            if (put(c->logs[i], i, it, &e) != KERR_NONE)
                atomic_fetch_add(&c->bad, 1);
            free(e.b);
            continue;
        }
        int64_t end = plog_high_watermark(c->logs[i]);
        if (end == 0)
            continue;
        plog_read_result r;
        if (plog_read(c->logs[i], (int64_t)(rand_r(&seed) % (unsigned)end), 1 << 16, true, 0, &r) != KERR_NONE ||
            !r.file) {
            atomic_fetch_add(&c->bad, 1);
            continue;
        }
        uint8_t hdr[RB_HEADER_SIZE];
        rb_header h;
        if (pread(r.file->fd, hdr, sizeof hdr, r.file_pos) != (ssize_t)sizeof hdr ||
            rb_parse_header(hdr, sizeof hdr, &h) != KERR_NONE)
            atomic_fetch_add(&c->bad, 1);
        fileref_unref(r.file);
    }
    return NULL;
}

TEST(fdcache_concurrent_use_with_tiny_cap)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 2000;
    fdc_set_cap(16);
    plog *logs[64] = { 0 };
    REQUIRE(mk_parts(dir, &cfg, logs, 64, NULL));
    stress_ctx c[4];
    pthread_t t[4];
    for (int k = 0; k < 4; k++) {
        c[k] = (stress_ctx){ logs, 64, 0, (unsigned)k * 7919u + 1 };
        REQUIRE(pthread_create(&t[k], NULL, stress_thread, &c[k]) == 0);
    }
    int bad = 0;
    for (int k = 0; k < 4; k++) {
        pthread_join(t[k], NULL);
        bad += atomic_load(&c[k].bad);
    }
    CHECK_EQ(bad, 0);
    fdc_stats st;
    fdc_get_stats(&st);
    CHECK(st.open <= 16);
    close_all(logs, 64);
    fdc_set_cap(0);
}

/* Recovering a log of many segments (kill -9) syncs them one at a time: it
 * succeeds with only a couple of dozen descriptors to spare. */
TEST(fdcache_recovery_of_many_segments_with_few_descriptors)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 200;
    fdc_set_cap(16);
    plog *l = mk_part(dir, 0, &cfg);
    REQUIRE(l);
    static expect ex[150];
    for (int k = 0; k < 150; k++)
        REQUIRE_EQ(put(l, 0, k, &ex[k]), KERR_NONE);
    CHECK(plog_segment_count(l) >= 50);
    plog_unref(l);                               /* a crash: no close */
    struct rlimit old, low;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
    low = old;
    low.rlim_cur = (rlim_t)count_fds() + 24;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    char path[700];
    snprintf(path, sizeof path, "%s/fc-0", dir);
    plog_load_params lp = { false, 0, -1, T0 };
    int rc = plog_load(path, "fc", 0, &cfg, &lp, &l);
    int ok = 0;
    for (int k = 0; rc == KERR_NONE && k < 150; k++)
        ok += read_matches(l, &ex[k]);
    setrlimit(RLIMIT_NOFILE, &old);
    REQUIRE_EQ(rc, KERR_NONE);
    CHECK_EQ(ok, 150);
    for (int k = 0; k < 150; k++)
        free(ex[k].b);
    plog_close(l);
    plog_unref(l);
    fdc_set_cap(0);
}
