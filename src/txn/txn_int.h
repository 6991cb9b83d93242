/*
 * txn_int.h - state shared by the transaction coordinator's files
 * (txn_coordinator.c: thread, writes, timers; txn_load.c: ownership and
 * loading; txn_ops.c: the producer APIs and the state machine;
 * txn_markers.c: the marker sender thread; txn_admin.c: Describe/List).
 * Everything here belongs to the coordinator thread unless it says so.
 */
#ifndef SAMSA_TXN_TXN_INT_H
#define SAMSA_TXN_TXN_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/topic.h"
#include "cluster/topic_registry.h"
#include "core/strmap.h"
#include "net/loop.h"
#include "server/delayed.h"
#include "server/request.h"
#include "txn/txn_coordinator.h"
#include "txn/txn_records.h"

/* Kafka's TransactionState ids (the status byte of TransactionLogValue). */
typedef enum txn_state {
    TXN_EMPTY = 0,
    TXN_ONGOING = 1,
    TXN_PREPARE_COMMIT = 2,
    TXN_PREPARE_ABORT = 3,
    TXN_COMPLETE_COMMIT = 4,
    TXN_COMPLETE_ABORT = 5,
    TXN_DEAD = 6,
    TXN_PREPARE_EPOCH_FENCE = 7,
} txn_state;
#define TXN_NSTATES 8

const char *txn_state_name(txn_state s);
int txn_state_by_name(kstr name);              /* -1 unknown */

typedef struct txn_tp {
    char *topic;
    int32_t partition;
} txn_tp;

/* One version of a transactional id's metadata: what is current, or what a
 * write in flight will make current (Kafka's TxnTransitMetadata). */
typedef struct txn_image {
    int64_t producer_id, last_producer_id;
    int16_t epoch, last_epoch;
    int32_t timeout_ms;
    txn_state state;
    txn_tp *tps;                   /* malloc'd; ntps entries */
    int ntps;
    int64_t start_ms, update_ms;
} txn_image;

typedef struct txn_meta {
    char *id;
    int32_t part;                  /* its __transaction_state partition */
    txn_image cur;
    /* TC3: a state change being written (NULL: none); every request for
     * this id meanwhile is CONCURRENT_TRANSACTIONS. */
    txn_image *pending;
    bool sending;                  /* markers of the Prepare* state are out */
} txn_meta;

typedef enum tpart_state {
    TPART_UNOWNED, TPART_LOADING, TPART_OWNED,
} tpart_state;

typedef struct txn_part {
    tpart_state state;
    int32_t epoch;                 /* newest leader epoch seen (TC8); the coordinator epoch */
} txn_part;

/* Continuation of a write: err NONE once replicated (the image is then
 * current), else the error to answer (the metadata is unchanged). */
typedef void (*txn_write_done)(txn_coordinator *co, txn_meta *m, int16_t err, void *arg);

typedef struct txn_wait {
    int32_t part;
    int64_t need;                  /* the HW must reach this */
    int32_t epoch;                 /* leader epoch of the append */
    int64_t deadline_us;
    txn_meta *m;
    txn_write_done done;
    void *arg;
} txn_wait;

struct txn_markers;

struct txn_coordinator {
    txn_ctx ctx;
    loop *lp;
    pthread_t thread;
    bool running;
    atomic_bool stopped;

    strmap txns;                   /* transactional id -> txn_meta* */
    topic *tt;                     /* __transaction_state, referenced; NULL until it exists */
    int32_t nparts;
    txn_part *parts;
    int nloading;
    delayed_op watcher;            /* hears HW moves and leadership changes of tt */

    txn_wait *waits;
    int nwaits, capwaits;
    ktimer wait_timer, abort_timer, expire_timer;

    struct txn_markers *mk;        /* the marker sender */

    /* Settings, read at start. */
    int32_t max_timeout_ms;        /* transaction.max.timeout.ms */
    int64_t id_expiration_ms;      /* transactional.id.expiration.ms */
    int64_t abort_interval_ms;     /* transaction.abort.timed.out.transaction.cleanup.interval.ms */
    int64_t expire_interval_ms;    /* transaction.remove.expired.transaction.cleanup.interval.ms */
    int32_t write_timeout_ms;      /* how long a write waits for the ISR */
};

/* txn_coordinator.c */
void txn_respond(kreq *rq, const void *resp);
int64_t txn_now_ms(void);
txn_meta *txn_get(txn_coordinator *co, kstr id);
txn_meta *txn_create(txn_coordinator *co, kstr id, int32_t part);
void txn_meta_free(txn_meta *m);
void txn_image_free(txn_image *im);
int txn_image_copy(txn_image *dst, const txn_image *src);   /* -1 out of memory */
bool txn_image_has(const txn_image *im, const char *tname, int32_t part);
/* Write `next` (taken over: freed by the write) as m's pending image; done
 * runs once it is replicated or failed (maybe before this returns). */
void txn_write(txn_coordinator *co, txn_meta *m, txn_image *next, txn_write_done done, void *arg);
/* Write a tombstone for m (expiration); m is removed once written. */
void txn_write_tombstone(txn_coordinator *co, txn_meta *m);
void txn_fail_waits(txn_coordinator *co, int32_t part, int16_t err);
/* The record of one image (key and value malloc'd). */
int txn_record(const char *id, const txn_image *im, uint8_t **key, int32_t *klen, uint8_t **val,
               int32_t *vlen);

/* txn_load.c */
int16_t txn_check_owner(txn_coordinator *co, kstr id, int32_t *part_out);
bool txn_owns(const txn_coordinator *co, int32_t part);
void txn_load_all(txn_coordinator *co);
void txn_topic_attach(txn_coordinator *co, topic *t, bool load_led);
bool txn_load_step(txn_coordinator *co);
void txn_drop_partition(txn_coordinator *co, int32_t part, int16_t err);

/* txn_ops.c */
/* Resume a Prepare* transaction after loading (send its markers again). */
void txn_resume(txn_coordinator *co, txn_meta *m);
void txn_abort_timed_out(txn_coordinator *co);
void txn_expire_ids(txn_coordinator *co);

/* txn_markers.c: the sender thread.  A job: the markers of one
 * transaction; its result comes back on the coordinator thread through
 * txn_markers_done (ok: every partition has its marker or is gone). */
struct txn_markers *txn_markers_start(txn_coordinator *co, char *err, size_t errlen);
/* Stop the thread (jobs dropped; later sends fail), keep the struct for
 * the coordinator thread until it is joined; then txn_markers_free. */
void txn_markers_stop(struct txn_markers *mk);
void txn_markers_free(struct txn_markers *mk);
int txn_markers_send(struct txn_markers *mk, const char *id, int32_t part, int32_t coord_epoch,
                     int64_t pid, int16_t epoch, bool commit, const txn_tp *tps, int ntps);
void txn_markers_done(txn_coordinator *co, const char *id, int32_t part, int32_t coord_epoch,
                      int16_t err);

#endif
