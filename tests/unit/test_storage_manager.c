/* test_storage_manager.c - log manager: dirs, locking, load, clean/unclean
 * shutdown, checkpoints, deletion, flush requests, startup time. */
#include "test.h"
#include "test_storage_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/clock.h"
#include "storage/checkpoint.h"
#include "storage/log_dir.h"
#include "storage/log_manager.h"
#include "os/sio.h"

static log_manager *open_lm(const char *const *dirs, int n, bool threads)
{
    log_manager_config c;
    log_manager_config_defaults(&c);
    c.dirs = dirs;
    c.ndirs = n;
    c.defaults.retention_ms = -1;
    c.start_threads = threads;
    log_manager *lm = NULL;
    char err[512];
    if (log_manager_open(&c, &lm, err, sizeof err) != KERR_NONE) {
        fprintf(stderr, "open: %s\n", err);
        return NULL;
    }
    return lm;
}

static int lm_append(plog *l, int n)
{
    size_t len;
    uint8_t *b = mkbatch(n, T0, &len);
    plog_append_result r;
    int e = plog_append(l, b, len, 0, T0, &r);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    free(b);
    return e;
}

static bool exists(const char *dir, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

TEST(storage_manager_create_reopen_clean)
{
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s", test_tmpdir());
    snprintf(d2, sizeof d2, "%s", test_tmpdir());
    const char *dirs[2] = { d1, d2 };
    log_manager *lm = open_lm(dirs, 2, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    kuuid id = kuuid_random();
    plog *p[4];
    for (int i = 0; i < 4; i++) {
        REQUIRE_EQ(log_manager_create_partition(lm, "orders", i, id, &cfg, &p[i]), KERR_NONE);
        REQUIRE(lm_append(p[i], i + 1) == KERR_NONE);
    }
    plog *dup;
    CHECK_EQ(log_manager_create_partition(lm, "orders", 0, id, &cfg, &dup), KERR_TOPIC_ALREADY_EXISTS);
    /* spread over both dirs (fewest partitions first) */
    CHECK(exists(d1, "orders-0") && exists(d2, "orders-1"));
    CHECK(exists(d1, "orders-0/partition.metadata"));
    CHECK_EQ(log_manager_count(lm), 4);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    CHECK(exists(d1, ".kafka_cleanshutdown") && exists(d2, ".kafka_cleanshutdown"));
    ckpt_entry *e;
    size_t n;
    REQUIRE(ckpt_read(d1, CKPT_RECOVERY_POINT, &e, &n) == 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(ckpt_lookup(e, n, "orders", 2), 3);
    ckpt_free(e, n);

    /* unknown things in the dir are skipped; -delete dirs removed */
    char junk[700];
    snprintf(junk, sizeof junk, "%s/not_a_partition", d1);
    mkdir(junk, 0755);
    snprintf(junk, sizeof junk, "%s/old-3.0123456789abcdef0123456789abcdef-delete", d2);
    mkdir(junk, 0755);
    cap_state cs;
    cap_begin(&cs, d1);
    lm = open_lm(dirs, 2, false);
    char *log = cap_end(&cs);
    REQUIRE(lm);
    CHECK(strstr(log, "not_a_partition") != NULL);
    free(log);
    CHECK(!exists(d1, ".kafka_cleanshutdown"));        /* removed once loaded */
    CHECK_EQ(log_manager_count(lm), 4);
    plog *l = log_manager_get(lm, "orders", 3);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 4);
    kuuid got = plog_topic_id(l);
    CHECK(kuuid_eq(got, id));
    plog_unref(l);
    log_manager_run_deletions(lm, 0, true);
    CHECK(access(junk, F_OK) != 0);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_manager_dir_lock_held)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_manager_config c;
    log_manager_config_defaults(&c);
    c.dirs = dirs;
    c.ndirs = 1;
    c.start_threads = false;
    log_manager *lm2 = NULL;
    char err[512];
    CHECK(log_manager_open(&c, &lm2, err, sizeof err) != KERR_NONE);
    CHECK(strstr(err, d) != NULL);
    CHECK(lm2 == NULL);
    log_manager_shutdown(lm);
}

TEST(storage_manager_unclean_recovers)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    plog *l;
    REQUIRE(log_manager_create_partition(lm, "t", 0, kuuid_random(), &cfg, &l) == KERR_NONE);
    for (int i = 0; i < 5; i++)
        REQUIRE(lm_append(l, 2) == KERR_NONE);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    /* simulate a crash after more writes: marker gone, torn tail */
    char p[700];
    snprintf(p, sizeof p, "%s/%s", d, LOG_DIR_CLEAN_SHUTDOWN_FILE);
    unlink(p);
    snprintf(p, sizeof p, "%s/t-0/00000000000000000000.log", d);
    FILE *f = fopen(p, "ab");
    fwrite("\0\0\0\0\0\0\0\x0a\0\0\0\x60", 1, 12, f);    /* a batch header promising more */
    fclose(f);
    cap_state cs;
    cap_begin(&cs, d);
    lm = open_lm(dirs, 1, false);
    char *log = cap_end(&cs);
    REQUIRE(lm);
    CHECK(strstr(log, "no clean shutdown marker") != NULL);
    CHECK(strstr(log, "cut 12 bytes") != NULL);
    free(log);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 10);
    CHECK_EQ(lm_append(l, 1), KERR_NONE);
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_manager_delete_partition)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    plog *l;
    REQUIRE(log_manager_create_partition(lm, "gone", 0, kuuid_random(), &cfg, &l) == KERR_NONE);
    REQUIRE(lm_append(l, 3) == KERR_NONE);
    plog_ref(l);                                   /* like a broker table entry */
    plog_read_result r;
    REQUIRE(plog_read(l, 0, 1000, true, 0, &r) == KERR_NONE);   /* a response in flight */
    REQUIRE(r.file);
    CHECK_EQ(log_manager_delete_partition(lm, l), KERR_NONE);
    CHECK(!exists(d, "gone-0"));
    CHECK(log_manager_get(lm, "gone", 0) == NULL);
    CHECK_EQ(lm_append(l, 1), KERR_UNKNOWN_TOPIC_OR_PARTITION);
    log_manager_run_deletions(lm, 0, true);
    DIR *dd = opendir(d);
    struct dirent *de;
    int left = 0;
    while ((de = readdir(dd)))
        if (strstr(de->d_name, "-delete"))
            left++;
    closedir(dd);
    CHECK_EQ(left, 0);
    /* the in-flight response can still read its bytes */
    uint8_t hb[RB_HEADER_SIZE];
    CHECK(pread(r.file->fd, hb, sizeof hb, r.file_pos) == (ssize_t)sizeof hb);
    fileref_unref(r.file);
    plog_unref(l);
    /* recreate after delete */
    REQUIRE(log_manager_create_partition(lm, "gone", 0, kuuid_random(), &cfg, &l) == KERR_NONE);
    CHECK_EQ(plog_log_end_offset(l), 0);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

static atomic_int g_flushed_calls;
static atomic_llong g_flushed_off;

static void on_flushed(void *owner, int64_t off)
{
    (void)owner;
    atomic_store(&g_flushed_off, off);
    atomic_fetch_add(&g_flushed_calls, 1);
}

TEST(storage_manager_flush_requests_group_commit)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, true);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    plog *l;
    REQUIRE(log_manager_create_partition(lm, "f", 0, kuuid_random(), &cfg, &l) == KERR_NONE);
    log_manager_set_flush_callback(lm, l, on_flushed, NULL);
    atomic_store(&g_flushed_calls, 0);
    for (int i = 0; i < 50; i++) {
        REQUIRE(lm_append(l, 1) == KERR_NONE);
        log_manager_request_flush(lm, l);
    }
    int64_t t = mono_ms();
    while (atomic_load(&g_flushed_off) < 50 && mono_ms() - t < 5000)
        usleep(1000);
    CHECK_EQ(atomic_load(&g_flushed_off), 50);
    CHECK(atomic_load(&g_flushed_calls) >= 1);
    CHECK(atomic_load(&g_flushed_calls) <= 50);
    printf("    flush requests: 50, fsync rounds: %d\n", atomic_load(&g_flushed_calls));
    CHECK_EQ(plog_recovery_point(l), 50);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_manager_startup_1000_partitions)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    kuuid id = kuuid_random();
    for (int i = 0; i < 1000; i++) {
        plog *l;
        char topic[32];
        snprintf(topic, sizeof topic, "topic%d", i / 10);
        REQUIRE(log_manager_create_partition(lm, topic, i % 10, id, &cfg, &l) == KERR_NONE);
        REQUIRE(lm_append(l, 5) == KERR_NONE);
        REQUIRE(lm_append(l, 5) == KERR_NONE);
    }
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    int64_t t0 = mono_us();
    lm = open_lm(dirs, 1, false);
    int64_t t1 = mono_us();
    REQUIRE(lm);
    CHECK_EQ(log_manager_count(lm), 1000);
    printf("    startup of 1000 partitions after clean shutdown: %.1f ms\n", (double)(t1 - t0) / 1000.0);
    plog *l = log_manager_get(lm, "topic42", 7);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 10);
    plog_unref(l);
    t0 = mono_us();
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    t1 = mono_us();
    printf("    clean shutdown of 1000 unchanged partitions: %.1f ms\n", (double)(t1 - t0) / 1000.0);
}

static atomic_int g_fsyncs;
static int count_fsyncs(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)len;
    (void)allow;
    (void)ctx;
    if (op == SIO_FSYNC)
        atomic_fetch_add(&g_fsyncs, 1);
    return 0;
}

/* fsyncs made by f(lm) */
static int fsyncs_of(int (*f)(log_manager *), log_manager *lm, int *rc)
{
    atomic_store(&g_fsyncs, 0);
    sio_set_fault(count_fsyncs, NULL);
    *rc = f(lm);
    sio_set_fault(NULL, NULL);
    return atomic_load(&g_fsyncs);
}

/* Clean shutdown and checkpoints fsync only what changed: an empty or
 * unchanged partition costs no fsync, an idle broker's periodic checkpoint
 * none at all; what was written is still durable and loads clean. */
TEST(storage_manager_shutdown_syncs_only_changes)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    kuuid id = kuuid_random();
    for (int i = 0; i < 200; i++) {
        plog *l;
        REQUIRE(log_manager_create_partition(lm, "idle", i, id, &cfg, &l) == KERR_NONE);
        if (i % 20 == 0)
            REQUIRE(lm_append(l, 5) == KERR_NONE);
    }
    int rc;
    int first = fsyncs_of(log_manager_shutdown, lm, &rc);
    REQUIRE_EQ(rc, KERR_NONE);
    /* 10 written partitions (data, snapshot, epoch file, their dirs) and
     * the three checkpoints and the marker; nothing for the 190 empty ones */
    CHECK(first <= 10 * 8 + 8);
    lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    CHECK_EQ(fsyncs_of(log_manager_write_checkpoints, lm, &rc), 0);   /* written at open, unchanged */
    int idle = fsyncs_of(log_manager_shutdown, lm, &rc);
    REQUIRE_EQ(rc, KERR_NONE);
    CHECK(idle <= 2);                            /* the clean-shutdown marker (file + dir) */
    printf("    clean shutdown of 200 partitions: %d fsyncs when 10 were written to, %d when none was\n",
           first, idle);
    /* one partition written: it is synced, and loads clean with its data */
    lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    plog *l = log_manager_get(lm, "idle", 40);
    REQUIRE(l);
    REQUIRE(lm_append(l, 3) == KERR_NONE);
    plog_unref(l);
    int one = fsyncs_of(log_manager_shutdown, lm, &rc);
    REQUIRE_EQ(rc, KERR_NONE);
    CHECK(one >= 3 && one <= 16);
    CHECK(log_dir_clean_shutdown(d));
    lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    l = log_manager_get(lm, "idle", 40);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 8);
    plog_unref(l);
    l = log_manager_get(lm, "idle", 41);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 0);
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_manager_retention_pass)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    const char *dirs[1] = { d };
    log_manager *lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 300;
    cfg.retention_ms = 1000;
    cfg.file_delete_delay_ms = 0;
    plog *l;
    REQUIRE(log_manager_create_partition(lm, "r", 0, kuuid_random(), &cfg, &l) == KERR_NONE);
    for (int i = 0; i < 20; i++)
        REQUIRE(lm_append(l, 2) == KERR_NONE);
    int before = plog_segment_count(l);
    log_manager_run_retention(lm, T0 + 100000);
    CHECK_EQ(plog_segment_count(l), 1);
    CHECK(before > 1);
    char p[700];
    snprintf(p, sizeof p, "%s/r-0/00000000000000000000.log.deleted", d);
    CHECK(access(p, F_OK) == 0);                   /* renamed, deleted later */
    log_manager_run_deletions(lm, 0, false);
    CHECK(access(p, F_OK) != 0);
    REQUIRE_EQ(log_manager_write_checkpoints(lm), KERR_NONE);
    ckpt_entry *e;
    size_t n;
    REQUIRE(ckpt_read(d, CKPT_LOG_START, &e, &n) == 0);
    CHECK_EQ(ckpt_lookup(e, n, "r", 0), plog_log_start_offset(l));
    ckpt_free(e, n);
    int64_t ls = plog_log_start_offset(l);
    CHECK(ls > 0);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    /* log start survives restart */
    lm = open_lm(dirs, 1, false);
    REQUIRE(lm);
    l = log_manager_get(lm, "r", 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_start_offset(l), ls);
    plog_unref(l);
    log_manager_shutdown(lm);
}
