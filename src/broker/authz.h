/*
 * authz.h - the handlers' view of the authorizer: one inline branch when
 * authorizer.class.name is empty (b->authz NULL: everything is allowed),
 * Kafka's AclAuthorizer decision (auth/acl.h) otherwise, for the
 * connection's principal and peer address.  The API -> resource/operation
 * -> error table is in docs/security.md; each handler's check is marked
 * with the API's row there.
 *
 * S-ACL10  With an authorizer configured, every API except ApiVersions,
 *          SaslHandshake and SaslAuthenticate checks the principal before
 *          acting (the table in docs/security.md), and answers Kafka's
 *          *_AUTHORIZATION_FAILED code without acting when refused.
 */
#ifndef SAMSA_BROKER_AUTHZ_H
#define SAMSA_BROKER_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/acl.h"
#include "broker/broker.h"
#include "core/errors.h"
#include "proto/schema.h"

struct broker_config;

/* authorizer.class.name set: create b->authz and load the store (ZooKeeper
 * in cluster mode, else <first log dir>/samsa-acls.json).  0 or -1. */
int authz_start(broker *b, const struct broker_config *cfg, char *err, size_t errlen);
void authz_stop(broker *b);

bool authz_check(broker *b, const kreq *rq, int op, int rtype, const char *name, size_t len);

static inline bool authz_allowed(broker *b, const kreq *rq, int op, int rtype, const char *name,
                                 size_t len)
{
    return !b->authz || authz_check(b, rq, op, rtype, name, len);
}

static inline bool authz_allowed_k(broker *b, const kreq *rq, int op, int rtype, kstr name)
{
    return !b->authz || authz_check(b, rq, op, rtype, name.p ? name.p : "",
                                    name.len > 0 ? (size_t)name.len : 0);
}

static inline bool authz_cluster(broker *b, const kreq *rq, int op)
{
    return !b->authz || authz_check(b, rq, op, ACL_RT_CLUSTER, ACL_CLUSTER_NAME,
                                    sizeof ACL_CLUSTER_NAME - 1);
}

/* Kafka's authorizeByResourceType: op on some resource of the type. */
bool authz_allowed_any(broker *b, const kreq *rq, int op, int rtype);

/* First statement of a handler whose whole request needs a Cluster
 * operation: refuse with CLUSTER_AUTHORIZATION_FAILED in the response's
 * top-level error_code (resp_t: the API's response type). */
#define AUTHZ_CLUSTER_OR_REFUSE(rq, op, resp_t)                           \
    do {                                                                  \
        if (!authz_cluster(broker_of(rq), (rq), (op))) {                  \
            resp_t *refused_ = kreq_new_response(rq);                     \
            refused_->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;     \
            kreq_respond((rq), refused_);                                 \
            return;                                                       \
        }                                                                 \
    } while (0)

/* The authorized-operations bit set of a resource for this principal
 * (Metadata, DescribeCluster, DescribeGroups); every supported operation
 * when the authorizer is off. */
int32_t authz_ops(broker *b, const kreq *rq, int rtype, const char *name, size_t len);

#endif
