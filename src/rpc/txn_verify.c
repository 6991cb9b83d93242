/* txn_verify.c - see txn_verify.h (Kafka's AddPartitionsToTxnManager). */
#include "rpc/txn_verify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/add_partitions_to_txn.h"
#include "rpc/kclient.h"

#define CALL_TIMEOUT_MS 15000
#define CONNECT_TIMEOUT_MS 3000
#define MAX_RESPONSE (1u << 20)
#define VERIFY_VERSION 4              /* the batched form, verify_only */

typedef struct tv_job {
    loop *lp;
    char *id;
    size_t idlen;
    int64_t pid;
    int16_t epoch;
    bool abortable_ok;
    char **topics;
    int32_t *parts;
    int16_t *errors;
    int n;
    int32_t coord;
    bool sent;                         /* placed in a request this round */
    txn_verify_done done;
    void *arg;
    struct tv_job *next;
} tv_job;

typedef struct tv_peer {
    int32_t id;
    kclient kc;
} tv_peer;

struct txn_verifier {
    txn_verify_ctx ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tv_job *queued;                    /* under lock */
    atomic_bool stop;
    tv_peer **peers;                   /* grown by the thread under lock (stop cuts them) */
    int npeers;
};

static void job_free(tv_job *j)
{
    if (!j)
        return;
    for (int i = 0; j->topics && i < j->n; i++)
        free(j->topics[i]);
    free(j->topics);
    free(j->parts);
    free(j->errors);
    free(j->id);
    free(j);
}

int txn_verify_submit(txn_verifier *v, loop *lp, const char *id, size_t idlen, int64_t pid, int16_t epoch,
                      bool abortable_ok, const txn_verify_tp *tps, int n, txn_verify_done done, void *arg)
{
    tv_job *j = calloc(1, sizeof *j);
    if (!v || !j || n <= 0)
        goto fail;
    *j = (tv_job){ .lp = lp, .idlen = idlen, .pid = pid, .epoch = epoch, .abortable_ok = abortable_ok,
                   .done = done, .arg = arg, .coord = -1 };
    j->id = malloc(idlen + 1);
    j->topics = calloc((size_t)n, sizeof *j->topics);
    j->parts = calloc((size_t)n, sizeof *j->parts);
    j->errors = calloc((size_t)n, sizeof *j->errors);
    if (!j->id || !j->topics || !j->parts || !j->errors)
        goto fail;
    memcpy(j->id, id, idlen);
    j->id[idlen] = 0;
    for (int i = 0; i < n; i++, j->n++) {
        if (!(j->topics[i] = malloc(tps[i].topic_len + 1)))
            goto fail;
        memcpy(j->topics[i], tps[i].topic, tps[i].topic_len);
        j->topics[i][tps[i].topic_len] = 0;
        j->parts[i] = tps[i].partition;
        j->errors[i] = KERR_NETWORK_EXCEPTION;   /* until answered */
    }
    pthread_mutex_lock(&v->lock);
    bool stopped = atomic_load(&v->stop);
    if (!stopped) {
        j->next = v->queued;
        v->queued = j;
        pthread_cond_signal(&v->cond);
    }
    pthread_mutex_unlock(&v->lock);
    if (stopped)
        goto fail;
    return 0;
fail:
    job_free(j);
    return -1;
}

/* ------------------------------------------------------ back to the requester */

static void done_on_loop(loop *lp, void *arg)
{
    (void)lp;
    tv_job *j = arg;
    j->done(j->arg, j->errors, j->n);
    job_free(j);
}

static void report(tv_job *j)
{
    if (loop_post(j->lp, done_on_loop, j) == 0)
        return;
    LOG_ERR("txn", "transactional id %s: cannot hand the partition verification back to its thread", j->id);
    job_free(j);
}

/* ------------------------------------------------------------------ one pass */

static kclient *peer_client(txn_verifier *v, int32_t id)
{
    for (int i = 0; i < v->npeers; i++)
        if (v->peers[i]->id == id)
            return &v->peers[i]->kc;
    tv_peer *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->id = id;
    kclient_init(&p->kc, "samsa-txn-verify", MAX_RESPONSE);
    kclient_set_security(&p->kc, v->ctx.sec);        /* S-CL4 */
    pthread_mutex_lock(&v->lock);
    tv_peer **np = realloc(v->peers, (size_t)(v->npeers + 1) * sizeof *np);
    if (np) {
        v->peers = np;
        v->peers[v->npeers++] = p;
    }
    pthread_mutex_unlock(&v->lock);
    if (!np) {
        free(p);
        return NULL;
    }
    return &p->kc;
}

/* The coordinator's answer for partition i of j, as Kafka's
 * AddPartitionsToTxnManager hands it to the leader. */
static int16_t map_error(const tv_job *j, int16_t code)
{
    if (code == KERR_PRODUCER_FENCED)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (code == KERR_TRANSACTION_ABORTABLE && !j->abortable_ok)
        return KERR_INVALID_TXN_STATE;
    return code;
}

static void apply_result(tv_job *j, const add_partitions_to_txn_result *r)
{
    for (int i = 0; i < j->n; i++)
        j->errors[i] = KERR_UNKNOWN_SERVER_ERROR;       /* not answered for */
    for (int32_t t = 0; t < r->topic_results.n; t++) {
        const add_partitions_to_txn_topic_result *tr = &r->topic_results.v[t];
        for (int32_t q = 0; q < tr->results_by_partition.n; q++)
            for (int i = 0; i < j->n; i++)
                if (j->parts[i] == tr->results_by_partition.v[q].partition_index && kstr_eq(tr->name, j->topics[i]))
                    j->errors[i] = map_error(j, tr->results_by_partition.v[q].partition_error_code);
    }
}

static void fail_all(tv_job **jobs, int n, int16_t code)
{
    for (int k = 0; k < n; k++)
        for (int i = 0; i < jobs[k]->n; i++)
            jobs[k]->errors[i] = code;
}

/* One AddPartitionsToTxn v4 (verify_only) to broker `to` for jobs[0..n)
 * (distinct transactional ids). */
static void send_to(txn_verifier *v, tv_job **jobs, int n, int32_t to)
{
    arena a;
    arena_init(&a, 4u << 20);
    add_partitions_to_txn_req req = { 0 };
    add_partitions_to_txn_req_transactions *ts = KARRAY_ALLOC(&a, &req.transactions, n);
    if (!ts) {
        fail_all(jobs, n, KERR_NETWORK_EXCEPTION);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        tv_job *j = jobs[k];
        ts[k] = (add_partitions_to_txn_req_transactions){ .transactional_id = { j->id, (int32_t)j->idlen },
                                                          .producer_id = j->pid, .producer_epoch = j->epoch,
                                                          .verify_only = true };
        add_partitions_to_txn_topic *tt = KARRAY_ALLOC(&a, &ts[k].topics, j->n);
        int32_t *ids = arena_alloc(&a, (size_t)j->n * sizeof *ids + 1);
        if (!tt || !ids) {
            fail_all(jobs, n, KERR_NETWORK_EXCEPTION);
            goto out;
        }
        int nt = 0, nid = 0;
        for (int i = 0; i < j->n; i++) {
            int x = 0;
            while (x < i && strcmp(j->topics[x], j->topics[i]))
                x++;
            if (x < i)
                continue;                  /* its topic is listed already */
            tt[nt].name = kstr_c(j->topics[i]);
            tt[nt].partitions.v = &ids[nid];
            for (int l = i; l < j->n; l++)
                if (!strcmp(j->topics[l], j->topics[i]))
                    ids[nid++] = j->parts[l];
            tt[nt].partitions.n = (int32_t)(&ids[nid] - tt[nt].partitions.v);
            nt++;
        }
        ts[k].topics.n = nt;
    }
    kclient *kc = peer_client(v, to);
    char err[256], host[256];
    int port = -1;
    if (!kc) {
        fail_all(jobs, n, KERR_NETWORK_EXCEPTION);
        goto out;
    }
    if (!kclient_connected(kc) &&
        (!v->ctx.broker_endpoint(v->ctx.arg, to, host, sizeof host, &port) ||
         kclient_connect(kc, host, port, CONNECT_TIMEOUT_MS, err, sizeof err) != 0)) {
        fail_all(jobs, n, KERR_NETWORK_EXCEPTION);
        goto out;
    }
    add_partitions_to_txn_resp resp = { 0 };
    if (kclient_call(kc, ADD_PARTITIONS_TO_TXN_API_KEY, VERIFY_VERSION, &req, &a, &resp, CALL_TIMEOUT_MS, err,
                     sizeof err) != 0) {
        LOG_WRN("txn", "partition verification with broker %d (%d transaction(s)): %s", to, n, err);
        kclient_close(kc);
        fail_all(jobs, n, KERR_NETWORK_EXCEPTION);
        goto out;
    }
    if (resp.error_code != KERR_NONE) {
        fail_all(jobs, n, resp.error_code);
        goto out;
    }
    fail_all(jobs, n, KERR_UNKNOWN_SERVER_ERROR);       /* transactions not answered for */
    for (int32_t r = 0; r < resp.results_by_transaction.n; r++)
        for (int k = 0; k < n; k++)
            if (kstr_eq(resp.results_by_transaction.v[r].transactional_id, jobs[k]->id))
                apply_result(jobs[k], &resp.results_by_transaction.v[r]);
out:
    arena_reset(&a);
}

/* Every job once: by coordinator, each request with distinct ids. */
static void pass(txn_verifier *v, tv_job *list)
{
    int n = 0;
    for (tv_job *j = list; j; j = j->next) {
        j->coord = v->ctx.coordinator_of(v->ctx.arg, j->id, j->idlen);
        j->sent = false;
        if (j->coord < 0) {
            for (int i = 0; i < j->n; i++)
                j->errors[i] = KERR_COORDINATOR_NOT_AVAILABLE;
            j->sent = true;
        }
        n++;
    }
    tv_job **batch = malloc((size_t)n * sizeof *batch + 1);
    for (;;) {
        int nb = 0;
        int32_t to = -1;
        for (tv_job *j = list; j; j = j->next) {
            if (j->sent || (to >= 0 && j->coord != to))
                continue;
            bool dup = false;
            for (int k = 0; k < nb && !dup; k++)
                dup = batch[k]->idlen == j->idlen && !memcmp(batch[k]->id, j->id, j->idlen);
            if (dup)
                continue;                  /* next request (Kafka keeps one per id too) */
            if (!batch) {                  /* out of memory: answer it alone */
                j->sent = true;
                continue;
            }
            to = j->coord;
            batch[nb++] = j;
            j->sent = true;
        }
        if (nb == 0)
            break;
        if (atomic_load(&v->stop))
            fail_all(batch, nb, KERR_NETWORK_EXCEPTION);
        else
            send_to(v, batch, nb, to);
    }
    free(batch);
}

static void *verifier_main(void *arg)
{
    txn_verifier *v = arg;
    pthread_mutex_lock(&v->lock);
    for (;;) {
        while (!v->queued && !atomic_load(&v->stop))
            pthread_cond_wait(&v->cond, &v->lock);
        tv_job *list = v->queued;
        v->queued = NULL;
        bool stop = atomic_load(&v->stop);
        pthread_mutex_unlock(&v->lock);
        if (list)
            pass(v, list);
        while (list) {
            tv_job *j = list;
            list = j->next;
            report(j);
        }
        if (stop)
            return NULL;
        pthread_mutex_lock(&v->lock);
    }
}

txn_verifier *txn_verifier_start(const txn_verify_ctx *ctx, char *err, size_t errlen)
{
    txn_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->ctx = *ctx;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    if (pthread_create(&v->thread, NULL, verifier_main, v) != 0) {
        pthread_mutex_destroy(&v->lock);
        pthread_cond_destroy(&v->cond);
        free(v);
        snprintf(err, errlen, "cannot start the transaction verification thread");
        return NULL;
    }
    pthread_setname_np(v->thread, "samsa-txn-verif");
    return v;
}

void txn_verifier_stop(txn_verifier *v)
{
    if (!v || atomic_load(&v->stop))
        return;
    pthread_mutex_lock(&v->lock);
    atomic_store(&v->stop, true);
    pthread_cond_signal(&v->cond);
    for (int i = 0; i < v->npeers; i++)
        kclient_cut(&v->peers[i]->kc);     /* a call in flight returns now */
    pthread_mutex_unlock(&v->lock);
    pthread_join(v->thread, NULL);
}

void txn_verifier_free(txn_verifier *v)
{
    if (!v)
        return;
    txn_verifier_stop(v);
    /* Submissions after stop are refused; anything queued meanwhile was
     * taken by the thread's last pass. */
    for (int i = 0; i < v->npeers; i++) {
        kclient_close(&v->peers[i]->kc);
        free(v->peers[i]);
    }
    free(v->peers);
    pthread_mutex_destroy(&v->lock);
    pthread_cond_destroy(&v->cond);
    free(v);
}
