/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One disruption experiment, shared by maglev-disruption and the Maglev
 * benchmark: N backends with some weights, a table of M entries, one change
 * (a batch), the classic rebuild and the incremental update side by side.
 */

#ifndef KLB_TOOLS_MAGLEV_EXPERIMENT_H
#define KLB_TOOLS_MAGLEV_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/maglev.h"

struct experiment {
	uint32_t m;
	struct klb_hash_seed seed;
	size_t n;
	struct maglev_backend *before;	/* the list before the change */
	size_t n_after;
	struct maglev_backend *after;	/* and after */
	struct maglev_change *changes;
	size_t nr_changes;
	double needed;			/* fair share that changes hands */
};

struct outcome {
	size_t moved;
	double balance;			/* max entries / fair share */
	double max_dev;			/* max |entries - fair share| */
};

/*
 * Weights: "1" (any single number: all equal), "a,b,c" (repeated over the
 * backends), or "random:LO-HI". Change: "remove:K", "remove:P%",
 * "add:K[:W]", "down:K", "drain:K", "weight:K:W" (K backends to weight W);
 * the backends concerned are picked from the seed. Returns 0 or prints why
 * not and returns -1.
 */
int experiment_init(struct experiment *e, size_t n, uint32_t m,
		    const char *weights, const char *change, uint64_t seed);
void experiment_free(struct experiment *e);

/* The two ways to the next table, from the classic table of the list. */
int experiment_classic(const struct experiment *e, const uint16_t *start,
		       uint16_t *next);
int experiment_incremental(const struct experiment *e,
			   struct maglev_state *st);

void experiment_measure(const struct experiment *e, const uint16_t *start,
			const uint16_t *next, struct outcome *out);

#endif /* KLB_TOOLS_MAGLEV_EXPERIMENT_H */
