/* fd_cache.c - see fd_cache.h. */
#include "storage/fd_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <unistd.h>

#define EVICT_BATCH 32           /* victims closed per pass of the cache mutex */
#define MIN_CAP 64

static struct {
    pthread_mutex_t mu;
    fdc_entry head;              /* sentinel: head.next is the most recently used */
    size_t open;                 /* linked entries (mu) */
    _Atomic size_t cap;          /* 0 until first use: then fdc_auto_cap() */
    _Atomic uint64_t tick;       /* bumped under mu; read anywhere */
    _Atomic uint64_t opens, evictions;
    uint64_t moves;              /* mu */
} g = { .mu = PTHREAD_MUTEX_INITIALIZER, .head = { .prev = &g.head, .next = &g.head } };

size_t fdc_auto_cap(void)
{
    struct rlimit rl;
    size_t soft = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        soft = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)(1 << 24) ? (size_t)1 << 24
                                                                                 : (size_t)rl.rlim_cur;
    return soft / 2 > MIN_CAP ? soft / 2 : MIN_CAP;
}

static size_t cap_now(void)
{
    size_t c = atomic_load_explicit(&g.cap, memory_order_relaxed);
    if (!c) {
        c = fdc_auto_cap();
        atomic_store_explicit(&g.cap, c, memory_order_relaxed);
    }
    return c;
}

/* ---- list (cache mutex held) ---- */

static void list_unlink(fdc_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(fdc_entry *e)
{
    e->next = g.head.next;
    e->prev = &g.head;
    g.head.next->prev = e;
    g.head.next = e;
    atomic_store_explicit(&e->stamp, atomic_fetch_add_explicit(&g.tick, 1, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Close least recently used files (never `self`, never a busy entry) while
 * more than the cap are open, and at least `force` of them.  Returns how
 * many were closed.  Takes the cache mutex; victims are unref'd after it is
 * released. */
static size_t evict(const fdc_entry *self, size_t force)
{
    size_t done = 0;
    for (;;) {
        fileref *victims[EVICT_BATCH];
        size_t nv = 0;
        pthread_mutex_lock(&g.mu);
        size_t cap = cap_now();
        fdc_entry *v = g.head.prev;
        while (nv < EVICT_BATCH && v != &g.head && (g.open > cap || done + nv < force)) {
            fdc_entry *p = v->prev;
            if (v != self && pthread_mutex_trylock(&v->mu) == 0) {
                victims[nv++] = v->file;
                v->file = NULL;
                list_unlink(v);
                g.open--;
                pthread_mutex_unlock(&v->mu);
            }
            v = p;
        }
        bool more = nv == EVICT_BATCH && (g.open > cap || done + nv < force);
        pthread_mutex_unlock(&g.mu);
        for (size_t i = 0; i < nv; i++)
            fileref_unref(victims[i]);
        atomic_fetch_add_explicit(&g.evictions, nv, memory_order_relaxed);
        done += nv;
        if (!more)
            return done;
    }
}

/* ---- entries ---- */

void fdc_entry_init(fdc_entry *e)
{
    pthread_mutex_init(&e->mu, NULL);
    e->file = NULL;
    e->prev = e->next = NULL;
    atomic_init(&e->stamp, 0);
}

void fdc_close(fdc_entry *e)
{
    pthread_mutex_lock(&e->mu);
    fileref *f = e->file;
    if (f) {
        e->file = NULL;
        pthread_mutex_lock(&g.mu);
        list_unlink(e);
        g.open--;
        pthread_mutex_unlock(&g.mu);
    }
    pthread_mutex_unlock(&e->mu);
    fileref_unref(f);
}

void fdc_entry_destroy(fdc_entry *e)
{
    fdc_close(e);
    pthread_mutex_destroy(&e->mu);
}

/* Caller holds e->mu, which this releases: f (the cache's reference)
 * becomes the entry's file, at the front of the list, and whatever the
 * entry held is dropped.  Returns a new reference to f for the caller. */
static fileref *install_unlock(fdc_entry *e, fileref *f)
{
    fileref *old = e->file;
    pthread_mutex_lock(&g.mu);
    if (old)
        list_unlink(e);
    else
        g.open++;
    list_push_front(e);
    pthread_mutex_unlock(&g.mu);
    e->file = f;
    fileref_ref(f);
    pthread_mutex_unlock(&e->mu);
    fileref_unref(old);
    evict(e, 0);
    return f;
}

fileref *fdc_install(fdc_entry *e, int fd)
{
    fileref *f = fileref_new(fd);
    if (!f)
        return NULL;
    pthread_mutex_lock(&e->mu);
    return install_unlock(e, f);
}

/* open(2), making room when the process is out of descriptors. */
static int open_path(const fdc_entry *self, const char *path)
{
    for (int tries = 0;; tries++) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 || (errno != EMFILE && errno != ENFILE) || tries == 8)
            return fd;
        int e = errno;
        if (!evict(self, 1)) {
            errno = e;
            return -1;
        }
    }
}

fileref *fdc_get(fdc_entry *e, const char *path)
{
    pthread_mutex_lock(&e->mu);
    fileref *f = e->file;
    if (f) {
        fileref_ref(f);
        uint64_t t = atomic_load_explicit(&g.tick, memory_order_relaxed);
        if (t - atomic_load_explicit(&e->stamp, memory_order_relaxed) > cap_now() / 2) {
            pthread_mutex_lock(&g.mu);           /* drifted into the back half: move to front */
            list_unlink(e);
            list_push_front(e);
            g.moves++;
            pthread_mutex_unlock(&g.mu);
        }
        pthread_mutex_unlock(&e->mu);
        return f;
    }
    int fd = open_path(e, path);
    if (fd < 0) {
        pthread_mutex_unlock(&e->mu);
        return NULL;
    }
    atomic_fetch_add_explicit(&g.opens, 1, memory_order_relaxed);
    if (!(f = fileref_new(fd))) {
        pthread_mutex_unlock(&e->mu);
        errno = ENOMEM;
        return NULL;
    }
    return install_unlock(e, f);
}

/* ---- cap and stats ---- */

void fdc_set_cap(size_t cap)
{
    atomic_store_explicit(&g.cap, cap, memory_order_relaxed);
    evict(NULL, 0);
}

size_t fdc_cap(void)
{
    return cap_now();
}

void fdc_get_stats(fdc_stats *st)
{
    pthread_mutex_lock(&g.mu);
    st->open = g.open;
    st->moves = g.moves;
    pthread_mutex_unlock(&g.mu);
    st->cap = cap_now();
    st->opens = atomic_load(&g.opens);
    st->evictions = atomic_load(&g.evictions);
}
