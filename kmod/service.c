// SPDX-License-Identifier: GPL-2.0
/*
 * Services: the per-netns set of virtual services, found by key from the
 * fast path (RCU hash table) and by an index in creation order for dumps
 * (an xarray, so a dump resumes where it stopped in O(log n)).
 */

#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "klb.h"

static const struct rhashtable_params klb_service_params = {
	.key_len = sizeof(struct klb_service_key),
	.key_offset = offsetof(struct klb_service, key),
	.head_offset = offsetof(struct klb_service, node),
	.automatic_shrinking = true,
};

int klb_services_init(struct klb_net *kn)
{
	return rhashtable_init(&kn->service_table, &klb_service_params);
}

void klb_services_destroy(struct klb_net *kn)
{
	struct klb_service *svc;
	unsigned long index;

	xa_for_each(&kn->services, index, svc)
		klb_service_delete(kn, svc);
	xa_destroy(&kn->services);
	rhashtable_destroy(&kn->service_table);
}

void klb_service_conf_default(struct klb_service_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->sched = KLB_SCHED_MAGLEV;
	conf->fwd = KLB_FWD_NAT;
	conf->table_size = KLB_TABLE_SIZE_DEFAULT;
	conf->bound = KLB_BOUND_DEFAULT;
}

struct klb_service *klb_service_find(struct klb_net *kn,
				     const struct klb_service_key *key)
{
	return rhashtable_lookup_fast(&kn->service_table, key,
				      klb_service_params);
}

int klb_service_create(struct klb_net *kn, const struct klb_service_key *key,
		       const struct klb_service_conf *conf,
		       struct netlink_ext_ack *extack)
{
	struct klb_service *svc;
	struct klb_snapshot *snap;
	int err;

	lockdep_assert_held(&kn->lock);
	if (klb_service_find(kn, key)) {
		NL_SET_ERR_MSG(extack, "service already exists");
		return -EEXIST;
	}
	if (kn->nr_services >= READ_ONCE(klb_max_services)) {
		atomic64_inc(&kn->service_limit_hits);
		NL_SET_ERR_MSG(extack, "too many services (module parameter max_services)");
		return -ENOSPC;
	}
	/* The packet path's state, made with the netns's first service. */
	err = klb_flows_init(kn);
	if (!err)
		err = klb_defrag_enable(kn);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot set up the flow table or reassembly");
		return err;
	}
	snap = klb_snapshot_alloc(kn->mem, conf);
	if (IS_ERR(snap))
		return klb_mem_error(extack, PTR_ERR(snap));
	svc = kzalloc(sizeof(*svc), GFP_KERNEL_ACCOUNT);
	if (!svc) {
		err = -ENOMEM;
		goto err;
	}
	svc->stats = klb_stats_alloc();
	svc->cursor = alloc_percpu_gfp(u32, GFP_KERNEL_ACCOUNT);
	if (!svc->stats || !svc->cursor) {
		err = -ENOMEM;
		goto err;
	}
	svc->key = *key;
	snap->version = ++kn->last_version;
	RCU_INIT_POINTER(svc->snap, snap);
	/*
	 * Cyclic: an index is not reused until 2^32 services later, so dumps
	 * list services oldest first (until the index wraps, after 2^32
	 * creations in this netns).
	 */
	err = xa_alloc_cyclic(&kn->services, &svc->index, svc, xa_limit_32b,
			      &kn->next_service_index, GFP_KERNEL_ACCOUNT);
	if (err < 0)
		goto err;
	err = rhashtable_insert_fast(&kn->service_table, &svc->node,
				     klb_service_params);
	if (err) {
		xa_erase(&kn->services, svc->index);
		goto err;
	}
	WRITE_ONCE(kn->nr_services, kn->nr_services + 1);
	klb_net_changed(kn);
	return 0;

err:
	klb_snapshot_put(snap);
	if (svc) {
		klb_stats_put(svc->stats);
		free_percpu(svc->cursor);
	}
	kfree(svc);
	return err;
}

static void klb_service_free_rcu(struct rcu_head *head)
{
	struct klb_service *svc = container_of(head, struct klb_service, rcu);

	klb_stats_put(svc->stats);
	free_percpu(svc->cursor);
	kfree(svc);
}

void klb_service_delete(struct klb_net *kn, struct klb_service *svc)
{
	lockdep_assert_held(&kn->lock);
	rhashtable_remove_fast(&kn->service_table, &svc->node,
			       klb_service_params);
	xa_erase(&kn->services, svc->index);
	WRITE_ONCE(kn->nr_services, kn->nr_services - 1);
	klb_net_changed(kn);
	klb_snapshot_put(rcu_replace_pointer(svc->snap, NULL,
					     lockdep_is_held(&kn->lock)));
	call_rcu(&svc->rcu, klb_service_free_rcu);
}

/* Readers see the old snapshot or @snap, whole; the old one goes after RCU. */
void klb_service_publish(struct klb_net *kn, struct klb_service *svc,
			 struct klb_snapshot *snap)
{
	struct klb_snapshot *old;

	lockdep_assert_held(&kn->lock);
	snap->version = ++kn->last_version;
	old = rcu_replace_pointer(svc->snap, snap, lockdep_is_held(&kn->lock));
	klb_net_changed(kn);
	klb_snapshot_put(old);
}
