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
 */
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

void handle_list_offsets(kreq *rq)
{
    broker *b = broker_of(rq);
    list_offsets_req *req = rq->body;
    list_offsets_resp *r = kreq_new_response(rq);
    int ver = rq->hdr.api_version;
    list_offsets_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        list_offsets_req_topics *qt = &req->topics.v[i];
        ts[i].name = qt->name;
        list_offsets_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, qt->partitions.n);
        for (int32_t j = 0; ps && j < qt->partitions.n; j++) {
            list_offsets_req_partitions *qp = &qt->partitions.v[j];
            list_offsets_resp_partitions *rp = &ps[j];
            kcodec_defaults(&list_offsets_resp_partitions_schema, rp);
            rp->partition_index = qp->partition_index;
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
            if (qp->timestamp == -1 && req->isolation_level == 1) {
                plog_read_result rr = { 0 };
                /* The last stable offset: read with isolation 1 at the end. */
                off = plog_high_watermark(p->log);
                plog_read(p->log, off, 0, false, 1, &rr);
                if (rr.file)
                    fileref_unref(rr.file);
                if (!rr.error)
                    off = rr.last_stable_offset;
                epoch = ours;
            } else {
                rp->error_code = (int16_t)plog_list_offset(p->log, qp->timestamp, &off, &tsv, &epoch);
                if (off >= 0 && epoch < 0)
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
