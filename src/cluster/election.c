/* election.c - see election.h. */
#include "cluster/election.h"

static int32_t first_where(id_set assignment, id_set isr, id_set live, id_set excluded,
                           bool need_isr)
{
    for (int i = 0; i < assignment.n; i++) {
        int32_t id = assignment.v[i];
        if (id_set_has(live, id) && (!need_isr || id_set_has(isr, id)) &&
            !id_set_has(excluded, id))
            return id;
    }
    return -1;
}

int32_t election_offline(id_set assignment, id_set isr, id_set live, bool unclean_enabled,
                         bool *unclean_out)
{
    static const id_set none = { 0 };
    if (unclean_out)
        *unclean_out = false;
    int32_t leader = first_where(assignment, isr, live, none, true);
    if (leader < 0 && unclean_enabled) {
        leader = first_where(assignment, isr, live, none, false);
        if (leader >= 0 && unclean_out)
            *unclean_out = true;
    }
    return leader;
}

int32_t election_preferred(id_set assignment, id_set isr, id_set live)
{
    if (assignment.n == 0)
        return -1;
    int32_t id = assignment.v[0];
    return id_set_has(live, id) && id_set_has(isr, id) ? id : -1;
}

int32_t election_controlled_shutdown(id_set assignment, id_set isr, id_set live,
                                     id_set shutting_down)
{
    return first_where(assignment, isr, live, shutting_down, true);
}

int32_t election_reassignment(id_set target, id_set isr, id_set live)
{
    static const id_set none = { 0 };
    return first_where(target, isr, live, none, true);
}

int election_isr_without(id_set isr, int32_t gone, int32_t *out)
{
    int n = 0;
    for (int i = 0; i < isr.n; i++)
        out[n++] = isr.v[i];
    if (isr.n <= 1)
        return n;                /* keep the last in-sync replica on record */
    n = 0;
    for (int i = 0; i < isr.n; i++)
        if (isr.v[i] != gone)
            out[n++] = isr.v[i];
    return n;
}

int32_t election_first_eligible(id_set assignment, id_set isr, id_set live, id_set excluded,
                                id_set avoid)
{
    int32_t fallback = -1;
    for (int i = 0; i < assignment.n; i++) {
        int32_t id = assignment.v[i];
        if (!id_set_has(live, id) || !id_set_has(isr, id) || id_set_has(excluded, id))
            continue;
        if (!id_set_has(avoid, id))
            return id;
        if (fallback < 0)
            fallback = id;
    }
    return fallback;
}

int32_t election_offline_avoiding(id_set assignment, id_set isr, id_set live, id_set excluded,
                                  id_set avoid, bool unclean_enabled, bool *unclean_out)
{
    if (unclean_out)
        *unclean_out = false;
    int32_t leader = election_first_eligible(assignment, isr, live, excluded, avoid);
    if (leader >= 0 || !unclean_enabled)
        return leader;
    /* unclean: any live replica, as if all were in the ISR */
    leader = election_first_eligible(assignment, assignment, live, excluded, avoid);
    if (leader >= 0 && unclean_out)
        *unclean_out = true;
    return leader;
}

bool election_imbalanced(int preferred, int not_led, int pct)
{
    if (preferred <= 0 || not_led <= 0)
        return false;
    return (int64_t)not_led * 100 > (int64_t)pct * preferred;
}
