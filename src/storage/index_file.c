/* index_file.c - see index_file.h. */
#include "storage/index_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/sio.h"

int idxf_init(index_file *f, const char *path, size_t esz)
{
    memset(f, 0, sizeof *f);
    f->esz = esz;
    f->path = strdup(path);
    return f->path ? 0 : -1;
}

static void drop_view(index_file *f)
{
    if (f->map)
        munmap(f->map, f->map_len);
    free(f->mem);
    f->map = NULL;
    f->map_len = 0;
    f->mem = NULL;
    f->cap = 0;
    f->e = NULL;
    f->n = 0;
    f->persisted = 0;
    f->state = IDXF_UNLOADED;
}

void idxf_free(index_file *f)
{
    drop_view(f);
    free(f->path);
    f->path = NULL;
}

static int open_rw(const index_file *f)
{
    return open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

/* close() that keeps errno (the error being reported is the earlier one). */
static void close_keep_errno(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
}

int idxf_create(index_file *f)
{
    struct stat st;
    drop_view(f);
    int fd = open_rw(f);
    if (fd < 0)
        return -1;
    /* A new, empty file needs no fsync of its own (the dir fsync after the
     * create covers its entry); emptying one that held entries does. */
    if (fstat(fd, &st) < 0 || st.st_size > 0) {
        if (sio_ftruncate(fd, 0) < 0) {
            close_keep_errno(fd);
            return -1;
        }
        f->dirty_sync = true;
    }
    close(fd);
    f->state = IDXF_MEM;
    return 0;
}

int idxf_load_mem(index_file *f)
{
    char *buf = NULL;
    size_t len = 0;
    drop_view(f);
    if (sio_read_file(f->path, (size_t)1 << 31, &buf, &len) < 0) {
        if (errno != ENOENT)
            return -1;
        buf = NULL;
        len = 0;
    }
    if (len % f->esz) {
        free(buf);
        errno = EINVAL;
        return -1;
    }
    f->mem = (uint8_t *)buf;
    f->cap = buf ? len : 0;
    f->n = f->persisted = len / f->esz;
    f->e = f->mem;
    f->state = IDXF_MEM;
    return 0;
}

int idxf_map(index_file *f)
{
    if (f->state != IDXF_UNLOADED)
        return 0;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return -1;
        f->state = IDXF_MAPPED;                    /* no file: no entries */
        return 0;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0)
        goto out;
    if ((size_t)st.st_size % f->esz) {
        errno = EINVAL;
        goto out;
    }
    if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
            goto out;
        f->map = m;
        f->map_len = (size_t)st.st_size;
        f->e = m;
    }
    f->n = f->persisted = (size_t)st.st_size / f->esz;
    f->state = IDXF_MAPPED;
    rc = 0;
out:
    close(fd);
    return rc;
}

int idxf_to_mem(index_file *f)
{
    if (f->state == IDXF_MEM)
        return 0;
    if (f->state == IDXF_UNLOADED)
        return idxf_load_mem(f);
    size_t bytes = f->n * f->esz;
    uint8_t *m = malloc(bytes ? bytes : 1);
    if (!m)
        return -1;
    if (bytes)
        memcpy(m, f->e, bytes);
    size_t n = f->n;
    drop_view(f);
    f->mem = m;
    f->cap = bytes;
    f->e = m;
    f->n = f->persisted = n;
    f->state = IDXF_MEM;
    return 0;
}

int idxf_append(index_file *f, const uint8_t *entry)
{
    if (f->state != IDXF_MEM && idxf_to_mem(f) < 0)
        return -1;
    if ((f->n + 1) * f->esz > f->cap) {
        /* Start small: most partitions' active segments hold few entries
         * (Kafka preallocates segment.index.bytes per index instead). */
        size_t ncap = f->cap ? f->cap * 2 : 8 * f->esz;
        uint8_t *m = realloc(f->mem, ncap);
        if (!m)
            return -1;
        f->mem = m;
        f->cap = ncap;
        f->e = m;
    }
    memcpy(f->mem + f->n * f->esz, entry, f->esz);
    f->n++;
    return 0;
}

int idxf_truncate(index_file *f, size_t n)
{
    if (idxf_to_mem(f) < 0)
        return -1;
    if (n >= f->n)
        return 0;
    f->n = n;
    if (f->persisted > n) {
        f->persisted = n;
        int fd = open_rw(f);
        if (fd < 0)
            return -1;
        if (sio_ftruncate(fd, (off_t)(n * f->esz)) < 0) {
            close_keep_errno(fd);
            return -1;
        }
        close(fd);
        f->dirty_sync = true;
    }
    return 0;
}

/* pwrite entries [persisted, n) through fd. */
static int write_tail(index_file *f, int fd)
{
    if (sio_pwrite_all(fd, f->e + f->persisted * f->esz, (f->n - f->persisted) * f->esz,
                       (off_t)(f->persisted * f->esz)) < 0)
        return -1;
    f->persisted = f->n;
    f->dirty_sync = true;
    return 0;
}

static bool has_tail(const index_file *f)
{
    return f->state == IDXF_MEM && f->persisted < f->n;
}

int idxf_persist(index_file *f)
{
    if (!has_tail(f))
        return 0;
    int fd = open_rw(f);
    if (fd < 0)
        return -1;
    int rc = write_tail(f, fd);
    if (rc < 0)
        close_keep_errno(fd);
    else
        close(fd);
    return rc;
}

int idxf_sync_prepare(index_file *f, int *fd_out)
{
    *fd_out = -1;
    if (!has_tail(f) && !f->dirty_sync)
        return 0;
    bool tail = has_tail(f);
    int fd = tail ? open_rw(f) : open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;       /* gone (deleted by hand): nothing to sync */
    if (tail && write_tail(f, fd) < 0) {
        close_keep_errno(fd);
        return -1;
    }
    f->dirty_sync = false;
    *fd_out = fd;
    return 0;
}

int idxf_sync(index_file *f)
{
    int fd;
    if (idxf_sync_prepare(f, &fd) < 0)
        return -1;
    if (fd < 0)
        return 0;
    int r = sio_fsync(fd);
    if (r < 0) {
        f->dirty_sync = true;
        close_keep_errno(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int idxf_unload(index_file *f)
{
    if (idxf_persist(f) < 0)
        return -1;
    drop_view(f);
    return 0;
}

int idxf_read_last(index_file *f, uint8_t *entry, bool *found)
{
    *found = false;
    if (f->state != IDXF_UNLOADED) {
        if (f->n) {
            memcpy(entry, idxf_entry(f, f->n - 1), f->esz);
            *found = true;
        }
        return 0;
    }
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0)
        goto out;
    if ((size_t)st.st_size % f->esz) {
        errno = EINVAL;
        goto out;
    }
    if (st.st_size > 0) {
        if (sio_pread_full(fd, entry, f->esz, st.st_size - (off_t)f->esz) != (ssize_t)f->esz)
            goto out;
        *found = true;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

int idxf_rename(index_file *f, const char *new_path)
{
    char *np = strdup(new_path);
    if (!np)
        return -1;
    if (sio_rename(f->path, np) < 0 && errno != ENOENT) {
        free(np);
        return -1;
    }
    free(f->path);
    f->path = np;
    return 0;
}
