/* lookup.c - see lookup.h. */
#include "broker/lookup.h"

#include "core/errors.h"

int16_t lookup_partition(broker *b, kstr name, kuuid id, int32_t index, topic **t, partition **p)
{
    *t = NULL;
    *p = NULL;
    topic *tp = name.len >= 0 ? topic_registry_get(&b->topics, name.p, (size_t)name.len)
                              : topic_registry_get_id(&b->topics, id);
    if (!tp)
        return name.len >= 0 ? KERR_UNKNOWN_TOPIC_OR_PARTITION : KERR_UNKNOWN_TOPIC_ID;
    partition *pp = topic_partition(tp, index);
    if (!pp) {
        topic_unref(tp);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!pp->log) {
        topic_unref(tp);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    *t = tp;
    *p = pp;
    return KERR_NONE;
}

int16_t partition_check_epoch(partition *p, int32_t requested)
{
    if (requested < 0)
        return KERR_NONE;
    int32_t ours = atomic_load(&p->leader_epoch);
    if (requested > ours)
        return KERR_UNKNOWN_LEADER_EPOCH;
    if (requested < ours)
        return KERR_FENCED_LEADER_EPOCH;
    return KERR_NONE;
}
