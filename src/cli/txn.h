/*
 * txn.h - what `samsa txn` (cmd_txn.c) sends and reads: its own codecs
 * (txn_wire.c) for FindCoordinator v3 with key type 1 (transaction),
 * ListTransactions v0 and DescribeTransactions v0 (librdkafka 2.0.2 has
 * no admin call for either).  Pure: bytes in, structs out; every string
 * and array is malloc'd and freed by the matching _free.
 */
#ifndef SAMSA_CLI_TXN_H
#define SAMSA_CLI_TXN_H

#include <stddef.h>
#include <stdint.h>

#define CLI_API_FIND_COORDINATOR 10
#define CLI_API_DESCRIBE_TRANSACTIONS 65
#define CLI_API_LIST_TRANSACTIONS 66

/* One transaction of a ListTransactions answer. */
typedef struct cli_txn_listed {
    char *id;
    int64_t producer_id;
    char *state;
} cli_txn_listed_t;

typedef struct cli_txn_list {
    int16_t error;
    cli_txn_listed_t *v;
    int32_t n;
    char **unknown_states;         /* state filters the broker does not know */
    int32_t nunknown;
} cli_txn_list_t;

typedef struct cli_txn_topic {
    char *topic;
    int32_t *parts;
    int32_t nparts;
} cli_txn_topic_t;

/* DescribeTransactions' answer for one transactional id. */
typedef struct cli_txn_desc {
    int16_t error;
    char *id, *state;
    int32_t timeout_ms;
    int64_t start_ms;              /* -1: no transaction open */
    int64_t producer_id;
    int16_t producer_epoch;
    cli_txn_topic_t *topics;
    int32_t ntopics;
} cli_txn_desc_t;

/* FindCoordinator's answer. */
typedef struct cli_coord {
    int16_t error;
    char message[256];
    int32_t node_id, port;
    char host[256];
} cli_coord_t;

/* Request frames (size prefix included) into buf; 0 when cap is too small. */
size_t cli_txn_encode_find_coordinator(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                       const char *transactional_id);
size_t cli_txn_encode_list(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                           const char *const *states, int nstates);
size_t cli_txn_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                               const char *transactional_id);

/* Decoders of a response (after its size prefix): 0, or -1 with a reason in
 * err (truncated, trailing bytes, correlation id mismatch). */
int cli_txn_decode_find_coordinator(const uint8_t *p, size_t len, int32_t corr, cli_coord_t *out,
                                    char *err, size_t errlen);
int cli_txn_decode_list(const uint8_t *p, size_t len, int32_t corr, cli_txn_list_t *out, char *err,
                        size_t errlen);
/* The first (only) transaction state of the answer. */
int cli_txn_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_txn_desc_t *out, char *err,
                            size_t errlen);
void cli_txn_list_free(cli_txn_list_t *l);
void cli_txn_desc_free(cli_txn_desc_t *d);

#endif
