/*
 * handle_init_producer_id.c - InitProducerId (key 22) for idempotent
 * producers.
 *
 * A producer without a transactional id gets a fresh producer id with
 * epoch 0.  From v3 (KIP-360) a producer that already has an id may ask to
 * bump its epoch after a fatal sequence error: it gets the same id with
 * epoch + 1, or a new id when the epoch would overflow.  Ids come from
 * blocks reserved durably in the metadata store, so they are never reused
 * across restarts; the reservation (an fsync) runs on the admin thread.
 * A transactional id goes to the transaction coordinator (handle_txn.c,
 * txn/): its producer id and epoch are the transactional id's.
 */
#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/init_producer_id.h"

static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    init_producer_id_req *req = job->rq->body;
    init_producer_id_resp *r = job->arg;
    if (req->producer_id >= 0 && req->producer_epoch >= 0 && req->producer_epoch < 32766 &&
        req->producer_id < b->next_producer_id) {
        r->producer_id = req->producer_id;
        r->producer_epoch = (int16_t)(req->producer_epoch + 1);
        return;
    }
    int64_t pid = producer_id_allocate(b);
    if (pid < 0) {
        r->error_code = KERR_KAFKA_STORAGE_ERROR;
        return;
    }
    r->producer_id = pid;
    r->producer_epoch = 0;
}

static void done(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_init_producer_id(kreq *rq)
{
    init_producer_id_req *req = rq->body;
    init_producer_id_resp *r = kreq_new_response(rq);
    /* Kafka: a producer id and an epoch come together (both -1: none). */
    if ((req->producer_id == -1) != (req->producer_epoch == -1) ||
        (req->producer_id >= 0 && req->producer_epoch < 0)) {
        r->error_code = KERR_INVALID_REQUEST;
        r->producer_id = -1;
        r->producer_epoch = -1;
        kreq_respond(rq, r);
        return;
    }
    /* docs/security.md, InitProducerId: TransactionalId WRITE; without
     * one, Cluster IDEMPOTENT_WRITE or WRITE on any topic (KIP-679). */
    broker *b = broker_of(rq);
    if (b->authz && (req->transactional_id.len >= 0
                         ? !authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID,
                                            req->transactional_id)
                         : !authz_cluster(b, rq, ACL_OP_IDEMPOTENT_WRITE) &&
                               !authz_allowed_any(b, rq, ACL_OP_WRITE, ACL_RT_TOPIC))) {
        r->error_code = req->transactional_id.len >= 0 ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                                                       : KERR_CLUSTER_AUTHORIZATION_FAILED;
        r->producer_id = -1;
        r->producer_epoch = -1;
        kreq_respond(rq, r);
        return;
    }
    if (req->transactional_id.len >= 0) {
        handle_init_producer_id_txn(rq);      /* the transaction coordinator's (handle_txn.c) */
        return;
    }
    admin_submit(broker_of(rq), rq, work, done, r);
}
