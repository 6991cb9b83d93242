/*
 * test_cli_txn.c - `samsa txn`'s codecs (src/cli/txn_wire.c): the request
 * bytes of ListTransactions, DescribeTransactions and FindCoordinator
 * (key type 1), and the decoding of their answers, byte for byte as
 * Kafka's message specs lay them out; truncated answers, trailing bytes
 * and another correlation id are refused with a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/txn.h"
#include "test.h"

/* ListTransactions v0 with state filter "Ongoing": header v2 (key 66, v0,
 * corr 7, client id "samsa", no tags), [ "Ongoing" ], [], no tags. */
TEST(cli_txn_encode_requests)
{
    uint8_t buf[256];
    const char *states[] = { "Ongoing" };
    size_t n = cli_txn_encode_list(buf, sizeof buf, 7, "samsa", states, 1);
    static const uint8_t want[] = {
        0, 0, 0, 27,  0, 66,  0, 0,  0, 0, 0, 7,  0, 5, 's', 'a', 'm', 's', 'a',  0,
        2, 8, 'O', 'n', 'g', 'o', 'i', 'n', 'g',  1,  0,
    };
    CHECK_EQ(n, sizeof want);
    CHECK(!memcmp(buf, want, sizeof want));
    n = cli_txn_encode_describe(buf, sizeof buf, 8, "samsa", "tx");
    static const uint8_t want_d[] = {
        0, 0, 0, 21,  0, 65,  0, 0,  0, 0, 0, 8,  0, 5, 's', 'a', 'm', 's', 'a',  0,
        2, 3, 't', 'x',  0,
    };
    CHECK_EQ(n, sizeof want_d);
    CHECK(!memcmp(buf, want_d, sizeof want_d));
    n = cli_txn_encode_find_coordinator(buf, sizeof buf, 9, "samsa", "tx");
    static const uint8_t want_f[] = {
        0, 0, 0, 21,  0, 10,  0, 3,  0, 0, 0, 9,  0, 5, 's', 'a', 'm', 's', 'a',  0,
        3, 't', 'x',  1,  0,
    };
    CHECK_EQ(n, sizeof want_f);
    CHECK(!memcmp(buf, want_f, sizeof want_f));
    CHECK_EQ(cli_txn_encode_describe(buf, 10, 8, "samsa", "tx"), 0);     /* does not fit */
}

TEST(cli_txn_decode_list_and_describe)
{
    /* corr 1, no tags, throttle 0, error 0, unknown [], states [ {"t1",
     * 0x0102, "Ongoing"} ], no tags */
    static const uint8_t list[] = {
        0, 0, 0, 1,  0,  0, 0, 0, 0,  0, 0,  1,
        2,  3, 't', '1',  0, 0, 0, 0, 0, 0, 1, 2,  8, 'O', 'n', 'g', 'o', 'i', 'n', 'g',  0,
        0,
    };
    char err[256];
    cli_txn_list_t l;
    CHECK_EQ(cli_txn_decode_list(list, sizeof list, 1, &l, err, sizeof err), 0);
    CHECK_EQ(l.n, 1);
    CHECK_STR(l.v[0].id, "t1");
    CHECK_EQ(l.v[0].producer_id, 0x0102);
    CHECK_STR(l.v[0].state, "Ongoing");
    cli_txn_list_free(&l);
    CHECK_EQ(cli_txn_decode_list(list, sizeof list - 1, 1, &l, err, sizeof err), -1);
    CHECK(strstr(err, "ListTransactions") != NULL);
    CHECK_EQ(cli_txn_decode_list(list, sizeof list, 2, &l, err, sizeof err), -1);

    /* corr 1, no tags, throttle 0, [ {error 0, "t1", "Ongoing", 60000,
     * start 5, pid 9, epoch 3, [ {"a", [0, 2]} ]} ], no tags */
    static const uint8_t desc[] = {
        0, 0, 0, 1,  0,  0, 0, 0, 0,
        2,  0, 0,  3, 't', '1',  8, 'O', 'n', 'g', 'o', 'i', 'n', 'g',  0, 0, 0xea, 0x60,
        0, 0, 0, 0, 0, 0, 0, 5,  0, 0, 0, 0, 0, 0, 0, 9,  0, 3,
        2,  2, 'a',  3, 0, 0, 0, 0, 0, 0, 0, 2,  0,  0,
        0,
    };
    cli_txn_desc_t d;
    CHECK_EQ(cli_txn_decode_describe(desc, sizeof desc, 1, &d, err, sizeof err), 0);
    CHECK_EQ(d.error, 0);
    CHECK_STR(d.id, "t1");
    CHECK_STR(d.state, "Ongoing");
    CHECK_EQ(d.timeout_ms, 60000);
    CHECK_EQ(d.start_ms, 5);
    CHECK_EQ(d.producer_id, 9);
    CHECK_EQ(d.producer_epoch, 3);
    CHECK_EQ(d.ntopics, 1);
    CHECK_STR(d.topics[0].topic, "a");
    CHECK_EQ(d.topics[0].nparts, 2);
    CHECK_EQ(d.topics[0].parts[1], 2);
    cli_txn_desc_free(&d);
    uint8_t longer[sizeof desc + 1];
    memcpy(longer, desc, sizeof desc);
    longer[sizeof desc] = 0;
    CHECK_EQ(cli_txn_decode_describe(longer, sizeof longer, 1, &d, err, sizeof err), -1);
    CHECK(strstr(err, "trailing") != NULL);
    CHECK(d.id == NULL && d.topics == NULL);
}
