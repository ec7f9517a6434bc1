/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small seeded PRNG (splitmix64 seeding xoshiro256**): the host supplies
 * the seed, so every random choice in the core and in the simulator replays.
 */
#ifndef KLB_RAFT_PRNG_H
#define KLB_RAFT_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t s[4];
};

void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t prng_below(struct prng *p, uint64_t n);
/* True with probability permille/1000. */
int prng_chance(struct prng *p, unsigned int permille);

#endif
