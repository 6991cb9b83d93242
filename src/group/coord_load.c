/*
 * coord_load.c - which __consumer_offsets partitions this coordinator
 * serves, and loading their groups and offsets from the log.
 *
 * Ownership (G10-G12 in docs/groups.md, Kafka's GroupMetadataManager):
 * the coordinator serves the groups of partition P only while this broker
 * leads P.  At start every partition led here is loaded before the thread
 * serves anything (embedded mode: all of them, as always).  Later,
 * coordinator_elect(P, epoch) (LeaderAndIsr made this broker P's leader)
 * loads P on the coordinator thread one chunk per loop pass, so requests
 * for P's groups are answered COORDINATOR_LOAD_IN_PROGRESS meanwhile and
 * every other group keeps being served; coordinator_resign(P, epoch) drops
 * P's groups (parked requests and waiting writes answered NOT_COORDINATOR).
 * Elections and resignations older than the newest seen for P are ignored.
 *
 * Loading reads P from its log start to its log end (the leader's LEO, as
 * Kafka: everything this leader has), newest record per key wins; the
 * topic is compacted, so this stays proportional to live keys plus what
 * the cleaner has not reached yet.
 *
 * Thread: everything here runs on the coordinator thread, except
 * coordinator_elect/resign, which only post to it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator_int.h"
#include "group/offsets_records.h"
#include "proto/codec.h"
#include "proto/messages/join_group.h"
#include "proto/messages/sync_group.h"
#include "storage/partition_log.h"
#include "storage/record_iter.h"

#define LOAD_CHUNK (8u << 20)

/* ------------------------------------------------------- record loading */

/* Where a record came from: its batch's first offset, and the producer
 * when the batch is transactional (TG5). */
typedef struct load_src {
    int64_t base;
    int64_t txn_pid;               /* -1: a plain batch */
} load_src;

static void load_offset_record(coordinator *co, kreader *kr, const rb_iter_record *r, const load_src *src,
                               load_stats *st)
{
    arena a;
    arena_init(&a, 1 << 20);
    orec_offset_key k;
    if (kcodec_decode(&orec_offset_key_schema, 0, false, kr, &a, &k) != 0)
        goto out;
    char *gid = coord_strdup_k(k.group);
    group *g = gid ? coord_group(co, gid) : NULL;
    if (!g && gid && r->r.value)
        g = coord_group_create(co, gid);
    free(gid);
    if (!g)
        goto out;
    char key[512];
    size_t kl = offset_key(key, sizeof key, k.topic.p ? k.topic.p : "", k.topic.len > 0 ? k.topic.len : 0,
                           k.partition);
    if (!kl)
        goto out;
    if (!r->r.value) {
        if (src->txn_pid >= 0) {
            coord_txn_remove(co, g, src->txn_pid, key, kl, -1);
        } else {
            /* TG5: a plain tombstone also ends what is pending for it. */
            offset_entry_free(strmap_del(&g->offsets, key, kl));
            coord_txn_drop_key(co, g, key, kl);
        }
        goto out;
    }
    if (r->r.value_len < 2)
        goto out;
    int16_t ver = (int16_t)be16_load(r->r.value);
    if (ver < 0 || ver > OREC_OFFSET_VALUE_MAX_VERSION)
        goto out;
    kreader vr;
    kr_init(&vr, r->r.value + 2, (size_t)r->r.value_len - 2);
    orec_offset_value v;
    if (kcodec_decode(&orec_offset_value_schema, ver, ver >= OREC_FLEX_FROM, &vr, &a, &v) != 0)
        goto out;
    offset_entry *e = calloc(1, sizeof *e);
    if (!e)
        goto out;
    e->offset = v.offset;
    e->leader_epoch = v.leader_epoch;
    (void)coord_entry_set_metadata(e, v.metadata);   /* out of memory: "" */
    e->commit_ts = v.commit_timestamp;
    e->expire_ts = ver == 1 ? v.expire_timestamp : -1;
    e->append_offset = src->base;
    if (src->txn_pid >= 0) {
        /* TG5: pending until the producer's marker is read. */
        if (coord_txn_add(co, g, src->txn_pid, key, kl, e) < 0)
            LOG_ERR("group", "group %s: out of memory loading a pending offset", g->id);
    } else {
        offset_entry_free(strmap_put(&g->offsets, key, kl, e, NULL));
    }
    st->offsets++;
out:
    arena_reset(&a);
}

static void load_group_record(coordinator *co, kreader *kr, const rb_iter_record *r, load_stats *st)
{
    arena a;
    arena_init(&a, 64u << 20);
    orec_group_key k;
    char *gid = NULL;
    if (kcodec_decode(&orec_group_key_schema, 0, false, kr, &a, &k) != 0 || !(gid = coord_strdup_k(k.group)))
        goto out;
    group *g = coord_group(co, gid);
    if (!r->r.value) {
        /* Group deleted: drop its membership; offsets have their own
         * tombstones. */
        if (g) {
            group_clear_membership(g);
            g->has_metadata = false;
        }
        goto out;
    }
    if (r->r.value_len < 2)
        goto out;
    int16_t ver = (int16_t)be16_load(r->r.value);
    if (ver < 0 || ver > OREC_GROUP_VALUE_MAX_VERSION)
        goto out;
    kreader vr;
    kr_init(&vr, r->r.value + 2, (size_t)r->r.value_len - 2);
    orec_group_value v;
    if (kcodec_decode(&orec_group_value_schema, ver, ver >= OREC_FLEX_FROM, &vr, &a, &v) != 0) {
        LOG_WRN("group", "group %s: unreadable metadata record at offset %" PRId64, gid, r->offset);
        goto out;
    }
    if (!g && !(g = coord_group_create(co, gid)))
        goto out;
    group_clear_membership(g);
    g->has_metadata = true;
    g->protocol_type = v.protocol_type.len > 0 ? coord_strdup_k(v.protocol_type) : NULL;
    g->protocol = v.protocol.len >= 0 ? coord_strdup_k(v.protocol) : NULL;
    g->leader = v.leader.len >= 0 ? coord_strdup_k(v.leader) : NULL;
    g->generation = v.generation;
    g->state_ts_ms = v.current_state_timestamp >= 0 ? v.current_state_timestamp : r->timestamp;
    for (int32_t i = 0; i < v.members.n; i++) {
        orec_group_member *om = &v.members.v[i];
        member *m = calloc(1, sizeof *m);
        if (!m)
            break;
        m->id = coord_strdup_k(om->member_id);
        m->instance_id = om->group_instance_id.len >= 0 ? coord_strdup_k(om->group_instance_id) : NULL;
        m->client_id = coord_strdup_k(om->client_id);
        m->client_host = coord_strdup_k(om->client_host);
        m->session_timeout_ms = om->session_timeout;
        m->rebalance_timeout_ms = ver >= 1 ? om->rebalance_timeout : om->session_timeout;
        m->protocols = calloc(1, sizeof *m->protocols);
        if (m->protocols && g->protocol) {
            m->nprotocols = 1;
            m->protocols[0].name = strdup(g->protocol);
            m->protocols[0].meta_len = om->subscription.len > 0 ? om->subscription.len : 0;
            m->protocols[0].meta = malloc((size_t)m->protocols[0].meta_len + 1);
            if (m->protocols[0].meta && m->protocols[0].meta_len)
                memcpy(m->protocols[0].meta, om->subscription.p, (size_t)m->protocols[0].meta_len);
        }
        m->assignment_len = om->assignment.len > 0 ? om->assignment.len : 0;
        m->assignment = malloc((size_t)m->assignment_len + 1);
        if (m->assignment && m->assignment_len)
            memcpy(m->assignment, om->assignment.p, (size_t)m->assignment_len);
        ktimer_init(&m->session, NULL);
        if (group_add_member(g, m) < 0)
            member_free(m);
    }
    st->groups++;
out:
    free(gid);
    arena_reset(&a);
}

/* A control batch: Kafka's transaction marker (key: version INT16 0, type
 * INT16 0 abort / 1 commit) ends producer h.producer_id's pending offsets
 * in the groups of this partition (TG5); other control records are
 * skipped. */
static void load_marker(coordinator *co, int32_t part, rb_iter *it)
{
    rb_iter_record r;
    if (rb_iter_next(it, &r) != 1 || !r.r.key || r.r.key_len < 4)
        return;
    int16_t ver = (int16_t)be16_load(r.r.key);
    int16_t type = (int16_t)be16_load((const uint8_t *)r.r.key + 2);
    if (ver != 0 || (type != 0 && type != 1) || it->h.producer_id < 0)
        return;
    coord_txn_complete_partition(co, part, it->h.producer_id, type == 1);
}

static void load_batch(coordinator *co, int32_t part, const uint8_t *batch, size_t size, load_stats *st)
{
    rb_iter it;
    if (rb_iter_init(&it, batch, size, 64u << 20) != KERR_NONE)
        return;
    if (rb_is_control(&it.h)) {
        load_marker(co, part, &it);
        rb_iter_free(&it);
        return;
    }
    load_src src = { .base = it.h.base_offset,
                     .txn_pid = rb_is_transactional(&it.h) ? it.h.producer_id : -1 };
    rb_iter_record r;
    while (rb_iter_next(&it, &r) == 1) {
        st->records++;
        if (!r.r.key || r.r.key_len < 2)
            continue;
        int16_t kt = (int16_t)be16_load(r.r.key);
        kreader kr;
        kr_init(&kr, r.r.key + 2, (size_t)r.r.key_len - 2);
        if (kt == OREC_KEY_OFFSET_V0 || kt == OREC_KEY_OFFSET)
            load_offset_record(co, &kr, &r, &src, st);
        else if (kt == OREC_KEY_GROUP)
            load_group_record(co, &kr, &r, st);
    }
    rb_iter_free(&it);
}

/* Read and apply the next chunk of p (one segment, up to the buffer's
 * size, at least one batch) from *off towards end.  1: more to read; 0: end
 * reached (or nothing more readable); -1: read error (named in the log). */
static int load_chunk(coordinator *co, partition *p, int64_t *off, int64_t end, load_stats *st)
{
    if (*off >= end)
        return 0;
    if (!co->load_buf) {
        if (!(co->load_buf = malloc(LOAD_CHUNK)))
            return -1;
        co->load_cap = LOAD_CHUNK;
    }
    plog_read_result rr;
    memset(&rr, 0, sizeof rr);
    plog_read(p->log, *off, (int32_t)co->load_cap, true, PLOG_ISOLATION_LOG_END, &rr);
    if (rr.error || !rr.file || rr.len <= 0) {
        if (rr.file)
            fileref_unref(rr.file);
        if (rr.error) {
            LOG_ERR("group", "reading %s-%d at %" PRId64 ": %s", OFFSETS_TOPIC, p->index, *off,
                    kerr_name(rr.error));
            return -1;
        }
        return 0;
    }
    if ((size_t)rr.len > co->load_cap) {
        uint8_t *nb = realloc(co->load_buf, (size_t)rr.len);
        if (!nb) {
            fileref_unref(rr.file);
            return -1;
        }
        co->load_buf = nb;
        co->load_cap = (size_t)rr.len;
    }
    uint8_t *buf = co->load_buf;
    ssize_t got = pread(rr.file->fd, buf, (size_t)rr.len, rr.file_pos);
    fileref_unref(rr.file);
    if (got != rr.len) {
        LOG_ERR("group", "reading %s-%d at %" PRId64 ": short read", OFFSETS_TOPIC, p->index, *off);
        return -1;
    }
    size_t pos = 0;
    int64_t next = *off;
    while (pos + RB_LOG_OVERHEAD <= (size_t)got) {
        rb_header h;
        if (rb_parse_header(buf + pos, (size_t)got - pos, &h) != KERR_NONE || rb_size(&h) > (size_t)got - pos)
            break;
        if (rb_last_offset(&h) >= *off)
            load_batch(co, p->index, buf + pos, rb_size(&h), st);
        next = rb_last_offset(&h) + 1;
        pos += rb_size(&h);
    }
    if (next <= *off)
        return 0;              /* no whole batch: nothing more readable */
    *off = next;
    return next < end ? 1 : 0;
}

static void on_member_loaded(coordinator *co, group *g)
{
    if (g->nmembers == 0) {
        g->state = GROUP_EMPTY;
        return;
    }
    g->state = GROUP_STABLE;
    for (int i = 0; i < g->nmembers; i++)
        coord_schedule_session(co, g->members[i]);
}

/* The groups of partition `part` (-1: of every partition) are loaded: as
 * Kafka, a group exists after loading only if it has offsets left or
 * metadata that was not deleted (deleted groups stay deleted); the others
 * start their sessions. */
static void finish_groups(coordinator *co, int32_t part)
{
    group **gone = NULL;
    int ngone = 0;
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (part >= 0 && g->partition != part)
            continue;
        if (!g->has_metadata && g->offsets.count == 0 && g->txn.count == 0) {    /* TG5 */
            group **ng = realloc(gone, (size_t)(ngone + 1) * sizeof *ng);
            if (ng) {
                gone = ng;
                gone[ngone++] = g;
            }
            continue;
        }
        on_member_loaded(co, g);
    }
    for (int i = 0; i < ngone; i++)
        coord_group_delete(co, gone[i]);
    free(gone);
}

/* ------------------------------------------------------------ ownership */

bool coord_owns_partition(const coordinator *co, int32_t part)
{
    return co->parts && part >= 0 && part < co->nparts && co->parts[part].state == CPART_OWNED;
}

/* G10: a group is served only while its partition is owned (elected and
 * loaded) and this broker still leads it; the second test covers the
 * moment between a LeaderAndIsr and the resignation it posted. C13: and
 * only while the broker may lead at all: an ex-coordinator back from a
 * pause or a network partition answers NOT_COORDINATOR, not its stale
 * offsets, until the controller's orders reach it (found by the cluster
 * fault runner: OffsetFetch served committed offsets that had moved on). */
int16_t coord_check_owner(coordinator *co, const char *id)
{
    if (!co->offsets || !co->parts)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (co->ctx.may_lead && !co->ctx.may_lead(co->ctx.config_arg))
        return KERR_NOT_COORDINATOR;
    int32_t part = group_partition_for(id, strlen(id), co->nparts > 0 ? co->nparts : 1);
    if (co->parts[part].state == CPART_LOADING)
        return KERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (co->parts[part].state != CPART_OWNED)
        return KERR_NOT_COORDINATOR;
    partition *p = topic_partition(co->offsets, part);
    return p && partition_led_by(p, co->ctx.node_id) ? KERR_NONE : KERR_NOT_COORDINATOR;
}

int16_t coord_check_owner_k(coordinator *co, kstr id)
{
    char *gid = coord_strdup_k(id);
    int16_t err = gid ? coord_check_owner(co, gid) : KERR_UNKNOWN_SERVER_ERROR;
    free(gid);
    return err;
}

/* Answer a group's parked JoinGroup and SyncGroup requests with err and
 * stop its members' sessions (resignation, shutdown). */
void coord_answer_parked(coordinator *co, group *g, int16_t err)
{
    for (int i = 0; i < g->nmembers; i++) {
        member *m = g->members[i];
        loop_timer_cancel(co->lp, &m->session);
        if (m->join) {
            join_group_resp *r = kreq_new_response(m->join);
            r->error_code = err;
            r->generation_id = -1;
            r->member_id = kstr_c(m->id);
            r->protocol_name = m->join_version >= 7 ? (kstr){ NULL, -1 } : kstr_c("");
            coord_respond(m->join, r);
            m->join = NULL;
        }
        if (m->sync) {
            sync_group_resp *r = kreq_new_response(m->sync);
            r->error_code = err;
            coord_respond(m->sync, r);
            m->sync = NULL;
        }
    }
}

/* G12: partition `part` is led here (its state says so): mark it owned at
 * the partition's leader epoch.  Its groups are read by the caller. */
static bool own_if_led(coordinator *co, int32_t part)
{
    partition *p = topic_partition(co->offsets, part);
    partition_state *st = p && p->log ? partition_state_get(p) : NULL;
    bool led = st && st->leader == co->ctx.node_id;
    if (led) {
        co->parts[part].state = CPART_OWNED;
        co->parts[part].epoch = st->leader_epoch;
    }
    pstate_unref(st);
    return led;
}

/* Take the offsets topic (once).  With load_led, every partition this
 * broker leads now is owned and loaded before returning (start-up, and
 * the topic's creation here: its logs are new and empty); otherwise the
 * partitions wait for their coordinator_elect.  -1: out of memory. */
static int attach_offsets_topic(coordinator *co, topic *t, bool load_led)
{
    if (co->offsets)
        return 0;
    int32_t n = topic_nparts(t);
    coord_part *parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts) {
        LOG_ERR("group", "%s: out of memory attaching its %d partition(s)", OFFSETS_TOPIC, n);
        return -1;
    }
    for (int32_t i = 0; i < n; i++)
        parts[i] = (coord_part){ .state = CPART_UNOWNED, .epoch = -1 };
    topic_ref(t);
    co->offsets = t;
    co->nparts = n;
    co->parts = parts;
    for (int32_t i = 0; i < n; i++)
        partition_watch(topic_partition(t, i), &co->watcher);
    if (!load_led)
        return 0;
    int64_t t0 = mono_us();
    load_stats st = { 0 };
    int nled = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!own_if_led(co, i))
            continue;
        nled++;
        partition *p = topic_partition(t, i);
        int64_t off = plog_log_start_offset(p->log), end = plog_log_end_offset(p->log);
        while (load_chunk(co, p, &off, end, &st) > 0)
            ;
    }
    finish_groups(co, -1);
    free(co->load_buf);
    co->load_buf = NULL;
    co->load_cap = 0;
    LOG_INF("group", "loaded %zu group(s) from %s: %" PRId64 " records, %" PRId64 " offset and %" PRId64
            " group records in %.1f ms (%d of its %d partitions led here)", co->groups.count, OFFSETS_TOPIC,
            st.records, st.offsets, st.groups, (double)(mono_us() - t0) / 1000.0, nled, n);
    return 0;
}

void coord_load_all(coordinator *co)
{
    topic *t = topic_registry_get(co->ctx.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!t)
        return;
    attach_offsets_topic(co, t, true);
    topic_unref(t);
}

void coord_offsets_created(coordinator *co, topic *t)
{
    attach_offsets_topic(co, t, true);
}

/* One chunk of every partition being loaded (G12); called by the loop's
 * kick hook, which runs after the mailbox: requests that arrived meanwhile
 * are answered between chunks.  True when loads remain (the caller kicks
 * the loop again). */
bool coord_load_step(coordinator *co)
{
    for (int32_t i = 0; co->nloading > 0 && i < co->nparts; i++) {
        coord_part *cp = &co->parts[i];
        if (cp->state != CPART_LOADING)
            continue;
        partition *p = topic_partition(co->offsets, i);
        int rc = load_chunk(co, p, &cp->load_next, cp->load_end, &cp->load_st);
        if (rc > 0)
            continue;
        co->nloading--;
        if (rc < 0) {
            /* Unreadable: serve nothing from it rather than a partial view. */
            LOG_ERR("group", "%s-%d: loading its groups failed; not coordinating them", OFFSETS_TOPIC, i);
            coord_drop_partition(co, i, KERR_NOT_COORDINATOR);
            cp->state = CPART_UNOWNED;
            continue;
        }
        coord_txn_flush_markers(co, i, true);       /* TG4: markers written during the load */
        finish_groups(co, i);
        cp->state = CPART_OWNED;
        LOG_INF("group", "%s-%d (leader epoch %d): loaded %" PRId64 " records, %" PRId64
                " offset and %" PRId64 " group records to offset %" PRId64 " in %.1f ms; now its coordinator",
                OFFSETS_TOPIC, i, cp->epoch, cp->load_st.records, cp->load_st.offsets,
                cp->load_st.groups, cp->load_end, (double)(mono_us() - cp->load_t0_us) / 1000.0);
    }
    if (co->nloading == 0 && co->load_buf) {
        free(co->load_buf);
        co->load_buf = NULL;
        co->load_cap = 0;
    }
    return co->nloading > 0;
}

/* Forget partition part's groups: their parked requests and the writes
 * still waiting on part are answered err. */
void coord_drop_partition(coordinator *co, int32_t part, int16_t err)
{
    group **drop = NULL;
    int ndrop = 0;
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (g->partition != part)
            continue;
        group **nd = realloc(drop, (size_t)(ndrop + 1) * sizeof *nd);
        if (!nd) {
            LOG_ERR("group", "%s-%d: out of memory dropping its groups", OFFSETS_TOPIC, part);
            break;
        }
        drop = nd;
        drop[ndrop++] = g;
    }
    for (int i = 0; i < ndrop; i++) {
        coord_answer_parked(co, drop[i], err);
        coord_group_delete(co, drop[i]);
    }
    free(drop);
    coord_txn_flush_markers(co, part, false);
    coord_fail_waits(co, part, err);
}

typedef struct elect_msg {
    coordinator *co;
    int32_t part, epoch;
    bool elect;
} elect_msg;

static void elect_on_loop(coordinator *co, int32_t part, int32_t epoch)
{
    coord_part *cp = &co->parts[part];
    if (cp->state != CPART_UNOWNED)
        return;              /* owned or loading already: this leader's memory is current */
    partition *p = topic_partition(co->offsets, part);
    if (!p || !p->log)
        return;
    cp->state = CPART_LOADING;
    cp->load_next = plog_log_start_offset(p->log);
    cp->load_end = plog_log_end_offset(p->log);      /* Kafka: to the leader's log end */
    cp->load_t0_us = mono_us();
    cp->load_st = (load_stats){ 0 };
    co->nloading++;
    LOG_INF("group", "%s-%d: elected at leader epoch %d; loading offsets %" PRId64 "..%" PRId64,
            OFFSETS_TOPIC, part, epoch, cp->load_next, cp->load_end);
    loop_kick(co->lp);       /* the first chunk runs after the requests queued now */
}

/* G11: drop what this broker no longer coordinates; nothing is written. */
static void resign_on_loop(coordinator *co, int32_t part, int32_t epoch)
{
    coord_part *cp = &co->parts[part];
    if (cp->state == CPART_UNOWNED)
        return;
    int ngroups = (int)co->groups.count;
    if (cp->state == CPART_LOADING)
        co->nloading--;
    coord_drop_partition(co, part, KERR_NOT_COORDINATOR);
    cp->state = CPART_UNOWNED;
    LOG_INF("group", "%s-%d: resigned at leader epoch %d; dropped %d group(s)", OFFSETS_TOPIC, part,
            epoch, ngroups - (int)co->groups.count);
}

static void leadership_on_loop(loop *lp, void *arg)
{
    elect_msg *m = arg;
    coordinator *co = m->co;
    (void)lp;
    if (!co->offsets) {
        /* Created or learnt of elsewhere: take it now; its partitions are
         * loaded as they are elected. */
        topic *t = topic_registry_get(co->ctx.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
        if (t) {
            attach_offsets_topic(co, t, false);
            topic_unref(t);
        }
    }
    if (!co->parts || m->part < 0 || m->part >= co->nparts) {
        LOG_WRN("group", "%s-%d: %s at leader epoch %d ignored: the coordinator does not know "
                "this partition", OFFSETS_TOPIC, m->part, m->elect ? "election" : "resignation",
                m->epoch);
        goto out;
    }
    coord_part *cp = &co->parts[m->part];
    if (m->epoch < cp->epoch) {   /* G11: reordered or stale */
        LOG_INF("group", "%s-%d: %s at leader epoch %d ignored: epoch %d seen", OFFSETS_TOPIC,
                m->part, m->elect ? "election" : "resignation", m->epoch, cp->epoch);
        goto out;
    }
    cp->epoch = m->epoch;
    if (m->elect)
        elect_on_loop(co, m->part, m->epoch);
    else
        resign_on_loop(co, m->part, m->epoch);
out:
    free(m);
}

static void post_leadership(coordinator *co, int32_t part, int32_t epoch, bool elect)
{
    elect_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (!m) {
        if (co)
            LOG_ERR("group", "%s-%d: cannot hand the %s at leader epoch %d to the coordinator",
                    OFFSETS_TOPIC, part, elect ? "election" : "resignation", epoch);
        return;
    }
    *m = (elect_msg){ co, part, epoch, elect };
    if (loop_post(co->lp, leadership_on_loop, m) < 0) {
        LOG_ERR("group", "%s-%d: cannot hand the %s at leader epoch %d to the coordinator",
                OFFSETS_TOPIC, part, elect ? "election" : "resignation", epoch);
        free(m);
    }
}

void coordinator_elect(coordinator *co, int32_t part, int32_t leader_epoch)
{
    post_leadership(co, part, leader_epoch, true);
}

void coordinator_resign(coordinator *co, int32_t part, int32_t leader_epoch)
{
    post_leadership(co, part, leader_epoch, false);
}
