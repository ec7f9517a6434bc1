// SPDX-License-Identifier: GPL-2.0
/*
 * Maglev tables are computed in userspace; the kernel only checks that a
 * table is well formed before it is published, and shares it between
 * snapshots until a new one replaces it.
 */

#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <klb/sched.h>

#include "klb.h"

bool klb_sched_uses_table(u8 sched)
{
	return klb_sched_is_maglev(sched);
}

static size_t klb_table_bytes(u32 size)
{
	return sizeof(struct klb_table) + array_size(size, sizeof(u16));
}

/* Entries left to the caller, who fills them before anyone else sees it. */
struct klb_table *klb_table_alloc(struct klb_mem *mem, u32 size)
{
	struct klb_table *table;
	int err;

	err = klb_mem_charge(mem, klb_table_bytes(size));
	if (err)
		return ERR_PTR(err);
	table = kmalloc(sizeof(*table), GFP_KERNEL_ACCOUNT);
	if (!table)
		goto err;
	table->ids = kvmalloc_array(size, sizeof(u16), GFP_KERNEL_ACCOUNT);
	if (!table->ids) {
		kfree(table);
		goto err;
	}
	refcount_set(&table->ref, 1);
	table->size = size;
	table->mem = mem;
	return table;

err:
	klb_mem_uncharge(mem, klb_table_bytes(size));
	return ERR_PTR(-ENOMEM);
}

/*
 * No grace period here: a reader reaches a table only through a snapshot,
 * and snapshots drop their references from RCU callbacks.
 */
void klb_table_put(struct klb_table *table)
{
	if (table && refcount_dec_and_test(&table->ref)) {
		klb_mem_uncharge(table->mem, klb_table_bytes(table->size));
		kvfree(table->ids);
		kfree(table);
	}
}

/*
 * Every entry must name a backend of the same snapshot, or be
 * KLB_BACKEND_ID_NONE: the fast path looks an id up and moves on to the
 * flow's next candidate when no backend has it, so an empty slot is as
 * safe as a missing one and lets a table exist while no backend is active.
 * O(backends + M): the ids present go in a bitmap first, unless they are
 * 0..n-1 (slots are sorted and unique, so the last one's id says so), as
 * klbctl and klbd number them: then an entry needs one comparison.
 */
int klb_table_check(const struct klb_snapshot *snap, u32 *bad_slot)
{
	const struct klb_table *table = snap->table;
	u32 i, n = snap->nr_backends;
	unsigned long *present;
	int err = 0;

	if (!n || snap->slots[n - 1].id == n - 1) {
		for (i = 0; i < table->size; i++) {
			if (table->ids[i] >= n &&
			    table->ids[i] != KLB_BACKEND_ID_NONE) {
				*bad_slot = i;
				return -ENOENT;
			}
		}
		return 0;
	}
	present = bitmap_zalloc(KLB_BACKEND_ID_NONE + 1, GFP_KERNEL);
	if (!present)
		return -ENOMEM;
	for (i = 0; i < snap->nr_backends; i++)
		__set_bit(snap->slots[i].id, present);
	__set_bit(KLB_BACKEND_ID_NONE, present);
	for (i = 0; i < table->size; i++) {
		if (!test_bit(table->ids[i], present)) {
			*bad_slot = i;
			err = -ENOENT;
			break;
		}
	}
	bitmap_free(present);
	return err;
}
