/* acl_store.c - see acl_store.h.  Kafka's ACL znodes and change
 * notifications, and the single-broker ACL file. */
#include "cluster/acl_store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/zk_session.h"
#include "core/log.h"
#include "os/sio.h"

#define MOD "acl"
#define LIT_ROOT "/kafka-acl"
#define EXT_ROOT "/kafka-acl-extended/prefixed"
#define LIT_CHANGES "/kafka-acl-changes"
#define EXT_CHANGES "/kafka-acl-extended-changes"
#define CHANGE_PREFIX "acl_changes_"
#define CAS_TRIES 64

struct acl_store {
    acl_authz *a;
    char dir[4096];                 /* file mode */
    /* ZooKeeper mode */
    zk_session *zs;
    char connect[1024];
    int session_ms, conn_ms;
    pthread_t thr;
    bool thr_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick;                /* mu */
    /* Held around every use of zs: the admin thread's writes and the
     * watcher's syncs (which may replace zs after an expired session). */
    pthread_mutex_t zs_mu;
    int64_t seen_lit, seen_ext;     /* highest change seq processed (watcher thread) */
};

static int fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t n, const char *fmt, ...)
{
    if (why && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- formats -------------------------------------------------------- */

static cJSON *entry_json(const acl_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "principal", e->principal) ||
        !cJSON_AddStringToObject(o, "permissionType", acl_perm_zk_name(e->perm)) ||
        !cJSON_AddStringToObject(o, "operation", acl_op_zk_name(e->op)) ||
        !cJSON_AddStringToObject(o, "host", e->host)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *entries_json(const acl_entry *e, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < n; i++) {
        cJSON *o = entry_json(&e[i]);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

char *acl_json_encode(const acl_entry *e, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = entries_json(e, n);
    char *s = NULL;
    if (root && arr && cJSON_AddNumberToObject(root, "version", 1) &&
        cJSON_AddItemToObject(root, "acls", arr)) {
        arr = NULL;
        s = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(arr);
    cJSON_Delete(root);
    return s;
}

static const char *get_str(const cJSON *o, const char *k)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* The "acls" array of a znode body or file resource into entries. */
static int parse_entries(const cJSON *arr, acl_entry **out, int *nout, char *why, size_t wn)
{
    *out = NULL;
    *nout = 0;
    if (!cJSON_IsArray(arr))
        return fail(why, wn, "\"acls\" is not an array");
    int n = cJSON_GetArraySize(arr);
    acl_entry *e = n ? calloc((size_t)n, sizeof *e) : NULL;
    if (n && !e)
        return fail(why, wn, "out of memory");
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const char *pr = get_str(it, "principal"), *perm = get_str(it, "permissionType"),
                   *op = get_str(it, "operation"), *host = get_str(it, "host");
        if (!pr || !perm || !op || !host) {
            acl_entries_free(e, i);
            return fail(why, wn, "acl %d: principal, permissionType, operation and host must "
                                 "be strings", i);
        }
        int opv = acl_op_parse(op), pv = acl_perm_parse(perm);
        /* Validate as a topic binding would, minus the type-specific op check. */
        acl_binding b = { .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_LITERAL, .name = "x",
                          .principal = pr, .host = host, .op = (int8_t)ACL_OP_ALL,
                          .perm = (int8_t)pv };
        char w[160];
        if (opv <= ACL_OP_ANY || pv < 0 || acl_binding_validate(&b, w, sizeof w)) {
            acl_entries_free(e, i);
            return fail(why, wn, "acl %d: %s", i,
                        opv <= ACL_OP_ANY ? "unknown operation" : pv < 0 ? "unknown permissionType"
                                                                           : w);
        }
        e[i] = (acl_entry){ .principal = strdup(pr), .host = strdup(host), .op = (int8_t)opv,
                            .perm = (int8_t)pv };
        if (!e[i].principal || !e[i].host) {
            acl_entries_free(e, i + 1);
            return fail(why, wn, "out of memory");
        }
        i++;
    }
    *out = e;
    *nout = i;
    return 0;
}

static int check_version(const cJSON *root, char *why, size_t wn)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1)
        return fail(why, wn, "\"version\" must be 1");
    return 0;
}

int acl_json_parse(const char *s, size_t len, acl_entry **e, int *n, char *why, size_t wn)
{
    *e = NULL;
    *n = 0;
    cJSON *root = s ? cJSON_ParseWithLength(s, len) : NULL;
    int rc;
    if (!root || !cJSON_IsObject(root))
        rc = fail(why, wn, "not a JSON object");
    else if ((rc = check_version(root, why, wn)) == 0)
        rc = parse_entries(cJSON_GetObjectItemCaseSensitive(root, "acls"), e, n, why, wn);
    cJSON_Delete(root);
    return rc;
}

int acl_zk_path(int rtype, int pattern, const char *name, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/%s/%s", pattern == ACL_PT_PREFIXED ? EXT_ROOT : LIT_ROOT,
                     acl_rtype_zk_name(rtype), name);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

int acl_change_encode(int rtype, int pattern, const char *name, char *out, size_t n)
{
    if (pattern == ACL_PT_LITERAL) {
        int w = snprintf(out, n, "%s:%s", acl_rtype_name(rtype), name);
        return w < 0 || (size_t)w >= n ? -1 : 0;
    }
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o && cJSON_AddNumberToObject(o, "version", 1) &&
        cJSON_AddStringToObject(o, "resourceType", acl_rtype_name(rtype)) &&
        cJSON_AddStringToObject(o, "name", name) &&
        cJSON_AddStringToObject(o, "patternType", acl_pattern_name(pattern)))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = s && strlen(s) < n ? 0 : -1;
    if (!rc)
        memcpy(out, s, strlen(s) + 1);
    free(s);
    return rc;
}

int acl_change_decode(const char *s, size_t len, bool extended, int *rtype, int *pattern,
                      char *name, size_t cap)
{
    if (!extended) {
        const char *c = memchr(s, ':', len);
        char type[32];
        if (!c || (size_t)(c - s) >= sizeof type || len - (size_t)(c - s) - 1 >= cap)
            return -1;
        memcpy(type, s, (size_t)(c - s));
        type[c - s] = 0;
        *rtype = acl_rtype_parse(type);
        *pattern = ACL_PT_LITERAL;
        memcpy(name, c + 1, len - (size_t)(c - s) - 1);
        name[len - (size_t)(c - s) - 1] = 0;
        return *rtype > ACL_RT_ANY && !memchr(name, 0, len - (size_t)(c - s) - 1) ? 0 : -1;
    }
    cJSON *o = cJSON_ParseWithLength(s, len);
    int rc = -1;
    const char *rt = get_str(o, "resourceType"), *nm = get_str(o, "name"),
               *pt = get_str(o, "patternType");
    if (o && cJSON_IsObject(o) && !check_version(o, NULL, 0) && rt && nm && pt &&
        strlen(nm) < cap) {
        *rtype = acl_rtype_parse(rt);
        *pattern = acl_pattern_parse(pt);
        strcpy(name, nm);
        rc = *rtype > ACL_RT_ANY && (*pattern == ACL_PT_LITERAL || *pattern == ACL_PT_PREFIXED)
                 ? 0 : -1;
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- the file ------------------------------------------------------- */

typedef struct file_ctx {
    cJSON *arr;          /* resources */
    cJSON *cur;          /* current resource's acls */
    int8_t rt, pt;
    const char *name;
    bool oom;
} file_ctx;

static void file_add(const acl_binding *b, void *vctx)
{
    file_ctx *c = vctx;
    if (c->oom)
        return;
    if (!c->cur || c->rt != b->rtype || c->pt != b->pattern || strcmp(c->name, b->name)) {
        cJSON *r = cJSON_CreateObject();
        c->cur = cJSON_CreateArray();
        if (!r || !c->cur || !cJSON_AddStringToObject(r, "resourceType", acl_rtype_zk_name(b->rtype)) ||
            !cJSON_AddStringToObject(r, "patternType", acl_pattern_name(b->pattern)) ||
            !cJSON_AddStringToObject(r, "name", b->name) ||
            !cJSON_AddItemToObject(r, "acls", c->cur) || !cJSON_AddItemToArray(c->arr, r)) {
            c->oom = true;
            return;
        }
        c->rt = b->rtype, c->pt = b->pattern, c->name = b->name;
    }
    acl_entry e = { .principal = (char *)b->principal, .host = (char *)b->host, .op = b->op,
                    .perm = b->perm };
    cJSON *o = entry_json(&e);
    if (!o || !cJSON_AddItemToArray(c->cur, o))
        c->oom = true;
}

/* S-ACL9: the whole index, atomically. */
static int file_save(acl_store *s, char *why, size_t wn)
{
    cJSON *root = cJSON_CreateObject();
    file_ctx c = { .arr = cJSON_CreateArray() };
    char *txt = NULL;
    int rc = -1;
    if (root && c.arr && cJSON_AddNumberToObject(root, "version", 1) &&
        cJSON_AddItemToObject(root, "resources", c.arr)) {
        acl_binding all = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                            .perm = ACL_PERM_ANY };
        acl_authz_each(s->a, &all, file_add, &c);
        if (!c.oom)
            txt = cJSON_PrintUnformatted(root);
    } else {
        cJSON_Delete(c.arr);
    }
    cJSON_Delete(root);
    if (!txt)
        return fail(why, wn, "out of memory encoding %s", ACL_FILE);
    if (sio_write_file_atomic(s->dir, ACL_FILE, txt, strlen(txt), 1) < 0)
        fail(why, wn, "writing %s/%s: %s", s->dir, ACL_FILE, strerror(errno));
    else
        rc = 0;
    free(txt);
    return rc;
}

static int file_load(acl_store *s, char *err, size_t errlen)
{
    char path[4200], *buf = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", s->dir, ACL_FILE);
    if (sio_read_file(path, ACL_FILE_MAX_BYTES, &buf, &len) < 0)
        return errno == ENOENT ? 0 : fail(err, errlen, "%s: %s", path, strerror(errno));
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    char why[256];
    int rc = 0;
    if (!root || !cJSON_IsObject(root) || check_version(root, why, sizeof why)) {
        rc = fail(err, errlen, "%s: not an ACL file (version 1 JSON object)", path);
        goto out;
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "resources"), *r;
    if (!cJSON_IsArray(arr)) {
        rc = fail(err, errlen, "%s: \"resources\" is not an array", path);
        goto out;
    }
    cJSON_ArrayForEach(r, arr) {
        int rt = acl_rtype_parse(get_str(r, "resourceType"));
        int pt = acl_pattern_parse(get_str(r, "patternType"));
        const char *name = get_str(r, "name");
        acl_entry *e;
        int n;
        if (rt <= ACL_RT_ANY || (pt != ACL_PT_LITERAL && pt != ACL_PT_PREFIXED) || !name ||
            parse_entries(cJSON_GetObjectItemCaseSensitive(r, "acls"), &e, &n, why,
                          sizeof why)) {
            rc = fail(err, errlen, "%s: resource \"%s\": invalid (%s)", path,
                      name ? name : "?", rt <= ACL_RT_ANY ? "resourceType" :
                      pt < 0 ? "patternType" : why);
            goto out;
        }
        rc = acl_authz_set_resource(s->a, rt, pt, name, e, n);
        acl_entries_free(e, n);
        if (rc) {
            fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
    }
out:
    cJSON_Delete(root);
    return rc;
}

acl_store *acl_store_open_file(acl_authz *a, const char *dir, char *err, size_t errlen)
{
    acl_store *s = calloc(1, sizeof *s);
    if (!s) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    s->a = a;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (file_load(s, err, errlen)) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---- ZooKeeper ------------------------------------------------------ */

/* Read one resource's znode into the index (absent = no ACLs). */
static int zk_reload_resource(acl_store *s, int rt, int pt, const char *name)
{
    char path[ACL_NAME_MAX + 128];
    if (acl_zk_path(rt, pt, name, path, sizeof path))
        return -1;
    char *data = NULL, why[256];
    size_t len;
    zk_stat st;
    zk_rc rc = zk_get(s->zs, path, false, &data, &len, &st);
    acl_entry *e = NULL;
    int n = 0;
    if (rc == ZKR_OK && len && acl_json_parse(data, len, &e, &n, why, sizeof why)) {
        LOG_WRN(MOD, "ZooKeeper %s: ignoring invalid ACLs: %s", path, why);
        n = 0;
    } else if (rc != ZKR_OK && rc != ZKR_NONODE) {
        free(data);
        return -1;
    }
    free(data);
    int r = acl_authz_set_resource(s->a, rt, pt, name, e, n);
    acl_entries_free(e, n);
    return r;
}

static int zk_load_all(acl_store *s)
{
    static const int pats[] = { ACL_PT_LITERAL, ACL_PT_PREFIXED };
    for (int pi = 0; pi < 2; pi++) {
        for (int rt = ACL_RT_TOPIC; rt <= ACL_RT_USER; rt++) {
            char dir[256];
            snprintf(dir, sizeof dir, "%s/%s", pats[pi] == ACL_PT_PREFIXED ? EXT_ROOT : LIT_ROOT,
                     acl_rtype_zk_name(rt));
            char **names;
            int n;
            zk_rc rc = zk_children(s->zs, dir, false, &names, &n);
            if (rc == ZKR_NONODE)
                continue;
            if (rc != ZKR_OK)
                return -1;
            int err = 0;
            for (int i = 0; i < n && !err; i++)
                err = zk_reload_resource(s, rt, pats[pi], names[i]);
            zk_free_strings(names, n);
            if (err)
                return -1;
        }
    }
    return 0;
}

static int64_t seq_of(const char *child)
{
    if (strncmp(child, CHANGE_PREFIX, strlen(CHANGE_PREFIX)))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(child + strlen(CHANGE_PREFIX), &end, 10);
    return errno || *end || v < 0 ? -1 : (int64_t)v;
}

/* S-ACL8: apply every change node newer than *seen; init only records
 * the newest (the full load that follows covers them).  Re-arms the watch.
 * Returns 1 when nodes after *seen were purged before this broker read
 * them (a gap in the sequence): the caller reloads everything. */
static int zk_process_changes(acl_store *s, bool extended, bool init)
{
    const char *dir = extended ? EXT_CHANGES : LIT_CHANGES;
    int64_t *seen = extended ? &s->seen_ext : &s->seen_lit;
    char **names;
    int n;
    zk_rc rc = zk_children(s->zs, dir, true, &names, &n);
    if (rc == ZKR_NONODE) {
        zk_ensure_path(s->zs, dir);
        rc = zk_children(s->zs, dir, true, &names, &n);
    }
    if (rc != ZKR_OK)
        return -1;
    int64_t max = *seen, min_new = INT64_MAX;
    int err = 0;
    for (int i = 0; i < n; i++) {
        int64_t q = seq_of(names[i]);
        if (q > *seen && q < min_new)
            min_new = q;
    }
    if (!init && *seen >= 0 && min_new != INT64_MAX && min_new > *seen + 1) {
        zk_free_strings(names, n);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        int64_t q = seq_of(names[i]);
        if (q <= *seen)
            continue;
        if (q > max)
            max = q;
        if (init)
            continue;
        char path[512], *data = NULL, name[ACL_NAME_MAX + 1];
        size_t len;
        zk_stat st;
        int rt, pt;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (zk_get(s->zs, path, false, &data, &len, &st) != ZKR_OK)
            continue;       /* purged already: a later full load covers it */
        if (acl_change_decode(data, len, extended, &rt, &pt, name, sizeof name))
            LOG_WRN(MOD, "ZooKeeper %s: ignoring a malformed ACL change", path);
        else if (zk_reload_resource(s, rt, pt, name))
            err = -1;
        free(data);
    }
    zk_free_strings(names, n);
    if (!err)
        *seen = max;
    return err;
}

static void on_event(zk_session *zs, enum zk_event ev, const char *path, void *ctx)
{
    (void)zs, (void)path;
    acl_store *s = ctx;
    if (ev == ZKE_CHILD || ev == ZKE_CONNECTED || ev == ZKE_EXPIRED) {
        pthread_mutex_lock(&s->mu);
        s->kick = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

static int zk_sync(acl_store *s, bool full)
{
    if (full) {
        s->seen_lit = s->seen_ext = -1;
        if (zk_process_changes(s, false, true) || zk_process_changes(s, true, true))
            return -1;
        return zk_load_all(s);
    }
    int a = zk_process_changes(s, false, false);
    int b = zk_process_changes(s, true, false);
    if (a == 1 || b == 1)
        return zk_sync(s, true);
    return a || b ? -1 : 0;
}

/* The watcher thread: wakes on a change-dir watch or each second. */
static void *watch_main(void *arg)
{
    acl_store *s = arg;
    bool need_full = false;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        while (!s->stop && !s->kick)
            if (pthread_cond_timedwait(&s->cv, &s->mu, &ts))
                break;
        s->kick = false;
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_lock(&s->zs_mu);
        if (zk_is_expired(s->zs)) {
            char err[256];
            zk_session *ns = zk_open(s->connect, s->session_ms, s->conn_ms, on_event, s, err,
                                     sizeof err);
            if (ns) {
                zk_close(s->zs);
                s->zs = ns;
                need_full = true;
            }
        }
        if (need_full)
            need_full = zk_sync(s, true) != 0;
        else if (zk_sync(s, false))
            LOG_DBG(MOD, "ACL change poll failed; retrying");
        pthread_mutex_unlock(&s->zs_mu);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

acl_store *acl_store_open_zk(acl_authz *a, const char *connect, int session_ms, int conn_ms,
                             char *err, size_t errlen)
{
    acl_store *s = calloc(1, sizeof *s);
    if (!s) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    s->a = a;
    snprintf(s->connect, sizeof s->connect, "%s", connect);
    s->session_ms = session_ms;
    s->conn_ms = conn_ms;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->zs_mu, NULL);
    s->zs = zk_open(connect, session_ms, conn_ms, on_event, s, err, errlen);
    if (!s->zs)
        goto fail;
    if (zk_ensure_path(s->zs, LIT_ROOT) || zk_ensure_path(s->zs, EXT_ROOT) ||
        zk_ensure_path(s->zs, LIT_CHANGES) || zk_ensure_path(s->zs, EXT_CHANGES) ||
        zk_sync(s, true)) {
        fail(err, errlen, "ZooKeeper %s: cannot load the ACLs (%s)", connect, LIT_ROOT);
        goto fail;
    }
    if (pthread_create(&s->thr, NULL, watch_main, s)) {
        fail(err, errlen, "cannot start the ACL watcher thread");
        goto fail;
    }
    s->thr_started = true;
    return s;
fail:
    if (s->zs)
        zk_close(s->zs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->zs_mu);
    free(s);
    return NULL;
}

void acl_store_close(acl_store *s)
{
    if (!s)
        return;
    if (s->thr_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thr, NULL);
    }
    if (s->zs) {
        zk_close(s->zs);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->zs_mu);
    }
    free(s);
}

/* Change nodes are never needed once every broker has read them; Kafka
 * deletes those older than 15 minutes.  Here the writer deletes those more
 * than ACL_CHANGES_KEEP behind the one it just created, every 64th write; a
 * broker that had not read them sees the gap and reloads everything. */
#define ACL_CHANGES_KEEP 1000

static void purge_changes(acl_store *s, const char *dir, const char *created)
{
    const char *base = strrchr(created, '/');
    int64_t newest = base ? seq_of(base + 1) : -1;
    if (newest < ACL_CHANGES_KEEP || newest % 64)
        return;
    char **names;
    int n;
    if (zk_children(s->zs, dir, false, &names, &n) != ZKR_OK)
        return;
    for (int i = 0; i < n; i++) {
        int64_t q = seq_of(names[i]);
        if (q >= 0 && q < newest - ACL_CHANGES_KEEP) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            zk_delete(s->zs, path, -1);
        }
    }
    zk_free_strings(names, n);
}

/* One resource's ACLs rewritten with compare-and-set (S-ACL7): read the
 * znode and its version, edit, write back on that version, retry when
 * another broker won; then leave the change node and update the index. */
typedef struct zk_edit {
    const acl_binding *add;           /* add this entry, or */
    const acl_binding *filter;        /* remove the entries this matches */
    acl_visit_fn fn;
    void *ctx;
    int removed;
} zk_edit;

static int zk_update(acl_store *s, int rt, int pt, const char *name, zk_edit *ed, char *why,
                     size_t wn)
{
    char path[ACL_NAME_MAX + 128];
    if (acl_zk_path(rt, pt, name, path, sizeof path))
        return fail(why, wn, "resource name too long");
    for (int attempt = 0; attempt < CAS_TRIES; attempt++) {
        char *data = NULL, pw[256];
        size_t len;
        zk_stat st;
        zk_rc rc = zk_get(s->zs, path, false, &data, &len, &st);
        if (rc != ZKR_OK && rc != ZKR_NONODE)
            return fail(why, wn, "ZooKeeper %s: %s", path, zk_rc_str(rc));
        acl_entry *e = NULL;
        int n = 0;
        if (rc == ZKR_OK && len && acl_json_parse(data, len, &e, &n, pw, sizeof pw))
            LOG_WRN(MOD, "ZooKeeper %s: replacing invalid ACLs (%s)", path, pw);
        free(data);
        bool exists = rc == ZKR_OK;
        int keep = 0, removed = 0;
        bool changed = false;
        if (ed->add) {
            bool dup = false;
            for (int i = 0; i < n; i++)
                dup |= e[i].op == ed->add->op && e[i].perm == ed->add->perm &&
                       !strcmp(e[i].principal, ed->add->principal) &&
                       !strcmp(e[i].host, ed->add->host);
            acl_entry *ne = dup ? e : realloc(e, (size_t)(n + 1) * sizeof *e);
            if (!ne) {
                acl_entries_free(e, n);
                return fail(why, wn, "out of memory");
            }
            e = ne;
            if (!dup) {
                e[n] = (acl_entry){ .principal = strdup(ed->add->principal),
                                    .host = strdup(ed->add->host), .op = ed->add->op,
                                    .perm = ed->add->perm };
                n++;
                changed = true;
            }
            keep = n;
        } else {
            for (int i = 0; i < n; i++) {
                acl_binding b = { .rtype = (int8_t)rt, .pattern = (int8_t)pt, .name = name,
                                  .principal = e[i].principal, .host = e[i].host,
                                  .op = e[i].op, .perm = e[i].perm };
                if (acl_filter_matches(ed->filter, &b)) {
                    removed++;
                    continue;
                }
                acl_entry t = e[keep];
                e[keep++] = e[i];
                e[i] = t;
            }
            changed = removed > 0;
        }
        if (!changed) {
            acl_authz_set_resource(s->a, rt, pt, name, e, keep);
            acl_entries_free(e, n);
            return 0;
        }
        char *body = keep ? acl_json_encode(e, keep) : NULL;
        if (keep && !body) {
            acl_entries_free(e, n);
            return fail(why, wn, "out of memory");
        }
        if (!keep)
            rc = zk_delete(s->zs, path, st.version);
        else if (exists)
            rc = zk_set(s->zs, path, body, strlen(body), st.version, NULL);
        else {
            char parent[300];
            snprintf(parent, sizeof parent, "%s/%s",
                     pt == ACL_PT_PREFIXED ? EXT_ROOT : LIT_ROOT, acl_rtype_zk_name(rt));
            zk_ensure_path(s->zs, parent);
            rc = zk_create(s->zs, path, body, strlen(body), ZKC_PERSISTENT, NULL, 0, NULL);
        }
        free(body);
        if (rc == ZKR_BADVERSION || rc == ZKR_NODEEXISTS || (rc == ZKR_NONODE && exists)) {
            acl_entries_free(e, n);
            continue;       /* another broker wrote first: re-read */
        }
        if (rc != ZKR_OK) {
            acl_entries_free(e, n);
            return fail(why, wn, "ZooKeeper %s: %s", path, zk_rc_str(rc));
        }
        if (ed->fn)
            for (int i = keep; i < n; i++) {
                acl_binding b = { .rtype = (int8_t)rt, .pattern = (int8_t)pt, .name = name,
                                  .principal = e[i].principal, .host = e[i].host,
                                  .op = e[i].op, .perm = e[i].perm };
                ed->fn(&b, ed->ctx);
            }
        ed->removed += removed;
        acl_authz_set_resource(s->a, rt, pt, name, e, keep);
        acl_entries_free(e, n);
        char change[ACL_NAME_MAX + 256], created[512];
        const char *cdir = pt == ACL_PT_LITERAL ? LIT_CHANGES : EXT_CHANGES;
        char cpath[64];
        snprintf(cpath, sizeof cpath, "%s/%s", cdir, CHANGE_PREFIX);
        if (acl_change_encode(rt, pt, name, change, sizeof change) ||
            zk_create(s->zs, cpath, change, strlen(change), ZKC_SEQUENTIAL, created,
                      sizeof created, NULL) != ZKR_OK)
            LOG_WRN(MOD, "ZooKeeper: could not write the change notification for %s "
                         "(other brokers pick it up at their next full load)", path);
        else
            purge_changes(s, cdir, created);
        return 0;
    }
    return fail(why, wn, "ZooKeeper %s: too many concurrent updates", path);
}

/* ---- create / delete ------------------------------------------------ */

int acl_store_create(acl_store *s, const acl_binding *b, char *why, size_t n)
{
    int rc = 0;
    return acl_store_create_many(s, &b, 1, &rc, why, n) < 0 ? -1 : rc;
}

int acl_store_create_many(acl_store *s, const acl_binding *const *b, int nb, int *rc, char *why,
                          size_t n)
{
    if (s->zs) {
        int failed = 0;
        pthread_mutex_lock(&s->zs_mu);
        for (int i = 0; i < nb; i++) {
            zk_edit ed = { .add = b[i] };
            rc[i] = zk_update(s, b[i]->rtype, b[i]->pattern, b[i]->name, &ed, why, n);
            failed += rc[i] != 0;
        }
        pthread_mutex_unlock(&s->zs_mu);
        return failed ? -1 : 0;
    }
    /* S-ACL9: into the index, then one atomic save for them all; a failed
     * save takes back the ones this call added. */
    bool *added = calloc((size_t)nb + 1, sizeof *added);
    if (!added)
        return fail(why, n, "out of memory");
    int nadded = 0, err = 0;
    for (int i = 0; i < nb && !err; i++) {
        acl_binding exact = *b[i];
        if (acl_authz_each(s->a, &exact, NULL, NULL) > 0)
            continue;
        if (acl_authz_add(s->a, b[i]))
            err = fail(why, n, "out of memory");
        else
            added[i] = true, nadded++;
    }
    if (!err && nadded)
        err = file_save(s, why, n);
    if (err)
        for (int i = 0; i < nb; i++)
            if (added[i]) {
                acl_binding exact = *b[i];
                acl_authz_remove(s->a, &exact, NULL, NULL);
            }
    for (int i = 0; i < nb; i++)
        rc[i] = err;
    free(added);
    return err;
}

typedef struct pat {
    int8_t rt, pt;
    char *name;
} pat;
typedef struct pat_list {
    pat *v;
    int n, cap;
    bool oom;
} pat_list;

static void collect_pat(const acl_binding *b, void *ctx)
{
    pat_list *l = ctx;
    for (int i = 0; i < l->n; i++)
        if (l->v[i].rt == b->rtype && l->v[i].pt == b->pattern && !strcmp(l->v[i].name, b->name))
            return;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 8;
        pat *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n] = (pat){ b->rtype, b->pattern, strdup(b->name) };
    if (!l->v[l->n].name)
        l->oom = true;
    else
        l->n++;
}

/* Copies of removed bindings, put back when the file cannot be saved. */
typedef struct undo {
    acl_binding *v;
    int n, cap;
    bool oom;
    acl_visit_fn fn;
    void *ctx;
} undo;

static void undo_cb(const acl_binding *b, void *vctx)
{
    undo *u = vctx;
    if (u->fn)
        u->fn(b, u->ctx);
    if (u->oom)
        return;
    if (u->n == u->cap) {
        int nc = u->cap ? u->cap * 2 : 16;
        acl_binding *nv = realloc(u->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            u->oom = true;
            return;
        }
        u->v = nv;
        u->cap = nc;
    }
    acl_binding c = *b;
    c.name = strdup(b->name);
    c.principal = strdup(b->principal);
    c.host = strdup(b->host);
    if (!c.name || !c.principal || !c.host) {
        free((char *)c.name), free((char *)c.principal), free((char *)c.host);
        u->oom = true;
        return;
    }
    u->v[u->n++] = c;
}

static void undo_free(undo *u)
{
    for (int i = 0; i < u->n; i++) {
        free((char *)u->v[i].name);
        free((char *)u->v[i].principal);
        free((char *)u->v[i].host);
    }
    free(u->v);
}

int acl_store_delete(acl_store *s, const acl_binding *f, acl_visit_fn fn, void *ctx, char *why,
                     size_t n)
{
    if (!s->zs) {
        /* S-ACL9: out of the index, one atomic save; a failed save puts
         * the removed bindings back (if they could be copied). */
        if (!acl_authz_each(s->a, f, NULL, NULL))
            return 0;
        undo u = { .fn = fn, .ctx = ctx };
        int cnt = acl_authz_remove(s->a, f, undo_cb, &u);
        int rc = cnt;
        if (file_save(s, why, n)) {
            for (int i = 0; i < u.n; i++)
                acl_authz_add(s->a, &u.v[i]);
            if (u.oom)
                LOG_ERR(MOD, "%s/%s not saved and some deleted ACLs could not be restored in "
                        "memory: the file still has them", s->dir, ACL_FILE);
            rc = -1;
        }
        undo_free(&u);
        return rc;
    }
    pat_list l = { 0 };
    acl_authz_each(s->a, f, collect_pat, &l);
    int rc = l.oom ? fail(why, n, "out of memory") : 0;
    zk_edit ed = { .filter = f, .fn = fn, .ctx = ctx };
    pthread_mutex_lock(&s->zs_mu);
    for (int i = 0; i < l.n && !rc; i++)
        rc = zk_update(s, l.v[i].rt, l.v[i].pt, l.v[i].name, &ed, why, n);
    pthread_mutex_unlock(&s->zs_mu);
    for (int i = 0; i < l.n; i++)
        free(l.v[i].name);
    free(l.v);
    return rc ? -1 : ed.removed;
}
