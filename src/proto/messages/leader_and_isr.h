/*
 * leader_and_isr.h - LeaderAndIsr (API key 4): request and response bodies.
 *
 * Samsa's own field lists for every version up to LEADER_AND_ISR_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here:
 * the API is served only with samsa.test.hooks.enable=true until the
 * controller (a later issue) sends it.
 */
#ifndef SAMSA_PROTO_MSG_LEADER_AND_ISR_H
#define SAMSA_PROTO_MSG_LEADER_AND_ISR_H

#include "proto/schema.h"

#define LEADER_AND_ISR_API_KEY 4
#define LEADER_AND_ISR_FLEX_FROM 4
#define LEADER_AND_ISR_MAX_VERSION 7

/* LeaderAndIsrPartitionState (a common struct: v0-1 ungrouped, v2+ per topic). */
#define LEADER_AND_ISR_REQ_PARTITION_STATE(F, S) \
    F(S, STR,  topic_name,            0, 1) \
    F(S, I32,  partition_index,       0, 99) \
    F(S, I32,  controller_epoch,      0, 99) \
    F(S, I32,  leader,                0, 99) \
    F(S, I32,  leader_epoch,          0, 99) \
    F(S, AI32, isr,                   0, 99) \
    F(S, I32,  partition_epoch,       0, 99) \
    F(S, AI32, replicas,              0, 99) \
    F(S, AI32, adding_replicas,       3, 99) \
    F(S, AI32, removing_replicas,     3, 99) \
    F(S, BOOL, is_new,                1, 99) \
    F(S, I8,   leader_recovery_state, 6, 99)
KSTRUCT_DECL(leader_and_isr_req_partition_state, LEADER_AND_ISR_REQ_PARTITION_STATE)

#define LEADER_AND_ISR_REQ_TOPIC_STATES(F, S) \
    F(S, STR,     topic_name,       2, 99) \
    F(S, UUID,    topic_id,         5, 99) \
    F(S, ASTRUCT, partition_states, 2, 99, leader_and_isr_req_partition_state)
KSTRUCT_DECL(leader_and_isr_req_topic_states, LEADER_AND_ISR_REQ_TOPIC_STATES)

#define LEADER_AND_ISR_REQ_LIVE_LEADERS(F, S) \
    F(S, I32, broker_id, 0, 99) \
    F(S, STR, host_name, 0, 99) \
    F(S, I32, port,      0, 99)
KSTRUCT_DECL(leader_and_isr_req_live_leaders, LEADER_AND_ISR_REQ_LIVE_LEADERS)

#define LEADER_AND_ISR_REQ(F, S) \
    F(S, I32,     controller_id,              0, 99) \
    F(S, BOOL,    is_kraft_controller,        7, 99) \
    F(S, I32,     controller_epoch,           0, 99) \
    F(S, I64,     broker_epoch,               2, 99, DFLT(-1)) \
    F(S, I8,      type,                       5, 99) \
    F(S, ASTRUCT, ungrouped_partition_states, 0, 1, leader_and_isr_req_partition_state) \
    F(S, ASTRUCT, topic_states,               2, 99, leader_and_isr_req_topic_states) \
    F(S, ASTRUCT, live_leaders,               0, 99, leader_and_isr_req_live_leaders)
KSTRUCT_DECL(leader_and_isr_req, LEADER_AND_ISR_REQ)

#define LEADER_AND_ISR_RESP_PARTITION_ERRORS(F, S) \
    F(S, STR, topic_name,      0, 4) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(leader_and_isr_resp_partition_errors, LEADER_AND_ISR_RESP_PARTITION_ERRORS)

#define LEADER_AND_ISR_RESP_TOPICS(F, S) \
    F(S, UUID,    topic_id,         5, 99) \
    F(S, ASTRUCT, partition_errors, 5, 99, leader_and_isr_resp_partition_errors)
KSTRUCT_DECL(leader_and_isr_resp_topics, LEADER_AND_ISR_RESP_TOPICS)

#define LEADER_AND_ISR_RESP(F, S) \
    F(S, I16,     error_code,       0, 99) \
    F(S, ASTRUCT, partition_errors, 0, 4, leader_and_isr_resp_partition_errors) \
    F(S, ASTRUCT, topics,           5, 99, leader_and_isr_resp_topics)
KSTRUCT_DECL(leader_and_isr_resp, LEADER_AND_ISR_RESP)

#define LEADER_AND_ISR_STRUCTS(X, XE) \
    X(leader_and_isr_req_partition_state, LEADER_AND_ISR_REQ_PARTITION_STATE) \
    X(leader_and_isr_req_topic_states, LEADER_AND_ISR_REQ_TOPIC_STATES) \
    X(leader_and_isr_req_live_leaders, LEADER_AND_ISR_REQ_LIVE_LEADERS) \
    X(leader_and_isr_req, LEADER_AND_ISR_REQ) \
    X(leader_and_isr_resp_partition_errors, LEADER_AND_ISR_RESP_PARTITION_ERRORS) \
    X(leader_and_isr_resp_topics, LEADER_AND_ISR_RESP_TOPICS) \
    X(leader_and_isr_resp, LEADER_AND_ISR_RESP)

#endif
