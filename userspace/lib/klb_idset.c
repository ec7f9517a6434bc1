// SPDX-License-Identifier: GPL-2.0
/*
 * Backend id sets. A bitmap rather than a sorted list: the lowest free id
 * is found a word (64 ids) at a time, so a restore that numbers a
 * thousand services of a hundred backends each does not rescan the ids
 * from 0 for every backend.
 */

#include <errno.h>
#include <string.h>

#include "lib/klb_idset.h"

void klb_idset_clear(struct klb_idset *s)
{
	memset(s, 0, sizeof(*s));
}

int klb_idset_lowest_free(const struct klb_idset *s)
{
	unsigned int w, id;

	for (w = 0; w < KLB_IDSET_WORDS; w++) {
		if (s->bits[w] == UINT64_MAX)
			continue;
		id = w * 64 + (unsigned int)__builtin_ctzll(~s->bits[w]);
		return id <= KLB_BACKEND_ID_MAX ? (int)id : -ENOSPC;
	}
	return -ENOSPC;
}
