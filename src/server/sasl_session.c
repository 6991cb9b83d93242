/*
 * sasl_session.c - the SASL exchange of a connection (see sasl_session.h),
 * following Kafka's SaslServerAuthenticator and its messages.
 *
 * Invariants (docs/security.md, "SASL"):
 *   S-SASL6  On a SASL listener nothing but ApiVersions, SaslHandshake and
 *            SaslAuthenticate is served before authentication; anything
 *            else closes the connection ("Unexpected Kafka request of type
 *            X during SASL handshake.").
 *   S-SASL7  Until authenticated, frames are bounded by
 *            sasl.server.max.receive.size (the connection's frame limit),
 *            and the exchange keeps a fixed-size state: an unauthenticated
 *            client cannot make the broker allocate more than one frame.
 *   S-SASL8  A failed authentication is answered (SASL_AUTHENTICATION_
 *            FAILED, Kafka's message) after connection.failed.
 *            authentication.delay.ms and the connection is closed once that
 *            answer is written; nothing more is read from it.  In the
 *            legacy v0 exchange a failure closes at once.
 *   S-SASL9  The principal is User:<authenticated name>; a re-authentication
 *            (KIP-368) that would change it fails and closes the connection.
 *   S-SASL10 A session with a lifetime (connections.max.reauth.ms > 0, or an
 *            OAUTHBEARER token's exp) that has ended serves only
 *            SaslHandshake/SaslAuthenticate; any other request closes it.
 *   S-SASL11 No password, token, proof or credential is logged: failures
 *            log the mechanism, the peer and the user name only, and a
 *            client-chosen name only as printable ASCII (no forged lines).
 */
#include "server/sasl_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jaas.h"
#include "auth/oauthbearer.h"
#include "auth/plain.h"
#include "auth/scram_exchange.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/api_versions.h"
#include "proto/messages/sasl_authenticate.h"
#include "proto/messages/sasl_handshake.h"
#include "server/client.h"
#include "server/delayed.h"

enum ss_state { SS_HANDSHAKE, SS_AUTHENTICATE, SS_LEGACY, SS_DONE };
enum ss_mech { M_NONE, M_PLAIN, M_SCRAM256, M_SCRAM512, M_OAUTH };

static const char *const mech_names[] = { "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER" };

struct sasl_session {
    int state;                    /* enum ss_state */
    int mech;                     /* enum ss_mech of the exchange (and of the login) */
    scram_server scram;
    bool oauth_failed;            /* sent {"status":...}; next token must be %x01 */
    char oauth_status[128];
    bool reauth;                  /* a re-authentication is in progress */
    bool logged_in;               /* authenticated at least once */
    int16_t auth_version;         /* SaslAuthenticate version of the last login */
    int64_t expires_ms;           /* mono ms; 0 = the session never expires */
    bool close_pending;           /* S-SASL8: close once the answer is written */
    int32_t max_frame;            /* socket.request.max.bytes, restored at login */
};

/* Outcome of one token. */
typedef struct step {
    int16_t error;                /* 0, or the Kafka error to answer */
    const char *msg;              /* the error message for the client */
    uint8_t out[SCRAM_MAX_MSG];   /* the token to answer (challenge / final) */
    size_t out_len;
    bool done;                    /* authenticated */
    char user[KPRINCIPAL_NAME_MAX];
    int64_t token_exp_ms;         /* OAUTHBEARER: exp (wall ms); 0 = none */
    char msgbuf[2 * KPRINCIPAL_NAME_MAX + 160];
} step;

static const struct broker_config *cfg_of(client *cl)
{
    return cl->srv->ops->config(cl->srv->ctx);
}

static const char *listener_name(client *cl)
{
    return cl->srv->listen[cl->listener].name;
}

struct sasl_session *sasl_session_new(client *cl)
{
    struct sasl_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_frame = cl->c->lim.max_frame;
    int32_t m = cfg_of(cl)->sasl_server_max_receive_size;
    if (m > 0 && m < cl->c->lim.max_frame)
        cl->c->lim.max_frame = m;       /* S-SASL7 */
    return s;
}

void sasl_session_free(struct sasl_session *s)
{
    if (!s)
        return;
    scram_server_clear(&s->scram);
    free(s);
}

bool sasl_session_close_pending(const client *cl)
{
    return cl->sasl && cl->sasl->close_pending;
}

/* The next item of a comma list at *p, blanks trimmed (a listener-prefixed
 * value is kept as written: "PLAIN, SCRAM-SHA-256").  Length, or -1 at
 * the end. */
static long next_item(const char **p, const char **item)
{
    const char *s = *p;
    if (!*s)
        return -1;
    const char *e = strchr(s, ',');
    const char *end = e ? e : s + strlen(s);
    *p = e ? e + 1 : end;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *item = s;
    return (long)(end - s);
}

/* Is `mech` in the listener's enabled list?  Also fills the list for the
 * handshake answer (items point into the configuration snapshot, which
 * outlives the synchronous answer). */
static bool mech_enabled(client *cl, const char *mech, arena *a, karr_str *list)
{
    const char *v = broker_config_sasl_mechanisms(cfg_of(cl), listener_name(cl));
    const char *p, *it;
    bool found = false;
    int n = 0;
    long l;
    for (p = v ? v : ""; (l = next_item(&p, &it)) >= 0;) {
        if (l && (size_t)l == strlen(mech) && !memcmp(it, mech, (size_t)l))
            found = true;
        n += l > 0;
    }
    kstr *items = list && a ? KARRAY_ALLOC(a, list, n) : NULL;
    int i = 0;
    for (p = v ? v : ""; items && i < n && (l = next_item(&p, &it)) >= 0;)
        if (l)
            items[i++] = (kstr){ it, (int32_t)l };
    return found;
}

static int mech_of(const char *name)
{
    for (int i = M_PLAIN; i <= M_OAUTH; i++)
        if (!strcmp(name, mech_names[i]))
            return i;
    return M_NONE;
}

/* Kafka's answer to a SaslException: it names no user (the message must
 * not tell whether one exists). */
static void fail_generic(step *st, int mech)
{
#define GENERIC "Authentication failed during authentication due to invalid credentials with SASL mechanism "
    static const char *const msg[] = { GENERIC "PLAIN", GENERIC "PLAIN", GENERIC "SCRAM-SHA-256",
                                       GENERIC "SCRAM-SHA-512", GENERIC "OAUTHBEARER" };
#undef GENERIC
    st->error = KERR_SASL_AUTHENTICATION_FAILED;
    st->msg = msg[mech >= M_PLAIN && mech <= M_OAUTH ? mech : M_PLAIN];
}

/* Parse the listener's JAAS config of the session's mechanism (validated
 * at startup; NULL only if a dynamic change broke it). */
static int load_jaas(client *cl, int mech, jaas_config *jc)
{
    char key[256], why[256];
    const char *text = broker_config_sasl_jaas(cfg_of(cl), listener_name(cl), mech_names[mech], key,
                                               sizeof key);
    if (!text || jaas_parse(text, jc, why, sizeof why) < 0) {
        LOG_ERR("sasl", "%s: %s", key, text ? why : "not set");
        return -1;
    }
    return 0;
}

static void step_plain(client *cl, const uint8_t *tok, size_t len, step *st)
{
    jaas_config jc;
    const char *msg = NULL;
    if (load_jaas(cl, M_PLAIN, &jc) < 0) {
        fail_generic(st, M_PLAIN);
        return;
    }
    int rc = plain_authenticate(&jc, tok, len, st->user, sizeof st->user, &msg);
    jaas_free(&jc);
    if (rc == PLAIN_OK) {
        st->done = true;
    } else if (rc == PLAIN_EAUTH) {
        st->error = KERR_SASL_AUTHENTICATION_FAILED;
        st->msg = msg;
    } else {
        fail_generic(st, M_PLAIN);
    }
}

static void step_scram(client *cl, struct sasl_session *s, const uint8_t *tok, size_t len, step *st)
{
    int8_t mech = s->mech == M_SCRAM256 ? SCRAM_SHA_256 : SCRAM_SHA_512;
    if (s->scram.state == 0 && s->scram.mech == 0)
        scram_server_init(&s->scram, mech);
    if (s->scram.state == 0) {
        if (scram_server_client_first(&s->scram, tok, len)) {
            fail_generic(st, s->mech);
            return;
        }
        if (s->scram.authzid[0] && strcmp(s->scram.authzid, s->scram.user)) {
            st->error = KERR_SASL_AUTHENTICATION_FAILED;
            st->msg = "Authentication failed: Client requested an authorization id that is "
                      "different from username";
            return;
        }
        scram_cred cred;
        bool have = !s->scram.tokenauth && cl->srv->ops->scram_lookup &&
                    cl->srv->ops->scram_lookup(cl->srv->ctx, s->scram.user, mech, &cred) == 0;
        snprintf(st->user, sizeof st->user, "%s", s->scram.user);
        long n = scram_server_first(&s->scram, have ? &cred : NULL, (char *)st->out, sizeof st->out);
        memset(&cred, 0, sizeof cred);
        if (n < 0) {
            fail_generic(st, s->mech);
            return;
        }
        st->out_len = (size_t)n;
        return;
    }
    long n = scram_server_final(&s->scram, tok, len, (char *)st->out, sizeof st->out);
    if (n < 0) {
        fail_generic(st, s->mech);
        return;
    }
    st->out_len = (size_t)n;
    snprintf(st->user, sizeof st->user, "%s", s->scram.user);
    st->done = true;
}

static void step_oauth(client *cl, struct sasl_session *s, const uint8_t *tok, size_t len, step *st)
{
    if (s->oauth_failed) {
        /* The client's %x01 after our error status: fail with the status. */
        st->error = KERR_SASL_AUTHENTICATION_FAILED;
        st->msg = s->oauth_status;
        return;
    }
    jaas_config jc;
    char why[256];
    if (load_jaas(cl, M_OAUTH, &jc) < 0) {
        fail_generic(st, M_OAUTH);
        return;
    }
    int rc = oauth_server_validate(&jc, tok, len, wall_ms(), st->user, sizeof st->user,
                                   &st->token_exp_ms, s->oauth_status, sizeof s->oauth_status, why,
                                   sizeof why);
    jaas_free(&jc);
    if (rc == OAUTH_OK) {
        st->done = true;
    } else if (rc == OAUTH_EINVALID) {
        LOG_DBG("sasl", "%s: OAUTHBEARER token refused: %s", cl->c->peer, why);
        s->oauth_failed = true;
        size_t n = strlen(s->oauth_status);
        memcpy(st->out, s->oauth_status, n);
        st->out_len = n;
    } else if (rc == OAUTH_EAUTHZID) {
        st->error = KERR_SASL_AUTHENTICATION_FAILED;
        st->msg = "Authentication failed: Client requested an authorization id that is different "
                  "from the token's principal name";
    } else {
        fail_generic(st, M_OAUTH);
    }
}

/* A client-chosen name as it may appear in a log line: printable ASCII,
 * anything else as '?', at most 128 characters (no forged log lines). */
static const char *loggable(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 1 < n && o < 128; in++)
        out[o++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
    out[o] = '\0';
    return out;
}

/* Session lifetime at login (Kafka's calcCompletionTimesAndReturnSessionLifetimeMs). */
static int64_t reauth_ms(client *cl, int mech)
{
    int64_t v = 0;
    if (broker_config_sasl_reauth_ms(cfg_of(cl), listener_name(cl), mech_names[mech], &v) < 0)
        v = cfg_of(cl)->connections_max_reauth_ms;
    return v;
}

static int64_t lifetime_ms(client *cl, int mech, int64_t token_exp_ms)
{
    int64_t reauth = reauth_ms(cl, mech), left = 0;
    if (token_exp_ms) {
        left = token_exp_ms - wall_ms();
        if (left < 0)
            left = 0;
    }
    if (!token_exp_ms)
        return reauth > 0 ? reauth : 0;
    if (reauth <= 0)
        return left;
    return left < reauth ? left : reauth;
}

/* One token through the session's mechanism; on completion sets the
 * principal (checking a re-authentication keeps it) and the lifetime. */
static void run_step(client *cl, const uint8_t *tok, size_t len, step *st, int64_t *session_ms)
{
    struct sasl_session *s = cl->sasl;
    switch (s->mech) {
    case M_PLAIN: step_plain(cl, tok, len, st); break;
    case M_SCRAM256:
    case M_SCRAM512: step_scram(cl, s, tok, len, st); break;
    case M_OAUTH: step_oauth(cl, s, tok, len, st); break;
    default: fail_generic(st, M_PLAIN); break;
    }
    if (st->error) {
        char u[136];
        LOG_INF("sasl", "%s: %s authentication failed%s%s", cl->c->peer, mech_names[s->mech],
                st->user[0] ? " for user " : "", loggable(st->user, u, sizeof u));
        return;
    }
    if (!st->done)
        return;
    kprincipal p;
    kprincipal_set(&p, "User", st->user);
    if (s->logged_in && !kprincipal_eq(&p, &cl->principal)) {
        char a[KPRINCIPAL_NAME_MAX + 40], b[KPRINCIPAL_NAME_MAX + 40];
        snprintf(st->msgbuf, sizeof st->msgbuf,
                 "Cannot change principals during re-authentication from %s: %s",
                 kprincipal_str(&cl->principal, a, sizeof a), kprincipal_str(&p, b, sizeof b));
        st->error = KERR_SASL_AUTHENTICATION_FAILED;
        st->msg = st->msgbuf;
        st->done = false;
        return;
    }
    cl->principal = p;
    cl->authenticated = true;
    cl->c->lim.max_frame = s->max_frame;
    int64_t life = lifetime_ms(cl, s->mech, st->token_exp_ms);
    /* A lifetime exists with a reauth setting or a token exp, even if it
     * is 0 (a token at its very end): then the session is over at once. */
    bool lives = st->token_exp_ms || reauth_ms(cl, s->mech) > 0;
    s->expires_ms = lives ? mono_ms() + life : 0;
    *session_ms = life;
    char u[136];
    LOG_DBG("sasl", "%s: %s as User:%s (%s)", cl->c->peer,
            s->reauth ? "re-authenticated" : "authenticated", loggable(st->user, u, sizeof u),
            mech_names[s->mech]);
    s->logged_in = true;
    s->reauth = false;
    s->state = SS_DONE;
    s->oauth_failed = false;
    memset(&s->scram, 0, sizeof s->scram);
}

/* ------------------------------------------------------------ legacy v0 */

bool sasl_session_raw_frame(client *cl, uint8_t *frame, size_t len)
{
    struct sasl_session *s = cl->sasl;
    if (!s || s->state != SS_LEGACY)
        return false;
    step *st = calloc(1, sizeof *st);
    int64_t life = 0;
    if (!st) {
        free(frame);
        conn_close(cl->c, "out of memory");
        return true;
    }
    run_step(cl, frame, len, st, &life);
    free(frame);
    if (st->error) {
        /* Kafka closes a failed legacy exchange without an answer. */
        char why[256];
        snprintf(why, sizeof why, "SASL %s authentication failed (legacy exchange)",
                 mech_names[s->mech]);
        free(st);
        conn_close(cl->c, why);
        return true;
    }
    /* The answer is a raw size-prefixed token (empty for PLAIN's last). */
    obuf ob;
    obuf_init(&ob);
    uint8_t *p = obuf_reserve(&ob, 4 + st->out_len);
    if (p) {
        be32_store(p, (uint32_t)st->out_len);
        memcpy(p + 4, st->out, st->out_len);
        obuf_commit(&ob, 4 + st->out_len);
        conn_send(cl->c, &ob);
    } else {
        obuf_free(&ob);
        conn_close(cl->c, "out of memory");
    }
    free(st);
    return true;
}

/* ------------------------------------------------------------ the gate */

const char *sasl_session_gate(client *cl, int16_t key, char *buf, size_t n)
{
    struct sasl_session *s = cl->sasl;
    if (!s)
        return NULL;
    bool sasl_api = key == SASL_HANDSHAKE_API_KEY || key == SASL_AUTHENTICATE_API_KEY;
    if (s->state == SS_DONE || s->logged_in) {
        /* S-SASL10 */
        if (!sasl_api && s->expires_ms && mono_ms() >= s->expires_ms) {
            snprintf(buf, n, "SASL session expired (connections.max.reauth.ms / token lifetime) and "
                     "the client did not re-authenticate; %s request refused", kapi_name(key));
            return buf;
        }
        return NULL;
    }
    if (sasl_api || (key == API_VERSIONS_API_KEY && s->state == SS_HANDSHAKE))
        return NULL;
    snprintf(buf, n, "Unexpected Kafka request of type %s during SASL %s.", kapi_name(key),
             s->state == SS_HANDSHAKE ? "handshake" : "authentication");
    return buf;
}

/* ------------------------------------------------------------ handlers */

/* A refusal that closes the connection (S-SASL8) is answered after
 * connection.failed.authentication.delay.ms, as Kafka delays it (KIP-306):
 * a password guesser waits that long per attempt on a connection.  The
 * request is parked (server/delayed.h) with its answer built; nothing more
 * is read from the connection meanwhile (close_pending). */
typedef struct refusal {
    delayed_op op;                /* first: the op is the refusal */
    void *resp;
} refusal;

static bool refusal_ready(delayed_op *op)
{
    (void)op;
    return false;                 /* only the timer answers */
}

static void refusal_complete(delayed_op *op, enum delayed_reason why)
{
    refusal *f = (refusal *)op;   /* lives in the request's arena */
    if (why == DELAYED_CANCELLED)
        kreq_complete_silently(op->rq);
    else
        kreq_respond(op->rq, f->resp);
}

static void respond_refusal(kreq *rq, void *resp)
{
    client *cl = rq->cl;
    int64_t delay = cfg_of(cl)->connection_failed_authentication_delay_ms;
    refusal *f = delay > 0 ? arena_alloc(&rq->arena, sizeof *f) : NULL;
    if (cl->sasl)
        cl->sasl->close_pending = true;
    if (!f) {
        kreq_respond(rq, resp);
        return;
    }
    memset(f, 0, sizeof *f);
    f->op.ready = refusal_ready;
    f->op.complete = refusal_complete;
    f->resp = resp;
    delayed_park(&f->op, rq, NULL, 0, delay);
}

void sasl_handle_handshake(kreq *rq)
{
    client *cl = rq->cl;
    struct sasl_session *s = cl->sasl;
    const sasl_handshake_req *req = rq->body;
    sasl_handshake_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_respond(rq, NULL);
        return;
    }
    if (!s || (s->state == SS_DONE && (s->auth_version < 1 || rq->hdr.api_version < 1))) {
        /* Not a SASL listener, or a client that cannot re-authenticate:
         * KafkaApis' answer. */
        r->error_code = KERR_ILLEGAL_SASL_STATE;
        kreq_respond(rq, r);
        return;
    }
    if (s->state != SS_HANDSHAKE && s->state != SS_DONE) {
        r->error_code = KERR_ILLEGAL_SASL_STATE;
        respond_refusal(rq, r);
        return;
    }
    char mech[32];
    snprintf(mech, sizeof mech, "%.*s", req->mechanism.len > 0 ? (int)req->mechanism.len : 0,
             req->mechanism.p ? req->mechanism.p : "");
    /* The list is answered either way (Kafka: enabledMechanisms). */
    bool listed = mech_enabled(cl, mech, &rq->arena, &r->mechanisms);
    bool enabled = listed && req->mechanism.len > 0 && (size_t)req->mechanism.len < sizeof mech &&
                   mech_of(mech) != M_NONE;
    if (!enabled) {
        char m[40];
        LOG_INF("sasl", "%s: SASL mechanism '%s' is not enabled on listener %s", cl->c->peer,
                loggable(mech, m, sizeof m),
                listener_name(cl));
        r->error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
        respond_refusal(rq, r);
        return;
    }
    if (s->state == SS_DONE) {
        /* KIP-368: the same mechanism again. */
        if (mech_of(mech) != s->mech) {
            r->error_code = KERR_ILLEGAL_SASL_STATE;
            respond_refusal(rq, r);
            return;
        }
        s->reauth = true;
    }
    s->mech = mech_of(mech);
    memset(&s->scram, 0, sizeof s->scram);
    s->oauth_failed = false;
    s->state = rq->hdr.api_version == 0 ? SS_LEGACY : SS_AUTHENTICATE;
    kreq_respond(rq, r);
}

void sasl_handle_authenticate(kreq *rq)
{
    client *cl = rq->cl;
    struct sasl_session *s = cl->sasl;
    const sasl_authenticate_req *req = rq->body;
    sasl_authenticate_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_respond(rq, NULL);
        return;
    }
    if (!s || s->state != SS_AUTHENTICATE) {
        r->error_code = KERR_ILLEGAL_SASL_STATE;
        r->error_message = kstr_c(s && s->state == SS_DONE
                                      ? "SaslAuthenticate request received after successful authentication"
                                      : "Unexpected SaslAuthenticate request");
        if (s && s->state != SS_DONE)
            respond_refusal(rq, r);
        else
            kreq_respond(rq, r);
        return;
    }
    step *st = arena_alloc(&rq->arena, sizeof *st);
    if (!st) {
        kreq_respond(rq, NULL);
        return;
    }
    memset(st, 0, sizeof *st);
    int64_t life = 0;
    run_step(cl, req->auth_bytes.p ? req->auth_bytes.p : (const uint8_t *)"",
             req->auth_bytes.len > 0 ? (size_t)req->auth_bytes.len : 0, st, &life);
    if (st->error) {
        r->error_code = st->error;
        r->error_message = kstr_c(st->msg);
        respond_refusal(rq, r);         /* S-SASL8 */
        return;
    }
    r->auth_bytes = (kbytes){ st->out, (int32_t)st->out_len };
    if (st->done) {
        s->auth_version = rq->hdr.api_version;
        r->session_lifetime_ms = life;
    }
    kreq_respond(rq, r);
}
