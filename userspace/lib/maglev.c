// SPDX-License-Identifier: GPL-2.0
/*
 * The classic Maglev build (Eisenbud et al., NSDI 2016), with weights.
 *
 * Every active backend has a preference list over the slots, its
 * permutation (maglev_perm.c). Backends take turns; on its turn a backend
 * takes the first slot of its list that is still empty. Unweighted Maglev
 * gives every backend one turn per round; here a backend's number of turns
 * is its quota, floor or ceil of M * w / W with the full 16-bit weight, and
 * its turns are spread evenly over the build: turn k of a backend with quota
 * q comes at time floor((2k + 1) * M / (2q)), ties in identity order. So the
 * table is exactly apportioned, and every backend still picks from the front
 * of its own list, which is what keeps two builds over similar sets similar.
 *
 * Backends are visited in identity order and their lists depend only on
 * identity and seed: the result is a function of the set, whatever the
 * order of the input and whatever the ids.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/maglev_internal.h"

/*
 * Turns in time order: turn[] lists backend positions (0..n-1). A counting
 * sort on the turn time, which lies in 0..m-1.
 */
static int schedule_turns(const uint32_t *q, size_t n, uint32_t m,
			  uint16_t *turn)
{
	uint32_t *first = calloc((size_t)m + 1, sizeof(*first));
	size_t i;
	uint32_t k;

	if (!first)
		return -MAGLEV_E_NOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			uint32_t a = 2 * q[i], t, r, big, small;

			if (!q[i])
				continue;
			t = m / a;
			r = m % a;
			big = 2 * m / a;
			small = 2 * m % a;
			for (k = 0; k < q[i]; k++) {
				if (pass == 0)
					first[t + 1]++;
				else
					turn[first[t]++] = i;
				t += big;
				r += small;
				if (r >= a) {
					r -= a;
					t++;
				}
			}
		}
		if (pass == 0)
			for (k = 0; k < m; k++)
				first[k + 1] += first[k];
	}
	free(first);
	return 0;
}

static int populate(uint16_t *table, uint32_t m,
		    const struct klb_hash_seed *seed,
		    const struct maglev_backend *b, const uint32_t *act,
		    const uint32_t *q, size_t n)
{
	struct maglev_walk *perm = malloc(n * sizeof(*perm));
	uint32_t *next = malloc(n * sizeof(*next));
	uint16_t *turn = malloc((size_t)m * sizeof(*turn));
	uint32_t j;
	size_t i;
	int err;

	err = -MAGLEV_E_NOMEM;
	if (!perm || !next || !turn)
		goto out;
	err = schedule_turns(q, n, m, turn);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		maglev_permutation(&perm[i], &b[act[i]], seed, m);
		next[i] = perm[i].start;
	}
	for (j = 0; j < m; j++)
		table[j] = MAGLEV_NONE;
	for (j = 0; j < m; j++) {
		uint32_t who = turn[j], s = next[who];

		/* The quotas add up to m: an empty slot is always left. */
		while (table[s] != MAGLEV_NONE)
			s = maglev_walk_next(&perm[who], s);
		table[s] = b[act[who]].id;
		next[who] = maglev_walk_next(&perm[who], s);
	}
out:
	free(perm);
	free(next);
	free(turn);
	return err;
}

int maglev_build(uint16_t *table, uint32_t m, const struct klb_hash_seed *seed,
		 const struct maglev_backend *backends, size_t n)
{
	uint32_t *pos = NULL, *w = NULL, *q = NULL;
	size_t i, na = 0;
	int err;

	err = maglev_check_size(m);
	if (err)
		return err;
	if (n > MAGLEV_BACKENDS_MAX)
		return -MAGLEV_E_TOO_MANY;
	err = -MAGLEV_E_NOMEM;
	pos = malloc((n + 1) * sizeof(*pos));
	w = malloc((n + 1) * sizeof(*w));
	q = malloc((n + 1) * sizeof(*q));
	if (!pos || !w || !q)
		goto out;
	err = maglev_check_backends(backends, n, m, pos);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		if (maglev_backend_active(&backends[pos[i]])) {
			pos[na] = pos[i];
			w[na] = backends[pos[i]].weight;
			na++;
		}
	}
	err = -MAGLEV_E_NO_WEIGHT;
	if (!na)
		goto out;
	err = maglev_quota_exact(w, na, m, q);
	if (!err)
		err = populate(table, m, seed, backends, pos, q, na);
out:
	free(pos);
	free(w);
	free(q);
	return err;
}
