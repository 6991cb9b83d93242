/*
 * fuzz_zk_layout.c - the decoders of Kafka's ZooKeeper znode bodies
 * (src/cluster/zk_layout.c): a znode anyone with ZooKeeper access can edit.
 *
 * Input: one selector byte (which znode kind), then the znode's bytes.
 *
 * Oracle: a decoder returns 0 or -1 with a message (never crashes, never
 * leaks: LeakSanitizer runs on every input); whatever it accepts, our
 * encoder writes back and the decoder reads the same values again.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/zk_layout.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *js = (const char *)data + 1;
    size_t len = size - 1;
    char err[256];
    char *enc = NULL;
    switch (data[0] % 6) {
    case 0: {
        zkl_broker a = { .id = 1 }, b = { .id = 1 };
        if (zkl_broker_decode(js, len, &a, err, sizeof err) == 0) {
            must((enc = zkl_broker_encode(&a)) != NULL);
            must(zkl_broker_decode(enc, strlen(enc), &b, err, sizeof err) == 0);
            must(a.nep == b.nep && !strcmp(a.rack, b.rack));
            for (int i = 0; i < a.nep; i++)
                must(!strcmp(a.ep[i].host, b.ep[i].host) && a.ep[i].port == b.ep[i].port &&
                     !strcmp(a.ep[i].listener, b.ep[i].listener));
        }
        break;
    }
    case 1: {
        zkl_assignment a, b;
        if (zkl_assignment_decode(js, len, &a, err, sizeof err) == 0) {
            must((enc = zkl_assignment_encode(&a)) != NULL);
            must(zkl_assignment_decode(enc, strlen(enc), &b, err, sizeof err) == 0);
            must(a.npartitions == b.npartitions);
            for (int32_t p = 0; p < a.npartitions; p++)
                must(a.nreplicas[p] == b.nreplicas[p] &&
                     !memcmp(a.replicas[p], b.replicas[p],
                             (size_t)a.nreplicas[p] * sizeof(int32_t)));
            zkl_assignment_free(&b);
            zkl_assignment_free(&a);
        }
        break;
    }
    case 2: {
        zkl_partition_state a = { 0 }, b = { 0 };
        if (zkl_partition_state_decode(js, len, &a, err, sizeof err) == 0) {
            must((enc = zkl_partition_state_encode(&a)) != NULL);
            must(zkl_partition_state_decode(enc, strlen(enc), &b, err, sizeof err) == 0);
            must(!memcmp(&a, &b, sizeof a));
        }
        break;
    }
    case 3: {
        zkl_config a, b;
        if (zkl_config_decode(js, len, &a, err, sizeof err) == 0) {
            must((enc = zkl_config_encode(&a)) != NULL);
            /* duplicate keys collapse in a JSON object: only require success */
            must(zkl_config_decode(enc, strlen(enc), &b, err, sizeof err) == 0);
            zkl_config_free(&b);
            zkl_config_free(&a);
        }
        break;
    }
    case 4: {
        zkl_pid_block a, b;
        if (zkl_pid_block_decode(js, len, &a, err, sizeof err) == 0) {
            must((enc = zkl_pid_block_encode(&a)) != NULL);
            must(zkl_pid_block_decode(enc, strlen(enc), &b, err, sizeof err) == 0);
            must(a.broker == b.broker && a.block_start == b.block_start &&
                 a.block_end == b.block_end);
        }
        break;
    }
    default: {
        int32_t id, e2;
        char cid[KUUID_STR_LEN + 1], entity[ZKL_MAX_PATH], entity2[ZKL_MAX_PATH];
        if (zkl_config_change_decode(js, len, entity, sizeof entity, err, sizeof err) == 0) {
            must((enc = zkl_config_change_encode(entity)) != NULL);
            must(zkl_config_change_decode(enc, strlen(enc), entity2, sizeof entity2, err,
                                          sizeof err) == 0 && !strcmp(entity, entity2));
            free(enc);
            enc = NULL;
        }
        (void)zkl_controller_decode(js, len, &id, err, sizeof err);
        (void)zkl_cluster_id_decode(js, len, cid, err, sizeof err);
        if (zkl_controller_epoch_decode(js, len, &id, err, sizeof err) == 0) {
            must((enc = zkl_controller_epoch_encode(id)) != NULL);
            must(zkl_controller_epoch_decode(enc, strlen(enc), &e2, err, sizeof err) == 0 &&
                 e2 == id);
        }
        break;
    }
    }
    free(enc);
    return 0;
}
