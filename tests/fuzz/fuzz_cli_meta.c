/*
 * fuzz_cli_meta.c - the CLI's own response decoders (src/cli/meta_wire.c):
 * Metadata v7, and ElectLeaders v1, IncrementalAlterConfigs v0 and
 * DescribeConfigs v0 on the same bytes: whatever answers on the address a
 * cluster advertises; and `samsa txn`'s decoders (src/cli/txn_wire.c:
 * FindCoordinator v3, ListTransactions v0, DescribeTransactions v0).
 *
 * Input: the response after its size prefix, correlation id 1 first (seeds
 * are real broker answers). The harness links meta_wire.o, which is not in
 * libsamsa.a (the Makefile adds it and txn_wire.o for this target).
 *
 * Oracle: the decoder returns a snapshot or NULL with a reason (never
 * crashes, never leaks); a snapshot is sorted (brokers by id, topics by
 * name, partitions by id), every array it counts is there, and the health
 * counts stay within the partition count.  The admin decoders return 0 or
 * -1 with a reason; on 0 every result has its topic.  The txn decoders
 * return 0 with every string and array they count present, or -1 with a
 * reason and nothing left allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/meta.h"
#include "cli/txn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void admin_decoders(const uint8_t *data, size_t size)
{
    char err[256], *msg = NULL;
    int16_t top, e;
    cli_elect_t *v = NULL;
    int n = -1;
    if (cli_elect_decode(data, size, 1, &top, &v, &n, err, sizeof err) == 0) {
        FUZZ_ASSERT(n >= 0 && (n == 0 || v), "results missing");
        for (int i = 0; i < n; i++)
            FUZZ_ASSERT(v[i].topic != NULL, "result %d without topic", i);
        cli_elect_free(v, n);
    } else {
        FUZZ_ASSERT(err[0] && v == NULL && n == 0, "failure without reason or with results");
    }
    if (cli_iac_decode(data, size, 1, &e, &msg, err, sizeof err) == 0)
        free(msg);
    else
        FUZZ_ASSERT(err[0] && msg == NULL, "failure without reason");
    if (cli_dc_decode(data, size, 1, "samsa.leadership.drained", &msg, err, sizeof err) == 0)
        free(msg);
    else
        FUZZ_ASSERT(err[0] && msg == NULL, "failure without reason");
}

static void txn_decoders(const uint8_t *data, size_t size)
{
    char err[256] = "";
    cli_coord_t co;
    if (cli_txn_decode_find_coordinator(data, size, 1, &co, err, sizeof err) < 0)
        FUZZ_ASSERT(err[0], "FindCoordinator: failure without reason");
    cli_txn_list_t l;
    err[0] = 0;
    if (cli_txn_decode_list(data, size, 1, &l, err, sizeof err) == 0) {
        for (int32_t i = 0; i < l.n; i++)
            FUZZ_ASSERT(l.v[i].id && l.v[i].state, "listed transaction %d incomplete", i);
        for (int32_t i = 0; i < l.nunknown; i++)
            FUZZ_ASSERT(l.unknown_states[i], "unknown state %d missing", i);
        cli_txn_list_free(&l);
    } else {
        FUZZ_ASSERT(err[0] && l.v == NULL && l.n == 0, "ListTransactions: failure without reason or with results");
    }
    cli_txn_desc_t d;
    err[0] = 0;
    if (cli_txn_decode_describe(data, size, 1, &d, err, sizeof err) == 0) {
        FUZZ_ASSERT(d.id && d.state, "described transaction incomplete");
        for (int32_t i = 0; i < d.ntopics; i++)
            FUZZ_ASSERT(d.topics[i].topic && (d.topics[i].nparts == 0 || d.topics[i].parts),
                        "topic %d incomplete", i);
        cli_txn_desc_free(&d);
    } else {
        FUZZ_ASSERT(err[0] && d.topics == NULL && d.id == NULL, "DescribeTransactions: failure without reason");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    admin_decoders(data, size);
    txn_decoders(data, size);
    cli_meta_t *m = cli_meta_decode(data, size, 1, err, sizeof err);
    if (!m) {
        FUZZ_ASSERT(strstr(err, "Metadata v7") != NULL, "no reason: '%s'", err);
        return 0;
    }
    for (int32_t k = 0; k < m->nbrokers; k++) {
        FUZZ_ASSERT(m->brokers[k].host != NULL, "broker %d without host", k);
        FUZZ_ASSERT(k == 0 || m->brokers[k - 1].id <= m->brokers[k].id, "brokers not sorted");
        FUZZ_ASSERT(cli_meta_broker(m, m->brokers[k].id) != NULL, "broker %d not found", k);
    }
    for (int32_t k = 0; k < m->ntopics; k++) {
        const cli_mtopic_t *t = &m->topics[k];
        FUZZ_ASSERT(t->name != NULL, "topic %d without name", k);
        FUZZ_ASSERT(k == 0 || strcmp(m->topics[k - 1].name, t->name) <= 0, "topics not sorted");
        for (int32_t j = 0; j < t->nparts; j++) {
            const cli_mpart_t *p = &t->parts[j];
            FUZZ_ASSERT(j == 0 || t->parts[j - 1].id <= p->id, "partitions not sorted");
            FUZZ_ASSERT(p->nreplicas >= 0 && p->nisr >= 0 && p->noffline >= 0, "negative count");
            FUZZ_ASSERT(!p->nreplicas || p->replicas, "replicas missing");
            FUZZ_ASSERT(!p->nisr || p->isr, "isr missing");
            FUZZ_ASSERT(!p->noffline || p->offline, "offline missing");
        }
    }
    cli_meta_counts_t c;
    cli_meta_count(m, &c);
    FUZZ_ASSERT(c.topics == m->ntopics && c.internal_topics <= c.topics, "topic counts");
    FUZZ_ASSERT(c.under_replicated <= c.partitions && c.offline <= c.partitions, "health counts");
    cli_meta_free(m);
    return 0;
}
