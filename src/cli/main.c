/*
 * main.c - entry point of `samsa`, the command-line client for Samsa and any
 * Kafka-protocol cluster (built on librdkafka).
 *
 * Owns the root of the command tree (cli_root) and the global options
 * table. Each command group lives in its own file (see cli.h); adding a
 * command means adding a cli_cmd_t to a table, nothing else: parsing and
 * help follow from the tables.
 *
 * Global state: G (cli.h) is written here and by the parser before a
 * command runs, and only read afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

cli_global_t G = {.timeout_s = 10.0};
int cli_opt_help, cli_opt_version;
static const char *opt_timeout;
static const char *opt_command_config;

const cli_opt_t cli_global_opts[] = {
    {"brokers", 'b', OPT_STR, "HOST:PORT,...",
     "bootstrap brokers (default: $SAMSA_BROKERS, else localhost:9092)", &G.brokers},
    {"property", 'X', OPT_LIST, "KEY=VALUE",
     "librdkafka setting, repeatable (e.g. -X security.protocol=ssl)", &G.props},
    {"command-config", 0, OPT_STR, "FILE",
     "librdkafka settings, one KEY=VALUE a line, before every -X (default: $SAMSA_COMMAND_CONFIG)",
     &opt_command_config},
    {"json", 0, OPT_FLAG, NULL, "machine-readable output: one JSON document (or line) per result", &G.json},
    {"timeout", 0, OPT_STR, "SECS", "deadline to reach the cluster and for each request (default 10)",
     &opt_timeout},
    {"verbose", 'v', OPT_COUNT, NULL, "show librdkafka's log lines on stderr", &G.verbose},
    {"quiet", 'q', OPT_FLAG, NULL, "no progress or summary lines on stderr", &G.quiet},
    {"help", 'h', OPT_FLAG, NULL, "help for any command (samsa topic create --help)", &cli_opt_help},
    {"version", 0, OPT_FLAG, NULL, "print the version and exit", &cli_opt_version},
    {0},
};

static const cli_cmd_t *const root_subs[] = {
    &cli_cmd_cluster, &cli_cmd_topic, &cli_cmd_produce, &cli_cmd_consume,
    &cli_cmd_group,   &cli_cmd_txn,   &cli_cmd_perf,  &cli_cmd_user,  &cli_cmd_quota,
    &cli_cmd_acl,     NULL,
};

const cli_cmd_t cli_root = {
    .name = "samsa",
    .summary = "command-line client for Samsa and any Kafka-protocol cluster",
    .examples =
        "export SAMSA_BROKERS=127.0.0.1:9092\n"
        "samsa cluster info\n"
        "samsa topic create orders -p 6 -c retention.ms=86400000\n"
        "seq 1000 | samsa produce orders\n"
        "samsa consume orders -n 10 --json\n"
        "samsa group describe billing\n"
        "samsa txn list\n"
        "samsa perf produce bench -n 1000000 -s 100 --producers 2",
    .subs = root_subs,
};

int cli_globals_finish(void)
{
    if (!G.brokers || !*G.brokers) {
        const char *env = getenv("SAMSA_BROKERS");
        G.brokers = env && *env ? env : "localhost:9092";
    }
    if (opt_timeout) {
        int64_t ms;
        if (cli_parse_duration_ms(opt_timeout, &ms) < 0 || ms < 100)
            return cli_usage("bad --timeout '%s' (seconds, at least 0.1, e.g. 5 or 500ms)", opt_timeout);
        G.timeout_s = (double)ms / 1000.0;
    }
    if (!opt_command_config) {
        const char *env = getenv("SAMSA_COMMAND_CONFIG");
        opt_command_config = env && *env ? env : NULL;
    }
    if (opt_command_config)
        return cli_command_config_load(opt_command_config);
    return 0;
}

void cli_print_version(void)
{
    printf("samsa %s (librdkafka %s)\n", SAMSA_CLI_VERSION, rd_kafka_version_str());
}

int main(int argc, char **argv)
{
    int rc = cli_dispatch(argc, argv);
    fflush(stdout);
    cli_conn_cleanup();
    cli_list_free(&G.props);
    cli_command_config_free();
    return rc;
}
