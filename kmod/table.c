// SPDX-License-Identifier: GPL-2.0
/*
 * Maglev tables are computed in userspace; the kernel only checks that a
 * table is well formed before it is published.
 */

#include <klb/sched.h>

#include "klb.h"

bool klb_sched_uses_table(u8 sched)
{
	return klb_sched_is_maglev(sched);
}

/*
 * Every entry must name a backend of the same snapshot, or be
 * KLB_BACKEND_ID_NONE: the fast path looks an id up and moves on to the
 * flow's next candidate when no backend has it, so an empty slot is as
 * safe as a missing one and lets a table exist while no backend is active.
 */
int klb_table_check(const struct klb_snapshot *snap, u32 *bad_slot)
{
	u32 i;

	for (i = 0; i < snap->conf.table_size; i++) {
		u16 id = snap->table[i];

		if (id == KLB_BACKEND_ID_NONE)
			continue;
		if (id >= snap->nr_slots || !snap->slots[id].backend) {
			*bad_slot = i;
			return -ENOENT;
		}
	}
	return 0;
}
