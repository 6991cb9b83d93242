/*
 * handle_controlled_shutdown.c - ControlledShutdown (key 7, v0-3): a
 * broker that is shutting down asks the controller to move its
 * leaderships away (broker/controlled_shutdown.c sends it; the controller's
 * side is cluster/controller_shutdown.c).
 *
 * Served in cluster mode on every broker: NOT_CONTROLLER when this
 * broker's controller is not the active one (or it is leaving).  The
 * controller call blocks until the controller thread has handled it, so
 * it runs on the admin thread (admin_submit), which also owns
 * b->controller.  The answer lists the replicated partitions the broker
 * still leads.  v0-1 carry no broker epoch (-1: not checked).
 */
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/cluster_mode.h"
#include "broker/dispatch.h"
#include "cluster/controller.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/controlled_shutdown.h"

typedef struct cs_job {
    controlled_shutdown_resp *resp;
    controller_tp *rem;
    int nrem;
} cs_job;

/* Admin thread. */
static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    controlled_shutdown_req *req = job->rq->body;
    cs_job *cj = job->arg;
    if (!cluster_controller_active(b)) {
        cj->resp->error_code = KERR_NOT_CONTROLLER;
        return;
    }
    int64_t epoch = job->rq->hdr.api_version >= 2 ? req->broker_epoch : -1;
    LOG_INF("cluster", "ControlledShutdown from broker %d (broker epoch %lld)", req->broker_id,
            (long long)epoch);
    cj->resp->error_code = controller_controlled_shutdown(b->controller, req->broker_id, epoch,
                                                          &cj->rem, &cj->nrem);
}

/* The request's loop: the remaining partitions into the response. */
static void done(admin_job *job)
{
    cs_job *cj = job->arg;
    kreq *rq = job->rq;
    controlled_shutdown_resp_remaining *rs =
        cj->nrem > 0 ? KARRAY_ALLOC(&rq->arena, &cj->resp->remaining_partitions, cj->nrem) : NULL;
    if (cj->nrem > 0 && !rs) {
        controller_tps_free(cj->rem, cj->nrem);
        kreq_fail_close(rq, "out of memory");
        return;
    }
    for (int i = 0; i < cj->nrem; i++) {
        size_t n = strlen(cj->rem[i].topic);
        const char *name = arena_strndup(&rq->arena, cj->rem[i].topic, n);
        if (!name) {
            controller_tps_free(cj->rem, cj->nrem);
            kreq_fail_close(rq, "out of memory");
            return;
        }
        rs[i].topic_name = (kstr){ name, (int32_t)n };
        rs[i].partition_index = cj->rem[i].partition;
    }
    controller_tps_free(cj->rem, cj->nrem);
    kreq_respond(rq, cj->resp);
}

void handle_controlled_shutdown(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_CLUSTER_ACTION, controlled_shutdown_resp);   /* docs/security.md, ControlledShutdown */
    controlled_shutdown_resp *resp = kreq_new_response(rq);
    cs_job *cj = arena_alloc(&rq->arena, sizeof *cj);
    if (!resp || !cj) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    *cj = (cs_job){ .resp = resp };
    resp->remaining_partitions.n = 0;
    admin_submit(broker_of(rq), rq, work, done, cj);
}
