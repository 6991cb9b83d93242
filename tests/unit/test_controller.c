/* test_controller.c - the cluster controller against a real ZooKeeper (one
 * server for the file, a chroot per test), with a channel that records
 * what it sends.  Fake brokers are ephemeral /brokers/ids/N nodes made by
 * their own sessions; closing a session is a broker dying. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/controller.h"
#include "cluster/zk_layout.h"
#include "cluster/zk_session.h"
#include "core/errors.h"
#include "test.h"
#include "zk_server.h"

/* ---- one ZooKeeper for every test here ---- */

static zk_server g_zk;
static int g_chroot_seq;

static void stop_shared_zk(void)
{
    zk_server_stop(&g_zk, SIGKILL);
}

/* A fresh chroot on the shared server: "127.0.0.1:port/ctlN". */
static bool fresh_connect(char *out, size_t n)
{
    if (!g_zk.pid) {
        if (!zk_server_start(&g_zk))
            return false;
        atexit(stop_shared_zk);
    }
    snprintf(out, n, "%s/ctl%d", g_zk.connect, ++g_chroot_seq);
    return true;
}

static zk_session *session(const char *conn)
{
    char err[256];
    zk_session *s = zk_open(conn, 6000, 10000, NULL, NULL, err, sizeof err);
    if (!s)
        test_fail(__FILE__, __LINE__, "zk_open: %s", err);
    return s;
}

/* ---- the recording channel ---- */

enum { R_LAI, R_UM, R_SR };
typedef struct rec {
    int kind;
    int32_t to, controller_epoch, leader, leader_epoch, partition_epoch, isr[8];
    int64_t broker_epoch;
    int nisr, nlive;
    int8_t type;                 /* LeaderAndIsr: 1 incremental, 2 full */
    char topic[64];
    int32_t partition;
    bool del;
} rec;

typedef struct recorder {
    pthread_mutex_t lock;
    rec v[4096];
    int n;
} recorder;

static void add(recorder *r, const rec *e)
{
    pthread_mutex_lock(&r->lock);
    if (r->n < (int)(sizeof r->v / sizeof *r->v))
        r->v[r->n++] = *e;
    pthread_mutex_unlock(&r->lock);
}

static void set_isr(rec *e, karr_i32 isr)
{
    e->nisr = isr.n < 8 ? isr.n : 8;
    memcpy(e->isr, isr.v, (size_t)e->nisr * sizeof *e->isr);
}

static void on_lai(void *ctx, int32_t to, const leader_and_isr_req *q)
{
    for (int t = 0; t < q->topic_states.n; t++) {
        for (int p = 0; p < q->topic_states.v[t].partition_states.n; p++) {
            const leader_and_isr_req_partition_state *ps = &q->topic_states.v[t].partition_states.v[p];
            rec e = { .kind = R_LAI, .to = to, .controller_epoch = q->controller_epoch,
                      .broker_epoch = q->broker_epoch, .leader = ps->leader,
                      .leader_epoch = ps->leader_epoch, .partition_epoch = ps->partition_epoch,
                      .partition = ps->partition_index, .type = q->type };
            snprintf(e.topic, sizeof e.topic, "%.*s", q->topic_states.v[t].topic_name.len,
                     q->topic_states.v[t].topic_name.p);
            set_isr(&e, ps->isr);
            add(ctx, &e);
        }
    }
}

static void on_um(void *ctx, int32_t to, const update_metadata_req *q)
{
    rec e = { .kind = R_UM, .to = to, .controller_epoch = q->controller_epoch,
              .broker_epoch = q->broker_epoch, .nlive = q->live_brokers.n, .partition = -1 };
    add(ctx, &e);                /* one per request, then one per partition */
    for (int t = 0; t < q->topic_states.n; t++) {
        for (int p = 0; p < q->topic_states.v[t].partition_states.n; p++) {
            const update_metadata_partition_state *ps = &q->topic_states.v[t].partition_states.v[p];
            e.partition = ps->partition_index;
            e.leader = ps->leader;
            e.leader_epoch = ps->leader_epoch;
            snprintf(e.topic, sizeof e.topic, "%.*s", q->topic_states.v[t].topic_name.len,
                     q->topic_states.v[t].topic_name.p);
            set_isr(&e, ps->isr);
            add(ctx, &e);
        }
    }
}

static void on_sr(void *ctx, int32_t to, const stop_replica_req *q)
{
    for (int t = 0; t < q->topic_states.n; t++) {
        for (int p = 0; p < q->topic_states.v[t].partition_states.n; p++) {
            rec e = { .kind = R_SR, .to = to, .controller_epoch = q->controller_epoch,
                      .broker_epoch = q->broker_epoch,
                      .partition = q->topic_states.v[t].partition_states.v[p].partition_index,
                      .del = q->topic_states.v[t].partition_states.v[p].delete_partition };
            snprintf(e.topic, sizeof e.topic, "%.*s", q->topic_states.v[t].topic_name.len,
                     q->topic_states.v[t].topic_name.p);
            add(ctx, &e);
        }
    }
}

static recorder *recorder_new(void)
{
    recorder *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void recorder_free(recorder *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static controller_channel channel_of(recorder *r)
{
    return (controller_channel){ .ctx = r, .leader_and_isr = on_lai,
                                 .update_metadata = on_um, .stop_replica = on_sr };
}

/* The last record of kind to broker `to` about topic-partition (partition
 * -1 with topic NULL: the last request of that kind).  */
static bool last(recorder *r, int kind, int32_t to, const char *topic, int32_t partition,
                 rec *out)
{
    bool found = false;
    pthread_mutex_lock(&r->lock);
    for (int i = r->n - 1; i >= 0 && !found; i--) {
        const rec *e = &r->v[i];
        if (e->kind == kind && e->to == to && e->partition == partition &&
            (!topic || !strcmp(e->topic, topic))) {
            *out = *e;
            found = true;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

static int count(recorder *r, int kind, int32_t to)
{
    int n = 0;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->n; i++)
        n += r->v[i].kind == kind && r->v[i].to == to &&
             (kind != R_UM || r->v[i].partition == -1);
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void recorder_clear(recorder *r)
{
    pthread_mutex_lock(&r->lock);
    r->n = 0;
    pthread_mutex_unlock(&r->lock);
}

/* ---- fake brokers, topics, states ---- */

/* Register broker id on its own session; *epoch: its czxid. */
static zk_session *fake_broker(const char *conn, int32_t id, int64_t *epoch)
{
    zk_session *s = session(conn);
    if (!s)
        return NULL;
    zkl_broker b = { .id = id, .nep = 1 };
    snprintf(b.ep[0].listener, sizeof b.ep[0].listener, "PLAINTEXT");
    snprintf(b.ep[0].protocol, sizeof b.ep[0].protocol, "PLAINTEXT");
    snprintf(b.ep[0].host, sizeof b.ep[0].host, "127.0.0.1");
    b.ep[0].port = 9090 + id;
    char *body = zkl_broker_encode(&b), path[128];
    zkl_path_broker(path, sizeof path, id);
    zk_ensure_path(s, ZK_PATH_BROKER_IDS);
    zk_rc rc = zk_create(s, path, body, strlen(body), ZKC_EPHEMERAL, NULL, 0, epoch);
    free(body);
    if (rc != ZKR_OK)
        test_fail(__FILE__, __LINE__, "register broker %d: %s", id, zk_rc_str(rc));
    return s;
}

/* Topic with nparts partitions; replicas[p*rf + k]. */
static void create_topic(zk_session *s, const char *name, int32_t nparts, int32_t rf,
                         const int32_t *replicas)
{
    int32_t nrep[16], *rep[16];
    zkl_assignment a = { .npartitions = nparts, .nreplicas = nrep, .replicas = rep };
    for (int32_t p = 0; p < nparts; p++) {
        nrep[p] = rf;
        rep[p] = (int32_t *)replicas + p * rf;
    }
    a.topic_id.b[0] = 1;
    char *body = zkl_assignment_encode(&a), path[256];
    zkl_path_topic(path, sizeof path, name);
    zk_ensure_path(s, ZK_PATH_BROKER_TOPICS);
    CHECK_EQ(zk_create(s, path, body, strlen(body), 0, NULL, 0, NULL), ZKR_OK);
    free(body);
}

static bool read_state(zk_session *s, const char *topic, int32_t p, zkl_partition_state *st)
{
    char path[256], *data, err[128];
    size_t len;
    zk_stat zs;
    zkl_path_partition_state(path, sizeof path, topic, p);
    if (zk_get(s, path, false, &data, &len, &zs) != ZKR_OK)
        return false;
    int rc = zkl_partition_state_decode(data, len, st, err, sizeof err);
    free(data);
    st->zk_version = zs.version;
    return rc == 0;
}

static bool isr_is(const zkl_partition_state *st, int n, const int32_t *want)
{
    if (st->nisr != n)
        return false;
    for (int i = 0; i < n; i++)
        if (st->isr[i] != want[i])
            return false;
    return true;
}

static bool active_for(controller *c, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (controller_is_active(c))
            return true;
        usleep(10000);
    }
    return controller_is_active(c);
}

/* Poll `cond` every 10 ms for up to 5 s. */
#define EVENTUALLY(cond) ({ bool ok_ = false; \
        for (int i_ = 0; i_ < 500 && !(ok_ = (cond)); i_++) { usleep(10000); } ok_; })

static controller *start(const controller_cfg *cfg, zk_session *s, recorder *r)
{
    char err[256];
    controller_channel ch = channel_of(r);
    controller *c = controller_start(cfg, s, &ch, err, sizeof err);
    if (!c)
        test_fail(__FILE__, __LINE__, "controller_start: %s", err);
    return c;
}

/* The state of (topic, p) once it has `leader` and `leader_epoch`. */
static bool state_reaches(zk_session *s, const char *topic, int32_t p, int32_t leader,
                          int32_t leader_epoch, zkl_partition_state *st)
{
    return EVENTUALLY(read_state(s, topic, p, st) && st->leader == leader &&
                      st->leader_epoch == leader_epoch);
}

/* ---- tests ---- */

TEST(controller_election_one_active_the_other_takes_over)
{
    char conn[128];
    if (!fresh_connect(conn, sizeof conn))
        return;
    zk_session *s1 = session(conn), *s2 = session(conn);
    recorder *r1 = recorder_new(), *r2 = recorder_new();
    controller *c1 = NULL, *c2 = NULL;
    if (!s1 || !s2)
        goto out;
    controller_cfg cfg1 = { .broker_id = 1 }, cfg2 = { .broker_id = 2 };
    c1 = start(&cfg1, s1, r1);
    REQUIRE(c1 && active_for(c1, 5000));
    c2 = start(&cfg2, s2, r2);
    REQUIRE(c2);
    usleep(300000);
    CHECK(controller_is_active(c1));
    CHECK(!controller_is_active(c2));      /* exactly one */
    int32_t e1 = controller_epoch(c1);
    CHECK_EQ(e1, 1);                      /* /controller_epoch created at 1 */
    char *data;
    size_t len;
    int32_t holder = -1;
    char err[128];
    REQUIRE(zk_get(s2, ZK_PATH_CONTROLLER, false, &data, &len, NULL) == ZKR_OK);
    CHECK_EQ(zkl_controller_decode(data, len, &holder, err, sizeof err), 0);
    CHECK_EQ(holder, 1);
    free(data);
    /* The first stops: the second takes over within seconds, epoch higher. */
    controller_stop(c1);
    c1 = NULL;
    CHECK(active_for(c2, 5000));
    CHECK(controller_epoch(c2) > e1);
    REQUIRE(zk_get(s2, ZK_PATH_CONTROLLER_EPOCH, false, &data, &len, NULL) == ZKR_OK);
    CHECK_STR(data, "2");
    free(data);
    /* /controller taken over behind its back (deleted and re-created by
     * another session): it stops acting, and runs again when that goes. */
    zk_stat cst;
    REQUIRE(zk_exists(s1, ZK_PATH_CONTROLLER, false, &cst) == ZKR_OK);
    char *other = zkl_controller_encode(9, 0);
    zk_op swap[2] = {
        { .type = ZKOP_DELETE, .path = ZK_PATH_CONTROLLER, .version = cst.version },
        { .type = ZKOP_CREATE, .path = ZK_PATH_CONTROLLER, .data = other, .len = strlen(other),
          .flags = ZKC_EPHEMERAL },
    };
    CHECK_EQ(zk_multi(s1, swap, 2, NULL), ZKR_OK);
    free(other);
    CHECK(EVENTUALLY(!controller_is_active(c2)));
    CHECK_EQ(controller_resignations(c2), 1);
    zk_close(s1);                /* the usurper's session ends */
    s1 = NULL;
    CHECK(active_for(c2, 5000));
    CHECK_EQ(controller_epoch(c2), 3);
out:
    controller_stop(c1);
    controller_stop(c2);
    zk_close(s1);
    zk_close(s2);
    recorder_free(r1);
    recorder_free(r2);
}

/* Brokers 1,2,3; topic "a" (created before the controller: failover path)
 * and "b" (created after: the watch path), 3 partitions RF 3 each. */
typedef struct cluster3 {
    char conn[128];
    zk_session *admin, *cs, *b[4];
    int64_t epoch[4];
    recorder *r;
    controller *c;
} cluster3;

static const int32_t k_rot[9] = { 1, 2, 3, 2, 3, 1, 3, 1, 2 };

/* Wait until the controller's first round of requests is out: every
 * broker has had UpdateMetadata for every partition of "a" (it sends
 * them last, broker by broker). */
static bool cluster3_settled(cluster3 *k)
{
    rec e;
    for (int32_t id = 1; id <= 3; id++)
        for (int32_t p = 0; p < 3; p++)
            if (!EVENTUALLY(last(k->r, R_UM, id, "a", p, &e)))
                return false;
    return true;
}

static bool cluster3_up_with(cluster3 *k, const controller_cfg *cfg);

/* Up, with "a" led by its first replicas and the first requests out. */
static bool cluster3_up(cluster3 *k, bool unclean)
{
    controller_cfg cfg = { .broker_id = 1, .unclean_leader_election = unclean };
    return cluster3_up_with(k, &cfg);
}

static bool cluster3_up_with(cluster3 *k, const controller_cfg *cfg)
{
    memset(k, 0, sizeof *k);
    if (!fresh_connect(k->conn, sizeof k->conn))
        return false;
    k->admin = session(k->conn);
    k->cs = session(k->conn);
    k->r = recorder_new();
    if (!k->admin || !k->cs)
        return false;
    for (int32_t id = 1; id <= 3; id++)
        if (!(k->b[id] = fake_broker(k->conn, id, &k->epoch[id])))
            return false;
    create_topic(k->admin, "a", 3, 3, k_rot);
    k->c = start(cfg, k->cs, k->r);
    if (!k->c || !active_for(k->c, 5000))
        return false;
    zkl_partition_state st;
    for (int32_t p = 0; p < 3; p++)
        if (!state_reaches(k->admin, "a", p, k_rot[p * 3], 0, &st))
            return false;
    return cluster3_settled(k);
}

static void cluster3_down(cluster3 *k)
{
    controller_stop(k->c);
    for (int i = 1; i <= 3; i++)
        zk_close(k->b[i]);
    zk_close(k->cs);
    zk_close(k->admin);
    recorder_free(k->r);
}

TEST(controller_new_topics_get_leaders_and_brokers_are_told)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    create_topic(k.admin, "b", 3, 3, k_rot);
    const char *topics[] = { "a", "b" };
    int32_t ce = controller_epoch(k.c);
    for (int t = 0; t < 2; t++) {
        for (int32_t p = 0; p < 3; p++) {
            zkl_partition_state st;
            const int32_t *rep = &k_rot[p * 3];
            CHECK(state_reaches(k.admin, topics[t], p, rep[0], 0, &st));
            CHECK(isr_is(&st, 3, rep));
            CHECK_EQ(st.controller_epoch, ce);
            CHECK_EQ(st.zk_version, 0);
            /* every replica got LeaderAndIsr for it, with its broker epoch */
            for (int32_t id = 1; id <= 3; id++) {
                rec e;
                CHECK(EVENTUALLY(last(k.r, R_LAI, id, topics[t], p, &e)));
                CHECK_EQ(e.leader, rep[0]);
                CHECK_EQ(e.leader_epoch, 0);
                CHECK_EQ(e.controller_epoch, ce);
                CHECK_EQ(e.broker_epoch, k.epoch[id]);
                CHECK_EQ(e.nisr, 3);
                CHECK_EQ(e.partition_epoch, 0);
                /* full after the election ("a"), incremental for a new topic */
                CHECK_EQ(e.type, t == 0 ? 2 : 1);
                CHECK(EVENTUALLY(last(k.r, R_UM, id, topics[t], p, &e)));
                CHECK_EQ(e.leader, rep[0]);
            }
        }
    }
    rec u;
    CHECK(last(k.r, R_UM, 2, NULL, -1, &u));
    CHECK_EQ(u.nlive, 3);
    CHECK_EQ(u.broker_epoch, k.epoch[2]);
out:
    cluster3_down(&k);
}

TEST(controller_broker_loss_moves_leaders_within_the_isr)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    recorder_clear(k.r);
    zk_close(k.b[1]);            /* broker 1 dies */
    k.b[1] = NULL;
    /* p0 was led by 1: leader 2 (next in the assignment), epoch 1, ISR {2,3} */
    CHECK(state_reaches(k.admin, "a", 0, 2, 1, &st));
    CHECK(isr_is(&st, 2, (int32_t[]){ 2, 3 }));
    CHECK_EQ(st.zk_version, 1);
    /* p1 (led by 2, 1 a follower): same leader, ISR without 1, epoch bumped
     * so that the leader accepts the LeaderAndIsr (C4) */
    CHECK(state_reaches(k.admin, "a", 1, 2, 1, &st));
    CHECK(isr_is(&st, 2, (int32_t[]){ 2, 3 }));
    rec e;
    for (int32_t id = 2; id <= 3; id++) {
        CHECK(EVENTUALLY(last(k.r, R_LAI, id, "a", 0, &e)));
        CHECK_EQ(e.leader, 2);
        CHECK_EQ(e.leader_epoch, 1);
        CHECK_EQ(e.nisr, 2);
        CHECK(EVENTUALLY(last(k.r, R_UM, id, "a", 0, &e)));
        CHECK_EQ(e.leader, 2);
        CHECK(last(k.r, R_UM, id, NULL, -1, &e));
        CHECK_EQ(e.nlive, 2);
    }
    CHECK_EQ(count(k.r, R_LAI, 1), 0);    /* nothing to the dead broker */
    CHECK_EQ(count(k.r, R_UM, 1), 0);
    /* It comes back (new session = new broker epoch): a full LeaderAndIsr
     * for its replicas, as follower; it is not put back in the ISR here. */
    int64_t old_epoch = k.epoch[1];
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    CHECK(k.epoch[1] != old_epoch);
    for (int32_t p = 0; p < 3; p++) {
        CHECK(EVENTUALLY(last(k.r, R_LAI, 1, "a", p, &e)));
        CHECK_EQ(e.broker_epoch, k.epoch[1]);
    }
    CHECK(last(k.r, R_LAI, 1, "a", 0, &e));
    CHECK_EQ(e.leader, 2);
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK(isr_is(&st, 2, (int32_t[]){ 2, 3 }));
out:
    cluster3_down(&k);
}

TEST(controller_restarted_broker_is_handled_as_failed_first)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    /* Broker 1 restarts so fast that the controller sees only a changed
     * registration (old node replaced atomically by a new session's):
     * (C12) leadership of p0 still moves to 2 and 1 leaves the ISR, and 1
     * hears it in its new life. */
    int64_t old_epoch = k.epoch[1];
    zk_session *nb = session(k.conn);
    REQUIRE(nb);
    char *body1;
    size_t len1;
    REQUIRE(zk_get(k.admin, "/brokers/ids/1", false, &body1, &len1, NULL) == ZKR_OK);
    zk_op swap[2] = {
        { .type = ZKOP_DELETE, .path = "/brokers/ids/1", .version = -1 },
        { .type = ZKOP_CREATE, .path = "/brokers/ids/1", .data = body1, .len = len1,
          .flags = ZKC_EPHEMERAL },
    };
    CHECK_EQ(zk_multi(nb, swap, 2, NULL), ZKR_OK);
    free(body1);
    zk_close(k.b[1]);
    k.b[1] = nb;
    zk_stat bst;
    REQUIRE(zk_exists(k.admin, "/brokers/ids/1", false, &bst) == ZKR_OK);
    k.epoch[1] = bst.czxid;
    CHECK(k.epoch[1] != old_epoch);
    zkl_partition_state st;
    CHECK(state_reaches(k.admin, "a", 0, 2, 1, &st));
    CHECK(isr_is(&st, 2, (int32_t[]){ 2, 3 }));
    rec e;
    CHECK(EVENTUALLY(last(k.r, R_LAI, 1, "a", 0, &e) && e.broker_epoch == k.epoch[1] &&
                     e.leader == 2));
    /* a topic partition grown by CreatePartitions gets its leader too */
    int32_t nrep[4] = { 3, 3, 3, 3 }, *rep[4] = { (int32_t *)k_rot, (int32_t *)k_rot + 3,
                                                 (int32_t *)k_rot + 6, (int32_t *)k_rot + 3 };
    zkl_assignment a = { .npartitions = 4, .nreplicas = nrep, .replicas = rep };
    a.topic_id.b[0] = 1;
    char *body = zkl_assignment_encode(&a);
    CHECK_EQ(zk_set(k.admin, "/brokers/topics/a", body, strlen(body), -1, NULL), ZKR_OK);
    free(body);
    CHECK(state_reaches(k.admin, "a", 3, 2, 0, &st));
    CHECK(isr_is(&st, 3, (int32_t[]){ 2, 3, 1 }));
out:
    cluster3_down(&k);
}

TEST(controller_last_isr_member_lost_goes_offline_unclean_only_when_enabled)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    /* "u" allows unclean election by its topic config; "a" does not. */
    zk_ensure_path(k.admin, ZK_PATH_CONFIG_TOPICS);
    char *keys[] = { "unclean.leader.election.enable" }, *vals[] = { "true" };
    zkl_config cfg = { keys, vals, 1 };
    char *body = zkl_config_encode(&cfg), path[128];
    zkl_path_topic_config(path, sizeof path, "u");
    CHECK_EQ(zk_create(k.admin, path, body, strlen(body), 0, NULL, 0, NULL), ZKR_OK);
    free(body);
    create_topic(k.admin, "u", 3, 3, k_rot);
    zkl_partition_state st;
    REQUIRE(state_reaches(k.admin, "u", 0, 1, 0, &st));
    /* 3 then 2 die: p0 is led by 1 with ISR {1} */
    zk_close(k.b[3]);
    k.b[3] = NULL;
    CHECK(state_reaches(k.admin, "a", 0, 1, 1, &st));
    zk_close(k.b[2]);
    k.b[2] = NULL;
    CHECK(state_reaches(k.admin, "a", 0, 1, 2, &st));
    CHECK(isr_is(&st, 1, (int32_t[]){ 1 }));
    /* the last ISR member dies: offline, leader -1, ISR {1} kept */
    zk_close(k.b[1]);
    k.b[1] = NULL;
    CHECK(state_reaches(k.admin, "a", 0, -1, 3, &st));
    CHECK(isr_is(&st, 1, (int32_t[]){ 1 }));
    CHECK(state_reaches(k.admin, "u", 0, -1, 3, &st));
    /* 2 returns: "a" stays offline (clean), "u" elects 2 with ISR {2} */
    REQUIRE((k.b[2] = fake_broker(k.conn, 2, &k.epoch[2])));
    CHECK(state_reaches(k.admin, "u", 0, 2, 4, &st));
    CHECK(isr_is(&st, 1, (int32_t[]){ 2 }));
    usleep(200000);
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK_EQ(st.leader, -1);
    CHECK_EQ(st.leader_epoch, 3);
    /* 1, the last in-sync replica, returns: a clean election */
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    CHECK(state_reaches(k.admin, "a", 0, 1, 4, &st));
    CHECK(isr_is(&st, 1, (int32_t[]){ 1 }));
out:
    cluster3_down(&k);
}

TEST(controller_unclean_election_by_the_broker_default)
{
    cluster3 k;
    if (!cluster3_up(&k, true))
        goto out;
    zkl_partition_state st;
    for (int32_t id = 3; id >= 1; id--) {
        zk_close(k.b[id]);
        k.b[id] = NULL;
    }
    /* the deaths may be seen one by one or together: any epoch */
    CHECK(EVENTUALLY(read_state(k.admin, "a", 0, &st) && st.leader == -1));
    CHECK(isr_is(&st, 1, (int32_t[]){ 1 }));
    int32_t offline_epoch = st.leader_epoch;
    REQUIRE((k.b[3] = fake_broker(k.conn, 3, &k.epoch[3])));
    CHECK(state_reaches(k.admin, "a", 0, 3, offline_epoch + 1, &st));
    CHECK(isr_is(&st, 1, (int32_t[]){ 3 }));
out:
    cluster3_down(&k);
}

TEST(controller_deposed_by_a_newer_epoch_fails_its_write_and_resigns)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    int32_t old = controller_epoch(k.c);
    /* A newer controller's epoch, behind this one's back (C1). */
    char *data;
    size_t len;
    zk_stat es;
    REQUIRE(zk_get(k.admin, ZK_PATH_CONTROLLER_EPOCH, false, &data, &len, &es) == ZKR_OK);
    free(data);
    char next[16];
    snprintf(next, sizeof next, "%d", old + 5);
    recorder_clear(k.r);
    REQUIRE(zk_set(k.admin, ZK_PATH_CONTROLLER_EPOCH, next, strlen(next), es.version, NULL) ==
            ZKR_OK);
    zk_close(k.b[1]);            /* forces a partition-state write */
    k.b[1] = NULL;
    CHECK(EVENTUALLY(controller_resignations(k.c) >= 1));
    /* It ran again, won with an epoch above the bumped one, and only then
     * did the failover: nothing was written or sent at the old epoch. */
    CHECK(state_reaches(k.admin, "a", 0, 2, 1, &st));
    CHECK_EQ(st.controller_epoch, old + 6);
    CHECK_EQ(controller_epoch(k.c), old + 6);
    pthread_mutex_lock(&k.r->lock);
    for (int i = 0; i < k.r->n; i++)
        CHECK(k.r->v[i].controller_epoch != old);
    pthread_mutex_unlock(&k.r->lock);
out:
    cluster3_down(&k);
}

TEST(controller_alter_partition_checks_epochs_and_members)
{
    cluster3 k;
    zk_session *s2 = NULL;
    recorder *r2 = recorder_new();
    controller *c2 = NULL;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    controller_partition_state out;
    /* the leader shrinks the ISR to {1,2} */
    int16_t rc = controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 0, 0,
                                            (int32_t[]){ 1, 2 }, 2, &out);
    CHECK_EQ(rc, KERR_NONE);
    CHECK_EQ(out.partition_epoch, 1);
    CHECK_EQ(out.leader_epoch, 0);       /* an ISR change is no leader change */
    CHECK_EQ(out.nisr, 2);
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK(isr_is(&st, 2, (int32_t[]){ 1, 2 }));
    CHECK_EQ(st.zk_version, 1);
    rec e;
    CHECK(EVENTUALLY(last(k.r, R_UM, 3, "a", 0, &e) && e.nisr == 2));
    /* refusals */
    int32_t isr3[] = { 1, 2, 3 };
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 7, 1, isr3, 3, &out),
             KERR_FENCED_LEADER_EPOCH);
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 0, 0, isr3, 3, &out),
             KERR_INVALID_UPDATE_VERSION);
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 0, 0, 1, isr3, 3, &out),
             KERR_NOT_LEADER_OR_FOLLOWER);
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1] + 1, "a", 0, 0, 1, isr3, 3, &out),
             KERR_STALE_BROKER_EPOCH);
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "nope", 0, 0, 1, isr3, 3, &out),
             KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 0, 1, (int32_t[]){ 1, 9 },
                                        2, &out), KERR_INVALID_REQUEST);
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 0, 1, (int32_t[]){ 2, 3 },
                                        2, &out), KERR_INVALID_REQUEST);   /* no leader */
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK_EQ(st.zk_version, 1);          /* none of them wrote */
    /* The same ISR again at a stale partition epoch: the current state. */
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 0, 0, (int32_t[]){ 2, 1 },
                                        2, &out), KERR_NONE);
    CHECK_EQ(out.partition_epoch, 1);
    /* A member that is not live is ineligible: broker 3 dies, p1 (leader 2,
     * epoch now 1) cannot take 3 back. */
    zk_close(k.b[3]);
    k.b[3] = NULL;
    CHECK(state_reaches(k.admin, "a", 1, 2, 1, &st));
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 1, 1, st.zk_version, isr3, 3,
                                        &out), KERR_INELIGIBLE_REPLICA);
    /* grow back to {2,1}... p1's ISR after 3 died is {2,1} already; the
     * leader of p1 re-sends it: answered with the current state */
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 1, 1, st.zk_version,
                                        (int32_t[]){ 2, 1 }, 2, &out), KERR_NONE);
    /* A broker that is not the controller answers NOT_CONTROLLER. */
    s2 = session(k.conn);
    REQUIRE(s2);
    controller_cfg cfg2 = { .broker_id = 2 };
    c2 = start(&cfg2, s2, r2);
    REQUIRE(c2);
    CHECK_EQ(controller_alter_partition(c2, 1, k.epoch[1], "a", 0, 0, 1, isr3, 3, &out),
             KERR_NOT_CONTROLLER);
out:
    controller_stop(c2);
    zk_close(s2);
    recorder_free(r2);
    cluster3_down(&k);
}

TEST(controller_deletes_a_topic_on_request)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    recorder_clear(k.r);
    zk_ensure_path(k.admin, ZK_PATH_DELETE_TOPICS);
    CHECK_EQ(zk_create(k.admin, ZK_PATH_DELETE_TOPICS "/a", NULL, 0, 0, NULL, 0, NULL), ZKR_OK);
    CHECK(EVENTUALLY(zk_exists(k.admin, ZK_PATH_DELETE_TOPICS "/a", false, NULL) == ZKR_NONODE));
    CHECK_EQ(zk_exists(k.admin, "/brokers/topics/a", false, NULL), ZKR_NONODE);
    rec e;
    for (int32_t id = 1; id <= 3; id++) {
        for (int32_t p = 0; p < 3; p++) {
            CHECK(last(k.r, R_SR, id, "a", p, &e));
            CHECK(e.del);
            CHECK_EQ(e.broker_epoch, k.epoch[id]);
        }
        CHECK(last(k.r, R_UM, id, "a", 1, &e));
        CHECK_EQ(e.leader, -2);          /* Kafka's LeaderDuringDelete */
    }
    /* A marker for a topic that does not exist is just removed. */
    CHECK_EQ(zk_create(k.admin, ZK_PATH_DELETE_TOPICS "/ghost", NULL, 0, 0, NULL, 0, NULL),
             ZKR_OK);
    CHECK(EVENTUALLY(zk_exists(k.admin, ZK_PATH_DELETE_TOPICS "/ghost", false, NULL) ==
                     ZKR_NONODE));
    /* The topic can be created again from scratch. */
    create_topic(k.admin, "a", 3, 3, k_rot);
    CHECK(state_reaches(k.admin, "a", 0, 1, 0, &st));
    CHECK_EQ(st.zk_version, 0);
out:
    cluster3_down(&k);
}

/* The topic znode's replicas / adding / removing of partition p. */
static bool read_moves(zk_session *s, const char *topic, int32_t p, int32_t *rep, int *nrep,
                       int *nadd, int *nrem)
{
    char path[256], *data, err[128];
    size_t len;
    zkl_path_topic(path, sizeof path, topic);
    if (zk_get(s, path, false, &data, &len, NULL) != ZKR_OK)
        return false;
    zkl_assignment a;
    int rc = zkl_assignment_decode(data, len, &a, err, sizeof err);
    free(data);
    if (rc < 0)
        return false;
    *nrep = a.nreplicas[p];
    memcpy(rep, a.replicas[p], (size_t)*nrep * sizeof *rep);
    *nadd = a.nadding ? a.nadding[p] : 0;
    *nrem = a.nremoving ? a.nremoving[p] : 0;
    zkl_assignment_free(&a);
    return true;
}

static bool sent_stop(recorder *r, int32_t to, const char *topic, int32_t p)
{
    rec e;
    return last(r, R_SR, to, topic, p, &e) && e.del;
}

TEST(controller_reassignment_start_complete_cancel_and_checks)
{
    cluster3 k;
    zk_session *b4 = NULL;
    if (!cluster3_up(&k, false))
        goto out;
    int64_t e4;
    b4 = fake_broker(k.conn, 4, &e4);
    REQUIRE(b4);
    CHECK(EVENTUALLY(count(k.r, R_UM, 4) > 0));          /* the controller knows broker 4 */

    /* a-0 [1,2,3] led by 1 -> [4,2,3]: 4 added, the leader's replica removed */
    controller_reassignment mv = { .topic = "a", .partition = 0,
                                   .replicas = (int32_t[]){ 4, 2, 3 }, .nreplicas = 3 };
    REQUIRE_EQ(controller_alter_reassignments(k.c, &mv, 1), KERR_NONE);
    CHECK_EQ(mv.error, KERR_NONE);
    int32_t rep[8];
    int nrep, nadd, nrem;
    CHECK(read_moves(k.admin, "a", 0, rep, &nrep, &nadd, &nrem));
    CHECK(nrep == 4 && rep[0] == 4 && rep[1] == 2 && rep[2] == 3 && rep[3] == 1);  /* C20 */
    CHECK(nadd == 1 && nrem == 1);
    zkl_partition_state st;
    CHECK(state_reaches(k.admin, "a", 0, 1, 1, &st));     /* C4: epoch bumped, leader kept */
    rec e;
    CHECK(EVENTUALLY(last(k.r, R_LAI, 4, "a", 0, &e) && e.leader == 1 && e.leader_epoch == 1));
    controller_ongoing *on;
    int non;
    CHECK_EQ(controller_list_reassignments(k.c, NULL, -1, &on, &non), KERR_NONE);
    CHECK(non == 1 && !strcmp(on[0].topic, "a") && on[0].partition == 0 && on[0].nadding == 1 &&
          on[0].adding[0] == 4 && on[0].nremoving == 1 && on[0].removing[0] == 1);
    controller_ongoing_free(on, non);
    CHECK(!sent_stop(k.r, 1, "a", 0));                    /* C21: not yet */

    /* the leader adds 4 to the ISR: the reassignment completes */
    controller_partition_state out;
    CHECK_EQ(controller_alter_partition(k.c, 1, k.epoch[1], "a", 0, 1, st.zk_version,
                                        (int32_t[]){ 1, 2, 3, 4 }, 4, &out), KERR_NONE);
    CHECK(state_reaches(k.admin, "a", 0, 4, 2, &st));     /* C22: a target replica in the ISR */
    CHECK(isr_is(&st, 3, (int32_t[]){ 2, 3, 4 }));        /* C23: ISR ∩ target */
    CHECK(read_moves(k.admin, "a", 0, rep, &nrep, &nadd, &nrem));
    CHECK(nrep == 3 && rep[0] == 4 && nadd == 0 && nrem == 0);
    CHECK(EVENTUALLY(sent_stop(k.r, 1, "a", 0)));         /* the removed replica goes */
    CHECK(!sent_stop(k.r, 2, "a", 0));

    /* a-1 [2,3,1] -> [4,3,1], then cancelled before 4 is in sync */
    controller_reassignment mv1 = { .topic = "a", .partition = 1,
                                    .replicas = (int32_t[]){ 4, 3, 1 }, .nreplicas = 3 };
    REQUIRE_EQ(controller_alter_reassignments(k.c, &mv1, 1), KERR_NONE);
    CHECK_EQ(mv1.error, KERR_NONE);
    controller_reassignment cancel = { .topic = "a", .partition = 1, .nreplicas = -1 };
    REQUIRE_EQ(controller_alter_reassignments(k.c, &cancel, 1), KERR_NONE);
    CHECK_EQ(cancel.error, KERR_NONE);
    CHECK(read_moves(k.admin, "a", 1, rep, &nrep, &nadd, &nrem));
    CHECK(nrep == 3 && nadd == 0 && nrem == 0);           /* ORS, in RS order */
    CHECK(rep[0] == 3 && rep[1] == 1 && rep[2] == 2);
    CHECK(EVENTUALLY(sent_stop(k.r, 4, "a", 1)));         /* the added replica goes */
    REQUIRE_EQ(controller_alter_reassignments(k.c, &cancel, 1), KERR_NONE);
    CHECK_EQ(cancel.error, KERR_NO_REASSIGNMENT_IN_PROGRESS);

    /* Kafka's checks */
    controller_reassignment bad[] = {
        { .topic = "a", .partition = 2, .replicas = (int32_t[]){ 0 }, .nreplicas = 0 },
        { .topic = "a", .partition = 2, .replicas = (int32_t[]){ 1, 1 }, .nreplicas = 2 },
        { .topic = "a", .partition = 2, .replicas = (int32_t[]){ 1, 9 }, .nreplicas = 2 },
        { .topic = "a", .partition = 2, .replicas = (int32_t[]){ -1 }, .nreplicas = 1 },
        { .topic = "a", .partition = 7, .replicas = (int32_t[]){ 1 }, .nreplicas = 1 },
        { .topic = "zz", .partition = 0, .replicas = (int32_t[]){ 1 }, .nreplicas = 1 },
    };
    REQUIRE_EQ(controller_alter_reassignments(k.c, bad, 6), KERR_NONE);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(bad[i].error, KERR_INVALID_REPLICA_ASSIGNMENT);
    CHECK(strstr(bad[2].message, "not alive") != NULL);
    CHECK_EQ(bad[4].error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CHECK_EQ(bad[5].error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
out:
    zk_close(b4);
    cluster3_down(&k);
}

/* ---- leadership operations (issue 14: C30-C36) ---- */

/* Broker id's dynamic config samsa.leadership.drained (NULL: none) and a
 * change notification, as IncrementalAlterConfigs writes them. */
static void set_drained(zk_session *s, int32_t id, const char *value)
{
    char path[128], *keys[1] = { "samsa.leadership.drained" }, *vals[1] = { (char *)value };
    zkl_config cfg = { .keys = keys, .values = vals, .n = value ? 1 : 0 };
    char *body = zkl_config_encode(&cfg);
    zkl_path_broker_config(path, sizeof path, id);
    zk_ensure_path(s, ZK_PATH_CONFIG_BROKERS);
    if (zk_create(s, path, body, strlen(body), 0, NULL, 0, NULL) == ZKR_NODEEXISTS)
        CHECK_EQ(zk_set(s, path, body, strlen(body), -1, NULL), ZKR_OK);
    free(body);
    char entity[32];
    snprintf(entity, sizeof entity, "brokers/%d", id);
    body = zkl_config_change_encode(entity);
    zk_ensure_path(s, ZK_PATH_CONFIG_CHANGES);
    CHECK_EQ(zk_create(s, ZK_PATH_CONFIG_CHANGES "/config_change_", body, strlen(body),
                       ZKC_SEQUENTIAL, NULL, 0, NULL), ZKR_OK);
    free(body);
}

TEST(controller_controlled_shutdown_moves_leaders_and_isr)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    controller_tp *rem = NULL;
    int nrem = -1;
    zkl_partition_state st;
    controller_partition_state aps;
    CHECK_EQ(controller_controlled_shutdown(k.c, 9, -1, &rem, &nrem), KERR_BROKER_NOT_AVAILABLE);
    CHECK_EQ(controller_controlled_shutdown(k.c, 1, k.epoch[1] + 1, &rem, &nrem),
             KERR_STALE_BROKER_EPOCH);
    CHECK_EQ(controller_controlled_shutdown(k.c, 1, k.epoch[1], &rem, &nrem), KERR_NONE);
    CHECK_EQ(nrem, 0);
    controller_tps_free(rem, nrem);
    /* p0 (1,2,3) led by 1: leader 2, epoch 1, 1 out of the ISR (C31) */
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK_EQ(st.leader, 2);
    CHECK_EQ(st.leader_epoch, 1);
    CHECK(isr_is(&st, 2, (int32_t[]){ 2, 3 }));
    /* p1 (2,3,1) and p2 (3,1,2): 1 left the ISR, same leader, epoch + 1 (C4) */
    CHECK(read_state(k.admin, "a", 1, &st));
    CHECK(st.leader == 2 && st.leader_epoch == 1 && isr_is(&st, 2, (int32_t[]){ 2, 3 }));
    CHECK(read_state(k.admin, "a", 2, &st));
    CHECK(st.leader == 3 && st.leader_epoch == 1 && isr_is(&st, 2, (int32_t[]){ 3, 2 }));
    rec e;
    CHECK(EVENTUALLY(last(k.r, R_LAI, 2, "a", 0, &e) && e.leader == 2 && e.leader_epoch == 1));
    CHECK(EVENTUALLY(last(k.r, R_LAI, 1, "a", 0, &e) && e.leader == 2));
    /* C31: it does not come back into an ISR while shutting down */
    CHECK(read_state(k.admin, "a", 1, &st));
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 1, 1, st.zk_version,
                                        (int32_t[]){ 2, 3, 1 }, 3, &aps), KERR_INELIGIBLE_REPLICA);
    /* C30: a new partition does not get it as leader, even as first replica */
    create_topic(k.admin, "n", 1, 2, (int32_t[]){ 1, 2 });
    CHECK(state_reaches(k.admin, "n", 0, 2, 0, &st));
    /* ... until it registers again (a new broker epoch): no longer shutting down */
    zk_close(k.b[1]);
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    create_topic(k.admin, "m", 1, 2, (int32_t[]){ 1, 2 });
    CHECK(state_reaches(k.admin, "m", 0, 1, 0, &st));
out:
    cluster3_down(&k);
}

TEST(controller_controlled_shutdown_reports_what_it_cannot_move)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    create_topic(k.admin, "r", 1, 2, (int32_t[]){ 1, 2 });
    create_topic(k.admin, "one", 1, 1, (int32_t[]){ 1 });
    CHECK(state_reaches(k.admin, "r", 0, 1, 0, &st));
    CHECK(state_reaches(k.admin, "one", 0, 1, 0, &st));
    zk_close(k.b[2]);            /* r-0's ISR: {1} */
    k.b[2] = NULL;
    CHECK(EVENTUALLY(read_state(k.admin, "r", 0, &st) && st.nisr == 1));
    controller_tp *rem = NULL;
    int nrem = 0;
    CHECK_EQ(controller_controlled_shutdown(k.c, 1, k.epoch[1], &rem, &nrem), KERR_NONE);
    /* r-0 stays (no other ISR member); "one" (RF 1) is not counted, as Kafka */
    REQUIRE(nrem == 1);
    CHECK(!strcmp(rem[0].topic, "r") && rem[0].partition == 0);
    controller_tps_free(rem, nrem);
    CHECK(read_state(k.admin, "r", 0, &st));
    CHECK(st.leader == 1 && isr_is(&st, 1, (int32_t[]){ 1 }));
out:
    cluster3_down(&k);
}

TEST(controller_elect_leaders_preferred_and_unclean)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    controller_partition_state aps;
    controller_tp *all = NULL;
    int nall = 0;
    controller_tp one = { .topic = "a", .partition = 0 };
    controller_tp bad[2] = { { .topic = "a", .partition = 5 }, { .topic = "zz", .partition = 0 } };
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &one, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(one.error, KERR_ELECTION_NOT_NEEDED);
    CHECK(one.message != NULL);
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, bad, 2, NULL, NULL), KERR_NONE);
    CHECK(bad[0].error == KERR_UNKNOWN_TOPIC_OR_PARTITION &&
          bad[1].error == KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CHECK_EQ(controller_elect_leaders(k.c, 5, &one, 1, NULL, NULL), KERR_INVALID_REQUEST);
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, NULL, 0, &all, &nall), KERR_NONE);
    CHECK_EQ(nall, 3);
    for (int i = 0; i < nall; i++)
        CHECK_EQ(all[i].error, KERR_ELECTION_NOT_NEEDED);
    controller_tps_free(all, nall);
    /* broker 1 restarts: p0 moves to 2 and 1 is out of its ISR */
    zk_close(k.b[1]);
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    CHECK(EVENTUALLY(read_state(k.admin, "a", 0, &st) && st.leader == 2 && st.nisr == 2));
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &one, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(one.error, KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    /* it catches up (the leader adds it back): now the preferred election moves p0 */
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 0, st.leader_epoch, st.zk_version,
                                        (int32_t[]){ 2, 3, 1 }, 3, &aps), KERR_NONE);
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &one, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(one.error, KERR_NONE);
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK(st.leader == 1 && st.nisr == 3);
    rec e;
    CHECK(EVENTUALLY(last(k.r, R_LAI, 1, "a", 0, &e) && e.leader == 1));
    /* unclean: only for an offline partition */
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_UNCLEAN, &one, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(one.error, KERR_ELECTION_NOT_NEEDED);
    create_topic(k.admin, "u", 1, 2, (int32_t[]){ 2, 3 });
    CHECK(state_reaches(k.admin, "u", 0, 2, 0, &st));
    zk_close(k.b[3]);            /* u-0's ISR: {2} */
    k.b[3] = NULL;
    CHECK(EVENTUALLY(read_state(k.admin, "u", 0, &st) && st.nisr == 1));
    zk_close(k.b[2]);            /* the last ISR member: offline (C10) */
    k.b[2] = NULL;
    CHECK(EVENTUALLY(read_state(k.admin, "u", 0, &st) && st.leader == -1));
    controller_tp u = { .topic = "u", .partition = 0 };
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_UNCLEAN, &u, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(u.error, KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);     /* nobody live */
    REQUIRE((k.b[3] = fake_broker(k.conn, 3, &k.epoch[3])));
    CHECK(EVENTUALLY(read_state(k.admin, "u", 0, &st) && st.leader == -1));
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &u, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(u.error, KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    /* once the controller has seen broker 3 register (its watch fires
     * after the znode exists, later under load) */
    CHECK(EVENTUALLY(controller_elect_leaders(k.c, CTL_ELECT_UNCLEAN, &u, 1, NULL, NULL) == KERR_NONE &&
                     u.error != KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE));
    CHECK_EQ(u.error, KERR_NONE);
    CHECK(read_state(k.admin, "u", 0, &st));
    CHECK(st.leader == 3 && isr_is(&st, 1, (int32_t[]){ 3 }));   /* C36 */
out:
    cluster3_down(&k);
}

TEST(controller_drained_broker_leads_only_as_a_last_resort)
{
    cluster3 k;
    if (!cluster3_up(&k, false))
        goto out;
    zkl_partition_state st;
    set_drained(k.admin, 2, "true");
    /* p1 (2,3,1) led by 2 moves to 3, ISR unchanged (C34) */
    CHECK(state_reaches(k.admin, "a", 1, 3, 1, &st));
    CHECK_EQ(st.nisr, 3);
    /* a preferred election refuses it (C33); an offline election passes it over */
    controller_tp p1 = { .topic = "a", .partition = 1 };
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &p1, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(p1.error, KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    zk_close(k.b[1]);            /* p0 (1,2,3): to 3, not to the drained 2 */
    k.b[1] = NULL;
    CHECK(state_reaches(k.admin, "a", 0, 3, 1, &st));
    /* availability first: the only ISR member left is the drained one */
    zk_close(k.b[3]);
    k.b[3] = NULL;
    CHECK(state_reaches(k.admin, "a", 0, 2, 2, &st));
    /* the state survives a controller failover (C35) */
    controller_stop(k.c);
    k.c = NULL;
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    REQUIRE((k.b[3] = fake_broker(k.conn, 3, &k.epoch[3])));
    controller_cfg cfg = { .broker_id = 1 };
    k.c = start(&cfg, k.cs, k.r);
    REQUIRE(active_for(k.c, 5000));
    controller_partition_state aps;
    CHECK(read_state(k.admin, "a", 1, &st));
    int32_t isr3[] = { 3, 2, 1 };
    /* p1 is led by the drained 2 (the last resort when 3 died): once 3
     * is back in the ISR, the periodic re-check moves it (C35) */
    CHECK(st.leader == 2 && st.nisr == 1);
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 1, st.leader_epoch,
                                        st.zk_version, isr3, 3, &aps), KERR_NONE);
    CHECK(EVENTUALLY(read_state(k.admin, "a", 1, &st) && st.leader == 3));
    CHECK_EQ(controller_elect_leaders(k.c, CTL_ELECT_PREFERRED, &p1, 1, NULL, NULL), KERR_NONE);
    CHECK_EQ(p1.error, KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    /* undrain: its preferred partitions come back to it */
    set_drained(k.admin, 2, NULL);
    CHECK(EVENTUALLY(read_state(k.admin, "a", 1, &st) && st.leader == 2));
out:
    cluster3_down(&k);
}

TEST(controller_auto_rebalance_moves_leaders_back)
{
    cluster3 k;
    controller_cfg cfg = { .broker_id = 1, .auto_leader_rebalance = true,
                           .imbalance_check_ms = 100, .imbalance_pct = 10 };
    if (!cluster3_up_with(&k, &cfg))
        goto out;
    zkl_partition_state st;
    controller_partition_state aps;
    zk_close(k.b[1]);
    REQUIRE((k.b[1] = fake_broker(k.conn, 1, &k.epoch[1])));
    CHECK(EVENTUALLY(read_state(k.admin, "a", 0, &st) && st.leader == 2 && st.nisr == 2));
    /* out of the ISR: nothing moves back yet */
    usleep(300000);
    CHECK(read_state(k.admin, "a", 0, &st));
    CHECK_EQ(st.leader, 2);
    /* back in the ISR: the next check moves p0 back to 1 */
    CHECK_EQ(controller_alter_partition(k.c, 2, k.epoch[2], "a", 0, st.leader_epoch, st.zk_version,
                                        (int32_t[]){ 2, 3, 1 }, 3, &aps), KERR_NONE);
    CHECK(EVENTUALLY(read_state(k.admin, "a", 0, &st) && st.leader == 1));
out:
    cluster3_down(&k);
}
