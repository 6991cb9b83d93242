/*
 * header.h - request and response headers.
 *
 * Request header v0: api_key INT16, api_version INT16, correlation_id INT32.
 * v1 adds client_id (INT16-length nullable string, never compact); v2 adds a
 * tagged-field section.  A request uses v2 when its API version is flexible,
 * else v1 (ControlledShutdown v0 uses v0).  A response uses header v1 (with
 * a tag section) for flexible versions, else v0 - except ApiVersions, whose
 * response header is always v0 so that any client can read the error.
 */
#ifndef SAMSA_PROTO_HEADER_H
#define SAMSA_PROTO_HEADER_H

#include <stdint.h>

#include "core/obuf.h"
#include "proto/kreader.h"
#include "proto/schema.h"

typedef struct kreq_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kstr client_id;         /* points into the request; len -1 = null */
    int header_version;     /* 0, 1 or 2 */
} kreq_header;

/* Peek api_key/api_version/correlation_id (first 8 bytes): 0 or -1. */
int kreq_header_peek(const uint8_t *p, size_t n, kreq_header *h);
/* Parse the full header for the given header version; r is left at the
 * body.  0, or KERR__PARSE. */
int kreq_header_parse(kreader *r, int header_version, kreq_header *h);
/* Header version a request uses, and its response header version. */
int kreq_header_version(int16_t api_key, int16_t api_version);
int kresp_header_version(int16_t api_key, int16_t api_version);
/* Append the response header. */
void kresp_header_write(obuf *ob, int resp_header_version, int32_t correlation_id);

#endif
