// SPDX-License-Identifier: GPL-2.0
/*
 * Backends: reference-counted real servers, shared by the snapshots of
 * their service. Flows point at them without a reference (flow.c).
 */

#include <linux/slab.h>

#include "klb.h"

struct klb_backend *klb_backend_create(struct klb_net *kn,
				       struct klb_stats *svc_stats, u16 id,
				       u16 family, const union klb_addr *addr,
				       __be16 port)
{
	struct klb_backend *be;

	be = kzalloc(sizeof(*be), GFP_KERNEL_ACCOUNT);
	if (!be)
		return NULL;
	be->stats = klb_stats_alloc();
	if (!be->stats) {
		kfree(be);
		return NULL;
	}
	refcount_inc(&svc_stats->ref);
	be->svc_stats = svc_stats;
	be->kn = kn;
	INIT_LIST_HEAD(&be->grave);
	refcount_set(&be->ref, 1);
	be->id = id;
	be->family = family;
	be->addr = *addr;
	be->port = port;
	return be;
}

void klb_backend_put(struct klb_backend *be)
{
	/* Flows may still point at it: it goes once they are swept. */
	if (be && refcount_dec_and_test(&be->ref))
		klb_backend_bury(be);
}
