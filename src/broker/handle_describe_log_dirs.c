/*
 * handle_describe_log_dirs.c - DescribeLogDirs (key 35): every log.dirs
 * entry of this broker with the partitions stored in it and their size on
 * disk (what kafka-log-dirs and AdminClient.describeLogDirs show).
 *
 * Kafka's rules (ReplicaManager.describeLogDirs):
 *   - one result per configured log dir, LogDir its absolute path, in
 *     log.dirs order;
 *   - Topics null = every partition this broker stores (leaders and
 *     followers alike, internal topics included); otherwise only the named
 *     (topic, partition) pairs, and a pair stored nowhere is left out, as
 *     is a topic none of whose named partitions is here;
 *   - PartitionSize = the sum of the segment files' sizes; OffsetLag =
 *     max(HW - LEO, 0), i.e. 0 for a current log; IsFutureKey false (Samsa
 *     has no AlterReplicaLogDirs, so no future logs);
 *   - v4+: TotalBytes / UsableBytes of the volume (statvfs: f_blocks and
 *     f_bavail times f_frsize; Long.MAX_VALUE beyond it, as Kafka's
 *     adjustForLargeFileSystems); v5: IsCordoned false (no cordoning);
 *   - a dir that cannot be used (statvfs fails: removed, unmounted, I/O
 *     error) answers KAFKA_STORAGE_ERROR with no topics and the sizes
 *     left at -1, as Kafka answers for an offline dir.
 * Samsa takes a single failed log offline, not its whole dir
 * (storage/partition_log.h, invariant 4): such a log is left out of its
 * dir's listing, where Kafka would report the whole dir failed.
 *
 * statvfs and the size sums touch the file system, so the work runs on the
 * admin thread; the response lives in the request arena.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "config/config.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/describe_log_dirs.h"
#include "storage/log_manager.h"

/* One stored partition, as collected from the log manager. */
typedef struct ldpart {
    const char *topic;          /* in the request arena */
    int32_t partition;
    int dir;                    /* index into log.dirs; -1 = not one of them */
    int64_t size;
    int64_t lag;
    bool offline;
    bool wanted;
} ldpart;

typedef struct collect_ctx {
    kreq *rq;
    const struct broker_config *cfg;
    ldpart *v;
    size_t n, cap;
    bool nomem;
} collect_ctx;

static void collect(void *arg, const lm_partition_info *pi)
{
    collect_ctx *c = arg;
    if (c->nomem)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        ldpart *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->nomem = true;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    ldpart *p = &c->v[c->n];
    p->topic = arena_strndup(&c->rq->arena, pi->topic, strlen(pi->topic));
    if (!p->topic) {
        c->nomem = true;
        return;
    }
    p->partition = pi->partition;
    p->dir = -1;
    for (size_t i = 0; i < c->cfg->nlog_dirs; i++)
        if (!strcmp(c->cfg->log_dir_list[i], pi->log_dir)) {
            p->dir = (int)i;
            break;
        }
    p->offline = plog_offline(pi->log);
    p->size = plog_size_bytes(pi->log);
    int64_t lag = plog_high_watermark(pi->log) - plog_log_end_offset(pi->log);
    p->lag = lag > 0 ? lag : 0;
    p->wanted = false;
    c->n++;
}

static int cmp_part(const void *a, const void *b)
{
    const ldpart *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* The stored partition (name, index) in v[0..n) sorted, or NULL. */
static ldpart *find(ldpart *v, size_t n, kstr name, int32_t index)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t tl = strlen(v[mid].topic);
        size_t m = tl < (size_t)name.len ? tl : (size_t)name.len;
        int c = m ? memcmp(v[mid].topic, name.p, m) : 0;
        if (!c)
            c = (tl > (size_t)name.len) - (tl < (size_t)name.len);
        if (!c)
            c = (v[mid].partition > index) - (v[mid].partition < index);
        if (!c)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A statvfs figure in bytes, INT64_MAX when it does not fit. */
static int64_t fs_bytes(unsigned long long blocks, unsigned long frsize)
{
    if (frsize && blocks > (unsigned long long)INT64_MAX / frsize)
        return INT64_MAX;
    return (int64_t)(blocks * frsize);
}

/* The dir's absolute path (Kafka's File.toAbsolutePath): relative paths
 * are taken from the working directory, a leading "./" dropped. */
static kstr abs_dir(kreq *rq, const char *dir)
{
    if (dir[0] == '/')
        return kstr_c(arena_strndup(&rq->arena, dir, strlen(dir)));
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return kstr_c(arena_strndup(&rq->arena, dir, strlen(dir)));
    while (dir[0] == '.' && dir[1] == '/')
        dir += 2;
    size_t cl = strlen(cwd), dl = strlen(dir);
    char *s = arena_alloc(&rq->arena, cl + dl + 2);
    if (!s)
        return (kstr){ NULL, -1 };
    memcpy(s, cwd, cl);
    size_t at = cl;
    if (dl && !(dl == 1 && dir[0] == '.')) {
        if (cl && cwd[cl - 1] != '/')
            s[at++] = '/';
        memcpy(s + at, dir, dl);
        at += dl;
    }
    s[at] = 0;
    return (kstr){ s, (int32_t)at };
}

/* The topics of dir d among v[0..n) (sorted, wanted ones only) into rt. */
static int fill_topics(kreq *rq, ldpart *v, size_t n, int d, describe_log_dirs_resp_results *rt)
{
    int32_t ntopics = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i].wanted && v[i].dir == d && (!last || strcmp(last, v[i].topic))) {
            ntopics++;
            last = v[i].topic;
        }
    if (!ntopics)
        return 0;
    describe_log_dirs_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &rt->topics, ntopics);
    if (!ts)
        return -1;
    int32_t t = -1;
    last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].wanted || v[i].dir != d)
            continue;
        if (!last || strcmp(last, v[i].topic)) {
            last = v[i].topic;
            t++;
            ts[t].name = kstr_c(last);
            int32_t np = 0;
            for (size_t j = i; j < n && !strcmp(v[j].topic, last); j++)
                np += v[j].wanted && v[j].dir == d;
            if (!KARRAY_ALLOC(&rq->arena, &ts[t].partitions, np))
                return -1;
            ts[t].partitions.n = 0;
        }
        describe_log_dirs_resp_partitions *rp = &ts[t].partitions.v[ts[t].partitions.n++];
        *rp = (describe_log_dirs_resp_partitions){ .partition_index = v[i].partition,
                                                   .partition_size = v[i].size,
                                                   .offset_lag = v[i].lag,
                                                   .is_future_key = false };
    }
    return 0;
}

static void work(admin_job *job)
{
    kreq *rq = job->rq;
    broker *b = broker_of(rq);
    describe_log_dirs_req *req = rq->body;
    describe_log_dirs_resp *r = job->arg;
    collect_ctx c = { .rq = rq, .cfg = broker_config_current(b) };
    log_manager_foreach(b->logs, collect, &c);
    if (c.nomem)
        goto nomem;
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_part);
    for (size_t i = 0; i < c.n; i++)
        c.v[i].wanted = req->topics.n < 0 && !c.v[i].offline;
    for (int32_t i = 0; i < req->topics.n; i++) {      /* n = -1: null, all */
        describe_log_dirs_req_topics *qt = &req->topics.v[i];
        if (qt->topic.len < 0)
            continue;
        for (int32_t j = 0; j < qt->partitions.n; j++) {
            ldpart *p = find(c.v, c.n, qt->topic, qt->partitions.v[j]);
            if (p && !p->offline)
                p->wanted = true;
        }
    }
    int32_t ndirs = (int32_t)c.cfg->nlog_dirs;
    describe_log_dirs_resp_results *res = ndirs ? KARRAY_ALLOC(&rq->arena, &r->results, ndirs) : NULL;
    if (ndirs && !res)
        goto nomem;
    for (int32_t d = 0; d < ndirs; d++) {
        const char *dir = c.cfg->log_dir_list[d];
        describe_log_dirs_resp_results *rt = &res[d];
        rt->log_dir = abs_dir(rq, dir);
        rt->total_bytes = rt->usable_bytes = -1;
        rt->is_cordoned = false;
        if (rt->log_dir.len < 0)
            goto nomem;
        struct statvfs sv;
        if (statvfs(dir, &sv) < 0) {
            rt->error_code = KERR_KAFKA_STORAGE_ERROR;
            continue;
        }
        rt->total_bytes = fs_bytes(sv.f_blocks, sv.f_frsize);
        rt->usable_bytes = fs_bytes(sv.f_bavail, sv.f_frsize);
        if (fill_topics(rq, c.v, c.n, d, rt) < 0)
            goto nomem;
    }
    free(c.v);
    return;
nomem:
    free(c.v);
    r->results.n = 0;
    r->error_code = KERR_UNKNOWN_SERVER_ERROR;
}

static void done(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_describe_log_dirs(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_DESCRIBE, describe_log_dirs_resp);   /* docs/security.md, DescribeLogDirs */
    describe_log_dirs_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    admin_submit(broker_of(rq), rq, work, done, r);
}
