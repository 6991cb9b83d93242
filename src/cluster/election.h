/*
 * election.h - Kafka's partition leader election rules, as its
 * ZooKeeper-mode controller applies them.  Pure functions over id lists;
 * the controller calls them and then writes the result with a
 * compare-and-set (cluster/zk_layout.h).
 *
 * Every rule walks the ASSIGNMENT in order (its first replica is the
 * preferred leader), so leadership is deterministic and moves back to the
 * preferred replica when it can.
 *
 *   offline:  the first assigned replica that is live and in the ISR; if
 *             none and unclean election is enabled, the first live
 *             assigned replica (the ISR then becomes just it: data it
 *             lacks is lost, which is what "unclean" means).
 *   preferred: the first assigned replica, if live and in the ISR.
 *   controlled shutdown: the first assigned replica that is live, in the
 *             ISR and not shutting down; the shutting-down brokers leave
 *             the ISR.
 *   reassignment: the first replica of the NEW assignment that is live
 *             and in the ISR.
 * A result of -1 means no leader (the partition goes offline; the ISR is
 * kept so a clean election can happen when a member returns).
 */
#ifndef SAMSA_CLUSTER_ELECTION_H
#define SAMSA_CLUSTER_ELECTION_H

#include <stdbool.h>
#include <stdint.h>

typedef struct id_set { const int32_t *v; int n; } id_set;

static inline bool id_set_has(id_set s, int32_t id)
{
    for (int i = 0; i < s.n; i++)
        if (s.v[i] == id)
            return true;
    return false;
}

int32_t election_offline(id_set assignment, id_set isr, id_set live, bool unclean_enabled,
                         bool *unclean_out);
int32_t election_preferred(id_set assignment, id_set isr, id_set live);
int32_t election_controlled_shutdown(id_set assignment, id_set isr, id_set live,
                                     id_set shutting_down);
int32_t election_reassignment(id_set target, id_set isr, id_set live);

/* Leadership operations (docs/controller.md, C30-C39).  `excluded`: never
 * chosen (brokers in controlled shutdown, C30); `avoid`: chosen only when
 * no other replica qualifies (drained brokers, C34: availability first).
 *
 * The first assigned replica that is live, in the ISR and not excluded,
 * one outside `avoid` first; -1 if none.  The clean half of every
 * election Samsa runs: offline, controlled shutdown and drain. */
int32_t election_first_eligible(id_set assignment, id_set isr, id_set live, id_set excluded,
                                id_set avoid);
/* election_offline with the sets above: clean first; when no ISR member
 * qualifies and unclean is enabled, the first live assigned replica not
 * excluded (again outside `avoid` first), with *unclean_out set. */
int32_t election_offline_avoiding(id_set assignment, id_set isr, id_set live, id_set excluded,
                                  id_set avoid, bool unclean_enabled, bool *unclean_out);
/* Kafka's auto-rebalance trigger for one broker: of the `preferred`
 * partitions whose preferred (first) replica it is, `not_led` are led by
 * another broker; imbalanced when not_led / preferred exceeds pct %. */
bool election_imbalanced(int preferred, int not_led, int pct);

/* The ISR after `gone` stops being in sync (it died, or was shut down):
 * `gone` is removed unless it is the last member, as Kafka keeps the last
 * in-sync replica recorded so that an offline partition can come back
 * without losing data.  Returns the new size (out holds isr.n entries). */
int election_isr_without(id_set isr, int32_t gone, int32_t *out);

#endif
