/*
 * handle_offset_for_leader_epoch.c - OffsetForLeaderEpoch (key 23).
 *
 * Consumers use it (KIP-320) to check that their position is still on the
 * log after a leader change, followers (KIP-101, KIP-279) to find where to
 * truncate.  The answer comes from the partition's leader-epoch cache
 * (plog_epoch_end_offset): the largest epoch <= the requested one and its
 * end offset, the LEO for the current epoch, UNDEFINED (-1, -1) for an
 * epoch newer than any known.
 */
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/offset_for_leader_epoch.h"
#include "storage/partition_log.h"

void handle_offset_for_leader_epoch(kreq *rq)
{
    broker *b = broker_of(rq);
    offset_for_leader_epoch_req *req = rq->body;
    offset_for_leader_epoch_resp *r = kreq_new_response(rq);
    offset_for_leader_epoch_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    /* docs/security.md, OffsetForLeaderEpoch: a replica (v3+ replica_id
     * >= 0) needs Cluster CLUSTER_ACTION, a client Topic DESCRIBE. */
    bool replica = rq->hdr.api_version >= 3 && req->replica_id >= 0;
    bool cluster_ok = !replica || authz_cluster(b, rq, ACL_OP_CLUSTER_ACTION);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        offset_for_leader_epoch_req_topics *qt = &req->topics.v[i];
        ts[i].topic = qt->topic;
        offset_for_leader_epoch_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partitions.n);
        int16_t denied = !cluster_ok ? KERR_CLUSTER_AUTHORIZATION_FAILED
                         : !replica && !authz_allowed_k(b, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, qt->topic)
                             ? KERR_TOPIC_AUTHORIZATION_FAILED : KERR_NONE;
        for (int32_t j = 0; ps && j < qt->partitions.n; j++) {
            offset_for_leader_epoch_req_partitions *qp = &qt->partitions.v[j];
            offset_for_leader_epoch_resp_partitions *rp = &ps[j];
            rp->partition = qp->partition;
            rp->leader_epoch = -1;
            rp->end_offset = -1;
            if ((rp->error_code = denied))
                continue;
            topic *t;
            partition *p;
            rp->error_code = lookup_partition(b, qt->topic, (kuuid){ { 0 } }, qp->partition,
                                              qp->current_leader_epoch, NULL, &t, &p);
            if (rp->error_code)
                continue;
            /* lookup_partition checked leadership and current_leader_epoch. */
            plog_epoch_end_offset(p->log, qp->leader_epoch, atomic_load(&p->leader_epoch),
                                  &rp->leader_epoch, &rp->end_offset);
            topic_unref(t);
        }
    }
    kreq_respond(rq, r);
}
