/*
 * handle_api_versions.c - ApiVersions (key 18).
 *
 * Advertises exactly the dispatch table.  Versions above ours never reach
 * here: client.c answers them with UNSUPPORTED_VERSION in the v0 format.
 * v3+ requests carry the client software name and version, which Kafka
 * validates against [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?; a bad one
 * gets INVALID_REQUEST.
 * v5 (KIP-1242) may name the cluster and node the client means to reach:
 * both or neither (one alone: INVALID_REQUEST), and when both, they must be
 * this broker's (else REBOOTSTRAP_REQUIRED, so the client rebootstraps
 * rather than talk to another cluster's broker at a reused address); an
 * error answer lists no APIs, as Kafka's.
 */
#include <string.h>

#include "broker/broker.h"
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

/* v5: the cluster and node the client names, if any (KIP-1242). */
static int16_t target_check(kreq *rq, const api_versions_req *req)
{
    bool has_cluster = req->cluster_id.len >= 0, has_node = req->node_id >= 0;
    if (!has_cluster && !has_node)
        return KERR_NONE;
    if (has_cluster != has_node)
        return KERR_INVALID_REQUEST;
    broker *b = broker_of(rq);
    const char *ours = b->cluster_id;
    bool same = req->node_id == b->set.node_id && strlen(ours) == (size_t)req->cluster_id.len &&
                !memcmp(ours, req->cluster_id.p, (size_t)req->cluster_id.len);
    return same ? KERR_NONE : KERR_REBOOTSTRAP_REQUIRED;
}

void handle_api_versions(kreq *rq)
{
    api_versions_req *req = rq->body;
    api_versions_resp *r = kreq_new_response(rq);
    if (rq->hdr.api_version >= 3 && (!software_field_valid(req->client_software_name) ||
                                     !software_field_valid(req->client_software_version)))
        r->error_code = KERR_INVALID_REQUEST;
    if (!r->error_code && rq->hdr.api_version >= 5 && (r->error_code = target_check(rq, req))) {
        kreq_respond(rq, r);
        return;
    }
    int n = 0;
    const api_entry *tab = dispatch_table(&n);
    api_versions_resp_api_keys *keys = KARRAY_ALLOC(&rq->arena, &r->api_keys, n);
    for (int i = 0; keys && i < n; i++)
        keys[i] = (api_versions_resp_api_keys){ .api_key = tab[i].key,
                                               .min_version = tab[i].min_version,
                                               .max_version = tab[i].max_version };
    kreq_respond(rq, r);
}
