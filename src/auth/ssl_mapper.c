/* ssl_mapper.c - see ssl_mapper.h. */
#include "auth/ssl_mapper.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULES 64
#define MAX_GROUPS 10

struct rule {
    bool is_default;
    regex_t re;
    char *replacement;
    char casing;                  /* 0, 'L' or 'U' */
};

struct ssl_mapper {
    struct rule r[MAX_RULES];
    int n;
};

void ssl_mapper_free(ssl_mapper *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++) {
        if (!m->r[i].is_default) {
            regfree(&m->r[i].re);
            free(m->r[i].replacement);
        }
    }
    free(m);
}

/* One "/"-terminated field of a RULE: chars and "\x" pairs up to an
 * unescaped "/".  Returns the end (at the "/") or NULL when there is none. */
static const char *field_end(const char *p)
{
    for (; *p && *p != '/'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p == '/' ? p : NULL;
}

static int invalid(const char *start, const char *why_extra, char *why, size_t whylen)
{
    size_t n = strcspn(start, ",");
    snprintf(why, whylen, "Invalid rule: %.*s%s", (int)n, start, why_extra ? why_extra : "");
    return -1;
}

/* Parse the rule at *pp (whitespace skipped) into r, leaving *pp after its
 * separating comma.  Kafka's RULE_SPLITTER: DEFAULT | RULE:p/r/[LU]<junk>. */
static int parse_rule(const char **pp, struct rule *r, char *why, size_t whylen)
{
    const char *p = *pp;
    if (!strncmp(p, "DEFAULT", 7)) {
        const char *q = p + 7;
        while (isspace((unsigned char)*q))
            q++;
        if (*q == ',' || !*q) {
            r->is_default = true;
            *pp = *q ? q + 1 : q;
            return 0;
        }
    }
    if (strncmp(p, "RULE:", 5))
        return invalid(p, NULL, why, whylen);
    const char *pat = p + 5, *pe = field_end(pat);
    const char *rep = pe ? pe + 1 : NULL, *re = rep ? field_end(rep) : NULL;
    if (!re)
        return invalid(p, NULL, why, whylen);
    const char *q = re + 1;
    r->casing = (*q == 'L' || *q == 'U') ? *q : 0;
    if (r->casing)
        q++;
    while (isspace((unsigned char)*q))
        q++;
    if (*q && *q != ',')            /* Kafka: "unmatched substring" */
        return invalid(p, NULL, why, whylen);
    char *pattern = strndup(pat, (size_t)(pe - pat));
    r->replacement = strndup(rep, (size_t)(re - rep));
    if (!pattern || !r->replacement) {
        free(pattern);
        free(r->replacement);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int rc = regcomp(&r->re, pattern, REG_EXTENDED);
    if (rc) {
        char msg[160];
        regerror(rc, &r->re, msg, sizeof msg);
        snprintf(why, whylen, "Invalid rule: RULE:%s/...: pattern: %s", pattern, msg);
        free(pattern);
        free(r->replacement);
        return -1;
    }
    free(pattern);
    if (r->re.re_nsub >= MAX_GROUPS) {
        regfree(&r->re);
        free(r->replacement);
        return invalid(p, " (at most 9 groups)", why, whylen);
    }
    *pp = *q ? q + 1 : q;
    return 0;
}

ssl_mapper *ssl_mapper_parse(const char *rules, char *why, size_t whylen)
{
    ssl_mapper *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    const char *p = rules ? rules : "";
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',') {            /* empty rules are ignored */
            p++;
            continue;
        }
        if (!*p)
            break;
        if (m->n == MAX_RULES) {
            snprintf(why, whylen, "at most %d rules", MAX_RULES);
            ssl_mapper_free(m);
            return NULL;
        }
        if (parse_rule(&p, &m->r[m->n], why, whylen) < 0) {
            ssl_mapper_free(m);
            return NULL;
        }
        m->n++;
    }
    if (!rules)
        m->r[m->n++].is_default = true;
    return m;
}

/* Bounded output buffer. */
struct out {
    char *p;
    size_t n, len;
    bool overflow;
};

static void put(struct out *o, const char *s, size_t k)
{
    if (o->len + k >= o->n) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, k);
    o->len += k;
    o->p[o->len] = 0;
}

/* Java's Matcher.appendReplacement: $n groups (the longest number that
 * names a group; a first digit beyond the groups stays literal, Kafka's
 * escapeLiteralBackReferences), \x = x. */
static void expand(struct out *o, const char *rep, const char *s, const regmatch_t *g, size_t ngroups)
{
    for (const char *r = rep; *r; r++) {
        if (*r == '\\' && r[1]) {
            put(o, ++r, 1);
        } else if (*r == '$' && isdigit((unsigned char)r[1]) && (size_t)(r[1] - '0') <= ngroups) {
            size_t gi = (size_t)(*++r - '0');
            while (isdigit((unsigned char)r[1]) && gi * 10 + (size_t)(r[1] - '0') <= ngroups)
                gi = gi * 10 + (size_t)(*++r - '0');
            if (g[gi].rm_so >= 0)
                put(o, s + g[gi].rm_so, (size_t)(g[gi].rm_eo - g[gi].rm_so));
        } else {
            put(o, r, 1);
        }
    }
}

/* The rule's name for dn in o, or false when the rule does not apply. */
static bool apply(const struct rule *r, const char *dn, struct out *o)
{
    size_t len = strlen(dn);
    if (r->is_default) {
        put(o, dn, len);
        return true;
    }
    regmatch_t g[MAX_GROUPS];
    if (regexec(&r->re, dn, MAX_GROUPS, g, 0) || g[0].rm_so != 0 || (size_t)g[0].rm_eo != len)
        return false;
    /* String.replaceAll over the whole DN, Java's find() loop: after an
     * empty match the next search starts one character on. */
    size_t pos = 0;
    while (pos <= len) {
        if (regexec(&r->re, dn + pos, MAX_GROUPS, g, pos ? REG_NOTBOL : 0))
            break;
        for (size_t i = 0; i < MAX_GROUPS; i++)
            if (g[i].rm_so >= 0) {
                g[i].rm_so += (regoff_t)pos;
                g[i].rm_eo += (regoff_t)pos;
            }
        put(o, dn + pos, (size_t)g[0].rm_so - pos);
        expand(o, r->replacement, dn, g, r->re.re_nsub);
        if (g[0].rm_eo == g[0].rm_so) {
            if ((size_t)g[0].rm_eo < len)
                put(o, dn + g[0].rm_eo, 1);
            pos = (size_t)g[0].rm_eo + 1;
        } else {
            pos = (size_t)g[0].rm_eo;
        }
    }
    if (pos < len)
        put(o, dn + pos, len - pos);
    for (size_t i = 0; r->casing && i < o->len; i++)
        o->p[i] = (char)(r->casing == 'L' ? tolower((unsigned char)o->p[i])
                                          : toupper((unsigned char)o->p[i]));
    return true;
}

int ssl_mapper_map(const ssl_mapper *m, const char *dn, char *out, size_t outlen)
{
    if (!outlen)
        return -1;
    for (int i = 0; i < m->n; i++) {
        struct out o = { out, outlen, 0, false };
        out[0] = 0;
        if (!apply(&m->r[i], dn, &o))
            continue;
        if (o.overflow) {
            snprintf(out, outlen, "the principal mapped from %s is too long", dn);
            return -1;
        }
        return 0;
    }
    snprintf(out, outlen, "No rules apply to %s", dn);
    return -1;
}
