/* dispatch.c - see dispatch.h.  Keep rows in API-key order. */
#include "broker/dispatch.h"

#include "proto/api.h"
#include "server/sasl_session.h"

static const api_entry g_table[] = {
    {  0, 3, 11, handle_produce, "record batch v2 only; acks 0/1/-1; idempotent and transactional producers" },
    {  1, 4, 17, handle_fetch, "zero-copy (sendfile); long poll; read_committed (LSO, aborted transactions); "
                               "sessions (KIP-227); topic ids v13+; "
                               "follower fetches (replica_id) read to the log end and move the HW" },
    {  2, 0, 10, handle_list_offsets, "earliest, latest, by timestamp, max timestamp (v7+); isolation_level" },
    {  3, 0, 12, handle_metadata, "topic ids (v10+), asking by id (v12+); auto-creation per "
                                 "auto.create.topics.enable" },
    {  4, 0, 7, handle_leader_and_isr,
       "inter-broker (cluster mode, or samsa.test.hooks.enable): controller/broker epoch fencing",
       .test_hook = true },
    {  5, 0, 4, handle_stop_replica, "inter-broker (cluster mode): stop fetching; delete on topic deletion",
       .test_hook = true },
    {  6, 0, 8, handle_update_metadata, "inter-broker (cluster mode): partition states for Metadata",
       .test_hook = true },
    {  7, 0, 3, handle_controlled_shutdown,
       "inter-broker (cluster mode): to the active controller (else NOT_CONTROLLER); moves the "
       "sender's leaderships away", .test_hook = true },
    {  8, 0, 9, handle_offset_commit, "group members and standalone (generation -1) commits" },
    {  9, 0, 9, handle_offset_fetch, "all topics (null); multi-group form (v8+)" },
    { 10, 0, 4, handle_find_coordinator, "groups; batched keys (v4); creates __consumer_offsets" },
    { 11, 0, 9, handle_join_group, "member ids from the broker (KIP-394); static members (KIP-345)" },
    { 12, 0, 4, handle_heartbeat, "" },
    { 13, 0, 5, handle_leave_group, "batched members (v3+)" },
    { 14, 0, 5, handle_sync_group, "" },
    { 15, 0, 5, handle_describe_groups, "" },
    { 16, 0, 5, handle_list_groups, "state filter (v4+), type filter (v5+)" },
    { 17, 0, 1, sasl_handle_handshake, "SASL listeners: v0 = legacy raw tokens, v1 = SaslAuthenticate; "
                                       "ILLEGAL_SASL_STATE elsewhere (docs/security.md)" },
    { 18, 0, 5, handle_api_versions, "unknown versions answered in v0 form (KIP-511); v5 checks ClusterId and NodeId (KIP-1242)" },
    { 19, 0, 7, handle_create_topics, "validate_only; configs; replication factor 1" },
    { 20, 0, 6, handle_delete_topics, "by name, or by id (v6)" },
    { 21, 0, 2, handle_delete_records, "offset -1 = high watermark" },
    { 22, 0, 5, handle_init_producer_id, "idempotent and transactional producers (KIP-98, KIP-360 epoch bumps)" },
    { 23, 0, 4, handle_offset_for_leader_epoch, "single leader epoch 0" },
    { 24, 0, 5, handle_add_partitions_to_txn, "producer forms (v0-3) and the batched form (v4+, verify_only); unknown partitions: "
                                              "UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED" },
    { 25, 0, 4, handle_add_offsets_to_txn, "" },
    { 26, 0, 4, handle_end_txn, "markers sent over the wire to every partition leader (docs/transactions.md)" },
    { 27, 0, 1, handle_write_txn_markers, "from transaction coordinators: control batches on led "
                                          "partitions, acks=all; __consumer_offsets partitions tell the "
                                          "group coordinator once replicated" },
    { 28, 0, 4, handle_txn_offset_commit, "pending per producer until its transaction marker; KIP-447 "
                                          "generation/member checks (v3+); no v5 (transactions v2)" },
    { 29, 0, 3, handle_describe_acls, "needs authorizer.class.name (else SECURITY_DISABLED); "
                                      "filters as Kafka's AclBindingFilter" },
    { 30, 0, 3, handle_create_acls, "LITERAL and PREFIXED; ZooKeeper (cluster) or samsa-acls.json" },
    { 31, 0, 3, handle_delete_acls, "filters; matching ACLs listed per filter" },
    { 32, 0, 4, handle_describe_configs, "topic and broker resources, synonyms, documentation" },
    { 33, 0, 2, handle_alter_configs, "topic and broker resources" },
    { 35, 0, 5, handle_describe_log_dirs, "every log.dirs entry: partitions and sizes, volume "
                                          "total/usable bytes (v4+); a dir statvfs fails on is "
                                          "KAFKA_STORAGE_ERROR" },
    { 36, 0, 2, sasl_handle_authenticate, "PLAIN, SCRAM-SHA-256/512, OAUTHBEARER (unsecured JWT); "
                                          "session_lifetime_ms and re-authentication (KIP-368)" },
    { 37, 0, 3, handle_create_partitions, "validate_only" },
    { 42, 0, 2, handle_delete_groups, "" },
    { 43, 0, 2, handle_elect_leaders, "to the active controller (else NOT_CONTROLLER): preferred and "
                                      "unclean (offline partitions only); null = all partitions",
      .test_hook = true },
    { 44, 0, 1, handle_incremental_alter_configs, "SET/DELETE/APPEND/SUBTRACT" },
    { 45, 0, 0, handle_alter_partition_reassignments,
       "to the active controller (else NOT_CONTROLLER); null replicas cancel (KIP-455)" },
    { 46, 0, 0, handle_list_partition_reassignments,
       "to the active controller (else NOT_CONTROLLER)" },
    { 47, 0, 0, handle_offset_delete, "" },
    { 48, 0, 1, handle_describe_client_quotas, "user and client-id entities, exact/default/any "
                                               "filters, strict; no ip entities" },
    { 49, 0, 1, handle_alter_client_quotas, "producer_byte_rate, consumer_byte_rate, "
                                            "request_percentage; validate_only; no ip entities" },
    { 50, 0, 0, handle_describe_user_scram_credentials, "SCRAM-SHA-256/512 of user entities" },
    { 51, 0, 0, handle_alter_user_scram_credentials, "stored as Kafka's salt/stored_key/"
                                                     "server_key/iterations, never the password" },
    { 56, 0, 2, handle_alter_partition, "ISR changes from partition leaders, to the active controller "
                                        "(else NOT_CONTROLLER); topic ids v2" },
    { 60, 0, 1, handle_describe_cluster, "" },
    { 61, 0, 0, handle_describe_producers, "active producers of led partitions: epoch, last sequence "
                                           "and timestamp, coordinator epoch, open transaction's start" },
    { 65, 0, 0, handle_describe_transactions, "" },
    { 66, 0, 1, handle_list_transactions, "state and producer id filters; duration filter (v1)" },
};

#define NROWS ((int)(sizeof g_table / sizeof g_table[0]))

static api_entry g_active[NROWS];
static int g_nactive = -1;

void dispatch_init(bool test_hooks)
{
    g_nactive = 0;
    for (int i = 0; i < NROWS; i++)
        if (!g_table[i].test_hook || test_hooks)
            g_active[g_nactive++] = g_table[i];
}

const api_entry *dispatch_table(int *n)
{
    if (g_nactive < 0)
        dispatch_init(false);
    *n = g_nactive;
    return g_active;
}

const api_entry *dispatch_get(int key)
{
    int n;
    const api_entry *tab = dispatch_table(&n);
    for (int i = 0; i < n; i++)
        if (tab[i].key == key)
            return &tab[i];
    return NULL;
}

void dispatch_print_markdown(FILE *out)
{
    fprintf(out, "| Key | API | Versions | Notes |\n|---:|---|---|---|\n");
    for (int i = 0; i < NROWS; i++) {
        const api_entry *e = &g_table[i];
        fprintf(out, "| %d | %s | %d-%d | %s |\n", e->key, kapi_name(e->key), e->min_version,
                e->max_version, e->notes ? e->notes : "");
    }
}
