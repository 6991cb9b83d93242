/* test_storage_txn.c - transactions in the partition log (TL1..TL14):
 * transactional batches, markers, the LSO, read_committed reads and their
 * aborted lists, .txnindex recovery, truncation, follower appends. */
#include "test.h"
#include "test_storage_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "storage/partition_log_int.h"
#include "storage/producer_state.h"
#include "storage/txn_index.h"

static char g_dir[512];

static plog *fresh(log_config *cfg)
{
    snprintf(g_dir, sizeof g_dir, "%s", test_tmpdir());
    test_cfg(cfg);
    return new_log(g_dir, cfg);
}

/* A fresh log with small segments (compact: a compacted topic). */
static plog *fresh_small(log_config *cfg, int64_t segment_bytes, bool compact)
{
    plog *l = fresh(cfg);
    if (!l)
        return NULL;
    cfg->segment_bytes = segment_bytes;
    cfg->compact = compact;
    cfg->delete_retention = !compact;
    plog_set_config(l, cfg);
    return l;
}

/* Append records rec[0..n) as one batch of producer pid/epoch at seq,
 * transactional or not (verified: plog_append_verified with `guard`). */
static int append_batch(plog *l, const bb_record *rec, int n, int64_t pid, int16_t epoch, int32_t seq, bool txn,
                        bool verified, uint64_t guard, plog_append_result *r)
{
    bb_params p;
    bb_params_init(&p);
    p.producer_id = pid;
    p.producer_epoch = epoch;
    p.base_sequence = seq;
    p.extra_attributes = txn ? RB_ATTR_TRANSACTIONAL : 0;
    uint8_t *b = NULL;
    size_t len;
    if (bb_build(&p, rec, n, &b, &len) != KERR_NONE)
        return -1;
    int e = verified ? plog_append_verified(l, b, len, 0, T0, guard, r) : plog_append(l, b, len, 0, T0, r);
    free(b);
    return e;
}

/* append_batch, then raise the HW to the LEO. */
static int append_recs(plog *l, const bb_record *rec, int n, int64_t pid, int16_t epoch, int32_t seq, bool txn,
                       plog_append_result *r)
{
    int e = append_batch(l, rec, n, pid, epoch, seq, txn, false, 0, r);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    return e;
}

/* n records "k"="v" from producer pid/epoch at seq, transactional or not. */
static int tappend(plog *l, int n, int64_t pid, int16_t epoch, int32_t seq, bool txn, plog_append_result *r)
{
    bb_record rec[8];
    if (n > 8)
        return -1;
    for (int i = 0; i < n; i++)
        rec[i] = (bb_record){ "k", 1, "v", 1, T0 + i };
    return append_recs(l, rec, n, pid, epoch, seq, txn, r);
}

static int marker(plog *l, int64_t pid, int16_t epoch, bool commit, int32_t ce, plog_append_result *r)
{
    int e = plog_append_marker(l, pid, epoch, commit, ce, 0, T0, r);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    return e;
}

static int64_t txi_count(plog *l)
{
    int64_t n = 0;
    for (int i = 0; i < l->nsegs; i++) {
        const txn_index *t = segment_txn_index(l->segs[i]);
        n += t ? (int64_t)t->n : -1000;
    }
    return n;
}

TEST(storage_txn_lso_markers_and_aborted_list)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    REQUIRE_EQ(tappend(l, 2, 1, 0, 0, false, &r), KERR_NONE);      /* 0-1 plain idempotent */
    REQUIRE_EQ(tappend(l, 3, 7, 0, 0, true, &r), KERR_NONE);       /* 2-4 txn of 7 */
    CHECK_EQ(r.base_offset, 2);
    REQUIRE_EQ(tappend(l, 1, 8, 0, 0, true, &r), KERR_NONE);       /* 5 txn of 8 */
    CHECK_EQ(plog_high_watermark(l), 6);
    CHECK_EQ(plog_last_stable_offset(l), 2);                       /* TL9: oldest open txn */
    /* TL4: a plain batch from a producer with an open transaction */
    CHECK_EQ(tappend(l, 1, 7, 0, 3, false, &r), KERR_INVALID_TXN_STATE);
    /* read_committed stops at the LSO; read_uncommitted at the HW */
    plog_read_result rr;
    REQUIRE_EQ(plog_read(l, 2, 1 << 20, true, PLOG_ISOLATION_COMMITTED, &rr), KERR_NONE);
    CHECK(rr.file == NULL);
    CHECK_EQ(rr.last_stable_offset, 2);
    plog_read_result_free(&rr);
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_COMMITTED, &rr), KERR_NONE);
    REQUIRE(rr.file);
    int32_t committed_len = rr.len;
    plog_read_result_free(&rr);
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_HW, &rr), KERR_NONE);
    CHECK(rr.len > committed_len);
    plog_read_result_free(&rr);
    /* ListOffsets: LATEST is the LSO with read_committed */
    int64_t off, ts;
    int32_t ep;
    REQUIRE_EQ(plog_list_offset(l, PLOG_TS_LATEST, PLOG_ISOLATION_COMMITTED, &off, &ts, &ep), KERR_NONE);
    CHECK_EQ(off, 2);
    REQUIRE_EQ(plog_list_offset(l, PLOG_TS_LATEST, PLOG_ISOLATION_HW, &off, &ts, &ep), KERR_NONE);
    CHECK_EQ(off, 6);
    REQUIRE_EQ(plog_list_offset(l, T0, PLOG_ISOLATION_COMMITTED, &off, &ts, &ep), KERR_NONE);
    CHECK_EQ(off, 0);
    REQUIRE_EQ(plog_list_offset(l, T0 + 2, PLOG_ISOLATION_COMMITTED, &off, &ts, &ep), KERR_NONE);
    CHECK_EQ(off, -1);                                             /* at/above the LSO: none */
    /* TL5: abort 7 (offset 6) -> LSO moves to 8's txn; a .txnindex entry */
    REQUIRE_EQ(marker(l, 7, 0, false, 3, &r), KERR_NONE);
    CHECK_EQ(r.base_offset, 6);
    CHECK_EQ(plog_last_stable_offset(l), 5);
    CHECK_EQ(txi_count(l), 1);
    const txn_index *t = segment_txn_index(l->segs[0]);
    REQUIRE(t && t->n == 1);
    CHECK_EQ(t->e[0].producer_id, 7);
    CHECK_EQ(t->e[0].first_offset, 2);
    CHECK_EQ(t->e[0].last_offset, 6);
    CHECK_EQ(t->e[0].last_stable_offset, 5);                       /* 8's txn still open */
    struct stat st;
    char p[700];
    CHECK_EQ(stat(seg_path(p, sizeof p, g_dir, 0, ".txnindex"), &st), 0);
    snprintf(p, sizeof p, "%s/t-0/%020d.txnindex", g_dir, 0);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_size, TXI_ENTRY);
    /* commit 8 (offset 7): everything stable */
    REQUIRE_EQ(marker(l, 8, 0, true, 3, &r), KERR_NONE);
    CHECK_EQ(plog_last_stable_offset(l), 8);
    CHECK_EQ(txi_count(l), 1);                                     /* commits leave no entry */
    /* the aborted list of a read_committed read */
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_COMMITTED, &rr), KERR_NONE);
    REQUIRE(rr.file);
    REQUIRE_EQ(rr.naborted, 1);
    CHECK_EQ(rr.aborted[0].producer_id, 7);
    CHECK_EQ(rr.aborted[0].first_offset, 2);
    plog_read_result_free(&rr);
    REQUIRE_EQ(plog_read(l, 7, 1 << 20, true, PLOG_ISOLATION_COMMITTED, &rr), KERR_NONE);
    CHECK_EQ(rr.naborted, 0);                                      /* range after the abort */
    plog_read_result_free(&rr);
    /* TL5 fencing: older producer epoch, older coordinator epoch */
    REQUIRE_EQ(tappend(l, 1, 7, 1, 0, true, &r), KERR_NONE);      /* epoch bump, seq 0 */
    CHECK_EQ(marker(l, 7, 0, true, 3, &r), KERR_INVALID_PRODUCER_EPOCH);
    CHECK_EQ(marker(l, 7, 1, true, 2, &r), KERR_TRANSACTION_COORDINATOR_FENCED);
    CHECK_EQ(marker(l, 7, 1, true, 3, &r), KERR_NONE);
    /* the control batch is Kafka's EndTransactionMarker */
    REQUIRE_EQ(plog_read(l, r.base_offset, 1 << 20, true, PLOG_ISOLATION_HW, &rr), KERR_NONE);
    REQUIRE(rr.file);
    uint8_t buf[256];
    REQUIRE(rr.len < (int32_t)sizeof buf);
    REQUIRE_EQ(pread(rr.file->fd, buf, (size_t)rr.len, rr.file_pos), rr.len);
    rb_header h;
    REQUIRE_EQ(rb_parse_header(buf, (size_t)rr.len, &h), KERR_NONE);
    CHECK_EQ(h.attributes, RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL);
    CHECK_EQ(h.producer_id, 7);
    CHECK_EQ(h.producer_epoch, 1);
    CHECK_EQ(h.base_sequence, -1);
    CHECK_EQ(h.records_count, 1);
    CHECK(rb_crc_ok(buf, &h));
    CHECK_EQ(rb_control_type(buf, (size_t)rr.len), RB_CONTROL_COMMIT);
    CHECK_EQ(rb_control_coordinator_epoch(buf, (size_t)rr.len), 3);
    plog_read_result_free(&rr);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_txn_unreplicated_marker_holds_lso)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    REQUIRE_EQ(tappend(l, 2, 7, 0, 0, true, &r), KERR_NONE);      /* 0-1, HW 2 */
    REQUIRE_EQ(plog_append_marker(l, 7, 0, true, 0, 0, T0, &r), KERR_NONE);   /* 2, HW stays 2 */
    CHECK_EQ(plog_high_watermark(l), 2);
    CHECK_EQ(plog_last_stable_offset(l), 0);                       /* TL8: marker not replicated */
    plog_set_high_watermark(l, 3);
    CHECK_EQ(plog_last_stable_offset(l), 3);
    plog_close(l);
    plog_unref(l);
}

/* A transactional batch of pid/epoch at seq through plog_append_verified. */
static int vappend(plog *l, int64_t pid, int16_t epoch, int32_t seq, uint64_t guard, plog_append_result *r)
{
    bb_record rec = { "k", 1, "v", 1, T0 };
    return append_batch(l, &rec, 1, pid, epoch, seq, true, true, guard, r);
}

/* TV1-TV3 (KIP-890 part 1): the guard of a standing verification opens the
 * transaction; no guard, a stale one, or one a marker cleared is refused
 * with nothing written; an open transaction needs none (0). */
TEST(storage_txn_verification_guard)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    plog_append_result r;
    CHECK_EQ(vappend(l, 7, 0, 0, 0, &r), KERR_INVALID_TXN_STATE);          /* TV3: the sentinel */
    uint64_t g = plog_txn_verify_start(l, 7, 0, T0);
    CHECK(g != 0);
    CHECK_EQ(plog_txn_verify_start(l, 7, 0, T0), g);                        /* shared while it stands */
    CHECK_EQ(vappend(l, 7, 0, 0, g + 1, &r), KERR_INVALID_TXN_STATE);      /* another guard */
    CHECK_EQ(plog_log_end_offset(l), 0);
    CHECK_EQ(vappend(l, 7, 0, 0, g, &r), KERR_NONE);                         /* TV1: opens it */
    CHECK_EQ(plog_txn_verify_start(l, 7, 0, T0), 0u);                        /* open: nothing to verify */
    CHECK_EQ(vappend(l, 7, 0, 1, 0, &r), KERR_NONE);
    CHECK_EQ(vappend(l, 7, 0, 2, g, &r), KERR_NONE);                         /* open: any guard */
    /* TV2: a verification, then the marker, then the append: refused */
    REQUIRE_EQ(plog_append_marker(l, 7, 0, false, 0, 0, T0, &r), KERR_NONE);
    uint64_t g2 = plog_txn_verify_start(l, 7, 0, T0);
    CHECK(g2 != 0 && g2 != g);
    REQUIRE_EQ(plog_append_marker(l, 7, 0, false, 0, 0, T0, &r), KERR_NONE);
    int64_t leo = plog_log_end_offset(l);
    CHECK_EQ(vappend(l, 7, 0, 3, g2, &r), KERR_INVALID_TXN_STATE);
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(pstate_get(&l->ps, 7)->txn_first_offset, -1);
    /* TV2: a verification expires with producer.id.expiration.ms */
    uint64_t g3 = plog_txn_verify_start(l, 7, 0, T0);
    CHECK_EQ(pstate_expire(&l->ps, T0 + cfg.producer_id_expiration_ms, cfg.producer_id_expiration_ms) >= 0, 1);
    CHECK(!pstate_verify_ok(&l->ps, 7, g3));
    /* the unverified appends are unchanged */
    CHECK_EQ(tappend(l, 1, 8, 0, 0, true, &r), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_txn_state_survives_restart_and_recovery_rebuilds_txnindex)
{
    log_config cfg;
    plog *l = fresh_small(&cfg, 300, false);
    REQUIRE(l);
    plog_append_result r;
    for (int i = 0; i < 6; i++) {                                  /* several segments with aborts */
        REQUIRE_EQ(tappend(l, 2, 7, 0, i * 2, true, &r), KERR_NONE);
        REQUIRE_EQ(marker(l, 7, 0, i % 2 == 1, 1, &r), KERR_NONE);
    }
    REQUIRE_EQ(tappend(l, 2, 9, 0, 0, true, &r), KERR_NONE);      /* left open */
    int64_t open_at = r.base_offset;
    CHECK(l->nsegs > 2);
    CHECK_EQ(txi_count(l), 3);
    CHECK_EQ(plog_last_stable_offset(l), open_at);
    plog_close(l);
    plog_unref(l);
    /* clean restart: the snapshot carries the open transaction */
    l = reopen_log(g_dir, &cfg, 1, -1);
    REQUIRE(l);
    CHECK_EQ(plog_last_stable_offset(l), open_at);
    CHECK_EQ(txi_count(l), 3);
    plog_unref(l);
    /* crash with every .txnindex gone and no snapshot: recovery rebuilds them */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -f %s/t-0/*.txnindex %s/t-0/*.snapshot", g_dir, g_dir);
    REQUIRE_EQ(system(cmd), 0);
    l = reopen_log(g_dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(txi_count(l), 3);
    plog_read_result rr;
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_COMMITTED, &rr), KERR_NONE);
    CHECK_EQ(rr.naborted, 1);                                      /* the first segment's range */
    if (rr.naborted)
        CHECK_EQ(rr.aborted[0].first_offset, 0);
    plog_read_result_free(&rr);
    plog_aborted *ab = NULL;
    int n = 0;
    REQUIRE_EQ(plog_aborted_txns(l, 0, open_at, &ab, &n), KERR_NONE);
    CHECK_EQ(n, 3);
    free(ab);
    CHECK_EQ(plog_last_stable_offset(l), open_at);                 /* replay reopened 9's txn */
    /* truncation below the last abort drops its entry and reopens nothing stale */
    int64_t leo_before = plog_log_end_offset(l);
    REQUIRE_EQ(plog_truncate_to(l, open_at - 1), KERR_NONE);       /* cuts the last marker (commit) */
    CHECK(plog_log_end_offset(l) < leo_before);
    CHECK_EQ(txi_count(l), 3);
    REQUIRE_EQ(plog_truncate_to(l, open_at - 4), KERR_NONE);       /* cuts the 5th (abort) marker */
    CHECK_EQ(txi_count(l), 2);
    CHECK_EQ(plog_last_stable_offset(l), open_at - 6);             /* its txn is open again */
    plog_close(l);
    plog_unref(l);
}

TEST(storage_txn_follower_markers)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    char fdir[600];
    snprintf(fdir, sizeof fdir, "%s/f", g_dir);
    REQUIRE_EQ(mkdir(fdir, 0755), 0);
    plog *f = new_log(fdir, &cfg);
    REQUIRE(f);
    plog_append_result r;
    REQUIRE_EQ(tappend(l, 2, 7, 0, 0, true, &r), KERR_NONE);
    REQUIRE_EQ(tappend(l, 1, 8, 0, 0, true, &r), KERR_NONE);
    REQUIRE_EQ(marker(l, 7, 0, false, 5, &r), KERR_NONE);
    plog_read_result rr;
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, PLOG_ISOLATION_LOG_END, &rr), KERR_NONE);
    REQUIRE(rr.file);
    uint8_t *buf = malloc((size_t)rr.len);
    REQUIRE_EQ(pread(rr.file->fd, buf, (size_t)rr.len, rr.file_pos), rr.len);
    REQUIRE_EQ(plog_append_follower(f, buf, (size_t)rr.len, T0, &r), KERR_NONE);
    plog_set_high_watermark(f, 3);
    CHECK_EQ(plog_last_stable_offset(f), 0);                       /* TL8: the marker at 3 is not below the HW */
    plog_set_high_watermark(f, 4);
    free(buf);
    plog_read_result_free(&rr);
    CHECK_EQ(txi_count(f), 1);
    const txn_index *t = segment_txn_index(f->segs[0]);
    REQUIRE(t && t->n == 1);
    CHECK_EQ(t->e[0].first_offset, 0);
    CHECK_EQ(t->e[0].last_offset, 3);
    CHECK_EQ(t->e[0].last_stable_offset, 2);
    CHECK_EQ(pstate_get(&f->ps, 7)->coordinator_epoch, 5);
    CHECK_EQ(plog_last_stable_offset(f), 2);                       /* HW 4, 8 open at 2 */
    plog_close(f);
    plog_unref(f);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_txn_coordinator_append_skips_sequences)
{
    log_config cfg;
    plog *l = fresh(&cfg);
    REQUIRE(l);
    bb_params p;
    bb_params_init(&p);
    p.producer_id = 42;
    p.producer_epoch = 3;
    p.base_sequence = 0;
    p.extra_attributes = RB_ATTR_TRANSACTIONAL;
    bb_record rec = { "k", 1, "v", 1, T0 };
    plog_append_result r;
    for (int i = 0; i < 3; i++) {                                  /* the same sequence each time: fine (TL6) */
        uint8_t *b = NULL;
        size_t len;
        REQUIRE_EQ(bb_build(&p, &rec, 1, &b, &len), KERR_NONE);
        CHECK_EQ(plog_append_coordinator(l, b, len, 0, T0, &r), KERR_NONE);
        CHECK(!r.duplicate);
        free(b);
    }
    p.producer_epoch = 2;                                          /* the epoch is checked */
    uint8_t *b = NULL;
    size_t len;
    REQUIRE_EQ(bb_build(&p, &rec, 1, &b, &len), KERR_NONE);
    CHECK_EQ(plog_append_coordinator(l, b, len, 0, T0, &r), KERR_INVALID_PRODUCER_EPOCH);
    free(b);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    CHECK_EQ(plog_last_stable_offset(l), 0);
    plog_close(l);
    plog_unref(l);
}

static void cnt_fn(void *c, const txn_aborted *x)
{
    (void)x;
    (*(int *)c)++;
}

TEST(storage_txn_index_format_and_torn_tail)
{
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/00000000000000000000.txnindex", dir);
    txn_index t;
    REQUIRE_EQ(txi_init(&t, path), 0);
    REQUIRE_EQ(txi_load(&t, 10), 0);                               /* missing = empty */
    CHECK_EQ(t.n, 0);
    txn_aborted a = { 0x0102030405060708LL, 10, 20, 21 };
    REQUIRE_EQ(txi_append(&t, &a), 0);
    a.first_offset = 30;
    a.last_offset = 40;
    a.last_stable_offset = 35;
    REQUIRE_EQ(txi_append(&t, &a), 0);
    uint8_t raw[TXI_ENTRY * 2 + 5];
    FILE *fp = fopen(path, "rb");
    REQUIRE(fp);
    CHECK_EQ(fread(raw, 1, sizeof raw, fp), (size_t)TXI_ENTRY * 2);
    fclose(fp);
    CHECK_EQ(raw[0], 0);
    CHECK_EQ(raw[1], 0);                                           /* version 0 */
    CHECK_EQ(raw[2], 1);
    CHECK_EQ(raw[9], 8);                                           /* producer id, big-endian */
    CHECK_EQ(raw[17], 10);                                         /* first offset */
    CHECK_EQ(raw[25], 20);                                         /* last offset */
    CHECK_EQ(raw[33], 21);                                         /* LSO */
    fp = fopen(path, "ab");                                        /* a torn append */
    fwrite("xyz", 1, 3, fp);
    fclose(fp);
    txi_free(&t);
    REQUIRE_EQ(txi_init(&t, path), 0);
    CHECK_EQ(txi_load(&t, 1), -1);                                 /* more than the segment could hold */
    REQUIRE_EQ(txi_load(&t, 10), 0);
    CHECK_EQ(t.n, 2);
    CHECK_EQ(file_size(path), TXI_ENTRY * 2);
    /* collect: overlap rule and completeness (Kafka's searchAbortedTransactions) */
    int cnt = 0;
    CHECK(txi_collect(&t, 0, 15, cnt_fn, &cnt));                   /* entry 1's LSO 21 >= 15 */
    CHECK_EQ(cnt, 1);
    cnt = 0;
    CHECK(!txi_collect(&t, 25, 100, cnt_fn, &cnt));
    CHECK_EQ(cnt, 1);
    REQUIRE_EQ(txi_truncate_to(&t, 40), 0);
    CHECK_EQ(t.n, 1);
    CHECK_EQ(file_size(path), TXI_ENTRY);
    txi_free(&t);
}


/* ---- compaction (TL16, TL17) ---- */

#include "storage/log_cleaner.h"

static int kv_append(plog *l, const char *k, const char *v, int64_t pid, int16_t epoch, int32_t seq, bool txn)
{
    bb_record rec = { k, (int32_t)strlen(k), v, (int32_t)strlen(v), T0 };
    plog_append_result r;
    return append_recs(l, &rec, 1, pid, epoch, seq, txn, &r);
}

/* The batch holding offset: header, and its first record's value (or ""). */
static int batch_at_off(plog *l, int64_t off, rb_header *h, char *val, size_t cap)
{
    plog_read_result rr;
    if (plog_read(l, off, 1, true, PLOG_ISOLATION_LOG_END, &rr) != KERR_NONE || !rr.file)
        return -1;
    uint8_t buf[512];
    size_t n = (size_t)rr.len < sizeof buf ? (size_t)rr.len : sizeof buf;
    int rc = pread(rr.file->fd, buf, n, rr.file_pos) == (ssize_t)n && rb_parse_header(buf, n, h) == KERR_NONE ? 0 : -1;
    val[0] = 0;
    if (rc == 0 && h->records_count > 0 && rb_size(h) <= n) {
        const uint8_t *q = buf + RB_HEADER_SIZE;
        rb_record r;
        if (rb_record_next(&q, buf + rb_size(h), h->base_timestamp, &r) == KERR_NONE && r.value) {
            size_t vl = (size_t)r.value_len < cap - 1 ? (size_t)r.value_len : cap - 1;
            memcpy(val, r.value, vl);
            val[vl] = 0;
        }
    }
    plog_read_result_free(&rr);
    return rc;
}

TEST(storage_txn_cleaner_drops_aborted_keeps_markers_until_empty)
{
    log_config cfg;
    plog *l = fresh_small(&cfg, 100, true);
    REQUIRE(l);                                                    /* a segment per batch */
    cfg.delete_retention_ms = 1000;
    plog_set_config(l, &cfg);
    plog_append_result r;
    REQUIRE_EQ(kv_append(l, "k1", "old1", -1, -1, -1, false), KERR_NONE);     /* 0 */
    REQUIRE_EQ(kv_append(l, "k1", "aborted", 7, 0, 0, true), KERR_NONE);      /* 1 */
    REQUIRE_EQ(marker(l, 7, 0, false, 0, &r), KERR_NONE);                     /* 2 */
    REQUIRE_EQ(kv_append(l, "k2", "committed", 8, 0, 0, true), KERR_NONE);    /* 3 */
    REQUIRE_EQ(marker(l, 8, 0, true, 0, &r), KERR_NONE);                      /* 4 */
    REQUIRE_EQ(kv_append(l, "k3", "z", -1, -1, -1, false), KERR_NONE);        /* 5 */
    REQUIRE_EQ(kv_append(l, "k9", "active", -1, -1, -1, false), KERR_NONE);   /* 6 */
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    REQUIRE(st.cleaned);
    rb_header h;
    char v[64];
    REQUIRE_EQ(batch_at_off(l, 0, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 0);                                    /* not superseded by aborted k1 */
    CHECK(!strcmp(v, "old1"));
    REQUIRE_EQ(batch_at_off(l, 1, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 1);                                    /* pid 7's last data batch: kept empty */
    CHECK_EQ(h.records_count, 0);
    REQUIRE_EQ(batch_at_off(l, 2, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 2);                                    /* the abort marker stays */
    CHECK(rb_is_control(&h));
    REQUIRE_EQ(batch_at_off(l, 3, &h, v, sizeof v), 0);
    CHECK(!strcmp(v, "committed"));
    REQUIRE_EQ(batch_at_off(l, 4, &h, v, sizeof v), 0);
    CHECK(rb_is_control(&h) && h.base_offset == 4);
    CHECK_EQ(txi_count(l), 1);                                     /* carried into the cleaned segment */
    plog_aborted *ab = NULL;
    int n = 0;
    REQUIRE_EQ(plog_aborted_txns(l, 0, 7, &ab, &n), KERR_NONE);
    REQUIRE_EQ(n, 1);
    CHECK_EQ(ab[0].producer_id, 7);
    free(ab);

    /* pid 7 moves on; the emptied batch goes at the next pass, the marker
     * then has no data left: a delete horizon, and after it, gone */
    REQUIRE_EQ(kv_append(l, "k7", "c", 7, 0, 1, true), KERR_NONE);           /* 7 */
    REQUIRE_EQ(marker(l, 7, 0, true, 0, &r), KERR_NONE);                      /* 8 */
    REQUIRE_EQ(kv_append(l, "k10", "x", -1, -1, -1, false), KERR_NONE);       /* 9 */
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    REQUIRE(st.cleaned);
    REQUIRE_EQ(batch_at_off(l, 1, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 2);                                    /* batch 1 gone */
    CHECK_EQ(h.attributes & RB_ATTR_DELETE_HORIZON, 0);            /* seen batch 1 this pass */
    REQUIRE_EQ(kv_append(l, "k11", "x", -1, -1, -1, false), KERR_NONE);       /* 10 */
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    REQUIRE_EQ(batch_at_off(l, 2, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 2);
    CHECK(h.attributes & RB_ATTR_DELETE_HORIZON);                  /* no data left: horizon set */
    CHECK_EQ(h.base_timestamp, T0 + 1000);
    CHECK_EQ(txi_count(l), 0);                                     /* no data left to filter */
    REQUIRE_EQ(kv_append(l, "k12", "x", -1, -1, -1, false), KERR_NONE);       /* 11 */
    REQUIRE_EQ(plog_clean(l, T0 + 500, &st), KERR_NONE);
    REQUIRE_EQ(batch_at_off(l, 2, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 2);                                    /* horizon not passed */
    REQUIRE_EQ(kv_append(l, "k13", "x", -1, -1, -1, false), KERR_NONE);       /* 12 */
    REQUIRE_EQ(plog_clean(l, T0 + 2000, &st), KERR_NONE);
    REQUIRE_EQ(batch_at_off(l, 2, &h, v, sizeof v), 0);
    CHECK_EQ(h.base_offset, 3);                                    /* the marker is gone */
    REQUIRE_EQ(batch_at_off(l, 4, &h, v, sizeof v), 0);
    CHECK(rb_is_control(&h) && h.base_offset == 4);                /* commit: its data is still there */
    plog_close(l);
    plog_unref(l);
}

TEST(storage_txn_cleaner_stops_at_lso)
{
    log_config cfg;
    plog *l = fresh_small(&cfg, 100, true);
    REQUIRE(l);
    REQUIRE_EQ(kv_append(l, "k1", "a", -1, -1, -1, false), KERR_NONE);        /* 0 */
    REQUIRE_EQ(kv_append(l, "k1", "open", 7, 0, 0, true), KERR_NONE);         /* 1: open txn */
    REQUIRE_EQ(kv_append(l, "k1", "b", -1, -1, -1, false), KERR_NONE);        /* 2 */
    REQUIRE_EQ(kv_append(l, "k1", "c", -1, -1, -1, false), KERR_NONE);        /* 3 */
    log_cleaner_info in;
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK_EQ(in.first_uncleanable_offset, 1);                      /* TL16: the LSO */
    plog_close(l);
    plog_unref(l);
}

/* A crash in the cleaner's swap: the load puts <base>.txnindex.swap in
 * place whether its .log is still *.swap or already renamed (the swap
 * renames the .txnindex last). */
TEST(storage_txn_index_swap_finished_on_load)
{
    for (int log_renamed = 0; log_renamed < 2; log_renamed++) {
        log_config cfg;
        plog *l = fresh_small(&cfg, 200, false);
        REQUIRE(l);
        plog_append_result r;
        REQUIRE_EQ(tappend(l, 2, 7, 0, 0, true, &r), KERR_NONE);
        REQUIRE_EQ(marker(l, 7, 0, false, 0, &r), KERR_NONE);
        for (int i = 0; i < 3; i++)
            REQUIRE_EQ(tappend(l, 1, -1, -1, -1, false, &r), KERR_NONE);
        CHECK(l->nsegs > 1);
        plog_close(l);
        plog_unref(l);
        char a[700], b[700];
        if (!log_renamed)
            REQUIRE_EQ(rename(seg_path(a, sizeof a, g_dir, 0, ".log"), seg_path(b, sizeof b, g_dir, 0, ".log.swap")), 0);
        REQUIRE_EQ(rename(seg_path(a, sizeof a, g_dir, 0, ".txnindex"),
                          seg_path(b, sizeof b, g_dir, 0, ".txnindex.swap")), 0);
        l = reopen_log(g_dir, &cfg, 1, -1);
        REQUIRE(l);
        struct stat st;
        CHECK_EQ(stat(seg_path(a, sizeof a, g_dir, 0, ".txnindex"), &st), 0);
        CHECK(stat(seg_path(a, sizeof a, g_dir, 0, ".txnindex.swap"), &st) != 0);
        plog_aborted *ab = NULL;
        int n = 0;
        REQUIRE_EQ(plog_aborted_txns(l, 0, plog_log_end_offset(l), &ab, &n), KERR_NONE);
        CHECK_EQ(n, 1);
        free(ab);
        plog_close(l);
        plog_unref(l);
    }
}

/* ---- a random walk against a model ----
 * Producers 1..4 write transactional and plain batches, markers commit or
 * abort at random, the HW lags the LEO at random, segments are small, and
 * the log is closed or crashed and reloaded now and then.  After every
 * step: the LSO and the aborted list from the .txnindex files equal the
 * model's (Kafka's rules, computed from scratch). */

typedef struct mtxn {
    int64_t pid, first, marker;   /* marker -1: open */
    bool abort;
} mtxn;

typedef struct walk {
    mtxn t[4096];
    int n;
    int64_t open_first[5];        /* per pid: first offset of its open txn, -1 */
    int32_t seq[5];
} walk;

static void dump_producer(void *ctx, const plog_producer_info *p)
{
    (void)ctx;
    fprintf(stderr, "    producer %lld epoch %d txn %lld\n", (long long)p->producer_id, p->producer_epoch,
            (long long)p->current_txn_start_offset);
}

static int64_t model_lso(const walk *w, int64_t hw)
{
    int64_t lso = hw;
    for (int i = 0; i < w->n; i++) {
        const mtxn *t = &w->t[i];
        if ((t->marker < 0 || t->marker >= hw) && t->first < lso)
            lso = t->first;
    }
    return lso;
}

static int cmp_ab(const void *a, const void *b)
{
    const plog_aborted *x = a, *y = b;
    return x->first_offset < y->first_offset ? -1 : x->first_offset > y->first_offset;
}

TEST(storage_txn_random_walk_matches_model)
{
    log_config cfg;
    plog *l = fresh_small(&cfg, 400, false);
    REQUIRE(l);
    static walk w;
    memset(&w, 0, sizeof w);
    for (int p = 0; p < 5; p++)
        w.open_first[p] = -1;
    unsigned seed = 12345;
    plog_append_result r;
    int steps = 0, restarts = 0, aborts = 0, truncations = 0;
    int64_t pid_base = 0;
    for (int step = 0; step < 700 && w.n < 4000; step++) {
        int op = (int)(rand_r(&seed) % 100);
        int slot = 1 + (int)(rand_r(&seed) % 4);
        int64_t pid = pid_base + slot;
        int64_t leo = plog_log_end_offset(l);
        if (op < 45) {                                             /* transactional data */
            int n = 1 + (int)(rand_r(&seed) % 3);
            bb_params p;
            bb_params_init(&p);
            p.producer_id = pid;
            p.producer_epoch = 0;
            p.base_sequence = w.seq[slot];
            p.extra_attributes = RB_ATTR_TRANSACTIONAL;
            bb_record rec[3];
            for (int i = 0; i < n; i++)
                rec[i] = (bb_record){ "k", 1, "v", 1, T0 };
            uint8_t *b = NULL;
            size_t len;
            REQUIRE_EQ(bb_build(&p, rec, n, &b, &len), KERR_NONE);
            REQUIRE_EQ(plog_append(l, b, len, 0, T0, &r), KERR_NONE);
            free(b);
            w.seq[slot] += n;
            if (w.open_first[slot] < 0) {
                w.open_first[slot] = r.base_offset;
                w.t[w.n++] = (mtxn){ pid, r.base_offset, -1, false };
            }
        } else if (op < 55) {                                      /* plain data, no producer */
            REQUIRE_EQ(tappend(l, 1, -1, -1, -1, false, &r), KERR_NONE);
        } else if (op < 80) {                                      /* a marker */
            bool commit = rand_r(&seed) % 2;
            REQUIRE_EQ(plog_append_marker(l, pid, 0, commit, 0, 0, T0, &r), KERR_NONE);
            int k = -1;
            for (int i = 0; i < w.n; i++)
                if (w.t[i].pid == pid && w.t[i].marker < 0)
                    k = i;
            if (k < 0)                                             /* no open txn: [marker, marker] */
                w.t[k = w.n++] = (mtxn){ pid, r.base_offset, -1, false };
            w.t[k].marker = r.base_offset;
            w.t[k].abort = !commit;
            aborts += !commit;
            w.open_first[slot] = -1;
        } else if (op < 97) {                                      /* HW catches up, partly or fully */
            int64_t hw = plog_high_watermark(l);
            plog_set_high_watermark(l, hw + (int64_t)(rand_r(&seed) % (uint64_t)(leo - hw + 1)));
        } else if (op < 98) {                                      /* truncation (a follower) */
            int64_t hw0 = plog_high_watermark(l);
            int64_t to = hw0 + (int64_t)(rand_r(&seed) % (uint64_t)(leo - hw0 + 1));
            /* the HW at the target first: the rebuilt state may start from a
             * snapshot above markers that were not below the HW (TL8's gap) */
            plog_set_high_watermark(l, to);
            REQUIRE_EQ(plog_truncate_to(l, to), KERR_NONE);
            int64_t end = plog_log_end_offset(l);
            int k = 0;
            for (int i = 0; i < w.n; i++) {
                mtxn t = w.t[i];
                if (t.first >= end)
                    continue;                                      /* gone */
                if (t.marker >= end) {
                    t.marker = -1;                                 /* its marker was cut: open again */
                    t.abort = false;
                }
                w.t[k++] = t;
            }
            w.n = k;
            /* sequences of the cut producers are unknown here: new producer
             * ids from now on; the old open transactions are aborted */
            for (int i = 0; i < w.n; i++)
                if (w.t[i].marker < 0) {
                    REQUIRE_EQ(plog_append_marker(l, w.t[i].pid, 0, false, 0, 0, T0, &r), KERR_NONE);
                    w.t[i].marker = r.base_offset;
                    w.t[i].abort = true;
                }
            pid_base += 10;
            memset(w.seq, 0, sizeof w.seq);
            for (int p = 0; p < 5; p++)
                w.open_first[p] = -1;
            truncations++;
        } else {                                                   /* restart: clean or crash */
            /* With the HW at the LEO: like Kafka, a load does not know which
             * completed transactions had their marker above the HW (the
             * producer snapshot at the LEO does not carry them). */
            bool clean = rand_r(&seed) % 2;
            plog_set_high_watermark(l, leo);
            int64_t hw = plog_high_watermark(l);
            if (clean)
                plog_close(l);
            plog_unref(l);
            char path[600];
            snprintf(path, sizeof path, "%s/t-0", g_dir);
            plog_load_params lp = { clean, clean ? -1 : 0, -1, T0, true, hw };
            l = NULL;
            REQUIRE_EQ(plog_load(path, "t", 0, &cfg, &lp, &l), KERR_NONE);
            restarts++;
        }
        steps++;
        int64_t hw = plog_high_watermark(l);
        int64_t want = model_lso(&w, hw);
        int64_t got = plog_last_stable_offset(l);
        if (got != want) {
            CHECK_EQ(got, want);
            fprintf(stderr, "    step %d op %d: LSO %lld, model %lld (HW %lld, LEO %lld)\n", step, op,
                    (long long)got, (long long)want, (long long)hw, (long long)plog_log_end_offset(l));
            for (int i = 0; i < w.n; i++)
                if (w.t[i].marker < 0 || w.t[i].marker >= hw)
                    fprintf(stderr, "    model: pid %lld first %lld marker %lld\n", (long long)w.t[i].pid,
                            (long long)w.t[i].first, (long long)w.t[i].marker);
            for (int i = 0; i < l->nunrepl; i++)
                fprintf(stderr, "    unrepl: %lld..%lld\n", (long long)l->unrepl[i].first, (long long)l->unrepl[i].last);
            plog_foreach_producer(l, dump_producer, NULL);
            break;
        }
        /* the aborted list over the whole log, and over a random range */
        plog_aborted *ab = NULL;
        int n = 0;
        int64_t from = (int64_t)(rand_r(&seed) % (uint64_t)(plog_log_end_offset(l) + 1));
        REQUIRE_EQ(plog_aborted_txns(l, from, plog_log_end_offset(l) + 1, &ab, &n), KERR_NONE);
        if (n > 1)
            qsort(ab, (size_t)n, sizeof *ab, cmp_ab);
        int m = 0;
        bool same = true;
        for (int i = 0; i < w.n; i++) {
            const mtxn *t = &w.t[i];
            if (!t->abort || t->marker < from)
                continue;
            if (m >= n || ab[m].producer_id != t->pid || ab[m].first_offset != t->first)
                same = false;
            m++;
        }
        if (!same || m != n) {
            CHECK(same && m == n);
            fprintf(stderr, "    step %d: %d aborted from %lld, model %d\n", step, n, (long long)from, m);
            free(ab);
            break;
        }
        free(ab);
    }
    fprintf(stderr, "    %d steps, %d restarts, %d truncations, %d aborts, %d segments, LEO %lld\n", steps,
            restarts, truncations, aborts, plog_segment_count(l), (long long)plog_log_end_offset(l));
    CHECK(restarts > 5 && truncations > 3 && aborts > 40);
    plog_close(l);
    plog_unref(l);
}
