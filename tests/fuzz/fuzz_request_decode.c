/*
 * fuzz_request_decode.c - the schema-driven codec, one message at a time.
 *
 * Input: byte 0 = API key, byte 1 = version (taken modulo max_version + 1),
 * byte 2 = flags (bit 0: use the API's RESPONSE schema instead of the
 * request schema - the broker encodes those, so their round trip matters
 * too), bytes 3.. = the message body exactly as it follows the header on
 * the wire.  A key without a schema is mapped onto the keys that have one.
 *
 * Oracle:
 *   1. kcodec_decode never reads out of bounds, never allocates past the
 *      arena cap the broker uses (16 x size + 64 KiB), and returns 0,
 *      KERR__PARSE or KERR__NOMEM.
 *   2. Round trip: a successful decode re-encodes (kcodec_encode) to bytes
 *      y that are never longer than what the decoder consumed, and y is a
 *      fixed point: decode(y) consumes all of y, gives a value that is
 *      field-by-field equal to the first decode, and encodes to y again,
 *      byte for byte.  (y may differ from the consumed input only where
 *      the wire allows several spellings of one value: overlong varints,
 *      unknown or default-valued tagged fields, booleans other than 0/1,
 *      struct markers other than -1/1.)
 */
#include <stdbool.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/obuf.h"
#include "proto/api.h"
#include "proto/codec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int g_keys[KAPI_KEY_MAX + 1];
static int g_nkeys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    for (int k = 0; k <= KAPI_KEY_MAX; k++)
        if (kapi_schema_get(k))
            g_keys[g_nkeys++] = k;
    return 0;
}

static size_t arena_cap_for(size_t len)
{
    size_t cap = 16 * len + 65536;       /* server/client.c on_frame */
    return cap > (256u << 20) ? (256u << 20) : cap;
}

/* ------------------------------------------------------------ deep compare */

typedef struct anyarr { int32_t n; void *v; } anyarr;

static bool eq_struct(const kf_struct *s, const void *a, const void *b, int depth);

static size_t elem_size(const kf_field *f)
{
    switch (f->elem) {
    case KT_I16: return 2;
    case KT_I32: return 4;
    case KT_I64: return 8;
    case KT_STR: return sizeof(kstr);
    case KT_UUID: return sizeof(kuuid);
    case KT_STRUCT: return f->sub->size;
    default: return 0;
    }
}

static bool eq_bytes(const void *p, int32_t n, const void *q, int32_t m)
{
    if (n != m)
        return false;
    return n <= 0 || memcmp(p, q, (size_t)n) == 0;
}

static bool eq_scalar(uint8_t type, const void *a, const void *b)
{
    switch (type) {
    case KT_BOOL: return *(const bool *)a == *(const bool *)b;
    case KT_I8: return memcmp(a, b, 1) == 0;
    case KT_I16: case KT_U16: return memcmp(a, b, 2) == 0;
    case KT_I32: case KT_U32: return memcmp(a, b, 4) == 0;
    case KT_I64: case KT_F64: return memcmp(a, b, 8) == 0;
    case KT_UUID: return memcmp(a, b, sizeof(kuuid)) == 0;
    case KT_STR: {
        const kstr *x = a, *y = b;
        return eq_bytes(x->p, x->len, y->p, y->len);
    }
    }
    return false;
}

static bool eq_field(const kf_field *f, const void *a, const void *b, int depth)
{
    switch (f->type) {
    case KT_BYTES: {
        const kbytes *x = a, *y = b;
        return eq_bytes(x->p, x->len, y->p, y->len);
    }
    case KT_RECORDS: {
        const krecords *x = a, *y = b;
        return !x->file && !y->file && eq_bytes(x->p, x->len, y->p, y->len);
    }
    case KT_STRUCT: {
        const void *x = *(void *const *)a, *y = *(void *const *)b;
        if (!x || !y)
            return x == y;
        return eq_struct(f->sub, x, y, depth + 1);
    }
    case KT_ARRAY: {
        const anyarr *x = a, *y = b;
        if (x->n != y->n)
            return false;
        size_t es = elem_size(f);
        for (int32_t i = 0; i < x->n; i++) {
            const void *ea = (const char *)x->v + (size_t)i * es;
            const void *eb = (const char *)y->v + (size_t)i * es;
            bool ok = f->elem == KT_STRUCT ? eq_struct(f->sub, ea, eb, depth + 1)
                                           : eq_scalar(f->elem, ea, eb);
            if (!ok)
                return false;
        }
        return true;
    }
    case KT_I16: {
        /* The encoder maps every *error_code through kerr_to_wire (internal
         * codes never reach the wire), so such a field survives the round
         * trip as its wire form. */
        size_t n = strlen(f->name);
        if (n >= 10 && !memcmp(f->name + n - 10, "error_code", 10))
            return kerr_to_wire(*(const int16_t *)a) == *(const int16_t *)b;
        return eq_scalar(f->type, a, b);
    }
    default:
        return eq_scalar(f->type, a, b);
    }
}

static const char *g_diff_field;

static bool eq_struct(const kf_struct *s, const void *a, const void *b, int depth)
{
    if (depth > 32)
        return true;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kf_field *f = &s->fields[i];
        if (!eq_field(f, (const char *)a + f->off, (const char *)b + f->off, depth)) {
            if (!g_diff_field)
                g_diff_field = f->name;
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------ round trip */

static uint8_t *flatten(obuf *ob, size_t *len)
{
    uint8_t *p = malloc(ob->total ? ob->total : 1);
    FUZZ_ASSERT(p, "malloc");
    long n = obuf_flatten(ob, p, ob->total);
    FUZZ_ASSERT(n >= 0 && (size_t)n == ob->total, "obuf_flatten returned %ld of %zu", n, ob->total);
    *len = (size_t)n;
    return p;
}

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", what, n);
    for (size_t i = 0; i < n && i < 256; i++)
        fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || g_nkeys == 0)
        return 0;
    const kapi_schema *api = kapi_schema_get(data[0]);
    if (!api)
        api = kapi_schema_get(g_keys[data[0] % g_nkeys]);
    int ver = data[1] % (api->max_version + 1);
    bool resp = data[2] & 1;
    const kf_struct *s = resp ? api->resp : api->req;
    bool flex = kapi_flexible(api, ver);
    const uint8_t *body = data + 3;
    size_t blen = size - 3;

    arena a1, a2;
    arena_init(&a1, arena_cap_for(blen));
    arena_init(&a2, arena_cap_for(blen));
    obuf e1, e2;
    obuf_init(&e1);
    obuf_init(&e2);
    uint8_t *y = NULL, *z = NULL;

    void *v1 = arena_alloc(&a1, s->size);
    FUZZ_ASSERT(v1, "arena refused the top-level struct");
    kreader r;
    kr_init(&r, body, blen);
    int rc = kcodec_decode(s, ver, flex, &r, &a1, v1);
    FUZZ_ASSERT(rc == 0 || rc == KERR__PARSE || rc == KERR__NOMEM, "kcodec_decode returned %d", rc);
    FUZZ_ASSERT(r.p >= body && r.p <= body + blen, "reader left its buffer");
    if (rc != 0)
        goto out;
    size_t used = (size_t)(r.p - body);

    /* Encode what was decoded. */
    FUZZ_ASSERT(kcodec_encode(s, ver, flex, v1, &e1) == 0, "encode failed (out of memory?)");
    size_t ylen;
    y = flatten(&e1, &ylen);
    if (ylen > used) {
        hexdump("consumed input", body, used);
        hexdump("re-encoded", y, ylen);
        FUZZ_ASSERT(ylen <= used, "%s %s v%d: re-encoding is longer (%zu) than the input (%zu)",
                    api->name, resp ? "response" : "request", ver, ylen, used);
    }

    /* y must decode to the same value, consuming exactly y ... */
    void *v2 = arena_alloc(&a2, s->size);
    FUZZ_ASSERT(v2, "arena refused the top-level struct");
    kr_init(&r, y, ylen);
    rc = kcodec_decode(s, ver, flex, &r, &a2, v2);
    if (rc != 0 || r.p != y + ylen) {
        hexdump("consumed input", body, used);
        hexdump("re-encoded", y, ylen);
        FUZZ_ASSERT(rc == 0 && r.p == y + ylen, "%s %s v%d: re-encoding does not decode (rc %d, %zu of %zu bytes used)",
                    api->name, resp ? "response" : "request", ver, rc, (size_t)(r.p - y), ylen);
    }
    g_diff_field = NULL;
    if (!eq_struct(s, v1, v2, 0)) {
        hexdump("consumed input", body, used);
        hexdump("re-encoded", y, ylen);
        FUZZ_ASSERT(false, "%s %s v%d: value changed in the round trip (field %s)", api->name,
                    resp ? "response" : "request", ver, g_diff_field ? g_diff_field : "?");
    }
    /* ... and encode to y again: the encoding is canonical. */
    FUZZ_ASSERT(kcodec_encode(s, ver, flex, v2, &e2) == 0, "encode failed (out of memory?)");
    size_t zlen;
    z = flatten(&e2, &zlen);
    if (zlen != ylen || memcmp(y, z, ylen) != 0) {
        hexdump("first encoding", y, ylen);
        hexdump("second encoding", z, zlen);
        FUZZ_ASSERT(false, "%s %s v%d: encoding is not a fixed point", api->name,
                    resp ? "response" : "request", ver);
    }
out:
    free(y);
    free(z);
    obuf_free(&e1);
    obuf_free(&e2);
    arena_reset(&a1);
    arena_reset(&a2);
    return 0;
}
