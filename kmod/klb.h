/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klb.ko internals shared between its files.
 *
 * Locking: the family has parallel_ops, so the genetlink core serializes
 * nothing; every netlink handler (doit, dumpit part) and the socket
 * release notifier take klb_net.lock around what they read or change of
 * their netns, and events are sent under it so that listeners see them in
 * write order. The fast path never takes it: it sees a service through its
 * published snapshot, which is immutable and replaced as a whole with RCU.
 * Dumps hold no reference between parts (a reader that stops reading must
 * not pin memory): each part finds the service again under the lock.
 */

#ifndef _KLB_H
#define _KLB_H

#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <uapi/linux/klb.h>

/* Limits, module parameters (main.c). Read with READ_ONCE: writable. */
extern unsigned int klb_max_services;
extern unsigned int klb_max_backends;
extern unsigned int klb_max_table_size;
extern unsigned int klb_max_txns;

union klb_addr {
	__be32 v4;
	struct in6_addr v6;
};

/* Zero-padded so that it can be hashed and compared as bytes. */
struct klb_service_key {
	union klb_addr addr;
	__be16 port;
	u16 family;
	u8 proto;
	u8 pad[3];
};

struct klb_service_conf {
	u8 sched;			/* enum klb_sched */
	u8 fwd;				/* enum klb_fwd */
	u32 table_size;
	u32 bound;
	u32 flags;			/* enum klb_service_flags */
	u8 seed[KLB_SEED_LEN];
};

/*
 * A real server. Its identity never changes; what can change (weight,
 * state) lives in the snapshots that reference it, so that a backend's
 * settings change atomically with the table. Long-lived state that must
 * survive snapshot swaps (counters, later) belongs here.
 */
struct klb_backend {
	refcount_t ref;
	u16 id;
	u16 family;
	__be16 port;
	union klb_addr addr;
	struct rcu_head rcu;
};

struct klb_backend_slot {
	struct klb_backend *backend;	/* NULL: no backend has this id */
	u32 weight;
	u8 state;			/* enum klb_backend_state */
};

/*
 * Everything a packet needs to know about a service. Immutable once
 * published; a change builds a new snapshot (see txn.c) and swaps it in.
 */
struct klb_snapshot {
	refcount_t ref;
	u64 version;
	struct klb_service_conf conf;
	u32 nr_backends;
	u32 nr_slots;			/* slots[] is indexed by backend id */
	struct klb_backend_slot *slots;
	u16 *table;			/* conf.table_size ids, or NULL */
	struct rcu_head rcu;
};

/*
 * How the fast path reads a snapshot: the backend with an id (NULL if none
 * has it) and the published table (NULL if none). Everything else keeps
 * out of the snapshot's layout.
 */
static inline const struct klb_backend_slot *
klb_snapshot_slot(const struct klb_snapshot *snap, u32 id)
{
	if (id >= snap->nr_slots || !snap->slots[id].backend)
		return NULL;
	return &snap->slots[id];
}

static inline const u16 *klb_snapshot_table(const struct klb_snapshot *snap)
{
	return snap->table;
}

struct klb_service {
	struct rhash_head node;
	u32 index;			/* in klb_net.services */
	struct klb_service_key key;
	struct klb_snapshot __rcu *snap;
	struct rcu_head rcu;
};

struct klb_net {
	struct net *net;
	struct mutex lock;		/* serializes every writer */
	struct rhashtable service_table;
	struct xarray services;		/* by index: dumps resume in O(log n) */
	u32 next_service_index;
	u32 nr_services;
	struct list_head txns;
	u32 nr_txns;
	u32 next_txn_id;
	u64 generation;
	u64 last_version;		/* snapshot versions never repeat */
	u32 change_seq;			/* for dump consistency checks */
	atomic64_t service_limit_hits;
	atomic64_t backend_limit_hits;
	atomic64_t table_limit_hits;
	atomic64_t txn_limit_hits;
	atomic64_t chunk_limit_hits;
};

/*
 * A private copy of a service's snapshot being edited. Explicit
 * transactions (KLB_CMD_TXN_*) live on klb_net.txns; every other write uses
 * an implicit one that is committed before the request returns.
 */
struct klb_txn {
	struct list_head list;
	u32 id;
	u32 portid;
	/*
	 * The socket that began it. Port ids are freed before the release
	 * notifier runs and may be reused meanwhile; the socket may not,
	 * until that notifier has aborted its transactions. Compared, and
	 * tested for SOCK_DEAD, never used otherwise.
	 */
	const struct sock *owner;
	bool implicit;
	struct klb_service_key key;
	u64 base_version;
	struct klb_snapshot *staged;
	u32 table_filled;		/* entries written of the table */
	bool table_pending;		/* a chunked table is not complete yet */
};

struct klb_net *klb_net(const struct net *net);

/*
 * Something a dump reports changed. Zero is skipped: the netlink core
 * does not compare a dump part against a sequence of 0, so a dump running
 * across the wrap would go unflagged.
 */
static inline void klb_net_changed(struct klb_net *kn)
{
	if (!++kn->change_seq)
		kn->change_seq = 1;
}

/* service.c */
int klb_services_init(struct klb_net *kn);
void klb_services_destroy(struct klb_net *kn);
struct klb_service *klb_service_find(struct klb_net *kn,
				     const struct klb_service_key *key);
int klb_service_create(struct klb_net *kn, const struct klb_service_key *key,
		       const struct klb_service_conf *conf,
		       struct netlink_ext_ack *extack);
void klb_service_delete(struct klb_net *kn, struct klb_service *svc);
void klb_service_publish(struct klb_net *kn, struct klb_service *svc,
			 struct klb_snapshot *snap);
void klb_service_conf_default(struct klb_service_conf *conf);

/* snapshot.c */
struct klb_snapshot *klb_snapshot_alloc(const struct klb_service_conf *conf);
struct klb_snapshot *klb_snapshot_copy(const struct klb_snapshot *old);
void klb_snapshot_put(struct klb_snapshot *snap);
int klb_snapshot_reserve_slots(struct klb_snapshot *snap, u32 nr_slots);
struct klb_backend_slot *klb_snapshot_find_backend(struct klb_snapshot *snap,
						   u16 family,
						   const union klb_addr *addr,
						   __be16 port);
bool klb_snapshot_table_uses(const struct klb_snapshot *snap, u16 id);

/* backend.c */
struct klb_backend *klb_backend_create(u16 id, u16 family,
				       const union klb_addr *addr, __be16 port);
void klb_backend_put(struct klb_backend *be);

/* table.c */
bool klb_sched_uses_table(u8 sched);
int klb_table_check(const struct klb_snapshot *snap, u32 *bad_slot);

/* txn.c */
struct klb_txn *klb_txn_open(struct klb_net *kn, struct klb_service *svc,
			     bool implicit);
void klb_txn_close(struct klb_net *kn, struct klb_txn *txn);
struct klb_txn *klb_txn_find(struct klb_net *kn, u32 id,
			     const struct sock *owner);
int klb_txn_commit(struct klb_net *kn, struct klb_txn *txn,
		   struct netlink_ext_ack *extack);
void klb_txn_abort_released(struct klb_net *kn, u32 portid);
void klb_txn_abort_all(struct klb_net *kn);
int klb_txn_set_conf(struct klb_txn *txn, const struct klb_service_conf *conf);
int klb_txn_backend_new(struct klb_net *kn, struct klb_txn *txn, u16 id,
			u16 family, const union klb_addr *addr, __be16 port,
			u32 weight, u8 state, struct netlink_ext_ack *extack);
int klb_txn_backend_set(struct klb_txn *txn, struct klb_backend_slot *slot,
			const u32 *weight, const u8 *state);
int klb_txn_backend_del(struct klb_txn *txn, struct klb_backend_slot *slot,
			struct netlink_ext_ack *extack);
int klb_txn_table_chunk(struct klb_txn *txn, u32 size, u32 offset,
			const void *entries, u32 count,
			struct netlink_ext_ack *extack);
void klb_txn_table_del(struct klb_txn *txn);

/* netlink.c */
int klb_genl_init(void);
void klb_genl_exit(void);

/* flow_hash_kat.c */
int klb_flow_hash_selftest(void);

#endif /* _KLB_H */
