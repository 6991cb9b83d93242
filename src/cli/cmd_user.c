/*
 * cmd_user.c - `samsa user create|delete|list`: SCRAM users (docs/cli.md,
 * docs/security.md), as Kafka's `kafka-configs.sh --entity-type users
 * --alter --add-config 'SCRAM-SHA-256=[password=...]'`.
 *
 * create NAME --password P [--mechanism M] [--iterations N]: a random
 *   32-byte salt, the salted password Hi(P, salt, N) computed here
 *   (PBKDF2-HMAC over OpenSSL), sent as an AlterUserScramCredentials
 *   upsertion: the password itself never leaves the CLI.
 * delete NAME [--mechanism M]: that mechanism, or every one the user has.
 * list: DescribeUserScramCredentials for every user.
 *
 * S-ENT3: the password stays here; the salted password is wiped after use.
 *
 * The requests are the CLI's own (entity_wire.c) over plain TCP to the
 * first bootstrap broker that answers (cli_bootstrap_call, shared with
 * cmd_quota.c), so a plaintext listener is needed.  JSON: list
 * {"users": [{"user", "credentials": [{"mechanism", "iterations"}]}]}.
 * Main thread only.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/entity.h"

#define CLIENT_ID "samsa"
#define ERR_RESOURCE_NOT_FOUND 91

int cli_bootstrap_call(const uint8_t *req, size_t n, uint8_t **resp, size_t *len, char *err,
                       size_t errlen)
{
    int64_t dl = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    char *list = strdup(G.brokers), *save = NULL;
    int rc = -1;
    snprintf(err, errlen, "no bootstrap broker in '%s'", G.brokers);
    for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok && rc < 0;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        long port = colon ? strtol(colon + 1, NULL, 10) : 9092;
        if (colon)
            *colon = 0;
        const char *host = tok;
        if (host[0] == '[') {            /* [::1]:9092 */
            host++;
            char *rb = strchr(host, ']');
            if (rb)
                *rb = 0;
        }
        rc = cli_wire_call(host, (int32_t)port, req, n, resp, len, dl, err, errlen);
    }
    free(list);
    return rc;
}

static int8_t parse_mech(const char *s)
{
    if (!s || !strcmp(s, "SCRAM-SHA-256"))
        return 1;
    return !strcmp(s, "SCRAM-SHA-512") ? 2 : 0;
}

static const char *mech_name(int8_t m)
{
    return m == 1 ? "SCRAM-SHA-256" : m == 2 ? "SCRAM-SHA-512" : "unknown";
}

/* Send an AlterUserScramCredentials of ops; exit code after printing. */
static int alter(const cli_scram_op_t *ops, int nops, const char *what)
{
    uint8_t req[4096], *resp = NULL;
    size_t len, n = cli_scram_encode_alter(req, sizeof req, 1, CLIENT_ID, ops, nops);
    char err[512] = "";
    cli_user_results_t r;
    if (!n)
        return cli_usage("user name too long");
    int rc = cli_bootstrap_call(req, n, &resp, &len, err, sizeof err);
    OPENSSL_cleanse(req, sizeof req);
    if (rc < 0 || cli_scram_decode_alter(resp, len, 1, &r, err, sizeof err) < 0) {
        free(resp);
        return cli_fail(CLI_EUNREACH, "%s: %s", G.cmdpath, err);
    }
    free(resp);
    rc = CLI_OK;
    for (int32_t i = 0; i < r.n; i++)
        if (r.v[i].error) {
            rc = cli_fail(r.v[i].error == ERR_RESOURCE_NOT_FOUND ? CLI_ENOTFOUND : CLI_EFAIL,
                          "%s %s: %s%s%s", what, r.v[i].user, cli_kerr_name(r.v[i].error),
                          r.v[i].message[0] ? ": " : "", r.v[i].message);
        } else if (!G.quiet) {
            fprintf(stderr, "%s %s.\n", !strcmp(what, "create") ? "Created user" : "Deleted user",
                    r.v[i].user);
        }
    cli_user_results_free(&r);
    return rc;
}

/* ---- create ------------------------------------------------------------------------------- */

static struct {
    const char *password, *mechanism;
    int64_t iterations;
} co = { .iterations = 4096 };

static const cli_opt_t create_opts[] = {
    {"password", 'p', OPT_STR, "P", "the user's password (required)", &co.password},
    {"mechanism", 'm', OPT_STR, "M", "SCRAM-SHA-256 (default) or SCRAM-SHA-512", &co.mechanism},
    {"iterations", 'i', OPT_INT, "N", "PBKDF2 iterations, 4096 to 16384 (default 4096)",
     &co.iterations},
    {0},
};

static int run_create(int argc, char **argv)
{
    (void)argc;
    int8_t mech = parse_mech(co.mechanism);
    if (!co.password)
        return cli_usage("--password is required");
    if (!mech)
        return cli_usage("bad --mechanism '%s' (SCRAM-SHA-256 or SCRAM-SHA-512)", co.mechanism);
    if (co.iterations < 1 || co.iterations > INT32_MAX)
        return cli_usage("bad --iterations %lld", (long long)co.iterations);
    uint8_t salt[32], salted[64];
    size_t sn = 0;
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        cli_scram_salted_password(mech, co.password, salt, sizeof salt, (int32_t)co.iterations,
                                  salted, &sn) < 0)
        return cli_fail(CLI_EFAIL, "%s: cannot compute the salted password (OpenSSL)", G.cmdpath);
    cli_scram_op_t op = { .user = argv[0], .mech = mech, .upsert = true,
                          .iterations = (int32_t)co.iterations, .salt = salt,
                          .salt_len = sizeof salt, .salted = salted, .salted_len = sn };
    int rc = alter(&op, 1, "create");
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

/* ---- delete and list ---------------------------------------------------------------------- */

static struct {
    const char *mechanism;
} de;

static const cli_opt_t delete_opts[] = {
    {"mechanism", 'm', OPT_STR, "M", "only this mechanism (default: every one the user has)",
     &de.mechanism},
    {0},
};

/* DescribeUserScramCredentials of users (n 0: all); exit code. */
static int describe(const char *const *users, int n, cli_user_results_t *r)
{
    uint8_t req[4096], *resp = NULL;
    size_t len, k = cli_scram_encode_describe(req, sizeof req, 1, CLIENT_ID, users, n);
    char err[512] = "";
    if (!k)
        return cli_usage("user name too long");
    if (cli_bootstrap_call(req, k, &resp, &len, err, sizeof err) < 0 ||
        cli_scram_decode_describe(resp, len, 1, r, err, sizeof err) < 0) {
        free(resp);
        return cli_fail(CLI_EUNREACH, "%s: %s", G.cmdpath, err);
    }
    free(resp);
    if (r->error) {
        int rc = cli_fail(CLI_EFAIL, "%s: %s%s%s", G.cmdpath, cli_kerr_name(r->error),
                          r->message[0] ? ": " : "", r->message);
        cli_user_results_free(r);
        return rc;
    }
    return CLI_OK;
}

static int run_delete(int argc, char **argv)
{
    (void)argc;
    if (de.mechanism) {
        int8_t mech = parse_mech(de.mechanism);
        if (!mech)
            return cli_usage("bad --mechanism '%s' (SCRAM-SHA-256 or SCRAM-SHA-512)", de.mechanism);
        cli_scram_op_t op = { .user = argv[0], .mech = mech };
        return alter(&op, 1, "delete");
    }
    cli_user_results_t r;
    const char *u = argv[0];
    int rc = describe(&u, 1, &r);
    if (rc != CLI_OK)
        return rc;
    cli_scram_op_t ops[8];
    int n = 0;
    if (r.n == 1 && r.v[0].error)
        rc = cli_fail(r.v[0].error == ERR_RESOURCE_NOT_FOUND ? CLI_ENOTFOUND : CLI_EFAIL,
                      "delete %s: %s%s%s", u, cli_kerr_name(r.v[0].error),
                      r.v[0].message[0] ? ": " : "", r.v[0].message);
    for (int32_t k = 0; rc == CLI_OK && r.n == 1 && k < r.v[0].ncreds; k++)
        ops[n++] = (cli_scram_op_t){ .user = u, .mech = r.v[0].mech[k] };
    cli_user_results_free(&r);
    return rc == CLI_OK && n ? alter(ops, n, "delete") : rc;
}

static int run_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_user_results_t r;
    int rc = describe(NULL, 0, &r);
    if (rc != CLI_OK)
        return rc;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_key(&w, "users");
        jw_arr(&w);
        for (int32_t i = 0; i < r.n; i++) {
            jw_obj(&w);
            jw_kstr(&w, "user", r.v[i].user);
            jw_key(&w, "credentials");
            jw_arr(&w);
            for (int32_t k = 0; k < r.v[i].ncreds; k++) {
                jw_obj(&w);
                jw_kstr(&w, "mechanism", mech_name(r.v[i].mech[k]));
                jw_kint(&w, "iterations", r.v[i].iterations[k]);
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        cli_table_t *t = cli_table_new(3, "USER", "MECHANISM", ">ITERATIONS");
        for (int32_t i = 0; i < r.n; i++)
            for (int32_t k = 0; k < r.v[i].ncreds; k++) {
                cli_table_row(t);
                cli_table_cell(t, "%s", r.v[i].user);
                cli_table_cell(t, "%s", mech_name(r.v[i].mech[k]));
                cli_table_cell(t, "%d", r.v[i].iterations[k]);
            }
        if (cli_table_rows(t))
            cli_table_print(t, stdout);
        else if (!G.quiet)
            fprintf(stderr, "No SCRAM users.\n");
        cli_table_free(t);
    }
    cli_user_results_free(&r);
    return CLI_OK;
}

static const cli_opt_t no_opts[] = {{0}};

static const cli_cmd_t user_create = {
    .name = "create",
    .args = "NAME",
    .summary = "create a SCRAM user or change its password",
    .examples = "samsa user create alice --password alice-secret\n"
                "samsa user create bob --password s3cret --mechanism SCRAM-SHA-512 --iterations 8192",
    .opts = create_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_create,
};

static const cli_cmd_t user_delete = {
    .name = "delete",
    .args = "NAME",
    .summary = "delete a SCRAM user's credentials (one mechanism or all)",
    .examples = "samsa user delete alice\nsamsa user delete bob --mechanism SCRAM-SHA-512",
    .opts = delete_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_delete,
};

static const cli_cmd_t user_list = {
    .name = "list",
    .summary = "list the SCRAM users with their mechanisms and iterations",
    .examples = "samsa user list\nsamsa user list --json | jq -r '.users[].user'",
    .opts = no_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_list,
};

static const cli_cmd_t *const user_subs[] = {&user_create, &user_delete, &user_list, NULL};

const cli_cmd_t cli_cmd_user = {
    .name = "user",
    .summary = "manage SCRAM users (SASL/SCRAM-SHA-256 and SCRAM-SHA-512 credentials)",
    .description = "Needs a plaintext listener (the CLI sends Describe/AlterUserScramCredentials\n"
                   "itself). The password is salted and hashed here; only the salted form is sent.\n",
    .examples = "samsa user create alice --password alice-secret\n"
                "samsa user list\n"
                "samsa user delete alice",
    .subs = user_subs,
};
