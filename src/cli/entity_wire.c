/* entity_wire.c - see entity.h. */
#include <openssl/evp.h>
#include <string.h>

#include "cli/entity.h"
#include "cli/wire.h"

static void put_cbytes(wbuf_t *w, const uint8_t *p, size_t n)
{
    put_uvarint(w, (uint32_t)n + 1);
    put(w, p, n);
}

static void put_f64(wbuf_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put64(w, (int64_t)u);
}

static double get_f64(rbuf_t *r)
{
    uint64_t u = (uint64_t)get64(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int8_t get8(rbuf_t *r)
{
    const uint8_t *b = take(r, 1);
    return b ? (int8_t)*b : 0;
}

/* A compact nullable string: false when null. */
static bool get_cstr_n(rbuf_t *r, char *buf, size_t cap)
{
    const uint8_t *save = r->p;
    size_t left = r->left;
    uint32_t n = get_uvarint(r);
    if (!r->bad && n == 0) {
        buf[0] = 0;
        return false;
    }
    r->p = save;
    r->left = left;
    get_cstr(r, buf, cap);
    return true;
}

static size_t finish(wbuf_t *w)
{
    put_uvarint(w, 0);                   /* the body's tagged fields */
    return wbuf_finish(w);
}

static int done(rbuf_t *r, char *err, size_t errlen)
{
    skip_tags(r);
    if (r->bad || r->left) {
        snprintf(err, errlen, "%s", r->bad ? "truncated or mismatched response" : "trailing bytes");
        return -1;
    }
    return 0;
}

size_t cli_scram_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const char *const *users, int nusers)
{
    wbuf_t w = { buf, 0, cap, 0 };
    req_header(&w, CLI_API_DESCRIBE_USER_SCRAM, 0, corr, client_id, 1);
    if (nusers <= 0) {
        put_uvarint(&w, 0);              /* null: every user */
    } else {
        put_uvarint(&w, (uint32_t)nusers + 1);
        for (int i = 0; i < nusers; i++) {
            put_cstr(&w, users[i]);
            put_uvarint(&w, 0);
        }
    }
    return finish(&w);
}

size_t cli_scram_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              const cli_scram_op_t *ops, int nops)
{
    wbuf_t w = { buf, 0, cap, 0 };
    req_header(&w, CLI_API_ALTER_USER_SCRAM, 0, corr, client_id, 1);
    int nd = 0, nu = 0;
    for (int i = 0; i < nops; i++)
        ops[i].upsert ? nu++ : nd++;
    put_uvarint(&w, (uint32_t)nd + 1);
    for (int i = 0; i < nops; i++)
        if (!ops[i].upsert) {
            put_cstr(&w, ops[i].user);
            put8(&w, ops[i].mech);
            put_uvarint(&w, 0);
        }
    put_uvarint(&w, (uint32_t)nu + 1);
    for (int i = 0; i < nops; i++)
        if (ops[i].upsert) {
            put_cstr(&w, ops[i].user);
            put8(&w, ops[i].mech);
            put32(&w, ops[i].iterations);
            put_cbytes(&w, ops[i].salt, ops[i].salt_len);
            put_cbytes(&w, ops[i].salted, ops[i].salted_len);
            put_uvarint(&w, 0);
        }
    return finish(&w);
}

static void put_component(wbuf_t *w, const char *type, int8_t match, const char *name)
{
    put_cstr(w, type);
    put8(w, match);
    put_cstr(w, match == 0 ? name : NULL);
    put_uvarint(w, 0);
}

size_t cli_quota_encode_describe(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const cli_qfilter_t *f, bool strict)
{
    wbuf_t w = { buf, 0, cap, 0 };
    req_header(&w, CLI_API_DESCRIBE_CLIENT_QUOTAS, 1, corr, client_id, 1);
    put_uvarint(&w, (uint32_t)(f->has_user + f->has_client) + 1);
    if (f->has_user)
        put_component(&w, "user", f->user_match, f->user);
    if (f->has_client)
        put_component(&w, "client-id", f->client_match, f->client);
    put8(&w, strict ? 1 : 0);
    return finish(&w);
}

size_t cli_quota_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              const cli_qentity_t *e, const cli_qop_t *ops, int nops)
{
    wbuf_t w = { buf, 0, cap, 0 };
    req_header(&w, CLI_API_ALTER_CLIENT_QUOTAS, 1, corr, client_id, 1);
    put_uvarint(&w, 2);                  /* one entry */
    put_uvarint(&w, (uint32_t)(e->has_user + e->has_client) + 1);
    if (e->has_user) {
        put_cstr(&w, "user");
        put_cstr(&w, e->user);
        put_uvarint(&w, 0);
    }
    if (e->has_client) {
        put_cstr(&w, "client-id");
        put_cstr(&w, e->client);
        put_uvarint(&w, 0);
    }
    put_uvarint(&w, (uint32_t)nops + 1);
    for (int i = 0; i < nops; i++) {
        put_cstr(&w, ops[i].key);
        put_f64(&w, ops[i].value);
        put8(&w, ops[i].remove ? 1 : 0);
        put_uvarint(&w, 0);
    }
    put_uvarint(&w, 0);                  /* the entry's tagged fields */
    put8(&w, 0);                         /* validate_only */
    return finish(&w);
}

static int user_results(rbuf_t *r, bool describe, cli_user_results_t *out)
{
    int32_t n = get_ccount(r, 4);
    if (r->bad)
        return -1;
    if (n < 0)
        n = 0;
    out->v = calloc((size_t)(n ? n : 1), sizeof *out->v);
    if (!out->v)
        return -1;
    for (int32_t i = 0; i < n && !r->bad; i++) {
        cli_user_result_t *u = &out->v[i];
        get_cstr(r, u->user, sizeof u->user);
        u->error = get16(r);
        get_cstr(r, u->message, sizeof u->message);
        if (describe) {
            int32_t nc = get_ccount(r, 6);
            for (int32_t k = 0; k < nc && !r->bad; k++) {
                int8_t m = get8(r);
                int32_t it = get32(r);
                skip_tags(r);
                if (u->ncreds < 8) {
                    u->mech[u->ncreds] = m;
                    u->iterations[u->ncreds++] = it;
                }
            }
        }
        skip_tags(r);
        out->n++;
    }
    return r->bad ? -1 : 0;
}

/* Describe (top-level error, credential infos) or Alter's answer. */
static int scram_decode(const uint8_t *p, size_t len, int32_t corr, bool describe,
                        cli_user_results_t *out, char *err, size_t errlen)
{
    rbuf_t r = { p, len, 0 };
    memset(out, 0, sizeof *out);
    resp_header(&r, corr, 1);
    get32(&r);                           /* throttle_time_ms */
    if (describe) {
        out->error = get16(&r);
        get_cstr(&r, out->message, sizeof out->message);
    }
    if (user_results(&r, describe, out) < 0 || done(&r, err, errlen) < 0) {
        snprintf(err, errlen, "malformed %sUserScramCredentials response",
                 describe ? "Describe" : "Alter");
        cli_user_results_free(out);
        return -1;
    }
    return 0;
}

int cli_scram_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_user_results_t *out,
                              char *err, size_t errlen)
{
    return scram_decode(p, len, corr, true, out, err, errlen);
}

int cli_scram_decode_alter(const uint8_t *p, size_t len, int32_t corr, cli_user_results_t *out,
                           char *err, size_t errlen)
{
    return scram_decode(p, len, corr, false, out, err, errlen);
}

int cli_quota_decode_describe(const uint8_t *p, size_t len, int32_t corr, cli_qentries_t *out,
                              char *err, size_t errlen)
{
    rbuf_t r = { p, len, 0 };
    memset(out, 0, sizeof *out);
    resp_header(&r, corr, 1);
    get32(&r);
    out->error = get16(&r);
    get_cstr(&r, out->message, sizeof out->message);
    int32_t n = get_ccount(&r, 3);
    if (n > 0 && !(out->v = calloc((size_t)n, sizeof *out->v)))
        r.bad = 1;
    for (int32_t i = 0; i < n && !r.bad; i++) {
        cli_qentry_t *e = &out->v[i];
        int32_t ne = get_ccount(&r, 3);
        for (int32_t k = 0; k < ne && !r.bad; k++) {
            char type[32], name[CLI_NAME_MAX];
            get_cstr(&r, type, sizeof type);
            bool named = get_cstr_n(&r, name, sizeof name);
            skip_tags(&r);
            if (!strcmp(type, "user")) {
                e->has_user = true;
                e->user_default = !named;
                snprintf(e->user, sizeof e->user, "%s", name);
            } else if (!strcmp(type, "client-id")) {
                e->has_client = true;
                e->client_default = !named;
                snprintf(e->client, sizeof e->client, "%s", name);
            }
        }
        int32_t nv = get_ccount(&r, 10);
        for (int32_t k = 0; k < nv && !r.bad; k++) {
            char key[32];
            get_cstr(&r, key, sizeof key);
            double v = get_f64(&r);
            skip_tags(&r);
            if (e->nvalues < 4) {
                snprintf(e->key[e->nvalues], sizeof e->key[0], "%s", key);
                e->value[e->nvalues++] = v;
            }
        }
        skip_tags(&r);
        out->n++;
    }
    if (r.bad || done(&r, err, errlen) < 0) {
        snprintf(err, errlen, "malformed DescribeClientQuotas response");
        cli_qentries_free(out);
        return -1;
    }
    return 0;
}

int cli_quota_decode_alter(const uint8_t *p, size_t len, int32_t corr, int16_t *error,
                           char *msg, size_t msglen, char *err, size_t errlen)
{
    rbuf_t r = { p, len, 0 };
    *error = 0;
    msg[0] = 0;
    resp_header(&r, corr, 1);
    get32(&r);
    int32_t n = get_ccount(&r, 3);
    for (int32_t i = 0; i < n && !r.bad; i++) {
        int16_t e = get16(&r);
        char m[512];
        get_cstr(&r, m, sizeof m);
        if (i == 0) {
            *error = e;
            snprintf(msg, msglen, "%s", m);
        }
        int32_t ne = get_ccount(&r, 3);
        for (int32_t k = 0; k < ne && !r.bad; k++) {
            char s[CLI_NAME_MAX];
            get_cstr(&r, s, sizeof s);
            get_cstr(&r, s, sizeof s);
            skip_tags(&r);
        }
        skip_tags(&r);
    }
    if (n != 1 || r.bad || done(&r, err, errlen) < 0) {
        snprintf(err, errlen, "malformed AlterClientQuotas response");
        return -1;
    }
    return 0;
}

void cli_user_results_free(cli_user_results_t *r)
{
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

void cli_qentries_free(cli_qentries_t *q)
{
    free(q->v);
    q->v = NULL;
    q->n = 0;
}

int cli_scram_salted_password(int8_t mech, const char *password, const uint8_t *salt,
                              size_t salt_len, int32_t iterations, uint8_t *out, size_t *n)
{
    const EVP_MD *md = mech == 1 ? EVP_sha256() : mech == 2 ? EVP_sha512() : NULL;
    if (!md || iterations < 1)
        return -1;
    *n = (size_t)EVP_MD_size(md);
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations, md,
                             (int)*n, out) == 1 ? 0 : -1;
}
