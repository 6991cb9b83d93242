/*
 * test_storage_util.h - helpers shared by the storage unit tests: build
 * batches, open logs in a temp dir, capture the diagnostic log (stderr).
 * Header-only (static functions) so each test file stays standalone.
 */
#ifndef SAMSA_TEST_STORAGE_UTIL_H
#define SAMSA_TEST_STORAGE_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

#define T0 1700000000000LL      /* a fixed "now" for deterministic tests */

/* n records with values "v<i>" (value_size bytes when > 0), keys "k<i>",
 * timestamps ts0 + i*ts_step. */
static inline uint8_t *mkbatch_ex(int n, int64_t ts0, int64_t ts_step, int codec, int64_t pid,
                                  int16_t epoch, int32_t seq, int value_size, size_t *len)
{
    bb_params p;
    bb_params_init(&p);
    p.codec = codec;
    p.producer_id = pid;
    p.producer_epoch = epoch;
    p.base_sequence = seq;
    bb_record *r = calloc((size_t)n, sizeof *r);
    char (*keys)[16] = calloc((size_t)n, 16);
    char *vals = calloc((size_t)n, (size_t)(value_size > 16 ? value_size : 16));
    size_t vs = (size_t)(value_size > 16 ? value_size : 16);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 16, "k%d", i);
        char *v = vals + (size_t)i * vs;
        if (value_size > 0)
            memset(v, 'a' + i % 26, (size_t)value_size);
        else
            snprintf(v, vs, "v%d", i);
        r[i].key = keys[i];
        r[i].key_len = (int32_t)strlen(keys[i]);
        r[i].value = v;
        r[i].value_len = value_size > 0 ? value_size : (int32_t)strlen(v);
        r[i].timestamp = ts0 + i * ts_step;
    }
    uint8_t *out = NULL;
    if (bb_build(&p, r, n, &out, len) != KERR_NONE)
        out = NULL;
    free(r);
    free(keys);
    free(vals);
    return out;
}

static inline uint8_t *mkbatch(int n, int64_t ts0, size_t *len)
{
    return mkbatch_ex(n, ts0, 1, RB_CODEC_NONE, -1, -1, -1, 0, len);
}

/* Append one fresh batch; returns the error; fills *base. */
static inline int append_n(plog *l, int n, int64_t ts0, int64_t *base)
{
    size_t len;
    uint8_t *b = mkbatch(n, ts0, &len);
    plog_append_result r;
    int e = plog_append(l, b, len, 0, T0, &r);
    if (base)
        *base = r.base_offset;
    plog_set_high_watermark(l, plog_log_end_offset(l));
    free(b);
    return e;
}

static inline void test_cfg(log_config *c)
{
    log_config_defaults(c);
    c->retention_ms = -1;
}

static inline plog *new_log(const char *dir, const log_config *cfg)
{
    kuuid id = kuuid_random();
    plog *l = NULL;
    if (plog_create(dir, "t", 0, id, cfg, T0, &l) != KERR_NONE)
        return NULL;
    return l;
}

static inline plog *reopen_log(const char *dir, const log_config *cfg, int clean, int64_t rp)
{
    char path[600];
    snprintf(path, sizeof path, "%s/t-0", dir);
    plog_load_params lp = { clean != 0, rp, -1, T0 };
    plog *l = NULL;
    if (plog_load(path, "t", 0, cfg, &lp, &l) != KERR_NONE)
        return NULL;
    return l;
}

static inline int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static inline char *seg_path(char *buf, size_t cap, const char *dir, int64_t base, const char *sfx)
{
    snprintf(buf, cap, "%s/t-0/%020lld%s", dir, (long long)base, sfx);
    return buf;
}

/* ---- stderr capture (for "recovery logs what it cut") ---- */
typedef struct cap_state { int saved; char path[700]; } cap_state;

static inline void cap_begin(cap_state *c, const char *dir)
{
    fflush(stderr);
    snprintf(c->path, sizeof c->path, "%s/stderr.txt", dir);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    c->saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Returns malloc'd captured text. */
static inline char *cap_end(cap_state *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    FILE *f = fopen(c->path, "r");
    char *buf = calloc(1, 65536);
    if (f) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = 0;
        fclose(f);
    }
    return buf;
}

#endif
