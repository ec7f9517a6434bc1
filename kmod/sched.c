// SPDX-License-Identifier: GPL-2.0
/*
 * Schedulers: which backend a new flow gets.
 *
 * maglev          the pushed table's slot for the flow hash (include/klb/),
 *                 or the flow's next candidate when that backend takes no
 *                 new flows (drain, down, weight 0)
 * maglev-bounded  the first candidate whose active flows are within bound%
 *                 of its weighted share (consistent hashing with bounded
 *                 loads)
 * wlc             weighted least connections by the power of two choices:
 *                 two backends drawn at random, the one with fewer active
 *                 flows per weight wins. An exact minimum costs O(backends)
 *                 per flow, or a shared ordered structure written on every
 *                 flow's start and end; two draws cost the same at 10 or
 *                 1000 backends and keep the load within a small factor of
 *                 the minimum
 * wrr, rr         a per-CPU cursor over the wheel (weighted) or the takers
 *
 * Every scheduler picks only backends that take new flows, and picks one
 * whenever one exists: a table whose candidates are all out falls back to
 * the wheel, hashed, so that a flow is never refused while a backend is up.
 */

#include <linux/gcd.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include <klb/flow_hash.h>
#include <klb/maglev.h>

#include "klb.h"

/* Entries of the weighted sequence, at most (more only for more takers). */
#define KLB_WHEEL_MAX		4096
/* Table slots a Maglev flow reads before it falls back to the wheel. */
#define KLB_MAGLEV_PROBES	64

bool klb_backend_takes_flows(const struct klb_backend_slot *slot)
{
	return slot->state == KLB_BACKEND_UP && slot->weight > 0;
}

struct klb_wheel_entry {
	u64 when;			/* place in the cycle, 32.32 fixed point */
	u16 id;
};

static int klb_wheel_entry_cmp(const void *a, const void *b)
{
	const struct klb_wheel_entry *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static u32 klb_wheel_weight(const struct klb_backend_slot *s, u64 sum,
			    u32 g, u32 cap)
{
	if (sum / g > cap)
		return max_t(u32, 1, div64_u64((u64)s->weight * cap, sum));
	return s->weight / g;
}

/*
 * Each taker's entries are spread evenly over the cycle: entry k of a
 * backend of weight w sits at (2k + 1) / 2w. Sorting all entries by place
 * interleaves the backends as smoothly as their weights allow. Weights are
 * divided by their gcd, and scaled down when the cycle would exceed
 * KLB_WHEEL_MAX (every taker keeps one entry at least).
 *
 * Replaces the snapshot's wheel; on failure the snapshot keeps its old one.
 */
int klb_wheel_build(struct klb_snapshot *snap)
{
	struct klb_wheel_entry *ents;
	struct klb_wheel *wheel;
	u32 i, k, n = 0, len = 0, t = 0, cap, g = 0;
	size_t bytes;
	u64 sum = 0;
	int err;

	for (i = 0; i < snap->nr_backends; i++) {
		const struct klb_backend_slot *s = &snap->slots[i];

		if (!klb_backend_takes_flows(s))
			continue;
		n++;
		sum += s->weight;
		g = g ? gcd(g, s->weight) : s->weight;
	}
	if (!n) {
		klb_wheel_put(snap->wheel);
		snap->wheel = NULL;
		return 0;
	}
	cap = max_t(u32, KLB_WHEEL_MAX, n);
	for (i = 0; i < snap->nr_backends; i++)
		if (klb_backend_takes_flows(&snap->slots[i]))
			len += klb_wheel_weight(&snap->slots[i], sum, g, cap);
	bytes = struct_size(wheel, ids, len + n);
	err = klb_mem_charge(snap->mem, bytes);
	if (err)
		return err;
	wheel = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	ents = kvmalloc_array(len, sizeof(*ents), GFP_KERNEL);
	if (!wheel || !ents) {
		kvfree(wheel);
		kvfree(ents);
		klb_mem_uncharge(snap->mem, bytes);
		return -ENOMEM;
	}
	refcount_set(&wheel->ref, 1);
	wheel->mem = snap->mem;
	wheel->len = len;
	wheel->nr_takers = n;
	wheel->weight_sum = sum;
	len = 0;
	for (i = 0; i < snap->nr_backends; i++) {
		const struct klb_backend_slot *s = &snap->slots[i];
		u32 w;

		if (!klb_backend_takes_flows(s))
			continue;
		w = klb_wheel_weight(s, sum, g, cap);
		for (k = 0; k < w; k++) {
			ents[len].when = div_u64((u64)(2 * k + 1) << 32, 2 * w);
			ents[len++].id = s->id;
		}
		wheel->ids[wheel->len + t++] = s->id;
	}
	sort(ents, len, sizeof(*ents), klb_wheel_entry_cmp, NULL);
	for (i = 0; i < len; i++)
		wheel->ids[i] = ents[i].id;
	kvfree(ents);
	klb_wheel_put(snap->wheel);
	snap->wheel = wheel;
	return 0;
}

/* Freed at once for the reason klb_table_put() is. */
void klb_wheel_put(struct klb_wheel *wheel)
{
	if (wheel && refcount_dec_and_test(&wheel->ref)) {
		klb_mem_uncharge(wheel->mem, struct_size(wheel, ids,
							 wheel->len + wheel->nr_takers));
		kvfree(wheel);
	}
}

static const struct klb_backend_slot *
klb_wheel_slot(const struct klb_snapshot *snap, u32 pos)
{
	return klb_snapshot_slot(snap, snap->wheel->ids[pos % snap->wheel->len]);
}

static const struct klb_backend_slot *
klb_taker_slot(const struct klb_snapshot *snap, u32 pos)
{
	const struct klb_wheel *w = snap->wheel;

	return klb_snapshot_slot(snap, w->ids[w->len + pos % w->nr_takers]);
}

static void klb_tuple_to_flow_key(const struct klb_tuple *t,
				  struct klb_flow_key *key)
{
	key->family = t->family;
	key->proto = t->proto;
	key->sport = t->sport;
	key->dport = t->dport;
	if (t->family == AF_INET) {
		klb_addr_from_ipv4(key->saddr, t->saddr.v4);
		klb_addr_from_ipv4(key->daddr, t->daddr.v4);
	} else {
		klb_addr_from_ipv6(key->saddr, t->saddr.v6.s6_addr);
		klb_addr_from_ipv6(key->daddr, t->daddr.v6.s6_addr);
	}
}

/* Under bound% of its weighted share of the service's active flows. */
static bool klb_backend_has_room(struct klb_service *svc,
				 const struct klb_snapshot *snap,
				 const struct klb_backend_slot *slot)
{
	u64 total = klb_stats_active(svc->stats) + 1;
	u64 cap = div64_u64(total * slot->weight * snap->conf.bound +
			    snap->wheel->weight_sum * 100 - 1,
			    snap->wheel->weight_sum * 100);

	return klb_stats_active(&slot->backend->stats) < cap;
}

static const struct klb_backend_slot *
klb_sched_maglev(struct klb_service *svc, const struct klb_snapshot *snap,
		 u64 hash, bool bounded)
{
	const u16 *table = klb_snapshot_table(snap);
	const struct klb_backend_slot *slot, *first = NULL;
	struct klb_maglev_cand cand;
	int id;

	if (!table)
		return NULL;
	klb_maglev_cand_init(&cand, table, snap->conf.table_size, hash,
			     KLB_MAGLEV_PROBES);
	while ((id = klb_maglev_cand_next(&cand)) >= 0) {
		slot = klb_snapshot_slot(snap, id);
		if (!slot || !klb_backend_takes_flows(slot))
			continue;
		if (!bounded || klb_backend_has_room(svc, snap, slot))
			return slot;
		if (!first)
			first = slot;
	}
	return first ?: klb_wheel_slot(snap, (u32)(hash >> 32));
}

/* Fewer active flows per weight: a / wa < b / wb. */
static bool klb_less_loaded(const struct klb_backend_slot *a,
			    const struct klb_backend_slot *b)
{
	return (u64)klb_stats_active(&a->backend->stats) * b->weight <
	       (u64)klb_stats_active(&b->backend->stats) * a->weight;
}

static const struct klb_backend_slot *
klb_sched_wlc(const struct klb_snapshot *snap)
{
	const struct klb_backend_slot *a, *b;
	u32 n = snap->wheel->nr_takers;

	a = klb_taker_slot(snap, get_random_u32_below(n));
	if (n == 1)
		return a;
	b = klb_taker_slot(snap, get_random_u32_below(n));
	return klb_less_loaded(b, a) ? b : a;
}

u64 klb_sched_hash(const struct klb_snapshot *snap, const struct klb_tuple *t)
{
	struct klb_hash_seed seed;
	struct klb_flow_key key;

	klb_hash_seed_from_bytes(&seed, snap->conf.seed);
	klb_tuple_to_flow_key(t, &key);
	return klb_flow_hash(&key, &seed,
			     snap->conf.flags & KLB_SVC_F_AFFINITY_SRC);
}

/*
 * The backend for a new flow, or NULL when none takes new flows (or a
 * Maglev service has no table yet). @stateless: the flow will have no
 * entry, so every scheduler must give its packets one backend: the hash
 * decides.
 */
const struct klb_backend_slot *klb_sched_pick(struct klb_service *svc,
					      const struct klb_snapshot *snap,
					      const struct klb_tuple *t,
					      bool stateless)
{
	u64 hash;

	if (!snap->wheel)
		return NULL;
	switch (snap->conf.sched) {
	case KLB_SCHED_MAGLEV:
	case KLB_SCHED_MAGLEV_BOUNDED:
		hash = klb_sched_hash(snap, t);
		return klb_sched_maglev(svc, snap, hash, !stateless &&
					snap->conf.sched == KLB_SCHED_MAGLEV_BOUNDED);
	}
	if (stateless)
		return klb_wheel_slot(snap, (u32)klb_sched_hash(snap, t));
	switch (snap->conf.sched) {
	case KLB_SCHED_WLC:
		return klb_sched_wlc(snap);
	case KLB_SCHED_WRR:
		return klb_wheel_slot(snap, this_cpu_inc_return(*svc->cursor));
	default:
		return klb_taker_slot(snap, this_cpu_inc_return(*svc->cursor));
	}
}
