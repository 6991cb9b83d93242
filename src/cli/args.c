/*
 * args.c - command-line parsing and help for `samsa`, driven by the command
 * tree (cli_cmd_t) and the option tables (cli_opt_t) of each command.
 *
 * Parsing, in two phases:
 *   1. Descend: words select subcommands while the current node has any;
 *      options met on the way must be global ones (samsa -b h:9092 topic ...).
 *   2. Leaf: the rest is the leaf's options, the global options (anywhere)
 *      and positional arguments; "--" ends options.
 * Forms: --name=value, --name value, -n value, -nvalue, -vv (flags only).
 * An option's value is always the next argument, even if it starts with
 * '-' (--to-offset -5 works).
 *
 * Errors are one line: "samsa: unknown option '--foo' (see 'samsa topic
 * create --help')", with a "did you mean" for near misses.
 *
 * Help is rendered from the same tables, so `--help` and the parser cannot
 * disagree. Value parsers for sizes, durations and times live here too.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"

#define MAX_DEPTH 4

static char g_cmdpath[128] = "samsa";
static char g_help_hint[160] = "samsa --help";

/* ---- small containers ---------------------------------------------------- */

void cli_list_push(cli_list_t *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) {
            fprintf(stderr, "samsa: out of memory\n");
            exit(CLI_EFAIL);
        }
    }
    l->v[l->n++] = s;
}

void cli_list_free(cli_list_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- messages -------------------------------------------------------------- */

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "samsa: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s')\n", G.help_hint ? G.help_hint : "samsa --help");
    return CLI_EUSAGE;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "samsa: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "samsa: warning: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- near-miss suggestions --------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

/* Best candidate within distance 2 (or a prefix match), else NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t d = edit_distance(word, cands[i]);
        if (strlen(word) >= 3 && !strncmp(cands[i], word, strlen(word)))
            d = 1;
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

/* ---- option lookup and application ------------------------------------ */

static int takes_value(const cli_opt_t *o)
{
    return o->kind == OPT_STR || o->kind == OPT_INT || o->kind == OPT_LIST;
}

static const cli_opt_t *find_long(const cli_opt_t *opts, const char *name, size_t len)
{
    for (const cli_opt_t *o = opts; o && o->lname; o++)
        if (strlen(o->lname) == len && !strncmp(o->lname, name, len))
            return o;
    return NULL;
}

static const cli_opt_t *find_short(const cli_opt_t *opts, char c)
{
    for (const cli_opt_t *o = opts; o && o->lname; o++)
        if (o->sname && o->sname == c)
            return o;
    return NULL;
}

static int apply(const cli_opt_t *o, const char *val)
{
    switch (o->kind) {
    case OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case OPT_COUNT:
        (*(int *)o->dst)++;
        return 0;
    case OPT_STR:
        *(const char **)o->dst = val;
        return 0;
    case OPT_LIST:
        cli_list_push((cli_list_t *)o->dst, val);
        return 0;
    case OPT_INT:
        if (cli_parse_int(val, (int64_t *)o->dst) < 0)
            return cli_usage("option --%s: '%s' is not an integer", o->lname, val);
        return 0;
    }
    return 0;
}

static int unknown_long(const cli_opt_t *opts, const char *name, size_t len)
{
    const char *cands[128];
    size_t n = 0;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(len < 60 ? len : 60), name);
    for (const cli_opt_t *o = opts; o && o->lname && n < 100; o++)
        cands[n++] = o->lname;
    for (const cli_opt_t *o = cli_global_opts; o->lname && n < 128; o++)
        cands[n++] = o->lname;
    const char *s = suggest(word, cands, n);
    if (s)
        return cli_usage("unknown option '--%s' (did you mean '--%s'?)", word, s);
    return cli_usage("unknown option '--%s'", word);
}

/* Parse argv[*i] (an option); may consume argv[*i + 1]. */
static int parse_option(int argc, char **argv, int *i, const cli_opt_t *opts)
{
    const char *a = argv[*i];
    if (a[1] == '-') {
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt_t *o = find_long(opts, name, len);
        if (!o)
            o = find_long(cli_global_opts, name, len);
        if (!o)
            return unknown_long(opts, name, len);
        if (!takes_value(o)) {
            if (eq)
                return cli_usage("option --%s takes no value", o->lname);
            return apply(o, NULL);
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (*i + 1 >= argc)
                return cli_usage("option --%s needs a value (%s)", o->lname, o->metavar);
            val = argv[++*i];
        }
        return apply(o, val);
    }
    for (size_t j = 1; a[j]; j++) {
        const cli_opt_t *o = find_short(opts, a[j]);
        if (!o)
            o = find_short(cli_global_opts, a[j]);
        if (!o)
            return cli_usage("unknown option '-%c'", a[j]);
        if (!takes_value(o)) {
            int rc = apply(o, NULL);
            if (rc)
                return rc;
            continue;
        }
        const char *val = a[j + 1] ? a + j + 1 : NULL;
        if (!val) {
            if (*i + 1 >= argc)
                return cli_usage("option -%c needs a value (%s)", o->sname, o->metavar);
            val = argv[++*i];
        }
        return apply(o, val);
    }
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

static void set_paths(const cli_cmd_t *const *path, int depth)
{
    size_t n = 0;
    g_cmdpath[0] = 0;
    for (int k = 0; k < depth; k++)
        n += snprintf(g_cmdpath + n, sizeof g_cmdpath - n, "%s%s", k ? " " : "", path[k]->name);
    snprintf(g_help_hint, sizeof g_help_hint, "%s --help", g_cmdpath);
    G.cmdpath = g_cmdpath;
    G.help_hint = g_help_hint;
}

int cli_dispatch(int argc, char **argv)
{
    const cli_cmd_t *path[MAX_DEPTH];
    int depth = 0, i = 1, rc = 0, nrest = 0;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return cli_fail(CLI_EFAIL, "out of memory");
    path[depth++] = &cli_root;
    set_paths(path, depth);

    /* Phase 1: command words (global options may come first). */
    for (; i < argc; i++) {
        const cli_cmd_t *cur = path[depth - 1];
        const char *a = argv[i];
        if (!cur->subs || !strcmp(a, "--"))
            break;
        if (a[0] == '-' && a[1]) {
            if ((rc = parse_option(argc, argv, &i, NULL)))
                goto out;
            continue;
        }
        const cli_cmd_t *sub = NULL;
        for (const cli_cmd_t *const *s = cur->subs; *s; s++)
            if (!strcmp((*s)->name, a))
                sub = *s;
        if (!sub) {
            if (cli_opt_help)
                break;   /* "samsa topic bogus --help": show the group help */
            const char *cands[32];
            size_t n = 0;
            for (const cli_cmd_t *const *s = cur->subs; *s && n < 32; s++)
                cands[n++] = (*s)->name;
            const char *sg = suggest(a, cands, n);
            if (sg)
                rc = cli_usage("unknown command '%s' for '%s' (did you mean '%s'?)", a, g_cmdpath, sg);
            else
                rc = cli_usage("unknown command '%s' for '%s'", a, g_cmdpath);
            goto out;
        }
        if (depth == MAX_DEPTH)
            break;
        path[depth++] = sub;
        set_paths(path, depth);
    }

    /* Phase 2: the leaf's options, global options and positionals. */
    const cli_cmd_t *cmd = path[depth - 1];
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            while (++i < argc)
                rest[nrest++] = argv[i];
            break;
        }
        if (a[0] == '-' && a[1]) {
            if ((rc = parse_option(argc, argv, &i, cmd->opts)))
                goto out;
        } else {
            rest[nrest++] = argv[i];
        }
    }

    if (cli_opt_help) {
        cli_print_help(stdout, path, depth);
        rc = CLI_OK;
        goto out;
    }
    if (cli_opt_version && depth == 1) {
        cli_print_version();
        rc = CLI_OK;
        goto out;
    }
    if (!cmd->run) {
        if (nrest > 0) {
            rc = cli_usage("unknown command '%s' for '%s'", rest[0], g_cmdpath);
            goto out;
        }
        cli_print_help(stderr, path, depth);
        rc = CLI_EUSAGE;
        goto out;
    }
    if (nrest < cmd->min_args) {
        rc = cli_usage("missing argument%s %s", cmd->min_args > 1 ? "s" : "",
                       cmd->args ? cmd->args : "");
        goto out;
    }
    if (cmd->max_args >= 0 && nrest > cmd->max_args) {
        rc = cli_usage("unexpected argument '%s'", rest[cmd->max_args]);
        goto out;
    }
    if ((rc = cli_globals_finish()))
        goto out;
    rc = cmd->run(nrest, rest);
out:
    free(rest);
    return rc;
}

/* ---- help ----------------------------------------------------------------------- */

static void opt_left(const cli_opt_t *o, char *buf, size_t len)
{
    int n;
    if (o->sname)
        n = snprintf(buf, len, "-%c, --%s", o->sname, o->lname);
    else
        n = snprintf(buf, len, "    --%s", o->lname);
    if (takes_value(o) && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %s", o->metavar ? o->metavar : "VALUE");
}

static void print_opts(FILE *f, const char *title, const cli_opt_t *opts)
{
    char left[96];
    int w = 0;
    if (!opts || !opts->lname)
        return;
    for (const cli_opt_t *o = opts; o->lname; o++) {
        opt_left(o, left, sizeof left);
        int l = (int)strlen(left);
        if (l > w && l <= 30)
            w = l;
    }
    fprintf(f, "\n%s:\n", title);
    for (const cli_opt_t *o = opts; o->lname; o++) {
        opt_left(o, left, sizeof left);
        if ((int)strlen(left) > w)
            fprintf(f, "  %s\n  %-*s  %s\n", left, w, "", o->help);
        else
            fprintf(f, "  %-*s  %s\n", w, left, o->help);
    }
}

static void print_examples(FILE *f, const char *ex)
{
    if (!ex)
        return;
    fprintf(f, "\nExamples:\n");
    while (*ex) {
        const char *nl = strchr(ex, '\n');
        size_t len = nl ? (size_t)(nl - ex) : strlen(ex);
        fprintf(f, "  %.*s\n", (int)len, ex);
        ex += len + (nl ? 1 : 0);
    }
}

static void print_summary_sentence(FILE *f, const char *s)
{
    fprintf(f, "%c%s.\n", toupper((unsigned char)s[0]), s + 1);
}

/* "topic create NAME" lines of the root help: every leaf with its args. */
static void collect_leaves(const cli_cmd_t *c, const char *prefix, char lines[][64],
                           const char **sums, int *n, int max)
{
    for (const cli_cmd_t *const *sp = c->subs; sp && *sp && *n < max; sp++) {
        const cli_cmd_t *s = *sp;
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? " " : "", s->name);
        if (s->subs && !s->run) {
            collect_leaves(s, name, lines, sums, n, max);
            continue;
        }
        snprintf(lines[*n], 64, "%.40s%s%.20s", name, s->args ? " " : "", s->args ? s->args : "");
        sums[*n] = s->summary;
        (*n)++;
    }
}

static const char exit_codes_text[] =
    "\nExit codes:\n"
    "  0    success\n"
    "  1    the operation failed (Kafka error, failed delivery, I/O error)\n"
    "  2    usage error (unknown command or option, bad value)\n"
    "  3    cannot reach the cluster (no broker answered within --timeout)\n"
    "  4    the topic or group does not exist\n"
    "  130  interrupted (Ctrl-C) before the work was done\n";

void cli_print_help(FILE *f, const cli_cmd_t *const *path, int depth)
{
    const cli_cmd_t *cmd = path[depth - 1];
    char name[128];
    size_t n = 0;
    name[0] = 0;
    for (int k = 0; k < depth; k++)
        n += snprintf(name + n, sizeof name - n, "%s%s", k ? " " : "", path[k]->name);

    if (depth == 1) {
        char lines[48][64];
        const char *sums[48];
        int cnt = 0, w = 0;
        fprintf(f, "samsa %s - %s\n", SAMSA_CLI_VERSION, cmd->summary);
        fprintf(f, "\nUsage: samsa [global options] COMMAND [options] [ARGS]\n");
        if (cmd->description)
            fprintf(f, "\n%s", cmd->description);
        collect_leaves(cmd, "", lines, sums, &cnt, 48);
        for (int k = 0; k < cnt; k++)
            if ((int)strlen(lines[k]) > w)
                w = (int)strlen(lines[k]);
        fprintf(f, "\nCommands:\n");
        for (int k = 0; k < cnt; k++)
            fprintf(f, "  %-*s  %s\n", w, lines[k], sums[k]);
        print_opts(f, "Global options (accepted by every command, anywhere on the line)",
                   cli_global_opts);
        fputs(exit_codes_text, f);
        print_examples(f, cmd->examples);
        fprintf(f, "\nRun 'samsa COMMAND --help' for the options and examples of a command.\n");
        return;
    }

    if (cmd->subs && !cmd->run) {
        int w = 0;
        fprintf(f, "Usage: %s COMMAND [options]\n\n", name);
        print_summary_sentence(f, cmd->summary);
        if (cmd->description)
            fprintf(f, "\n%s", cmd->description);
        for (const cli_cmd_t *const *sp = cmd->subs; *sp; sp++) {
            const cli_cmd_t *s = *sp;
            int l = (int)(strlen(s->name) + (s->args ? strlen(s->args) + 1 : 0));
            if (l > w)
                w = l;
        }
        fprintf(f, "\nCommands:\n");
        for (const cli_cmd_t *const *sp = cmd->subs; *sp; sp++) {
            const cli_cmd_t *s = *sp;
            char left[96];
            snprintf(left, sizeof left, "%s%s%s", s->name, s->args ? " " : "", s->args ? s->args : "");
            fprintf(f, "  %-*s  %s\n", w, left, s->summary);
        }
        print_examples(f, cmd->examples);
        fprintf(f, "\nRun '%s COMMAND --help' for the options of a command;"
                   " 'samsa --help' for the global options.\n", name);
        return;
    }

    fprintf(f, "Usage: %s%s%s [options]\n\n", name, cmd->args ? " " : "", cmd->args ? cmd->args : "");
    print_summary_sentence(f, cmd->summary);
    if (cmd->description)
        fprintf(f, "\n%s", cmd->description);
    print_opts(f, "Options", cmd->opts);
    print_opts(f, "Global options", cli_global_opts);
    print_examples(f, cmd->examples);
}

/* ---- value parsers ------------------------------------------------------------ */

int cli_parse_int(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, int64_t *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned long long mul = 1;
    if (!strcasecmp(end, "") || !strcasecmp(end, "b"))
        mul = 1;
    else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
        mul = 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
        mul = 1024 * 1024;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
        mul = 1024ULL * 1024 * 1024;
    else
        return -1;
    if (v > (unsigned long long)INT64_MAX / mul)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

int cli_parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v < 0)
        return -1;
    double mul;
    if (!*end || !strcmp(end, "s"))
        mul = 1000;
    else if (!strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60e3;
    else if (!strcmp(end, "h"))
        mul = 3600e3;
    else if (!strcmp(end, "d"))
        mul = 86400e3;
    else
        return -1;
    if (v * mul > 9e15)
        return -1;
    *out = (int64_t)(v * mul + 0.5);
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (!isdigit((unsigned char)(*p)[k]))
            return -1;
        v = v * 10 + ((*p)[k] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* ISO-8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]; no zone = local. */
static int parse_iso8601(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec))
                return -1;
            if (*p == '.' || *p == ',') {
                int scale = 100;
                p++;
                if (!isdigit((unsigned char)*p))
                    return -1;
                while (isdigit((unsigned char)*p)) {
                    ms += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t;
    if (!*p) {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    } else if ((*p == 'Z' || *p == 'z') && !p[1]) {
        t = timegm(&tm);
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om))
            return -1;
        if (*p || oh > 23 || om > 59)
            return -1;
        t = timegm(&tm) - sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (t == (time_t)-1 && y != 1969)
        return -1;
    *out = (int64_t)t * 1000 + ms;
    return 0;
}

int cli_parse_time_ms(const char *s, int64_t *out, char *err, size_t errlen)
{
    int64_t v;
    if (!strcmp(s, "now")) {
        *out = cli_wall_ms();
        return 0;
    }
    if (s[0] == '-' && s[1] && cli_parse_duration_ms(s + 1, &v) == 0 && !isdigit((unsigned char)s[strlen(s) - 1])) {
        *out = cli_wall_ms() - v;   /* -15m, -2h, -1d */
        return 0;
    }
    if (cli_parse_int(s, &v) == 0 && v >= 0) {
        *out = v;                   /* milliseconds since the epoch */
        return 0;
    }
    if (parse_iso8601(s, &v) == 0) {
        *out = v;
        return 0;
    }
    snprintf(err, errlen, "'%s' is not a time (use ISO-8601 like 2024-05-01T12:00:00Z, "
             "milliseconds since the epoch, 'now' or a relative time like -15m)", s);
    return -1;
}

int cli_split_kv(const char *s, char **key, const char **val)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return -1;
    *key = strndup(s, (size_t)(eq - s));
    *val = eq + 1;
    return *key ? 0 : -1;
}

int cli_check_compression(const char *s)
{
    static const char *const ok[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++)
        if (!strcmp(s, ok[k]))
            return 0;
    return cli_usage("bad compression '%s' (use none, gzip, snappy, lz4 or zstd)", s);
}

int cli_check_acks(const char *s)
{
    if (!strcmp(s, "0") || !strcmp(s, "1") || !strcmp(s, "all") || !strcmp(s, "-1"))
        return 0;
    return cli_usage("bad acks '%s' (use 0, 1 or all)", s);
}
