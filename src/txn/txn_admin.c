/*
 * txn_admin.c - DescribeTransactions (key 65) and ListTransactions (key
 * 66): what the coordinator knows of the transactional ids it owns (the
 * current image: a write in flight is not shown until replicated, TC2).
 * Thread: the coordinator's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/describe_transactions.h"
#include "proto/messages/list_transactions.h"
#include "txn/txn_int.h"

/* m's partitions grouped per topic, into the request's arena. */
static void describe_topics(kreq *rq, const txn_meta *m, describe_transactions_resp_states *s)
{
    describe_transactions_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &s->topics, m->cur.ntps);
    int32_t *ids = arena_alloc(&rq->arena, (size_t)m->cur.ntps * sizeof *ids + 1);
    if (!ts || !ids) {
        s->topics.n = 0;
        return;
    }
    int nt = 0, nid = 0;
    for (int i = 0; i < m->cur.ntps; i++) {
        int k = 0;
        while (k < nt && !kstr_eq(ts[k].topic, m->cur.tps[i].topic))
            k++;
        if (k < nt)
            continue;
        ts[nt].topic = kstr_c(m->cur.tps[i].topic);
        ts[nt].partitions.v = &ids[nid];
        for (int l = i; l < m->cur.ntps; l++)
            if (!strcmp(m->cur.tps[l].topic, m->cur.tps[i].topic))
                ids[nid++] = m->cur.tps[l].partition;
        ts[nt].partitions.n = (int32_t)(&ids[nid] - ts[nt].partitions.v);
        nt++;
    }
    s->topics.n = nt;
}

void txn_describe(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    describe_transactions_req *req = rq->body;
    describe_transactions_resp *r = kreq_new_response(rq);
    int32_t n = req->transactional_ids.n > 0 ? req->transactional_ids.n : 0;
    describe_transactions_resp_states *ss = KARRAY_ALLOC(&rq->arena, &r->transaction_states, n);
    for (int32_t i = 0; ss && i < n; i++) {
        describe_transactions_resp_states *s = &ss[i];
        kstr id = req->transactional_ids.v[i];
        s->transactional_id = id.len >= 0 ? id : kstr_c("");
        s->transaction_state = kstr_c("");
        s->producer_id = -1;
        s->producer_epoch = -1;
        s->transaction_start_time_ms = -1;
        s->error_code = id.len <= 0 ? KERR_TRANSACTIONAL_ID_NOT_FOUND : txn_check_owner(co, id, NULL);
        /* docs/security.md, DescribeTransactions: TransactionalId DESCRIBE. */
        if (id.len > 0 && co->ctx.may_describe &&
            !co->ctx.may_describe(co->ctx.arg, rq, id.p, (size_t)id.len))
            s->error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        txn_meta *m = s->error_code ? NULL : txn_get(co, id);
        if (!s->error_code && (!m || m->cur.epoch < 0 || m->cur.state == TXN_DEAD))
            s->error_code = KERR_TRANSACTIONAL_ID_NOT_FOUND;
        if (s->error_code)
            continue;
        s->transaction_state = kstr_c(txn_state_name(m->cur.state));
        s->transaction_timeout_ms = m->cur.timeout_ms;
        s->transaction_start_time_ms = m->cur.start_ms;
        s->producer_id = m->cur.producer_id;
        s->producer_epoch = m->cur.epoch;
        describe_topics(rq, m, s);
    }
    txn_respond(rq, r);
}

static bool wanted(const list_transactions_req *req, const txn_meta *m, int64_t now)
{
    if (m->cur.epoch < 0 || m->cur.state == TXN_DEAD)
        return false;
    if (req->state_filters.n > 0) {
        bool ok = false;
        for (int32_t i = 0; i < req->state_filters.n && !ok; i++)
            ok = txn_state_by_name(req->state_filters.v[i]) == (int)m->cur.state;
        if (!ok)
            return false;
    }
    if (req->producer_id_filters.n > 0) {
        bool ok = false;
        for (int32_t i = 0; i < req->producer_id_filters.n && !ok; i++)
            ok = req->producer_id_filters.v[i] == m->cur.producer_id;
        if (!ok)
            return false;
    }
    /* v1 (KIP-994): only transactions running longer than the filter. */
    if (req->duration_filter >= 0 &&
        (m->cur.start_ms < 0 || now - m->cur.start_ms < req->duration_filter))
        return false;
    return true;
}

void txn_list(txn_coordinator *co, kreq *rq, void *arg)
{
    (void)arg;
    list_transactions_req *req = rq->body;
    list_transactions_resp *r = kreq_new_response(rq);
    int32_t nf = req->state_filters.n > 0 ? req->state_filters.n : 0, nunknown = 0;
    kstr *unknown = KARRAY_ALLOC(&rq->arena, &r->unknown_state_filters, nf);
    for (int32_t i = 0; unknown && i < nf; i++)
        if (txn_state_by_name(req->state_filters.v[i]) < 0)
            unknown[nunknown++] = req->state_filters.v[i];
    r->unknown_state_filters.n = nunknown;
    for (int32_t i = 0; i < co->nparts; i++)
        if (co->parts[i].state == TPART_LOADING)
            r->error_code = KERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (co->ctx.may_lead && !co->ctx.may_lead(co->ctx.arg))
        r->error_code = KERR_NOT_COORDINATOR;
    if (r->error_code) {
        txn_respond(rq, r);
        return;
    }
    int64_t now = txn_now_ms();
    list_transactions_resp_states *ss = KARRAY_ALLOC(&rq->arena, &r->transaction_states, (int32_t)co->txns.count);
    int32_t n = 0;
    size_t it = 0;
    void *v;
    while (ss && strmap_next(&co->txns, &it, NULL, NULL, &v)) {
        txn_meta *m = v;
        if (!txn_owns(co, m->part) || !wanted(req, m, now))
            continue;
        if (co->ctx.may_describe && !co->ctx.may_describe(co->ctx.arg, rq, m->id, strlen(m->id)))
            continue;       /* docs/security.md, ListTransactions */
        ss[n++] = (list_transactions_resp_states){ .transactional_id = kstr_c(m->id),
                                                   .producer_id = m->cur.producer_id,
                                                   .transaction_state = kstr_c(txn_state_name(m->cur.state)) };
    }
    r->transaction_states.n = n;
    txn_respond(rq, r);
}
