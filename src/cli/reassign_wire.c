/*
 * reassign_wire.c - the CLI's codecs for partition reassignment (see
 * reassign.h).  Pure: bytes in, structs out.
 *
 * AlterPartitionReassignments (45) and ListPartitionReassignments (46) v0
 * are flexible: request header v2 (client id a classic string, then tagged
 * fields), compact strings and arrays, tagged fields after each struct;
 * response header v1 (correlation id, tagged fields).
 *   45 request:  timeout_ms i32, topics [name, partitions [index i32,
 *                replicas nullable [i32]]]
 *   45 response: throttle i32, error i16, message nullable str,
 *                responses [name, partitions [index i32, error i16, message]]
 *   46 request:  timeout_ms i32, topics nullable [...] (null: all)
 *   46 response: throttle i32, error i16, message, topics [name,
 *                partitions [index i32, replicas, adding, removing]]
 * IncrementalAlterConfigs (44) v0 is classic: resources [type i8, name,
 * configs [name, op i8, value nullable]], validate_only bool; response:
 * throttle i32, responses [error i16, message, type i8, name].
 * Every count is checked against the bytes left before anything is
 * allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/reassign.h"
#include "cli/wire.h"

/* A compact [i32] into v (at most cap kept); its length. */
static int32_t cids(rbuf_t *r, int32_t *v, int cap)
{
    int32_t n = get_ccount(r, 4);
    if (n < 0)
        return 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t id = get32(r);
        if (i < cap)
            v[i] = id;
    }
    return n < cap ? n : cap;
}

/* The start both responses share: header, throttle, error, message, and
 * the topic count. */
static int32_t prologue(rbuf_t *r, int32_t corr, int16_t *top, char *msg, size_t msglen)
{
    resp_header(r, corr, 1);
    get32(r);                           /* throttle_time_ms */
    *top = get16(r);
    get_cstr(r, msg, msglen);
    return get_ccount(r, 3);
}

/* Consecutive moves of one topic start at moves[i]: their count. */
static int run_of(const ra_move *moves, int n, int i)
{
    int k = i;
    while (k < n && !strcmp(moves[k].topic, moves[i].topic))
        k++;
    return k - i;
}

size_t ra_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                       const ra_move *moves, int n, int32_t timeout_ms)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, 45, 0, corr, client_id, 1);
    put32(&w, timeout_ms);
    int ntopics = 0;
    for (int i = 0; i < n; i += run_of(moves, n, i))
        ntopics++;
    put_uvarint(&w, (uint32_t)ntopics + 1);
    for (int i = 0; i < n;) {
        int run = run_of(moves, n, i);
        put_cstr(&w, moves[i].topic);
        put_uvarint(&w, (uint32_t)run + 1);
        for (int k = i; k < i + run; k++) {
            put32(&w, moves[k].partition);
            if (moves[k].nnew < 0) {
                put_uvarint(&w, 0);     /* null: cancel */
            } else {
                put_uvarint(&w, (uint32_t)moves[k].nnew + 1);
                for (int j = 0; j < moves[k].nnew; j++)
                    put32(&w, moves[k].new_[j]);
            }
            put_uvarint(&w, 0);
        }
        put_uvarint(&w, 0);
        i += run;
    }
    put_uvarint(&w, 0);
    return wbuf_finish(&w);
}

int ra_decode_alter(const uint8_t *p, size_t len, int32_t corr, const ra_move *moves, int n,
                    int16_t *errs, char *msg, size_t msglen, int16_t *top)
{
    rbuf_t r = {p, len, 0};
    int32_t nt = prologue(&r, corr, top, msg, msglen);
    memset(errs, 0, (size_t)n * sizeof *errs);
    for (int32_t t = 0; t < nt && !r.bad; t++) {
        char name[256];
        get_cstr(&r, name, sizeof name);
        int32_t np = get_ccount(&r, 8);
        for (int32_t k = 0; k < np && !r.bad; k++) {
            int32_t part = get32(&r);
            int16_t e = get16(&r);
            char m[256];
            get_cstr(&r, m, sizeof m);
            skip_tags(&r);
            for (int i = 0; i < n; i++)
                if (moves[i].partition == part && !strcmp(moves[i].topic, name)) {
                    errs[i] = e;
                    if (e && !msg[0])
                        snprintf(msg, msglen, "%s-%d: %s", name, part, m);
                }
        }
        skip_tags(&r);
    }
    skip_tags(&r);
    return r.bad ? -1 : 0;
}

size_t ra_encode_list(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                      int32_t timeout_ms)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, 46, 0, corr, client_id, 1);
    put32(&w, timeout_ms);
    put_uvarint(&w, 0);                 /* topics null: every reassignment */
    put_uvarint(&w, 0);
    return wbuf_finish(&w);
}

int ra_decode_list(const uint8_t *p, size_t len, int32_t corr, ra_plan *out, int16_t *top)
{
    rbuf_t r = {p, len, 0};
    memset(out, 0, sizeof *out);
    char msg[256];
    int32_t nt = prologue(&r, corr, top, msg, sizeof msg);
    for (int32_t t = 0; t < nt && !r.bad; t++) {
        char name[256];
        get_cstr(&r, name, sizeof name);
        int32_t np = get_ccount(&r, 8);
        for (int32_t k = 0; k < np && !r.bad; k++) {
            if (out->n == out->cap) {
                int cap = out->cap ? 2 * out->cap : 16;
                ra_move *v = realloc(out->v, (size_t)cap * sizeof *v);
                if (!v) {
                    r.bad = 1;
                    break;
                }
                out->v = v;
                out->cap = cap;
            }
            ra_move *mv = &out->v[out->n];
            memset(mv, 0, sizeof *mv);
            if (!(mv->topic = strdup(name))) {
                r.bad = 1;
                break;
            }
            out->n++;
            mv->partition = get32(&r);
            int32_t cur[RA_MAX_RF];
            cids(&r, cur, RA_MAX_RF);   /* the whole set: not kept */
            mv->nnew = cids(&r, mv->new_, RA_MAX_RF);
            mv->nold = cids(&r, mv->old, RA_MAX_RF);
            skip_tags(&r);
        }
        skip_tags(&r);
    }
    skip_tags(&r);
    if (r.bad) {
        ra_plan_free(out);
        return -1;
    }
    return 0;
}

size_t ra_encode_configs(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                         int8_t rtype, const char *rname, const char *const *keys,
                         const char *const *values, int n)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, 44, 0, corr, client_id, 0);
    put32(&w, 1);
    put8(&w, rtype);
    putstr(&w, rname);
    put32(&w, n);
    for (int i = 0; i < n; i++) {
        putstr(&w, keys[i]);
        put8(&w, values[i] ? 0 : 1);    /* SET, or DELETE */
        if (values[i])
            putstr(&w, values[i]);
        else
            put16(&w, -1);
    }
    put8(&w, 0);                        /* validate_only */
    return wbuf_finish(&w);
}

int ra_decode_configs(const uint8_t *p, size_t len, int32_t corr, int16_t *error)
{
    rbuf_t r = {p, len, 0};
    resp_header(&r, corr, 0);
    get32(&r);
    int32_t n = get32(&r);
    *error = n >= 1 ? get16(&r) : -1;
    return r.bad || n < 1 ? -1 : 0;
}
