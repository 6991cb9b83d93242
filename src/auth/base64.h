/*
 * base64.h - standard base64 (RFC 4648 section 4, with '=' padding), as
 * SCRAM messages and Kafka's stored SCRAM credentials spell bytes, and the
 * URL-safe unpadded variant that JWTs use (section 5).  Strict decoding:
 * any byte outside the alphabet, a bad padding or non-zero trailing bits
 * is refused.  Pure functions, no allocation.
 */
#ifndef SAMSA_AUTH_BASE64_H
#define SAMSA_AUTH_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes (with padding), without the NUL. */
#define B64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* Encode; writes a NUL-terminated string.  Returns its length, or -1
 * when cap is too small. */
long b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/* Decode len characters; returns the byte count, or -1 on bad input or
 * when cap is too small. */
long b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);
/* The URL-safe alphabet ('-', '_'), padding optional (JWT segments). */
long b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);
long b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap);

#endif
