/*
 * cmd_cluster_leaders.c - `samsa cluster elect-leaders`, `drain` and
 * `undrain`: moving partition leadership on purpose (docs/cli.md).
 *
 * elect-leaders: one ElectLeaders v1 request (meta_wire.c; librdkafka
 *   2.0.2 has no ElectLeaders) to the controller named by Metadata:
 *   preferred (default) or unclean elections for every partition, one
 *   topic's or one partition.  Prints each partition's result; exit 1
 *   when one failed (ELECTION_NOT_NEEDED is not a failure), as Kafka's
 *   kafka-leader-election.sh.
 * drain / undrain BROKER: IncrementalAlterConfigs v0 on the BROKER
 *   resource BROKER, to that broker (a per-broker dynamic config is
 *   altered through its broker, as in Kafka): SET
 *   samsa.leadership.drained=true, or DELETE it.  The controller watches
 *   the change and moves leadership (docs/controller.md, C34).  drain then
 *   waits (at most --timeout) until the broker leads no partition that
 *   another in-sync replica could lead.
 *
 * JSON: elect-leaders {"results": [{"topic","partition","error","message"}],
 * "elected", "not_needed", "failed"}; drain/undrain {"broker", "drained",
 * "leads": [{"topic","partition"}]}.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define DRAINED_KEY "samsa.leadership.drained"
#define RES_BROKER 4
#define OP_SET 0
#define OP_DELETE 1
#define ERR_ELECTION_NOT_NEEDED 84
#define ERR_NOT_CONTROLLER 41

/* One request frame to broker id (as Metadata names it) and its answer. */
static int call_broker(const cli_meta_t *m, int32_t id, const uint8_t *req, size_t n,
                       uint8_t **resp, size_t *len)
{
    const cli_mbroker_t *b = cli_meta_broker(m, id);
    if (!b)
        return cli_fail(CLI_EFAIL, "broker %d is not live (not in the cluster's metadata)", id);
    char err[256];
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    if (cli_wire_call(b->host, b->port, req, n, resp, len, deadline, err, sizeof err) < 0)
        return cli_fail(CLI_EUNREACH, "broker %d: %s", id, err);
    return CLI_OK;
}

/* ---- elect-leaders -------------------------------------------------------------------- */

static struct {
    const char *type, *topic;
    int64_t partition;
} eo = { .partition = -1 };

static const cli_opt_t elect_opts[] = {
    {"type", 0, OPT_STR, "preferred|unclean",
     "preferred: back to the first replica; unclean: an offline partition to any live replica", &eo.type},
    {"topic", 't', OPT_STR, "TOPIC", "only this topic's partitions (default: every partition)", &eo.topic},
    {"partition", 'p', OPT_INT, "N", "only this partition of --topic", &eo.partition},
    {0},
};

static void print_elect(const cli_elect_t *v, int n, int elected, int not_needed, int failed)
{
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_key(&w, "results");
        jw_arr(&w);
        for (int i = 0; i < n; i++) {
            jw_obj(&w);
            jw_kstr(&w, "topic", v[i].topic);
            jw_kint(&w, "partition", v[i].partition);
            jw_kstr(&w, "error", v[i].error ? cli_kerr_name(v[i].error) : NULL);
            jw_kstr(&w, "message", v[i].message);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_kint(&w, "elected", elected);
        jw_kint(&w, "not_needed", not_needed);
        jw_kint(&w, "failed", failed);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
        return;
    }
    cli_table_t *t = cli_table_new(4, "TOPIC", ">PARTITION", "RESULT", "MESSAGE");
    for (int i = 0; i < n; i++) {
        cli_table_row(t);
        cli_table_cell(t, "%s", v[i].topic);
        cli_table_cell(t, "%d", v[i].partition);
        cli_table_cell(t, "%s", v[i].error == 0 ? "elected"
                                : v[i].error == ERR_ELECTION_NOT_NEEDED ? "not needed"
                                : cli_kerr_name(v[i].error));
        cli_table_cell(t, "%s", v[i].message ? v[i].message : "");
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (!G.quiet)
        fprintf(stderr, "%d elected, %d not needed, %d failed\n", elected, not_needed, failed);
}

static int cmp_elect(const void *a, const void *b)
{
    const cli_elect_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int run_elect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int8_t type = 0;
    if (eo.type && !strcmp(eo.type, "unclean"))
        type = 1;
    else if (eo.type && strcmp(eo.type, "preferred"))
        return cli_usage("--type must be preferred or unclean, not '%s'", eo.type);
    if (eo.partition >= 0 && !eo.topic)
        return cli_usage("--partition needs --topic");
    if (eo.partition < -1 || eo.partition > INT32_MAX)
        return cli_usage("--partition must be a partition number");
    int rc;
    cli_meta_t *m = NULL;
    cli_elect_t *v = NULL;
    int32_t *parts = NULL;
    uint8_t *req = NULL, *resp = NULL;
    int n = 0, nparts = 0;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    if ((rc = cli_meta_get(c, eo.topic, &m)) != CLI_OK)
        goto out;
    if (m->controller_id < 0) {
        rc = cli_fail(CLI_EFAIL, "the cluster names no controller");
        goto out;
    }
    if (eo.topic) {
        const cli_mtopic_t *t = m->ntopics == 1 ? &m->topics[0] : NULL;
        if (!t || t->err == 3)
            rc = cli_fail(CLI_ENOTFOUND, "topic '%s' does not exist", eo.topic);
        else if (eo.partition >= t->nparts)
            rc = cli_fail(CLI_ENOTFOUND, "topic '%s' has no partition %lld", eo.topic,
                          (long long)eo.partition);
        if (rc != CLI_OK)
            goto out;
        nparts = eo.partition >= 0 ? 1 : t->nparts;
        if (!(parts = calloc((size_t)nparts + 1, sizeof *parts))) {
            rc = cli_fail(CLI_EFAIL, "out of memory");
            goto out;
        }
        for (int i = 0; i < nparts; i++)
            parts[i] = eo.partition >= 0 ? (int32_t)eo.partition : t->parts[i].id;
    }
    size_t cap = 1024 + strlen(eo.topic ? eo.topic : "") + (size_t)nparts * 4;
    if (!(req = malloc(cap))) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    const int32_t corr = 1;
    size_t len = cli_elect_encode_request(req, cap, corr, "samsa", type, eo.topic, parts, nparts,
                                          (int32_t)(G.timeout_s * 1000));
    if ((rc = call_broker(m, m->controller_id, req, len, &resp, &len)) != CLI_OK)
        goto out;
    int16_t top;
    char err[160];
    if (cli_elect_decode(resp, len, corr, &top, &v, &n, err, sizeof err) < 0) {
        rc = cli_fail(CLI_EFAIL, "controller %d: %s", m->controller_id, err);
        goto out;
    }
    if (top) {
        rc = cli_fail(CLI_EFAIL, "controller %d: %s%s", m->controller_id, cli_kerr_name(top),
                      top == ERR_NOT_CONTROLLER ? " (the controller moved: try again)" : "");
        goto out;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_elect);
    int elected = 0, not_needed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        elected += v[i].error == 0;
        not_needed += v[i].error == ERR_ELECTION_NOT_NEEDED;
        failed += v[i].error && v[i].error != ERR_ELECTION_NOT_NEEDED;
    }
    print_elect(v, n, elected, not_needed, failed);
    if (failed)
        rc = CLI_EFAIL;
out:
    cli_elect_free(v, n);
    free(parts);
    free(req);
    free(resp);
    cli_meta_free(m);
    cli_client_free(c);
    return rc;
}

const cli_cmd_t cli_cmd_cluster_elect = {
    .name = "elect-leaders",
    .summary = "run preferred or unclean leader elections (Kafka's kafka-leader-election)",
    .description =
        "Asks the controller (ElectLeaders) to elect leaders for every partition, one topic's\n"
        "(--topic) or one partition (--topic and --partition), and prints each partition's result.\n"
        "preferred (default): leadership goes back to each partition's first replica when it is\n"
        "live, in sync, not shutting down and not drained. unclean: only for an offline partition\n"
        "(no leader), any live replica becomes leader even out of sync - records it lacks are\n"
        "lost. Exit 1 when a partition failed; 'not needed' is not a failure.\n",
    .examples = "samsa cluster elect-leaders\n"
                "samsa cluster elect-leaders --topic orders\n"
                "samsa cluster elect-leaders --type unclean --topic orders --partition 3",
    .opts = elect_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_elect,
};

/* ---- drain / undrain ------------------------------------------------------------------ */

static int parse_broker(const char *s, int32_t *id)
{
    int64_t v;
    if (cli_parse_int(s, &v) < 0 || v < 0 || v > INT32_MAX)
        return cli_usage("BROKER must be a broker id, not '%s'", s);
    *id = (int32_t)v;
    return CLI_OK;
}

/* Partitions broker id leads that another in-sync replica could lead. */
static int movable(const cli_meta_t *m, int32_t id)
{
    int n = 0;
    for (int32_t k = 0; k < m->ntopics; k++)
        for (int32_t j = 0; j < m->topics[k].nparts; j++) {
            const cli_mpart_t *p = &m->topics[k].parts[j];
            n += p->leader == id && p->nisr > 1;
        }
    return n;
}

static void print_drain(const cli_meta_t *m, int32_t id, int drained)
{
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "broker", id);
        jw_key(&w, "drained");
        jw_bool(&w, drained);
        jw_key(&w, "leads");
        jw_arr(&w);
        for (int32_t k = 0; m && k < m->ntopics; k++)
            for (int32_t j = 0; j < m->topics[k].nparts; j++)
                if (m->topics[k].parts[j].leader == id) {
                    jw_obj(&w);
                    jw_kstr(&w, "topic", m->topics[k].name);
                    jw_kint(&w, "partition", m->topics[k].parts[j].id);
                    jw_obj_end(&w);
                }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
        return;
    }
    int leads = 0;
    for (int32_t k = 0; m && k < m->ntopics; k++)
        for (int32_t j = 0; j < m->topics[k].nparts; j++)
            leads += m->topics[k].parts[j].leader == id;
    if (drained)
        printf("broker %d drained: leads %d partition(s) no other in-sync replica can lead\n", id,
               leads);
    else
        printf("broker %d undrained: it may lead again; its preferred partitions move back to it\n",
               id);
}

static int set_drained(int argc, char **argv, int drain)
{
    (void)argc;
    int32_t id = -1;
    int rc = parse_broker(argv[0], &id);
    if (rc != CLI_OK)
        return rc;
    cli_meta_t *m = NULL;
    uint8_t req[512], *resp = NULL;
    size_t len;
    char name[16], *msg = NULL, err[160];
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    if ((rc = cli_meta_get(c, NULL, &m)) != CLI_OK)
        goto out;
    snprintf(name, sizeof name, "%d", id);
    const int32_t corr = 1;
    len = cli_iac_encode_request(req, sizeof req, corr, "samsa", RES_BROKER, name, DRAINED_KEY,
                                 drain ? OP_SET : OP_DELETE, drain ? "true" : NULL);
    if ((rc = call_broker(m, id, req, len, &resp, &len)) != CLI_OK)
        goto out;
    int16_t e;
    if (cli_iac_decode(resp, len, corr, &e, &msg, err, sizeof err) < 0) {
        rc = cli_fail(CLI_EFAIL, "broker %d: %s", id, err);
        goto out;
    }
    if (e) {
        rc = cli_fail(CLI_EFAIL, "broker %d: %s%s%s", id, cli_kerr_name(e), msg ? ": " : "",
                      msg ? msg : "");
        goto out;
    }
    /* drain: until the controller has moved what it can (bounded) */
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    while (drain && movable(m, id) && cli_now_us() < deadline && !cli_interrupted) {
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
        cli_meta_free(m);
        m = NULL;
        if ((rc = cli_meta_get(c, NULL, &m)) != CLI_OK)
            goto out;
    }
    if (drain && movable(m, id)) {
        rc = cli_fail(CLI_EFAIL, "broker %d is drained but still leads %d partition(s) other "
                      "in-sync replicas could lead after %gs", id, movable(m, id), G.timeout_s);
        goto out;
    }
    print_drain(m, id, drain);
out:
    free(msg);
    free(resp);
    cli_meta_free(m);
    cli_client_free(c);
    return rc;
}

static int run_drain(int argc, char **argv)
{
    return set_drained(argc, argv, 1);
}

static int run_undrain(int argc, char **argv)
{
    return set_drained(argc, argv, 0);
}

static const cli_opt_t no_opts[] = {{0}};

const cli_cmd_t cli_cmd_cluster_drain = {
    .name = "drain",
    .args = "BROKER",
    .summary = "maintenance mode: move a broker's leaderships away and keep them away",
    .description =
        "Sets samsa.leadership.drained=true on the broker (a per-broker dynamic config, in\n"
        "ZooKeeper: it survives controller failover and broker restarts). The controller moves\n"
        "every leadership of the broker to another in-sync replica and chooses it as leader only\n"
        "when no other in-sync replica can lead (availability first). It stays a replica and in\n"
        "the ISR. Waits (up to --timeout) until it leads nothing another replica could lead.\n"
        "The broker must be running: the config is set through it.\n",
    .examples = "samsa cluster drain 2\nsamsa cluster undrain 2",
    .opts = no_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_drain,
};

const cli_cmd_t cli_cmd_cluster_undrain = {
    .name = "undrain",
    .args = "BROKER",
    .summary = "end maintenance mode: the broker may lead again",
    .description = "Deletes samsa.leadership.drained from the broker; the controller runs preferred\n"
                   "elections for the partitions whose first replica it is.\n",
    .examples = "samsa cluster undrain 2",
    .opts = no_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_undrain,
};

