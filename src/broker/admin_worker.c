/* admin_worker.c - the admin thread (see admin.h). */
#include "broker/admin.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"

typedef struct admin_worker {
    pthread_t thread;
    pthread_mutex_t lock;      /* guards head, tail, stop */
    pthread_cond_t cond;
    admin_job *head, *tail;
    bool stop;
} admin_worker;

static void job_done(loop *lp, void *arg)
{
    admin_job *job = arg;
    job->done(job);
    free(job);
}

static void *worker_main(void *arg)
{
    broker *b = arg;
    admin_worker *w = b->admin;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->head && w->stop)
            break;
        admin_job *job = w->head;
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        if (job->work)
            job->work(job);
        if (!job->rq) {                     /* admin_post: no response */
            free(job);
        } else if (loop_post(job->rq->lp, job_done, job) < 0) {
            LOG_ERR("admin", "cannot hand an admin result back; dropping the response");
            free(job);
        }
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int admin_worker_start(broker *b)
{
    admin_worker *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    b->admin = w;
    if (pthread_create(&w->thread, NULL, worker_main, b) != 0)
        return -1;
    pthread_setname_np(w->thread, "samsa-admin");
    return 0;
}

void admin_worker_stop(broker *b)
{
    admin_worker *w = b->admin;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
    b->admin = NULL;
}

/* Append a job; false (job not queued) once the worker is stopping. */
static bool enqueue(admin_worker *w, admin_job *job)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->stop;
    if (ok) {
        if (w->tail)
            w->tail->next = job;
        else
            w->head = job;
        w->tail = job;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void admin_submit(broker *b, kreq *rq, void (*work)(admin_job *), void (*done)(admin_job *),
                  void *arg)
{
    admin_job *job = calloc(1, sizeof *job);
    if (!job) {
        kreq_fail_close(rq, "out of memory queueing admin work");
        return;
    }
    *job = (admin_job){ .rq = rq, .work = work, .done = done, .arg = arg };
    if (!enqueue(b->admin, job)) {
        free(job);
        kreq_fail_close(rq, "shutting down");
    }
}

int admin_post(broker *b, void (*work)(admin_job *), void *arg)
{
    admin_worker *w = b->admin;
    admin_job *job = w ? calloc(1, sizeof *job) : NULL;
    if (!job)
        return -1;
    *job = (admin_job){ .work = work, .arg = arg };
    if (!enqueue(w, job)) {
        free(job);
        return -1;
    }
    return 0;
}

typedef struct sync_call {
    broker *b;
    void (*fn)(broker *b, void *arg);
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} sync_call;

static void sync_job(admin_job *job)
{
    sync_call *sc = job->arg;
    sc->fn(sc->b, sc->arg);
    pthread_mutex_lock(&sc->lock);
    sc->done = true;
    pthread_cond_signal(&sc->cond);
    pthread_mutex_unlock(&sc->lock);
}

void admin_run(broker *b, void (*fn)(broker *b, void *arg), void *arg)
{
    sync_call sc = { .b = b, .fn = fn, .arg = arg };
    pthread_mutex_init(&sc.lock, NULL);
    pthread_cond_init(&sc.cond, NULL);
    if (admin_post(b, sync_job, &sc) < 0) {
        fn(b, arg);                 /* no admin thread (any more): nothing to race with */
    } else {
        pthread_mutex_lock(&sc.lock);
        while (!sc.done)
            pthread_cond_wait(&sc.cond, &sc.lock);
        pthread_mutex_unlock(&sc.lock);
    }
    pthread_mutex_destroy(&sc.lock);
    pthread_cond_destroy(&sc.cond);
}
