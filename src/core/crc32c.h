/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of record batch v2.
 *
 * Backed by ISA-L's crc32_iscsi, which picks SSE4.2/PCLMUL code at run time.
 * crc32c(0, buf, n) gives the standard value ("123456789" -> 0xE3069283);
 * pass a previous result as `crc` to continue over more bytes.
 */
#ifndef SAMSA_CORE_CRC32C_H
#define SAMSA_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
