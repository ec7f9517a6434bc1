// SPDX-License-Identifier: GPL-2.0
/*
 * Backends: reference-counted real servers, shared by the snapshots of
 * their service. Flows point at them without a reference (flow.c).
 */

#include <linux/slab.h>

#include "klb.h"

/*
 * What a backend costs its netns besides its per-CPU counters, which the
 * block they are cut from is charged for (stats.c).
 */
static size_t klb_backend_bytes(void)
{
	return sizeof(struct klb_backend);
}

struct klb_backend *klb_backend_create(struct klb_net *kn,
				       struct klb_stats_source *counters,
				       struct klb_stats *svc_stats, u16 id,
				       u16 family, const union klb_addr *addr,
				       __be16 port)
{
	struct klb_backend *be;
	int err;

	err = klb_mem_charge(kn->mem, klb_backend_bytes());
	if (err)
		return ERR_PTR(err);
	be = kzalloc(sizeof(*be), GFP_KERNEL_ACCOUNT);
	if (!be) {
		err = -ENOMEM;
		goto err;
	}
	err = klb_stats_take(counters, &be->stats);
	if (err) {
		kfree(be);
		goto err;
	}
	refcount_inc(&svc_stats->ref);
	be->svc_stats = svc_stats;
	be->kn = kn;
	be->mem = kn->mem;
	INIT_LIST_HEAD(&be->grave);
	refcount_set(&be->ref, 1);
	be->id = id;
	be->family = family;
	be->addr = *addr;
	be->port = port;
	return be;

err:
	klb_mem_uncharge(kn->mem, klb_backend_bytes());
	return ERR_PTR(err);
}

void klb_backend_put(struct klb_backend *be)
{
	/* Flows may still point at it: it goes once they are swept. */
	if (be && refcount_dec_and_test(&be->ref))
		klb_backend_bury(be);
}

/* After the sweep and a grace period; maybe after its netns is gone. */
void klb_backend_free(struct klb_backend *be)
{
	klb_stats_drop(&be->stats);
	klb_stats_put(be->svc_stats);
	klb_mem_uncharge(be->mem, klb_backend_bytes());
	kfree(be);
}
