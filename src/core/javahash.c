/* javahash.c - see javahash.h. */
#include "core/javahash.h"

int32_t java_string_hash(const char *id, size_t len)
{
    /* Java's String.hashCode runs over UTF-16 code units. */
    uint32_t h = 0;
    const unsigned char *s = (const unsigned char *)id;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = s[i];
        size_t n = 1;
        if (cp >= 0xf0 && i + 3 < len) {
            cp = ((cp & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3f) << 12) |
                 ((uint32_t)(s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f);
            n = 4;
        } else if (cp >= 0xe0 && i + 2 < len) {
            cp = ((cp & 0x0f) << 12) | ((uint32_t)(s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
            n = 3;
        } else if (cp >= 0xc0 && i + 1 < len) {
            cp = ((cp & 0x1f) << 6) | (s[i + 1] & 0x3f);
            n = 2;
        }
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = h * 31u + (0xd800u + (cp >> 10));
            h = h * 31u + (0xdc00u + (cp & 0x3ff));
        } else {
            h = h * 31u + cp;
        }
    }
    return (int32_t)h;
}

int32_t java_partition_for(const char *s, size_t len, int32_t nparts)
{
    /* Kafka's Utils.abs: |h|, with INT32_MIN mapped to 0. */
    int32_t hs = java_string_hash(s, len);
    uint32_t a = hs == INT32_MIN ? 0 : (uint32_t)(hs < 0 ? -hs : hs);
    return (int32_t)(a % (uint32_t)(nparts > 0 ? nparts : 1));
}
