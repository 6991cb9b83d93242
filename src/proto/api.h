/*
 * api.h - per-API codec facts: name, highest version we can encode/decode,
 * first flexible version, and the request/response schemas.
 *
 * This is what the wire needs to know.  What the broker implements and
 * advertises lives in broker/dispatch.c.
 */
#ifndef SAMSA_PROTO_API_H
#define SAMSA_PROTO_API_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/schema.h"

typedef struct kapi_schema {
    int16_t key;
    const char *name;          /* Kafka's name, e.g. "Produce" */
    int16_t max_version;
    int16_t flex_from;         /* first flexible version; 127 = never */
    const kf_struct *req;
    const kf_struct *resp;
} kapi_schema;

#define KAPI_KEY_MAX 90

/* NULL for keys without definitions. */
const kapi_schema *kapi_schema_get(int key);
static inline bool kapi_flexible(const kapi_schema *a, int ver)
{
    return ver >= a->flex_from;
}
/* Kafka's name for any API key (also those we have no schema for). */
const char *kapi_name(int key);

#endif
