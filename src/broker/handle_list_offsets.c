/*
 * handle_list_offsets.c - ListOffsets (key 2).
 *
 * Timestamps: -2 earliest (log start), -1 latest (high watermark, or the
 * last stable offset under read_committed), -3 the record with the largest
 * timestamp (v7+), -4 earliest local (v8+, = earliest: no tiered storage),
 * -5 latest tiered (v9+, none: -1), >= 0 the first record whose timestamp
 * is at or after it (-1 if none).  v0 answers with the old array form.
 * Lookups that may scan a segment run here on the network thread; they
 * touch at most one index range and one batch (decompressed if needed).
 * A partition named more than once in a request is answered once, with
 * INVALID_REQUEST, as Kafka 4 does (its answer is keyed by partition).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/list_offsets.h"
#include "storage/partition_log.h"

static int16_t min_version_for(int64_t ts)
{
    switch (ts) {
    case -3: return 7;
    case -4: return 8;
    case -5: return 9;
    default: return 0;
    }
}

/* One (topic, partition) of the request, k its place in request order. */
typedef struct named_part {
    kstr topic;
    int32_t partition;
    size_t k;
} named_part;

static int same_tp_cmp(const named_part *x, const named_part *y)
{
    if (x->topic.len != y->topic.len)
        return x->topic.len < y->topic.len ? -1 : 1;
    int c = x->topic.len > 0 ? memcmp(x->topic.p, y->topic.p, (size_t)x->topic.len) : 0;
    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

static int named_part_cmp(const void *a, const void *b)
{
    const named_part *x = a, *y = b;
    int c = same_tp_cmp(x, y);
    return c ? c : x->k < y->k ? -1 : x->k > y->k;
}

/* dup[k] (k: the request's k-th partition in order) is 1 for the first
 * naming of a partition named more than once, 2 for the later ones;
 * false when out of memory. */
static bool find_duplicates(kreq *rq, const list_offsets_req *req, uint8_t **dup_out)
{
    size_t n = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        n += (size_t)(req->topics.v[i].partitions.n > 0 ? req->topics.v[i].partitions.n : 0);
    uint8_t *dup = arena_alloc(&rq->arena, n + 1);
    named_part *v = arena_alloc(&rq->arena, (n + 1) * sizeof *v);
    if (!dup || !v)
        return false;
    memset(dup, 0, n + 1);
    size_t k = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        for (int32_t j = 0; j < req->topics.v[i].partitions.n; j++, k++)
            v[k] = (named_part){ req->topics.v[i].name, req->topics.v[i].partitions.v[j].partition_index, k };
    qsort(v, n, sizeof *v, named_part_cmp);
    for (size_t x = 1; x < n; x++)
        if (!same_tp_cmp(&v[x - 1], &v[x])) {
            dup[v[x].k] = 2;
            if (!dup[v[x - 1].k])
                dup[v[x - 1].k] = 1;         /* the first naming, in request order */
        }
    *dup_out = dup;
    return true;
}

void handle_list_offsets(kreq *rq)
{
    broker *b = broker_of(rq);
    list_offsets_req *req = rq->body;
    list_offsets_resp *r = kreq_new_response(rq);
    int ver = rq->hdr.api_version;
    uint8_t *dup = NULL;
    if (!find_duplicates(rq, req, &dup)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    size_t k = 0;
    list_offsets_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        list_offsets_req_topics *qt = &req->topics.v[i];
        ts[i].name = qt->name;
        const uint8_t *td = dup + k;             /* this topic's partitions */
        k += (size_t)(qt->partitions.n > 0 ? qt->partitions.n : 0);
        int32_t keep = 0;
        for (int32_t j = 0; j < qt->partitions.n; j++)
            keep += td[j] != 2;
        list_offsets_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &ts[i].partitions, keep);
        int32_t out = 0;
        /* docs/security.md, ListOffsets: Topic DESCRIBE. */
        bool allowed = authz_allowed_k(b, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; ps && j < qt->partitions.n; j++) {
            list_offsets_req_partitions *qp = &qt->partitions.v[j];
            uint8_t d = td[j];
            if (d == 2)
                continue;                        /* answered at its first naming */
            list_offsets_resp_partitions *rp = &ps[out++];
            kcodec_defaults(&list_offsets_resp_partitions_schema, rp);
            rp->partition_index = qp->partition_index;
            if (d == 1) {
                rp->error_code = KERR_INVALID_REQUEST;
                rp->offset = rp->timestamp = -1;
                rp->leader_epoch = -1;
                continue;
            }
            if (!allowed) {
                rp->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                rp->offset = rp->timestamp = -1;
                rp->leader_epoch = -1;
                continue;
            }
            topic *t;
            partition *p;
            rp->error_code = lookup_partition(b, qt->name, (kuuid){ { 0 } }, qp->partition_index,
                                              qp->current_leader_epoch, NULL, &t, &p);
            if (rp->error_code)
                continue;
            int32_t ours = atomic_load(&p->leader_epoch);
            if (qp->timestamp < -5 || ver < min_version_for(qp->timestamp)) {
                rp->error_code = KERR_UNSUPPORTED_VERSION;
                topic_unref(t);
                continue;
            }
            int64_t off = -1, tsv = -1;
            int32_t epoch = -1;
            {
                /* read_committed (isolation_level 1, v2+): LATEST is the
                 * LSO and by-timestamp results at or above it are none. */
                int iso = ver >= 2 && req->isolation_level == 1 ? PLOG_ISOLATION_COMMITTED : PLOG_ISOLATION_HW;
                rp->error_code = (int16_t)plog_list_offset(p->log, qp->timestamp, iso, &off, &tsv, &epoch);
                if (qp->timestamp == -1)
                    epoch = ours;
                else if (off >= 0 && epoch < 0)
                    epoch = ours;
            }
            topic_unref(t);
            if (rp->error_code)
                continue;
            rp->offset = off;
            rp->timestamp = qp->timestamp >= 0 || qp->timestamp == -3 ? tsv : -1;
            rp->leader_epoch = off >= 0 ? epoch : -1;
            if (ver == 0) {
                int64_t *old = KARRAY_ALLOC(&rq->arena, &rp->old_style_offsets, off >= 0 ? 1 : 0);
                if (old)
                    old[0] = off;
            }
        }
    }
    kreq_respond(rq, r);
}
