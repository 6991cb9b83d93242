/* entity.c - see entity.h. */
#include "cluster/entity.h"

#include <stdio.h>
#include <string.h>

static bool kept(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* S-ENT1: only [A-Za-z0-9._-] pass through, so no name holds a "/" (or
 * anything else a path or a JSON key could misread). */
int ent_sanitize(const char *in, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (kept(*p)) {
            if (k + 1 >= n)
                return -1;
            out[k++] = (char)*p;
        } else {
            if (k + 3 >= n)
                return -1;
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    if (k >= n)
        return -1;
    out[k] = 0;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ent_desanitize(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = in; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = hi * 16 + lo;
            p += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (k + 1 >= n)
            return -1;
        out[k++] = (char)c;
    }
    if (k >= n)
        return -1;
    out[k] = 0;
    return 0;
}

/* Append "<kind>/<part>" (sanitized unless default) at out[*k]. */
static int put_part(char *out, size_t n, size_t *k, const char *kind, bool dflt, const char *name)
{
    if (!dflt && (!name[0] || strlen(name) > ENT_NAME_MAX))
        return -1;
    int w = snprintf(out + *k, n - *k, "%s%s/", *k ? "/" : "", kind);
    if (w < 0 || (size_t)w >= n - *k)
        return -1;
    *k += (size_t)w;
    if (dflt) {
        w = snprintf(out + *k, n - *k, "%s", ENT_DEFAULT);
        if (w < 0 || (size_t)w >= n - *k)
            return -1;
        *k += (size_t)w;
        return 0;
    }
    if (ent_sanitize(name, out + *k, n - *k) < 0)
        return -1;
    *k += strlen(out + *k);
    return 0;
}

int ent_path_format(const ent_name *e, char *out, size_t n)
{
    size_t k = 0;
    if (n == 0 || (!e->has_user && !e->has_client))
        return -1;
    out[0] = 0;
    if (e->has_user && put_part(out, n, &k, "users", e->user_default, e->user) < 0)
        return -1;
    if (e->has_client && put_part(out, n, &k, "clients", e->client_default, e->client) < 0)
        return -1;
    return 0;
}

/* One "<name>" component (up to '/' or the end) into dst; its end in *end. */
static int get_part(const char *p, bool *dflt, char *dst, size_t cap, const char **end)
{
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    char raw[ENT_PATH_MAX];
    if (len == 0 || len >= sizeof raw)
        return -1;
    memcpy(raw, p, len);
    raw[len] = 0;
    *end = p + len;
    *dflt = !strcmp(raw, ENT_DEFAULT);
    if (*dflt) {
        dst[0] = 0;
        return 0;
    }
    if (ent_desanitize(raw, dst, cap) < 0 || !dst[0] || strlen(dst) > ENT_NAME_MAX)
        return -1;
    return 0;
}

int ent_path_parse(const char *path, ent_name *out)
{
    memset(out, 0, sizeof *out);
    const char *p = path, *end;
    if (!strncmp(p, "users/", 6)) {
        out->has_user = true;
        if (get_part(p + 6, &out->user_default, out->user, sizeof out->user, &end) < 0)
            return -1;
        if (!*end)
            return 0;
        p = end + 1;
        if (strncmp(p, "clients/", 8))
            return -1;
    } else if (strncmp(p, "clients/", 8)) {
        return -1;
    }
    out->has_client = true;
    if (get_part(p + 8, &out->client_default, out->client, sizeof out->client, &end) < 0 || *end)
        return -1;
    return 0;
}
