/* topic_registry.c - see topic_registry.h. */
#include "cluster/topic_registry.h"

#include <stdlib.h>
#include <string.h>

void topic_registry_init(topic_registry *r)
{
    pthread_rwlock_init(&r->lock, NULL);
    strmap_init(&r->by_name);
    strmap_init(&r->by_id);
}

void topic_registry_destroy(topic_registry *r)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&r->by_name, &it, NULL, NULL, &v))
        topic_unref(v);
    strmap_free(&r->by_name);
    strmap_free(&r->by_id);
    pthread_rwlock_destroy(&r->lock);
}

topic *topic_registry_get(topic_registry *r, const char *name, size_t len)
{
    pthread_rwlock_rdlock(&r->lock);
    topic *t = strmap_get(&r->by_name, name, len);
    if (t)
        topic_ref(t);
    pthread_rwlock_unlock(&r->lock);
    return t;
}

topic *topic_registry_get_id(topic_registry *r, kuuid id)
{
    pthread_rwlock_rdlock(&r->lock);
    topic *t = strmap_get(&r->by_id, (const char *)id.b, 16);
    if (t)
        topic_ref(t);
    pthread_rwlock_unlock(&r->lock);
    return t;
}

int topic_registry_add(topic_registry *r, topic *t)
{
    int rc = -1, err = 0;
    pthread_rwlock_wrlock(&r->lock);
    if (strmap_get(&r->by_name, t->name, t->name_len) ||
        strmap_get(&r->by_id, (const char *)t->id.b, 16))
        goto out;
    strmap_put(&r->by_name, t->name, t->name_len, t, &err);
    if (err)
        goto out;
    strmap_put(&r->by_id, (const char *)t->id.b, 16, t, &err);
    if (err) {
        strmap_del(&r->by_name, t->name, t->name_len);
        goto out;
    }
    rc = 0;
out:
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

topic *topic_registry_remove(topic_registry *r, const char *name, size_t len)
{
    pthread_rwlock_wrlock(&r->lock);
    topic *t = strmap_del(&r->by_name, name, len);
    if (t) {
        strmap_del(&r->by_id, (const char *)t->id.b, 16);
        atomic_store(&t->deleted, true);
    }
    pthread_rwlock_unlock(&r->lock);
    return t;
}

static int cmp_topic(const void *a, const void *b)
{
    const topic *x = *(topic *const *)a, *y = *(topic *const *)b;
    return strcmp(x->name, y->name);
}

int topic_registry_list(topic_registry *r, topic ***out)
{
    pthread_rwlock_rdlock(&r->lock);
    size_t n = r->by_name.count;
    topic **list = malloc((n ? n : 1) * sizeof *list);
    size_t k = 0, it = 0;
    void *v;
    if (list) {
        while (strmap_next(&r->by_name, &it, NULL, NULL, &v)) {
            topic_ref(v);
            list[k++] = v;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (!list)
        return -1;
    qsort(list, k, sizeof *list, cmp_topic);
    *out = list;
    return (int)k;
}

void topic_registry_list_free(topic **list, int n)
{
    for (int i = 0; i < n; i++)
        topic_unref(list[i]);
    free(list);
}
