/*
 * fetch_session.h - incremental fetch sessions (KIP-227).
 *
 * A session remembers the partitions a consumer fetches and what it was
 * last told about each (high watermark, last stable offset, log start), so
 * a fetch can name only partitions that changed and the response can
 * leave out partitions with nothing new.  Protocol (request session id S,
 * epoch E):
 *   E = -1, S = 0   sessionless full fetch
 *   E = -1, S != 0  close S, then a sessionless full fetch
 *   E = 0           (close S if set) create a session: full fetch, the
 *                   response carries the new id (0 if the cache is full)
 *   E > 0           incremental fetch in session S, which must exist
 *                   (else FETCH_SESSION_ID_NOT_FOUND) and expect E (else
 *                   INVALID_FETCH_SESSION_EPOCH)
 * The cache holds at most max.incremental.fetch.session.cache.slots
 * sessions; when full, a session unused for 2 minutes
 * (min.incremental.fetch.session.eviction.ms in Kafka) is evicted.  One
 * mutex guards the cache; it is held only to copy state in and out.
 */
#ifndef SAMSA_BROKER_FETCH_SESSION_H
#define SAMSA_BROKER_FETCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/uuid.h"

typedef struct fetch_sessions fetch_sessions;

/* One partition as seen by a fetch: what to fetch and the last values the
 * client was told (for incremental responses). */
typedef struct fs_part {
    char *topic;                 /* NUL-terminated; "" when fetched by id */
    kuuid topic_id;
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    int32_t current_leader_epoch;
    int64_t sent_hw, sent_lso, sent_log_start;   /* -1 = never sent */
} fs_part;

typedef struct fs_update {       /* one partition named in a request */
    const char *topic;
    int32_t topic_len;
    kuuid topic_id;
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    int32_t current_leader_epoch;
} fs_update;

typedef struct fs_forget {
    const char *topic;
    int32_t topic_len;
    kuuid topic_id;
    int32_t partition;
} fs_forget;

typedef struct fs_context {
    int16_t error;               /* top-level error, NONE if fine */
    int32_t response_session_id;
    bool incremental;
    fs_part *parts;              /* arena copy, in fetch order */
    int nparts;
} fs_context;

fetch_sessions *fetch_sessions_new(int max_slots);
void fetch_sessions_free(fetch_sessions *fs);

/* Resolve a request into the partitions to fetch. */
void fetch_sessions_begin(fetch_sessions *fs, int32_t session_id, int32_t epoch,
                          const fs_update *upd, int nupd, const fs_forget *fgt, int nfgt,
                          int64_t now_ms, arena *a, fs_context *out);
/* After reading: for an incremental response decide which partitions to
 * include (include[i] = true) and remember what was sent.  For full
 * fetches with a session, just remember. */
void fetch_sessions_end(fetch_sessions *fs, const fs_context *ctx, const int64_t *hw,
                        const int64_t *lso, const int64_t *log_start, const bool *has_data_or_error,
                        bool *include);

#endif
