/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fuzzing run as every worker sees it: threads, forked children and
 * children of children, so it lives in shared memory and is changed with
 * atomics only.
 */

#ifndef NLFUZZ_RUN_H
#define NLFUZZ_RUN_H

#include <stdbool.h>
#include <stdint.h>

#define NLF_SLOTS		16
#define NLF_ERRNO_MAX		140

/* What one worker did and saw. */
struct nlf_slot {
	char name[48];
	uint64_t seed;
	unsigned long sent;		/* messages, a batch counts each */
	unsigned long accepted, rejected;
	unsigned long silent;		/* nothing to wait for */
	unsigned long unjudged;		/* answered while the module came or went */
	unsigned long txns, dumps_left, reopened;
	unsigned long errors[NLF_ERRNO_MAX];
	bool failed;
	char failure[1536];
};

struct nlf_run {
	uint64_t seed;
	unsigned long budget;		/* messages, all workers together */
	uint64_t deadline_ns;		/* CLOCK_MONOTONIC, 0 for none */
	unsigned long taken;		/* tickets handed out */
	int epoch;			/* odd while the module may be out */
	int loads;			/* times it was loaded again */
	int stop;
	int failed;
	unsigned long rmmod_ok, rmmod_busy, rmmod_other;
	unsigned long netns_killed;	/* netns deleted while being fuzzed */
	bool userns;			/* unprivileged user namespaces work */
	struct nlf_slot slots[NLF_SLOTS];
};

static inline int nlf_epoch(struct nlf_run *run)
{
	return __atomic_load_n(&run->epoch, __ATOMIC_ACQUIRE);
}

/* Counts @n messages against the budget; false when it was spent. */
bool nlf_ticket(struct nlf_run *run, unsigned long n);
uint64_t nlf_now_ns(void);

#endif /* NLFUZZ_RUN_H */
