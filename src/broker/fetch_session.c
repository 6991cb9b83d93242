/* fetch_session.c - see fetch_session.h. */
#include "broker/fetch_session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/errors.h"

#define EVICT_IDLE_MS 120000

typedef struct session {
    int32_t id;
    int32_t next_epoch;
    int64_t last_used_ms;
    fs_part *parts;
    int n, cap;
} session;

struct fetch_sessions {
    pthread_mutex_t lock;         /* guards everything below */
    session **v;
    int n, cap, max;
};

fetch_sessions *fetch_sessions_new(int max_slots)
{
    fetch_sessions *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    pthread_mutex_init(&fs->lock, NULL);
    fs->max = max_slots;
    return fs;
}

static void session_free(session *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->parts[i].topic);
    free(s->parts);
    free(s);
}

void fetch_sessions_free(fetch_sessions *fs)
{
    if (!fs)
        return;
    for (int i = 0; i < fs->n; i++)
        session_free(fs->v[i]);
    free(fs->v);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

static int find(fetch_sessions *fs, int32_t id)
{
    for (int i = 0; i < fs->n; i++)
        if (fs->v[i]->id == id)
            return i;
    return -1;
}

static void remove_at(fetch_sessions *fs, int i)
{
    session_free(fs->v[i]);
    fs->v[i] = fs->v[--fs->n];
}

static int32_t new_id(fetch_sessions *fs)
{
    for (;;) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)rand();
        int32_t id = (int32_t)(r & 0x7fffffff);
        if (id != 0 && find(fs, id) < 0)
            return id;
    }
}

static bool same_part(const fs_part *p, const char *topic, int32_t tlen, kuuid tid, int32_t part)
{
    if (p->partition != part)
        return false;
    if (tlen >= 0)
        return (int32_t)strlen(p->topic) == tlen && memcmp(p->topic, topic, (size_t)tlen) == 0;
    return kuuid_eq(p->topic_id, tid);
}

static int session_upsert(session *s, const fs_update *u)
{
    for (int i = 0; i < s->n; i++) {
        fs_part *p = &s->parts[i];
        if (same_part(p, u->topic, u->topic_len, u->topic_id, u->partition)) {
            p->fetch_offset = u->fetch_offset;
            p->max_bytes = u->max_bytes;
            p->current_leader_epoch = u->current_leader_epoch;
            return 0;
        }
    }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 8;
        fs_part *np = realloc(s->parts, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        s->parts = np;
        s->cap = cap;
    }
    int32_t tl = u->topic_len > 0 ? u->topic_len : 0;
    char *name = malloc((size_t)tl + 1);
    if (!name)
        return -1;
    memcpy(name, u->topic ? u->topic : "", (size_t)tl);
    name[tl] = 0;
    s->parts[s->n++] = (fs_part){ .topic = name, .topic_id = u->topic_id,
                                  .partition = u->partition, .fetch_offset = u->fetch_offset,
                                  .max_bytes = u->max_bytes,
                                  .current_leader_epoch = u->current_leader_epoch,
                                  .sent_hw = -1, .sent_lso = -1, .sent_log_start = -1 };
    return 0;
}

static void session_forget(session *s, const fs_forget *f)
{
    for (int i = 0; i < s->n; i++) {
        if (same_part(&s->parts[i], f->topic, f->topic_len, f->topic_id, f->partition)) {
            free(s->parts[i].topic);
            memmove(&s->parts[i], &s->parts[i + 1], (size_t)(s->n - i - 1) * sizeof *s->parts);
            s->n--;
            return;
        }
    }
}

static void copy_out(const fs_part *src, int n, arena *a, fs_context *out)
{
    out->parts = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *out->parts);
    out->nparts = 0;
    if (!out->parts) {
        out->error = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    for (int i = 0; i < n; i++) {
        out->parts[i] = src[i];
        out->parts[i].topic = arena_strndup(a, src[i].topic, strlen(src[i].topic));
    }
    out->nparts = n;
}

static void sessionless(const fs_update *upd, int nupd, arena *a, fs_context *out)
{
    out->parts = arena_alloc(a, (size_t)(nupd ? nupd : 1) * sizeof *out->parts);
    if (!out->parts) {
        out->error = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    for (int i = 0; i < nupd; i++) {
        const fs_update *u = &upd[i];
        int32_t tl = u->topic_len > 0 ? u->topic_len : 0;
        out->parts[i] = (fs_part){ .topic = arena_strndup(a, u->topic ? u->topic : "", (size_t)tl),
                                   .topic_id = u->topic_id, .partition = u->partition,
                                   .fetch_offset = u->fetch_offset, .max_bytes = u->max_bytes,
                                   .current_leader_epoch = u->current_leader_epoch,
                                   .sent_hw = -1, .sent_lso = -1, .sent_log_start = -1 };
    }
    out->nparts = nupd;
}

void fetch_sessions_begin(fetch_sessions *fs, int32_t session_id, int32_t epoch,
                          const fs_update *upd, int nupd, const fs_forget *fgt, int nfgt,
                          int64_t now_ms, arena *a, fs_context *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&fs->lock);
    if (epoch == -1) {
        int i = session_id ? find(fs, session_id) : -1;
        if (i >= 0)
            remove_at(fs, i);
        sessionless(upd, nupd, a, out);
        goto out;
    }
    if (epoch == 0) {
        int i = session_id ? find(fs, session_id) : -1;
        if (i >= 0)
            remove_at(fs, i);
        sessionless(upd, nupd, a, out);
        if (fs->max <= 0)
            goto out;
        if (fs->n >= fs->max) {
            int victim = -1;
            for (int k = 0; k < fs->n; k++)
                if (now_ms - fs->v[k]->last_used_ms >= EVICT_IDLE_MS &&
                    (victim < 0 || fs->v[k]->last_used_ms < fs->v[victim]->last_used_ms))
                    victim = k;
            if (victim < 0)
                goto out;        /* full: no session, client keeps full fetches */
            remove_at(fs, victim);
        }
        if (fs->n == fs->cap) {
            int cap = fs->cap ? fs->cap * 2 : 16;
            session **nv = realloc(fs->v, (size_t)cap * sizeof *nv);
            if (!nv)
                goto out;
            fs->v = nv;
            fs->cap = cap;
        }
        session *s = calloc(1, sizeof *s);
        if (!s)
            goto out;
        s->id = new_id(fs);
        s->next_epoch = 1;
        s->last_used_ms = now_ms;
        for (int k = 0; k < nupd; k++)
            if (session_upsert(s, &upd[k]) < 0) {
                session_free(s);
                goto out;
            }
        fs->v[fs->n++] = s;
        out->response_session_id = s->id;
        goto out;
    }
    int i = find(fs, session_id);
    if (i < 0) {
        out->error = KERR_FETCH_SESSION_ID_NOT_FOUND;
        goto out;
    }
    session *s = fs->v[i];
    if (epoch != s->next_epoch) {
        out->error = KERR_INVALID_FETCH_SESSION_EPOCH;
        goto out;
    }
    for (int k = 0; k < nupd; k++)
        if (session_upsert(s, &upd[k]) < 0) {
            out->error = KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
    for (int k = 0; k < nfgt; k++)
        session_forget(s, &fgt[k]);
    s->next_epoch = epoch == INT32_MAX ? 1 : epoch + 1;
    s->last_used_ms = now_ms;
    out->incremental = true;
    out->response_session_id = s->id;
    copy_out(s->parts, s->n, a, out);
out:
    pthread_mutex_unlock(&fs->lock);
}

void fetch_sessions_end(fetch_sessions *fs, const fs_context *ctx, const int64_t *hw,
                        const int64_t *lso, const int64_t *log_start, const bool *has_data_or_error,
                        bool *include)
{
    for (int i = 0; i < ctx->nparts; i++)
        include[i] = true;
    if (!ctx->response_session_id)
        return;
    pthread_mutex_lock(&fs->lock);
    int si = find(fs, ctx->response_session_id);
    session *s = si >= 0 ? fs->v[si] : NULL;
    for (int i = 0; i < ctx->nparts; i++) {
        const fs_part *p = &ctx->parts[i];
        fs_part *sp = NULL;
        for (int k = 0; s && k < s->n; k++) {
            int32_t tl = p->topic[0] ? (int32_t)strlen(p->topic) : -1;
            if (same_part(&s->parts[k], p->topic, tl, p->topic_id, p->partition)) {
                sp = &s->parts[k];
                break;
            }
        }
        if (ctx->incremental) {
            bool changed = has_data_or_error[i] || !sp || sp->sent_hw != hw[i] ||
                           sp->sent_lso != lso[i] || sp->sent_log_start != log_start[i];
            include[i] = changed;
        }
        if (sp && include[i]) {
            sp->sent_hw = hw[i];
            sp->sent_lso = lso[i];
            sp->sent_log_start = log_start[i];
        }
    }
    pthread_mutex_unlock(&fs->lock);
}
