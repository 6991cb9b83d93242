/*
 * fuzz_cli_meta.c - the CLI's Metadata v7 response decoder
 * (src/cli/meta_wire.c): bytes from whatever answers on the address a
 * cluster advertises.
 *
 * Input: the response after its size prefix, correlation id 1 first (seeds
 * are real broker answers). The harness links meta_wire.o, which is not in
 * libsamsa.a (the Makefile adds it for this target).
 *
 * Oracle: the decoder returns a snapshot or NULL with a reason (never
 * crashes, never leaks); a snapshot is sorted (brokers by id, topics by
 * name, partitions by id), every array it counts is there, and the health
 * counts stay within the partition count.
 */
#include <string.h>

#include "cli/meta.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
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
