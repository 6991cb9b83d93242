/*
 * coord_admin.c - DescribeGroups, ListGroups and DeleteGroups.
 *
 * Each group is first checked to be ours (G10: NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS); ListGroups lists only the groups of the
 * partitions owned here.  A group that does not exist is described as
 * "Dead" with no error, as Kafka does.  Member metadata and assignments are shown only while the
 * group is Stable (Kafka's summary rule).  Deleting needs an Empty group;
 * it writes tombstones for the group's metadata and every offset it
 * committed, then forgets the group.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/acl.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator_int.h"
#include "proto/codec.h"
#include "proto/messages/delete_groups.h"
#include "proto/messages/describe_groups.h"
#include "proto/messages/list_groups.h"

static group *find(coordinator *co, kstr id)
{
    char *gid = coord_strdup_k(id);
    group *g = gid ? coord_group(co, gid) : NULL;
    free(gid);
    return g;
}

/* DescribeGroups v3+ include_authorized_operations: the group operations
 * (READ 3, DELETE 6, DESCRIBE 8) the principal may perform. */
static int32_t coord_group_ops(coordinator *co, const kreq *rq, kstr id)
{
    static const int ops[] = { ACL_OP_READ, ACL_OP_DELETE, ACL_OP_DESCRIBE };
    int32_t out = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (coord_authorized(co, rq, ops[i], ACL_RT_GROUP, id))
            out |= (int32_t)(1u << ops[i]);
    return out;
}

void coord_describe_groups(coordinator *co, kreq *rq)
{
    describe_groups_req *req = rq->body;
    describe_groups_resp *r = kreq_new_response(rq);
    describe_groups_resp_groups *gs = KARRAY_ALLOC(&rq->arena, &r->groups, req->groups.n);
    for (int32_t i = 0; gs && i < req->groups.n; i++) {
        describe_groups_resp_groups *o = &gs[i];
        kcodec_defaults(&describe_groups_resp_groups_schema, o);
        o->group_id = req->groups.v[i];
        o->authorized_operations = INT32_MIN;
        /* docs/security.md, DescribeGroups: Group DESCRIBE per group. */
        if (!coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_GROUP, req->groups.v[i])) {
            o->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        if ((o->error_code = coord_check_owner_k(co, req->groups.v[i])))    /* G10 */
            continue;
        if (rq->hdr.api_version >= 3 && req->include_authorized_operations)
            o->authorized_operations = coord_group_ops(co, rq, req->groups.v[i]);
        group *g = find(co, req->groups.v[i]);
        if (g)
            coord_expire_overdue(co, g);
        if (!g || g->state == GROUP_DEAD) {
            o->group_state = kstr_c("Dead");
            continue;
        }
        o->group_state = kstr_c(group_state_name(g->state));
        o->protocol_type = kstr_c(g->protocol_type ? g->protocol_type : "");
        bool stable = g->state == GROUP_STABLE;
        o->protocol_data = kstr_c(stable && g->protocol ? g->protocol : "");
        describe_groups_resp_members *ms = KARRAY_ALLOC(&rq->arena, &o->members, g->nmembers);
        for (int k = 0; ms && k < g->nmembers; k++) {
            member *m = g->members[k];
            const group_protocol *pr = stable ? member_protocol(m, g->protocol) : NULL;
            ms[k].member_id = kstr_c(m->id);
            ms[k].group_instance_id = m->instance_id ? kstr_c(m->instance_id) : (kstr){ NULL, -1 };
            ms[k].client_id = kstr_c(m->client_id);
            ms[k].client_host = kstr_c(m->client_host);
            ms[k].member_metadata = pr ? (kbytes){ pr->meta, pr->meta_len } : (kbytes){ NULL, 0 };
            ms[k].member_assignment = stable ? (kbytes){ m->assignment, m->assignment_len }
                                             : (kbytes){ NULL, 0 };
        }
    }
    coord_respond(rq, r);
}

static bool state_wanted(const list_groups_req *req, group_state s)
{
    if (req->states_filter.n <= 0)
        return true;
    for (int32_t i = 0; i < req->states_filter.n; i++)
        if (group_state_parse(req->states_filter.v[i].p, req->states_filter.v[i].len) == (int)s)
            return true;
    return false;
}

static bool type_wanted(const list_groups_req *req)
{
    if (req->types_filter.n <= 0)
        return true;
    for (int32_t i = 0; i < req->types_filter.n; i++)
        if (req->types_filter.v[i].len == 7 && !strncasecmp(req->types_filter.v[i].p, "classic", 7))
            return true;
    return false;
}

void coord_list_groups(coordinator *co, kreq *rq)
{
    list_groups_req *req = rq->body;
    list_groups_resp *r = kreq_new_response(rq);
    int n = 0;
    list_groups_resp_groups *gs = KARRAY_ALLOC(&rq->arena, &r->groups, (int32_t)co->groups.count);
    size_t it = 0;
    void *v;
    /* docs/security.md, ListGroups: every group with Cluster DESCRIBE,
     * else those the principal may DESCRIBE. */
    bool all = coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_CLUSTER, kstr_c(ACL_CLUSTER_NAME));
    while (gs && strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (g->state == GROUP_DEAD || !coord_owns_partition(co, g->partition) ||
            !state_wanted(req, g->state) || !type_wanted(req))
            continue;
        if (!all && !coord_authorized(co, rq, ACL_OP_DESCRIBE, ACL_RT_GROUP, kstr_c(g->id)))
            continue;
        gs[n].group_id = kstr_c(g->id);
        gs[n].protocol_type = kstr_c(g->protocol_type ? g->protocol_type : "");
        gs[n].group_state = kstr_c(group_state_name(g->state));
        gs[n].group_type = kstr_c("classic");
        n++;
    }
    r->groups.n = n;
    /* G10: only the groups of owned partitions; as Kafka, the list comes
     * with COORDINATOR_LOAD_IN_PROGRESS while some partition loads. */
    if (co->nloading > 0)
        r->error_code = KERR_COORDINATOR_LOAD_IN_PROGRESS;
    coord_respond(rq, r);
}

void coord_delete_groups(coordinator *co, kreq *rq)
{
    delete_groups_req *req = rq->body;
    delete_groups_resp *r = kreq_new_response(rq);
    delete_groups_resp_results *rs = KARRAY_ALLOC(&rq->arena, &r->results, req->groups_names.n);
    for (int32_t i = 0; rs && i < req->groups_names.n; i++) {
        rs[i].group_id = req->groups_names.v[i];
        /* docs/security.md, DeleteGroups: Group DELETE per group. */
        if (!coord_authorized(co, rq, ACL_OP_DELETE, ACL_RT_GROUP, req->groups_names.v[i])) {
            rs[i].error_code = KERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        if ((rs[i].error_code = coord_check_owner_k(co, req->groups_names.v[i])))    /* G10 */
            continue;
        group *g = find(co, req->groups_names.v[i]);
        if (g)
            coord_expire_overdue(co, g);    /* G9: a deadline that passed counts */
        if (!g || g->state == GROUP_DEAD) {
            rs[i].error_code = KERR_GROUP_ID_NOT_FOUND;
            continue;
        }
        if (g->state != GROUP_EMPTY) {
            rs[i].error_code = KERR_NON_EMPTY_GROUP;
            continue;
        }
        /* TG6: as Kafka's deleteAllOffsets, the offsets pending in open
         * transactions get tombstones too (once per key), so neither a
         * later marker nor a reload brings them back. */
        int n = (int)g->offsets.count + 1;
        size_t it = 0;
        const char *key;
        size_t kl;
        void *v;
        while (strmap_next(&g->txn, &it, NULL, NULL, &v))
            n += (int)((txn_pending *)v)->offsets.count;
        bb_record *recs = calloc((size_t)n, sizeof *recs);
        int k = 0;
        it = 0;
        while (recs && strmap_next(&g->offsets, &it, &key, NULL, &v)) {
            int32_t part = (int32_t)be32_load(key + strlen(key) + 1);
            if (coord_offset_record(g->id, key, part, NULL, &recs[k]) == 0)
                k++;
        }
        strmap seen;
        strmap_init(&seen);
        size_t pit = 0;
        void *pv;
        while (recs && strmap_next(&g->txn, &pit, NULL, NULL, &pv)) {
            it = 0;
            while (strmap_next(&((txn_pending *)pv)->offsets, &it, &key, &kl, &v)) {
                if (strmap_get(&g->offsets, key, kl) || strmap_get(&seen, key, kl))
                    continue;
                strmap_put(&seen, key, kl, &seen, NULL);
                int32_t part = (int32_t)be32_load(key + strlen(key) + 1);
                if (coord_offset_record(g->id, key, part, NULL, &recs[k]) == 0)
                    k++;
            }
        }
        strmap_free(&seen);
        if (recs && coord_group_tombstone(g, &recs[k]) == 0)
            k++;
        int16_t err = recs ? coord_persist(co, g->partition, recs, k, NULL, NULL) : KERR_UNKNOWN_SERVER_ERROR;
        for (int j = 0; j < k; j++)
            coord_record_free(&recs[j]);
        free(recs);
        if (err) {
            rs[i].error_code = coord_map_store_error(err, false);
            continue;
        }
        LOG_INF("group", "group %s deleted", g->id);
        coord_group_delete(co, g);
    }
    coord_respond(rq, r);
}
