/*
 * handle_elect_leaders.c - ElectLeaders (key 43, v0-2; KIP-183, KIP-460):
 * preferred or unclean leader elections, run by the controller
 * (cluster/controller_elect.c says the rules and the per-partition
 * errors).
 *
 * Kafka's AdminClient and kafka-leader-election.sh send it to the broker
 * Metadata names as controller; any other broker answers NOT_CONTROLLER
 * (v1+: top level, no results; v0, which has no top-level error: on every
 * partition asked).  v0 asks for preferred elections (it has no type).
 * topic_partitions null = every partition, each answered.  The elections
 * are done when the answer is sent (timeout_ms is not needed: a state
 * written by the controller is the election; the brokers learn it through
 * LeaderAndIsr right after).  The controller call blocks, so it runs on
 * the admin thread (admin_submit), which also owns b->controller.
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
#include "proto/messages/elect_leaders.h"

typedef struct el_job {
    elect_leaders_resp *resp;
    int8_t type;
    controller_tp *want;         /* in the request's arena; NULL = all */
    int nwant;
    controller_tp *all;          /* malloc'd by the controller */
    int nall;
    int16_t top;
} el_job;

/* Admin thread. */
static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    el_job *ej = job->arg;
    if (!cluster_controller_active(b)) {
        ej->top = KERR_NOT_CONTROLLER;
        return;
    }
    ej->top = controller_elect_leaders(b->controller, ej->type, ej->want, ej->nwant,
                                       ej->want ? NULL : &ej->all, &ej->nall);
}

/* v0 has no top-level error: every partition asked gets it. */
static void spread_top_error(el_job *ej, int16_t version)
{
    if (version >= 1) {
        ej->resp->error_code = ej->top;
        ej->nwant = 0;
        ej->nall = 0;
        return;
    }
    for (int i = 0; i < ej->nwant; i++) {
        ej->want[i].error = ej->top;
        ej->want[i].message = kerr_name(ej->top);
    }
}

/* The results, grouped by topic (consecutive entries of one topic). */
static int fill(kreq *rq, el_job *ej, const controller_tp *v, int n)
{
    int ntopics = 0;
    for (int i = 0; i < n; i++)
        ntopics += i == 0 || strcmp(v[i].topic, v[i - 1].topic);
    elect_leaders_resp_replica_election_results *rs =
        KARRAY_ALLOC(&rq->arena, &ej->resp->replica_election_results, ntopics);
    if (ntopics && !rs)
        return -1;
    int k = -1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || strcmp(v[i].topic, v[i - 1].topic)) {
            int m = 1;
            while (i + m < n && !strcmp(v[i + m].topic, v[i].topic))
                m++;
            k++;
            size_t len = strlen(v[i].topic);
            const char *name = arena_strndup(&rq->arena, v[i].topic, len);
            if (!name || !KARRAY_ALLOC(&rq->arena, &rs[k].partition_result, m))
                return -1;
            rs[k].topic = (kstr){ name, (int32_t)len };
            rs[k].partition_result.n = 0;
        }
        elect_leaders_resp_partition_result *pr =
            &rs[k].partition_result.v[rs[k].partition_result.n++];
        pr->partition_id = v[i].partition;
        pr->error_code = v[i].error;
        pr->error_message = v[i].message ? kstr_c(v[i].message) : (kstr){ NULL, -1 };
    }
    return 0;
}

/* The request's loop. */
static void done(admin_job *job)
{
    el_job *ej = job->arg;
    kreq *rq = job->rq;
    if (ej->top)
        spread_top_error(ej, rq->hdr.api_version);
    int rc = ej->want ? fill(rq, ej, ej->want, ej->nwant) : fill(rq, ej, ej->all, ej->nall);
    controller_tps_free(ej->all, ej->nall);
    if (rc < 0) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    kreq_respond(rq, ej->resp);
}

void handle_elect_leaders(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_ALTER, elect_leaders_resp);   /* docs/security.md, ElectLeaders */
    elect_leaders_req *req = rq->body;
    elect_leaders_resp *resp = kreq_new_response(rq);
    el_job *ej = arena_alloc(&rq->arena, sizeof *ej);
    if (!resp || !ej) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    *ej = (el_job){ .resp = resp, .type = rq->hdr.api_version >= 1 ? req->election_type : 0 };
    resp->replica_election_results.n = 0;
    if (req->topic_partitions.n >= 0) {
        int32_t total = 0;
        for (int32_t i = 0; i < req->topic_partitions.n; i++)
            total += req->topic_partitions.v[i].partitions.n;
        ej->want = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *ej->want);
        if (!ej->want) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        for (int32_t i = 0; i < req->topic_partitions.n; i++) {
            const elect_leaders_req_topic_partitions *tp = &req->topic_partitions.v[i];
            char *name = arena_strndup(&rq->arena, tp->topic.p ? tp->topic.p : "",
                                       tp->topic.len > 0 ? (size_t)tp->topic.len : 0);
            if (!name) {
                kreq_fail_close(rq, "out of memory");
                return;
            }
            for (int32_t j = 0; j < tp->partitions.n; j++)
                ej->want[ej->nwant++] = (controller_tp){ .topic = name,
                                                         .partition = tp->partitions.v[j] };
        }
    }
    admin_submit(broker_of(rq), rq, work, done, ej);
}
