/* append_wait.c - see append_wait.h (moved here from handle_produce.c so
 * that WriteTxnMarkers waits exactly as a Produce does). */
#include "broker/append_wait.h"

#include "core/errors.h"
#include "storage/partition_log.h"

bool append_wait_satisfied(const append_wait *w)
{
    if (w->need_flush && plog_recovery_point(w->p->log) < w->need_offset)
        return false;
    if (w->need_hw && plog_high_watermark(w->p->log) < w->need_offset)
        return false;
    return true;
}

/* C9: an acks=-1 append waits for the high watermark over the batch it
 * appended.  If the leader epoch moved meanwhile (this broker lost the
 * partition, or lost and regained it, or the controller bumped the epoch
 * on an ISR change), the batch may have been truncated and its offsets
 * reused with other data, so the HW passing them proves nothing by
 * itself.  The leader-epoch cache tells: when the offsets up to the batch's
 * end still belong to the epoch it was appended in, they hold that batch
 * (Kafka's log matching: same offset and epoch, same data) and the wait
 * goes on; otherwise the part is answered NOT_LEADER_OR_FOLLOWER, never as
 * written, and the producer retries on the new leader (an idempotent
 * producer's retry is deduplicated).
 * C38: once another broker leads, the wait ends at once with
 * NOT_LEADER_OR_FOLLOWER, as Kafka's DelayedProduce does: an ex-leader's
 * HW may never cover the batch (its divergent tail is truncated, and a
 * truncation wakes nobody), and a producer left waiting times out locally,
 * which an idempotent producer must treat as "possibly written" (librdkafka
 * then fails fatally with a sequence desynchronization when its next batch
 * reaches the new leader: found by the cluster fault runner). */
bool append_wait_lost(const append_wait *w)
{
    if (!w->need_hw)
        return false;
    int32_t now = atomic_load_explicit(&w->p->leader_epoch, memory_order_acquire);
    if (now == w->leader_epoch)
        return false;
    if (!partition_led_by(w->p, w->self))
        return true;                                 /* C38 */
    int32_t e = -1;
    int64_t end = -1;
    plog_epoch_end_offset(w->p->log, w->leader_epoch, now, &e, &end);
    return e != w->leader_epoch || end < w->need_offset;
}

/* A part whose log went offline while it waited (a failed flush) will
 * never be satisfied: it is answered KAFKA_STORAGE_ERROR now instead of
 * REQUEST_TIMED_OUT when the producer's timeout runs out. */
bool append_wait_failed(const append_wait *w)
{
    return append_wait_lost(w) || (!append_wait_satisfied(w) && plog_offline(w->p->log));
}

bool append_wait_all_done(const append_wait *w, int n)
{
    for (int i = 0; i < n; i++)
        if (!append_wait_satisfied(&w[i]) && !append_wait_failed(&w[i]))
            return false;
    return true;
}

int32_t append_wait_isr_size(partition *p)
{
    partition_state *st = partition_state_get(p);
    int32_t n = st ? st->nisr : 0;
    pstate_unref(st);
    return n;
}

/* Kafka's DelayedProduce check once the HW covers the batch: the ISR
 * must still hold min.insync.replicas (acks=-1 only). */
void append_wait_check_min_insync(append_wait *w)
{
    if (w->need_hw && *w->error == KERR_NONE &&
        atomic_load(&w->t->min_insync_replicas) > append_wait_isr_size(w->p))
        *w->error = KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
}

void append_wait_finish(append_wait *w, int n, enum delayed_reason why, bool stopping)
{
    for (int i = 0; i < n; i++) {
        append_wait *pp = &w[i];
        if (append_wait_lost(pp))
            *pp->error = KERR_NOT_LEADER_OR_FOLLOWER;
        else if (append_wait_failed(pp))
            *pp->error = KERR_KAFKA_STORAGE_ERROR;
        else if (!append_wait_satisfied(pp))
            /* a leaving broker no longer leads it (controlled shutdown):
             * retriable, and the producer goes to the new leader at once */
            *pp->error = why == DELAYED_EXPIRED && stopping ? KERR_NOT_LEADER_OR_FOLLOWER
                                                            : KERR_REQUEST_TIMED_OUT;
        else
            append_wait_check_min_insync(pp);
    }
}

void append_wait_release(append_wait *w, int n)
{
    for (int i = 0; i < n; i++)
        if (w[i].t)
            topic_unref(w[i].t);
}
