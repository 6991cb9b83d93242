/*
 * cmd_quota.c - `samsa quota set|list|delete`: client quotas of user and
 * client-id entities (docs/cli.md, docs/security.md), as Kafka's
 * `kafka-configs.sh --entity-type users|clients --alter --add-config
 * producer_byte_rate=...`.
 *
 * The entity: --user U or --user-default, and/or --client-id C or
 * --client-default.  set: the given keys (--producer-byte-rate,
 * --consumer-byte-rate, --request-percentage); delete: the given keys, or
 * all three when none is given; list: DescribeClientQuotas filtered by
 * the entity options given (none: every entity with a quota).
 * AlterClientQuotas v1 / DescribeClientQuotas v1 are the CLI's own
 * (entity_wire.c) over plain TCP (cli_bootstrap_call).  JSON: list
 * {"quotas": [{"user", "client_id" (absent: not part of the entity; null:
 * the default), "producer_byte_rate", ...}]}.  Main thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/entity.h"

#define CLIENT_ID "samsa"

static struct {
    const char *user, *client, *producer, *consumer, *request;
    int user_default, client_default;
} qo;

static const cli_opt_t entity_opts[] = {
    {"user", 'u', OPT_STR, "U", "the user (its principal name)", &qo.user},
    {"user-default", 0, OPT_FLAG, NULL, "the default user entity", &qo.user_default},
    {"client-id", 'c', OPT_STR, "C", "the client id", &qo.client},
    {"client-default", 0, OPT_FLAG, NULL, "the default client-id entity", &qo.client_default},
    {"producer-byte-rate", 0, OPT_STR, "N", "bytes/s of produce requests", &qo.producer},
    {"consumer-byte-rate", 0, OPT_STR, "N", "bytes/s of fetch responses", &qo.consumer},
    {"request-percentage", 0, OPT_STR, "P", "percent of one handler thread's time", &qo.request},
    {0},
};

static int entity_from_opts(cli_qentity_t *e, bool required)
{
    if ((qo.user && qo.user_default) || (qo.client && qo.client_default))
        return cli_usage("give a name or the default for each entity type, not both");
    *e = (cli_qentity_t){ .has_user = qo.user || qo.user_default, .user = qo.user,
                          .has_client = qo.client || qo.client_default, .client = qo.client };
    if (required && !e->has_user && !e->has_client)
        return cli_usage("name the entity: --user U, --user-default, --client-id C and/or "
                         "--client-default");
    return 0;
}

/* The ops given on the command line (values parsed); count or -1. */
static int ops_from_opts(cli_qop_t *ops, bool remove)
{
    const char *vals[3] = { qo.producer, qo.consumer, qo.request };
    static const char *const keys[3] = { "producer_byte_rate", "consumer_byte_rate",
                                         "request_percentage" };
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        char *end;
        double v = remove ? 0 : strtod(vals[i], &end);
        if (!remove && (end == vals[i] || *end || !(v > 0))) {
            cli_usage("bad --%s '%s' (a positive number)",
                      i == 0 ? "producer-byte-rate" : i == 1 ? "consumer-byte-rate"
                                                             : "request-percentage", vals[i]);
            return -1;
        }
        ops[n++] = (cli_qop_t){ keys[i], v, remove };
    }
    if (remove && n == 0)
        for (int i = 0; i < 3; i++)
            ops[n++] = (cli_qop_t){ keys[i], 0, true };
    return n;
}

static int alter(const cli_qentity_t *e, const cli_qop_t *ops, int n)
{
    uint8_t req[4096], *resp = NULL;
    size_t len, k = cli_quota_encode_alter(req, sizeof req, 1, CLIENT_ID, e, ops, n);
    char err[512] = "", msg[512];
    int16_t ec;
    if (!k)
        return cli_usage("entity name too long");
    if (cli_bootstrap_call(req, k, &resp, &len, err, sizeof err) < 0 ||
        cli_quota_decode_alter(resp, len, 1, &ec, msg, sizeof msg, err, sizeof err) < 0) {
        free(resp);
        return cli_fail(CLI_EUNREACH, "%s: %s", G.cmdpath, err);
    }
    free(resp);
    if (ec)
        return cli_fail(CLI_EFAIL, "%s: %s%s%s", G.cmdpath, cli_kerr_name(ec), msg[0] ? ": " : "",
                        msg);
    if (!G.quiet)
        fprintf(stderr, "Quotas updated.\n");
    return CLI_OK;
}

/* set (remove false) and delete (remove true). */
static int run_alter(bool remove)
{
    cli_qentity_t e;
    cli_qop_t ops[3];
    int rc = entity_from_opts(&e, true), n;
    if (rc)
        return rc;
    if ((n = ops_from_opts(ops, remove)) < 0)
        return CLI_EUSAGE;
    if (n == 0)
        return cli_usage("give at least one of --producer-byte-rate, --consumer-byte-rate, "
                         "--request-percentage");
    return alter(&e, ops, n);
}

static int run_set(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return run_alter(false);
}

static int run_delete(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return run_alter(true);
}

static void json_name(jw_t *w, const char *key, bool has, bool dflt, const char *name)
{
    if (!has)
        return;
    jw_key(w, key);
    if (dflt)
        jw_null(w);
    else
        jw_str(w, name);
}

static int run_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_qentity_t e;
    int rc = entity_from_opts(&e, false);
    if (rc)
        return rc;
    cli_qfilter_t f = { .has_user = e.has_user, .user_match = qo.user ? 0 : 1, .user = qo.user,
                        .has_client = e.has_client, .client_match = qo.client ? 0 : 1,
                        .client = qo.client };
    uint8_t req[4096], *resp = NULL;
    size_t len, k = cli_quota_encode_describe(req, sizeof req, 1, CLIENT_ID, &f, false);
    char err[512] = "";
    cli_qentries_t q;
    if (!k)
        return cli_usage("entity name too long");
    if (cli_bootstrap_call(req, k, &resp, &len, err, sizeof err) < 0 ||
        cli_quota_decode_describe(resp, len, 1, &q, err, sizeof err) < 0) {
        free(resp);
        return cli_fail(CLI_EUNREACH, "%s: %s", G.cmdpath, err);
    }
    free(resp);
    if (q.error) {
        rc = cli_fail(CLI_EFAIL, "%s: %s%s%s", G.cmdpath, cli_kerr_name(q.error),
                      q.message[0] ? ": " : "", q.message);
        cli_qentries_free(&q);
        return rc;
    }
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_key(&w, "quotas");
        jw_arr(&w);
        for (int32_t i = 0; i < q.n; i++) {
            const cli_qentry_t *x = &q.v[i];
            jw_obj(&w);
            json_name(&w, "user", x->has_user, x->user_default, x->user);
            json_name(&w, "client_id", x->has_client, x->client_default, x->client);
            for (int32_t j = 0; j < x->nvalues; j++)
                jw_knum(&w, x->key[j], x->value[j]);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        cli_table_t *t = cli_table_new(4, "USER", "CLIENT-ID", "KEY", ">VALUE");
        for (int32_t i = 0; i < q.n; i++)
            for (int32_t j = 0; j < q.v[i].nvalues; j++) {
                const cli_qentry_t *x = &q.v[i];
                cli_table_row(t);
                cli_table_cell(t, "%s", !x->has_user ? "-" : x->user_default ? "<default>" : x->user);
                cli_table_cell(t, "%s", !x->has_client ? "-" : x->client_default ? "<default>"
                                                                                 : x->client);
                cli_table_cell(t, "%s", x->key[j]);
                cli_table_cell(t, "%g", x->value[j]);
            }
        if (cli_table_rows(t))
            cli_table_print(t, stdout);
        else if (!G.quiet)
            fprintf(stderr, "No quotas.\n");
        cli_table_free(t);
    }
    cli_qentries_free(&q);
    return CLI_OK;
}

static const cli_cmd_t quota_set = {
    .name = "set",
    .summary = "set client quotas of a user, a client id, both, or a default",
    .examples = "samsa quota set --client-id loader --producer-byte-rate 1048576\n"
                "samsa quota set --user alice --consumer-byte-rate 2097152 --request-percentage 50\n"
                "samsa quota set --user-default --producer-byte-rate 10485760",
    .opts = entity_opts,
    .run = run_set,
};

static const cli_cmd_t quota_delete = {
    .name = "delete",
    .summary = "remove the given quota keys of an entity (all three when none is given)",
    .examples = "samsa quota delete --client-id loader\n"
                "samsa quota delete --user alice --request-percentage 0",
    .opts = entity_opts,
    .run = run_delete,
};

static const cli_cmd_t quota_list = {
    .name = "list",
    .summary = "list client quotas (every entity, or those matching the entity options)",
    .examples = "samsa quota list\nsamsa quota list --user alice --json",
    .opts = entity_opts,
    .run = run_list,
};

static const cli_cmd_t *const quota_subs[] = {&quota_set, &quota_list, &quota_delete, NULL};

const cli_cmd_t cli_cmd_quota = {
    .name = "quota",
    .summary = "manage client quotas (produce/fetch byte rates, request percentage)",
    .description = "Needs a plaintext listener (the CLI sends Describe/AlterClientQuotas itself).\n"
                   "A client over its quota gets throttle_time_ms in its responses and the broker\n"
                   "stops reading from it for that long (Kafka's KIP-219).\n",
    .examples = "samsa quota set --client-id loader --producer-byte-rate 1048576\n"
                "samsa quota list\n"
                "samsa quota delete --client-id loader",
    .subs = quota_subs,
};
