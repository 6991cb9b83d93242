/*
 * ssl_mapper.h - ssl.principal.mapping.rules: Kafka's SslPrincipalMapper.
 *
 * An SSL listener's principal is the client certificate's subject DN (RFC
 * 2253, as Java's X500Principal.getName() prints it: "CN=alice,O=Samsa,C=US")
 * passed through these rules.  Syntax (Kafka's): a comma-separated list of
 *
 *     DEFAULT                            the DN unchanged
 *     RULE:pattern/replacement/[L|U]     if pattern matches the whole DN,
 *                                        the DN with every match of pattern
 *                                        replaced by replacement ($1.. are
 *                                        groups, \ escapes), then lower- or
 *                                        upper-cased with L / U
 *
 * tried in order; the first rule that applies gives the name.  When none
 * applies the mapping fails (Kafka: NoMatchingRule - the connection is not
 * authenticated).  "/" and "\" inside a pattern or replacement are escaped
 * with "\".  Kafka's default is "DEFAULT".
 *
 * Difference from Kafka: patterns are POSIX extended regular expressions
 * (regcomp), not java.util.regex; Java's reluctant quantifiers (".*?")
 * are read as greedy ones, which gives the same answer for the usual
 * anchored rules ("^CN=(.*?),OU=ServiceUsers.*$").  A group reference
 * beyond the pattern's groups is kept literally, as Kafka does.
 *
 * Pure: no I/O, no globals.  A parsed ssl_mapper is immutable and may be
 * used by many threads at once (regexec is reentrant).
 */
#ifndef SAMSA_AUTH_SSL_MAPPER_H
#define SAMSA_AUTH_SSL_MAPPER_H

#include <stddef.h>

typedef struct ssl_mapper ssl_mapper;

/* Parse rules (NULL = "DEFAULT"; "" = no rule, so nothing maps, as in Kafka).  NULL on a bad rule, with
 * "Invalid rule: ..." (Kafka's words) or the regex error in why. */
ssl_mapper *ssl_mapper_parse(const char *rules, char *why, size_t whylen);
void ssl_mapper_free(ssl_mapper *m);
/* Map dn into out: 0, or -1 when no rule applies ("No rules apply to
 * <dn>") or the result does not fit (out gets the reason). */
int ssl_mapper_map(const ssl_mapper *m, const char *dn, char *out, size_t outlen);

#endif
