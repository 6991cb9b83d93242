/*
 * test_entity.c - user/client-id entities: Kafka's Sanitizer and the entity
 * path codec (cluster/entity.h), the local store's entities (md_load_entities,
 * md_set_entity_configs, kept across md_store and a reopen), and the client
 * quota arithmetic (core/quota_math.h: Kafka's Rate window and throttle).
 */
#include <math.h>

#include "cluster/entity.h"
#include "cluster/metadata.h"
#include "cluster/metadata_store.h"
#include "core/quota_math.h"
#include "test.h"

TEST(entity_sanitize_is_kafkas)
{
    char out[256], back[256];
    REQUIRE(ent_sanitize("alice", out, sizeof out) == 0);
    CHECK_STR(out, "alice");
    REQUIRE(ent_sanitize("a b*c@d/\xc3\xa9.-_~", out, sizeof out) == 0);
    CHECK_STR(out, "a%20b%2Ac%40d%2F%C3%A9.-_%7E");
    REQUIRE(ent_desanitize(out, back, sizeof back) == 0);
    CHECK_STR(back, "a b*c@d/\xc3\xa9.-_~");
    REQUIRE(ent_desanitize("a+b", back, sizeof back) == 0);   /* URLDecoder: + is a space */
    CHECK_STR(back, "a b");
    CHECK(ent_desanitize("a%00b", back, sizeof back) < 0);    /* no NUL smuggled into a name */
    CHECK(ent_desanitize("a%G1", back, sizeof back) < 0);
    CHECK(ent_desanitize("a%4", back, sizeof back) < 0);
    CHECK(ent_sanitize("abc", out, 3) < 0);                    /* does not fit */
    CHECK(ent_sanitize("/", out, 3) < 0);
    REQUIRE(ent_sanitize("/", out, 4) == 0);
    CHECK_STR(out, "%2F");
}

TEST(entity_paths_round_trip)
{
    static const struct { const char *path; bool u, ud, c, cd; const char *user, *client; } v[] = {
        { "users/alice", true, false, false, false, "alice", "" },
        { "users/<default>", true, true, false, false, "", "" },
        { "clients/app%201", false, false, true, false, "", "app 1" },
        { "clients/<default>", false, false, true, true, "", "" },
        { "users/alice/clients/app", true, false, true, false, "alice", "app" },
        { "users/alice/clients/<default>", true, false, true, true, "alice", "" },
        { "users/<default>/clients/app", true, true, true, false, "", "app" },
        { "users/<default>/clients/<default>", true, true, true, true, "", "" },
        { "users/CN%3Dbob%2CO%3DSamsa", true, false, false, false, "CN=bob,O=Samsa", "" },
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        ent_name n;
        char back[ENT_PATH_MAX];
        REQUIRE(ent_path_parse(v[i].path, &n) == 0);
        CHECK_EQ(n.has_user, v[i].u);
        CHECK_EQ(n.user_default, v[i].ud);
        CHECK_EQ(n.has_client, v[i].c);
        CHECK_EQ(n.client_default, v[i].cd);
        CHECK_STR(n.user, v[i].user);
        CHECK_STR(n.client, v[i].client);
        REQUIRE(ent_path_format(&n, back, sizeof back) == 0);
        CHECK_STR(back, v[i].path);
    }
    static const char *const bad[] = { "topics/t", "users/", "users", "users/a/clients/",
                                       "users/a/x/b", "users/a%2", "clients/a/users/b",
                                       "users/a/clients/b/c", "brokers/<default>", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ent_name n;
        if (ent_path_parse(bad[i], &n) == 0)
            test_fail(__FILE__, __LINE__, "\"%s\" parsed", bad[i]);
    }
    ent_name empty = { .has_user = true };                   /* a named part needs a name */
    char out[64];
    CHECK(ent_path_format(&empty, out, sizeof out) < 0);
    ent_name none = { 0 };
    CHECK(ent_path_format(&none, out, sizeof out) < 0);
}

static topic_kv kv(const char *k, const char *v) { return (topic_kv){ (char *)k, (char *)v }; }

static const md_entity *find(const md_entities *e, const char *path)
{
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].path, path))
            return &e->v[i];
    return NULL;
}

TEST(entity_local_store_keeps_entities)
{
    const char *dir = test_tmpdir();
    char err[512];
    md_broker me = { .id = 1 };
    cluster_md *m = md_local_open(dir, &me, err, sizeof err);
    REQUIRE(m);
    meta_state st;
    REQUIRE(md_load(m, &st, err, sizeof err) == 0);
    meta_state_free(&st);
    topic_kv a[] = { kv("SCRAM-SHA-256", "salt=AA==,stored_key=AA==,server_key=AA==,iterations=4096"),
                     kv("producer_byte_rate", "1024") };
    REQUIRE(md_set_entity_configs(m, "users/alice", a, 2, err, sizeof err) == MD_OK);
    topic_kv c[] = { kv("consumer_byte_rate", "2048") };
    REQUIRE(md_set_entity_configs(m, "users/<default>/clients/app", c, 1, err, sizeof err) == MD_OK);
    REQUIRE(md_set_entity_configs(m, "clients/gone", c, 1, err, sizeof err) == MD_OK);
    REQUIRE(md_set_entity_configs(m, "clients/gone", NULL, 0, err, sizeof err) == MD_OK);
    /* A whole-state store (topics) keeps the entities. */
    meta_state empty = { 0 };
    REQUIRE(md_store(m, &empty, err, sizeof err) == 0);
    md_close(m);

    m = md_local_open(dir, &me, err, sizeof err);
    REQUIRE(m);
    REQUIRE(md_load(m, &st, err, sizeof err) == 0);
    meta_state_free(&st);
    md_entities es;
    REQUIRE(md_load_entities(m, &es, err, sizeof err) == MD_OK);
    CHECK_EQ(es.n, 2);
    const md_entity *e = find(&es, "users/alice");
    REQUIRE(e);
    REQUIRE_EQ(e->n, 2);
    CHECK(!find(&es, "clients/gone"));
    e = find(&es, "users/<default>/clients/app");
    REQUIRE(e);
    REQUIRE_EQ(e->n, 1);
    CHECK_STR(e->v[0].key, "consumer_byte_rate");
    CHECK_STR(e->v[0].value, "2048");
    md_entities_free(&es);
    /* One entity alone: found with its configs; gone or unknown: nothing. */
    REQUIRE(md_load_entity(m, "users/<default>/clients/app", &es, err, sizeof err) == MD_OK);
    REQUIRE_EQ(es.n, 1);
    CHECK_STR(es.v[0].path, "users/<default>/clients/app");
    CHECK(es.v[0].n == 1 && !strcmp(es.v[0].v[0].value, "2048"));
    md_entities_free(&es);
    REQUIRE(md_load_entity(m, "clients/gone", &es, err, sizeof err) == MD_OK);
    CHECK_EQ(es.n, 0);
    md_entities_free(&es);
    md_close(m);
}

TEST(quota_rate_window_is_kafkas)
{
    quota_rate q;
    quota_rate_init(&q, 11, 1000);
    /* A new client: the window counts as 10 full samples + the elapsed part. */
    quota_rate_record(&q, 20000, 1000);
    CHECK_EQ(quota_rate_window(&q, 1000), 10000);
    CHECK(fabs(quota_rate_measure(&q, 1000) - 2000.0) < 1e-9);
    CHECK_EQ(quota_rate_window(&q, 1500), 10500);
    /* Throttle: (rate - bound) / bound * window = (2000-1000)/1000 * 10000. */
    CHECK_EQ(quota_throttle_ms(2000, 1000, 10000), 10000);
    CHECK_EQ(quota_throttle_ms(1000, 1000, 10000), 0);      /* at the bound: none */
    CHECK_EQ(quota_throttle_ms(500, 1000, 10000), 0);
    CHECK_EQ(quota_throttle_ms(1e300, 1, 10000), INT32_MAX);
    CHECK_EQ(quota_throttle_ms(5, 0, 10000), 0);            /* no quota */
    quota_rate q2;
    quota_rate_init(&q2, 11, 1000);
    CHECK_EQ(quota_rate_record_check(&q2, 5000, 1000, 0), 0);   /* 500/s under 1000/s */
    /* 15000 more: 2000/s over 10 s -> 10000 ms. */
    CHECK_EQ(quota_rate_record_check(&q2, 15000, 1000, 0), 10000);
}

TEST(quota_rate_samples_advance_and_expire)
{
    quota_rate q;
    quota_rate_init(&q, 3, 1000);
    quota_rate_record(&q, 100, 0);
    quota_rate_record(&q, 100, 999);          /* same sample */
    CHECK_EQ(q.used, 1);
    quota_rate_record(&q, 100, 1000);         /* complete: the next one */
    CHECK_EQ(q.used, 2);
    quota_rate_record(&q, 100, 2500);
    quota_rate_record(&q, 100, 3600);         /* reuses the oldest slot */
    CHECK_EQ(q.used, 3);
    /* At t=4000 a sample started 3 x 1000 ms ago or earlier is reset (the
     * one of t=1000); those of 2500 and 3600 remain: 200 bytes. */
    double total = 0;
    (void)quota_rate_window(&q, 4000);
    for (int i = 0; i < q.used; i++)
        total += q.value[i];
    CHECK(fabs(total - 200) < 1e-9);
    /* A long silence: everything expires, the rate is 0. */
    CHECK(quota_rate_measure(&q, 100000) == 0);
    quota_rate_init(&q, 0, 0);                /* clamped */
    CHECK_EQ(q.nsamples, 1);
    CHECK_EQ(q.window_ms, 1);
}
