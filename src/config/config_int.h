/*
 * config_int.h - private to src/config/config*.c: the row type shared by
 * the broker and topic tables, the value codec, the .properties reader
 * and the list of Kafka keys Samsa does not implement.
 *
 * One row describes one key completely.  The same row drives validation
 * (cfgv_check), landing the parsed value in a typed struct (cfgv_land),
 * DescribeConfigs and the generated Markdown, so the three cannot drift.
 *
 * Threads/memory: the tables are static const; every function here is
 * pure apart from the strings it returns, which the caller frees.
 */
#ifndef SAMSA_BROKER_CONFIG_INT_H
#define SAMSA_BROKER_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum cfg_importance { CFG_HIGH, CFG_MEDIUM, CFG_LOW };
/* Kafka's "Update Mode"; READ_ONLY keys are read_only in DescribeConfigs. */
enum cfg_mode { CFG_READ_ONLY, CFG_PER_BROKER, CFG_CLUSTER_WIDE };
/* How a topic key's broker default is computed from its synonyms. */
enum cfg_derive {
    CFG_DERIVE_NONE = 0,        /* broker value of syn[0], same units */
    CFG_DERIVE_RETENTION,       /* cfg->retention_ms */
    CFG_DERIVE_ROLL,            /* cfg->roll_ms */
    CFG_DERIVE_JITTER,          /* cfg->roll_jitter_ms */
    CFG_DERIVE_FLUSH,           /* cfg->flush_ms */
};

#define CFG_NOFIELD ((size_t)-1)

struct cfg_def {
    const char *name;
    uint8_t type;               /* enum cfg_type */
    uint8_t importance;         /* enum cfg_importance */
    uint8_t mode;               /* enum cfg_mode */
    uint8_t derive;             /* enum cfg_derive (topic rows) */
    uint8_t has_range;          /* integer/double range applies */
    const char *dflt;           /* Kafka string form; NULL = null */
    int64_t min, max;           /* inclusive, integer types */
    double dmin, dmax;          /* inclusive, doubles */
    const char *const *enums;   /* NULL-terminated: STRING one of / LIST each of */
    /* Extra check on the canonical value; 0 = ok, else why[] filled. */
    int (*check)(const char *v, char *why, size_t n);
    /* Where the value lands: offset into the typed struct, or CFG_NOFIELD. */
    size_t off;
    /* Custom landing (enums, bit sets); default: by type. */
    void (*land)(void *field, const char *canonical);
    /* Broker rows: Kafka updates the key dynamically (mode is not
     * READ_ONLY) but Samsa cannot apply a new value to a running broker
     * (thread pools, bound sockets), so it is read-only in Samsa. */
    uint8_t static_only;
    /* Also read as listener.name.<listener>.<name> (the listener's value
     * wins; broker_config_listener_value).  listener_only: Kafka alters it
     * dynamically only behind that prefix (SSL stores). */
    uint8_t per_listener, listener_only;
    const char *syn[3];         /* broker synonyms in Kafka's order */
    const char *valid;          /* valid-values text when check/land is custom */
    const char *doc;            /* one line, our words */
    const char *note;           /* Samsa difference, shown in the docs */
};

/* Broker table (config_broker_table.c). */
extern const struct cfg_def cfg_broker_defs[];
extern const size_t cfg_broker_ndefs;
/* Index of name in cfg_broker_defs, or -1. */
int cfg_broker_find(const char *name);

/* The value of broker key name as the broker sees it: the value of the
 * highest layer that sets it, else the default (NULL = null).  Points
 * into cfg or the table. */
const char *cfg_broker_value(const struct broker_config *cfg, const char *name);

/* Layer bits for cfg_broker_synonyms_of. */
#define CFG_SYN_DYN_BROKER  1u
#define CFG_SYN_DYN_DEFAULT 2u
#define CFG_SYN_STATIC      4u
#define CFG_SYN_DEFAULT     8u
#define CFG_SYN_ALL         15u
/* Append the DescribeConfigs synonyms of broker keys names[0..n) (a key
 * and its broker synonyms, most specific first) to e in Kafka's order:
 * layer by layer - per-broker dynamic, cluster-default dynamic, static,
 * default (only the layers in mask) - and within a layer by name, one
 * synonym per name that has a value there.  -1 on OOM. */
int cfg_broker_synonyms_of(const struct broker_config *cfg, const char *const *names, int n,
                           unsigned mask, struct cfg_entry *e);
/* cfg_broker_synonyms_of for one name, every layer. */
int cfg_broker_synonyms(const struct broker_config *cfg, const char *name, struct cfg_entry *e);
int cfg_entry_add_synonym(struct cfg_entry *e, const char *name, const char *value, int source,
                          bool sensitive);

/* ---- broker config bookkeeping (config.c, config_dynamic.c) ---- */

/* cfg_state.layer values beyond enum cfg_layer (FILE = 1, OVERRIDE = 2). */
#define CFG_LAYER_DYN_DEFAULT 3     /* cluster-default dynamic value */
#define CFG_LAYER_DYN_BROKER 4      /* per-broker dynamic value */

struct cfg_extra {                  /* a key that is not a table row */
    char *key, *value, *origin;     /* value: static (NULL when only dynamic) */
    char *dyn[2];                   /* Kafka-dynamic keys: value per enum cfg_dyn_layer */
    uint8_t kind;                   /* enum cfg_known_kind; NONE = unknown key */
    uint8_t layer;
};

/* Record the dynamic-layer value of a Kafka key Samsa does not implement
 * (config_dynamic.c, when building a config).  -1 on OOM. */
int cfg_extra_set_dynamic(struct broker_config *cfg, const char *key, int kind, int layer,
                          const char *value);

struct cfg_logent {                 /* one successful broker_config_set() */
    char *key, *value, *origin;
    uint8_t layer;                  /* enum cfg_layer */
};

/*
 * Per table row i: raw[i] is the effective canonical value (the highest
 * layer that sets it; NULL = default) with its origin and layer (0 =
 * default); stat[i] is the static value (file, --override, or derived by
 * finish for aliases); dyn[l][i] the value of dynamic layer l (enum
 * cfg_dyn_layer).  log lists the static set() calls in order so that
 * broker_config_with_dynamic() can rebuild the static layer exactly
 * (warnings included) without the values finish() derived.
 */
struct cfg_state {
    char **raw;
    char **origin;
    uint8_t *layer;
    char **stat;
    char **dyn[2];
    struct cfg_extra *extra;
    size_t nextra, capextra;
    struct cfg_logent *log;
    size_t nlog, caplog;
};

/* The row behind listener.name.<l>.<key> when <key> is a per_listener row, else NULL. */
const struct cfg_def *cfg_listener_row(const char *key);

/* Closest implemented or Kafka broker key to key ("did you mean"), or NULL. */
const char *cfg_suggest(const char *key);

/* current with the items of value appended (unique, in order) or removed;
 * joined by ",".  malloc'd, NULL on OOM.  (IncrementalAlterConfigs
 * APPEND/SUBTRACT on LIST keys.) */
char *cfg_list_edit(const char *current, const char *value, bool append);

/* Topic table (config_topic.c). */
extern const struct cfg_def cfg_topic_defs[];
extern const size_t cfg_topic_ndefs;
int cfg_topic_find(const char *name);

/* ---- value codec (config_value.c) ---- */

/* Validate v for d; 0 or -1 with why = "not a number (expected int >= 14)". */
int cfgv_check(const struct cfg_def *d, const char *v, char *why, size_t n);
/* The canonical string form of a valid v (trimmed numbers, lower-case
 * booleans, list items trimmed and joined by ","); malloc'd, NULL on OOM. */
char *cfgv_canonical(const struct cfg_def *d, const char *v);
/* Store canonical value v (NULL = null) into base + d->off.  String types
 * replace (and free) a malloc'd char *.  0 or -1 on OOM. */
int cfgv_land(const struct cfg_def *d, const char *v, void *base);
/* "int >= 14", "one of CreateTime, LogAppendTime", ... */
void cfgv_expect(const struct cfg_def *d, char *buf, size_t n);
/* Kafka's lower-case type word ("int", "long", "list", ...). */
const char *cfgv_type_name(int type);

/* Number parsing shared with listeners etc.: whole string, base 10, trimmed. */
int cfgv_parse_i64(const char *s, int64_t *out);

/* ---- string helpers ---- */
char *cfg_strdup(const char *s);
char *cfg_strndup(const char *s, size_t n);
/* Trimmed copy of [s, s+n). */
char *cfg_trim_dup(const char *s, size_t n);
/* Append a formatted line to a growable string array; -1 on OOM. */
int cfg_strv_push(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cfg_strv_free(char **v, size_t n);
/* Split a comma list: items trimmed, empty items kept as "" (callers
 * reject them).  An all-blank string is the empty list.  -1 on OOM. */
int cfg_split_list(const char *s, char ***items, size_t *n);

/* Optimal-string-alignment distance (case-insensitive), capped: returns
 * cap+1 when the distance exceeds cap. */
int cfg_edit_distance(const char *a, const char *b, int cap);

/* ---- Kafka keys Samsa accepts but does not implement (config_kafka_keys.c) ---- */

enum cfg_known_kind {
    CFG_KNOWN_NONE = 0,
    CFG_KNOWN_KAFKA,            /* a real Kafka broker key */
    CFG_KNOWN_PREFIX,           /* a family accepted by prefix (listener.name.*, ...) */
    CFG_KNOWN_LISTENER,         /* listener.name.<l>.<key> of a per_listener row: implemented */
};
/* SASL (config_sasl.c): the listener-prefixed keys implemented (no
 * "ignored" warning), and the startup checks of the SASL_* listeners. */
bool cfg_listener_key_implemented(const char *key);
int cfg_sasl_validate(const struct broker_config *cfg, char *why, size_t wn);
/* Classify key; *why gets a short reason for prefix families. */
int cfg_kafka_known(const char *key, const char **why);
/* Sensitive by name (passwords, keys, JAAS), also behind listener prefixes. */
bool cfg_key_is_sensitive(const char *key);
/* Kafka's dynamic update mode of a Kafka key Samsa does not implement (a
 * CFG_KDYN_* mode, plus CFG_KDYN_LIST when its values are lists);
 * CFG_KDYN_NONE when Kafka cannot change it at runtime.  listener.name.*
 * keys count as Kafka counts them. */
enum {
    CFG_KDYN_NONE = 0,
    CFG_KDYN_PER_BROKER = 1,
    CFG_KDYN_CLUSTER_WIDE = 2,
    CFG_KDYN_LISTENER_ONLY = 3,  /* only as listener.name.<l>.<key> (SSL stores) */
    CFG_KDYN_MODE = 3,           /* mask of the mode */
    CFG_KDYN_LIST = 4,
};
int cfg_kafka_dynamic(const char *key);
/* The i-th key of that table, NULL past its end (unit tests). */
const char *cfg_kafka_dynamic_at(size_t i);
/* Visit every known Kafka key name (for suggestions). */
void cfg_kafka_foreach(void (*fn)(const char *name, void *arg), void *arg);

/* ---- .properties reader (config_props.c) ---- */

struct props_entry {
    char *key;
    char *value;
    int line;                   /* 1-based line where the entry starts */
};
struct props {
    struct props_entry *v;
    size_t n, cap;
};
/* Java Properties.load syntax; 0 or -1 with "line N: why" in err. */
int props_parse(const char *text, size_t len, struct props *out, char *err, size_t errlen);
void props_free(struct props *p);

/* DescribeConfigs: is `name` among the requested keys (keys NULL: all)? */
bool cfg_key_wanted(const char *name, const char *const *keys, size_t nkeys);

/* ---- listeners (config_listeners.c) ---- */

/* Parse a listeners-style list ("NAME://HOST:PORT,...").  Listener names
 * must be unique; with unique_ports, so must ports (except 0, and an IPv4
 * and an IPv6 literal may share one).  When map is non-NULL each entry's
 * security protocol is looked up in it (listener.security.protocol.map
 * syntax).  0 or -1 with why filled (no "config error:" prefix). */
int cfg_parse_endpoints(const char *list, const char *map, bool unique_ports,
                        struct cfg_endpoint **out, size_t *n, char *why, size_t whylen);
/* Syntax-only checks used by the table validators. */
int cfg_check_listeners(const char *v, char *why, size_t n);
int cfg_check_advertised(const char *v, char *why, size_t n);
int cfg_secproto_parse(const char *s);
int cfg_check_protocol_map(const char *v, char *why, size_t n);
int cfg_check_conn_overrides(const char *v, char *why, size_t n);
int cfg_parse_conn_overrides(const char *v, struct cfg_conn_override **out, size_t *n,
                             char *why, size_t whylen);
const char *cfg_secproto_name(int p);

/* config_inter_broker.c: cfg->inter_broker_listener / _secproto from
 * inter.broker.listener.name, security.inter.broker.protocol and
 * advertised.listeners (after the listeners are resolved).  0 or -1 with
 * why filled. */
int cfg_resolve_inter_broker(struct broker_config *cfg, char *why, size_t wn);

#endif
