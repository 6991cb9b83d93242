/* dispatch.c - see dispatch.h.  Keep rows in API-key order. */
#include "broker/dispatch.h"

#include "proto/api.h"

static const api_entry g_table[] = {
    { 18, 0, 4, handle_api_versions, "v0 fallback for unknown versions (KIP-511)" },
    {  3, 0, 12, handle_metadata, "topic ids (v10+); auto-creation per auto.create.topics.enable" },
};

#define NROWS ((int)(sizeof g_table / sizeof g_table[0]))

const api_entry *dispatch_get(int key)
{
    for (int i = 0; i < NROWS; i++)
        if (g_table[i].key == key)
            return &g_table[i];
    return NULL;
}

const api_entry *dispatch_table(int *n)
{
    *n = NROWS;
    return g_table;
}

void dispatch_print_markdown(FILE *out)
{
    fprintf(out, "| Key | API | Versions | Notes |\n|---:|---|---|---|\n");
    for (int k = 0; k <= KAPI_KEY_MAX; k++) {
        const api_entry *e = dispatch_get(k);
        if (e)
            fprintf(out, "| %d | %s | %d-%d | %s |\n", e->key, kapi_name(e->key), e->min_version,
                    e->max_version, e->notes ? e->notes : "");
    }
}
