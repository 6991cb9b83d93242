/* test_zk_session.c - the ZooKeeper session layer against a real
 * ZooKeeper server (Debian's zookeeper jar, started here on a free
 * loopback port and stopped by PID): chroot creation, ephemeral nodes,
 * compare-and-set, children, watches, session loss, and a clear error
 * when nothing listens. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/zk_session.h"
#include "test.h"
#include "zk_server.h"

typedef struct events { atomic_int changed, child, expired, deleted; } events;

static void on_event(zk_session *s, enum zk_event ev, const char *path, void *ctx)
{
    (void)s;
    (void)path;
    events *e = ctx;
    if (ev == ZKE_CHANGED)
        atomic_fetch_add(&e->changed, 1);
    else if (ev == ZKE_CHILD)
        atomic_fetch_add(&e->child, 1);
    else if (ev == ZKE_EXPIRED)
        atomic_fetch_add(&e->expired, 1);
    else if (ev == ZKE_DELETED)
        atomic_fetch_add(&e->deleted, 1);
}

TEST(zk_session_against_a_real_zookeeper)
{
    zk_server z = { 0 };
    if (!zk_server_start(&z))
        return;
    char err[256], conn[128];
    events ev = { 0 };
    /* A chroot that does not exist yet is created, as Kafka does. */
    snprintf(conn, sizeof conn, "%s/samsa/test", z.connect);
    zk_session *s = zk_open(conn, 6000, 10000, on_event, &ev, err, sizeof err);
    if (!s) {
        test_fail(__FILE__, __LINE__, "zk_open: %s", err);
        goto out;
    }
    CHECK(zk_session_id(s) != 0);
    CHECK(zk_session_timeout_ms(s) > 0);

    /* Persistent node, ancestors made by ensure_path. */
    CHECK_EQ(zk_ensure_path(s, "/brokers/ids"), ZKR_OK);
    CHECK_EQ(zk_ensure_path(s, "/brokers/ids"), ZKR_OK);           /* idempotent */
    int64_t czxid = 0;
    CHECK_EQ(zk_create(s, "/brokers/ids/1", "{\"v\":1}", 7, ZKC_EPHEMERAL, NULL, 0, &czxid),
             ZKR_OK);
    CHECK(czxid > 0);
    CHECK_EQ(zk_create(s, "/brokers/ids/1", "x", 1, ZKC_EPHEMERAL, NULL, 0, NULL),
             ZKR_NODEEXISTS);
    CHECK_EQ(zk_create(s, "/no/parent", "x", 1, 0, NULL, 0, NULL), ZKR_NONODE);

    /* Get with version; compare-and-set wins once, then loses. */
    char *data;
    size_t len;
    zk_stat st;
    REQUIRE(zk_get(s, "/brokers/ids/1", true, &data, &len, &st) == ZKR_OK);
    CHECK_EQ(len, 7);
    CHECK_STR(data, "{\"v\":1}");
    CHECK(st.ephemeral_owner == zk_session_id(s));
    CHECK_EQ(st.czxid, czxid);
    free(data);
    int32_t v2 = -1;
    CHECK_EQ(zk_set(s, "/brokers/ids/1", "{\"v\":2}", 7, st.version, &v2), ZKR_OK);
    CHECK_EQ(v2, st.version + 1);
    CHECK_EQ(zk_set(s, "/brokers/ids/1", "{\"v\":3}", 7, st.version, NULL), ZKR_BADVERSION);
    CHECK(zk_wait_for(&ev.changed, 1, 5000));                      /* the watch fired */

    /* Large bodies are read whole (beyond the first 4 KiB guess). */
    size_t big = 100000;
    char *buf = malloc(big);
    REQUIRE(buf);
    memset(buf, 'a', big);
    CHECK_EQ(zk_create(s, "/big", buf, big, 0, NULL, 0, NULL), ZKR_OK);
    REQUIRE(zk_get(s, "/big", false, &data, &len, NULL) == ZKR_OK);
    CHECK_EQ(len, big);
    CHECK(len == big && !memcmp(data, buf, big));
    free(data);
    free(buf);

    /* Sequential nodes and children with a watch. */
    char created[128];
    CHECK_EQ(zk_ensure_path(s, "/config/changes"), ZKR_OK);
    char **names;
    int n;
    REQUIRE(zk_children(s, "/config/changes", true, &names, &n) == ZKR_OK);
    CHECK_EQ(n, 0);
    zk_free_strings(names, n);
    CHECK_EQ(zk_create(s, "/config/changes/config_change_", "{}", 2, ZKC_SEQUENTIAL, created,
                       sizeof created, NULL), ZKR_OK);
    CHECK_STR(created, "/config/changes/config_change_0000000000");
    CHECK(zk_wait_for(&ev.child, 1, 5000));
    REQUIRE(zk_children(s, "/config/changes", false, &names, &n) == ZKR_OK);
    REQUIRE_EQ(n, 1);
    CHECK_STR(names[0], "config_change_0000000000");
    zk_free_strings(names, n);

    CHECK_EQ(zk_delete(s, "/config", -1), ZKR_NOTEMPTY);
    CHECK_EQ(zk_delete(s, "/big", 5), ZKR_BADVERSION);
    CHECK_EQ(zk_delete(s, "/big", -1), ZKR_OK);
    CHECK_EQ(zk_exists(s, "/big", false, NULL), ZKR_NONODE);

    /* zk_multi: a version check plus a write apply together or not at
     * all, and the failing op is named. */
    zk_stat est;
    CHECK_EQ(zk_create(s, "/epoch", "1", 1, 0, NULL, 0, NULL), ZKR_OK);
    REQUIRE(zk_exists(s, "/epoch", false, &est) == ZKR_OK);
    zk_op ops[3] = {
        { .type = ZKOP_CHECK, .path = "/epoch", .version = est.version },
        { .type = ZKOP_CREATE, .path = "/state", .data = "a", .len = 1 },
    };
    int failed = 7;
    CHECK_EQ(zk_multi(s, ops, 2, &failed), ZKR_OK);
    CHECK_EQ(failed, -1);
    ops[1] = (zk_op){ .type = ZKOP_SET, .path = "/state", .data = "b", .len = 1, .version = 0 };
    CHECK_EQ(zk_multi(s, ops, 2, &failed), ZKR_OK);
    CHECK_EQ(ops[1].new_version, 1);
    /* Someone moves /epoch on: the next conditioned write fails whole. */
    CHECK_EQ(zk_set(s, "/epoch", "2", 1, est.version, NULL), ZKR_OK);
    ops[1].data = "c";
    ops[1].version = 1;
    CHECK_EQ(zk_multi(s, ops, 2, &failed), ZKR_BADVERSION);
    CHECK_EQ(failed, 0);
    CHECK_EQ(ops[0].rc, ZKR_BADVERSION);
    REQUIRE(zk_get(s, "/state", false, &data, &len, &st) == ZKR_OK);
    CHECK_STR(data, "b");
    CHECK_EQ(st.version, 1);
    free(data);
    /* A stale version on the second op: named as index 1. */
    ops[0].version = est.version + 1;
    ops[1].version = 0;
    ops[2] = (zk_op){ .type = ZKOP_DELETE, .path = "/epoch", .version = -1 };
    CHECK_EQ(zk_multi(s, ops, 3, &failed), ZKR_BADVERSION);
    CHECK_EQ(failed, 1);
    CHECK_EQ(zk_exists(s, "/epoch", false, NULL), ZKR_OK);    /* the delete did not apply */
    ops[1].version = 1;
    CHECK_EQ(zk_multi(s, ops, 3, &failed), ZKR_OK);
    CHECK_EQ(zk_exists(s, "/epoch", false, NULL), ZKR_NONODE);
    CHECK_EQ(zk_multi(s, ops, 0, &failed), ZKR_ERROR);

    /* The ephemeral node lives with the session: another session sees it
     * vanish when this one closes. */
    events ev2 = { 0 }, ev3 = { 0 }, ev4 = { 0 };
    zk_session *s2 = zk_open(conn, 6000, 10000, on_event, &ev2, err, sizeof err);
    REQUIRE(s2);
    /* Extra listeners see the same events; a removed one no longer does. */
    CHECK_EQ(zk_add_listener(s2, on_event, &ev3), 0);
    CHECK_EQ(zk_add_listener(s2, on_event, &ev4), 0);
    zk_remove_listener(s2, on_event, &ev4);
    CHECK_EQ(zk_exists(s2, "/brokers/ids/1", true, NULL), ZKR_OK);
    zk_close(s);
    s = NULL;
    CHECK(zk_wait_for(&ev2.deleted, 1, 5000));
    CHECK(zk_wait_for(&ev3.deleted, 1, 5000));
    CHECK_EQ(atomic_load(&ev4.deleted), 0);
    CHECK_EQ(zk_exists(s2, "/brokers/ids/1", false, NULL), ZKR_NONODE);
    /* The chroot is real: seen from the root it is /samsa/test/... */
    zk_session *root = zk_open(z.connect, 6000, 10000, NULL, NULL, err, sizeof err);
    REQUIRE(root);
    CHECK_EQ(zk_exists(root, "/samsa/test/brokers/ids", false, NULL), ZKR_OK);
    zk_close(root);

    /* The server dies: operations fail as "connection lost", not hang. */
    zk_server_stop(&z, SIGKILL);
    CHECK_EQ(zk_exists(s2, "/brokers", false, NULL), ZKR_CONNLOSS);
    zk_close(s2);
out:
    zk_close(s);
    zk_server_stop(&z, SIGKILL);
}

TEST(zk_open_names_the_address_it_could_not_reach)
{
    char err[256] = "", conn[64];
    snprintf(conn, sizeof conn, "127.0.0.1:%d", zk_free_port());   /* nobody listens */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    zk_session *s = zk_open(conn, 6000, 1500, NULL, NULL, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(s == NULL);
    zk_close(s);
    CHECK(strstr(err, conn) != NULL);
    CHECK(strstr(err, "1500 ms") != NULL);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took >= 1.4);          /* it waited the connection timeout, no less */
}
