/*
 * uuid.h - 128-bit ids (topic ids, cluster id) in Kafka's textual form.
 *
 * Kafka prints a Uuid as URL-safe base64 without padding (22 characters).
 * Random ids come from getrandom(2); like Kafka we never hand out the zero
 * id, the reserved metadata-topic id (0..01), or one whose text starts with
 * '-' (it would look like a command-line flag).
 */
#ifndef SAMSA_CORE_UUID_H
#define SAMSA_CORE_UUID_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kuuid { uint8_t b[16]; } kuuid;

#define KUUID_STR_LEN 22

kuuid kuuid_random(void);
bool kuuid_is_zero(kuuid u);
bool kuuid_eq(kuuid a, kuuid b);
/* Writes 22 chars + NUL into out (23 bytes). */
void kuuid_to_str(kuuid u, char out[KUUID_STR_LEN + 1]);
/* Accepts the 22-char form; false on anything else. */
bool kuuid_from_str(const char *s, kuuid *out);

#endif
