/* test_storage_log.c - partition log: append, read, indexes, roll, reopen,
 * recovery, retention, DeleteRecords, ListOffsets, LogAppendTime, write
 * failures, truncation. Real files in test_tmpdir(). */
#include "test.h"
#include "test_storage_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/endian.h"
#include "test_storage_int.h"
#include "os/sio.h"

static char g_dir[512];

static const char *tdir(void)
{
    snprintf(g_dir, sizeof g_dir, "%s", test_tmpdir());
    return g_dir;
}

/* Read back [pos, pos+len) of a read result. */
static uint8_t *slurp(const plog_read_result *r)
{
    uint8_t *b = malloc((size_t)r->len + 1);
    if (pread(r->file->fd, b, (size_t)r->len, r->file_pos) != r->len) {
        free(b);
        return NULL;
    }
    return b;
}

TEST(storage_log_offsets_and_read)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    int64_t base;
    CHECK_EQ(append_n(l, 3, T0, &base), KERR_NONE);
    CHECK_EQ(base, 0);
    CHECK_EQ(append_n(l, 5, T0, &base), KERR_NONE);
    CHECK_EQ(base, 3);
    CHECK_EQ(append_n(l, 1, T0, &base), KERR_NONE);
    CHECK_EQ(base, 8);
    CHECK_EQ(plog_log_end_offset(l), 9);

    plog_read_result r;
    REQUIRE_EQ(plog_read(l, 4, 1 << 20, true, 0, &r), KERR_NONE);
    REQUIRE(r.file);
    uint8_t *b = slurp(&r);
    rb_header h;
    REQUIRE(rb_parse_header(b, (size_t)r.len, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, 3);                     /* batch holding 4 */
    CHECK_EQ(h.leader_epoch, 0);
    CHECK(rb_crc_ok(b, &h));
    CHECK_EQ(r.high_watermark, 9);
    CHECK_EQ(r.log_end_offset, 9);
    size_t second = rb_size(&h);
    CHECK(r.len > (int32_t)second);                 /* continues with the next batch */
    free(b);
    fileref_unref(r.file);

    /* max_bytes cuts mid-batch (partial batch like Kafka) */
    REQUIRE_EQ(plog_read(l, 0, 70, false, 0, &r), KERR_NONE);
    CHECK_EQ(r.len, 70);
    fileref_unref(r.file);
    /* min_one_batch returns the whole first batch even if max_bytes is tiny */
    REQUIRE_EQ(plog_read(l, 3, 10, true, 0, &r), KERR_NONE);
    CHECK_EQ(r.len, (int32_t)second);
    fileref_unref(r.file);
    /* without it: only the 10 bytes */
    REQUIRE_EQ(plog_read(l, 3, 10, false, 0, &r), KERR_NONE);
    CHECK_EQ(r.len, 10);
    fileref_unref(r.file);

    /* at the HW / LEO: no data, no error; beyond: out of range */
    CHECK_EQ(plog_read(l, 9, 1000, true, 0, &r), KERR_NONE);
    CHECK(r.file == NULL);
    CHECK_EQ(plog_read(l, 10, 1000, true, 0, &r), KERR_OFFSET_OUT_OF_RANGE);
    CHECK_EQ(plog_read(l, -1, 1000, true, 0, &r), KERR_OFFSET_OUT_OF_RANGE);

    /* HW bound: reads never pass the HW's position */
    test_lower_hw(l, 3);
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, 0, &r), KERR_NONE);
    b = slurp(&r);
    REQUIRE(rb_parse_header(b, (size_t)r.len, &h) == KERR_NONE);
    CHECK_EQ(r.len, (int32_t)rb_size(&h));          /* exactly the first batch */
    CHECK_EQ(r.high_watermark, 3);
    free(b);
    fileref_unref(r.file);
    CHECK_EQ(plog_read(l, 3, 1000, true, 0, &r), KERR_NONE);
    CHECK(r.file == NULL);
    CHECK_EQ(plog_read(l, 5, 1000, true, 0, &r), KERR_NONE);
    CHECK(r.file == NULL);
    plog_close(l);
    plog_unref(l);
}

/* Appenders on different threads publish their ends in either order: the
 * HW they move only goes forward (an acks=-1 produce waiting for its end
 * would otherwise time out behind a regressed HW). */
TEST(storage_log_high_watermark_never_regresses)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    size_t len;
    uint8_t *b = mkbatch(2, T0, &len);
    plog_append_result first, second;
    REQUIRE_EQ(plog_append(l, b, len, 0, T0, &first), KERR_NONE);
    REQUIRE_EQ(plog_append(l, b, len, 0, T0, &second), KERR_NONE);
    free(b);
    CHECK_EQ(plog_high_watermark(l), 0);
    plog_set_high_watermark(l, second.end_offset);   /* the later append publishes first */
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_set_high_watermark(l, first.end_offset);
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_set_high_watermark(l, 100);                 /* clamped to the LEO */
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_set_high_watermark(l, 1);                   /* S2: only truncation lowers it */
    CHECK_EQ(plog_high_watermark(l), 4);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_log_index_lookup_many_batches)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.index_interval_bytes = 200;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 300; i++)
        REQUIRE(append_n(l, 1 + i % 4, T0 + i, NULL) == KERR_NONE);
    CHECK(l->segs[0]->oidx.n > 50);
    int64_t leo = plog_log_end_offset(l);
    for (int64_t off = 0; off < leo; off += 7) {
        plog_read_result r;
        REQUIRE_EQ(plog_read(l, off, 100, true, 0, &r), KERR_NONE);
        uint8_t hb[RB_HEADER_SIZE];
        REQUIRE(pread(r.file->fd, hb, sizeof hb, r.file_pos) == (ssize_t)sizeof hb);
        rb_header h;
        REQUIRE(rb_parse_header(hb, sizeof hb, &h) == KERR_NONE);
        CHECK(h.base_offset <= off && rb_last_offset(&h) >= off);
        fileref_unref(r.file);
    }
    plog_close(l);
    plog_unref(l);
}

TEST(storage_log_roll_by_size_and_index_files)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 500;
    cfg.index_interval_bytes = 100;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 40; i++)
        REQUIRE(append_n(l, 2, T0 + i * 10, NULL) == KERR_NONE);
    int nseg = plog_segment_count(l);
    CHECK(nseg >= 4);
    for (int i = 0; i < l->nsegs; i++)
        CHECK(l->segs[i]->size <= 500);
    /* sealed segments have trimmed index files and a producer snapshot exists */
    char p[700];
    int64_t b1 = l->segs[1]->base_offset;
    CHECK(file_size(seg_path(p, sizeof p, dir, 0, ".index")) > 0);
    CHECK_EQ(file_size(seg_path(p, sizeof p, dir, 0, ".index")) % 8, 0);
    CHECK_EQ(file_size(seg_path(p, sizeof p, dir, 0, ".timeindex")) % 12, 0);
    CHECK(file_size(seg_path(p, sizeof p, dir, b1, ".log")) > 0);
    /* reads across segments */
    for (int64_t off = 0; off < plog_log_end_offset(l); off += 3) {
        plog_read_result r;
        REQUIRE_EQ(plog_read(l, off, 50, true, 0, &r), KERR_NONE);
        CHECK(r.file != NULL);
        fileref_unref(r.file);
    }
    /* A batch larger than the segment size */
    size_t len;
    uint8_t *big = mkbatch_ex(1, T0, 1, RB_CODEC_NONE, -1, -1, -1, 3000, &len);
    plog_append_result ar;
    CHECK_EQ(plog_append(l, big, len, 0, T0, &ar), KERR_RECORD_LIST_TOO_LARGE);
    free(big);
    plog_close(l);
    plog_unref(l);
}

/* Blocks allocated on disk for a .log (st_blocks), in bytes. */
static int64_t file_alloc(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_blocks * 512 : -1;
}

/* segment.h invariant 4: the active segment is preallocated ahead of its
 * size with the size unchanged (Kafka's layout: the .log ends at the last
 * batch); the roll releases what lies past the size. */
TEST(storage_log_active_segment_preallocated_sealed_trimmed)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 256 * 1024;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    char p[700];
    seg_path(p, sizeof p, dir, 0, ".log");
    REQUIRE(append_n(l, 2, T0, NULL) == KERR_NONE);
    int64_t size = l->segs[0]->size;
    CHECK_EQ(file_size(p), size);
    CHECK(file_alloc(p) >= size + 64 * 1024 - 4096);   /* ext4 and tmpfs both fallocate */
    /* Fill past the segment size: the first segment is sealed and trimmed. */
    while (plog_segment_count(l) < 2)
        REQUIRE(append_n(l, 50, T0, NULL) == KERR_NONE);
    size = l->segs[0]->size;
    CHECK_EQ(file_size(p), size);
    CHECK(file_alloc(p) <= ((size + 4095) / 4096) * 4096 + 4096);
    /* Reading it back: only whole batches, to the end. */
    plog_read_result r;
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, 0, &r), KERR_NONE);
    CHECK(r.file != NULL);
    fileref_unref(r.file);
    int64_t leo = plog_log_end_offset(l);
    int64_t active_size = l->segs[1]->size;
    seg_path(p, sizeof p, dir, l->segs[1]->base_offset, ".log");
    CHECK_EQ(file_size(p), active_size);
    CHECK(file_alloc(p) > active_size);            /* still preallocated after the close */
    plog_close(l);
    plog_unref(l);
    /* Recovery (as after a crash) sees the same batches: the blocks past the
     * size are not part of the file. */
    l = reopen_log(dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(l->segs[1]->size, active_size);
    CHECK_EQ(l->segs[0]->size, size);
    REQUIRE(append_n(l, 2, T0, NULL) == KERR_NONE);
    CHECK_EQ(plog_log_end_offset(l), leo + 2);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_log_roll_by_time_and_index_full)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_ms = 1000;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    REQUIRE(append_n(l, 1, T0, NULL) == KERR_NONE);
    REQUIRE(append_n(l, 1, T0 + 500, NULL) == KERR_NONE);
    CHECK_EQ(plog_segment_count(l), 1);
    REQUIRE(append_n(l, 1, T0 + 1001, NULL) == KERR_NONE);   /* first batch ts + segment.ms passed */
    CHECK_EQ(plog_segment_count(l), 2);
    CHECK_EQ(l->segs[1]->base_offset, 2);
    plog_close(l);
    plog_unref(l);

    dir = tdir();
    test_cfg(&cfg);
    cfg.index_interval_bytes = 1;
    cfg.segment_index_bytes = 12 * 4;                /* time index holds 4 entries */
    l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 12; i++)
        REQUIRE(append_n(l, 1, T0 + i, NULL) == KERR_NONE);
    CHECK(plog_segment_count(l) >= 2);
    CHECK(l->segs[0]->tidx.n <= 4 || l->segs[0]->tidx.state != IDXF_MEM);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_log_reopen_after_clean_close)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 3000;
    cfg.index_interval_bytes = 150;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 60; i++)
        REQUIRE(append_n(l, 3, T0 + i * 100, NULL) == KERR_NONE);
    int64_t leo = plog_log_end_offset(l);
    int nseg = plog_segment_count(l);
    int64_t off_ts, ts;
    int32_t ep;
    REQUIRE(plog_list_offset(l, T0 + 3050, 0, &off_ts, &ts, &ep) == KERR_NONE);
    char ipath[700];
    seg_path(ipath, sizeof ipath, dir, l->segs[nseg - 1]->base_offset, ".index");
    size_t active_idx_entries = l->segs[nseg - 1]->oidx.n;
    CHECK_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
    CHECK_EQ(file_size(ipath), (int64_t)active_idx_entries * 8);

    l = reopen_log(dir, &cfg, 1, leo);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(plog_high_watermark(l), leo);
    CHECK_EQ(plog_segment_count(l), nseg);
    CHECK_EQ(plog_recovery_point(l), leo);
    /* old segments untouched at load (indexes lazily mapped) */
    CHECK(l->segs[0]->oidx.state == IDXF_UNLOADED);
    int64_t o2, t2;
    REQUIRE(plog_list_offset(l, T0 + 3050, 0, &o2, &t2, &ep) == KERR_NONE);
    CHECK_EQ(o2, off_ts);
    CHECK_EQ(t2, ts);
    CHECK_EQ(ep, 0);
    REQUIRE(plog_list_offset(l, PLOG_TS_MAX_TIMESTAMP, 0, &o2, &t2, &ep) == KERR_NONE);
    CHECK_EQ(t2, T0 + 59 * 100 + 2);
    CHECK_EQ(o2, leo - 1);
    /* continue appending after reopen */
    int64_t base;
    REQUIRE(append_n(l, 2, T0 + 99999, &base) == KERR_NONE);
    CHECK_EQ(base, leo);
    plog_read_result r;
    REQUIRE_EQ(plog_read(l, 5, 100, true, 0, &r), KERR_NONE);
    CHECK(r.file != NULL);
    fileref_unref(r.file);
    plog_close(l);
    plog_unref(l);
}

/* Build a log with several segments, close it cleanly and return its LEO. */
static int64_t build_segments(const char *dir, log_config *cfg, int batches)
{
    test_cfg(cfg);
    cfg->segment_bytes = 600;
    cfg->index_interval_bytes = 120;
    plog *l = new_log(dir, cfg);
    if (!l)
        return -1;
    for (int i = 0; i < batches; i++)
        append_n(l, 2, T0 + i, NULL);
    int64_t leo = plog_log_end_offset(l);
    plog_close(l);
    plog_unref(l);
    return leo;
}

TEST(storage_recovery_torn_tail)
{
    const char *dir = tdir();
    log_config cfg;
    int64_t leo = build_segments(dir, &cfg, 20);
    REQUIRE(leo > 0);
    plog *l = reopen_log(dir, &cfg, 1, leo);
    REQUIRE(l);
    segment *a = l->segs[l->nsegs - 1];
    int64_t abase = a->base_offset, asize = a->size;
    char lp[700];
    seg_path(lp, sizeof lp, dir, abase, ".log");
    plog_unref(l);                                  /* no close: simulated crash */
    /* cut the last batch in the middle */
    REQUIRE(truncate(lp, asize - 20) == 0);
    cap_state cs;
    cap_begin(&cs, dir);
    l = reopen_log(dir, &cfg, 0, 0);
    char *log = cap_end(&cs);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo - 2);
    CHECK(strstr(log, "recovery:") != NULL);
    CHECK(strstr(log, lp) != NULL);
    CHECK(strstr(log, "torn") != NULL);
    free(log);
    int64_t base;
    REQUIRE(append_n(l, 2, T0 + 100, &base) == KERR_NONE);
    CHECK_EQ(base, leo - 2);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_recovery_garbage_appended)
{
    const char *dir = tdir();
    log_config cfg;
    int64_t leo = build_segments(dir, &cfg, 20);
    plog *l = reopen_log(dir, &cfg, 1, leo);
    REQUIRE(l);
    int64_t abase = l->segs[l->nsegs - 1]->base_offset, asize = l->segs[l->nsegs - 1]->size;
    plog_unref(l);
    char lp[700];
    seg_path(lp, sizeof lp, dir, abase, ".log");
    FILE *f = fopen(lp, "ab");
    for (int i = 0; i < 100; i++)
        fputc(0xAB, f);
    fclose(f);
    cap_state cs;
    cap_begin(&cs, dir);
    l = reopen_log(dir, &cfg, 0, 0);
    char *log = cap_end(&cs);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(file_size(lp), asize);
    CHECK(strstr(log, "cut 100 bytes") != NULL);
    free(log);
    plog_close(l);
    plog_unref(l);

    /* Clean marker but garbage at the tail: the clean load notices too. */
    f = fopen(lp, "ab");
    fputs("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", f);
    fclose(f);
    cap_begin(&cs, dir);
    l = reopen_log(dir, &cfg, 1, leo);
    log = cap_end(&cs);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), leo);
    CHECK_EQ(file_size(lp), asize);
    free(log);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_recovery_flipped_byte_truncates_at_batch)
{
    const char *dir = tdir();
    log_config cfg;
    int64_t leo = build_segments(dir, &cfg, 30);
    plog *l = reopen_log(dir, &cfg, 1, leo);
    REQUIRE(l);
    REQUIRE(l->nsegs >= 3);
    segment *s1 = l->segs[1];
    int64_t b1 = s1->base_offset;
    int nseg = l->nsegs;
    /* find the 3rd batch of segment 1 */
    plog_read_result r;
    REQUIRE_EQ(plog_read(l, b1 + 4, 10, true, 0, &r), KERR_NONE);
    int64_t bad_pos = r.file_pos;
    fileref_unref(r.file);
    char later[700];
    seg_path(later, sizeof later, dir, l->segs[2]->base_offset, ".log");
    plog_unref(l);

    char lp[700];
    seg_path(lp, sizeof lp, dir, b1, ".log");
    int fd = open(lp, O_RDWR);
    uint8_t c;
    REQUIRE(pread(fd, &c, 1, bad_pos + 70) == 1);
    c ^= 0x01;
    REQUIRE(pwrite(fd, &c, 1, bad_pos + 70) == 1);
    close(fd);
    /* Remove the index files of segment 1: they must be rebuilt. */
    char ip[700];
    unlink(seg_path(ip, sizeof ip, dir, b1, ".index"));

    cap_state cs;
    cap_begin(&cs, dir);
    l = reopen_log(dir, &cfg, 0, b1);               /* recovery point inside segment 1 */
    char *log = cap_end(&cs);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), b1 + 4);
    CHECK_EQ(l->nsegs, 2);
    CHECK(nseg > 2);
    CHECK_EQ(file_size(lp), bad_pos);
    CHECK(access(later, F_OK) != 0);                /* later segments deleted */
    CHECK(strstr(log, "CRC mismatch") != NULL);
    CHECK(strstr(log, "deleting segment") != NULL);
    free(log);
    CHECK(file_size(ip) >= 0);                      /* index rebuilt */
    /* Lookups in the rebuilt segment work. */
    REQUIRE_EQ(plog_read(l, b1 + 2, 10, true, 0, &r), KERR_NONE);
    uint8_t hb[RB_HEADER_SIZE];
    REQUIRE(pread(r.file->fd, hb, sizeof hb, r.file_pos) == (ssize_t)sizeof hb);
    rb_header h;
    REQUIRE(rb_parse_header(hb, sizeof hb, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, b1 + 2);
    fileref_unref(r.file);
    int64_t base;
    REQUIRE(append_n(l, 1, T0, &base) == KERR_NONE);
    CHECK_EQ(base, b1 + 4);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_retention_time_and_size)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 400;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    /* old data then new data */
    for (int i = 0; i < 20; i++)
        REQUIRE(append_n(l, 2, T0 - 10000000 + i, NULL) == KERR_NONE);
    for (int i = 0; i < 20; i++)
        REQUIRE(append_n(l, 2, T0 + i, NULL) == KERR_NONE);
    int before = plog_segment_count(l);
    CHECK(before > 4);
    cfg.retention_ms = 1000000;
    plog_set_config(l, &cfg);
    int deleted;
    plog_retention(l, T0 + 100, &deleted);
    CHECK(deleted > 0);
    CHECK_EQ(plog_segment_count(l), before - deleted);
    int64_t ls = plog_log_start_offset(l);
    CHECK(ls > 0);
    CHECK_EQ(ls, l->segs[0]->base_offset);
    CHECK(ls <= 40);                               /* nothing new deleted */
    plog_read_result r;
    CHECK_EQ(plog_read(l, 0, 100, true, 0, &r), KERR_OFFSET_OUT_OF_RANGE);
    int64_t off, ts;
    int32_t ep;
    plog_list_offset(l, PLOG_TS_EARLIEST, 0, &off, &ts, &ep);
    CHECK_EQ(off, ls);

    /* everything expired: still never the active segment */
    plog_retention(l, T0 + 1000000000LL, &deleted);
    CHECK_EQ(plog_segment_count(l), 1);
    CHECK_EQ(plog_log_start_offset(l), l->segs[0]->base_offset);

    /* size-based */
    for (int i = 0; i < 60; i++)
        REQUIRE(append_n(l, 2, T0 + 1000000000LL + i, NULL) == KERR_NONE);
    cfg.retention_ms = -1;
    cfg.retention_bytes = 2500;
    plog_set_config(l, &cfg);
    plog_retention(l, T0, &deleted);
    CHECK(deleted > 0);
    CHECK(plog_size_bytes(l) >= 2500);
    CHECK(plog_size_bytes(l) - l->segs[0]->size < 2500);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_delete_records)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 300;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 20; i++)
        REQUIRE(append_n(l, 2, T0 + i, NULL) == KERR_NONE);
    int segs = plog_segment_count(l);
    int64_t ls;
    CHECK_EQ(plog_delete_records(l, 41, &ls), KERR_OFFSET_OUT_OF_RANGE);
    CHECK_EQ(plog_delete_records(l, 13, &ls), KERR_NONE);
    CHECK_EQ(ls, 13);
    CHECK(plog_segment_count(l) < segs);
    CHECK(l->segs[0]->base_offset <= 13);
    plog_read_result r;
    CHECK_EQ(plog_read(l, 12, 100, true, 0, &r), KERR_OFFSET_OUT_OF_RANGE);
    REQUIRE_EQ(plog_read(l, 13, 100, true, 0, &r), KERR_NONE);
    CHECK(r.file != NULL);
    fileref_unref(r.file);
    CHECK_EQ(plog_delete_records(l, -1, &ls), KERR_NONE);   /* -1 = HW */
    CHECK_EQ(ls, 40);
    CHECK_EQ(plog_segment_count(l), 1);
    CHECK_EQ(plog_read(l, 40, 100, true, 0, &r), KERR_NONE);
    CHECK(r.file == NULL);
    /* log start survives a clean restart through the caller's checkpoint */
    plog_close(l);
    plog_unref(l);
}

static void list_offsets_codec(int codec)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.index_interval_bytes = 100;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    /* 10 batches of 10 records; timestamps T0 + 1000*b + 10*i */
    for (int b = 0; b < 10; b++) {
        size_t len;
        uint8_t *buf = mkbatch_ex(10, T0 + 1000 * b, 10, codec, -1, -1, -1, 20, &len);
        plog_append_result ar;
        REQUIRE(plog_append(l, buf, len, 3, T0, &ar) == KERR_NONE);
        free(buf);
    }
    plog_set_high_watermark(l, plog_log_end_offset(l));
    int64_t off, ts;
    int32_t ep;
    REQUIRE(plog_list_offset(l, T0 + 4035, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 44);                          /* first record with ts >= target */
    CHECK_EQ(ts, T0 + 4040);
    CHECK_EQ(ep, 3);
    REQUIRE(plog_list_offset(l, T0, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 0);
    REQUIRE(plog_list_offset(l, T0 + 9091, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, -1);                          /* none */
    CHECK_EQ(ts, -1);
    REQUIRE(plog_list_offset(l, PLOG_TS_MAX_TIMESTAMP, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 99);
    CHECK_EQ(ts, T0 + 9090);
    REQUIRE(plog_list_offset(l, PLOG_TS_LATEST, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 100);
    CHECK_EQ(ep, 3);
    REQUIRE(plog_list_offset(l, PLOG_TS_EARLIEST, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 0);
    REQUIRE(plog_list_offset(l, PLOG_TS_LATEST_TIERED, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, -1);
    /* results at/above the HW are hidden */
    test_lower_hw(l, 40);
    REQUIRE(plog_list_offset(l, T0 + 4035, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, -1);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_list_offsets_uncompressed) { list_offsets_codec(RB_CODEC_NONE); }
TEST(storage_list_offsets_gzip) { list_offsets_codec(RB_CODEC_GZIP); }
TEST(storage_list_offsets_lz4) { list_offsets_codec(RB_CODEC_LZ4); }
TEST(storage_list_offsets_zstd) { list_offsets_codec(RB_CODEC_ZSTD); }
TEST(storage_list_offsets_snappy) { list_offsets_codec(RB_CODEC_SNAPPY); }

TEST(storage_max_timestamp_inside_batch)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    /* timestamps 5,9,7 in one batch: max is the 2nd record (offset 1) */
    bb_record rr[3] = { { "a", 1, "x", 1, T0 + 5 }, { "b", 1, "y", 1, T0 + 9 }, { "c", 1, "z", 1, T0 + 7 } };
    bb_params p;
    bb_params_init(&p);
    p.codec = RB_CODEC_ZSTD;
    uint8_t *b;
    size_t len;
    REQUIRE(bb_build(&p, rr, 3, &b, &len) == KERR_NONE);
    plog_append_result ar;
    REQUIRE(plog_append(l, b, len, 0, T0, &ar) == KERR_NONE);
    free(b);
    append_n(l, 2, T0 + 1, NULL);
    int64_t off, ts;
    int32_t ep;
    REQUIRE(plog_list_offset(l, PLOG_TS_MAX_TIMESTAMP, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 1);
    CHECK_EQ(ts, T0 + 9);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_log_append_time)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.timestamp_type = 1;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    size_t len;
    uint8_t *b = mkbatch_ex(3, 1000, 1, RB_CODEC_LZ4, -1, -1, -1, 0, &len);
    plog_append_result ar;
    REQUIRE(plog_append(l, b, len, 0, T0 + 77, &ar) == KERR_NONE);
    CHECK_EQ(ar.log_append_time, T0 + 77);
    test_lower_hw(l, 3);
    plog_read_result r;
    REQUIRE(plog_read(l, 0, 1 << 20, true, 0, &r) == KERR_NONE);
    uint8_t *d = slurp(&r);
    rb_header h;
    REQUIRE(rb_parse_header(d, (size_t)r.len, &h) == KERR_NONE);
    CHECK(rb_is_log_append_time(&h));
    CHECK_EQ(h.max_timestamp, T0 + 77);
    CHECK(rb_crc_ok(d, &h));
    free(d);
    fileref_unref(r.file);
    int64_t off, ts;
    int32_t ep;
    REQUIRE(plog_list_offset(l, T0 + 50, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(off, 0);                   /* records carry the append time */
    CHECK_EQ(ts, T0 + 77);
    free(b);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_create_time_rewrites_wrong_max_timestamp)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    size_t len;
    uint8_t *b = mkbatch(3, T0, &len);
    be64_store(b + RB_OFF_MAX_TIMESTAMP, 5);      /* a client lying about maxTimestamp */
    be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
    plog_append_result ar;
    REQUIRE(plog_append(l, b, len, 0, T0, &ar) == KERR_NONE);
    rb_header h;
    REQUIRE(rb_parse_header(b, len, &h) == KERR_NONE);
    CHECK_EQ(h.max_timestamp, T0 + 2);
    CHECK(rb_crc_ok(b, &h));
    CHECK_EQ(ar.log_append_time, -1);
    free(b);
    plog_close(l);
    plog_unref(l);
}

/* Fault injection: the next write is cut after `allow` bytes with ENOSPC. */
static int g_fail_writes;
static size_t g_allow;
static int fault_fn(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)ctx;
    (void)len;
    if (op == SIO_WRITE && g_fail_writes > 0) {
        g_fail_writes--;
        *allow = g_allow;
        return ENOSPC;
    }
    return 0;
}

TEST(storage_enospc_leaves_log_consistent)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    REQUIRE(append_n(l, 3, T0, NULL) == KERR_NONE);
    char lp[700];
    seg_path(lp, sizeof lp, dir, 0, ".log");
    int64_t size = file_size(lp);
    size_t len;
    uint8_t *b = mkbatch(4, T0, &len);
    g_fail_writes = 1;
    g_allow = len / 2;                              /* short write, then ENOSPC */
    sio_set_fault(fault_fn, NULL);
    cap_state cs;
    cap_begin(&cs, dir);
    plog_append_result ar;
    int e = plog_append(l, b, len, 0, T0, &ar);
    free(cap_end(&cs));
    sio_set_fault(NULL, NULL);
    CHECK_EQ(e, KERR_KAFKA_STORAGE_ERROR);
    CHECK_EQ(file_size(lp), size);                  /* truncated back */
    CHECK_EQ(plog_log_end_offset(l), 3);
    free(b);
    int64_t base;
    REQUIRE(append_n(l, 2, T0, &base) == KERR_NONE);   /* the log still works */
    CHECK_EQ(base, 3);
    plog_read_result r;
    REQUIRE(plog_read(l, 3, 1 << 20, true, 0, &r) == KERR_NONE);
    uint8_t *d = slurp(&r);
    rb_header h;
    REQUIRE(rb_parse_header(d, (size_t)r.len, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, 3);
    CHECK(rb_crc_ok(d, &h));
    free(d);
    fileref_unref(r.file);
    plog_close(l);
    plog_unref(l);
    /* and it reopens cleanly with the same LEO */
    l = reopen_log(dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 5);
    plog_close(l);
    plog_unref(l);
}

static int fsync_fault(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)len;
    (void)allow;
    (void)ctx;
    return op == SIO_FSYNC ? EIO : 0;
}

TEST(storage_fsync_failure_takes_log_offline)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    REQUIRE(append_n(l, 3, T0, NULL) == KERR_NONE);
    sio_set_fault(fsync_fault, NULL);
    cap_state cs;
    cap_begin(&cs, dir);
    int e = plog_flush(l);
    free(cap_end(&cs));
    sio_set_fault(NULL, NULL);
    CHECK_EQ(e, KERR_KAFKA_STORAGE_ERROR);
    CHECK_EQ(plog_recovery_point(l), 0);
    CHECK_EQ(append_n(l, 1, T0, NULL), KERR_KAFKA_STORAGE_ERROR);
    CHECK_EQ(plog_flush(l), KERR_KAFKA_STORAGE_ERROR);
    /* reads of what is there still work */
    plog_read_result r;
    REQUIRE(plog_read(l, 0, 100, true, 0, &r) == KERR_NONE);
    CHECK(r.file != NULL);
    fileref_unref(r.file);
    plog_unref(l);
    /* reopening (recovery) brings it back */
    l = reopen_log(dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 3);
    CHECK_EQ(append_n(l, 1, T0, NULL), KERR_NONE);
    plog_close(l);
    plog_unref(l);
}

static int enospc_writes(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)len;
    (void)allow;
    (void)ctx;
    return op == SIO_WRITE ? ENOSPC : 0;
}

TEST(storage_flush_on_a_full_disk_keeps_index_entries_pending)
{
    /* Regression: an index tail that found no space at flush took the log
     * offline, and a produce waiting for that flush was never answered.
     * The data is synced; the entries are written by the next flush. */
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.index_interval_bytes = 1;                  /* an index entry per append */
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    REQUIRE(append_n(l, 2, T0, NULL) == KERR_NONE);
    REQUIRE_EQ(plog_flush(l), KERR_NONE);           /* the epoch file is written: only indexes are left */
    for (int i = 1; i < 4; i++)
        REQUIRE(append_n(l, 2, T0 + i, NULL) == KERR_NONE);
    char ip[700];
    seg_path(ip, sizeof ip, dir, 0, ".index");
    sio_set_fault(enospc_writes, NULL);
    cap_state cs;
    cap_begin(&cs, dir);
    int e = plog_flush(l);
    char *log = cap_end(&cs);
    sio_set_fault(NULL, NULL);
    CHECK_EQ(e, KERR_NONE);
    CHECK(strstr(log, "no space to write index entries") != NULL);
    free(log);
    CHECK_EQ(plog_recovery_point(l), 8);
    int64_t isize = file_size(ip);                  /* the entries of the first flush only */
    CHECK(isize >= 0 && isize < 4 * 8);
    CHECK_EQ(append_n(l, 1, T0, NULL), KERR_NONE);    /* still online */
    REQUIRE_EQ(plog_flush(l), KERR_NONE);
    CHECK(file_size(ip) >= 4 * 8);                  /* the pending entries made it */
    plog_close(l);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 1, -1);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 9);
    plog_read_result r;
    REQUIRE(plog_read(l, 5, 1 << 20, true, 0, &r) == KERR_NONE);
    CHECK(r.file != NULL);
    fileref_unref(r.file);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_truncate_to)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 300;
    cfg.index_interval_bytes = 50;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 20; i++)
        REQUIRE(append_n(l, 2, T0 + i, NULL) == KERR_NONE);
    int segs = plog_segment_count(l);
    REQUIRE(segs > 3);
    CHECK_EQ(plog_truncate_to(l, 13), KERR_NONE);   /* inside batch [12,13]: cut at its start */
    CHECK_EQ(plog_log_end_offset(l), 12);
    CHECK_EQ(plog_high_watermark(l), 12);
    CHECK(plog_segment_count(l) < segs);
    int64_t base;
    REQUIRE(append_n(l, 3, T0 + 50, &base) == KERR_NONE);
    CHECK_EQ(base, 12);
    int64_t off, ts;
    int32_t ep;
    REQUIRE(plog_list_offset(l, PLOG_TS_MAX_TIMESTAMP, 0, &off, &ts, &ep) == KERR_NONE);
    CHECK_EQ(ts, T0 + 52);
    CHECK_EQ(plog_truncate_to(l, 0), KERR_NONE);
    CHECK_EQ(plog_log_end_offset(l), 0);
    REQUIRE(append_n(l, 1, T0, &base) == KERR_NONE);
    CHECK_EQ(base, 0);
    plog_close(l);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 1, 1);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), 1);
    plog_close(l);
    plog_unref(l);
}

/* plog_read answers a read at the tail from the batches it remembers
 * (partition_log_int.h, tail[]); every such answer must be the one the index
 * lookup gives, across appends of several batches at once, rolls and
 * truncations (which rewrite the tail at the same positions). */
static void read_both_ways(plog *l, int64_t off, int *tail_hits)
{
    plog_read_result a, b;
    REQUIRE_EQ(plog_read(l, off, 1 << 20, true, 0, &a), KERR_NONE);
    segment *seg = l->tail_seg;                    /* set the tail entries aside ... */
    int n = l->tail_n, next = l->tail_next;
    segment_pos saved[PLOG_TAIL_BATCHES];
    memcpy(saved, l->tail, sizeof saved);
    for (int i = 0; i < n; i++)
        *tail_hits += saved[i].base_offset <= off && off <= saved[i].last_offset;
    plog_tail_reset(l);                            /* ... so only the index path can answer */
    REQUIRE_EQ(plog_read(l, off, 1 << 20, true, 0, &b), KERR_NONE);
    l->tail_seg = seg;
    l->tail_n = n;
    l->tail_next = next;
    memcpy(l->tail, saved, sizeof saved);
    REQUIRE(a.file && b.file);
    CHECK_EQ(a.file_pos, b.file_pos);
    CHECK_EQ(a.len, b.len);
    struct stat sa, sb;
    REQUIRE(fstat(a.file->fd, &sa) == 0 && fstat(b.file->fd, &sb) == 0);
    CHECK(sa.st_ino == sb.st_ino);                 /* the same segment file */
    uint8_t hb[RB_HEADER_SIZE];
    REQUIRE(pread(a.file->fd, hb, sizeof hb, a.file_pos) == (ssize_t)sizeof hb);
    rb_header h;
    REQUIRE(rb_parse_header(hb, sizeof hb, &h) == KERR_NONE);
    CHECK(h.base_offset <= off && rb_last_offset(&h) >= off);
    fileref_unref(a.file);
    fileref_unref(b.file);
}

TEST(storage_tail_reads_match_index_reads)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 700;
    cfg.index_interval_bytes = 50;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    uint64_t x = 88172645463325252ULL;
    int hits = 0;
    for (int step = 0; step < 300; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t leo = plog_log_end_offset(l);
        if (step % 37 == 36 && leo > 5) {
            REQUIRE_EQ(plog_truncate_to(l, leo - 1 - (int64_t)(x % 5)), KERR_NONE);
        } else if (step % 11 == 10) {
            /* two batches in one append (one produce request, one write) */
            size_t l1, l2;
            uint8_t *b1 = mkbatch_ex(1 + (int)(x % 3), T0, 1, RB_CODEC_NONE, -1, -1, -1, 20, &l1);
            uint8_t *b2 = mkbatch_ex(2, T0, 1, RB_CODEC_NONE, -1, -1, -1, 40, &l2);
            uint8_t *both = malloc(l1 + l2);
            memcpy(both, b1, l1);
            memcpy(both + l1, b2, l2);
            plog_append_result ar;
            REQUIRE_EQ(plog_append(l, both, l1 + l2, 0, T0, &ar), KERR_NONE);
            plog_set_high_watermark(l, plog_log_end_offset(l));
            free(b1);
            free(b2);
            free(both);
        } else {
            size_t len;
            uint8_t *b = mkbatch_ex(1 + (int)(x % 4), T0, 1, RB_CODEC_NONE, -1, -1, -1,
                                    (int)(x % 90), &len);
            plog_append_result ar;
            REQUIRE_EQ(plog_append(l, b, len, 0, T0, &ar), KERR_NONE);
            plog_set_high_watermark(l, plog_log_end_offset(l));
            free(b);
        }
        leo = plog_log_end_offset(l);
        for (int64_t off = leo > 6 ? leo - 6 : 0; off < leo; off++)
            read_both_ways(l, off, &hits);
    }
    CHECK(hits > 500);
    CHECK(plog_segment_count(l) > 5);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_flush_advances_recovery_point)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.flush_messages = 5;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    size_t len;
    uint8_t *b = mkbatch(3, T0, &len);
    plog_append_result ar;
    REQUIRE(plog_append(l, b, len, 0, T0, &ar) == KERR_NONE);
    CHECK(!ar.flush_needed);
    free(b);
    b = mkbatch(3, T0, &len);
    REQUIRE(plog_append(l, b, len, 0, T0, &ar) == KERR_NONE);
    CHECK(ar.flush_needed);
    free(b);
    CHECK_EQ(plog_recovery_point(l), 0);
    CHECK_EQ(plog_flush(l), KERR_NONE);
    CHECK_EQ(plog_recovery_point(l), 6);
    CHECK_EQ(plog_unflushed_messages(l), 0);
    plog_close(l);
    plog_unref(l);
}

typedef struct conc_ctx {
    plog *l;
    atomic_int stop;
    atomic_int errors;
} conc_ctx;

static void *reader_thr(void *arg)
{
    conc_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        int64_t hw = plog_high_watermark(c->l), ls = plog_log_start_offset(c->l);
        if (hw <= ls)
            continue;
        int64_t off = ls + (hw - ls) / 2;
        plog_read_result r;
        int e = plog_read(c->l, off, 4096, true, 0, &r);
        if (e == KERR_NONE && r.file) {
            uint8_t hb[RB_HEADER_SIZE];
            rb_header h;
            if (pread(r.file->fd, hb, sizeof hb, r.file_pos) != (ssize_t)sizeof hb ||
                rb_parse_header(hb, sizeof hb, &h) != KERR_NONE || rb_last_offset(&h) < off)
                atomic_fetch_add(&c->errors, 1);
            fileref_unref(r.file);
        } else if (e != KERR_NONE && e != KERR_OFFSET_OUT_OF_RANGE) {
            atomic_fetch_add(&c->errors, 1);
        }
        int64_t o, ts;
        int32_t ep;
        plog_list_offset(c->l, T0 + 100, 0, &o, &ts, &ep);
    }
    return NULL;
}

static void *flusher_thr(void *arg)
{
    conc_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        plog_flush(c->l);
        int d;
        plog_retention(c->l, T0, &d);
        usleep(500);
    }
    return NULL;
}

TEST(storage_log_concurrent_smoke)
{
    const char *dir = tdir();
    log_config cfg;
    test_cfg(&cfg);
    cfg.segment_bytes = 4000;
    cfg.retention_bytes = 20000;
    cfg.index_interval_bytes = 300;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    conc_ctx c = { l, 0, 0 };
    pthread_t r1, r2, f;
    pthread_create(&r1, NULL, reader_thr, &c);
    pthread_create(&r2, NULL, reader_thr, &c);
    pthread_create(&f, NULL, flusher_thr, &c);
    for (int i = 0; i < 2000; i++)
        REQUIRE(append_n(l, 1 + i % 5, T0 + i, NULL) == KERR_NONE);
    atomic_store(&c.stop, 1);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    pthread_join(f, NULL);
    CHECK_EQ(atomic_load(&c.errors), 0);
    CHECK(plog_log_start_offset(l) > 0);
    CHECK_EQ(plog_close(l), KERR_NONE);
    plog_unref(l);
}
