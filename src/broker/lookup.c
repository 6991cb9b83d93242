/* lookup.c - see lookup.h. */
#include "broker/lookup.h"

#include <string.h>

#include "cluster/metadata.h"
#include "core/errors.h"
#include "proto/codec.h"

int16_t lookup_partition(broker *b, kstr name, kuuid id, int32_t index,
                         int32_t current_leader_epoch, leader_hint *hint, topic **t, partition **p)
{
    *t = NULL;
    *p = NULL;
    if (hint)
        *hint = (leader_hint){ -1, -1 };
    topic *tp = name.len >= 0 ? topic_registry_get(&b->topics, name.p, (size_t)name.len)
                              : topic_registry_get_id(&b->topics, id);
    if (!tp)
        return name.len >= 0 ? KERR_UNKNOWN_TOPIC_OR_PARTITION : KERR_UNKNOWN_TOPIC_ID;
    partition *pp = topic_partition(tp, index);
    if (!pp) {
        topic_unref(tp);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int16_t err = lookup_recheck(b, pp, current_leader_epoch, hint);
    if (!err && !pp->log)
        err = KERR_KAFKA_STORAGE_ERROR;
    if (err) {
        topic_unref(tp);
        return err;
    }
    *t = tp;
    *p = pp;
    return KERR_NONE;
}

int16_t lookup_recheck(broker *b, partition *p, int32_t current_leader_epoch, leader_hint *hint)
{
    /* One snapshot answers both checks, so they agree with each other. */
    partition_state *st = partition_state_get(p);
    int16_t err = KERR_NONE;
    if (st && hint)
        *hint = (leader_hint){ st->leader, st->leader_epoch };
    if (current_leader_epoch >= 0 && st && current_leader_epoch != st->leader_epoch)
        err = current_leader_epoch < st->leader_epoch ? KERR_FENCED_LEADER_EPOCH    /* M5 */
                                                      : KERR_UNKNOWN_LEADER_EPOCH;
    else if (!st || st->leader != b->set.node_id || !broker_may_lead(b))   /* C13 */
        err = KERR_NOT_LEADER_OR_FOLLOWER;                  /* M4: only the leader serves data */
    pstate_unref(st);
    return err;
}

static bool view_of(broker *b, kreq *rq, const md_broker *br, broker_view *out)
{
    int li = kreq_listener(rq);
    const char *lname = broker_advertised(b, li)->name;
    const md_endpoint *ep = md_broker_endpoint(br, lname);
    out->id = br->id;
    out->port = ep ? ep->port : -1;
    char *host = arena_strndup(&rq->arena, ep ? ep->host : "", ep ? strlen(ep->host) : 0);
    char *rack = br->rack[0] ? arena_strndup(&rq->arena, br->rack, strlen(br->rack)) : NULL;
    if (!host || (br->rack[0] && !rack))
        return false;
    out->host = kstr_c(host);
    out->rack = rack ? kstr_c(rack) : (kstr){ NULL, -1 };
    return true;
}

int lookup_live_brokers(broker *b, kreq *rq, broker_view **out)
{
    md_brokers *live = md_live_brokers(b->md);
    broker_view *v = live ? arena_alloc(&rq->arena, (size_t)(live->n + 1) * sizeof *v) : NULL;
    int n = v ? live->n : -1;
    for (int i = 0; v && i < live->n; i++)
        if (!view_of(b, rq, &live->v[i], &v[i]))
            n = -1;
    md_brokers_unref(live);
    *out = v;
    return n;
}

bool lookup_broker(broker *b, kreq *rq, int32_t id, broker_view *out)
{
    md_brokers *live = md_live_brokers(b->md);
    const md_broker *br = md_brokers_find(live, id);
    bool ok = br && view_of(b, rq, br, out);
    md_brokers_unref(live);
    return ok;
}

int lookup_brokers_named(broker *b, kreq *rq, const int32_t *ids, int n, broker_view **out)
{
    broker_view *v = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *v);
    *out = v;
    if (!v)
        return -1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = ids[j] == ids[i];
        if (!seen && ids[i] >= 0 && lookup_broker(b, rq, ids[i], &v[k]))
            k++;
    }
    return k;
}
