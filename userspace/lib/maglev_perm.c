// SPDX-License-Identifier: GPL-2.0
/*
 * Where the slot orders come from. Every hash is SipHash-2-4 under the
 * service seed of a short message whose first byte says what it is for:
 *
 *   1 | address (16) | port (2, network order)   a backend's first slot
 *   2 | address (16) | port (2, network order)   a backend's skip
 *   3                                            the service's first slot
 *   4                                            the service's skip
 *
 * A backend's preference list (its Maglev permutation) is then
 * offset, offset + skip, offset + 2 * skip, ... mod M with
 * offset = h1 mod M and skip = h2 mod (M - 1) + 1: identity and seed alone
 * decide it, and M prime makes it visit every slot.
 */
#include <string.h>

#include "lib/maglev_internal.h"

enum {
	HASH_BACKEND_OFFSET = 1,
	HASH_BACKEND_SKIP = 2,
	HASH_ORDER_OFFSET = 3,
	HASH_ORDER_SKIP = 4,
};

static uint64_t hash_identity(uint8_t what, const struct maglev_backend *b,
			      const struct klb_hash_seed *seed)
{
	uint8_t msg[1 + KLB_ADDR_LEN + 2];

	msg[0] = what;
	memcpy(msg + 1, b->addr, KLB_ADDR_LEN);
	memcpy(msg + 1 + KLB_ADDR_LEN, &b->port, 2);
	return klb_siphash(msg, sizeof(msg), seed);
}

void maglev_permutation(struct maglev_walk *w, const struct maglev_backend *b,
			const struct klb_hash_seed *seed, uint32_t m)
{
	w->m = m;
	w->start = hash_identity(HASH_BACKEND_OFFSET, b, seed) % m;
	w->step = hash_identity(HASH_BACKEND_SKIP, b, seed) % (m - 1) + 1;
}

void maglev_slot_order(struct maglev_walk *w, const struct klb_hash_seed *seed,
		       uint32_t m)
{
	uint8_t what;

	w->m = m;
	what = HASH_ORDER_OFFSET;
	w->start = klb_siphash(&what, 1, seed) % m;
	what = HASH_ORDER_SKIP;
	w->step = klb_siphash(&what, 1, seed) % (m - 1) + 1;
}
