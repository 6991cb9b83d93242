/*
 * handle_describe_producers.c - DescribeProducers (key 61, v0; KIP-664):
 * the active producers of each named partition this broker leads, from
 * the partition log's producer state: producer id and epoch, last
 * sequence and timestamp, coordinator epoch and the first offset of the
 * open transaction (-1 none).  A partition led elsewhere answers
 * NOT_LEADER_OR_FOLLOWER, an unknown one UNKNOWN_TOPIC_OR_PARTITION (Kafka's
 * ReplicaManager.activeProducerState).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/describe_producers.h"
#include "storage/partition_log.h"

typedef struct dp_ctx {
    plog_producer_info *v;
    int n, cap;
    bool oom;
} dp_ctx;

static void dp_add(void *vctx, const plog_producer_info *pi)
{
    dp_ctx *c = vctx;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 16;
        plog_producer_info *nv = realloc(c->v, sizeof *nv * (size_t)nc);
        if (!nv) {
            c->oom = true;
            return;
        }
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = *pi;
}

static void describe_partition(kreq *rq, kstr name, int32_t index, describe_producers_resp_partitions *out)
{
    topic *t;
    partition *p;
    kcodec_defaults(&describe_producers_resp_partitions_schema, out);
    out->partition_index = index;
    out->error_code = lookup_partition(broker_of(rq), name, (kuuid){ { 0 } }, index, -1, NULL, &t, &p);
    if (out->error_code)
        return;
    dp_ctx c = { 0 };
    plog_foreach_producer(p->log, dp_add, &c);
    topic_unref(t);
    describe_producers_resp_active_producers *ap =
        c.n ? KARRAY_ALLOC(&rq->arena, &out->active_producers, c.n) : NULL;
    if (c.oom || (c.n && !ap)) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        out->error_message = kstr_c("Out of memory listing the producers");
    }
    for (int i = 0; ap && i < c.n; i++)
        ap[i] = (describe_producers_resp_active_producers){
            .producer_id = c.v[i].producer_id,
            .producer_epoch = c.v[i].producer_epoch,
            .last_sequence = c.v[i].last_sequence,
            .last_timestamp = c.v[i].last_timestamp,
            .coordinator_epoch = c.v[i].coordinator_epoch,
            .current_txn_start_offset = c.v[i].current_txn_start_offset,
        };
    free(c.v);
}

void handle_describe_producers(kreq *rq)
{
    describe_producers_req *req = rq->body;
    describe_producers_resp *resp = kreq_new_response(rq);
    describe_producers_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &resp->topics, req->topics.n);
    if (req->topics.n > 0 && !ts) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    for (int32_t i = 0; i < req->topics.n; i++) {
        const describe_producers_req_topics *qt = &req->topics.v[i];
        ts[i].name = qt->name;
        describe_producers_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partition_indexes.n);
        /* docs/security.md, DescribeProducers: Topic READ. */
        bool readable = authz_allowed_k(broker_of(rq), rq, ACL_OP_READ, ACL_RT_TOPIC, qt->name);
        for (int32_t j = 0; ps && j < qt->partition_indexes.n; j++) {
            if (readable) {
                describe_partition(rq, qt->name, qt->partition_indexes.v[j], &ps[j]);
                continue;
            }
            ps[j].partition_index = qt->partition_indexes.v[j];
            ps[j].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
            ps[j].error_message = (kstr){ NULL, -1 };
        }
    }
    kreq_respond(rq, resp);
}
