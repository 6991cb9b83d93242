/*
 * metadata_store.c - the local metadata store (see metadata_store.h).
 *
 * The admin thread owns `doc` (the JSON document as last loaded or
 * written) and `next_pid_block`; `mu` guards what network threads read:
 * the live-broker snapshot and the cluster id.
 */
#include "cluster/metadata_store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "os/sio.h"

typedef struct md_local {
    cluster_md base;
    char dir[4096];
    char path[4200];
    cJSON *doc;                  /* admin thread */
    int64_t next_pid_block;      /* admin thread: first producer id not reserved */
    pthread_mutex_t mu;
    md_brokers *brokers;         /* mu */
    char cluster_id[64];         /* mu */
} md_local;

#define L(m) ((md_local *)(m))

/* -------------------------------------------------------------- reading */

static int kvs_from_json(const cJSON *obj, topic_kv **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsObject(obj))
        return 0;
    int cnt = cJSON_GetArraySize(obj);
    topic_kv *v = calloc((size_t)(cnt ? cnt : 1), sizeof *v);
    if (!v)
        return -1;
    *out = v;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, obj) {
        if (!cJSON_IsString(kv))
            continue;
        v[*n].key = strdup(kv->string);
        v[*n].value = strdup(kv->valuestring);
        if (!v[*n].key || !v[*n].value) {
            free(v[*n].key);
            free(v[*n].value);
            return -1;
        }
        (*n)++;
    }
    return 0;
}

/* Parse a body already checked against its CRC into out. */
static int parse_body(md_local *l, cJSON *root, meta_state *out, char *err, size_t errlen)
{
    cJSON *topics = root ? cJSON_GetObjectItemCaseSensitive(root, "topics") : NULL;
    if (!cJSON_IsArray(topics)) {
        snprintf(err, errlen, "%s: malformed JSON body", l->path);
        return -1;
    }
    cJSON *pid = cJSON_GetObjectItemCaseSensitive(root, "next_producer_id_block");
    l->next_pid_block = cJSON_IsNumber(pid) && pid->valuedouble > 0 ? (int64_t)pid->valuedouble : 0;
    out->next_producer_id_block = l->next_pid_block;
    int n = cJSON_GetArraySize(topics);
    out->topics = calloc((size_t)(n ? n : 1), sizeof *out->topics);
    if (!out->topics)
        goto nomem;
    cJSON *it;
    cJSON_ArrayForEach(it, topics) {
        cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        cJSON *np = cJSON_GetObjectItemCaseSensitive(it, "partitions");
        cJSON *internal = cJSON_GetObjectItemCaseSensitive(it, "internal");
        cJSON *cfg = cJSON_GetObjectItemCaseSensitive(it, "configs");
        meta_topic *t = &out->topics[out->ntopics];
        if (!cJSON_IsString(name) || !cJSON_IsString(id) || !cJSON_IsNumber(np) ||
            !kuuid_from_str(id->valuestring, &t->id) || np->valuedouble < 1 ||
            np->valuedouble > INT32_MAX) {
            snprintf(err, errlen, "%s: malformed topic entry %d", l->path, out->ntopics);
            return -1;
        }
        t->name = strdup(name->valuestring);
        t->partitions = np->valueint;
        t->internal = cJSON_IsTrue(internal);
        t->replication_factor = 1;
        out->ntopics++;
        if (!t->name || kvs_from_json(cfg, &t->configs, &t->nconfigs) < 0)
            goto nomem;
    }
    cJSON *bc = cJSON_GetObjectItemCaseSensitive(root, "broker_configs");
    if (kvs_from_json(cJSON_GetObjectItemCaseSensitive(bc, "default"), &out->broker_default.v,
                      &out->broker_default.n) < 0 ||
        kvs_from_json(cJSON_GetObjectItemCaseSensitive(bc, "broker"), &out->broker_own.v,
                      &out->broker_own.n) < 0)
        goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "%s: out of memory loading it", l->path);
    return -1;
}

static int local_load(cluster_md *m, meta_state *out, char *err, size_t errlen)
{
    md_local *l = L(m);
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    if (sio_read_file(l->path, METADATA_MAX_BYTES, &buf, &len) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", l->path, strerror(errno));
        return -1;
    }
    cJSON *root = NULL;
    int rc = -1;
    char *nl = memchr(buf, '\n', len);
    unsigned ver = 0, crc = 0;
    if (!nl || sscanf(buf, "samsa-metadata %u %8x", &ver, &crc) != 2) {
        snprintf(err, errlen, "%s: bad header line (expected 'samsa-metadata <version> <crc>')",
                 l->path);
        goto out;
    }
    if (ver != METADATA_VERSION) {
        snprintf(err, errlen, "%s: unsupported version %u", l->path, ver);
        goto out;
    }
    const char *body = nl + 1;
    size_t blen = len - (size_t)(body - buf);
    if (crc32c(0, body, blen) != crc) {
        snprintf(err, errlen, "%s: checksum mismatch; the file is corrupt", l->path);
        goto out;
    }
    root = cJSON_ParseWithLength(body, blen);
    if (parse_body(l, root, out, err, errlen) < 0)
        goto out;
    cJSON_Delete(l->doc);
    l->doc = root;
    root = NULL;
    out->found = true;
    rc = 0;
out:
    cJSON_Delete(root);
    free(buf);
    if (rc)
        meta_state_free(out);
    return rc;
}

/* -------------------------------------------------------------- writing */

static void kvs_to_json(cJSON *parent, const char *name, const topic_kv *v, int n)
{
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    for (int k = 0; o && k < n; k++)
        cJSON_AddStringToObject(o, v[k].key, v[k].value);
}

static cJSON *build_doc(const meta_state *st, int64_t pid_block)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *topics = cJSON_AddArrayToObject(root, "topics");
    for (int i = 0; st && i < st->ntopics; i++) {
        const meta_topic *t = &st->topics[i];
        cJSON *o = cJSON_CreateObject();
        char ids[KUUID_STR_LEN + 1];
        kuuid_to_str(t->id, ids);
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "id", ids);
        cJSON_AddNumberToObject(o, "partitions", t->partitions);
        cJSON_AddBoolToObject(o, "internal", t->internal);
        kvs_to_json(o, "configs", t->configs, t->nconfigs);
        cJSON_AddItemToArray(topics, o);
    }
    cJSON_AddNumberToObject(root, "next_producer_id_block", (double)pid_block);
    cJSON *bc = cJSON_AddObjectToObject(root, "broker_configs");
    if (st) {
        kvs_to_json(bc, "default", st->broker_default.v, st->broker_default.n);
        kvs_to_json(bc, "broker", st->broker_own.v, st->broker_own.n);
    }
    return root;
}

/* Header + body through the durable-file door. */
static int write_doc(md_local *l, const cJSON *doc, char *err, size_t errlen)
{
    char *body = cJSON_Print(doc);
    if (!body) {
        snprintf(err, errlen, "out of memory serialising %s", l->path);
        return -1;
    }
    size_t blen = strlen(body);
    char hdr[64];
    int hl = snprintf(hdr, sizeof hdr, "samsa-metadata %d %08x\n", METADATA_VERSION,
                      crc32c(0, body, blen));
    char *file = malloc((size_t)hl + blen);
    int rc = -1;
    if (!file) {
        snprintf(err, errlen, "out of memory writing %s", l->path);
    } else {
        memcpy(file, hdr, (size_t)hl);
        memcpy(file + hl, body, blen);
        rc = sio_write_file_atomic(l->dir, METADATA_FILE, file, (size_t)hl + blen, 1);   /* M7 */
        if (rc < 0)
            snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(errno));
    }
    free(file);
    cJSON_free(body);
    return rc;
}

static int local_store(cluster_md *m, const meta_state *st, char *err, size_t errlen)
{
    md_local *l = L(m);
    cJSON *doc = build_doc(st, l->next_pid_block);
    /* md_store replaces topics and broker configs: the user and client
     * entities stay as they are. */
    cJSON *ents = l->doc ? cJSON_GetObjectItemCaseSensitive(l->doc, "entities") : NULL;
    if (doc && ents && !cJSON_AddItemToObject(doc, "entities", cJSON_Duplicate(ents, 1))) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    if (!doc || write_doc(l, doc, err, errlen) < 0) {
        if (!doc)
            snprintf(err, errlen, "out of memory serialising %s", l->path);
        cJSON_Delete(doc);
        return -1;
    }
    cJSON_Delete(l->doc);
    l->doc = doc;
    md_notify(m, &(md_event){ .kind = MD_EV_TOPICS });
    return 0;
}

static int local_reserve_pids(cluster_md *m, int64_t count, int64_t *first, char *err,
                              size_t errlen)
{
    md_local *l = L(m);
    if (count <= 0 || l->next_pid_block > INT64_MAX - count) {
        snprintf(err, errlen, "producer ids exhausted");
        return -1;
    }
    if (!l->doc && !(l->doc = build_doc(NULL, l->next_pid_block))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int64_t start = l->next_pid_block;
    cJSON *num = cJSON_GetObjectItemCaseSensitive(l->doc, "next_producer_id_block");
    if (!num && !(num = cJSON_AddNumberToObject(l->doc, "next_producer_id_block", 0))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cJSON_SetNumberValue(num, (double)(start + count));
    if (write_doc(l, l->doc, err, errlen) < 0) {
        cJSON_SetNumberValue(num, (double)start);
        return -1;
    }
    l->next_pid_block = start + count;
    *first = start;                      /* M8: durable before any id of it is handed out */
    return 0;
}

/* ------------------------------------------------------ per-entity writes */

/* A copy of the current document to change (the current one stays until
 * the copy is durable); NULL when out of memory. */
static cJSON *doc_copy(md_local *l)
{
    if (!l->doc)
        return build_doc(NULL, l->next_pid_block);
    return cJSON_Duplicate(l->doc, 1);
}

/* Write the changed copy durably and make it current; frees it on failure. */
static int doc_commit(md_local *l, cJSON *doc, enum md_event_kind ev, const char *entity,
                      char *err, size_t errlen)
{
    if (write_doc(l, doc, err, errlen) < 0) {
        cJSON_Delete(doc);
        return MD_ERR;
    }
    cJSON_Delete(l->doc);
    l->doc = doc;
    md_notify(&l->base, &(md_event){ .kind = ev, .entity = entity });
    return MD_OK;
}

/* The entry of topic `name` in doc's topic array, or NULL. */
static cJSON *doc_topic(cJSON *doc, const char *name, int *index)
{
    cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "topics")) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) {
            if (index)
                *index = i;
            return it;
        }
        i++;
    }
    return NULL;
}

/* Replace parent[key] with an object of v[0..n); -1 when out of memory. */
static int doc_set_kvs(cJSON *parent, const char *key, const topic_kv *v, int n)
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < n; k++)
        if (!cJSON_AddStringToObject(o, v[k].key, v[k].value)) {
            cJSON_Delete(o);
            o = NULL;
        }
    if (!o)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(parent, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(parent, key, o) ? 0 : (cJSON_Delete(o), -1);
    return cJSON_AddItemToObject(parent, key, o) ? 0 : (cJSON_Delete(o), -1);
}

static int local_create_topic(cluster_md *m, const meta_topic *t, char *err, size_t errlen)
{
    md_local *l = L(m);
    if (l->doc && doc_topic(l->doc, t->name, NULL)) {
        snprintf(err, errlen, "%s: topic \"%s\" exists", l->path, t->name);
        return MD_EXISTS;
    }
    meta_state one = { .topics = (meta_topic *)t, .ntopics = 1 };
    cJSON *doc = doc_copy(l), *entry = build_doc(&one, 0);
    cJSON *topics = cJSON_GetObjectItemCaseSensitive(doc, "topics");
    cJSON *item = entry ? cJSON_DetachItemFromArray(
                              cJSON_GetObjectItemCaseSensitive(entry, "topics"), 0) : NULL;
    cJSON_Delete(entry);
    if (!doc || !topics || !item || !cJSON_AddItemToArray(topics, item)) {
        cJSON_Delete(doc);
        cJSON_Delete(item);
        snprintf(err, errlen, "out of memory writing %s", l->path);
        return MD_ERR;
    }
    return doc_commit(l, doc, MD_EV_TOPICS, NULL, err, errlen);
}

static int local_delete_topic(cluster_md *m, const char *name, char *err, size_t errlen)
{
    md_local *l = L(m);
    int index = -1;
    if (!l->doc || !doc_topic(l->doc, name, &index)) {
        snprintf(err, errlen, "%s: no topic \"%s\"", l->path, name);
        return MD_NOT_FOUND;
    }
    cJSON *doc = doc_copy(l);
    if (!doc) {
        snprintf(err, errlen, "out of memory writing %s", l->path);
        return MD_ERR;
    }
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "topics"), index);
    return doc_commit(l, doc, MD_EV_TOPICS, NULL, err, errlen);
}

static int local_set_topic_configs(cluster_md *m, const char *name, const topic_kv *v, int n,
                                   char *err, size_t errlen)
{
    md_local *l = L(m);
    if (!l->doc || !doc_topic(l->doc, name, NULL)) {
        snprintf(err, errlen, "%s: no topic \"%s\"", l->path, name);
        return MD_NOT_FOUND;
    }
    cJSON *doc = doc_copy(l);
    if (!doc || doc_set_kvs(doc_topic(doc, name, NULL), "configs", v, n) < 0) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "out of memory writing %s", l->path);
        return MD_ERR;
    }
    char entity[300];
    snprintf(entity, sizeof entity, "topics/%s", name);
    return doc_commit(l, doc, MD_EV_CONFIG, entity, err, errlen);
}

static int local_set_broker_configs(cluster_md *m, bool cluster_default, const topic_kv *v, int n,
                                    char *err, size_t errlen)
{
    md_local *l = L(m);
    cJSON *doc = doc_copy(l);
    cJSON *bc = doc ? cJSON_GetObjectItemCaseSensitive(doc, "broker_configs") : NULL;
    if (doc && !bc)
        bc = cJSON_AddObjectToObject(doc, "broker_configs");
    if (!bc || doc_set_kvs(bc, cluster_default ? "default" : "broker", v, n) < 0) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "out of memory writing %s", l->path);
        return MD_ERR;
    }
    char entity[32];
    if (cluster_default)
        snprintf(entity, sizeof entity, "brokers/<default>");
    else
        snprintf(entity, sizeof entity, "brokers/%d", m->self);
    return doc_commit(l, doc, MD_EV_CONFIG, entity, err, errlen);
}

/* The file keeps user and client-id entities as
 *   "entities": { "users/alice": { "SCRAM-SHA-256": "...", ... }, ... }
 * keyed by their sanitized path (cluster/entity.h). */
static int local_load_entities(cluster_md *m, md_entities *out, char *err, size_t errlen)
{
    md_local *l = L(m);
    memset(out, 0, sizeof *out);
    cJSON *ents = l->doc ? cJSON_GetObjectItemCaseSensitive(l->doc, "entities") : NULL;
    int n = cJSON_IsObject(ents) ? cJSON_GetArraySize(ents) : 0;
    if (n == 0)
        return MD_OK;
    if (!(out->v = calloc((size_t)n, sizeof *out->v)))
        goto nomem;
    const cJSON *e;
    cJSON_ArrayForEach(e, ents) {
        md_entity *d = &out->v[out->n];
        if (!cJSON_IsObject(e) || !e->string)
            continue;
        out->n++;
        if (!(d->path = strdup(e->string)) || kvs_from_json(e, &d->v, &d->n) < 0)
            goto nomem;
    }
    return MD_OK;
nomem:
    md_entities_free(out);
    snprintf(err, errlen, "%s: out of memory loading the user and client entities", l->path);
    return MD_ERR;
}

static int local_load_entity(cluster_md *m, const char *path, md_entities *out, char *err,
                             size_t errlen)
{
    md_local *l = L(m);
    memset(out, 0, sizeof *out);
    cJSON *ents = l->doc ? cJSON_GetObjectItemCaseSensitive(l->doc, "entities") : NULL;
    cJSON *e = cJSON_IsObject(ents) ? cJSON_GetObjectItemCaseSensitive(ents, path) : NULL;
    if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) == 0)
        return MD_OK;
    if (!(out->v = calloc(1, sizeof *out->v)))
        goto nomem;
    out->n = 1;
    if (!(out->v[0].path = strdup(path)) || kvs_from_json(e, &out->v[0].v, &out->v[0].n) < 0)
        goto nomem;
    return MD_OK;
nomem:
    md_entities_free(out);
    snprintf(err, errlen, "%s: out of memory loading entity %s", l->path, path);
    return MD_ERR;
}

static int local_set_entity_configs(cluster_md *m, const char *path, const topic_kv *v, int n,
                                    char *err, size_t errlen)
{
    md_local *l = L(m);
    cJSON *doc = doc_copy(l);
    cJSON *ents = doc ? cJSON_GetObjectItemCaseSensitive(doc, "entities") : NULL;
    if (doc && !ents)
        ents = cJSON_AddObjectToObject(doc, "entities");
    int rc = ents ? 0 : -1;
    if (rc == 0 && n == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(ents, path);
    else if (rc == 0)
        rc = doc_set_kvs(ents, path, v, n);
    if (rc < 0) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "out of memory writing %s", l->path);
        return MD_ERR;
    }
    return doc_commit(l, doc, MD_EV_CONFIG, path, err, errlen);
}

/* ------------------------------------------------- derived and in memory */

static partition_state *local_partition_state(cluster_md *m, const meta_topic *t, int32_t p)
{
    if (!t->replicas || t->replication_factor < 1 || p < 0 || p >= t->partitions)
        return pstate_local(m->self, 0);
    pstate_spec s = { .leader = m->self, .leader_epoch = 0, .controller_epoch = -1,
                      .replicas = &t->replicas[(size_t)p * (size_t)t->replication_factor],
                      .nreplicas = t->replication_factor, .isr = &m->self, .nisr = 1 };
    return pstate_new(&s);
}

static md_brokers *local_live_brokers(cluster_md *m)
{
    md_local *l = L(m);
    pthread_mutex_lock(&l->mu);
    md_brokers *bs = l->brokers;
    atomic_fetch_add_explicit(&bs->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&l->mu);
    return bs;
}

static int local_register_broker(cluster_md *m, const md_broker *br, char *err, size_t errlen)
{
    md_local *l = L(m);
    if (br->id == m->self || br->id < 0) {
        snprintf(err, errlen, "broker id %d: not another broker", br->id);
        return -1;
    }
    pthread_mutex_lock(&l->mu);
    md_brokers *cur = l->brokers;
    bool replace = md_brokers_find(cur, br->id) != NULL;
    int n = cur->n + (replace ? 0 : 1);
    md_brokers *next = n <= MD_MAX_BROKERS ? malloc(sizeof *next + (size_t)n * sizeof(md_broker)) : NULL;
    if (!next) {
        pthread_mutex_unlock(&l->mu);
        snprintf(err, errlen, n > MD_MAX_BROKERS ? "more than %d live brokers" : "out of memory",
                 MD_MAX_BROKERS);
        return -1;
    }
    atomic_init(&next->refs, 1);
    int k = 0;
    bool placed = false;
    for (int i = 0; i < cur->n; i++) {
        if (!placed && br->id <= cur->v[i].id) {
            next->v[k++] = *br;
            placed = true;
        }
        if (cur->v[i].id != br->id)
            next->v[k++] = cur->v[i];
    }
    if (!placed)
        next->v[k++] = *br;
    next->n = k;
    l->brokers = next;
    pthread_mutex_unlock(&l->mu);
    md_brokers_unref(cur);
    md_notify(m, &(md_event){ .kind = MD_EV_BROKERS });
    return 0;
}

static int local_cluster_id(cluster_md *m, const char *proposed, char *out, size_t cap)
{
    md_local *l = L(m);
    pthread_mutex_lock(&l->mu);
    if (!l->cluster_id[0] && proposed)
        snprintf(l->cluster_id, sizeof l->cluster_id, "%s", proposed);
    int n = snprintf(out, cap, "%s", l->cluster_id);
    pthread_mutex_unlock(&l->mu);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void local_destroy(cluster_md *m)
{
    md_local *l = L(m);
    cJSON_Delete(l->doc);
    md_brokers_unref(l->brokers);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static const cluster_md_ops local_ops = {
    .name = "local",
    .load = local_load,
    .store = local_store,
    .partition_state = local_partition_state,
    .reserve_producer_ids = local_reserve_pids,
    .live_brokers = local_live_brokers,
    .register_broker = local_register_broker,
    .cluster_id = local_cluster_id,
    .create_topic = local_create_topic,
    .delete_topic = local_delete_topic,
    .set_topic_configs = local_set_topic_configs,
    .set_broker_configs = local_set_broker_configs,
    .load_entities = local_load_entities,
    .load_entity = local_load_entity,
    .set_entity_configs = local_set_entity_configs,
    .destroy = local_destroy,
};

cluster_md *md_local_open(const char *dir, const md_broker *self, char *err, size_t errlen)
{
    md_local *l = calloc(1, sizeof *l);
    md_brokers *bs = malloc(sizeof *bs + sizeof(md_broker));
    if (!l || !bs) {
        free(l);
        free(bs);
        snprintf(err, errlen, "out of memory opening the metadata store");
        return NULL;
    }
    l->base.ops = &local_ops;
    l->base.self = self->id;
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    snprintf(l->path, sizeof l->path, "%s/%s", dir, METADATA_FILE);
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&bs->refs, 1);
    bs->n = 1;
    bs->v[0] = *self;
    l->brokers = bs;
    return &l->base;
}
