/*
 * fuzz_acl.c - ACLs from the two places an attacker can write them: the
 * Create/Describe/DeleteAcls request bodies (any client that reaches the
 * port, before the broker checks Cluster ALTER) and Kafka's ACL znodes in
 * ZooKeeper (anyone with ZooKeeper access).
 *
 * Input: byte 0 selects
 *   0..2  a CreateAcls / DescribeAcls / DeleteAcls body (byte 1 = version):
 *         decoded with the broker's schema, every creation validated
 *         (auth/acl.h S-ACL6) and the valid ones added to an authorizer;
 *         every filter validated and run (describe, then delete); then a
 *         few checks run against what was added.
 *   3     a znode body (cluster/acl_store.h acl_json_parse)
 *   4, 5  a literal / extended change notification (acl_change_decode)
 *
 * Oracle: no crash, no leak; what acl_binding_validate accepts is found
 * again by an exact filter; every binding added is removed by the "all"
 * filter, leaving the authorizer empty; an accepted znode body encodes and
 * parses back to the same entries; a decoded change names a concrete
 * resource that encodes back to a notification decoding the same.
 */
#include <stdbool.h>
#include <string.h>

#include "auth/acl.h"
#include "cluster/acl_store.h"
#include "core/arena.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/kreader.h"
#include "proto/messages/create_acls.h"
#include "proto/messages/delete_acls.h"
#include "proto/messages/describe_acls.h"
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

/* NUL-terminated copy in the arena (NULL for null; "" when it holds a NUL). */
static const char *cstr(arena *a, kstr s)
{
    if (s.len < 0 || !s.p)
        return NULL;
    if (memchr(s.p, 0, (size_t)s.len))
        return "";
    return arena_strndup(a, s.p, (size_t)s.len);
}

static const acl_binding ALL = { .rtype = ACL_RT_ANY, .pattern = ACL_PT_ANY, .op = ACL_OP_ANY,
                                 .perm = ACL_PERM_ANY };

static void checks(acl_authz *az)
{
    static const char *const names[] = { "t", "*", "orders-eu", "", "kafka-cluster" };
    kprincipal p;
    kprincipal_set(&p, "User", "alice");
    for (int rt = ACL_RT_TOPIC; rt <= ACL_RT_USER; rt++)
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            for (int op = ACL_OP_ALL; op <= ACL_OP_MAX; op++)
                (void)acl_authorize(az, &p, "10.0.0.1", op, rt, names[i], strlen(names[i]));
            (void)acl_authorized_ops(az, &p, "10.0.0.1", rt, names[i], strlen(names[i]));
        }
    (void)acl_authorize_any(az, &p, "h", ACL_OP_WRITE, ACL_RT_TOPIC);
}

static void run_requests(int api, const uint8_t *data, size_t size)
{
    const kf_struct *s = api == 0 ? &create_acls_req_schema
                       : api == 1 ? &describe_acls_req_schema : &delete_acls_req_schema;
    int maxv = api == 0 ? CREATE_ACLS_MAX_VERSION : api == 1 ? DESCRIBE_ACLS_MAX_VERSION
                                                             : DELETE_ACLS_MAX_VERSION;
    if (size < 1)
        return;
    int ver = data[0] % (maxv + 1);
    arena a;
    arena_init(&a, 16 * size + 65536);
    union { create_acls_req c; describe_acls_req d; delete_acls_req x; } body;
    kreader r;
    kr_init(&r, data + 1, size - 1);
    acl_authz az;
    FUZZ_ASSERT(acl_authz_init(&az, "User:admin;User:ops", (data[0] & 0x80) != 0) == 0, "init");
    if (kcodec_decode(s, ver, ver >= 2, &r, &a, &body) == 0) {
        char why[512];
        int added = 0;
        if (api == 0) {
            for (int32_t i = 0; i < body.c.creations.n; i++) {
                create_acls_req_creations *q = &body.c.creations.v[i];
                acl_binding b = { .rtype = q->resource_type, .pattern = q->resource_pattern_type,
                                  .op = q->operation, .perm = q->permission_type,
                                  .name = cstr(&a, q->resource_name),
                                  .principal = cstr(&a, q->principal), .host = cstr(&a, q->host) };
                if (!b.name || !b.principal || !b.host || acl_binding_validate(&b, why, sizeof why))
                    continue;
                FUZZ_ASSERT(acl_authz_add(&az, &b) == 0, "add");
                acl_binding exact = b;
                FUZZ_ASSERT(acl_authz_each(&az, &exact, NULL, NULL) == 1,
                            "a valid binding is found by its exact filter");
                added++;
            }
            checks(&az);
        } else {
            int nf = api == 1 ? 1 : body.x.filters.n;
            for (int32_t i = 0; i < nf; i++) {
                acl_binding f;
                if (api == 1)
                    f = (acl_binding){ .rtype = body.d.resource_type_filter,
                                       .pattern = body.d.pattern_type_filter,
                                       .op = body.d.operation, .perm = body.d.permission_type,
                                       .name = cstr(&a, body.d.resource_name_filter),
                                       .principal = cstr(&a, body.d.principal_filter),
                                       .host = cstr(&a, body.d.host_filter) };
                else {
                    delete_acls_req_filters *q = &body.x.filters.v[i];
                    f = (acl_binding){ .rtype = q->resource_type_filter,
                                       .pattern = q->pattern_type_filter, .op = q->operation,
                                       .perm = q->permission_type,
                                       .name = cstr(&a, q->resource_name_filter),
                                       .principal = cstr(&a, q->principal_filter),
                                       .host = cstr(&a, q->host_filter) };
                }
                if (acl_filter_validate(&f, why, sizeof why))
                    continue;
                /* A fixed population to filter. */
                static const acl_binding pop[] = {
                    { ACL_RT_TOPIC, ACL_PT_LITERAL, ACL_OP_READ, ACL_PERM_ALLOW, "t", "User:a", "*" },
                    { ACL_RT_TOPIC, ACL_PT_LITERAL, ACL_OP_READ, ACL_PERM_DENY, "*", "User:*", "h" },
                    { ACL_RT_TOPIC, ACL_PT_PREFIXED, ACL_OP_WRITE, ACL_PERM_ALLOW, "t", "User:b", "*" },
                    { ACL_RT_GROUP, ACL_PT_PREFIXED, ACL_OP_ALL, ACL_PERM_ALLOW, "g", "User:a", "*" },
                };
                for (size_t k = 0; k < sizeof pop / sizeof pop[0]; k++)
                    FUZZ_ASSERT(acl_authz_add(&az, &pop[k]) == 0, "add");
                int seen = acl_authz_each(&az, &f, NULL, NULL);
                int gone = acl_authz_remove(&az, &f, NULL, NULL);
                FUZZ_ASSERT(seen == gone, "delete removes what describe lists (%d, %d)", seen, gone);
                FUZZ_ASSERT(acl_authz_each(&az, &f, NULL, NULL) == 0, "nothing left matching");
                checks(&az);
            }
        }
        int left = acl_authz_each(&az, &ALL, NULL, NULL);
        FUZZ_ASSERT(acl_authz_remove(&az, &ALL, NULL, NULL) == left, "remove all");
        FUZZ_ASSERT(az.nres == 0, "empty after removing everything (%d)", az.nres);
        (void)added;
    }
    acl_authz_free(&az);
    arena_reset(&a);
}

static void run_znode(const char *js, size_t len)
{
    acl_entry *e, *e2;
    int n, n2;
    char why[256];
    if (acl_json_parse(js, len, &e, &n, why, sizeof why))
        return;
    char *enc = acl_json_encode(e, n);
    FUZZ_ASSERT(enc != NULL, "encode");
    FUZZ_ASSERT(acl_json_parse(enc, strlen(enc), &e2, &n2, why, sizeof why) == 0,
                "our encoding parses: %s", why);
    FUZZ_ASSERT(n == n2, "same count");
    for (int i = 0; i < n; i++)
        FUZZ_ASSERT(e[i].op == e2[i].op && e[i].perm == e2[i].perm &&
                    !strcmp(e[i].principal, e2[i].principal) && !strcmp(e[i].host, e2[i].host),
                    "entry %d round-trips", i);
    acl_entries_free(e2, n2);
    acl_entries_free(e, n);
    free(enc);
}

static void run_change(const char *s, size_t len, bool ext)
{
    int rt, pt, rt2, pt2;
    char name[ACL_NAME_MAX + 1], name2[ACL_NAME_MAX + 1], buf[ACL_NAME_MAX + 256];
    if (acl_change_decode(s, len, ext, &rt, &pt, name, sizeof name))
        return;
    FUZZ_ASSERT(rt > ACL_RT_ANY && rt <= ACL_RT_USER, "concrete type %d", rt);
    FUZZ_ASSERT(pt == ACL_PT_LITERAL || pt == ACL_PT_PREFIXED, "concrete pattern %d", pt);
    if (!ext && acl_change_encode(rt, ACL_PT_LITERAL, name, buf, sizeof buf) == 0) {
        FUZZ_ASSERT(acl_change_decode(buf, strlen(buf), false, &rt2, &pt2, name2, sizeof name2) == 0,
                    "literal change round-trips");
        FUZZ_ASSERT(rt == rt2 && !strcmp(name, name2), "same resource");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int sel = data[0] % 6;
    const char *js = (const char *)data + 1;
    size_t len = size - 1;
    if (sel <= 2)
        run_requests(sel, data + 1, len);
    else if (sel == 3)
        run_znode(js, len);
    else
        run_change(js, len, sel == 5);
    return 0;
}
