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
 *  2. Reclaim: a backend coming back takes back its reserved slots, walking
 *     the slot order, from owners that hold more than their quota (or from
 *     free slots) while it is below its own.
 *  3. Release: owners above their quota free their last slots in the slot
 *     order until they are at their quota.
 *  4. Fill: free slots, in slot order, go to the backends below their quota,
 *     in identity order, each until it is at its quota.
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
	size_t na;			/* active backends */
	uint32_t *act;			/* active index -> position in list */
	uint32_t *w, *want, *have, *q;
	int64_t *need;			/* quota minus entries held */
	uint16_t *carry;		/* old id -> active index, or NONE */
	uint8_t *parked;		/* old id is kept but not active */
	uint16_t *own;			/* slot -> active index, or NONE */
	size_t ids;			/* size of carry[] and parked[] */
};

static void update_free(struct update *u)
{
	free(u->act);
	free(u->w);
	free(u->want);
	free(u->have);
	free(u->q);
	free(u->need);
	free(u->carry);
	free(u->parked);
	free(u->own);
}

static int update_alloc(struct update *u, const struct maglev_state *st,
			const struct maglev_backend *nb, size_t n)
{
	size_t k = n + 1, i;

	u->m = st->m;
	/* Maps by id only need to reach the largest id in use. */
	u->ids = 1;
	for (i = 0; i < st->nr_backends; i++)
		if (st->backends[i].id >= u->ids)
			u->ids = st->backends[i].id + 1;
	for (i = 0; i < n; i++)
		if (nb[i].id >= u->ids)
			u->ids = nb[i].id + 1;
	u->act = malloc(k * sizeof(*u->act));
	u->w = malloc(k * sizeof(*u->w));
	u->want = calloc(k, sizeof(*u->want));
	u->have = calloc(k, sizeof(*u->have));
	u->q = calloc(k, sizeof(*u->q));
	u->need = malloc(k * sizeof(*u->need));
	u->carry = malloc(u->ids * sizeof(*u->carry));
	u->parked = calloc(u->ids, sizeof(*u->parked));
	u->own = malloc((size_t)u->m * sizeof(*u->own));
	if (!u->act || !u->w || !u->want || !u->have || !u->q || !u->need ||
	    !u->carry || !u->parked || !u->own)
		return -MAGLEV_E_NOMEM;
	return 0;
}

/*
 * Which old ids are still the same backend (same id, same identity) and
 * what they are now: an active index, or parked (unavailable). Tables only
 * hold ids of the old list, so carry[] of other ids is never read.
 */
static int match_backends(struct update *u, const struct maglev_state *st,
			  const struct maglev_backend *nb, size_t n)
{
	uint16_t *newpos;
	uint32_t *pos;
	size_t i;

	newpos = malloc(u->ids * sizeof(*newpos));
	pos = malloc((n + 1) * sizeof(*pos));
	if (!newpos || !pos) {
		free(newpos);
		free(pos);
		return -MAGLEV_E_NOMEM;
	}
	memset(newpos, 0xff, u->ids * sizeof(*newpos));
	memset(u->carry, 0xff, u->ids * sizeof(*u->carry));

	maglev_sort_by_identity(nb, n, pos);
	u->na = 0;
	for (i = 0; i < n; i++) {
		const struct maglev_backend *b = &nb[pos[i]];

		newpos[b->id] = pos[i];
		if (maglev_backend_active(b)) {
			u->act[u->na] = pos[i];
			u->w[u->na] = b->weight;
			u->na++;
		}
	}
	for (i = 0; i < u->na; i++)
		u->carry[nb[u->act[i]].id] = i;

	for (i = 0; i < st->nr_backends; i++) {
		const struct maglev_backend *old = &st->backends[i];
		uint16_t p = newpos[old->id];

		if (p == MAGLEV_NONE || maglev_identity_cmp(old, &nb[p])) {
			/* Gone, or the id now names someone else. */
			u->carry[old->id] = MAGLEV_NONE;
			continue;
		}
		if (!maglev_backend_active(&nb[p]))
			u->parked[old->id] = 1;
	}
	free(newpos);
	free(pos);
	return 0;
}

static uint16_t carried(const struct update *u, uint16_t id)
{
	return id == MAGLEV_NONE ? MAGLEV_NONE : u->carry[id];
}

/* Step 1: who holds what, who asks for what, and the quotas. */
static int count_and_share(struct update *u, const struct maglev_state *st,
			   bool *returning)
{
	uint32_t s;
	size_t a;
	int err;

	*returning = false;
	for (s = 0; s < u->m; s++) {
		uint16_t o = carried(u, st->table[s]);
		uint16_t r = carried(u, st->base[s]);

		u->own[s] = o;
		if (o != MAGLEV_NONE)
			u->have[o]++;
		if (r != MAGLEV_NONE && r != o) {
			u->want[r]++;
			*returning = true;
		} else if (o != MAGLEV_NONE) {
			u->want[o]++;
		}
	}
	err = maglev_quota_near(u->w, u->want, u->have, u->na, u->m, u->q);
	if (err)
		return err;
	for (a = 0; a < u->na; a++)
		u->need[a] = (int64_t)u->q[a] - u->have[a];
	return 0;
}

/* Step 2. */
static void reclaim(struct update *u, const struct maglev_state *st,
		    const struct maglev_walk *order)
{
	uint32_t s = order->start, k;

	for (k = 0; k < u->m; k++, s = maglev_walk_next(order, s)) {
		uint16_t r = carried(u, st->base[s]), o = u->own[s];

		if (r == MAGLEV_NONE || r == o || u->need[r] <= 0)
			continue;
		if (o != MAGLEV_NONE) {
			if (u->need[o] >= 0)
				continue;
			u->need[o]++;
		}
		u->own[s] = r;
		u->need[r]--;
	}
}

/* Step 3. */
static void release(struct update *u, const struct maglev_walk *order)
{
	uint32_t s = maglev_walk_last(order), k;
	int64_t surplus = 0;
	size_t a;

	for (a = 0; a < u->na; a++)
		if (u->need[a] < 0)
			surplus -= u->need[a];
	for (k = 0; k < u->m && surplus; k++, s = maglev_walk_prev(order, s)) {
		uint16_t o = u->own[s];

		if (o != MAGLEV_NONE && u->need[o] < 0) {
			u->own[s] = MAGLEV_NONE;
			u->need[o]++;
			surplus--;
		}
	}
}

/* Step 4. */
static void fill(struct update *u, const struct maglev_walk *order)
{
	uint32_t s = order->start, k;
	size_t a = 0;

	if (!u->na)
		return;
	for (k = 0; k < u->m; k++, s = maglev_walk_next(order, s)) {
		if (u->own[s] != MAGLEV_NONE)
			continue;
		while (a < u->na && u->need[a] <= 0)
			a++;
		if (a == u->na)
			break;	/* cannot happen: free slots == sum of needs */
		u->own[s] = a;
		u->need[a]--;
	}
}

/*
 * The next published and base tables, in place: a slot's new values depend
 * only on its old ones and own[].
 */
static void write_tables(const struct update *u, struct maglev_state *st,
			 const struct maglev_backend *nb)
{
	uint32_t s;

	for (s = 0; s < u->m; s++) {
		uint16_t p = st->table[s], b = st->base[s];
		uint16_t now = u->own[s] == MAGLEV_NONE ? MAGLEV_NONE :
			       nb[u->act[u->own[s]]].id;

		st->table[s] = now;
		if (p != MAGLEV_NONE && u->parked[p])
			st->base[s] = p;	/* it held the slot until now */
		else if (b != MAGLEV_NONE && u->parked[b])
			st->base[s] = b;	/* an older reservation */
		else
			st->base[s] = now;
	}
}

int maglev_update_list(struct maglev_state *st,
		       const struct maglev_backend *backends, size_t n)
{
	struct maglev_backend *list;
	struct maglev_walk order;
	struct update u = { 0 };
	bool returning;
	int err;

	err = maglev_check_backends(backends, n, st->m);
	if (err)
		return err;
	list = malloc((n + 1) * sizeof(*list));
	err = -MAGLEV_E_NOMEM;
	if (!list)
		goto out;
	memcpy(list, backends, n * sizeof(*list));
	maglev_sort_by_id(list, n);

	err = update_alloc(&u, st, list, n);
	if (!err)
		err = match_backends(&u, st, list, n);
	if (!err)
		err = count_and_share(&u, st, &returning);
	if (err)
		goto out;

	maglev_slot_order(&order, &st->seed, st->m);
	if (returning)
		reclaim(&u, st, &order);
	release(&u, &order);
	fill(&u, &order);
	write_tables(&u, st, list);

	free(st->backends);
	st->backends = list;
	st->nr_backends = n;
	list = NULL;
out:
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
