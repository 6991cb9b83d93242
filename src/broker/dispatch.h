/*
 * dispatch.h - the table of APIs the broker implements.
 *
 * Each row names the API key, the version range we implement and
 * advertise in ApiVersions, and the handler.  A request for a key not in
 * the table, or outside its range, closes the connection (what Kafka does
 * when it cannot parse a request), except ApiVersions, which answers
 * UNSUPPORTED_VERSION with our ranges so clients can retry lower.
 * docs/protocol-coverage.md is generated from this table.
 */
#ifndef SAMSA_BROKER_DISPATCH_H
#define SAMSA_BROKER_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "server/request.h"
#include "server/server.h"

/* The rows are the server's api_entry (server/server.h); the broker
 * registers dispatch_get and dispatch_table with its server. */

/* Choose the served rows: test-hook rows only when enabled.  Call once
 * before the network threads start; without it, test-hook rows are off. */
void dispatch_init(bool test_hooks);
const api_entry *dispatch_get(int key);
/* Served rows in key order. */
const api_entry *dispatch_table(int *n);
void dispatch_print_markdown(FILE *out);

/* Handlers (one file per API or API family). */
void handle_api_versions(kreq *rq);
void handle_metadata(kreq *rq);
void handle_leader_and_isr(kreq *rq);
void handle_stop_replica(kreq *rq);
void handle_update_metadata(kreq *rq);
void handle_produce(kreq *rq);
void handle_fetch(kreq *rq);
void handle_list_offsets(kreq *rq);
void handle_create_topics(kreq *rq);
void handle_delete_topics(kreq *rq);
void handle_create_partitions(kreq *rq);
void handle_describe_configs(kreq *rq);
void handle_alter_configs(kreq *rq);
void handle_incremental_alter_configs(kreq *rq);
void handle_delete_records(kreq *rq);
void handle_describe_cluster(kreq *rq);
void handle_describe_log_dirs(kreq *rq);
void handle_init_producer_id(kreq *rq);
void handle_offset_for_leader_epoch(kreq *rq);
void handle_find_coordinator(kreq *rq);
void handle_join_group(kreq *rq);
void handle_sync_group(kreq *rq);
void handle_heartbeat(kreq *rq);
void handle_leave_group(kreq *rq);
void handle_offset_commit(kreq *rq);
void handle_offset_fetch(kreq *rq);
void handle_offset_delete(kreq *rq);
void handle_txn_offset_commit(kreq *rq);
void handle_describe_acls(kreq *rq);
void handle_create_acls(kreq *rq);
void handle_delete_acls(kreq *rq);
void handle_describe_groups(kreq *rq);
void handle_list_groups(kreq *rq);
void handle_delete_groups(kreq *rq);
void handle_alter_partition(kreq *rq);
void handle_alter_partition_reassignments(kreq *rq);
void handle_list_partition_reassignments(kreq *rq);
void handle_controlled_shutdown(kreq *rq);
void handle_elect_leaders(kreq *rq);
/* Transactions (handle_txn.c). */
void handle_init_producer_id_txn(kreq *rq);    /* InitProducerId with a transactional id */
void handle_add_partitions_to_txn(kreq *rq);
void handle_add_offsets_to_txn(kreq *rq);
void handle_end_txn(kreq *rq);
void handle_describe_transactions(kreq *rq);
void handle_list_transactions(kreq *rq);
void handle_write_txn_markers(kreq *rq);
void handle_describe_producers(kreq *rq);
void handle_describe_client_quotas(kreq *rq);
void handle_alter_client_quotas(kreq *rq);
void handle_describe_user_scram_credentials(kreq *rq);
void handle_alter_user_scram_credentials(kreq *rq);

#endif
