// SPDX-License-Identifier: GPL-2.0
/*
 * How many entries each active backend should hold. The fair share of a
 * backend of weight w is f = M * w / W (W the sum of active weights); all
 * arithmetic is on the integers M * w and W, so every host agrees.
 */
#include <stdlib.h>

#include "lib/maglev_internal.h"

struct quota_key {
	int64_t key;
	uint32_t i;
};

static int cmp_key_desc(const void *x, const void *y)
{
	const struct quota_key *a = x, *b = y;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_key_asc(const void *x, const void *y)
{
	const struct quota_key *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static uint64_t total_weight(const uint32_t *w, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

int maglev_quota_exact(const uint32_t *w, size_t n, uint32_t m, uint32_t *q)
{
	uint64_t total = total_weight(w, n), given = 0;
	struct quota_key *keys;
	size_t i;

	if (!total)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -MAGLEV_E_NOMEM;
	for (i = 0; i < n; i++) {
		uint64_t mw = (uint64_t)m * w[i];

		q[i] = mw / total;
		given += q[i];
		keys[i].key = mw % total;
		keys[i].i = i;
	}
	/* Fewer than n entries are left: one each to the largest remainders. */
	qsort(keys, n, sizeof(*keys), cmp_key_desc);
	for (i = 0; i < m - given; i++)
		q[keys[i].i]++;
	free(keys);
	return 0;
}

/* Distance below the fair share, in units of 1 / W (negative: above). */
static int64_t below_fair(uint32_t m, uint32_t w, uint32_t q, uint64_t total)
{
	return (int64_t)((uint64_t)m * w) - (int64_t)((uint64_t)q * total);
}

int maglev_quota_near(const uint32_t *w, const uint32_t *want,
		      const uint32_t *have, size_t n, uint32_t m, uint32_t *q)
{
	uint64_t total = total_weight(w, n), sum = 0;
	struct quota_key *keys;
	uint32_t *lo, *hi;
	size_t i, k;
	int64_t gap;

	if (!total)
		return 0;
	keys = malloc(n * sizeof(*keys));
	lo = malloc(n * sizeof(*lo));
	hi = malloc(n * sizeof(*hi));
	if (!keys || !lo || !hi) {
		free(keys);
		free(lo);
		free(hi);
		return -MAGLEV_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t mw = (uint64_t)m * w[i];

		/* ceil(f - 1) and floor(f + 1), clipped to 0..m */
		lo[i] = (mw - 1) / total;
		hi[i] = mw / total + 1;
		if (hi[i] > m)
			hi[i] = m;
		q[i] = want[i] < lo[i] ? lo[i] : want[i] > hi[i] ? hi[i] : want[i];
		sum += q[i];
	}
	gap = (int64_t)m - (int64_t)sum;

	/* First the changes that save moves: towards what is held now. */
	for (i = 0; i < n && gap > 0; i++) {
		if (q[i] < have[i] && q[i] < hi[i]) {
			uint32_t d = (have[i] < hi[i] ? have[i] : hi[i]) - q[i];

			if (d > gap)
				d = gap;
			q[i] += d;
			gap -= d;
		}
	}
	for (i = 0; i < n && gap < 0; i++) {
		if (q[i] > have[i] && q[i] > lo[i]) {
			uint32_t d = q[i] - (have[i] > lo[i] ? have[i] : lo[i]);

			if (d > -gap)
				d = -gap;
			q[i] -= d;
			gap += d;
		}
	}

	/*
	 * Then one entry each to (or from) the backends furthest below (or
	 * above) their fair share, as many rounds as it takes: a round is
	 * enough unless a fair share is an integer (range of 3).
	 */
	while (gap) {
		for (i = k = 0; i < n; i++) {
			if (gap > 0 ? q[i] < hi[i] : q[i] > lo[i]) {
				keys[k].key = below_fair(m, w[i], q[i], total);
				keys[k].i = i;
				k++;
			}
		}
		qsort(keys, k, sizeof(*keys), gap > 0 ? cmp_key_desc : cmp_key_asc);
		for (i = 0; i < k && gap; i++) {
			if (gap > 0) {
				q[keys[i].i]++;
				gap--;
			} else {
				q[keys[i].i]--;
				gap++;
			}
		}
	}
	free(keys);
	free(lo);
	free(hi);
	return 0;
}
