/* placement.c - see placement.h (Kafka's replica assignment algorithm,
 * written from its documented behaviour). */
#include "cluster/placement.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static bool has_rack(const placement_broker *b)
{
    return b->rack && b->rack[0];
}

static int by_id(const void *a, const void *b)
{
    int32_t x = ((const placement_broker *)a)->id, y = ((const placement_broker *)b)->id;
    return (x > y) - (x < y);
}

static int by_rack_then_id(const void *a, const void *b)
{
    const placement_broker *x = a, *y = b;
    int c = strcmp(x->rack, y->rack);
    return c ? c : by_id(a, b);
}

static int random_below(int n)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)rand();
    return (int)(r % (uint32_t)n);
}

/* The index of the (j+2)-th replica: one past the first, then the shift. */
static int replica_index(int first, int shift, int j, int n)
{
    int s = 1 + (int)(((int64_t)shift + j) % (n - 1));
    return (first + s) % n;
}

/* Racks sorted, brokers sorted within a rack; then one broker from each
 * rack in turn: rack1[0], rack2[0], ..., rack1[1], rack2[1], ... */
static int rack_alternated(placement_broker *sorted, int n, placement_broker *out, int *nracks)
{
    qsort(sorted, (size_t)n, sizeof *sorted, by_rack_then_id);
    int *rack_start = malloc((size_t)n * sizeof *rack_start);
    int *rack_len = malloc((size_t)n * sizeof *rack_len);
    if (!rack_start || !rack_len) {
        free(rack_start);
        free(rack_len);
        return -1;
    }
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || strcmp(sorted[i].rack, sorted[i - 1].rack)) {
            rack_start[r] = i;
            rack_len[r++] = 0;
        }
        rack_len[r - 1]++;
    }
    int k = 0;
    for (int round = 0; k < n; round++)
        for (int i = 0; i < r; i++)
            if (round < rack_len[i])
                out[k++] = sorted[rack_start[i] + round];
    *nracks = r;
    free(rack_start);
    free(rack_len);
    return 0;
}

enum placement_err placement_assign(const placement_broker *brokers, int nbrokers, int32_t nparts,
                                    int16_t rf, int32_t first_partition, int start, int shift,
                                    int32_t *out)
{
    if (rf < 1 || nbrokers < 1 || rf > nbrokers || nbrokers > 1000000)
        return PLACEMENT_BAD_RF;
    int with_rack = 0;
    for (int i = 0; i < nbrokers; i++)
        with_rack += has_rack(&brokers[i]);
    if (with_rack != 0 && with_rack != nbrokers)
        return PLACEMENT_MIXED_RACKS;
    bool racks = with_rack == nbrokers;

    enum placement_err rc = PLACEMENT_NOMEM;
    placement_broker *sorted = malloc((size_t)nbrokers * sizeof *sorted);
    placement_broker *list = malloc((size_t)nbrokers * sizeof *list);
    bool *used_broker = calloc((size_t)nbrokers, sizeof *used_broker);
    bool *used_rack = calloc((size_t)nbrokers, sizeof *used_rack);
    int *rack_of = calloc((size_t)nbrokers, sizeof *rack_of);
    if (!sorted || !list || !used_broker || !used_rack || !rack_of)
        goto out;
    memcpy(sorted, brokers, (size_t)nbrokers * sizeof *sorted);
    int nracks = 1;
    if (racks) {
        if (rack_alternated(sorted, nbrokers, list, &nracks) < 0)
            goto out;
        /* rack_of[i]: a small number per distinct rack name, for list[i]. */
        for (int i = 0; i < nbrokers; i++) {
            rack_of[i] = -1;
            for (int j = 0; j < i && rack_of[i] < 0; j++)
                if (!strcmp(list[j].rack, list[i].rack))
                    rack_of[i] = rack_of[j];
            if (rack_of[i] < 0)
                rack_of[i] = i;
        }
    } else {
        qsort(sorted, (size_t)nbrokers, sizeof *sorted, by_id);
        memcpy(list, sorted, (size_t)nbrokers * sizeof *list);
    }
    int n = nbrokers;
    if (start < 0)
        start = random_below(n);
    if (shift < 0)
        shift = random_below(n);
    int32_t cur = first_partition < 0 ? 0 : first_partition;
    for (int32_t p = 0; p < nparts; p++, cur++) {
        if (cur > 0 && cur % n == 0)
            shift++;
        int first = (int)(((int64_t)cur + start) % n);
        int32_t *reps = out + (size_t)p * (size_t)rf;
        reps[0] = list[first].id;
        if (!racks) {
            for (int j = 0; j < rf - 1; j++)
                reps[j + 1] = list[replica_index(first, shift, j, n)].id;
            continue;
        }
        memset(used_broker, 0, (size_t)n * sizeof *used_broker);
        memset(used_rack, 0, (size_t)n * sizeof *used_rack);
        used_broker[first] = true;
        used_rack[rack_of[first]] = true;
        int nused_brokers = 1, nused_racks = 1;
        int k = 0;
        for (int j = 1; j < rf; j++) {
            for (;;) {
                /* Kafka steps the shift in units of whole rack rounds. */
                int idx = replica_index(first, (int)(((int64_t)shift * nracks) % (n > 1 ? n - 1 : 1)),
                                        k++, n);
                bool rack_ok = !used_rack[rack_of[idx]] || nused_racks == nracks;
                bool broker_ok = !used_broker[idx] || nused_brokers == n;
                if (rack_ok && broker_ok) {
                    reps[j] = list[idx].id;
                    nused_racks += !used_rack[rack_of[idx]];
                    nused_brokers += !used_broker[idx];
                    used_rack[rack_of[idx]] = true;
                    used_broker[idx] = true;
                    break;
                }
            }
        }
    }
    rc = PLACEMENT_OK;
out:
    free(sorted);
    free(list);
    free(used_broker);
    free(used_rack);
    free(rack_of);
    return rc;
}
