/* metadata_store.c - see metadata_store.h. */
#include "cluster/metadata_store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"

static void kvs_free(meta_kvs *k)
{
    for (int i = 0; i < k->n; i++) {
        free(k->v[i].key);
        free(k->v[i].value);
    }
    free(k->v);
    k->v = NULL;
    k->n = 0;
}

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
    const cJSON *kv;
    cJSON_ArrayForEach(kv, obj) {
        if (!cJSON_IsString(kv))
            continue;
        v[*n].key = strdup(kv->string);
        v[*n].value = strdup(kv->valuestring);
        if (!v[*n].key || !v[*n].value) {
            free(v[*n].key);
            free(v[*n].value);
            *out = v;
            return -1;
        }
        (*n)++;
    }
    *out = v;
    return 0;
}

static cJSON *kvs_to_json(cJSON *parent, const char *name, const topic_kv *v, int n)
{
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    for (int k = 0; o && k < n; k++)
        cJSON_AddStringToObject(o, v[k].key, v[k].value);
    return o;
}

void meta_state_free(meta_state *st)
{
    kvs_free(&st->broker_default);
    kvs_free(&st->broker_own);
    for (int i = 0; i < st->ntopics; i++) {
        meta_topic *t = &st->topics[i];
        free(t->name);
        for (int k = 0; k < t->nconfigs; k++) {
            free(t->configs[k].key);
            free(t->configs[k].value);
        }
        free(t->configs);
    }
    free(st->topics);
    memset(st, 0, sizeof *st);
}

static char *read_file(const char *path, size_t *len, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) < 0 || sb.st_size > (64 << 20)) {
        *err = fstat(fd, &sb) < 0 ? errno : EFBIG;
        goto out;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        *err = ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            *err = n < 0 ? errno : EIO;
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    *len = got;
out:
    close(fd);
    return buf;
}

int metadata_load(const char *dir, meta_state *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, METADATA_FILE);
    memset(out, 0, sizeof *out);
    size_t len = 0;
    int e = 0;
    char *buf = read_file(path, &len, &e);
    cJSON *root = NULL;
    int rc = -1;
    if (!buf) {
        if (e == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
        return -1;
    }
    char *nl = memchr(buf, '\n', len);
    unsigned ver = 0, crc = 0;
    if (!nl || sscanf(buf, "samsa-metadata %u %8x", &ver, &crc) != 2) {
        snprintf(err, errlen, "%s: bad header line (expected 'samsa-metadata <version> <crc>')", path);
        goto out;
    }
    if (ver != METADATA_VERSION) {
        snprintf(err, errlen, "%s: unsupported version %u", path, ver);
        goto out;
    }
    const char *body = nl + 1;
    size_t blen = len - (size_t)(body - buf);
    if (crc32c(0, body, blen) != crc) {
        snprintf(err, errlen, "%s: checksum mismatch; the file is corrupt", path);
        goto out;
    }
    root = cJSON_ParseWithLength(body, blen);
    cJSON *topics = root ? cJSON_GetObjectItemCaseSensitive(root, "topics") : NULL;
    if (!cJSON_IsArray(topics)) {
        snprintf(err, errlen, "%s: malformed JSON body", path);
        goto out;
    }
    cJSON *pid = cJSON_GetObjectItemCaseSensitive(root, "next_producer_id_block");
    out->next_producer_id_block = cJSON_IsNumber(pid) ? (int64_t)pid->valuedouble : 0;
    int n = cJSON_GetArraySize(topics);
    out->topics = calloc((size_t)(n ? n : 1), sizeof *out->topics);
    if (!out->topics) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cJSON *it;
    cJSON_ArrayForEach(it, topics) {
        cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        cJSON *np = cJSON_GetObjectItemCaseSensitive(it, "partitions");
        cJSON *internal = cJSON_GetObjectItemCaseSensitive(it, "internal");
        cJSON *cfg = cJSON_GetObjectItemCaseSensitive(it, "configs");
        meta_topic *t = &out->topics[out->ntopics];
        if (!cJSON_IsString(name) || !cJSON_IsString(id) || !cJSON_IsNumber(np) ||
            !kuuid_from_str(id->valuestring, &t->id) || np->valueint < 1) {
            snprintf(err, errlen, "%s: malformed topic entry %d", path, out->ntopics);
            goto out;
        }
        t->name = strdup(name->valuestring);
        t->partitions = np->valueint;
        t->internal = cJSON_IsTrue(internal);
        out->ntopics++;
        if (!t->name) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (kvs_from_json(cfg, &t->configs, &t->nconfigs) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    cJSON *bc = cJSON_GetObjectItemCaseSensitive(root, "broker_configs");
    if (kvs_from_json(cJSON_GetObjectItemCaseSensitive(bc, "default"), &out->broker_default.v,
                      &out->broker_default.n) < 0 ||
        kvs_from_json(cJSON_GetObjectItemCaseSensitive(bc, "broker"), &out->broker_own.v,
                      &out->broker_own.n) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    free(buf);
    if (rc)
        meta_state_free(out);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int metadata_save(const char *dir, const meta_state *st, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, METADATA_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = -1, fd = -1, dfd = -1;
    char *body = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *topics = cJSON_AddArrayToObject(root, "topics");
    for (int i = 0; i < st->ntopics; i++) {
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
    cJSON_AddNumberToObject(root, "next_producer_id_block", (double)st->next_producer_id_block);
    cJSON *bc = cJSON_AddObjectToObject(root, "broker_configs");
    kvs_to_json(bc, "default", st->broker_default.v, st->broker_default.n);
    kvs_to_json(bc, "broker", st->broker_own.v, st->broker_own.n);
    body = cJSON_Print(root);
    if (!body) {
        snprintf(err, errlen, "out of memory serialising metadata");
        goto out;
    }
    size_t blen = strlen(body);
    char hdr[64];
    int hl = snprintf(hdr, sizeof hdr, "samsa-metadata %d %08x\n", METADATA_VERSION,
                      crc32c(0, body, blen));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, hdr, (size_t)hl) < 0 || write_all(fd, body, blen) < 0 ||
        fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        snprintf(err, errlen, "cannot fsync %s: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (dfd >= 0)
        close(dfd);
    cJSON_free(body);
    cJSON_Delete(root);
    return rc;
}
