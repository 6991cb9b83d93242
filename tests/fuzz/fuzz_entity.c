/*
 * fuzz_entity.c - the user/client-id entity path codec and Kafka's
 * Sanitizer (src/cluster/entity.c): entity paths come from ZooKeeper
 * (/config/changes notifications, znode names anyone with ZooKeeper
 * access can write) and from the local metadata file.
 *
 * Input: the bytes of a path (a NUL ends it early).
 *
 * Oracle: parsing returns 0 or -1 (never crashes, never reads past the
 * string); a path that parses formats back to a path that parses to the
 * same entity (S-ENT1: a name never holds a "/" once sanitized); a string
 * that desanitizes sanitizes to one that desanitizes to the same name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * ENT_PATH_MAX)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    ent_name a, b;
    char path[ENT_PATH_MAX];
    if (ent_path_parse(s, &a) == 0) {
        must(ent_path_format(&a, path, sizeof path) == 0);
        must(ent_path_parse(path, &b) == 0);
        must(a.has_user == b.has_user && a.has_client == b.has_client &&
             a.user_default == b.user_default && a.client_default == b.client_default &&
             !strcmp(a.user, b.user) && !strcmp(a.client, b.client));
    }
    char name[ENT_PATH_MAX], san[3 * ENT_PATH_MAX + 1], back[ENT_PATH_MAX];
    if (ent_desanitize(s, name, sizeof name) == 0 && ent_sanitize(name, san, sizeof san) == 0) {
        must(!strchr(san, '/'));
        must(ent_desanitize(san, back, sizeof back) == 0 && !strcmp(back, name));
    }
    free(s);
    return 0;
}
