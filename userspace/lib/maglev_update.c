// SPDX-License-Identifier: GPL-2.0
/*
 * Incremental updates: from the published table, the base table and the
 * backend list before a change, the ones after it, moving as few entries as
 * the fair shares allow.
 *
 * A backend is "active" when it is up with a weight above 0. In one update:
 *
 *  1. Slots whose owner is not active any more (removed, drained, down,
 *     weight 0) are free. Every active backend gets a quota within one entry
 *     of its fair share M * w / W, as close as possible to what it holds
 *     now, except that a backend coming back asks for the slots reserved for
 *     it in the base table (maglev_quota_near()).
 *  2. Reclaim: a backend coming back takes back its reserved slots, in the
 *     slot order, from owners above their quota (or free slots) while it is
 *     below its own.
 *  3. Release: owners above their quota free their last slots in the slot
 *     order until they are at their quota.
 *  4. Fill: free slots, in the slot order, go to the backends below their
 *     quota, in identity order, each until it is at its quota.
 *
 * Entries only leave backends above quota (or inactive ones) and only go to
 * backends below quota, so a removal moves only the removed share, an
 * addition only the new share, a weight change only the difference; and
 * quotas equal to the current counts wherever the bounds allow make the
 * number of moves the least the bounds allow.
 *
 * The base table remembers, for every backend that becomes unavailable, the
 * slots it held then. If it comes back with nothing else changed, the
 * others hold exactly its old slots on top of their own quotas, so step 2
 * gives it all of them back and the table is the one before it left.
 *
 * The slot order is the service's walk (maglev_perm.c), identical on every
 * host; ties between backends are broken by identity order. Nothing depends
 * on memory addresses or on the order of the input list.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/maglev_internal.h"

struct update {
	uint32_t m;
	struct maglev_walk order;
	uint64_t order_inv;		/* inverse of order.step mod m */
	size_t na;			/* active backends, identity order */
	uint16_t nil;			/* = na: "no active backend" */
	uint16_t *act_id;		/* active index -> id; [nil] NONE */
	uint32_t *w, *want, *have, *q;
	int64_t *need;			/* quota minus entries held */
	/*
	 * Maps by old id, of ids + 1 entries: the last one stands for
	 * KLB_BACKEND_ID_NONE and any id not in the old list.
	 */
	size_t ids;
	uint16_t *carry;		/* -> active index, or nil */
	uint8_t *parked;		/* same backend, now unavailable */
	uint16_t *own;			/* slot -> active index, or nil */
	uint32_t *free_slots;		/* unowned slots, then released ones */
	size_t nr_free;
	uint32_t *reserved;		/* slots a returning backend asks for */
	size_t nr_reserved;
	/*
	 * Slots that may change: unowned, released, or with a reservation.
	 * Every other slot keeps its owner and its base entry.
	 */
	uint32_t *touched;
	size_t nr_touched;
};

static inline size_t map_index(const struct update *u, uint16_t id)
{
	return id < u->ids ? id : u->ids;
}

static void update_free(struct update *u)
{
	free(u->act_id);
	free(u->w);
	free(u->want);
	free(u->have);
	free(u->q);
	free(u->need);
	free(u->carry);
	free(u->parked);
	free(u->own);
	free(u->free_slots);
	free(u->reserved);
	free(u->touched);
}

static uint64_t pow_mod(uint64_t x, uint64_t e, uint64_t m)
{
	uint64_t r = 1;

	for (x %= m; e; e >>= 1, x = x * x % m)
		if (e & 1)
			r = r * x % m;
	return r;
}

static int update_alloc(struct update *u, const struct maglev_state *st,
			const struct maglev_backend *nb, size_t n)
{
	size_t k = n + 1, i;

	u->m = st->m;
	maglev_slot_order(&u->order, &st->seed, st->m);
	/* M is prime: step^(M-2) is the inverse of step. */
	u->order_inv = pow_mod(u->order.step, st->m - 2, st->m);
	u->ids = 1;
	for (i = 0; i < st->nr_backends; i++)
		if (st->backends[i].id >= u->ids)
			u->ids = st->backends[i].id + 1;
	for (i = 0; i < n; i++)
		if (nb[i].id >= u->ids)
			u->ids = nb[i].id + 1;
	u->act_id = malloc((k + 1) * sizeof(*u->act_id));
	u->w = malloc(k * sizeof(*u->w));
	u->want = calloc(k, sizeof(*u->want));
	u->have = calloc(k + 1, sizeof(*u->have));
	u->q = calloc(k, sizeof(*u->q));
	u->need = calloc(k + 1, sizeof(*u->need));
	u->carry = malloc((u->ids + 1) * sizeof(*u->carry));
	u->parked = calloc(u->ids + 1, sizeof(*u->parked));
	u->own = malloc((size_t)u->m * sizeof(*u->own));
	u->free_slots = malloc((size_t)u->m * sizeof(*u->free_slots));
	u->reserved = malloc((size_t)u->m * sizeof(*u->reserved));
	u->touched = malloc((size_t)u->m * sizeof(*u->touched));
	if (!u->act_id || !u->w || !u->want || !u->have || !u->q ||
	    !u->need || !u->carry || !u->parked || !u->own ||
	    !u->free_slots || !u->reserved || !u->touched)
		return -MAGLEV_E_NOMEM;
	return 0;
}

/*
 * Which old ids are still the same backend (same id, same identity) and
 * what they are now: an active index, or parked (unavailable). pos[] is the
 * new list in identity order; list[] receives it in id order.
 */
static int match_backends(struct update *u, const struct maglev_state *st,
			  const struct maglev_backend *nb, size_t n,
			  const uint32_t *pos, struct maglev_backend *list)
{
	uint16_t *newpos = malloc((u->ids + 1) * sizeof(*newpos));
	size_t i, k;

	if (!newpos)
		return -MAGLEV_E_NOMEM;
	memset(newpos, 0xff, (u->ids + 1) * sizeof(*newpos));

	for (i = u->na = 0; i < n; i++)
		u->na += maglev_backend_active(&nb[i]);
	u->nil = u->na;
	for (i = 0; i <= u->ids; i++)
		u->carry[i] = u->nil;
	u->act_id[u->nil] = MAGLEV_NONE;
	for (i = k = 0; i < n; i++) {
		const struct maglev_backend *b = &nb[pos[i]];

		newpos[b->id] = pos[i];
		if (maglev_backend_active(b)) {
			u->carry[b->id] = k;
			u->act_id[k] = b->id;
			u->w[k] = b->weight;
			k++;
		}
	}
	for (i = 0; i < st->nr_backends; i++) {
		const struct maglev_backend *old = &st->backends[i];
		uint16_t p = newpos[old->id];

		if (p == MAGLEV_NONE || maglev_identity_cmp(old, &nb[p]))
			u->carry[old->id] = u->nil;	/* gone */
		else if (!maglev_backend_active(&nb[p]))
			u->parked[old->id] = 1;
	}
	/*
	 * carry[] of an id new in this update is never read (tables hold
	 * old ids only). The new list, by id:
	 */
	for (i = k = 0; i < u->ids; i++)
		if (newpos[i] != MAGLEV_NONE)
			list[k++] = nb[newpos[i]];
	free(newpos);
	return 0;
}

/* Step 1: who holds what, who asks for what, and the quotas. */
static int count_and_share(struct update *u, const struct maglev_state *st)
{
	size_t a, i;
	uint32_t s;
	int err;

	u->nr_free = u->nr_reserved = u->nr_touched = 0;
	for (s = 0; s < u->m; s++) {
		uint16_t p = st->table[s];
		uint16_t o = u->carry[map_index(u, p)];

		u->own[s] = o;
		u->have[o]++;
		if (o == u->nil || st->base[s] != p)
			u->touched[u->nr_touched++] = s;
	}
	for (a = 0; a < u->na; a++)
		u->want[a] = u->have[a];
	for (i = 0; i < u->nr_touched; i++) {
		uint16_t o, r;

		s = u->touched[i];
		o = u->own[s];
		r = u->carry[map_index(u, st->base[s])];
		if (o == u->nil)
			u->free_slots[u->nr_free++] = s;
		if (r != u->nil && r != o) {
			u->want[r]++;
			if (o != u->nil)
				u->want[o]--;
			u->reserved[u->nr_reserved++] = s;
		}
	}
	err = maglev_quota_near(u->w, u->want, u->have, u->na, u->m, u->q);
	if (err)
		return err;
	for (a = 0; a < u->na; a++)
		u->need[a] = (int64_t)u->q[a] - u->have[a];
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Puts slots[] in the slot order: sorted by their rank in the walk, which
 * is (s - start) / step mod M. Same result as walking all M slots, at the
 * cost of the few slots at hand.
 */
static int sort_in_order(const struct update *u, uint32_t *slots, size_t n)
{
	uint64_t *key = malloc((n + 1) * sizeof(*key));
	size_t i;

	if (!key)
		return -MAGLEV_E_NOMEM;
	for (i = 0; i < n; i++) {
		uint64_t d = slots[i] >= u->order.start ?
			     slots[i] - u->order.start :
			     slots[i] + u->m - u->order.start;

		key[i] = (d * u->order_inv % u->m) << 32 | slots[i];
	}
	qsort(key, n, sizeof(*key), cmp_u64);
	for (i = 0; i < n; i++)
		slots[i] = (uint32_t)key[i];
	free(key);
	return 0;
}

/* Step 2. */
static int reclaim(struct update *u, const struct maglev_state *st)
{
	size_t i;
	int err;

	err = sort_in_order(u, u->reserved, u->nr_reserved);
	if (err)
		return err;
	for (i = 0; i < u->nr_reserved; i++) {
		uint32_t s = u->reserved[i];
		uint16_t r = u->carry[map_index(u, st->base[s])];
		uint16_t o = u->own[s];

		if (u->need[r] <= 0)
			continue;
		if (o != u->nil) {
			if (u->need[o] >= 0)
				continue;
			u->need[o]++;
		}
		u->own[s] = r;
		u->need[r]--;
	}
	return 0;
}

/* Step 3: walks the slot order backwards until no owner is above quota. */
static void release(struct update *u, const struct maglev_state *st)
{
	uint32_t s = maglev_walk_last(&u->order), k;
	int64_t surplus = 0;
	size_t a;

	for (a = 0; a < u->na; a++)
		if (u->need[a] < 0)
			surplus -= u->need[a];
	for (k = 0; k < u->m && surplus;
	     k++, s = maglev_walk_prev(&u->order, s)) {
		uint16_t o = u->own[s];

		if (u->need[o] < 0) {
			u->own[s] = u->nil;
			u->need[o]++;
			u->free_slots[u->nr_free++] = s;
			/* Owned slots are touched when they have a reservation. */
			if (st->base[s] == st->table[s])
				u->touched[u->nr_touched++] = s;
			surplus--;
		}
	}
}

/* Step 4. */
static int fill(struct update *u)
{
	size_t i, k = 0, a = 0;
	uint32_t s;
	int err;

	if (!u->na)
		return 0;
	/* Still free (reclaim took some): in slot order. */
	for (i = 0; i < u->nr_free; i++)
		if (u->own[u->free_slots[i]] == u->nil)
			u->free_slots[k++] = u->free_slots[i];
	u->nr_free = k;
	if (k < u->m / 64) {
		err = sort_in_order(u, u->free_slots, k);
		if (err)
			return err;
	} else {
		/* Many: collecting them along the walk is cheaper. */
		for (i = k = 0, s = u->order.start; i < u->m;
		     i++, s = maglev_walk_next(&u->order, s))
			if (u->own[s] == u->nil)
				u->free_slots[k++] = s;
	}
	for (i = 0; i < k; i++) {
		while (a < u->na && u->need[a] <= 0)
			a++;
		if (a == u->na)
			break;	/* cannot happen: free slots == sum of needs */
		u->own[u->free_slots[i]] = a;
		u->need[a]--;
	}
	return 0;
}

/*
 * The next published and base tables, in place. Only touched slots can
 * change; a slot's new values depend on its old ones and own[] alone.
 */
static void write_tables(const struct update *u, struct maglev_state *st)
{
	size_t i;

	for (i = 0; i < u->nr_touched; i++) {
		uint32_t s = u->touched[i];
		uint16_t p = st->table[s], b = st->base[s];
		uint16_t now = u->act_id[u->own[s]];

		st->table[s] = now;
		if (u->parked[map_index(u, p)])
			st->base[s] = p;	/* it held the slot until now */
		else if (b != p && u->parked[map_index(u, b)])
			st->base[s] = b;	/* an older reservation */
		else
			st->base[s] = now;
	}
}

int maglev_update_list(struct maglev_state *st,
		       const struct maglev_backend *backends, size_t n)
{
	struct maglev_backend *list = NULL;
	struct update u = { 0 };
	uint32_t *pos = NULL;
	int err;

	if (n > MAGLEV_BACKENDS_MAX)
		return -MAGLEV_E_TOO_MANY;
	pos = malloc((n + 1) * sizeof(*pos));
	list = malloc((n + 1) * sizeof(*list));
	err = -MAGLEV_E_NOMEM;
	if (!pos || !list)
		goto out;
	err = maglev_check_backends(backends, n, st->m, pos);
	if (!err)
		err = update_alloc(&u, st, backends, n);
	if (!err)
		err = match_backends(&u, st, backends, n, pos, list);
	if (!err)
		err = count_and_share(&u, st);
	if (!err && u.nr_reserved)
		err = reclaim(&u, st);
	if (err)
		goto out;
	release(&u, st);
	err = fill(&u);
	if (err)
		goto out;
	write_tables(&u, st);

	free(st->backends);
	st->backends = list;
	st->nr_backends = n;
	list = NULL;
out:
	free(pos);
	free(list);
	update_free(&u);
	return err;
}

static struct maglev_backend *find_id(struct maglev_backend *b, size_t n,
				      uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].id == id)
			return &b[i];
	return NULL;
}

int maglev_update(struct maglev_state *st, const struct maglev_change *changes,
		  size_t n)
{
	size_t nr = st->nr_backends, adds = 0, i;
	struct maglev_backend *list, *b;
	int err = 0;

	for (i = 0; i < n; i++)
		adds += changes[i].op == MAGLEV_ADD;
	list = malloc((nr + adds + 1) * sizeof(*list));
	if (!list)
		return -MAGLEV_E_NOMEM;
	memcpy(list, st->backends, nr * sizeof(*list));

	for (i = 0; i < n && !err; i++) {
		const struct maglev_change *c = &changes[i];

		b = c->op == MAGLEV_ADD ? NULL : find_id(list, nr, c->backend.id);
		if (c->op != MAGLEV_ADD && !b) {
			err = c->op > MAGLEV_SET_STATE ? -MAGLEV_E_OP :
			      -MAGLEV_E_UNKNOWN_ID;
			break;
		}
		switch (c->op) {
		case MAGLEV_ADD:
			list[nr++] = c->backend;
			break;
		case MAGLEV_REMOVE:
			*b = list[--nr];
			break;
		case MAGLEV_SET_WEIGHT:
			b->weight = c->backend.weight;
			break;
		case MAGLEV_SET_STATE:
			b->state = c->backend.state;
			break;
		default:
			err = -MAGLEV_E_OP;
		}
	}
	if (!err)
		err = maglev_update_list(st, list, nr);
	free(list);
	return err;
}
