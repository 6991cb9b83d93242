/*
 * handle_describe_cluster.c - DescribeCluster (key 60): the brokers, the
 * controller and the cluster id.  Without ZooKeeper this broker is its own
 * controller.  EndpointType (v1) 2 = controllers: we run none, so asking
 * for controllers gets UNSUPPORTED_ENDPOINT_TYPE as Kafka brokers answer.
 * The brokers are the metadata store's live brokers.
 */
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/describe_cluster.h"

void handle_describe_cluster(kreq *rq)
{
    broker *b = broker_of(rq);
    describe_cluster_req *req = rq->body;
    describe_cluster_resp *r = kreq_new_response(rq);
    r->cluster_id = kstr_c(b->cluster_id);
    r->controller_id = atomic_load(&b->controller_id);
    r->endpoint_type = req->endpoint_type;
    r->cluster_authorized_operations = INT32_MIN;
    /* docs/security.md, DescribeCluster: no check; the authorized
     * operations (when asked) need Cluster DESCRIBE, else 0. */
    if (req->include_cluster_authorized_operations)
        r->cluster_authorized_operations =
            authz_cluster(b, rq, ACL_OP_DESCRIBE)
                ? authz_ops(b, rq, ACL_RT_CLUSTER, ACL_CLUSTER_NAME, sizeof ACL_CLUSTER_NAME - 1)
                : 0;
    if (rq->hdr.api_version >= 1 && req->endpoint_type != 1) {
        r->error_code = KERR_UNSUPPORTED_ENDPOINT_TYPE;
        r->error_message = kstr_c("this node serves brokers only (endpoint type 1)");
        kreq_respond(rq, r);
        return;
    }
    broker_view *v;
    int n = lookup_live_brokers(b, rq, &v);
    describe_cluster_resp_brokers *br = n > 0 ? KARRAY_ALLOC(&rq->arena, &r->brokers, n) : NULL;
    if (!br) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++)
        br[i] = (describe_cluster_resp_brokers){ .broker_id = v[i].id, .host = v[i].host,
                                                 .port = v[i].port, .rack = v[i].rack };
    kreq_respond(rq, r);
}
