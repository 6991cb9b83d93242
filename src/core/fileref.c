/* fileref.c - see fileref.h. */
#include "core/fileref.h"

#include <stdlib.h>
#include <unistd.h>

fileref *fileref_new(int fd)
{
    fileref *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return NULL;
    }
    atomic_init(&f->refs, 1);
    f->fd = fd;
    return f;
}

fileref *fileref_ref(fileref *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

void fileref_unref(fileref *f)
{
    if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
        close(f->fd);
        free(f);
    }
}
