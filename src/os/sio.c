/* sio.c - see sio.h. */
#include "os/sio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static sio_fault_fn g_fault;
static void *g_fault_ctx;

void sio_set_fault(sio_fault_fn fn, void *ctx)
{
    g_fault_ctx = ctx;
    g_fault = fn;
}

static int fault(enum sio_op op, size_t len, size_t *allow)
{
    if (!g_fault)
        return 0;
    return g_fault(op, len, allow, g_fault_ctx);
}

int sio_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    struct iovec iov = { (void *)buf, len };
    return sio_pwritev_all(fd, &iov, 1, off);
}

int sio_pwritev_all(int fd, const struct iovec *iov_in, int iovcnt, off_t off)
{
    struct iovec iov[16];
    size_t total = 0;
    if (iovcnt > 16 || iovcnt < 0) {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < iovcnt; i++) {
        iov[i] = iov_in[i];
        total += iov[i].iov_len;
    }
    size_t allow = total;
    int ferr = fault(SIO_WRITE, total, &allow);
    if (ferr && allow >= total) {
        errno = ferr;
        return -1;
    }
    size_t limit = ferr ? allow : total;
    size_t done = 0;
    int first = 0;
    while (done < limit) {
        /* Trim the iovec list to the remaining allowed bytes. */
        struct iovec cur[16];
        int n = 0;
        size_t want = limit - done;
        for (int i = first; i < iovcnt && want > 0; i++) {
            cur[n] = iov[i];
            if (cur[n].iov_len > want)
                cur[n].iov_len = want;
            want -= cur[n].iov_len;
            n++;
        }
        ssize_t w = pwritev(fd, cur, n, off + (off_t)done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        done += (size_t)w;
        size_t adv = (size_t)w;
        while (adv > 0 && first < iovcnt) {
            if (adv >= iov[first].iov_len) {
                adv -= iov[first].iov_len;
                first++;
            } else {
                iov[first].iov_base = (char *)iov[first].iov_base + adv;
                iov[first].iov_len -= adv;
                adv = 0;
            }
        }
    }
    if (ferr) {
        errno = ferr;
        return -1;
    }
    return 0;
}

int sio_fsync(int fd)
{
    int e = fault(SIO_FSYNC, 0, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    return fsync(fd);
}

int sio_fdatasync(int fd)
{
    int e = fault(SIO_FSYNC, 0, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    return fdatasync(fd);
}

int sio_ftruncate(int fd, off_t len)
{
    int e = fault(SIO_TRUNCATE, (size_t)len, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    int r;
    do
        r = ftruncate(fd, len);
    while (r < 0 && errno == EINTR);
    return r;
}

int sio_rename(const char *from, const char *to)
{
    int e = fault(SIO_RENAME, 0, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    return rename(from, to);
}

int sio_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = sio_fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int sio_write_file_atomic(const char *dir, const char *name, const void *data, size_t len, int sync)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    int fd = -1, rc = -1, e = 0;
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    if (sio_pwrite_all(fd, data, len, 0) < 0)
        goto out;
    if (sync && sio_fsync(fd) < 0)
        goto out;
    if (close(fd) < 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (sio_rename(tmp, dst) < 0)
        goto out;
    if (sync && sio_fsync_dir(dir) < 0)
        goto out;
    rc = 0;
out:
    e = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    errno = e;
    return rc;
}

int sio_read_file(const char *path, size_t cap, char **out, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    int rc = -1, e = 0;
    struct stat st;
    *out = NULL;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto out;
    if ((size_t)st.st_size > cap) {
        errno = EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        errno = ENOMEM;
        goto out;
    }
    ssize_t n = sio_pread_full(fd, buf, (size_t)st.st_size, 0);
    if (n < 0)
        goto out;
    buf[n] = 0;
    *len_out = (size_t)n;
    *out = buf;
    buf = NULL;
    rc = 0;
out:
    e = errno;
    free(buf);
    close(fd);
    errno = e;
    return rc;
}

int sio_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *de;
    char sub[PATH_MAX];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub) {
            rc = -1;
            continue;
        }
        if (sio_rm_rf(sub) < 0)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

ssize_t sio_pread_full(int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}
