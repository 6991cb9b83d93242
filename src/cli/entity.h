/*
 * entity.h - what `samsa user` (cmd_user.c) and `samsa quota`
 * (cmd_quota.c) send and read: the CLI's own codecs (entity_wire.c) for
 * DescribeUserScramCredentials v0, AlterUserScramCredentials v0,
 * DescribeClientQuotas v1 and AlterClientQuotas v1 (all flexible; Debian's
 * librdkafka 2.0.2 has none of them).  Pure: bytes in, structs out; every
 * array is malloc'd and freed by the matching _free.  Also the client side
 * of a SCRAM credential: the salted password PBKDF2-HMAC (RFC 5802 Hi)
 * computed here, so the password never leaves the CLI.
 */
#ifndef SAMSA_CLI_ENTITY_H
#define SAMSA_CLI_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_API_DESCRIBE_CLIENT_QUOTAS 48
#define CLI_API_ALTER_CLIENT_QUOTAS 49
#define CLI_API_DESCRIBE_USER_SCRAM 50
#define CLI_API_ALTER_USER_SCRAM 51

#define CLI_NAME_MAX 512

/* One change of AlterUserScramCredentials. */
typedef struct cli_scram_op {
    const char *user;
    int8_t mech;                   /* 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 */
    bool upsert;                   /* else a deletion */
    int32_t iterations;
    const uint8_t *salt, *salted;  /* upsertions */
    size_t salt_len, salted_len;
} cli_scram_op_t;

/* A per-user result (Alter) or description (Describe). */
typedef struct cli_user_result {
    char user[CLI_NAME_MAX];
    int16_t error;
    char message[512];
    int32_t ncreds;
    int8_t mech[8];
    int32_t iterations[8];
} cli_user_result_t;

typedef struct cli_user_results {
    int16_t error;                 /* Describe's top-level error */
    char message[512];
    cli_user_result_t *v;
    int32_t n;
} cli_user_results_t;

/* A quota entity: each part absent, named or the default (name NULL). */
typedef struct cli_qentity {
    bool has_user, has_client;
    const char *user, *client;     /* NULL = <default> */
} cli_qentity_t;

typedef struct cli_qop {
    const char *key;
    double value;
    bool remove;
} cli_qop_t;

/* One DescribeClientQuotas entry. */
typedef struct cli_qentry {
    bool has_user, has_client, user_default, client_default;
    char user[CLI_NAME_MAX], client[CLI_NAME_MAX];
    int32_t nvalues;
    char key[4][32];
    double value[4];
} cli_qentry_t;

typedef struct cli_qentries {
    int16_t error;
    char message[512];
    cli_qentry_t *v;
    int32_t n;
} cli_qentries_t;

/* match: 0 exact (name), 1 default, 2 any; a part with has_* false is not
 * filtered. */
typedef struct cli_qfilter {
    bool has_user, has_client;
    int8_t user_match, client_match;
    const char *user, *client;
} cli_qfilter_t;

/* Request frames (size prefix included) into buf; 0 when cap is too small. */
size_t cli_scram_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const char *const *users, int nusers);
size_t cli_scram_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              const cli_scram_op_t *ops, int nops);
size_t cli_quota_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const cli_qfilter_t *f, bool strict);
size_t cli_quota_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              const cli_qentity_t *e, const cli_qop_t *ops, int nops);

/* Decoders of a response (after its size prefix): 0, or -1 with a reason. */
int cli_scram_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_user_results_t *out,
                              char *err, size_t errlen);
int cli_scram_decode_alter(const uint8_t *p, size_t len, int32_t corr, cli_user_results_t *out,
                           char *err, size_t errlen);
int cli_quota_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_qentries_t *out,
                              char *err, size_t errlen);
/* AlterClientQuotas with one entry: its error and message. */
int cli_quota_decode_alter(const uint8_t *p, size_t len, int32_t corr, int16_t *error,
                           char *msg, size_t msglen, char *err, size_t errlen);
void cli_user_results_free(cli_user_results_t *r);
void cli_qentries_free(cli_qentries_t *q);

/* Hi(password, salt, iterations) for the mechanism into out (32 or 64
 * bytes, *n set); -1 on a bad mechanism. */
int cli_scram_salted_password(int8_t mech, const char *password, const uint8_t *salt,
                              size_t salt_len, int32_t iterations, uint8_t *out, size_t *n);

#endif
