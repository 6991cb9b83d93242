/*
 * controller_link.c - the controller's channel to the brokers (cluster
 * mode): LeaderAndIsr, UpdateMetadata and StopReplica, encoded on the
 * controller thread and sent by one sender thread per target broker with
 * the broker's own Kafka client (rpc/kclient.h), over the target's first
 * advertised listener, like any inter-broker request.
 *
 * Order: requests to one broker are sent one at a time in the order the
 * controller made them (one queue, one thread, one connection), which is
 * what the broker-side rules need (C2, C4: a later request never overtakes
 * an earlier one).
 *
 * Delivery: a request is retried (every RETRY_MS, reconnecting) until the
 * target answers it, the target stops being a live broker for
 * GONE_GRACE_MS (its queue is dropped: the controller sends it a full
 * LeaderAndIsr and UpdateMetadata when it registers again, C12), or the
 * link stops (a call in flight is cut short: controller_link_free shuts
 * its socket down).  A request the target refuses (a stale epoch) is answered,
 * so it is not retried: the broker's refusal is the fencing (C2, C3).
 */
#include "broker/controller_link.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/metadata.h"
#include "core/arena.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/messages/leader_and_isr.h"
#include "proto/messages/stop_replica.h"
#include "proto/messages/update_metadata.h"
#include "rpc/kclient.h"

#define MOD "ctl-link"
#define RETRY_MS 100
#define GONE_GRACE_MS 3000
#define CALL_TIMEOUT_MS 15000
#define MAX_RESPONSE (16u << 20)
#define MAX_SENDERS 256
/* Versions sent: those of Kafka 3.x brokers in ZooKeeper mode. */
#define LAI_VERSION 6
#define UM_VERSION 7
#define SR_VERSION 3

typedef struct msg {
    int16_t api_key, version;
    uint8_t *body;
    size_t len;
    struct msg *next;
} msg;

typedef struct sender {
    controller_link *link;
    int32_t broker_id;
    pthread_t thread;
    bool started;
    msg *head, *tail;            /* guarded by link->lock */
    kclient kc;                  /* sender thread only (kclient_cut: any) */
} sender;

struct controller_link {
    cluster_md *md;
    char listener[64];
    const kclient_security *sec;   /* the inter-broker listener's (NULL = PLAINTEXT) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    sender *s[MAX_SENDERS];
    int ns;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void free_queue(msg *m)
{
    while (m) {
        msg *n = m->next;
        free(m->body);
        free(m);
        m = n;
    }
}

/* Wait up to ms for a stop (lock held). */
static void nap(controller_link *l, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&l->cond, &l->lock, &ts);
}

/* Where broker `id` listens, from the live-broker list; false when it is
 * not live. */
static bool endpoint_of(controller_link *l, int32_t id, char *host, size_t cap, int *port)
{
    md_brokers *live = md_live_brokers(l->md);
    const md_broker *br = md_brokers_find(live, id);
    /* S-CL5: the peer's inter-broker listener, never another of its endpoints. */
    const md_endpoint *ep = br ? md_broker_endpoint_named(br, l->listener) : NULL;
    if (ep) {
        snprintf(host, cap, "%s", ep->host[0] ? ep->host : "127.0.0.1");
        *port = ep->port;
    }
    md_brokers_unref(live);
    return ep != NULL;
}

/* One exchange; true when the broker answered (whatever it said). */
static bool deliver(sender *s, const msg *m)
{
    controller_link *l = s->link;
    char host[256], err[512];
    int port;
    if (!endpoint_of(l, s->broker_id, host, sizeof host, &port))
        return false;
    if (!kclient_connected(&s->kc) &&
        kclient_connect(&s->kc, host, port, CALL_TIMEOUT_MS, err, sizeof err) != 0) {
        LOG_DBG(MOD, "broker %d: %s", s->broker_id, err);
        return false;
    }
    arena a;
    arena_init(&a, 0);
    union {
        leader_and_isr_resp lai;
        update_metadata_resp um;
        stop_replica_resp sr;
    } resp;
    memset(&resp, 0, sizeof resp);
    int rc = kclient_call_encoded(&s->kc, m->api_key, m->version, m->body, m->len, &a, &resp,
                                  CALL_TIMEOUT_MS, err, sizeof err);
    arena_reset(&a);
    if (rc != 0) {
        if (!kclient_was_cut(&s->kc))
            LOG_INF(MOD, "to broker %d: %s; will retry", s->broker_id, err);
        kclient_close(&s->kc);       /* reconnected at the next attempt */
        return false;
    }
    int16_t top = m->api_key == 4 ? resp.lai.error_code
                : m->api_key == 6 ? resp.um.error_code : resp.sr.error_code;
    if (top)
        LOG_INF(MOD, "broker %d refused %s: %s", s->broker_id,
                m->api_key == 4 ? "LeaderAndIsr" : m->api_key == 6 ? "UpdateMetadata" : "StopReplica",
                kerr_name(top));
    return true;
}

static void *sender_main(void *arg)
{
    sender *s = arg;
    controller_link *l = s->link;
    int64_t gone_since = 0;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!s->head && !l->stop)
            pthread_cond_wait(&l->cond, &l->lock);
        if (l->stop)
            break;
        msg *m = s->head;
        pthread_mutex_unlock(&l->lock);
        bool ok = deliver(s, m);
        char host[8];
        int port;
        bool live = ok || endpoint_of(l, s->broker_id, host, sizeof host, &port);
        pthread_mutex_lock(&l->lock);
        if (ok) {
            gone_since = 0;
            s->head = m->next;
            if (!s->head)
                s->tail = NULL;
            free(m->body);
            free(m);
            pthread_cond_broadcast(&l->cond);      /* controller_link_drain */
            continue;
        }
        int64_t now = mono_ms();
        if (live) {
            gone_since = 0;
        } else if (!gone_since) {
            gone_since = now;
        } else if (now - gone_since >= GONE_GRACE_MS) {
            LOG_INF(MOD, "broker %d is not live: dropping the requests queued for it", s->broker_id);
            free_queue(s->head);
            s->head = s->tail = NULL;
            gone_since = 0;
            pthread_cond_broadcast(&l->cond);
            continue;
        }
        if (!l->stop)
            nap(l, RETRY_MS);
    }
    pthread_mutex_unlock(&l->lock);
    kclient_close(&s->kc);
    return NULL;
}

/* The sender for broker id, started on first use (lock held); NULL when
 * out of room or memory. */
static sender *sender_for(controller_link *l, int32_t id)
{
    for (int i = 0; i < l->ns; i++)
        if (l->s[i]->broker_id == id)
            return l->s[i];
    if (l->ns == MAX_SENDERS)
        return NULL;
    sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->link = l;
    s->broker_id = id;
    kclient_init(&s->kc, "samsa-controller", MAX_RESPONSE);
    kclient_set_security(&s->kc, l->sec);   /* S-CL4 */
    if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
        free(s);
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "samsa-ctl-%d", id);
    pthread_setname_np(s->thread, name);
    s->started = true;
    l->s[l->ns++] = s;
    return s;
}

static void enqueue(controller_link *l, int32_t broker_id, int16_t key, int16_t version,
                    const void *req)
{
    msg *m = calloc(1, sizeof *m);
    if (!m || kclient_encode(key, version, req, &m->body, &m->len) != 0) {
        LOG_ERR(MOD, "cannot encode API %d for broker %d: request dropped", key, broker_id);
        free(m);
        return;
    }
    m->api_key = key;
    m->version = version;
    pthread_mutex_lock(&l->lock);
    sender *s = l->stop ? NULL : sender_for(l, broker_id);
    if (!s) {
        pthread_mutex_unlock(&l->lock);
        LOG_ERR(MOD, "no sender for broker %d: request dropped", broker_id);
        free(m->body);
        free(m);
        return;
    }
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

static void ch_leader_and_isr(void *ctx, int32_t id, const leader_and_isr_req *req)
{
    enqueue(ctx, id, 4, LAI_VERSION, req);
}

static void ch_update_metadata(void *ctx, int32_t id, const update_metadata_req *req)
{
    enqueue(ctx, id, 6, UM_VERSION, req);
}

static void ch_stop_replica(void *ctx, int32_t id, const stop_replica_req *req)
{
    enqueue(ctx, id, 5, SR_VERSION, req);
}

controller_link *controller_link_new(cluster_md *md, const char *listener,
                                     const kclient_security *sec)
{
    controller_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->md = md;
    snprintf(l->listener, sizeof l->listener, "%s", listener ? listener : "");
    l->sec = sec;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    return l;
}

controller_channel controller_link_channel(controller_link *l)
{
    return (controller_channel){ .ctx = l, .leader_and_isr = ch_leader_and_isr,
                                 .update_metadata = ch_update_metadata,
                                 .stop_replica = ch_stop_replica };
}

void controller_link_drain(controller_link *l, int timeout_ms)
{
    if (!l)
        return;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        bool empty = true;
        for (int i = 0; i < l->ns && empty; i++)
            empty = !l->s[i]->head;
        if (empty || l->stop || pthread_cond_timedwait(&l->cond, &l->lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&l->lock);
}

void controller_link_free(controller_link *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_broadcast(&l->cond);
    /* A request to this very broker waits for its admin thread, which may
     * be the one stopping the link: never wait for an answer now. */
    for (int i = 0; i < l->ns; i++)
        kclient_cut(&l->s[i]->kc);
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < l->ns; i++) {
        if (l->s[i]->started)
            pthread_join(l->s[i]->thread, NULL);
        free_queue(l->s[i]->head);
        free(l->s[i]);
    }
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
