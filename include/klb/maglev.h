/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Reading a Maglev table: which slot a flow hash names, and a flow's
 * candidate backends in order of preference.
 *
 * A table is M backend ids (u16, host byte order), M prime; userspace
 * computes it (userspace/lib/maglev.h) and the kernel publishes it. A flow
 * with hash h looks at slots
 *
 *   s_0 = klb_maglev_slot(h, M)
 *   s_k = klb_maglev_slot(mix(h + k * 0x9e3779b97f4a7c15), M)   (k >= 1)
 *
 * mix() being the splitmix64 finalizer, and its candidates are the distinct
 * ids met along that sequence. The first one is the plain Maglev choice (the
 * id in slot s_0); "maglev-bounded" (consistent hashing with bounded loads,
 * Mirrokni, Thorup and Zadimoghaddam 2018) moves on to the next candidate
 * while the current one is full. The probes are independent of one another
 * and of how the table was filled, so a flow's second choice is spread over
 * the other backends in proportion to their share of the table: the overflow
 * of a full backend does not pile onto one neighbour. (An arithmetic probe
 * sequence would not do: a flow whose step equals some backend's Maglev skip
 * would walk that backend's own preference list and meet mostly that
 * backend.)
 *
 * Everything is integer arithmetic (multiplications, no division) and every
 * loop is bounded by the caller's max_probes.
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

/* The k-th probe's slot (k >= 1). */
static inline u32 klb_maglev_probe(u64 hash, u32 k, u32 m)
{
	u64 z = hash + (u64)k * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return klb_maglev_slot(z ^ (z >> 31), m);
}

struct klb_maglev_cand {
	const u16 *table;
	u64 hash;
	u32 m;
	u32 probe;			/* probes made */
	u32 max_probes;
	u32 nr_seen;
	u16 seen[KLB_MAGLEV_CAND_MAX];
};

/* Starts a flow's candidate sequence; at most max_probes slots are read. */
static inline void klb_maglev_cand_init(struct klb_maglev_cand *c,
					const u16 *table, u32 m, u64 hash,
					u32 max_probes)
{
	c->table = table;
	c->hash = hash;
	c->m = m;
	c->probe = 0;
	c->max_probes = max_probes;
	c->nr_seen = 0;
}

/*
 * The next distinct backend id, or -1 when max_probes slots have been read
 * or KLB_MAGLEV_CAND_MAX ids have been returned.
 */
static inline int klb_maglev_cand_next(struct klb_maglev_cand *c)
{
	u32 i;

	while (c->probe < c->max_probes && c->nr_seen < KLB_MAGLEV_CAND_MAX) {
		u32 slot = c->probe ? klb_maglev_probe(c->hash, c->probe, c->m) :
			   klb_maglev_slot(c->hash, c->m);
		u16 id = c->table[slot];
		bool seen = false;

		c->probe++;
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
