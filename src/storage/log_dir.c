/* log_dir.c - see log_dir.h. */
#include "storage/log_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "os/sio.h"

int log_dir_lock(const char *dir, char *err, size_t errlen)
{
    char path[4200];
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create log directory %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, LOG_DIR_LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "Failed to acquire lock on file .lock in %s. A Kafka instance "
                     "in another process or thread is using this directory.", dir);
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return -1;
    }
    return fd;
}

void log_dir_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static void trim(char **s, char *end)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    while (end > *s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = 0;
}

int meta_properties_read(const char *dir, meta_properties *mp)
{
    char path[4200], *buf;
    size_t len;
    memset(mp, 0, sizeof *mp);
    mp->node_id = -1;
    mp->version = -1;
    snprintf(path, sizeof path, "%s/%s", dir, LOG_DIR_META_FILE);
    if (sio_read_file(path, 1 << 20, &buf, &len) < 0)
        return errno == ENOENT ? KERR__NOENT : KERR_KAFKA_STORAGE_ERROR;
    int rc = KERR_NONE;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *k = line;
        trim(&k, k + strlen(k));
        if (!*k || *k == '#' || *k == '!')
            continue;
        char *eq = strchr(k, '=');
        if (!eq) {
            rc = KERR_CORRUPT_MESSAGE;
            break;
        }
        *eq = 0;
        char *v = eq + 1;
        trim(&k, eq);
        trim(&v, v + strlen(v));
        char *e;
        if (!strcmp(k, "version")) {
            long x = strtol(v, &e, 10);
            if (*e || x < 0 || x > 100)
                rc = KERR_CORRUPT_MESSAGE;
            mp->version = (int)x;
        } else if (!strcmp(k, "node.id") || !strcmp(k, "broker.id")) {
            long x = strtol(v, &e, 10);
            if (*e || x < -1 || x > INT32_MAX)
                rc = KERR_CORRUPT_MESSAGE;
            mp->node_id = (int32_t)x;
        } else if (!strcmp(k, "cluster.id")) {
            snprintf(mp->cluster_id, sizeof mp->cluster_id, "%s", v);
        } else if (!strcmp(k, "directory.id")) {
            snprintf(mp->directory_id, sizeof mp->directory_id, "%s", v);
        }
    }
    free(buf);
    if (rc == KERR_NONE && mp->version < 0)
        rc = KERR_CORRUPT_MESSAGE;
    return rc;
}

int meta_properties_write(const char *dir, const meta_properties *mp)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "#\n#Written by samsa\nversion=%d\nnode.id=%" PRId32 "\n",
                     mp->version, mp->node_id);
    if (mp->cluster_id[0])
        n += snprintf(buf + n, sizeof buf - (size_t)n, "cluster.id=%s\n", mp->cluster_id);
    if (mp->directory_id[0])
        n += snprintf(buf + n, sizeof buf - (size_t)n, "directory.id=%s\n", mp->directory_id);
    return sio_write_file_atomic(dir, LOG_DIR_META_FILE, buf, (size_t)n, 1) < 0
               ? KERR_KAFKA_STORAGE_ERROR : KERR_NONE;
}

bool log_dir_clean_shutdown(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, LOG_DIR_CLEAN_SHUTDOWN_FILE);
    return access(path, F_OK) == 0;
}

int log_dir_write_clean_shutdown(const char *dir)
{
    static const char body[] = "{\"version\":0,\"brokerEpoch\":-1}";
    return sio_write_file_atomic(dir, LOG_DIR_CLEAN_SHUTDOWN_FILE, body, sizeof body - 1, 1);
}

int log_dir_remove_clean_shutdown(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, LOG_DIR_CLEAN_SHUTDOWN_FILE);
    if (unlink(path) < 0 && errno != ENOENT)
        return -1;
    return sio_fsync_dir(dir);
}
