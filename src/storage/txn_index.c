/* txn_index.c - see txn_index.h. */
#include "storage/txn_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/endian.h"
#include "os/sio.h"

int txi_init(txn_index *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->path = strdup(path);
    return t->path ? 0 : -1;
}

void txi_free(txn_index *t)
{
    free(t->path);
    free(t->e);
    memset(t, 0, sizeof *t);
}

void txi_encode(uint8_t out[TXI_ENTRY], const txn_aborted *a)
{
    be16_store(out, TXI_VERSION);
    be64_store(out + 2, (uint64_t)a->producer_id);
    be64_store(out + 10, (uint64_t)a->first_offset);
    be64_store(out + 18, (uint64_t)a->last_offset);
    be64_store(out + 26, (uint64_t)a->last_stable_offset);
}

int txi_decode(const uint8_t in[TXI_ENTRY], txn_aborted *a)
{
    if (be16_load(in) != TXI_VERSION)
        return -1;
    a->producer_id = (int64_t)be64_load(in + 2);
    a->first_offset = (int64_t)be64_load(in + 10);
    a->last_offset = (int64_t)be64_load(in + 18);
    a->last_stable_offset = (int64_t)be64_load(in + 26);
    return 0;
}

static int grow(txn_index *t, size_t want)
{
    if (want <= t->cap)
        return 0;
    size_t nc = t->cap ? t->cap * 2 : 8;
    while (nc < want)
        nc *= 2;
    txn_aborted *ne = realloc(t->e, sizeof *ne * nc);
    if (!ne)
        return -1;
    t->e = ne;
    t->cap = nc;
    return 0;
}

int txi_load(txn_index *t, size_t max_entries)
{
    t->n = 0;
    int fd = open(t->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return -1;
        t->loaded = true;
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    size_t whole = (size_t)st.st_size / TXI_ENTRY;
    if (whole > max_entries) {          /* TL2: more aborts than the segment has batches */
        close(fd);
        errno = EINVAL;
        return -1;
    }
    uint8_t buf[TXI_ENTRY * 64];
    size_t done = 0;
    int rc = 0;
    while (done < whole) {
        size_t k = whole - done < 64 ? whole - done : 64;
        if (sio_pread_full(fd, buf, k * TXI_ENTRY, (off_t)(done * TXI_ENTRY)) != (ssize_t)(k * TXI_ENTRY) ||
            grow(t, done + k) < 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < k; i++)
            if (txi_decode(buf + i * TXI_ENTRY, &t->e[done + i]) < 0) {
                errno = EINVAL;
                rc = -1;
                break;
            }
        if (rc)
            break;
        done += k;
    }
    close(fd);
    if (rc) {
        t->n = 0;
        return -1;
    }
    t->n = whole;
    if ((size_t)st.st_size != whole * TXI_ENTRY) {      /* TL2: torn tail */
        int wfd = open(t->path, O_WRONLY | O_CLOEXEC);
        if (wfd < 0 || sio_ftruncate(wfd, (off_t)(whole * TXI_ENTRY)) < 0) {
            if (wfd >= 0)
                close(wfd);
            return -1;
        }
        close(wfd);
    }
    t->loaded = true;
    return 0;
}

int txi_reset(txn_index *t)
{
    t->n = 0;
    t->loaded = true;
    t->unsynced = false;
    if (unlink(t->path) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

int txi_append(txn_index *t, const txn_aborted *a)
{
    if (grow(t, t->n + 1) < 0)
        return -1;
    uint8_t buf[TXI_ENTRY];
    txi_encode(buf, a);
    int fd = open(t->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    off_t at = (off_t)(t->n * TXI_ENTRY);
    if (sio_pwrite_all(fd, buf, sizeof buf, at) < 0) {
        int e = errno;
        (void)sio_ftruncate(fd, at);
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    t->e[t->n++] = *a;
    t->unsynced = true;
    return 0;
}

int txi_truncate_to(txn_index *t, int64_t offset)
{
    if (!t->loaded && txi_load(t, SIZE_MAX) < 0)
        return -1;
    size_t keep = t->n;
    while (keep > 0 && t->e[keep - 1].last_offset >= offset)
        keep--;
    if (keep == t->n)
        return 0;
    int fd = open(t->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? (t->n = 0, 0) : -1;
    int rc = sio_ftruncate(fd, (off_t)(keep * TXI_ENTRY));
    close(fd);
    if (rc == 0)
        t->n = keep;
    return rc;
}

int txi_sync(txn_index *t)
{
    if (!t->unsynced)
        return 0;
    int fd = open(t->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = sio_fsync(fd);
    close(fd);
    if (rc == 0)
        t->unsynced = false;
    return rc;
}

int txi_set_path(txn_index *t, const char *path, bool rename_file)
{
    char *np = strdup(path);
    if (!np)
        return -1;
    /* Most segments have no .txnindex: no rename then (a rename is an I/O
     * operation the fault-injection layer counts). */
    if (rename_file && access(t->path, F_OK) == 0 && sio_rename(t->path, np) < 0 && errno != ENOENT) {
        free(np);
        return -1;
    }
    free(t->path);
    t->path = np;
    return 0;
}

bool txi_collect(const txn_index *t, int64_t from, int64_t upper,
                 void (*fn)(void *ctx, const txn_aborted *a), void *ctx)
{
    for (size_t i = 0; i < t->n; i++) {
        const txn_aborted *a = &t->e[i];
        if (a->last_offset >= from && a->first_offset < upper)
            fn(ctx, a);
        if (a->last_stable_offset >= upper)
            return true;
    }
    return false;
}
