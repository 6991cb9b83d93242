/*
 * cmd_acl.c - `samsa acl`: create, list, delete ACLs, in Kafka's kafka-acls
 * vocabulary (--allow-principal User:alice --operation Read --topic T
 * [--resource-pattern-type prefixed], --deny-principal, --group, --cluster,
 * --transactional-id, --allow-host/--deny-host).  Everything goes through
 * librdkafka's CreateAcls/DescribeAcls/DeleteAcls, so -X security settings
 * (SASL, TLS) apply as for every other command.
 *
 * create: one binding per resource x principal x host x operation (hosts
 * default to "*", operations to All).  list and delete take the same
 * options as filters: no resource = every resource, no principal/host/
 * operation = any; the pattern type defaults to literal for create and to
 * any for list and delete (kafka-acls' defaults).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/acl.h"
#include "cli/cli.h"

/* Kafka's wire ids.  librdkafka 2.0.2 knows types up to 4 (its Broker is
 * Kafka's Cluster): it refuses to build a TransactionalId binding or
 * filter, and reports one it reads as Unknown, so --transactional-id ends
 * with an error naming the limit (kafka-acls.sh or kafka-python can). */
#define RT_TOPIC 2
#define RT_GROUP 3
#define RT_CLUSTER 4
#define RT_TXN 5
#define CLUSTER_NAME "kafka-cluster"

static struct {
    cli_list_t allow_p, deny_p, principal, allow_h, deny_h, ops, topics, groups, txns;
    int cluster;
    const char *pattern;
} ao;

static const cli_opt_t acl_opts[] = {
    {"allow-principal", 0, OPT_LIST, "P", "principal to allow (Type:name, e.g. User:alice); repeatable", &ao.allow_p},
    {"deny-principal", 0, OPT_LIST, "P", "principal to deny; repeatable", &ao.deny_p},
    {"principal", 0, OPT_LIST, "P", "list/delete: principal filter (either permission); repeatable", &ao.principal},
    {"allow-host", 0, OPT_LIST, "HOST", "host for --allow-principal (default *); repeatable", &ao.allow_h},
    {"deny-host", 0, OPT_LIST, "HOST", "host for --deny-principal (default *); repeatable", &ao.deny_h},
    {"operation", 0, OPT_LIST, "OP",
     "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, "
     "IdempotentWrite, All (create default All; list/delete default any); repeatable", &ao.ops},
    {"topic", 0, OPT_LIST, "T", "topic resource; repeatable", &ao.topics},
    {"group", 0, OPT_LIST, "G", "consumer group resource; repeatable", &ao.groups},
    {"transactional-id", 0, OPT_LIST, "ID", "transactional id resource; repeatable", &ao.txns},
    {"cluster", 0, OPT_FLAG, NULL, "the cluster resource (kafka-cluster)", &ao.cluster},
    {"resource-pattern-type", 0, OPT_STR, "TYPE",
     "literal or prefixed (create, default literal); any, match, literal or prefixed (list/delete, default any)",
     &ao.pattern},
    {0},
};

/* A name given on the command line: Kafka's spellings, any case, '_' and
 * '-' ignored (auth/acl.h); ANY only where the caller allows it. */
static int lookup(int (*parse)(const char *), const char *s)
{
    int v = parse(s);
    return v > 0 ? v : -1;
}

typedef struct res { int type; const char *name; } res_t;

/* The resources named on the command line (*n = 0: none). */
static res_t *resources(size_t *n)
{
    if (ao.txns.n) {
        cli_fail(CLI_EUSAGE, "--transactional-id: librdkafka %s (the client under samsa) has no "
                 "TransactionalId resource type; use kafka-acls.sh or an admin client that has",
                 rd_kafka_version_str());
        *n = 0;
        return NULL;
    }
    size_t cnt = ao.topics.n + ao.groups.n + ao.txns.n + (ao.cluster ? 1 : 0);
    res_t *r = calloc(cnt + 1, sizeof *r);
    size_t k = 0;
    for (size_t i = 0; r && i < ao.topics.n; i++)
        r[k++] = (res_t){ RT_TOPIC, ao.topics.v[i] };
    for (size_t i = 0; r && i < ao.groups.n; i++)
        r[k++] = (res_t){ RT_GROUP, ao.groups.v[i] };
    for (size_t i = 0; r && i < ao.txns.n; i++)
        r[k++] = (res_t){ RT_TXN, ao.txns.v[i] };
    if (r && ao.cluster)
        r[k++] = (res_t){ RT_CLUSTER, CLUSTER_NAME };
    *n = r ? k : 0;
    return r;
}

/* Operations; -1 after a usage error. */
static int parse_ops(int *out, int dflt)
{
    if (!ao.ops.n) {
        out[0] = dflt;
        return 1;
    }
    for (size_t i = 0; i < ao.ops.n; i++) {
        int op = lookup(acl_op_parse, ao.ops.v[i]);
        if (op < 0 || (op == 1 && dflt != 1))
            return cli_usage("unknown operation '%s'", ao.ops.v[i]);
        out[i] = op;
    }
    return (int)ao.ops.n;
}

static int parse_pattern(int dflt, int create)
{
    if (!ao.pattern)
        return dflt;
    int pt = lookup(acl_pattern_parse, ao.pattern);
    if (pt < 0 || (create && pt != 3 && pt != 4)) {
        cli_usage("invalid --resource-pattern-type '%s' (%s)", ao.pattern,
                  create ? "literal or prefixed" : "any, match, literal or prefixed");
        return -1;
    }
    return pt;
}

static void print_binding(jw_t *w, const rd_kafka_AclBinding_t *b, cli_table_t *t)
{
    int rt = (int)rd_kafka_AclBinding_restype(b), pt = (int)rd_kafka_AclBinding_resource_pattern_type(b);
    int op = (int)rd_kafka_AclBinding_operation(b), pm = (int)rd_kafka_AclBinding_permission_type(b);
    if (w) {
        jw_obj(w);
        jw_kstr(w, "resource_type", acl_rtype_zk_name(rt));
        jw_kstr(w, "name", rd_kafka_AclBinding_name(b));
        jw_kstr(w, "pattern_type", acl_pattern_zk_name(pt));
        jw_kstr(w, "principal", rd_kafka_AclBinding_principal(b));
        jw_kstr(w, "host", rd_kafka_AclBinding_host(b));
        jw_kstr(w, "operation", acl_op_zk_name(op));
        jw_kstr(w, "permission", acl_perm_zk_name(pm));
        jw_obj_end(w);
        return;
    }
    cli_table_row(t);
    cli_table_cell(t, "%s", acl_rtype_zk_name(rt));
    cli_table_cell(t, "%s", rd_kafka_AclBinding_name(b));
    cli_table_cell(t, "%s", acl_pattern_zk_name(pt));
    cli_table_cell(t, "%s", rd_kafka_AclBinding_principal(b));
    cli_table_cell(t, "%s", rd_kafka_AclBinding_host(b));
    cli_table_cell(t, "%s", acl_op_zk_name(op));
    cli_table_cell(t, "%s", acl_perm_zk_name(pm));
}

/* ---- create ------------------------------------------------------------------------- */

static int run_create(int argc, char **argv)
{
    (void)argc, (void)argv;
    size_t nres;
    res_t *rs = resources(&nres);
    if (ao.txns.n)
        return CLI_EUSAGE;
    if (!nres) {
        free(rs);
        return cli_usage("name a resource: --topic, --group, --transactional-id or --cluster");
    }
    if (!ao.allow_p.n && !ao.deny_p.n) {
        free(rs);
        return cli_usage("name a principal: --allow-principal or --deny-principal");
    }
    int ops[64], nops = ao.ops.n > 64 ? -1 : parse_ops(ops, 2);
    int pt = parse_pattern(3, 1);
    if (nops < 0 || pt < 0) {
        free(rs);
        return nops == -1 && ao.ops.n > 64 ? cli_usage("too many --operation values") : CLI_EUSAGE;
    }
    static const char *star[] = { "*" };
    size_t cap = nres * (ao.allow_p.n * (ao.allow_h.n ? ao.allow_h.n : 1) +
                         ao.deny_p.n * (ao.deny_h.n ? ao.deny_h.n : 1)) * (size_t)nops;
    rd_kafka_AclBinding_t **bs = calloc(cap + 1, sizeof *bs);
    size_t n = 0;
    int rc = CLI_OK;
    char err[256];
    for (int perm = 3; perm >= 2 && bs; perm--) {
        cli_list_t *ps = perm == 3 ? &ao.allow_p : &ao.deny_p;
        cli_list_t *hs = perm == 3 ? &ao.allow_h : &ao.deny_h;
        const char **hv = hs->n ? hs->v : star;
        size_t nh = hs->n ? hs->n : 1;
        for (size_t r = 0; r < nres; r++)
            for (size_t p = 0; p < ps->n; p++)
                for (size_t h = 0; h < nh; h++)
                    for (int o = 0; o < nops; o++) {
                        bs[n] = rd_kafka_AclBinding_new((rd_kafka_ResourceType_t)rs[r].type,
                                                        rs[r].name, (rd_kafka_ResourcePatternType_t)pt,
                                                        ps->v[p], hv[h], (rd_kafka_AclOperation_t)ops[o],
                                                        (rd_kafka_AclPermissionType_t)perm, err, sizeof err);
                        if (!bs[n]) {
                            rc = cli_usage("%s", err);
                            goto out;
                        }
                        n++;
                    }
    }
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        goto out;
    rd_kafka_AdminOptions_t *opt = cli_admin_options(c, RD_KAFKA_ADMIN_OP_CREATEACLS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_CreateAcls(c->rk, bs, n, opt, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_CREATEACLS_RESULT, &rc);
    if (ev) {
        size_t nr;
        const rd_kafka_acl_result_t **res = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &nr);
        jw_t w;
        jw_init(&w);
        jw_arr(&w);
        int nfail = 0;
        for (size_t i = 0; i < nr && i < n; i++) {
            const rd_kafka_error_t *e = rd_kafka_acl_result_error(res[i]);
            const rd_kafka_AclBinding_t *b = bs[i];
            if (G.json) {
                jw_obj(&w);
                jw_kstr(&w, "principal", rd_kafka_AclBinding_principal(b));
                jw_kstr(&w, "operation", acl_op_zk_name((int)rd_kafka_AclBinding_operation(b)));
                jw_kstr(&w, "resource", rd_kafka_AclBinding_name(b));
                jw_kstr(&w, "error", e ? rd_kafka_error_string(e) : NULL);
                jw_obj_end(&w);
            }
            if (e) {
                nfail++;
                cli_fail(CLI_EFAIL, "cannot create ACL %s %s %s on %s '%s': %s",
                         acl_perm_zk_name((int)rd_kafka_AclBinding_permission_type(b)),
                         rd_kafka_AclBinding_principal(b),
                         acl_op_zk_name((int)rd_kafka_AclBinding_operation(b)),
                         acl_rtype_zk_name((int)rd_kafka_AclBinding_restype(b)),
                         rd_kafka_AclBinding_name(b), rd_kafka_error_string(e));
            } else if (!G.json && !G.quiet) {
                printf("Created ACL: %s %s %s from %s on %s '%s' (%s)\n",
                       acl_perm_zk_name((int)rd_kafka_AclBinding_permission_type(b)),
                       rd_kafka_AclBinding_principal(b),
                       acl_op_zk_name((int)rd_kafka_AclBinding_operation(b)),
                       rd_kafka_AclBinding_host(b),
                       acl_rtype_zk_name((int)rd_kafka_AclBinding_restype(b)),
                       rd_kafka_AclBinding_name(b),
                       acl_pattern_zk_name((int)rd_kafka_AclBinding_resource_pattern_type(b)));
            }
        }
        jw_arr_end(&w);
        if (G.json)
            jw_flush(&w, stdout);
        jw_free(&w);
        rd_kafka_event_destroy(ev);
        rc = nfail ? CLI_EFAIL : CLI_OK;
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opt);
    cli_client_free(c);
out:
    if (bs)
        rd_kafka_AclBinding_destroy_array(bs, n);
    free(bs);
    free(rs);
    return rc;
}

/* ---- list / delete: filters ---------------------------------------------------------- */

static void free_filters(rd_kafka_AclBindingFilter_t **fs, size_t n)
{
    rd_kafka_AclBinding_destroy_array(fs, n);
    free(fs);
}

/* Every filter the options describe (resources x principals x hosts x ops). */
static rd_kafka_AclBindingFilter_t **filters(size_t *nout, int *rc)
{
    size_t nres;
    res_t *rs = resources(&nres);
    res_t any = { 1, NULL };
    if (ao.txns.n) {
        *rc = CLI_EUSAGE;
        *nout = 0;
        return NULL;
    }
    if (!nres) {
        free(rs);
        rs = NULL;
    }
    int ops[64], nops = ao.ops.n > 64 ? -1 : parse_ops(ops, 1);
    int pt = parse_pattern(1, 0);
    *nout = 0;
    if (nops < 0 || pt < 0) {
        free(rs);
        *rc = nops < 0 && ao.ops.n > 64 ? cli_usage("too many --operation values") : CLI_EUSAGE;
        return NULL;
    }
    /* Principals with their permission: --principal any, --allow ALLOW, --deny DENY. */
    size_t np = ao.principal.n + ao.allow_p.n + ao.deny_p.n;
    const char **pv = calloc(np + 1, sizeof *pv);
    int *pp = calloc(np + 1, sizeof *pp);
    size_t k = 0;
    for (size_t i = 0; pv && pp && i < ao.principal.n; i++)
        pv[k] = ao.principal.v[i], pp[k++] = 1;
    for (size_t i = 0; pv && pp && i < ao.allow_p.n; i++)
        pv[k] = ao.allow_p.v[i], pp[k++] = 3;
    for (size_t i = 0; pv && pp && i < ao.deny_p.n; i++)
        pv[k] = ao.deny_p.v[i], pp[k++] = 2;
    if (!np && pv && pp)
        pv[0] = NULL, pp[0] = 1, np = 1;
    size_t nh = ao.allow_h.n + ao.deny_h.n;
    size_t cap = (nres ? nres : 1) * np * (nh ? nh : 1) * (size_t)nops;
    rd_kafka_AclBindingFilter_t **fs = pv && pp ? calloc(cap + 1, sizeof *fs) : NULL;
    char err[256];
    size_t n = 0;
    for (size_t r = 0; fs && r < (nres ? nres : 1); r++) {
        const res_t *re = nres ? &rs[r] : &any;
        for (size_t p = 0; p < np; p++)
            for (size_t h = 0; h < (nh ? nh : 1); h++)
                for (int o = 0; o < nops; o++) {
                    const char *host = !nh ? NULL : h < ao.allow_h.n ? ao.allow_h.v[h]
                                                                     : ao.deny_h.v[h - ao.allow_h.n];
                    fs[n] = rd_kafka_AclBindingFilter_new(
                        (rd_kafka_ResourceType_t)re->type, re->name,
                        (rd_kafka_ResourcePatternType_t)pt, pv[p], host,
                        (rd_kafka_AclOperation_t)ops[o], (rd_kafka_AclPermissionType_t)pp[p], err,
                        sizeof err);
                    if (!fs[n]) {
                        *rc = cli_usage("%s", err);
                        free_filters(fs, n);
                        fs = NULL;
                        goto out;
                    }
                    n++;
                }
    }
    *nout = n;
out:
    free(pv);
    free(pp);
    free(rs);
    return fs;
}

/* The filters the command line names and an admin client; NULL (with *rc
 * set) when either cannot be had. */
static rd_kafka_AclBindingFilter_t **open_filtered(size_t *nf, cli_client_t **c, int *rc)
{
    rd_kafka_AclBindingFilter_t **fs = filters(nf, rc);
    if (fs && !(*c = cli_admin_open(rc))) {
        free_filters(fs, *nf);
        fs = NULL;
    }
    return fs;
}

/* The listing table list and delete print. */
static cli_table_t *acl_table(void)
{
    return cli_table_new(7, "TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION",
                         "PERMISSION");
}

static int run_list(int argc, char **argv)
{
    (void)argc, (void)argv;
    int rc = CLI_OK;
    size_t nf;
    cli_client_t *c = NULL;
    rd_kafka_AclBindingFilter_t **fs = open_filtered(&nf, &c, &rc);
    if (!fs)
        return rc;
    jw_t w;
    jw_init(&w);
    jw_arr(&w);
    cli_table_t *t = acl_table();
    for (size_t i = 0; i < nf && rc == CLI_OK; i++) {
        rd_kafka_AdminOptions_t *opt = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
        rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
        rd_kafka_DescribeAcls(c->rk, fs[i], opt, q);
        rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, &rc);
        if (ev) {
            size_t nb;
            const rd_kafka_AclBinding_t **bs =
                rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &nb);
            for (size_t k = 0; k < nb; k++)
                print_binding(G.json ? &w : NULL, bs[k], t);
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_AdminOptions_destroy(opt);
    }
    jw_arr_end(&w);
    if (rc == CLI_OK) {
        if (G.json)
            jw_flush(&w, stdout);
        else if (cli_table_rows(t))
            cli_table_print(t, stdout);
        else if (!G.quiet)
            fprintf(stderr, "No ACLs match.\n");
    }
    jw_free(&w);
    cli_table_free(t);
    cli_client_free(c);
    free_filters(fs, nf);
    return rc;
}

static int run_delete(int argc, char **argv)
{
    (void)argc, (void)argv;
    int rc = CLI_OK;
    size_t nf;
    if (!ao.topics.n && !ao.groups.n && !ao.txns.n && !ao.cluster && !ao.principal.n &&
        !ao.allow_p.n && !ao.deny_p.n)
        return cli_usage("name a resource or a principal (deleting every ACL needs at least one)");
    cli_client_t *c = NULL;
    rd_kafka_AclBindingFilter_t **fs = open_filtered(&nf, &c, &rc);
    if (!fs)
        return rc;
    rd_kafka_AdminOptions_t *opt = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DELETEACLS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_DeleteAcls(c->rk, fs, nf, opt, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DELETEACLS_RESULT, &rc);
    if (ev) {
        size_t nr;
        const rd_kafka_DeleteAcls_result_response_t **rs =
            rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &nr);
        jw_t w;
        jw_init(&w);
        jw_arr(&w);
        cli_table_t *t = acl_table();
        int nfail = 0;
        for (size_t i = 0; i < nr; i++) {
            const rd_kafka_error_t *e = rd_kafka_DeleteAcls_result_response_error(rs[i]);
            if (e) {
                nfail++;
                cli_fail(CLI_EFAIL, "cannot delete ACLs: %s", rd_kafka_error_string(e));
                continue;
            }
            size_t nm;
            const rd_kafka_AclBinding_t **ms =
                rd_kafka_DeleteAcls_result_response_matching_acls(rs[i], &nm);
            for (size_t k = 0; k < nm; k++)
                print_binding(G.json ? &w : NULL, ms[k], t);
        }
        jw_arr_end(&w);
        if (G.json) {
            jw_flush(&w, stdout);
        } else if (!G.quiet) {
            printf("Deleted %zu ACL(s).\n", cli_table_rows(t));
            if (cli_table_rows(t))
                cli_table_print(t, stdout);
        }
        jw_free(&w);
        cli_table_free(t);
        rd_kafka_event_destroy(ev);
        rc = nfail ? CLI_EFAIL : CLI_OK;
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opt);
    cli_client_free(c);
    free_filters(fs, nf);
    return rc;
}

/* ---- the table --------------------------------------------------------------------------- */

static const cli_cmd_t acl_create = {
    .name = "create",
    .summary = "create ACLs (kafka-acls --add)",
    .description = "One ACL per resource x principal x host x operation. The broker must run\n"
                   "an authorizer (authorizer.class.name); the caller needs Alter on the Cluster.\n",
    .examples = "samsa acl create --allow-principal User:alice --operation Read --operation Describe --topic orders\n"
                "samsa acl create --allow-principal User:etl --operation Write --topic logs- --resource-pattern-type prefixed\n"
                "samsa acl create --deny-principal User:mallory --deny-host 10.0.0.9 --operation All --topic orders\n"
                "samsa acl create --allow-principal User:alice --operation Read --group billing",
    .opts = acl_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_create,
};

static const cli_cmd_t acl_list = {
    .name = "list",
    .summary = "list ACLs matching the options (kafka-acls --list)",
    .examples = "samsa acl list\n"
                "samsa acl list --topic orders --resource-pattern-type match\n"
                "samsa acl list --principal User:alice --json",
    .opts = acl_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_list,
};

static const cli_cmd_t acl_delete = {
    .name = "delete",
    .summary = "delete the ACLs matching the options (kafka-acls --remove)",
    .examples = "samsa acl delete --topic orders\n"
                "samsa acl delete --allow-principal User:alice --operation Read --topic orders",
    .opts = acl_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_delete,
};

static const cli_cmd_t *const acl_subs[] = {&acl_create, &acl_list, &acl_delete, NULL};

const cli_cmd_t cli_cmd_acl = {
    .name = "acl",
    .summary = "create, list and delete ACLs (Kafka's kafka-acls vocabulary)",
    .examples = "samsa acl create --allow-principal User:alice --operation Read --topic orders\n"
                "samsa acl list --topic orders\n"
                "samsa acl delete --topic orders",
    .subs = acl_subs,
};
