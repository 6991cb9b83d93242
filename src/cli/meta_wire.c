/*
 * meta_wire.c - Metadata v7 request encoder and response decoder for the
 * CLI (see meta.h for why the CLI speaks it). Pure: no I/O, no librdkafka.
 *
 * Response v7 (non-flexible, big-endian), after the int32 size prefix:
 *   correlation_id int32 | throttle_time_ms int32
 *   brokers [node_id int32, host string, port int32, rack nullable string]
 *   cluster_id nullable string | controller_id int32
 *   topics [error_code int16, name string, is_internal bool,
 *           partitions [error_code int16, partition_index int32,
 *                       leader_id int32, leader_epoch int32,
 *                       replica_nodes [int32], isr_nodes [int32],
 *                       offline_replicas [int32]]]
 *
 * The same file encodes and decodes the admin requests the CLI sends itself
 * because librdkafka 2.0.2 lacks them or would be slow: ElectLeaders v1,
 * IncrementalAlterConfigs v0 and a one-key DescribeConfigs v0 (layouts
 * beside their functions below).
 *
 * The reader is sticky: the first short read sets `bad` and every later
 * read returns zeros, so the decoder checks once per element. Array counts
 * are checked against the bytes left (each element needs at least `min`
 * bytes) before anything is allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/meta.h"
#include "cli/wire.h"

/* ---- request ----------------------------------------------------------------------- */

size_t cli_meta_encode_request(uint8_t *buf, size_t cap, int32_t correlation_id,
                               const char *client_id, const char *topic)
{
    wbuf_t w = {buf, 0, cap, 0};
    frame_begin(&w, 3, CLI_META_VERSION, correlation_id, client_id);
    if (topic) {
        put32(&w, 1);
        putstr(&w, topic);
    } else {
        put32(&w, -1);                  /* null: every topic */
    }
    uint8_t no = 0;
    put(&w, &no, 1);                    /* allow_auto_topic_creation */
    return wbuf_finish(&w);
}

/* ---- response ---------------------------------------------------------------------- */

/* A string (nullable: length -1 gives NULL without error). Malloc'd. */
static char *getstr(rbuf_t *r, int nullable)
{
    int16_t n = get16(r);
    if (r->bad)
        return NULL;
    if (n < 0) {
        if (!nullable || n != -1)
            r->bad = 1;
        return NULL;
    }
    const uint8_t *s = take(r, (size_t)n);
    if (!s)
        return NULL;
    char *out = malloc((size_t)n + 1);
    if (!out) {
        r->bad = 1;
        return NULL;
    }
    memcpy(out, s, (size_t)n);
    out[n] = 0;
    return out;
}

/* An array count: non-negative and at most left/min elements. */
static int32_t getcount(rbuf_t *r, size_t min)
{
    int32_t n = get32(r);
    if (!r->bad && (n < 0 || (size_t)n > r->left / min))
        r->bad = 1;
    return r->bad ? 0 : n;
}

static int32_t *get_ids(rbuf_t *r, int32_t *n)
{
    *n = getcount(r, 4);
    if (r->bad || *n == 0)
        return NULL;
    int32_t *v = malloc((size_t)*n * sizeof *v);
    if (!v) {
        r->bad = 1;
        return NULL;
    }
    for (int32_t k = 0; k < *n; k++)
        v[k] = get32(r);
    return v;
}

/* Minimal encoded sizes: broker 4+2+4+2, topic 2+2+1+4, partition 2+4+4+4+4+4+4. */
enum { MIN_BROKER = 12, MIN_TOPIC = 9, MIN_PART = 26 };

cli_meta_t *cli_meta_decode(const uint8_t *p, size_t len, int32_t correlation_id,
                            char *err, size_t errlen)
{
    rbuf_t r = {p, len, 0};
    cli_meta_t *m = calloc(1, sizeof *m);
    const char *what = "truncated or malformed response";
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->detailed = 1;
    int32_t cid = get32(&r);
    if (!r.bad && cid != correlation_id) {
        what = "response to another request (correlation id mismatch)";
        goto bad;
    }
    get32(&r);   /* throttle_time_ms */
    int32_t nb = getcount(&r, MIN_BROKER);
    if (nb && !(m->brokers = calloc((size_t)nb, sizeof *m->brokers)))
        goto oom;
    for (int32_t k = 0; k < nb && !r.bad; k++) {
        cli_mbroker_t *b = &m->brokers[k];
        m->nbrokers = k + 1;
        b->id = get32(&r);
        b->host = getstr(&r, 0);
        b->port = get32(&r);
        b->rack = getstr(&r, 1);
    }
    m->cluster_id = getstr(&r, 1);
    m->controller_id = get32(&r);
    int32_t nt = getcount(&r, MIN_TOPIC);
    if (nt && !(m->topics = calloc((size_t)nt, sizeof *m->topics)))
        goto oom;
    for (int32_t k = 0; k < nt && !r.bad; k++) {
        cli_mtopic_t *t = &m->topics[k];
        m->ntopics = k + 1;
        t->err = get16(&r);
        t->name = getstr(&r, 0);
        const uint8_t *internal = take(&r, 1);
        t->internal = internal && *internal;
        int32_t np = getcount(&r, MIN_PART);
        if (np && !(t->parts = calloc((size_t)np, sizeof *t->parts)))
            goto oom;
        for (int32_t j = 0; j < np && !r.bad; j++) {
            cli_mpart_t *pp = &t->parts[j];
            t->nparts = j + 1;
            pp->err = get16(&r);
            pp->id = get32(&r);
            pp->leader = get32(&r);
            pp->leader_epoch = get32(&r);
            pp->replicas = get_ids(&r, &pp->nreplicas);
            pp->isr = get_ids(&r, &pp->nisr);
            pp->offline = get_ids(&r, &pp->noffline);
        }
    }
    if (r.bad)
        goto bad;
    if (r.left) {
        what = "trailing bytes after the response";
        goto bad;
    }
    cli_meta_sort(m);
    return m;
oom:
    what = "out of memory";
bad:
    snprintf(err, errlen, "Metadata v%d: %s", CLI_META_VERSION, what);
    cli_meta_free(m);
    return NULL;
}

/* ---- snapshot helpers ---------------------------------------------------------------- */

void cli_meta_free(cli_meta_t *m)
{
    if (!m)
        return;
    for (int32_t k = 0; k < m->nbrokers; k++) {
        free(m->brokers[k].host);
        free(m->brokers[k].rack);
    }
    for (int32_t k = 0; k < m->ntopics; k++) {
        cli_mtopic_t *t = &m->topics[k];
        for (int32_t j = 0; j < t->nparts; j++) {
            free(t->parts[j].replicas);
            free(t->parts[j].isr);
            free(t->parts[j].offline);
        }
        free(t->parts);
        free(t->name);
    }
    free(m->brokers);
    free(m->topics);
    free(m->cluster_id);
    free(m);
}

static int cmp_broker(const void *a, const void *b)
{
    const cli_mbroker_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int cmp_topic(const void *a, const void *b)
{
    const cli_mtopic_t *x = a, *y = b;
    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int cmp_part(const void *a, const void *b)
{
    const cli_mpart_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

void cli_meta_sort(cli_meta_t *m)
{
    if (m->nbrokers)
        qsort(m->brokers, (size_t)m->nbrokers, sizeof *m->brokers, cmp_broker);
    if (m->ntopics)
        qsort(m->topics, (size_t)m->ntopics, sizeof *m->topics, cmp_topic);
    for (int32_t k = 0; k < m->ntopics; k++)
        if (m->topics[k].nparts)
            qsort(m->topics[k].parts, (size_t)m->topics[k].nparts, sizeof *m->topics[k].parts, cmp_part);
}

void cli_meta_count(const cli_meta_t *m, cli_meta_counts_t *out)
{
    memset(out, 0, sizeof *out);
    for (int32_t k = 0; k < m->ntopics; k++) {
        const cli_mtopic_t *t = &m->topics[k];
        out->topics++;
        out->internal_topics += t->internal != 0;
        for (int32_t j = 0; j < t->nparts; j++) {
            const cli_mpart_t *pp = &t->parts[j];
            out->partitions++;
            out->under_replicated += cli_mpart_under_replicated(pp);
            out->offline += cli_mpart_offline(pp);
        }
    }
}

const cli_mbroker_t *cli_meta_broker(const cli_meta_t *m, int32_t id)
{
    for (int32_t k = 0; k < m->nbrokers; k++)
        if (m->brokers[k].id == id)
            return &m->brokers[k];
    return NULL;
}

/* ---- admin requests librdkafka 2.0.2 lacks ----------------------------------------- */

/* Response header v0 (the correlation id) first; -1 when it is not ours. */
static int check_corr(rbuf_t *r, int32_t corr, char *err, size_t errlen)
{
    int32_t got = get32(r);
    if (r->bad || got != corr) {
        snprintf(err, errlen, r->bad ? "truncated response" : "correlation id %d, expected %d",
                 (int)got, (int)corr);
        return -1;
    }
    return 0;
}

/* ElectLeaders v1 request: election_type int8, topic_partitions nullable
 * [topic string, partitions [int32]], timeout_ms int32. */
size_t cli_elect_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                int8_t type, const char *topic, const int32_t *parts, int nparts,
                                int32_t timeout_ms)
{
    wbuf_t w = {buf, 0, cap, 0};
    frame_begin(&w, 43, 1, corr, client_id);
    put(&w, &type, 1);
    if (!topic) {
        put32(&w, -1);                  /* null: every partition */
    } else {
        put32(&w, 1);
        putstr(&w, topic);
        put32(&w, nparts);
        for (int i = 0; i < nparts; i++)
            put32(&w, parts[i]);
    }
    put32(&w, timeout_ms);
    return wbuf_finish(&w);
}

void cli_elect_free(cli_elect_t *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        free(v[i].topic);
        free(v[i].message);
    }
    free(v);
}

/* ElectLeaders v1 response: throttle_time_ms int32, error_code int16,
 * replica_election_results [topic string, partition_result [partition_id
 * int32, error_code int16, error_message nullable string]].  Minimal
 * sizes: topic 2+4, partition 4+2+2. */
int cli_elect_decode(const uint8_t *p, size_t len, int32_t corr, int16_t *top, cli_elect_t **out,
                     int *nout, char *err, size_t errlen)
{
    rbuf_t r = {p, len, 0};
    *out = NULL;
    *nout = 0;
    if (check_corr(&r, corr, err, errlen) < 0)
        return -1;
    get32(&r);
    *top = get16(&r);
    int32_t nt = getcount(&r, 6);
    cli_elect_t *v = NULL;
    int n = 0;
    for (int32_t k = 0; k < nt && !r.bad; k++) {
        char *topic = getstr(&r, 0);
        int32_t np = getcount(&r, 8);
        cli_elect_t *nv = r.bad ? NULL : realloc(v, ((size_t)n + (size_t)np + 1) * sizeof *v);
        if (!nv) {
            free(topic);
            r.bad = 1;
            break;
        }
        v = nv;
        for (int32_t j = 0; j < np && !r.bad; j++) {
            cli_elect_t *e = &v[n];
            memset(e, 0, sizeof *e);
            e->partition = get32(&r);
            e->error = get16(&r);
            e->message = getstr(&r, 1);
            e->topic = strdup(topic);
            n++;
            if (!e->topic)
                r.bad = 1;
        }
        free(topic);
    }
    if (r.bad) {
        cli_elect_free(v, n);
        snprintf(err, errlen, "ElectLeaders response does not decode");
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

/* IncrementalAlterConfigs v0 request: resources [resource_type int8,
 * resource_name string, configs [name string, config_operation int8,
 * value nullable string]], validate_only bool. */
size_t cli_iac_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              int8_t resource_type, const char *resource_name, const char *key,
                              int8_t op, const char *value)
{
    wbuf_t w = {buf, 0, cap, 0};
    frame_begin(&w, 44, 0, corr, client_id);
    put32(&w, 1);
    put(&w, &resource_type, 1);
    putstr(&w, resource_name);
    put32(&w, 1);
    putstr(&w, key);
    put(&w, &op, 1);
    if (value)
        putstr(&w, value);
    else
        put16(&w, -1);
    uint8_t no = 0;
    put(&w, &no, 1);
    return wbuf_finish(&w);
}

/* IncrementalAlterConfigs v0 response: throttle_time_ms int32, responses
 * [error_code int16, error_message nullable string, resource_type int8,
 * resource_name string]: the first response's error and message. */
int cli_iac_decode(const uint8_t *p, size_t len, int32_t corr, int16_t *error, char **message,
                   char *err, size_t errlen)
{
    rbuf_t r = {p, len, 0};
    *message = NULL;
    if (check_corr(&r, corr, err, errlen) < 0)
        return -1;
    get32(&r);
    int32_t n = getcount(&r, 7);
    if (!r.bad && n < 1)
        r.bad = 1;
    *error = get16(&r);
    *message = getstr(&r, 1);
    if (r.bad) {
        free(*message);
        *message = NULL;
        snprintf(err, errlen, "IncrementalAlterConfigs response does not decode");
        return -1;
    }
    return 0;
}

/* DescribeConfigs v0 request for one key of one resource: resources
 * [resource_type int8, resource_name string, configuration_keys [string]]. */
size_t cli_dc_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                             int8_t resource_type, const char *resource_name, const char *key)
{
    wbuf_t w = {buf, 0, cap, 0};
    frame_begin(&w, 32, 0, corr, client_id);
    put32(&w, 1);
    put(&w, &resource_type, 1);
    putstr(&w, resource_name);
    put32(&w, 1);
    putstr(&w, key);
    return wbuf_finish(&w);
}

/* DescribeConfigs v0 response: throttle_time_ms int32, results
 * [error_code int16, error_message nullable string, resource_type int8,
 * resource_name string, configs [name string, value nullable string,
 * read_only bool, is_default bool, is_sensitive bool]].  *value: key's
 * value (malloc'd; NULL when absent or null).  Minimal sizes: result
 * 2+2+1+2+4, config 2+2+3. */
int cli_dc_decode(const uint8_t *p, size_t len, int32_t corr, const char *key, char **value,
                  char *err, size_t errlen)
{
    rbuf_t r = {p, len, 0};
    *value = NULL;
    if (check_corr(&r, corr, err, errlen) < 0)
        return -1;
    get32(&r);
    int32_t n = getcount(&r, 11);
    if (!r.bad && n != 1)
        r.bad = 1;
    int16_t e = get16(&r);
    free(getstr(&r, 1));
    take(&r, 1);
    free(getstr(&r, 0));
    int32_t nc = getcount(&r, 7);
    for (int32_t i = 0; i < nc && !r.bad; i++) {
        char *name = getstr(&r, 0);
        char *v = getstr(&r, 1);
        take(&r, 3);
        if (!r.bad && name && !strcmp(name, key) && !*value)
            *value = v;
        else
            free(v);
        free(name);
    }
    if (r.bad || e) {
        free(*value);
        *value = NULL;
        if (r.bad)
            snprintf(err, errlen, "DescribeConfigs response does not decode");
        else
            snprintf(err, errlen, "DescribeConfigs: error %d", (int)e);
        return -1;
    }
    return 0;
}
