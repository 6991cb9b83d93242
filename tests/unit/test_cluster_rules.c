/* test_cluster_rules.c - replica placement and leader election, checked
 * against Kafka's documented examples and the properties its own tests
 * hold the algorithms to (spread of leaders and replicas, one replica per
 * rack while racks last, the ISR-first election order). */
#include <stdlib.h>
#include <string.h>

#include "cluster/election.h"
#include "cluster/placement.h"
#include "test.h"

#define IDS(...) ((id_set){ (const int32_t[]){ __VA_ARGS__ }, \
                            (int)(sizeof((const int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t)) })
static const id_set NONE = { 0 };

TEST(placement_rack_unaware_matches_kafkas_documented_table)
{
    /* Kafka's AdminUtils documents this layout for 5 brokers, 10
     * partitions, rf 3, first replica index 0 and shift 0:
     *   p0: 0 1 2   p1: 1 2 3   ... p4: 4 0 1
     *   p5: 0 2 3   p6: 1 3 4   ... p9: 4 1 2   */
    placement_broker b[5] = { { 4, NULL }, { 2, NULL }, { 0, NULL }, { 3, NULL }, { 1, NULL } };
    int32_t out[30];
    REQUIRE_EQ(placement_assign(b, 5, 10, 3, 0, 0, 0, out), PLACEMENT_OK);
    static const int32_t want[30] = { 0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 0, 4, 0, 1,
                                      0, 2, 3, 1, 3, 4, 2, 4, 0, 3, 0, 1, 4, 1, 2 };
    for (int i = 0; i < 30; i++)
        if (out[i] != want[i])
            test_fail(__FILE__, __LINE__, "p%d replica %d: %d, want %d", i / 3, i % 3, out[i],
                      want[i]);
    /* CreatePartitions: Kafka continues from the next partition id with
     * start = shift = the index of partition 0's first replica (here 0):
     * p10 starts on broker 0 again, its followers one shift further. */
    int32_t more[6];
    REQUIRE_EQ(placement_assign(b, 5, 2, 3, 10, 0, 0, more), PLACEMENT_OK);
    static const int32_t want_more[6] = { 0, 2, 3, 1, 3, 4 };
    CHECK(!memcmp(more, want_more, sizeof more));
}

TEST(placement_errors_name_kafkas_cases)
{
    placement_broker b[3] = { { 1, "r1" }, { 2, NULL }, { 3, "r2" } };
    int32_t out[9];
    CHECK_EQ(placement_assign(b, 3, 3, 4, 0, 0, 0, out), PLACEMENT_BAD_RF);
    CHECK_EQ(placement_assign(b, 3, 3, 0, 0, 0, 0, out), PLACEMENT_BAD_RF);
    CHECK_EQ(placement_assign(b, 3, 3, 2, 0, 0, 0, out), PLACEMENT_MIXED_RACKS);
    CHECK_EQ(placement_assign(b, 0, 3, 1, 0, 0, 0, out), PLACEMENT_BAD_RF);
}

TEST(placement_spreads_leaders_replicas_and_racks)
{
    /* Kafka's rack alternation example: 0 r1, 1 r3, 2 r3, 3 r2, 4 r2, 5 r1
     * alternate as 0 3 1 5 4 2: with start 0 and shift 0 the leaders of
     * p0..p5 are exactly that list. */
    placement_broker b[6] = { { 0, "r1" }, { 1, "r3" }, { 2, "r3" },
                              { 3, "r2" }, { 4, "r2" }, { 5, "r1" } };
    int32_t out[6 * 3];
    REQUIRE_EQ(placement_assign(b, 6, 6, 3, 0, 0, 0, out), PLACEMENT_OK);
    static const int32_t leaders[6] = { 0, 3, 1, 5, 4, 2 };
    for (int p = 0; p < 6; p++)
        CHECK_EQ(out[p * 3], leaders[p]);

    /* Properties over many shapes and random starts: distinct replicas,
     * one per rack while rf <= racks, leaders within one of even, replica
     * counts within a small spread. */
    for (int nb = 1; nb <= 9; nb++) {
        for (int rf = 1; rf <= nb && rf <= 3; rf++) {
            for (int racked = 0; racked <= 1; racked++) {
                placement_broker bs[9];
                static const char *const rk[3] = { "a", "b", "c" };
                for (int i = 0; i < nb; i++) {
                    bs[i].id = 100 + i;
                    bs[i].rack = racked ? rk[i % 3] : NULL;
                }
                int nracks = racked ? (nb < 3 ? nb : 3) : 1;
                int32_t np = nb * 4;
                int32_t *o = malloc((size_t)np * (size_t)rf * sizeof *o);
                REQUIRE(o);
                REQUIRE_EQ(placement_assign(bs, nb, np, (int16_t)rf, 0, -1, -1, o),
                           PLACEMENT_OK);
                int lead[9] = { 0 }, reps[9] = { 0 };
                for (int p = 0; p < np; p++) {
                    int32_t *r = o + p * rf;
                    lead[r[0] - 100]++;
                    for (int i = 0; i < rf; i++) {
                        REQUIRE(r[i] >= 100 && r[i] < 100 + nb);
                        reps[r[i] - 100]++;
                        for (int j = 0; j < i; j++) {
                            CHECK(r[i] != r[j]);
                            if (racked && rf <= nracks && bs[r[i] - 100].rack == bs[r[j] - 100].rack)
                                test_fail(__FILE__, __LINE__, "nb %d rf %d p%d: two replicas in "
                                          "rack %s", nb, rf, p, bs[r[i] - 100].rack);
                        }
                    }
                }
                /* Replicas spread evenly too, except over racks of unequal
                 * size, where a broker in a small rack carries more (Kafka
                 * spreads over racks first). */
                bool even_racks = !racked || nb % 3 == 0;
                for (int i = 0; i < nb; i++) {
                    CHECK_EQ(lead[i], 4);        /* np = 4 * nb: exactly even */
                    if (even_racks && abs(reps[i] - 4 * rf) > 1)
                        test_fail(__FILE__, __LINE__, "nb %d rf %d racked %d: broker %d has "
                                  "%d replicas, want %d", nb, rf, racked, i, reps[i], 4 * rf);
                }
                free(o);
            }
        }
    }
}

TEST(election_rules_follow_kafka)
{
    bool unclean;
    /* Offline: first assigned replica that is live and in the ISR. */
    CHECK_EQ(election_offline(IDS(1, 2, 3), IDS(3, 2), IDS(2, 3), false, &unclean), 2);
    CHECK(!unclean);
    CHECK_EQ(election_offline(IDS(1, 2, 3), IDS(1), IDS(2, 3), false, &unclean), -1);
    /* ... unclean only when enabled, and then the first live replica. */
    CHECK_EQ(election_offline(IDS(1, 2, 3), IDS(1), IDS(3, 2), true, &unclean), 2);
    CHECK(unclean);
    CHECK_EQ(election_offline(IDS(1, 2, 3), IDS(1), NONE, true, &unclean), -1);
    CHECK(!unclean);
    /* Preferred: the first replica or nothing. */
    CHECK_EQ(election_preferred(IDS(1, 2, 3), IDS(1, 2, 3), IDS(1, 2, 3)), 1);
    CHECK_EQ(election_preferred(IDS(1, 2, 3), IDS(2, 3), IDS(1, 2, 3)), -1);
    CHECK_EQ(election_preferred(IDS(1, 2, 3), IDS(1, 2, 3), IDS(2, 3)), -1);
    /* Controlled shutdown skips the brokers going down. */
    CHECK_EQ(election_controlled_shutdown(IDS(1, 2, 3), IDS(1, 2, 3), IDS(1, 2, 3), IDS(1)), 2);
    CHECK_EQ(election_controlled_shutdown(IDS(1, 2, 3), IDS(1, 3), IDS(1, 2, 3), IDS(1)), 3);
    CHECK_EQ(election_controlled_shutdown(IDS(1, 2), IDS(1), IDS(1, 2), IDS(1)), -1);
    /* Reassignment walks the target assignment. */
    CHECK_EQ(election_reassignment(IDS(4, 5, 6), IDS(5, 6, 1), IDS(4, 5, 6)), 5);

    /* The ISR loses a member, but never its last one. */
    int32_t out[3];
    CHECK_EQ(election_isr_without(IDS(1, 2, 3), 2, out), 2);
    CHECK(out[0] == 1 && out[1] == 3);
    CHECK_EQ(election_isr_without(IDS(3), 3, out), 1);
    CHECK_EQ(out[0], 3);
    CHECK_EQ(election_isr_without(IDS(1, 3), 7, out), 2);
}

TEST(election_avoiding_shutting_down_and_drained_brokers)
{
    bool unclean;
    /* excluded (controlled shutdown, C30): never; avoided (drained, C34): last */
    CHECK_EQ(election_first_eligible(IDS(1, 2, 3), IDS(1, 2, 3), IDS(1, 2, 3), IDS(1), NONE), 2);
    CHECK_EQ(election_first_eligible(IDS(1, 2, 3), IDS(1, 2, 3), IDS(1, 2, 3), NONE, IDS(1, 2)), 3);
    CHECK_EQ(election_first_eligible(IDS(1, 2, 3), IDS(1, 2), IDS(1, 2, 3), NONE, IDS(1, 2)), 1);
    CHECK_EQ(election_first_eligible(IDS(1, 2, 3), IDS(1, 2), IDS(1, 2, 3), IDS(1), IDS(2)), 2);
    CHECK_EQ(election_first_eligible(IDS(1, 2), IDS(1), IDS(1, 2), IDS(1), NONE), -1);
    CHECK_EQ(election_first_eligible(IDS(1, 2), IDS(1, 2), IDS(2), NONE, NONE), 2);
    /* offline: clean first (an avoided ISR member beats an unclean choice) */
    CHECK_EQ(election_offline_avoiding(IDS(1, 2, 3), IDS(2), IDS(2, 3), NONE, IDS(2), true,
                                       &unclean), 2);
    CHECK(!unclean);
    CHECK_EQ(election_offline_avoiding(IDS(1, 2, 3), IDS(1), IDS(2, 3), NONE, IDS(2), true,
                                       &unclean), 3);
    CHECK(unclean);
    CHECK_EQ(election_offline_avoiding(IDS(1, 2, 3), IDS(1), IDS(2, 3), IDS(3), NONE, true,
                                       &unclean), 2);
    CHECK_EQ(election_offline_avoiding(IDS(1, 2, 3), IDS(1), IDS(2, 3), NONE, NONE, false,
                                       &unclean), -1);
    CHECK(!unclean);
    CHECK_EQ(election_offline_avoiding(IDS(1, 2), IDS(2), IDS(2), IDS(2), NONE, true, &unclean),
             -1);
    /* Kafka's imbalance trigger: strictly more than pct % led elsewhere */
    CHECK(!election_imbalanced(10, 1, 10));
    CHECK(election_imbalanced(10, 2, 10));
    CHECK(election_imbalanced(3, 1, 10));
    CHECK(!election_imbalanced(0, 0, 10));
    CHECK(!election_imbalanced(5, 0, 0));
    CHECK(election_imbalanced(5, 1, 0));
    CHECK(!election_imbalanced(4, 4, 100));
}
