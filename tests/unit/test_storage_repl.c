/* test_storage_repl.c - the storage seam replication needs: follower
 * appends, the high watermark and its checkpoint, the leader-epoch cache,
 * OffsetForLeaderEpoch answers and truncation (docs/storage-format.md §11). */
#include "test.h"
#include "test_storage_util.h"

#include "storage/checkpoint.h"
#include "storage/leader_epoch.h"
#include "storage/log_manager.h"
#include "os/sio.h"

static log_manager *repl_lm(const char *dir)
{
    static const char *dirs[1];
    dirs[0] = dir;
    log_manager_config c;
    log_manager_config_defaults(&c);
    c.dirs = dirs;
    c.ndirs = 1;
    c.defaults.retention_ms = -1;
    c.start_threads = false;
    log_manager *lm = NULL;
    char err[512];
    if (log_manager_open(&c, &lm, err, sizeof err) != KERR_NONE) {
        fprintf(stderr, "open: %s\n", err);
        return NULL;
    }
    return lm;
}

/* Append n records as a leader in `epoch` without touching the HW. */
static int lead_append(plog *l, int n, int32_t epoch)
{
    size_t len;
    uint8_t *b = mkbatch(n, T0, &len);
    plog_append_result r;
    int e = plog_append(l, b, len, epoch, T0, &r);
    free(b);
    return e;
}

/* A manager on dir d holding t-0 with 10 records (HW still 0); *l borrowed. */
static log_manager *lm_with_ten(const char *d, plog **l)
{
    log_manager *lm = repl_lm(d);
    log_config cfg;
    test_cfg(&cfg);
    if (lm && (log_manager_create_partition(lm, "t", 0, kuuid_random(), &cfg, l) != KERR_NONE ||
               lead_append(*l, 10, 0) != KERR_NONE)) {
        log_manager_shutdown(lm);
        return NULL;
    }
    return lm;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    REQUIRE(sio_write_file_atomic(dir, name, text, strlen(text), true) == 0);
}

/* ---------------------------------------------------------------- HW */

TEST(storage_repl_hw_monotone_and_read_bounds)
{
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(test_tmpdir(), &cfg);
    REQUIRE(l);
    REQUIRE_EQ(lead_append(l, 4, 0), KERR_NONE);
    REQUIRE_EQ(lead_append(l, 6, 0), KERR_NONE);
    CHECK_EQ(plog_high_watermark(l), 0);          /* the leader appends beyond it */
    plog_set_high_watermark(l, 4);
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_set_high_watermark(l, 2);                /* S2: never down */
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_read_result r;
    /* a consumer at the HW sees nothing; a follower reads on to the LEO */
    REQUIRE_EQ(plog_read(l, 4, 1 << 20, true, PLOG_ISOLATION_HW, &r), KERR_NONE);
    CHECK(r.file == NULL);
    CHECK_EQ(r.high_watermark, 4);
    REQUIRE_EQ(plog_read(l, 4, 1 << 20, true, PLOG_ISOLATION_LOG_END, &r), KERR_NONE);
    REQUIRE(r.file);
    int32_t tail_len = r.len;
    fileref_unref(r.file);
    /* from 0: the consumer gets the first batch only, the follower both */
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_HW, &r), KERR_NONE);
    REQUIRE(r.file);
    int32_t head_len = r.len;
    fileref_unref(r.file);
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_LOG_END, &r), KERR_NONE);
    REQUIRE(r.file);
    CHECK_EQ(r.len, head_len + tail_len);
    fileref_unref(r.file);
    plog_set_high_watermark(l, 1000);             /* S1: clamped to the LEO */
    CHECK_EQ(plog_high_watermark(l), 10);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_repl_hw_checkpoint_survives_restart)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    plog *l;
    log_manager *lm = lm_with_ten(d, &l);
    REQUIRE(lm);
    plog_set_high_watermark(l, 7);
    REQUIRE_EQ(log_manager_write_checkpoints(lm), KERR_NONE);
    ckpt_entry *e;
    size_t n;
    REQUIRE(ckpt_read(d, CKPT_REPLICATION, &e, &n) == 0);      /* Kafka's format, one line per partition */
    CHECK_EQ(n, 1);
    CHECK_EQ(ckpt_lookup(e, n, "t", 0), 7);
    ckpt_free(e, n);
    char path[700], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", d, CKPT_REPLICATION);
    REQUIRE(sio_read_file(path, 4096, &text, &len) == 0);
    CHECK_STR(text, "0\n1\nt 0 7\n");
    free(text);
    plog_set_high_watermark(l, 9);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);           /* written at clean shutdown too */

    lm = repl_lm(d);
    REQUIRE(lm);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 10);
    CHECK_EQ(plog_high_watermark(l), 9);          /* restored, not reset to the LEO */
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);

    /* a checkpoint above the LEO (the log lost its tail) is clamped */
    write_text(d, CKPT_REPLICATION, "0\n1\nt 0 999\n");
    lm = repl_lm(d);
    REQUIRE(lm);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_high_watermark(l), 10);
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_repl_hw_checkpoint_missing_or_damaged)
{
    char d[600];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    plog *l;
    log_manager *lm = lm_with_ten(d, &l);
    REQUIRE(lm);
    plog_set_high_watermark(l, 10);
    int64_t start;
    REQUIRE_EQ(plog_delete_records(l, 3, &start), KERR_NONE);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);

    /* missing: Kafka starts the HW at 0, clamped to the log start */
    char path[700];
    snprintf(path, sizeof path, "%s/%s", d, CKPT_REPLICATION);
    REQUIRE(unlink(path) == 0);
    lm = repl_lm(d);
    REQUIRE(lm);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_start_offset(l), 3);
    CHECK_EQ(plog_high_watermark(l), 3);
    plog_set_high_watermark(l, 10);
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);

    /* damaged: ignored with a warning naming the file; the log still loads */
    write_text(d, CKPT_REPLICATION, "0\n2\nt 0 x\n");
    cap_state cs;
    cap_begin(&cs, d);
    lm = repl_lm(d);
    char *log = cap_end(&cs);
    REQUIRE(lm);
    CHECK(strstr(log, CKPT_REPLICATION) != NULL);
    free(log);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 10);
    CHECK_EQ(plog_high_watermark(l), 3);
    plog_unref(l);
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
    /* and rewritten whole at shutdown */
    ckpt_entry *e;
    size_t n;
    REQUIRE(ckpt_read(d, CKPT_REPLICATION, &e, &n) == 0);
    CHECK_EQ(ckpt_lookup(e, n, "t", 0), 3);
    ckpt_free(e, n);
}
