/* api.c - see api.h. */
#include "proto/api.h"

#include "proto/messages/all.h"

#define SCHEMA_(k, snake, UP) [k] = {                                  \
        .key = k, .max_version = UP##_MAX_VERSION,        \
        .flex_from = UP##_FLEX_FROM, .req = &snake##_req_schema,          \
        .resp = &snake##_resp_schema },
static const kapi_schema g_apis[KAPI_KEY_MAX + 1] = { KAPI_LIST(SCHEMA_) };

static const char *const g_names[KAPI_KEY_MAX + 1] = {
    [0] = "Produce", [1] = "Fetch", [2] = "ListOffsets", [3] = "Metadata",
    [4] = "LeaderAndIsr", [5] = "StopReplica", [6] = "UpdateMetadata",
    [7] = "ControlledShutdown", [8] = "OffsetCommit", [9] = "OffsetFetch",
    [10] = "FindCoordinator", [11] = "JoinGroup", [12] = "Heartbeat",
    [13] = "LeaveGroup", [14] = "SyncGroup", [15] = "DescribeGroups",
    [16] = "ListGroups", [17] = "SaslHandshake", [18] = "ApiVersions",
    [19] = "CreateTopics", [20] = "DeleteTopics", [21] = "DeleteRecords",
    [22] = "InitProducerId", [23] = "OffsetForLeaderEpoch",
    [24] = "AddPartitionsToTxn", [25] = "AddOffsetsToTxn", [26] = "EndTxn",
    [27] = "WriteTxnMarkers", [28] = "TxnOffsetCommit", [29] = "DescribeAcls",
    [30] = "CreateAcls", [31] = "DeleteAcls", [32] = "DescribeConfigs",
    [33] = "AlterConfigs", [34] = "AlterReplicaLogDirs", [35] = "DescribeLogDirs",
    [36] = "SaslAuthenticate", [37] = "CreatePartitions",
    [38] = "CreateDelegationToken", [39] = "RenewDelegationToken",
    [40] = "ExpireDelegationToken", [41] = "DescribeDelegationToken",
    [42] = "DeleteGroups", [43] = "ElectLeaders", [44] = "IncrementalAlterConfigs",
    [45] = "AlterPartitionReassignments", [46] = "ListPartitionReassignments",
    [47] = "OffsetDelete", [48] = "DescribeClientQuotas", [49] = "AlterClientQuotas",
    [50] = "DescribeUserScramCredentials", [51] = "AlterUserScramCredentials",
    [52] = "Vote", [53] = "BeginQuorumEpoch", [54] = "EndQuorumEpoch",
    [55] = "DescribeQuorum", [56] = "AlterPartition", [57] = "UpdateFeatures",
    [58] = "Envelope", [59] = "FetchSnapshot", [60] = "DescribeCluster",
    [61] = "DescribeProducers", [62] = "BrokerRegistration", [63] = "BrokerHeartbeat",
    [64] = "UnregisterBroker", [65] = "DescribeTransactions", [66] = "ListTransactions",
    [67] = "AllocateProducerIds", [68] = "ConsumerGroupHeartbeat",
    [69] = "ConsumerGroupDescribe", [70] = "ControllerRegistration",
    [71] = "GetTelemetrySubscriptions", [72] = "PushTelemetry",
    [73] = "AssignReplicasToDirs", [74] = "ListClientMetricsResources",
    [75] = "DescribeTopicPartitions",
};

const kapi_schema *kapi_schema_get(int key)
{
    if (key < 0 || key > KAPI_KEY_MAX || !g_apis[key].req)
        return NULL;
    return &g_apis[key];
}

const char *kapi_name(int key)
{
    if (key < 0 || key > KAPI_KEY_MAX || !g_names[key])
        return "Unknown";
    return g_names[key];
}
