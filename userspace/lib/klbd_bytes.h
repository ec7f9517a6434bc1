/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What klbd's encodings share (peer frames, Raft commands, state
 * snapshots): little-endian integers, and an error reason written to the
 * caller's buffer.
 */
#ifndef KLBD_BYTES_H
#define KLBD_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	put_u16(p, v);
	put_u16(p + 2, v >> 16);
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, v);
	put_u32(p + 4, v >> 32);
}

static inline uint16_t get_u16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t get_u32(const uint8_t *p)
{
	return get_u16(p) | (uint32_t)get_u16(p + 2) << 16;
}

static inline uint64_t get_u64(const uint8_t *p)
{
	return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/*
 * Formats the reason into why (len bytes; why may be NULL) and returns
 * err, so that a decoder can "return klbd_why(why, len, -EBADMSG, ...)".
 */
int klbd_why(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
