/* test_acl_zk.c - the ZooKeeper ACL store (cluster/acl_store.h) against a
 * real ZooKeeper: two brokers' stores writing the same resource at the
 * same time both land (S-ACL7: compare-and-set, re-read, retry), a change
 * made through one store reaches the other's index through the change
 * notifications (S-ACL8), and the znode is Kafka's JSON. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/acl.h"
#include "cluster/acl_store.h"
#include "cluster/zk_session.h"
#include "test.h"
#include "zk_server.h"

typedef struct writer {
    acl_store *s;
    const char *principal;
    int rc;
} writer;

#define NWRITES 20

static void *write_many(void *arg)
{
    writer *w = arg;
    char why[256];
    for (int i = 0; i < NWRITES && !w->rc; i++) {
        acl_binding b = { .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_LITERAL, .name = "shared",
                          .principal = w->principal, .host = "*",
                          .op = (int8_t)(i % 2 ? ACL_OP_READ : ACL_OP_WRITE),
                          .perm = ACL_PERM_ALLOW };
        char host[32];
        snprintf(host, sizeof host, "10.0.0.%d", i);
        b.host = host;
        w->rc = acl_store_create(w->s, &b, why, sizeof why);
    }
    return NULL;
}

static int count_of(acl_authz *a, const char *principal)
{
    acl_binding f = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                      .perm = ACL_PERM_ANY, .principal = principal };
    return acl_authz_each(a, &f, NULL, NULL);
}

static bool wait_count(acl_authz *a, const char *principal, int want, int ms)
{
    for (int t = 0; t < ms; t += 10) {
        if (count_of(a, principal) == want)
            return true;
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
    return count_of(a, principal) == want;
}

TEST(acl_zk_store_cas_and_change_notifications)
{
    zk_server zs = { 0 };
    if (!zk_server_start(&zs))
        return;
    char conn[128], err[512];
    snprintf(conn, sizeof conn, "%s/acls", zs.connect);
    acl_authz a, b;
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    REQUIRE(acl_authz_init(&b, NULL, false) == 0);
    acl_store *sa = acl_store_open_zk(&a, conn, 6000, 10000, err, sizeof err);
    acl_store *sb = sa ? acl_store_open_zk(&b, conn, 6000, 10000, err, sizeof err) : NULL;
    if (!sa || !sb) {
        test_fail(__FILE__, __LINE__, "open: %s", err);
        goto out;
    }
    /* Both write the one znode at once: every binding survives. */
    writer wa = { .s = sa, .principal = "User:alice" }, wb = { .s = sb, .principal = "User:bob" };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, write_many, &wa);
    pthread_create(&tb, NULL, write_many, &wb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(wa.rc == 0 && wb.rc == 0);
    CHECK(wait_count(&a, "User:bob", NWRITES, 3000));
    CHECK(wait_count(&b, "User:alice", NWRITES, 3000));
    CHECK_EQ(count_of(&a, NULL), 2 * NWRITES);

    /* Kafka's JSON in Kafka's path. */
    zk_session *z = zk_open(conn, 6000, 10000, NULL, NULL, err, sizeof err);
    REQUIRE(z != NULL);
    char *data = NULL;
    size_t len;
    zk_stat st;
    CHECK(zk_get(z, "/kafka-acl/Topic/shared", false, &data, &len, &st) == ZKR_OK);
    acl_entry *e = NULL;
    int n = 0;
    CHECK(data && acl_json_parse(data, len, &e, &n, err, sizeof err) == 0);
    CHECK_EQ(n, 2 * NWRITES);
    acl_entries_free(e, n);
    free(data);

    /* A deletion through b reaches a; the emptied znode goes. */
    acl_binding bob = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                        .perm = ACL_PERM_ANY, .principal = "User:bob" };
    CHECK_EQ(acl_store_delete(sb, &bob, NULL, NULL, err, sizeof err), NWRITES);
    CHECK(wait_count(&a, "User:bob", 0, 3000));
    acl_binding all = bob;
    all.principal = NULL;
    CHECK_EQ(acl_store_delete(sa, &all, NULL, NULL, err, sizeof err), NWRITES);
    CHECK(zk_exists(z, "/kafka-acl/Topic/shared", false, &st) == ZKR_NONODE);
    CHECK(wait_count(&b, NULL, 0, 3000));
    zk_close(z);
out:
    acl_store_close(sb);
    acl_store_close(sa);
    acl_authz_free(&b);
    acl_authz_free(&a);
    zk_server_stop(&zs, SIGKILL);
}
