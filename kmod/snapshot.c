// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: the immutable view of a service that packets and dumps read.
 * A writer copies the published snapshot, edits the copy privately and
 * publishes it whole; the old one is freed once no reader can see it.
 * A copy owns its backend slots (sorted by id, O(backends)) and shares the
 * table and the wheel, which are replaced, never edited, once published.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>

#include "klb.h"

static size_t klb_snapshot_bytes(u32 slots_cap)
{
	return sizeof(struct klb_snapshot) +
	       array_size(slots_cap, sizeof(struct klb_backend_slot));
}

struct klb_snapshot *klb_snapshot_alloc(struct klb_mem *mem,
					const struct klb_service_conf *conf)
{
	struct klb_snapshot *snap;
	int err;

	err = klb_mem_charge(mem, klb_snapshot_bytes(0));
	if (err)
		return ERR_PTR(err);
	snap = kzalloc(sizeof(*snap), GFP_KERNEL_ACCOUNT);
	if (!snap) {
		klb_mem_uncharge(mem, klb_snapshot_bytes(0));
		return ERR_PTR(-ENOMEM);
	}
	refcount_set(&snap->ref, 1);
	snap->conf = *conf;
	snap->mem = mem;
	return snap;
}

static void klb_snapshot_free(struct klb_snapshot *snap)
{
	u32 i;

	for (i = 0; i < snap->nr_backends; i++)
		klb_backend_put(snap->slots[i].backend);
	kvfree(snap->slots);
	klb_table_put(snap->table);
	klb_wheel_put(snap->wheel);
	klb_mem_uncharge(snap->mem, klb_snapshot_bytes(snap->slots_cap));
	kfree(snap);
}

static void klb_snapshot_free_rcu(struct rcu_head *head)
{
	klb_snapshot_free(container_of(head, struct klb_snapshot, rcu));
}

void klb_snapshot_put(struct klb_snapshot *snap)
{
	if (snap && refcount_dec_and_test(&snap->ref))
		call_rcu(&snap->rcu, klb_snapshot_free_rcu);
}

/* Room for @cap slots; what is there stays as it is, even on failure. */
int klb_snapshot_reserve(struct klb_snapshot *snap, u32 cap)
{
	struct klb_backend_slot *slots;
	size_t more;
	int err;

	if (cap <= snap->slots_cap)
		return 0;
	more = klb_snapshot_bytes(cap) - klb_snapshot_bytes(snap->slots_cap);
	err = klb_mem_charge(snap->mem, more);
	if (err)
		return err;
	slots = kvmalloc_array(cap, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!slots) {
		klb_mem_uncharge(snap->mem, more);
		return -ENOMEM;
	}
	if (snap->nr_backends)
		memcpy(slots, snap->slots,
		       array_size(snap->nr_backends, sizeof(*slots)));
	kvfree(snap->slots);
	snap->slots = slots;
	snap->slots_cap = cap;
	/* A snapshot holds one reference on its account for all it is charged. */
	klb_mem_put(snap->mem);
	return 0;
}

/*
 * A copy that shares the table and the wheel and references every backend:
 * O(backends), whatever the table size or the largest id.
 */
struct klb_snapshot *klb_snapshot_copy(const struct klb_snapshot *old)
{
	struct klb_snapshot *snap;
	u32 i;
	int err;

	snap = klb_snapshot_alloc(old->mem, &old->conf);
	if (IS_ERR(snap))
		return snap;
	snap->version = old->version;
	err = klb_snapshot_reserve(snap, old->nr_backends);
	if (err) {
		klb_snapshot_free(snap);
		return ERR_PTR(err);
	}
	for (i = 0; i < old->nr_backends; i++) {
		snap->slots[i] = old->slots[i];
		refcount_inc(&snap->slots[i].backend->ref);
	}
	snap->nr_backends = old->nr_backends;
	if (old->table) {
		refcount_inc(&old->table->ref);
		snap->table = old->table;
	}
	if (old->wheel) {
		refcount_inc(&old->wheel->ref);
		snap->wheel = old->wheel;
	}
	return snap;
}

/*
 * A zeroed slot for @id, which no slot has, at its place in id order.
 * Room grows by half again, so a transaction adding n backends copies
 * O(n) slots in all.
 */
struct klb_backend_slot *klb_snapshot_insert_slot(struct klb_snapshot *snap,
						  u16 id)
{
	u32 n = snap->nr_backends, pos = n;
	int err;

	if (n == snap->slots_cap) {
		err = klb_snapshot_reserve(snap, max_t(u32, 4, n + n / 2));
		if (err)
			return ERR_PTR(err);
	}
	while (pos && snap->slots[pos - 1].id > id)
		pos--;
	memmove(&snap->slots[pos + 1], &snap->slots[pos],
		array_size(n - pos, sizeof(*snap->slots)));
	memset(&snap->slots[pos], 0, sizeof(*snap->slots));
	snap->slots[pos].id = id;
	snap->nr_backends++;
	return &snap->slots[pos];
}

/* Drops the slot and its backend reference. */
void klb_snapshot_remove_slot(struct klb_snapshot *snap,
			      struct klb_backend_slot *slot)
{
	u32 pos = slot - snap->slots;

	klb_backend_put(slot->backend);
	snap->nr_backends--;
	memmove(slot, slot + 1,
		array_size(snap->nr_backends - pos, sizeof(*slot)));
}

static bool klb_addr_equal(u16 family, const union klb_addr *a,
			   const union klb_addr *b)
{
	if (family == AF_INET)
		return a->v4 == b->v4;
	return ipv6_addr_equal(&a->v6, &b->v6);
}

struct klb_backend_slot *klb_snapshot_find_backend(struct klb_snapshot *snap,
						   u16 family,
						   const union klb_addr *addr,
						   __be16 port)
{
	u32 i;

	for (i = 0; i < snap->nr_backends; i++) {
		struct klb_backend *be = snap->slots[i].backend;

		if (be->family == family && be->port == port &&
		    klb_addr_equal(family, &be->addr, addr))
			return &snap->slots[i];
	}
	return NULL;
}

bool klb_snapshot_table_uses(const struct klb_snapshot *snap, u16 id)
{
	u32 i;

	if (!snap->table)
		return false;
	for (i = 0; i < snap->table->size; i++)
		if (snap->table->ids[i] == id)
			return true;
	return false;
}
