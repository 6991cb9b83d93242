/*
 * log_dir.h - per log dir (log.dirs entry) files other than checkpoints:
 *   .lock                 - flock(LOCK_EX|LOCK_NB) held while the broker runs
 *   meta.properties       - Java-properties text: version=1, node.id, cluster.id
 *                           (and directory.id when present)
 *   .kafka_cleanshutdown  - clean-shutdown marker, written last at shutdown
 *                           and removed once the dir is loaded, so a crash
 *                           afterwards is seen as unclean.  Content as Kafka
 *                           3.x writes it: {"version":0,"brokerEpoch":-1}
 * Threads: called by the log manager and the broker at startup/shutdown.
 */
#ifndef SAMSA_STORAGE_LOG_DIR_H
#define SAMSA_STORAGE_LOG_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_DIR_LOCK_FILE ".lock"
#define LOG_DIR_META_FILE "meta.properties"
#define LOG_DIR_CLEAN_SHUTDOWN_FILE ".kafka_cleanshutdown"

/* Lock dir (creating it if missing).  Returns the lock fd, or -1 with a
 * message naming the directory in err (e.g. another broker holds it). */
int log_dir_lock(const char *dir, char *err, size_t errlen);
void log_dir_unlock(int fd);

typedef struct meta_properties {
    int version;                /* 1 */
    int32_t node_id;            /* -1 if absent */
    char cluster_id[64];        /* "" if absent */
    char directory_id[64];      /* "" if absent */
} meta_properties;

/* KERR_NONE; KERR__NOENT if the file is missing; KERR_CORRUPT_MESSAGE if it
 * does not parse; KERR_KAFKA_STORAGE_ERROR on I/O error. */
int meta_properties_read(const char *dir, meta_properties *mp);
/* Atomic replace (temp + fsync + rename + dir fsync). */
int meta_properties_write(const char *dir, const meta_properties *mp);

bool log_dir_clean_shutdown(const char *dir);
int log_dir_write_clean_shutdown(const char *dir);
int log_dir_remove_clean_shutdown(const char *dir);

#endif
