/*
 * cli.h - shared types of the `samsa` command-line tool (src/cli/).
 *
 * The tool is a tree of commands (cli_cmd_t). Every command declares its
 * options in a table (cli_opt_t); the same tables drive parsing, `--help`
 * and the reference in docs/cli.md, so a flag cannot exist without help.
 *
 *   main.c          top-level table, global options, dispatch, `samsa --help`
 *   args.c          option parser, help renderer, value parsers (sizes,
 *                   durations, times, KEY=VALUE)
 *   client.c        librdkafka handles: configuration, log silencing, the
 *                   "can we reach the cluster" probe, admin request helper,
 *                   metadata and offset helpers, error -> exit code mapping
 *   out.c           aligned tables, a streaming JSON writer, number format
 *   meta.c          cluster metadata snapshot (leader epochs, racks, offline
 *                   replicas) from our own Metadata v7 request (meta.h)
 *   meta_wire.c     its request encoder and response decoder (pure)
 *   cmd_cluster.c   samsa cluster info
 *   cmd_cluster_reassign.c  samsa cluster reassign (plan, execute, verify, cancel)
 *   reassign_plan.c, reassign_wire.c  its planner, JSON and wire codecs (reassign.h)
 *   wire.h          the CLI's own wire primitives (meta_wire.c, reassign_wire.c)
 *   cmd_topic.c     samsa topic create|list|describe|delete|alter-config|add-partitions
 *   cmd_produce.c   samsa produce
 *   cmd_consume.c   samsa consume
 *   cmd_group.c     samsa group list|describe|reset-offsets|delete
 *   cmd_txn.c       samsa txn list|describe (txn_wire.c: its codecs, txn.h)
 *   cmd_user.c      samsa user create|delete|list (entity_wire.c: its codecs, entity.h)
 *   cmd_quota.c     samsa quota set|list|delete (entity_wire.c)
 *   cmd_acl.c       samsa acl create|list|delete (kafka-acls vocabulary)
 *   perf.c          samsa perf: options, topic setup, producer threads, reports
 *   perf_consume.c  samsa perf consume and perf e2e
 *   perf_hist.c     latency histogram (perf.h: what the perf files share)
 *
 * Threads: everything runs on the main thread except `perf` (one thread per
 * producer instance, one consumer thread for e2e) and librdkafka's own
 * threads, which only call back into cli_log_cb (stateless unless -v).
 *
 * Memory: option values point into argv (never freed); tables and JSON
 * writers own their buffers (_new/_free, _init/_free).
 */
#ifndef SAMSA_CLI_H
#define SAMSA_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "cli/meta.h"

#define SAMSA_CLI_VERSION "0.1.0"

/* Exit codes: documented in `samsa --help` and docs/cli.md. */
enum {
    CLI_OK = 0,          /* success */
    CLI_EFAIL = 1,       /* the operation failed: Kafka error, delivery failure, I/O */
    CLI_EUSAGE = 2,      /* bad command line: unknown command/option, bad value */
    CLI_EUNREACH = 3,    /* no broker of the cluster could be reached in time */
    CLI_ENOTFOUND = 4,   /* the topic or group named does not exist */
    CLI_EINTR = 130,     /* interrupted (Ctrl-C) before the work was finished */
};

/* ---- options -------------------------------------------------------------- */

typedef enum {
    OPT_FLAG,   /* int *: set to 1 */
    OPT_COUNT,  /* int *: incremented (-vv) */
    OPT_STR,    /* const char **: last one wins */
    OPT_INT,    /* int64_t *: base-10 integer, last one wins */
    OPT_LIST,   /* cli_list_t *: repeatable, every value kept in order */
} cli_opt_kind_t;

typedef struct cli_list {
    const char **v;
    size_t n, cap;
} cli_list_t;

typedef struct cli_opt {
    const char *lname;    /* long name without "--" */
    char sname;           /* short letter or 0 */
    cli_opt_kind_t kind;
    const char *metavar;  /* value placeholder in help ("N"); NULL for flags */
    const char *help;     /* one line */
    void *dst;
} cli_opt_t;

typedef struct cli_cmd cli_cmd_t;
typedef int (*cli_run_fn)(int argc, char **argv);

struct cli_cmd {
    const char *name;
    const char *args;         /* positional synopsis ("NAME..."), NULL if none */
    const char *summary;      /* one line, lower case, no period */
    const char *description;  /* paragraphs for --help, may be NULL */
    const char *examples;     /* newline-separated command lines, may be NULL */
    const cli_opt_t *opts;    /* terminated by an entry with lname == NULL */
    int min_args, max_args;   /* positional count; max -1 = unlimited */
    cli_run_fn run;           /* leaf commands */
    const cli_cmd_t *const *subs; /* command groups: NULL-terminated */
};

/* Global options (main.c), valid before or after the command words. */
typedef struct cli_global {
    const char *brokers;     /* -b, else $SAMSA_BROKERS, else localhost:9092 */
    cli_list_t props;        /* -X KEY=VALUE */
    int verbose;             /* -v: show librdkafka logs */
    int json;                /* --json */
    int quiet;               /* -q: no progress or summary lines on stderr */
    double timeout_s;        /* --timeout: per request / connection deadline */
    const char *cmdpath;     /* "samsa topic create": for messages */
    const char *help_hint;   /* "samsa topic create --help" */
} cli_global_t;

extern cli_global_t G;
extern const cli_cmd_t cli_root;
extern const cli_opt_t cli_global_opts[];

/* The command groups (one file each). */
extern const cli_cmd_t cli_cmd_cluster, cli_cmd_topic, cli_cmd_produce,
    cli_cmd_consume, cli_cmd_group, cli_cmd_txn, cli_cmd_perf, cli_cmd_user, cli_cmd_quota,
    cli_cmd_acl;
/* `samsa cluster` subcommands in files of their own. */
extern const cli_cmd_t cli_cmd_cluster_reassign;
extern const cli_cmd_t cli_cmd_cluster_elect, cli_cmd_cluster_drain, cli_cmd_cluster_undrain;

/* ---- args.c ----------------------------------------------------------------- */

void cli_list_push(cli_list_t *l, const char *s);
void cli_list_free(cli_list_t *l);

/* Walk argv down the command tree, then parse the leaf's options and the
 * global options. Returns the exit code of the command (or of the usage
 * error, or 0 after printing help). */
int cli_dispatch(int argc, char **argv);
void cli_print_help(FILE *f, const cli_cmd_t *const *path, int depth);
/* main.c: set by -h/--help and --version; defaults after parsing. */
extern int cli_opt_help, cli_opt_version;
int cli_globals_finish(void);
void cli_print_version(void);

/* Usage error: prints "samsa: <msg> (see 'samsa x --help')", returns 2. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error: prints "samsa: error: <msg>", returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Value parsers. Each returns 0 or -1 with a reason in err. */
int cli_parse_int(const char *s, int64_t *out);
int cli_parse_size(const char *s, int64_t *out);              /* 100, 16k, 1m */
int cli_parse_duration_ms(const char *s, int64_t *out);       /* 30, 30s, 500ms, 5m, 1h, 1d */
int cli_parse_time_ms(const char *s, int64_t *out, char *err, size_t errlen);
int cli_split_kv(const char *s, char **key, const char **val); /* key malloc'd */
int cli_check_compression(const char *s);
int cli_check_acks(const char *s);

/* ---- client.c --------------------------------------------------------------- */

/* Per-handle state (the rd_kafka_t opaque). */
typedef struct cli_client {
    rd_kafka_t *rk;
    rd_kafka_resp_err_t last_err;
    char last_errstr[512];
    int all_down;            /* saw RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN */
    void *user;              /* command data (delivery callbacks) */
} cli_client_t;

/* Configuration with our defaults, then cmd_defaults (NULL-terminated
 * key/value pairs), then every -X. Exits with 2 on a bad -X. */
rd_kafka_conf_t *cli_conf_new(const char *const *cmd_defaults);
/* Set one property; on failure prints a usage error and returns -1. */
int cli_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val);
/* Create the handle (takes conf). NULL after printing an error. */
cli_client_t *cli_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, void *user);
void cli_client_free(cli_client_t *c);
/* Wait until a broker answers (Metadata), at most --timeout; gives up after
 * ~2s once every broker refused. Prints the error and returns 3 on failure. */
int cli_connect(cli_client_t *c);
/* Producer-type handle with default config, connected. NULL: *rc is set. */
cli_client_t *cli_admin_open(int *rc);

/* Run one admin request: `submit` was called with q; waits for the result
 * event of type `evtype`. Returns the event (caller destroys) or NULL after
 * printing an error (*rc set). */
rd_kafka_event_t *cli_admin_wait(cli_client_t *c, rd_kafka_queue_t *q, int evtype, int *rc);
rd_kafka_AdminOptions_t *cli_admin_options(cli_client_t *c, rd_kafka_admin_op_t op);

/* Metadata of one topic. Returns 0 with *mdp set, or an exit code after
 * printing ("topic 'x' does not exist" -> 4). */
int cli_topic_metadata(cli_client_t *c, const char *topic, const struct rd_kafka_metadata **mdp);
/* Poll metadata until `topic` shows at least `partitions` partitions, each
 * with a leader, or --timeout passes. Returns 0 when ready, -1 if not. */
int cli_wait_topic(cli_client_t *c, const char *topic, int partitions);
/* ListOffsets for every partition of `list`: timestamp ts (-2 earliest,
 * -1 latest, else ms). Offsets written into list (per-partition .err). */
rd_kafka_resp_err_t cli_list_offsets(cli_client_t *c, rd_kafka_topic_partition_list_t *list, int64_t ts);

/* ---- meta.c ------------------------------------------------------------------- */

/* Metadata snapshot of every topic (topic NULL) or of one topic (exit 4 if
 * it does not exist). Returns 0 with *out set (caller frees with
 * cli_meta_free), or an exit code after printing the error. */
int cli_meta_get(cli_client_t *c, const char *topic, cli_meta_t **out);
/* May the CLI send its own requests (conn.c: every security.protocol,
 * SASL with PLAIN or SCRAM-SHA-256/512)?  c is unused. */
int cli_own_wire(cli_client_t *c);
/* Free the TLS context of the CLI's own connections, wipe the password. */
void cli_conn_cleanup(void);
/* --command-config FILE (or $SAMSA_COMMAND_CONFIG): its KEY=VALUE lines
 * go before every -X in G.props.  0, or an exit code after printing. */
int cli_command_config_load(const char *path);
void cli_command_config_free(void);

/* One request frame (size prefix included) to host:port over the CLI's own
 * connection (conn.c: TLS and SASL as -X / --command-config say) and its
 * answer (*resp malloc'd, after the size prefix), within the deadline.  -1
 * with a reason in err. */
/* cli_wire_call to the first bootstrap broker (G.brokers) that answers
 * (cmd_user.c; user and quota commands). */
int cli_bootstrap_call(const uint8_t *req, size_t n, uint8_t **resp, size_t *len, char *err,
                       size_t errlen);
int cli_wire_call(const char *host, int32_t port, const uint8_t *req, size_t n,
                  uint8_t **resp, size_t *resp_len, int64_t deadline_us, char *err, size_t errlen);

/* Exit code for a librdkafka error (3 for transport-class, 4 for unknown
 * topic/group, else 1). */
int cli_err_code(rd_kafka_resp_err_t err);
/* Kafka's name of a wire error code from our own requests ("NONE" for 0). */
const char *cli_kerr_name(int16_t e);
/* Human text for errors, without librdkafka's "Broker: " prefix. */
const char *cli_err_str(rd_kafka_resp_err_t err);

/* Monotonic and wall clocks. */
int64_t cli_now_us(void);
int64_t cli_wall_ms(void);

/* Ctrl-C: first one sets cli_interrupted, second exits 130 at once. */
extern volatile int cli_interrupted;
void cli_signals_install(void);

/* ---- out.c -------------------------------------------------------------------- */

/* Aligned text table. Header names starting with '>' are right-aligned
 * (the '>' is not printed). Cells are copied. */
typedef struct cli_table cli_table_t;
cli_table_t *cli_table_new(int ncols, ...);
void cli_table_row(cli_table_t *t);
void cli_table_cell(cli_table_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_table_print(cli_table_t *t, FILE *f);
size_t cli_table_rows(const cli_table_t *t);
void cli_table_free(cli_table_t *t);

/* Streaming JSON writer: commas and nesting handled by the writer. */
typedef struct jw {
    char *buf;
    size_t len, cap;
    int depth;
    unsigned char first[32];   /* per level: nothing written yet */
    int after_key;
} jw_t;

void jw_init(jw_t *w);
void jw_free(jw_t *w);
void jw_reset(jw_t *w);
void jw_obj(jw_t *w);
void jw_obj_end(jw_t *w);
void jw_arr(jw_t *w);
void jw_arr_end(jw_t *w);
void jw_key(jw_t *w, const char *k);
void jw_str(jw_t *w, const char *s);           /* NULL -> null */
void jw_strn(jw_t *w, const char *s, size_t n); /* must be valid UTF-8 */
void jw_int(jw_t *w, int64_t v);
void jw_num(jw_t *w, double v);
void jw_bool(jw_t *w, int v);
void jw_null(jw_t *w);
void jw_ids(jw_t *w, const int32_t *ids, int32_t n);   /* [1,2,3] (broker ids) */
/* Bytes as a JSON string when valid UTF-8, else base64; writes the key and,
 * for base64, "<key>_encoding":"base64". NULL -> null. */
void jw_kbytes(jw_t *w, const char *key, const void *p, size_t n);
/* Write the document plus '\n' to f and reset. */
void jw_flush(jw_t *w, FILE *f);

static inline void jw_kstr(jw_t *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
static inline void jw_kint(jw_t *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
static inline void jw_knum(jw_t *w, const char *k, double v) { jw_key(w, k); jw_num(w, v); }
static inline void jw_kbool(jw_t *w, const char *k, int v) { jw_key(w, k); jw_bool(w, v); }

int cli_utf8_valid(const unsigned char *p, size_t n);
/* "1,2,3" (broker ids) into buf, truncated to len. */
void cli_fmt_ids(char *buf, size_t len, const int32_t *ids, int n);
/* "1,234,567" into buf. */
const char *cli_fmt_count(char *buf, size_t len, uint64_t v);
/* Print a progress line on stderr ("\r...\033[K") if it is a terminal. */
int cli_stderr_tty(void);
void cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_progress_end(void);

#endif
