/*
 * cmd_group.c - `samsa group`: list, describe, reset-offsets, delete.
 *
 * Requests (Kafka semantics, any cluster): ListGroups, DescribeGroups,
 * OffsetFetch (ListConsumerGroupOffsets), ListOffsets (log end and start,
 * by timestamp for --to-datetime), OffsetCommit through the admin API
 * (AlterConsumerGroupOffsets), DeleteGroups.
 *
 * describe: the partitions shown are the union of the partitions with a
 * committed offset and the partitions assigned to members. lag = log end
 * offset - committed offset; a partition without a committed offset has no
 * lag ("-"). "Does not exist": DescribeGroups answers GROUP_ID_NOT_FOUND,
 * or state Dead with no members and no committed offsets (older brokers
 * describe unknown groups as Dead).
 *
 * reset-offsets: like kafka-consumer-groups --reset-offsets --execute, but
 * executing by default (--dry-run only prints the plan). The group must
 * have no active members (Empty or Dead): the coordinator would reject the
 * commit of a non-member anyway, and moving a live group's offsets under
 * it is surprising. New offsets are clamped into [log start, log end] like
 * Kafka does. A group that does not exist yet is created by the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *state_name(rd_kafka_consumer_group_state_t s)
{
    return rd_kafka_consumer_group_state_name(s);
}

static int cmp_tp(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* DescribeConsumerGroups for one group. The description is owned by *evp. */
static const rd_kafka_ConsumerGroupDescription_t *describe_group(cli_client_t *c, const char *group,
                                                                  rd_kafka_event_t **evp, int *rc)
{
    const char *groups[1] = {group};
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_DescribeConsumerGroups(c->rk, groups, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, rc);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    *evp = ev;
    if (!ev)
        return NULL;
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **gs =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (n != 1) {
        *rc = cli_fail(CLI_EFAIL, "DescribeGroups '%s': no result", group);
        return NULL;
    }
    const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(gs[0]);
    if (e) {
        rd_kafka_resp_err_t err = rd_kafka_error_code(e);
        if (err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
            *rc = cli_fail(CLI_ENOTFOUND, "group '%s' does not exist", group);
        else
            *rc = cli_fail(cli_err_code(err), "describe group '%s': %s", group, rd_kafka_error_string(e));
        return NULL;
    }
    return gs[0];
}

/* Committed offsets of group (all partitions if parts is NULL). Returns a
 * copy the caller destroys, or NULL after printing (*rc set). */
static rd_kafka_topic_partition_list_t *committed_offsets(cli_client_t *c, const char *group,
                                                          const rd_kafka_topic_partition_list_t *parts, int *rc)
{
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, parts);
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_topic_partition_list_t *out = NULL;
    rd_kafka_ListConsumerGroupOffsets(c->rk, &req, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, rc);
    if (!ev)
        goto done;
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (n != 1) {
        *rc = cli_fail(CLI_EFAIL, "OffsetFetch '%s': no result", group);
        goto done;
    }
    const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[0]);
    if (e) {
        *rc = cli_fail(cli_err_code(rd_kafka_error_code(e)), "committed offsets of group '%s': %s", group,
                       rd_kafka_error_string(e));
        goto done;
    }
    const rd_kafka_topic_partition_list_t *p = rd_kafka_group_result_partitions(gr[0]);
    out = p ? rd_kafka_topic_partition_list_copy(p) : rd_kafka_topic_partition_list_new(0);
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return out;
}

/* ---- list --------------------------------------------------------------------------- */

typedef struct glist_row {
    const char *id;
    const char *state;
    int simple;
} glist_row_t;

static int cmp_glist(const void *a, const void *b)
{
    return strcmp(((const glist_row_t *)a)->id, ((const glist_row_t *)b)->id);
}

static int run_list(int argc, char **argv)
{
    int rc;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_ListConsumerGroups(c->rk, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, &rc);
    if (!ev)
        goto out;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t nv, ne;
    const rd_kafka_ConsumerGroupListing_t **valid = rd_kafka_ListConsumerGroups_result_valid(res, &nv);
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
    if (ne > 0 && nv == 0) {
        rd_kafka_resp_err_t err = rd_kafka_error_code(errs[0]);
        rc = cli_fail(cli_err_code(err) == CLI_ENOTFOUND ? CLI_EFAIL : cli_err_code(err), "list groups: %s",
                      rd_kafka_error_string(errs[0]));
        rd_kafka_event_destroy(ev);
        goto out;
    }
    for (size_t k = 0; k < ne; k++)
        cli_warn("list groups: %s (the list may be incomplete)", rd_kafka_error_string(errs[k]));
    glist_row_t *rows = calloc(nv + 1, sizeof *rows);
    for (size_t k = 0; k < nv; k++) {
        rows[k].id = rd_kafka_ConsumerGroupListing_group_id(valid[k]);
        rows[k].state = state_name(rd_kafka_ConsumerGroupListing_state(valid[k]));
        rows[k].simple = rd_kafka_ConsumerGroupListing_is_simple_consumer_group(valid[k]);
    }
    qsort(rows, nv, sizeof *rows, cmp_glist);
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_arr(&w);
        for (size_t k = 0; k < nv; k++) {
            jw_obj(&w);
            jw_kstr(&w, "group", rows[k].id);
            jw_kstr(&w, "state", rows[k].state);
            jw_kbool(&w, "simple", rows[k].simple);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else if (nv == 0) {
        if (!G.quiet)
            fprintf(stderr, "No consumer groups.\n");
    } else {
        cli_table_t *t = cli_table_new(3, "GROUP", "STATE", "TYPE");
        for (size_t k = 0; k < nv; k++) {
            cli_table_row(t);
            cli_table_cell(t, "%s", rows[k].id);
            cli_table_cell(t, "%s", rows[k].state);
            cli_table_cell(t, "%s", rows[k].simple ? "simple" : "consumer");
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    free(rows);
    rd_kafka_event_destroy(ev);
    rc = CLI_OK;
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    cli_client_free(c);
    return rc;
}

/* ---- describe ------------------------------------------------------------------------- */

typedef struct prow {
    const char *topic;
    int32_t partition;
    int64_t committed;     /* < 0: none */
    int64_t end;           /* < 0: unknown */
    const char *member;    /* NULL: unassigned */
    const char *client_id;
} prow_t;

static int cmp_prow(const void *a, const void *b)
{
    const prow_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static void fmt_assignment(char *buf, size_t len, const rd_kafka_topic_partition_list_t *l)
{
    size_t o = 0;
    buf[0] = 0;
    if (!l || l->cnt == 0) {
        snprintf(buf, len, "-");
        return;
    }
    rd_kafka_topic_partition_list_t *s = rd_kafka_topic_partition_list_copy(l);
    qsort(s->elems, (size_t)s->cnt, sizeof *s->elems, cmp_tp);
    for (int k = 0; k < s->cnt && o < len; k++) {
        int same = k > 0 && !strcmp(s->elems[k].topic, s->elems[k - 1].topic);
        if (same)
            o += (size_t)snprintf(buf + o, len - o, ",%d", s->elems[k].partition);
        else
            o += (size_t)snprintf(buf + o, len - o, "%s%s[%d", k ? "] " : "", s->elems[k].topic,
                                  s->elems[k].partition);
    }
    if (o < len)
        snprintf(buf + o, len - o, "]");
    rd_kafka_topic_partition_list_destroy(s);
}

static int run_describe(int argc, char **argv)
{
    const char *group = argv[0];
    int rc;
    rd_kafka_event_t *dev = NULL;
    rd_kafka_topic_partition_list_t *committed = NULL, *ends = NULL;
    prow_t *rows = NULL;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    const rd_kafka_ConsumerGroupDescription_t *d = describe_group(c, group, &dev, &rc);
    if (!d)
        goto out;
    if (!(committed = committed_offsets(c, group, NULL, &rc)))
        goto out;
    size_t nmem = rd_kafka_ConsumerGroupDescription_member_count(d);
    rd_kafka_consumer_group_state_t state = rd_kafka_ConsumerGroupDescription_state(d);
    int ncommitted = 0;
    for (int k = 0; k < committed->cnt; k++)
        if (committed->elems[k].offset >= 0 && !committed->elems[k].err)
            ncommitted++;
    if (state == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD && nmem == 0 && ncommitted == 0) {
        rc = cli_fail(CLI_ENOTFOUND, "group '%s' does not exist", group);
        goto out;
    }

    /* rows: committed partitions, then assigned ones not committed yet */
    size_t cap = (size_t)committed->cnt + 16, n = 0;
    rows = calloc(cap, sizeof *rows);
    for (int k = 0; k < committed->cnt; k++) {
        const rd_kafka_topic_partition_t *tp = &committed->elems[k];
        if (tp->err || tp->offset < 0)
            continue;
        rows[n].topic = tp->topic;
        rows[n].partition = tp->partition;
        rows[n].committed = tp->offset;
        rows[n].end = -1;
        n++;
    }
    for (size_t m = 0; m < nmem; m++) {
        const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d, m);
        const rd_kafka_topic_partition_list_t *as =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
        for (int k = 0; as && k < as->cnt; k++) {
            prow_t *r = NULL;
            for (size_t i = 0; i < n; i++)
                if (rows[i].partition == as->elems[k].partition && !strcmp(rows[i].topic, as->elems[k].topic))
                    r = &rows[i];
            if (!r) {
                if (n == cap) {
                    cap *= 2;
                    rows = realloc(rows, cap * sizeof *rows);
                }
                r = &rows[n++];
                memset(r, 0, sizeof *r);
                r->topic = as->elems[k].topic;
                r->partition = as->elems[k].partition;
                r->committed = -1;
                r->end = -1;
            }
            r->member = rd_kafka_MemberDescription_consumer_id(md);
            r->client_id = rd_kafka_MemberDescription_client_id(md);
        }
    }
    qsort(rows, n, sizeof *rows, cmp_prow);

    /* log end offsets */
    ends = rd_kafka_topic_partition_list_new((int)n + 1);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(ends, rows[i].topic, rows[i].partition);
    rd_kafka_resp_err_t lerr = cli_list_offsets(c, ends, -1);
    if (lerr)
        cli_warn("log end offsets: %s", cli_err_str(lerr));
    int64_t total_lag = 0;
    int lag_known = 0;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_topic_partition_t *e = &ends->elems[i];
        rows[i].end = !lerr && !e->err ? e->offset : -1;
        if (rows[i].committed >= 0 && rows[i].end >= 0) {
            int64_t lag = rows[i].end - rows[i].committed;
            total_lag += lag > 0 ? lag : 0;
            lag_known = 1;
        }
    }

    const rd_kafka_Node_t *coord = rd_kafka_ConsumerGroupDescription_coordinator(d);
    const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "group", group);
        jw_kstr(&w, "state", state_name(state));
        jw_kbool(&w, "simple", rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(d));
        jw_key(&w, "coordinator");
        if (coord) {
            jw_obj(&w);
            jw_kint(&w, "id", rd_kafka_Node_id(coord));
            jw_kstr(&w, "host", rd_kafka_Node_host(coord));
            jw_kint(&w, "port", rd_kafka_Node_port(coord));
            jw_obj_end(&w);
        } else {
            jw_null(&w);
        }
        jw_key(&w, "assignor");
        assignor && *assignor ? jw_str(&w, assignor) : jw_null(&w);
        jw_key(&w, "members");
        jw_arr(&w);
        for (size_t m = 0; m < nmem; m++) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d, m);
            const rd_kafka_topic_partition_list_t *as =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
            jw_obj(&w);
            jw_kstr(&w, "member_id", rd_kafka_MemberDescription_consumer_id(md));
            jw_kstr(&w, "client_id", rd_kafka_MemberDescription_client_id(md));
            jw_kstr(&w, "host", rd_kafka_MemberDescription_host(md));
            jw_kstr(&w, "group_instance_id", rd_kafka_MemberDescription_group_instance_id(md));
            jw_key(&w, "assignment");
            jw_arr(&w);
            for (int k = 0; as && k < as->cnt; k++) {
                jw_obj(&w);
                jw_kstr(&w, "topic", as->elems[k].topic);
                jw_kint(&w, "partition", as->elems[k].partition);
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "offsets");
        jw_arr(&w);
        for (size_t i = 0; i < n; i++) {
            jw_obj(&w);
            jw_kstr(&w, "topic", rows[i].topic);
            jw_kint(&w, "partition", rows[i].partition);
            jw_key(&w, "committed_offset");
            rows[i].committed >= 0 ? jw_int(&w, rows[i].committed) : jw_null(&w);
            jw_key(&w, "log_end_offset");
            rows[i].end >= 0 ? jw_int(&w, rows[i].end) : jw_null(&w);
            jw_key(&w, "lag");
            rows[i].committed >= 0 && rows[i].end >= 0
                ? jw_int(&w, rows[i].end > rows[i].committed ? rows[i].end - rows[i].committed : 0)
                : jw_null(&w);
            jw_kstr(&w, "member_id", rows[i].member);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "total_lag");
        lag_known ? jw_int(&w, total_lag) : jw_null(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        printf("Group:        %s\n", group);
        printf("State:        %s\n", state_name(state));
        if (coord)
            printf("Coordinator:  %d (%s:%u)\n", rd_kafka_Node_id(coord), rd_kafka_Node_host(coord),
                   (unsigned)rd_kafka_Node_port(coord));
        printf("Assignor:     %s\n", assignor && *assignor ? assignor : "-");
        printf("Members:      %zu\n", nmem);
        if (lag_known)
            printf("Total lag:    %lld\n", (long long)total_lag);
        else
            printf("Total lag:    -\n");
        if (nmem > 0) {
            printf("\n");
            cli_table_t *t = cli_table_new(4, "MEMBER", "CLIENT-ID", "HOST", "ASSIGNMENT");
            for (size_t m = 0; m < nmem; m++) {
                const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d, m);
                char as[1024];
                fmt_assignment(as, sizeof as,
                               rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md)));
                cli_table_row(t);
                cli_table_cell(t, "%s", rd_kafka_MemberDescription_consumer_id(md));
                cli_table_cell(t, "%s", rd_kafka_MemberDescription_client_id(md));
                cli_table_cell(t, "%s", rd_kafka_MemberDescription_host(md));
                cli_table_cell(t, "%s", as);
            }
            cli_table_print(t, stdout);
            cli_table_free(t);
        }
        if (n > 0) {
            printf("\n");
            cli_table_t *t = cli_table_new(6, "TOPIC", ">PARTITION", ">COMMITTED", ">LOG-END", ">LAG", "MEMBER");
            for (size_t i = 0; i < n; i++) {
                cli_table_row(t);
                cli_table_cell(t, "%s", rows[i].topic);
                cli_table_cell(t, "%d", rows[i].partition);
                if (rows[i].committed >= 0)
                    cli_table_cell(t, "%lld", (long long)rows[i].committed);
                else
                    cli_table_cell(t, "-");
                if (rows[i].end >= 0)
                    cli_table_cell(t, "%lld", (long long)rows[i].end);
                else
                    cli_table_cell(t, "-");
                if (rows[i].committed >= 0 && rows[i].end >= 0)
                    cli_table_cell(t, "%lld",
                                   (long long)(rows[i].end > rows[i].committed ? rows[i].end - rows[i].committed : 0));
                else
                    cli_table_cell(t, "-");
                cli_table_cell(t, "%s", rows[i].member ? rows[i].member : "-");
            }
            cli_table_print(t, stdout);
            cli_table_free(t);
        }
    }
    rc = CLI_OK;
out:
    free(rows);
    if (ends)
        rd_kafka_topic_partition_list_destroy(ends);
    if (committed)
        rd_kafka_topic_partition_list_destroy(committed);
    if (dev)
        rd_kafka_event_destroy(dev);
    cli_client_free(c);
    return rc;
}

/* ---- reset-offsets ---------------------------------------------------------------------- */

static struct {
    const char *topic;
    int to_earliest, to_latest, dry_run;
    const char *to_offset, *to_datetime, *shift_by;
} ro;

static const cli_opt_t reset_opts[] = {
    {"topic", 't', OPT_STR, "TOPIC[:P,P...]", "the topic (all its partitions, or the ones listed)", &ro.topic},
    {"to-earliest", 0, OPT_FLAG, NULL, "move to the log start offset", &ro.to_earliest},
    {"to-latest", 0, OPT_FLAG, NULL, "move to the log end offset (skip everything)", &ro.to_latest},
    {"to-offset", 0, OPT_STR, "N", "move to offset N (clamped into the log)", &ro.to_offset},
    {"to-datetime", 0, OPT_STR, "TIME",
     "move to the first message at or after TIME (ISO-8601, e.g. 2024-05-01T12:00:00Z)", &ro.to_datetime},
    {"shift-by", 0, OPT_STR, "N", "move the committed offset by N (negative: back)", &ro.shift_by},
    {"dry-run", 0, OPT_FLAG, NULL, "print the plan, change nothing", &ro.dry_run},
    {0},
};

static int run_reset(int argc, char **argv)
{
    const char *group = argv[0];
    int rc, nmodes = !!ro.to_earliest + !!ro.to_latest + !!ro.to_offset + !!ro.to_datetime + !!ro.shift_by;
    int64_t target = 0, ts = 0;
    char err[256];
    rd_kafka_event_t *dev = NULL, *aev = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL, *cur = NULL, *lo = NULL, *hi = NULL, *tgt = NULL;
    rd_kafka_AlterConsumerGroupOffsets_t *req = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_queue_t *q = NULL;
    char *topic = NULL;
    int32_t *only = NULL;
    int nonly = 0;

    if (!ro.topic)
        return cli_usage("missing --topic TOPIC");
    if (nmodes != 1)
        return cli_usage("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by");
    if (ro.to_offset && (cli_parse_int(ro.to_offset, &target) < 0 || target < 0))
        return cli_usage("bad --to-offset '%s' (an offset >= 0)", ro.to_offset);
    if (ro.shift_by && cli_parse_int(ro.shift_by, &target) < 0)
        return cli_usage("bad --shift-by '%s' (an integer)", ro.shift_by);
    if (ro.to_datetime && cli_parse_time_ms(ro.to_datetime, &ts, err, sizeof err) < 0)
        return cli_usage("bad --to-datetime: %s", err);
    topic = strdup(ro.topic);
    char *colon = strchr(topic, ':');
    if (colon) {
        *colon = 0;
        only = calloc(strlen(colon + 1) + 1, sizeof *only);
        char *save = NULL;
        for (char *tok = strtok_r(colon + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int64_t p;
            if (cli_parse_int(tok, &p) < 0 || p < 0 || p > INT32_MAX) {
                rc = cli_usage("bad partition '%s' in --topic %s", tok, ro.topic);
                free(only);
                free(topic);
                return rc;
            }
            only[nonly++] = (int32_t)p;
        }
    }

    cli_client_t *c = cli_admin_open(&rc);
    if (!c) {
        free(only);
        free(topic);
        return rc;
    }
    const struct rd_kafka_metadata *md;
    if ((rc = cli_topic_metadata(c, topic, &md)) != CLI_OK)
        goto out;
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    parts = rd_kafka_topic_partition_list_new(nparts);
    if (nonly) {
        for (int k = 0; k < nonly; k++) {
            if (only[k] >= nparts) {
                rc = cli_fail(CLI_EUSAGE, "topic '%s' has %d partitions; there is no partition %d", topic, nparts,
                              only[k]);
                goto out;
            }
            rd_kafka_topic_partition_list_add(parts, topic, only[k]);
        }
    } else {
        for (int p = 0; p < nparts; p++)
            rd_kafka_topic_partition_list_add(parts, topic, p);
    }

    /* The group must be inactive. */
    const rd_kafka_ConsumerGroupDescription_t *d = describe_group(c, group, &dev, &rc);
    if (!d) {
        if (rc != CLI_ENOTFOUND)
            goto out;
        rc = CLI_OK;   /* not there yet: the commit creates it */
    } else {
        rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d);
        size_t nmem = rd_kafka_ConsumerGroupDescription_member_count(d);
        if (nmem > 0 || (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
                         st != RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN)) {
            rc = cli_fail(CLI_EFAIL, "group '%s' is %s with %zu member%s: stop its consumers first", group,
                          state_name(st), nmem, nmem == 1 ? "" : "s");
            goto out;
        }
    }

    if (!(cur = committed_offsets(c, group, parts, &rc)))
        goto out;
    lo = rd_kafka_topic_partition_list_copy(parts);
    hi = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e1 = cli_list_offsets(c, lo, -2), e2 = cli_list_offsets(c, hi, -1);
    if (e1 || e2) {
        rc = cli_fail(cli_err_code(e1 ? e1 : e2), "log offsets of '%s': %s", topic, cli_err_str(e1 ? e1 : e2));
        goto out;
    }
    tgt = rd_kafka_topic_partition_list_copy(parts);
    if (ro.to_datetime) {
        rd_kafka_resp_err_t e3 = cli_list_offsets(c, tgt, ts);
        if (e3) {
            rc = cli_fail(cli_err_code(e3), "offsets by time of '%s': %s", topic, cli_err_str(e3));
            goto out;
        }
    }
    for (int k = 0; k < parts->cnt; k++) {
        rd_kafka_topic_partition_t *t = &tgt->elems[k];
        int32_t p = t->partition;
        rd_kafka_topic_partition_t *c0 = rd_kafka_topic_partition_list_find(cur, topic, p);
        int64_t now = c0 && !c0->err ? c0->offset : -1;
        int64_t start = lo->elems[k].offset, end = hi->elems[k].offset;
        if (lo->elems[k].err || hi->elems[k].err) {
            rc = cli_fail(CLI_EFAIL, "log offsets of %s[%d]: %s", topic, p,
                          cli_err_str(lo->elems[k].err ? lo->elems[k].err : hi->elems[k].err));
            goto out;
        }
        int64_t v;
        if (ro.to_earliest)
            v = start;
        else if (ro.to_latest)
            v = end;
        else if (ro.to_offset)
            v = target;
        else if (ro.to_datetime)
            v = t->err || t->offset < 0 ? end : t->offset;
        else
            v = (now >= 0 ? now : end) + target;   /* --shift-by from the committed offset */
        if (v < start)
            v = start;
        if (v > end)
            v = end;
        t->offset = v;
        t->err = 0;
        /* remember the previous committed offset in lo (no longer needed) */
        lo->elems[k].offset = now;
    }

    if (!ro.dry_run) {
        req = rd_kafka_AlterConsumerGroupOffsets_new(group, tgt);
        o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
        q = rd_kafka_queue_new(c->rk);
        rd_kafka_AlterConsumerGroupOffsets(c->rk, &req, 1, o, q);
        if (!(aev = cli_admin_wait(c, q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, &rc)))
            goto out;
        size_t n;
        const rd_kafka_group_result_t **gr = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(aev), &n);
        const rd_kafka_error_t *ge = n == 1 ? rd_kafka_group_result_error(gr[0]) : NULL;
        if (n != 1 || ge) {
            rc = cli_fail(ge ? cli_err_code(rd_kafka_error_code(ge)) : CLI_EFAIL, "reset offsets of group '%s': %s",
                          group, ge ? rd_kafka_error_string(ge) : "no result");
            goto out;
        }
        const rd_kafka_topic_partition_list_t *pr = rd_kafka_group_result_partitions(gr[0]);
        for (int k = 0; pr && k < pr->cnt; k++)
            if (pr->elems[k].err) {
                rc = cli_fail(CLI_EFAIL, "reset offsets of group '%s', %s[%d]: %s", group, pr->elems[k].topic,
                              pr->elems[k].partition, cli_err_str(pr->elems[k].err));
                goto out;
            }
    }

    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "group", group);
        jw_kstr(&w, "topic", topic);
        jw_kbool(&w, "dry_run", ro.dry_run);
        jw_key(&w, "partitions");
        jw_arr(&w);
        for (int k = 0; k < tgt->cnt; k++) {
            jw_obj(&w);
            jw_kint(&w, "partition", tgt->elems[k].partition);
            jw_key(&w, "previous_offset");
            lo->elems[k].offset >= 0 ? jw_int(&w, lo->elems[k].offset) : jw_null(&w);
            jw_kint(&w, "new_offset", tgt->elems[k].offset);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        cli_table_t *t = cli_table_new(4, "TOPIC", ">PARTITION", ">PREVIOUS", ">NEW");
        for (int k = 0; k < tgt->cnt; k++) {
            cli_table_row(t);
            cli_table_cell(t, "%s", topic);
            cli_table_cell(t, "%d", tgt->elems[k].partition);
            if (lo->elems[k].offset >= 0)
                cli_table_cell(t, "%lld", (long long)lo->elems[k].offset);
            else
                cli_table_cell(t, "-");
            cli_table_cell(t, "%lld", (long long)tgt->elems[k].offset);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        if (ro.dry_run)
            printf("Dry run: offsets of group '%s' not changed.\n", group);
        else
            printf("Reset offsets of group '%s' on topic '%s'.\n", group, topic);
    }
    rc = CLI_OK;
out:
    if (req)
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    if (aev)
        rd_kafka_event_destroy(aev);
    if (dev)
        rd_kafka_event_destroy(dev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_topic_partition_list_t *lists[] = {parts, cur, lo, hi, tgt};
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        if (lists[k])
            rd_kafka_topic_partition_list_destroy(lists[k]);
    cli_client_free(c);
    free(only);
    free(topic);
    return rc;
}

/* ---- delete ------------------------------------------------------------------------------ */

static struct {
    int if_exists;
} dgo;

static const cli_opt_t delete_opts[] = {
    {"if-exists", 0, OPT_FLAG, NULL, "a group that does not exist is not an error", &dgo.if_exists},
    {0},
};

static int run_delete(int argc, char **argv)
{
    int rc, nfail = 0, nmissing = 0;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    rd_kafka_DeleteGroup_t **dg = calloc((size_t)argc, sizeof *dg);
    for (int k = 0; k < argc; k++)
        dg[k] = rd_kafka_DeleteGroup_new(argv[k]);
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_DeleteGroups(c->rk, dg, (size_t)argc, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, &rc);
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_group_result_t **gr = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    jw_t w;
    jw_init(&w);
    jw_arr(&w);
    for (size_t k = 0; k < n; k++) {
        const char *name = rd_kafka_group_result_name(gr[k]);
        const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[k]);
        rd_kafka_resp_err_t err = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
        int missing = err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;
        const char *why = missing ? "group does not exist"
                          : err == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP
                              ? "the group has active members (stop its consumers first)"
                              : e ? rd_kafka_error_string(e) : NULL;
        if (G.json) {
            jw_obj(&w);
            jw_kstr(&w, "group", name);
            jw_kbool(&w, "deleted", !err);
            jw_kstr(&w, "error", err ? why : NULL);
            jw_obj_end(&w);
        }
        if (!err) {
            if (!G.json)
                printf("Deleted group '%s'.\n", name);
        } else if (missing && dgo.if_exists) {
            if (!G.json)
                printf("Group '%s' does not exist (skipped).\n", name);
        } else {
            nfail++;
            if (missing) {
                nmissing++;
                cli_fail(CLI_ENOTFOUND, "group '%s' does not exist", name);
            } else {
                cli_fail(CLI_EFAIL, "cannot delete group '%s': %s", name, why);
            }
        }
    }
    jw_arr_end(&w);
    if (G.json)
        jw_flush(&w, stdout);
    jw_free(&w);
    rd_kafka_event_destroy(ev);
    rc = nfail == 0 ? CLI_OK : nfail == nmissing ? CLI_ENOTFOUND : CLI_EFAIL;
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteGroup_destroy_array(dg, (size_t)argc);
    free(dg);
    cli_client_free(c);
    return rc;
}

/* ---- the table --------------------------------------------------------------------------- */

static const cli_opt_t no_opts[] = {{0}};

static const cli_cmd_t group_list = {
    .name = "list",
    .summary = "list consumer groups with their state",
    .examples = "samsa group list\n"
                "samsa group list --json | jq -r '.[] | select(.state == \"Empty\") | .group'",
    .opts = no_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_list,
};

static const cli_cmd_t group_describe = {
    .name = "describe",
    .args = "GROUP",
    .summary = "show state, members, assignments, and committed offset, log end and lag per partition",
    .examples = "samsa group describe billing\n"
                "samsa group describe billing --json | jq .total_lag",
    .opts = no_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_describe,
};

static const cli_cmd_t group_reset = {
    .name = "reset-offsets",
    .args = "GROUP",
    .summary = "move a group's committed offsets on a topic",
    .description = "The group must have no active members. Offsets are clamped into\n"
                   "[log start, log end]. Without --dry-run the change is applied.\n",
    .examples = "samsa group reset-offsets billing --topic orders --to-earliest\n"
                "samsa group reset-offsets billing --topic orders --to-datetime 2024-05-01T00:00:00Z --dry-run\n"
                "samsa group reset-offsets billing --topic orders:0,1 --to-offset 1000\n"
                "samsa group reset-offsets billing --topic orders --shift-by -100",
    .opts = reset_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_reset,
};

static const cli_cmd_t group_delete = {
    .name = "delete",
    .args = "GROUP...",
    .summary = "delete consumer groups (and their committed offsets)",
    .examples = "samsa group delete billing\n"
                "samsa group delete old1 old2 --if-exists",
    .opts = delete_opts,
    .min_args = 1,
    .max_args = -1,
    .run = run_delete,
};

static const cli_cmd_t *const group_subs[] = {&group_list, &group_describe, &group_reset, &group_delete, NULL};

const cli_cmd_t cli_cmd_group = {
    .name = "group",
    .summary = "inspect consumer groups, their lag, and reset or delete them",
    .examples = "samsa group list\n"
                "samsa group describe billing\n"
                "samsa group reset-offsets billing --topic orders --to-latest",
    .subs = group_subs,
};
