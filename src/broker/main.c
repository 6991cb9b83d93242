/*
 * main.c - samsa-broker: load the configuration, open storage, start the
 * network threads, wait for SIGTERM/SIGINT, shut down cleanly.
 *
 * Shutdown order: stop accepting; stop reading requests; flush every log
 * (which answers produces waiting for a flush); let parked requests
 * finish; stop the threads; close logs cleanly (indexes, checkpoints,
 * producer snapshots, then the clean-shutdown marker).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/entities.h"
#include "broker/broker.h"
#include "broker/cluster_topics.h"
#include "broker/cluster_mode.h"
#include "broker/dispatch.h"
#include "broker/fetch_session.h"
#include "broker/inter_broker.h"
#include "cluster/metadata_zk.h"
#include "config/config.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "rpc/kclient.h"
#include "rpc/txn_verify.h"
#include "txn/txn_coordinator.h"
#include "repl/fetcher.h"
#include "repl/isr_manager.h"
#include "server/net_threads.h"
#include "server/server_tls.h"

#define SAMSA_VERSION "0.1.0"

/* Kafka operators raise ulimit -n; do it for them up to the hard limit.
 * Half of it goes to segment files (samsa.max.open.files = -1). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            LOG_WRN("main", "cannot raise the open-file limit from %llu to %llu: %s",
                    (unsigned long long)old, (unsigned long long)rl.rlim_max, strerror(errno));
    }
}

/* The typed settings the request path reads (see broker.h). */
static int settings_from_config(broker *b, const struct broker_config *cfg, char *err, size_t errlen)
{
    broker_settings *s = &b->set;
    s->node_id = cfg->node_id;
    s->nlisteners = 0;
    for (size_t i = 0; i < cfg->nendpoints; i++) {
        const struct cfg_endpoint *e = &cfg->endpoints[i];
        if (e->controller)
            continue;
        if (s->nlisteners == MAX_LISTENERS) {
            snprintf(err, errlen, "config error: listeners: at most %d listeners are supported", MAX_LISTENERS);
            return -1;
        }
        endpoint *l = &s->listen[s->nlisteners];
        endpoint *a = &s->adv[s->nlisteners];
        snprintf(l->name, sizeof l->name, "%s", e->name);
        snprintf(l->host, sizeof l->host, "%s", e->wildcard ? "" : e->host);
        l->port = e->port;
        l->secproto = e->security_protocol;
        *a = *l;
        for (size_t k = 0; k < cfg->nadvertised; k++) {
            if (!strcmp(cfg->advertised[k].name, e->name)) {
                snprintf(a->host, sizeof a->host, "%s", cfg->advertised[k].host);
                a->port = cfg->advertised[k].port;
            }
        }
        if (!strcmp(e->name, cfg->inter_broker_listener))
            s->ib_index = s->nlisteners;
        s->nlisteners++;
    }
    snprintf(s->ib_listener, sizeof s->ib_listener, "%s", cfg->inter_broker_listener);
    if (s->nlisteners == 0) {
        snprintf(err, errlen, "config error: listeners: no broker listener configured");
        return -1;
    }
    snprintf(s->rack, sizeof s->rack, "%s", cfg->broker_rack ? cfg->broker_rack : "");
    s->num_network_threads = cfg->num_network_threads;
    s->socket_request_max_bytes = cfg->socket_request_max_bytes;
    s->connections_max_idle_ms = cfg->connections_max_idle_ms;
    s->num_partitions = cfg->num_partitions;
    s->default_replication_factor = (int16_t)cfg->default_replication_factor;
    s->auto_create_topics = cfg->auto_create_topics_enable;
    s->delete_topic_enable = cfg->delete_topic_enable;
    s->message_max_bytes = cfg->message_max_bytes;
    s->max_fetch_sessions = cfg->max_incremental_fetch_session_cache_slots;
    s->offsets_topic_num_partitions = cfg->offsets_topic_num_partitions;
    s->zookeeper_session_timeout_ms = cfg->zookeeper_session_timeout_ms;
    return 0;
}

/* b->ib_sec (inter_broker.h).  A single broker whose inter-broker listener
 * is a fallback nobody chose (config_inter_broker.c) only warns: its one
 * inter-broker use, transaction markers to itself, then fails. */
static int inter_broker_start(broker *b, const struct broker_config *cfg, char *err, size_t errlen)
{
    if (inter_broker_security_new(cfg, &b->ib_sec, err, errlen) < 0) {
        bool chosen = (cfg->zookeeper_connect && cfg->zookeeper_connect[0]) ||
                      broker_config_is_set(cfg, "inter.broker.listener.name") ||
                      broker_config_is_set(cfg, "security.inter.broker.protocol");
        if (chosen)
            return -1;
        LOG_WRN("main", "%s; transaction markers to this broker itself will fail", err);
        return 0;
    }
    if (b->ib_sec)
        LOG_INF("main", "inter-broker listener %s (%s%s%s%s)", cfg->inter_broker_listener,
                cfg->inter_broker_secproto == CFG_SSL ? "SSL"
                : cfg->inter_broker_secproto == CFG_SASL_SSL ? "SASL_SSL" : "SASL_PLAINTEXT",
                b->ib_sec->sasl_mechanism[0] ? ", " : "", b->ib_sec->sasl_mechanism,
                b->ib_sec->sasl_username[0] ? " as the broker's JAAS user" : "");
    return 0;
}

/* The group coordinator's view of C13 (docs/cluster.md). */
/* Set by broker_txn_start before the network threads take requests. */
static struct txn_verifier *coord_verifier(void *ctx)
{
    return ((broker *)ctx)->txn_verify;
}

static bool coord_authorize(void *ctx, const kreq *rq, int op, int rtype, const char *name,
                            size_t len)
{
    return authz_allowed(ctx, rq, op, rtype, name, len);
}

static bool coord_may_lead(void *ctx)
{
    return broker_may_lead(ctx);
}

static const struct broker_config *server_config(void *ctx)
{
    return broker_config_current(ctx);
}

static int32_t isr_controller_id(void *ctx)
{
    return atomic_load(&((broker *)ctx)->controller_id);
}

static int64_t isr_broker_epoch(void *ctx)
{
    broker *b = ctx;
    return md_is_zk(b->md) ? md_zk_broker_epoch(b->md) : -1;
}

/* Cluster mode: the leader's ISR manager (AlterPartition to the
 * controller).  0, or -1 when it cannot start. */
static int isr_start(broker *b)
{
    if (!b->cluster_mode)
        return 0;
    isr_ctx ictx = { .node_id = b->set.node_id, .topics = &b->topics, .config = server_config,
                     .arg = b, .md = b->md,
                     .listener = b->set.ib_listener, .sec = b->ib_sec, .controller_id = isr_controller_id,
                     .broker_epoch = isr_broker_epoch };
    b->isr = isr_manager_start(&ictx);
    return b->isr ? 0 : -1;
}

/* User and client-id entities changed before the admin thread ran were
 * not queued: read them again there (the one writer of the snapshot). */
static void reload_entities(broker *b, void *arg)
{
    (void)arg;
    char err[512];
    if (entities_reload(b, err, sizeof err) < 0)
        LOG_WRN("main", "%s", err);
}

/* The request pipeline serves the dispatch table with this broker as the
 * handlers' context (broker_of). */
static const server_ops broker_server_ops = { dispatch_get, dispatch_table, server_config,
                                              entities_scram_lookup, quotas_request_time };

static void server_setup(broker *b)
{
    server *s = &b->srv;
    s->ops = &broker_server_ops;
    s->ctx = b;
    s->nthreads = b->set.num_network_threads;
    s->max_frame = b->set.socket_request_max_bytes;
    s->idle_ms = b->set.connections_max_idle_ms;
    s->listen = b->set.listen;
    s->adv = b->set.adv;
    s->nlisteners = b->set.nlisteners;
}

int main(int argc, char **argv)
{
    static broker b;
    static struct broker_config cfg;
    char err[1024];
    enum cfg_cli_action action = CFG_CLI_RUN;

    if (broker_config_from_argv(&cfg, argc, argv, &action, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        broker_config_free(&cfg);
        return 2;
    }
    switch (action) {
    case CFG_CLI_HELP:
        broker_config_usage(stdout, argv[0]);
        return 0;
    case CFG_CLI_VERSION:
        printf("samsa-broker %s\n", SAMSA_VERSION);
        return 0;
    case CFG_CLI_PRINT_DOCS:
        config_print_markdown(stdout);
        return 0;
    case CFG_CLI_RUN:
        break;
    }
    log_set_level((enum log_level)cfg.log_level);
    broker_config_log_warnings(&cfg);
    atomic_store(&b.config, &cfg);
    b.static_config = &cfg;
    if (settings_from_config(&b, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (inter_broker_start(&b, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    server_setup(&b);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);   /* every thread inherits this */

    b.cluster_mode = cfg.zookeeper_connect && cfg.zookeeper_connect[0];
    atomic_store(&b.controller_id, b.cluster_mode ? -1 : b.set.node_id);
    /* Inter-broker APIs (LeaderAndIsr, UpdateMetadata, StopReplica...)
     * exist in cluster mode; a single broker serves them only to tests. */
    dispatch_init(b.cluster_mode || cfg.samsa_test_hooks_enable);
    if (cfg.samsa_test_hooks_enable && !b.cluster_mode)
        LOG_WRN("main", "samsa.test.hooks.enable=true: LeaderAndIsr is served to any client (tests only)");
    topic_registry_init(&b.topics);
    int rc = 1;
    if (broker_storage_open(&b, &cfg, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        return 1;
    }
    if (authz_start(&b, &cfg, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        goto out_storage;
    }
    if (topic_admin_load(&b, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        goto out_storage;
    }
    b.sessions = fetch_sessions_new(b.set.max_fetch_sessions);
    if (!b.sessions) {
        LOG_ERR("main", "out of memory");
        goto out_storage;
    }
    coord_ctx cctx = { .node_id = b.set.node_id, .topics = &b.topics, .logs = b.logs, .config = server_config, .config_arg = &b,
                       .may_lead = coord_may_lead, .verifier = coord_verifier,
                       .authorize = b.authz ? coord_authorize : NULL };
    b.coord = coordinator_start(&cctx, err, sizeof err);
    if (!b.coord) {
        LOG_ERR("main", "%s", err);
        goto out_storage;
    }
    if (broker_txn_start(&b, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        goto out_storage;
    }
    rate_init(&b.leader_quota);
    repl_ctx rctx = { .node_id = b.set.node_id, .logs = b.logs, .config = server_config, .config_arg = &b,
                      .sec = b.ib_sec };
    b.fetchers = repl_fetchers_new(&rctx);
    if (!b.fetchers) {
        LOG_ERR("main", "out of memory");
        goto out_storage;
    }
    if (isr_start(&b) < 0) {
        LOG_ERR("main", "cannot start the ISR manager: %s", strerror(errno));
        goto out_storage;
    }
    if (net_threads_init(&b.srv, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        goto out_storage;
    }
    if (admin_worker_start(&b) < 0 || net_threads_start(&b.srv) < 0) {
        LOG_ERR("main", "cannot start threads: %s", strerror(errno));
        goto out_storage;
    }
    if (b.cluster_mode) {
        char sync_err[512];
        /* Topic changes made between the first read and the admin thread's
         * start were not queued: read once more. */
        if (cluster_topics_sync(&b, sync_err, sizeof sync_err) < 0)
            LOG_WRN("main", "%s", sync_err);
        admin_run(&b, reload_entities, NULL);   /* the same for users, on the admin thread */
        if (cluster_mode_start(&b, err, sizeof err) < 0) {
            LOG_ERR("main", "%s", err);
            net_threads_stop(&b.srv);
            admin_worker_stop(&b);
            goto out_storage;
        }
    }
    for (int i = 0; i < b.set.nlisteners; i++)
        LOG_INF("main", "listening on %s://%s:%d (advertised as %s:%d)", b.set.listen[i].name,
                b.set.listen[i].host[0] ? b.set.listen[i].host : "*", b.set.listen[i].port,
                b.set.adv[i].host, b.set.adv[i].port);
    LOG_INF("main", "samsa-broker %s started: node.id=%d cluster.id=%s", SAMSA_VERSION,
            b.set.node_id, b.cluster_id);

    int sig = 0;
    sigwait(&ss, &sig);
    LOG_INF("main", "received %s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if (b.cluster_mode)
        cluster_mode_leave(&b);         /* leaders move elsewhere now */
    repl_fetchers_stop(b.fetchers);     /* no follower append after this */
    isr_manager_stop(b.isr);            /* no ISR change after this */
    b.isr = NULL;
    broker_quiesce(&b);
    /* First: what waits for a verification is answered while the network
     * and coordinator loops still run; later submissions are refused. */
    txn_verifier_stop(b.txn_verify);
    coordinator_stop(b.coord);          /* network threads may still submit: refused */
    txn_coordinator_stop(b.txn);
    net_threads_stop(&b.srv);
    admin_worker_stop(&b);
    rc = 0;
out_storage:
    isr_manager_stop(b.isr);            /* before the controller it may call */
    b.isr = NULL;
    cluster_mode_stop(&b);
    server_tls_free(&b.srv);            /* after every path that publishes configs */
    coordinator_free(b.coord);
    b.coord = NULL;
    txn_coordinator_free(b.txn);
    b.txn = NULL;
    txn_verifier_free(b.txn_verify);
    b.txn_verify = NULL;
    repl_fetchers_free(b.fetchers);     /* the admin thread, its only caller, is stopped */
    b.fetchers = NULL;
    authz_stop(&b);
    if (broker_storage_close(&b, rc == 0) < 0)
        rc = 1;
    fetch_sessions_free(b.sessions);
    inter_broker_security_free(b.ib_sec);   /* every kclient using it is gone */
    b.ib_sec = NULL;
    LOG_INF("main", "shutdown %s", rc == 0 ? "complete" : "failed");
    return rc;
}
