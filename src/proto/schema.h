/*
 * schema.h - declarative message definitions and the C types they map to.
 *
 * Each Kafka message (request or response body, and every nested struct) is
 * written once as an X-macro field list; from it we get both the C struct
 * that handlers use and the field table that the generic codec (codec.c)
 * walks.  The lists are our own transcription of the protocol, limited to
 * the versions Samsa reads and writes.
 *
 * A field list looks like:
 *
 *   #define PRODUCE_REQ_PARTITION(F, S) \
 *       F(S, I32,     index,   0, 99) \
 *       F(S, RECORDS, records, 0, 99, NULLABLE(0))
 *   KSTRUCT_DECL(produce_req_partition, PRODUCE_REQ_PARTITION)
 *
 * F(S, KIND, name, vmin, vmax, [sub,] options...)
 *   KIND     one of the kinds below; STRUCT and ASTRUCT take the element
 *            struct's name as the first argument after vmax.
 *   vmin,vmax  the versions in which the field is on the wire (99 = "+").
 *   options  NULLABLE(v)  nullable from version v
 *            TAG(t, v)    a tagged field with tag t from version v (flexible
 *                         versions only)
 *            DFLT(x)      integer/bool default when absent (else 0)
 *            DFLT_NULL    a string/bytes field whose default is null
 *
 * C representation:
 *   BOOL bool; I8..I64/U16/U32 fixed ints; F64 double; UUID kuuid;
 *   STR kstr (len -1 = null); BYTES kbytes; RECORDS krecords;
 *   STRUCT `struct sub *` (NULL = null/absent);
 *   A* arrays `{ int32_t n; T *v; }` (n -1 = null).
 * Decoded strings, bytes and records point into the request buffer: they
 * live as long as the request.  Arrays and structs live in its arena.
 */
#ifndef SAMSA_PROTO_SCHEMA_H
#define SAMSA_PROTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fileref.h"
#include "core/uuid.h"

typedef struct kstr { const char *p; int32_t len; } kstr;
typedef struct kbytes { const uint8_t *p; int32_t len; } kbytes;
/* Record data: memory [p, p+len) or, when file is set, the file range
 * [file_off, file_off+len) sent with sendfile.  len -1 = null. */
typedef struct krecords {
    const uint8_t *p;
    int32_t len;
    fileref *file;
    int64_t file_off;
} krecords;

typedef struct karr_i16 { int32_t n; int16_t *v; } karr_i16;
typedef struct karr_i32 { int32_t n; int32_t *v; } karr_i32;
typedef struct karr_i64 { int32_t n; int64_t *v; } karr_i64;
typedef struct karr_str { int32_t n; kstr *v; } karr_str;
typedef struct karr_uuid { int32_t n; kuuid *v; } karr_uuid;

enum kf_type {
    KT_BOOL, KT_I8, KT_I16, KT_U16, KT_I32, KT_U32, KT_I64, KT_F64, KT_UUID,
    KT_STR, KT_BYTES, KT_RECORDS, KT_STRUCT, KT_ARRAY,
};

typedef struct kf_struct kf_struct;
typedef struct kf_field {
    const char *name;
    uint8_t type;          /* enum kf_type */
    uint8_t elem;          /* KT_ARRAY: element type */
    int8_t vmin, vmax;
    bool nullable;
    int8_t nmin;
    bool tagged;
    int8_t tmin;
    int32_t tag;
    bool dflt_null;
    int64_t dflt;
    uint32_t off;
    const kf_struct *sub;  /* KT_STRUCT, or KT_ARRAY of structs */
} kf_field;

struct kf_struct {
    const char *name;
    uint32_t size;
    uint16_t nfields;
    const kf_field *fields;
};

#define KV_ANY 99

/* Field options (designated initialisers). */
#define NULLABLE(v) .nullable = true, .nmin = (v)
#define TAG(t, v)   .tagged = true, .tag = (t), .tmin = (v)
#define DFLT(x)     .dflt = (x)
#define DFLT_NULL   .dflt_null = true

/* Kind -> C member type. */
#define KF_CT_BOOL(...)    bool
#define KF_CT_I8(...)      int8_t
#define KF_CT_I16(...)     int16_t
#define KF_CT_U16(...)     uint16_t
#define KF_CT_I32(...)     int32_t
#define KF_CT_U32(...)     uint32_t
#define KF_CT_I64(...)     int64_t
#define KF_CT_F64(...)     double
#define KF_CT_UUID(...)    kuuid
#define KF_CT_STR(...)     kstr
#define KF_CT_BYTES(...)   kbytes
#define KF_CT_RECORDS(...) krecords
#define KF_CT_STRUCT(sub, ...)  struct sub *
#define KF_CT_AI16(...)    karr_i16
#define KF_CT_AI32(...)    karr_i32
#define KF_CT_AI64(...)    karr_i64
#define KF_CT_ASTR(...)    karr_str
#define KF_CT_AUUID(...)   karr_uuid
#define KF_CT_ASTRUCT(sub, ...) struct { int32_t n; struct sub *v; }

/* Kind -> table type, element type and options. */
#define KF_TE_BOOL    .type = KT_BOOL
#define KF_TE_I8      .type = KT_I8
#define KF_TE_I16     .type = KT_I16
#define KF_TE_U16     .type = KT_U16
#define KF_TE_I32     .type = KT_I32
#define KF_TE_U32     .type = KT_U32
#define KF_TE_I64     .type = KT_I64
#define KF_TE_F64     .type = KT_F64
#define KF_TE_UUID    .type = KT_UUID
#define KF_TE_STR     .type = KT_STR
#define KF_TE_BYTES   .type = KT_BYTES
#define KF_TE_RECORDS .type = KT_RECORDS
#define KF_TE_STRUCT  .type = KT_STRUCT
#define KF_TE_AI16    .type = KT_ARRAY, .elem = KT_I16
#define KF_TE_AI32    .type = KT_ARRAY, .elem = KT_I32
#define KF_TE_AI64    .type = KT_ARRAY, .elem = KT_I64
#define KF_TE_ASTR    .type = KT_ARRAY, .elem = KT_STR
#define KF_TE_AUUID   .type = KT_ARRAY, .elem = KT_UUID
#define KF_TE_ASTRUCT .type = KT_ARRAY, .elem = KT_STRUCT

#define KF_OPT_BOOL(...)    __VA_ARGS__
#define KF_OPT_I8(...)      __VA_ARGS__
#define KF_OPT_I16(...)     __VA_ARGS__
#define KF_OPT_U16(...)     __VA_ARGS__
#define KF_OPT_I32(...)     __VA_ARGS__
#define KF_OPT_U32(...)     __VA_ARGS__
#define KF_OPT_I64(...)     __VA_ARGS__
#define KF_OPT_F64(...)     __VA_ARGS__
#define KF_OPT_UUID(...)    __VA_ARGS__
#define KF_OPT_STR(...)     __VA_ARGS__
#define KF_OPT_BYTES(...)   __VA_ARGS__
#define KF_OPT_RECORDS(...) __VA_ARGS__
#define KF_OPT_AI16(...)    __VA_ARGS__
#define KF_OPT_AI32(...)    __VA_ARGS__
#define KF_OPT_AI64(...)    __VA_ARGS__
#define KF_OPT_ASTR(...)    __VA_ARGS__
#define KF_OPT_AUUID(...)   __VA_ARGS__
#define KF_OPT_STRUCT(sub_, ...)  .sub = &sub_##_schema, __VA_ARGS__
#define KF_OPT_ASTRUCT(sub_, ...) .sub = &sub_##_schema, __VA_ARGS__

#define KF_MEMBER_(S, kind, fname, vmin_, vmax_, ...) KF_CT_##kind(__VA_ARGS__) fname;
#define KF_ENTRY_(S, kind, fname, vmin_, vmax_, ...) \
    { .name = #fname, KF_TE_##kind, .vmin = (vmin_), .vmax = (vmax_), \
      .off = (uint32_t)offsetof(S, fname), KF_OPT_##kind(__VA_ARGS__) },

/* In a header: the C type and the schema's declaration. */
#define KSTRUCT_DECL(name, FIELDS) \
    typedef struct name { FIELDS(KF_MEMBER_, name) char end_; } name; \
    extern const kf_struct name##_schema;

/* In exactly one .c file: the field table. */
#define KSTRUCT_DEF(name, FIELDS) \
    static const kf_field name##_fields_[] = { FIELDS(KF_ENTRY_, name) }; \
    const kf_struct name##_schema = { \
        #name, (uint32_t)sizeof(name), \
        (uint16_t)(sizeof(name##_fields_) / sizeof(kf_field)), name##_fields_ };

/* A struct with no fields at all (some requests). */
#define KSTRUCT_DECL_EMPTY(name) \
    typedef struct name { char end_; } name; \
    extern const kf_struct name##_schema;
#define KSTRUCT_DEF_EMPTY(name) \
    const kf_struct name##_schema = { #name, (uint32_t)sizeof(name), 0, NULL };

#endif
