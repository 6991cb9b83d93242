/*
 * test_codec.c - round trips for every API, both directions, every version.
 *
 * For each schema and version we fill a message with random values (only
 * fields present in that version, tagged fields sometimes left at their
 * defaults), encode it, decode the bytes, encode again and require the
 * same bytes.  Every strict prefix of an encoding must fail to decode
 * cleanly, and counts that lie about the bytes left must be refused before
 * anything is allocated.
 */
#include "test.h"

#include <stdlib.h>

#include "core/errors.h"
#include "proto/api.h"
#include "proto/codec.h"
#include "proto/header.h"
#include "proto/messages/all.h"

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int in_ver(const kf_field *f, int v) { return v >= f->vmin && v <= f->vmax; }

static void fill_struct(const kf_struct *s, int ver, bool flex, void *out, arena *a, int depth);

static kstr rnd_str(arena *a, bool nullable)
{
    if (nullable && rnd() % 4 == 0)
        return (kstr){ NULL, -1 };
    int n = (int)(rnd() % 12);
    char *p = arena_alloc(a, (size_t)n + 1);
    for (int i = 0; i < n; i++)
        p[i] = (char)('a' + rnd() % 26);
    return (kstr){ p, n };
}

static void fill_scalar(uint8_t type, void *dst)
{
    uint64_t r = rnd();
    switch (type) {
    case KT_BOOL: *(bool *)dst = r & 1; break;
    case KT_I8: *(int8_t *)dst = (int8_t)r; break;
    case KT_I16: *(int16_t *)dst = (int16_t)r; break;
    case KT_U16: *(uint16_t *)dst = (uint16_t)r; break;
    case KT_I32: *(int32_t *)dst = (int32_t)r; break;
    case KT_U32: *(uint32_t *)dst = (uint32_t)r; break;
    case KT_I64: *(int64_t *)dst = (int64_t)r; break;
    case KT_F64: *(double *)dst = (double)(r % 100000) / 7.0; break;
    case KT_UUID: for (int i = 0; i < 16; i++) ((uint8_t *)dst)[i] = (uint8_t)rnd(); break;
    }
}

static size_t esize(const kf_field *f)
{
    switch (f->elem) {
    case KT_I16: return 2;
    case KT_I32: return 4;
    case KT_I64: return 8;
    case KT_STR: return sizeof(kstr);
    case KT_UUID: return 16;
    default: return f->sub->size;
    }
}

static void fill_field(const kf_field *f, int ver, bool flex, void *dst, arena *a, int depth)
{
    bool nullable = f->nullable && ver >= f->nmin;
    bool tagged = flex && f->tagged && ver >= f->tmin;
    if (tagged && rnd() % 3 == 0)
        return;                                  /* keep the default */
    switch (f->type) {
    case KT_STR: *(kstr *)dst = rnd_str(a, nullable); break;
    case KT_BYTES: case KT_RECORDS: {
        if (nullable && rnd() % 4 == 0) {
            if (f->type == KT_BYTES) *(kbytes *)dst = (kbytes){ NULL, -1 };
            break;
        }
        int n = (int)(rnd() % 40);
        uint8_t *p = arena_alloc(a, (size_t)n + 1);
        for (int i = 0; i < n; i++)
            p[i] = (uint8_t)rnd();
        if (f->type == KT_BYTES)
            *(kbytes *)dst = (kbytes){ p, n };
        else
            *(krecords *)dst = (krecords){ p, n, NULL, 0 };
        break;
    }
    case KT_STRUCT: {
        if ((nullable || tagged) && rnd() % 3 == 0) {
            *(void **)dst = NULL;
            break;
        }
        void *sub = arena_alloc(a, f->sub->size);
        kcodec_defaults(f->sub, sub);
        fill_struct(f->sub, ver, flex, sub, a, depth + 1);
        *(void **)dst = sub;
        break;
    }
    case KT_ARRAY: {
        struct { int32_t n; void *v; } *ar = dst;
        if (nullable && rnd() % 4 == 0) {
            ar->n = -1;
            ar->v = NULL;
            break;
        }
        int32_t n = depth > 3 ? 0 : (int32_t)(rnd() % 4);
        size_t es = esize(f);
        ar->n = n;
        ar->v = n ? arena_alloc(a, (size_t)n * es) : NULL;
        for (int32_t i = 0; i < n; i++) {
            char *e = (char *)ar->v + (size_t)i * es;
            if (f->elem == KT_STRUCT) {
                kcodec_defaults(f->sub, e);
                fill_struct(f->sub, ver, flex, e, a, depth + 1);
            } else if (f->elem == KT_STR) {
                *(kstr *)e = rnd_str(a, false);
            } else {
                fill_scalar(f->elem, e);
            }
        }
        break;
    }
    default:
        fill_scalar(f->type, dst);
    }
}

static void fill_struct(const kf_struct *s, int ver, bool flex, void *out, arena *a, int depth)
{
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kf_field *f = &s->fields[i];
        if (in_ver(f, ver))
            fill_field(f, ver, flex, (char *)out + f->off, a, depth);
    }
}

static long flatten(obuf *b, uint8_t **out)
{
    *out = malloc(b->total + 1);
    return obuf_flatten(b, *out, b->total + 1);
}

/* One round trip; returns 0 when bytes match. */
static int roundtrip(const kf_struct *s, int ver, bool flex, int iter)
{
    arena a;
    arena_init(&a, 0);
    void *msg = arena_alloc(&a, s->size);
    kcodec_defaults(s, msg);
    fill_struct(s, ver, flex, msg, &a, 0);
    obuf b1, b2;
    obuf_init(&b1);
    obuf_init(&b2);
    int rc = kcodec_encode(s, ver, flex, msg, &b1);
    uint8_t *e1 = NULL, *e2 = NULL;
    long n1 = flatten(&b1, &e1);
    int bad = rc != 0 || n1 < 0;

    arena da;
    arena_init(&da, 1 << 20);
    void *dec = arena_alloc(&da, s->size);
    kreader r;
    kr_init(&r, e1, (size_t)n1);
    if (!bad && kcodec_decode(s, ver, flex, &r, &da, dec) != 0) {
        test_fail(__FILE__, __LINE__, "%s v%d: decode failed (iter %d)", s->name, ver, iter);
        bad = 1;
    }
    if (!bad && kr_left(&r) != 0) {
        test_fail(__FILE__, __LINE__, "%s v%d: %zu bytes left over", s->name, ver, kr_left(&r));
        bad = 1;
    }
    if (!bad) {
        kcodec_encode(s, ver, flex, dec, &b2);
        long n2 = flatten(&b2, &e2);
        if (n2 != n1 || memcmp(e1, e2, (size_t)n1) != 0) {
            test_fail(__FILE__, __LINE__, "%s v%d: re-encode differs (%ld vs %ld)", s->name, ver, n1, n2);
            bad = 1;
        }
    }
    /* Every strict prefix must be refused, never crash or over-read. */
    for (long cut = 0; !bad && cut < n1; cut += 1 + n1 / 64) {
        uint8_t *copy = malloc((size_t)cut + 1);
        memcpy(copy, e1, (size_t)cut);
        arena pa;
        arena_init(&pa, 1 << 20);
        void *pm = arena_alloc(&pa, s->size);
        kreader pr;
        kr_init(&pr, copy, (size_t)cut);
        if (kcodec_decode(s, ver, flex, &pr, &pa, pm) == 0) {
            test_fail(__FILE__, __LINE__, "%s v%d: prefix %ld/%ld decoded", s->name, ver, cut, n1);
            bad = 1;
        }
        arena_reset(&pa);
        free(copy);
    }
    free(e1);
    free(e2);
    obuf_free(&b1);
    obuf_free(&b2);
    arena_reset(&a);
    arena_reset(&da);
    return bad;
}

TEST(codec_roundtrip_every_api_every_version)
{
    int checked = 0;
    for (int key = 0; key <= KAPI_KEY_MAX; key++) {
        const kapi_schema *api = kapi_schema_get(key);
        if (!api)
            continue;
        for (int ver = 0; ver <= api->max_version; ver++) {
            bool flex = kapi_flexible(api, ver);
            for (int iter = 0; iter < 25; iter++) {
                if (roundtrip(api->req, ver, flex, iter) || roundtrip(api->resp, ver, flex, iter))
                    return;
                checked += 2;
            }
        }
    }
    CHECK(checked > 1000);
}

TEST(codec_known_bytes_api_versions_v3_request)
{
    /* librdkafka 2.0.2's first request body: ApiVersions v3 with client
     * software name "librdkafka" and version "2.0.2" (compact strings). */
    static const uint8_t body[] = {
        0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a',
        0x06, '2', '.', '0', '.', '2', 0x00 };
    arena a;
    arena_init(&a, 4096);
    api_versions_req req;
    kreader r;
    kr_init(&r, body, sizeof body);
    REQUIRE_EQ(kcodec_decode(&api_versions_req_schema, 3, true, &r, &a, &req), 0);
    CHECK(kstr_eq(req.client_software_name, "librdkafka"));
    CHECK(kstr_eq(req.client_software_version, "2.0.2"));
    CHECK_EQ(kr_left(&r), 0);
    arena_reset(&a);
}

TEST(codec_tagged_fields_skip_unknown_and_read_known)
{
    /* Fetch v12 request, minimal, with an unknown tag 7 and known tag 0
     * (cluster_id) in the top-level tag section. */
    static const uint8_t body[] = {
        0xff, 0xff, 0xff, 0xff,         /* replica_id -1 */
        0x00, 0x00, 0x01, 0xf4,         /* max_wait_ms 500 */
        0x00, 0x00, 0x00, 0x01,         /* min_bytes 1 */
        0x00, 0x10, 0x00, 0x00,         /* max_bytes */
        0x00,                           /* isolation */
        0x00, 0x00, 0x00, 0x00,         /* session id */
        0xff, 0xff, 0xff, 0xff,         /* epoch -1 */
        0x01,                           /* topics: empty compact array */
        0x01,                           /* forgotten: empty */
        0x01,                           /* rack_id "" */
        0x02,                           /* 2 tags */
        0x00, 0x03, 0x03, 'c', 'x',     /* tag 0: cluster_id "cx" */
        0x07, 0x02, 0xaa, 0xbb,         /* tag 7: unknown, skipped */
    };
    arena a;
    arena_init(&a, 4096);
    fetch_req req;
    kreader r;
    kr_init(&r, body, sizeof body);
    REQUIRE_EQ(kcodec_decode(&fetch_req_schema, 12, true, &r, &a, &req), 0);
    CHECK_EQ(req.max_wait_ms, 500);
    CHECK_EQ(req.session_epoch, -1);
    CHECK(kstr_eq(req.cluster_id, "cx"));
    CHECK_EQ(req.topics.n, 0);
    arena_reset(&a);
}

TEST(codec_lying_array_count_is_refused_before_allocating)
{
    /* Metadata v1: topics array claims 2^31-1 entries with 4 bytes left. */
    static const uint8_t body[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'a', 0 };
    arena a;
    arena_init(&a, 1 << 16);
    metadata_req req;
    kreader r;
    kr_init(&r, body, sizeof body);
    CHECK_EQ(kcodec_decode(&metadata_req_schema, 1, false, &r, &a, &req), KERR__PARSE);
    CHECK(a.used < 1024);
    arena_reset(&a);
}

TEST(codec_defaults_for_absent_fields)
{
    /* Fetch v4 has no session fields: defaults are session 0, epoch -1;
     * partitions have no current_leader_epoch (default -1). */
    static const uint8_t body[] = {
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 100, 0, 0, 0, 1, 0, 0, 0x10, 0, 0,
        0, 0, 0, 1,                          /* 1 topic */
        0, 1, 't',                           /* "t" */
        0, 0, 0, 1,                          /* 1 partition */
        0, 0, 0, 2,                          /* partition 2 */
        0, 0, 0, 0, 0, 0, 0, 9,              /* fetch offset 9 */
        0, 0, 0x10, 0,                       /* partition max bytes */
    };
    arena a;
    arena_init(&a, 4096);
    fetch_req req;
    kreader r;
    kr_init(&r, body, sizeof body);
    REQUIRE_EQ(kcodec_decode(&fetch_req_schema, 4, false, &r, &a, &req), 0);
    CHECK_EQ(req.session_epoch, -1);
    CHECK_EQ(req.session_id, 0);
    REQUIRE_EQ(req.topics.n, 1);
    CHECK(kstr_eq(req.topics.v[0].topic, "t"));
    REQUIRE_EQ(req.topics.v[0].partitions.n, 1);
    CHECK_EQ(req.topics.v[0].partitions.v[0].partition, 2);
    CHECK_EQ(req.topics.v[0].partitions.v[0].fetch_offset, 9);
    CHECK_EQ(req.topics.v[0].partitions.v[0].current_leader_epoch, -1);
    CHECK_EQ(req.topics.v[0].partitions.v[0].log_start_offset, -1);
    arena_reset(&a);
}

/* DescribeLogDirs responses in Kafka 4.4's field order: v5 (flexible) has
 * the top-level ErrorCode (v3+), TotalBytes and UsableBytes (v4+) and
 * IsCordoned (v5) after each result's topics; v1 has none of them. */
static void log_dirs_resp_fill(describe_log_dirs_resp *r, describe_log_dirs_resp_results *res,
                               describe_log_dirs_resp_topics *t,
                               describe_log_dirs_resp_partitions *p)
{
    kcodec_defaults(&describe_log_dirs_resp_schema, r);
    *p = (describe_log_dirs_resp_partitions){ .partition_index = 2, .partition_size = 0x1234,
                                              .offset_lag = 0, .is_future_key = false };
    *t = (describe_log_dirs_resp_topics){ .name = kstr_c("t"), .partitions = { 1, p } };
    *res = (describe_log_dirs_resp_results){ .error_code = 0, .log_dir = kstr_c("/d"),
                                             .topics = { 1, t }, .total_bytes = 0x100,
                                             .usable_bytes = 0x80, .is_cordoned = false };
    r->results.n = 1;
    r->results.v = res;
}

TEST(codec_known_bytes_describe_log_dirs_response)
{
    static const uint8_t v5[] = {
        0, 0, 0, 0,                          /* throttle_time_ms */
        0, 0,                                /* error_code (v3+) */
        2,                                   /* results: 1 (compact) */
        0, 0,                                /*   error_code */
        3, '/', 'd',                         /*   log_dir */
        2,                                   /*   topics: 1 */
        2, 't',                              /*     name */
        2,                                   /*     partitions: 1 */
        0, 0, 0, 2,                          /*       partition_index */
        0, 0, 0, 0, 0, 0, 0x12, 0x34,        /*       partition_size */
        0, 0, 0, 0, 0, 0, 0, 0,              /*       offset_lag */
        0,                                   /*       is_future_key */
        0,                                   /*       tags */
        0,                                   /*     tags */
        0, 0, 0, 0, 0, 0, 1, 0,              /*   total_bytes (v4+) */
        0, 0, 0, 0, 0, 0, 0, 0x80,           /*   usable_bytes (v4+) */
        0,                                   /*   is_cordoned (v5) */
        0,                                   /*   tags */
        0,                                   /* tags */
    };
    static const uint8_t v1[] = {
        0, 0, 0, 0,                          /* throttle_time_ms */
        0, 0, 0, 1,                          /* results: 1 */
        0, 0,                                /*   error_code */
        0, 2, '/', 'd',                      /*   log_dir */
        0, 0, 0, 1,                          /*   topics: 1 */
        0, 1, 't',                           /*     name */
        0, 0, 0, 1,                          /*     partitions: 1 */
        0, 0, 0, 2,                          /*       partition_index */
        0, 0, 0, 0, 0, 0, 0x12, 0x34,        /*       partition_size */
        0, 0, 0, 0, 0, 0, 0, 0,              /*       offset_lag */
        0,                                   /*       is_future_key */
    };
    describe_log_dirs_resp r;
    describe_log_dirs_resp_results res;
    describe_log_dirs_resp_topics t;
    describe_log_dirs_resp_partitions p;
    log_dirs_resp_fill(&r, &res, &t, &p);
    for (int i = 0; i < 2; i++) {
        int ver = i ? 1 : 5;
        const uint8_t *want = i ? v1 : v5;
        size_t wlen = i ? sizeof v1 : sizeof v5;
        obuf ob;
        obuf_init(&ob);
        REQUIRE_EQ(kcodec_encode(&describe_log_dirs_resp_schema, ver, ver >= 2, &r, &ob), 0);
        uint8_t wire[128];
        long n = obuf_flatten(&ob, wire, sizeof wire);
        CHECK_EQ(n, (long)wlen);
        CHECK(n == (long)wlen && !memcmp(wire, want, wlen));
        obuf_free(&ob);
    }
    CHECK_EQ(kapi_schema_get(DESCRIBE_LOG_DIRS_API_KEY)->max_version, 5);
}

/* Internal codes (KERR__*) never reach the wire: the encoder maps every
 * error_code field through kerr_to_wire; wire codes pass unchanged. */
TEST(codec_internal_error_codes_are_mapped_on_encode)
{
    static const struct { int16_t in, wire; } cases[] = {
        { KERR__IO, KERR_KAFKA_STORAGE_ERROR },
        { KERR__PARSE, KERR_INVALID_REQUEST },
        { KERR__NOENT, KERR_UNKNOWN_TOPIC_OR_PARTITION },
        { KERR__NOMEM, KERR_UNKNOWN_SERVER_ERROR },
        { KERR_NOT_COORDINATOR, KERR_NOT_COORDINATOR },
        { KERR_NONE, KERR_NONE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        heartbeat_resp resp;
        kcodec_defaults(&heartbeat_resp_schema, &resp);
        resp.throttle_time_ms = -7;          /* an int16-sized neighbour stays as is */
        resp.error_code = cases[i].in;
        obuf ob;
        obuf_init(&ob);
        REQUIRE_EQ(kcodec_encode(&heartbeat_resp_schema, 1, false, &resp, &ob), 0);
        uint8_t wire[6];
        REQUIRE_EQ(obuf_flatten(&ob, wire, sizeof wire), (long)sizeof wire);
        CHECK_EQ((int32_t)be32_load(wire), -7);
        CHECK_EQ((int16_t)((wire[4] << 8) | wire[5]), cases[i].wire);
        obuf_free(&ob);
    }
}

TEST(request_header_versions)
{
    CHECK_EQ(kreq_header_version(18, 3), 2);
    CHECK_EQ(kreq_header_version(18, 2), 1);
    CHECK_EQ(kreq_header_version(7, 0), 0);
    CHECK_EQ(kresp_header_version(18, 3), 0);   /* ApiVersions: always v0 */
    CHECK_EQ(kresp_header_version(1, 12), 1);
    CHECK_EQ(kresp_header_version(1, 11), 0);
    static const uint8_t hdr[] = { 0, 18, 0, 3, 0, 0, 0, 7, 0, 3, 'a', 'b', 'c', 0 };
    kreader r;
    kr_init(&r, hdr, sizeof hdr);
    kreq_header h;
    REQUIRE_EQ(kreq_header_parse(&r, 2, &h), 0);
    CHECK_EQ(h.api_key, 18);
    CHECK_EQ(h.correlation_id, 7);
    CHECK(kstr_eq(h.client_id, "abc"));
    CHECK_EQ(kr_left(&r), 0);
}
