/*
 * test_txn.c - the transaction coordinator's pure parts: Kafka's
 * partitionFor (Java's String.hashCode, Utils.abs) and the
 * __transaction_state record formats (TC1: TransactionLogKey v0,
 * TransactionLogValue v0, partitions grouped per topic, null in Empty).
 */
#include <stdlib.h>

#include "core/arena.h"
#include "core/endian.h"
#include "core/javahash.h"
#include "proto/codec.h"
#include "test.h"
#include "txn/txn_int.h"

TEST(txn_java_string_hash)
{
    CHECK_EQ(java_string_hash("", 0), 0);
    CHECK_EQ(java_string_hash("hello", 5), 99162322);
    CHECK_EQ(java_string_hash("\xc3\xa9", 2), 233);                    /* U+00E9: one UTF-16 unit */
    CHECK_EQ(java_string_hash("\xf0\x9f\x98\x80", 4), 55357 * 31 + 56832);   /* U+1F600: a surrogate pair */
    /* Its hashCode is Integer.MIN_VALUE: Utils.abs maps it to 0. */
    CHECK_EQ(java_string_hash("polygenelubricants", 18), INT32_MIN);
    CHECK_EQ(java_partition_for("polygenelubricants", 18, 50), 0);
    CHECK_EQ(txn_partition_for("my-txn", 6, 50), java_partition_for("my-txn", 6, 50));
}

static void check_round_trip(const txn_image *im, bool null_partitions)
{
    uint8_t *k = NULL, *v = NULL;
    int32_t kl = 0, vl = 0;
    REQUIRE_EQ(txn_record("tx-1", im, &k, &kl, &v, &vl), 0);
    REQUIRE(kl == 2 + 2 + 4 && be16_load(k) == 0 && be16_load(k + 2) == 4 && !memcmp(k + 4, "tx-1", 4));
    REQUIRE(vl > 2 && be16_load(v) == 0);
    arena a;
    arena_init(&a, 1 << 20);
    kreader r;
    kr_init(&r, v + 2, (size_t)vl - 2);
    trec_value d;
    REQUIRE_EQ(kcodec_decode(&trec_value_schema, 0, false, &r, &a, &d), 0);
    CHECK_EQ(d.producer_id, im->producer_id);
    CHECK_EQ(d.producer_epoch, im->epoch);
    CHECK_EQ(d.transaction_timeout_ms, im->timeout_ms);
    CHECK_EQ(d.transaction_status, im->state);
    CHECK_EQ(d.last_update_timestamp_ms, im->update_ms);
    CHECK_EQ(d.start_timestamp_ms, im->start_ms);
    if (null_partitions) {
        CHECK_EQ(d.transaction_partitions.n, -1);
    } else {
        /* t1: 0, 2 and t2: 5, grouped per topic in first-seen order. */
        REQUIRE_EQ(d.transaction_partitions.n, 2);
        CHECK(kstr_eq(d.transaction_partitions.v[0].topic, "t1"));
        REQUIRE_EQ(d.transaction_partitions.v[0].partition_ids.n, 2);
        CHECK_EQ(d.transaction_partitions.v[0].partition_ids.v[0], 0);
        CHECK_EQ(d.transaction_partitions.v[0].partition_ids.v[1], 2);
        CHECK(kstr_eq(d.transaction_partitions.v[1].topic, "t2"));
        REQUIRE_EQ(d.transaction_partitions.v[1].partition_ids.n, 1);
        CHECK_EQ(d.transaction_partitions.v[1].partition_ids.v[0], 5);
    }
    arena_reset(&a);
    free(k);
    free(v);
}

TEST(txn_record_formats)
{
    txn_tp tps[] = { { (char *)"t1", 0 }, { (char *)"t2", 5 }, { (char *)"t1", 2 } };
    txn_image ongoing = { .producer_id = 7, .last_producer_id = -1, .epoch = 3, .last_epoch = -1,
                          .timeout_ms = 60000, .state = TXN_ONGOING, .tps = tps, .ntps = 3,
                          .start_ms = 1000, .update_ms = 2000 };
    check_round_trip(&ongoing, false);
    txn_image empty = ongoing;
    empty.state = TXN_EMPTY;
    empty.tps = NULL;
    empty.ntps = 0;
    empty.start_ms = -1;
    check_round_trip(&empty, true);
    /* A tombstone: the key alone. */
    uint8_t *k = NULL, *v = (uint8_t *)1;
    int32_t kl = 0, vl = 0;
    REQUIRE_EQ(txn_record("tx-1", NULL, &k, &kl, &v, &vl), 0);
    CHECK(v == NULL && vl == -1 && kl == 8);
    free(k);
}

TEST(txn_state_names)
{
    CHECK_STR(txn_state_name(TXN_PREPARE_EPOCH_FENCE), "PrepareEpochFence");
    CHECK_EQ(txn_state_by_name(kstr_c("CompleteAbort")), TXN_COMPLETE_ABORT);
    CHECK_EQ(txn_state_by_name(kstr_c("Complete")), -1);
    CHECK_EQ(txn_state_by_name((kstr){ NULL, -1 }), -1);
}
