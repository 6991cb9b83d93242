/*
 * config_listeners.c - listeners, advertised.listeners,
 * listener.security.protocol.map and max.connections.per.ip.overrides.
 *
 * Listener syntax is Kafka's: a comma-separated list of NAME://HOST:PORT.
 * HOST may be empty (all interfaces), a name, an IPv4 literal or an IPv6
 * literal, with or without brackets ("[::1]" or "::1": the port is after
 * the last colon).  Listener names are case-insensitive and normalised to
 * upper case, as Kafka's ListenerName does.  A listener's security
 * protocol comes from listener.security.protocol.map, whose default maps
 * each protocol name to itself (so "PLAINTEXT://..." needs no entry).
 *
 * Pure functions; arrays returned are malloc'd and owned by the caller.
 */
#include "config/config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const secproto_names[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" };

const char *cfg_secproto_name(int p)
{
    return p >= 0 && p < 4 ? secproto_names[p] : "UNKNOWN";
}

int cfg_secproto_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, secproto_names[i]))
            return i;
    return -1;
}

static void upcase(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static int valid_host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '%' || c == '.' || c == '_' || c == ':';
}

/* Look name up in a protocol map string; -1 if absent, -2 if the map is
 * malformed (the map has its own validator, so only defensive). */
static int map_lookup(const char *map, const char *name)
{
    char **items;
    size_t n;
    int found = -1;
    if (cfg_split_list(map, &items, &n) < 0)
        return -2;
    for (size_t i = 0; i < n && found == -1; i++) {
        char *c = strchr(items[i], ':');
        if (!c)
            continue;
        *c = 0;
        if (!strcasecmp(items[i], name))
            found = cfg_secproto_parse(c + 1);
    }
    cfg_strv_free(items, n);
    return found;
}

int cfg_check_protocol_map(const char *v, char *why, size_t wn)
{
    char **items;
    size_t n;
    int rc = 0;
    if (cfg_split_list(v, &items, &n) < 0) {
        snprintf(why, wn, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        char *c = strchr(items[i], ':');
        if (!c || c == items[i]) {
            snprintf(why, wn, "entry '%s' is not LISTENER_NAME:SECURITY_PROTOCOL", items[i]);
            rc = -1;
            break;
        }
        *c = 0;
        char *proto = c + 1;
        while (*proto == ' ')
            proto++;
        if (cfg_secproto_parse(proto) < 0) {
            snprintf(why, wn, "unknown security protocol '%s' for listener %s "
                     "(expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)", proto, items[i]);
            rc = -1;
        }
        for (size_t j = 0; j < i && !rc; j++)
            if (!strcasecmp(items[j], items[i])) {
                snprintf(why, wn, "listener name %s appears more than once", items[i]);
                rc = -1;
            }
    }
    cfg_strv_free(items, n);
    return rc;
}

static int parse_one(const char *item, struct cfg_endpoint *ep, char *why, size_t wn)
{
    memset(ep, 0, sizeof *ep);
    const char *sep = strstr(item, "://");
    if (!*item) {
        snprintf(why, wn, "empty listener entry");
        return -1;
    }
    if (!sep || sep == item) {
        snprintf(why, wn, "'%s' is not NAME://HOST:PORT", item);
        return -1;
    }
    if ((size_t)(sep - item) >= sizeof ep->name) {
        snprintf(why, wn, "listener name in '%s' is too long", item);
        return -1;
    }
    memcpy(ep->name, item, (size_t)(sep - item));
    upcase(ep->name);
    const char *hp = sep + 3, *port;
    size_t hl;
    if (*hp == '[') {
        const char *rb = strchr(hp, ']');
        if (!rb || rb[1] != ':') {
            snprintf(why, wn, "'%s': bad bracketed IPv6 address (expected NAME://[ADDR]:PORT)", item);
            return -1;
        }
        hp++;
        hl = (size_t)(rb - hp);
        port = rb + 2;
    } else {
        const char *c = strrchr(hp, ':');
        if (!c) {
            snprintf(why, wn, "'%s' has no port (expected NAME://HOST:PORT)", item);
            return -1;
        }
        hl = (size_t)(c - hp);
        port = c + 1;
    }
    if (hl >= sizeof ep->host) {
        snprintf(why, wn, "host name in '%s' is too long", item);
        return -1;
    }
    for (size_t i = 0; i < hl; i++)
        if (!valid_host_char(hp[i])) {
            snprintf(why, wn, "'%s': invalid character '%c' in host", item, hp[i]);
            return -1;
        }
    memcpy(ep->host, hp, hl);
    int64_t p;
    if (cfgv_parse_i64(port, &p) != 0 || p < 0 || p > 65535) {
        snprintf(why, wn, "'%s': port must be a number in [0, 65535]", item);
        return -1;
    }
    ep->port = (int32_t)p;
    ep->ipv6 = strchr(ep->host, ':') != NULL;
    ep->wildcard = !ep->host[0] || !strcmp(ep->host, "0.0.0.0") || !strcmp(ep->host, "::");
    ep->security_protocol = -1;
    return 0;
}

static bool is_ipv4_literal(const char *h)
{
    int dots = 0;
    if (!*h)
        return false;
    for (; *h; h++) {
        if (*h == '.')
            dots++;
        else if (!isdigit((unsigned char)*h))
            return false;
    }
    return dots == 3;
}

int cfg_parse_endpoints(const char *list, const char *map, bool unique_ports,
                        struct cfg_endpoint **out, size_t *nout, char *why, size_t wn)
{
    char **items;
    size_t n;
    *out = NULL;
    *nout = 0;
    if (cfg_split_list(list, &items, &n) < 0) {
        snprintf(why, wn, "out of memory");
        return -1;
    }
    struct cfg_endpoint *eps = n ? calloc(n, sizeof *eps) : NULL;
    int rc = 0;
    if (n && !eps) {
        snprintf(why, wn, "out of memory");
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        rc = parse_one(items[i], &eps[i], why, wn);
        for (size_t j = 0; j < i && !rc; j++) {
            if (!strcmp(eps[j].name, eps[i].name)) {
                snprintf(why, wn, "listener name %s is used more than once", eps[i].name);
                rc = -1;
            } else if (unique_ports && eps[i].port && eps[j].port == eps[i].port &&
                       !((eps[i].ipv6 && is_ipv4_literal(eps[j].host)) ||
                         (eps[j].ipv6 && is_ipv4_literal(eps[i].host)))) {
                snprintf(why, wn, "port %d is used by both %s and %s", eps[i].port, eps[j].name,
                         eps[i].name);
                rc = -1;
            }
        }
        if (!rc && map) {
            int p = map_lookup(map, eps[i].name);
            if (p < 0) {
                snprintf(why, wn, "listener name %s has no entry in listener.security.protocol.map",
                         eps[i].name);
                rc = -1;
            }
            eps[i].security_protocol = (int8_t)p;
        }
    }
out:
    cfg_strv_free(items, n);
    if (rc) {
        free(eps);
        return -1;
    }
    *out = eps;
    *nout = n;
    return 0;
}

int cfg_check_listeners(const char *v, char *why, size_t n)
{
    struct cfg_endpoint *eps;
    size_t ne;
    if (cfg_parse_endpoints(v, NULL, true, &eps, &ne, why, n) < 0)
        return -1;
    free(eps);
    if (!ne) {
        snprintf(why, n, "at least one listener is required");
        return -1;
    }
    return 0;
}

int cfg_check_advertised(const char *v, char *why, size_t n)
{
    struct cfg_endpoint *eps;
    size_t ne;
    if (cfg_parse_endpoints(v, NULL, false, &eps, &ne, why, n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < ne && !rc; i++)
        if (eps[i].host[0] && eps[i].wildcard) {
            snprintf(why, n, "cannot advertise the non-routable meta-address %s; "
                     "use a routable host name or address", eps[i].host);
            rc = -1;
        }
    free(eps);
    return rc;
}

int cfg_parse_conn_overrides(const char *v, struct cfg_conn_override **out, size_t *nout,
                             char *why, size_t wn)
{
    char **items;
    size_t n;
    *out = NULL;
    *nout = 0;
    if (cfg_split_list(v, &items, &n) < 0) {
        snprintf(why, wn, "out of memory");
        return -1;
    }
    struct cfg_conn_override *ov = n ? calloc(n, sizeof *ov) : NULL;
    int rc = 0;
    if (n && !ov) {
        snprintf(why, wn, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        char *c = strrchr(items[i], ':');
        int64_t m;
        if (!c || c == items[i] || (size_t)(c - items[i]) >= sizeof ov[i].host) {
            snprintf(why, wn, "entry '%s' is not HOST:COUNT", items[i]);
            rc = -1;
        } else if (cfgv_parse_i64(c + 1, &m) != 0 || m < 0 || m > INT32_MAX) {
            snprintf(why, wn, "entry '%s': count must be an int >= 0", items[i]);
            rc = -1;
        } else {
            memcpy(ov[i].host, items[i], (size_t)(c - items[i]));
            ov[i].max = (int32_t)m;
        }
    }
    cfg_strv_free(items, n);
    if (rc) {
        free(ov);
        return -1;
    }
    *out = ov;
    *nout = n;
    return 0;
}

int cfg_check_conn_overrides(const char *v, char *why, size_t n)
{
    struct cfg_conn_override *ov;
    size_t no;
    if (cfg_parse_conn_overrides(v, &ov, &no, why, n) < 0)
        return -1;
    free(ov);
    return 0;
}
