/* test_core.c - varint, CRC-32C, uuid, strmap, arena, obuf. */
#include "test.h"

#include <stdlib.h>

#include "core/arena.h"
#include "core/crc32c.h"
#include "core/obuf.h"
#include "core/strmap.h"
#include "core/uuid.h"
#include "core/varint.h"

TEST(crc32c_known_vector)
{
    CHECK_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ(crc32c(0, "", 0), 0);
    /* Continuation equals one pass. */
    uint32_t a = crc32c(0, "12345", 5);
    CHECK_EQ(crc32c(a, "6789", 4), 0xE3069283u);
}

TEST(varint_roundtrip_and_limits)
{
    uint8_t b[10];
    int32_t vals[] = { 0, 1, -1, 63, -64, 64, 300, INT32_MAX, INT32_MIN };
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        size_t n = varint32_encode(b, vals[i]);
        int32_t out = 0;
        CHECK_EQ(varint32_decode(b, b + n, &out), n);
        CHECK_EQ(out, vals[i]);
        CHECK_EQ(varint32_decode(b, b + n - 1, &out), 0);   /* truncated */
    }
    int64_t v64 = INT64_MIN, o64 = 0;
    size_t n = varint64_encode(b, v64);
    CHECK_EQ(n, 10);
    CHECK_EQ(varint64_decode(b, b + n, &o64), 10);
    CHECK(o64 == v64);
    /* Over-long 32-bit varint (6 continuation bytes) is rejected. */
    uint8_t bad[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    int32_t o;
    CHECK_EQ(varint32_decode(bad, bad + sizeof bad, &o), 0);
    CHECK_EQ(uvarint_size(127), 1);
    CHECK_EQ(uvarint_size(128), 2);
    /* Every length from 1 to 10 bytes, at the inline fast paths' edges
     * (1 and 2 bytes) and past them, whole and cut one byte short. */
    uint64_t uvals[] = { 0, 127, 128, 16383, 16384, 2097151, 2097152, UINT32_MAX, UINT64_MAX };
    for (size_t i = 0; i < sizeof uvals / sizeof *uvals; i++) {
        n = uvarint_encode(b, uvals[i]);
        CHECK_EQ(n, uvarint_size(uvals[i]));
        uint64_t u = 0;
        CHECK_EQ(uvarint_decode(b, b + n, UVARINT64_MAX_LEN, &u), n);
        CHECK(u == uvals[i]);
        CHECK_EQ(uvarint_decode(b, b + n - 1, UVARINT64_MAX_LEN, &u), 0);
    }
    uint64_t u = 7;
    CHECK_EQ(uvarint_decode(b, b, UVARINT64_MAX_LEN, &u), 0);     /* empty */
    CHECK(u == 7);
}

TEST(uuid_text_roundtrip)
{
    for (int i = 0; i < 100; i++) {
        kuuid u = kuuid_random(), v;
        char s[KUUID_STR_LEN + 1];
        kuuid_to_str(u, s);
        CHECK_EQ(strlen(s), 22);
        CHECK(s[0] != '-');
        REQUIRE(kuuid_from_str(s, &v));
        CHECK(kuuid_eq(u, v));
    }
    kuuid z = { { 0 } };
    char s[23];
    kuuid_to_str(z, s);
    CHECK_STR(s, "AAAAAAAAAAAAAAAAAAAAAA");
    kuuid bad;
    CHECK(!kuuid_from_str("short", &bad));
    CHECK(!kuuid_from_str("AAAAAAAAAAAAAAAAAAAAA*", &bad));
}

TEST(strmap_put_get_del)
{
    strmap m;
    strmap_init(&m);
    char key[32];
    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        strmap_put(&m, key, strlen(key), (void *)(i + 1), NULL);
    }
    CHECK_EQ(m.count, 5000);
    for (long i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof key, "k%ld", i);
        CHECK_EQ((long)strmap_del(&m, key, strlen(key)), i + 1);
    }
    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        void *v = strmap_get(&m, key, strlen(key));
        CHECK_EQ((long)v, i % 2 ? i + 1 : 0);
    }
    size_t it = 0, n = 0;
    while (strmap_next(&m, &it, NULL, NULL, NULL))
        n++;
    CHECK_EQ(n, 2500);
    strmap_free(&m);
}

TEST(arena_cap_is_enforced)
{
    arena a;
    arena_init(&a, 1000);
    CHECK(arena_alloc(&a, 500) != NULL);
    CHECK(arena_alloc(&a, 400) != NULL);
    CHECK(arena_alloc(&a, 200) == NULL);
    arena_reset(&a);
    CHECK(arena_alloc(&a, 900) != NULL);
    arena_reset(&a);
}

TEST(obuf_append_consume_flatten)
{
    obuf b;
    obuf_init(&b);
    uint8_t *big = malloc(40000);
    for (int i = 0; i < 40000; i++)
        big[i] = (uint8_t)i;
    obuf_append(&b, big, 40000);
    CHECK_EQ(b.total, 40000);
    obuf_consume(&b, 17000);
    CHECK_EQ(b.total, 23000);
    uint8_t *out = malloc(40000);
    CHECK_EQ(obuf_flatten(&b, out, 40000), 23000);
    CHECK(memcmp(out, big + 17000, 23000) == 0);
    obuf_free(&b);
    free(big);
    free(out);
}
