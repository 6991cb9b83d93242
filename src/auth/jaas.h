/*
 * jaas.h - Kafka's sasl.jaas.config values (JAAS configuration syntax):
 *
 *   <login module class> <flag> [<key>=<value>]* ;
 *
 * e.g. org.apache.kafka.common.security.plain.PlainLoginModule required
 *      username="admin" password="admin-secret" user_alice="alice-secret";
 *
 * flag is required | requisite | sufficient | optional (any case); values
 * are words ([A-Za-z0-9._$-] and bytes >= 0x80) or quoted strings ("..." or
 * '...') with Java's escapes (\n \t \b \f \r \\ \" \' and octal); // and
 * slash-star comments are skipped, as Kafka's StreamTokenizer does.  A
 * sasl.jaas.config holds exactly one login module (Kafka refuses more).
 * Bounds: JAAS_MAX_TEXT bytes of text, JAAS_MAX_OPTIONS options.  The
 * values are secrets: never log them (jaas_config carries them).
 * Owned memory: jaas_parse allocates, jaas_free releases.
 */
#ifndef SAMSA_AUTH_JAAS_H
#define SAMSA_AUTH_JAAS_H

#include <stddef.h>

#define JAAS_MAX_TEXT 65536
#define JAAS_MAX_OPTIONS 1024

#define JAAS_PLAIN_MODULE "org.apache.kafka.common.security.plain.PlainLoginModule"
#define JAAS_SCRAM_MODULE "org.apache.kafka.common.security.scram.ScramLoginModule"
#define JAAS_OAUTHBEARER_MODULE "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"

enum jaas_flag { JAAS_REQUIRED, JAAS_REQUISITE, JAAS_SUFFICIENT, JAAS_OPTIONAL };

typedef struct jaas_option {
    char *key;
    char *value;
} jaas_option;

typedef struct jaas_config {
    char *module;
    int flag;                 /* enum jaas_flag */
    size_t nopts;
    jaas_option *opts;
} jaas_config;

/* 0, or -1 with Kafka's reason in why (no value is quoted in it). */
int jaas_parse(const char *text, jaas_config *out, char *why, size_t wn);
void jaas_free(jaas_config *jc);
/* The value of option `key`, or NULL. */
const char *jaas_get(const jaas_config *jc, const char *key);
/* The login module Kafka expects for a SASL mechanism ("PLAIN", ...), or NULL. */
const char *jaas_module_for(const char *mechanism);

#endif
