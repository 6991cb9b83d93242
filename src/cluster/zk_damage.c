/*
 * zk_damage.c - the ledger of damaged znodes (see zk_damage.h).
 */
#include "cluster/zk_damage.h"

#include <stdio.h>
#include <string.h>

void zk_damage_init(zk_damage *d)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
}

void zk_damage_destroy(zk_damage *d)
{
    pthread_mutex_destroy(&d->mu);
}

/* Index of path, or -1 (mu held). */
static int find(const zk_damage *d, const char *path)
{
    for (int i = 0; i < d->n; i++)
        if (!strncmp(d->v[i].path, path, ZK_DAMAGE_PATH - 1))
            return i;
    return -1;
}

bool zk_damage_note(zk_damage *d, const char *path, int64_t czxid, int32_t version)
{
    pthread_mutex_lock(&d->mu);
    int i = find(d, path);
    bool fresh = i < 0 || d->v[i].czxid != czxid || d->v[i].version != version;
    if (i < 0) {
        if (d->n == ZK_DAMAGE_MAX) {          /* forget the oldest */
            memmove(&d->v[0], &d->v[1], (size_t)(ZK_DAMAGE_MAX - 1) * sizeof d->v[0]);
            d->n--;
        }
        i = d->n++;
        snprintf(d->v[i].path, sizeof d->v[i].path, "%s", path);
    }
    d->v[i].czxid = czxid;
    d->v[i].version = version;
    pthread_mutex_unlock(&d->mu);
    return fresh;
}

bool zk_damage_clear(zk_damage *d, const char *path)
{
    pthread_mutex_lock(&d->mu);
    int i = find(d, path);
    if (i >= 0) {
        memmove(&d->v[i], &d->v[i + 1], (size_t)(d->n - i - 1) * sizeof d->v[0]);
        d->n--;
    }
    pthread_mutex_unlock(&d->mu);
    return i >= 0;
}

bool zk_damage_has(zk_damage *d, const char *path)
{
    pthread_mutex_lock(&d->mu);
    bool has = find(d, path) >= 0;
    pthread_mutex_unlock(&d->mu);
    return has;
}
