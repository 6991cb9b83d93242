/*
 * offsets_records.h - the records of the internal __consumer_offsets topic,
 * in Kafka's own versioned formats, so the topic stays readable by Kafka
 * tools and survives restarts.
 *
 * Record key: INT16 type, then
 *   type 0 or 1  OffsetCommitKey    group STRING, topic STRING, partition INT32
 *   type 2       GroupMetadataKey   group STRING
 *   (3+ belong to KIP-848 groups and are skipped when loading)
 * Record value: INT16 version, then
 *   OffsetCommitValue v0-4: offset INT64, leader_epoch INT32 (v3+),
 *     metadata STRING, commit_timestamp INT64, expire_timestamp INT64 (v1
 *     only); v4 is flexible (compact strings, tag section)
 *   GroupMetadataValue v0-4: protocol_type STRING, generation INT32,
 *     protocol NULLABLE_STRING, leader NULLABLE_STRING,
 *     current_state_timestamp INT64 (v2+), members ARRAY of
 *     { member_id, group_instance_id (v3+, nullable), client_id,
 *       client_host, rebalance_timeout INT32 (v1+), session_timeout INT32,
 *       subscription BYTES, assignment BYTES }; v4 is flexible
 * A null value (tombstone) deletes the key.  We write OffsetCommitKey type
 * 1 with OffsetCommitValue v3 and GroupMetadataValue v3, as Kafka 3.x does.
 */
#ifndef SAMSA_GROUP_OFFSETS_RECORDS_H
#define SAMSA_GROUP_OFFSETS_RECORDS_H

#include "proto/schema.h"

#define OREC_KEY_OFFSET_V0 0
#define OREC_KEY_OFFSET 1
#define OREC_KEY_GROUP 2

#define OFFSET_COMMIT_KEY(F, S) \
    F(S, STR, group,     0, 99) \
    F(S, STR, topic,     0, 99) \
    F(S, I32, partition, 0, 99)
KSTRUCT_DECL(orec_offset_key, OFFSET_COMMIT_KEY)

#define GROUP_METADATA_KEY(F, S) \
    F(S, STR, group, 0, 99)
KSTRUCT_DECL(orec_group_key, GROUP_METADATA_KEY)

#define OFFSET_COMMIT_VALUE(F, S) \
    F(S, I64, offset,           0, 99) \
    F(S, I32, leader_epoch,     3, 99, DFLT(-1)) \
    F(S, STR, metadata,         0, 99) \
    F(S, I64, commit_timestamp, 0, 99) \
    F(S, I64, expire_timestamp, 1, 1, DFLT(-1))
KSTRUCT_DECL(orec_offset_value, OFFSET_COMMIT_VALUE)

#define GROUP_METADATA_MEMBER(F, S) \
    F(S, STR,   member_id,         0, 99) \
    F(S, STR,   group_instance_id, 3, 99, NULLABLE(3), DFLT_NULL) \
    F(S, STR,   client_id,         0, 99) \
    F(S, STR,   client_host,       0, 99) \
    F(S, I32,   rebalance_timeout, 1, 99) \
    F(S, I32,   session_timeout,   0, 99) \
    F(S, BYTES, subscription,      0, 99) \
    F(S, BYTES, assignment,        0, 99)
KSTRUCT_DECL(orec_group_member, GROUP_METADATA_MEMBER)

#define GROUP_METADATA_VALUE(F, S) \
    F(S, STR,     protocol_type,           0, 99) \
    F(S, I32,     generation,              0, 99) \
    F(S, STR,     protocol,                0, 99, NULLABLE(0)) \
    F(S, STR,     leader,                  0, 99, NULLABLE(0)) \
    F(S, I64,     current_state_timestamp, 2, 99, DFLT(-1)) \
    F(S, ASTRUCT, members,                 0, 99, orec_group_member)
KSTRUCT_DECL(orec_group_value, GROUP_METADATA_VALUE)

#define OREC_OFFSET_VALUE_MAX_VERSION 4
#define OREC_GROUP_VALUE_MAX_VERSION 4
#define OREC_FLEX_FROM 4

#endif
