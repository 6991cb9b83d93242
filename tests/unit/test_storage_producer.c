/* test_storage_producer.c - idempotent producer state through the partition
 * log: duplicates, sequence/epoch rules, wrap, persistence and rebuild. */
#include "test.h"
#include "test_storage_util.h"

#include "storage/partition_log_int.h"
#include "storage/producer_state.h"

static char g_dir[512];

static int pappend(plog *l, int n, int64_t pid, int16_t epoch, int32_t seq, plog_append_result *r)
{
    size_t len;
    uint8_t *b = mkbatch_ex(n, T0, 1, RB_CODEC_NONE, pid, epoch, seq, 0, &len);
    int e = plog_append(l, b, len, 0, T0, r);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    free(b);
    return e;
}

static plog *fresh(log_config *cfg)
{
    snprintf(g_dir, sizeof g_dir, "%s", test_tmpdir());
    test_cfg(cfg);
    return new_log(g_dir, cfg);
}

TEST(storage_idempotent_duplicates_of_last_five)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    int64_t bases[7];
    for (int i = 0; i < 7; i++) {
        REQUIRE_EQ(pappend(l, 2, 1000, 0, i * 2, &r), KERR_NONE);
        bases[i] = r.base_offset;
        CHECK(!r.duplicate);
    }
    int64_t leo = plog_log_end_offset(l);
    int64_t size = l->segs[0]->size;
    /* retries of each of the last 5 batches: original offsets, nothing written */
    for (int i = 2; i < 7; i++) {
        REQUIRE_EQ(pappend(l, 2, 1000, 0, i * 2, &r), KERR_NONE);
        CHECK(r.duplicate);
        CHECK_EQ(r.base_offset, bases[i]);
        CHECK_EQ(r.last_offset, bases[i] + 1);
    }
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(l->segs[0]->size, size);
    /* the 6th-newest is out of the window: out of order */
    CHECK_EQ(pappend(l, 2, 1000, 0, 2, &r), KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* gaps are out of order; the next in-sequence one is fine */
    CHECK_EQ(pappend(l, 2, 1000, 0, 20, &r), KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ(pappend(l, 2, 1000, 0, 14, &r), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_idempotent_epochs)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    CHECK_EQ(pappend(l, 1, 7, 3, 42, &r), KERR_NONE);      /* new producer: any seq */
    CHECK_EQ(pappend(l, 1, 7, 2, 43, &r), KERR_INVALID_PRODUCER_EPOCH);   /* fenced */
    CHECK_EQ(pappend(l, 1, 7, 4, 5, &r), KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* bump needs seq 0 */
    CHECK_EQ(pappend(l, 1, 7, 4, 0, &r), KERR_NONE);       /* bump with seq 0 */
    CHECK_EQ(pappend(l, 1, 7, 4, 1, &r), KERR_NONE);
    CHECK_EQ(pappend(l, 1, 7, 3, 43, &r), KERR_INVALID_PRODUCER_EPOCH);
    /* non-idempotent batches are not checked */
    CHECK_EQ(pappend(l, 1, -1, -1, -1, &r), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_idempotent_sequence_wrap)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    CHECK_EQ(pappend(l, 2, 9, 0, INT32_MAX - 3, &r), KERR_NONE);   /* seqs MAX-3..MAX-2 */
    CHECK_EQ(pappend(l, 3, 9, 0, INT32_MAX - 1, &r), KERR_NONE);   /* MAX-1, MAX, 0 */
    CHECK_EQ(pappend(l, 1, 9, 0, 1, &r), KERR_NONE);
    CHECK_EQ(pappend(l, 3, 9, 0, INT32_MAX - 1, &r), KERR_NONE);   /* duplicate across the wrap */
    CHECK(r.duplicate);
    /* a batch ending exactly at MAX continues with 0 */
    CHECK_EQ(pappend(l, 1, 10, 0, INT32_MAX, &r), KERR_NONE);
    CHECK_EQ(pappend(l, 1, 10, 0, 0, &r), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_producer_state_survives_clean_restart)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    for (int i = 0; i < 3; i++)
        REQUIRE_EQ(pappend(l, 2, 55, 1, i * 2, &r), KERR_NONE);
    int64_t last_base = r.base_offset;
    int64_t leo = plog_log_end_offset(l);
    REQUIRE_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
    char p[700];
    snprintf(p, sizeof p, "%s/t-0/%020lld.snapshot", g_dir, (long long)leo);
    CHECK(file_size(p) == 10 + 46);
    l = reopen_log(g_dir, &cfg, 1, leo);
    REQUIRE(l);
    const pstate_entry *e = pstate_get(&l->ps, 55);
    REQUIRE(e);
    CHECK_EQ(e->epoch, 1);
    CHECK_EQ(e->b[e->nbatches - 1].last_seq, 5);
    /* the last batch is still recognised as a duplicate after restart */
    REQUIRE_EQ(pappend(l, 2, 55, 1, 4, &r), KERR_NONE);
    CHECK(r.duplicate);
    CHECK_EQ(r.base_offset, last_base);
    CHECK_EQ(pappend(l, 2, 55, 1, 7, &r), KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ(pappend(l, 2, 55, 1, 6, &r), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_producer_state_rebuilt_after_unclean)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    cfg.segment_bytes = 400;
    plog_set_config(l, &cfg);
    plog_append_result r;
    for (int i = 0; i < 12; i++)                /* several rolls: snapshots on the way */
        REQUIRE_EQ(pappend(l, 2, 77, 0, i * 2, &r), KERR_NONE);
    REQUIRE_EQ(pappend(l, 1, 78, 5, 100, &r), KERR_NONE);
    int64_t last77 = -1;
    (void)last77;
    CHECK(l->nsnaps >= 1 && l->nsnaps <= 2);
    int64_t leo = plog_log_end_offset(l);
    plog_unref(l);                              /* crash: no close, no final snapshot */
    l = reopen_log(g_dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo);
    const pstate_entry *e = pstate_get(&l->ps, 77);
    REQUIRE(e);
    CHECK_EQ(e->b[e->nbatches - 1].last_seq, 23);
    e = pstate_get(&l->ps, 78);
    REQUIRE(e);
    CHECK_EQ(e->epoch, 5);
    CHECK_EQ(pappend(l, 2, 77, 0, 22, &r), KERR_NONE);   /* duplicate of the last */
    CHECK(r.duplicate);
    CHECK_EQ(pappend(l, 2, 77, 0, 24, &r), KERR_NONE);
    CHECK(!r.duplicate);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_producer_snapshot_corrupt_is_ignored)
{
    const char *dir = test_tmpdir();
    producer_state ps;
    pstate_init(&ps);
    rb_header h = { 0 };
    h.producer_id = 1;
    h.producer_epoch = 0;
    h.base_sequence = 0;
    h.last_offset_delta = 4;
    h.records_count = 5;
    h.max_timestamp = T0;
    pstate_replay(&ps, &h, -1);
    REQUIRE(pstate_snapshot_write(&ps, dir, 5, true) == 0);
    pstate_clear(&ps);
    REQUIRE(pstate_snapshot_load(&ps, dir, 5) == 0);
    CHECK_EQ(pstate_count(&ps), 1);
    const pstate_entry *e = pstate_get(&ps, 1);
    REQUIRE(e);
    CHECK_EQ(e->b[0].first_seq, 0);
    CHECK_EQ(e->b[0].last_seq, 4);
    CHECK_EQ(e->b[0].first_offset, 0);
    char path[600];
    pstate_snapshot_path(path, sizeof path, dir, 5);
    FILE *f = fopen(path, "r+b");
    fseek(f, 20, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    CHECK(pstate_snapshot_load(&ps, dir, 5) < 0);
    CHECK_EQ(pstate_count(&ps), 0);
    /* expiration */
    pstate_replay(&ps, &h, -1);
    CHECK_EQ(pstate_expire(&ps, T0 + 10, 100), 0);
    CHECK_EQ(pstate_expire(&ps, T0 + 100, 100), 1);
    pstate_free(&ps);
}
