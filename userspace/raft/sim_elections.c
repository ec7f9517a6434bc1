// SPDX-License-Identifier: GPL-2.0
/*
 * Election benchmark on the simulator: a five-node cluster with a 50 ms
 * heartbeat and a 300-600 ms randomized election timeout (1 ms ticks),
 * PreVote and CheckQuorum on, 1-5 ms network latency. The leader is crashed
 * at a random moment once it has led for a while; the time until some other
 * node becomes leader (in virtual time) is recorded. Prints p50/p99/max.
 * With 'forget', the followers learn of the crash at once (a daemon that
 * died: its port refuses connections) and call raft_forget_leader().
 */
#include <stdio.h>
#include <stdlib.h>

#include "raft/sim.h"

int sim_elections(unsigned int count, uint64_t seed, bool forget);

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool run_until(struct sim *s, uint64_t until)
{
	while (s->n_heap && s->heap[0].time <= until)
		if (!sim_step(s))
			return false;
	s->now = until;
	return true;
}

int sim_elections(unsigned int count, uint64_t seed, bool forget)
{
	struct sim_options opt = {
		.seed = seed, .no_faults = true, .nodes = 5,
		.election_ticks = 300, .heartbeat_ticks = 50, .tick_ms = 1,
		.forget_on_crash = forget,
	};
	static struct sim s;
	uint64_t *took = calloc(count, sizeof(*took));
	struct prng p;
	unsigned int i;

	prng_seed(&p, seed);
	sim_world_init(&s, &opt);
	for (i = 0; i < count; i++) {
		struct sim_node *old, *now;
		uint64_t t0, term;

		/* Settle: a leader that has led for a while, then a random moment. */
		do {
			if (!run_until(&s, s.now + 500))
				goto violation;
			old = sim_leader(&s);
		} while (!old);
		if (!run_until(&s, s.now + 1000 + prng_below(&p, 100)))
			goto violation;
		old = sim_leader(&s);
		if (!old) {
			i--;
			continue;
		}
		term = old->term;
		sim_crash(&s, old);
		t0 = s.now;
		for (;;) {
			if (!sim_step(&s))
				goto violation;
			now = sim_leader(&s);
			if (now && now != old && now->term > term)
				break;
		}
		took[i] = s.now - t0;
		sim_restart(&s, old);
	}
	qsort(took, count, sizeof(*took), cmp_u64);
	printf("raft-sim elections: %u leader crashes, 5 nodes, heartbeat 50 ms, election "
	       "timeout 300-600 ms, seed %llu%s\n", count, (unsigned long long)seed,
	       forget ? ", followers forget the crashed leader" : "");
	printf("time to a new leader: p50 %llu ms, p90 %llu ms, p99 %llu ms, max %llu ms\n",
	       (unsigned long long)took[count / 2], (unsigned long long)took[count * 9 / 10],
	       (unsigned long long)took[count * 99 / 100], (unsigned long long)took[count - 1]);
	free(took);
	sim_world_free(&s);
	return 0;
violation:
	printf("VIOLATION during the election benchmark: %s\n", s.violation);
	free(took);
	sim_world_free(&s);
	return 1;
}
