/*
 * principal.h - who a connection is: Kafka's KafkaPrincipal ("User:alice").
 *
 * Set once per connection by the server layer: "User:ANONYMOUS" on a
 * PLAINTEXT listener (and on SSL without a client certificate), the mapped
 * certificate subject on SSL with a client certificate
 * (ssl.principal.mapping.rules), the authenticated SASL identity on
 * SASL_PLAINTEXT / SASL_SSL.  The authorizer (ACLs) and quotas read it.
 * Plain value type: copied, never shared.
 */
#ifndef SAMSA_AUTH_PRINCIPAL_H
#define SAMSA_AUTH_PRINCIPAL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define KPRINCIPAL_TYPE_MAX 32
#define KPRINCIPAL_NAME_MAX 512

typedef struct kprincipal {
    char type[KPRINCIPAL_TYPE_MAX];   /* "User" (Kafka's only built-in type) */
    char name[KPRINCIPAL_NAME_MAX];   /* "alice", "CN=broker0,O=Samsa", "ANONYMOUS" */
} kprincipal;

#define KPRINCIPAL_ANONYMOUS_NAME "ANONYMOUS"

static inline void kprincipal_set(kprincipal *p, const char *type, const char *name)
{
    snprintf(p->type, sizeof p->type, "%s", type);
    snprintf(p->name, sizeof p->name, "%s", name);
}

static inline void kprincipal_anonymous(kprincipal *p)
{
    kprincipal_set(p, "User", KPRINCIPAL_ANONYMOUS_NAME);
}

/* "Type:name", as ACL bindings and super.users spell it. */
static inline const char *kprincipal_str(const kprincipal *p, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%s", p->type, p->name);
    return buf;
}

static inline bool kprincipal_eq(const kprincipal *a, const kprincipal *b)
{
    return !strcmp(a->type, b->type) && !strcmp(a->name, b->name);
}

#endif
