/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The flow hash: which table slot, and so which backend, a new flow gets.
 * klb.ko computes it per packet; klbd and klbctl compute the same value to
 * predict where a flow goes, so it is defined on bytes, never on a struct's
 * memory layout.
 *
 * klb_flow_hash() is SipHash-2-4 (klb/siphash.h), keyed with the service's
 * 128-bit seed, of one of two canonical encodings of the key:
 *
 *   five-tuple, 40 bytes            source only (affinity), 24 bytes
 *   [0]      1                      [0]      2
 *   [1]      family                 [1]      family
 *   [2]      proto                  [2..7]   0
 *   [3]      0                      [8..23]  saddr
 *   [4..5]   sport, network order
 *   [6..7]   dport, network order
 *   [8..23]  saddr
 *   [24..39] daddr
 *
 * family is AF_INET (2) or AF_INET6 (10), proto the IP protocol number,
 * addresses are in the canonical 16-byte form of klb/addr.h (IPv4 as
 * ::ffff:a.b.c.d). The first byte keeps the two encodings apart. A service
 * with source affinity hashes the source address alone, so every connection
 * of a client lands on the same backend.
 */

#ifndef _KLB_FLOW_HASH_H
#define _KLB_FLOW_HASH_H

#include <klb/addr.h>
#include <klb/siphash.h>
#include <klb/types.h>

#define KLB_FLOW_ENC_TUPLE	1
#define KLB_FLOW_ENC_SOURCE	2
#define KLB_FLOW_ENC_TUPLE_LEN	40
#define KLB_FLOW_ENC_SOURCE_LEN	24
#define KLB_FLOW_ENC_MAX	KLB_FLOW_ENC_TUPLE_LEN

struct klb_flow_key {
	u8 family;			/* AF_INET or AF_INET6 */
	u8 proto;			/* IPPROTO_TCP, IPPROTO_UDP, ... */
	__be16 sport;
	__be16 dport;
	u8 saddr[KLB_ADDR_LEN];		/* canonical form, klb/addr.h */
	u8 daddr[KLB_ADDR_LEN];
};

/*
 * Writes the canonical encoding of key into buf (KLB_FLOW_ENC_MAX bytes)
 * and returns its length.
 */
static inline size_t klb_flow_key_encode(const struct klb_flow_key *key,
					 bool src_only, u8 *buf)
{
	const u8 *sport = (const u8 *)&key->sport;
	const u8 *dport = (const u8 *)&key->dport;
	int i;

	buf[1] = key->family;
	for (i = 0; i < KLB_ADDR_LEN; i++)
		buf[8 + i] = key->saddr[i];
	if (src_only) {
		buf[0] = KLB_FLOW_ENC_SOURCE;
		for (i = 2; i < 8; i++)
			buf[i] = 0;
		return KLB_FLOW_ENC_SOURCE_LEN;
	}
	buf[0] = KLB_FLOW_ENC_TUPLE;
	buf[2] = key->proto;
	buf[3] = 0;
	buf[4] = sport[0];
	buf[5] = sport[1];
	buf[6] = dport[0];
	buf[7] = dport[1];
	for (i = 0; i < KLB_ADDR_LEN; i++)
		buf[24 + i] = key->daddr[i];
	return KLB_FLOW_ENC_TUPLE_LEN;
}

static inline u64 klb_flow_hash(const struct klb_flow_key *key,
				const struct klb_hash_seed *seed,
				bool src_only)
{
	u8 buf[KLB_FLOW_ENC_MAX];
	size_t len = klb_flow_key_encode(key, src_only, buf);

	return klb_siphash(buf, len, seed);
}

#endif /* _KLB_FLOW_HASH_H */
