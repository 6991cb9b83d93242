/* checkpoint.c - see checkpoint.h. */
#include "storage/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/sio.h"

#define CKPT_MAX_FILE (256u << 20)

int ckpt_write(const char *dir, const char *name, const ckpt_entry *e, size_t n)
{
    return ckpt_write_cached(dir, name, e, n, NULL);
}

void ckpt_cache_free(ckpt_cache *c)
{
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
}

int ckpt_write_cached(const char *dir, const char *name, const ckpt_entry *e, size_t n, ckpt_cache *c)
{
    size_t cap = 64, len = 0;
    for (size_t i = 0; i < n; i++)
        cap += strlen(e[i].topic) + 48;
    char *buf = malloc(cap);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    len += (size_t)snprintf(buf, cap, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n",
                                e[i].topic, e[i].partition, e[i].offset);
    if (c && c->buf && c->len == len && !memcmp(c->buf, buf, len)) {
        free(buf);
        return 0;                    /* the file already holds these bytes, durably */
    }
    int rc = sio_write_file_atomic(dir, name, buf, len, 1);
    int err = errno;
    if (c) {
        ckpt_cache_free(c);
        if (rc == 0) {               /* a failed write leaves the file unknown: no cache */
            c->buf = buf;
            c->len = len;
            buf = NULL;
        }
    }
    free(buf);
    errno = err;
    return rc;
}

/* Next line [s, s+n) from *pp; returns 0 at the end. */
static int next_line(const char **pp, const char *end, const char **s, size_t *n)
{
    if (*pp >= end)
        return 0;
    const char *nl = memchr(*pp, '\n', (size_t)(end - *pp));
    *s = *pp;
    *n = (size_t)((nl ? nl : end) - *pp);
    *pp = nl ? nl + 1 : end;
    return 1;
}

static int parse_i64(const char *s, size_t n, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *e;
    errno = 0;
    long long v = strtoll(tmp, &e, 10);
    if (errno || *e)
        return -1;
    *out = v;
    return 0;
}

int ckpt_parse(const char *buf, size_t len, int (*line)(void *ctx, const char *s, size_t n), void *ctx)
{
    const char *p = buf, *end = buf + len, *s;
    size_t n;
    int64_t version, count;
    if (!next_line(&p, end, &s, &n) || parse_i64(s, n, &version) < 0 || version != 0 ||
        !next_line(&p, end, &s, &n) || parse_i64(s, n, &count) < 0 || count < 0)
        goto bad;
    for (int64_t i = 0; i < count; i++)
        if (!next_line(&p, end, &s, &n) || line(ctx, s, n) < 0)
            goto bad;
    while (next_line(&p, end, &s, &n))
        if (n != 0)
            goto bad;                               /* more entries than the count */
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

typedef struct rd_ctx {
    ckpt_entry *e;
    size_t n, cap;
} rd_ctx;

static int offset_line(void *vctx, const char *s, size_t n)
{
    rd_ctx *c = vctx;
    /* topic partition offset: split on the last two spaces */
    const char *sp2 = NULL, *sp1 = NULL;
    for (size_t i = n; i-- > 0;)
        if (s[i] == ' ') {
            if (!sp2)
                sp2 = s + i;
            else {
                sp1 = s + i;
                break;
            }
        }
    int64_t part, off;
    if (!sp1 || sp1 == s || parse_i64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &part) < 0 ||
        parse_i64(sp2 + 1, (size_t)(s + n - sp2 - 1), &off) < 0 || part < 0 || part > INT32_MAX)
        return -1;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        ckpt_entry *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        c->e = ne;
        c->cap = nc;
    }
    char *t = strndup(s, (size_t)(sp1 - s));
    if (!t)
        return -1;
    c->e[c->n].topic = t;
    c->e[c->n].partition = (int32_t)part;
    c->e[c->n].offset = off;
    c->n++;
    return 0;
}

int ckpt_read(const char *dir, const char *name, ckpt_entry **out, size_t *n)
{
    char path[4200];
    char *buf;
    size_t len;
    *out = NULL;
    *n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sio_read_file(path, CKPT_MAX_FILE, &buf, &len) < 0)
        return -1;
    rd_ctx c = { NULL, 0, 0 };
    int rc = ckpt_parse(buf, len, offset_line, &c);
    free(buf);
    if (rc < 0) {
        ckpt_free(c.e, c.n);
        errno = EINVAL;
        return -1;
    }
    *out = c.e;
    *n = c.n;
    return 0;
}

void ckpt_free(ckpt_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].topic);
    free(e);
}

int64_t ckpt_lookup(const ckpt_entry *e, size_t n, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].partition == partition && !strcmp(e[i].topic, topic))
            return e[i].offset;
    return -1;
}
