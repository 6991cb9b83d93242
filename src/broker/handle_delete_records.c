/*
 * handle_delete_records.c - DeleteRecords (key 21): move partitions' log
 * start offsets forward.  Offset -1 means "up to the high watermark"; an
 * offset above it is OFFSET_OUT_OF_RANGE.  Whole segments below the new
 * log start are deleted, so the work runs on the admin thread.
 */
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/delete_records.h"
#include "storage/partition_log.h"

static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    delete_records_req *req = job->rq->body;
    delete_records_resp *r = job->arg;
    for (int32_t i = 0; i < req->topics.n; i++) {
        delete_records_req_topics *qt = &req->topics.v[i];
        delete_records_resp_topics *rt = &r->topics.v[i];
        for (int32_t j = 0; j < qt->partitions.n; j++) {
            delete_records_req_partitions *qp = &qt->partitions.v[j];
            delete_records_resp_partitions *rp = &rt->partitions.v[j];
            rp->partition_index = qp->partition_index;
            rp->low_watermark = -1;
            if (!authz_allowed_k(b, job->rq, ACL_OP_DELETE, ACL_RT_TOPIC, qt->name)) {
                rp->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;   /* docs/security.md */
                continue;
            }
            topic *t;
            partition *p;
            rp->error_code = lookup_partition(b, qt->name, (kuuid){ { 0 } }, qp->partition_index, -1, NULL, &t, &p);
            if (rp->error_code)
                continue;
            if (qp->offset < -1) {
                rp->error_code = KERR_OFFSET_OUT_OF_RANGE;
            } else {
                int64_t low = -1;
                rp->error_code = (int16_t)plog_delete_records(p->log, qp->offset, &low);
                rp->low_watermark = rp->error_code ? -1 : low;
            }
            topic_unref(t);
        }
    }
}

static void done(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_delete_records(kreq *rq)
{
    delete_records_req *req = rq->body;
    delete_records_resp *r = kreq_new_response(rq);
    delete_records_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        ts[i].name = req->topics.v[i].name;
        KARRAY_ALLOC(&rq->arena, &ts[i].partitions, req->topics.v[i].partitions.n);
    }
    admin_submit(broker_of(rq), rq, work, done, r);
}
