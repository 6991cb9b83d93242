/*
 * coordinator.c - the coordinator thread: its loop, request hand-off,
 * loading __consumer_offsets at startup, writing records durably, and
 * offset expiration.  See coordinator.h for the model.
 */
#include "group/coordinator_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/offsets_records.h"
#include "proto/codec.h"
#include "proto/messages/join_group.h"
#include "proto/messages/sync_group.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"
#include "storage/record_iter.h"

#define COORD_LOOP_ID -1            /* not a network loop (it parks no delayed ops) */
#define LOAD_CHUNK (8u << 20)

int64_t coord_now_ms(void) { return wall_ms(); }

char *coord_strdup_k(kstr s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s.p, n);
        p[n] = 0;
    }
    return p;
}

bool kstr_is(kstr s, const char *c)
{
    if (!c)
        return s.len < 0;
    return s.len >= 0 && (size_t)s.len == strlen(c) && !memcmp(s.p, c, (size_t)s.len);
}

/* -------------------------------------------------------------- hand-off */

static void finish_on_loop(loop *lp, void *arg)
{
    kreq_finish_encoded(arg);
}

void coord_respond(kreq *rq, const void *resp)
{
    kreq_encode(rq, resp);
    if (loop_post(rq->lp, finish_on_loop, rq) < 0)
        LOG_ERR("group", "cannot hand a response back to its network thread");
}

typedef struct submit_msg {
    coordinator *co;
    kreq *rq;
    void (*fn)(coordinator *, kreq *);
} submit_msg;

static void run_submitted(loop *lp, void *arg)
{
    submit_msg *m = arg;
    m->fn(m->co, m->rq);
    free(m);
}

void coordinator_submit(coordinator *co, kreq *rq, void (*fn)(coordinator *, kreq *))
{
    submit_msg *m = malloc(sizeof *m);
    if (m) {
        m->co = co;
        m->rq = rq;
        m->fn = fn;
    }
    if (!m || !co || atomic_load(&co->stopped) || loop_post(co->lp, run_submitted, m) < 0) {
        free(m);
        kreq_fail_close(rq, "group coordinator unavailable");
    }
}

/* ---------------------------------------------------------------- groups */

group *coord_group(coordinator *co, const char *id)
{
    return strmap_get(&co->groups, id, strlen(id));
}

group *coord_group_create(coordinator *co, const char *id)
{
    int32_t part = group_partition_for(id, strlen(id), co->nparts > 0 ? co->nparts : 1);
    group *g = group_new(id, part);
    if (!g)
        return NULL;
    g->co = co;
    g->state_ts_ms = coord_now_ms();
    int err = 0;
    strmap_put(&co->groups, id, strlen(id), g, &err);
    if (err) {
        group_free(g);
        return NULL;
    }
    return g;
}

int16_t coord_check_owner(coordinator *co, const char *id)
{
    if (!co->offsets)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    partition *p = topic_partition(co->offsets, group_partition_for(id, strlen(id), co->nparts > 0 ? co->nparts : 1));
    return p && partition_led_by(p, co->ctx.node_id) ? KERR_NONE : KERR_NOT_COORDINATOR;
}

void coord_group_delete(coordinator *co, group *g)
{
    loop_timer_cancel(co->lp, &g->join_timer);
    loop_timer_cancel(co->lp, &g->sync_timer);
    for (int i = 0; i < g->nmembers; i++)
        loop_timer_cancel(co->lp, &g->members[i]->session);
    for (int i = 0; i < g->npending; i++)
        loop_timer_cancel(co->lp, &g->pending[i]->expiry);
    strmap_del(&co->groups, g->id, strlen(g->id));
    group_free(g);
}

/* --------------------------------------------------------------- records */

static int encode_record_part(int16_t version, const kf_struct *s, const void *v, bool flex,
                              uint8_t **out, int32_t *len)
{
    obuf ob;
    obuf_init(&ob);
    uint8_t ver[2];
    be16_store(ver, (uint16_t)version);
    obuf_append(&ob, ver, 2);
    kcodec_encode(s, version, flex, v, &ob);
    int rc = -1;
    uint8_t *buf = malloc(ob.total + 1);
    if (buf && !ob.oom && obuf_flatten(&ob, buf, ob.total + 1) == (long)ob.total) {
        *out = buf;
        *len = (int32_t)ob.total;
        rc = 0;
    } else {
        free(buf);
    }
    obuf_free(&ob);
    return rc;
}

void coord_record_free(bb_record *rec)
{
    free((void *)rec->key);
    free((void *)rec->value);
    memset(rec, 0, sizeof *rec);
}

static int group_key(const group *g, bb_record *rec)
{
    orec_group_key k = { .group = kstr_c(g->id) };
    uint8_t *p;
    int32_t n;
    if (encode_record_part(OREC_KEY_GROUP, &orec_group_key_schema, &k, false, &p, &n))
        return -1;
    rec->key = p;
    rec->key_len = n;
    return 0;
}

int coord_group_tombstone(const group *g, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    rec->value_len = -1;
    return group_key(g, rec);
}

int coord_group_record(const group *g, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    if (group_key(g, rec))
        return -1;
    orec_group_value v;
    kcodec_defaults(&orec_group_value_schema, &v);
    v.protocol_type = kstr_c(g->protocol_type ? g->protocol_type : "");
    v.generation = g->generation;
    v.protocol = g->protocol ? kstr_c(g->protocol) : (kstr){ NULL, -1 };
    v.leader = g->leader ? kstr_c(g->leader) : (kstr){ NULL, -1 };
    v.current_state_timestamp = g->state_ts_ms;
    orec_group_member *ms = calloc((size_t)g->nmembers + 1, sizeof *ms);
    if (!ms) {
        coord_record_free(rec);
        return -1;
    }
    v.members.n = g->nmembers;
    v.members.v = ms;
    for (int i = 0; i < g->nmembers; i++) {
        const member *m = g->members[i];
        const group_protocol *pr = member_protocol(m, g->protocol);
        ms[i] = (orec_group_member){
            .member_id = kstr_c(m->id),
            .group_instance_id = m->instance_id ? kstr_c(m->instance_id) : (kstr){ NULL, -1 },
            .client_id = kstr_c(m->client_id), .client_host = kstr_c(m->client_host),
            .rebalance_timeout = m->rebalance_timeout_ms, .session_timeout = m->session_timeout_ms,
            .subscription = pr ? (kbytes){ pr->meta, pr->meta_len } : (kbytes){ NULL, 0 },
            .assignment = (kbytes){ m->assignment, m->assignment_len },
        };
    }
    uint8_t *p;
    int32_t n;
    int rc = encode_record_part(3, &orec_group_value_schema, &v, false, &p, &n);
    free(ms);
    if (rc) {
        coord_record_free(rec);
        return -1;
    }
    rec->value = p;
    rec->value_len = n;
    return 0;
}

int coord_offset_record(const char *group_id, const char *topic_name, int32_t partition_index,
                        const offset_entry *e, bb_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->timestamp = coord_now_ms();
    orec_offset_key k = { .group = kstr_c(group_id), .topic = kstr_c(topic_name), .partition = partition_index };
    uint8_t *p;
    int32_t n;
    if (encode_record_part(OREC_KEY_OFFSET, &orec_offset_key_schema, &k, false, &p, &n))
        return -1;
    rec->key = p;
    rec->key_len = n;
    if (!e) {
        rec->value_len = -1;
        return 0;
    }
    orec_offset_value v = { .offset = e->offset, .leader_epoch = e->leader_epoch,
                            .metadata = kstr_c(e->metadata ? e->metadata : ""),
                            .commit_timestamp = e->commit_ts, .expire_timestamp = e->expire_ts };
    /* v1 is the only version that carries an explicit expire timestamp. */
    int ver = e->expire_ts >= 0 ? 1 : 3;
    if (encode_record_part((int16_t)ver, &orec_offset_value_schema, &v, false, &p, &n)) {
        coord_record_free(rec);
        return -1;
    }
    rec->value = p;
    rec->value_len = n;
    return 0;
}

int16_t coord_map_store_error(int16_t err, bool for_offsets)
{
    switch (err) {
    case KERR_NONE: return KERR_NONE;
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KERR_NOT_ENOUGH_REPLICAS:
    case KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        return KERR_COORDINATOR_NOT_AVAILABLE;
    case KERR_NOT_LEADER_OR_FOLLOWER:
    case KERR_KAFKA_STORAGE_ERROR:
        return KERR_NOT_COORDINATOR;
    case KERR_MESSAGE_TOO_LARGE:
    case KERR_RECORD_LIST_TOO_LARGE:
    case KERR_INVALID_FETCH_SIZE:
        return for_offsets ? KERR_INVALID_COMMIT_OFFSET_SIZE : KERR_UNKNOWN_SERVER_ERROR;
    default:
        return err;
    }
}

/* ------------------------------------------------------------ persistence */

/* Complete, in append order, every wait whose data is now durable. */
static void check_waits(coordinator *co)
{
    for (int i = 0; i < co->nwaits;) {
        flush_wait *w = &co->waits[i];
        partition *p = co->offsets ? topic_partition(co->offsets, w->partition) : NULL;
        if (p && plog_recovery_point(p->log) < w->need) {
            i++;
            continue;
        }
        flush_wait done = *w;
        memmove(&co->waits[i], &co->waits[i + 1], (size_t)(co->nwaits - i - 1) * sizeof *co->waits);
        co->nwaits--;
        if (done.done)
            done.done(co, done.arg, p ? KERR_NONE : KERR_NOT_COORDINATOR);
    }
}

int16_t coord_persist(coordinator *co, int32_t partno, const bb_record *recs, int n,
                      persist_done done, void *arg)
{
    partition *p = co->offsets ? topic_partition(co->offsets, partno) : NULL;
    if (!p || !p->log)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (!partition_led_by(p, co->ctx.node_id))
        return KERR_NOT_COORDINATOR;           /* M4: only the leader appends */
    bb_params bp;
    bb_params_init(&bp);
    uint8_t *batch = NULL;
    size_t len = 0;
    if (bb_build(&bp, recs, n, &batch, &len) != KERR_NONE)
        return KERR_UNKNOWN_SERVER_ERROR;
    plog_append_result ar;
    plog_append(p->log, batch, len, atomic_load(&p->leader_epoch), coord_now_ms(), &ar);
    free(batch);
    if (ar.error)
        return ar.error;
    plog_set_high_watermark(p->log, ar.end_offset);
    partition_notify(p);                 /* consumers of the topic itself */
    if (!ar.flush_needed) {
        if (done)
            done(co, arg, KERR_NONE);
        return KERR_NONE;
    }
    log_manager_request_flush(co->ctx.logs, p->log);
    if (co->nwaits == co->capwaits) {
        int cap = co->capwaits ? co->capwaits * 2 : 64;
        flush_wait *nw = realloc(co->waits, (size_t)cap * sizeof *nw);
        if (!nw)
            return KERR_UNKNOWN_SERVER_ERROR;
        co->waits = nw;
        co->capwaits = cap;
    }
    co->waits[co->nwaits++] = (flush_wait){ partno, ar.last_offset + 1, done, arg };
    check_waits(co);          /* the flusher may already be done */
    return KERR_NONE;
}

void coord_store_group(coordinator *co, group *g)
{
    bb_record rec;
    if (coord_group_record(g, &rec) < 0) {
        LOG_ERR("group", "group %s: cannot encode its metadata", g->id);
        return;
    }
    int16_t err = coord_persist(co, g->partition, &rec, 1, NULL, NULL);
    if (err)
        LOG_ERR("group", "group %s: cannot store its metadata: %s", g->id, kerr_name(err));
    coord_record_free(&rec);
}

/* ---------------------------------------------------------------- loading */

typedef struct load_stats {
    int64_t records, offsets, groups;
} load_stats;

static void load_offset_record(coordinator *co, kreader *kr, const rb_iter_record *r, load_stats *st)
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
        offset_entry_free(strmap_del(&g->offsets, key, kl));
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
    e->metadata = coord_strdup_k(v.metadata);
    e->commit_ts = v.commit_timestamp;
    e->expire_ts = ver == 1 ? v.expire_timestamp : -1;
    offset_entry_free(strmap_put(&g->offsets, key, kl, e, NULL));
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

static void load_batch(coordinator *co, const uint8_t *batch, size_t size, load_stats *st)
{
    rb_iter it;
    if (rb_iter_init(&it, batch, size, 64u << 20) != KERR_NONE)
        return;
    if (rb_is_control(&it.h)) {
        rb_iter_free(&it);
        return;
    }
    rb_iter_record r;
    while (rb_iter_next(&it, &r) == 1) {
        st->records++;
        if (!r.r.key || r.r.key_len < 2)
            continue;
        int16_t kt = (int16_t)be16_load(r.r.key);
        kreader kr;
        kr_init(&kr, r.r.key + 2, (size_t)r.r.key_len - 2);
        if (kt == OREC_KEY_OFFSET_V0 || kt == OREC_KEY_OFFSET)
            load_offset_record(co, &kr, &r, st);
        else if (kt == OREC_KEY_GROUP)
            load_group_record(co, &kr, &r, st);
    }
    rb_iter_free(&it);
}

static int load_partition(coordinator *co, partition *p, load_stats *st)
{
    int64_t off = plog_log_start_offset(p->log);
    int64_t end = plog_high_watermark(p->log);
    size_t cap = LOAD_CHUNK;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    while (off < end) {
        plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(p->log, off, (int32_t)cap, true, 0, &rr);
        if (rr.error || !rr.file || rr.len <= 0) {
            if (rr.file)
                fileref_unref(rr.file);
            if (rr.error) {
                LOG_ERR("group", "reading %s-%d at %" PRId64 ": %s", OFFSETS_TOPIC, p->index, off,
                        kerr_name(rr.error));
                free(buf);
                return -1;
            }
            break;
        }
        if ((size_t)rr.len > cap) {
            uint8_t *nb = realloc(buf, (size_t)rr.len);
            if (!nb) {
                fileref_unref(rr.file);
                free(buf);
                return -1;
            }
            buf = nb;
            cap = (size_t)rr.len;
        }
        ssize_t got = pread(rr.file->fd, buf, (size_t)rr.len, rr.file_pos);
        fileref_unref(rr.file);
        if (got != rr.len) {
            free(buf);
            return -1;
        }
        size_t pos = 0;
        int64_t next = off;
        while (pos + RB_LOG_OVERHEAD <= (size_t)got) {
            rb_header h;
            if (rb_parse_header(buf + pos, (size_t)got - pos, &h) != KERR_NONE ||
                rb_size(&h) > (size_t)got - pos)
                break;
            if (rb_last_offset(&h) >= off)
                load_batch(co, buf + pos, rb_size(&h), st);
            next = rb_last_offset(&h) + 1;
            pos += rb_size(&h);
        }
        if (next <= off)
            break;              /* no whole batch: nothing more readable */
        off = next;
    }
    free(buf);
    return 0;
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

static void attach_offsets_topic(coordinator *co, topic *t)
{
    if (co->offsets)
        return;
    topic_ref(t);
    co->offsets = t;
    co->nparts = topic_nparts(t);
    for (int32_t i = 0; i < co->nparts; i++)
        partition_watch(topic_partition(t, i), &co->watcher);
}

static void load_all(coordinator *co)
{
    topic *t = topic_registry_get(co->ctx.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!t)
        return;
    attach_offsets_topic(co, t);
    topic_unref(t);
    int64_t t0 = mono_us();
    load_stats st = { 0 };
    for (int32_t i = 0; i < co->nparts; i++)
        load_partition(co, topic_partition(co->offsets, i), &st);
    /* As Kafka, a group exists after loading only if it has offsets left or
     * metadata that was not deleted: deleted groups stay deleted. */
    group **gone = NULL;
    int ngone = 0;
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (!g->has_metadata && g->offsets.count == 0) {
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
    LOG_INF("group", "loaded %zu group(s) from %s: %" PRId64 " records, %" PRId64
            " offset and %" PRId64 " group records in %.1f ms", co->groups.count, OFFSETS_TOPIC,
            st.records, st.offsets, st.groups, (double)(mono_us() - t0) / 1000.0);
}

/* ------------------------------------------------------ offset expiration */

static void expire_offsets(loop *lp, ktimer *t)
{
    coordinator *co = (coordinator *)((char *)t - offsetof(coordinator, expire_timer));
    int64_t now = coord_now_ms();
    size_t it = 0;
    void *v;
    group **dead = NULL;
    int ndead = 0;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        if (g->state != GROUP_EMPTY)
            continue;
        /* KIP-211: a consumer group's offsets expire once it has been empty
         * for the retention time; a group that never had members (manual
         * commits) expires each offset from its commit time. */
        size_t oit = 0;
        const char *k;
        size_t kl;
        void *ev;
        int nexp = 0;
        bb_record *recs = NULL;
        int cap = 0;
        char **keys = NULL;
        size_t *klens = NULL;
        while (strmap_next(&g->offsets, &oit, &k, &kl, &ev)) {
            offset_entry *e = ev;
            int64_t base = g->protocol_type ? g->state_ts_ms : e->commit_ts;
            bool expired = e->expire_ts >= 0 ? e->expire_ts <= now : now - base >= co->retention_ms;
            if (!expired)
                continue;
            if (nexp == cap) {
                cap = cap ? cap * 2 : 16;
                recs = realloc(recs, (size_t)cap * sizeof *recs);
                keys = realloc(keys, (size_t)cap * sizeof *keys);
                klens = realloc(klens, (size_t)cap * sizeof *klens);
                if (!recs || !keys || !klens)
                    break;
            }
            size_t tl = strlen(k);
            int32_t part = (int32_t)be32_load(k + tl + 1);
            if (coord_offset_record(g->id, k, part, NULL, &recs[nexp]) < 0)
                continue;
            keys[nexp] = malloc(kl);
            memcpy(keys[nexp], k, kl);
            klens[nexp] = kl;
            nexp++;
        }
        if (nexp > 0 && coord_persist(co, g->partition, recs, nexp, NULL, NULL) == KERR_NONE) {
            for (int i = 0; i < nexp; i++)
                offset_entry_free(strmap_del(&g->offsets, keys[i], klens[i]));
            LOG_INF("group", "group %s: expired %d committed offset(s)", g->id, nexp);
        }
        for (int i = 0; i < nexp; i++) {
            coord_record_free(&recs[i]);
            free(keys[i]);
        }
        free(recs);
        free(keys);
        free(klens);
        if (g->offsets.count == 0 && g->nmembers == 0) {
            group **nd = realloc(dead, (size_t)(ndead + 1) * sizeof *nd);
            if (nd) {
                dead = nd;
                dead[ndead++] = g;
            }
        }
    }
    for (int i = 0; i < ndead; i++) {
        bb_record rec;
        if (dead[i]->generation > 0 && coord_group_tombstone(dead[i], &rec) == 0) {
            coord_persist(co, dead[i]->partition, &rec, 1, NULL, NULL);
            coord_record_free(&rec);
        }
        coord_group_delete(co, dead[i]);
    }
    free(dead);
    loop_timer_arm(lp, t, loop_now_us(lp) + co->retention_check_ms * 1000);
}

/* ------------------------------------------------------------ the thread */

static void on_kick(loop *lp, void *arg)
{
    coordinator *co = arg;
    if (atomic_exchange(&co->watcher.dirty, false))
        check_waits(co);
}

static void *coord_main(void *arg)
{
    coordinator *co = arg;
    load_all(co);
    loop_timer_arm(co->lp, &co->expire_timer, loop_now_us(co->lp) + co->retention_check_ms * 1000);
    loop_run(co->lp);
    return NULL;
}

typedef struct created_msg {
    coordinator *co;
    topic *t;
} created_msg;

static void created_on_loop(loop *lp, void *arg)
{
    created_msg *m = arg;
    attach_offsets_topic(m->co, m->t);
    topic_unref(m->t);
    free(m);
}

void coordinator_offsets_topic_created(coordinator *co, topic *t)
{
    created_msg *m = co && !atomic_load(&co->stopped) ? malloc(sizeof *m) : NULL;
    if (!m)
        return;
    topic_ref(t);
    m->co = co;
    m->t = t;
    if (loop_post(co->lp, created_on_loop, m) < 0) {
        topic_unref(t);
        free(m);
    }
}

coordinator *coordinator_start(const coord_ctx *ctx, char *err, size_t errlen)
{
    const struct broker_config *cfg = ctx->config(ctx->config_arg);
    coordinator *co = calloc(1, sizeof *co);
    if (!co) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    co->ctx = *ctx;
    strmap_init(&co->groups);
    co->lp = loop_new(COORD_LOOP_ID);
    if (!co->lp) {
        free(co);
        snprintf(err, errlen, "cannot create the coordinator loop");
        return NULL;
    }
    co->watcher.lp = co->lp;
    atomic_init(&co->watcher.dirty, false);
    loop_set_kick(co->lp, on_kick, co);
    ktimer_init(&co->expire_timer, expire_offsets);
    co->min_session_ms = cfg->group_min_session_timeout_ms;
    co->max_session_ms = cfg->group_max_session_timeout_ms;
    co->initial_delay_ms = cfg->group_initial_rebalance_delay_ms;
    co->max_group_size = cfg->group_max_size;
    co->max_metadata_bytes = cfg->offset_metadata_max_bytes;
    co->retention_ms = (int64_t)cfg->offsets_retention_minutes * 60000;
    co->retention_check_ms = cfg->offsets_retention_check_interval_ms;
    co->max_record_bytes = (size_t)cfg->message_max_bytes;
    if (pthread_create(&co->thread, NULL, coord_main, co) != 0) {
        loop_free(co->lp);
        free(co);
        snprintf(err, errlen, "cannot start the group coordinator thread");
        return NULL;
    }
    pthread_setname_np(co->thread, "samsa-groups");
    co->running = true;
    return co;
}

static void shutdown_on_loop(loop *lp, void *arg)
{
    coordinator *co = arg;
    /* Parked requests: answer them so clients retry elsewhere later. */
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v)) {
        group *g = v;
        for (int i = 0; i < g->nmembers; i++) {
            member *m = g->members[i];
            loop_timer_cancel(lp, &m->session);
            if (m->join) {
                join_group_resp *r = kreq_new_response(m->join);
                r->error_code = KERR_NOT_COORDINATOR;
                r->member_id = kstr_c(m->id);
                coord_respond(m->join, r);
                m->join = NULL;
            }
            if (m->sync) {
                sync_group_resp *r = kreq_new_response(m->sync);
                r->error_code = KERR_NOT_COORDINATOR;
                coord_respond(m->sync, r);
                m->sync = NULL;
            }
        }
        for (int i = 0; i < g->npending; i++)
            loop_timer_cancel(lp, &g->pending[i]->expiry);
        loop_timer_cancel(lp, &g->join_timer);
        loop_timer_cancel(lp, &g->sync_timer);
    }
    /* Commits waiting for a flush: the final flush has run by now. */
    check_waits(co);
    loop_timer_cancel(lp, &co->expire_timer);
    loop_stop(lp);
}

void coordinator_stop(coordinator *co)
{
    if (!co || !co->running || atomic_exchange(&co->stopped, true))
        return;
    loop_post(co->lp, shutdown_on_loop, co);
    pthread_join(co->thread, NULL);
    size_t it = 0;
    void *v;
    while (strmap_next(&co->groups, &it, NULL, NULL, &v))
        group_free(v);
    strmap_free(&co->groups);
    if (co->offsets) {
        for (int32_t i = 0; i < co->nparts; i++)
            partition_unwatch(topic_partition(co->offsets, i), &co->watcher);
        topic_unref(co->offsets);
    }
    free(co->waits);
    co->waits = NULL;
    co->offsets = NULL;
}

void coordinator_free(coordinator *co)
{
    if (!co)
        return;
    coordinator_stop(co);
    loop_free(co->lp);
    free(co);
}
