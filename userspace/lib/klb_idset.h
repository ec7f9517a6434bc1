/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backend ids of one service, one bit each, and the rule that picks a
 * new backend's id: the lowest one not in use. Every writer picks ids with
 * klb_idset_lowest_free(), so that 'backend add', a restore of a file
 * without ids and klbd give the same backend the same id, and so the same
 * table entries, on every gateway.
 */

#ifndef KLB_IDSET_H
#define KLB_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/klb.h>

#define KLB_IDSET_WORDS	((KLB_BACKEND_ID_MAX + 64) / 64)

/* 8 KiB: every id 0..KLB_BACKEND_ID_MAX. Zeroed is empty. */
struct klb_idset {
	uint64_t bits[KLB_IDSET_WORDS];
};

_Static_assert(KLB_IDSET_WORDS * 64 > UINT16_MAX,
	       "a bit for every 16-bit value");

void klb_idset_clear(struct klb_idset *s);

/*
 * Every 16-bit value has its bit (KLB_BACKEND_ID_NONE's is never set), so
 * there is nothing to check: a restore tests each slot of every table.
 */
static inline bool klb_idset_has(const struct klb_idset *s, uint16_t id)
{
	return s->bits[id / 64] >> (id % 64) & 1;
}

/* Adds id (0..KLB_BACKEND_ID_MAX; ignored above). */
static inline void klb_idset_add(struct klb_idset *s, unsigned int id)
{
	if (id <= KLB_BACKEND_ID_MAX)
		s->bits[id / 64] |= (uint64_t)1 << (id % 64);
}

static inline void klb_idset_del(struct klb_idset *s, unsigned int id)
{
	if (id <= KLB_BACKEND_ID_MAX)
		s->bits[id / 64] &= ~((uint64_t)1 << (id % 64));
}

/* The lowest id not in the set, or -ENOSPC when every id is taken. */
int klb_idset_lowest_free(const struct klb_idset *s);

#endif /* KLB_IDSET_H */
