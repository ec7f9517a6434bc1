// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev-disruption/experiment.h"

static uint64_t next_random(uint64_t *x)
{
	/* splitmix64 (Steele, Lea, Flood 2014) */
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Backend i: 198.51.100.0/24 and 203.0.113.0/24, ports 8000 up. */
static void make_backend(struct maglev_backend *b, uint32_t i, uint32_t w)
{
	uint32_t net = i % 2 ? 0xcb007100 : 0xc6336400;

	memset(b, 0, sizeof(*b));
	klb_addr_from_ipv4(b->addr, htonl(net | (i / 2) % 256));
	b->port = htons(8000 + i / 512);
	b->id = i;
	b->weight = w;
	b->state = KLB_BACKEND_UP;
}

static int parse_weights(struct experiment *e, const char *spec,
			 uint64_t *rng)
{
	unsigned long lo, hi;
	const char *p = spec;
	char *end;
	size_t i;

	if (sscanf(spec, "random:%lu-%lu", &lo, &hi) == 2) {
		if (!lo || lo > hi || hi > MAGLEV_WEIGHT_MAX)
			goto bad;
		for (i = 0; i < e->n; i++)
			e->before[i].weight = lo + next_random(rng) % (hi - lo + 1);
		return 0;
	}
	for (i = 0; i < e->n; i++) {
		errno = 0;
		e->before[i].weight = strtoul(p, &end, 10);
		if (errno || end == p || e->before[i].weight > MAGLEV_WEIGHT_MAX)
			goto bad;
		p = *end == ',' ? end + 1 : *end ? NULL : spec;
		if (!p)
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "bad weights '%s': 1, 1,2,3 or random:1-100 (0..65535)\n",
		spec);
	return -1;
}

/* Picks k distinct backends of the list at random: their positions. */
static size_t *pick(size_t n, size_t k, uint64_t *rng)
{
	size_t *pos = malloc((n + 1) * sizeof(*pos)), i;

	if (!pos)
		return NULL;
	for (i = 0; i < n; i++)
		pos[i] = i;
	for (i = 0; i < k; i++) {
		size_t j = i + next_random(rng) % (n - i), t = pos[i];

		pos[i] = pos[j];
		pos[j] = t;
	}
	return pos;
}

static double fair_share(const struct maglev_backend *b, size_t n, uint32_t m,
			 uint16_t id)
{
	double total = 0, mine = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!maglev_backend_active(&b[i]))
			continue;
		total += b[i].weight;
		if (b[i].id == id)
			mine = b[i].weight;
	}
	return total ? m * mine / total : 0;
}

/* Half the sum of fair-share changes: what must change hands at least. */
static double needed_moves(const struct experiment *e)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < e->n; i++) {
		double d = fair_share(e->before, e->n, e->m, e->before[i].id) -
			   fair_share(e->after, e->n_after, e->m, e->before[i].id);

		sum += d < 0 ? -d : d;
	}
	for (i = e->n; i < e->n_after; i++)
		sum += fair_share(e->after, e->n_after, e->m, e->after[i].id);
	return sum / 2;
}

int experiment_init(struct experiment *e, size_t n, uint32_t m,
		    const char *weights, const char *change, uint64_t seed)
{
	unsigned long k = 0, w = 1;
	char what[16];
	uint64_t rng = seed;
	size_t i, *pos;
	int pct = 0;

	memset(e, 0, sizeof(*e));
	e->m = m;
	e->seed.k0 = next_random(&rng);
	e->seed.k1 = next_random(&rng);
	e->n = n;
	if (sscanf(change, "%15[a-z]:%lu%%", what, &k) == 2 &&
	    strchr(change, '%'))
		pct = 1;
	else if (sscanf(change, "%15[a-z]:%lu:%lu", what, &k, &w) < 2)
		goto bad_change;
	if (pct)
		k = (n * k + 99) / 100;
	if (w > MAGLEV_WEIGHT_MAX || n + k > MAGLEV_BACKENDS_MAX ||
	    (strcmp(what, "add") && k > n))
		goto bad_change;

	e->before = calloc(n + 1, sizeof(*e->before));
	e->after = calloc(n + k + 1, sizeof(*e->after));
	e->changes = calloc(k + 1, sizeof(*e->changes));
	if (!e->before || !e->after || !e->changes)
		goto nomem;
	for (i = 0; i < n; i++)
		make_backend(&e->before[i], i, 1);
	if (parse_weights(e, weights, &rng))
		goto fail;
	memcpy(e->after, e->before, n * sizeof(*e->after));
	e->n_after = n;

	pos = pick(n, strcmp(what, "add") ? k : 0, &rng);
	if (!pos)
		goto nomem;
	for (i = 0; i < k; i++) {
		struct maglev_change *c = &e->changes[i];

		if (!strcmp(what, "add")) {
			c->op = MAGLEV_ADD;
			make_backend(&c->backend, n + i, w);
			e->after[e->n_after++] = c->backend;
			continue;
		}
		c->backend.id = e->before[pos[i]].id;
		if (!strcmp(what, "remove")) {
			c->op = MAGLEV_REMOVE;
			/* marked, compacted below */
			e->after[pos[i]].id = KLB_BACKEND_ID_NONE;
		} else if (!strcmp(what, "down") || !strcmp(what, "drain")) {
			c->op = MAGLEV_SET_STATE;
			c->backend.state = what[0] == 'd' && what[1] == 'o' ?
					   KLB_BACKEND_DOWN : KLB_BACKEND_DRAIN;
			e->after[pos[i]].state = c->backend.state;
		} else if (!strcmp(what, "weight")) {
			c->op = MAGLEV_SET_WEIGHT;
			c->backend.weight = w;
			e->after[pos[i]].weight = w;
		} else {
			free(pos);
			goto bad_change;
		}
	}
	free(pos);
	e->nr_changes = k;
	if (!strcmp(what, "remove")) {
		size_t j = 0;

		for (i = 0; i < n; i++)
			if (e->after[i].id != KLB_BACKEND_ID_NONE)
				e->after[j++] = e->after[i];
		e->n_after = j;
	}
	e->needed = needed_moves(e);
	return 0;

bad_change:
	fprintf(stderr, "bad change '%s': remove:K, remove:P%%, add:K[:W], "
		"down:K, drain:K or weight:K:W (K at most N)\n", change);
	goto fail;
nomem:
	fprintf(stderr, "out of memory\n");
fail:
	experiment_free(e);
	return -1;
}

void experiment_free(struct experiment *e)
{
	free(e->before);
	free(e->after);
	free(e->changes);
	memset(e, 0, sizeof(*e));
}

int experiment_classic(const struct experiment *e, const uint16_t *start,
		       uint16_t *next)
{
	return maglev_build(next, e->m, &e->seed, e->after, e->n_after);
}

int experiment_incremental(const struct experiment *e,
			   struct maglev_state *st)
{
	return maglev_update(st, e->changes, e->nr_changes);
}

void experiment_measure(const struct experiment *e, const uint16_t *start,
			const uint16_t *next, struct outcome *out)
{
	out->moved = maglev_table_moved(start, next, e->m);
	out->balance = maglev_table_balance(next, e->m, e->after, e->n_after,
					    &out->max_dev);
}
