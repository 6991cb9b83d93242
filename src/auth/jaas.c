/*
 * jaas.c - the JAAS configuration parser (see jaas.h).  A small tokenizer
 * shaped like java.io.StreamTokenizer as Kafka's JaasConfig sets it up.
 */
#include "auth/jaas.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_EOF, T_WORD, T_CHAR, T_ERR };

typedef struct tok {
    const char *p, *end;
    int type;
    char ch;                /* T_CHAR */
    char *val;              /* T_WORD (malloc'd, the caller takes it) */
} tok;

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_' || c == '$' || c >= 0x80;
}

/* Skip blanks and comments; -1 on an unterminated comment. */
static int skip(tok *t)
{
    for (;;) {
        while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r' ||
                                 *t->p == '\f'))
            t->p++;
        if (t->end - t->p >= 2 && t->p[0] == '/' && t->p[1] == '/') {
            while (t->p < t->end && *t->p != '\n')
                t->p++;
        } else if (t->end - t->p >= 2 && t->p[0] == '/' && t->p[1] == '*') {
            const char *e = NULL;
            for (const char *q = t->p + 2; q + 1 < t->end; q++)
                if (q[0] == '*' && q[1] == '/') {
                    e = q;
                    break;
                }
            if (!e)
                return -1;
            t->p = e + 2;
        } else {
            return 0;
        }
    }
}

static int next(tok *t)
{
    t->val = NULL;
    if (skip(t) < 0)
        return t->type = T_ERR;
    if (t->p >= t->end)
        return t->type = T_EOF;
    unsigned char c = (unsigned char)*t->p;
    if (word_char(c)) {
        const char *s = t->p;
        while (t->p < t->end && word_char((unsigned char)*t->p))
            t->p++;
        t->val = strndup(s, (size_t)(t->p - s));
        return t->type = t->val ? T_WORD : T_ERR;
    }
    if (c == '"' || c == '\'') {
        char q = (char)c;
        size_t cap = (size_t)(t->end - t->p), o = 0;
        char *v = malloc(cap + 1);
        if (!v)
            return t->type = T_ERR;
        t->p++;
        while (t->p < t->end && *t->p != q) {
            char ch = *t->p++;
            if (ch == '\\' && t->p < t->end) {
                char e = *t->p++;
                switch (e) {
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case 'b': ch = '\b'; break;
                case 'f': ch = '\f'; break;
                case 'r': ch = '\r'; break;
                default:
                    if (e >= '0' && e <= '7') {
                        int v8 = e - '0';
                        for (int k = 0; k < 2 && t->p < t->end && *t->p >= '0' && *t->p <= '7' &&
                                        v8 * 8 + (*t->p - '0') <= 0377; k++)
                            v8 = v8 * 8 + (*t->p++ - '0');
                        ch = (char)v8;
                    } else {
                        ch = e;
                    }
                }
            }
            v[o++] = ch;
        }
        if (t->p >= t->end) {           /* unterminated quote */
            free(v);
            return t->type = T_ERR;
        }
        t->p++;
        v[o] = '\0';
        t->val = v;
        return t->type = T_WORD;
    }
    t->p++;
    t->ch = (char)c;
    return t->type = T_CHAR;
}

void jaas_free(jaas_config *jc)
{
    if (!jc)
        return;
    for (size_t i = 0; i < jc->nopts; i++) {
        free(jc->opts[i].key);
        if (jc->opts[i].value) {
            memset(jc->opts[i].value, 0, strlen(jc->opts[i].value));
            free(jc->opts[i].value);
        }
    }
    free(jc->opts);
    free(jc->module);
    memset(jc, 0, sizeof *jc);
}

static int parse_flag(const char *s)
{
    static const char *const names[] = { "required", "requisite", "sufficient", "optional" };
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i]))
            return i;
    return -1;
}

int jaas_parse(const char *text, jaas_config *out, char *why, size_t wn)
{
    memset(out, 0, sizeof *out);
    if (!text) {
        snprintf(why, wn, "JAAS config is empty");
        return -1;
    }
    size_t len = strnlen(text, JAAS_MAX_TEXT + 1);
    if (len > JAAS_MAX_TEXT) {
        snprintf(why, wn, "JAAS config is longer than %d bytes", JAAS_MAX_TEXT);
        return -1;
    }
    tok t = { .p = text, .end = text + len };
    int modules = 0;
    for (;;) {
        next(&t);
        if (t.type == T_EOF)
            break;
        if (t.type != T_WORD) {
            snprintf(why, wn, t.type == T_ERR ? "unterminated quote or comment in JAAS config"
                                              : "Login module not specified in JAAS config");
            goto fail;
        }
        modules++;
        char *module = t.val;
        if (modules > 1) {
            free(module);
            /* Count the rest as Kafka's message does: by ';'. */
            while (next(&t) != T_EOF && t.type != T_ERR) {
                if (t.type == T_CHAR && t.ch == ';')
                    modules++;
                free(t.val);
            }
            snprintf(why, wn, "JAAS config property contains %d login modules, should be 1 module",
                     modules - 1 + (modules == 1));
            goto fail;
        }
        out->module = module;
        if (next(&t) != T_WORD) {
            snprintf(why, wn, "Login module control flag not specified in JAAS config");
            goto fail;
        }
        out->flag = parse_flag(t.val);
        if (out->flag < 0) {
            snprintf(why, wn, "Invalid login module control flag '%.32s' in JAAS config", t.val);
            free(t.val);
            goto fail;
        }
        free(t.val);
        for (;;) {
            next(&t);
            if (t.type == T_CHAR && t.ch == ';')
                break;
            if (t.type == T_EOF || t.type == T_ERR) {
                snprintf(why, wn, t.type == T_ERR ? "unterminated quote or comment in JAAS config"
                                                  : "JAAS config entry not terminated by semi-colon");
                goto fail;
            }
            if (t.type != T_WORD) {
                snprintf(why, wn, "unexpected '%c' in JAAS config", t.ch);
                goto fail;
            }
            char *key = t.val;
            if (next(&t) != T_CHAR || t.ch != '=' || next(&t) != T_WORD) {
                if (t.type == T_ERR)
                    snprintf(why, wn, "unterminated quote or comment in JAAS config");
                else
                    snprintf(why, wn, "Value not specified for key '%.64s' in JAAS config", key);
                free(key);
                free(t.val);
                goto fail;
            }
            if (out->nopts >= JAAS_MAX_OPTIONS) {
                snprintf(why, wn, "JAAS config has more than %d options", JAAS_MAX_OPTIONS);
                free(key);
                free(t.val);
                goto fail;
            }
            jaas_option *o = realloc(out->opts, (out->nopts + 1) * sizeof *o);
            if (!o) {
                snprintf(why, wn, "out of memory");
                free(key);
                free(t.val);
                goto fail;
            }
            out->opts = o;
            /* A repeated key: the last value wins (a Java Map put). */
            size_t i;
            for (i = 0; i < out->nopts && strcmp(out->opts[i].key, key); i++)
                ;
            if (i < out->nopts) {
                free(key);
                free(out->opts[i].value);
                out->opts[i].value = t.val;
            } else {
                out->opts[out->nopts++] = (jaas_option){ key, t.val };
            }
        }
    }
    if (!modules) {
        snprintf(why, wn, "Login module not specified in JAAS config");
        goto fail;
    }
    return 0;
fail:
    jaas_free(out);
    return -1;
}

const char *jaas_get(const jaas_config *jc, const char *key)
{
    for (size_t i = 0; jc && i < jc->nopts; i++)
        if (!strcmp(jc->opts[i].key, key))
            return jc->opts[i].value;
    return NULL;
}

const char *jaas_module_for(const char *mech)
{
    if (!strcmp(mech, "PLAIN"))
        return JAAS_PLAIN_MODULE;
    if (!strcmp(mech, "SCRAM-SHA-256") || !strcmp(mech, "SCRAM-SHA-512"))
        return JAAS_SCRAM_MODULE;
    if (!strcmp(mech, "OAUTHBEARER"))
        return JAAS_OAUTHBEARER_MODULE;
    return NULL;
}
