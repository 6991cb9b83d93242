/* errors.c - names and properties of the codes listed in errors.h. */
#include "core/errors.h"

#include <stdio.h>

const char *kerr_name(int code)
{
    switch (code) {
#define KERR_NAME_(c, name, r) case c: return #name;
        KERR_LIST(KERR_NAME_)
#undef KERR_NAME_
    case KERR__PARSE: return "_PARSE";
    case KERR__NOMEM: return "_NOMEM";
    case KERR__IO: return "_IO";
    case KERR__AGAIN: return "_AGAIN";
    case KERR__NOENT: return "_NOENT";
    case KERR__APPEND_OFFSET: return "_APPEND_OFFSET";
    case KERR__OFFSETS_OUT_OF_ORDER: return "_OFFSETS_OUT_OF_ORDER";
    }
    static _Thread_local char buf[24];
    snprintf(buf, sizeof buf, "KERR_%d", code);
    return buf;
}

int16_t kerr_to_wire(int code)
{
    switch (code) {
    case KERR__PARSE: return KERR_INVALID_REQUEST;
    case KERR__IO: return KERR_KAFKA_STORAGE_ERROR;
    case KERR__NOENT: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    default:
        if (code < -1 || code > 32767)
            return KERR_UNKNOWN_SERVER_ERROR;
        return (int16_t)code;
    }
}
