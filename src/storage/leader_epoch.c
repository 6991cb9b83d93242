/* leader_epoch.c - see leader_epoch.h. */
#include "storage/leader_epoch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/checkpoint.h"
#include "os/sio.h"

void lec_init(leader_epoch_cache *c)
{
    memset(c, 0, sizeof *c);
    c->synced = true;               /* empty, no file */
}

void lec_free(leader_epoch_cache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

static int push(leader_epoch_cache *c, int32_t epoch, int64_t off)
{
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 8;
        lec_entry *ne = realloc(c->e, sizeof *ne * (size_t)nc);
        if (!ne)
            return -1;
        c->e = ne;
        c->cap = nc;
    }
    c->e[c->n].epoch = epoch;
    c->e[c->n].start_offset = off;
    c->n++;
    c->dirty = true;
    return 0;
}

void lec_assign(leader_epoch_cache *c, int32_t epoch, int64_t offset)
{
    if (epoch < 0)
        return;
    if (c->n && c->e[c->n - 1].epoch >= epoch)
        return;                      /* S4: epochs strictly increase */
    while (c->n && c->e[c->n - 1].start_offset >= offset) {
        c->n--;
        c->dirty = true;
    }
    push(c, epoch, offset);
}

/* S5: no entry starts at or after the end of the log it describes. */
void lec_truncate_from_end(leader_epoch_cache *c, int64_t end_offset)
{
    while (c->n && c->e[c->n - 1].start_offset >= end_offset) {
        c->n--;
        c->dirty = true;
    }
}

/* S5: no entry starts below the log start. */
void lec_truncate_from_start(leader_epoch_cache *c, int64_t start_offset)
{
    int keep_from = 0;
    for (int i = 0; i < c->n; i++)
        if (c->e[i].start_offset <= start_offset)
            keep_from = i;
    if (keep_from > 0) {
        memmove(c->e, c->e + keep_from, sizeof *c->e * (size_t)(c->n - keep_from));
        c->n -= keep_from;
        c->dirty = true;
    }
    if (c->n && c->e[0].start_offset < start_offset) {
        c->e[0].start_offset = start_offset;
        c->dirty = true;
    }
}

int32_t lec_epoch_for_offset(const leader_epoch_cache *c, int64_t offset)
{
    int32_t ep = -1;
    for (int i = 0; i < c->n && c->e[i].start_offset <= offset; i++)
        ep = c->e[i].epoch;
    return ep;
}

int32_t lec_latest_epoch(const leader_epoch_cache *c)
{
    return c->n ? c->e[c->n - 1].epoch : -1;
}

void lec_end_offset_for(const leader_epoch_cache *c, int32_t epoch, int64_t leo, int32_t leader_epoch,
                        int32_t *epoch_out, int64_t *end_offset)
{
    /* The cache, plus (leader_epoch, leo) when that epoch is newer: Kafka's
     * leader has that entry from the moment it became leader. */
    int n = c->n, total = n + (leader_epoch >= 0 && leader_epoch > lec_latest_epoch(c));
#define EP(i) ((i) < n ? c->e[i].epoch : leader_epoch)
#define START(i) ((i) < n ? c->e[i].start_offset : leo)
    *epoch_out = -1;
    *end_offset = -1;
    if (epoch < 0 || total == 0)
        return;                              /* UNDEFINED epoch asked, or nothing known */
    if (EP(total - 1) == epoch) {            /* the latest: still being written, ends at the LEO */
        *epoch_out = epoch;
        *end_offset = leo;
        return;
    }
    int hi = 0;                              /* the first epoch above the requested one */
    while (hi < total && EP(hi) <= epoch)
        hi++;
    if (hi == total)
        return;                              /* newer than every known epoch: UNDEFINED */
    *epoch_out = hi == 0 ? epoch : EP(hi - 1);   /* older than all: (requested, first start) */
    *end_offset = START(hi);
#undef EP
#undef START
}

int lec_write(leader_epoch_cache *c, const char *dir, bool sync)
{
    size_t cap = 32 + (size_t)c->n * 36, len;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    len = (size_t)snprintf(buf, cap, "0\n%d\n", c->n);
    for (int i = 0; i < c->n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId32 " %" PRId64 "\n",
                                c->e[i].epoch, c->e[i].start_offset);
    int rc = sio_write_file_atomic(dir, LEADER_EPOCH_FILE, buf, len, sync);
    free(buf);
    if (rc == 0) {
        c->dirty = false;
        c->synced = sync;
    }
    return rc;
}

static int epoch_line(void *ctx, const char *s, size_t n)
{
    leader_epoch_cache *c = ctx;
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    long long ep, off;
    char extra;
    if (sscanf(tmp, "%lld %lld%c", &ep, &off, &extra) != 2 || ep < 0 || ep > INT32_MAX || off < 0)
        return -1;
    if (c->n && (c->e[c->n - 1].epoch >= ep || c->e[c->n - 1].start_offset > off))
        return -1;
    return push(c, (int32_t)ep, off);
}

int lec_read(leader_epoch_cache *c, const char *dir)
{
    char path[4200];
    char *buf;
    size_t len;
    c->n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, LEADER_EPOCH_FILE);
    if (sio_read_file(path, 64u << 20, &buf, &len) < 0) {
        bool none = errno == ENOENT;
        c->dirty = false;
        c->synced = none;            /* no file = the empty cache */
        return none ? 0 : -1;
    }
    int rc = ckpt_parse(buf, len, epoch_line, c);
    free(buf);
    if (rc < 0)
        c->n = 0;
    c->dirty = false;
    c->synced = rc == 0;
    return rc;
}
