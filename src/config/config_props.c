/*
 * config_props.c - a reader for Java .properties text (Properties.load),
 * the format of Kafka's server.properties.
 *
 * Grammar, as Java implements it:
 *   - Natural lines end at \n, \r or \r\n.  Leading blanks (space, tab,
 *     form feed) are skipped.  A line whose first non-blank is '#' or '!'
 *     is a comment; blank lines are skipped.  A comment never continues.
 *   - A line ending in an odd number of backslashes continues on the next
 *     natural line; the backslash, the line break and the next line's
 *     leading blanks are dropped.
 *   - The key ends at the first unescaped '=', ':' or blank.  Then blanks,
 *     at most one '=' or ':', and blanks again are skipped; the rest of
 *     the logical line is the value.  "key" alone has the empty value.
 *   - Escapes in keys and values: \t \n \r \f, \uXXXX (UTF-8 encoded,
 *     surrogate pairs joined), and \X = X for any other X (so "\=", "\:",
 *     "\ ", "\#", "\\").
 * Samsa additions: a UTF-8 byte-order mark is skipped; trailing blanks of
 * a value are trimmed unless escaped (Java keeps them, and "true " would
 * then fail to parse as a boolean); NUL bytes and malformed \u escapes are
 * errors with the line number.
 *
 * Pure; the entries are malloc'd and owned by the struct props.
 */
#include "config/config_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Growable byte buffer for one logical line or one decoded token. */
struct sbuf {
    char *p;
    size_t n, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 128;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return -1;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(const char *s, size_t avail, uint32_t *out)
{
    if (avail < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decode escapes of s[0..n) into out.  *kept = length of out up to the
 * last byte produced by an escape (trailing-blank trimming stops there).
 * 0, -1 (malformed \u) or -2 (OOM). */
static int unescape(const char *s, size_t n, struct sbuf *out, size_t *kept)
{
    *kept = 0;
    out->n = 0;
    if (sb_put(out, "", 0) < 0)
        return -2;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            if (sb_put(out, &c, 1) < 0)
                return -2;
            continue;
        }
        if (++i >= n)
            break;                  /* lone trailing backslash: dropped, like Java */
        c = s[i];
        char tmp[8];
        size_t tl = 1;
        switch (c) {
        case 't': tmp[0] = '\t'; break;
        case 'n': tmp[0] = '\n'; break;
        case 'r': tmp[0] = '\r'; break;
        case 'f': tmp[0] = '\f'; break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(s + i + 1, n - i - 1, &cp) < 0)
                return -1;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' &&
                s[i + 2] == 'u' && hex4(s + i + 3, n - i - 3, &lo) == 0 && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;        /* lone surrogate */
            }
            tl = utf8_encode(cp, tmp);
            break;
        }
        default: tmp[0] = c; break;
        }
        if (sb_put(out, tmp, tl) < 0)
            return -2;
        *kept = out->n;
    }
    return 0;
}

static int push(struct props *p, struct sbuf *k, struct sbuf *v, int line)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 32;
        struct props_entry *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = nc;
    }
    char *ks = cfg_strndup(k->p, k->n), *vs = cfg_strndup(v->p, v->n);
    if (!ks || !vs) {
        free(ks);
        free(vs);
        return -1;
    }
    p->v[p->n++] = (struct props_entry){ ks, vs, line };
    return 0;
}

void props_free(struct props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* End of the natural line starting at i, and where the next one starts. */
static size_t line_end(const char *t, size_t len, size_t i, size_t *next, int *breaks)
{
    size_t e = i;
    while (e < len && t[e] != '\n' && t[e] != '\r')
        e++;
    *next = e;
    *breaks = 0;
    if (e < len) {
        *breaks = 1;
        *next = e + 1;
        if (t[e] == '\r' && e + 1 < len && t[e + 1] == '\n')
            *next = e + 2;
    }
    return e;
}

int props_parse(const char *t, size_t len, struct props *out, char *err, size_t errlen)
{
    struct sbuf logical = { 0 }, key = { 0 }, val = { 0 };
    int rc = 0, line = 1;
    size_t i = 0;
    memset(out, 0, sizeof *out);
    if (memchr(t, 0, len)) {
        const char *z = memchr(t, 0, len);
        int zl = 1;
        for (const char *p = t; p < z; p++)
            zl += *p == '\n';
        snprintf(err, errlen, "line %d: NUL byte in file", zl);
        return -1;
    }
    if (len >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len) {
        int start_line = line, breaks;
        size_t next, e;
        while (i < len && blank(t[i]))
            i++;
        e = line_end(t, len, i, &next, &breaks);
        if (i == e || t[i] == '#' || t[i] == '!') {     /* blank or comment */
            line += breaks;
            i = next;
            continue;
        }
        /* Assemble the logical line, joining continuations. */
        logical.n = 0;
        for (;;) {
            size_t nbs = 0;
            while (nbs < e - i && t[e - 1 - nbs] == '\\')
                nbs++;
            bool cont = nbs % 2 == 1;
            if (sb_put(&logical, t + i, e - i - (cont ? 1 : 0)) < 0)
                goto oom;
            line += breaks;
            i = next;
            if (!cont || i >= len)
                break;
            while (i < len && blank(t[i]))
                i++;
            e = line_end(t, len, i, &next, &breaks);
        }
        /* Split key / value. */
        const char *s = logical.p;
        size_t n = logical.n, k = 0;
        while (k < n) {
            if (s[k] == '\\') {
                k += 2;
                continue;
            }
            if (s[k] == '=' || s[k] == ':' || blank(s[k]))
                break;
            k++;
        }
        if (k > n)
            k = n;
        size_t vpos = k;
        while (vpos < n && blank(s[vpos]))
            vpos++;
        if (vpos < n && (s[vpos] == '=' || s[vpos] == ':'))
            vpos++;
        while (vpos < n && blank(s[vpos]))
            vpos++;
        size_t kept;
        int r = unescape(s, k, &key, &kept);
        if (r == 0)
            r = unescape(s + vpos, n - vpos, &val, &kept);
        if (r == -2)
            goto oom;
        if (r == -1) {
            snprintf(err, errlen, "line %d: malformed \\uXXXX escape", start_line);
            rc = -1;
            goto out;
        }
        while (val.n > kept && blank(val.p[val.n - 1]))
            val.p[--val.n] = 0;
        if (push(out, &key, &val, start_line) < 0)
            goto oom;
    }
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
    rc = -1;
out:
    free(logical.p);
    free(key.p);
    free(val.p);
    if (rc)
        props_free(out);
    return rc;
}
