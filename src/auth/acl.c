/* acl.c - see acl.h.  Kafka's ACL model, filters and the authorizer's
 * decision (AclAuthorizer.authorize / AuthorizerUtils), over a sorted
 * array of resource patterns guarded by a read-mostly lock. */
#include "auth/acl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ---------------------------------------------------------- */

static const char *const rt_names[] = { "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER",
                                        "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER" };
static const char *const rt_zk[] = { "Unknown", "Any", "Topic", "Group", "Cluster",
                                     "TransactionalId", "DelegationToken", "User" };
static const char *const pt_names[] = { "UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED" };
static const char *const pt_zk[] = { "Unknown", "Any", "Match", "Literal", "Prefixed" };
static const char *const op_names[] = { "UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE",
                                        "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION",
                                        "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
                                        "CREATE_TOKENS", "DESCRIBE_TOKENS" };
static const char *const op_zk[] = { "Unknown", "Any", "All", "Read", "Write", "Create",
                                     "Delete", "Alter", "Describe", "ClusterAction",
                                     "DescribeConfigs", "AlterConfigs", "IdempotentWrite",
                                     "CreateTokens", "DescribeTokens" };
static const char *const perm_names[] = { "UNKNOWN", "ANY", "DENY", "ALLOW" };
static const char *const perm_zk[] = { "Unknown", "Any", "Deny", "Allow" };

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define NAME_OF(tab, v) ((v) >= 0 && (v) < NELEM(tab) ? (tab)[v] : "UNKNOWN")

const char *acl_rtype_name(int v) { return NAME_OF(rt_names, v); }
const char *acl_rtype_zk_name(int v) { return NAME_OF(rt_zk, v); }
const char *acl_pattern_name(int v) { return NAME_OF(pt_names, v); }
const char *acl_pattern_zk_name(int v) { return NAME_OF(pt_zk, v); }
const char *acl_op_name(int v) { return NAME_OF(op_names, v); }
const char *acl_op_zk_name(int v) { return NAME_OF(op_zk, v); }
const char *acl_perm_name(int v) { return NAME_OF(perm_names, v); }
const char *acl_perm_zk_name(int v) { return NAME_OF(perm_zk, v); }

/* Case-insensitive compare ignoring '_' and '-' ("TransactionalId" =
 * "TRANSACTIONAL_ID" = "transactional-id"). */
static bool name_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_' || *a == '-')
            a++;
        while (*b == '_' || *b == '-')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        a++, b++;
    }
}

static int parse_in(const char *const *tab, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (name_eq(tab[i], s))
            return i;
    return -1;
}

int acl_rtype_parse(const char *s) { return parse_in(rt_names, NELEM(rt_names), s); }
int acl_pattern_parse(const char *s) { return parse_in(pt_names, NELEM(pt_names), s); }
int acl_op_parse(const char *s) { return parse_in(op_names, NELEM(op_names), s); }
int acl_perm_parse(const char *s) { return parse_in(perm_names, NELEM(perm_names), s); }

/* ---- validation and filters ----------------------------------------- */

static int why_fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_fail(char *why, size_t n, const char *fmt, ...)
{
    if (why && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* SecurityUtils.parseKafkaPrincipal: "Type:name" with a non-empty type. */
static bool principal_ok(const char *p)
{
    const char *c = p ? strchr(p, ':') : NULL;
    return c && c != p && (size_t)(c - p) < KPRINCIPAL_TYPE_MAX &&
           strlen(c + 1) < KPRINCIPAL_NAME_MAX;
}

int acl_binding_validate(const acl_binding *b, char *why, size_t n)
{
    /* S-ACL6: concrete values only. */
    if (b->rtype <= ACL_RT_ANY || b->rtype > ACL_RT_USER)
        return why_fail(why, n, "Invalid resource type %d for an ACL binding", b->rtype);
    if (b->pattern != ACL_PT_LITERAL && b->pattern != ACL_PT_PREFIXED)
        return why_fail(why, n, "Invalid pattern type %s for an ACL binding (LITERAL or PREFIXED)",
                        acl_pattern_name(b->pattern));
    if (b->op <= ACL_OP_ANY || b->op > ACL_OP_MAX)
        return why_fail(why, n, "Invalid operation %d for an ACL binding", b->op);
    if (b->perm != ACL_PERM_ALLOW && b->perm != ACL_PERM_DENY)
        return why_fail(why, n, "Invalid permission type %d for an ACL binding", b->perm);
    if (!b->name || !*b->name)
        return why_fail(why, n, "Invalid empty resource name");
    if (strlen(b->name) > ACL_NAME_MAX || strchr(b->name, '/'))
        return why_fail(why, n, "Invalid resource name (at most %d bytes, no '/')", ACL_NAME_MAX);
    if (b->rtype == ACL_RT_CLUSTER && strcmp(b->name, ACL_CLUSTER_NAME))
        return why_fail(why, n, "The only valid name for the CLUSTER resource is " ACL_CLUSTER_NAME);
    if (!principal_ok(b->principal))
        return why_fail(why, n, "Invalid principal: expected a string in format "
                                "principalType:principalName");
    if (!b->host || !*b->host || strlen(b->host) >= ACL_HOST_MAX)
        return why_fail(why, n, "Invalid host: expected '*' or an address");
    if (!(acl_supported_ops(b->rtype) & (1u << b->op)) && b->op != ACL_OP_ALL)
        return why_fail(why, n, "Operation %s is not supported on resource type %s",
                        acl_op_name(b->op), acl_rtype_name(b->rtype));
    return 0;
}

int acl_filter_validate(const acl_binding *f, char *why, size_t n)
{
    if (f->rtype <= ACL_RT_UNKNOWN || f->rtype > ACL_RT_USER || f->pattern <= ACL_PT_UNKNOWN ||
        f->pattern > ACL_PT_PREFIXED || f->op <= ACL_OP_UNKNOWN || f->op > ACL_OP_MAX ||
        f->perm <= ACL_PERM_UNKNOWN || f->perm > ACL_PERM_ALLOW)
        return why_fail(why, n, "The filter contains UNKNOWN elements");
    return 0;
}

static bool pattern_matches(const acl_binding *f, const acl_binding *b)
{
    if (f->rtype != ACL_RT_ANY && f->rtype != b->rtype)
        return false;
    if (f->pattern != ACL_PT_ANY && f->pattern != ACL_PT_MATCH && f->pattern != b->pattern)
        return false;
    if (!f->name)
        return true;
    if (f->pattern == ACL_PT_ANY || f->pattern == b->pattern)
        return !strcmp(f->name, b->name);
    /* MATCH: what a check of the literal name would consult. */
    if (b->pattern == ACL_PT_LITERAL)
        return !strcmp(f->name, b->name) || !strcmp(b->name, ACL_WILDCARD);
    return b->pattern == ACL_PT_PREFIXED && !strncmp(f->name, b->name, strlen(b->name));
}

bool acl_filter_matches(const acl_binding *f, const acl_binding *b)
{
    if (!pattern_matches(f, b))
        return false;
    if (f->principal && strcmp(f->principal, b->principal))
        return false;
    if (f->host && strcmp(f->host, b->host))
        return false;
    if (f->op != ACL_OP_ANY && f->op != b->op)
        return false;
    return f->perm == ACL_PERM_ANY || f->perm == b->perm;
}

#define B(op) (1u << ACL_OP_##op)
uint32_t acl_supported_ops(int rtype)
{
    switch (rtype) {
    case ACL_RT_TOPIC:
        return B(READ) | B(WRITE) | B(CREATE) | B(DESCRIBE) | B(DELETE) | B(ALTER) |
               B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS);
    case ACL_RT_GROUP: return B(READ) | B(DESCRIBE) | B(DELETE);
    case ACL_RT_CLUSTER:
        return B(CREATE) | B(CLUSTER_ACTION) | B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS) |
               B(IDEMPOTENT_WRITE) | B(ALTER) | B(DESCRIBE);
    case ACL_RT_TRANSACTIONAL_ID: return B(DESCRIBE) | B(WRITE);
    case ACL_RT_DELEGATION_TOKEN: return B(DESCRIBE);
    case ACL_RT_USER: return B(CREATE_TOKENS) | B(DESCRIBE_TOKENS);
    default: return 0;
    }
}

/* ---- the index ------------------------------------------------------ */

static int res_cmp(int rt, int pt, const char *name, size_t len, const acl_resource *r)
{
    if (rt != r->rtype)
        return rt < r->rtype ? -1 : 1;
    if (pt != r->pattern)
        return pt < r->pattern ? -1 : 1;
    size_t m = len < r->name_len ? len : r->name_len;
    int c = memcmp(name, r->name, m);
    if (c)
        return c;
    return len == r->name_len ? 0 : len < r->name_len ? -1 : 1;
}

/* Index of the pattern, or -(insertion point) - 1. */
static int res_find(const acl_authz *a, int rt, int pt, const char *name, size_t len)
{
    int lo = 0, hi = a->nres;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = res_cmp(rt, pt, name, len, &a->res[mid]);
        if (!c)
            return mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -lo - 1;
}

/* First index whose (rtype, pattern) is >= (rt, pt). */
static int res_lower(const acl_authz *a, int rt, int pt)
{
    int lo = 0, hi = a->nres;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        const acl_resource *r = &a->res[mid];
        if (r->rtype < rt || (r->rtype == rt && r->pattern < pt))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static char **split_super(const char *s, int *n)
{
    *n = 0;
    if (!s || !*s)
        return NULL;
    size_t cnt = 1;
    for (const char *p = s; *p; p++)
        cnt += *p == ';';
    char **v = calloc(cnt, sizeof *v);
    if (!v)
        return NULL;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len && (v[*n] = strndup(p, len)))
            (*n)++;
        if (!e)
            break;
        p = e + 1;
    }
    return v;
}

int acl_authz_init(acl_authz *a, const char *super_users, bool allow_if_none)
{
    memset(a, 0, sizeof *a);
    if (pthread_rwlock_init(&a->lock, NULL))
        return -1;
    a->allow_if_none = allow_if_none;
    a->super_users = split_super(super_users, &a->nsuper);
    return 0;
}

static void entry_free(acl_entry *e)
{
    free(e->principal);
    free(e->host);
}

static void res_free(acl_resource *r)
{
    for (int i = 0; i < r->n; i++)
        entry_free(&r->e[i]);
    free(r->e);
    free(r->name);
}

void acl_authz_free(acl_authz *a)
{
    for (int i = 0; i < a->nres; i++)
        res_free(&a->res[i]);
    free(a->res);
    for (int i = 0; i < a->nsuper; i++)
        free(a->super_users[i]);
    free(a->super_users);
    pthread_rwlock_destroy(&a->lock);
    memset(a, 0, sizeof *a);
}

/* "Type:name" against a principal, without formatting it. */
static bool principal_is(const char *s, const kprincipal *p)
{
    size_t tl = strlen(p->type);
    return !strncmp(s, p->type, tl) && s[tl] == ':' && !strcmp(s + tl + 1, p->name);
}

bool acl_is_super(const acl_authz *a, const kprincipal *p)
{
    for (int i = 0; i < a->nsuper; i++)
        if (principal_is(a->super_users[i], p))
            return true;
    return false;
}

/* S-ACL5 */
static bool entry_applies(const acl_entry *e, const kprincipal *p, const char *host)
{
    return (!strcmp(e->principal, ACL_WILDCARD_PRINCIPAL) || principal_is(e->principal, p)) &&
           (!strcmp(e->host, ACL_WILDCARD) || !strcmp(e->host, host));
}

/* What the matching patterns say for one operation: bit 0 = some pattern
 * matched at all, bit 1 = DENY for op, bit 2 = ALLOW for op (or implying). */
enum { SEEN = 1, DENIED = 2, ALLOWED = 4 };

static uint32_t implied_by(int op)
{
    if (op == ACL_OP_DESCRIBE)
        return B(DESCRIBE) | B(READ) | B(WRITE) | B(DELETE) | B(ALTER);
    if (op == ACL_OP_DESCRIBE_CONFIGS)
        return B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS);
    return 1u << op;
}

static int scan_res(const acl_resource *r, const kprincipal *p, const char *host, int op, int st)
{
    uint32_t allow = implied_by(op) | B(ALL);
    for (int i = 0; i < r->n; i++) {
        const acl_entry *e = &r->e[i];
        st |= SEEN;
        if (!entry_applies(e, p, host))
            continue;
        if (e->perm == ACL_PERM_DENY && (e->op == op || e->op == ACL_OP_ALL))
            st |= DENIED;
        else if (e->perm == ACL_PERM_ALLOW && (allow & (1u << e->op)))
            st |= ALLOWED;
    }
    return st;
}

/* Read lock held. */
static int decide_locked(acl_authz *a, const kprincipal *p, const char *host, int op, int rtype,
                         const char *name, size_t len)
{
    int st = 0;
    int i = res_find(a, rtype, ACL_PT_LITERAL, name, len);
    if (i >= 0)
        st = scan_res(&a->res[i], p, host, op, st);
    if (!(len == 1 && name[0] == '*') &&
        (i = res_find(a, rtype, ACL_PT_LITERAL, ACL_WILDCARD, 1)) >= 0)
        st = scan_res(&a->res[i], p, host, op, st);
    for (i = res_lower(a, rtype, ACL_PT_PREFIXED);
         i < a->nres && a->res[i].rtype == rtype && a->res[i].pattern == ACL_PT_PREFIXED; i++) {
        const acl_resource *r = &a->res[i];
        if (r->name_len > len)
            continue;
        int c = memcmp(r->name, name, r->name_len);
        if (c > 0)
            break;      /* sorted: every later prefix is greater too */
        if (!c)
            st = scan_res(r, p, host, op, st);
    }
    return st;
}

static bool verdict(const acl_authz *a, int st)
{
    if (!(st & SEEN))
        return a->allow_if_none;            /* S-ACL2 */
    return !(st & DENIED) && (st & ALLOWED); /* S-ACL3, S-ACL4 */
}

bool acl_authorize(acl_authz *a, const kprincipal *p, const char *host, int op, int rtype,
                   const char *name, size_t name_len)
{
    if (acl_is_super(a, p))                 /* S-ACL1 */
        return true;
    if (!host)
        host = "";
    pthread_rwlock_rdlock(&a->lock);
    int st = decide_locked(a, p, host, op, rtype, name, name_len);
    pthread_rwlock_unlock(&a->lock);
    return verdict(a, st);
}

bool acl_authorize_any(acl_authz *a, const kprincipal *p, const char *host, int op, int rtype)
{
    if (acl_is_super(a, p))
        return true;
    if (!host)
        host = "";
    bool seen = false, allowed = false, denied = false;
    pthread_rwlock_rdlock(&a->lock);
    for (int i = res_lower(a, rtype, ACL_PT_LITERAL); i < a->nres && a->res[i].rtype == rtype;
         i++) {
        const acl_resource *r = &a->res[i];
        bool star = r->pattern == ACL_PT_LITERAL && r->name_len == 1 && r->name[0] == '*';
        for (int j = 0; j < r->n; j++) {
            const acl_entry *e = &r->e[j];
            seen = true;
            if (!entry_applies(e, p, host) || (e->op != op && e->op != ACL_OP_ALL))
                continue;
            if (e->perm == ACL_PERM_DENY)
                denied |= star;
            else
                allowed = true;
        }
    }
    pthread_rwlock_unlock(&a->lock);
    if (!seen)
        return a->allow_if_none;
    return allowed && !denied;
}

uint32_t acl_authorized_ops(acl_authz *a, const kprincipal *p, const char *host, int rtype,
                            const char *name, size_t name_len)
{
    uint32_t sup = acl_supported_ops(rtype), out = 0;
    if (acl_is_super(a, p))
        return sup;
    if (!host)
        host = "";
    pthread_rwlock_rdlock(&a->lock);
    for (int op = ACL_OP_READ; op <= ACL_OP_MAX; op++)
        if ((sup & (1u << op)) && verdict(a, decide_locked(a, p, host, op, rtype, name, name_len)))
            out |= 1u << op;
    pthread_rwlock_unlock(&a->lock);
    return out;
}

/* ---- changes -------------------------------------------------------- */

static bool entry_eq(const acl_entry *e, const char *principal, const char *host, int op,
                     int perm)
{
    return e->op == op && e->perm == perm && !strcmp(e->principal, principal) &&
           !strcmp(e->host, host);
}

static int entry_push(acl_resource *r, const char *principal, const char *host, int op, int perm)
{
    for (int i = 0; i < r->n; i++)
        if (entry_eq(&r->e[i], principal, host, op, perm))
            return 0;
    if (r->n == r->cap) {
        int nc = r->cap ? r->cap * 2 : 4;
        acl_entry *ne = realloc(r->e, (size_t)nc * sizeof *ne);
        if (!ne)
            return -1;
        r->e = ne;
        r->cap = nc;
    }
    acl_entry *e = &r->e[r->n];
    e->principal = strdup(principal);
    e->host = strdup(host);
    e->op = (int8_t)op;
    e->perm = (int8_t)perm;
    if (!e->principal || !e->host) {
        entry_free(e);
        return -1;
    }
    r->n++;
    return 0;
}

/* Write lock held: the resource, created empty when missing (NULL on ENOMEM). */
static acl_resource *res_get_or_add(acl_authz *a, int rt, int pt, const char *name)
{
    size_t len = strlen(name);
    int i = res_find(a, rt, pt, name, len);
    if (i >= 0)
        return &a->res[i];
    i = -i - 1;
    if (a->nres == a->cap) {
        int nc = a->cap ? a->cap * 2 : 16;
        acl_resource *nr = realloc(a->res, (size_t)nc * sizeof *nr);
        if (!nr)
            return NULL;
        a->res = nr;
        a->cap = nc;
    }
    char *dup = strdup(name);
    if (!dup)
        return NULL;
    memmove(&a->res[i + 1], &a->res[i], (size_t)(a->nres - i) * sizeof *a->res);
    a->res[i] = (acl_resource){ .rtype = (int8_t)rt, .pattern = (int8_t)pt, .name = dup,
                                .name_len = len };
    a->nres++;
    return &a->res[i];
}

static void res_drop_if_empty(acl_authz *a, int i)
{
    if (a->res[i].n)
        return;
    res_free(&a->res[i]);
    memmove(&a->res[i], &a->res[i + 1], (size_t)(a->nres - i - 1) * sizeof *a->res);
    a->nres--;
}

int acl_authz_add(acl_authz *a, const acl_binding *b)
{
    pthread_rwlock_wrlock(&a->lock);
    acl_resource *r = res_get_or_add(a, b->rtype, b->pattern, b->name);
    int rc = r ? entry_push(r, b->principal, b->host, b->op, b->perm) : -1;
    if (r)
        res_drop_if_empty(a, (int)(r - a->res));
    a->generation++;
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

int acl_authz_set_resource(acl_authz *a, int rtype, int pattern, const char *name,
                           const acl_entry *e, int n)
{
    int rc = 0;
    pthread_rwlock_wrlock(&a->lock);
    acl_resource *r = res_get_or_add(a, rtype, pattern, name);
    if (!r) {
        rc = -1;
        goto out;
    }
    for (int i = 0; i < r->n; i++)
        entry_free(&r->e[i]);
    r->n = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = entry_push(r, e[i].principal, e[i].host, e[i].op, e[i].perm);
    res_drop_if_empty(a, (int)(r - a->res));
out:
    a->generation++;
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

static acl_binding as_binding(const acl_resource *r, const acl_entry *e)
{
    return (acl_binding){ .rtype = r->rtype, .pattern = r->pattern, .name = r->name,
                          .principal = e->principal, .host = e->host, .op = e->op,
                          .perm = e->perm };
}

int acl_authz_each(acl_authz *a, const acl_binding *f, acl_visit_fn fn, void *ctx)
{
    int cnt = 0;
    pthread_rwlock_rdlock(&a->lock);
    for (int i = 0; i < a->nres; i++) {
        const acl_resource *r = &a->res[i];
        for (int j = 0; j < r->n; j++) {
            acl_binding b = as_binding(r, &r->e[j]);
            if (!acl_filter_matches(f, &b))
                continue;
            cnt++;
            if (fn)
                fn(&b, ctx);
        }
    }
    pthread_rwlock_unlock(&a->lock);
    return cnt;
}

int acl_authz_remove(acl_authz *a, const acl_binding *f, acl_visit_fn fn, void *ctx)
{
    int cnt = 0;
    pthread_rwlock_wrlock(&a->lock);
    for (int i = 0; i < a->nres;) {
        acl_resource *r = &a->res[i];
        for (int j = 0; j < r->n;) {
            acl_binding b = as_binding(r, &r->e[j]);
            if (!acl_filter_matches(f, &b)) {
                j++;
                continue;
            }
            cnt++;
            if (fn)
                fn(&b, ctx);
            entry_free(&r->e[j]);
            r->e[j] = r->e[--r->n];
        }
        if (!r->n)
            res_drop_if_empty(a, i);
        else
            i++;
    }
    if (cnt)
        a->generation++;
    pthread_rwlock_unlock(&a->lock);
    return cnt;
}

int acl_authz_get_resource(acl_authz *a, int rtype, int pattern, const char *name,
                           acl_entry **out, int *n)
{
    int rc = 0;
    *out = NULL;
    *n = 0;
    pthread_rwlock_rdlock(&a->lock);
    int i = res_find(a, rtype, pattern, name, strlen(name));
    if (i >= 0 && a->res[i].n) {
        const acl_resource *r = &a->res[i];
        acl_entry *e = calloc((size_t)r->n, sizeof *e);
        if (!e) {
            rc = -1;
            goto out;
        }
        for (int j = 0; j < r->n; j++) {
            e[j] = (acl_entry){ .principal = strdup(r->e[j].principal),
                                .host = strdup(r->e[j].host), .op = r->e[j].op,
                                .perm = r->e[j].perm };
            if (!e[j].principal || !e[j].host) {
                acl_entries_free(e, j + 1);
                rc = -1;
                goto out;
            }
        }
        *out = e;
        *n = r->n;
    }
out:
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

void acl_entries_free(acl_entry *e, int n)
{
    for (int i = 0; i < n; i++)
        entry_free(&e[i]);
    free(e);
}
