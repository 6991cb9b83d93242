/*
 * out.c - output helpers of the `samsa` CLI: aligned tables for humans, a
 * streaming JSON writer for machines, number formatting and the progress
 * line.
 *
 * Tables: cells are copied when added; widths are computed at print time.
 * Columns whose header starts with '>' are right-aligned (numbers).
 *
 * JSON: the writer appends to a growing buffer and inserts commas itself,
 * so callers write keys and values in order. Strings are escaped per
 * RFC 8259 (control characters as \u00XX). Kafka keys, values and headers
 * are bytes: jw_kbytes writes them as a string when they are valid UTF-8,
 * else base64 plus a "<name>_encoding": "base64" member next to it.
 *
 * Progress: one line rewritten in place ("\r ... \033[K") and only when
 * stderr is a terminal and -q was not given.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* ---- tables ----------------------------------------------------------------------- */

struct cli_table {
    int ncols;
    char **hdr;
    char **cells;          /* row-major */
    size_t nrows, cap;     /* cap in rows */
    int cur;               /* cells filled in the last row */
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "samsa: out of memory\n");
        exit(CLI_EFAIL);
    }
    return q;
}

cli_table_t *cli_table_new(int ncols, ...)
{
    cli_table_t *t = xrealloc(NULL, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->hdr = xrealloc(NULL, (size_t)ncols * sizeof *t->hdr);
    va_list ap;
    va_start(ap, ncols);
    for (int k = 0; k < ncols; k++)
        t->hdr[k] = strdup(va_arg(ap, const char *));
    va_end(ap);
    t->cur = ncols;
    return t;
}

void cli_table_row(cli_table_t *t)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof *t->cells);
    }
    for (int k = 0; k < t->ncols; k++)
        t->cells[t->nrows * (size_t)t->ncols + (size_t)k] = NULL;
    t->nrows++;
    t->cur = 0;
}

void cli_table_cell(cli_table_t *t, const char *fmt, ...)
{
    if (t->nrows == 0 || t->cur >= t->ncols)
        return;
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    t->cells[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->cur++] = s;
}

size_t cli_table_rows(const cli_table_t *t)
{
    return t->nrows;
}

/* Display width: count UTF-8 code points, not bytes. */
static int width(const char *s)
{
    int w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void cli_table_print(cli_table_t *t, FILE *f)
{
    int *w = xrealloc(NULL, (size_t)t->ncols * sizeof *w);
    for (int k = 0; k < t->ncols; k++) {
        const char *h = t->hdr[k][0] == '>' ? t->hdr[k] + 1 : t->hdr[k];
        w[k] = width(h);
        for (size_t r = 0; r < t->nrows; r++) {
            int cw = width(t->cells[r * (size_t)t->ncols + (size_t)k]);
            if (cw > w[k])
                w[k] = cw;
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (int k = 0; k < t->ncols; k++) {
            const char *s;
            int right = t->hdr[k][0] == '>';
            if (r == 0)
                s = right ? t->hdr[k] + 1 : t->hdr[k];
            else
                s = t->cells[(r - 1) * (size_t)t->ncols + (size_t)k];
            if (!s)
                s = "";
            int pad = w[k] - width(s);
            int last = k == t->ncols - 1;
            if (right)
                fprintf(f, "%*s%s", pad, "", s);
            else if (last)
                fputs(s, f);
            else
                fprintf(f, "%s%*s", s, pad, "");
            fputs(last ? "\n" : "  ", f);
        }
    }
    free(w);
}

void cli_table_free(cli_table_t *t)
{
    if (!t)
        return;
    for (int k = 0; k < t->ncols; k++)
        free(t->hdr[k]);
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->hdr);
    free(t->cells);
    free(t);
}

/* ---- JSON writer ----------------------------------------------------------------- */

static void put(jw_t *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        w->buf = xrealloc(w->buf, cap);
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void putc_(jw_t *w, char c)
{
    put(w, &c, 1);
}

void jw_init(jw_t *w)
{
    memset(w, 0, sizeof *w);
    w->first[0] = 1;
}

void jw_free(jw_t *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void jw_reset(jw_t *w)
{
    w->len = 0;
    w->depth = 0;
    w->after_key = 0;
    w->first[0] = 1;
    if (w->buf)
        w->buf[0] = 0;
}

/* Before any value: a comma unless first at this level or right after a key. */
static void sep(jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth])
        putc_(w, ',');
    w->first[w->depth] = 0;
}

static void open_(jw_t *w, char c)
{
    sep(w);
    putc_(w, c);
    if (w->depth < (int)sizeof w->first - 1)
        w->depth++;
    w->first[w->depth] = 1;
}

void jw_obj(jw_t *w) { open_(w, '{'); }
void jw_arr(jw_t *w) { open_(w, '['); }

void jw_obj_end(jw_t *w)
{
    if (w->depth > 0)
        w->depth--;
    putc_(w, '}');
}

void jw_arr_end(jw_t *w)
{
    if (w->depth > 0)
        w->depth--;
    putc_(w, ']');
}

static void escaped(jw_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    putc_(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(w, u, 6);
        }
        }
    }
    put(w, s + run, n - run);
    putc_(w, '"');
}

void jw_key(jw_t *w, const char *k)
{
    sep(w);
    escaped(w, k, strlen(k));
    putc_(w, ':');
    w->after_key = 1;
}

void jw_strn(jw_t *w, const char *s, size_t n)
{
    sep(w);
    escaped(w, s, n);
}

void jw_str(jw_t *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_strn(w, s, strlen(s));
}

void jw_int(jw_t *w, int64_t v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    sep(w);
    put(w, b, (size_t)n);
}

void jw_num(jw_t *w, double v)
{
    char b[64];
    int n;
    double a = v < 0 ? -v : v;
    if (v != v || a > 1e300)
        n = snprintf(b, sizeof b, "null");
    else if (a == 0 || (a >= 1e-3 && a < 1e15)) {
        n = snprintf(b, sizeof b, "%.3f", v);   /* trim "1.500" -> "1.5", "2.000" -> "2" */
        while (n > 0 && b[n - 1] == '0')
            n--;
        if (n > 0 && b[n - 1] == '.')
            n--;
        b[n] = 0;
    } else
        n = snprintf(b, sizeof b, "%.6g", v);
    sep(w);
    put(w, b, (size_t)n);
}

void jw_bool(jw_t *w, int v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_ids(jw_t *w, const int32_t *ids, int32_t n)
{
    jw_arr(w);
    for (int32_t k = 0; k < n; k++)
        jw_int(w, ids[k]);
    jw_arr_end(w);
}

void jw_null(jw_t *w)
{
    sep(w);
    put(w, "null", 4);
}

int cli_utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + need >= n)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

static void base64(jw_t *w, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sep(w);
    putc_(w, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char o[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63],
                     i + 1 < n ? tbl[(v >> 6) & 63] : '=', i + 2 < n ? tbl[v & 63] : '='};
        put(w, o, 4);
    }
    putc_(w, '"');
}

void jw_kbytes(jw_t *w, const char *key, const void *p, size_t n)
{
    jw_key(w, key);
    if (!p) {
        jw_null(w);
        return;
    }
    if (cli_utf8_valid(p, n)) {
        jw_strn(w, p, n);
        return;
    }
    base64(w, p, n);
    char k2[128];
    snprintf(k2, sizeof k2, "%s_encoding", key);
    jw_kstr(w, k2, "base64");
}

void jw_flush(jw_t *w, FILE *f)
{
    put(w, "\n", 1);
    fwrite(w->buf, 1, w->len, f);
    jw_reset(w);
}

/* ---- numbers and progress ------------------------------------------------------- */

const char *cli_fmt_count(char *buf, size_t len, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

int cli_stderr_tty(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(2);
    return tty;
}

static int progress_shown;

void cli_progress(const char *fmt, ...)
{
    if (G.quiet || !cli_stderr_tty())
        return;
    va_list ap;
    fputc('\r', stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\033[K", stderr);
    fflush(stderr);
    progress_shown = 1;
}

void cli_progress_end(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_shown = 0;
    }
}

void cli_fmt_ids(char *buf, size_t len, const int32_t *ids, int n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < n && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d", k ? "," : "", ids[k]);
}
