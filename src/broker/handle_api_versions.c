/*
 * handle_api_versions.c - ApiVersions (key 18).
 *
 * Advertises exactly the dispatch table.  Versions above ours never reach
 * here: client.c answers them with UNSUPPORTED_VERSION in the v0 format.
 * v3+ requests carry the client software name and version, which Kafka
 * validates against [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?; a bad one
 * gets INVALID_REQUEST.
 */
#include "broker/dispatch.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/api_versions.h"

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool software_field_valid(kstr s)
{
    if (s.len <= 0)
        return false;
    if (!alnum(s.p[0]) || !alnum(s.p[s.len - 1]))
        return false;
    for (int32_t i = 0; i < s.len; i++)
        if (!alnum(s.p[i]) && s.p[i] != '-' && s.p[i] != '.')
            return false;
    return true;
}

void handle_api_versions(kreq *rq)
{
    api_versions_req *req = rq->body;
    api_versions_resp *r = kreq_new_response(rq);
    if (rq->hdr.api_version >= 3 && (!software_field_valid(req->client_software_name) ||
                                     !software_field_valid(req->client_software_version)))
        r->error_code = KERR_INVALID_REQUEST;
    int n = 0;
    const api_entry *tab = dispatch_table(&n);
    api_versions_resp_api_keys *keys = KARRAY_ALLOC(&rq->arena, &r->api_keys, n);
    for (int i = 0; keys && i < n; i++)
        keys[i] = (api_versions_resp_api_keys){ .api_key = tab[i].key,
                                               .min_version = tab[i].min_version,
                                               .max_version = tab[i].max_version };
    kreq_respond(rq, r);
}
