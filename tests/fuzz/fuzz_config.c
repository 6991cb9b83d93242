/*
 * fuzz_config.c - the .properties parser and broker/topic config validation.
 *
 * Input: the text of a server.properties file (any bytes).
 *
 * Steps: broker_config_init, broker_config_load_string, broker_config_finish;
 * for a finished config also broker_config_describe (of up to 16 of the
 * file's keys), a rebuild
 * with broker_config_with_dynamic (no dynamic values, then every dynamic
 * key of the file as a per-broker dynamic value), and the same entries
 * treated as topic overrides (topic_cfg_validate, topic_cfg_validate_set,
 * topic_cfg_describe).  Everything is freed: LeakSanitizer checks it.
 *
 * Oracle:
 *   - load/finish return 0 or KERR_INVALID_CONFIG (never crash, never
 *     exit), and every failure is ONE line starting "config error: "
 *     (config.h, invariant 2);
 *   - rebuilding a finished config from its own static layer
 *     (broker_config_with_dynamic with no dynamic values) succeeds and
 *     describes exactly like the original: same keys, values and sources.
 */
#include <stdbool.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/errors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

static void check_err(int rc, const char *err, const char *what)
{
    FUZZ_ASSERT(rc == KERR_INVALID_CONFIG, "%s returned %d (%s)", what, rc, err);
    FUZZ_ASSERT(strncmp(err, "config error: ", 14) == 0, "%s error lacks the prefix: \"%s\"", what, err);
    FUZZ_ASSERT(!strchr(err, '\n'), "%s error is not one line: \"%s\"", what, err);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void same_description(const struct cfg_description *a, const struct cfg_description *b)
{
    FUZZ_ASSERT(a->n == b->n, "rebuilt config describes %zu keys, original %zu", b->n, a->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct cfg_entry *x = &a->v[i], *y = &b->v[i];
        FUZZ_ASSERT(str_eq(x->name, y->name), "key %zu: %s vs %s", i, x->name, y->name);
        FUZZ_ASSERT(str_eq(x->value, y->value) && x->source == y->source,
                    "%s: \"%s\" (source %d) became \"%s\" (source %d) after a rebuild", x->name,
                    x->value ? x->value : "(null)", x->source, y->value ? y->value : "(null)", y->source);
    }
}

static void exercise_finished(const struct broker_config *cfg, const char *text, size_t len)
{
    char err[512];
    struct props pr = { 0 };
    FUZZ_ASSERT(props_parse(text, len, &pr, err, sizeof err) == 0, "props_parse refuses what load took: %s", err);
    /* Describe only the file's last 16 keys: describing all ~200 keys
     * costs more than the rest of an execution together. */
    size_t nkeys = pr.n < 16 ? pr.n : 16;
    const char **keys = calloc(nkeys + 1, sizeof *keys);
    FUZZ_ASSERT(keys, "calloc");
    for (size_t i = 0; i < nkeys; i++)
        keys[i] = pr.v[pr.n - nkeys + i].key;

    /* Rebuilt from its static layer alone: must be the same config. */
    struct cfg_description d0 = { 0 }, d1 = { 0 };
    FUZZ_ASSERT(broker_config_describe(cfg, keys, nkeys, &d0) == 0, "describe failed");
    struct broker_config same;
    err[0] = 0;
    int rc = broker_config_with_dynamic(cfg, NULL, NULL, &same, err, sizeof err);
    FUZZ_ASSERT(rc == 0, "rebuilding a valid config failed: %s", err);
    FUZZ_ASSERT(broker_config_describe(&same, keys, nkeys, &d1) == 0, "describe failed");
    same_description(&d0, &d1);
    broker_config_free(&same);
    cfg_description_free(&d0);
    cfg_description_free(&d1);

    /* The file's entries as dynamic broker values and as topic overrides. */
    struct topic_overrides dyn, topic;
    topic_overrides_init(&dyn);
    topic_overrides_init(&topic);
    for (size_t i = 0; i < pr.n; i++) {
        const char *k = pr.v[i].key, *v = pr.v[i].value;
        if (broker_cfg_is_dynamic(k))
            (void)broker_cfg_alter(cfg, CFG_DYN_BROKER, &dyn, k, CFG_OP_SET, v, err, sizeof err);
        if (topic_cfg_validate(k, v, err, sizeof err) == 0)
            (void)topic_overrides_put(&topic, k, v);
    }
    struct broker_config withdyn;
    if (broker_config_with_dynamic(cfg, NULL, &dyn, &withdyn, err, sizeof err) == 0) {
        struct cfg_description d2 = { 0 };
        if (broker_config_describe(&withdyn, keys, nkeys, &d2) == 0)
            cfg_description_free(&d2);
    }
    broker_config_free(&withdyn);
    (void)topic_cfg_validate_set(cfg, topic.v, topic.n, err, sizeof err);
    struct cfg_description d3 = { 0 };
    if (topic_cfg_describe(cfg, topic.v, topic.n, keys, nkeys, &d3) == 0)
        cfg_description_free(&d3);
    topic_overrides_free(&dyn);
    topic_overrides_free(&topic);
    free(keys);
    props_free(&pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[512];
    struct broker_config cfg;
    FUZZ_ASSERT(broker_config_init(&cfg) == 0, "init failed");
    err[0] = 0;
    int rc = broker_config_load_string(&cfg, text, size, "fuzz.properties", err, sizeof err);
    if (rc) {
        check_err(rc, err, "load");
        goto out;
    }
    err[0] = 0;
    rc = broker_config_finish(&cfg, err, sizeof err);
    if (rc) {
        check_err(rc, err, "finish");
        goto out;
    }
    exercise_finished(&cfg, text, size);
out:
    broker_config_free(&cfg);
    return 0;
}
