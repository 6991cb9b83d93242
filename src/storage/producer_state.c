/* producer_state.c - see producer_state.h. */
#include "storage/producer_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/endian.h"
#include "core/errors.h"
#include "os/sio.h"

void pstate_init(producer_state *ps)
{
    strmap_init(&ps->map);
    strmap_init(&ps->verif);
    ps->nopen = 0;
    ps->first_open = -1;
    ps->first_open_ok = true;
    ps->next_guard = 0;
}

/* Keep nopen and the first_open cache right when an entry's open
 * transaction changes from `was` to `now` (-1: none). */
static void note_txn(producer_state *ps, int64_t was, int64_t now)
{
    if (was == now)
        return;
    if (was >= 0) {
        ps->nopen--;
        if (ps->first_open_ok && ps->first_open == was)
            ps->first_open_ok = false;
    }
    if (now >= 0) {
        ps->nopen++;
        if (ps->first_open_ok && (ps->first_open < 0 || now < ps->first_open))
            ps->first_open = now;
    }
    if (ps->nopen == 0) {
        ps->first_open = -1;
        ps->first_open_ok = true;
    }
}

static int64_t scan_first_open(const producer_state *ps)
{
    int64_t m = -1;
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&ps->map, &it, &k, &kl, &v);) {
        const pstate_entry *e = v;
        if (e->txn_first_offset >= 0 && (m < 0 || e->txn_first_offset < m))
            m = e->txn_first_offset;
    }
    return m;
}

int64_t pstate_first_open_peek(const producer_state *ps)
{
    return ps->first_open_ok ? ps->first_open : scan_first_open(ps);
}

int64_t pstate_first_open(producer_state *ps)
{
    if (ps->first_open_ok)
        return ps->first_open;
    int64_t m = scan_first_open(ps);
    ps->first_open = m;
    ps->first_open_ok = true;
    return m;
}

void pstate_clear(producer_state *ps)
{
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&ps->map, &it, &k, &kl, &v);)
        free(v);
    strmap_free(&ps->map);
    strmap_init(&ps->map);
    for (size_t it = 0; strmap_next(&ps->verif, &it, &k, &kl, &v);)
        free(v);
    strmap_free(&ps->verif);
    strmap_init(&ps->verif);
    ps->nopen = 0;
    ps->first_open = -1;
    ps->first_open_ok = true;
}

void pstate_free(producer_state *ps)
{
    pstate_clear(ps);
    strmap_free(&ps->map);
    strmap_free(&ps->verif);
}

size_t pstate_count(const producer_state *ps)
{
    return ps->map.count;
}

const pstate_entry *pstate_get(const producer_state *ps, int64_t pid)
{
    return strmap_get(&ps->map, (const char *)&pid, sizeof pid);
}

static void entry_empty(pstate_entry *e, int64_t pid)
{
    memset(e, 0, sizeof *e);
    e->producer_id = pid;
    e->epoch = -1;
    e->last_timestamp = -1;
    e->coordinator_epoch = -1;
    e->txn_first_offset = -1;
}

/* Record a batch in an entry: a new epoch forgets older batches. */
static void entry_add(pstate_entry *e, const rb_header *h)
{
    if (h->producer_epoch != e->epoch) {
        e->epoch = h->producer_epoch;
        e->nbatches = 0;
    }
    if (e->nbatches == PSTATE_MAX_BATCHES) {
        memmove(&e->b[0], &e->b[1], sizeof e->b[0] * (PSTATE_MAX_BATCHES - 1));
        e->nbatches--;
    }
    pstate_batch *b = &e->b[e->nbatches++];
    b->first_seq = h->base_sequence;
    b->last_seq = rb_last_sequence(h);
    b->first_offset = h->base_offset;
    b->last_offset = rb_last_offset(h);
    b->timestamp = h->max_timestamp;
    e->last_timestamp = h->max_timestamp;
}

static bool in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

int pstate_check(const producer_state *ps, pstate_stage *st, const rb_header *h, pstate_batch *dup,
                 int origin)
{
    if (!rb_has_producer_id(h))
        return KERR_NONE;
    pstate_entry *e = NULL;
    for (int i = 0; i < st->n; i++)
        if (st->e[i].producer_id == h->producer_id)
            e = &st->e[i];
    const pstate_entry *cur = pstate_get(ps, h->producer_id);
    pstate_entry tmp;
    if (!e) {
        if (cur)
            tmp = *cur;
        else
            entry_empty(&tmp, h->producer_id);
        e = &tmp;
    }
    /* Duplicate of one of the last batches? */
    int32_t last_seq = rb_last_sequence(h);
    bool client = origin == PSTATE_ORIGIN_CLIENT;   /* TL6: coordinators skip the sequence rules */
    if (client && h->producer_epoch == e->epoch)
        for (int i = 0; i < e->nbatches; i++)
            if (e->b[i].first_seq == h->base_sequence && e->b[i].last_seq == last_seq) {
                *dup = e->b[i];
                return KERR_DUPLICATE_SEQUENCE_NUMBER;
            }
    if (h->producer_epoch < e->epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (!client) {
        /* no sequence rules */
    } else if (h->producer_epoch != e->epoch) {
        if (h->base_sequence != 0 && e->epoch != -1)
            return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    } else {
        int32_t cur_last = e->nbatches ? e->b[e->nbatches - 1].last_seq : -1;
        if (!(e->epoch == -1 || in_sequence(cur_last, h->base_sequence)))
            return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    }
    /* TL4 */
    if (!rb_is_transactional(h) && e->txn_first_offset >= 0)
        return KERR_INVALID_TXN_STATE;
    if (e == &tmp) {
        if (st->n == st->cap) {
            int nc = st->cap ? st->cap * 2 : 4;
            pstate_entry *ne = realloc(st->e, sizeof *ne * (size_t)nc);
            if (!ne)
                return KERR__NOMEM;
            st->e = ne;
            st->cap = nc;
        }
        st->e[st->n] = tmp;
        e = &st->e[st->n++];
    }
    entry_add(e, h);
    if (rb_is_transactional(h) && e->txn_first_offset < 0)
        e->txn_first_offset = h->base_offset;
    return KERR_NONE;
}

static pstate_entry *get_or_add(producer_state *ps, int64_t pid)
{
    pstate_entry *e = strmap_get(&ps->map, (const char *)&pid, sizeof pid);
    if (e)
        return e;
    e = malloc(sizeof *e);
    if (!e)
        return NULL;
    entry_empty(e, pid);
    int err = 0;
    strmap_put(&ps->map, (const char *)&pid, sizeof pid, e, &err);
    if (err) {
        free(e);
        return NULL;
    }
    return e;
}

void pstate_commit(producer_state *ps, pstate_stage *st)
{
    for (int i = 0; i < st->n; i++) {
        pstate_entry *e = get_or_add(ps, st->e[i].producer_id);
        if (e) {
            if (st->e[i].txn_first_offset >= 0)
                pstate_verify_clear(ps, st->e[i].producer_id);     /* TV2: the transaction is open */
            note_txn(ps, e->txn_first_offset, st->e[i].txn_first_offset);
            *e = st->e[i];
        }
    }
    st->n = 0;
}

void pstate_stage_free(pstate_stage *st)
{
    free(st->e);
    st->e = NULL;
    st->n = st->cap = 0;
}

int64_t pstate_replay(producer_state *ps, const rb_header *h, int32_t coordinator_epoch)
{
    if (!rb_has_producer_id(h))
        return -1;
    pstate_entry *e = get_or_add(ps, h->producer_id);
    if (!e)
        return -1;
    if (rb_is_control(h)) {
        pstate_verify_clear(ps, h->producer_id);                    /* TV2 */
        /* TL5: a transaction marker ends the transaction but carries no data. */
        int64_t first = e->txn_first_offset >= 0 ? e->txn_first_offset : h->base_offset;
        if (h->producer_epoch != e->epoch) {
            e->epoch = h->producer_epoch;
            e->nbatches = 0;
        }
        if (coordinator_epoch >= 0)
            e->coordinator_epoch = coordinator_epoch;
        note_txn(ps, e->txn_first_offset, -1);
        e->txn_first_offset = -1;
        if (h->max_timestamp > e->last_timestamp)
            e->last_timestamp = h->max_timestamp;
        return first;
    }
    entry_add(e, h);
    if (rb_is_transactional(h) && e->txn_first_offset < 0) {
        note_txn(ps, -1, h->base_offset);
        e->txn_first_offset = h->base_offset;
    }
    return -1;
}

int pstate_check_marker(const producer_state *ps, int64_t pid, int16_t producer_epoch, int32_t coordinator_epoch)
{
    const pstate_entry *e = pstate_get(ps, pid);
    if (!e)
        return KERR_NONE;
    if (producer_epoch < e->epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (coordinator_epoch < e->coordinator_epoch)
        return KERR_TRANSACTION_COORDINATOR_FENCED;
    return KERR_NONE;
}

uint64_t pstate_verify_start(producer_state *ps, int64_t pid, int16_t epoch, int64_t now_ms)
{
    const pstate_entry *e = pstate_get(ps, pid);
    if (e && e->txn_first_offset >= 0 && e->epoch == epoch)
        return 0;                                  /* TV3: open at this epoch, nothing to verify */
    pstate_verif *vf = strmap_get(&ps->verif, (const char *)&pid, sizeof pid);
    if (vf) {
        if (epoch > vf->epoch)
            vf->epoch = epoch;
        return vf->guard;                          /* TV1: concurrent produces share one guard */
    }
    if (!(vf = malloc(sizeof *vf)))
        return 0;
    *vf = (pstate_verif){ .epoch = epoch, .guard = ++ps->next_guard, .created_ms = now_ms };
    if (vf->guard == 0)
        vf->guard = ++ps->next_guard;              /* TV3: skip the sentinel on wrap */
    int err = 0;
    strmap_put(&ps->verif, (const char *)&pid, sizeof pid, vf, &err);
    if (err) {
        free(vf);
        return 0;
    }
    return vf->guard;
}

bool pstate_verify_ok(const producer_state *ps, int64_t pid, uint64_t guard)
{
    const pstate_verif *vf = strmap_get(&ps->verif, (const char *)&pid, sizeof pid);
    return guard != 0 && vf && vf->guard == guard;
}

void pstate_verify_clear(producer_state *ps, int64_t pid)
{
    free(strmap_del(&ps->verif, (const char *)&pid, sizeof pid));
}

int pstate_expire(producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
    int n = 0;
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&ps->verif, &it, &k, &kl, &v);) {
        pstate_verif *vf = v;
        if (now_ms - vf->created_ms >= expiration_ms) {            /* TV2 */
            strmap_del(&ps->verif, k, kl);
            free(vf);
        }
    }
    for (size_t it = 0; strmap_next(&ps->map, &it, &k, &kl, &v);) {
        pstate_entry *e = v;
        if (e->txn_first_offset < 0 && now_ms - e->last_timestamp >= expiration_ms) {
            strmap_del(&ps->map, k, kl);
            free(e);
            n++;
        }
    }
    return n;
}

void pstate_snapshot_path(char *out, size_t cap, const char *dir, int64_t offset)
{
    snprintf(out, cap, "%s/%020" PRId64 ".snapshot", dir, offset);
}

int pstate_snapshot_write(const producer_state *ps, const char *dir, int64_t offset, bool sync)
{
    size_t n = ps->map.count;
    size_t len = 10 + n * PSTATE_SNAPSHOT_ENTRY;
    uint8_t *buf = malloc(len);
    if (!buf)
        return -1;
    be16_store(buf, PSTATE_SNAPSHOT_VERSION);
    be32_store(buf + 6, (uint32_t)n);
    uint8_t *w = buf + 10;
    const char *k;
    size_t kl;
    void *v;
    for (size_t it = 0; strmap_next(&ps->map, &it, &k, &kl, &v);) {
        const pstate_entry *e = v;
        const pstate_batch *b = e->nbatches ? &e->b[e->nbatches - 1] : NULL;
        be64_store(w, (uint64_t)e->producer_id);
        be16_store(w + 8, (uint16_t)e->epoch);
        be32_store(w + 10, (uint32_t)(b ? b->last_seq : -1));
        be64_store(w + 14, (uint64_t)(b ? b->last_offset : -1));
        be32_store(w + 22, (uint32_t)(b ? (int32_t)(b->last_offset - b->first_offset) : 0));
        be64_store(w + 26, (uint64_t)e->last_timestamp);
        be32_store(w + 34, (uint32_t)e->coordinator_epoch);
        be64_store(w + 38, (uint64_t)e->txn_first_offset);
        w += PSTATE_SNAPSHOT_ENTRY;
    }
    be32_store(buf + 2, crc32c(0, buf + 6, len - 6));
    char name[64];
    snprintf(name, sizeof name, "%020" PRId64 ".snapshot", offset);
    int rc = sio_write_file_atomic(dir, name, buf, len, sync);
    free(buf);
    return rc;
}

int pstate_snapshot_load(producer_state *ps, const char *dir, int64_t offset)
{
    char path[4200];
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    pstate_clear(ps);
    pstate_snapshot_path(path, sizeof path, dir, offset);
    if (sio_read_file(path, (size_t)1 << 30, &buf, &len) < 0)
        return -1;
    const uint8_t *p = (const uint8_t *)buf;
    if (len < 10 || be16_load(p) != PSTATE_SNAPSHOT_VERSION ||
        be32_load(p + 2) != crc32c(0, p + 6, len - 6))
        goto out;
    uint32_t n = be32_load(p + 6);
    if ((uint64_t)n * PSTATE_SNAPSHOT_ENTRY != len - 10)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = p + 10 + (size_t)i * PSTATE_SNAPSHOT_ENTRY;
        pstate_entry *e = get_or_add(ps, (int64_t)be64_load(r));
        if (!e)
            goto out;
        e->epoch = (int16_t)be16_load(r + 8);
        int32_t last_seq = (int32_t)be32_load(r + 10);
        int64_t last_off = (int64_t)be64_load(r + 14);
        int32_t delta = (int32_t)be32_load(r + 22);
        e->last_timestamp = (int64_t)be64_load(r + 26);
        e->coordinator_epoch = (int32_t)be32_load(r + 34);
        int64_t tf = (int64_t)be64_load(r + 38);
        note_txn(ps, e->txn_first_offset, tf < 0 ? -1 : tf);
        e->txn_first_offset = tf < 0 ? -1 : tf;
        e->nbatches = 0;
        if (last_off >= 0) {
            pstate_batch *b = &e->b[e->nbatches++];
            b->last_seq = last_seq;
            b->first_seq = last_seq - delta < 0 ? 0 : last_seq - delta;
            b->last_offset = last_off;
            b->first_offset = last_off - delta;
            b->timestamp = e->last_timestamp;
        }
    }
    rc = 0;
out:
    if (rc < 0)
        pstate_clear(ps);
    free(buf);
    return rc;
}
