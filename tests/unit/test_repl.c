/* test_repl.c - replication's rules on their own: the follower's
 * truncation decision (C8, repl/truncation.h), the leader's follower
 * tracking and high-watermark rule (C6, cluster/replica_progress.h), and
 * partition_advance_hw on a real partition log (docs/replication.md). */
#include "test.h"
#include "test_storage_util.h"

#include "cluster/replica_progress.h"
#include "cluster/topic.h"
#include "core/errors.h"
#include "repl/truncation.h"
#include "storage/partition_log.h"

/* C8: each case of Kafka's getOffsetTruncationState. */
TEST(repl_truncation_decision)
{
    /* Same epoch on both sides: cut at the smaller end (the divergent tail). */
    repl_truncation d = repl_truncation_decide(3, 100, 3, 120, 120, 90);
    CHECK(d.complete);
    CHECK_EQ(d.offset, 100);
    /* The leader is ahead in that epoch: nothing to cut (offset = our LEO). */
    d = repl_truncation_decide(3, 150, 3, 120, 120, 90);
    CHECK(d.complete);
    CHECK_EQ(d.offset, 120);
    /* We never saw the leader's epoch 2: cut to the end of our epoch 1 and
     * ask again for 1. */
    d = repl_truncation_decide(2, 80, 1, 60, 120, 50);
    CHECK(!d.complete);
    CHECK_EQ(d.offset, 60);
    CHECK_EQ(d.next_epoch, 1);
    /* No entry of ours at or below the leader's epoch: the leader's end. */
    d = repl_truncation_decide(2, 80, -1, -1, 120, 50);
    CHECK(d.complete);
    CHECK_EQ(d.offset, 80);
    /* ... bounded by our LEO. */
    d = repl_truncation_decide(2, 80, -1, -1, 30, 10);
    CHECK_EQ(d.offset, 30);
    /* The leader has no history for us (UNDEFINED): keep what is committed. */
    d = repl_truncation_decide(-1, -1, -1, -1, 120, 90);
    CHECK(d.complete);
    CHECK_EQ(d.offset, 90);
    /* An undefined epoch with a defined end (old protocol): min(end, LEO). */
    d = repl_truncation_decide(-1, 70, -1, -1, 120, 90);
    CHECK(d.complete);
    CHECK_EQ(d.offset, 70);
}

/* C6 as a pure function: the smallest LEO in the ISR; an ISR member never
 * heard from holds the HW; replicas outside the ISR do not count. */
TEST(repl_hw_from_isr)
{
    replica_follower f[] = { { .id = 2, .leo = 40 }, { .id = 3, .leo = 25 }, { .id = 4, .leo = 5 } };
    int32_t isr_a[] = { 1, 2, 3 };
    CHECK_EQ(replica_hw_from_isr(50, 1, isr_a, 3, f, 3), 25);
    int32_t isr_b[] = { 1, 2 };                        /* 4 lags but is not in the ISR */
    CHECK_EQ(replica_hw_from_isr(50, 1, isr_b, 2, f, 3), 40);
    CHECK_EQ(replica_hw_from_isr(30, 1, isr_b, 2, f, 3), 30);   /* never above the leader's LEO */
    int32_t isr_c[] = { 1, 2, 5 };                     /* 5 never fetched */
    CHECK_EQ(replica_hw_from_isr(50, 1, isr_c, 3, f, 3), -1);
    int32_t solo[] = { 1 };
    CHECK_EQ(replica_hw_from_isr(50, 1, solo, 1, f, 0), 50);
}

/* Kafka's lastCaughtUpTimeMs: caught up now when the fetch reached the
 * leader's LEO, or at the previous fetch when it reached the LEO the
 * leader had then. */
TEST(repl_progress_caught_up_time)
{
    replica_progress rp;
    replica_progress_init(&rp);
    replica_follower f;
    CHECK(!replica_progress_get(&rp, 2, &f));
    REQUIRE_EQ(replica_progress_record(&rp, 2, 10, 20, 1000), 0);
    REQUIRE(replica_progress_get(&rp, 2, &f));
    CHECK_EQ(f.leo, 10);
    CHECK_EQ(f.last_caught_up_ms, 0);                  /* behind, no previous fetch */
    REQUIRE_EQ(replica_progress_record(&rp, 2, 20, 30, 2000), 0);
    REQUIRE(replica_progress_get(&rp, 2, &f));
    CHECK_EQ(f.last_caught_up_ms, 1000);               /* reached the LEO of the previous fetch */
    REQUIRE_EQ(replica_progress_record(&rp, 2, 30, 30, 3000), 0);
    REQUIRE(replica_progress_get(&rp, 2, &f));
    CHECK_EQ(f.last_caught_up_ms, 3000);               /* at the leader's LEO */
    REQUIRE_EQ(replica_progress_record(&rp, 2, 31, 60, 4000), 0);
    REQUIRE(replica_progress_get(&rp, 2, &f));
    CHECK_EQ(f.last_caught_up_ms, 3000);               /* 31 >= 30: caught up at 3000 again */
    replica_progress_reset(&rp);
    CHECK(!replica_progress_get(&rp, 2, &f));
    replica_progress_destroy(&rp);
}

/* partition_advance_hw on a real log: ISR = {self} is the log end; with a
 * follower in the ISR the HW waits for it, moves to its fetch offset, and
 * never goes back. */
TEST(repl_partition_advance_hw)
{
    log_config cfg;
    test_cfg(&cfg);
    plog *l = NULL;
    REQUIRE_EQ(plog_create(test_tmpdir(), "t", 0, kuuid_random(), &cfg, T0, &l), KERR_NONE);
    size_t len;
    uint8_t *b = mkbatch(10, T0, &len);
    plog_append_result r;
    REQUIRE_EQ(plog_append(l, b, len, 1, T0, &r), KERR_NONE);
    free(b);
    topic *t = topic_new("t", 1, kuuid_random(), false);
    REQUIRE(t);
    int32_t both[] = { 1, 2 };
    pstate_spec spec = { .leader = 1, .leader_epoch = 1, .replicas = both, .nreplicas = 2,
                         .isr = both, .nisr = 2 };
    partition_state *init[] = { pstate_new(&spec) };
    plog *logs[] = { l };
    REQUIRE_EQ(topic_grow(t, 1, logs, init), 0);
    partition *p = topic_partition(t, 0);
    CHECK(!atomic_load(&p->isr_solo));
    CHECK_EQ(plog_high_watermark(l), 0);
    CHECK(!partition_advance_hw(p, 1));                /* follower 2 not heard from */
    CHECK(!partition_advance_hw(p, 2));                /* only the leader moves it */
    REQUIRE_EQ(replica_progress_record(&p->progress, 2, 4, 10, T0), 0);
    CHECK(partition_advance_hw(p, 1));
    CHECK_EQ(plog_high_watermark(l), 4);
    REQUIRE_EQ(replica_progress_record(&p->progress, 2, 3, 10, T0), 0);
    CHECK(!partition_advance_hw(p, 1));                /* S2: never back */
    CHECK_EQ(plog_high_watermark(l), 4);
    REQUIRE_EQ(replica_progress_record(&p->progress, 2, 10, 10, T0), 0);
    CHECK(partition_advance_hw(p, 1));
    CHECK_EQ(plog_high_watermark(l), 10);
    /* The ISR shrinks to the leader alone: the HW is the log end. */
    b = mkbatch(5, T0, &len);
    REQUIRE_EQ(plog_append(l, b, len, 2, T0, &r), KERR_NONE);
    free(b);
    int32_t solo[] = { 1 };
    pstate_spec s2 = { .leader = 1, .leader_epoch = 2, .replicas = both, .nreplicas = 2,
                       .isr = solo, .nisr = 1 };
    REQUIRE_EQ(partition_set_state(p, pstate_new(&s2)), KERR_NONE);
    CHECK(atomic_load(&p->isr_solo));
    CHECK(partition_advance_hw(p, 1));
    CHECK_EQ(plog_high_watermark(l), 15);
    topic_unref(t);
}
