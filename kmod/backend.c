// SPDX-License-Identifier: GPL-2.0
/*
 * Backends: reference-counted real servers, shared by the snapshots of
 * their service (and, later, by the flows pinned to them).
 */

#include <linux/slab.h>

#include "klb.h"

struct klb_backend *klb_backend_create(u16 id, u16 family,
				       const union klb_addr *addr, __be16 port)
{
	struct klb_backend *be;

	be = kzalloc(sizeof(*be), GFP_KERNEL_ACCOUNT);
	if (!be)
		return NULL;
	refcount_set(&be->ref, 1);
	be->id = id;
	be->family = family;
	be->addr = *addr;
	be->port = port;
	return be;
}

void klb_backend_put(struct klb_backend *be)
{
	/* The fast path may still look at it under RCU. */
	if (be && refcount_dec_and_test(&be->ref))
		kfree_rcu(be, rcu);
}
