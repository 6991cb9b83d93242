/* test_metadata_zk.c - the ZooKeeper metadata store (cluster/metadata_zk.h)
 * against a real ZooKeeper (tests/unit/zk_server.h): two stores on one
 * chroot play two brokers.  Live brokers, duplicate ids, the cluster id,
 * topics and configs, producer-id blocks under racing threads, damaged
 * znodes, and session expiry with reconnect. */
#define THREADED 1
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "cluster/metadata_zk.h"
#include "cluster/zk_layout.h"
#include "cluster/zk_session.h"
#include "test.h"
#include "zk_server.h"

/* Events by kind; config changes also by entity (two the tests watch,
 * and any other). */
typedef struct counts {
    atomic_int ev[MD_EV_SESSION_LOST + 1];
    atomic_int cfg_orders, cfg_default, cfg_other;
} counts;

static void on_md(void *ctx, const md_event *ev)
{
    counts *c = ctx;
    atomic_fetch_add(&c->ev[ev->kind], 1);
    if (ev->kind != MD_EV_CONFIG)
        return;
    if (ev->entity && !strcmp(ev->entity, "topics/orders"))
        atomic_fetch_add(&c->cfg_orders, 1);
    else if (ev->entity && !strcmp(ev->entity, "brokers/<default>"))
        atomic_fetch_add(&c->cfg_default, 1);
    else
        atomic_fetch_add(&c->cfg_other, 1);
}

static md_broker broker(int32_t id)
{
    md_broker b = { .id = id, .nendpoints = 1 };
    snprintf(b.rack, sizeof b.rack, "rack-%d", id);
    snprintf(b.ep[0].listener, sizeof b.ep[0].listener, "PLAINTEXT");
    snprintf(b.ep[0].host, sizeof b.ep[0].host, "127.0.0.1");
    b.ep[0].port = 9000 + id;
    return b;
}

static cluster_md *open_zk(const char *conn, int32_t id, int session_ms, counts *c)
{
    char err[512];
    md_broker me = broker(id);
    cluster_md *m = md_zk_open(conn, session_ms, 10000, &me, err, sizeof err);
    if (!m)
        test_fail(__FILE__, __LINE__, "md_zk_open(%d): %s", id, err);
    else if (c)
        md_set_listener(m, on_md, c);
    return m;
}

/* Poll until m sees exactly n live brokers, at most ms. */
static bool wait_brokers(cluster_md *m, int n, int ms)
{
    for (int i = 0; i <= ms / 20; i++) {
        md_brokers *bs = md_live_brokers(m);
        int have = bs ? bs->n : -1;
        md_brokers_unref(bs);
        if (have == n)
            return true;
        usleep(20000);
    }
    return false;
}

static const meta_topic *find_topic(const meta_state *st, const char *name)
{
    for (int i = 0; i < st->ntopics; i++)
        if (!strcmp(st->topics[i].name, name))
            return &st->topics[i];
    return NULL;
}

static topic_kv kv(const char *k, const char *v) { return (topic_kv){ (char *)k, (char *)v }; }

/* A raw session on the same chroot, to look at and damage znodes. */
static zk_session *raw(const char *conn)
{
    char err[256];
    zk_session *s = zk_open(conn, 6000, 10000, NULL, NULL, err, sizeof err);
    if (!s)
        test_fail(__FILE__, __LINE__, "zk_open: %s", err);
    return s;
}

static char *get_str(zk_session *s, const char *path)
{
    char *data = NULL;
    size_t len;
    return zk_get(s, path, false, &data, &len, NULL) == ZKR_OK ? data : NULL;
}

typedef struct opener { const char *conn; int32_t id; int session_ms; cluster_md *m;
                        char err[512]; int64_t took_ms; } opener;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *open_thread(void *arg)
{
    opener *o = arg;
    md_broker me = broker(o->id);
    int64_t t0 = mono_ms();
    o->m = md_zk_open(o->conn, o->session_ms, 10000, &me, o->err, sizeof o->err);
    o->took_ms = mono_ms() - t0;
    return NULL;
}

typedef struct cid_arg { cluster_md *m; const char *proposed; char out[64]; int rc; } cid_arg;

static void *cid_thread(void *arg)
{
    cid_arg *a = arg;
    a->rc = md_cluster_id(a->m, a->proposed, a->out, sizeof a->out);
    return NULL;
}

TEST(metadata_zk_live_brokers_registration_and_cluster_id)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/kafka", zs.connect);
    counts ca = { 0 };
    cluster_md *a = open_zk(conn, 1, 6000, &ca), *b = NULL;
    if (!a)
        goto out;
    CHECK(md_is_zk(a));
    CHECK(md_zk_broker_epoch(a) > 0);
    CHECK(wait_brokers(a, 1, 1000));                   /* itself, at once */
    b = open_zk(conn, 2, 6000, NULL);
    if (!b)
        goto out;
    CHECK(md_zk_broker_epoch(b) > md_zk_broker_epoch(a));
    /* Each sees the other through its /brokers/ids watch, with endpoints. */
    CHECK(wait_brokers(a, 2, 5000));
    CHECK(wait_brokers(b, 2, 5000));
    CHECK(zk_wait_for(&ca.ev[MD_EV_BROKERS], 1, 5000));
    md_brokers *bs = md_live_brokers(a);
    REQUIRE(bs);
    const md_broker *two = md_brokers_find(bs, 2);
    CHECK(two != NULL);
    if (two) {
        CHECK_STR(two->rack, "rack-2");
        CHECK_EQ(two->ep[0].port, 9002);
        CHECK_STR(two->ep[0].listener, "PLAINTEXT");
        CHECK_STR(two->ep[0].host, "127.0.0.1");
    }
    CHECK(bs->n == 2 && bs->v[0].id == 1 && bs->v[1].id == 2);     /* sorted */
    md_brokers_unref(bs);
    /* The registration is Kafka's JSON, as a Kafka tool would read it. */
    zk_session *r = raw(conn);
    REQUIRE(r);
    char *body = get_str(r, "/brokers/ids/2");
    CHECK(body && strstr(body, "\"PLAINTEXT://127.0.0.1:9002\""));
    free(body);
    /* Kafka's persistent paths exist. */
    const char *paths[] = { "/brokers/topics", "/config/topics", "/config/brokers",
                            "/config/changes", "/admin/delete_topics" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        CHECK_EQ(zk_exists(r, paths[i], false, NULL), ZKR_OK);

    /* Cluster id: two brokers propose different ids at once; one is created
     * and both agree on it. */
    cid_arg x = { .m = a, .proposed = "AAAAAAAAAAAAAAAAAAAAAA" };
    cid_arg y = { .m = b, .proposed = "BBBBBBBBBBBBBBBBBBBBBA" };
    pthread_t tx, ty;
    pthread_create(&tx, NULL, cid_thread, &x);
    pthread_create(&ty, NULL, cid_thread, &y);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    CHECK_EQ(x.rc, 0);
    CHECK_EQ(y.rc, 0);
    CHECK_STR(x.out, y.out);
    CHECK(!strcmp(x.out, x.proposed) || !strcmp(x.out, y.proposed));
    body = get_str(r, "/cluster/id");
    CHECK(body && strstr(body, x.out));
    free(body);
    char again[64];
    CHECK_EQ(md_cluster_id(b, "CCCCCCCCCCCCCCCCCCCCCA", again, sizeof again), 0);
    CHECK_STR(again, x.out);

    /* A second broker with id 1 is refused after waiting the session timeout. */
    md_broker dup = broker(1);
    int64_t t0 = mono_ms();
    cluster_md *c = md_zk_open(conn, 1500, 10000, &dup, err, sizeof err);
    CHECK(c == NULL);
    md_close(c);
    CHECK(mono_ms() - t0 >= 1400);
    CHECK(strstr(err, "broker id 1 is already registered in ZooKeeper at ") != NULL);
    CHECK(strstr(err, conn) != NULL);
    CHECK(strstr(err, "node.id must be unique") != NULL);
    CHECK(wait_brokers(b, 2, 1000));

    /* A restarted broker 1 (new session) waits for the old registration to
     * go, then takes the id with a new broker epoch. */
    int64_t old_epoch = md_zk_broker_epoch(a);
    opener o = { .conn = conn, .id = 1, .session_ms = 8000 };
    pthread_t to;
    pthread_create(&to, NULL, open_thread, &o);
    usleep(700000);
    md_close(a);                                       /* its node goes at once */
    a = NULL;
    pthread_join(to, NULL);
    CHECK(o.m != NULL);
    if (!o.m)
        fprintf(stderr, "    %s\n", o.err);
    CHECK(o.took_ms >= 500 && o.took_ms < 6000);
    CHECK(md_zk_broker_epoch(o.m) > old_epoch);
    CHECK(wait_brokers(b, 2, 5000));
    /* A broker that leaves is seen leaving. */
    md_close(o.m);
    CHECK(wait_brokers(b, 1, 5000));
    zk_close(r);
out:
    md_close(a);
    md_close(b);
    zk_server_stop(&zs, SIGKILL);
}

typedef struct race { cluster_md *m; const meta_topic *t; int rc; char err[512]; } race;

static void *create_thread(void *arg)
{
    race *r = arg;
    r->rc = md_create_topic(r->m, r->t, r->err, sizeof r->err);
    return NULL;
}

TEST(metadata_zk_topics_and_configs_shared_between_brokers)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512], path[256];
    snprintf(conn, sizeof conn, "%s/c2", zs.connect);
    counts cb = { 0 };
    cluster_md *a = open_zk(conn, 1, 6000, NULL), *b = open_zk(conn, 2, 6000, &cb);
    zk_session *r = raw(conn);
    meta_state st = { 0 };
    if (!a || !b || !r)
        goto out;

    /* Broker 1 creates a topic; broker 2 is told and loads it whole. */
    int32_t reps[] = { 1, 2, 2, 1, 1, 2 };
    topic_kv cfg[] = { kv("retention.ms", "1000"), kv("cleanup.policy", "compact") };
    meta_topic t = { .name = "orders", .partitions = 3, .replication_factor = 2,
                     .replicas = reps, .configs = cfg, .nconfigs = 2 };
    REQUIRE(kuuid_from_str("AAECAwQFBgcICQoLDA0ODw", &t.id));
    CHECK_EQ(md_create_topic(a, &t, err, sizeof err), MD_OK);
    CHECK(zk_wait_for(&cb.ev[MD_EV_TOPICS], 1, 5000));
    REQUIRE(md_load(b, &st, err, sizeof err) == MD_OK);
    const meta_topic *got = find_topic(&st, "orders");
    REQUIRE(got);
    CHECK(st.found);
    CHECK_EQ(got->partitions, 3);
    CHECK_EQ(got->replication_factor, 2);
    CHECK(got->replicas && !memcmp(got->replicas, reps, sizeof reps));
    CHECK(kuuid_eq(got->id, t.id));
    REQUIRE_EQ(got->nconfigs, 2);
    for (int i = 0; i < 2; i++) {
        bool found = false;
        for (int k = 0; k < 2; k++)
            found |= !strcmp(got->configs[i].key, cfg[k].key) &&
                     !strcmp(got->configs[i].value, cfg[k].value);
        CHECK(found);
    }
    meta_state_free(&st);
    CHECK_EQ(md_create_topic(b, &t, err, sizeof err), MD_EXISTS);
    CHECK(strstr(err, "\"orders\" exists") && strstr(err, conn));
    /* No replicas given: every partition on the creating broker. */
    meta_topic solo = { .name = "solo", .partitions = 2 };
    CHECK_EQ(md_create_topic(b, &solo, err, sizeof err), MD_OK);
    char *body = get_str(r, "/brokers/topics/solo");
    CHECK(body && strstr(body, "\"0\":[2]") && strstr(body, "\"1\":[2]"));
    free(body);

    /* Two brokers create the same topic at once: exactly one wins, and the
     * assignment is the winner's. */
    for (int round = 0; round < 5; round++) {
        char name[32];
        snprintf(name, sizeof name, "race-%d", round);
        int32_t ra[] = { 1 }, rb[] = { 2 };
        meta_topic ta = { .name = name, .partitions = 1, .replication_factor = 1, .replicas = ra };
        meta_topic tb = ta;
        tb.replicas = rb;
        race x = { .m = a, .t = &ta }, y = { .m = b, .t = &tb };
        pthread_t tx, ty;
        pthread_create(&tx, NULL, create_thread, &x);
        pthread_create(&ty, NULL, create_thread, &y);
        pthread_join(tx, NULL);
        pthread_join(ty, NULL);
        CHECK((x.rc == MD_OK && y.rc == MD_EXISTS) || (x.rc == MD_EXISTS && y.rc == MD_OK));
        snprintf(path, sizeof path, "/brokers/topics/%s", name);
        body = get_str(r, path);
        CHECK(body && strstr(body, x.rc == MD_OK ? "\"0\":[1]" : "\"0\":[2]"));
        free(body);
    }

    /* Partition state: none yet = no leader; then as the controller wrote it. */
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    got = find_topic(&st, "orders");
    REQUIRE(got);
    partition_state *ps = md_partition_state(a, got, 1);
    REQUIRE(ps);
    CHECK_EQ(ps->leader, -1);
    CHECK_EQ(ps->nreplicas, 2);
    CHECK(ps->nreplicas == 2 && ps->replicas[0] == 2 && ps->replicas[1] == 1);
    pstate_unref(ps);
    zkl_partition_state zst = { .leader = 2, .leader_epoch = 7, .controller_epoch = 3,
                                .isr = { 2, 1 }, .nisr = 2 };
    char *sb = zkl_partition_state_encode(&zst);
    REQUIRE(sb);
    CHECK_EQ(zk_ensure_path(r, "/brokers/topics/orders/partitions/1/state"), ZKR_OK);
    CHECK_EQ(zk_set(r, "/brokers/topics/orders/partitions/1/state", sb, strlen(sb), -1, NULL),
             ZKR_OK);
    free(sb);
    ps = md_partition_state(a, got, 1);
    REQUIRE(ps);
    CHECK_EQ(ps->leader, 2);
    CHECK_EQ(ps->leader_epoch, 7);
    CHECK_EQ(ps->controller_epoch, 3);
    CHECK_EQ(ps->partition_epoch, 1);                  /* created (0), then set once */
    CHECK(ps->nisr == 2 && ps->isr[0] == 2 && ps->isr[1] == 1);
    pstate_unref(ps);
    meta_state_free(&st);

    /* Topic config change: the config znode, then a change notification
     * every broker hears. */
    int before = atomic_load(&cb.ev[MD_EV_CONFIG]);
    topic_kv c2[] = { kv("retention.ms", "5000") };
    CHECK_EQ(md_set_topic_configs(a, "orders", c2, 1, err, sizeof err), MD_OK);
    body = get_str(r, "/config/topics/orders");
    CHECK(body && strstr(body, "\"retention.ms\":\"5000\"") && !strstr(body, "cleanup.policy"));
    free(body);
    char **names = NULL;
    int n = 0;
    REQUIRE(zk_children(r, "/config/changes", false, &names, &n) == ZKR_OK);
    CHECK_EQ(n, 1);
    if (n == 1) {
        snprintf(path, sizeof path, "/config/changes/%s", names[0]);
        CHECK(!strncmp(names[0], "config_change_", 14));
        body = get_str(r, path);
        CHECK(body && strstr(body, "\"entity_path\":\"topics/orders\"") &&
              strstr(body, "\"version\":2"));
        free(body);
    }
    zk_free_strings(names, n);
    CHECK(zk_wait_for(&cb.ev[MD_EV_CONFIG], before + 1, 5000));
    CHECK_EQ(atomic_load(&cb.cfg_orders), 1);           /* told which entity */
    CHECK_EQ(md_set_topic_configs(a, "nope", c2, 1, err, sizeof err), MD_NOT_FOUND);

    /* Dynamic broker configs: the default layer is shared, each broker's
     * own layer is its own. */
    topic_kv d[] = { kv("log.retention.ms", "60000") }, own[] = { kv("num.io.threads", "4") };
    CHECK_EQ(md_set_broker_configs(a, true, d, 1, err, sizeof err), MD_OK);
    CHECK_EQ(md_set_broker_configs(b, false, own, 1, err, sizeof err), MD_OK);
    body = get_str(r, "/config/brokers/<default>");
    CHECK(body && strstr(body, "log.retention.ms"));
    free(body);
    body = get_str(r, "/config/brokers/2");
    CHECK(body && strstr(body, "num.io.threads"));
    free(body);
    REQUIRE(zk_children(r, "/config/changes", false, &names, &n) == ZKR_OK);
    CHECK_EQ(n, 3);
    zk_free_strings(names, n);
    body = get_str(r, "/config/changes/config_change_0000000001");
    CHECK(body && strstr(body, "\"entity_path\":\"brokers/<default>\""));
    free(body);
    /* Broker 2 hears both, in order, each once; a damaged notification
     * still tells it to reload (entity unknown). */
    CHECK(zk_wait_for(&cb.cfg_default, 1, 5000));
    CHECK(zk_wait_for(&cb.cfg_other, 1, 5000));        /* brokers/2 */
    CHECK_EQ(zk_create(r, "/config/changes/config_change_", "junk", 4, ZKC_SEQUENTIAL, NULL, 0,
                       NULL), ZKR_OK);
    CHECK(zk_wait_for(&cb.cfg_other, 2, 5000));
    CHECK_EQ(atomic_load(&cb.cfg_orders), 1);
    CHECK_EQ(atomic_load(&cb.cfg_default), 1);
    REQUIRE(md_load(b, &st, err, sizeof err) == MD_OK);
    CHECK(st.broker_default.n == 1 && !strcmp(st.broker_default.v[0].value, "60000"));
    CHECK(st.broker_own.n == 1 && !strcmp(st.broker_own.v[0].key, "num.io.threads"));
    meta_state_free(&st);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK_EQ(st.broker_own.n, 0);                      /* broker 1's layer is empty */
    meta_state_free(&st);

    /* Delete: a request for the controller, the topic stays until it acts. */
    CHECK_EQ(md_delete_topic(b, "orders", err, sizeof err), MD_OK);
    CHECK_EQ(zk_exists(r, "/admin/delete_topics/orders", false, NULL), ZKR_OK);
    CHECK_EQ(zk_exists(r, "/brokers/topics/orders", false, NULL), ZKR_OK);
    CHECK_EQ(md_delete_topic(b, "orders", err, sizeof err), MD_OK);     /* already asked */
    CHECK_EQ(md_delete_topic(b, "nope", err, sizeof err), MD_NOT_FOUND);
    CHECK_EQ(md_create_topic(a, &(meta_topic){ .name = "a/b", .partitions = 1 }, err,
                             sizeof err), MD_ERR);
    /* The whole-state write is refused: it would drop other brokers' topics. */
    CHECK_EQ(md_store(a, &st, err, sizeof err), MD_ERR);
    CHECK(strstr(err, "per-entity") != NULL);
out:
    zk_close(r);
    md_close(a);
    md_close(b);
    zk_server_stop(&zs, SIGKILL);
}

typedef struct pid_arg { cluster_md *m; int64_t starts[40]; int n; int fails; } pid_arg;
#define PID_BLOCK 7

static void *pid_thread(void *arg)
{
    pid_arg *p = arg;
    char err[512];
    for (int i = 0; i < 40; i++) {
        int64_t first;
        if (md_reserve_producer_ids(p->m, PID_BLOCK, &first, err, sizeof err) == MD_OK)
            p->starts[p->n++] = first;
        else
            p->fails++;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

TEST(metadata_zk_producer_id_blocks_never_overlap)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/c3", zs.connect);
    cluster_md *a = open_zk(conn, 1, 6000, NULL), *b = open_zk(conn, 2, 6000, NULL);
    if (!a || !b)
        goto out;
    int64_t first = -1;
    CHECK_EQ(md_reserve_producer_ids(a, PID_BLOCK, &first, err, sizeof err), MD_OK);
    CHECK_EQ(first, 0);                                /* the first block starts at 0 */
    /* Four threads, two per broker, race for blocks. */
    pid_arg args[4] = { { .m = a }, { .m = a }, { .m = b }, { .m = b } };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, pid_thread, &args[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int64_t all[161];
    int n = 0;
    all[n++] = first;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(args[i].fails, 0);
        for (int k = 0; k < args[i].n; k++)
            all[n++] = args[i].starts[k];
    }
    REQUIRE_EQ(n, 161);
    qsort(all, (size_t)n, sizeof all[0], cmp_i64);
    for (int i = 1; i < n; i++)
        if (all[i] < all[i - 1] + PID_BLOCK)
            test_fail(__FILE__, __LINE__, "blocks at %lld and %lld overlap",
                      (long long)all[i - 1], (long long)all[i]);
    /* Nothing skipped either (no lost answers on a healthy server), and a
     * load reports the next free id. */
    CHECK_EQ(all[n - 1], (int64_t)(n - 1) * PID_BLOCK);
    meta_state st;
    REQUIRE(md_load(b, &st, err, sizeof err) == MD_OK);
    CHECK_EQ(st.next_producer_id_block, (int64_t)n * PID_BLOCK);
    CHECK(st.found);
    meta_state_free(&st);
    /* ZooKeeper down: a clear error naming it, not a hang or a made-up id;
     * the last live-broker snapshot stays readable. */
    zk_server_stop(&zs, SIGKILL);
    int64_t t0 = mono_ms();
    CHECK_EQ(md_reserve_producer_ids(a, PID_BLOCK, &first, err, sizeof err), MD_ERR);
    CHECK(strstr(err, conn) && strstr(err, "connection lost"));
    CHECK(mono_ms() - t0 < 10000);
    md_brokers *bs = md_live_brokers(a);
    CHECK(bs && bs->n == 2);
    md_brokers_unref(bs);
out:
    md_close(a);
    md_close(b);
    zk_server_stop(&zs, SIGKILL);
}

TEST(metadata_zk_damaged_znodes_refused_naming_them)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/c4", zs.connect);
    cluster_md *a = open_zk(conn, 1, 6000, NULL);
    zk_session *r = raw(conn);
    meta_state st = { 0 };
    if (!a || !r)
        goto out;
    const char *junk = "{\"version\":2,\"partitions\":nonsense";
    /* A hand-edited assignment: the load goes on, the topic is marked
     * damaged (name only) and the znode is left as it is. */
    CHECK_EQ(zk_create(r, "/brokers/topics/bad", junk, strlen(junk), 0, NULL, 0, NULL), ZKR_OK);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK_EQ(st.ntopics, 1);
    CHECK(st.ntopics == 1 && st.topics[0].damaged && !strcmp(st.topics[0].name, "bad"));
    meta_state_free(&st);
    char *kept = get_str(r, "/brokers/topics/bad");
    CHECK_STR(kept, junk);
    free(kept);
    CHECK_EQ(zk_delete(r, "/brokers/topics/bad", -1), ZKR_OK);
    /* A topic whose partitions are not 0..n-1: damaged too. */
    const char *gap = "{\"version\":2,\"partitions\":{\"0\":[1],\"2\":[1]}}";
    CHECK_EQ(zk_create(r, "/brokers/topics/gap", gap, strlen(gap), 0, NULL, 0, NULL), ZKR_OK);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK(st.ntopics == 1 && st.topics[0].damaged);
    meta_state_free(&st);
    CHECK_EQ(zk_delete(r, "/brokers/topics/gap", -1), ZKR_OK);
    /* Replica lists of different lengths (a reassignment) are legal: the
     * shorter rows are padded with -1 and nreplicas gives each length. */
    const char *uneven = "{\"version\":2,\"partitions\":{\"0\":[1,2,3],\"1\":[2]}}";
    CHECK_EQ(zk_create(r, "/brokers/topics/uneven", uneven, strlen(uneven), 0, NULL, 0, NULL),
             ZKR_OK);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK(st.ntopics == 1 && !st.topics[0].damaged && st.topics[0].replication_factor == 3);
    if (st.ntopics == 1 && st.topics[0].replicas) {
        CHECK_EQ(st.topics[0].replicas[3], 2);
        CHECK_EQ(st.topics[0].replicas[4], -1);
        CHECK(st.topics[0].nreplicas && st.topics[0].nreplicas[0] == 3 &&
              st.topics[0].nreplicas[1] == 1);
        partition_state *ps = md_partition_state(a, &st.topics[0], 1);
        CHECK(ps && ps->nreplicas == 1);
        pstate_unref(ps);
    }
    meta_state_free(&st);
    CHECK_EQ(zk_delete(r, "/brokers/topics/uneven", -1), ZKR_OK);
    /* A good topic with a damaged config: loaded, its configs marked. */
    CHECK_EQ(md_create_topic(a, &(meta_topic){ .name = "good", .partitions = 1 }, err,
                             sizeof err), MD_OK);
    CHECK_EQ(zk_set(r, "/config/topics/good", "[1,2]", 5, -1, NULL), ZKR_OK);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK(st.ntopics == 1 && !st.topics[0].damaged && st.topics[0].configs_damaged);
    meta_state_free(&st);
    CHECK_EQ(zk_set(r, "/config/topics/good", "{\"version\":1,\"config\":{}}", 26, -1, NULL),
             ZKR_OK);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    CHECK_EQ(st.ntopics, 1);
    CHECK(st.ntopics == 1 && !st.topics[0].configs_damaged);
    meta_state_free(&st);
    /* A damaged producer-id block: refused, never overwritten blindly. */
    CHECK_EQ(zk_create(r, "/latest_producer_id_block", "garbage", 7, 0, NULL, 0, NULL), ZKR_OK);
    int64_t first;
    CHECK_EQ(md_reserve_producer_ids(a, 10, &first, err, sizeof err), MD_ERR);
    CHECK(strstr(err, "/latest_producer_id_block:") != NULL);
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);   /* reported, the rest loads */
    meta_state_free(&st);
    char *body = get_str(r, "/latest_producer_id_block");
    CHECK_STR(body, "garbage");
    free(body);
    /* A damaged cluster id: no id rather than a made-up one. */
    CHECK_EQ(zk_ensure_path(r, "/cluster"), ZKR_OK);
    CHECK_EQ(zk_create(r, "/cluster/id", "{\"id\":42}", 9, 0, NULL, 0, NULL), ZKR_OK);
    char id[64];
    CHECK_EQ(md_cluster_id(a, "AAAAAAAAAAAAAAAAAAAAAA", id, sizeof id), -1);
    /* A damaged broker registration is left out of the live brokers. */
    CHECK_EQ(zk_create(r, "/brokers/ids/77", junk, strlen(junk), ZKC_EPHEMERAL, NULL, 0, NULL),
             ZKR_OK);
    CHECK_EQ(zk_create(r, "/brokers/ids/78", "{}", 2, ZKC_EPHEMERAL, NULL, 0, NULL), ZKR_OK);
    usleep(300000);
    md_brokers *bs = md_live_brokers(a);
    CHECK(bs && bs->n == 1 && bs->v[0].id == 1);
    md_brokers_unref(bs);
out:
    zk_close(r);
    md_close(a);
    zk_server_stop(&zs, SIGKILL);
}

/* Expire a session as ZooKeeper's own tests do: a second client joins it
 * with its id and password, then closes it. */
static bool expire_session(const char *conn, zk_session *s)
{
    clientid_t cid = { .client_id = zk_session_id(s) };
    zk_session_password(s, cid.passwd);
    zhandle_t *zh = zookeeper_init(conn, NULL, 6000, &cid, NULL, 0);
    if (!zh)
        return false;
    bool ok = false;
    for (int i = 0; i < 500 && !ok; i++) {
        ok = zoo_state(zh) == ZOO_CONNECTED_STATE;
        if (!ok)
            usleep(10000);
    }
    zookeeper_close(zh);
    return ok;
}

TEST(metadata_zk_session_expiry_reported_then_reconnect)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/c5", zs.connect);
    counts ca = { 0 }, cb = { 0 };
    cluster_md *a = open_zk(conn, 1, 4000, &ca), *b = open_zk(conn, 2, 4000, &cb);
    if (!a || !b)
        goto out;
    CHECK(wait_brokers(b, 2, 5000));
    int64_t epoch = md_zk_broker_epoch(a);
    CHECK(!md_zk_expired(a));
    REQUIRE(expire_session(conn, md_zk_session(a)));
    CHECK(zk_wait_for(&ca.ev[MD_EV_SESSION_LOST], 1, 10000));
    CHECK(md_zk_expired(a));
    CHECK(wait_brokers(b, 1, 5000));                   /* its registration is gone */
    /* No stale service: reads and writes say why they fail. */
    meta_state st;
    CHECK_EQ(md_load(a, &st, err, sizeof err), MD_ERR);
    CHECK(strstr(err, "session expired") && strstr(err, conn));
    int64_t first;
    CHECK_EQ(md_reserve_producer_ids(a, 5, &first, err, sizeof err), MD_ERR);
    CHECK_EQ(md_create_topic(a, &(meta_topic){ .name = "x", .partitions = 1 }, err, sizeof err),
             MD_ERR);
    CHECK_EQ(atomic_load(&cb.ev[MD_EV_SESSION_LOST]), 0);
    /* A config changed while it was away is reported once it is back. */
    CHECK_EQ(md_create_topic(b, &(meta_topic){ .name = "during", .partitions = 1 }, err,
                             sizeof err), MD_OK);
    topic_kv c[] = { kv("retention.ms", "1") };
    CHECK_EQ(md_set_topic_configs(b, "during", c, 1, err, sizeof err), MD_OK);
    CHECK_EQ(atomic_load(&ca.cfg_other), 0);
    /* Reconnect: registered again with a new broker epoch, watches back. */
    CHECK_EQ(md_zk_reconnect(a, err, sizeof err), MD_OK);
    CHECK(!md_zk_expired(a));
    CHECK(md_zk_broker_epoch(a) > epoch);
    CHECK(wait_brokers(b, 2, 5000));
    CHECK(wait_brokers(a, 2, 5000));
    CHECK(zk_wait_for(&ca.cfg_other, 1, 5000));
    REQUIRE(md_load(a, &st, err, sizeof err) == MD_OK);
    meta_state_free(&st);
    int before = atomic_load(&ca.ev[MD_EV_TOPICS]);
    CHECK_EQ(md_create_topic(b, &(meta_topic){ .name = "after", .partitions = 1 }, err,
                             sizeof err), MD_OK);
    CHECK(zk_wait_for(&ca.ev[MD_EV_TOPICS], before + 1, 5000));   /* the watch is re-armed */
out:
    md_close(a);
    md_close(b);
    zk_server_stop(&zs, SIGKILL);
}

static const md_entity *find_entity(const md_entities *e, const char *path)
{
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].path, path))
            return &e->v[i];
    return NULL;
}

/* User and client-id entities: Kafka's znodes, a change notification each
 * broker hears with the entity path, and md_load_entities on another. */
TEST(metadata_zk_user_and_client_entities)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/ent", zs.connect);
    counts cb = { 0 };
    cluster_md *a = open_zk(conn, 1, 6000, NULL), *b = open_zk(conn, 2, 6000, &cb);
    zk_session *r = raw(conn);
    if (!a || !b || !r)
        goto out;
    topic_kv u[] = { kv("SCRAM-SHA-256", "salt=c2FsdA==,stored_key=AA==,server_key=AA==,iterations=4096"),
                     kv("producer_byte_rate", "1024") };
    CHECK_EQ(md_set_entity_configs(a, "users/a%20b", u, 2, err, sizeof err), MD_OK);
    topic_kv q[] = { kv("consumer_byte_rate", "2048") };
    CHECK_EQ(md_set_entity_configs(a, "users/a%20b/clients/<default>", q, 1, err, sizeof err),
             MD_OK);
    CHECK_EQ(md_set_entity_configs(a, "clients/<default>", q, 1, err, sizeof err), MD_OK);
    CHECK_EQ(md_set_entity_configs(a, "clients/gone", q, 1, err, sizeof err), MD_OK);
    CHECK_EQ(md_set_entity_configs(a, "clients/gone", NULL, 0, err, sizeof err), MD_OK);
    CHECK_EQ(md_set_entity_configs(a, "topics/x", q, 1, err, sizeof err), MD_ERR);
    char *body = get_str(r, "/config/users/a%20b/clients/<default>");
    CHECK(body && !strcmp(body, "{\"version\":1,\"config\":{\"consumer_byte_rate\":\"2048\"}}"));
    free(body);
    body = get_str(r, "/config/clients/gone");        /* Kafka keeps the empty config */
    CHECK(body && strstr(body, "\"config\":{}"));
    free(body);
    CHECK(zk_wait_for(&cb.cfg_other, 5, 5000));      /* one notification per write */
    md_entities es;
    REQUIRE(md_load_entities(b, &es, err, sizeof err) == MD_OK);
    CHECK_EQ(es.n, 3);                                /* the empty one is not listed */
    const md_entity *e = find_entity(&es, "users/a%20b");
    CHECK(e && e->n == 2);
    e = find_entity(&es, "users/a%20b/clients/<default>");
    CHECK(e && e->n == 1 && !strcmp(e->v[0].value, "2048"));
    CHECK(find_entity(&es, "clients/<default>"));
    md_entities_free(&es);
    REQUIRE(md_load_entity(b, "users/a%20b/clients/<default>", &es, err, sizeof err) == MD_OK);
    CHECK(es.n == 1 && es.v[0].n == 1 && !strcmp(es.v[0].v[0].key, "consumer_byte_rate"));
    md_entities_free(&es);
    REQUIRE(md_load_entity(b, "clients/gone", &es, err, sizeof err) == MD_OK);   /* empty */
    CHECK_EQ(es.n, 0);
    md_entities_free(&es);
    REQUIRE(md_load_entity(b, "users/nobody", &es, err, sizeof err) == MD_OK);
    CHECK_EQ(es.n, 0);
    md_entities_free(&es);
    CHECK_EQ(md_load_entity(b, "topics/x", &es, err, sizeof err), MD_ERR);
out:
    if (r)
        zk_close(r);
    md_close(a);
    md_close(b);
    zk_server_stop(&zs, SIGKILL);
}

/* Writers delete change notifications older than the expiry (Kafka's 15
 * minutes; 0 here), so /config/changes does not grow without end. */
TEST(metadata_zk_change_notifications_expire)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/exp", zs.connect);
    cluster_md *a = open_zk(conn, 1, 6000, NULL);
    zk_session *r = raw(conn);
    char **names = NULL;
    int n = 0;
    if (!a || !r)
        goto out;
    topic_kv q[] = { kv("consumer_byte_rate", "2048") };
    for (int i = 0; i < 3; i++)
        CHECK_EQ(md_set_entity_configs(a, "clients/c", q, 1, err, sizeof err), MD_OK);
    REQUIRE(zk_children(r, "/config/changes", false, &names, &n) == ZKR_OK);
    CHECK_EQ(n, 3);                         /* 15 minutes: all kept */
    zk_free_strings(names, n);
    md_zk_set_change_expiry(a, 0);
    CHECK_EQ(md_set_entity_configs(a, "clients/c", q, 1, err, sizeof err), MD_OK);
    REQUIRE(zk_children(r, "/config/changes", false, &names, &n) == ZKR_OK);
    CHECK_EQ(n, 1);                         /* the older ones purged, the new one kept */
    zk_free_strings(names, n);
out:
    if (r)
        zk_close(r);
    md_close(a);
    zk_server_stop(&zs, SIGKILL);
}
