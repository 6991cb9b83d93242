/*
 * topic_registry.h - the set of live topics, by name and by id.
 *
 * One reader/writer lock guards the two maps and every topic's config
 * overrides.  Lookups take the read lock briefly and return a referenced
 * topic; admin operations (create, delete, alter, grow) take the write lock.
 * The registry does not touch storage or persistence: the admin layer
 * creates logs and writes the metadata store, then publishes here.
 */
#ifndef SAMSA_CLUSTER_TOPIC_REGISTRY_H
#define SAMSA_CLUSTER_TOPIC_REGISTRY_H

#include <pthread.h>

#include "cluster/topic.h"
#include "core/strmap.h"

typedef struct topic_registry {
    pthread_rwlock_t lock;
    strmap by_name;       /* name -> topic* (registry's reference) */
    strmap by_id;         /* 16 raw id bytes -> topic* (same reference) */
} topic_registry;

void topic_registry_init(topic_registry *r);
void topic_registry_destroy(topic_registry *r);   /* drops every reference */

/* Referenced topic, or NULL. */
topic *topic_registry_get(topic_registry *r, const char *name, size_t len);
topic *topic_registry_get_id(topic_registry *r, kuuid id);
/* Takes over the caller's reference.  -1 if the name or id exists. */
int topic_registry_add(topic_registry *r, topic *t);
/* Unlinks and returns the registry's reference (or NULL). */
topic *topic_registry_remove(topic_registry *r, const char *name, size_t len);
/* All topics sorted by name, each referenced; free with topic_registry_list_free. */
int topic_registry_list(topic_registry *r, topic ***out);
void topic_registry_list_free(topic **list, int n);

static inline void topic_registry_rdlock(topic_registry *r) { pthread_rwlock_rdlock(&r->lock); }
static inline void topic_registry_wrlock(topic_registry *r) { pthread_rwlock_wrlock(&r->lock); }
static inline void topic_registry_unlock(topic_registry *r) { pthread_rwlock_unlock(&r->lock); }

#endif
