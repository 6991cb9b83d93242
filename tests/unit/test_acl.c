/* test_acl.c - Kafka's ACL model (auth/acl.h): the authorizer's decision
 * (super users, no-ACL default, DENY over ALLOW, implied operations,
 * wildcards, prefixes), binding validation, filters with ANY/MATCH as
 * Kafka's AclBindingFilter, and the store's JSON (cluster/acl_store.h). */
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "cluster/acl_store.h"
#include "test.h"

static kprincipal P(const char *name)
{
    kprincipal p;
    kprincipal_set(&p, "User", name);
    return p;
}

static void add(acl_authz *a, int rt, int pt, const char *name, const char *principal,
                const char *host, int op, int perm)
{
    acl_binding b = { .rtype = (int8_t)rt, .pattern = (int8_t)pt, .name = name,
                      .principal = principal, .host = host, .op = (int8_t)op,
                      .perm = (int8_t)perm };
    char why[256];
    if (acl_binding_validate(&b, why, sizeof why))
        test_fail(__FILE__, __LINE__, "invalid binding: %s", why);
    CHECK(acl_authz_add(a, &b) == 0);
}

static bool can(acl_authz *a, const char *user, const char *host, int op, int rt,
                const char *name)
{
    kprincipal p = P(user);
    return acl_authorize(a, &p, host, op, rt, name, strlen(name));
}

TEST(acl_no_acl_default_and_super_users)
{
    acl_authz a;
    REQUIRE(acl_authz_init(&a, " User:admin ; User:ops", false) == 0);
    CHECK(!can(&a, "alice", "1.2.3.4", ACL_OP_READ, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "admin", "1.2.3.4", ACL_OP_READ, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "ops", "1.2.3.4", ACL_OP_ALTER, ACL_RT_CLUSTER, ACL_CLUSTER_NAME));
    acl_authz_free(&a);

    REQUIRE(acl_authz_init(&a, NULL, true) == 0);
    CHECK(can(&a, "alice", "h", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    /* Once any ACL names the resource, the default no longer applies. */
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:bob", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    CHECK(!can(&a, "alice", "h", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "alice", "h", ACL_OP_WRITE, ACL_RT_TOPIC, "other"));
    acl_authz_free(&a);
}

TEST(acl_deny_wins_and_implied_operations)
{
    acl_authz a;
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:alice", "*", ACL_OP_WRITE, ACL_PERM_ALLOW);
    CHECK(can(&a, "alice", "h", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "alice", "h", ACL_OP_DESCRIBE, ACL_RT_TOPIC, "t"));  /* implied */
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "t"));
    CHECK(!can(&a, "bob", "h", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:alice", "*", ACL_OP_ALTER_CONFIGS,
        ACL_PERM_ALLOW);
    CHECK(can(&a, "alice", "h", ACL_OP_DESCRIBE_CONFIGS, ACL_RT_TOPIC, "t"));
    /* DENY on a wildcard principal for one host beats the ALLOW. */
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:*", "10.0.0.9", ACL_OP_WRITE,
        ACL_PERM_DENY);
    CHECK(!can(&a, "alice", "10.0.0.9", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "alice", "10.0.0.8", ACL_OP_WRITE, ACL_RT_TOPIC, "t"));
    /* A DENY of WRITE does not deny DESCRIBE (Kafka denies the exact op or ALL). */
    CHECK(can(&a, "alice", "10.0.0.9", ACL_OP_DESCRIBE, ACL_RT_TOPIC, "t"));
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:alice", "*", ACL_OP_ALL, ACL_PERM_DENY);
    CHECK(!can(&a, "alice", "10.0.0.8", ACL_OP_DESCRIBE, ACL_RT_TOPIC, "t"));
    acl_authz_free(&a);
}

TEST(acl_wildcard_and_prefixed_resources)
{
    acl_authz a;
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    add(&a, ACL_RT_TOPIC, ACL_PT_PREFIXED, "orders-", "User:alice", "*", ACL_OP_READ,
        ACL_PERM_ALLOW);
    add(&a, ACL_RT_TOPIC, ACL_PT_PREFIXED, "a", "User:x", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    add(&a, ACL_RT_TOPIC, ACL_PT_PREFIXED, "zz", "User:x", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    add(&a, ACL_RT_GROUP, ACL_PT_LITERAL, "*", "User:alice", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    CHECK(can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders-eu"));
    CHECK(can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders-"));
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders"));
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "payments"));
    CHECK(can(&a, "alice", "h", ACL_OP_READ, ACL_RT_GROUP, "any-group"));
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TRANSACTIONAL_ID, "orders-eu"));
    /* A prefixed DENY on a longer prefix. */
    add(&a, ACL_RT_TOPIC, ACL_PT_PREFIXED, "orders-secret", "User:alice", "*", ACL_OP_READ,
        ACL_PERM_DENY);
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders-secret-1"));
    CHECK(can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders-open"));
    kprincipal p = P("alice");
    uint32_t ops = acl_authorized_ops(&a, &p, "h", ACL_RT_TOPIC, "orders-eu", 9);
    CHECK_EQ(ops, (1u << ACL_OP_READ) | (1u << ACL_OP_DESCRIBE));
    acl_authz_free(&a);
}

TEST(acl_binding_validation_is_kafkas)
{
    char why[256];
    acl_binding ok = { .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_LITERAL, .name = "t",
                       .principal = "User:alice", .host = "*", .op = ACL_OP_READ,
                       .perm = ACL_PERM_ALLOW };
    CHECK(acl_binding_validate(&ok, why, sizeof why) == 0);
    acl_binding b = ok;
    b.pattern = ACL_PT_MATCH;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b = ok, b.pattern = ACL_PT_ANY;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b = ok, b.rtype = ACL_RT_ANY;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b = ok, b.op = ACL_OP_ANY;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b = ok, b.perm = ACL_PERM_ANY;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b = ok, b.principal = "alice";
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    CHECK(strstr(why, "principalType:principalName") != NULL);
    b = ok, b.name = "";
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    CHECK_STR(why, "Invalid empty resource name");
    b = ok, b.rtype = ACL_RT_CLUSTER, b.name = "c", b.op = ACL_OP_ALTER;
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
    b.name = ACL_CLUSTER_NAME;
    CHECK(acl_binding_validate(&b, why, sizeof why) == 0);
    b = ok, b.rtype = ACL_RT_GROUP, b.op = ACL_OP_WRITE;   /* not a group operation */
    CHECK(acl_binding_validate(&b, why, sizeof why) < 0);
}

TEST(acl_filters_any_and_match)
{
    acl_binding lit = { .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_LITERAL, .name = "orders",
                        .principal = "User:alice", .host = "*", .op = ACL_OP_READ,
                        .perm = ACL_PERM_ALLOW };
    acl_binding star = lit, pre = lit;
    star.name = "*";
    pre.pattern = ACL_PT_PREFIXED, pre.name = "ord";
    acl_binding f = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                      .perm = ACL_PERM_ANY };
    CHECK(acl_filter_matches(&f, &lit) && acl_filter_matches(&f, &star) &&
          acl_filter_matches(&f, &pre));
    f.name = "orders";            /* ANY + name: exact names of either kind */
    CHECK(acl_filter_matches(&f, &lit));
    CHECK(!acl_filter_matches(&f, &star));
    CHECK(!acl_filter_matches(&f, &pre));
    f.pattern = ACL_PT_MATCH;     /* MATCH: what applies to the literal name */
    CHECK(acl_filter_matches(&f, &lit) && acl_filter_matches(&f, &star) &&
          acl_filter_matches(&f, &pre));
    f.name = "ord";
    CHECK(!acl_filter_matches(&f, &lit));
    CHECK(acl_filter_matches(&f, &pre));
    f.pattern = ACL_PT_PREFIXED;
    CHECK(acl_filter_matches(&f, &pre) && !acl_filter_matches(&f, &lit));
    f = (acl_binding){ .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_LITERAL, .op = ACL_OP_ANY,
                       .perm = ACL_PERM_DENY };
    CHECK(!acl_filter_matches(&f, &lit));
    f.perm = ACL_PERM_ANY, f.principal = "User:bob";
    CHECK(!acl_filter_matches(&f, &lit));
    f.principal = "User:alice", f.host = "*", f.op = ACL_OP_READ;
    CHECK(acl_filter_matches(&f, &lit));
    char why[128];
    f.op = ACL_OP_UNKNOWN;
    CHECK(acl_filter_validate(&f, why, sizeof why) < 0);
}

static void count_cb(const acl_binding *b, void *ctx)
{
    (void)b;
    (*(int *)ctx)++;
}

TEST(acl_remove_and_set_resource)
{
    acl_authz a;
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:alice", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", "User:alice", "*", ACL_OP_READ, ACL_PERM_ALLOW);
    add(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "u", "User:bob", "*", ACL_OP_WRITE, ACL_PERM_ALLOW);
    acl_binding all = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                        .perm = ACL_PERM_ANY };
    CHECK_EQ(acl_authz_each(&a, &all, NULL, NULL), 2);   /* duplicates kept once */
    acl_binding bob = all;
    bob.principal = "User:bob";
    int n = 0;
    CHECK_EQ(acl_authz_remove(&a, &bob, count_cb, &n), 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(a.nres, 1);
    acl_entry e[2] = { { .principal = "User:carol", .host = "*", .op = ACL_OP_WRITE,
                         .perm = ACL_PERM_ALLOW },
                       { .principal = "User:dave", .host = "*", .op = ACL_OP_READ,
                         .perm = ACL_PERM_ALLOW } };
    CHECK(acl_authz_set_resource(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", e, 2) == 0);
    CHECK(!can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "t"));
    CHECK(can(&a, "dave", "h", ACL_OP_READ, ACL_RT_TOPIC, "t"));
    CHECK(acl_authz_set_resource(&a, ACL_RT_TOPIC, ACL_PT_LITERAL, "t", NULL, 0) == 0);
    CHECK_EQ(a.nres, 0);
    acl_authz_free(&a);
}

TEST(acl_json_is_kafkas)
{
    const char *kafka = "{\"version\":1,\"acls\":[{\"principal\":\"User:alice\","
                        "\"permissionType\":\"Allow\",\"operation\":\"Read\",\"host\":\"*\"},"
                        "{\"host\":\"10.0.0.1\",\"permissionType\":\"Deny\",\"operation\":"
                        "\"IdempotentWrite\",\"principal\":\"User:*\"}]}";
    acl_entry *e;
    int n;
    char why[256];
    REQUIRE(acl_json_parse(kafka, strlen(kafka), &e, &n, why, sizeof why) == 0);
    REQUIRE_EQ(n, 2);
    CHECK_STR(e[0].principal, "User:alice");
    CHECK_EQ(e[0].op, ACL_OP_READ);
    CHECK_EQ(e[0].perm, ACL_PERM_ALLOW);
    CHECK_EQ(e[1].op, ACL_OP_IDEMPOTENT_WRITE);
    CHECK_EQ(e[1].perm, ACL_PERM_DENY);
    CHECK_STR(e[1].host, "10.0.0.1");
    char *s = acl_json_encode(e, n);
    REQUIRE(s != NULL);
    CHECK(strstr(s, "\"operation\":\"IdempotentWrite\"") != NULL);
    CHECK(strstr(s, "\"permissionType\":\"Allow\"") != NULL);
    acl_entry *e2;
    int n2;
    CHECK(acl_json_parse(s, strlen(s), &e2, &n2, why, sizeof why) == 0 && n2 == 2);
    acl_entries_free(e2, n2);
    free(s);
    acl_entries_free(e, n);
    const char *bad[] = { "", "[]", "{\"version\":2,\"acls\":[]}", "{\"version\":1}",
                          "{\"version\":1,\"acls\":[{\"principal\":\"alice\",\"permissionType\":"
                          "\"Allow\",\"operation\":\"Read\",\"host\":\"*\"}]}",
                          "{\"version\":1,\"acls\":[{\"principal\":\"User:a\",\"permissionType\":"
                          "\"Maybe\",\"operation\":\"Read\",\"host\":\"*\"}]}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(acl_json_parse(bad[i], strlen(bad[i]), &e, &n, why, sizeof why) < 0);
}

TEST(acl_change_notifications_are_kafkas)
{
    char buf[512];
    int rt, pt;
    char name[256];
    CHECK(acl_change_encode(ACL_RT_TOPIC, ACL_PT_LITERAL, "orders", buf, sizeof buf) == 0);
    CHECK_STR(buf, "TOPIC:orders");
    CHECK(acl_change_encode(ACL_RT_GROUP, ACL_PT_PREFIXED, "g-", buf, sizeof buf) == 0);
    CHECK_STR(buf, "{\"version\":1,\"resourceType\":\"GROUP\",\"name\":\"g-\","
                   "\"patternType\":\"PREFIXED\"}");
    CHECK(acl_change_decode("Topic:a:b", 9, false, &rt, &pt, name, sizeof name) == 0);
    CHECK(rt == ACL_RT_TOPIC && pt == ACL_PT_LITERAL);
    CHECK_STR(name, "a:b");
    CHECK(acl_change_decode(buf, strlen(buf), true, &rt, &pt, name, sizeof name) == 0);
    CHECK(rt == ACL_RT_GROUP && pt == ACL_PT_PREFIXED);
    CHECK_STR(name, "g-");
    CHECK(acl_change_decode("nonsense", 8, false, &rt, &pt, name, sizeof name) < 0);
    CHECK(acl_zk_path(ACL_RT_TRANSACTIONAL_ID, ACL_PT_PREFIXED, "tx", buf, sizeof buf) == 0);
    CHECK_STR(buf, "/kafka-acl-extended/prefixed/TransactionalId/tx");
    CHECK(acl_zk_path(ACL_RT_CLUSTER, ACL_PT_LITERAL, ACL_CLUSTER_NAME, buf, sizeof buf) == 0);
    CHECK_STR(buf, "/kafka-acl/Cluster/kafka-cluster");
}

TEST(acl_file_store_survives_reopen_and_refuses_garbage)
{
    const char *dir = test_tmpdir();
    char err[512];
    acl_authz a;
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    acl_store *s = acl_store_open_file(&a, dir, err, sizeof err);
    REQUIRE(s != NULL);
    acl_binding b1 = { .rtype = ACL_RT_TOPIC, .pattern = ACL_PT_PREFIXED, .name = "orders-",
                       .principal = "User:alice", .host = "*", .op = ACL_OP_READ,
                       .perm = ACL_PERM_ALLOW };
    acl_binding b2 = { .rtype = ACL_RT_CLUSTER, .pattern = ACL_PT_LITERAL,
                       .name = ACL_CLUSTER_NAME, .principal = "User:ops", .host = "10.0.0.1",
                       .op = ACL_OP_ALTER, .perm = ACL_PERM_DENY };
    const acl_binding *both[] = { &b1, &b2 };
    int rcs[2] = { -1, -1 };
    CHECK(acl_store_create_many(s, both, 2, rcs, err, sizeof err) == 0);
    CHECK(rcs[0] == 0 && rcs[1] == 0);
    acl_store_close(s);
    acl_authz_free(&a);

    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    s = acl_store_open_file(&a, dir, err, sizeof err);
    REQUIRE(s != NULL);
    acl_binding all = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                        .perm = ACL_PERM_ANY };
    CHECK_EQ(acl_authz_each(&a, &all, NULL, NULL), 2);
    CHECK(can(&a, "alice", "h", ACL_OP_READ, ACL_RT_TOPIC, "orders-1"));
    acl_binding alice = all;
    alice.principal = "User:alice";
    CHECK_EQ(acl_store_delete(s, &alice, NULL, NULL, err, sizeof err), 1);
    acl_store_close(s);
    acl_authz_free(&a);

    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    s = acl_store_open_file(&a, dir, err, sizeof err);
    REQUIRE(s != NULL);
    CHECK_EQ(acl_authz_each(&a, &all, NULL, NULL), 1);
    acl_store_close(s);
    acl_authz_free(&a);

    /* A damaged file stops the broker, naming the file. */
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, ACL_FILE);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("{\"version\":1,\"resources\":[{\"resourceType\":\"Topic\",\"patternType\":\"LITERAL\","
          "\"name\":\"t\",\"acls\":[{\"principal\":\"nobody\"}]}]}", f);
    fclose(f);
    REQUIRE(acl_authz_init(&a, NULL, false) == 0);
    CHECK(acl_store_open_file(&a, dir, err, sizeof err) == NULL);
    CHECK(strstr(err, ACL_FILE) != NULL);
    acl_authz_free(&a);
}
