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

#include <linux/bsearch.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/siphash.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <uapi/linux/klb.h>

/* Limits, module parameters (main.c). Read with READ_ONCE: writable. */
extern unsigned int klb_max_services;
extern unsigned int klb_max_backends;
extern unsigned int klb_max_table_size;
extern unsigned int klb_max_txns;
extern unsigned int klb_max_flows;
extern unsigned int klb_flow_buckets;
extern unsigned int klb_flow_timeout[];	/* seconds, by enum klb_flow_state */
extern unsigned long klb_max_netns_memory;	/* bytes */

/* Backends a service may have: the parameter, within the id space. */
static inline u32 klb_backends_max(void)
{
	return min_t(u32, READ_ONCE(klb_max_backends), KLB_BACKEND_ID_MAX + 1);
}

/* Counters (stats.c): per CPU, summed when read. */
#define KLB_NR_COUNTERS	(KLB_STATS_A_MAX - KLB_STATS_A_PKTS_IN + 1)
#define KLB_CTR(attr)	((attr) - KLB_STATS_A_PKTS_IN)

struct klb_pcpu_stats {
	u64 ctr[KLB_NR_COUNTERS];
	/*
	 * Flows in the table, per CPU: +1 where a flow is made, -1 where it
	 * is reaped, so no cache line bounces per new flow. Only the sum
	 * means something.
	 */
	s64 active;
};

/*
 * One per-CPU allocation cut into the counters of several backends that
 * one request makes: pcpu_alloc() costs per call far more than per byte,
 * and was the largest cost of restoring many backends. The block is
 * charged whole and lives until the last counters cut from it are freed.
 */
struct klb_stats_block {
	refcount_t ref;
	u32 size;			/* klb_pcpu_stats in it */
	struct klb_pcpu_stats __percpu *pcpu;
	struct klb_mem *mem;		/* charged for it; NULL: not charged */
};

/* Where a request's new counters come from: a block and what is left. */
struct klb_stats_source {
	struct klb_mem *mem;
	struct klb_stats_block *block;
	u32 used;			/* of block */
	u32 wanted;			/* still to come, past block */
};

/*
 * Counters cut from a block. A service's are allocated and shared with its
 * backends, which can outlive it in flows (ref, rcu); a backend's are part
 * of the backend and go with it (klb_stats_drop()).
 */
struct klb_stats {
	refcount_t ref;
	struct klb_pcpu_stats __percpu *pcpu;	/* in block */
	struct klb_stats_block *block;
	struct rcu_head rcu;
};

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
	bool buried;
	union klb_addr addr;
	/* Part of the backend, not an allocation of its own per backend. */
	struct klb_stats stats;
	struct klb_stats *svc_stats;	/* a reference on its service's */
	/*
	 * Flows point at a backend without a reference, so that making a
	 * flow writes no shared cache line. A backend no snapshot names any
	 * more waits in the netns's graveyard until the flow table has been
	 * swept of the flows that point at it (flow.c).
	 */
	struct klb_net *kn;
	struct klb_mem *mem;		/* kn's: it may be freed after kn */
	struct list_head grave;
	struct rcu_head rcu;
};

/*
 * The configuration memory of a netns (mem.c). Every charged object holds
 * a reference: they may be freed after the netns is gone.
 */
struct klb_mem {
	refcount_t ref;
	atomic64_t used;		/* bytes charged */
	atomic64_t refusals;		/* charges refused at the limit */
};

struct klb_backend_slot {
	struct klb_backend *backend;
	u32 weight;
	u16 id;				/* backend->id: lookups read one array */
	u8 state;			/* enum klb_backend_state */
};

/*
 * A Maglev table. Immutable once a snapshot that readers can see holds
 * it, and shared by every later snapshot until a new table replaces it: a
 * change of backends or settings does not copy it. A table being filled
 * chunk by chunk belongs to its transaction's staged snapshot alone.
 * The ids are an allocation of their own: kvmalloc() maps 2 MiB or more
 * with huge pages, so a header in front of the largest table (2 MiB less
 * 6 bytes) would double its footprint.
 */
struct klb_table {
	refcount_t ref;
	u32 size;
	struct klb_mem *mem;
	u16 *ids;
};

/*
 * Backends that take new flows, each repeated in proportion to its weight
 * and interleaved (smooth weighted round robin). rr and wrr step through
 * it; wlc samples it; a full flow table hashes into it. It depends only
 * on the takers and their weights, so snapshots share it while those stay.
 */
struct klb_wheel {
	refcount_t ref;
	struct klb_mem *mem;
	u32 len;			/* of the weighted sequence */
	u32 nr_takers;
	u64 weight_sum;
	u16 ids[];			/* len weighted, then each taker once */
};

/*
 * Everything a packet needs to know about a service. Immutable once
 * published; a change builds a new snapshot (see txn.c) and swaps it in.
 * Its backend slots are its own (O(backends), copied by a change); the
 * table and the wheel are shared, and the last reference to either that
 * a reader could have reached is dropped by a snapshot's RCU callback.
 */
struct klb_snapshot {
	refcount_t ref;
	u64 version;
	struct klb_service_conf conf;
	struct klb_wheel *wheel;	/* NULL: no backend takes new flows */
	u32 nr_backends;
	u32 slots_cap;
	struct klb_backend_slot *slots;	/* nr_backends, sorted by id */
	struct klb_table *table;	/* NULL: none published */
	struct klb_mem *mem;		/* charged for it and its slots */
	struct rcu_head rcu;
};

static inline int klb_slot_cmp(const void *key, const void *elt)
{
	u16 id = *(const u16 *)key;
	u16 other = ((const struct klb_backend_slot *)elt)->id;

	return id < other ? -1 : id > other;
}

/*
 * How the fast path reads a snapshot: the backend with an id (NULL if none
 * has it) and the published table (NULL if none). Everything else keeps
 * out of the snapshot's layout.
 *
 * Ids are unique and sorted, so slot i has an id of i or more: ids given
 * densely from 0 are found at their own index, and any id lies at or
 * before it, which bounds the search.
 */
static inline const struct klb_backend_slot *
klb_snapshot_slot(const struct klb_snapshot *snap, u32 id)
{
	u32 n = snap->nr_backends;
	u16 key = id;

	if (id >= KLB_BACKEND_ID_NONE)
		return NULL;
	if (id < n) {
		if (snap->slots[id].id == id)
			return &snap->slots[id];
		n = id;
	}
	return __inline_bsearch(&key, snap->slots, n, sizeof(*snap->slots),
				klb_slot_cmp);
}

static inline const u16 *klb_snapshot_table(const struct klb_snapshot *snap)
{
	return snap->table ? snap->table->ids : NULL;
}

struct klb_service {
	struct rhash_head node;
	u32 index;			/* in klb_net.services */
	struct klb_service_key key;
	struct klb_snapshot __rcu *snap;
	struct klb_stats *stats;
	u32 __percpu *cursor;		/* rr and wrr position, per CPU */
	struct rcu_head rcu;
};

struct klb_flow;

/*
 * The flow table: two chained hash tables over one set of flows, by the
 * client's tuple (client -> VIP) and, for NAT, by the reply's (backend ->
 * client). Lookups are lockless under RCU; writers take the bucket locks
 * (striped, shared by both tables). Flows expire by a sweep that walks a
 * slice of the buckets at a time: no per-flow timer, no global lock.
 */
struct klb_flow_table {
	u32 mask;			/* buckets - 1 */
	u32 lock_mask;
	struct klb_flow __rcu **fwd;
	struct klb_flow __rcu **rev;
	spinlock_t *locks;		/* bucket b takes locks[b & lock_mask] */
	siphash_key_t key;
	struct percpu_counter live;	/* flows that are not dead */
	atomic64_t limit_hits;		/* flows not made: table full */
	atomic64_t evictions;		/* half-open flows evicted */
	struct delayed_work gc;
	u32 gc_cursor;
	/* Dead backends: waiting for a sweep to begin, then to end. */
	spinlock_t grave_lock;
	struct list_head grave_new;
	struct list_head grave_sweep;
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
	atomic64_t batch_limit_hits;
	struct klb_mem *mem;
	struct klb_flow_table flows;
	bool flows_ready;		/* flows is set up (on first service) */
	bool defrag;			/* IPv4 and IPv6 reassembly enabled */
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
	/*
	 * What the commit must redo: the table check after a new table or a
	 * removed backend, the wheel after a change of takers or weights.
	 * Without them it is O(backends), whatever the table size.
	 */
	bool table_check;
	bool wheel_stale;
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

/* mem.c */
struct klb_mem *klb_mem_alloc(void);
void klb_mem_put(struct klb_mem *mem);
int klb_mem_charge(struct klb_mem *mem, size_t bytes);
void klb_mem_uncharge(struct klb_mem *mem, size_t bytes);
int klb_mem_error(struct netlink_ext_ack *extack, int err);

/* snapshot.c */
struct klb_snapshot *klb_snapshot_alloc(struct klb_mem *mem,
					const struct klb_service_conf *conf);
struct klb_snapshot *klb_snapshot_copy(const struct klb_snapshot *old);
void klb_snapshot_put(struct klb_snapshot *snap);
int klb_snapshot_reserve(struct klb_snapshot *snap, u32 cap);
struct klb_backend_slot *klb_snapshot_insert_slot(struct klb_snapshot *snap,
						  u16 id);
void klb_snapshot_remove_slot(struct klb_snapshot *snap,
			      struct klb_backend_slot *slot);
struct klb_backend_slot *klb_snapshot_find_backend(struct klb_snapshot *snap,
						   u16 family,
						   const union klb_addr *addr,
						   __be16 port);
bool klb_snapshot_table_uses(const struct klb_snapshot *snap, u16 id);

/* backend.c */
struct klb_backend *klb_backend_create(struct klb_net *kn,
				       struct klb_stats_source *counters,
				       struct klb_stats *svc_stats, u16 id,
				       u16 family, const union klb_addr *addr,
				       __be16 port);
void klb_backend_put(struct klb_backend *be);
void klb_backend_free(struct klb_backend *be);

/* table.c */
bool klb_sched_uses_table(u8 sched);
struct klb_table *klb_table_alloc(struct klb_mem *mem, u32 size);
void klb_table_put(struct klb_table *table);
int klb_table_check(const struct klb_snapshot *snap, u32 *bad_slot);

/* txn.c */
struct klb_txn *klb_txn_open(struct klb_net *kn, struct klb_service *svc,
			     bool implicit, struct netlink_ext_ack *extack);
void klb_txn_close(struct klb_net *kn, struct klb_txn *txn);
struct klb_txn *klb_txn_find(struct klb_net *kn, u32 id,
			     const struct sock *owner);
int klb_txn_commit(struct klb_net *kn, struct klb_txn *txn,
		   struct netlink_ext_ack *extack);
void klb_txn_abort_released(struct klb_net *kn, u32 portid);
void klb_txn_abort_all(struct klb_net *kn);
int klb_txn_set_conf(struct klb_txn *txn, const struct klb_service_conf *conf);
int klb_txn_backend_new(struct klb_net *kn, struct klb_txn *txn,
			struct klb_service *svc,
			struct klb_stats_source *counters, u16 id,
			u16 family, const union klb_addr *addr, __be16 port,
			u32 weight, u8 state, struct netlink_ext_ack *extack);
void klb_txn_backend_new_undo(struct klb_txn *txn, u16 id);
int klb_txn_backend_set(struct klb_txn *txn, struct klb_backend_slot *slot,
			const u32 *weight, const u8 *state);
int klb_txn_backend_del(struct klb_txn *txn, struct klb_backend_slot *slot,
			struct netlink_ext_ack *extack);
int klb_txn_table_chunk(struct klb_txn *txn, u32 size, u32 offset,
			const void *entries, u32 count,
			struct netlink_ext_ack *extack);
void klb_txn_table_del(struct klb_txn *txn);

/* stats.c */
void klb_stats_source_init(struct klb_stats_source *src, struct klb_mem *mem,
			   u32 wanted);
int klb_stats_take(struct klb_stats_source *src, struct klb_stats *stats);
void klb_stats_drop(struct klb_stats *stats);
void klb_stats_source_release(struct klb_stats_source *src);
struct klb_stats *klb_stats_alloc(void);
void klb_stats_put(struct klb_stats *stats);
void klb_stats_read(const struct klb_stats *stats, u64 *ctr, s64 *active);
s64 klb_stats_active(const struct klb_stats *stats);

static inline void klb_stats_inc(struct klb_stats *stats, int attr)
{
	this_cpu_inc(stats->pcpu->ctr[KLB_CTR(attr)]);
}

static inline void klb_stats_add(struct klb_stats *stats, int attr, u64 n)
{
	this_cpu_add(stats->pcpu->ctr[KLB_CTR(attr)], n);
}

/* flow.c */
struct klb_tuple {
	u16 family;
	u8 proto;
	__be16 sport;
	__be16 dport;
	union klb_addr saddr;
	union klb_addr daddr;
};

struct klb_flow_info {
	u16 family;
	u8 proto;
	u8 state;
	union klb_addr caddr;
	__be16 cport;
	union klb_addr vaddr;
	__be16 vport;
	struct klb_backend *backend;
	u32 expires_ms;
};

void klb_flows_prepare(struct klb_net *kn);
int klb_flows_init(struct klb_net *kn);
s64 klb_flows_live(struct klb_net *kn);
void klb_flows_destroy(struct klb_net *kn);
int klb_flow_module_init(void);
void klb_flow_module_exit(void);
void klb_backend_bury(struct klb_backend *be);

/*
 * What the packet path asks of the flow table, under RCU: the backend of
 * the flow @key (client -> VIP) and a way to update it; or of the reply
 * @key (backend -> client) for NAT.
 */
struct klb_flow *klb_flow_lookup(struct klb_net *kn,
				 const struct klb_tuple *key);
struct klb_flow *klb_flow_lookup_reply(struct klb_net *kn,
				       const struct klb_tuple *key);
struct klb_backend *klb_flow_backend(const struct klb_flow *flow);
u8 klb_flow_state(const struct klb_flow *flow);
void klb_flow_vip(const struct klb_flow *flow, union klb_addr *vaddr,
		  __be16 *vport);
void klb_flow_update(struct klb_flow *flow, u8 tcp_flags, bool reply);
bool klb_flow_expired(const struct klb_flow *flow);
struct klb_flow *klb_flow_create(struct klb_net *kn,
				 const struct klb_tuple *key,
				 struct klb_backend *be, u8 state, bool nat);
void klb_flow_kill(struct klb_net *kn, struct klb_flow *flow);
u8 klb_flow_initial_state(u8 proto, u8 tcp_flags);
unsigned int klb_flow_flush(struct klb_net *kn,
			    const struct klb_service_key *svc, int backend_id);
int klb_flow_walk(struct klb_net *kn, u32 *pos, u32 *skip,
		  int (*fn)(const struct klb_flow_info *info, void *arg),
		  void *arg);
size_t klb_flow_entry_size(u16 family);

/* TCP flags as klb_flow_update() wants them (low byte of the TCP flags). */
#define KLB_TCP_FIN	0x01
#define KLB_TCP_SYN	0x02
#define KLB_TCP_RST	0x04
#define KLB_TCP_ACK	0x10

/* sched.c */
int klb_wheel_build(struct klb_snapshot *snap);
void klb_wheel_put(struct klb_wheel *wheel);
const struct klb_backend_slot *klb_sched_pick(struct klb_service *svc,
					      const struct klb_snapshot *snap,
					      const struct klb_tuple *t,
					      bool stateless);
u64 klb_sched_hash(const struct klb_snapshot *snap, const struct klb_tuple *t);
bool klb_backend_takes_flows(const struct klb_backend_slot *slot);

/* icmp.c */
unsigned int klb_icmp_in(struct net *net, struct sk_buff *skb, u16 family);

/* hook.c */
int klb_hooks_register(struct net *net);
void klb_hooks_unregister(struct net *net);
int klb_defrag_enable(struct klb_net *kn);
void klb_defrag_disable(struct klb_net *kn);

/* xmit_nat.c, xmit_tunnel.c */
int klb_nat_dst(struct sk_buff *skb, u16 family, u8 proto, unsigned int l4off,
		const union klb_addr *addr, __be16 port);
int klb_nat_src(struct sk_buff *skb, u16 family, u8 proto, unsigned int l4off,
		const union klb_addr *addr, __be16 port);
int klb_tunnel_xmit(struct net *net, struct sk_buff *skb,
		    const struct klb_backend *be, struct klb_stats *svc_stats);

/* netlink.c */
int klb_genl_init(void);
void klb_genl_exit(void);

/* flow_hash_kat.c */
int klb_flow_hash_selftest(void);

#endif /* _KLB_H */
