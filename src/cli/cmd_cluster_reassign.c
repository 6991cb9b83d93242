/*
 * cmd_cluster_reassign.c - `samsa cluster reassign`: move partition
 * replicas between brokers (KIP-455), what kafka-reassign-partitions.sh
 * does, plus a planner:
 *
 *   plan      --brokers 0,1,3 [--topics T,...]: a balanced move of the
 *             topics' replicas onto those brokers (reassign_plan.c); the
 *             plan is printed, and written as Kafka's JSON with --plan-out
 *   --execute the plan (or --from-json FILE, Kafka's JSON): with
 *             --throttle RATE, first the throttle configs Kafka's tool
 *             sets (each involved broker's leader/follower
 *             .replication.throttled.rate, each topic's leader throttle on
 *             the current replicas and follower throttle on the new ones);
 *             then AlterPartitionReassignments to the controller, then a
 *             progress bar (partitions done / total; plain lines when
 *             stderr is not a terminal) until done, unless --no-wait
 *   --verify  is the plan (or, without one, every reassignment) done?  When
 *             it is, the throttle configs are removed (Kafka's tool does
 *             the same); exit 1 while something is still moving
 *   --cancel  the plan's partitions (or every reassignment in progress):
 *             back to their original replicas; the throttles are removed
 *
 * Requests the CLI's librdkafka (2.0) has no API for go over our own wire
 * code (reassign_wire.c, plain TCP, cli_wire_call).  Main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/reassign.h"

#define POLL_US 500000              /* progress: ListPartitionReassignments every 0.5 s */
#define ALTER_ATTEMPTS 5            /* NOT_CONTROLLER: look the controller up again */
#define KERR_NOT_CONTROLLER 41
#define RT_TOPIC 2
#define RT_BROKER 4

static const char *o_brokers, *o_plan_out, *o_from_json, *o_throttle;
static cli_list_t o_topics;
static int o_execute, o_verify, o_cancel, o_no_wait;

typedef struct ctx {
    cli_client_t *c;
    cli_meta_t *m;
    const char *client_id;
} ctx;

/* ---- requests --------------------------------------------------------------------- */

static int64_t deadline(void)
{
    return cli_now_us() + (int64_t)(G.timeout_s * 1e6);
}

static int refresh(ctx *x)
{
    cli_meta_free(x->m);
    x->m = NULL;
    return cli_meta_get(x->c, NULL, &x->m);
}

/* One frame to broker id (-1: the controller); its answer. */
static int call(ctx *x, int32_t id, const uint8_t *req, size_t n, uint8_t **resp, size_t *len,
                char *err, size_t errlen)
{
    if (id < 0)
        id = x->m->controller_id;
    const cli_mbroker_t *b = cli_meta_broker(x->m, id);
    if (!b) {
        snprintf(err, errlen, "broker %d is not known (no controller?)", id);
        return -1;
    }
    return cli_wire_call(b->host, b->port, req, n, resp, len, deadline(), err, errlen);
}

/* IncrementalAlterConfigs of one resource on broker `to` (-1: controller). */
static int alter_configs(ctx *x, int32_t to, int8_t rtype, const char *rname,
                         const char *const *keys, const char *const *values, int n)
{
    uint8_t req[8192], *resp;
    size_t len, sz = ra_encode_configs(req, sizeof req, 1, x->client_id, rtype, rname, keys,
                                       values, n);
    char err[256];
    int16_t e = -1;
    if (!sz)
        return cli_fail(CLI_EFAIL, "config request for %s too large", rname);
    if (call(x, to, req, sz, &resp, &len, err, sizeof err) < 0)
        return cli_fail(CLI_EUNREACH, "%s", err);
    int d = ra_decode_configs(resp, len, 1, &e);
    free(resp);
    if (d < 0 || e)
        return cli_fail(CLI_EFAIL, "setting configs of %s %s: error %d",
                        rtype == RT_TOPIC ? "topic" : "broker", rname, d < 0 ? -1 : e);
    return CLI_OK;
}

/* ListPartitionReassignments from the controller. */
static int list_ongoing(ctx *x, ra_plan *out)
{
    uint8_t req[512], *resp;
    size_t len, sz = ra_encode_list(req, sizeof req, 2, x->client_id, 30000);
    char err[256];
    int16_t top = 0;
    for (int attempt = 0; attempt < ALTER_ATTEMPTS; attempt++) {
        if (call(x, -1, req, sz, &resp, &len, err, sizeof err) < 0)
            return cli_fail(CLI_EUNREACH, "%s", err);
        int d = ra_decode_list(resp, len, 2, out, &top);
        free(resp);
        if (d < 0)
            return cli_fail(CLI_EFAIL, "ListPartitionReassignments: bad response");
        if (top != KERR_NOT_CONTROLLER)
            break;
        ra_plan_free(out);
        usleep(200000);
        int rc = refresh(x);
        if (rc)
            return rc;
    }
    return top ? cli_fail(CLI_EFAIL, "ListPartitionReassignments: error %d", top) : CLI_OK;
}

static int listed(const ra_plan *ongoing, const ra_move *mv)
{
    for (int i = 0; i < ongoing->n; i++)
        if (ongoing->v[i].partition == mv->partition && !strcmp(ongoing->v[i].topic, mv->topic))
            return 1;
    return 0;
}

/* AlterPartitionReassignments of every move (cancel: replicas null). */
static int alter(ctx *x, ra_plan *p, int cancel)
{
    if (p->n == 0)
        return CLI_OK;
    size_t cap = (size_t)p->n * (RA_MAX_RF * 4 + 300) + 256;
    uint8_t *req = malloc(cap), *resp;
    int16_t *errs = calloc((size_t)p->n, sizeof *errs);
    int rc = CLI_EFAIL;
    if (!req || !errs) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    for (int i = 0; cancel && i < p->n; i++)
        p->v[i].nnew = -1;
    size_t len, sz = ra_encode_alter(req, cap, 3, x->client_id, p->v, p->n, 60000);
    char err[512], msg[512];
    int16_t top = KERR_NOT_CONTROLLER;
    for (int attempt = 0; attempt < ALTER_ATTEMPTS && top == KERR_NOT_CONTROLLER; attempt++) {
        if (attempt) {
            usleep(200000);
            if ((rc = refresh(x)))
                goto out;
        }
        if (call(x, -1, req, sz, &resp, &len, err, sizeof err) < 0) {
            rc = cli_fail(CLI_EUNREACH, "%s", err);
            goto out;
        }
        msg[0] = 0;
        int d = ra_decode_alter(resp, len, 3, p->v, p->n, errs, msg, sizeof msg, &top);
        free(resp);
        if (d < 0) {
            rc = cli_fail(CLI_EFAIL, "AlterPartitionReassignments: bad response");
            goto out;
        }
    }
    if (top) {
        rc = cli_fail(CLI_EFAIL, "AlterPartitionReassignments: error %d%s%s", top,
                      msg[0] ? ": " : "", msg);
        goto out;
    }
    int bad = 0;
    for (int i = 0; i < p->n; i++)
        if (errs[i] && bad++ < 8)
            cli_warn("%s-%d: refused with error %d", p->v[i].topic, p->v[i].partition, errs[i]);
    if (bad) {
        rc = cli_fail(CLI_EFAIL, "%d of %d partitions refused (%s)", bad, p->n, msg);
        goto out;
    }
    rc = CLI_OK;
out:
    free(req);
    free(errs);
    return rc;
}

/* ---- throttles (Kafka's tool's configs) ------------------------------------------- */

static const char *const RATE_KEYS[2] = {"leader.replication.throttled.rate",
                                         "follower.replication.throttled.rate"};
static const char *const LIST_KEYS[2] = {"leader.replication.throttled.replicas",
                                         "follower.replication.throttled.replicas"};

static int has(const int32_t *v, int n, int32_t id)
{
    for (int i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

/* "P:B,P:B" for topic's moves: leader side = current replicas, follower
 * side = the replicas being added. */
static char *throttle_list(const ra_plan *p, const char *topic, int follower)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = 0;
    for (int i = 0; i < p->n; i++) {
        const ra_move *mv = &p->v[i];
        if (strcmp(mv->topic, topic))
            continue;
        const int32_t *ids = follower ? mv->new_ : mv->old;
        int n = follower ? mv->nnew : mv->nold;
        for (int k = 0; k < n; k++) {
            if (follower && has(mv->old, mv->nold, ids[k]))
                continue;
            if (len + 32 > cap) {
                char *ns = realloc(s, cap *= 2);
                if (!ns) {
                    free(s);
                    return NULL;
                }
                s = ns;
            }
            len += (size_t)snprintf(s + len, cap - len, "%s%d:%d", len ? "," : "",
                                    mv->partition, ids[k]);
        }
    }
    return s;
}

static int set_throttle(ctx *x, const ra_plan *p, int64_t rate)
{
    char rv[32];
    snprintf(rv, sizeof rv, "%lld", (long long)rate);
    const char *vals[2] = {rv, rv};
    int rc;
    for (int32_t k = 0; k < x->m->nbrokers; k++) {
        int32_t id = x->m->brokers[k].id;
        int involved = 0;
        for (int i = 0; i < p->n && !involved; i++)
            involved = has(p->v[i].old, p->v[i].nold, id) || has(p->v[i].new_, p->v[i].nnew, id);
        char name[16];
        snprintf(name, sizeof name, "%d", id);
        if (involved && (rc = alter_configs(x, id, RT_BROKER, name, RATE_KEYS, vals, 2)))
            return rc;
    }
    for (int i = 0; i < p->n; i++) {
        if (i && !strcmp(p->v[i].topic, p->v[i - 1].topic))
            continue;
        char *l = throttle_list(p, p->v[i].topic, 0), *f = throttle_list(p, p->v[i].topic, 1);
        const char *tv[2] = {l, f};
        rc = l && f ? alter_configs(x, -1, RT_TOPIC, p->v[i].topic, LIST_KEYS, tv, 2)
                    : cli_fail(CLI_EFAIL, "out of memory");
        free(l);
        free(f);
        if (rc)
            return rc;
    }
    if (!G.quiet)
        fprintf(stderr, "throttle: %lld bytes/s on the replicas that move\n", (long long)rate);
    return CLI_OK;
}

/* Remove the throttle configs: every broker's rates, the topics' lists
 * (the plan's topics, or every topic without a plan). */
static int clear_throttle(ctx *x, const ra_plan *p)
{
    const char *none[2] = {NULL, NULL};
    int rc;
    for (int32_t k = 0; k < x->m->nbrokers; k++) {
        char name[16];
        snprintf(name, sizeof name, "%d", x->m->brokers[k].id);
        if ((rc = alter_configs(x, x->m->brokers[k].id, RT_BROKER, name, RATE_KEYS, none, 2)))
            return rc;
    }
    for (int32_t k = 0; k < x->m->ntopics; k++) {
        const char *t = x->m->topics[k].name;
        int in = !p || p->n == 0;
        for (int i = 0; p && i < p->n && !in; i++)
            in = !strcmp(p->v[i].topic, t);
        if (in && (rc = alter_configs(x, -1, RT_TOPIC, t, LIST_KEYS, none, 2)))
            return rc;
    }
    if (!G.quiet)
        fprintf(stderr, "throttle configs removed\n");
    return CLI_OK;
}

/* ---- output ------------------------------------------------------------------------- */

static void print_plan(const ra_plan *p)
{
    if (G.json) {
        char *s = ra_plan_json(p);
        if (s)
            printf("%s\n", s);
        free(s);
        return;
    }
    cli_table_t *t = cli_table_new(4, "TOPIC", ">PARTITION", "CURRENT", "TARGET");
    for (int i = 0; i < p->n; i++) {
        char a[512], b[512];
        cli_fmt_ids(a, sizeof a, p->v[i].old, p->v[i].nold);
        cli_fmt_ids(b, sizeof b, p->v[i].new_, p->v[i].nnew);
        cli_table_row(t);
        cli_table_cell(t, "%s", p->v[i].topic);
        cli_table_cell(t, "%d", p->v[i].partition);
        cli_table_cell(t, "%s", p->v[i].nold ? a : "-");
        cli_table_cell(t, "%s", b);
    }
    if (p->n)
        cli_table_print(t, stdout);
    cli_table_free(t);
    printf("%d of %lld partitions move (%lld replicas to copy)\n", p->n, (long long)p->partitions,
           (long long)p->replicas_moved);
}

/* "[#########...........]  12/40 partitions" */
static void progress(int done, int total, int final)
{
    if (G.quiet)
        return;
    if (cli_stderr_tty()) {
        char bar[41];
        int w = total ? (int)((int64_t)done * 40 / total) : 40;
        for (int i = 0; i < 40; i++)
            bar[i] = i < w ? '#' : '.';
        bar[40] = 0;
        cli_progress("[%s] %d/%d partitions reassigned", bar, done, total);
        if (final)
            cli_progress_end();
    } else {
        fprintf(stderr, "%d/%d partitions reassigned\n", done, total);
    }
}

/* Until none of p's partitions is being reassigned. */
static int wait_done(ctx *x, const ra_plan *p)
{
    int last = -1;
    while (!cli_interrupted) {
        ra_plan on;
        int rc = list_ongoing(x, &on);
        if (rc)
            return rc;
        int left = 0;
        for (int i = 0; i < p->n; i++)
            left += listed(&on, &p->v[i]);
        ra_plan_free(&on);
        int done = p->n - left;
        if (done != last)
            progress(done, p->n, left == 0);
        last = done;
        if (!left)
            return CLI_OK;
        usleep(POLL_US);
    }
    return CLI_EINTR;
}

/* ---- the command ---------------------------------------------------------------------- */

static int parse_brokers(const char *s, int32_t **out, int *n)
{
    *n = 0;
    *out = calloc(strlen(s) + 1, sizeof **out);
    if (!*out)
        return -1;
    const char *c = s;
    while (*c) {
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c || v < 0 || v > INT32_MAX || (*end && *end != ','))
            return -1;
        (*out)[(*n)++] = (int32_t)v;
        c = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *out = b;
    *len = n;
    return b ? 0 : -1;
}

/* The plan: from --from-json, or computed from --brokers; none for
 * --verify/--cancel without either (they then act on everything). */
static int get_plan(ctx *x, ra_plan *p, int *have)
{
    char err[256];
    *have = 0;
    if (o_from_json) {
        char *s;
        size_t n;
        if (read_file(o_from_json, &s, &n) < 0)
            return cli_fail(CLI_EFAIL, "cannot read %s", o_from_json);
        int r = ra_plan_parse(s, n, p, err, sizeof err);
        free(s);
        if (r < 0)
            return cli_fail(CLI_EFAIL, "%s: %s", o_from_json, err);
        /* the current replicas, for the throttle lists and the table */
        for (int i = 0; i < p->n; i++)
            for (int32_t k = 0; k < x->m->ntopics; k++)
                for (int32_t j = 0; j < x->m->topics[k].nparts; j++) {
                    const cli_mpart_t *mp = &x->m->topics[k].parts[j];
                    if (strcmp(x->m->topics[k].name, p->v[i].topic) || mp->id != p->v[i].partition ||
                        mp->nreplicas > RA_MAX_RF || mp->nreplicas < 1)
                        continue;
                    p->v[i].nold = mp->nreplicas;
                    memcpy(p->v[i].old, mp->replicas, (size_t)mp->nreplicas * sizeof(int32_t));
                }
        *have = 1;
        return CLI_OK;
    }
    if (!o_brokers)
        return CLI_OK;
    int32_t *to;
    int nto;
    if (parse_brokers(o_brokers, &to, &nto) < 0) {
        free(to);
        return cli_usage("--brokers wants a list of broker ids, e.g. 0,1,3");
    }
    const char **topics = NULL;
    if (o_topics.n) {
        topics = calloc(o_topics.n * 64 + 1, sizeof *topics);
        size_t k = 0;
        for (size_t i = 0; topics && i < o_topics.n; i++) {
            char *dup = strdup(o_topics.v[i]), *save = NULL;   /* freed at exit: argv-like */
            for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t && k < o_topics.n * 64;
                 t = strtok_r(NULL, ",", &save))
                topics[k++] = t;
        }
    }
    int r = ra_plan_make(x->m, topics, to, nto, p, err, sizeof err);
    free(to);
    free(topics);
    if (r < 0)
        return cli_fail(CLI_EFAIL, "%s", err);
    *have = 1;
    return CLI_OK;
}

static int do_verify(ctx *x, ra_plan *p, int have)
{
    ra_plan on;
    int rc = list_ongoing(x, &on);
    if (rc)
        return rc;
    int moving = 0, wrong = 0;
    if (have) {
        for (int i = 0; i < p->n; i++) {
            const ra_move *mv = &p->v[i];
            int busy = listed(&on, mv);
            int ok = !busy && mv->nold == mv->nnew &&
                     !memcmp(mv->old, mv->new_, (size_t)mv->nnew * sizeof(int32_t));
            moving += busy;
            wrong += !busy && !ok;
            if (!G.quiet)
                printf("%s-%d: %s\n", mv->topic, mv->partition,
                       busy ? "in progress" : ok ? "complete" : "failed (replicas differ)");
        }
    } else {
        moving = on.n;
        for (int i = 0; i < on.n && !G.quiet; i++)
            printf("%s-%d: in progress\n", on.v[i].topic, on.v[i].partition);
    }
    ra_plan_free(&on);
    if (moving) {
        printf("%d partition(s) still being reassigned; throttles kept\n", moving);
        return CLI_EFAIL;
    }
    if ((rc = clear_throttle(x, have ? p : NULL)))
        return rc;
    return wrong ? CLI_EFAIL : CLI_OK;
}

static int do_cancel(ctx *x, ra_plan *p, int have)
{
    ra_plan on;
    int rc;
    if (!have) {
        if ((rc = list_ongoing(x, &on)))
            return rc;
        p = &on;
    }
    int n = p->n;
    rc = n ? alter(x, p, 1) : CLI_OK;
    if (!have)
        ra_plan_free(&on);
    if (rc)
        return rc;
    printf("%d reassignment(s) cancelled\n", n);
    return clear_throttle(x, have ? p : NULL);
}

static int run_reassign(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (o_execute + o_verify + o_cancel > 1)
        return cli_usage("--execute, --verify and --cancel exclude each other");
    if (o_execute && !o_brokers && !o_from_json)
        return cli_usage("--execute needs --brokers or --from-json");
    if (!o_execute && !o_verify && !o_cancel && !o_brokers)
        return cli_usage("give --brokers to plan, with --execute to run it");
    int64_t rate = 0;
    if (o_throttle && (cli_parse_size(o_throttle, &rate) < 0 || rate <= 0))
        return cli_usage("--throttle wants bytes per second, e.g. 50m");
    int rc;
    ctx x = {.client_id = "samsa-reassign"};
    if (!(x.c = cli_admin_open(&rc)))
        return rc;
    ra_plan p = {0};
    int have = 0;
    if ((rc = cli_meta_get(x.c, NULL, &x.m)) || (rc = get_plan(&x, &p, &have)))
        goto out;
    if (o_verify) {
        rc = do_verify(&x, &p, have);
        goto out;
    }
    if (o_cancel) {
        rc = do_cancel(&x, &p, have);
        goto out;
    }
    print_plan(&p);
    if (o_plan_out) {
        char *s = ra_plan_json(&p);
        FILE *f = s ? fopen(o_plan_out, "w") : NULL;
        int ok = f && fprintf(f, "%s\n", s) > 0;
        if (f && fclose(f))
            ok = 0;
        free(s);
        if (!ok) {
            rc = cli_fail(CLI_EFAIL, "cannot write %s", o_plan_out);
            goto out;
        }
    }
    if (!o_execute || p.n == 0)
        goto out;
    if (rate > 0 && (rc = set_throttle(&x, &p, rate)))
        goto out;
    if ((rc = alter(&x, &p, 0)))
        goto out;
    if (!G.quiet)
        fprintf(stderr, "reassignment of %d partition(s) started\n", p.n);
    if (!o_no_wait)
        rc = wait_done(&x, &p);
    if (!rc && rate > 0 && !G.quiet)
        fprintf(stderr, "the throttle stays until 'samsa cluster reassign --verify' removes it\n");
out:
    ra_plan_free(&p);
    cli_meta_free(x.m);
    cli_client_free(x.c);
    return rc;
}

static const cli_opt_t reassign_opts[] = {
    {"brokers", 0, OPT_STR, "IDS", "plan a balanced move onto these brokers (e.g. 0,1,3)", &o_brokers},
    {"topics", 0, OPT_LIST, "T[,T..]", "only these topics (repeatable; default: every topic)",
     &o_topics},
    {"plan-out", 0, OPT_STR, "FILE", "write the plan as Kafka's reassignment JSON", &o_plan_out},
    {"from-json", 0, OPT_STR, "FILE", "use Kafka's reassignment JSON instead of planning",
     &o_from_json},
    {"execute", 0, OPT_FLAG, NULL, "start the reassignment and show its progress", &o_execute},
    {"throttle", 0, OPT_STR, "RATE", "with --execute: bytes/s for the replicas that move (50m)",
     &o_throttle},
    {"no-wait", 0, OPT_FLAG, NULL, "with --execute: return once started", &o_no_wait},
    {"verify", 0, OPT_FLAG, NULL, "done? then remove the throttle configs (exit 1 if not)",
     &o_verify},
    {"cancel", 0, OPT_FLAG, NULL, "cancel (the plan's, or every) reassignment in progress",
     &o_cancel},
    {0},
};

const cli_cmd_t cli_cmd_cluster_reassign = {
    .name = "reassign",
    .summary = "move partition replicas between brokers (plan, execute, verify, cancel)",
    .description =
        "Plans a balanced move of the replicas of every topic (or --topics) onto the brokers\n"
        "given with --brokers: replication factors and rack spread are kept, replicas on\n"
        "other brokers move, then replicas move from the fullest to the emptiest broker\n"
        "until their counts differ by at most one; nothing else moves. The plan is printed\n"
        "(--json: Kafka's reassignment JSON) and written with --plan-out; --from-json runs\n"
        "a plan of Kafka's kafka-reassign-partitions.sh instead.\n"
        "\n"
        "--execute starts it (AlterPartitionReassignments to the controller) and shows\n"
        "the partitions done until all are; --throttle first sets the throttle configs\n"
        "Kafka's tool sets, which --verify removes once everything is done. --cancel\n"
        "puts the partitions back on their original replicas.\n"
        "\n"
        "Here --brokers names the target brokers; give the bootstrap list with -b.\n",
    .examples = "samsa cluster reassign --brokers 0,1,2,3\n"
                "samsa cluster reassign --brokers 0,1,2,3 --execute --throttle 50m\n"
                "samsa cluster reassign --brokers 0,1,2 --topics orders --plan-out plan.json\n"
                "samsa cluster reassign --from-json plan.json --execute --no-wait\n"
                "samsa cluster reassign --verify\n"
                "samsa cluster reassign --cancel",
    .opts = reassign_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_reassign,
};
