/* topic_admin.c - TEMPORARY: replaced once storage lands. */
#include "broker/admin.h"

#include <stdio.h>

#include "core/errors.h"

int topic_admin_load(broker *b, char *err, size_t errlen) { return 0; }

int16_t topic_admin_create(broker *b, const char *name, int32_t partitions, int16_t replication,
                           const topic_kv *configs, int nconfigs, bool validate_only,
                           kuuid *id_out, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "not yet");
    return KERR_UNKNOWN_SERVER_ERROR;
}
