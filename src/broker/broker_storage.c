/* broker_storage.c - TEMPORARY until the storage layer lands. */
#include "broker/broker.h"
#include "broker/config.h"

#include <stddef.h>
#include <stdio.h>


int broker_storage_open(broker *b, const struct broker_config *cfg, char *err, size_t errlen)
{
    snprintf(b->cluster_id, sizeof b->cluster_id, "AAAAAAAAAAAAAAAAAAAAAA");
    return 0;
}
int broker_storage_close(broker *b, bool clean) { return 0; }
void broker_quiesce(broker *b) {}
