/*
 * handle_describe_cluster.c - DescribeCluster (key 60): the brokers, the
 * controller and the cluster id.  Without ZooKeeper this broker is its own
 * controller.  EndpointType (v1) 2 = controllers: we run none, so asking
 * for controllers gets UNSUPPORTED_ENDPOINT_TYPE as Kafka brokers answer.
 */
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/describe_cluster.h"

void handle_describe_cluster(kreq *rq)
{
    broker *b = broker_of(rq);
    describe_cluster_req *req = rq->body;
    describe_cluster_resp *r = kreq_new_response(rq);
    r->cluster_id = kstr_c(b->cluster_id);
    r->controller_id = b->set.node_id;
    r->endpoint_type = req->endpoint_type;
    r->cluster_authorized_operations = INT32_MIN;
    if (rq->hdr.api_version >= 1 && req->endpoint_type != 1) {
        r->error_code = KERR_UNSUPPORTED_ENDPOINT_TYPE;
        r->error_message = kstr_c("this node serves brokers only (endpoint type 1)");
        kreq_respond(rq, r);
        return;
    }
    describe_cluster_resp_brokers *br = KARRAY_ALLOC(&rq->arena, &r->brokers, 1);
    if (br) {
        const endpoint *ep = broker_advertised(b, kreq_listener(rq));
        br->broker_id = b->set.node_id;
        br->host = kstr_c(ep->host);
        br->port = ep->port;
        br->rack = b->set.rack[0] ? kstr_c(b->set.rack) : (kstr){ NULL, -1 };
    }
    kreq_respond(rq, r);
}
