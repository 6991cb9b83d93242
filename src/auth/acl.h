/*
 * acl.h - Kafka's ACL model and authorizer (AclAuthorizer /
 * StandardAuthorizer semantics), pure logic over core.
 *
 * An ACL binding is a resource pattern (type, LITERAL or PREFIXED name)
 * plus an access control entry (principal "Type:name" or "User:*", host or
 * "*", operation, ALLOW or DENY).  Wire ids are Kafka's (ResourceType,
 * PatternType, AclOperation, AclPermissionType codes).
 *
 * The authorizer (acl_authz) keeps every binding grouped by resource
 * pattern in one array sorted by (type, pattern type, name): a check finds
 * the literal name and the literal "*" by binary search and scans the
 * (usually few) PREFIXED patterns of the type.  Readers take a read lock
 * and allocate nothing; writers (the ACL APIs, the store's reloads) take
 * the write lock.  Thread-safe.
 *
 * The rules (numbered invariants, listed in docs/security.md):
 *   S-ACL1  A super user (super.users) is allowed everything.
 *   S-ACL2  A resource no ACL matches at all (literal name, literal "*",
 *           or a prefix of the name; any principal, any operation) is
 *           allowed only when allow.everyone.if.no.acl.found is true.
 *   S-ACL3  DENY wins: a matching DENY for the operation (or ALL) refuses,
 *           whatever ALLOWs exist.
 *   S-ACL4  Otherwise an ALLOW for the operation, ALL, or an implying
 *           operation (DESCRIBE by READ/WRITE/DELETE/ALTER;
 *           DESCRIBE_CONFIGS by ALTER_CONFIGS) is needed.
 *   S-ACL5  An entry matches the principal exactly (type and name) or is
 *           "User:*"; the host exactly or "*".
 *   S-ACL6  Bindings created carry concrete values only (no ANY/MATCH/
 *           UNKNOWN), a non-empty name, "kafka-cluster" as the only
 *           Cluster name, a principal of the form Type:name.
 */
#ifndef SAMSA_AUTH_ACL_H
#define SAMSA_AUTH_ACL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"

/* ResourceType codes. */
enum acl_rtype {
    ACL_RT_UNKNOWN = 0, ACL_RT_ANY = 1, ACL_RT_TOPIC = 2, ACL_RT_GROUP = 3, ACL_RT_CLUSTER = 4,
    ACL_RT_TRANSACTIONAL_ID = 5, ACL_RT_DELEGATION_TOKEN = 6, ACL_RT_USER = 7,
};
/* PatternType codes. */
enum acl_pattern {
    ACL_PT_UNKNOWN = 0, ACL_PT_ANY = 1, ACL_PT_MATCH = 2, ACL_PT_LITERAL = 3, ACL_PT_PREFIXED = 4,
};
/* AclOperation codes. */
enum acl_op {
    ACL_OP_UNKNOWN = 0, ACL_OP_ANY = 1, ACL_OP_ALL = 2, ACL_OP_READ = 3, ACL_OP_WRITE = 4,
    ACL_OP_CREATE = 5, ACL_OP_DELETE = 6, ACL_OP_ALTER = 7, ACL_OP_DESCRIBE = 8,
    ACL_OP_CLUSTER_ACTION = 9, ACL_OP_DESCRIBE_CONFIGS = 10, ACL_OP_ALTER_CONFIGS = 11,
    ACL_OP_IDEMPOTENT_WRITE = 12, ACL_OP_CREATE_TOKENS = 13, ACL_OP_DESCRIBE_TOKENS = 14,
};
#define ACL_OP_MAX 14
/* AclPermissionType codes. */
enum acl_perm { ACL_PERM_UNKNOWN = 0, ACL_PERM_ANY = 1, ACL_PERM_DENY = 2, ACL_PERM_ALLOW = 3 };

#define ACL_CLUSTER_NAME "kafka-cluster"
#define ACL_WILDCARD "*"
#define ACL_WILDCARD_PRINCIPAL "User:*"
/* Bounds on what one binding may carry (a client's create). */
#define ACL_NAME_MAX 4096
#define ACL_PRINCIPAL_MAX (KPRINCIPAL_TYPE_MAX + KPRINCIPAL_NAME_MAX)
#define ACL_HOST_MAX 256

/* One binding; strings are borrowed (NULL in a filter = any). */
typedef struct acl_binding {
    int8_t rtype, pattern, op, perm;
    const char *name;
    const char *principal;
    const char *host;
} acl_binding;

/* Names: Kafka's enum names ("TOPIC", "PREFIXED", "READ", "ALLOW") and
 * the ZooKeeper / kafka-acls spellings ("Topic", "Read", "Allow"). */
const char *acl_rtype_name(int rtype);       /* "TOPIC" */
const char *acl_rtype_zk_name(int rtype);    /* "Topic" (SecurityUtils.resourceTypeName) */
const char *acl_pattern_name(int pattern);   /* "LITERAL" */
const char *acl_pattern_zk_name(int pattern); /* "Literal" (the paths use "prefixed") */
const char *acl_op_name(int op);             /* "READ" */
const char *acl_op_zk_name(int op);          /* "Read" */
const char *acl_perm_name(int perm);         /* "ALLOW" */
const char *acl_perm_zk_name(int perm);      /* "Allow" */
/* Case-insensitive, accepting both spellings and "_"-less forms
 * ("TransactionalId", "TRANSACTIONAL_ID", "clusteraction"); -1 = unknown. */
int acl_rtype_parse(const char *s);
int acl_pattern_parse(const char *s);
int acl_op_parse(const char *s);
int acl_perm_parse(const char *s);

/* S-ACL6: is `b` creatable?  0, or -1 with a Kafka-style message
 * (the caller answers INVALID_REQUEST). */
int acl_binding_validate(const acl_binding *b, char *why, size_t n);
/* A filter with an UNKNOWN (or out of range) field is invalid: -1. */
int acl_filter_validate(const acl_binding *f, char *why, size_t n);
/* Kafka's AclBindingFilter.matches: ANY type/op/perm and NULL strings
 * match everything; pattern ANY matches both kinds by exact name; MATCH
 * with a name matches the literal name, literal "*" and prefixes of it. */
bool acl_filter_matches(const acl_binding *f, const acl_binding *b);

/* Operations a resource type supports (AclEntry.supportedOperations), as a
 * bit set (bit = operation code), for the authorized-operations fields. */
uint32_t acl_supported_ops(int rtype);

/* ---- the authorizer ------------------------------------------------- */

typedef struct acl_entry {
    char *principal;     /* "User:alice", "User:*" */
    char *host;          /* "*" or an address */
    int8_t op, perm;
} acl_entry;

typedef struct acl_resource {
    int8_t rtype, pattern;
    char *name;
    size_t name_len;
    acl_entry *e;
    int n, cap;
} acl_resource;

typedef struct acl_authz {
    pthread_rwlock_t lock;
    bool allow_if_none;           /* allow.everyone.if.no.acl.found; immutable */
    char **super_users;           /* "User:admin"; immutable after init */
    int nsuper;
    acl_resource *res;            /* sorted (rtype, pattern, name); lock */
    int nres, cap;
    uint64_t generation;          /* bumped by every change; lock */
} acl_authz;

/* super_users: super.users (NULL or "" = none). */
int acl_authz_init(acl_authz *a, const char *super_users, bool allow_if_none);
void acl_authz_free(acl_authz *a);

/* The decision for principal at host doing op on (rtype, name) (a literal
 * resource).  S-ACL1..5.  No allocation. */
bool acl_authorize(acl_authz *a, const kprincipal *p, const char *host, int op, int rtype,
                   const char *name, size_t name_len);
/* Kafka's authorizeByResourceType (KIP-679: an idempotent producer may
 * InitProducerId with WRITE on any topic): super user; else refused by a
 * DENY on the literal "*"; else allowed by any applicable ALLOW of op (or
 * ALL) on a resource of the type; with no ACL of the type at all,
 * allow.everyone.if.no.acl.found decides.  A simplification of Kafka's:
 * an ALLOW fully shadowed by narrower DENYs still counts. */
bool acl_authorize_any(acl_authz *a, const kprincipal *p, const char *host, int op, int rtype);
/* The bit set of supported operations the principal may perform. */
uint32_t acl_authorized_ops(acl_authz *a, const kprincipal *p, const char *host, int rtype,
                            const char *name, size_t name_len);
bool acl_is_super(const acl_authz *a, const kprincipal *p);

/* Add one binding (validated by the caller); an identical entry is kept
 * once.  0, or -1 on ENOMEM. */
int acl_authz_add(acl_authz *a, const acl_binding *b);
/* Replace every entry of the resource pattern with `e` (n may be 0: the
 * pattern goes), as a store reload does.  Strings are copied. */
int acl_authz_set_resource(acl_authz *a, int rtype, int pattern, const char *name,
                           const acl_entry *e, int n);
/* Call fn for every binding the filter matches (read lock held: fn must
 * not call back into the authorizer).  Returns the count. */
typedef void (*acl_visit_fn)(const acl_binding *b, void *ctx);
int acl_authz_each(acl_authz *a, const acl_binding *filter, acl_visit_fn fn, void *ctx);
/* Remove every binding the filter matches, calling fn for each before it
 * goes (write lock held).  Returns the count. */
int acl_authz_remove(acl_authz *a, const acl_binding *filter, acl_visit_fn fn, void *ctx);
/* Copy the entries of one resource pattern (malloc'd, free with
 * acl_entries_free).  *n = 0 when it has none. */
int acl_authz_get_resource(acl_authz *a, int rtype, int pattern, const char *name,
                           acl_entry **e, int *n);
void acl_entries_free(acl_entry *e, int n);

#endif
