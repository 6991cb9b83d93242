/* offset_index.c - see offset_index.h. */
#include "storage/offset_index.h"

#include "core/endian.h"

void oidx_get(const index_file *f, size_t i, int32_t *rel, int32_t *pos)
{
    const uint8_t *e = idxf_entry(f, i);
    *rel = (int32_t)be32_load(e);
    *pos = (int32_t)be32_load(e + 4);
}

void oidx_lookup(const index_file *f, int32_t target_rel, int32_t *rel, int32_t *pos)
{
    size_t lo = 0, hi = f->n;               /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t r, p;
        oidx_get(f, mid, &r, &p);
        if (r <= target_rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        *rel = 0;
        *pos = 0;
        return;
    }
    oidx_get(f, lo - 1, rel, pos);
}

int oidx_append(index_file *f, int32_t rel, int32_t pos)
{
    if (f->n) {
        int32_t lr, lp;
        oidx_get(f, f->n - 1, &lr, &lp);
        if (rel <= lr || pos <= lp)
            return 0;
    }
    uint8_t e[OIDX_ENTRY];
    be32_store(e, (uint32_t)rel);
    be32_store(e + 4, (uint32_t)pos);
    return idxf_append(f, e);
}

int oidx_truncate_to(index_file *f, int32_t target_rel)
{
    size_t keep = f->n;
    while (keep > 0) {
        int32_t r, p;
        oidx_get(f, keep - 1, &r, &p);
        if (r < target_rel)
            break;
        keep--;
    }
    return idxf_truncate(f, keep);
}

int oidx_truncate_to_pos(index_file *f, int64_t target_pos)
{
    size_t keep = f->n;
    while (keep > 0) {
        int32_t r, p;
        oidx_get(f, keep - 1, &r, &p);
        if (p < target_pos)
            break;
        keep--;
    }
    return idxf_truncate(f, keep);
}

