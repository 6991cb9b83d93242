/* authz.c - see authz.h. */
#include "broker/authz.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/acl_store.h"
#include "config/config.h"
#include "core/log.h"

int authz_start(broker *b, const struct broker_config *cfg, char *err, size_t errlen)
{
    if (!cfg->authorizer_class_name || !cfg->authorizer_class_name[0])
        return 0;
    acl_authz *a = calloc(1, sizeof *a);
    if (!a || acl_authz_init(a, cfg->super_users, cfg->allow_everyone_if_no_acl_found)) {
        free(a);
        snprintf(err, errlen, "authorizer.class.name: out of memory");
        return -1;
    }
    char why[512];
    acl_store *s = b->cluster_mode
                       ? acl_store_open_zk(a, cfg->zookeeper_connect,
                                           cfg->zookeeper_session_timeout_ms,
                                           cfg->zookeeper_connection_timeout_eff_ms, why,
                                           sizeof why)
                       : acl_store_open_file(a, b->metadata_dir, why, sizeof why);
    if (!s) {
        snprintf(err, errlen, "authorizer.class.name=%s: cannot load the ACLs: %s",
                 cfg->authorizer_class_name, why);
        acl_authz_free(a);
        free(a);
        return -1;
    }
    b->authz = a;
    b->acl_store = s;
    LOG_INF("authz", "authorizer %s on: %d ACL resource pattern(s) loaded from %s",
            cfg->authorizer_class_name, a->nres, b->cluster_mode ? "ZooKeeper" : ACL_FILE);
    return 0;
}

void authz_stop(broker *b)
{
    acl_store_close(b->acl_store);
    b->acl_store = NULL;
    if (b->authz) {
        acl_authz_free(b->authz);
        free(b->authz);
        b->authz = NULL;
    }
}

bool authz_check(broker *b, const kreq *rq, int op, int rtype, const char *name, size_t len)
{
    const kprincipal *p = kreq_principal(rq);
    const char *host = kreq_client_ip(rq);
    bool ok = acl_authorize(b->authz, p, host, op, rtype, name, len);
    if (!ok)
        LOG_DBG("authz", "Principal = %s:%s is Denied Operation = %s from host = %s on "
                "resource = %s:LITERAL:%.*s", p->type, p->name, acl_op_zk_name(op), host,
                acl_rtype_zk_name(rtype), (int)(len > 256 ? 256 : len), name);
    return ok;
}

int32_t authz_ops(broker *b, const kreq *rq, int rtype, const char *name, size_t len)
{
    if (!b->authz)
        return (int32_t)acl_supported_ops(rtype);
    return (int32_t)acl_authorized_ops(b->authz, kreq_principal(rq), kreq_client_ip(rq), rtype,
                                       name, len);
}

bool authz_allowed_any(broker *b, const kreq *rq, int op, int rtype)
{
    return !b->authz ||
           acl_authorize_any(b->authz, kreq_principal(rq), kreq_client_ip(rq), op, rtype);
}
