/*
 * reassign_plan.c - the reassignment planner and Kafka's reassignment
 * JSON (reassign.h).  Pure: metadata in, plan out.
 *
 * The planner works on the whole selection at once:
 *   1. every partition keeps its replicas that sit on a target broker;
 *   2. each replica on a broker outside the target set is replaced, in
 *      place (so the preferred leader's slot moves with it), by the target
 *      broker that does not hold the partition yet, preferring a rack the
 *      partition's other replicas do not use, then the fewest replicas,
 *      then the lowest id;
 *   3. while two target brokers' replica counts differ by two or more, one
 *      replica moves from the fuller to the emptier of the pair furthest
 *      apart that allows a move: the first partition (in topic, partition
 *      order) with a replica on the former, none on the latter, and whose
 *      racks stay distinct (or the rack stays the same).  Each move lowers
 *      the sum of squared counts, so it ends; nothing else moves.
 * Replicas are counted over the selected topics only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/reassign.h"

void ra_plan_free(ra_plan *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->v[i].topic);
    free(p->v);
    memset(p, 0, sizeof *p);
}

typedef struct slot {
    const cli_mtopic_t *t;
    const cli_mpart_t *p;
    int32_t rep[RA_MAX_RF];
    int n;
} slot;

typedef struct pl {
    const cli_meta_t *m;
    const int32_t *to;
    int nto;
    int64_t *load;               /* [nto] */
    slot *s;
    int ns;
} pl;

static int idx_of(const pl *P, int32_t id)
{
    for (int i = 0; i < P->nto; i++)
        if (P->to[i] == id)
            return i;
    return -1;
}

static const char *rack_of(const pl *P, int32_t id)
{
    const cli_mbroker_t *b = cli_meta_broker(P->m, id);
    return b && b->rack ? b->rack : "";
}

static int holds(const slot *s, int32_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->rep[i] == id)
            return 1;
    return 0;
}

/* Is rack r used by a replica of s other than position skip? */
static int rack_used(const pl *P, const slot *s, const char *r, int skip)
{
    if (!*r)
        return 0;
    for (int i = 0; i < s->n; i++)
        if (i != skip && !strcmp(rack_of(P, s->rep[i]), r))
            return 1;
    return 0;
}

static int selected(const char *const *topics, const char *name)
{
    if (!topics)
        return 1;
    for (int i = 0; topics[i]; i++)
        if (!strcmp(topics[i], name))
            return 1;
    return 0;
}

/* Step 2: replace position k of s (a broker outside the target set). */
static int replace(pl *P, slot *s, int k)
{
    int best = -1, best_rack = 0;
    for (int i = 0; i < P->nto; i++) {
        if (holds(s, P->to[i]))
            continue;
        int ru = rack_used(P, s, rack_of(P, P->to[i]), k);
        if (best < 0 || ru < best_rack || (ru == best_rack && P->load[i] < P->load[best])) {
            best = i;
            best_rack = ru;
        }
    }
    if (best < 0)
        return -1;
    s->rep[k] = P->to[best];
    P->load[best]++;
    return 0;
}

/* Step 3: one move from broker index hi to lo; 1 when made. */
static int balance_step(pl *P, int hi, int lo)
{
    for (int j = 0; j < P->ns; j++) {
        slot *s = &P->s[j];
        if (holds(s, P->to[lo]))
            continue;
        for (int k = 0; k < s->n; k++) {
            if (s->rep[k] != P->to[hi])
                continue;
            const char *from = rack_of(P, P->to[hi]), *dst = rack_of(P, P->to[lo]);
            if (strcmp(from, dst) && rack_used(P, s, dst, k))
                break;
            s->rep[k] = P->to[lo];
            P->load[hi]--;
            P->load[lo]++;
            return 1;
        }
    }
    return 0;
}

static int add_move(ra_plan *out, const slot *s)
{
    if (out->n == out->cap) {
        int cap = out->cap ? 2 * out->cap : 64;
        ra_move *v = realloc(out->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        out->v = v;
        out->cap = cap;
    }
    ra_move *mv = &out->v[out->n];
    memset(mv, 0, sizeof *mv);
    if (!(mv->topic = strdup(s->t->name)))
        return -1;
    out->n++;
    mv->partition = s->p->id;
    mv->nold = s->p->nreplicas;
    if (mv->nold > 0)
        memcpy(mv->old, s->p->replicas, (size_t)mv->nold * sizeof *mv->old);
    mv->nnew = s->n;
    memcpy(mv->new_, s->rep, (size_t)s->n * sizeof *s->rep);
    for (int i = 0; i < s->n; i++) {
        int found = 0;
        for (int k = 0; k < mv->nold; k++)
            found |= mv->old[k] == s->rep[i];
        out->replicas_moved += !found;
    }
    return 0;
}

int ra_plan_make(const cli_meta_t *m, const char *const *topics, const int32_t *to, int nto,
                 ra_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pl P = { .m = m, .to = to, .nto = nto };
    int64_t total = 0;
    for (int i = 0; i < nto; i++)
        if (!cli_meta_broker(m, to[i])) {
            snprintf(err, errlen, "broker %d is not in the cluster", to[i]);
            return -1;
        }
    for (int32_t k = 0; k < m->ntopics; k++)
        if (selected(topics, m->topics[k].name))
            total += m->topics[k].nparts;
    P.load = calloc((size_t)nto + 1, sizeof *P.load);
    P.s = calloc((size_t)total + 1, sizeof *P.s);
    int rc = -1;
    if (!P.load || !P.s) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* 1. keep what is on the target brokers */
    for (int32_t k = 0; k < m->ntopics; k++) {
        const cli_mtopic_t *t = &m->topics[k];
        if (!selected(topics, t->name))
            continue;
        for (int32_t j = 0; j < t->nparts; j++) {
            const cli_mpart_t *p = &t->parts[j];
            if (p->nreplicas > nto || p->nreplicas > RA_MAX_RF) {
                snprintf(err, errlen, "%s-%d has %d replicas: more than the %d target brokers",
                         t->name, p->id, p->nreplicas, nto);
                goto out;
            }
            slot *s = &P.s[P.ns++];
            s->t = t;
            s->p = p;
            s->n = p->nreplicas;
            if (s->n > 0)
                memcpy(s->rep, p->replicas, (size_t)s->n * sizeof *s->rep);
            for (int i = 0; i < s->n; i++) {
                int x = idx_of(&P, s->rep[i]);
                if (x >= 0)
                    P.load[x]++;
            }
        }
    }
    /* 2. replace the replicas on brokers outside the target set */
    for (int j = 0; j < P.ns; j++)
        for (int i = 0; i < P.s[j].n; i++)
            if (idx_of(&P, P.s[j].rep[i]) < 0 && replace(&P, &P.s[j], i) < 0) {
                snprintf(err, errlen, "no target broker left for %s-%d", P.s[j].t->name,
                         P.s[j].p->id);
                goto out;
            }
    /* 3. even out the replica counts: one move at a time, between the
     * pair of brokers furthest apart that the rack rule allows */
    for (int moved = 1; moved;) {
        moved = 0;
        int64_t max = P.load[0], min = P.load[0];
        for (int i = 1; i < nto; i++) {
            max = P.load[i] > max ? P.load[i] : max;
            min = P.load[i] < min ? P.load[i] : min;
        }
        for (int64_t d = max - min; d >= 2 && !moved; d--)
            for (int i = 0; i < nto && !moved; i++)
                for (int j = 0; j < nto && !moved; j++)
                    if (P.load[i] - P.load[j] == d)
                        moved = balance_step(&P, i, j);
    }
    out->partitions = P.ns;
    for (int j = 0; j < P.ns; j++) {
        const slot *s = &P.s[j];
        int same = s->n == s->p->nreplicas &&
                   !memcmp(s->rep, s->p->replicas, (size_t)s->n * sizeof *s->rep);
        if (!same && add_move(out, s) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    free(P.load);
    free(P.s);
    if (rc < 0)
        ra_plan_free(out);
    return rc;
}

char *ra_plan_json(const ra_plan *p)
{
    cJSON *root = cJSON_CreateObject(), *parts = cJSON_CreateArray();
    if (!root || !parts) {
        cJSON_Delete(root);
        cJSON_Delete(parts);
        return NULL;
    }
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddItemToObject(root, "partitions", parts);
    for (int i = 0; i < p->n; i++) {
        const ra_move *mv = &p->v[i];
        cJSON *o = cJSON_CreateObject(), *reps = cJSON_CreateArray(), *dirs = cJSON_CreateArray();
        if (!o || !reps || !dirs) {
            cJSON_Delete(o);
            cJSON_Delete(reps);
            cJSON_Delete(dirs);
            cJSON_Delete(root);
            return NULL;
        }
        cJSON_AddStringToObject(o, "topic", mv->topic);
        cJSON_AddNumberToObject(o, "partition", mv->partition);
        for (int k = 0; k < mv->nnew; k++) {
            cJSON_AddItemToArray(reps, cJSON_CreateNumber(mv->new_[k]));
            cJSON_AddItemToArray(dirs, cJSON_CreateString("any"));
        }
        cJSON_AddItemToObject(o, "replicas", reps);
        cJSON_AddItemToObject(o, "log_dirs", dirs);
        cJSON_AddItemToArray(parts, o);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

int ra_plan_parse(const char *json, size_t len, ra_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *parts = root ? cJSON_GetObjectItemCaseSensitive(root, "partitions") : NULL;
    int rc = -1;
    if (!cJSON_IsArray(parts)) {
        snprintf(err, errlen, "not Kafka's reassignment JSON (no \"partitions\" array)");
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, parts) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "topic");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "partition");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "replicas");
        if (!cJSON_IsString(t) || !cJSON_IsNumber(p) || p->valuedouble < 0 ||
            p->valuedouble > INT32_MAX || !cJSON_IsArray(r) ||
            cJSON_GetArraySize(r) > RA_MAX_RF) {
            snprintf(err, errlen, "entry %d: needs \"topic\", \"partition\" and at most %d "
                                  "\"replicas\"", out->n + 1, RA_MAX_RF);
            goto out;
        }
        slot s = { .n = 0 };
        const cJSON *id;
        cJSON_ArrayForEach(id, r) {
            if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > INT32_MAX) {
                snprintf(err, errlen, "entry %d: a replica is not a broker id", out->n + 1);
                goto out;
            }
            s.rep[s.n++] = (int32_t)id->valuedouble;
        }
        cli_mtopic_t ft = { .name = t->valuestring };
        cli_mpart_t fp = { .id = (int32_t)p->valuedouble };
        s.t = &ft;
        s.p = &fp;
        if (add_move(out, &s) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    out->partitions = out->n;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0)
        ra_plan_free(out);
    return rc;
}
