/*
 * config_value.c - the value codec shared by the broker and topic tables:
 * check a string against a row (type, range, enum, custom check), turn it
 * into its canonical string, land it in a typed field, and describe what
 * a row expects for error messages and docs.  Also the small string
 * helpers and the edit distance behind "did you mean".
 *
 * Parsing follows Kafka's ConfigDef: numbers and booleans are trimmed,
 * booleans are case-insensitive true/false, lists split on commas with the
 * items trimmed, enum values are case-sensitive.  Numbers are base 10 with
 * an optional sign and nothing else (no suffixes, no hex), like
 * Integer.parseInt.
 *
 * Pure functions; returned strings are malloc'd and owned by the caller.
 */
#include "config/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- string helpers ---- */

char *cfg_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *cfg_strdup(const char *s)
{
    return cfg_strndup(s, strlen(s));
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n' || c == '\v';
}

char *cfg_trim_dup(const char *s, size_t n)
{
    while (n && is_ws(*s))
        s++, n--;
    while (n && is_ws(s[n - 1]))
        n--;
    return cfg_strndup(s, n);
}

int cfg_strv_push(char ***v, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return -1;
    char *s = malloc((size_t)len + 1);
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!s || !nv) {
        free(s);
        if (nv)
            *v = nv;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    *v = nv;
    nv[(*n)++] = s;
    return 0;
}

void cfg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int cfg_split_list(const char *s, char ***items, size_t *n)
{
    *items = NULL;
    *n = 0;
    const char *p = s;
    while (*p && is_ws(*p))
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char *it = cfg_trim_dup(p, len);
        char **nv = it ? realloc(*items, (*n + 1) * sizeof **items) : NULL;
        if (!nv) {
            free(it);
            cfg_strv_free(*items, *n);
            *items = NULL;
            *n = 0;
            return -1;
        }
        *items = nv;
        nv[(*n)++] = it;
        if (!c)
            return 0;
        p = c + 1;
    }
}

int cfg_edit_distance(const char *a, const char *b, int cap)
{
    enum { MAXL = 255 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXL || lb > MAXL)
        return cap + 1;
    if ((int)(la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    int rows[3][MAXL + 1];
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int rowmin = cur[0];
        char ca = (char)tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            char cb = (char)tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;          /* transposition */
            cur[j] = d;
            if (d < rowmin)
                rowmin = d;
        }
        if (rowmin > cap)
            return cap + 1;
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

/* ---- numbers ---- */

int cfgv_parse_i64(const char *s, int64_t *out)
{
    while (is_ws(*s))
        s++;
    if (!*s)
        return -1;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    while (is_ws(*end))
        end++;
    if (*end)
        return -1;
    if (errno == ERANGE)
        return -2;                  /* a number, but too big */
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    while (is_ws(*s))
        s++;
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (is_ws(*end))
        end++;
    if (*end || end == s || isnan(v) || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

const char *cfgv_type_name(int type)
{
    switch (type) {
    case CFG_T_BOOLEAN: return "boolean";
    case CFG_T_STRING: return "string";
    case CFG_T_INT: return "int";
    case CFG_T_SHORT: return "short";
    case CFG_T_LONG: return "long";
    case CFG_T_DOUBLE: return "double";
    case CFG_T_LIST: return "list";
    case CFG_T_CLASS: return "class";
    case CFG_T_PASSWORD: return "password";
    default: return "unknown";
    }
}

static void type_bounds(int type, int64_t *lo, int64_t *hi)
{
    switch (type) {
    case CFG_T_SHORT: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case CFG_T_INT: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static bool is_integer_type(int t)
{
    return t == CFG_T_INT || t == CFG_T_SHORT || t == CFG_T_LONG;
}

/* "a, b, c" from a NULL-terminated list. */
static void join_enums(const char *const *e, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; e[i] && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", e[i]);
}

void cfgv_expect(const struct cfg_def *d, char *buf, size_t n)
{
    const char *tn = cfgv_type_name(d->type);
    char e[256];
    if (d->valid) {
        snprintf(buf, n, "%s", d->valid);
        return;
    }
    if (is_integer_type(d->type)) {
        int64_t lo, hi;
        type_bounds(d->type, &lo, &hi);
        int64_t mn = d->has_range ? d->min : lo, mx = d->has_range ? d->max : hi;
        if (mn <= lo && mx >= hi)
            snprintf(buf, n, "%s", tn);
        else if (mx >= hi)
            snprintf(buf, n, "%s >= %lld", tn, (long long)mn);
        else if (mn <= lo)
            snprintf(buf, n, "%s <= %lld", tn, (long long)mx);
        else
            snprintf(buf, n, "%s in [%lld, %lld]", tn, (long long)mn, (long long)mx);
    } else if (d->type == CFG_T_DOUBLE) {
        if (d->has_range)
            snprintf(buf, n, "double in [%g, %g]", d->dmin, d->dmax);
        else
            snprintf(buf, n, "double");
    } else if (d->type == CFG_T_BOOLEAN) {
        snprintf(buf, n, "true or false");
    } else if (d->enums) {
        join_enums(d->enums, e, sizeof e);
        if (d->type == CFG_T_LIST)
            snprintf(buf, n, "comma-separated list of %s", e);
        else
            snprintf(buf, n, "one of %s", e);
    } else {
        snprintf(buf, n, "%s", tn);
    }
}

static int in_enum(const char *const *e, const char *v, const char **ci_match)
{
    *ci_match = NULL;
    for (int i = 0; e[i]; i++) {
        if (!strcmp(e[i], v))
            return 1;
        if (!strcasecmp(e[i], v))
            *ci_match = e[i];
    }
    return 0;
}

int cfgv_check(const struct cfg_def *d, const char *v, char *why, size_t n)
{
    char exp[256];
    cfgv_expect(d, exp, sizeof exp);
    if (is_integer_type(d->type)) {
        int64_t x, lo, hi;
        int r = cfgv_parse_i64(v, &x);
        if (r == -1) {
            snprintf(why, n, "not a number (expected %s)", exp);
            return -1;
        }
        type_bounds(d->type, &lo, &hi);
        if (r != -2 && d->has_range && d->max < hi && x > d->max && x <= hi) {
            /* Above a bound of the table (often a pool or array size):
             * say which, in words an operator can act on. */
            snprintf(why, n, "out of range (expected %s): %s must be at most %lld", exp, d->name,
                     (long long)d->max);
            return -1;
        }
        if (r == -2 || x < lo || x > hi || (d->has_range && (x < d->min || x > d->max))) {
            snprintf(why, n, "out of range (expected %s)", exp);
            return -1;
        }
    } else if (d->type == CFG_T_DOUBLE) {
        double x;
        if (parse_double(v, &x) < 0) {
            snprintf(why, n, "not a number (expected %s)", exp);
            return -1;
        }
        if (d->has_range && (x < d->dmin || x > d->dmax)) {
            snprintf(why, n, "out of range (expected %s)", exp);
            return -1;
        }
    } else if (d->type == CFG_T_BOOLEAN) {
        char *t = cfg_trim_dup(v, strlen(v));
        bool ok = t && (!strcasecmp(t, "true") || !strcasecmp(t, "false"));
        free(t);
        if (!ok) {
            snprintf(why, n, "not a boolean (expected %s)", exp);
            return -1;
        }
    } else if (d->type == CFG_T_LIST && d->enums) {
        char **items;
        size_t ni;
        if (cfg_split_list(v, &items, &ni) < 0) {
            snprintf(why, n, "out of memory");
            return -1;
        }
        int bad = -1;
        const char *ci = NULL;
        for (size_t i = 0; i < ni && bad < 0; i++)
            if (!in_enum(d->enums, items[i], &ci))
                bad = (int)i;
        if (bad >= 0) {
            if (!items[bad][0])
                snprintf(why, n, "empty list item (expected %s)", exp);
            else if (ci)
                snprintf(why, n, "invalid item '%s' (expected %s; values are case-sensitive: %s)",
                         items[bad], exp, ci);
            else
                snprintf(why, n, "invalid item '%s' (expected %s)", items[bad], exp);
        }
        cfg_strv_free(items, ni);
        if (bad >= 0)
            return -1;
    } else if (d->enums) {
        const char *ci;
        if (!in_enum(d->enums, v, &ci)) {
            if (ci)
                snprintf(why, n, "invalid value (expected %s; values are case-sensitive: %s)", exp, ci);
            else
                snprintf(why, n, "invalid value (expected %s)", exp);
            return -1;
        }
    }
    if (d->check) {
        char *c = cfgv_canonical(d, v);
        if (!c) {
            snprintf(why, n, "out of memory");
            return -1;
        }
        int r = d->check(c, why, n);
        free(c);
        if (r)
            return -1;
    }
    return 0;
}

char *cfgv_canonical(const struct cfg_def *d, const char *v)
{
    char buf[32];
    if (is_integer_type(d->type)) {
        int64_t x;
        if (cfgv_parse_i64(v, &x) < 0)
            return cfg_trim_dup(v, strlen(v));
        snprintf(buf, sizeof buf, "%lld", (long long)x);
        return cfg_strdup(buf);
    }
    if (d->type == CFG_T_BOOLEAN) {
        char *t = cfg_trim_dup(v, strlen(v));
        if (t && (!strcasecmp(t, "true") || !strcasecmp(t, "false")))
            for (char *p = t; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return t;
    }
    if (d->type == CFG_T_LIST) {
        char **items;
        size_t ni;
        if (cfg_split_list(v, &items, &ni) < 0)
            return NULL;
        size_t len = 1;
        for (size_t i = 0; i < ni; i++)
            len += strlen(items[i]) + 1;
        char *out = malloc(len);
        if (out) {
            size_t off = 0;
            out[0] = 0;
            for (size_t i = 0; i < ni; i++)
                off += (size_t)snprintf(out + off, len - off, "%s%s", i ? "," : "", items[i]);
        }
        cfg_strv_free(items, ni);
        return out;
    }
    if (d->type == CFG_T_DOUBLE || d->type == CFG_T_CLASS)
        return cfg_trim_dup(v, strlen(v));
    return cfg_strdup(v);
}

int cfgv_land(const struct cfg_def *d, const char *v, void *base)
{
    if (d->off == CFG_NOFIELD)
        return 0;
    void *f = (char *)base + d->off;
    if (d->land) {
        if (v)
            d->land(f, v);
        return 0;
    }
    int64_t x = 0;
    switch (d->type) {
    case CFG_T_BOOLEAN:
        *(bool *)f = v && !strcmp(v, "true");
        return 0;
    case CFG_T_SHORT:
        if (v && cfgv_parse_i64(v, &x) == 0)
            *(int16_t *)f = (int16_t)x;
        return 0;
    case CFG_T_INT:
        *(int32_t *)f = v && cfgv_parse_i64(v, &x) == 0 ? (int32_t)x : CFG_NULL_INT;
        return 0;
    case CFG_T_LONG:
        *(int64_t *)f = v && cfgv_parse_i64(v, &x) == 0 ? x : CFG_NULL_LONG;
        return 0;
    case CFG_T_DOUBLE: {
        double dv = NAN;
        if (v)
            parse_double(v, &dv);
        *(double *)f = dv;
        return 0;
    }
    default: {
        char **p = f;
        char *nv = NULL;
        if (v && !(nv = cfg_strdup(v)))
            return -1;
        free(*p);
        *p = nv;
        return 0;
    }
    }
}
