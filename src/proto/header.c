/* header.c - see header.h. */
#include "proto/header.h"

#include "core/errors.h"
#include "proto/api.h"
#include "proto/messages/api_versions.h"

int kreq_header_peek(const uint8_t *p, size_t n, kreq_header *h)
{
    if (n < 8)
        return -1;
    h->api_key = (int16_t)be16_load(p);
    h->api_version = (int16_t)be16_load(p + 2);
    h->correlation_id = (int32_t)be32_load(p + 4);
    return 0;
}

int kreq_header_version(int16_t api_key, int16_t api_version)
{
    if (api_key == 7 && api_version == 0)
        return 0;
    const kapi_schema *a = kapi_schema_get(api_key);
    return a && kapi_flexible(a, api_version) ? 2 : 1;
}

int kresp_header_version(int16_t api_key, int16_t api_version)
{
    if (api_key == API_VERSIONS_API_KEY)   /* always header v0, so old clients can read it */
        return 0;
    const kapi_schema *a = kapi_schema_get(api_key);
    return a && kapi_flexible(a, api_version) ? 1 : 0;
}

int kreq_header_parse(kreader *r, int header_version, kreq_header *h)
{
    h->api_key = kr_i16(r);
    h->api_version = kr_i16(r);
    h->correlation_id = kr_i32(r);
    h->client_id = (kstr){ NULL, -1 };
    h->header_version = header_version;
    if (header_version >= 1) {
        int16_t n = kr_i16(r);
        if (n >= 0) {
            const uint8_t *p = kr_bytes(r, (size_t)n);
            h->client_id = (kstr){ (const char *)p, p ? n : -1 };
        } else if (n < -1) {
            r->err = 1;
        }
    }
    if (header_version >= 2) {
        /* Tagged fields: none are defined for the request header; skip. */
        uint32_t cnt = kr_uvarint(r);
        for (uint32_t i = 0; i < cnt && !r->err; i++) {
            (void)kr_uvarint(r);
            uint32_t size = kr_uvarint(r);
            (void)kr_bytes(r, size);
        }
    }
    return r->err ? KERR__PARSE : 0;
}

void kresp_header_write(obuf *ob, int resp_header_version, int32_t correlation_id)
{
    uint8_t b[5];
    be32_store(b, (uint32_t)correlation_id);
    b[4] = 0;   /* empty tag section */
    obuf_append(ob, b, resp_header_version >= 1 ? 5 : 4);
}
