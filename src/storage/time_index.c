/* time_index.c - see time_index.h. */
#include "storage/time_index.h"

#include "core/endian.h"

void tidx_get(const index_file *f, size_t i, int64_t *ts, int32_t *rel)
{
    const uint8_t *e = idxf_entry(f, i);
    *ts = (int64_t)be64_load(e);
    *rel = (int32_t)be32_load(e + 8);
}

bool tidx_lookup(const index_file *f, int64_t target_ts, int64_t *ts, int32_t *rel)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t t;
        int32_t r;
        tidx_get(f, mid, &t, &r);
        if (t <= target_ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        *ts = -1;
        *rel = 0;
        return false;
    }
    tidx_get(f, lo - 1, ts, rel);
    return true;
}

int tidx_maybe_append(index_file *f, int64_t ts, int32_t rel)
{
    int64_t lt = -1;
    int32_t lr = 0;
    if (f->n)
        tidx_get(f, f->n - 1, &lt, &lr);
    if (ts <= lt || rel < lr)
        return 0;
    uint8_t e[TIDX_ENTRY];
    be64_store(e, (uint64_t)ts);
    be32_store(e + 8, (uint32_t)rel);
    return idxf_append(f, e);
}

int tidx_truncate_to(index_file *f, int32_t target_rel)
{
    size_t keep = f->n;
    while (keep > 0) {
        int64_t t;
        int32_t r;
        tidx_get(f, keep - 1, &t, &r);
        if (r < target_rel)
            break;
        keep--;
    }
    return idxf_truncate(f, keep);
}

bool tidx_sane(const index_file *f)
{
    int64_t pt = -1;
    int32_t pr = 0;
    for (size_t i = 0; i < f->n; i++) {
        int64_t t;
        int32_t r;
        tidx_get(f, i, &t, &r);
        if (t <= pt || r < pr)
            return false;
        pt = t;
        pr = r;
    }
    return true;
}
