// SPDX-License-Identifier: GPL-2.0
/*
 * The flow table: which backend each connection was given, so that it stays
 * there while the backend set and the tables change.
 *
 * Every flow is on a chain of the forward table (by client -> VIP) and, for
 * NAT, of the reply table (by backend -> client). Chains are singly linked
 * under RCU: a lookup takes no lock and writes nothing but the flow's
 * expiry and state. Writers (packets making flows, the sweep, flush) take
 * the bucket locks, striped and shared by both tables, in index order.
 *
 * A flow is never changed in place once linked except for its state and
 * expiry: moving a connection to another backend kills the flow and makes a
 * new one. Killing is a state change (to dead) under the forward bucket's
 * lock, which happens once per flow: that is where the flow stops counting
 * against the limit and in its backend's active flows. Unlinking and
 * freeing are the sweep's job: a delayed work walks a slice of the buckets
 * at a time, unlinks dead and expired flows, and frees them after an RCU
 * grace period. No per-flow timer, no global lock.
 *
 * Flows point at their backend without holding a reference (a reference
 * would bounce the backend's cache line on every new flow). A backend that
 * no snapshot names any more is buried (klb_backend_bury) and freed only
 * after a whole sweep that began after its burial: by then every flow that
 * pointed at it has been killed and unlinked.
 */

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "klb.h"

#define KLB_FLOW_DEAD		0xff
/* One sweep of the whole table takes about KLB_GC_SLICES * KLB_GC_PERIOD. */
#define KLB_GC_PERIOD		(HZ / 10)
#define KLB_GC_SLICES		50
#define KLB_FLOW_BATCH		128
#define KLB_LOCKS_MAX		1024
/* Buckets a new flow looks through for a half-open flow to replace. */
#define KLB_EVICT_BUCKETS	8

struct klb_flow {
	struct klb_flow __rcu *next[2];	/* forward and reply chains */
	struct klb_backend *backend;	/* fixed for the flow's life */
	u32 expires;			/* jiffies, low 32 bits */
	__be16 cport;
	__be16 vport;
	u8 proto;
	u8 family;
	u8 nat;				/* also on a reply chain */
	u8 pad;
	u32 state;			/* enum klb_flow_state, or dead */
	__be32 addr[];			/* client, then VIP: 1 or 4 words each */
};

/* Freed together after one grace period. */
struct klb_flow_batch {
	struct rcu_head rcu;
	unsigned int n;
	struct klb_flow *flows[KLB_FLOW_BATCH];
};

static struct kmem_cache *klb_flow_cache4 __read_mostly;
static struct kmem_cache *klb_flow_cache6 __read_mostly;

static unsigned int klb_addr_words(u16 family)
{
	return family == AF_INET ? 1 : 4;
}

size_t klb_flow_entry_size(u16 family)
{
	return offsetof(struct klb_flow, addr) +
	       2 * klb_addr_words(family) * sizeof(__be32);
}

static struct kmem_cache *klb_flow_cache(u16 family)
{
	return family == AF_INET ? klb_flow_cache4 : klb_flow_cache6;
}

static const __be32 *klb_flow_caddr(const struct klb_flow *f)
{
	return f->addr;
}

static const __be32 *klb_flow_vaddr(const struct klb_flow *f)
{
	return f->addr + klb_addr_words(f->family);
}

static bool klb_addr_eq(u16 family, const __be32 *a, const union klb_addr *b)
{
	if (family == AF_INET)
		return a[0] == b->v4;
	return ipv6_addr_equal((const struct in6_addr *)a, &b->v6);
}

static void klb_addr_get(u16 family, const __be32 *a, union klb_addr *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, a, klb_addr_words(family) * sizeof(__be32));
}

static u32 klb_flow_hash(const struct klb_flow_table *ft,
			 const struct klb_tuple *key)
{
	return siphash(key, sizeof(*key), &ft->key);
}

static void klb_flow_rev_key(const struct klb_flow *f,
			     struct klb_tuple *key)
{
	memset(key, 0, sizeof(*key));
	key->family = f->family;
	key->proto = f->proto;
	key->saddr = f->backend->addr;
	key->sport = f->backend->port;
	klb_addr_get(f->family, klb_flow_caddr(f), &key->daddr);
	key->dport = f->cport;
}

static bool klb_flow_fwd_match(const struct klb_flow *f,
			       const struct klb_tuple *key)
{
	return f->family == key->family && f->proto == key->proto &&
	       f->cport == key->sport && f->vport == key->dport &&
	       klb_addr_eq(f->family, klb_flow_caddr(f), &key->saddr) &&
	       klb_addr_eq(f->family, klb_flow_vaddr(f), &key->daddr);
}

static bool klb_flow_rev_match(const struct klb_flow *f,
			       const struct klb_tuple *key)
{
	const struct klb_backend *be = f->backend;

	return f->nat && f->family == key->family &&
	       f->proto == key->proto && be->port == key->sport &&
	       f->cport == key->dport &&
	       klb_addr_eq(f->family, klb_flow_caddr(f), &key->daddr) &&
	       (f->family == AF_INET ? be->addr.v4 == key->saddr.v4 :
		ipv6_addr_equal(&be->addr.v6, &key->saddr.v6));
}

bool klb_flow_expired(const struct klb_flow *f)
{
	return (s32)(READ_ONCE(f->expires) - (u32)jiffies) <= 0;
}

static bool klb_flow_live(const struct klb_flow *f)
{
	return READ_ONCE(f->state) != KLB_FLOW_DEAD && !klb_flow_expired(f);
}

static struct klb_flow_table *klb_flows(struct klb_net *kn)
{
	/* Published once, with release order, by klb_flows_init(). */
	return smp_load_acquire(&kn->flows_ready) ? &kn->flows : NULL;
}

struct klb_flow *klb_flow_lookup(struct klb_net *kn,
				 const struct klb_tuple *key)
{
	struct klb_flow_table *ft = klb_flows(kn);
	struct klb_flow *f;

	if (!ft)
		return NULL;
	f = rcu_dereference(ft->fwd[klb_flow_hash(ft, key) & ft->mask]);
	for (; f; f = rcu_dereference(f->next[0]))
		if (klb_flow_fwd_match(f, key) && klb_flow_live(f))
			return f;
	return NULL;
}

struct klb_flow *klb_flow_lookup_reply(struct klb_net *kn,
				       const struct klb_tuple *key)
{
	struct klb_flow_table *ft = klb_flows(kn);
	struct klb_flow *f;

	if (!ft)
		return NULL;
	f = rcu_dereference(ft->rev[klb_flow_hash(ft, key) & ft->mask]);
	for (; f; f = rcu_dereference(f->next[1]))
		if (klb_flow_rev_match(f, key) && klb_flow_live(f))
			return f;
	return NULL;
}

struct klb_backend *klb_flow_backend(const struct klb_flow *flow)
{
	return flow->backend;
}

u8 klb_flow_state(const struct klb_flow *flow)
{
	return READ_ONCE(flow->state);
}

void klb_flow_vip(const struct klb_flow *flow, union klb_addr *vaddr,
		  __be16 *vport)
{
	klb_addr_get(flow->family, klb_flow_vaddr(flow), vaddr);
	*vport = flow->vport;
}

static u32 klb_flow_deadline(u32 state)
{
	return (u32)jiffies + READ_ONCE(klb_flow_timeout[state]) * HZ;
}

u8 klb_flow_initial_state(u8 proto, u8 tcp_flags)
{
	if (proto != IPPROTO_TCP)
		return KLB_FLOW_UDP;
	if (tcp_flags & KLB_TCP_RST)
		return KLB_FLOW_CLOSED;
	if (tcp_flags & KLB_TCP_FIN)
		return KLB_FLOW_CLOSING;
	if ((tcp_flags & (KLB_TCP_SYN | KLB_TCP_ACK)) == KLB_TCP_SYN)
		return KLB_FLOW_SYN;
	return KLB_FLOW_ESTABLISHED;
}

static u32 klb_flow_next_state(u32 old, u8 tcp_flags, bool reply)
{
	if (old == KLB_FLOW_UDP)
		return old;
	if (tcp_flags & KLB_TCP_RST)
		return KLB_FLOW_CLOSED;
	if (tcp_flags & KLB_TCP_FIN)
		return old == KLB_FLOW_CLOSED ? old : KLB_FLOW_CLOSING;
	/* The client's ACK ends the handshake: it is all tunnel mode sees. */
	if (old == KLB_FLOW_SYN && !reply &&
	    (tcp_flags & (KLB_TCP_SYN | KLB_TCP_ACK)) == KLB_TCP_ACK)
		return KLB_FLOW_ESTABLISHED;
	return old;
}

/*
 * Per packet: the state may move on and the expiry is pushed back. The
 * expiry is written at most about once a second so that a busy flow does
 * not dirty its cache line on every packet. A state change races only with
 * killing, which the cmpxchg loses to.
 */
void klb_flow_update(struct klb_flow *f, u8 tcp_flags, bool reply)
{
	u32 old = READ_ONCE(f->state);
	u32 new = klb_flow_next_state(old, tcp_flags, reply);
	u32 deadline;

	if (old == KLB_FLOW_DEAD)
		return;
	if (new != old && cmpxchg(&f->state, old, new) != old)
		return;
	deadline = klb_flow_deadline(new);
	if (new != old || (s32)(deadline - READ_ONCE(f->expires)) > HZ)
		WRITE_ONCE(f->expires, deadline);
}

static spinlock_t *klb_flow_lock(struct klb_flow_table *ft, u32 bucket)
{
	return &ft->locks[bucket & ft->lock_mask];
}

/* Takes one or two stripes, lower index first. */
static void klb_flow_lock2(struct klb_flow_table *ft, u32 a, u32 b)
{
	a &= ft->lock_mask;
	b &= ft->lock_mask;
	if (a > b)
		swap(a, b);
	spin_lock_bh(&ft->locks[a]);
	if (a != b)
		spin_lock_nested(&ft->locks[b], SINGLE_DEPTH_NESTING);
}

static void klb_flow_unlock2(struct klb_flow_table *ft, u32 a, u32 b)
{
	a &= ft->lock_mask;
	b &= ft->lock_mask;
	if (a != b)
		spin_unlock(&ft->locks[b]);
	spin_unlock_bh(&ft->locks[a]);
}

static void klb_backend_active_add(struct klb_backend *be, int n)
{
	this_cpu_add(be->stats.pcpu->active, n);
	this_cpu_add(be->svc_stats->pcpu->active, n);
}

/* Under the forward bucket's lock: the one place a flow stops counting. */
static bool klb_flow_mark_dead(struct klb_flow_table *ft, struct klb_flow *f)
{
	u32 old = READ_ONCE(f->state);

	do {
		if (old == KLB_FLOW_DEAD)
			return false;
	} while (!try_cmpxchg(&f->state, &old, KLB_FLOW_DEAD));
	percpu_counter_dec(&ft->live);
	klb_backend_active_add(f->backend, -1);
	return true;
}

void klb_flow_kill(struct klb_net *kn, struct klb_flow *f)
{
	struct klb_flow_table *ft = &kn->flows;
	struct klb_tuple key;
	u32 bucket;

	memset(&key, 0, sizeof(key));
	key.family = f->family;
	key.proto = f->proto;
	klb_addr_get(f->family, klb_flow_caddr(f), &key.saddr);
	key.sport = f->cport;
	klb_addr_get(f->family, klb_flow_vaddr(f), &key.daddr);
	key.dport = f->vport;
	bucket = klb_flow_hash(ft, &key) & ft->mask;
	spin_lock_bh(klb_flow_lock(ft, bucket));
	klb_flow_mark_dead(ft, f);
	spin_unlock_bh(klb_flow_lock(ft, bucket));
}

static bool klb_flow_table_full(struct klb_flow_table *ft)
{
	return __percpu_counter_compare(&ft->live, READ_ONCE(klb_max_flows),
					 32) >= 0;
}

/*
 * A flood of SYNs must not keep real connections out: when the table is
 * full, a new flow takes the place of a half-open flow of its bucket
 * (like conntrack's early drop). Established flows are never evicted. A
 * real client's handshake then competes with the flood only for the
 * round trip between its SYN and its ACK.
 */
static bool klb_flow_evict_in(struct klb_flow_table *ft, u32 bucket)
{
	struct klb_flow *f;

	for (f = rcu_dereference_protected(ft->fwd[bucket], true); f;
	     f = rcu_dereference_protected(f->next[0], true))
		if (READ_ONCE(f->state) == KLB_FLOW_SYN &&
		    klb_flow_mark_dead(ft, f)) {
			atomic64_inc(&ft->evictions);
			return true;
		}
	return false;
}

/*
 * The new flow's bucket first, then a few after it: a bucket may hold no
 * half-open flow even when most of the table is. The caller holds the
 * stripes of @fb and @rb; others are only tried, so that no lock order
 * can deadlock.
 */
static bool klb_flow_evict_half_open(struct klb_flow_table *ft, u32 fb,
				     u32 rb)
{
	u32 i, b, stripe;
	bool done;

	if (klb_flow_evict_in(ft, fb))
		return true;
	for (i = 1; i < KLB_EVICT_BUCKETS; i++) {
		b = (fb + i) & ft->mask;
		stripe = b & ft->lock_mask;
		if (stripe == (fb & ft->lock_mask) ||
		    stripe == (rb & ft->lock_mask)) {
			done = klb_flow_evict_in(ft, b);
		} else {
			if (!spin_trylock(&ft->locks[stripe]))
				continue;
			done = klb_flow_evict_in(ft, b);
			spin_unlock(&ft->locks[stripe]);
		}
		if (done)
			return true;
	}
	return false;
}

/*
 * Makes the flow @key -> @be, or finds the one another CPU made first.
 * ERR_PTR(-ENOSPC) when the table is full: the caller forwards anyway,
 * without an entry.
 */
struct klb_flow *klb_flow_create(struct klb_net *kn,
				 const struct klb_tuple *key,
				 struct klb_backend *be, u8 state, bool nat)
{
	struct klb_flow_table *ft = klb_flows(kn);
	struct klb_flow *f, *old;
	struct klb_tuple rkey;
	unsigned int words;
	u32 fb, rb;

	if (!ft)
		return ERR_PTR(-ENOENT);
	f = kmem_cache_alloc(klb_flow_cache(key->family), GFP_ATOMIC);
	if (!f)
		return ERR_PTR(-ENOMEM);
	words = klb_addr_words(key->family);
	f->backend = be;
	f->cport = key->sport;
	f->vport = key->dport;
	f->proto = key->proto;
	f->family = key->family;
	f->nat = nat;
	f->pad = 0;
	f->state = state;
	f->expires = klb_flow_deadline(state);
	memcpy(f->addr, &key->saddr, words * sizeof(__be32));
	memcpy(f->addr + words, &key->daddr, words * sizeof(__be32));

	fb = klb_flow_hash(ft, key) & ft->mask;
	rb = fb;
	if (nat) {
		klb_flow_rev_key(f, &rkey);
		rb = klb_flow_hash(ft, &rkey) & ft->mask;
	}
	klb_flow_lock2(ft, fb, rb);
	for (old = rcu_dereference_protected(ft->fwd[fb], true); old;
	     old = rcu_dereference_protected(old->next[0], true)) {
		if (!klb_flow_fwd_match(old, key))
			continue;
		if (klb_flow_live(old)) {
			klb_flow_unlock2(ft, fb, rb);
			kmem_cache_free(klb_flow_cache(key->family), f);
			return old;
		}
		klb_flow_mark_dead(ft, old);
	}
	if (klb_flow_table_full(ft) && !klb_flow_evict_half_open(ft, fb, rb)) {
		klb_flow_unlock2(ft, fb, rb);
		kmem_cache_free(klb_flow_cache(key->family), f);
		atomic64_inc(&ft->limit_hits);
		return ERR_PTR(-ENOSPC);
	}
	RCU_INIT_POINTER(f->next[0], rcu_dereference_protected(ft->fwd[fb], true));
	rcu_assign_pointer(ft->fwd[fb], f);
	if (nat) {
		RCU_INIT_POINTER(f->next[1],
				 rcu_dereference_protected(ft->rev[rb], true));
		rcu_assign_pointer(ft->rev[rb], f);
	} else {
		RCU_INIT_POINTER(f->next[1], NULL);
	}
	percpu_counter_inc(&ft->live);
	klb_backend_active_add(be, 1);
	klb_flow_unlock2(ft, fb, rb);
	return f;
}

static void klb_flow_batch_free(struct rcu_head *head)
{
	struct klb_flow_batch *b = container_of(head, struct klb_flow_batch, rcu);
	unsigned int i;

	for (i = 0; i < b->n; i++)
		kmem_cache_free(klb_flow_cache(b->flows[i]->family),
				b->flows[i]);
	kfree(b);
}

/* Unlinks @f from a chain whose lock the caller holds. */
static void klb_flow_unlink(struct klb_flow __rcu **head, struct klb_flow *f,
			    int dir)
{
	struct klb_flow __rcu **pp = head;
	struct klb_flow *cur;

	while ((cur = rcu_dereference_protected(*pp, true))) {
		if (cur == f) {
			rcu_assign_pointer(*pp, rcu_dereference_protected(f->next[dir], true));
			return;
		}
		pp = &cur->next[dir];
	}
	WARN_ON_ONCE(1);
}

static bool klb_flow_reapable(struct klb_flow *f)
{
	return READ_ONCE(f->state) == KLB_FLOW_DEAD || klb_flow_expired(f) ||
	       READ_ONCE(f->backend->buried);
}

/*
 * Unlinks the reapable flows of forward bucket @fb and hands them to
 * @batch; returns false when the batch is full (call again).
 */
static bool klb_flow_reap_bucket(struct klb_flow_table *ft, u32 fb,
				 struct klb_flow_batch *batch)
{
	struct klb_flow *f, *next;
	struct klb_tuple rkey;
	unsigned int first = batch->n, i;
	bool complete = true;

	spin_lock_bh(klb_flow_lock(ft, fb));
	for (f = rcu_dereference_protected(ft->fwd[fb], true); f; f = next) {
		next = rcu_dereference_protected(f->next[0], true);
		if (!klb_flow_reapable(f))
			continue;
		if (batch->n == KLB_FLOW_BATCH) {
			complete = false;
			break;
		}
		klb_flow_mark_dead(ft, f);
		klb_flow_unlink(&ft->fwd[fb], f, 0);
		batch->flows[batch->n++] = f;
	}
	spin_unlock_bh(klb_flow_lock(ft, fb));
	/* Dead, so no lookup matches them on the reply chain meanwhile. */
	for (i = first; i < batch->n; i++) {
		u32 rb;

		f = batch->flows[i];
		if (!f->nat)
			continue;
		klb_flow_rev_key(f, &rkey);
		rb = klb_flow_hash(ft, &rkey) & ft->mask;
		spin_lock_bh(klb_flow_lock(ft, rb));
		klb_flow_unlink(&ft->rev[rb], f, 1);
		spin_unlock_bh(klb_flow_lock(ft, rb));
	}
	return complete;
}

static void klb_flow_batch_submit(struct klb_flow_batch **batch)
{
	if (!*batch)
		return;
	if ((*batch)->n)
		call_rcu(&(*batch)->rcu, klb_flow_batch_free);
	else
		kfree(*batch);
	*batch = NULL;
}

/* Reaps buckets [from, to); false if it ran out of memory for batches. */
static bool klb_flow_reap(struct klb_flow_table *ft, u32 from, u32 to)
{
	struct klb_flow_batch *batch = NULL;
	u32 b = from;

	while (b < to) {
		if (!batch) {
			batch = kmalloc(sizeof(*batch), GFP_KERNEL);
			if (!batch)
				return false;
			batch->n = 0;
		}
		if (klb_flow_reap_bucket(ft, b, batch))
			b++;
		else
			klb_flow_batch_submit(&batch);
		cond_resched();
	}
	klb_flow_batch_submit(&batch);
	return true;
}

static void klb_backend_free_rcu(struct rcu_head *head)
{
	klb_backend_free(container_of(head, struct klb_backend, rcu));
}

static void klb_flow_free_graves(struct list_head *graves)
{
	struct klb_backend *be, *tmp;

	list_for_each_entry_safe(be, tmp, graves, grave) {
		list_del(&be->grave);
		call_rcu(&be->rcu, klb_backend_free_rcu);
	}
}

/* A backend that no snapshot names; its flows go in the next sweep. */
void klb_backend_bury(struct klb_backend *be)
{
	struct klb_flow_table *ft = &be->kn->flows;
	unsigned long flags;

	/* Without a flow table no flow can point at it. */
	if (!smp_load_acquire(&be->kn->flows_ready)) {
		call_rcu(&be->rcu, klb_backend_free_rcu);
		return;
	}
	WRITE_ONCE(be->buried, true);
	spin_lock_irqsave(&ft->grave_lock, flags);
	list_add_tail(&be->grave, &ft->grave_new);
	spin_unlock_irqrestore(&ft->grave_lock, flags);
}

static void klb_flow_gc(struct work_struct *work)
{
	struct klb_flow_table *ft = container_of(to_delayed_work(work),
						 struct klb_flow_table, gc);
	u32 buckets = ft->mask + 1;
	u32 slice = max_t(u32, buckets / KLB_GC_SLICES, 64);
	u32 from = ft->gc_cursor, to = min(from + slice, buckets);
	LIST_HEAD(done);

	if (!from) {
		spin_lock_irq(&ft->grave_lock);
		list_splice_tail_init(&ft->grave_new, &ft->grave_sweep);
		spin_unlock_irq(&ft->grave_lock);
	}
	if (!klb_flow_reap(ft, from, to))
		goto again;
	ft->gc_cursor = to == buckets ? 0 : to;
	if (to == buckets) {
		/* Whatever was buried before this sweep has no flow left. */
		list_splice_init(&ft->grave_sweep, &done);
		klb_flow_free_graves(&done);
	}
again:
	queue_delayed_work(system_power_efficient_wq, &ft->gc, KLB_GC_PERIOD);
}

int klb_flows_init(struct klb_net *kn)
{
	struct klb_flow_table *ft = &kn->flows;
	u32 buckets = roundup_pow_of_two(clamp_t(u32, READ_ONCE(klb_flow_buckets),
						 64, 1U << 24));
	u32 nr_locks = min_t(u32, buckets, KLB_LOCKS_MAX);
	u32 i;
	int err;

	lockdep_assert_held(&kn->lock);
	if (kn->flows_ready)
		return 0;
	ft->fwd = kvcalloc(buckets, sizeof(*ft->fwd), GFP_KERNEL_ACCOUNT);
	ft->rev = kvcalloc(buckets, sizeof(*ft->rev), GFP_KERNEL_ACCOUNT);
	ft->locks = kvcalloc(nr_locks, sizeof(*ft->locks), GFP_KERNEL_ACCOUNT);
	err = -ENOMEM;
	if (!ft->fwd || !ft->rev || !ft->locks)
		goto err;
	err = percpu_counter_init(&ft->live, 0, GFP_KERNEL_ACCOUNT);
	if (err)
		goto err;
	for (i = 0; i < nr_locks; i++)
		spin_lock_init(&ft->locks[i]);
	ft->mask = buckets - 1;
	ft->lock_mask = nr_locks - 1;
	get_random_bytes(&ft->key, sizeof(ft->key));
	ft->gc_cursor = 0;
	queue_delayed_work(system_power_efficient_wq, &ft->gc, KLB_GC_PERIOD);
	/* Pairs with klb_flows(): the table is whole before it is seen. */
	smp_store_release(&kn->flows_ready, true);
	return 0;

err:
	kvfree(ft->fwd);
	kvfree(ft->rev);
	kvfree(ft->locks);
	ft->fwd = NULL;
	ft->rev = NULL;
	ft->locks = NULL;
	return err;
}

/* Called once nothing can look flows up or make them (hooks are gone). */
void klb_flows_destroy(struct klb_net *kn)
{
	struct klb_flow_table *ft = &kn->flows;
	struct klb_flow *f;
	LIST_HEAD(graves);
	u32 b;

	if (kn->flows_ready) {
		cancel_delayed_work_sync(&ft->gc);
		/* Snapshot frees still in flight bury their backends. */
		rcu_barrier();
		for (b = 0; b <= ft->mask; b++) {
			while ((f = rcu_dereference_protected(ft->fwd[b], true))) {
				RCU_INIT_POINTER(ft->fwd[b],
						 rcu_dereference_protected(f->next[0], true));
				klb_flow_mark_dead(ft, f);
				kmem_cache_free(klb_flow_cache(f->family), f);
			}
		}
		percpu_counter_destroy(&ft->live);
		kvfree(ft->fwd);
		kvfree(ft->rev);
		kvfree(ft->locks);
	}
	rcu_barrier();
	list_splice_init(&ft->grave_sweep, &graves);
	list_splice_init(&ft->grave_new, &graves);
	klb_flow_free_graves(&graves);
}

void klb_flows_prepare(struct klb_net *kn)
{
	struct klb_flow_table *ft = &kn->flows;

	spin_lock_init(&ft->grave_lock);
	INIT_LIST_HEAD(&ft->grave_new);
	INIT_LIST_HEAD(&ft->grave_sweep);
	INIT_DELAYED_WORK(&ft->gc, klb_flow_gc);
}

static bool klb_flow_matches(const struct klb_flow *f,
			     const struct klb_service_key *svc, int backend_id)
{
	if (svc && (f->family != svc->family || f->proto != svc->proto ||
		    f->vport != svc->port ||
		    !klb_addr_eq(f->family, klb_flow_vaddr(f), &svc->addr)))
		return false;
	return backend_id < 0 || f->backend->id == backend_id;
}

/* Kills the flows of a service (or all), of one backend id (or all). */
unsigned int klb_flow_flush(struct klb_net *kn,
			    const struct klb_service_key *svc, int backend_id)
{
	struct klb_flow_table *ft = klb_flows(kn);
	unsigned int n = 0;
	struct klb_flow *f;
	u32 b;

	if (!ft)
		return 0;
	for (b = 0; b <= ft->mask; b++) {
		spin_lock_bh(klb_flow_lock(ft, b));
		for (f = rcu_dereference_protected(ft->fwd[b], true); f;
		     f = rcu_dereference_protected(f->next[0], true))
			if (klb_flow_matches(f, svc, backend_id) &&
			    klb_flow_mark_dead(ft, f))
				n++;
		spin_unlock_bh(klb_flow_lock(ft, b));
		if (!(b & 255))
			cond_resched();
	}
	return n;
}

/*
 * Calls @fn for the live flows from bucket *@pos on, past the first *@skip
 * of that bucket, until @fn returns non-zero (the caller's message is
 * full): *@pos and *@skip then say where to go on. Flows made or killed
 * meanwhile may be missed or reported twice: a flow dump is a sample, not
 * a snapshot.
 */
int klb_flow_walk(struct klb_net *kn, u32 *pos, u32 *skip,
		  int (*fn)(const struct klb_flow_info *info, void *arg),
		  void *arg)
{
	struct klb_flow_table *ft = klb_flows(kn);
	struct klb_flow_info info;
	struct klb_flow *f;
	int err = 0;
	u32 b, seen;

	if (!ft)
		return 0;
	rcu_read_lock();
	for (b = *pos; b <= ft->mask && !err; b++) {
		seen = 0;
		for (f = rcu_dereference(ft->fwd[b]); f && !err;
		     f = rcu_dereference(f->next[0])) {
			u32 left = READ_ONCE(f->expires) - (u32)jiffies;

			if (!klb_flow_live(f) || seen++ < *skip)
				continue;
			info.family = f->family;
			info.proto = f->proto;
			info.state = READ_ONCE(f->state);
			klb_addr_get(f->family, klb_flow_caddr(f), &info.caddr);
			info.cport = f->cport;
			klb_addr_get(f->family, klb_flow_vaddr(f), &info.vaddr);
			info.vport = f->vport;
			info.backend = f->backend;
			info.expires_ms = jiffies_to_msecs(left);
			err = fn(&info, arg);
			if (err)
				*skip = seen - 1;
		}
		if (!err) {
			*pos = b + 1;
			*skip = 0;
		}
	}
	rcu_read_unlock();
	return err;
}

s64 klb_flows_live(struct klb_net *kn)
{
	struct klb_flow_table *ft = klb_flows(kn);

	return ft ? percpu_counter_sum_positive(&ft->live) : 0;
}

int klb_flow_module_init(void)
{
	klb_flow_cache4 = kmem_cache_create("klb_flow4",
					    klb_flow_entry_size(AF_INET), 0,
					    SLAB_ACCOUNT, NULL);
	klb_flow_cache6 = kmem_cache_create("klb_flow6",
					    klb_flow_entry_size(AF_INET6), 0,
					    SLAB_ACCOUNT, NULL);
	if (!klb_flow_cache4 || !klb_flow_cache6) {
		kmem_cache_destroy(klb_flow_cache4);
		kmem_cache_destroy(klb_flow_cache6);
		return -ENOMEM;
	}
	return 0;
}

void klb_flow_module_exit(void)
{
	kmem_cache_destroy(klb_flow_cache4);
	kmem_cache_destroy(klb_flow_cache6);
}
