/* metadata.c - the store-independent helpers of cluster/metadata.h. */
#include "cluster/metadata.h"

#include <stdlib.h>
#include <string.h>

void meta_state_free(meta_state *st)
{
    meta_kvs *layers[] = { &st->broker_default, &st->broker_own };
    for (int l = 0; l < 2; l++) {
        for (int i = 0; i < layers[l]->n; i++) {
            free(layers[l]->v[i].key);
            free(layers[l]->v[i].value);
        }
        free(layers[l]->v);
    }
    for (int i = 0; i < st->ntopics; i++) {
        meta_topic *t = &st->topics[i];
        free(t->name);
        for (int k = 0; k < t->nconfigs; k++) {
            free(t->configs[k].key);
            free(t->configs[k].value);
        }
        free(t->configs);
        free(t->replicas);
        free(t->nreplicas);
    }
    free(st->topics);
    memset(st, 0, sizeof *st);
}

void md_brokers_unref(md_brokers *bs)
{
    if (bs && atomic_fetch_sub_explicit(&bs->refs, 1, memory_order_acq_rel) == 1)
        free(bs);
}

const md_broker *md_brokers_find(const md_brokers *bs, int32_t id)
{
    for (int i = 0; bs && i < bs->n; i++)
        if (bs->v[i].id == id)
            return &bs->v[i];
    return NULL;
}

const md_endpoint *md_broker_endpoint_named(const md_broker *br, const char *listener)
{
    for (int i = 0; br && listener && i < br->nendpoints; i++)
        if (!strcmp(br->ep[i].listener, listener))
            return &br->ep[i];
    return NULL;
}

const md_endpoint *md_broker_endpoint(const md_broker *br, const char *listener)
{
    if (!br || br->nendpoints <= 0)
        return NULL;
    for (int i = 0; listener && i < br->nendpoints; i++)
        if (!strcmp(br->ep[i].listener, listener))
            return &br->ep[i];
    return &br->ep[0];
}

void md_entities_free(md_entities *e)
{
    for (int i = 0; i < e->n; i++) {
        free(e->v[i].path);
        for (int k = 0; k < e->v[i].n; k++) {
            free(e->v[i].v[k].key);
            free(e->v[i].v[k].value);
        }
        free(e->v[i].v);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}
