/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's random numbers: splitmix64, one state per worker, so that a
 * worker's stream of messages depends on its seed alone and a run can be
 * replayed from the seed it printed.
 */

#ifndef NLFUZZ_RNG_H
#define NLFUZZ_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct nlf_rng {
	uint64_t s;
};

static inline uint64_t nlf_rand(struct nlf_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint32_t nlf_below(struct nlf_rng *r, uint32_t n)
{
	return n ? (uint32_t)(nlf_rand(r) % n) : 0;
}

/* True once in @n draws on average. */
static inline bool nlf_one_in(struct nlf_rng *r, uint32_t n)
{
	return nlf_below(r, n) == 0;
}

/* True @pct percent of the time. */
static inline bool nlf_pct(struct nlf_rng *r, uint32_t pct)
{
	return nlf_below(r, 100) < pct;
}

/* A worker's seed from the run's: distinct streams, same replay. */
static inline uint64_t nlf_subseed(uint64_t seed, uint64_t index)
{
	struct nlf_rng r = { seed ^ (index * 0xd1b54a32d192ed03ULL) };

	return nlf_rand(&r);
}

#endif /* NLFUZZ_RNG_H */
