/* test_storage_batch.c - record batch parsing/validation, codecs, record
 * iteration, indexes, checkpoint files, leader epochs, meta.properties. */
#include "test.h"
#include "test_storage_util.h"

#include <errno.h>

#include "core/crc32c.h"
#include "core/endian.h"
#include "core/varint.h"
#include "storage/checkpoint.h"
#include "storage/compression.h"
#include "storage/index_file.h"
#include "storage/leader_epoch.h"
#include "storage/log_dir.h"
#include "storage/offset_index.h"
#include "storage/record_iter.h"
#include "os/sio.h"
#include "storage/time_index.h"

static rb_limits lim_default(void)
{
    rb_limits l = { 1048588, 0, INT64_MAX, INT64_MAX, false };
    return l;
}

TEST(storage_batch_parse_good)
{
    size_t len;
    uint8_t *b = mkbatch(3, T0, &len);
    REQUIRE(b);
    rb_header h;
    CHECK_EQ(rb_parse_header(b, len, &h), KERR_NONE);
    CHECK_EQ(rb_size(&h), len);
    CHECK_EQ(h.magic, 2);
    CHECK_EQ(h.records_count, 3);
    CHECK_EQ(h.last_offset_delta, 2);
    CHECK_EQ(h.base_timestamp, T0);
    CHECK_EQ(h.max_timestamp, T0 + 2);
    CHECK_EQ(h.producer_id, -1);
    CHECK(rb_crc_ok(b, &h));
    rb_limits lim = lim_default();
    rb_verdict v;
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_NONE);
    CHECK_EQ(v.max_timestamp, T0 + 2);
    CHECK_EQ(v.max_timestamp_delta, 2);
    free(b);
}

TEST(storage_batch_reject_corruptions)
{
    size_t len;
    uint8_t *b = mkbatch(3, T0, &len);
    rb_limits lim = lim_default();
    rb_header h;
    rb_verdict v;

    b[len - 1] ^= 0x40;                                 /* bad CRC */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    b[len - 1] ^= 0x40;

    b[RB_OFF_MAGIC] = 1;                                /* legacy magic */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_INVALID_RECORD);
    b[RB_OFF_MAGIC] = 7;                                /* unknown magic */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    b[RB_OFF_MAGIC] = 2;

    rb_validate_client_batch(b, len - 5, &lim, T0, &h, &v);   /* truncated */
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    rb_validate_client_batch(b, 30, &lim, T0, &h, &v);        /* header cut */
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);

    uint32_t saved = be32_load(b + RB_OFF_LENGTH);
    be32_store(b + RB_OFF_LENGTH, 10);                  /* below minimum */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    be32_store(b + RB_OFF_LENGTH, saved + 100);         /* past the buffer */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    be32_store(b + RB_OFF_LENGTH, saved);

    lim.max_message_bytes = (int32_t)len - 1;
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_MESSAGE_TOO_LARGE);
    lim = lim_default();

    /* lastOffsetDelta inconsistent with recordsCount (CRC fixed up). */
    be32_store(b + RB_OFF_LAST_OFFSET_DELTA, 5);
    be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_INVALID_RECORD);
    be32_store(b + RB_OFF_LAST_OFFSET_DELTA, 2);

    /* control / transactional / bad codec */
    uint16_t attr = be16_load(b + RB_OFF_ATTRIBUTES);
    uint16_t tries[][2] = { { RB_ATTR_CONTROL, KERR_INVALID_RECORD },
                            { RB_ATTR_TRANSACTIONAL, KERR_INVALID_RECORD },   /* no producer id */
                            { 5, KERR_UNSUPPORTED_COMPRESSION_TYPE } };
    for (int i = 0; i < 3; i++) {
        be16_store(b + RB_OFF_ATTRIBUTES, attr | tries[i][0]);
        be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
        rb_validate_client_batch(b, len, &lim, T0, &h, &v);
        CHECK_EQ(v.error, tries[i][1]);
    }
    be16_store(b + RB_OFF_ATTRIBUTES, attr);
    be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_NONE);
    free(b);
}

TEST(storage_batch_record_framing_mismatch)
{
    size_t len;
    uint8_t *b = mkbatch(3, T0, &len);
    rb_limits lim = lim_default();
    rb_header h;
    rb_verdict v;
    /* First record's length varint: claim one byte more than it has. */
    int32_t rl;
    size_t n = varint32_decode(b + RB_HEADER_SIZE, b + len, &rl);
    REQUIRE(n == 1);
    b[RB_HEADER_SIZE] = (uint8_t)((rl + 1) << 1);
    be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    CHECK_EQ(v.record_index, 0);
    free(b);

    /* Records count says 4 but only 3 records present. */
    b = mkbatch(3, T0, &len);
    be32_store(b + RB_OFF_RECORDS_COUNT, 4);
    be32_store(b + RB_OFF_LAST_OFFSET_DELTA, 3);
    be32_store(b + RB_OFF_CRC, rb_compute_crc(b, len));
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_CORRUPT_MESSAGE);
    CHECK_EQ(v.record_index, 3);
    free(b);

    /* Timestamp window (CreateTime). */
    b = mkbatch(3, T0, &len);
    lim.timestamp_before_max_ms = 1000;
    rb_validate_client_batch(b, len, &lim, T0 + 5000, &h, &v);
    CHECK_EQ(v.error, KERR_INVALID_TIMESTAMP);
    CHECK_EQ(v.record_index, 0);
    lim.timestamp_before_max_ms = INT64_MAX;
    lim.timestamp_after_max_ms = 1;
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_INVALID_TIMESTAMP);
    CHECK_EQ(v.record_index, 2);
    lim.timestamp_type = 1;                              /* LogAppendTime: not checked */
    rb_validate_client_batch(b, len, &lim, T0, &h, &v);
    CHECK_EQ(v.error, KERR_NONE);
    free(b);
}

TEST(storage_batch_set_max_timestamp_keeps_crc_valid)
{
    size_t len;
    uint8_t *b = mkbatch(2, T0, &len);
    rb_set_max_timestamp(b, len, true, T0 + 999);
    rb_header h;
    REQUIRE(rb_parse_header(b, len, &h) == KERR_NONE);
    CHECK(rb_is_log_append_time(&h));
    CHECK_EQ(h.max_timestamp, T0 + 999);
    CHECK(rb_crc_ok(b, &h));
    free(b);
}

TEST(storage_batch_seq_wrap)
{
    CHECK_EQ(rb_seq_add(INT32_MAX, 1), 0);
    CHECK_EQ(rb_seq_add(INT32_MAX - 1, 3), 1);
    CHECK_EQ(rb_seq_add(5, 3), 8);
}

static void check_codec(int codec)
{
    size_t len;
    uint8_t *b = mkbatch_ex(50, T0, 10, codec, -1, -1, -1, 100, &len);
    REQUIRE(b);
    rb_iter it;
    REQUIRE_EQ(rb_iter_init(&it, b, len, 1 << 20), KERR_NONE);
    rb_iter_record r;
    int n = 0, rc;
    while ((rc = rb_iter_next(&it, &r)) == 1) {
        CHECK_EQ(r.offset, n);
        CHECK_EQ(r.timestamp, T0 + n * 10);
        CHECK_EQ(r.r.value_len, 100);
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 50);
    rb_iter_free(&it);
    /* Cap below the real size: refused, not truncated. */
    if (codec != RB_CODEC_NONE)
        CHECK(rb_iter_init(&it, b, len, 1000) == KERR_CORRUPT_MESSAGE);
    rb_iter_free(&it);
    free(b);
}

TEST(storage_codecs_iterate)
{
    check_codec(RB_CODEC_NONE);
    check_codec(RB_CODEC_GZIP);
    check_codec(RB_CODEC_SNAPPY);
    check_codec(RB_CODEC_LZ4);
    check_codec(RB_CODEC_ZSTD);
}

TEST(storage_codec_snappy_xerial_and_raw)
{
    uint8_t in[5000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 % 13);
    for (int x = 0; x < 2; x++) {
        uint8_t *c, *d;
        size_t cl, dl;
        REQUIRE(codec_compress(RB_CODEC_SNAPPY, x, in, sizeof in, &c, &cl) == KERR_NONE);
        CHECK_EQ(x ? memcmp(c, "\x82SNAPPY", 7) : 0, 0);
        REQUIRE(codec_decompress(RB_CODEC_SNAPPY, c, cl, 1 << 20, &d, &dl) == KERR_NONE);
        CHECK_EQ(dl, sizeof in);
        CHECK(memcmp(d, in, sizeof in) == 0);
        free(d);
        /* truncated stream */
        CHECK(codec_decompress(RB_CODEC_SNAPPY, c, cl - 3, 1 << 20, &d, &dl) != KERR_NONE);
        free(c);
    }
}

TEST(storage_codec_bounded_bomb)
{
    /* 8 MiB of zeros compresses to a few KB; a 1 MiB cap must refuse it. */
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    int codecs[] = { RB_CODEC_GZIP, RB_CODEC_LZ4, RB_CODEC_ZSTD, RB_CODEC_SNAPPY };
    for (int i = 0; i < 4; i++) {
        uint8_t *c, *d = NULL;
        size_t cl, dl;
        REQUIRE(codec_compress(codecs[i], 0, zeros, n, &c, &cl) == KERR_NONE);
        CHECK_EQ(codec_decompress(codecs[i], c, cl, 1u << 20, &d, &dl), KERR_CORRUPT_MESSAGE);
        CHECK(d == NULL);
        CHECK_EQ(codec_decompress(codecs[i], c, cl, n, &d, &dl), KERR_NONE);
        CHECK_EQ(dl, n);
        free(d);
        /* garbage input */
        CHECK(codec_decompress(codecs[i], (const uint8_t *)"garbage-bytes-here", 18, 1 << 20, &d, &dl) != KERR_NONE);
        free(c);
    }
    free(zeros);
}

TEST(storage_offset_index_lookup)
{
    const char *dir = test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/0.index", dir);
    index_file f;
    REQUIRE(idxf_init(&f, path, OIDX_ENTRY) == 0);
    REQUIRE(idxf_create(&f) == 0);
    for (int i = 1; i <= 10; i++)
        REQUIRE(oidx_append(&f, i * 10, i * 1000) == 0);
    CHECK_EQ(oidx_append(&f, 50, 99999), 0);        /* not increasing: ignored */
    CHECK_EQ(f.n, 10);
    int32_t r, p;
    oidx_lookup(&f, 5, &r, &p);                     /* before the first */
    CHECK_EQ(r, 0);
    CHECK_EQ(p, 0);
    oidx_lookup(&f, 30, &r, &p);                    /* exact */
    CHECK_EQ(r, 30);
    CHECK_EQ(p, 3000);
    oidx_lookup(&f, 35, &r, &p);                    /* between */
    CHECK_EQ(r, 30);
    oidx_lookup(&f, 1000, &r, &p);                  /* after the last */
    CHECK_EQ(r, 100);
    CHECK_EQ(p, 10000);
    REQUIRE(idxf_persist(&f) == 0);
    CHECK_EQ(file_size(path), 80);
    REQUIRE(oidx_truncate_to(&f, 60) == 0);
    CHECK_EQ(f.n, 5);
    CHECK_EQ(file_size(path), 40);
    /* Map it read-only and look up again. */
    REQUIRE(idxf_unload(&f) == 0);
    REQUIRE(idxf_map(&f) == 0);
    CHECK_EQ(f.n, 5);
    oidx_lookup(&f, 45, &r, &p);
    CHECK_EQ(r, 40);
    CHECK_EQ(p, 4000);
    idxf_free(&f);
    /* A file whose length is not a multiple of 8 is refused. */
    FILE *fp = fopen(path, "ab");
    fputc(1, fp);
    fclose(fp);
    REQUIRE(idxf_init(&f, path, OIDX_ENTRY) == 0);
    CHECK(idxf_map(&f) < 0);
    idxf_free(&f);
}

TEST(storage_time_index_semantics)
{
    const char *dir = test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/0.timeindex", dir);
    index_file f;
    REQUIRE(idxf_init(&f, path, TIDX_ENTRY) == 0);
    REQUIRE(idxf_create(&f) == 0);
    tidx_maybe_append(&f, -1, 0);                   /* -1 never indexed */
    CHECK_EQ(f.n, 0);
    tidx_maybe_append(&f, 100, 5);
    tidx_maybe_append(&f, 100, 9);                  /* not greater: skipped */
    tidx_maybe_append(&f, 90, 12);                  /* lower: skipped (monotonic) */
    tidx_maybe_append(&f, 200, 20);
    CHECK_EQ(f.n, 2);
    int64_t ts;
    int32_t rel;
    CHECK(!tidx_lookup(&f, 50, &ts, &rel));
    CHECK(tidx_lookup(&f, 150, &ts, &rel));
    CHECK_EQ(ts, 100);
    CHECK_EQ(rel, 5);
    CHECK(tidx_lookup(&f, 999, &ts, &rel));
    CHECK_EQ(rel, 20);
    CHECK(tidx_sane(&f));
    idxf_free(&f);
}

TEST(storage_checkpoint_roundtrip_and_atomic)
{
    const char *dir = test_tmpdir();
    ckpt_entry e[3] = { { "orders", 0, 42 }, { "a.b_c-d", 7, 0 }, { "x", 2, 1234567890123LL } };
    REQUIRE(ckpt_write(dir, CKPT_RECOVERY_POINT, e, 3) == 0);
    char path[600], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, CKPT_RECOVERY_POINT);
    REQUIRE(sio_read_file(path, 4096, &buf, &len) == 0);
    CHECK_STR(buf, "0\n3\norders 0 42\na.b_c-d 7 0\nx 2 1234567890123\n");
    free(buf);
    ckpt_entry *r;
    size_t n;
    REQUIRE(ckpt_read(dir, CKPT_RECOVERY_POINT, &r, &n) == 0);
    REQUIRE_EQ(n, 3);
    CHECK_STR(r[1].topic, "a.b_c-d");
    CHECK_EQ(r[1].partition, 7);
    CHECK_EQ(ckpt_lookup(r, n, "x", 2), 1234567890123LL);
    CHECK_EQ(ckpt_lookup(r, n, "x", 3), -1);
    ckpt_free(r, n);
    /* Replace: no temp file left behind, new content visible. */
    REQUIRE(ckpt_write(dir, CKPT_RECOVERY_POINT, e, 1) == 0);
    snprintf(path, sizeof path, "%s/%s.tmp", dir, CKPT_RECOVERY_POINT);
    CHECK(access(path, F_OK) != 0);
    REQUIRE(ckpt_read(dir, CKPT_RECOVERY_POINT, &r, &n) == 0);
    CHECK_EQ(n, 1);
    ckpt_free(r, n);
    /* Corrupt files are rejected whole. */
    const char *bad[] = { "1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt x 1\n", "0\n1\nt 0 1\nextra 0 1\n", "" };
    for (int i = 0; i < 5; i++) {
        sio_write_file_atomic(dir, "bad", bad[i], strlen(bad[i]), 0);
        CHECK(ckpt_read(dir, "bad", &r, &n) < 0);
    }
    CHECK(ckpt_read(dir, "missing", &r, &n) < 0 && errno == ENOENT);
}

TEST(storage_leader_epoch_cache)
{
    const char *dir = test_tmpdir();
    leader_epoch_cache c;
    lec_init(&c);
    lec_assign(&c, 0, 0);
    lec_assign(&c, 0, 10);                          /* same epoch: ignored */
    lec_assign(&c, 2, 50);
    lec_assign(&c, 5, 80);
    CHECK_EQ(c.n, 3);
    CHECK_EQ(lec_epoch_for_offset(&c, 49), 0);
    CHECK_EQ(lec_epoch_for_offset(&c, 50), 2);
    CHECK_EQ(lec_latest_epoch(&c), 5);
    int32_t ep;
    int64_t end;
    lec_end_offset_for(&c, 3, 100, -1, &ep, &end);
    CHECK_EQ(ep, 2);
    CHECK_EQ(end, 80);
    lec_end_offset_for(&c, 5, 100, -1, &ep, &end);
    CHECK_EQ(end, 100);
    REQUIRE(lec_write(&c, dir, true) == 0);
    leader_epoch_cache d;
    lec_init(&d);
    REQUIRE(lec_read(&d, dir) == 0);
    CHECK_EQ(d.n, 3);
    CHECK_EQ(d.e[2].start_offset, 80);
    lec_truncate_from_end(&d, 80);
    CHECK_EQ(d.n, 2);
    lec_truncate_from_start(&d, 60);
    CHECK_EQ(d.n, 1);
    CHECK_EQ(d.e[0].epoch, 2);
    CHECK_EQ(d.e[0].start_offset, 60);
    lec_free(&c);
    lec_free(&d);
}

TEST(storage_meta_properties_roundtrip)
{
    const char *dir = test_tmpdir();
    meta_properties mp;
    CHECK_EQ(meta_properties_read(dir, &mp), KERR__NOENT);
    memset(&mp, 0, sizeof mp);
    mp.version = 1;
    mp.node_id = 3;
    snprintf(mp.cluster_id, sizeof mp.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    REQUIRE(meta_properties_write(dir, &mp) == KERR_NONE);
    meta_properties r;
    REQUIRE(meta_properties_read(dir, &r) == KERR_NONE);
    CHECK_EQ(r.version, 1);
    CHECK_EQ(r.node_id, 3);
    CHECK_STR(r.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    /* A Kafka-written file with comments and extra keys. */
    const char *kafka = "#\n#Tue Oct 10 10:00:00 UTC 2023\nnode.id=1\ndirectory.id=abc\nversion=1\ncluster.id=XYZ\n";
    sio_write_file_atomic(dir, "meta.properties", kafka, strlen(kafka), 0);
    REQUIRE(meta_properties_read(dir, &r) == KERR_NONE);
    CHECK_EQ(r.node_id, 1);
    CHECK_STR(r.cluster_id, "XYZ");
    CHECK_STR(r.directory_id, "abc");
    sio_write_file_atomic(dir, "meta.properties", "garbage\n", 8, 0);
    CHECK_EQ(meta_properties_read(dir, &r), KERR_CORRUPT_MESSAGE);
}

TEST(storage_dir_lock_twice_fails_naming_dir)
{
    const char *dir = test_tmpdir();
    char err[512];
    int fd = log_dir_lock(dir, err, sizeof err);
    REQUIRE(fd >= 0);
    int fd2 = log_dir_lock(dir, err, sizeof err);
    CHECK(fd2 < 0);
    CHECK(strstr(err, dir) != NULL);
    CHECK(strstr(err, ".lock") != NULL);
    log_dir_unlock(fd);
    fd2 = log_dir_lock(dir, err, sizeof err);
    CHECK(fd2 >= 0);
    log_dir_unlock(fd2);
}
