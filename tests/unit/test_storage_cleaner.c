/* test_storage_cleaner.c - log compaction: last value per key with original
 * offsets, batch boundaries, CRCs and indexes after cleaning, the cleanable
 * range (active segment, HW, min/max compaction lag), tombstones and the
 * delete horizon, the four codecs, idempotent producers' last batch, crash
 * recovery of .cleaned/.swap files, a small offset map, the cleaner
 * checkpoint through the log manager, aborts, keyless records, and a
 * 1,000,000-record log.  Real files in test_tmpdir(). */
#include "test.h"
#include "test_storage_util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>

#include "core/clock.h"
#include "core/endian.h"
#include "storage/checkpoint.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"
#include "test_storage_int.h"
#include "storage/record_iter.h"
#include "os/sio.h"

static char g_dir[512];

static const char *tdir(void)
{
    snprintf(g_dir, sizeof g_dir, "%s", test_tmpdir());
    return g_dir;
}

#define HOUR 3600000LL

/* Compacted log config; segment_bytes 100 puts every small batch (70..100
 * bytes) in a segment of its own. */
static void ccfg(log_config *c, int64_t segment_bytes)
{
    test_cfg(c);
    c->compact = true;
    c->delete_retention = false;
    c->segment_bytes = segment_bytes;
    c->index_interval_bytes = 128;
}

/* ---- the model: every record appended ---- */

typedef struct mrec {
    int64_t off;
    char key[24];               /* "" = null key */
    char val[48];
    bool tomb;
} mrec;

typedef struct model {
    mrec *r;
    int n, cap;
    int64_t (*b)[2];            /* every batch appended: base, last offset */
    int nb, bcap;
} model;

static void model_batch(model *m, int64_t base, int64_t last)
{
    if (m->nb == m->bcap) {
        m->bcap = m->bcap ? m->bcap * 2 : 64;
        m->b = realloc(m->b, sizeof *m->b * (size_t)m->bcap);
    }
    m->b[m->nb][0] = base;
    m->b[m->nb++][1] = last;
}

static void model_free(model *m)
{
    free(m->r);
    free(m->b);
}

static void model_add(model *m, int64_t off, const char *k, const char *v)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->r = realloc(m->r, sizeof *m->r * (size_t)m->cap);
    }
    mrec *r = &m->r[m->n++];
    memset(r, 0, sizeof *r);
    r->off = off;
    snprintf(r->key, sizeof r->key, "%s", k ? k : "");
    snprintf(r->val, sizeof r->val, "%s", v ? v : "");
    r->tomb = v == NULL;
}

/* Append one batch: keys[i]/vals[i] (NULL value = tombstone). */
static int put_batch_ex(plog *l, model *m, int n, const char *const *keys, const char *const *vals, int codec,
                        int64_t pid, int16_t epoch, int32_t seq, int64_t ts, int64_t *base)
{
    bb_params p;
    bb_params_init(&p);
    p.codec = codec;
    p.snappy_xerial = 1;
    p.producer_id = pid;
    p.producer_epoch = epoch;
    p.base_sequence = seq;
    bb_record *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) {
        r[i].key = keys[i];
        r[i].key_len = keys[i] ? (int32_t)strlen(keys[i]) : 0;
        r[i].value = vals[i];
        r[i].value_len = vals[i] ? (int32_t)strlen(vals[i]) : 0;
        r[i].timestamp = ts + i;
    }
    uint8_t *b = NULL;
    size_t len = 0;
    int e = bb_build(&p, r, n, &b, &len);
    free(r);
    if (e)
        return e;
    plog_append_result res;
    e = plog_append(l, b, len, 0, ts, &res);
    free(b);
    if (e)
        return e;
    plog_set_high_watermark(l, plog_log_end_offset(l));
    for (int i = 0; m && i < n; i++)
        model_add(m, res.base_offset + i, keys[i], vals[i]);
    if (m)
        model_batch(m, res.base_offset, res.last_offset);
    if (base)
        *base = res.base_offset;
    return KERR_NONE;
}

static int put1(plog *l, model *m, const char *k, const char *v, int64_t ts)
{
    const char *ks[1] = { k }, *vs[1] = { v };
    return put_batch_ex(l, m, 1, ks, vs, RB_CODEC_NONE, -1, -1, -1, ts, NULL);
}

/* ---- reading the log back through plog_read ---- */

typedef struct seen {
    mrec *r;
    int n, cap;
    int64_t (*b)[2];            /* batches read: base, last offset */
    int nb;
    int batches, empty_batches, horizon_batches, crc_bad, order_bad, codec_bad;
    int64_t last_offset;
} seen;

static void seen_free(seen *s)
{
    free(s->r);
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* Every batch from the log start: CRC, increasing offsets, codec (if
 * codec >= 0, for batches with records).  Returns 0, -1 on a read error. */
static int read_all(plog *l, seen *s, int codec)
{
    memset(s, 0, sizeof *s);
    s->last_offset = -1;
    model m = { 0 };
    int64_t off = plog_log_start_offset(l);
    for (;;) {
        plog_read_result r;
        if (plog_read(l, off, 1 << 20, true, 0, &r) != KERR_NONE) {
            model_free(&m);
            return -1;
        }
        if (!r.file)
            break;
        uint8_t *buf = malloc((size_t)r.len);
        if (pread(r.file->fd, buf, (size_t)r.len, r.file_pos) != r.len) {
            free(buf);
            fileref_unref(r.file);
            model_free(&m);
            return -1;
        }
        size_t pos = 0;
        bool any = false;
        while (pos + RB_HEADER_SIZE <= (size_t)r.len) {
            rb_header h;
            if (rb_parse_header(buf + pos, (size_t)r.len - pos, &h) || rb_size(&h) > (size_t)r.len - pos)
                break;
            any = true;
            s->batches++;
            if (!rb_crc_ok(buf + pos, &h))
                s->crc_bad++;
            if (h.base_offset <= s->last_offset)
                s->order_bad++;
            s->last_offset = rb_last_offset(&h);
            model_batch(&m, h.base_offset, rb_last_offset(&h));
            if (h.records_count == 0)
                s->empty_batches++;
            else if (codec >= 0 && rb_codec(&h) != codec)
                s->codec_bad++;
            if (h.attributes & RB_ATTR_DELETE_HORIZON)
                s->horizon_batches++;
            rb_iter it;
            rb_iter_record rec;
            if (rb_iter_init(&it, buf + pos, rb_size(&h), 64 << 20) == KERR_NONE) {
                int k;
                while ((k = rb_iter_next(&it, &rec)) == 1) {
                    if (rec.offset < off)
                        continue;
                    char kb[24] = "", vb[48] = "";
                    if (rec.r.key)
                        snprintf(kb, sizeof kb, "%.*s", rec.r.key_len, (const char *)rec.r.key);
                    if (rec.r.value)
                        snprintf(vb, sizeof vb, "%.*s", rec.r.value_len, (const char *)rec.r.value);
                    model_add(&m, rec.offset, rec.r.key ? kb : NULL, rec.r.value ? vb : NULL);
                }
                if (k < 0)
                    s->crc_bad++;
                rb_iter_free(&it);
            } else {
                s->crc_bad++;
            }
            off = rb_last_offset(&h) + 1;
            pos += rb_size(&h);
        }
        free(buf);
        fileref_unref(r.file);
        if (!any) {
            model_free(&m);
            return -1;
        }
    }
    s->r = m.r;
    s->n = m.n;
    s->cap = m.cap;
    s->b = m.b;
    s->nb = m.nb;
    return 0;
}

/* The survivors a compaction up to `end` must leave: every record at or
 * above end, and below it the last record of each key (tombstones
 * included; keyless records go). */
static int expected(const model *m, int64_t end, mrec **out)
{
    mrec *e = malloc(sizeof *e * (size_t)(m->n ? m->n : 1));
    int n = 0;
    for (int i = 0; i < m->n; i++) {
        const mrec *r = &m->r[i];
        bool keep = r->off >= end;
        if (!keep && r->key[0]) {
            keep = true;
            for (int j = i + 1; j < m->n && m->r[j].off < end; j++)
                if (!strcmp(m->r[j].key, r->key)) {
                    keep = false;
                    break;
                }
        }
        if (keep)
            e[n++] = *r;
    }
    *out = e;
    return n;
}

static void check_same(const mrec *want, int nw, const seen *s)
{
    CHECK_EQ(s->n, nw);
    for (int i = 0; i < nw && i < s->n; i++) {
        if (want[i].off != s->r[i].off || strcmp(want[i].key, s->r[i].key) ||
            strcmp(want[i].val, s->r[i].val) || want[i].tomb != s->r[i].tomb) {
            test_fail(__FILE__, __LINE__, "record %d: want %lld %s=%s, got %lld %s=%s", i,
                      (long long)want[i].off, want[i].key, want[i].val, (long long)s->r[i].off,
                      s->r[i].key, s->r[i].val);
            return;
        }
    }
}

/* Every surviving offset is found through the index by a fetch. */
static void check_lookups(plog *l, const seen *s)
{
    for (int i = 0; i < s->n; i++) {
        plog_read_result r;
        REQUIRE_EQ(plog_read(l, s->r[i].off, 1, true, 0, &r), KERR_NONE);
        REQUIRE(r.file);
        uint8_t hb[RB_HEADER_SIZE];
        REQUIRE(pread(r.file->fd, hb, sizeof hb, r.file_pos) == (ssize_t)sizeof hb);
        rb_header h;
        REQUIRE(rb_parse_header(hb, sizeof hb, &h) == KERR_NONE);
        CHECK(h.base_offset <= s->r[i].off && s->r[i].off <= rb_last_offset(&h));
        fileref_unref(r.file);
    }
}

static void verify(plog *l, const model *m, int64_t end, int codec)
{
    mrec *want;
    int nw = expected(m, end, &want);
    seen s;
    REQUIRE(read_all(l, &s, codec) == 0);
    CHECK_EQ(s.crc_bad, 0);
    CHECK_EQ(s.order_bad, 0);
    CHECK_EQ(s.codec_bad, 0);
    check_same(want, nw, &s);
    check_lookups(l, &s);
    /* Batch boundaries: every batch read is one that was appended. */
    for (int i = 0, j = 0; i < s.nb; i++) {
        while (j < m->nb && m->b[j][0] < s.b[i][0])
            j++;
        if (j == m->nb || m->b[j][0] != s.b[i][0] || m->b[j][1] != s.b[i][1]) {
            test_fail(__FILE__, __LINE__, "batch [%lld, %lld] was never appended", (long long)s.b[i][0],
                      (long long)s.b[i][1]);
            break;
        }
    }
    free(want);
    seen_free(&s);
}

static int count_files(const char *dir, const char *suffix)
{
    char path[700];
    snprintf(path, sizeof path, "%s/t-0", dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *de;
    size_t sl = strlen(suffix);
    while (d && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl >= sl && !strcmp(de->d_name + nl - sl, suffix))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* ---------------------------------------------------------------- tests */

TEST(storage_cleaner_keeps_last_value_per_key)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 2000);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    for (int b = 0; b < 80; b++) {
        const char *ks[5], *vs[5];
        char kb[5][16], vb[5][32];
        for (int j = 0; j < 5; j++) {
            snprintf(kb[j], sizeof kb[j], "k%d", (b * 7 + j * 3) % 23);
            snprintf(vb[j], sizeof vb[j], "value-%d-%d", b, j);
            ks[j] = kb[j];
            vs[j] = vb[j];
        }
        REQUIRE_EQ(put_batch_ex(l, &m, 5, ks, vs, RB_CODEC_NONE, -1, -1, -1, T0, NULL), KERR_NONE);
    }
    int segs = plog_segment_count(l);
    REQUIRE(segs > 4);
    int64_t active_base = l->segs[l->nsegs - 1]->base_offset;
    int64_t size_before = plog_size_bytes(l);

    log_cleaner_info in;
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(in.should_clean);
    CHECK_EQ(in.first_dirty_offset, 0);
    CHECK_EQ(in.first_uncleanable_offset, active_base);
    CHECK_EQ(in.clean_bytes, 0);
    CHECK(in.dirty_ratio > 0.99);

    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK(!st.aborted);
    CHECK_EQ(st.first_dirty_offset, 0);
    CHECK_EQ(st.end_offset, active_base);
    CHECK_EQ(plog_cleaner_offset(l), active_base);
    CHECK_EQ(st.map_entries, 23);
    CHECK(!st.map_full);
    CHECK_EQ(st.segments_read, segs - 1);
    CHECK(st.records_retained < st.records_read);
    CHECK(plog_size_bytes(l) < size_before);
    CHECK_EQ(plog_log_end_offset(l), 400);
    printf("    cleaned %d segments: %lld -> %lld bytes, %lld -> %lld records\n", st.segments_read,
           (long long)st.bytes_read, (long long)st.bytes_written, (long long)st.records_read,
           (long long)st.records_retained);
    verify(l, &m, active_base, RB_CODEC_NONE);
    CHECK_EQ(count_files(dir, ".cleaned"), 0);
    CHECK_EQ(count_files(dir, ".swap"), 0);

    /* A second pass with nothing dirty does nothing. */
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(!in.should_clean);
    CHECK_EQ(in.cleanable_bytes, 0);
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(!st.cleaned);

    /* More dirty data: the small cleaned segments are grouped together. */
    for (int b = 0; b < 40; b++) {
        char kb[16], vb[32];
        snprintf(kb, sizeof kb, "k%d", b % 30);
        snprintf(vb, sizeof vb, "second-%d", b);
        const char *ks[1] = { kb }, *vs[1] = { vb };
        REQUIRE_EQ(put_batch_ex(l, &m, 1, ks, vs, RB_CODEC_NONE, -1, -1, -1, T0, NULL), KERR_NONE);
    }
    active_base = l->segs[l->nsegs - 1]->base_offset;
    segs = plog_segment_count(l);
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.end_offset, active_base);
    CHECK(st.segments_written < st.segments_read);
    CHECK(plog_segment_count(l) < segs);
    verify(l, &m, active_base, RB_CODEC_NONE);

    /* Reopen after a clean close, then with full recovery of every segment. */
    plog_close(l);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 1, -1);
    REQUIRE(l);
    verify(l, &m, active_base, RB_CODEC_NONE);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(plog_log_end_offset(l), m.r[m.n - 1].off + 1);
    verify(l, &m, active_base, RB_CODEC_NONE);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_respects_active_segment_hw_and_min_lag)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    cfg.min_compaction_lag_ms = HOUR;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    for (int i = 0; i < 6; i++)              /* old: 2 h ago */
        REQUIRE_EQ(put1(l, &m, i % 2 ? "a" : "b", "old", T0 - 2 * HOUR + i), KERR_NONE);
    int64_t young = plog_log_end_offset(l);
    for (int i = 0; i < 6; i++)              /* young: within the lag */
        REQUIRE_EQ(put1(l, &m, i % 2 ? "a" : "b", "young", T0 - 60000 + i), KERR_NONE);
    REQUIRE_EQ(plog_segment_count(l), 12);   /* one batch a segment */

    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.first_uncleanable_offset, young);
    CHECK_EQ(st.end_offset, young);
    verify(l, &m, young, RB_CODEC_NONE);     /* young duplicates untouched */

    /* Without the lag, everything below the active segment... */
    cfg.min_compaction_lag_ms = 0;
    plog_set_config(l, &cfg);
    /* ...but not past the segment holding the HW. */
    test_lower_hw(l, young + 3);
    int64_t hw_seg = l->segs[l->nsegs - 1 - 2]->base_offset;     /* base of the segment holding young+3 */
    REQUIRE_EQ(hw_seg, young + 3);
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK_EQ(st.first_uncleanable_offset, young + 3);
    CHECK_EQ(st.end_offset, young + 3);
    plog_set_high_watermark(l, plog_log_end_offset(l));
    verify(l, &m, young + 3, RB_CODEC_NONE);

    int64_t active_base = l->segs[l->nsegs - 1]->base_offset;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK_EQ(st.end_offset, active_base);
    verify(l, &m, active_base, RB_CODEC_NONE);
    seen s;
    REQUIRE(read_all(l, &s, -1) == 0);
    CHECK_EQ(s.n, 3);                        /* a, b below the active one, and the active batch */
    CHECK_EQ(s.r[s.n - 1].off, active_base);
    seen_free(&s);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_max_compaction_lag_and_ratio)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    cfg.min_cleanable_ratio = 1.0;            /* never by ratio */
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 4; i++)
        REQUIRE_EQ(put1(l, NULL, "k", "v", T0 - 2 * HOUR), KERR_NONE);
    log_cleaner_info in;
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(!in.need_compaction_now);
    CHECK(!in.should_clean);
    cfg.max_compaction_lag_ms = HOUR;
    plog_set_config(l, &cfg);
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(in.need_compaction_now);
    CHECK(in.should_clean);
    REQUIRE_EQ(plog_cleaner_info(l, T0 - 90 * 60000, &in), KERR_NONE);   /* only 30 min old then */
    CHECK(!in.need_compaction_now);

    /* Not compacted: never cleaned. */
    cfg.compact = false;
    plog_set_config(l, &cfg);
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(!in.should_clean);
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(!st.cleaned);
    CHECK(st.note != NULL);

    /* A forced pass ignores the ratio; after it nothing is dirty. */
    cfg.compact = true;
    cfg.max_compaction_lag_ms = INT64_MAX;
    plog_set_config(l, &cfg);
    log_cleaner_opts o;
    log_cleaner_opts_init(&o);
    o.force = false;
    REQUIRE_EQ(plog_clean_ex(l, T0, &o, &st), KERR_NONE);
    CHECK(!st.cleaned);
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    REQUIRE_EQ(plog_cleaner_info(l, T0, &in), KERR_NONE);
    CHECK(in.clean_bytes > 0);
    CHECK_EQ(in.cleanable_bytes, 0);
    CHECK(in.dirty_ratio == 0.0);
    plog_close(l);
    plog_unref(l);
}

/* The batch holding offset `off` (header only). */
static int batch_at(plog *l, int64_t off, rb_header *h, uint8_t *first_bytes, size_t nfirst)
{
    plog_read_result r;
    if (plog_read(l, off, 1, true, 0, &r) != KERR_NONE || !r.file)
        return -1;
    uint8_t hb[RB_HEADER_SIZE + 16];
    ssize_t n = pread(r.file->fd, hb, sizeof hb, r.file_pos);
    fileref_unref(r.file);
    if (n < RB_HEADER_SIZE || rb_parse_header(hb, (size_t)n, h) != KERR_NONE)
        return -1;
    if (first_bytes)
        memcpy(first_bytes, hb + RB_HEADER_SIZE, nfirst);
    return 0;
}

TEST(storage_cleaner_tombstones_delete_horizon)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    cfg.delete_retention_ms = 1000;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    REQUIRE_EQ(put1(l, &m, "k1", "a", T0), KERR_NONE);            /* 0 */
    REQUIRE_EQ(put1(l, &m, "k2", "b", T0), KERR_NONE);            /* 1 */
    const char *ks[2] = { "k1", "k3" }, *vs[2] = { NULL, "c" };
    REQUIRE_EQ(put_batch_ex(l, &m, 2, ks, vs, RB_CODEC_NONE, -1, -1, -1, T0, NULL), KERR_NONE); /* 2: k1 tombstone, 3: k3 */
    REQUIRE_EQ(put1(l, &m, "k2", NULL, T0), KERR_NONE);           /* 4: k2 tombstone... */
    REQUIRE_EQ(put1(l, &m, "k2", "b2", T0), KERR_NONE);           /* 5: ...superseded */
    REQUIRE_EQ(put1(l, &m, "k9", "active", T0), KERR_NONE);       /* 6: active segment */

    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.end_offset, 6);
    CHECK_EQ(st.tombstones_removed, 1);                            /* k2's, superseded */
    seen s;
    REQUIRE(read_all(l, &s, -1) == 0);
    REQUIRE_EQ(s.n, 4);                                            /* k1 tomb, k3, k2=b2, k9 */
    CHECK_EQ(s.r[0].off, 2);
    CHECK(s.r[0].tomb);
    CHECK_EQ(s.r[1].off, 3);
    CHECK_EQ(s.r[2].off, 5);
    CHECK_EQ(s.horizon_batches, 1);
    seen_free(&s);
    rb_header h;
    REQUIRE(batch_at(l, 2, &h, NULL, 0) == 0);
    CHECK(h.attributes & RB_ATTR_DELETE_HORIZON);
    CHECK_EQ(h.base_timestamp, T0 + 1000);                         /* the horizon */
    CHECK_EQ(h.max_timestamp, T0 + 1);                             /* records keep their timestamps */
    CHECK_EQ(h.base_offset, 2);
    CHECK_EQ(h.last_offset_delta, 1);
    CHECK_EQ(h.records_count, 2);

    /* Before the horizon a later pass keeps it, horizon unchanged. */
    REQUIRE_EQ(put1(l, &m, "k4", "d", T0), KERR_NONE);
    REQUIRE_EQ(plog_clean(l, T0 + 999, &st), KERR_NONE);
    CHECK(st.cleaned);
    REQUIRE(batch_at(l, 2, &h, NULL, 0) == 0);
    CHECK_EQ(h.base_offset, 2);
    CHECK_EQ(h.base_timestamp, T0 + 1000);
    REQUIRE(read_all(l, &s, -1) == 0);
    CHECK(s.r[0].tomb);
    int64_t ts_k3 = -1;
    plog_read_result rr;
    REQUIRE_EQ(plog_read(l, 3, 1, true, 0, &rr), KERR_NONE);
    {
        uint8_t buf[512];
        ssize_t n = pread(rr.file->fd, buf, sizeof buf, rr.file_pos);
        rb_iter it;
        rb_iter_record rec;
        REQUIRE(n > 0 && rb_iter_init(&it, buf, (size_t)n, 1 << 20) == KERR_NONE);
        while (rb_iter_next(&it, &rec) == 1)
            if (rec.offset == 3)
                ts_k3 = rec.timestamp;
        rb_iter_free(&it);
        fileref_unref(rr.file);
    }
    CHECK_EQ(ts_k3, T0 + 1);                                       /* delta rebased on the horizon */
    seen_free(&s);

    /* At the horizon the next pass drops the tombstone; k3 stays. */
    REQUIRE_EQ(put1(l, &m, "k5", "e", T0), KERR_NONE);
    REQUIRE_EQ(plog_clean(l, T0 + 1000, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.tombstones_removed, 1);
    REQUIRE(read_all(l, &s, -1) == 0);
    CHECK_EQ(s.r[0].off, 3);
    CHECK(!strcmp(s.r[0].key, "k3"));
    for (int i = 0; i < s.n; i++)
        CHECK(!s.r[i].tomb);
    CHECK_EQ(s.crc_bad, 0);
    REQUIRE(batch_at(l, 3, &h, NULL, 0) == 0);
    CHECK_EQ(h.base_offset, 2);                                    /* batch boundaries kept */
    CHECK_EQ(h.records_count, 1);
    CHECK(h.attributes & RB_ATTR_DELETE_HORIZON);                  /* horizon stays with the batch */
    seen_free(&s);
    /* A fetch of the removed offset returns the next surviving record. */
    REQUIRE_EQ(plog_read(l, 0, 1, true, 0, &rr), KERR_NONE);
    CHECK_EQ(rr.file_pos, 0);
    fileref_unref(rr.file);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

static void cleaner_codec(int codec)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 4096);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    for (int b = 0; b < 60; b++) {
        const char *ks[10], *vs[10];
        char kb[10][16], vb[10][48];
        for (int j = 0; j < 10; j++) {
            snprintf(kb[j], sizeof kb[j], "key%d", (b * 3 + j) % 17);
            snprintf(vb[j], sizeof vb[j], "compressed-value-%d-%d", b, j);
            ks[j] = kb[j];
            vs[j] = vb[j];
        }
        REQUIRE_EQ(put_batch_ex(l, &m, 10, ks, vs, codec, -1, -1, -1, T0 + b, NULL), KERR_NONE);
    }
    REQUIRE(plog_segment_count(l) > 2);
    int64_t active_base = l->segs[l->nsegs - 1]->base_offset;
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK(st.records_retained < st.records_read);
    verify(l, &m, active_base, codec);
    if (codec == RB_CODEC_SNAPPY) {                                /* the Java framing survives */
        rb_header h;
        uint8_t first[8];
        REQUIRE(batch_at(l, 0, &h, first, sizeof first) == 0);
        CHECK(first[0] == 0x82 && !memcmp(first + 1, "SNAPPY", 6));
    }
    plog_close(l);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 0, 0);                               /* full recovery: CRCs */
    REQUIRE(l);
    verify(l, &m, active_base, codec);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_gzip) { cleaner_codec(RB_CODEC_GZIP); }
TEST(storage_cleaner_snappy) { cleaner_codec(RB_CODEC_SNAPPY); }
TEST(storage_cleaner_lz4) { cleaner_codec(RB_CODEC_LZ4); }
TEST(storage_cleaner_zstd) { cleaner_codec(RB_CODEC_ZSTD); }

TEST(storage_cleaner_idempotent_producer_last_batch_kept_empty)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    const char *ka[1] = { "k1" }, *va[1] = { "a1" }, *kb[1] = { "k2" }, *vb[1] = { "b1" };
    REQUIRE_EQ(put_batch_ex(l, &m, 1, ka, va, RB_CODEC_NONE, 1000, 3, 0, T0, NULL), KERR_NONE);  /* 0 */
    REQUIRE_EQ(put_batch_ex(l, &m, 1, kb, vb, RB_CODEC_NONE, 1000, 3, 1, T0, NULL), KERR_NONE);  /* 1: pid's last */
    REQUIRE_EQ(put1(l, &m, "k1", "a2", T0), KERR_NONE);                                         /* 2 */
    REQUIRE_EQ(put1(l, &m, "k2", "b2", T0), KERR_NONE);                                         /* 3 */
    REQUIRE_EQ(put1(l, &m, "k3", "active", T0), KERR_NONE);                                     /* 4 */
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.empty_batches_kept, 1);
    seen s;
    REQUIRE(read_all(l, &s, -1) == 0);
    CHECK_EQ(s.empty_batches, 1);
    CHECK_EQ(s.batches, 4);                                        /* batch 0 dropped */
    CHECK_EQ(s.crc_bad, 0);
    seen_free(&s);
    verify(l, &m, 4, -1);
    rb_header h;
    REQUIRE(batch_at(l, 1, &h, NULL, 0) == 0);
    CHECK_EQ(h.base_offset, 1);
    CHECK_EQ(h.records_count, 0);
    CHECK_EQ(h.producer_id, 1000);
    CHECK_EQ(h.producer_epoch, 3);
    CHECK_EQ(h.base_sequence, 1);
    CHECK_EQ(h.last_offset_delta, 0);
    CHECK_EQ(h.batch_length, RB_MIN_BATCH_LENGTH);
    CHECK_EQ(h.base_timestamp, -1);
    CHECK_EQ(h.max_timestamp, T0);
    /* The producer continues with its next sequence, also after a reload. */
    const char *kc[1] = { "k4" }, *vc[1] = { "d" };
    CHECK_EQ(put_batch_ex(l, &m, 1, kc, vc, RB_CODEC_NONE, 1000, 3, 2, T0, NULL), KERR_NONE);
    plog_close(l);
    plog_unref(l);
    l = reopen_log(dir, &cfg, 0, 0);
    REQUIRE(l);
    CHECK_EQ(put_batch_ex(l, &m, 1, kc, vc, RB_CODEC_NONE, 1000, 3, 3, T0, NULL), KERR_NONE);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_keyless_records_rejected)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 1 << 20);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int codec = RB_CODEC_NONE; codec <= RB_CODEC_ZSTD; codec++) {
        const char *ks[3] = { "a", NULL, "c" }, *vs[3] = { "1", "2", "3" };
        bb_params p;
        bb_params_init(&p);
        p.codec = codec;
        bb_record r[3];
        for (int i = 0; i < 3; i++)
            r[i] = (bb_record){ ks[i], ks[i] ? 1 : 0, vs[i], 1, T0 };
        uint8_t *b;
        size_t len;
        REQUIRE(bb_build(&p, r, 3, &b, &len) == KERR_NONE);
        plog_append_result res;
        CHECK_EQ(plog_append(l, b, len, 0, T0, &res), KERR_INVALID_RECORD);
        CHECK_EQ(res.bad_batch_index, 1);
        CHECK_STR(res.error_message, "Compacted topic cannot accept message without key");
        free(b);
        CHECK_EQ(put_batch_ex(l, NULL, 1, ks, vs, codec, -1, -1, -1, T0, NULL), KERR_NONE);
    }
    CHECK_EQ(plog_log_end_offset(l), 5);
    plog_close(l);
    plog_unref(l);
}

/* Build the same log in two dirs (deterministic appends). */
static plog *build_twin(const char *dir, const log_config *cfg, model *m)
{
    plog *l = new_log(dir, cfg);
    if (!l)
        return NULL;
    for (int i = 0; i < 20; i++) {
        char kb[16], vb[32];
        snprintf(kb, sizeof kb, "k%d", i % 4);
        snprintf(vb, sizeof vb, "v%d", i);
        const char *ks[1] = { kb }, *vs[1] = { vb };
        if (put_batch_ex(l, m, 1, ks, vs, RB_CODEC_NONE, -1, -1, -1, T0 + i * 100, NULL) != KERR_NONE)
            return NULL;
    }
    return l;
}

static int copy_file(const char *from, const char *to)
{
    char *buf;
    size_t len;
    if (sio_read_file(from, 1 << 30, &buf, &len) < 0)
        return -1;
    FILE *f = fopen(to, "wb");
    int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

/* Fails the n-th rename from now on (EIO). */
typedef struct rename_fault {
    int n, seen;
} rename_fault;

static int rename_fault_hook(enum sio_op op, size_t len, size_t *allow, void *vctx)
{
    rename_fault *f = vctx;
    (void)len;
    (void)allow;
    return op == SIO_RENAME && ++f->seen == f->n ? EIO : 0;
}

static void swap_recovery(int variant)
{
    char a[512], b[512], p1[700], p2[800];
    snprintf(a, sizeof a, "%s", tdir());
    snprintf(b, sizeof b, "%s", tdir());
    log_config cfg;
    ccfg(&cfg, 1 << 20);
    cfg.segment_ms = 10;                       /* every batch rolls (by time): one group */
    model ma = { 0 }, mb = { 0 };
    plog *la = build_twin(a, &cfg, &ma), *lb = build_twin(b, &cfg, &mb);
    REQUIRE(la && lb);
    REQUIRE_EQ(plog_segment_count(la), 20);
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(la, T0, &st), KERR_NONE);
    REQUIRE(st.cleaned);
    CHECK_EQ(st.segments_read, 19);
    CHECK_EQ(st.segments_written, 1);
    CHECK_EQ(plog_segment_count(la), 2);
    plog_close(la);
    plog_unref(la);
    if (variant == 3) {
        /* B's own pass fails on the last rename of the swap (the .log's
         * "*.swap -> final"): 3 renames to *.swap, 3 per retired segment,
         * then the two index files.  The log goes offline; load finishes. */
        REQUIRE_EQ(plog_flush(lb), KERR_NONE);
        rename_fault f = { 3 + 3 * 19 + 3, 0 };
        sio_set_fault(rename_fault_hook, &f);
        CHECK_EQ(plog_clean(lb, T0, &st), KERR_KAFKA_STORAGE_ERROR);
        sio_set_fault(NULL, NULL);
        CHECK_EQ(f.seen, f.n);
        CHECK_EQ(put1(lb, NULL, "k", "v", T0), KERR_KAFKA_STORAGE_ERROR);
        CHECK_EQ(count_files(b, ".log.swap"), 1);
    }
    plog_close(lb);
    plog_unref(lb);
    /* Crash in B between "*.cleaned -> *.swap" and the swap. */
    if (variant < 3)
        REQUIRE(copy_file(seg_path(p1, sizeof p1, a, 0, ".log"), seg_path(p2, sizeof p2, b, 0, ".log.swap")) == 0);
    if (variant >= 1) {                        /* ... with its index swap and a leftover .cleaned */
        REQUIRE(copy_file(seg_path(p1, sizeof p1, a, 0, ".index"), seg_path(p2, sizeof p2, b, 0, ".index.swap")) == 0);
        REQUIRE(copy_file(seg_path(p1, sizeof p1, a, 0, ".log"), seg_path(p2, sizeof p2, b, 18, ".log.cleaned")) == 0);
    }
    if (variant == 2) {                        /* ... after some old segments were already retired */
        for (int64_t off = 0; off < 5; off++) {
            seg_path(p1, sizeof p1, b, off, ".log");
            snprintf(p2, sizeof p2, "%s.deleted", p1);
            REQUIRE(rename(p1, p2) == 0);
        }
    }
    /* An orphan index swap (its .log never got renamed) is dropped. */
    REQUIRE(copy_file(seg_path(p1, sizeof p1, a, 0, ".index"), seg_path(p2, sizeof p2, b, 19, ".index.swap")) == 0);
    char idx19[700];
    int64_t idx19_size = file_size(seg_path(idx19, sizeof idx19, b, 19, ".index"));
    cap_state cs;
    cap_begin(&cs, b);
    lb = reopen_log(b, &cfg, variant == 1, variant == 1 ? -1 : 0);
    char *logtxt = cap_end(&cs);
    REQUIRE(lb);
    CHECK(strstr(logtxt, "finishing an interrupted compaction swap") != NULL);
    if (!strstr(logtxt, "finishing an interrupted compaction swap"))
        fprintf(stderr, "%s", logtxt);
    free(logtxt);
    CHECK_EQ(count_files(b, ".swap"), 0);
    CHECK_EQ(count_files(b, ".cleaned"), 0);
    CHECK_EQ(count_files(b, ".deleted"), 0);
    CHECK_EQ(plog_segment_count(lb), 2);
    CHECK_EQ(file_size(idx19), idx19_size);
    la = reopen_log(a, &cfg, 1, -1);
    REQUIRE(la);
    seen sa, sb;
    REQUIRE(read_all(la, &sa, -1) == 0);
    REQUIRE(read_all(lb, &sb, -1) == 0);
    CHECK_EQ(sb.crc_bad, 0);
    check_same(sa.r, sa.n, &sb);
    check_lookups(lb, &sb);
    verify(lb, &mb, 19, -1);
    seen_free(&sa);
    seen_free(&sb);
    plog_close(la);
    plog_unref(la);
    plog_close(lb);
    plog_unref(lb);
    model_free(&ma);
    model_free(&mb);
}

TEST(storage_cleaner_crash_swap_recovered) { swap_recovery(0); }
TEST(storage_cleaner_crash_swap_with_index_and_cleaned) { swap_recovery(1); }
TEST(storage_cleaner_crash_swap_after_partial_retire) { swap_recovery(2); }
TEST(storage_cleaner_failed_final_rename_finished_on_load) { swap_recovery(3); }

TEST(storage_cleaner_crash_cleaned_leftovers_deleted)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    model m = { 0 };
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 6; i++)
        REQUIRE_EQ(put1(l, &m, "k", "v", T0), KERR_NONE);
    plog_close(l);
    plog_unref(l);
    char p[700];
    const char *sfx[3] = { ".log.cleaned", ".index.cleaned", ".timeindex.cleaned" };
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(seg_path(p, sizeof p, dir, 0, sfx[i]), "wb");
        REQUIRE(f);
        fputs("garbage from a crashed cleaning", f);
        fclose(f);
    }
    l = reopen_log(dir, &cfg, 1, -1);
    REQUIRE(l);
    CHECK_EQ(count_files(dir, ".cleaned"), 0);
    CHECK_EQ(plog_segment_count(l), 6);
    verify(l, &m, 0, RB_CODEC_NONE);          /* nothing compacted */
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_small_offset_map)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 8192);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    model m = { 0 };
    for (int round = 0; round < 2; round++)
        for (int b = 0; b < 100; b++) {
            const char *ks[10], *vs[10];
            char kb[10][16], vb[10][32];
            for (int j = 0; j < 10; j++) {
                snprintf(kb[j], sizeof kb[j], "key%04d", (b * 10 + j + round * 7) % 1000);
                snprintf(vb[j], sizeof vb[j], "r%d-%d", round, b * 10 + j);
                ks[j] = kb[j];
                vs[j] = vb[j];
            }
            REQUIRE_EQ(put_batch_ex(l, &m, 10, ks, vs, RB_CODEC_NONE, -1, -1, -1, T0, NULL), KERR_NONE);
        }
    int64_t active_base = l->segs[l->nsegs - 1]->base_offset;
    log_cleaner_opts o;
    log_cleaner_opts_init(&o);
    o.dedupe_buffer_size = 300 * LOG_CLEANER_MAP_ENTRY_BYTES;   /* 270 keys a pass */
    log_cleaner_stats st;
    int passes = 0;
    int64_t prev = 0;
    do {
        REQUIRE_EQ(plog_clean_ex(l, T0, &o, &st), KERR_NONE);
        REQUIRE(st.cleaned);
        CHECK_EQ(st.first_dirty_offset, prev);
        CHECK(st.end_offset > prev);
        CHECK(st.map_entries <= 270);
        if (st.end_offset < active_base)
            CHECK(st.map_full);
        CHECK_EQ(plog_cleaner_offset(l), st.end_offset);
        verify(l, &m, st.end_offset, RB_CODEC_NONE);
        prev = st.end_offset;
        passes++;
    } while (st.end_offset < active_base && passes < 50);
    CHECK_EQ(st.end_offset, active_base);
    CHECK(passes >= 7);
    printf("    %d passes with a 270-key map over 1000 keys\n", passes);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

TEST(storage_cleaner_old_fileref_stays_readable)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 5; i++)
        REQUIRE_EQ(put1(l, NULL, "same", "value", T0), KERR_NONE);
    plog_read_result r;
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, 0, &r), KERR_NONE);
    REQUIRE(r.file);
    uint8_t before[256], after[256];
    REQUIRE(r.len <= (int32_t)sizeof before);
    REQUIRE(pread(r.file->fd, before, (size_t)r.len, r.file_pos) == r.len);
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    char p[700];
    CHECK_EQ(file_size(seg_path(p, sizeof p, dir, 0, ".log")), 0);    /* superseded: empty now */
    /* The fetch in flight still reads the old bytes (unlinked inode). */
    CHECK(pread(r.file->fd, after, (size_t)r.len, r.file_pos) == r.len);
    CHECK(!memcmp(before, after, (size_t)r.len));
    fileref_unref(r.file);
    REQUIRE_EQ(plog_read(l, 0, 1 << 20, true, 0, &r), KERR_NONE);       /* skips the empty segments */
    REQUIRE(r.file);
    rb_header h;
    REQUIRE(pread(r.file->fd, after, RB_HEADER_SIZE, r.file_pos) == RB_HEADER_SIZE);
    REQUIRE(rb_parse_header(after, RB_HEADER_SIZE, &h) == KERR_NONE);
    CHECK_EQ(h.base_offset, 3);
    fileref_unref(r.file);
    plog_close(l);
    plog_unref(l);
}

TEST(storage_cleaner_abort_flag)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    model m = { 0 };
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 6; i++)
        REQUIRE_EQ(put1(l, &m, "k", "v", T0), KERR_NONE);
    atomic_bool stop;
    atomic_init(&stop, true);
    log_cleaner_opts o;
    log_cleaner_opts_init(&o);
    o.abort = &stop;
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean_ex(l, T0, &o, &st), KERR_NONE);
    CHECK(st.aborted);
    CHECK(!st.cleaned);
    CHECK_EQ(plog_cleaner_offset(l), -1);
    CHECK_EQ(count_files(dir, ".cleaned"), 0);
    CHECK_EQ(count_files(dir, ".swap"), 0);
    verify(l, &m, 0, RB_CODEC_NONE);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

/* Retention (DeleteRecords here) removes a segment while the cleaner is
 * between writing its output and swapping it in: the pass is abandoned. */
typedef struct race_ctx {
    plog *l;
    bool fired;
} race_ctx;

static int race_hook(enum sio_op op, size_t len, size_t *allow, void *vctx)
{
    race_ctx *c = vctx;
    (void)len;
    (void)allow;
    if (op == SIO_RENAME && !c->fired) {
        c->fired = true;
        int64_t ls;
        plog_delete_records(c->l, 2, &ls);
    }
    return 0;
}

TEST(storage_cleaner_log_changed_during_cleaning)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 100);
    model m = { 0 };
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    for (int i = 0; i < 6; i++)
        REQUIRE_EQ(put1(l, &m, i % 2 ? "a" : "b", "v", T0), KERR_NONE);
    REQUIRE_EQ(plog_flush(l), KERR_NONE);    /* so the cleaner's first rename is *.cleaned -> *.swap */
    race_ctx rc = { l, false };
    sio_set_fault(race_hook, &rc);
    log_cleaner_stats st;
    int e = plog_clean(l, T0, &st);
    sio_set_fault(NULL, NULL);
    CHECK_EQ(e, KERR_NONE);
    CHECK(rc.fired);
    CHECK(st.aborted);
    CHECK(!st.cleaned);
    CHECK_EQ(plog_cleaner_offset(l), -1);
    CHECK_EQ(count_files(dir, ".cleaned"), 0);
    CHECK_EQ(count_files(dir, ".swap"), 0);
    CHECK_EQ(plog_log_start_offset(l), 2);
    /* The next pass works. */
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.first_dirty_offset, 2);
    seen s;
    REQUIRE(read_all(l, &s, -1) == 0);
    CHECK_EQ(s.n, 3);                        /* a@3, b@4 and the active a@5 */
    CHECK_EQ(s.r[0].off, 3);
    seen_free(&s);
    plog_close(l);
    plog_unref(l);
    model_free(&m);
}

/* Appends, fetches and cleanings at once: every fetch sees whole batches
 * with good CRCs and increasing offsets, and the end state keeps every
 * key's last value. */
typedef struct conc_ctx {
    plog *l;
    atomic_bool stop;
    atomic_int errors, reads;
    int n;
} conc_ctx;

static void *conc_writer(void *arg)
{
    conc_ctx *c = arg;
    for (int i = 0; i < c->n; i++) {
        char kb[16], vb[32];
        snprintf(kb, sizeof kb, "k%d", i % 50);
        snprintf(vb, sizeof vb, "v%d", i);
        if (put1(c->l, NULL, kb, vb, T0) != KERR_NONE)
            atomic_fetch_add(&c->errors, 1);
    }
    atomic_store(&c->stop, true);
    return NULL;
}

static void *conc_reader(void *arg)
{
    conc_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        seen s;
        if (read_all(c->l, &s, RB_CODEC_NONE) < 0 || s.crc_bad || s.order_bad || s.codec_bad)
            atomic_fetch_add(&c->errors, 1);
        atomic_fetch_add(&c->reads, 1);
        seen_free(&s);
    }
    return NULL;
}

TEST(storage_cleaner_concurrent_appends_and_fetches)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 1024);
    cfg.min_cleanable_ratio = 0;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    conc_ctx c = { .l = l, .n = 3000 };
    atomic_init(&c.stop, false);
    atomic_init(&c.errors, 0);
    atomic_init(&c.reads, 0);
    pthread_t w, r;
    pthread_create(&w, NULL, conc_writer, &c);
    pthread_create(&r, NULL, conc_reader, &c);
    int cleanings = 0;
    while (!atomic_load(&c.stop)) {
        log_cleaner_stats st;
        if (plog_clean(l, T0, &st) != KERR_NONE)
            atomic_fetch_add(&c.errors, 1);
        cleanings += st.cleaned;
        usleep(1000);
    }
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    CHECK_EQ(atomic_load(&c.errors), 0);
    CHECK(cleanings > 1);
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0, &st), KERR_NONE);
    seen s;
    REQUIRE(read_all(l, &s, RB_CODEC_NONE) == 0);
    for (int k = 0; k < 50; k++) {          /* each key's newest record is its last value */
        char kb[16], vb[32];
        snprintf(kb, sizeof kb, "k%d", k);
        int last = ((c.n - 1 - k) / 50) * 50 + k;
        snprintf(vb, sizeof vb, "v%d", last);
        const char *got = NULL;
        for (int i = 0; i < s.n; i++)
            if (!strcmp(s.r[i].key, kb))
                got = s.r[i].val;
        CHECK(got && !strcmp(got, vb));
    }
    CHECK(s.n < c.n / 4);
    printf("    %d cleanings and %d full reads during 3000 appends; %d records left\n", cleanings,
           atomic_load(&c.reads), s.n);
    seen_free(&s);
    plog_close(l);
    plog_unref(l);
}

/* ---- through the log manager ---- */

static void lm_test_config(log_manager_config *c, const char **dirs)
{
    log_manager_config_defaults(c);
    c->dirs = dirs;
    c->ndirs = 1;
    c->start_threads = false;
    ccfg(&c->defaults, 100);
}

TEST(storage_cleaner_checkpoint_persisted_and_reloaded)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", tdir());
    const char *dirs[1] = { dir };
    log_manager_config lc;
    lm_test_config(&lc, dirs);
    log_manager *lm;
    char err[256];
    REQUIRE_EQ(log_manager_open(&lc, &lm, err, sizeof err), KERR_NONE);
    plog *l, *l2;
    log_config cfg = lc.defaults, cfg2 = lc.defaults;
    cfg2.min_cleanable_ratio = 1.0;          /* never by ratio */
    REQUIRE_EQ(log_manager_create_partition(lm, "t", 0, kuuid_random(), &cfg, &l), KERR_NONE);
    REQUIRE_EQ(log_manager_create_partition(lm, "u", 0, kuuid_random(), &cfg2, &l2), KERR_NONE);
    for (int i = 0; i < 8; i++) {
        REQUIRE_EQ(put1(l, NULL, i % 2 ? "a" : "b", "v", T0), KERR_NONE);
        REQUIRE_EQ(put1(l2, NULL, i % 2 ? "a" : "b", "v", T0), KERR_NONE);
    }
    CHECK_EQ(log_manager_run_cleaner(lm, T0), 1);
    CHECK_EQ(plog_cleaner_offset(l), 7);
    CHECK_EQ(plog_cleaner_offset(l2), -1);
    CHECK_EQ(log_manager_run_cleaner(lm, T0), 0);
    ckpt_entry *e;
    size_t n;
    REQUIRE(ckpt_read(dir, CKPT_CLEANER, &e, &n) == 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(ckpt_lookup(e, n, "t", 0), 7);
    CHECK_EQ(ckpt_lookup(e, n, "u", 0), -1);
    ckpt_free(e, n);
    /* A forced pass of the ratio-1.0 log (the admin path). */
    log_cleaner_stats st;
    REQUIRE_EQ(log_manager_clean_log(lm, l2, T0, &st), KERR_NONE);
    CHECK(st.cleaned);
    REQUIRE(ckpt_read(dir, CKPT_CLEANER, &e, &n) == 0);
    CHECK_EQ(ckpt_lookup(e, n, "u", 0), 7);
    ckpt_free(e, n);
    CHECK_EQ(log_manager_shutdown(lm), KERR_NONE);

    REQUIRE_EQ(log_manager_open(&lc, &lm, err, sizeof err), KERR_NONE);
    l = log_manager_get(lm, "t", 0);
    REQUIRE(l);
    CHECK_EQ(plog_cleaner_offset(l), 7);
    CHECK_EQ(log_manager_run_cleaner(lm, T0), 0);          /* nothing dirty after the reload */
    /* Truncation below the checkpoint moves it back (Kafka's maybeTruncateCheckpoint). */
    REQUIRE_EQ(plog_truncate_to(l, 5), KERR_NONE);
    CHECK_EQ(plog_cleaner_offset(l), 5);
    REQUIRE_EQ(log_manager_write_checkpoints(lm), KERR_NONE);
    REQUIRE(ckpt_read(dir, CKPT_CLEANER, &e, &n) == 0);
    CHECK_EQ(ckpt_lookup(e, n, "t", 0), 5);
    ckpt_free(e, n);
    plog_unref(l);
    CHECK_EQ(log_manager_shutdown(lm), KERR_NONE);
}

TEST(storage_cleaner_background_thread)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", tdir());
    const char *dirs[1] = { dir };
    log_manager_config lc;
    lm_test_config(&lc, dirs);
    lc.start_threads = true;
    lc.cleaner_backoff_ms = 20;
    lc.defaults.min_cleanable_ratio = 0;     /* any dirty segment: the test waits for all of them */
    lc.retention_check_interval_ms = 3600000;
    log_manager *lm;
    char err[256];
    REQUIRE_EQ(log_manager_open(&lc, &lm, err, sizeof err), KERR_NONE);
    plog *l;
    REQUIRE_EQ(log_manager_create_partition(lm, "t", 0, kuuid_random(), &lc.defaults, &l), KERR_NONE);
    int64_t now = wall_ms();
    for (int i = 0; i < 10; i++)
        REQUIRE_EQ(put1(l, NULL, i % 2 ? "a" : "b", "v", now), KERR_NONE);
    int64_t deadline = mono_ms() + 10000;
    while (plog_cleaner_offset(l) != 9 && mono_ms() < deadline)
        usleep(10000);
    CHECK_EQ(plog_cleaner_offset(l), 9);
    for (int i = 0; i < 10; i++)
        REQUIRE_EQ(put1(l, NULL, i % 2 ? "a" : "b", "w", now), KERR_NONE);
    while (plog_cleaner_offset(l) != 19 && mono_ms() < deadline)
        usleep(10000);
    CHECK_EQ(plog_cleaner_offset(l), 19);
    CHECK_EQ(log_manager_shutdown(lm), KERR_NONE);
}

/* ---- scale ---- */

TEST(storage_cleaner_million_records)
{
    const char *dir = tdir();
    log_config cfg;
    ccfg(&cfg, 8 << 20);
    cfg.index_interval_bytes = 4096;
    cfg.segment_ms = HOUR;
    plog *l = new_log(dir, &cfg);
    REQUIRE(l);
    enum { NREC = 1000000, NKEYS = 10000, PER_BATCH = 100 };
    bb_record *r = calloc(PER_BATCH, sizeof *r);
    char (*kb)[16] = calloc(PER_BATCH, 16), (*vb)[40] = calloc(PER_BATCH, 40);
    int64_t t0 = mono_us();
    for (int b = 0; b < NREC / PER_BATCH; b++) {
        for (int j = 0; j < PER_BATCH; j++) {
            int i = b * PER_BATCH + j;
            snprintf(kb[j], 16, "key-%05d", (int)(((uint64_t)i * 7919) % NKEYS));
            snprintf(vb[j], 40, "offset-commit-value-%08d", i);
            r[j] = (bb_record){ kb[j], (int32_t)strlen(kb[j]), vb[j], (int32_t)strlen(vb[j]), T0 };
        }
        bb_params p;
        bb_params_init(&p);
        uint8_t *buf;
        size_t len;
        REQUIRE(bb_build(&p, r, PER_BATCH, &buf, &len) == KERR_NONE);
        plog_append_result res;
        REQUIRE_EQ(plog_append(l, buf, len, 0, T0, &res), KERR_NONE);
        free(buf);
    }
    /* One more batch two hours later rolls: everything else is cleanable. */
    REQUIRE_EQ(put1(l, NULL, "key-00000", "last", T0 + 2 * HOUR), KERR_NONE);
    int64_t t_append = mono_us() - t0;
    int segs = plog_segment_count(l);
    int64_t size_before = plog_size_bytes(l);
    log_cleaner_stats st;
    REQUIRE_EQ(plog_clean(l, T0 + 2 * HOUR, &st), KERR_NONE);
    CHECK(st.cleaned);
    CHECK_EQ(st.end_offset, NREC);
    CHECK_EQ(st.map_entries, NKEYS);
    CHECK_EQ(st.records_read, NREC);
    CHECK_EQ(st.records_retained, NKEYS);
    printf("    1,000,000 records / 10,000 keys, %d segments, %.1f MB (appended in %.0f ms): cleaned in "
           "%.0f ms (map %.0f ms, copy %.0f ms) -> %d segment(s), %.2f MB\n",
           segs, (double)size_before / 1e6, (double)t_append / 1000.0, (double)st.total_us / 1000.0,
           (double)st.map_us / 1000.0, (double)st.copy_us / 1000.0, plog_segment_count(l),
           (double)plog_size_bytes(l) / 1e6);
    /* Replaying the compacted log (what a coordinator load does). */
    plog_close(l);
    plog_unref(l);
    t0 = mono_us();
    l = reopen_log(dir, &cfg, 1, -1);
    REQUIRE(l);
    seen s;
    REQUIRE(read_all(l, &s, RB_CODEC_NONE) == 0);
    int64_t t_read = mono_us() - t0;
    CHECK_EQ(s.n, NKEYS + 1);
    CHECK_EQ(s.crc_bad, 0);
    int bad = 0, *last_of = malloc(sizeof *last_of * NKEYS);
    for (int i = 0; i < NREC; i++)
        last_of[((uint64_t)i * 7919) % NKEYS] = i;
    for (int i = 0; i < s.n - 1; i++) {      /* each key's value is its last one */
        int last = last_of[atoi(s.r[i].key + 4) % NKEYS];
        char want[40];
        snprintf(want, sizeof want, "offset-commit-value-%08d", last);
        if (strcmp(want, s.r[i].val) || s.r[i].off != last)
            bad++;
    }
    CHECK_EQ(bad, 0);
    free(last_of);
    printf("    reload + read of the compacted log: %.1f ms\n", (double)t_read / 1000.0);
    seen_free(&s);
    plog_close(l);
    plog_unref(l);
    free(r);
    free(kb);
    free(vb);
}
