/* group.c - see group.h. */
#include "group/group.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/endian.h"
#include "core/javahash.h"

static const char *const STATE_NAMES[] = {
    [GROUP_EMPTY] = "Empty",
    [GROUP_PREPARING_REBALANCE] = "PreparingRebalance",
    [GROUP_COMPLETING_REBALANCE] = "CompletingRebalance",
    [GROUP_STABLE] = "Stable",
    [GROUP_DEAD] = "Dead",
};

const char *group_state_name(group_state s)
{
    return s <= GROUP_DEAD ? STATE_NAMES[s] : "Unknown";
}

int group_state_parse(const char *s, int len)
{
    for (int i = 0; i <= GROUP_DEAD; i++)
        if ((int)strlen(STATE_NAMES[i]) == len && !strncasecmp(STATE_NAMES[i], s, (size_t)len))
            return i;
    return -1;
}

group *group_new(const char *id, int32_t partition)
{
    group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = strdup(id);
    if (!g->id) {
        free(g);
        return NULL;
    }
    g->partition = partition;
    g->state = GROUP_EMPTY;
    strmap_init(&g->offsets);
    strmap_init(&g->txn);
    ktimer_init(&g->join_timer, NULL);
    ktimer_init(&g->sync_timer, NULL);
    return g;
}

void offset_entry_free(offset_entry *e)
{
    if (e) {
        free(e->metadata);
        free(e);
    }
}

void txn_pending_free(txn_pending *tp)
{
    if (!tp)
        return;
    size_t it = 0;
    void *v;
    while (strmap_next(&tp->offsets, &it, NULL, NULL, &v))
        offset_entry_free(v);
    strmap_free(&tp->offsets);
    free(tp);
}

bool group_txn_pending_for(const group *g, const char *key, size_t klen)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&g->txn, &it, NULL, NULL, &v))
        if (strmap_get(&((txn_pending *)v)->offsets, key, klen))
            return true;
    return false;
}

void member_free(member *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].meta);
    }
    free(m->protocols);
    free(m->assignment);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

void group_free(group *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nmembers; i++)
        member_free(g->members[i]);
    free(g->members);
    for (int i = 0; i < g->npending; i++) {
        free(g->pending[i]->id);
        free(g->pending[i]);
    }
    free(g->pending);
    size_t it = 0;
    void *v;
    while (strmap_next(&g->offsets, &it, NULL, NULL, &v))
        offset_entry_free(v);
    strmap_free(&g->offsets);
    it = 0;
    while (strmap_next(&g->txn, &it, NULL, NULL, &v))
        txn_pending_free(v);
    strmap_free(&g->txn);
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    free(g->id);
    free(g);
}

member *group_find_member(const group *g, const char *id)
{
    for (int i = 0; id && i < g->nmembers; i++)
        if (!strcmp(g->members[i]->id, id))
            return g->members[i];
    return NULL;
}

member *group_find_instance(const group *g, const char *instance_id)
{
    for (int i = 0; instance_id && i < g->nmembers; i++)
        if (g->members[i]->instance_id && !strcmp(g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

int group_find_pending(const group *g, const char *id)
{
    for (int i = 0; id && i < g->npending; i++)
        if (!strcmp(g->pending[i]->id, id))
            return i;
    return -1;
}

int group_add_member(group *g, member *m)
{
    if (g->nmembers == g->capmembers) {
        int cap = g->capmembers ? g->capmembers * 2 : 8;
        member **nm = realloc(g->members, (size_t)cap * sizeof *nm);
        if (!nm)
            return -1;
        g->members = nm;
        g->capmembers = cap;
    }
    m->g = g;
    g->members[g->nmembers++] = m;
    return 0;
}

void group_clear_membership(group *g)
{
    for (int i = 0; i < g->nmembers; i++)
        member_free(g->members[i]);
    g->nmembers = 0;
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    g->protocol_type = g->protocol = g->leader = NULL;
    g->generation = 0;
}

void group_remove_member(group *g, member *m)
{
    for (int i = 0; i < g->nmembers; i++) {
        if (g->members[i] == m) {
            memmove(&g->members[i], &g->members[i + 1], (size_t)(g->nmembers - i - 1) * sizeof *g->members);
            g->nmembers--;
            return;
        }
    }
}

void group_remove_pending(group *g, int idx)
{
    free(g->pending[idx]->id);
    free(g->pending[idx]);
    g->pending[idx] = g->pending[--g->npending];
}

const group_protocol *member_protocol(const member *m, const char *name)
{
    for (int i = 0; name && i < m->nprotocols; i++)
        if (!strcmp(m->protocols[i].name, name))
            return &m->protocols[i];
    return NULL;
}

static bool all_support(const group *g, const char *name)
{
    for (int i = 0; i < g->nmembers; i++)
        if (!member_protocol(g->members[i], name))
            return false;
    return true;
}

const char *group_select_protocol(const group *g)
{
    if (g->nmembers == 0)
        return NULL;
    /* Each member votes for its most preferred protocol that everyone
     * supports; the most votes wins (ties: the first counted). */
    const char *best = NULL;
    int best_votes = 0;
    for (int c = 0; c < g->members[0]->nprotocols; c++) {
        const char *cand = g->members[0]->protocols[c].name;
        if (!all_support(g, cand))
            continue;
        int votes = 0;
        for (int i = 0; i < g->nmembers; i++) {
            const member *m = g->members[i];
            for (int k = 0; k < m->nprotocols; k++) {
                if (!all_support(g, m->protocols[k].name))
                    continue;
                if (!strcmp(m->protocols[k].name, cand))
                    votes++;
                break;
            }
        }
        if (votes > best_votes) {
            best_votes = votes;
            best = cand;
        }
    }
    if (!best) {
        /* Nobody's first choice is shared: take the first shared one. */
        for (int c = 0; c < g->members[0]->nprotocols; c++)
            if (all_support(g, g->members[0]->protocols[c].name))
                return g->members[0]->protocols[c].name;
    }
    return best;
}

bool group_supports(const group *g, const group_protocol *ps, int n)
{
    if (g->nmembers == 0)
        return true;
    for (int i = 0; i < n; i++)
        if (all_support(g, ps[i].name))
            return true;
    return false;
}

int group_joined_count(const group *g)
{
    int n = 0;
    for (int i = 0; i < g->nmembers; i++)
        if (g->members[i]->join)
            n++;
    return n;
}

size_t group_record_size(const group *g)
{
    size_t n = 64 + strlen(g->id) + (g->protocol_type ? strlen(g->protocol_type) : 0);
    for (int i = 0; i < g->nmembers; i++) {
        const member *m = g->members[i];
        int32_t meta = 0;
        for (int k = 0; k < m->nprotocols; k++)
            if (m->protocols[k].meta_len > meta)
                meta = m->protocols[k].meta_len;
        n += 32 + strlen(m->id) + strlen(m->client_id) + strlen(m->client_host) +
             (m->instance_id ? strlen(m->instance_id) : 0) + (size_t)meta + (size_t)m->assignment_len;
    }
    return n;
}

size_t offset_key(char *buf, size_t cap, const char *topic, int32_t tlen, int32_t partition)
{
    if ((size_t)tlen + 5 > cap)
        return 0;
    memcpy(buf, topic, (size_t)tlen);
    buf[tlen] = 0;
    be32_store(buf + tlen + 1, (uint32_t)partition);
    return (size_t)tlen + 5;
}

int32_t group_partition_for(const char *id, size_t len, int32_t nparts)
{
    return java_partition_for(id, len, nparts);
}
