// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "raft/crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82f63b78u

static uint32_t table[8][256];
static int table_ready;

static void table_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? CRC32C_POLY_REFLECTED : 0);
		table[0][i] = c;
	}
	/* Slicing-by-8: table[k] advances a byte through k more zero bytes. */
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			table[j][i] = (table[j - 1][i] >> 8) ^ table[0][table[j - 1][i] & 0xff];
	table_ready = 1;
}

uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!table_ready)
		table_init();
	crc = ~crc;
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= crc;	/* little-endian host */
		crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^
		      table[5][(v >> 16) & 0xff] ^ table[4][(v >> 24) & 0xff] ^
		      table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
		      table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int crc32c_have_sse42(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_portable(crc, buf, len);
}

int crc32c_have_sse42(void)
{
	return 0;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	static int have = -1;

	if (have < 0)
		have = crc32c_have_sse42();
	return have ? crc32c_sse42(crc, buf, len) : crc32c_portable(crc, buf, len);
}
