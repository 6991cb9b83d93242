/* strmap.c - see strmap.h. */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

struct strmap_slot {
    char *key;          /* NULL = empty; TOMB = deleted */
    size_t klen;
    uint64_t hash;
    void *val;
};

static char tomb_;
#define TOMB (&tomb_)

uint64_t hash_bytes(const void *p, size_t len)
{
    /* FNV-1a, then a final avalanche so low bits are usable as an index. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void strmap_init(strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMB)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static strmap_slot *find(const strmap *m, const char *key, size_t len, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMB && s->hash == h && s->klen == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

static int grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap : 16;
    while (m->count * 2 >= ncap)
        ncap *= 2;
    strmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        strmap_slot *s = &m->slots[i];
        if (!s->key || s->key == TOMB)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

void *strmap_get(const strmap *m, const char *key, size_t len)
{
    strmap_slot *s = find(m, key, len, hash_bytes(key, len));
    return s ? s->val : NULL;
}

void *strmap_put(strmap *m, const char *key, size_t len, void *val, int *err)
{
    uint64_t h = hash_bytes(key, len);
    strmap_slot *s = find(m, key, len, h);
    if (err)
        *err = 0;
    if (s) {
        void *old = s->val;
        s->val = val;
        return old;
    }
    if ((m->used + 1) * 4 >= m->cap * 3 && grow(m) < 0)
        goto nomem;
    char *k = malloc(len + 1);
    if (!k)
        goto nomem;
    memcpy(k, key, len);
    k[len] = 0;
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMB)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i] = (strmap_slot){ k, len, h, val };
    m->count++;
    return NULL;
nomem:
    if (err)
        *err = -1;
    return NULL;
}

void *strmap_del(strmap *m, const char *key, size_t len)
{
    strmap_slot *s = find(m, key, len, hash_bytes(key, len));
    if (!s)
        return NULL;
    void *v = s->val;
    free(s->key);
    s->key = TOMB;
    s->val = NULL;
    m->count--;
    return v;
}

int strmap_next(const strmap *m, size_t *it, const char **key, size_t *klen, void **val)
{
    while (*it < m->cap) {
        strmap_slot *s = &m->slots[(*it)++];
        if (s->key && s->key != TOMB) {
            if (key) *key = s->key;
            if (klen) *klen = s->klen;
            if (val) *val = s->val;
            return 1;
        }
    }
    return 0;
}
