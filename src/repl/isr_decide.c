/* isr_decide.c - see isr_decide.h. */
#include "repl/isr_decide.h"

static const replica_follower *find(const isr_input *in, int32_t id)
{
    for (int k = 0; k < in->nf; k++)
        if (in->f[k].id == id)
            return &in->f[k];
    return NULL;
}

static bool contains(const int32_t *v, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

/* Kafka's ReplicaState.isCaughtUp: at the leader's LEO, or caught up within
 * the lag; never-caught-up counts from the leadership's start. */
bool isr_follower_caught_up(const isr_input *in, const replica_follower *f)
{
    if (f && f->leo >= 0 && f->leo >= in->leader_leo)
        return true;
    int64_t since = in->leader_since_ms;
    if (f && f->last_caught_up_ms > since)
        since = f->last_caught_up_ms;
    return in->now_ms - since <= in->lag_max_ms;
}

/* C7: a replica joins only once its LEO reached the leader's HW (and the
 * start of the leader's epoch, as Kafka's isFollowerInSync). */
bool isr_follower_may_join(const isr_input *in, const replica_follower *f)
{
    return f && f->leo >= 0 && f->leo >= in->hw && f->leo >= in->epoch_start_offset;
}

int isr_decide(const isr_input *in, int32_t *out, bool *changed)
{
    int n = 0;
    *changed = false;
    if (!contains(in->isr, in->nisr, in->self)) {
        /* Not ours to change: the leader shrinks only to an ISR that
         * still contains itself. */
        for (int32_t i = 0; i < in->nisr && i < PSTATE_MAX_REPLICAS; i++)
            out[n++] = in->isr[i];
        return n;
    }
    for (int32_t i = 0; i < in->nisr && n < PSTATE_MAX_REPLICAS; i++) {
        int32_t id = in->isr[i];
        if (id == in->self || isr_follower_caught_up(in, find(in, id)))
            out[n++] = id;               /* the leader always stays: never an empty ISR */
        else
            *changed = true;             /* shrink: lagged beyond replica.lag.time.max.ms */
    }
    for (int32_t i = 0; i < in->nreplicas && n < PSTATE_MAX_REPLICAS; i++) {
        int32_t id = in->replicas[i];
        if (id == in->self || contains(in->isr, in->nisr, id))
            continue;
        if (isr_follower_may_join(in, find(in, id))) {   /* C7 */
            out[n++] = id;
            *changed = true;
        }
    }
    return n;
}
