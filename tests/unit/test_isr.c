/* test_isr.c - the leader's ISR rules: the shrink/expand decision as a pure
 * function (repl/isr_decide.h, C7) and one ISR manager scan over a real
 * partition with a fake controller (repl/isr_manager.h): a shrink is
 * installed from the controller's answer and moves the HW (C6); a fenced
 * answer parks the partition until its state changes (C9). */
#include "test.h"
#include "test_storage_util.h"

#include "cluster/topic.h"
#include "cluster/topic_registry.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "repl/isr_decide.h"
#include "repl/isr_manager.h"
#include "storage/partition_log.h"

#define NOW 1000000
#define LAG 10000

static isr_input base(const int32_t *replicas, int nr, const int32_t *isr, int ni,
                      const replica_follower *f, int nf)
{
    return (isr_input){ .self = 1, .replicas = replicas, .nreplicas = nr, .isr = isr, .nisr = ni,
                        .f = f, .nf = nf, .leader_leo = 100, .hw = 80, .epoch_start_offset = 50,
                        .leader_since_ms = NOW - 60000, .now_ms = NOW, .lag_max_ms = LAG };
}

static replica_follower fol(int32_t id, int64_t leo, int64_t caught_up)
{
    return (replica_follower){ .id = id, .leo = leo, .last_caught_up_ms = caught_up,
                               .last_fetch_ms = NOW, .last_fetch_leader_leo = 100 };
}

static bool same(const int32_t *a, int na, const int32_t *b, int nb)
{
    return na == nb && !memcmp(a, b, (size_t)na * sizeof *a);
}

TEST(isr_decide_shrink)
{
    int32_t reps[] = { 1, 2, 3 }, out[PSTATE_MAX_REPLICAS];
    bool changed;
    /* 2 caught up within the lag, 3 not for longer than the lag. */
    replica_follower f[] = { fol(2, 90, NOW - LAG + 1), fol(3, 90, NOW - LAG - 1) };
    isr_input in = base(reps, 3, reps, 3, f, 2);
    int n = isr_decide(&in, out, &changed);
    CHECK(changed);
    CHECK(same(out, n, (int32_t[]){ 1, 2 }, 2));
    /* At the leader's LEO counts as caught up, however old the time. */
    f[1] = fol(3, 100, 0);
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    CHECK(same(out, n, reps, 3));
    /* Never heard from since this leadership began: counts from its start. */
    in.nf = 1;
    in.leader_since_ms = NOW - LAG;
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    in.leader_since_ms = NOW - LAG - 1;
    n = isr_decide(&in, out, &changed);
    CHECK(changed);
    CHECK(same(out, n, (int32_t[]){ 1, 2 }, 2));
    /* Caught up before this leadership began: the leadership start counts. */
    in.nf = 2;
    f[1] = fol(3, 90, NOW - 100 * LAG);
    in.leader_since_ms = NOW - 5;
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    /* Every follower lags: the leader stays, never an empty ISR. */
    f[0] = fol(2, 0, 0);
    f[1] = fol(3, 0, 0);
    in.leader_since_ms = 0;
    n = isr_decide(&in, out, &changed);
    CHECK(changed);
    CHECK(same(out, n, (int32_t[]){ 1 }, 1));
}

TEST(isr_decide_expand)
{
    int32_t reps[] = { 1, 2, 3 }, isr[] = { 1 }, out[PSTATE_MAX_REPLICAS];
    bool changed;
    /* C7: LEO >= HW (80) and >= the epoch's start (50). */
    replica_follower f[] = { fol(3, 80, NOW), fol(2, 79, NOW) };
    isr_input in = base(reps, 3, isr, 1, f, 2);
    int n = isr_decide(&in, out, &changed);
    CHECK(changed);
    CHECK(same(out, n, (int32_t[]){ 1, 3 }, 2));
    /* Added in replica order. */
    f[1].leo = 85;
    n = isr_decide(&in, out, &changed);
    CHECK(same(out, n, (int32_t[]){ 1, 2, 3 }, 3));
    /* Below the start of the leader's epoch: not yet, even at the HW. */
    in.hw = 40;
    f[0].leo = f[1].leo = 45;
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    CHECK(same(out, n, isr, 1));
    /* Never fetched: unknown LEO, never added. */
    in.nf = 0;
    in.hw = 0;
    in.epoch_start_offset = 0;
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    /* Not a replica: never added. */
    replica_follower stranger[] = { fol(9, 100, NOW) };
    in.f = stranger;
    in.nf = 1;
    n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    CHECK(isr_follower_may_join(&in, &stranger[0]));   /* the rule itself would */
}

TEST(isr_decide_shrink_and_expand_together)
{
    int32_t reps[] = { 1, 2, 3 }, isr[] = { 2, 1 }, out[PSTATE_MAX_REPLICAS];
    bool changed;
    replica_follower f[] = { fol(2, 10, NOW - 2 * LAG), fol(3, 100, NOW) };
    isr_input in = base(reps, 3, isr, 2, f, 2);
    int n = isr_decide(&in, out, &changed);
    CHECK(changed);
    CHECK(same(out, n, (int32_t[]){ 1, 3 }, 2));
}

TEST(isr_decide_leader_outside_the_isr)
{
    /* Kafka's rule: the leader only shrinks to an ISR containing itself;
     * a state without it is not ours to change. */
    int32_t reps[] = { 1, 2, 3 }, isr[] = { 2, 3 }, out[PSTATE_MAX_REPLICAS];
    bool changed;
    replica_follower f[] = { fol(2, 0, 0), fol(3, 0, 0) };
    isr_input in = base(reps, 3, isr, 2, f, 2);
    int n = isr_decide(&in, out, &changed);
    CHECK(!changed);
    CHECK(same(out, n, isr, 2));
}

/* ------------------------------------------------ a scan, fake controller */

typedef struct fake_ctl {
    struct broker_config cfg;
    int calls;
    int16_t answer;
    isr_alter last;
    int32_t last_isr[PSTATE_MAX_REPLICAS];
} fake_ctl;

static const struct broker_config *fake_config(void *arg)
{
    return &((fake_ctl *)arg)->cfg;
}

static int16_t fake_alter(void *arg, const isr_alter *a, controller_partition_state *out)
{
    fake_ctl *fc = arg;
    fc->calls++;
    fc->last = *a;
    memcpy(fc->last_isr, a->isr, (size_t)a->nisr * sizeof *a->isr);
    fc->last.isr = fc->last_isr;
    if (fc->answer)
        return fc->answer;
    out->leader = 1;
    out->leader_epoch = a->leader_epoch;
    out->partition_epoch = a->partition_epoch + 1;
    out->nisr = a->nisr;
    memcpy(out->isr, a->isr, (size_t)a->nisr * sizeof *a->isr);
    return KERR_NONE;
}

TEST(isr_manager_scan_shrinks_expands_and_waits_when_fenced)
{
    log_config lc;
    test_cfg(&lc);
    plog *l = NULL;
    REQUIRE_EQ(plog_create(test_tmpdir(), "t", 0, kuuid_random(), &lc, T0, &l), KERR_NONE);
    size_t len;
    uint8_t *b = mkbatch(10, T0, &len);
    plog_append_result r;
    REQUIRE_EQ(plog_append(l, b, len, 1, T0, &r), KERR_NONE);
    free(b);
    topic *t = topic_new("t", 1, kuuid_random(), false);
    REQUIRE(t);
    int32_t both[] = { 1, 2 };
    pstate_spec spec = { .leader = 1, .leader_epoch = 1, .partition_epoch = 7, .replicas = both,
                         .nreplicas = 2, .isr = both, .nisr = 2 };
    partition_state *init[] = { pstate_new(&spec) };
    plog *logs[] = { l };
    REQUIRE_EQ(topic_grow(t, 1, logs, init), 0);
    partition *p = topic_partition(t, 0);
    topic_registry reg;
    topic_registry_init(&reg);
    topic_ref(t);
    REQUIRE_EQ(topic_registry_add(&reg, t), 0);

    fake_ctl fc = { .cfg = { .replica_lag_time_max_ms = 60000 } };
    isr_ctx ctx = { .node_id = 1, .topics = &reg, .config = fake_config, .arg = &fc,
                    .alter = fake_alter };
    isr_manager *m = isr_manager_new(&ctx);     /* no thread: the test scans */
    REQUIRE(m);
    /* Follower 2 has not fetched, but the leadership is young: no change. */
    CHECK_EQ(isr_manager_scan(m), 0);
    CHECK_EQ(fc.calls, 0);
    CHECK_EQ(plog_high_watermark(l), 0);             /* C6: held by follower 2 */

    /* Shrink: 2 lags beyond the lag; the controller's answer is installed
     * and the HW moves to the log end. */
    fc.cfg.replica_lag_time_max_ms = 1;
    pthread_mutex_lock(&p->progress.lock);
    p->progress.leader_since_ms -= 1000;
    pthread_mutex_unlock(&p->progress.lock);
    CHECK_EQ(isr_manager_scan(m), 1);
    CHECK_EQ(fc.calls, 1);
    CHECK_EQ(fc.last.partition_epoch, 7);
    CHECK_EQ(fc.last.leader_epoch, 1);
    CHECK(same(fc.last.isr, fc.last.nisr, (int32_t[]){ 1 }, 1));
    partition_state *st = partition_state_get(p);
    REQUIRE(st);
    CHECK(same(st->isr, st->nisr, (int32_t[]){ 1 }, 1));
    CHECK_EQ(st->partition_epoch, 8);
    CHECK_EQ(st->leader_epoch, 1);
    CHECK(same(st->replicas, st->nreplicas, both, 2));
    pstate_unref(st);
    CHECK(atomic_load(&p->isr_solo));
    CHECK_EQ(plog_high_watermark(l), 10);

    /* Expand, fenced: 2 caught up, the controller says the state is stale:
     * the partition waits (no new call) until its state changes. */
    REQUIRE_EQ(replica_progress_record(&p->progress, 2, 10, 10, wall_ms()), 0);
    fc.answer = KERR_INVALID_UPDATE_VERSION;
    CHECK_EQ(isr_manager_scan(m), 0);
    CHECK_EQ(fc.calls, 2);
    CHECK(same(fc.last.isr, fc.last.nisr, both, 2));
    CHECK_EQ(isr_manager_scan(m), 0);
    CHECK_EQ(fc.calls, 2);                           /* C9: parked */
    /* Retryable errors (no controller yet) are tried again each scan. */
    fc.answer = KERR_NOT_CONTROLLER;
    int32_t solo[] = { 1 };
    pstate_spec s1 = { .leader = 1, .leader_epoch = 1, .partition_epoch = 8, .replicas = both,
                       .nreplicas = 2, .isr = solo, .nisr = 1 };
    REQUIRE_EQ(partition_set_state(p, pstate_new(&s1)), KERR_NONE);
    CHECK_EQ(isr_manager_scan(m), 0);
    CHECK_EQ(isr_manager_scan(m), 0);
    CHECK_EQ(fc.calls, 4);
    /* A LeaderAndIsr (new state, same leader) lets it try again: C7's add. */
    fc.answer = KERR_NONE;
    pstate_spec s2 = { .leader = 1, .leader_epoch = 2, .partition_epoch = 9, .replicas = both,
                       .nreplicas = 2, .isr = solo, .nisr = 1 };
    REQUIRE_EQ(partition_set_state(p, pstate_new(&s2)), KERR_NONE);
    CHECK_EQ(isr_manager_scan(m), 1);
    st = partition_state_get(p);
    REQUIRE(st);
    CHECK(same(st->isr, st->nisr, both, 2));
    CHECK_EQ(st->partition_epoch, 10);
    pstate_unref(st);
    CHECK(!atomic_load(&p->isr_solo));
    isr_manager_stop(m);
    topic_registry_destroy(&reg);
    topic_unref(t);
}
