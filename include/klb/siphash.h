/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), written from the paper: 2 compression rounds per 8-byte block and
 * 4 finalization rounds, 128-bit key, 64-bit output.
 *
 * Why 2-4 and not 1-3: the hash decides which backend a client lands on, and
 * clients choose their addresses and ports. Under a secret seed a PRF keeps
 * them from steering many flows onto one backend or one flow-table bucket;
 * 2-4 is the variant the authors recommend as a PRF and the one the official
 * test vectors cover. A flow key is at most 40 bytes (5 blocks), so 2-4 costs
 * 14 + 4 rounds against 8 + 3 for 1-3: a few nanoseconds per new flow.
 *
 * Words are read little-endian byte by byte, so the result does not depend
 * on the host's byte order or on alignment.
 */

#ifndef _KLB_SIPHASH_H
#define _KLB_SIPHASH_H

#include <klb/types.h>

/* The 128-bit key: k0 is key bytes 0..7, k1 bytes 8..15, little-endian. */
struct klb_hash_seed {
	u64 k0;
	u64 k1;
};

static inline u64 klb_load_le64(const u8 *p)
{
	return (u64)p[0] | (u64)p[1] << 8 | (u64)p[2] << 16 |
	       (u64)p[3] << 24 | (u64)p[4] << 32 | (u64)p[5] << 40 |
	       (u64)p[6] << 48 | (u64)p[7] << 56;
}

/* The seed from its 16-byte wire form (KLB_SVC_A_SEED). */
static inline void klb_hash_seed_from_bytes(struct klb_hash_seed *seed,
					    const u8 *bytes)
{
	seed->k0 = klb_load_le64(bytes);
	seed->k1 = klb_load_le64(bytes + 8);
}

static inline u64 klb_rotl64(u64 x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

struct klb_sip_state {
	u64 v0, v1, v2, v3;
};

static inline void klb_sip_round(struct klb_sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = klb_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = klb_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = klb_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = klb_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = klb_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = klb_rotl64(s->v2, 32);
}

static inline void klb_sip_block(struct klb_sip_state *s, u64 m)
{
	s->v3 ^= m;
	klb_sip_round(s);
	klb_sip_round(s);
	s->v0 ^= m;
}

/* SipHash-2-4 of len bytes at data under seed. */
static inline u64 klb_siphash(const u8 *data, size_t len,
			      const struct klb_hash_seed *seed)
{
	struct klb_sip_state s = {
		.v0 = seed->k0 ^ 0x736f6d6570736575ULL,	/* "somepseu" */
		.v1 = seed->k1 ^ 0x646f72616e646f6dULL,	/* "dorandom" */
		.v2 = seed->k0 ^ 0x6c7967656e657261ULL,	/* "lygenera" */
		.v3 = seed->k1 ^ 0x7465646279746573ULL,	/* "tedbytes" */
	};
	size_t left = len;
	u64 last;
	int i;

	for (; left >= 8; left -= 8, data += 8)
		klb_sip_block(&s, klb_load_le64(data));

	/* The last block: the remaining bytes, and len mod 256 on top. */
	last = (u64)(len & 0xff) << 56;
	for (i = (int)left - 1; i >= 0; i--)
		last |= (u64)data[i] << (8 * i);
	klb_sip_block(&s, last);

	s.v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		klb_sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

#endif /* _KLB_SIPHASH_H */
