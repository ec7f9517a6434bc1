/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the Maglev tests: a seeded PRNG whose seed comes from KLB_SEED
 * (decimal or 0x-hex) or, without it, from the clock; tests print the seed
 * they use so that a failure reproduces with KLB_SEED=<seed>.
 */

#ifndef KLB_SELFTESTS_MAGLEV_TESTUTIL_H
#define KLB_SELFTESTS_MAGLEV_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <klb/addr.h>
#include "lib/maglev.h"

struct test_rng {
	uint64_t x;
};

static inline uint64_t test_rand(struct test_rng *r)
{
	/* splitmix64 (Steele, Lea, Flood 2014) */
	uint64_t z = (r->x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in 0..n-1 (n > 0); the modulo bias is irrelevant here. */
static inline uint32_t test_below(struct test_rng *r, uint32_t n)
{
	return test_rand(r) % n;
}

static inline uint64_t test_seed(const char *what)
{
	const char *env = getenv("KLB_SEED");
	struct timespec ts;
	uint64_t seed;

	if (env && *env) {
		seed = strtoull(env, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec;
	}
	printf("# %s: KLB_SEED=%llu\n", what, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

/* A backend at 198.51.100.x or 2001:db8::x:y (documentation ranges). */
static inline void test_backend(struct maglev_backend *b, uint32_t n,
				uint16_t id, uint32_t weight, uint8_t state)
{
	memset(b, 0, sizeof(*b));
	if (n % 3) {
		klb_addr_from_ipv4(b->addr, htonl(0xc6336400 | (n & 0xff)));
		b->port = htons(8000 + n / 256);
	} else {
		b->addr[0] = 0x20;
		b->addr[1] = 0x01;
		b->addr[2] = 0x0d;
		b->addr[3] = 0xb8;
		b->addr[14] = n >> 8;
		b->addr[15] = n;
		b->port = htons(443);
	}
	b->id = id;
	b->weight = weight;
	b->state = state;
}

/* Entries per id (array of KLB_BACKEND_ID_MAX + 2). */
static inline void test_count(const uint16_t *table, uint32_t m,
			      uint32_t *count)
{
	uint32_t s;

	memset(count, 0, (KLB_BACKEND_ID_MAX + 2) * sizeof(*count));
	for (s = 0; s < m; s++)
		count[table[s]]++;
}

#endif /* KLB_SELFTESTS_MAGLEV_TESTUTIL_H */
