/*
 * sasl_wire.h - SaslHandshake v1 (key 17) and SaslAuthenticate v1 (key 36)
 * for the CLI's own connections (conn.c): request frames with their size
 * prefix and header v1, responses after the size prefix.  Pure, bounded.
 */
#ifndef SAMSA_CLI_SASL_WIRE_H
#define SAMSA_CLI_SASL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CLI_SASL_HANDSHAKE_KEY 17
#define CLI_SASL_AUTHENTICATE_KEY 36

/* The frame's length, or 0 when it does not fit in cap. */
size_t cli_sasl_encode_handshake(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const char *mechanism);
/* error code, and the broker's mechanisms comma-separated in mechs (cut
 * to mcap).  0, or -1 when the answer does not decode or the correlation
 * id differs. */
int cli_sasl_decode_handshake(const uint8_t *resp, size_t len, int32_t corr, int16_t *error,
                              char *mechs, size_t mcap);
size_t cli_sasl_encode_authenticate(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                    const uint8_t *tok, size_t toklen);
/* error code, error message (cut to msgcap), the server's token (points
 * into resp).  0, or -1 as above. */
int cli_sasl_decode_authenticate(const uint8_t *resp, size_t len, int32_t corr, int16_t *error,
                                 char *msg, size_t msgcap, const uint8_t **tok, size_t *toklen);

#endif
