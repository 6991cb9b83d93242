/*
 * cmd_txn.c - `samsa txn list` and `samsa txn describe ID`: the
 * transactions the cluster's coordinators know (docs/cli.md), as Kafka's
 * kafka-transactions.sh list/describe.
 *
 * list: ListTransactions v0 to every broker of the metadata (each answers
 *   for the transactional ids it coordinates), merged and sorted by
 *   transactional id; --state filters on the broker.  A broker that cannot
 *   be asked is named on stderr, the others' answers are still printed,
 *   and the exit code is 1.
 * describe: FindCoordinator v3 (key type 1) to any broker, then
 *   DescribeTransactions v0 to the coordinator it names; while the
 *   coordinator moves or loads (COORDINATOR_NOT_AVAILABLE,
 *   NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) both are asked again
 *   until --timeout.  An unknown id (TRANSACTIONAL_ID_NOT_FOUND) exits 4.
 *
 * librdkafka 2.0.2 has neither request: the CLI's own codecs (txn_wire.c)
 * over the CLI's own connection (cli_wire_call: TLS and SASL PLAIN/SCRAM as
 * -X / --command-config say).
 *
 * JSON: list {"transactions": [{"transactional_id", "producer_id",
 * "state", "coordinator"}], "failed_brokers": [ids]}; describe
 * {"transactional_id", "coordinator", "state", "producer_id",
 * "producer_epoch", "timeout_ms", "start_time_ms", "partitions":
 * [{"topic", "partition"}]}.  Main thread only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/txn.h"

#define ERR_COORDINATOR_LOAD_IN_PROGRESS 14
#define ERR_COORDINATOR_NOT_AVAILABLE 15
#define ERR_NOT_COORDINATOR 16
#define ERR_TRANSACTIONAL_ID_NOT_FOUND 105
#define CLIENT_ID "samsa"

static int64_t deadline(void)
{
    return cli_now_us() + (int64_t)(G.timeout_s * 1e6);
}

/* The shared start: a client (for the metadata) that may send our own
 * requests.  NULL with *rc set after printing. */
static cli_client_t *open_own_wire(cli_meta_t **m, int *rc)
{
    cli_client_t *c = cli_admin_open(rc);
    if (!c)
        return NULL;
    if (!cli_own_wire(c)) {
        *rc = cli_fail(CLI_EFAIL, "%s sends its own requests (librdkafka has no transactions "
                       "admin API): SASL needs PLAIN or SCRAM-SHA-256/512 (sasl.mechanisms)",
                       G.cmdpath);
        cli_client_free(c);
        return NULL;
    }
    if ((*rc = cli_meta_get(c, NULL, m)) != CLI_OK) {
        cli_client_free(c);
        return NULL;
    }
    return c;
}

/* ---- list --------------------------------------------------------------------------------- */

static struct {
    cli_list_t states;
} lo;

static const cli_opt_t list_opts[] = {
    {"state", 's', OPT_LIST, "STATE",
     "only transactions in this state (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, "
     "CompleteAbort, PrepareEpochFence, Dead); repeatable", &lo.states},
    {0},
};

typedef struct txn_row {
    const cli_txn_listed_t *t;
    int32_t coordinator;
} txn_row;

static int cmp_row(const void *a, const void *b)
{
    const txn_row *x = a, *y = b;
    int c = strcmp(x->t->id, y->t->id);
    return c ? c : (x->coordinator > y->coordinator) - (x->coordinator < y->coordinator);
}

static void print_list(const txn_row *rows, size_t n, const int32_t *failed, int nfailed)
{
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_key(&w, "transactions");
        jw_arr(&w);
        for (size_t i = 0; i < n; i++) {
            jw_obj(&w);
            jw_kstr(&w, "transactional_id", rows[i].t->id);
            jw_kint(&w, "producer_id", rows[i].t->producer_id);
            jw_kstr(&w, "state", rows[i].t->state);
            jw_kint(&w, "coordinator", rows[i].coordinator);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "failed_brokers");
        jw_ids(&w, failed, nfailed);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
        return;
    }
    cli_table_t *t = cli_table_new(4, "TRANSACTIONAL-ID", ">PRODUCER-ID", "STATE", ">COORDINATOR");
    for (size_t i = 0; i < n; i++) {
        cli_table_row(t);
        cli_table_cell(t, "%s", rows[i].t->id);
        cli_table_cell(t, "%lld", (long long)rows[i].t->producer_id);
        cli_table_cell(t, "%s", rows[i].t->state);
        cli_table_cell(t, "%d", rows[i].coordinator);
    }
    if (n)
        cli_table_print(t, stdout);
    else if (!G.quiet)
        fprintf(stderr, "No transactions.\n");
    cli_table_free(t);
}

static int run_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc;
    cli_meta_t *m = NULL;
    cli_client_t *c = open_own_wire(&m, &rc);
    if (!c)
        return rc;
    int32_t nb = m->nbrokers;
    cli_txn_list_t *lists = calloc((size_t)nb + 1, sizeof *lists);
    int32_t *failed = calloc((size_t)nb + 1, sizeof *failed);
    size_t req_cap = 64 + lo.states.n * 260, total = 0;
    uint8_t *req = malloc(req_cap);
    int nfailed = 0;
    if (!lists || !failed || !req) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    size_t n = cli_txn_encode_list(req, req_cap, 1, CLIENT_ID, lo.states.v, (int)lo.states.n);
    if (!n) {
        rc = cli_usage("a --state value is too long");
        goto out;
    }
    int64_t dl = deadline();
    for (int32_t k = 0; k < nb; k++) {
        const cli_mbroker_t *b = &m->brokers[k];
        uint8_t *resp = NULL;
        size_t len;
        char err[256];
        if (cli_wire_call(b->host, b->port, req, n, &resp, &len, dl, err, sizeof err) < 0 ||
            cli_txn_decode_list(resp, len, 1, &lists[k], err, sizeof err) < 0) {
            cli_warn("broker %d (%s:%d): %s", b->id, b->host, b->port, err);
            failed[nfailed++] = b->id;
        } else if (lists[k].error) {
            cli_warn("broker %d (%s:%d): ListTransactions: %s", b->id, b->host, b->port,
                     cli_kerr_name(lists[k].error));
            failed[nfailed++] = b->id;
            cli_txn_list_free(&lists[k]);
        } else {
            for (int32_t i = 0; i < lists[k].nunknown; i++)
                cli_warn("broker %d does not know the state '%s'", b->id, lists[k].unknown_states[i]);
            total += (size_t)lists[k].n;
        }
        free(resp);
    }
    txn_row *rows = calloc(total + 1, sizeof *rows);
    if (!rows) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    size_t r = 0;
    for (int32_t k = 0; k < nb; k++)
        for (int32_t i = 0; i < lists[k].n; i++)
            rows[r++] = (txn_row){ &lists[k].v[i], m->brokers[k].id };
    qsort(rows, r, sizeof *rows, cmp_row);
    print_list(rows, r, failed, nfailed);
    free(rows);
    rc = nfailed ? CLI_EFAIL : CLI_OK;
out:
    for (int32_t k = 0; lists && k < nb; k++)
        cli_txn_list_free(&lists[k]);
    free(lists);
    free(failed);
    free(req);
    cli_meta_free(m);
    cli_client_free(c);
    return rc;
}

/* ---- describe ----------------------------------------------------------------------------- */

static int retriable(int16_t e)
{
    return e == ERR_COORDINATOR_LOAD_IN_PROGRESS || e == ERR_COORDINATOR_NOT_AVAILABLE ||
           e == ERR_NOT_COORDINATOR;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fmt_time(char *buf, size_t len, int64_t ms)
{
    if (ms < 0) {
        snprintf(buf, len, "-");
        return;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t o = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + o, len - o, ".%03dZ", (int)(ms % 1000));
}

static void print_desc(const cli_txn_desc_t *d, int32_t coordinator)
{
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "transactional_id", d->id);
        jw_kint(&w, "coordinator", coordinator);
        jw_kstr(&w, "state", d->state);
        jw_kint(&w, "producer_id", d->producer_id);
        jw_kint(&w, "producer_epoch", d->producer_epoch);
        jw_kint(&w, "timeout_ms", d->timeout_ms);
        jw_kint(&w, "start_time_ms", d->start_ms);
        jw_key(&w, "partitions");
        jw_arr(&w);
        for (int32_t i = 0; i < d->ntopics; i++)
            for (int32_t j = 0; j < d->topics[i].nparts; j++) {
                jw_obj(&w);
                jw_kstr(&w, "topic", d->topics[i].topic);
                jw_kint(&w, "partition", d->topics[i].parts[j]);
                jw_obj_end(&w);
            }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
        return;
    }
    char when[64];
    fmt_time(when, sizeof when, d->start_ms);
    printf("Transactional id:  %s\n", d->id);
    printf("Coordinator:       %d\n", coordinator);
    printf("State:             %s\n", d->state);
    printf("Producer id:       %lld\n", (long long)d->producer_id);
    printf("Producer epoch:    %d\n", d->producer_epoch);
    printf("Timeout:           %d ms\n", d->timeout_ms);
    printf("Start time:        %s\n", when);
    int n = 0;
    for (int32_t i = 0; i < d->ntopics; i++)
        n += d->topics[i].nparts;
    printf("Partitions:        %d\n", n);
    if (!n)
        return;
    printf("\n");
    cli_table_t *t = cli_table_new(2, "TOPIC", ">PARTITION");
    for (int32_t i = 0; i < d->ntopics; i++)
        for (int32_t j = 0; j < d->topics[i].nparts; j++) {
            cli_table_row(t);
            cli_table_cell(t, "%s", d->topics[i].topic);
            cli_table_cell(t, "%d", d->topics[i].parts[j]);
        }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/* One round: FindCoordinator to broker b, DescribeTransactions to the
 * coordinator.  0 with *d filled (d->error may be set), 1 to try again
 * (retriable error, named in why), or an exit code after printing. */
static int describe_once(const cli_mbroker_t *b, const char *id, int64_t dl, cli_txn_desc_t *d,
                         int32_t *coordinator, char *why, size_t whylen)
{
    uint8_t req[33000], *resp = NULL;
    size_t len;
    char err[256];
    cli_coord_t co;
    size_t n = cli_txn_encode_find_coordinator(req, sizeof req, 1, CLIENT_ID, id);
    if (!n)
        return cli_usage("transactional id too long");
    if (cli_wire_call(b->host, b->port, req, n, &resp, &len, dl, err, sizeof err) < 0 ||
        cli_txn_decode_find_coordinator(resp, len, 1, &co, err, sizeof err) < 0) {
        free(resp);
        snprintf(why, whylen, "broker %d (%s:%d): %s", b->id, b->host, b->port, err);
        return 1;
    }
    free(resp);
    resp = NULL;
    if (co.error) {
        snprintf(why, whylen, "FindCoordinator: %s%s%s", cli_kerr_name(co.error), co.message[0] ? ": " : "",
                 co.message);
        return retriable(co.error) ? 1 : cli_fail(CLI_EFAIL, "%s", why);
    }
    *coordinator = co.node_id;
    n = cli_txn_encode_describe(req, sizeof req, 2, CLIENT_ID, id);
    if (cli_wire_call(co.host, co.port, req, n, &resp, &len, dl, err, sizeof err) < 0 ||
        cli_txn_decode_describe(resp, len, 2, d, err, sizeof err) < 0) {
        free(resp);
        snprintf(why, whylen, "coordinator %d (%s:%d): %s", co.node_id, co.host, co.port, err);
        return 1;
    }
    free(resp);
    if (retriable(d->error)) {
        snprintf(why, whylen, "coordinator %d: DescribeTransactions: %s", co.node_id, cli_kerr_name(d->error));
        cli_txn_desc_free(d);
        return 1;
    }
    return 0;
}

static int run_describe(int argc, char **argv)
{
    (void)argc;
    const char *id = argv[0];
    int rc;
    cli_meta_t *m = NULL;
    cli_client_t *c = open_own_wire(&m, &rc);
    if (!c)
        return rc;
    cli_txn_desc_t d;
    memset(&d, 0, sizeof d);
    int32_t coordinator = -1;
    char why[1024] = "no broker in the metadata";
    int64_t dl = deadline();
    rc = 1;
    for (int k = 0; rc == 1 && m->nbrokers > 0; k++) {
        rc = describe_once(&m->brokers[k % m->nbrokers], id, dl, &d, &coordinator, why, sizeof why);
        if (rc == 1 && cli_now_us() + 100000 >= dl)
            break;
        if (rc == 1)
            sleep_ms(100);
    }
    if (rc == 1) {
        rc = cli_fail(CLI_EUNREACH, "cannot describe transactional id '%s' within %.1fs: %s", id,
                      G.timeout_s, why);
    } else if (rc == 0 && d.error == ERR_TRANSACTIONAL_ID_NOT_FOUND) {
        rc = cli_fail(CLI_ENOTFOUND, "transactional id '%s' does not exist", id);
    } else if (rc == 0 && d.error) {
        rc = cli_fail(CLI_EFAIL, "cannot describe transactional id '%s': %s", id, cli_kerr_name(d.error));
    } else if (rc == 0) {
        print_desc(&d, coordinator);
    }
    cli_txn_desc_free(&d);
    cli_meta_free(m);
    cli_client_free(c);
    return rc;
}

/* ---- the table --------------------------------------------------------------------------- */

static const cli_opt_t no_opts[] = {{0}};

static const cli_cmd_t txn_list = {
    .name = "list",
    .summary = "list the transactional ids every coordinator knows, with producer id and state",
    .examples = "samsa txn list\n"
                "samsa txn list --state Ongoing --json | jq -r '.transactions[].transactional_id'",
    .opts = list_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_list,
};

static const cli_cmd_t txn_describe = {
    .name = "describe",
    .args = "ID",
    .summary = "show a transactional id's state, producer id and epoch, timeout, start time and partitions",
    .examples = "samsa txn describe my-app-0\n"
                "samsa txn describe my-app-0 --json | jq .state",
    .opts = no_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_describe,
};

static const cli_cmd_t *const txn_subs[] = {&txn_list, &txn_describe, NULL};

const cli_cmd_t cli_cmd_txn = {
    .name = "txn",
    .summary = "inspect transactions: the transactional ids, their state and partitions",
    .description = "The CLI sends ListTransactions, FindCoordinator and DescribeTransactions\n"
                   "itself: over SASL it logs in with PLAIN or SCRAM-SHA-256/512.\n",
    .examples = "samsa txn list\n"
                "samsa txn describe my-app-0",
    .subs = txn_subs,
};
