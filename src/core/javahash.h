/*
 * javahash.h - Kafka's partitionFor for coordinator keys: the partition of
 * an internal topic that owns a group id or a transactional id is
 * Utils.abs(key.hashCode()) % partitions, with Java's String.hashCode (over
 * UTF-16 code units).  Matching it exactly makes Kafka's tools and clients
 * agree with Samsa on which broker coordinates a key.
 */
#ifndef SAMSA_CORE_JAVAHASH_H
#define SAMSA_CORE_JAVAHASH_H

#include <stddef.h>
#include <stdint.h>

/* Java's String.hashCode of the UTF-8 string s[0..len). */
int32_t java_string_hash(const char *s, size_t len);
/* Utils.abs(java_string_hash(s)) % nparts (nparts >= 1). */
int32_t java_partition_for(const char *s, size_t len, int32_t nparts);

#endif
