/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces shared by the Maglev library's files; not part of its API.
 */

#ifndef KLB_USERSPACE_MAGLEV_INTERNAL_H
#define KLB_USERSPACE_MAGLEV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/maglev.h"

#define MAGLEV_NONE	KLB_BACKEND_ID_NONE

/* Order of identities: address bytes, then port bytes (network order). */
int maglev_identity_cmp(const struct maglev_backend *a,
			const struct maglev_backend *b);

/*
 * Checks M and a backend list against every rule of maglev.h: 0 or
 * -MAGLEV_E_... When pos is not NULL it receives the positions of b[] in
 * identity order.
 */
int maglev_check_size(uint32_t m);
int maglev_check_backends(const struct maglev_backend *b, size_t n, uint32_t m,
			  uint32_t *pos);

/* Positions of b[] sorted by identity; b[] sorted by id. */
int maglev_sort_by_identity(const struct maglev_backend *b, size_t n,
			    uint32_t *pos);
void maglev_sort_by_id(struct maglev_backend *b, size_t n);

/*
 * A walk over all M slots: start, start + step, ... (mod M), M prime so
 * every step in 1..M-1 reaches every slot once.
 */
struct maglev_walk {
	uint32_t m;
	uint32_t start;
	uint32_t step;
};

static inline uint32_t maglev_walk_next(const struct maglev_walk *w,
					uint32_t s)
{
	s += w->step;
	return s >= w->m ? s - w->m : s;
}

static inline uint32_t maglev_walk_prev(const struct maglev_walk *w,
					uint32_t s)
{
	return s >= w->step ? s - w->step : s + w->m - w->step;
}

static inline uint32_t maglev_walk_last(const struct maglev_walk *w)
{
	return maglev_walk_prev(w, w->start);
}

/* A backend's preference list over the slots, from its identity. */
void maglev_permutation(struct maglev_walk *w, const struct maglev_backend *b,
			const struct klb_hash_seed *seed, uint32_t m);
/* The service's order of slots for incremental updates, from the seed. */
void maglev_slot_order(struct maglev_walk *w, const struct klb_hash_seed *seed,
		       uint32_t m);

/*
 * Quotas: entries each active backend should hold. w[] are the weights (all
 * above 0) of n backends in identity order, q[] receives the quotas, whose
 * sum is m.
 *
 * maglev_quota_exact: floor(m * w / W), plus one for the largest
 * remainders (ties: identity order).
 *
 * maglev_quota_near: each quota within one entry of m * w / W and as close
 * to want[] as that allows; where the sum forces a choice, it prefers the
 * quotas that need fewer moves from have[] (the entries held now), then
 * those that bring a backend nearer its fair share, then identity order.
 */
int maglev_quota_exact(const uint32_t *w, size_t n, uint32_t m, uint32_t *q);
int maglev_quota_near(const uint32_t *w, const uint32_t *want,
		      const uint32_t *have, size_t n, uint32_t m, uint32_t *q);

#endif /* KLB_USERSPACE_MAGLEV_INTERNAL_H */
