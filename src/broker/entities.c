/*
 * entities.c - see entities.h.  The snapshot swap (mu), the SCRAM lookup
 * and the quota rates (qmu: the map of rates and every rate in it).
 */
#include "broker/entities.h"

#include <math.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/dispatch.h"
#include "cluster/metadata.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/quota_math.h"
#include "core/strmap.h"
#include "server/client.h"

const char *const quota_keys[QK_COUNT] = { "producer_byte_rate", "consumer_byte_rate",
                                           "request_percentage" };

/* S-ENT5: at most this many (kind, user, client-id) rates are kept; past
 * it, rates idle for a whole window are dropped first, and a client whose
 * rate cannot be kept is not throttled (logged once a minute) rather than
 * growing memory on a stream of new client ids. */
#define MAX_RATES 50000

typedef struct qslot {
    quota_rate r;
    int64_t last_ms;
} qslot;

struct entities {
    pthread_mutex_t mu;
    ent_snapshot *snap;          /* mu */
    /* snap->any_quota, readable without mu: the hot path of every request
     * when no quota is set is this one load. */
    atomic_bool any_quota;
    atomic_bool reload_queued;   /* entities_mark_stale */
    pthread_mutex_t qmu;
    strmap rates;                /* qmu: key -> qslot* */
    int64_t full_logged_ms;      /* qmu */
};

static void entry_free(ent_entry *e)
{
    for (int i = 0; i < e->n; i++) {
        free(e->keys[i]);
        free(e->values[i]);
    }
    free(e->keys);
    free(e->values);
    OPENSSL_cleanse(e->scram, sizeof e->scram);   /* S-ENT3 */
}

void ent_snapshot_unref(ent_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (int i = 0; i < s->n; i++)
        entry_free(&s->v[i]);
    free(s->v);
    free(s);
}

static ent_snapshot *snapshot_empty(void)
{
    ent_snapshot *s = calloc(1, sizeof *s);
    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

entities *entities_new(void)
{
    entities *e = calloc(1, sizeof *e);
    if (!e || !(e->snap = snapshot_empty())) {
        free(e);
        return NULL;
    }
    atomic_init(&e->any_quota, false);
    atomic_init(&e->reload_queued, false);
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->qmu, NULL);
    strmap_init(&e->rates);
    return e;
}

void entities_free(entities *e)
{
    if (!e)
        return;
    ent_snapshot_unref(e->snap);
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&e->rates, &it, &k, &kl, &v);)
        free(v);
    strmap_free(&e->rates);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->qmu);
    free(e);
}

ent_snapshot *entities_get(entities *e)
{
    pthread_mutex_lock(&e->mu);
    ent_snapshot *s = e->snap;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&e->mu);
    return s;
}

static bool name_eq(const ent_name *a, const ent_name *b)
{
    return a->has_user == b->has_user && a->has_client == b->has_client &&
           (!a->has_user || (a->user_default == b->user_default && !strcmp(a->user, b->user))) &&
           (!a->has_client ||
            (a->client_default == b->client_default && !strcmp(a->client, b->client)));
}

const ent_entry *ent_find(const ent_snapshot *s, const ent_name *n)
{
    for (int i = 0; s && i < s->n; i++)
        if (name_eq(&s->v[i].name, n))
            return &s->v[i];
    return NULL;
}

/* One stored entity into e; -1 when its path is not a user/client one. */
static int entry_build(const md_entity *m, ent_entry *e)
{
    memset(e, 0, sizeof *e);
    for (int k = 0; k < QK_COUNT; k++)
        e->quota[k] = -1;
    if (ent_path_parse(m->path, &e->name) < 0) {
        LOG_WRN("entities", "config entity \"%s\": not a user or client-id path; ignored",
                m->path);
        return -1;
    }
    snprintf(e->path, sizeof e->path, "%s", m->path);
    e->keys = calloc((size_t)(m->n ? m->n : 1), sizeof *e->keys);
    e->values = calloc((size_t)(m->n ? m->n : 1), sizeof *e->values);
    if (!e->keys || !e->values)
        return -2;
    for (int i = 0; i < m->n; i++) {
        const char *key = m->v[i].key, *val = m->v[i].value;
        e->keys[i] = strdup(key);
        e->values[i] = strdup(val);
        e->n++;
        if (!e->keys[i] || !e->values[i])
            return -2;
        int8_t mech = scram_mech_parse(key);
        if (mech > 0) {
            char why[128];
            if (!e->name.has_user || e->name.has_client || e->name.user_default)
                LOG_WRN("entities", "%s: %s belongs to a user entity only; ignored", m->path, key);
            else if (scram_cred_parse(mech, val, &e->scram[mech], why, sizeof why) == 0)
                e->has_scram[mech] = true;
            else      /* S-ENT3: never the value itself */
                LOG_WRN("entities", "%s: stored %s credential does not parse (%s); the user "
                        "cannot log in with it", m->path, key, why);
            continue;
        }
        for (int k = 0; k < QK_COUNT; k++)
            if (!strcmp(key, quota_keys[k])) {
                char *end;
                double d = strtod(val, &end);
                if (end != val && !*end && isfinite(d) && d > 0)
                    e->quota[k] = d;
                else
                    LOG_WRN("entities", "%s: %s=%s is not a positive number; ignored", m->path,
                            key, val);
            }
    }
    return 0;
}

bool entities_mark_stale(entities *e)
{
    return !atomic_exchange(&e->reload_queued, true);
}

void entities_unmark_stale(entities *e)
{
    atomic_store(&e->reload_queued, false);
}

/* Build a snapshot of v[0..n) and publish it (admin thread). */
static int publish(broker *b, const md_entity *v, int n, char *err, size_t errlen)
{
    ent_snapshot *s = snapshot_empty();
    if (s && n > 0 && !(s->v = calloc((size_t)n, sizeof *s->v)))
        goto nomem;
    for (int i = 0; s && i < n; i++) {
        int r = entry_build(&v[i], &s->v[s->n]);
        if (r == -2) {
            entry_free(&s->v[s->n]);
            goto nomem;
        }
        if (r < 0) {
            entry_free(&s->v[s->n]);
            continue;
        }
        for (int k = 0; k < QK_COUNT; k++)
            s->any_quota |= s->v[s->n].quota[k] > 0;
        s->n++;
    }
    if (!s)
        goto nomem;
    /* S-ENT2: published whole; readers hold their own reference. */
    pthread_mutex_lock(&b->ents->mu);
    ent_snapshot *old = b->ents->snap;
    b->ents->snap = s;
    atomic_store_explicit(&b->ents->any_quota, s->any_quota, memory_order_relaxed);
    atomic_store_explicit(&b->srv.quotas_on, s->any_quota, memory_order_relaxed);
    pthread_mutex_unlock(&b->ents->mu);
    ent_snapshot_unref(old);
    return 0;
nomem:
    ent_snapshot_unref(s);
    snprintf(err, errlen, "out of memory loading the user and client-id entities");
    return -1;
}

int entities_reload(broker *b, char *err, size_t errlen)
{
    md_entities me;
    /* Changes reported from here on need a reload of their own. */
    atomic_store(&b->ents->reload_queued, false);
    if (md_load_entities(b->md, &me, err, errlen) != MD_OK)
        return -1;
    int rc = publish(b, me.v, me.n, err, errlen);
    md_entities_free(&me);
    return rc;
}

int entities_reload_one(broker *b, const char *path, char *err, size_t errlen)
{
    md_entities one;
    if (md_load_entity(b->md, path, &one, err, errlen) != MD_OK)
        return -1;
    /* The current snapshot's other entities (views of their configs) and
     * the one re-read. */
    ent_snapshot *s = entities_get(b->ents);
    md_entity *v = calloc((size_t)s->n + 1, sizeof *v);
    int n = 0, rc = -1;
    for (int i = 0; v && i < s->n; i++) {
        const ent_entry *e = &s->v[i];
        if (!strcmp(e->path, path))
            continue;
        topic_kv *kv = calloc((size_t)(e->n ? e->n : 1), sizeof *kv);
        if (!kv)
            goto out;
        for (int k = 0; k < e->n; k++)
            kv[k] = (topic_kv){ e->keys[k], e->values[k] };
        v[n++] = (md_entity){ (char *)e->path, kv, e->n };
    }
    if (v && one.n == 1)
        v[n++] = one.v[0];
    rc = v ? publish(b, v, n, err, errlen) : -1;
out:
    for (int i = 0; v && i < n; i++)
        if (one.n != 1 || v[i].path != one.v[0].path)
            free(v[i].v);
    free(v);
    ent_snapshot_unref(s);
    md_entities_free(&one);
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "out of memory re-reading %s", path);
    return rc;
}

int ent_kvs_init(ent_kvs *k, const ent_entry *e)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; e && i < e->n; i++)
        if (ent_kvs_set(k, e->keys[i], e->values[i]) < 0) {
            ent_kvs_free(k);
            return -1;
        }
    return 0;
}

int ent_kvs_set(ent_kvs *k, const char *key, const char *value)
{
    char *nv = strdup(value);
    if (!nv)
        return -1;
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->v[i].key, key)) {
            OPENSSL_cleanse(k->v[i].value, strlen(k->v[i].value));
            free(k->v[i].value);
            k->v[i].value = nv;
            return 0;
        }
    if (k->n == k->cap) {
        int nc = k->cap ? k->cap * 2 : 8;
        topic_kv *nk = realloc(k->v, (size_t)nc * sizeof *nk);
        if (!nk) {
            free(nv);
            return -1;
        }
        k->v = nk;
        k->cap = nc;
    }
    if (!(k->v[k->n].key = strdup(key))) {
        free(nv);
        return -1;
    }
    k->v[k->n++].value = nv;
    return 0;
}

bool ent_kvs_del(ent_kvs *k, const char *key)
{
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->v[i].key, key)) {
            free(k->v[i].key);
            OPENSSL_cleanse(k->v[i].value, strlen(k->v[i].value));
            free(k->v[i].value);
            k->v[i] = k->v[--k->n];
            return true;
        }
    return false;
}

void ent_kvs_free(ent_kvs *k)
{
    while (k->n > 0)
        ent_kvs_del(k, k->v[k->n - 1].key);
    free(k->v);
    memset(k, 0, sizeof *k);
}

int entities_store(broker *b, const char *path, const ent_kvs *k, char *err, size_t errlen)
{
    int r = md_set_entity_configs(b->md, path, k->v, k->n, err, errlen);
    if (r != MD_OK)
        return r;
    char rerr[256] = "";
    if (entities_reload_one(b, path, rerr, sizeof rerr) < 0)
        LOG_WRN("entities", "%s stored, but re-reading the entities failed: %s", path, rerr);
    return MD_OK;
}

int entities_scram_lookup(void *ctx, const char *user, int8_t mech, scram_cred *out)
{
    broker *b = ctx;
    if (mech != SCRAM_SHA_256 && mech != SCRAM_SHA_512)
        return -1;
    ent_name n = { .has_user = true };
    if (strlen(user) > ENT_NAME_MAX)
        return -1;
    snprintf(n.user, sizeof n.user, "%s", user);
    ent_snapshot *s = entities_get(b->ents);
    const ent_entry *e = ent_find(s, &n);
    int rc = -1;
    if (e && e->has_scram[mech]) {
        *out = e->scram[mech];
        rc = 0;
    }
    ent_snapshot_unref(s);
    return rc;
}

/* ---------------------------------------------------------------- quotas */

/* The bound for (user, client) of this kind and the key its rate is kept
 * under, by Kafka's precedence (entities.h); 0 when no entity sets one. */
static double resolve(const ent_snapshot *s, enum quota_kind kind, const char *user,
                      const char *cid, char *key, size_t kn)
{
    static const struct { bool u, ud, c, cd; bool key_user, key_client; } lv[8] = {
        { true, false, true, false, true, true },   /* users/U/clients/C */
        { true, false, true, true, true, true },    /* users/U/clients/<default> */
        { true, false, false, false, true, false }, /* users/U */
        { true, true, true, false, true, true },    /* users/<default>/clients/C */
        { true, true, true, true, true, true },     /* users/<default>/clients/<default> */
        { true, true, false, false, true, false },  /* users/<default> */
        { false, false, true, false, false, true }, /* clients/C */
        { false, false, true, true, false, true },  /* clients/<default> */
    };
    for (int i = 0; i < 8; i++) {
        ent_name n = { .has_user = lv[i].u, .user_default = lv[i].ud, .has_client = lv[i].c,
                       .client_default = lv[i].cd };
        if (lv[i].u && !lv[i].ud)
            memcpy(n.user, user, strlen(user) + 1);
        if (lv[i].c && !lv[i].cd)
            memcpy(n.client, cid, strlen(cid) + 1);
        const ent_entry *e = ent_find(s, &n);
        if (!e || e->quota[kind] <= 0)
            continue;
        char su[3 * ENT_NAME_MAX + 1] = "", sc[3 * ENT_NAME_MAX + 1] = "";
        if (lv[i].key_user)
            ent_sanitize(user, su, sizeof su);
        if (lv[i].key_client)
            ent_sanitize(cid, sc, sizeof sc);
        snprintf(key, kn, "%d|%s|%s", (int)kind, su, sc);
        return e->quota[kind];
    }
    return 0;
}

/* Drop rates idle for longer than their window (qmu held). */
static void sweep(entities *e, int64_t now, int64_t idle_ms)
{
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&e->rates, &it, &k, &kl, &v);)
        if (now - ((qslot *)v)->last_ms > idle_ms) {
            char key[2 * 3 * ENT_NAME_MAX + 16];
            if (kl >= sizeof key)
                continue;
            memcpy(key, k, kl);
            free(strmap_del(&e->rates, key, kl));
        }
}

/* The bound of rq's client for kind (0: none) and the key its rate is
 * kept under. */
static double bound_of(broker *b, const kreq *rq, enum quota_kind kind, char *key, size_t kn)
{
    entities *e = b->ents;
    if (!atomic_load_explicit(&e->any_quota, memory_order_relaxed))
        return 0;
    ent_snapshot *s = entities_get(e);
    /* Names longer than an entity's can match no entity: measured as "". */
    char cid[ENT_NAME_MAX + 1] = "", user[ENT_NAME_MAX + 1] = "";
    if (rq->hdr.client_id.len > 0 && rq->hdr.client_id.len <= ENT_NAME_MAX) {
        memcpy(cid, rq->hdr.client_id.p, (size_t)rq->hdr.client_id.len);
        cid[rq->hdr.client_id.len] = 0;
    }
    const char *pn = kreq_principal(rq)->name;
    if (strlen(pn) <= ENT_NAME_MAX)
        memcpy(user, pn, strlen(pn) + 1);
    double bound = resolve(s, kind, user, cid, key, kn);
    ent_snapshot_unref(s);
    return bound;
}

/* Record value (unrecord: take it back, Kafka's unrecordQuotaSensor) and
 * return the throttle it earns. */
static int32_t record(broker *b, const kreq *rq, enum quota_kind kind, double value,
                      bool unrecord)
{
    entities *e = b->ents;
    char key[2 * 3 * ENT_NAME_MAX + 16];
    double bound = bound_of(b, rq, kind, key, sizeof key);
    if (bound <= 0)
        return 0;
    const struct broker_config *cfg = broker_config_current(b);
    int64_t win = (int64_t)cfg->quota_window_size_seconds * 1000, now = mono_ms();
    int32_t t = 0;
    pthread_mutex_lock(&e->qmu);
    size_t kl = strlen(key);
    qslot *q = strmap_get(&e->rates, key, kl);
    if (!q && e->rates.count >= MAX_RATES)
        sweep(e, now, win * cfg->quota_window_num);
    if (!q && e->rates.count < MAX_RATES && (q = calloc(1, sizeof *q))) {
        int err = 0;
        quota_rate_init(&q->r, cfg->quota_window_num, win);
        strmap_put(&e->rates, key, kl, q, &err);
        if (err) {
            free(q);
            q = NULL;
        }
    }
    if (!q) {
        if (now - e->full_logged_ms > 60000) {
            e->full_logged_ms = now;
            LOG_WRN("quota", "%d client quota rates kept already: %s is not throttled",
                    MAX_RATES, kreq_peer(rq));
        }
    } else if (unrecord) {
        quota_rate_record(&q->r, -value, now);
    } else {
        q->last_ms = now;
        t = quota_rate_record_check(&q->r, value, bound, now);
    }
    pthread_mutex_unlock(&e->qmu);
    return t;
}

int32_t quotas_record(broker *b, kreq *rq, enum quota_kind kind, double value)
{
    int32_t t = record(b, rq, kind, value, false);
    if (t > rq->throttle_ms)
        rq->throttle_ms = t;
    return t;
}

int32_t quotas_request_time(void *ctx, kreq *rq, int64_t handler_ns)
{
    if (!atomic_load_explicit(&((broker *)ctx)->ents->any_quota, memory_order_relaxed))
        return 0;
    const api_entry *a = dispatch_get(rq->hdr.api_key);
    if (!a || a->test_hook)           /* inter-broker requests are exempt (S-ENT6) */
        return 0;
    /* Kafka's nanosToPercentage: 1 s of handler time per second = 100. */
    return record(ctx, rq, QK_REQUEST, (double)(handler_ns < 0 ? 0 : handler_ns) * 100.0 / 1e9, false);
}

void quotas_unrecord(broker *b, kreq *rq, enum quota_kind kind, double value)
{
    record(b, rq, kind, value, true);
}

double quotas_window_max(broker *b, const kreq *rq, enum quota_kind kind)
{
    char key[2 * 3 * ENT_NAME_MAX + 16];
    double bound = bound_of(b, rq, kind, key, sizeof key);
    if (bound <= 0)
        return 0;
    const struct broker_config *cfg = broker_config_current(b);
    return bound * (cfg->quota_window_num - 1) * cfg->quota_window_size_seconds;
}
