/*
 * all.h - every message definition Samsa knows, in API-key order.
 */
#ifndef SAMSA_PROTO_MSG_ALL_H
#define SAMSA_PROTO_MSG_ALL_H

#include "proto/messages/produce.h"
#include "proto/messages/fetch.h"
#include "proto/messages/list_offsets.h"
#include "proto/messages/metadata.h"
#include "proto/messages/leader_and_isr.h"
#include "proto/messages/stop_replica.h"
#include "proto/messages/update_metadata.h"
#include "proto/messages/controlled_shutdown.h"
#include "proto/messages/offset_commit.h"
#include "proto/messages/offset_fetch.h"
#include "proto/messages/find_coordinator.h"
#include "proto/messages/join_group.h"
#include "proto/messages/heartbeat.h"
#include "proto/messages/leave_group.h"
#include "proto/messages/sync_group.h"
#include "proto/messages/describe_groups.h"
#include "proto/messages/list_groups.h"
#include "proto/messages/sasl_handshake.h"
#include "proto/messages/api_versions.h"
#include "proto/messages/create_topics.h"
#include "proto/messages/delete_topics.h"
#include "proto/messages/delete_records.h"
#include "proto/messages/init_producer_id.h"
#include "proto/messages/offset_for_leader_epoch.h"
#include "proto/messages/add_partitions_to_txn.h"
#include "proto/messages/add_offsets_to_txn.h"
#include "proto/messages/end_txn.h"
#include "proto/messages/write_txn_markers.h"
#include "proto/messages/txn_offset_commit.h"
#include "proto/messages/describe_acls.h"
#include "proto/messages/create_acls.h"
#include "proto/messages/delete_acls.h"
#include "proto/messages/describe_configs.h"
#include "proto/messages/alter_configs.h"
#include "proto/messages/describe_log_dirs.h"
#include "proto/messages/sasl_authenticate.h"
#include "proto/messages/create_partitions.h"
#include "proto/messages/delete_groups.h"
#include "proto/messages/elect_leaders.h"
#include "proto/messages/incremental_alter_configs.h"
#include "proto/messages/alter_partition_reassignments.h"
#include "proto/messages/list_partition_reassignments.h"
#include "proto/messages/offset_delete.h"
#include "proto/messages/describe_cluster.h"
#include "proto/messages/describe_producers.h"
#include "proto/messages/describe_client_quotas.h"
#include "proto/messages/alter_client_quotas.h"
#include "proto/messages/describe_user_scram_credentials.h"
#include "proto/messages/alter_user_scram_credentials.h"
#include "proto/messages/describe_transactions.h"
#include "proto/messages/list_transactions.h"
#include "proto/messages/alter_partition.h"

/* X(key, snake_name, UPPER_NAME) for each API with definitions. */
#define KAPI_LIST(X) \
    X(0, produce, PRODUCE) \
    X(1, fetch, FETCH) \
    X(2, list_offsets, LIST_OFFSETS) \
    X(3, metadata, METADATA) \
    X(4, leader_and_isr, LEADER_AND_ISR) \
    X(5, stop_replica, STOP_REPLICA) \
    X(6, update_metadata, UPDATE_METADATA) \
    X(7, controlled_shutdown, CONTROLLED_SHUTDOWN) \
    X(8, offset_commit, OFFSET_COMMIT) \
    X(9, offset_fetch, OFFSET_FETCH) \
    X(10, find_coordinator, FIND_COORDINATOR) \
    X(11, join_group, JOIN_GROUP) \
    X(12, heartbeat, HEARTBEAT) \
    X(13, leave_group, LEAVE_GROUP) \
    X(14, sync_group, SYNC_GROUP) \
    X(15, describe_groups, DESCRIBE_GROUPS) \
    X(16, list_groups, LIST_GROUPS) \
    X(17, sasl_handshake, SASL_HANDSHAKE) \
    X(18, api_versions, API_VERSIONS) \
    X(19, create_topics, CREATE_TOPICS) \
    X(20, delete_topics, DELETE_TOPICS) \
    X(21, delete_records, DELETE_RECORDS) \
    X(22, init_producer_id, INIT_PRODUCER_ID) \
    X(23, offset_for_leader_epoch, OFFSET_FOR_LEADER_EPOCH) \
    X(24, add_partitions_to_txn, ADD_PARTITIONS_TO_TXN) \
    X(25, add_offsets_to_txn, ADD_OFFSETS_TO_TXN) \
    X(26, end_txn, END_TXN) \
    X(27, write_txn_markers, WRITE_TXN_MARKERS) \
    X(28, txn_offset_commit, TXN_OFFSET_COMMIT) \
    X(29, describe_acls, DESCRIBE_ACLS) \
    X(30, create_acls, CREATE_ACLS) \
    X(31, delete_acls, DELETE_ACLS) \
    X(32, describe_configs, DESCRIBE_CONFIGS) \
    X(33, alter_configs, ALTER_CONFIGS) \
    X(35, describe_log_dirs, DESCRIBE_LOG_DIRS) \
    X(36, sasl_authenticate, SASL_AUTHENTICATE) \
    X(37, create_partitions, CREATE_PARTITIONS) \
    X(42, delete_groups, DELETE_GROUPS) \
    X(43, elect_leaders, ELECT_LEADERS) \
    X(44, incremental_alter_configs, INCREMENTAL_ALTER_CONFIGS) \
    X(45, alter_partition_reassignments, ALTER_PARTITION_REASSIGNMENTS) \
    X(46, list_partition_reassignments, LIST_PARTITION_REASSIGNMENTS) \
    X(47, offset_delete, OFFSET_DELETE) \
    X(48, describe_client_quotas, DESCRIBE_CLIENT_QUOTAS) \
    X(49, alter_client_quotas, ALTER_CLIENT_QUOTAS) \
    X(50, describe_user_scram_credentials, DESCRIBE_USER_SCRAM_CREDENTIALS) \
    X(51, alter_user_scram_credentials, ALTER_USER_SCRAM_CREDENTIALS) \
    X(60, describe_cluster, DESCRIBE_CLUSTER) \
    X(56, alter_partition, ALTER_PARTITION) \
    X(61, describe_producers, DESCRIBE_PRODUCERS) \
    X(65, describe_transactions, DESCRIBE_TRANSACTIONS) \
    X(66, list_transactions, LIST_TRANSACTIONS)

#endif
