/* uuid.c - see uuid.h. */
#include "core/uuid.h"

#include <string.h>
#include <sys/random.h>

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool kuuid_is_zero(kuuid u)
{
    static const kuuid zero;
    return memcmp(u.b, zero.b, 16) == 0;
}

bool kuuid_eq(kuuid a, kuuid b)
{
    return memcmp(a.b, b.b, 16) == 0;
}

void kuuid_to_str(kuuid u, char out[KUUID_STR_LEN + 1])
{
    int o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u.b[i] << 16;
        if (i + 1 < 16) v |= (uint32_t)u.b[i + 1] << 8;
        if (i + 2 < 16) v |= u.b[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        if (i + 1 < 16) out[o++] = B64URL[(v >> 6) & 63];
        if (i + 2 < 16) out[o++] = B64URL[v & 63];
    }
    out[o] = 0;
}

static int b64val(char c)
{
    const char *p = c ? strchr(B64URL, c) : NULL;
    return p ? (int)(p - B64URL) : -1;
}

bool kuuid_from_str(const char *s, kuuid *out)
{
    if (strlen(s) != KUUID_STR_LEN)
        return false;
    uint8_t bits[17] = {0};
    uint32_t acc = 0;
    int nbits = 0, o = 0;
    for (int i = 0; i < KUUID_STR_LEN; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            if (o < 17)
                bits[o++] = (uint8_t)(acc >> nbits);
        }
    }
    if (o != 16)
        return false;
    memcpy(out->b, bits, 16);
    return true;
}

kuuid kuuid_random(void)
{
    for (;;) {
        kuuid u;
        size_t got = 0;
        while (got < 16) {
            ssize_t n = getrandom(u.b + got, 16 - got, 0);
            if (n > 0)
                got += (size_t)n;
        }
        /* Version 4, variant 1, as java.util.UUID.randomUUID produces. */
        u.b[6] = (uint8_t)((u.b[6] & 0x0f) | 0x40);
        u.b[8] = (uint8_t)((u.b[8] & 0x3f) | 0x80);
        char s[KUUID_STR_LEN + 1];
        kuuid_to_str(u, s);
        if (s[0] != '-')
            return u;
    }
}
