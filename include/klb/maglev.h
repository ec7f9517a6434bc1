/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Reading a Maglev table: which slot a flow hash names, and a flow's
 * candidate backends in order of preference.
 *
 * A table is M backend ids (u16, host byte order), M prime; userspace
 * computes it (userspace/lib/maglev.h) and the kernel publishes it. A flow
 * with hash h looks at slots
 *
 *   s_0 = klb_maglev_slot(h, M),   s_k = (s_0 + k * step) mod M,
 *   step = 1 + ((h >> 32) * (M - 1) >> 32)  (in 1..M-1)
 *
 * and its candidates are the distinct ids met along that sequence. The
 * first one is the plain Maglev choice (the id in slot s_0); "maglev-bounded"
 * (consistent hashing with bounded loads, Mirrokni, Thorup and Zadimoghaddam
 * 2018) moves on to the next candidate while the current one is full. Since
 * M is prime every step visits all M slots, and since the step comes from
 * hash bits that the first slot does not use, a flow's second choice is
 * spread over all other backends in proportion to their share of the table
 * instead of always being the owner of the neighbouring slot: the overflow of
 * a full backend does not pile onto one neighbour.
 *
 * Everything is integer arithmetic on 32-bit values (no 64-bit division) and
 * every loop is bounded by the caller's max_probes.
 */

#ifndef _KLB_MAGLEV_H
#define _KLB_MAGLEV_H

#include <klb/types.h>
#include <uapi/linux/klb.h>

/* Distinct candidates one cursor can return (the kernel keeps it on stack). */
#define KLB_MAGLEV_CAND_MAX	16

/* M is a table size klb accepts: prime, KLB_TABLE_SIZE_MIN..LIMIT. */
static inline bool klb_maglev_size_valid(u32 m)
{
	u32 d;

	if (m < KLB_TABLE_SIZE_MIN || m > KLB_TABLE_SIZE_LIMIT || !(m & 1))
		return false;
	for (d = 3; d <= m / d; d += 2)
		if (!(m % d))
			return false;
	return true;
}

/* The flow's slot: the low 32 hash bits scaled to 0..m-1. */
static inline u32 klb_maglev_slot(u64 hash, u32 m)
{
	return (u32)(((u64)(u32)hash * m) >> 32);
}

/* The plain Maglev choice. */
static inline u16 klb_maglev_lookup(const u16 *table, u32 m, u64 hash)
{
	return table[klb_maglev_slot(hash, m)];
}

struct klb_maglev_cand {
	const u16 *table;
	u32 m;
	u32 slot;			/* next slot to look at */
	u32 step;
	u32 probes_left;
	u32 nr_seen;
	u16 seen[KLB_MAGLEV_CAND_MAX];
};

/*
 * Starts a flow's candidate sequence; at most max_probes slots will be read
 * (M of them reach every slot of the table).
 */
static inline void klb_maglev_cand_init(struct klb_maglev_cand *c,
					const u16 *table, u32 m, u64 hash,
					u32 max_probes)
{
	c->table = table;
	c->m = m;
	c->slot = klb_maglev_slot(hash, m);
	c->step = 1 + (u32)(((u64)(u32)(hash >> 32) * (m - 1)) >> 32);
	c->probes_left = max_probes;
	c->nr_seen = 0;
}

/*
 * The next distinct backend id, or -1 when max_probes slots have been read
 * or KLB_MAGLEV_CAND_MAX ids have been returned.
 */
static inline int klb_maglev_cand_next(struct klb_maglev_cand *c)
{
	u32 i;

	while (c->probes_left && c->nr_seen < KLB_MAGLEV_CAND_MAX) {
		u16 id = c->table[c->slot];
		bool seen = false;

		c->probes_left--;
		c->slot += c->step;
		if (c->slot >= c->m)
			c->slot -= c->m;
		if (id == KLB_BACKEND_ID_NONE)
			continue;
		for (i = 0; i < c->nr_seen; i++)
			if (c->seen[i] == id)
				seen = true;
		if (seen)
			continue;
		c->seen[c->nr_seen++] = id;
		return id;
	}
	return -1;
}

/*
 * Fills ids[] with the flow's first max_ids candidates (at most
 * KLB_MAGLEV_CAND_MAX) and returns how many it found within max_probes.
 */
static inline unsigned int klb_maglev_candidates(const u16 *table, u32 m,
						 u64 hash, u16 *ids,
						 unsigned int max_ids,
						 u32 max_probes)
{
	struct klb_maglev_cand c;
	unsigned int n = 0;
	int id;

	klb_maglev_cand_init(&c, table, m, hash, max_probes);
	while (n < max_ids && (id = klb_maglev_cand_next(&c)) >= 0)
		ids[n++] = (u16)id;
	return n;
}

#endif /* _KLB_MAGLEV_H */
