/*
 * controlled_shutdown.h - ControlledShutdown (API key 7): request and response bodies.
 *
 * Samsa's own field lists for every version up to CONTROLLED_SHUTDOWN_MAX_VERSION; the
 * format is described in proto/schema.h.  An inter-broker API: the
 * controller sends it (ZooKeeper mode); which versions the broker serves
 * is decided by the dispatch table, not here.
 */
#ifndef SAMSA_PROTO_MSG_CONTROLLED_SHUTDOWN_H
#define SAMSA_PROTO_MSG_CONTROLLED_SHUTDOWN_H

#include "proto/schema.h"

#define CONTROLLED_SHUTDOWN_API_KEY 7
#define CONTROLLED_SHUTDOWN_FLEX_FROM 3
#define CONTROLLED_SHUTDOWN_MAX_VERSION 3

#define CONTROLLED_SHUTDOWN_REQ(F, S) \
    F(S, I32, broker_id,    0, 99) \
    F(S, I64, broker_epoch, 2, 99, DFLT(-1))
KSTRUCT_DECL(controlled_shutdown_req, CONTROLLED_SHUTDOWN_REQ)

#define CONTROLLED_SHUTDOWN_RESP_REMAINING(F, S) \
    F(S, STR, topic_name,      0, 99) \
    F(S, I32, partition_index, 0, 99)
KSTRUCT_DECL(controlled_shutdown_resp_remaining, CONTROLLED_SHUTDOWN_RESP_REMAINING)

#define CONTROLLED_SHUTDOWN_RESP(F, S) \
    F(S, I16,     error_code,           0, 99) \
    F(S, ASTRUCT, remaining_partitions, 0, 99, controlled_shutdown_resp_remaining)
KSTRUCT_DECL(controlled_shutdown_resp, CONTROLLED_SHUTDOWN_RESP)

#define CONTROLLED_SHUTDOWN_STRUCTS(X, XE) \
    X(controlled_shutdown_req, CONTROLLED_SHUTDOWN_REQ) \
    X(controlled_shutdown_resp_remaining, CONTROLLED_SHUTDOWN_RESP_REMAINING) \
    X(controlled_shutdown_resp, CONTROLLED_SHUTDOWN_RESP)

#endif
