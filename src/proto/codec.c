/*
 * codec.c - see codec.h.
 *
 * Wire rules implemented here (Kafka protocol, "flexible" = compact + tags):
 *   string   non-flex INT16 len (-1 null), flex UVARINT len+1 (0 null)
 *   bytes    non-flex INT32 len (-1 null), flex UVARINT len+1 (0 null)
 *   array    non-flex INT32 n   (-1 null), flex UVARINT n+1   (0 null)
 *   struct   inline; a nullable struct has an INT8 marker (-1 null, 1 set)
 *   tags     flexible structs end with UVARINT count, then per entry
 *            UVARINT tag, UVARINT size, value.  Unknown tags are skipped.
 */
#include "proto/codec.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

static inline bool in_ver(const kf_field *f, int ver)
{
    return ver >= f->vmin && ver <= f->vmax;
}
static inline bool is_tagged(const kf_field *f, int ver, bool flex)
{
    return flex && f->tagged && ver >= f->tmin;
}
static inline bool is_nullable(const kf_field *f, int ver)
{
    return f->nullable && ver >= f->nmin;
}

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

void *karray_alloc(arena *a, void *arr, int32_t n, size_t size)
{
    struct { int32_t n; void *v; } *ar = arr;
    ar->n = n;
    ar->v = NULL;
    if (n <= 0)
        return NULL;
    ar->v = arena_alloc(a, (size_t)n * size);
    if (!ar->v)
        ar->n = 0;
    return ar->v;
}

/* ---------------------------------------------------------------- defaults */

static void set_default(const kf_field *f, void *dst)
{
    switch (f->type) {
    case KT_BOOL: *(bool *)dst = f->dflt != 0; break;
    case KT_I8: *(int8_t *)dst = (int8_t)f->dflt; break;
    case KT_I16: *(int16_t *)dst = (int16_t)f->dflt; break;
    case KT_U16: *(uint16_t *)dst = (uint16_t)f->dflt; break;
    case KT_I32: *(int32_t *)dst = (int32_t)f->dflt; break;
    case KT_U32: *(uint32_t *)dst = (uint32_t)f->dflt; break;
    case KT_I64: *(int64_t *)dst = f->dflt; break;
    case KT_F64: *(double *)dst = 0; break;
    case KT_UUID: memset(dst, 0, sizeof(kuuid)); break;
    case KT_STR: *(kstr *)dst = f->dflt_null ? (kstr){ NULL, -1 } : (kstr){ "", 0 }; break;
    case KT_BYTES: *(kbytes *)dst = f->dflt_null ? (kbytes){ NULL, -1 } : (kbytes){ NULL, 0 }; break;
    case KT_RECORDS: memset(dst, 0, sizeof(krecords)); ((krecords *)dst)->len = -1; break;
    case KT_STRUCT: *(void **)dst = NULL; break;
    case KT_ARRAY: {
        struct { int32_t n; void *v; } *ar = dst;
        ar->n = 0;
        ar->v = NULL;
        break;
    }
    }
}

void kcodec_defaults(const kf_struct *s, void *out)
{
    memset(out, 0, s->size);
    for (uint16_t i = 0; i < s->nfields; i++)
        set_default(&s->fields[i], (char *)out + s->fields[i].off);
}

/* ---------------------------------------------------------------- decoding */

/* Smallest number of wire bytes one element can take (>= 1), so that
 * count * min <= bytes left bounds what an array may make us allocate. */
static size_t min_wire(const kf_field *f, uint8_t type, int ver, bool flex, int depth);

static size_t min_struct(const kf_struct *s, int ver, bool flex, int depth)
{
    size_t n = flex ? 1 : 0;
    if (depth > 8)
        return 1;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kf_field *f = &s->fields[i];
        if (!in_ver(f, ver) || is_tagged(f, ver, flex))
            continue;
        n += min_wire(f, f->type, ver, flex, depth + 1);
    }
    return n ? n : 1;
}

static size_t min_wire(const kf_field *f, uint8_t type, int ver, bool flex, int depth)
{
    switch (type) {
    case KT_BOOL: case KT_I8: return 1;
    case KT_I16: case KT_U16: return 2;
    case KT_I32: case KT_U32: return 4;
    case KT_I64: case KT_F64: return 8;
    case KT_UUID: return 16;
    case KT_STR: return flex ? 1 : 2;
    case KT_BYTES: case KT_RECORDS: case KT_ARRAY: return flex ? 1 : 4;
    case KT_STRUCT:
        if (is_nullable(f, ver))
            return 1;
        return min_struct(f->sub, ver, flex, depth);
    }
    return 1;
}

static int decode_struct(const kf_struct *s, int ver, bool flex, kreader *r, arena *a,
                         void *out, int depth);

/* Length prefix of a string/bytes/array: returns -1 for null, -2 on error. */
static int64_t read_len(kreader *r, bool flex, int width)
{
    if (flex) {
        uint32_t n = kr_uvarint(r);
        if (r->err) return -2;
        return (int64_t)n - 1;
    }
    int64_t n = width == 2 ? kr_i16(r) : kr_i32(r);
    if (r->err || n < -1) return -2;
    return n;
}

static int decode_scalar(uint8_t type, kreader *r, void *dst)
{
    switch (type) {
    case KT_BOOL: *(bool *)dst = kr_i8(r) != 0; break;
    case KT_I8: *(int8_t *)dst = kr_i8(r); break;
    case KT_I16: *(int16_t *)dst = kr_i16(r); break;
    case KT_U16: *(uint16_t *)dst = (uint16_t)kr_i16(r); break;
    case KT_I32: *(int32_t *)dst = kr_i32(r); break;
    case KT_U32: *(uint32_t *)dst = (uint32_t)kr_i32(r); break;
    case KT_I64: *(int64_t *)dst = kr_i64(r); break;
    case KT_F64: {
        uint64_t u = (uint64_t)kr_i64(r);
        memcpy(dst, &u, 8);
        break;
    }
    case KT_UUID: {
        const uint8_t *p = kr_bytes(r, 16);
        if (p) memcpy(dst, p, 16);
        break;
    }
    default:
        return -1;
    }
    return r->err ? -1 : 0;
}

static int decode_str(kreader *r, bool flex, bool nullable, kstr *dst)
{
    int64_t n = read_len(r, flex, 2);
    if (n == -2 || (n == -1 && !nullable))
        return -1;
    if (n == -1) {
        *dst = (kstr){ NULL, -1 };
        return 0;
    }
    const uint8_t *p = kr_bytes(r, (size_t)n);
    if (!p)
        return -1;
    *dst = (kstr){ (const char *)p, (int32_t)n };
    return 0;
}

static int decode_value(const kf_field *f, int ver, bool flex, kreader *r, arena *a,
                        void *dst, int depth)
{
    bool nullable = is_nullable(f, ver);
    switch (f->type) {
    case KT_STR:
        return decode_str(r, flex, nullable, dst);
    case KT_BYTES:
    case KT_RECORDS: {
        int64_t n = read_len(r, flex, 4);
        if (n == -2 || (n == -1 && !nullable && f->type == KT_BYTES))
            return -1;
        const uint8_t *p = NULL;
        if (n >= 0 && !(p = kr_bytes(r, (size_t)n)))
            return -1;
        if (f->type == KT_BYTES) {
            *(kbytes *)dst = (kbytes){ p, (int32_t)n };
        } else {
            krecords *rec = dst;
            memset(rec, 0, sizeof *rec);
            rec->p = p;
            rec->len = (int32_t)n;
        }
        return 0;
    }
    case KT_STRUCT: {
        if (nullable) {
            int8_t m = kr_i8(r);
            if (r->err) return -1;
            if (m < 0) {
                *(void **)dst = NULL;
                return 0;
            }
        }
        void *sub = arena_alloc(a, f->sub->size);
        if (!sub)
            return KERR__NOMEM;
        *(void **)dst = sub;
        return decode_struct(f->sub, ver, flex, r, a, sub, depth + 1);
    }
    case KT_ARRAY: {
        struct { int32_t n; void *v; } *ar = dst;
        int64_t n = read_len(r, flex, 4);
        if (n == -2 || (n == -1 && !nullable))
            return -1;
        ar->n = (int32_t)n;
        ar->v = NULL;
        if (n <= 0)
            return 0;
        size_t mw = min_wire(f, f->elem, ver, flex, depth);
        if ((uint64_t)n > kr_left(r) / mw)
            return -1;                       /* a lying count */
        size_t es = elem_size(f);
        ar->v = arena_alloc(a, (size_t)n * es);
        if (!ar->v)
            return KERR__NOMEM;
        for (int64_t i = 0; i < n; i++) {
            void *e = (char *)ar->v + (size_t)i * es;
            int rc;
            if (f->elem == KT_STRUCT)
                rc = decode_struct(f->sub, ver, flex, r, a, e, depth + 1);
            else if (f->elem == KT_STR)
                rc = decode_str(r, flex, false, e);
            else
                rc = decode_scalar(f->elem, r, e);
            if (rc)
                return rc;
        }
        return 0;
    }
    default:
        return decode_scalar(f->type, r, dst);
    }
}

static int decode_tags(const kf_struct *s, int ver, kreader *r, arena *a, void *out, int depth)
{
    uint32_t n = kr_uvarint(r);
    if (r->err)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = kr_uvarint(r);
        uint32_t size = kr_uvarint(r);
        const uint8_t *p = kr_bytes(r, size);
        if (!p)
            return -1;
        for (uint16_t k = 0; k < (s ? s->nfields : 0); k++) {
            const kf_field *f = &s->fields[k];
            if (!f->tagged || (uint32_t)f->tag != tag || !in_ver(f, ver) || ver < f->tmin)
                continue;
            kreader sub;
            kr_init(&sub, p, size);
            int rc = decode_value(f, ver, true, &sub, a, (char *)out + f->off, depth);
            if (rc)
                return rc;
            break;
        }
    }
    return 0;
}

static int decode_struct(const kf_struct *s, int ver, bool flex, kreader *r, arena *a,
                         void *out, int depth)
{
    if (depth > 16)
        return -1;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kf_field *f = &s->fields[i];
        void *dst = (char *)out + f->off;
        if (!in_ver(f, ver) || is_tagged(f, ver, flex)) {
            set_default(f, dst);
            continue;
        }
        int rc = decode_value(f, ver, flex, r, a, dst, depth);
        if (rc)
            return rc;
    }
    if (flex)
        return decode_tags(s, ver, r, a, out, depth);
    return 0;
}

int kcodec_decode(const kf_struct *s, int ver, bool flex, kreader *r, arena *a, void *out)
{
    int rc = decode_struct(s, ver, flex, r, a, out, 0);
    if (rc == KERR__NOMEM)
        return KERR__NOMEM;
    return rc || r->err ? KERR__PARSE : 0;
}

/* ---------------------------------------------------------------- encoding */

static void w_raw(obuf *ob, const void *p, size_t n)
{
    obuf_append(ob, p, n);
}
static void w_i8(obuf *ob, int8_t v) { w_raw(ob, &v, 1); }
static void w_i16(obuf *ob, int16_t v)
{
    uint8_t b[2];
    be16_store(b, (uint16_t)v);
    w_raw(ob, b, 2);
}
static void w_i32(obuf *ob, int32_t v)
{
    uint8_t b[4];
    be32_store(b, (uint32_t)v);
    w_raw(ob, b, 4);
}
static void w_i64(obuf *ob, int64_t v)
{
    uint8_t b[8];
    be64_store(b, (uint64_t)v);
    w_raw(ob, b, 8);
}
static void w_uvarint(obuf *ob, uint64_t v)
{
    uint8_t b[UVARINT64_MAX_LEN];
    w_raw(ob, b, uvarint_encode(b, v));
}
/* Length prefix; n = -1 writes null. */
static void w_len(obuf *ob, bool flex, int width, int64_t n)
{
    if (flex)
        w_uvarint(ob, (uint64_t)(n + 1));
    else if (width == 2)
        w_i16(ob, (int16_t)n);
    else
        w_i32(ob, (int32_t)n);
}

static void encode_struct(const kf_struct *s, int ver, bool flex, const void *in, obuf *ob);

static void encode_scalar(uint8_t type, const void *src, obuf *ob)
{
    switch (type) {
    case KT_BOOL: w_i8(ob, *(const bool *)src ? 1 : 0); break;
    case KT_I8: w_i8(ob, *(const int8_t *)src); break;
    case KT_I16: w_i16(ob, *(const int16_t *)src); break;
    case KT_U16: w_i16(ob, (int16_t)*(const uint16_t *)src); break;
    case KT_I32: w_i32(ob, *(const int32_t *)src); break;
    case KT_U32: w_i32(ob, (int32_t)*(const uint32_t *)src); break;
    case KT_I64: w_i64(ob, *(const int64_t *)src); break;
    case KT_F64: {
        uint64_t u;
        memcpy(&u, src, 8);
        w_i64(ob, (int64_t)u);
        break;
    }
    case KT_UUID: w_raw(ob, src, 16); break;
    }
}

static void encode_str(const kstr *v, bool flex, bool nullable, obuf *ob)
{
    if (v->len < 0 || !v->p) {
        w_len(ob, flex, 2, nullable ? -1 : 0);
        return;
    }
    w_len(ob, flex, 2, v->len);
    w_raw(ob, v->p, (size_t)v->len);
}

/* Kafka names every error field ...ErrorCode (error_code,
 * topic_config_error_code here). */
static bool is_error_code(const kf_field *f)
{
    size_t n = strlen(f->name);
    return n >= 10 && !memcmp(f->name + n - 10, "error_code", 10);
}

static void encode_value(const kf_field *f, int ver, bool flex, const void *src, obuf *ob)
{
    bool nullable = is_nullable(f, ver);
    switch (f->type) {
    case KT_I16:
        /* The one door to the wire: an internal code (KERR__*) a handler
         * left in an error field becomes the code a client understands. */
        w_i16(ob, is_error_code(f) ? kerr_to_wire(*(const int16_t *)src) : *(const int16_t *)src);
        return;
    case KT_STR:
        encode_str(src, flex, nullable, ob);
        return;
    case KT_BYTES: {
        const kbytes *b = src;
        if (b->len < 0) {
            w_len(ob, flex, 4, nullable ? -1 : 0);
            return;
        }
        w_len(ob, flex, 4, b->len);
        if (b->len)
            w_raw(ob, b->p, (size_t)b->len);
        return;
    }
    case KT_RECORDS: {
        const krecords *rec = src;
        if (rec->len < 0) {
            w_len(ob, flex, 4, nullable ? -1 : 0);
            return;
        }
        w_len(ob, flex, 4, rec->len);
        if (rec->file)
            obuf_append_file(ob, rec->file, rec->file_off, (size_t)rec->len);
        else if (rec->len)
            w_raw(ob, rec->p, (size_t)rec->len);
        return;
    }
    case KT_STRUCT: {
        const void *sub = *(void *const *)src;
        if (nullable) {
            w_i8(ob, sub ? 1 : -1);
            if (!sub)
                return;
        }
        if (sub) {
            encode_struct(f->sub, ver, flex, sub, ob);
        } else {
            /* Non-nullable struct left unset: write its defaults. */
            void *tmp = malloc(f->sub->size);
            if (!tmp) {
                ob->oom = 1;
                return;
            }
            kcodec_defaults(f->sub, tmp);
            encode_struct(f->sub, ver, flex, tmp, ob);
            free(tmp);
        }
        return;
    }
    case KT_ARRAY: {
        const struct { int32_t n; void *v; } *ar = src;
        if (ar->n < 0) {
            w_len(ob, flex, 4, nullable ? -1 : 0);
            return;
        }
        w_len(ob, flex, 4, ar->n);
        size_t es = elem_size(f);
        for (int32_t i = 0; i < ar->n; i++) {
            const void *e = (const char *)ar->v + (size_t)i * es;
            if (f->elem == KT_STRUCT)
                encode_struct(f->sub, ver, flex, e, ob);
            else if (f->elem == KT_STR)
                encode_str(e, flex, false, ob);
            else
                encode_scalar(f->elem, e, ob);
        }
        return;
    }
    default:
        encode_scalar(f->type, src, ob);
    }
}

/* A tagged field is written only when it differs from its default. */
static bool is_default(const kf_field *f, const void *src)
{
    switch (f->type) {
    case KT_BOOL: return (*(const bool *)src ? 1 : 0) == (f->dflt != 0);
    case KT_I8: return *(const int8_t *)src == (int8_t)f->dflt;
    case KT_I16: return *(const int16_t *)src == (int16_t)f->dflt;
    case KT_U16: return *(const uint16_t *)src == (uint16_t)f->dflt;
    case KT_I32: return *(const int32_t *)src == (int32_t)f->dflt;
    case KT_U32: return *(const uint32_t *)src == (uint32_t)f->dflt;
    case KT_I64: return *(const int64_t *)src == f->dflt;
    case KT_F64: return *(const double *)src == 0;
    case KT_UUID: return kuuid_is_zero(*(const kuuid *)src);
    case KT_STR: {
        const kstr *v = src;
        return f->dflt_null ? v->len < 0 : v->len == 0;
    }
    case KT_BYTES: {
        const kbytes *v = src;
        return f->dflt_null ? v->len < 0 : v->len == 0;
    }
    case KT_RECORDS: return ((const krecords *)src)->len < 0;
    case KT_STRUCT: return *(void *const *)src == NULL;
    case KT_ARRAY: return ((const struct { int32_t n; void *v; } *)src)->n <= 0;
    }
    return true;
}

static void encode_tags(const kf_struct *s, int ver, const void *in, obuf *ob)
{
    /* Collect the tagged fields to write, in ascending tag order. */
    const kf_field *list[32];
    int n = 0;
    for (uint16_t i = 0; i < s->nfields && n < 32; i++) {
        const kf_field *f = &s->fields[i];
        if (!is_tagged(f, ver, true) || !in_ver(f, ver) || is_default(f, (const char *)in + f->off))
            continue;
        int j = n++;
        while (j > 0 && list[j - 1]->tag > f->tag) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = f;
    }
    w_uvarint(ob, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        obuf tmp;
        obuf_init(&tmp);
        encode_value(list[i], ver, true, (const char *)in + list[i]->off, &tmp);
        w_uvarint(ob, (uint64_t)list[i]->tag);
        w_uvarint(ob, tmp.total);
        ob->oom |= tmp.oom;
        obuf_splice(ob, &tmp);
    }
}

static void encode_struct(const kf_struct *s, int ver, bool flex, const void *in, obuf *ob)
{
    for (uint16_t i = 0; i < s->nfields; i++) {
        const kf_field *f = &s->fields[i];
        if (!in_ver(f, ver) || is_tagged(f, ver, flex))
            continue;
        encode_value(f, ver, flex, (const char *)in + f->off, ob);
    }
    if (flex)
        encode_tags(s, ver, in, ob);
}

int kcodec_encode(const kf_struct *s, int ver, bool flex, const void *in, obuf *ob)
{
    encode_struct(s, ver, flex, in, ob);
    return ob->oom ? KERR__NOMEM : 0;
}

int kcodec_encode_versioned(int16_t version, const kf_struct *s, bool flex, const void *in,
                            uint8_t **out, int32_t *len)
{
    obuf ob;
    obuf_init(&ob);
    uint8_t ver[2];
    be16_store(ver, (uint16_t)version);
    obuf_append(&ob, ver, 2);
    kcodec_encode(s, version, flex, in, &ob);
    size_t total = ob.total;
    uint8_t *buf = ob.oom || total > INT32_MAX ? NULL : malloc(total + 1);
    int rc = buf && obuf_flatten(&ob, buf, total + 1) == (long)total ? 0 : -1;
    obuf_free(&ob);
    if (rc) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = (int32_t)total;
    return 0;
}
