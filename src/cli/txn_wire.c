/*
 * txn_wire.c - the CLI's codecs for transactions (see txn.h).  Pure: no
 * I/O, no librdkafka.
 *
 * FindCoordinator v3 (flexible): key compact string, key_type i8 (1 =
 *   transaction); response: throttle i32, error i16, message nullable,
 *   node_id i32, host, port i32.
 * ListTransactions v0 (flexible): state_filters [string],
 *   producer_id_filters [i64]; response: throttle i32, error i16,
 *   unknown_state_filters [string], transaction_states [transactional_id,
 *   producer_id i64, transaction_state].
 * DescribeTransactions v0 (flexible): transactional_ids [string];
 *   response: throttle i32, transaction_states [error i16,
 *   transactional_id, transaction_state, transaction_timeout_ms i32,
 *   transaction_start_time_ms i64, producer_id i64, producer_epoch i16,
 *   topics [topic, partitions [i32]]].
 * Flexible: request header v2, response header v1, compact strings and
 * arrays, tagged fields after each struct.  Every count is checked
 * against the bytes left before anything is allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/txn.h"
#include "cli/wire.h"

/* A compact string, malloc'd ("" for null); NULL (and bad) when out of
 * memory or short. */
static char *get_cstr_dup(rbuf_t *r)
{
    uint32_t n = get_uvarint(r);
    const uint8_t *s = n > 1 ? take(r, n - 1) : NULL;
    if (r->bad)
        return NULL;
    size_t k = n > 1 ? n - 1 : 0;
    char *out = malloc(k + 1);
    if (!out) {
        r->bad = 1;
        return NULL;
    }
    if (k)
        memcpy(out, s, k);
    out[k] = 0;
    return out;
}

static int finish(const rbuf_t *r, const char *api, char *err, size_t errlen)
{
    if (r->bad || r->left) {
        snprintf(err, errlen, "%s: %s", api, r->bad ? "truncated or malformed response" : "trailing bytes");
        return -1;
    }
    return 0;
}

/* ---- FindCoordinator ------------------------------------------------------------------ */

size_t cli_txn_encode_find_coordinator(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                       const char *transactional_id)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, CLI_API_FIND_COORDINATOR, 3, corr, client_id, 1);
    put_cstr(&w, transactional_id);
    put8(&w, 1);                        /* key_type: transaction */
    put_uvarint(&w, 0);
    return wbuf_finish(&w);
}

int cli_txn_decode_find_coordinator(const uint8_t *p, size_t len, int32_t corr, cli_coord_t *out,
                                    char *err, size_t errlen)
{
    rbuf_t r = {p, len, 0};
    memset(out, 0, sizeof *out);
    resp_header(&r, corr, 1);
    get32(&r);                          /* throttle_time_ms */
    out->error = get16(&r);
    get_cstr(&r, out->message, sizeof out->message);
    out->node_id = get32(&r);
    get_cstr(&r, out->host, sizeof out->host);
    out->port = get32(&r);
    skip_tags(&r);
    return finish(&r, "FindCoordinator v3", err, errlen);
}

/* ---- ListTransactions ----------------------------------------------------------------- */

size_t cli_txn_encode_list(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                           const char *const *states, int nstates)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, CLI_API_LIST_TRANSACTIONS, 0, corr, client_id, 1);
    put_uvarint(&w, (uint32_t)nstates + 1);
    for (int i = 0; i < nstates; i++)
        put_cstr(&w, states[i]);
    put_uvarint(&w, 1);                 /* producer_id_filters: [] */
    put_uvarint(&w, 0);
    return wbuf_finish(&w);
}

int cli_txn_decode_list(const uint8_t *p, size_t len, int32_t corr, cli_txn_list_t *out, char *err,
                        size_t errlen)
{
    rbuf_t r = {p, len, 0};
    memset(out, 0, sizeof *out);
    resp_header(&r, corr, 1);
    get32(&r);                          /* throttle_time_ms */
    out->error = get16(&r);
    int32_t nu = get_ccount(&r, 1);
    if (nu > 0 && !(out->unknown_states = calloc((size_t)nu, sizeof *out->unknown_states)))
        r.bad = 1;
    for (int32_t i = 0; i < nu && !r.bad; i++) {
        out->unknown_states[i] = get_cstr_dup(&r);
        out->nunknown = i + 1;
    }
    int32_t n = get_ccount(&r, 1 + 8 + 1 + 1);
    if (n > 0 && !r.bad && !(out->v = calloc((size_t)n, sizeof *out->v)))
        r.bad = 1;
    for (int32_t i = 0; i < n && !r.bad; i++) {
        cli_txn_listed_t *t = &out->v[i];
        out->n = i + 1;
        t->id = get_cstr_dup(&r);
        t->producer_id = get64(&r);
        t->state = get_cstr_dup(&r);
        skip_tags(&r);
    }
    skip_tags(&r);
    if (finish(&r, "ListTransactions v0", err, errlen) < 0) {
        cli_txn_list_free(out);
        return -1;
    }
    return 0;
}

void cli_txn_list_free(cli_txn_list_t *l)
{
    for (int32_t i = 0; i < l->n; i++) {
        free(l->v[i].id);
        free(l->v[i].state);
    }
    for (int32_t i = 0; i < l->nunknown; i++)
        free(l->unknown_states[i]);
    free(l->v);
    free(l->unknown_states);
    memset(l, 0, sizeof *l);
}

/* ---- DescribeTransactions ------------------------------------------------------------- */

size_t cli_txn_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                               const char *transactional_id)
{
    wbuf_t w = {buf, 0, cap, 0};
    req_header(&w, CLI_API_DESCRIBE_TRANSACTIONS, 0, corr, client_id, 1);
    put_uvarint(&w, 2);                 /* one id */
    put_cstr(&w, transactional_id);
    put_uvarint(&w, 0);
    return wbuf_finish(&w);
}

int cli_txn_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_txn_desc_t *out, char *err,
                            size_t errlen)
{
    rbuf_t r = {p, len, 0};
    memset(out, 0, sizeof *out);
    resp_header(&r, corr, 1);
    get32(&r);                          /* throttle_time_ms */
    int32_t n = get_ccount(&r, 2 + 1 + 1 + 4 + 8 + 8 + 2 + 1 + 1);
    if (!r.bad && n != 1) {
        snprintf(err, errlen, "DescribeTransactions v0: %d transaction states for one id", n);
        return -1;
    }
    out->error = get16(&r);
    out->id = get_cstr_dup(&r);
    out->state = get_cstr_dup(&r);
    out->timeout_ms = get32(&r);
    out->start_ms = get64(&r);
    out->producer_id = get64(&r);
    out->producer_epoch = get16(&r);
    int32_t nt = get_ccount(&r, 1 + 1 + 1);
    if (nt > 0 && !r.bad && !(out->topics = calloc((size_t)nt, sizeof *out->topics)))
        r.bad = 1;
    for (int32_t i = 0; i < nt && !r.bad; i++) {
        cli_txn_topic_t *t = &out->topics[i];
        out->ntopics = i + 1;
        t->topic = get_cstr_dup(&r);
        int32_t np = get_ccount(&r, 4);
        if (np > 0 && !r.bad && !(t->parts = calloc((size_t)np, sizeof *t->parts)))
            r.bad = 1;
        for (int32_t j = 0; j < np && !r.bad; j++) {
            t->parts[j] = get32(&r);
            t->nparts = j + 1;
        }
        skip_tags(&r);
    }
    skip_tags(&r);
    skip_tags(&r);
    if (finish(&r, "DescribeTransactions v0", err, errlen) < 0) {
        cli_txn_desc_free(out);
        return -1;
    }
    return 0;
}

void cli_txn_desc_free(cli_txn_desc_t *d)
{
    for (int32_t i = 0; i < d->ntopics; i++) {
        free(d->topics[i].topic);
        free(d->topics[i].parts);
    }
    free(d->topics);
    free(d->id);
    free(d->state);
    memset(d, 0, sizeof *d);
}
