/* zk_layout.c - see zk_layout.h.  All JSON goes through cJSON; every
 * decoder checks types and ranges and names the field that is wrong. */
#include "cluster/zk_layout.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ paths */
static int path_fmt(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int path_fmt(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

int zkl_path_broker(char *out, size_t n, int32_t id)
{
    return path_fmt(out, n, ZK_PATH_BROKER_IDS "/%" PRId32, id);
}

int zkl_path_topic(char *out, size_t n, const char *topic)
{
    return path_fmt(out, n, ZK_PATH_BROKER_TOPICS "/%s", topic);
}

int zkl_path_partitions(char *out, size_t n, const char *topic)
{
    return path_fmt(out, n, ZK_PATH_BROKER_TOPICS "/%s/partitions", topic);
}

int zkl_path_partition_state(char *out, size_t n, const char *topic, int32_t p)
{
    return path_fmt(out, n, ZK_PATH_BROKER_TOPICS "/%s/partitions/%" PRId32 "/state", topic, p);
}

int zkl_path_topic_config(char *out, size_t n, const char *topic)
{
    return path_fmt(out, n, ZK_PATH_CONFIG_TOPICS "/%s", topic);
}

int zkl_path_broker_config(char *out, size_t n, int32_t id)
{
    if (id < 0)
        return path_fmt(out, n, ZK_PATH_CONFIG_BROKERS "/" ZK_BROKER_DEFAULT_ENTITY);
    return path_fmt(out, n, ZK_PATH_CONFIG_BROKERS "/%" PRId32, id);
}

/* --------------------------------------------------------------- helpers */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static cJSON *parse(const char *json, size_t len, const char *what, char *err, size_t errlen)
{
    cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL;
    if (!root)
        fail(err, errlen, "%s: not valid JSON", what);
    else if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        root = NULL;
        fail(err, errlen, "%s: not a JSON object", what);
    }
    return root;
}

/* An integer field in [lo, hi]; JSON numbers are doubles, so the value
 * must also be integral.  Kafka writes some numbers as strings ("timestamp",
 * "block_start"): allow_string accepts a decimal string too. */
static int get_int(const cJSON *obj, const char *name, int64_t lo, int64_t hi, bool allow_string,
                   int64_t *out, const char *what, char *err, size_t errlen)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!f)
        return fail(err, errlen, "%s: field \"%s\" is missing", what, name);
    if (cJSON_IsNumber(f)) {
        double d = f->valuedouble;
        /* Beyond 2^53 a JSON number is not an exact integer (and casting
         * one past INT64_MAX would be undefined). */
        if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
            d != (double)(int64_t)d || (int64_t)d < lo || (int64_t)d > hi)
            return fail(err, errlen, "%s: field \"%s\" must be an integer in [%" PRId64 ", %" PRId64 "]",
                        what, name, lo, hi);
        *out = (int64_t)d;
        return 0;
    }
    if (allow_string && cJSON_IsString(f) && f->valuestring[0]) {
        char *end;
        errno = 0;
        long long v = strtoll(f->valuestring, &end, 10);
        if (errno || *end || v < lo || v > hi)
            return fail(err, errlen, "%s: field \"%s\" must be an integer in [%" PRId64 ", %" PRId64 "]",
                        what, name, lo, hi);
        *out = v;
        return 0;
    }
    return fail(err, errlen, "%s: field \"%s\" must be a number", what, name);
}

static int get_i32(const cJSON *obj, const char *name, int32_t lo, int32_t *out, const char *what,
                   char *err, size_t errlen)
{
    int64_t v;
    if (get_int(obj, name, lo, INT32_MAX, false, &v, what, err, errlen) < 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static char *print_and_free(cJSON *root)
{
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *field, const char *what,
                    char *err, size_t errlen)
{
    size_t n = strlen(src);
    if (n >= cap)
        return fail(err, errlen, "%s: \"%s\" longer than %zu bytes", what, field, cap - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

/* An array of distinct broker ids (>= 0), at most ZKL_MAX_REPLICAS. */
static int get_id_list(const cJSON *arr, int32_t *out, int *n, bool allow_empty, const char *field,
                       const char *what, char *err, size_t errlen)
{
    if (!cJSON_IsArray(arr))
        return fail(err, errlen, "%s: \"%s\" must be an array of broker ids", what, field);
    int cnt = cJSON_GetArraySize(arr);
    if (cnt > ZKL_MAX_REPLICAS)
        return fail(err, errlen, "%s: \"%s\" has %d ids, more than %d", what, field, cnt,
                    ZKL_MAX_REPLICAS);
    if (cnt == 0 && !allow_empty)
        return fail(err, errlen, "%s: \"%s\" is empty", what, field);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(d >= 0 && d <= INT32_MAX) || d != (double)(int32_t)d)
            return fail(err, errlen, "%s: \"%s\" holds something that is not a broker id", what,
                        field);
        for (int j = 0; j < i; j++)
            if (out[j] == (int32_t)d)
                return fail(err, errlen, "%s: \"%s\" names broker %d twice", what, field,
                            (int)d);
        out[i++] = (int32_t)d;
    }
    *n = i;
    return 0;
}

static cJSON *id_array(const int32_t *ids, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    return a;
}

/* ---------------------------------------------------------- /brokers/ids */
/* "NAME://host:port"; host may be empty or a bracketed IPv6 address. */
static int parse_endpoint(const char *s, zkl_endpoint *ep, const char *what, char *err,
                          size_t errlen)
{
    const char *sep = strstr(s, "://");
    const char *colon = sep ? strrchr(sep + 3, ':') : NULL;
    if (!sep || sep == s || !colon)
        return fail(err, errlen, "%s: endpoint \"%s\" is not NAME://host:port", what, s);
    size_t nlen = (size_t)(sep - s), hlen = (size_t)(colon - (sep + 3));
    if (nlen >= sizeof ep->listener || hlen >= sizeof ep->host)
        return fail(err, errlen, "%s: endpoint \"%s\" is too long", what, s);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return fail(err, errlen, "%s: endpoint \"%s\" has a bad port", what, s);
    memcpy(ep->listener, s, nlen);
    ep->listener[nlen] = 0;
    memcpy(ep->host, sep + 3, hlen);
    ep->host[hlen] = 0;
    ep->port = (int32_t)port;
    return 0;
}

char *zkl_broker_encode(const zkl_broker *b)
{
    cJSON *root = cJSON_CreateObject(), *map = cJSON_CreateObject(), *eps = cJSON_CreateArray();
    if (!root || !map || !eps) {
        cJSON_Delete(root);
        cJSON_Delete(map);
        cJSON_Delete(eps);
        return NULL;
    }
    cJSON_AddItemToObject(root, "features", cJSON_CreateObject());
    cJSON_AddItemToObject(root, "listener_security_protocol_map", map);
    cJSON_AddItemToObject(root, "endpoints", eps);
    const zkl_endpoint *plain = NULL;
    for (int i = 0; i < b->nep; i++) {
        const zkl_endpoint *ep = &b->ep[i];
        char buf[sizeof ep->listener + sizeof ep->host + 16];
        snprintf(buf, sizeof buf, "%s://%s:%" PRId32, ep->listener, ep->host, ep->port);
        cJSON_AddItemToArray(eps, cJSON_CreateString(buf));
        cJSON_AddStringToObject(map, ep->listener, ep->protocol[0] ? ep->protocol : "PLAINTEXT");
        if (!plain && !strcmp(ep->protocol[0] ? ep->protocol : "PLAINTEXT", "PLAINTEXT"))
            plain = ep;
    }
    /* Kafka fills the legacy host/port from the PLAINTEXT endpoint, if any. */
    cJSON_AddNumberToObject(root, "jmx_port", -1);
    cJSON_AddNumberToObject(root, "port", plain ? plain->port : -1);
    if (plain)
        cJSON_AddStringToObject(root, "host", plain->host);
    else
        cJSON_AddNullToObject(root, "host");
    cJSON_AddNumberToObject(root, "version", 5);
    if (b->rack[0])
        cJSON_AddStringToObject(root, "rack", b->rack);
    else
        cJSON_AddNullToObject(root, "rack");
    char ts[24];
    snprintf(ts, sizeof ts, "%" PRId64, b->timestamp_ms);
    cJSON_AddStringToObject(root, "timestamp", ts);
    return print_and_free(root);
}

int zkl_broker_decode(const char *json, size_t len, zkl_broker *out, char *err, size_t errlen)
{
    const char *what = "broker registration";
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    int32_t id = out->id;
    memset(out, 0, sizeof *out);
    out->id = id;
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "endpoints");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "listener_security_protocol_map");
    const cJSON *rack = cJSON_GetObjectItemCaseSensitive(root, "rack");
    int64_t ts = 0;
    if (!cJSON_IsArray(eps) || cJSON_GetArraySize(eps) == 0) {
        fail(err, errlen, "%s: \"endpoints\" must be a non-empty array", what);
        goto out;
    }
    if (cJSON_GetArraySize(eps) > ZKL_MAX_ENDPOINTS) {
        fail(err, errlen, "%s: more than %d endpoints", what, ZKL_MAX_ENDPOINTS);
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, eps) {
        zkl_endpoint *ep = &out->ep[out->nep];
        if (!cJSON_IsString(e)) {
            fail(err, errlen, "%s: an endpoint is not a string", what);
            goto out;
        }
        if (parse_endpoint(e->valuestring, ep, what, err, errlen) < 0)
            goto out;
        const cJSON *proto = cJSON_IsObject(map)
                                 ? cJSON_GetObjectItemCaseSensitive(map, ep->listener) : NULL;
        /* Without a map entry the listener name is the protocol (Kafka's rule). */
        const char *p = cJSON_IsString(proto) ? proto->valuestring : ep->listener;
        if (copy_str(ep->protocol, sizeof ep->protocol, p, "listener_security_protocol_map",
                     what, err, errlen) < 0)
            goto out;
        out->nep++;
    }
    if (rack && !cJSON_IsNull(rack)) {
        if (!cJSON_IsString(rack)) {
            fail(err, errlen, "%s: \"rack\" must be a string or null", what);
            goto out;
        }
        if (copy_str(out->rack, sizeof out->rack, rack->valuestring, "rack", what, err,
                     errlen) < 0)
            goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "timestamp") &&
        get_int(root, "timestamp", 0, INT64_MAX, true, &ts, what, err, errlen) < 0)
        goto out;
    out->timestamp_ms = ts;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -------------------------------------------------------- /brokers/topics */
char *zkl_assignment_encode(const zkl_assignment *a)
{
    cJSON *root = cJSON_CreateObject(), *parts = cJSON_CreateObject();
    if (!root || !parts) {
        cJSON_Delete(root);
        cJSON_Delete(parts);
        return NULL;
    }
    cJSON_AddNumberToObject(root, "version", 2);
    cJSON_AddItemToObject(root, "partitions", parts);
    for (int32_t p = 0; p < a->npartitions; p++) {
        char key[16];
        snprintf(key, sizeof key, "%" PRId32, p);
        cJSON_AddItemToObject(parts, key, id_array(a->replicas[p], a->nreplicas[p]));
    }
    cJSON *add = cJSON_CreateObject(), *rem = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "adding_replicas", add);
    cJSON_AddItemToObject(root, "removing_replicas", rem);
    for (int32_t p = 0; add && rem && a->nadding && p < a->npartitions; p++) {
        char key[16];
        snprintf(key, sizeof key, "%" PRId32, p);
        if (a->nadding[p])
            cJSON_AddItemToObject(add, key, id_array(a->adding[p], a->nadding[p]));
        if (a->nremoving[p])
            cJSON_AddItemToObject(rem, key, id_array(a->removing[p], a->nremoving[p]));
    }
    if (!kuuid_is_zero(a->topic_id)) {
        char id[KUUID_STR_LEN + 1];
        kuuid_to_str(a->topic_id, id);
        cJSON_AddStringToObject(root, "topic_id", id);
    }
    return print_and_free(root);
}

static void free_rows(int32_t **rows, int32_t n)
{
    for (int32_t p = 0; rows && p < n; p++)
        free(rows[p]);
    free(rows);
}

void zkl_assignment_free(zkl_assignment *a)
{
    free_rows(a->replicas, a->npartitions);
    free_rows(a->adding, a->npartitions);
    free_rows(a->removing, a->npartitions);
    free(a->nreplicas);
    free(a->nadding);
    free(a->nremoving);
    memset(a, 0, sizeof *a);
}

bool zkl_assignment_reassigning(const zkl_assignment *a, int32_t p)
{
    return a->nadding && p >= 0 && p < a->npartitions && (a->nadding[p] || a->nremoving[p]);
}

/* Copy n ids into *row (malloc'd; NULL when n is 0). */
static int set_row(int32_t **row, int32_t *cnt, const int32_t *ids, int n)
{
    int32_t *v = NULL;
    if (n > 0 && !(v = malloc((size_t)n * sizeof *v)))
        return -1;
    if (n > 0)
        memcpy(v, ids, (size_t)n * sizeof *v);
    free(*row);
    *row = v;
    *cnt = n;
    return 0;
}

static int alloc_moves(zkl_assignment *a)
{
    if (a->nadding)
        return 0;
    size_t n = (size_t)(a->npartitions > 0 ? a->npartitions : 1);
    a->nadding = calloc(n, sizeof *a->nadding);
    a->nremoving = calloc(n, sizeof *a->nremoving);
    a->adding = calloc(n, sizeof *a->adding);
    a->removing = calloc(n, sizeof *a->removing);
    if (a->nadding && a->nremoving && a->adding && a->removing)
        return 0;
    free(a->nadding);
    free(a->nremoving);
    free(a->adding);
    free(a->removing);
    a->nadding = a->nremoving = NULL;
    a->adding = a->removing = NULL;
    return -1;
}

int zkl_assignment_set(zkl_assignment *a, int32_t p, const int32_t *rep, int nrep,
                       const int32_t *add, int nadd, const int32_t *rem, int nrem)
{
    if (p < 0 || p >= a->npartitions || nrep < 1)
        return -1;
    if ((nadd || nrem || a->nadding) && alloc_moves(a) < 0)
        return -1;
    if (set_row(&a->replicas[p], &a->nreplicas[p], rep, nrep) < 0)
        return -1;
    if (a->nadding && (set_row(&a->adding[p], &a->nadding[p], add, nadd) < 0 ||
                       set_row(&a->removing[p], &a->nremoving[p], rem, nrem) < 0))
        return -1;
    return 0;
}

int zkl_assignment_copy(zkl_assignment *dst, const zkl_assignment *src)
{
    memset(dst, 0, sizeof *dst);
    dst->topic_id = src->topic_id;
    size_t n = (size_t)(src->npartitions > 0 ? src->npartitions : 1);
    dst->nreplicas = calloc(n, sizeof *dst->nreplicas);
    dst->replicas = calloc(n, sizeof *dst->replicas);
    if (!dst->nreplicas || !dst->replicas)
        goto fail;
    dst->npartitions = src->npartitions;
    for (int32_t p = 0; p < src->npartitions; p++) {
        bool mv = src->nadding != NULL;
        if (zkl_assignment_set(dst, p, src->replicas[p], src->nreplicas[p],
                               mv ? src->adding[p] : NULL, mv ? src->nadding[p] : 0,
                               mv ? src->removing[p] : NULL, mv ? src->nremoving[p] : 0) < 0)
            goto fail;
    }
    return 0;
fail:
    zkl_assignment_free(dst);
    return -1;
}

/* "adding_replicas" / "removing_replicas": an object keyed by partition,
 * each a list of replicas of that partition; absent or {} = none. */
static int decode_moves(const cJSON *root, const char *name, zkl_assignment *out, bool adding,
                        const char *what, char *err, size_t errlen)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!o || cJSON_IsNull(o))
        return 0;
    if (!cJSON_IsObject(o))
        return fail(err, errlen, "%s: \"%s\" must be an object", what, name);
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        char *end;
        errno = 0;
        long p = strtol(e->string, &end, 10);
        if (errno || *end || end == e->string || p < 0 || p >= out->npartitions)
            return fail(err, errlen, "%s: %s: partition \"%s\" is not one of 0..%d", what, name,
                        e->string, out->npartitions - 1);
        int32_t ids[ZKL_MAX_REPLICAS];
        int cnt = 0;
        char field[64];
        snprintf(field, sizeof field, "%s.%ld", name, p);
        if (get_id_list(e, ids, &cnt, true, field, what, err, errlen) < 0)
            return -1;
        for (int i = 0; i < cnt; i++) {
            bool found = false;
            for (int k = 0; k < out->nreplicas[p] && !found; k++)
                found = out->replicas[p][k] == ids[i];
            if (!found)
                return fail(err, errlen, "%s: %s names broker %d, not a replica of partition %ld",
                            what, field, (int)ids[i], p);
        }
        if (alloc_moves(out) < 0)
            return fail(err, errlen, "%s: out of memory", what);
        int32_t **row = adding ? &out->adding[p] : &out->removing[p];
        int32_t *n = adding ? &out->nadding[p] : &out->nremoving[p];
        if (*row)
            return fail(err, errlen, "%s: %s: partition %ld appears twice", what, name, p);
        if (set_row(row, n, ids, cnt) < 0)
            return fail(err, errlen, "%s: out of memory", what);
    }
    return 0;
}

int zkl_assignment_decode(const char *json, size_t len, zkl_assignment *out, char *err,
                          size_t errlen)
{
    const char *what = "topic assignment";
    memset(out, 0, sizeof *out);
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(root, "partitions");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(root, "topic_id");
    if (!cJSON_IsObject(parts)) {
        fail(err, errlen, "%s: \"partitions\" must be an object", what);
        goto out;
    }
    int n = cJSON_GetArraySize(parts);
    if (n <= 0 || n > ZKL_MAX_PARTITIONS) {
        fail(err, errlen, "%s: %d partitions (must be 1..%d)", what, n, ZKL_MAX_PARTITIONS);
        goto out;
    }
    if (tid && !cJSON_IsNull(tid) &&
        (!cJSON_IsString(tid) || !kuuid_from_str(tid->valuestring, &out->topic_id))) {
        fail(err, errlen, "%s: \"topic_id\" is not a topic id", what);
        goto out;
    }
    /* n is bounded by the input's size (each key costs bytes), so these
     * allocations are too. */
    out->nreplicas = calloc((size_t)n, sizeof *out->nreplicas);
    out->replicas = calloc((size_t)n, sizeof *out->replicas);
    if (!out->nreplicas || !out->replicas) {
        fail(err, errlen, "%s: out of memory", what);
        goto out;
    }
    out->npartitions = n;
    const cJSON *e;
    cJSON_ArrayForEach(e, parts) {
        char *end;
        errno = 0;
        long p = strtol(e->string, &end, 10);
        if (errno || *end || end == e->string || p < 0 || p >= n) {
            fail(err, errlen, "%s: partition \"%s\" is not one of 0..%d", what, e->string, n - 1);
            goto out;
        }
        if (out->replicas[p]) {
            fail(err, errlen, "%s: partition %ld appears twice", what, p);
            goto out;
        }
        int32_t ids[ZKL_MAX_REPLICAS];
        int cnt = 0;
        char field[48];
        snprintf(field, sizeof field, "partitions.%ld", p);
        if (get_id_list(e, ids, &cnt, false, field, what, err, errlen) < 0)
            goto out;
        out->replicas[p] = malloc((size_t)cnt * sizeof *ids);
        if (!out->replicas[p]) {
            fail(err, errlen, "%s: out of memory", what);
            goto out;
        }
        memcpy(out->replicas[p], ids, (size_t)cnt * sizeof *ids);
        out->nreplicas[p] = cnt;
    }
    /* n distinct keys, each in 0..n-1: all present */
    if (decode_moves(root, "adding_replicas", out, true, what, err, errlen) < 0 ||
        decode_moves(root, "removing_replicas", out, false, what, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        zkl_assignment_free(out);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------- partitions/P/state */
char *zkl_partition_state_encode(const zkl_partition_state *s)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "controller_epoch", s->controller_epoch);
    cJSON_AddNumberToObject(root, "leader", s->leader);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "leader_epoch", s->leader_epoch);
    cJSON_AddItemToObject(root, "isr", id_array(s->isr, s->nisr));
    return print_and_free(root);
}

int zkl_partition_state_decode(const char *json, size_t len, zkl_partition_state *out,
                               char *err, size_t errlen)
{
    const char *what = "partition state";
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int32_t zkv = out->zk_version;
    memset(out, 0, sizeof *out);
    out->zk_version = zkv;
    int rc = -1;
    if (get_i32(root, "leader", -1, &out->leader, what, err, errlen) < 0 ||
        get_i32(root, "leader_epoch", 0, &out->leader_epoch, what, err, errlen) < 0 ||
        get_i32(root, "controller_epoch", 0, &out->controller_epoch, what, err, errlen) < 0 ||
        get_id_list(cJSON_GetObjectItemCaseSensitive(root, "isr"), out->isr, &out->nisr, true,
                    "isr", what, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------ controller and cluster id */
char *zkl_controller_encode(int32_t broker_id, int64_t timestamp_ms)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    char ts[24];
    snprintf(ts, sizeof ts, "%" PRId64, timestamp_ms);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "brokerid", broker_id);
    cJSON_AddStringToObject(root, "timestamp", ts);
    return print_and_free(root);
}

int zkl_controller_decode(const char *json, size_t len, int32_t *broker_id, char *err,
                          size_t errlen)
{
    cJSON *root = parse(json, len, "controller", err, errlen);
    if (!root)
        return -1;
    int rc = get_i32(root, "brokerid", 0, broker_id, "controller", err, errlen);
    cJSON_Delete(root);
    return rc;
}

char *zkl_controller_epoch_encode(int32_t epoch)
{
    char *s = malloc(16);
    if (s)
        snprintf(s, 16, "%" PRId32, epoch);
    return s;
}

int zkl_controller_epoch_decode(const char *data, size_t len, int32_t *epoch, char *err,
                                size_t errlen)
{
    char buf[16];
    if (!data || len == 0 || len >= sizeof buf)
        return fail(err, errlen, "controller epoch: not a decimal number");
    memcpy(buf, data, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end || end == buf || v < 0 || v > INT32_MAX)
        return fail(err, errlen, "controller epoch: \"%s\" is not a number in [0, %d]", buf,
                    INT32_MAX);
    *epoch = (int32_t)v;
    return 0;
}

char *zkl_cluster_id_encode(const char *id)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "version", "1");
    cJSON_AddStringToObject(root, "id", id);
    return print_and_free(root);
}

int zkl_cluster_id_decode(const char *json, size_t len, char *id_out, char *err, size_t errlen)
{
    cJSON *root = parse(json, len, "cluster id", err, errlen);
    if (!root)
        return -1;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    int rc = -1;
    size_t n = cJSON_IsString(id) ? strlen(id->valuestring) : 0;
    if (n == 0 || n > KUUID_STR_LEN ||
        strspn(id->valuestring,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
        fail(err, errlen, "cluster id: \"id\" must be 1-%d characters of base64url",
             KUUID_STR_LEN);
    else {
        memcpy(id_out, id->valuestring, n + 1);
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

/* ---------------------------------------------------------------- configs */
char *zkl_config_encode(const zkl_config *c)
{
    cJSON *root = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    if (!root || !cfg) {
        cJSON_Delete(root);
        cJSON_Delete(cfg);
        return NULL;
    }
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddItemToObject(root, "config", cfg);
    for (int i = 0; i < c->n; i++)
        cJSON_AddStringToObject(cfg, c->keys[i], c->values[i]);
    return print_and_free(root);
}

void zkl_config_free(zkl_config *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->keys[i]);
        free(c->values[i]);
    }
    free(c->keys);
    free(c->values);
    memset(c, 0, sizeof *c);
}

int zkl_config_decode(const char *json, size_t len, zkl_config *out, char *err, size_t errlen)
{
    const char *what = "config";
    memset(out, 0, sizeof *out);
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (!cJSON_IsObject(cfg)) {
        fail(err, errlen, "%s: \"config\" must be an object", what);
        goto out;
    }
    int n = cJSON_GetArraySize(cfg);
    if (n > ZKL_MAX_CONFIGS) {
        fail(err, errlen, "%s: %d keys, more than %d", what, n, ZKL_MAX_CONFIGS);
        goto out;
    }
    out->keys = calloc((size_t)n + 1, sizeof *out->keys);
    out->values = calloc((size_t)n + 1, sizeof *out->values);
    if (!out->keys || !out->values) {
        fail(err, errlen, "%s: out of memory", what);
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cfg) {
        if (!cJSON_IsString(e)) {
            fail(err, errlen, "%s: the value of \"%s\" must be a string", what, e->string);
            goto out;
        }
        out->keys[out->n] = strdup(e->string);
        out->values[out->n] = strdup(e->valuestring);
        out->n++;
        if (!out->keys[out->n - 1] || !out->values[out->n - 1]) {
            fail(err, errlen, "%s: out of memory", what);
            goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0)
        zkl_config_free(out);
    cJSON_Delete(root);
    return rc;
}

char *zkl_config_change_encode(const char *entity_path)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "version", 2);
    cJSON_AddStringToObject(root, "entity_path", entity_path);
    return print_and_free(root);
}

int zkl_config_change_decode(const char *json, size_t len, char *entity_out, size_t cap,
                             char *err, size_t errlen)
{
    const char *what = "config change notification";
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int64_t version;
    int rc = -1;
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(root, "entity_path");
    if (get_int(root, "version", 2, 2, false, &version, what, err, errlen) < 0)
        goto out;
    if (!cJSON_IsString(ep) || ep->valuestring[0] == '/' || !strchr(ep->valuestring, '/')) {
        fail(err, errlen, "%s: field \"entity_path\" must be a string \"<type>/<name>\"", what);
        goto out;
    }
    rc = copy_str(entity_out, cap, ep->valuestring, "entity_path", what, err, errlen);
out:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------ producer-id block */
char *zkl_pid_block_encode(const zkl_pid_block *b)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    char s[24], e[24];
    snprintf(s, sizeof s, "%" PRId64, b->block_start);
    snprintf(e, sizeof e, "%" PRId64, b->block_end);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "broker", b->broker);
    cJSON_AddStringToObject(root, "block_start", s);
    cJSON_AddStringToObject(root, "block_end", e);
    return print_and_free(root);
}

int zkl_pid_block_decode(const char *json, size_t len, zkl_pid_block *out, char *err,
                         size_t errlen)
{
    const char *what = "producer id block";
    cJSON *root = parse(json, len, what, err, errlen);
    if (!root)
        return -1;
    int64_t broker = 0;
    int rc = -1;
    if (get_int(root, "broker", 0, INT32_MAX, false, &broker, what, err, errlen) < 0 ||
        get_int(root, "block_start", 0, INT64_MAX, true, &out->block_start, what, err,
                errlen) < 0 ||
        get_int(root, "block_end", 0, INT64_MAX, true, &out->block_end, what, err, errlen) < 0)
        goto out;
    if (out->block_end < out->block_start) {
        fail(err, errlen, "%s: block_end %" PRId64 " is before block_start %" PRId64, what,
             out->block_end, out->block_start);
        goto out;
    }
    out->broker = (int32_t)broker;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
