// SPDX-License-Identifier: GPL-2.0
/*
 * Transactions: a private copy of a service's snapshot that writes edit
 * and a commit validates and publishes in one step. This is how a backend
 * set and its table change together, and how a table larger than one
 * netlink attribute arrives in pieces without ever being seen half-made.
 */

#include <linux/mm.h>
#include <linux/slab.h>

#include <net/sock.h>

#include "klb.h"

struct klb_txn *klb_txn_open(struct klb_net *kn, struct klb_service *svc,
			     bool implicit, struct netlink_ext_ack *extack)
{
	struct klb_snapshot *cur;
	struct klb_txn *txn;

	lockdep_assert_held(&kn->lock);
	cur = rcu_dereference_protected(svc->snap, lockdep_is_held(&kn->lock));
	txn = kzalloc(sizeof(*txn), GFP_KERNEL_ACCOUNT);
	if (!txn) {
		klb_mem_error(extack, -ENOMEM);
		return ERR_PTR(-ENOMEM);
	}
	txn->staged = klb_snapshot_copy(cur);
	if (IS_ERR(txn->staged)) {
		int err = PTR_ERR(txn->staged);

		kfree(txn);
		klb_mem_error(extack, err);
		return ERR_PTR(err);
	}
	txn->implicit = implicit;
	txn->key = svc->key;
	txn->base_version = cur->version;
	INIT_LIST_HEAD(&txn->list);
	if (!implicit) {
		/* Zero is never handed out, so an id attribute of 0 is unknown. */
		do {
			txn->id = ++kn->next_txn_id;
		} while (!txn->id);
		list_add_tail(&txn->list, &kn->txns);
		kn->nr_txns++;
	}
	return txn;
}

void klb_txn_close(struct klb_net *kn, struct klb_txn *txn)
{
	lockdep_assert_held(&kn->lock);
	if (!txn->implicit) {
		list_del(&txn->list);
		kn->nr_txns--;
	}
	klb_snapshot_put(txn->staged);
	kfree(txn);
}

struct klb_txn *klb_txn_find(struct klb_net *kn, u32 id,
			     const struct sock *owner)
{
	struct klb_txn *txn;

	lockdep_assert_held(&kn->lock);
	list_for_each_entry(txn, &kn->txns, list)
		if (txn->id == id && txn->owner == owner)
			return txn;
	return NULL;
}

/* Called when the socket with @portid is released: it is already dead. */
void klb_txn_abort_released(struct klb_net *kn, u32 portid)
{
	struct klb_txn *txn, *tmp;

	lockdep_assert_held(&kn->lock);
	list_for_each_entry_safe(txn, tmp, &kn->txns, list)
		if (txn->portid == portid && sock_flag(txn->owner, SOCK_DEAD))
			klb_txn_close(kn, txn);
}

void klb_txn_abort_all(struct klb_net *kn)
{
	struct klb_txn *txn, *tmp;

	lockdep_assert_held(&kn->lock);
	list_for_each_entry_safe(txn, tmp, &kn->txns, list)
		klb_txn_close(kn, txn);
}

/*
 * Publishes the staged snapshot if the service is still the one the
 * transaction copied. The transaction is closed either way.
 */
int klb_txn_commit(struct klb_net *kn, struct klb_txn *txn,
		   struct netlink_ext_ack *extack)
{
	struct klb_snapshot *staged = txn->staged;
	struct klb_snapshot *cur;
	struct klb_service *svc;
	u32 bad_slot;
	int err;

	lockdep_assert_held(&kn->lock);
	svc = klb_service_find(kn, &txn->key);
	if (!svc) {
		NL_SET_ERR_MSG(extack, "service was deleted during the transaction");
		err = -ESTALE;
		goto out;
	}
	cur = rcu_dereference_protected(svc->snap, lockdep_is_held(&kn->lock));
	if (cur->version != txn->base_version) {
		NL_SET_ERR_MSG(extack, "service changed since the transaction began");
		err = -ESTALE;
		goto out;
	}
	if (txn->table_pending) {
		NL_SET_ERR_MSG(extack, "table is incomplete: chunks do not cover the table size");
		err = -EINVAL;
		goto out;
	}
	if (staged->table && txn->table_check) {
		err = klb_table_check(staged, &bad_slot);
		if (err == -ENOENT) {
			nl_set_extack_cookie_u64(extack, bad_slot);
			NL_SET_ERR_MSG(extack, "table names a missing backend (cookie: slot)");
		} else if (err) {
			klb_mem_error(extack, err);
		}
		if (err)
			goto out;
	}
	if (txn->wheel_stale) {
		err = klb_wheel_build(staged);
		if (err) {
			klb_mem_error(extack, err);
			goto out;
		}
	}
	txn->staged = NULL;
	klb_service_publish(kn, svc, staged);
	err = 0;
out:
	klb_txn_close(kn, txn);
	return err;
}

int klb_txn_set_conf(struct klb_txn *txn, const struct klb_service_conf *conf)
{
	struct klb_snapshot *snap = txn->staged;

	/*
	 * A table is only meaningful for the size, seed and scheduler it was
	 * made for; a transaction pushes the new one after this change.
	 */
	if (conf->table_size != snap->conf.table_size ||
	    memcmp(conf->seed, snap->conf.seed, sizeof(conf->seed)) ||
	    !klb_sched_uses_table(conf->sched))
		klb_txn_table_del(txn);
	snap->conf = *conf;
	return 0;
}

/* @svc is the transaction's, as the caller found it under kn->lock. */
int klb_txn_backend_new(struct klb_net *kn, struct klb_txn *txn,
			struct klb_service *svc,
			struct klb_stats_source *counters, u16 id,
			u16 family, const union klb_addr *addr, __be16 port,
			u32 weight, u8 state, struct netlink_ext_ack *extack)
{
	struct klb_snapshot *snap = txn->staged;
	struct klb_backend_slot *slot;
	struct klb_backend *be;

	if (klb_snapshot_find_backend(snap, family, addr, port)) {
		NL_SET_ERR_MSG(extack, "backend address and port already exist in the service");
		return -EEXIST;
	}
	if (klb_snapshot_slot(snap, id)) {
		NL_SET_ERR_MSG(extack, "backend id already in use in the service");
		return -EEXIST;
	}
	if (snap->nr_backends >= klb_backends_max()) {
		atomic64_inc(&kn->backend_limit_hits);
		NL_SET_ERR_MSG(extack, "too many backends (module parameter max_backends)");
		return -ENOSPC;
	}
	be = klb_backend_create(kn, counters, svc->stats, id, family, addr,
				port);
	if (IS_ERR(be))
		return klb_mem_error(extack, PTR_ERR(be));
	slot = klb_snapshot_insert_slot(snap, id);
	if (IS_ERR(slot)) {
		klb_backend_put(be);
		return klb_mem_error(extack, PTR_ERR(slot));
	}
	slot->backend = be;
	slot->weight = weight;
	slot->state = state;
	if (klb_backend_takes_flows(slot))
		txn->wheel_stale = true;
	return 0;
}

/* Takes a backend klb_txn_backend_new() staged out again. */
void klb_txn_backend_new_undo(struct klb_txn *txn, u16 id)
{
	struct klb_snapshot *snap = txn->staged;
	const struct klb_backend_slot *slot = klb_snapshot_slot(snap, id);

	if (slot)
		klb_snapshot_remove_slot(snap, &snap->slots[slot - snap->slots]);
}

int klb_txn_backend_set(struct klb_txn *txn, struct klb_backend_slot *slot,
			const u32 *weight, const u8 *state)
{
	bool took = klb_backend_takes_flows(slot);
	u32 old_weight = slot->weight;

	if (weight)
		slot->weight = *weight;
	if (state)
		slot->state = *state;
	if (took != klb_backend_takes_flows(slot) ||
	    (took && slot->weight != old_weight))
		txn->wheel_stale = true;
	return 0;
}

int klb_txn_backend_del(struct klb_txn *txn, struct klb_backend_slot *slot,
			struct netlink_ext_ack *extack)
{
	struct klb_snapshot *snap = txn->staged;

	/*
	 * Alone, deleting a backend the table names would leave the table
	 * pointing nowhere; a transaction gets to fix the table before commit.
	 */
	if (txn->implicit && klb_snapshot_table_uses(snap, slot->backend->id)) {
		NL_SET_ERR_MSG(extack, "backend is in the table: change both in a transaction");
		return -EBUSY;
	}
	if (klb_backend_takes_flows(slot))
		txn->wheel_stale = true;
	klb_snapshot_remove_slot(snap, slot);
	txn->table_check = true;
	return 0;
}

int klb_txn_table_chunk(struct klb_txn *txn, u32 size, u32 offset,
			const void *entries, u32 count,
			struct netlink_ext_ack *extack)
{
	struct klb_snapshot *snap = txn->staged;

	if (!klb_sched_uses_table(snap->conf.sched)) {
		NL_SET_ERR_MSG(extack, "the service's scheduler does not use a table");
		return -EOPNOTSUPP;
	}
	if (size != snap->conf.table_size) {
		NL_SET_ERR_MSG(extack, "table size differs from the service's table size");
		return -EINVAL;
	}
	if (offset != 0 && (!txn->table_pending || offset != txn->table_filled)) {
		NL_SET_ERR_MSG(extack, "table chunk out of order");
		return -EINVAL;
	}
	if (count > size - offset) {
		NL_SET_ERR_MSG(extack, "table chunk runs past the table size");
		return -EINVAL;
	}
	if (txn->implicit && (offset != 0 || count != size)) {
		NL_SET_ERR_MSG(extack, "a table outside a transaction must be whole");
		return -EINVAL;
	}
	if (offset == 0) {
		/*
		 * A new table, private to this transaction until it commits:
		 * the one the snapshot shares with others is never written.
		 * It is let go only once its replacement exists: a failed
		 * request must leave the transaction with the table it had.
		 */
		struct klb_table *table = klb_table_alloc(snap->mem, size);

		if (IS_ERR(table))
			return klb_mem_error(extack, PTR_ERR(table));
		klb_table_put(snap->table);
		snap->table = table;
		txn->table_check = true;
	}
	memcpy(snap->table->ids + offset, entries,
	       array_size(count, sizeof(u16)));
	txn->table_filled = offset + count;
	txn->table_pending = txn->table_filled < size;
	return 0;
}

void klb_txn_table_del(struct klb_txn *txn)
{
	klb_table_put(txn->staged->table);
	txn->staged->table = NULL;
	txn->table_filled = 0;
	txn->table_pending = false;
}
