/* test_storage_repl.c - the storage seam replication needs: follower
 * appends, the high watermark and its checkpoint, the leader-epoch cache,
 * OffsetForLeaderEpoch answers and truncation (docs/storage-format.md §11). */
#include "test.h"
#include "test_storage_util.h"

#include <sys/wait.h>

#include "test_storage_int.h"

#include "core/clock.h"
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

/* Append one batch of n records from producer pid (seq) as a leader in `epoch`. */
static int lead_append_pid(plog *l, int n, int32_t epoch, int64_t pid, int32_t seq)
{
    size_t len;
    uint8_t *b = mkbatch_ex(n, T0, 1, RB_CODEC_NONE, pid, 0, seq, 0, &len);
    plog_append_result r;
    int e = plog_append(l, b, len, epoch, T0, &r);
    free(b);
    return e;
}

/* Every byte of the log from `from` to the LEO, as a replica fetch reads it
 * (whole batches, segment after segment).  Malloc'd; *len set. */
static uint8_t *log_bytes(plog *l, int64_t from, size_t *len)
{
    uint8_t *out = NULL;
    *len = 0;
    for (int64_t off = from; off < plog_log_end_offset(l);) {
        plog_read_result r;
        if (plog_read(l, off, 1 << 20, true, PLOG_ISOLATION_LOG_END, &r) != KERR_NONE || !r.file)
            break;
        uint8_t *n = realloc(out, *len + (size_t)r.len);
        if (!n || pread(r.file->fd, n + *len, (size_t)r.len, r.file_pos) != r.len) {
            fileref_unref(r.file);
            free(n ? n : out);
            return NULL;
        }
        fileref_unref(r.file);
        out = n;
        /* next offset: after the last whole batch read */
        size_t p = *len;
        *len += (size_t)r.len;
        rb_header h;
        while (p < *len && rb_parse_header(out + p, *len - p, &h) == KERR_NONE && rb_size(&h) <= *len - p) {
            off = rb_last_offset(&h) + 1;
            p += rb_size(&h);
        }
        *len = p;
    }
    return out;
}

/* The epoch cache holds exactly want[0..n). */
#define lec_expect(...) lec_expect_at(__LINE__, __VA_ARGS__)
static void lec_expect_at(int line, plog *l, const lec_entry *want, int n)
{
    pthread_rwlock_rdlock(&l->lock);
    bool same = l->lec.n == n;
    for (int i = 0; same && i < n; i++)
        same = l->lec.e[i].epoch == want[i].epoch && l->lec.e[i].start_offset == want[i].start_offset;
    if (!same) {
        char got[256] = "";
        for (int i = 0; i < l->lec.n && strlen(got) < 200; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " (%d,%lld)", l->lec.e[i].epoch,
                     (long long)l->lec.e[i].start_offset);
        test_fail(__FILE__, line, "epoch cache is%s, want %d entries", got, n);
    }
    pthread_rwlock_unlock(&l->lock);
}

typedef struct pid_seen { int64_t pid; int16_t epoch; int32_t last_seq; } pid_seen;
static void see_pid(void *ctx, const plog_producer_info *p)
{
    pid_seen *s = ctx;
    if (p->producer_id == s->pid) {
        s->epoch = p->producer_epoch;
        s->last_seq = p->last_sequence;
    }
}

/* ---------------------------------------------------------------- follower append */

/* A leader with batches in epochs 1, 1, 3 (the middle one idempotent). */
static plog *mixed_epoch_leader(log_config *cfg)
{
    plog *ld = new_log(test_tmpdir(), cfg);
    if (!ld || lead_append(ld, 3, 1) || lead_append_pid(ld, 2, 1, 77, 0) || lead_append(ld, 4, 3) ||
        lead_append_pid(ld, 1, 3, 77, 2))
        return NULL;
    plog_set_high_watermark(ld, plog_log_end_offset(ld));
    return ld;
}

TEST(storage_repl_follower_append_keeps_offsets_and_epochs)
{
    log_config cfg;
    test_cfg(&cfg);
    plog *ld = mixed_epoch_leader(&cfg);
    REQUIRE(ld);
    REQUIRE_EQ(plog_log_end_offset(ld), 10);
    size_t len;
    uint8_t *bytes = log_bytes(ld, 0, &len);
    REQUIRE(bytes);
    uint8_t *copy = malloc(len);
    memcpy(copy, bytes, len);

    plog *f = new_log(test_tmpdir(), &cfg);
    REQUIRE(f);
    plog_append_result ar;
    REQUIRE_EQ(plog_append_follower(f, bytes, len, T0, &ar), KERR_NONE);
    CHECK(memcmp(bytes, copy, len) == 0);          /* nothing rewritten */
    CHECK_EQ(ar.base_offset, 0);
    CHECK_EQ(ar.last_offset, 9);
    CHECK_EQ(ar.record_count, 10);
    CHECK_EQ(ar.end_offset, 10);
    CHECK_EQ(plog_log_end_offset(f), 10);
    CHECK_EQ(plog_high_watermark(f), 0);           /* the caller moves the HW */
    size_t flen;
    uint8_t *fb = log_bytes(f, 0, &flen);
    REQUIRE(fb);
    CHECK_EQ(flen, len);
    CHECK(flen == len && memcmp(fb, copy, len) == 0);   /* byte for byte the leader's log */
    free(fb);
    lec_expect(f, (lec_entry[]){ { 1, 0 }, { 3, 5 } }, 2);
    /* producer state came along: the follower, made leader, knows pid 77 */
    pid_seen ps = { 77, -1, -1 };
    plog_foreach_producer(f, see_pid, &ps);
    CHECK_EQ(ps.epoch, 0);
    CHECK_EQ(ps.last_seq, 2);
    /* ...and as the new leader (epoch 4) it rejects that producer's gap */
    size_t bl;
    uint8_t *b = mkbatch_ex(1, T0, 1, RB_CODEC_NONE, 77, 0, 9, 0, &bl);
    CHECK_EQ(plog_append(f, b, bl, 4, T0, &ar), KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    free(b);
    /* the leader's next append continues at the same offset on both */
    REQUIRE_EQ(lead_append(f, 2, 4), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(f), 12);
    lec_expect(f, (lec_entry[]){ { 1, 0 }, { 3, 5 }, { 4, 10 } }, 3);
    free(bytes);
    free(copy);
    plog_close(ld);
    plog_unref(ld);
    plog_close(f);
    plog_unref(f);
}

TEST(storage_repl_follower_append_refuses_overlap_and_disorder)
{
    log_config cfg;
    test_cfg(&cfg);
    plog *ld = mixed_epoch_leader(&cfg);
    REQUIRE(ld);
    size_t len;
    uint8_t *bytes = log_bytes(ld, 0, &len);
    REQUIRE(bytes);
    rb_header h1, h2;
    REQUIRE(rb_parse_header(bytes, len, &h1) == KERR_NONE);          /* offsets 0..2 */
    size_t s1 = rb_size(&h1);
    REQUIRE(rb_parse_header(bytes + s1, len - s1, &h2) == KERR_NONE); /* 3..4 */
    size_t s2 = rb_size(&h2);

    plog *f = new_log(test_tmpdir(), &cfg);
    REQUIRE(f);
    plog_append_result ar;
    REQUIRE_EQ(plog_append_follower(f, bytes, s1 + s2, T0, &ar), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(f), 5);
    /* overlap: the same batches again (first offset 0 < LEO 5) */
    CHECK_EQ(plog_append_follower(f, bytes, s1 + s2, T0, &ar), KERR__APPEND_OFFSET);
    /* overlap inside: a batch at the LEO, then one going back */
    size_t rest = len - s1 - s2;
    uint8_t *bad = malloc(rest + s1);
    memcpy(bad, bytes + s1 + s2, rest);
    memcpy(bad + rest, bytes, s1);
    CHECK_EQ(plog_append_follower(f, bad, rest + s1, T0, &ar), KERR__OFFSETS_OUT_OF_ORDER);
    /* a corrupt batch (flipped payload byte: CRC mismatch) */
    memcpy(bad, bytes + s1 + s2, rest);
    bad[rest - 1] ^= 0x40;
    CHECK_EQ(plog_append_follower(f, bad, rest, T0, &ar), KERR_CORRUPT_MESSAGE);
    /* a bad magic */
    memcpy(bad, bytes + s1 + s2, rest);
    bad[RB_OFF_MAGIC] = 1;
    CHECK(plog_append_follower(f, bad, rest, T0, &ar) != KERR_NONE);
    /* none of those touched the log */
    CHECK_EQ(plog_log_end_offset(f), 5);
    size_t flen;
    uint8_t *fb = log_bytes(f, 0, &flen);
    REQUIRE(fb);
    CHECK(flen == s1 + s2 && memcmp(fb, bytes, flen) == 0);
    free(fb);
    /* a trailing partial batch (fetch cut by max_bytes) is left out */
    REQUIRE_EQ(plog_append_follower(f, bytes + s1 + s2, rest - 7, T0, &ar), KERR_NONE);
    CHECK(ar.last_offset < 9);
    CHECK_EQ(plog_log_end_offset(f), ar.last_offset + 1);
    int64_t leo = plog_log_end_offset(f);
    rb_header hl;
    size_t off = 0;
    while (rb_parse_header(bytes + off, len - off, &hl) == KERR_NONE && hl.base_offset < leo)
        off += rb_size(&hl);
    REQUIRE_EQ(plog_append_follower(f, bytes + off, len - off, T0, &ar), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(f), 10);
    fb = log_bytes(f, 0, &flen);
    REQUIRE(fb);
    CHECK(flen == len && memcmp(fb, bytes, len) == 0);
    free(fb);
    /* empty: nothing to do */
    CHECK_EQ(plog_append_follower(f, bytes, 0, T0, &ar), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(f), 10);
    free(bad);
    free(bytes);
    plog_close(ld);
    plog_unref(ld);
    plog_close(f);
    plog_unref(f);
}

TEST(storage_repl_follower_append_gap_from_compacted_leader)
{
    /* Kafka keeps a gap above the LEO (a compacted leader's offsets): the
     * LEO jumps past it and reads in the gap return the next batch. */
    log_config cfg;
    test_cfg(&cfg);
    plog *f = new_log(test_tmpdir(), &cfg);
    REQUIRE(f);
    REQUIRE_EQ(lead_append(f, 3, 2), KERR_NONE);
    size_t len;
    uint8_t *b = mkbatch(2, T0, &len);
    rb_set_base_offset(b, 20);
    rb_set_leader_epoch(b, 5);                     /* the CRC does not cover these fields */
    plog_append_result ar;
    REQUIRE_EQ(plog_append_follower(f, b, len, T0, &ar), KERR_NONE);
    CHECK_EQ(ar.base_offset, 20);
    CHECK_EQ(plog_log_end_offset(f), 22);
    lec_expect(f, (lec_entry[]){ { 2, 0 }, { 5, 20 } }, 2);
    plog_read_result r;
    REQUIRE_EQ(plog_read(f, 10, 1 << 20, true, PLOG_ISOLATION_LOG_END, &r), KERR_NONE);
    REQUIRE(r.file);
    uint8_t hdr[RB_HEADER_SIZE];
    REQUIRE(pread(r.file->fd, hdr, sizeof hdr, r.file_pos) == (ssize_t)sizeof hdr);
    rb_header h;
    REQUIRE(rb_parse_header(hdr, sizeof hdr, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, 20);
    fileref_unref(r.file);
    /* a gap wider than a segment's relative offsets: a new segment at the batch */
    rb_set_base_offset(b, 22 + (int64_t)INT32_MAX + 100);
    REQUIRE_EQ(plog_append_follower(f, b, len, T0, &ar), KERR_NONE);
    CHECK_EQ(plog_segment_count(f), 2);
    CHECK_EQ(plog_log_end_offset(f), 22 + (int64_t)INT32_MAX + 102);
    REQUIRE_EQ(plog_read(f, 30, 1 << 20, true, PLOG_ISOLATION_LOG_END, &r), KERR_NONE);
    REQUIRE(r.file);
    REQUIRE(pread(r.file->fd, hdr, sizeof hdr, r.file_pos) == (ssize_t)sizeof hdr);
    REQUIRE(rb_parse_header(hdr, sizeof hdr, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, 22 + (int64_t)INT32_MAX + 100);
    fileref_unref(r.file);
    plog_close(f);
    plog_unref(f);
    /* the same on an empty log: its empty active segment cannot index it */
    f = new_log(test_tmpdir(), &cfg);
    REQUIRE(f);
    rb_set_base_offset(b, (int64_t)INT32_MAX + 5);
    REQUIRE_EQ(plog_append_follower(f, b, len, T0, &ar), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(f), (int64_t)INT32_MAX + 7);
    CHECK_EQ(plog_segment_count(f), 2);
    REQUIRE_EQ(plog_close(f), KERR_NONE);
    plog_unref(f);
    free(b);
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

/* ---------------------------------------------------------------- epoch cache */

/* A log with epochs 1 (offsets 0-4), 3 (5-9) and 6 (10-11): LEO 12. */
static plog *three_epochs(const char *dir, const log_config *cfg)
{
    plog *l = new_log(dir, cfg);
    if (!l || lead_append(l, 5, 1) || lead_append(l, 2, 3) || lead_append(l, 3, 3) || lead_append(l, 2, 6))
        return NULL;
    plog_set_high_watermark(l, plog_log_end_offset(l));
    return l;
}

static const char *plog_dir_path(char *buf, size_t cap, const char *dir)
{
    snprintf(buf, cap, "%s/t-0", dir);
    return buf;
}

static const lec_entry three[] = { { 1, 0 }, { 3, 5 }, { 6, 10 } };

TEST(storage_repl_epoch_cache_appends_restart_truncation)
{
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = three_epochs(dir, &cfg);
    REQUIRE(l);
    lec_expect(l, three, 3);                       /* one entry per new epoch, at its first offset */
    REQUIRE_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
    /* the file, in Kafka's format */
    char path[700], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/t-0/%s", dir, LEADER_EPOCH_FILE);
    REQUIRE(sio_read_file(path, 4096, &text, &len) == 0);
    CHECK_STR(text, "0\n3\n1 0\n3 5\n6 10\n");
    free(text);

    /* clean restart: read back */
    REQUIRE((l = reopen_log(dir, &cfg, 1, -1)));
    lec_expect(l, three, 3);
    plog_unref(l);
    /* unclean restart without the file: rebuilt from the batch headers */
    REQUIRE(unlink(path) == 0);
    REQUIRE((l = reopen_log(dir, &cfg, 0, 0)));
    lec_expect(l, three, 3);
    plog_unref(l);
    /* a file that names epochs past the log's end: trimmed at load */
    const char *stale = "0\n4\n1 0\n3 5\n6 10\n9 40\n";
    REQUIRE(sio_write_file_atomic(plog_dir_path(path, sizeof path, dir), LEADER_EPOCH_FILE, stale,
                                  strlen(stale), true) == 0);
    REQUIRE((l = reopen_log(dir, &cfg, 1, -1)));
    lec_expect(l, three, 3);

    /* truncation trims the end: to 7 keeps (1,0) (3,5); to 5 keeps (1,0) */
    REQUIRE_EQ(plog_truncate_to(l, 7), KERR_NONE);
    lec_expect(l, three, 2);
    REQUIRE_EQ(plog_truncate_to(l, 5), KERR_NONE);
    lec_expect(l, three, 1);
    /* a new epoch after truncation starts at the new end */
    REQUIRE_EQ(lead_append(l, 1, 7), KERR_NONE);
    lec_expect(l, (lec_entry[]){ { 1, 0 }, { 7, 5 } }, 2);
    /* an older epoch never adds an entry (S4) */
    REQUIRE_EQ(lead_append(l, 1, 2), KERR_NONE);
    lec_expect(l, (lec_entry[]){ { 1, 0 }, { 7, 5 } }, 2);
    /* becoming leader records the epoch at the LEO */
    plog_assign_leader_epoch(l, 9);
    plog_assign_leader_epoch(l, 8);
    lec_expect(l, (lec_entry[]){ { 1, 0 }, { 7, 5 }, { 9, 7 } }, 3);
    /* a log-start move trims the front: the epoch holding it starts there */
    plog_set_high_watermark(l, plog_log_end_offset(l));
    int64_t start;
    REQUIRE_EQ(plog_delete_records(l, 6, &start), KERR_NONE);
    lec_expect(l, (lec_entry[]){ { 7, 6 }, { 9, 7 } }, 2);
    REQUIRE_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
    /* Reloaded, an entry starting at the LEO (epoch 9 wrote nothing) is
     * dropped as Kafka's load does (truncateFromEnd(LEO)); the leader
     * assigns it again when it becomes leader. */
    REQUIRE((l = reopen_log(dir, &cfg, 1, -1)));
    lec_expect(l, (lec_entry[]){ { 7, 6 } }, 1);
    plog_unref(l);
}

/* ---------------------------------------------------------------- OffsetForLeaderEpoch */

static void expect_end(plog *l, int32_t asked, int32_t leader_epoch, int32_t want_epoch, int64_t want_end)
{
    int32_t ep;
    int64_t end;
    plog_epoch_end_offset(l, asked, leader_epoch, &ep, &end);
    if (ep != want_epoch || end != want_end)
        test_fail(__FILE__, __LINE__, "epoch %d (leader %d): got (%d, %lld), want (%d, %lld)", asked,
                  leader_epoch, ep, (long long)end, want_epoch, (long long)want_end);
}

TEST(storage_repl_offset_for_leader_epoch)
{
    /* Expected values are Kafka's (KIP-101, KIP-279; LeaderEpochFileCache
     * .endOffsetFor): the latest epoch ends at the LEO; otherwise the
     * answer is the largest epoch <= the requested one with the start
     * offset of the next higher epoch; an epoch older than every known one
     * answers itself with the first known start offset; an epoch newer than
     * every known one, or -1, answers UNDEFINED (-1, -1). */
    const char *dir = test_tmpdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = three_epochs(dir, &cfg);             /* (1,0) (3,5) (6,10), LEO 12 */
    REQUIRE(l);
    expect_end(l, -1, -1, -1, -1);                 /* UNDEFINED asked */
    expect_end(l, 0, -1, 0, 0);                    /* before the cache */
    expect_end(l, 1, -1, 1, 5);                    /* inside */
    expect_end(l, 2, -1, 1, 5);                    /* a gap between epochs: the one below */
    expect_end(l, 3, -1, 3, 10);
    expect_end(l, 5, -1, 3, 10);
    expect_end(l, 6, -1, 6, 12);                   /* the latest: the LEO */
    expect_end(l, 7, -1, -1, -1);                  /* after the cache */
    /* the partition's current epoch 8, nothing written in it yet */
    expect_end(l, 6, 8, 6, 12);
    expect_end(l, 7, 8, 6, 12);
    expect_end(l, 8, 8, 8, 12);
    expect_end(l, 9, 8, -1, -1);
    expect_end(l, 6, 6, 6, 12);                    /* the current epoch is the cache's latest */
    /* after a restart: the same answers */
    REQUIRE_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
    REQUIRE((l = reopen_log(dir, &cfg, 0, 0)));
    expect_end(l, 2, -1, 1, 5);
    expect_end(l, 6, -1, 6, 12);
    /* after truncation to 7: epoch 6 is gone, 3 is the latest */
    REQUIRE_EQ(plog_truncate_to(l, 7), KERR_NONE);
    expect_end(l, 3, -1, 3, 7);
    expect_end(l, 6, -1, -1, -1);
    expect_end(l, 0, -1, 0, 0);
    /* after the log start moves to 6: the first epoch starts there */
    plog_set_high_watermark(l, plog_log_end_offset(l));
    int64_t start;
    REQUIRE_EQ(plog_delete_records(l, 6, &start), KERR_NONE);
    expect_end(l, 1, -1, 1, 6);                    /* older than (3,6): itself, the first start */
    expect_end(l, 3, -1, 3, 7);
    plog_close(l);
    plog_unref(l);

    /* an empty log: UNDEFINED, unless the current leader epoch is asked */
    l = new_log(test_tmpdir(), &cfg);
    REQUIRE(l);
    expect_end(l, 0, -1, -1, -1);
    expect_end(l, 0, 0, 0, 0);
    expect_end(l, 1, 0, -1, -1);
    plog_close(l);
    plog_unref(l);
}

/* ---------------------------------------------------------------- truncation */

/* One step of the script shared by the truncation tests: n records, as
 * producer pid (or none when pid < 0) in producer epoch pe from sequence
 * seq, written by the leader in `epoch`, with timestamps from now + ts0. */
typedef struct step { int n; int32_t epoch; int64_t pid; int16_t pe; int32_t seq; int64_t ts0; } step;

static int run_steps(plog *l, const step *st, int n)
{
    /* Producer state is rebuilt with the wall clock as "now" (expiry), so
     * the records are recent; the same base keeps both logs' bytes equal. */
    static int64_t base;
    if (!base)
        base = wall_ms();
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *b = mkbatch_ex(st[i].n, base + st[i].ts0, 1, RB_CODEC_NONE, st[i].pid, st[i].pe, st[i].seq, 40, &len);
        plog_append_result r;
        int e = b ? plog_append(l, b, len, st[i].epoch, T0, &r) : KERR__NOMEM;
        free(b);
        if (e)
            return e;
    }
    plog_set_high_watermark(l, plog_log_end_offset(l));
    return KERR_NONE;
}

/* Kept: 0-2 (epoch 1, pid 5 seq 0-2), 3-5 (epoch 1), 6-7 (epoch 2, pid 5
 * seq 3-4).  The tail: 8-10 (epoch 3, pid 5 bumped to producer epoch 1),
 * 11-12 (epoch 3, pid 6).  Segments of 400 bytes: a roll every batch or two. */
static const step kept[] = {
    { 3, 1, 5, 0, 0, 0 }, { 3, 1, -1, 0, -1, 10 }, { 2, 2, 5, 0, 3, 20 },
};
static const step tail[] = { { 3, 3, 5, 1, 0, 30 }, { 2, 3, 6, 0, 0, 40 } };
static const step other[] = { { 4, 4, 5, 0, 5, 50 }, { 1, 4, 7, 0, 0, 60 } };

static void small_segments(log_config *cfg)
{
    test_cfg(cfg);
    cfg->segment_bytes = 400;
}

/* The log's bytes equal those of a fresh log that ran `a` then `b`. */
static void expect_same_log(plog *l, const step *a, int na, const step *b, int nb)
{
    log_config cfg;
    small_segments(&cfg);
    plog *ref = new_log(test_tmpdir(), &cfg);
    REQUIRE(ref);
    REQUIRE_EQ(run_steps(ref, a, na), KERR_NONE);
    REQUIRE_EQ(run_steps(ref, b, nb), KERR_NONE);
    size_t la, lb;
    uint8_t *x = log_bytes(l, 0, &la), *y = log_bytes(ref, 0, &lb);
    CHECK_EQ(plog_log_end_offset(l), plog_log_end_offset(ref));
    CHECK_EQ(la, lb);
    CHECK(x && y && la == lb && memcmp(x, y, la) == 0);
    CHECK_EQ(plog_segment_count(l), plog_segment_count(ref));
    free(x);
    free(y);
    plog_close(ref);
    plog_unref(ref);
}

TEST(storage_repl_truncate_then_reappend_matches_a_log_without_the_tail)
{
    char dir[512];                   /* test_tmpdir() reuses its buffer */
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    log_config cfg;
    small_segments(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    REQUIRE_EQ(run_steps(l, kept, 3), KERR_NONE);
    REQUIRE_EQ(run_steps(l, tail, 2), KERR_NONE);
    REQUIRE_EQ(plog_log_end_offset(l), 13);
    REQUIRE(plog_segment_count(l) >= 3);
    REQUIRE_EQ(plog_flush(l), KERR_NONE);
    CHECK_EQ(plog_recovery_point(l), 13);

    REQUIRE_EQ(plog_truncate_to(l, 8), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(l), 8);
    CHECK_EQ(plog_high_watermark(l), 8);           /* min(HW, new end) */
    CHECK_EQ(plog_recovery_point(l), 8);
    lec_expect(l, (lec_entry[]){ { 1, 0 }, { 2, 6 } }, 2);
    /* producer state as the kept batches left it: pid 5 back in producer
     * epoch 0 at sequence 4; pid 6 (only in the tail) gone */
    pid_seen p5 = { 5, -1, -1 }, p6 = { 6, -1, -1 };
    plog_foreach_producer(l, see_pid, &p5);
    plog_foreach_producer(l, see_pid, &p6);
    CHECK_EQ(p5.epoch, 0);
    CHECK_EQ(p5.last_seq, 4);
    CHECK_EQ(p6.epoch, -1);
    /* reads stop at the new end */
    plog_read_result r;
    CHECK_EQ(plog_read(l, 9, 100, true, PLOG_ISOLATION_LOG_END, &r), KERR_OFFSET_OUT_OF_RANGE);
    /* the producer continues where the kept log left it */
    REQUIRE_EQ(run_steps(l, other, 2), KERR_NONE);
    expect_same_log(l, kept, 3, other, 2);
    lec_expect(l, (lec_entry[]){ { 1, 0 }, { 2, 6 }, { 4, 8 } }, 3);

    /* and after restarts, clean and unclean */
    for (int clean = 1; clean >= 0; clean--) {
        REQUIRE_EQ(plog_close(l), KERR_NONE);
        plog_unref(l);
        REQUIRE((l = reopen_log(dir, &cfg, clean, 0)));
        expect_same_log(l, kept, 3, other, 2);
        lec_expect(l, (lec_entry[]){ { 1, 0 }, { 2, 6 }, { 4, 8 } }, 3);
        pid_seen p7 = { 7, -1, -1 };
        plog_foreach_producer(l, see_pid, &p7);
        CHECK_EQ(p7.last_seq, 0);
    }
    plog_close(l);
    plog_unref(l);
}

/* kill -9 during truncation: the child process builds the log, flushes it
 * and truncates, dying just before its k-th durable operation (rename,
 * fsync, ftruncate, write); the parent loads what is on disk as after a
 * crash.  For every k the log must load and be a prefix of the old log no
 * shorter than the target (S6), with an epoch cache inside it. */
static int g_ops_left;
static int die_at_op(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)op, (void)len, (void)allow, (void)ctx;
    if (--g_ops_left == 0)
        _exit(0);                    /* no atexit handlers: the parent owns the temp dirs */
    return 0;
}

TEST(storage_repl_truncate_crash_at_every_step_leaves_a_loadable_prefix)
{
    log_config cfg;
    small_segments(&cfg);
    plog *ref = new_log(test_tmpdir(), &cfg);
    REQUIRE(ref);
    REQUIRE_EQ(run_steps(ref, kept, 3), KERR_NONE);
    REQUIRE_EQ(run_steps(ref, tail, 2), KERR_NONE);
    size_t rlen;
    uint8_t *rbytes = log_bytes(ref, 0, &rlen);
    REQUIRE(rbytes);
    int done = 0;
    for (int k = 1; k < 50 && !done; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s", test_tmpdir());
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            plog *l = new_log(dir, &cfg);
            if (!l || run_steps(l, kept, 3) || run_steps(l, tail, 2) || plog_flush(l))
                _exit(2);
            g_ops_left = k;
            sio_set_fault(die_at_op, NULL);
            _exit(plog_truncate_to(l, 4) == KERR_NONE ? 3 : 4);   /* 3: finished before op k */
        }
        int st;
        REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
        REQUIRE(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3);
        done = WEXITSTATUS(st) == 3;
        /* recovery point as the last checkpoint could have it: the old LEO */
        plog *l = reopen_log(dir, &cfg, 0, 13);
        if (!l)
            test_fail(__FILE__, __LINE__, "crash before operation %d: the log does not load", k);
        REQUIRE(l);
        int64_t leo = plog_log_end_offset(l);
        size_t len;
        uint8_t *b = log_bytes(l, 0, &len);
        if (leo < 3 || (done && leo != 3) || !b || len > rlen || memcmp(b, rbytes, len) != 0)
            test_fail(__FILE__, __LINE__, "crash before operation %d: LEO %lld, %zu bytes: not a prefix of "
                      "the old log ending at or after 3", k, (long long)leo, len);
        free(b);
        pthread_rwlock_rdlock(&l->lock);
        CHECK(l->lec.n == 0 || l->lec.e[l->lec.n - 1].start_offset < leo);
        pthread_rwlock_unlock(&l->lock);
        /* the follower goes on: truncating again then appending works */
        CHECK_EQ(plog_truncate_to(l, 4), KERR_NONE);
        CHECK_EQ(plog_log_end_offset(l), 3);
        static const step more[] = { { 2, 4, 5, 0, 3, 50 } };     /* pid 5 continues after seq 2 */
        CHECK_EQ(run_steps(l, more, 1), KERR_NONE);
        CHECK_EQ(plog_log_end_offset(l), 5);
        plog_close(l);
        plog_unref(l);
    }
    CHECK(done);
    free(rbytes);
    plog_close(ref);
    plog_unref(ref);
}

TEST(storage_repl_truncate_through_manager_rewrites_checkpoints)
{
    /* S8: a recovery point left above the new end would skip the recovery
     * of what is appended after the truncation. */
    char d[512];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    plog *l;
    log_manager *lm = lm_with_ten(d, &l);
    REQUIRE(lm);
    plog_set_high_watermark(l, 10);
    REQUIRE_EQ(plog_flush(l), KERR_NONE);
    REQUIRE_EQ(log_manager_write_checkpoints(lm), KERR_NONE);
    REQUIRE_EQ(log_manager_truncate_to(lm, l, 4), KERR_NONE);
    int64_t leo = plog_log_end_offset(l);
    CHECK(leo <= 4);
    const char *files[] = { CKPT_RECOVERY_POINT, CKPT_REPLICATION };
    for (int i = 0; i < 2; i++) {
        ckpt_entry *e;
        size_t n;
        REQUIRE(ckpt_read(d, files[i], &e, &n) == 0);
        CHECK_EQ(ckpt_lookup(e, n, "t", 0), leo);
        ckpt_free(e, n);
    }
    REQUIRE_EQ(log_manager_shutdown(lm), KERR_NONE);
}
