/*
 * strmap.h - open-addressing hash map from byte-string keys to pointers.
 *
 * Keys are copied into the map; values are borrowed.  Not thread-safe: the
 * owner states which lock guards each map.  Deletion uses tombstones and the
 * table is rebuilt when they pile up.
 */
#ifndef SAMSA_CORE_STRMAP_H
#define SAMSA_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap_slot strmap_slot;
typedef struct strmap {
    strmap_slot *slots;
    size_t cap;        /* power of two */
    size_t count;      /* live entries */
    size_t used;       /* live + tombstones */
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
void *strmap_get(const strmap *m, const char *key, size_t len);
/* Inserts or replaces; returns the previous value (or NULL).  -1 on ENOMEM
 * is reported through *err when err is non-NULL. */
void *strmap_put(strmap *m, const char *key, size_t len, void *val, int *err);
void *strmap_del(strmap *m, const char *key, size_t len);

/* Iteration: for (size_t it = 0; strmap_next(m, &it, &k, &kl, &v);) */
int strmap_next(const strmap *m, size_t *it, const char **key, size_t *klen, void **val);

uint64_t hash_bytes(const void *p, size_t len);

#endif
