/* topic.c - see topic.h. */
#include "cluster/topic.h"

#include "storage/partition_log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static partition *partition_new(topic *t, int32_t index)
{
    partition *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->topic = t;
    p->index = index;
    pthread_mutex_init(&p->watch_lock, NULL);
    pthread_mutex_init(&p->state_lock, NULL);
    atomic_init(&p->isr_solo, true);
    replica_progress_init(&p->progress);
    return p;
}

static void partition_free(partition *p)
{
    if (p->log)
        plog_unref(p->log);
    for (int i = 0; i < p->nold_logs; i++)
        plog_unref(p->old_logs[i]);
    free(p->old_logs);
    pstate_unref(p->state);
    pthread_mutex_destroy(&p->watch_lock);
    pthread_mutex_destroy(&p->state_lock);
    replica_progress_destroy(&p->progress);
    free(p->watchers);
    free(p);
}

topic *topic_new(const char *name, size_t len, kuuid id, bool internal)
{
    topic *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->name = malloc(len + 1);
    if (!t->name) {
        free(t);
        return NULL;
    }
    memcpy(t->name, name, len);
    t->name[len] = 0;
    t->name_len = len;
    t->id = id;
    t->internal = internal;
    atomic_init(&t->refs, 1);
    atomic_init(&t->nparts, 0);
    atomic_init(&t->min_insync_replicas, 1);
    atomic_init(&t->parts, NULL);
    return t;
}

int topic_grow(topic *t, int32_t n, plog **logs, partition_state **states)
{
    int32_t old = topic_nparts(t);
    if (n <= old)
        return 0;
    partition **cur = atomic_load(&t->parts);
    partition **arr = calloc((size_t)n, sizeof *arr);
    partition ***ret = realloc(t->retired, (size_t)(t->nretired + 1) * sizeof *ret);
    if (!arr || !ret) {
        free(arr);
        if (ret)
            t->retired = ret;
        return -1;
    }
    t->retired = ret;
    if (old)
        memcpy(arr, cur, (size_t)old * sizeof *arr);
    for (int32_t i = old; i < n; i++) {
        arr[i] = partition_new(t, i);
        if (!arr[i]) {
            for (int32_t j = old; j < i; j++) {
                arr[j]->log = NULL;      /* the caller keeps its references */
                partition_free(arr[j]);
            }
            free(arr);
            return -1;
        }
    }
    for (int32_t i = old; i < n; i++) {
        arr[i]->log = logs ? logs[i - old] : NULL;
        if (states && states[i - old])
            partition_set_state(arr[i], states[i - old]);   /* not yet visible: cannot be refused */
    }
    if (cur)
        t->retired[t->nretired++] = cur;
    atomic_store_explicit(&t->parts, arr, memory_order_release);
    atomic_store_explicit(&t->nparts, n, memory_order_release);
    return 0;
}

int partition_attach_log(partition *p, plog *l)
{
    if (p->log) {
        plog **v = realloc(p->old_logs, (size_t)(p->nold_logs + 1) * sizeof *v);
        if (!v)
            return -1;
        p->old_logs = v;
        v[p->nold_logs++] = p->log;
    }
    __atomic_store_n(&p->log, l, __ATOMIC_RELEASE);
    return 0;
}

void topic_ref(topic *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void topic_unref(topic *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    int32_t n = topic_nparts(t);
    partition **arr = atomic_load(&t->parts);
    for (int32_t i = 0; i < n; i++)
        partition_free(arr[i]);
    free(arr);
    for (int i = 0; i < t->nretired; i++)
        free(t->retired[i]);
    free(t->retired);
    for (int side = 0; side < 2; side++)
        free(atomic_load(&t->throttled[side]));
    for (int i = 0; i < t->nold_throttled; i++)
        free(t->old_throttled[i]);
    free(t->old_throttled);
    topic_config_clear(t);
    free(t->name);
    free(t);
}

throttled_set *throttled_set_parse(const char *value, int32_t broker)
{
    if (!value || !*value)
        return NULL;
    size_t items = 1;
    for (const char *c = value; *c; c++)
        items += *c == ',';
    throttled_set *s = calloc(1, sizeof *s + items * sizeof s->parts[0]);
    if (!s)
        return NULL;
    const char *c = value;
    while (*c) {
        while (*c == ' ')
            c++;
        if (*c == '*') {
            s->all = true;
            break;
        }
        char *end;
        long part = strtol(c, &end, 10);
        if (end == c || *end != ':')
            break;
        long id = strtol(end + 1, &end, 10);
        if (id == broker && part >= 0 && part <= INT32_MAX)
            s->parts[s->n++] = (int32_t)part;
        while (*end == ' ')
            end++;
        if (*end != ',')
            break;
        c = end + 1;
    }
    if (!s->all && !s->n) {
        free(s);
        return NULL;
    }
    return s;
}

int topic_set_throttled(topic *t, int side, throttled_set *s)
{
    throttled_set *old = atomic_load(&t->throttled[side]);
    if (old) {
        throttled_set **v = realloc(t->old_throttled, (size_t)(t->nold_throttled + 1) * sizeof *v);
        if (!v) {
            free(s);
            return -1;
        }
        t->old_throttled = v;
        v[t->nold_throttled++] = old;
    }
    atomic_store(&t->throttled[side], s);
    return 0;
}

bool topic_throttled(const topic *t, int side, int32_t p)
{
    const throttled_set *s = atomic_load(&((topic *)t)->throttled[side]);
    if (!s)
        return false;
    if (s->all)
        return true;
    for (int i = 0; i < s->n; i++)
        if (s->parts[i] == p)
            return true;
    return false;
}

int topic_config_set(topic *t, const char *key, const char *value)
{
    for (int i = 0; i < t->nconfigs; i++) {
        if (strcmp(t->configs[i].key, key))
            continue;
        if (!value) {
            free(t->configs[i].key);
            free(t->configs[i].value);
            t->configs[i] = t->configs[--t->nconfigs];
            return 0;
        }
        char *v = strdup(value);
        if (!v)
            return -1;
        free(t->configs[i].value);
        t->configs[i].value = v;
        return 0;
    }
    if (!value)
        return 0;
    topic_kv *nc = realloc(t->configs, (size_t)(t->nconfigs + 1) * sizeof *nc);
    if (!nc)
        return -1;
    t->configs = nc;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    t->configs[t->nconfigs++] = (topic_kv){ k, v };
    return 0;
}

void topic_config_clear(topic *t)
{
    for (int i = 0; i < t->nconfigs; i++) {
        free(t->configs[i].key);
        free(t->configs[i].value);
    }
    free(t->configs);
    t->configs = NULL;
    t->nconfigs = 0;
}

bool topic_name_valid(const char *name, size_t len, const char **why)
{
    if (len == 0) {
        *why = "topic name is empty";
        return false;
    }
    if (len > 249) {
        *why = "topic name is longer than 249 characters";
        return false;
    }
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        *why = "topic name cannot be '.' or '..'";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            *why = "topic name may contain only ASCII letters, digits, '.', '_' and '-'";
            return false;
        }
    }
    return true;
}
