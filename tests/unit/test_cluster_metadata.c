/* test_cluster_metadata.c - the metadata interface (cluster/metadata.h)
 * through its local store, and partition state (cluster/partition_state.h). */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/metadata.h"
#include "cluster/metadata_store.h"
#include "cluster/topic.h"
#include "core/errors.h"
#include "os/sio.h"

static md_broker self_broker(int32_t id)
{
    md_broker b = { .id = id, .nendpoints = 1 };
    snprintf(b.ep[0].listener, sizeof b.ep[0].listener, "PLAINTEXT");
    snprintf(b.ep[0].host, sizeof b.ep[0].host, "localhost");
    b.ep[0].port = 9092;
    return b;
}

static cluster_md *open_local(const char *dir, int32_t id)
{
    char err[256];
    md_broker me = self_broker(id);
    cluster_md *m = md_local_open(dir, &me, err, sizeof err);
    if (!m)
        fprintf(stderr, "    %s\n", err);
    return m;
}

static topic_kv kv(const char *k, const char *v) { return (topic_kv){ (char *)k, (char *)v }; }

TEST(metadata_local_round_trip_through_reopen)
{
    const char *dir = test_tmpdir();
    char err[512];
    cluster_md *m = open_local(dir, 1);
    REQUIRE(m);
    meta_state empty;
    REQUIRE_EQ(md_load(m, &empty, err, sizeof err), 0);      /* no file: empty */
    CHECK_EQ(empty.ntopics, 0);
    CHECK(!empty.found);
    meta_state_free(&empty);

    topic_kv tcfg[] = { kv("retention.ms", "1000") };
    topic_kv bdef[] = { kv("log.retention.ms", "5000") };
    meta_topic topics[] = {
        { .name = "orders", .id = kuuid_random(), .partitions = 3, .configs = tcfg, .nconfigs = 1 },
        { .name = "__consumer_offsets", .id = kuuid_random(), .partitions = 2, .internal = true },
    };
    meta_state st = { .topics = topics, .ntopics = 2, .broker_default = { bdef, 1 } };
    REQUIRE_EQ(md_store(m, &st, err, sizeof err), 0);
    int64_t first = -1;
    REQUIRE_EQ(md_reserve_producer_ids(m, 1000, &first, err, sizeof err), 0);
    CHECK_EQ(first, 0);
    REQUIRE_EQ(md_reserve_producer_ids(m, 1000, &first, err, sizeof err), 0);
    CHECK_EQ(first, 1000);
    md_close(m);

    m = open_local(dir, 1);
    REQUIRE(m);
    meta_state got;
    REQUIRE_EQ(md_load(m, &got, err, sizeof err), 0);
    REQUIRE_EQ(got.ntopics, 2);
    CHECK(got.found);
    CHECK_STR(got.topics[0].name, "orders");
    CHECK(kuuid_eq(got.topics[0].id, topics[0].id));
    CHECK_EQ(got.topics[0].partitions, 3);
    CHECK(!got.topics[0].internal);
    REQUIRE_EQ(got.topics[0].nconfigs, 1);
    CHECK_STR(got.topics[0].configs[0].value, "1000");
    CHECK(got.topics[1].internal);
    REQUIRE_EQ(got.broker_default.n, 1);
    CHECK_STR(got.broker_default.v[0].key, "log.retention.ms");
    CHECK_EQ(got.next_producer_id_block, 2000);
    /* Ids reserved before the restart are never handed out again. */
    REQUIRE_EQ(md_reserve_producer_ids(m, 1000, &first, err, sizeof err), 0);
    CHECK_EQ(first, 2000);
    /* A store keeps the reservation when topics are rewritten. */
    REQUIRE_EQ(md_store(m, &got, err, sizeof err), 0);
    meta_state_free(&got);
    md_close(m);
    m = open_local(dir, 1);
    REQUIRE(m);
    REQUIRE_EQ(md_load(m, &got, err, sizeof err), 0);
    CHECK_EQ(got.next_producer_id_block, 3000);
    meta_state_free(&got);
    md_close(m);
}

static const meta_topic *find_topic(const meta_state *st, const char *name)
{
    for (int i = 0; i < st->ntopics; i++)
        if (!strcmp(st->topics[i].name, name))
            return &st->topics[i];
    return NULL;
}

/* The per-entity writes touch one entity each and survive a reopen. */
TEST(metadata_local_per_entity_writes)
{
    const char *dir = test_tmpdir();
    char err[512];
    cluster_md *m = open_local(dir, 1);
    REQUIRE(m);
    meta_state st;
    REQUIRE(md_load(m, &st, err, sizeof err) == 0);
    meta_state_free(&st);
    topic_kv c1[] = { kv("retention.ms", "1000") };
    meta_topic a = { .name = "a", .partitions = 2, .configs = c1, .nconfigs = 1 };
    meta_topic b = { .name = "b", .partitions = 1 };
    kuuid_from_str("AAAAAAAAAAAAAAAAAAAAAQ", &a.id);
    CHECK_EQ(md_create_topic(m, &a, err, sizeof err), MD_OK);
    CHECK_EQ(md_create_topic(m, &b, err, sizeof err), MD_OK);
    CHECK_EQ(md_create_topic(m, &a, err, sizeof err), MD_EXISTS);
    CHECK(strstr(err, "\"a\" exists") != NULL);
    topic_kv c2[] = { kv("cleanup.policy", "compact") };
    CHECK_EQ(md_set_topic_configs(m, "b", c2, 1, err, sizeof err), MD_OK);
    CHECK_EQ(md_set_topic_configs(m, "zz", c2, 1, err, sizeof err), MD_NOT_FOUND);
    topic_kv d[] = { kv("log.retention.ms", "5") };
    CHECK_EQ(md_set_broker_configs(m, true, d, 1, err, sizeof err), MD_OK);
    CHECK_EQ(md_delete_topic(m, "a", err, sizeof err), MD_OK);
    CHECK_EQ(md_delete_topic(m, "a", err, sizeof err), MD_NOT_FOUND);
    md_close(m);

    m = open_local(dir, 1);
    REQUIRE(m);
    REQUIRE(md_load(m, &st, err, sizeof err) == 0);
    CHECK_EQ(st.ntopics, 1);
    const meta_topic *tb = find_topic(&st, "b");
    REQUIRE(tb);
    REQUIRE_EQ(tb->nconfigs, 1);
    CHECK_STR(tb->configs[0].value, "compact");
    REQUIRE_EQ(st.broker_default.n, 1);
    CHECK_STR(st.broker_default.v[0].key, "log.retention.ms");
    CHECK_EQ(st.broker_own.n, 0);
    meta_state_free(&st);
    md_close(m);
}

TEST(metadata_local_damaged_file_refused_naming_it)
{
    const char *dir = test_tmpdir();
    char err[512], path[600];
    snprintf(path, sizeof path, "%s/%s", dir, METADATA_FILE);
    cluster_md *m = open_local(dir, 1);
    REQUIRE(m);
    meta_topic t = { .name = "orders", .id = kuuid_random(), .partitions = 1 };
    meta_state st = { .topics = &t, .ntopics = 1 };
    REQUIRE_EQ(md_store(m, &st, err, sizeof err), 0);
    char *buf;
    size_t len;
    REQUIRE_EQ(sio_read_file(path, 1 << 20, &buf, &len), 0);
    char *hit = strstr(buf, "orders");
    REQUIRE(hit);
    hit[0] = 'O';                          /* one flipped byte in the body */
    REQUIRE_EQ(sio_write_file_atomic(dir, METADATA_FILE, buf, len, 0), 0);
    meta_state got;
    err[0] = 0;
    CHECK_EQ(md_load(m, &got, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "checksum") != NULL);
    /* A bad header is refused too. */
    REQUIRE_EQ(sio_write_file_atomic(dir, METADATA_FILE, "garbage\n{}", 10, 0), 0);
    err[0] = 0;
    CHECK_EQ(md_load(m, &got, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    free(buf);
    md_close(m);
}

static int fail_renames(enum sio_op op, size_t len, size_t *allow, void *ctx)
{
    (void)len, (void)allow, (void)ctx;
    return op == SIO_RENAME ? EIO : 0;
}

TEST(metadata_local_writes_through_sio)
{
    const char *dir = test_tmpdir();
    char err[512];
    cluster_md *m = open_local(dir, 1);
    REQUIRE(m);
    meta_topic t = { .name = "a", .id = kuuid_random(), .partitions = 1 };
    meta_state st = { .topics = &t, .ntopics = 1 };
    REQUIRE_EQ(md_store(m, &st, err, sizeof err), 0);
    sio_set_fault(fail_renames, NULL);
    t.partitions = 5;
    int rc = md_store(m, &st, err, sizeof err);
    int64_t first;
    int rc2 = md_reserve_producer_ids(m, 10, &first, err, sizeof err);
    sio_set_fault(NULL, NULL);
    CHECK_EQ(rc, -1);
    CHECK_EQ(rc2, -1);
    CHECK(strstr(err, METADATA_FILE) != NULL);
    meta_state got;
    REQUIRE_EQ(md_load(m, &got, err, sizeof err), 0);
    CHECK_EQ(got.topics[0].partitions, 1);    /* the failed store changed nothing */
    CHECK_EQ(got.next_producer_id_block, 0);  /* nor did the failed reservation */
    meta_state_free(&got);
    REQUIRE_EQ(md_reserve_producer_ids(m, 10, &first, err, sizeof err), 0);
    CHECK_EQ(first, 0);
    md_close(m);
}

static int g_events;
static void count_events(void *ctx, const md_event *ev)
{
    (void)ctx;
    if (ev->kind == MD_EV_BROKERS)
        g_events++;
}

TEST(metadata_local_live_brokers_and_partition_state)
{
    const char *dir = test_tmpdir();
    char err[256];
    cluster_md *m = open_local(dir, 1);
    REQUIRE(m);
    md_set_listener(m, count_events, NULL);
    md_brokers *bs = md_live_brokers(m);
    REQUIRE(bs);
    REQUIRE_EQ(bs->n, 1);
    CHECK_EQ(bs->v[0].id, 1);
    CHECK_EQ(md_broker_endpoint(&bs->v[0], "PLAINTEXT")->port, 9092);
    md_broker other = { .id = 0, .nendpoints = 1 };
    snprintf(other.ep[0].host, sizeof other.ep[0].host, "h0");
    other.ep[0].port = 1000;
    REQUIRE_EQ(md_register_broker(m, &other, err, sizeof err), 0);
    other.ep[0].port = 1001;                       /* replaces, keeps order */
    REQUIRE_EQ(md_register_broker(m, &other, err, sizeof err), 0);
    md_broker me = self_broker(1);
    CHECK_EQ(md_register_broker(m, &me, err, sizeof err), -1);   /* not another broker */
    CHECK_EQ(g_events, 2);
    md_brokers *bs2 = md_live_brokers(m);
    REQUIRE_EQ(bs2->n, 2);
    CHECK_EQ(bs2->v[0].id, 0);
    CHECK_EQ(md_broker_endpoint(md_brokers_find(bs2, 0), "PLAINTEXT")->port, 1001);
    CHECK_EQ(bs->n, 1);                            /* an old snapshot never changes */
    md_brokers_unref(bs);
    md_brokers_unref(bs2);

    char id[64];
    CHECK_EQ(md_cluster_id(m, "first", id, sizeof id), 0);
    CHECK_STR(id, "first");
    CHECK_EQ(md_cluster_id(m, "second", id, sizeof id), 0);
    CHECK_STR(id, "first");

    meta_topic t = { .name = "t", .partitions = 2 };
    partition_state *ps = md_partition_state(m, &t, 1);
    REQUIRE(ps);
    CHECK_EQ(ps->leader, 1);
    CHECK_EQ(ps->leader_epoch, 0);
    REQUIRE_EQ(ps->nreplicas, 1);
    CHECK_EQ(ps->replicas[0], 1);
    REQUIRE_EQ(ps->nisr, 1);
    CHECK_EQ(ps->isr[0], 1);
    pstate_unref(ps);
    md_close(m);
}

/* M1: a partition's leader epoch never decreases; M2: the state changes
 * only through partition_set_state. */
TEST(partition_state_epoch_never_decreases)
{
    topic *t = topic_new("t", 1, kuuid_random(), false);
    REQUIRE(t);
    partition_state *init[] = { pstate_local(1, 5) };
    REQUIRE_EQ(topic_grow(t, 1, NULL, init), 0);
    partition *p = topic_partition(t, 0);
    CHECK(partition_led_by(p, 1));
    CHECK_EQ(atomic_load(&p->leader_epoch), 5);
    int32_t reps[] = { 2, 1 };
    pstate_spec older = { .leader = 2, .leader_epoch = 4, .replicas = reps, .nreplicas = 2,
                          .isr = reps, .nisr = 2 };
    CHECK_EQ(partition_set_state(p, pstate_new(&older)), KERR_STALE_CONTROLLER_EPOCH);
    CHECK(partition_led_by(p, 1));
    CHECK_EQ(atomic_load(&p->leader_epoch), 5);
    partition_state *held = partition_state_get(p);   /* a reader's snapshot */
    pstate_spec newer = older;
    newer.leader_epoch = 6;
    CHECK_EQ(partition_set_state(p, pstate_new(&newer)), KERR_NONE);
    CHECK(partition_led_by(p, 2));
    CHECK_EQ(atomic_load(&p->leader_epoch), 6);
    CHECK_EQ(held->leader, 1);                         /* M3: snapshots are immutable */
    CHECK_EQ(held->leader_epoch, 5);
    pstate_unref(held);
    partition_state *now = partition_state_get(p);
    CHECK_EQ(now->nreplicas, 2);
    CHECK_EQ(now->replicas[0], 2);
    CHECK(pstate_in_isr(now, 1));
    pstate_unref(now);
    pstate_spec huge = { .leader = 1, .nreplicas = PSTATE_MAX_REPLICAS + 1, .replicas = reps };
    CHECK(pstate_new(&huge) == NULL);                  /* sizes are bounded */
    topic_unref(t);
}
