// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: the immutable view of a service that packets and dumps read.
 * A writer copies the published snapshot, edits the copy privately and
 * publishes it whole; the old one is freed once no reader can see it.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>

#include "klb.h"

struct klb_snapshot *klb_snapshot_alloc(const struct klb_service_conf *conf)
{
	struct klb_snapshot *snap;

	snap = kzalloc(sizeof(*snap), GFP_KERNEL_ACCOUNT);
	if (!snap)
		return NULL;
	refcount_set(&snap->ref, 1);
	snap->conf = *conf;
	return snap;
}

static void klb_snapshot_free(struct klb_snapshot *snap)
{
	u32 i;

	for (i = 0; i < snap->nr_slots; i++)
		klb_backend_put(snap->slots[i].backend);
	kvfree(snap->slots);
	kvfree(snap->table);
	kvfree(snap->wheel);
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

int klb_snapshot_reserve_slots(struct klb_snapshot *snap, u32 nr_slots)
{
	struct klb_backend_slot *slots;

	if (nr_slots <= snap->nr_slots)
		return 0;
	slots = kvcalloc(nr_slots, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!slots)
		return -ENOMEM;
	if (snap->nr_slots)
		memcpy(slots, snap->slots, snap->nr_slots * sizeof(*slots));
	kvfree(snap->slots);
	snap->slots = slots;
	snap->nr_slots = nr_slots;
	return 0;
}

struct klb_snapshot *klb_snapshot_copy(const struct klb_snapshot *old)
{
	struct klb_snapshot *snap;
	u32 i;

	snap = klb_snapshot_alloc(&old->conf);
	if (!snap)
		return NULL;
	snap->version = old->version;
	if (klb_snapshot_reserve_slots(snap, old->nr_slots))
		goto err;
	for (i = 0; i < old->nr_slots; i++) {
		snap->slots[i] = old->slots[i];
		if (snap->slots[i].backend)
			refcount_inc(&snap->slots[i].backend->ref);
	}
	snap->nr_backends = old->nr_backends;
	if (old->table) {
		size_t len = array_size(old->conf.table_size, sizeof(u16));

		snap->table = kvmalloc(len, GFP_KERNEL_ACCOUNT);
		if (!snap->table)
			goto err;
		memcpy(snap->table, old->table, len);
	}
	return snap;

err:
	klb_snapshot_free(snap);
	return NULL;
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

	for (i = 0; i < snap->nr_slots; i++) {
		struct klb_backend *be = snap->slots[i].backend;

		if (be && be->family == family && be->port == port &&
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
	for (i = 0; i < snap->conf.table_size; i++)
		if (snap->table[i] == id)
			return true;
	return false;
}
