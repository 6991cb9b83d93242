/*
 * base64.c - strict base64 coding (see base64.h).
 */
#include "auth/base64.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static long encode(const char *alpha, bool pad, const uint8_t *in, size_t n, char *out,
                   size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;
        if (k > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (k > 2)
            v |= in[i + 2];
        char q[4] = { alpha[(v >> 18) & 63], alpha[(v >> 12) & 63],
                      k > 1 ? alpha[(v >> 6) & 63] : '=', k > 2 ? alpha[v & 63] : '=' };
        for (int j = 0; j < 4; j++) {
            if (q[j] == '=' && !pad)
                break;
            if (o + 1 >= cap)
                return -1;
            out[o++] = q[j];
        }
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return (long)o;
}

static int value_of(const char *alpha, char c)
{
    for (int i = 0; i < 64; i++)
        if (alpha[i] == c)
            return i;
    return -1;
}

static long decode(const char *alpha, bool pad_required, const char *in, size_t len,
                   uint8_t *out, size_t cap)
{
    size_t o = 0;
    if (pad_required && len % 4)
        return -1;
    /* Strip the padding: at most two '=' at the very end. */
    size_t pads = 0;
    while (len > 0 && in[len - 1] == '=' && pads < 2) {
        len--;
        pads++;
    }
    if (pads && (len + pads) % 4)
        return -1;
    if (len % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of(alpha, in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc)   /* non-zero trailing bits: not the canonical form */
        return -1;
    return (long)o;
}

long b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    return encode(STD, true, in, n, out, cap);
}

long b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    return decode(STD, true, in, len, out, cap);
}

long b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    return encode(URL, false, in, n, out, cap);
}

long b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    return decode(URL, false, in, len, out, cap);
}
