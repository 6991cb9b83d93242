/*
 * entity.h - Kafka's user and client-id config entities: their names as
 * paths and the codec between a name and its stored form.
 *
 * An entity is a user, a client id, or a (user, client id) pair, each part
 * either named or the default ("<default>"), written as Kafka writes its
 * path under /config in ZooKeeper and in /config/changes notifications:
 *
 *   users/<u>    clients/<c>    users/<u>/clients/<c>
 *   users/<default>   clients/<default>   users/<default>/clients/<c> ...
 *
 * where <u> and <c> are sanitized with Kafka's Sanitizer (UTF-8 bytes
 * URL-encoded: A-Z a-z 0-9 . - _ kept, everything else %XX in upper case,
 * so "*" is "%2A" and a space "%20"), which keeps a name one path
 * component (S-ENT1: no name can escape its entity's znode or key).  The
 * configs of a user entity hold its SCRAM credentials ("SCRAM-SHA-256",
 * "SCRAM-SHA-512") and its quotas; a client entity holds quotas only.
 * Pure functions; any thread.
 */
#ifndef SAMSA_CLUSTER_ENTITY_H
#define SAMSA_CLUSTER_ENTITY_H

#include <stdbool.h>
#include <stddef.h>

/* Kafka's name of a default entity (not sanitized). */
#define ENT_DEFAULT "<default>"
/* Longest name we accept (a user or client id), unsanitized. */
#define ENT_NAME_MAX 256
/* Longest path: both parts fully escaped. */
#define ENT_PATH_MAX (2 * 3 * ENT_NAME_MAX + 32)

typedef struct ent_name {
    bool has_user, has_client;
    bool user_default, client_default;   /* the part is "<default>" */
    char user[ENT_NAME_MAX + 1];         /* unsanitized; "" when default */
    char client[ENT_NAME_MAX + 1];
} ent_name;

/* Kafka's Sanitizer.sanitize into out (n bytes); -1 when it does not fit. */
int ent_sanitize(const char *in, char *out, size_t n);
/* Its inverse (URL decoding, "+" as a space); -1 on a malformed escape, an
 * escaped NUL or when it does not fit. */
int ent_desanitize(const char *in, char *out, size_t n);

/* The entity's path; -1 when it has no part, a name is too long or empty
 * and not default. */
int ent_path_format(const ent_name *e, char *out, size_t n);
/* Parse a path of the three shapes above; -1 for anything else (topics,
 * brokers, a malformed escape). */
int ent_path_parse(const char *path, ent_name *out);

#endif
