/*
 * fuzz_recovery.c - loading a partition dir from untrusted segment bytes.
 *
 * Input (all lengths big-endian, each section clamped to what is left):
 *   [0]      flags: bit 0 split the log into two segments at `split`;
 *                   bit 1 the index files belong to the first segment
 *                         (else to the last, the active one);
 *                   bit 2 index.interval.bytes=64 (else 4096);
 *                   bit 3 read one batch per plog_read (max_bytes=1)
 *   [1..2]   length of the .index bytes
 *   [3..4]   length of the .timeindex bytes
 *   [5..6]   length of the leader-epoch-checkpoint bytes
 *   [7..8]   length of the producer snapshot bytes (00000000000000000000.snapshot)
 *   [9..12]  split: position in the log bytes where the second segment
 *            starts; its base offset is the baseOffset field found there
 *   [13..]   index, timeindex, epoch file, snapshot, then the .log bytes.
 *
 * The files are written into a fresh partition dir below a private temp dir
 * ($TMPDIR, else /dev/shm, else /tmp), which is removed after every input.
 *
 * Phase 1  plog_load with clean_shutdown=false (full recovery), then the
 *          STRICT checks below; plog_close.
 * Phase 2  plog_load of the recovered dir with clean_shutdown=true: STRICT
 *          checks again, and the log must be the one phase 1 saw (log start,
 *          LEO, HW and every batch's offsets and CRC).  plog_close.
 * Phase 3  the raw input written again and loaded with clean_shutdown=true
 *          (the load trusts the files, checking only the active segment's
 *          tail): only memory safety, termination and that every read range
 *          lies inside its file are checked.
 *
 * STRICT: load succeeds; every .log file is nothing but whole batches that
 * parse (magic 2), have a valid CRC and strictly increasing offsets, each
 * >= its file's base offset; log start <= HW = LEO; reading from the log
 * start with plog_read up to the HW never fails, serves only whole,
 * CRC-valid batches with increasing offsets below the LEO, and serves
 * exactly the batches the files hold (none skipped, none invented);
 * ListOffsets earliest = log start, latest = HW, and max-timestamp /
 * by-timestamp answers are -1 or inside [log start, HW).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/fileref.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define HDR 13

static char g_base[256];          /* our temp dir */
static char g_dir[320];           /* <base>/t-0 */

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[1024];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void cleanup(void)
{
    if (!g_base[0])
        return;
    rm_dir_files(g_dir);
    rmdir(g_dir);
    rmdir(g_base);
    g_base[0] = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (!tmp || !*tmp)
        tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                  ? "/dev/shm" : "/tmp";
    snprintf(g_base, sizeof g_base, "%s/samsa-fuzz-recovery.XXXXXX", tmp);
    FUZZ_ASSERT(mkdtemp(g_base), "mkdtemp %s: %s", g_base, strerror(errno));
    snprintf(g_dir, sizeof g_dir, "%s/t-0", g_base);
    atexit(cleanup);
    return 0;
}

static void write_file(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, p + off, n - off);
        FUZZ_ASSERT(k > 0, "write %s: %s", path, strerror(errno));
        off += (size_t)k;
    }
    close(fd);
}

typedef struct input {
    uint8_t flags;
    const uint8_t *idx, *tidx, *epoch, *snap, *log;
    size_t idx_n, tidx_n, epoch_n, snap_n, log_n;
    size_t split;                 /* 0 = one segment */
    int64_t base2;
} input;

static const uint8_t *take(const uint8_t **p, size_t *left, size_t want, size_t *got)
{
    *got = want < *left ? want : *left;
    const uint8_t *r = *p;
    *p += *got;
    *left -= *got;
    return r;
}

static void parse_input(const uint8_t *data, size_t size, input *in)
{
    memset(in, 0, sizeof *in);
    in->flags = data[0];
    const uint8_t *p = data + HDR;
    size_t left = size - HDR;
    in->idx = take(&p, &left, fuzz_be16(data + 1), &in->idx_n);
    in->tidx = take(&p, &left, fuzz_be16(data + 3), &in->tidx_n);
    in->epoch = take(&p, &left, fuzz_be16(data + 5), &in->epoch_n);
    in->snap = take(&p, &left, fuzz_be16(data + 7), &in->snap_n);
    in->log = p;
    in->log_n = left;
    size_t split = fuzz_be32(data + 9);
    if ((in->flags & 1) && split > 0 && split + 8 <= in->log_n) {
        int64_t b = (int64_t)((uint64_t)fuzz_be32(in->log + split) << 32 | fuzz_be32(in->log + split + 4));
        if (b > 0 && b < ((int64_t)1 << 53)) {
            in->split = split;
            in->base2 = b;
        }
    }
}

static void write_input(const input *in)
{
    rm_dir_files(g_dir);
    FUZZ_ASSERT(mkdir(g_dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", g_dir, strerror(errno));
    char name[64];
    int64_t idx_base = 0;
    if (in->split) {
        write_file("00000000000000000000.log", in->log, in->split);
        snprintf(name, sizeof name, "%020" PRId64 ".log", in->base2);
        write_file(name, in->log + in->split, in->log_n - in->split);
        if (!(in->flags & 2))
            idx_base = in->base2;
    } else {
        write_file("00000000000000000000.log", in->log, in->log_n);
    }
    if (in->idx_n) {
        snprintf(name, sizeof name, "%020" PRId64 ".index", idx_base);
        write_file(name, in->idx, in->idx_n);
    }
    if (in->tidx_n) {
        snprintf(name, sizeof name, "%020" PRId64 ".timeindex", idx_base);
        write_file(name, in->tidx, in->tidx_n);
    }
    if (in->epoch_n)
        write_file("leader-epoch-checkpoint", in->epoch, in->epoch_n);
    if (in->snap_n)
        write_file("00000000000000000000.snapshot", in->snap, in->snap_n);
}

/* What a read-through saw, to compare two loads of the same log. */
typedef struct summary {
    int64_t ls, leo, hw;
    int batches;
    uint64_t hash;                /* over (base, last, crc) of every batch */
} summary;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static void read_through(plog *l, bool strict, int32_t max_bytes, summary *sm)
{
    memset(sm, 0, sizeof *sm);
    sm->ls = plog_log_start_offset(l);
    sm->leo = plog_log_end_offset(l);
    sm->hw = plog_high_watermark(l);
    if (strict)
        FUZZ_ASSERT(sm->ls <= sm->hw && sm->hw == sm->leo, "log start %" PRId64 ", HW %" PRId64 ", LEO %" PRId64,
                    sm->ls, sm->hw, sm->leo);
    int64_t off = sm->ls, prev_last = INT64_MIN;
    for (int step = 0; step < 100000 && off < sm->hw; step++) {
        plog_read_result r;
        int e = plog_read(l, off, max_bytes, true, 0, &r);
        if (strict)
            FUZZ_ASSERT(e == KERR_NONE, "reading offset %" PRId64 " below the HW %" PRId64 ": error %d", off,
                        sm->hw, e);
        /* No data below the HW is fine only if nothing is stored beyond:
         * the caller compares what was served with the files. */
        if (e != KERR_NONE || !r.file || r.len <= 0) {
            if (r.file)
                fileref_unref(r.file);
            break;
        }
        struct stat st;
        FUZZ_ASSERT(fstat(r.file->fd, &st) == 0, "fstat");
        FUZZ_ASSERT(r.file_pos >= 0 && r.file_pos + r.len <= st.st_size,
                    "read range [%" PRId64 ", +%d) outside the %" PRId64 "-byte file", r.file_pos, r.len,
                    (int64_t)st.st_size);
        uint8_t *buf = malloc((size_t)r.len);
        FUZZ_ASSERT(buf, "malloc");
        FUZZ_ASSERT(pread(r.file->fd, buf, (size_t)r.len, r.file_pos) == r.len, "pread");
        fileref_unref(r.file);
        size_t q = 0;
        int whole = 0;
        bool bad = false;
        while (q < (size_t)r.len) {
            rb_header h;
            int pe = rb_parse_header(buf + q, (size_t)r.len - q, &h);
            if (pe == KERR__AGAIN || (pe == KERR_NONE && rb_size(&h) > (size_t)r.len - q))
                break;                        /* a batch cut by max_bytes */
            if (strict) {
                FUZZ_ASSERT(pe == KERR_NONE, "served batch at offset %" PRId64 " does not parse (%d)", off, pe);
                FUZZ_ASSERT(rb_crc_ok(buf + q, &h), "served batch %" PRId64 " has a bad CRC", h.base_offset);
                FUZZ_ASSERT(h.last_offset_delta >= 0 && h.base_offset > prev_last &&
                            (whole > 0 || rb_last_offset(&h) >= off),
                            "batch [%" PRId64 ", %" PRId64 "] after %" PRId64 " (reading %" PRId64 ")",
                            h.base_offset, rb_last_offset(&h), prev_last, off);
                FUZZ_ASSERT(rb_last_offset(&h) < sm->leo, "batch ends at %" PRId64 ", LEO %" PRId64,
                            rb_last_offset(&h), sm->leo);
            }
            if (pe != KERR_NONE || h.last_offset_delta < 0 || rb_last_offset(&h) < off) {
                bad = true;
                break;
            }
            prev_last = rb_last_offset(&h);
            sm->batches++;
            sm->hash = mix(mix(mix(sm->hash, (uint64_t)h.base_offset), (uint64_t)prev_last), h.crc);
            whole++;
            q += rb_size(&h);
        }
        free(buf);
        if (strict)
            FUZZ_ASSERT(whole > 0, "a read at %" PRId64 " served no whole batch", off);
        if (bad || whole == 0 || prev_last < off)
            break;
        off = prev_last + 1;
    }

    /* ListOffsets. */
    int64_t o, ts;
    int32_t ep;
    static const int64_t stamps[] = { PLOG_TS_EARLIEST, PLOG_TS_LATEST, PLOG_TS_MAX_TIMESTAMP,
                                      PLOG_TS_EARLIEST_LOCAL, 0, FUZZ_NOW_MS };
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        int e = plog_list_offset(l, stamps[i], 0, &o, &ts, &ep);
        if (!strict)
            continue;
        if (stamps[i] == PLOG_TS_EARLIEST || stamps[i] == PLOG_TS_EARLIEST_LOCAL) {
            FUZZ_ASSERT(e == KERR_NONE && o == sm->ls, "earliest = %" PRId64 ", log start %" PRId64, o, sm->ls);
        } else if (stamps[i] == PLOG_TS_LATEST) {
            FUZZ_ASSERT(e == KERR_NONE && o == sm->hw, "latest = %" PRId64 ", HW %" PRId64, o, sm->hw);
        } else {
            FUZZ_ASSERT(e == KERR_NONE || e == KERR_CORRUPT_MESSAGE, "ListOffsets(%" PRId64 ") error %d",
                        stamps[i], e);
            FUZZ_ASSERT(e != KERR_NONE || o == -1 || (o >= sm->ls && o < sm->hw),
                        "ListOffsets(%" PRId64 ") = %" PRId64 " outside [%" PRId64 ", %" PRId64 ")", stamps[i], o,
                        sm->ls, sm->hw);
        }
    }
    int64_t end;
    plog_epoch_end_offset(l, 0, -1, &ep, &end);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every batch in the dir's .log files, in file-name (= base offset) order:
 * after recovery each file must be nothing but whole, valid batches with
 * increasing offsets, all >= the file's base offset. */
static void stored_batches(summary *sm)
{
    memset(sm, 0, sizeof *sm);
    DIR *d = opendir(g_dir);
    FUZZ_ASSERT(d, "opendir");
    char *names[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len == 24 && !strcmp(de->d_name + 20, ".log")) {
            FUZZ_ASSERT(n < 64, "too many segments");
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    int64_t prev_last = INT64_MIN;
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
        int64_t base = strtoll(names[i], NULL, 10);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        FUZZ_ASSERT(fd >= 0, "open %s", path);
        struct stat st;
        FUZZ_ASSERT(fstat(fd, &st) == 0, "fstat");
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        FUZZ_ASSERT(buf && pread(fd, buf, (size_t)st.st_size, 0) == st.st_size, "read %s", path);
        close(fd);
        size_t q = 0, size = (size_t)st.st_size;
        while (q < size) {
            rb_header h;
            int pe = rb_parse_header(buf + q, size - q, &h);
            FUZZ_ASSERT(pe == KERR_NONE && rb_size(&h) <= size - q && rb_crc_ok(buf + q, &h),
                        "%s: no valid batch at position %zu after recovery (%d)", names[i], q, pe);
            FUZZ_ASSERT(h.base_offset >= base && h.base_offset > prev_last && h.last_offset_delta >= 0,
                        "%s: batch [%" PRId64 ", %" PRId64 "] after %" PRId64, names[i], h.base_offset,
                        rb_last_offset(&h), prev_last);
            prev_last = rb_last_offset(&h);
            sm->batches++;
            sm->hash = mix(mix(mix(sm->hash, (uint64_t)h.base_offset), (uint64_t)prev_last), h.crc);
            q += rb_size(&h);
        }
        free(buf);
        free(names[i]);
    }
}

static void same_as_stored(const summary *served, const char *phase)
{
    summary st;
    stored_batches(&st);
    FUZZ_ASSERT(served->batches == st.batches && served->hash == st.hash,
                "%s: reading from the log start served %d batches, the files hold %d (or other ones)", phase,
                served->batches, st.batches);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    input in;
    parse_input(data, size, &in);
    log_config cfg;
    log_config_defaults(&cfg);
    cfg.index_interval_bytes = (in.flags & 4) ? 64 : 4096;
    int32_t max_bytes = (in.flags & 8) ? 1 : (1 << 20);
    plog_load_params unclean = { .clean_shutdown = false, .recovery_point = -1,
                                 .log_start_offset = -1, .now_ms = FUZZ_NOW_MS };
    plog_load_params clean = unclean;
    clean.clean_shutdown = true;
    plog *l = NULL;
    summary s1, s2, s3;

    /* Phase 1: recovery. */
    write_input(&in);
    int rc = plog_load(g_dir, "t", 0, &cfg, &unclean, &l);
    FUZZ_ASSERT(rc == KERR_NONE && l, "recovery failed to load the log (%d)", rc);
    read_through(l, true, max_bytes, &s1);
    same_as_stored(&s1, "after recovery");
    FUZZ_ASSERT(plog_close(l) == KERR_NONE, "close after recovery failed");
    plog_unref(l);

    /* Phase 2: clean load of what recovery left. */
    rc = plog_load(g_dir, "t", 0, &cfg, &clean, &l);
    FUZZ_ASSERT(rc == KERR_NONE && l, "clean load after recovery failed (%d)", rc);
    read_through(l, true, max_bytes, &s2);
    same_as_stored(&s2, "after a clean restart");
    FUZZ_ASSERT(s1.ls == s2.ls && s1.leo == s2.leo && s1.hw == s2.hw && s1.batches == s2.batches &&
                s1.hash == s2.hash,
                "the recovered log changed across a clean restart: start %" PRId64 "/%" PRId64 ", LEO %" PRId64
                "/%" PRId64 ", %d/%d batches", s1.ls, s2.ls, s1.leo, s2.leo, s1.batches, s2.batches);
    FUZZ_ASSERT(plog_close(l) == KERR_NONE, "close failed");
    plog_unref(l);

    /* Phase 3: the raw files, trusted as after a clean shutdown. */
    write_input(&in);
    rc = plog_load(g_dir, "t", 0, &cfg, &clean, &l);
    if (rc == KERR_NONE && l) {
        read_through(l, false, max_bytes, &s3);
        plog_close(l);
        plog_unref(l);
    }
    rm_dir_files(g_dir);
    return 0;
}
