/* docs_check.c - see docs_check.h. */
#include "docs_check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (!r)
            break;
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

void docs_check_section(const char *path, const char *begin_mark, const char *end_mark,
                        void (*gen_fn)(FILE *out), const char *test_name)
{
    size_t dlen = 0, glen = 0;
    char *doc = slurp(path, &dlen);
    if (!doc)
        return;
    char *gen = NULL;
    FILE *m = open_memstream(&gen, &glen);
    if (!m) {
        free(doc);
        test_fail(__FILE__, __LINE__, "open_memstream failed");
        return;
    }
    gen_fn(m);
    fclose(m);
    char *b = strstr(doc, begin_mark), *e = b ? strstr(b, end_mark) : NULL;
    if (!b || !e) {
        test_fail(__FILE__, __LINE__, "%s lacks the generated-section markers", path);
        goto out;
    }
    b += strlen(begin_mark);
    bool same = (size_t)(e - b) == glen && !memcmp(b, gen, glen);
    const char *regen = getenv("SAMSA_REGEN_DOCS");
    if (!same && regen && !strcmp(regen, "1")) {
        FILE *f = fopen(path, "wb");
        if (!f) {
            test_fail(__FILE__, __LINE__, "cannot write %s", path);
            goto out;
        }
        fwrite(doc, 1, (size_t)(b - doc), f);
        fwrite(gen, 1, glen, f);
        fwrite(e, 1, dlen - (size_t)(e - doc), f);
        fclose(f);
        fprintf(stderr, "    regenerated %s\n", path);
    } else if (!same) {
        test_fail(__FILE__, __LINE__, "%s is stale: run SAMSA_REGEN_DOCS=1 unit-tests %s", path,
                  test_name);
    }
out:
    free(gen);
    free(doc);
}
