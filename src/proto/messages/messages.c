/*
 * messages.c - instantiates the schema tables of every message (all.h).
 */
#include "proto/messages/all.h"

#define DEF_(name, FIELDS) KSTRUCT_DEF(name, FIELDS)
#define DEF_EMPTY_(name) KSTRUCT_DEF_EMPTY(name)
#define API_(key, snake, UP) UP##_STRUCTS(DEF_, DEF_EMPTY_)
KAPI_LIST(API_)
