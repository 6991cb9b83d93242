/*
 * test_cli_reassign.c - the CLI's reassignment planner and Kafka's JSON
 * (src/cli/reassign_plan.c): scale-out takes the fair share and no more,
 * decommission empties a broker, racks stay distinct, RF is kept, a plan
 * onto the current layout moves nothing, and the JSON round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/reassign.h"
#include "test.h"

#define NB 4
#define NP 4
#define RF 3

static int32_t reps[NP][RF] = { { 0, 1, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 0, 2, 1 } };

/* Brokers 0..3 (racks a, a, b, b when racked), topic "t": NP partitions on 0-2. */
static void make_meta(cli_meta_t *m, cli_mbroker_t *b, cli_mtopic_t *t, cli_mpart_t *p,
                      int racked)
{
    static char *racks[NB] = { "a", "a", "b", "b" };
    memset(m, 0, sizeof *m);
    for (int i = 0; i < NB; i++)
        b[i] = (cli_mbroker_t){ .id = i, .host = "h", .port = 9092 + i,
                                .rack = racked ? racks[i] : NULL };
    for (int j = 0; j < NP; j++)
        p[j] = (cli_mpart_t){ .id = j, .leader = reps[j][0], .nreplicas = RF, .nisr = RF,
                              .replicas = reps[j], .isr = reps[j] };
    *t = (cli_mtopic_t){ .name = "t", .nparts = NP, .parts = p };
    m->brokers = b;
    m->nbrokers = NB;
    m->topics = t;
    m->ntopics = 1;
    m->controller_id = 0;
}

/* Replicas per broker after the plan (moves applied to the layout). */
static void loads(const ra_plan *pl, int64_t *load)
{
    memset(load, 0, NB * sizeof *load);
    for (int j = 0; j < NP; j++) {
        const int32_t *r = reps[j];
        int n = RF;
        for (int i = 0; i < pl->n; i++)
            if (pl->v[i].partition == j) {
                r = pl->v[i].new_;
                n = pl->v[i].nnew;
            }
        CHECK_EQ(n, RF);
        for (int k = 0; k < n; k++)
            load[r[k]]++;
    }
}

TEST(cli_reassign_plan_scale_out_and_decommission)
{
    cli_meta_t m;
    cli_mbroker_t b[NB];
    cli_mtopic_t t;
    cli_mpart_t p[NP];
    make_meta(&m, b, &t, p, 0);
    ra_plan pl;
    char err[128];
    int64_t load[NB];

    int32_t same[] = { 0, 1, 2 };
    REQUIRE(ra_plan_make(&m, NULL, same, 3, &pl, err, sizeof err) == 0);
    CHECK_EQ(pl.n, 0);                        /* balanced already: nothing moves */
    ra_plan_free(&pl);

    int32_t out[] = { 0, 1, 2, 3 };
    REQUIRE(ra_plan_make(&m, NULL, out, 4, &pl, err, sizeof err) == 0);
    CHECK_EQ(pl.replicas_moved, 3);           /* 12 replicas: 3 each, 3 move to broker 3 */
    loads(&pl, load);
    for (int i = 0; i < NB; i++)
        CHECK_EQ(load[i], 3);
    ra_plan_free(&pl);

    int32_t dec[] = { 1, 2, 3 };
    REQUIRE(ra_plan_make(&m, NULL, dec, 3, &pl, err, sizeof err) == 0);
    loads(&pl, load);
    CHECK_EQ(load[0], 0);
    CHECK_EQ(load[3], 4);
    CHECK_EQ(pl.replicas_moved, 4);           /* exactly broker 0's replicas */
    for (int i = 0; i < pl.n; i++)            /* in place: its slot, others untouched */
        for (int k = 0; k < RF; k++)
            CHECK(pl.v[i].new_[k] == (pl.v[i].old[k] == 0 ? 3 : pl.v[i].old[k]));
    ra_plan_free(&pl);

    int32_t two[] = { 1, 2 };
    CHECK(ra_plan_make(&m, NULL, two, 2, &pl, err, sizeof err) < 0);   /* RF 3 on 2 brokers */
    int32_t ghost[] = { 0, 1, 9 };
    CHECK(ra_plan_make(&m, NULL, ghost, 3, &pl, err, sizeof err) < 0);
    CHECK(strstr(err, "broker 9") != NULL);
}

TEST(cli_reassign_plan_keeps_racks_and_json_round_trips)
{
    cli_meta_t m;
    cli_mbroker_t b[NB];
    cli_mtopic_t t;
    cli_mpart_t p[NP];
    make_meta(&m, b, &t, p, 1);
    ra_plan pl, back;
    char err[128];
    int32_t out[] = { 0, 1, 2, 3 };
    REQUIRE(ra_plan_make(&m, NULL, out, 4, &pl, err, sizeof err) == 0);
    for (int i = 0; i < pl.n; i++) {          /* both racks still used by every partition */
        int ra = 0, rb = 0;
        for (int k = 0; k < pl.v[i].nnew; k++) {
            ra |= pl.v[i].new_[k] <= 1;
            rb |= pl.v[i].new_[k] >= 2;
        }
        CHECK(ra && rb);
    }
    char *js = ra_plan_json(&pl);
    REQUIRE(js);
    CHECK(strstr(js, "\"version\":1") && strstr(js, "\"log_dirs\":[\"any\""));
    REQUIRE(ra_plan_parse(js, strlen(js), &back, err, sizeof err) == 0);
    REQUIRE_EQ(back.n, pl.n);
    for (int i = 0; i < pl.n; i++) {
        CHECK_STR(back.v[i].topic, pl.v[i].topic);
        CHECK_EQ(back.v[i].partition, pl.v[i].partition);
        CHECK(back.v[i].nnew == pl.v[i].nnew &&
              !memcmp(back.v[i].new_, pl.v[i].new_, (size_t)pl.v[i].nnew * sizeof(int32_t)));
    }
    free(js);
    ra_plan_free(&back);
    ra_plan_free(&pl);
    CHECK(ra_plan_parse("{\"partitions\":[{\"topic\":\"t\"}]}", 31, &back, err, sizeof err) < 0);
    CHECK(ra_plan_parse("nope", 4, &back, err, sizeof err) < 0);
}
