// SPDX-License-Identifier: GPL-2.0
/*
 * The simulation budget run by 'make check': fresh seeds until
 * $RAFT_SIM_STEPS simulated steps (default 20,000,000) ran with no
 * violation; and each planted bug (raft.h's enum raft_bug) must be caught
 * within $RAFT_SIM_BUG_STEPS (default 100,000,000). The first seed comes
 * from $RAFT_SIM_SEED, else the clock; it is printed, and so is the command
 * that replays any failure or catch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "raft/sim.h"

#define STEPS_PER_SEED 20000

static struct sim world;

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static uint64_t first_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return env_u64("RAFT_SIM_SEED", ((uint64_t)ts.tv_sec * 1000003 ^ ts.tv_nsec) % 1000000000000ULL);
}

/* Runs seeds from 'seed' until 'budget' steps; returns the failing seed or 0. */
static uint64_t run_budget(uint64_t seed, uint64_t budget, const struct sim_options *base,
			   uint64_t *steps, uint64_t *seeds)
{
	struct sim_options opt = *base;

	opt.steps = STEPS_PER_SEED;
	*steps = 0;
	*seeds = 0;
	for (opt.seed = seed; *steps < budget; opt.seed++) {
		int rc = sim_run(&opt, &world);

		*steps += world.steps;
		(*seeds)++;
		if (rc)
			return opt.seed;
	}
	return 0;
}

FIXTURE(sim) {
	uint64_t seed;
};

FIXTURE_SETUP(sim)
{
	self->seed = first_seed();
}

FIXTURE_TEARDOWN(sim)
{
}

TEST_F_TIMEOUT(sim, budget_without_violations, 600)
{
	uint64_t budget = env_u64("RAFT_SIM_STEPS", 20000000), steps, seeds, bad;

	printf("# seeds from %llu, budget %llu steps (RAFT_SIM_SEED, RAFT_SIM_STEPS)\n",
	       (unsigned long long)self->seed, (unsigned long long)budget);
	fflush(stdout);
	bad = run_budget(self->seed, budget, &(struct sim_options){ 0 }, &steps, &seeds);
	if (bad) {
		printf("# VIOLATION seed %llu: %s\n", (unsigned long long)bad, world.violation);
		printf("# replay: build/userspace/raft/raft-sim --seed %llu --steps %d\n",
		       (unsigned long long)bad, STEPS_PER_SEED);
	}
	printf("# %llu seeds, %llu steps\n", (unsigned long long)seeds,
	       (unsigned long long)steps);
	fflush(stdout);
	ASSERT_EQ(0, bad);
	ASSERT_GE(steps, budget);
}

/*
 * A planted bug must be found: fresh seeds until one violates an
 * invariant, within $RAFT_SIM_BUG_STEPS. The seed that found it replays.
 */
static void planted(struct __test_metadata *_metadata, uint64_t seed, unsigned int bug,
		    const char *name)
{
	uint64_t budget = env_u64("RAFT_SIM_BUG_STEPS", 100000000), steps, seeds, caught;
	/* Two changes pending: the invariants must catch it, not the direct check. */
	struct sim_options opt = { .bugs = bug,
				   .no_pending_check = bug == RAFT_BUG_TWO_PENDING_CONF };

	caught = run_budget(seed, budget, &opt, &steps, &seeds);
	if (caught) {
		printf("# %s caught: seed %llu after %llu seeds, %llu steps: %s\n", name,
		       (unsigned long long)caught, (unsigned long long)seeds,
		       (unsigned long long)steps, world.violation);
		printf("# replay: build/userspace/raft/raft-sim --seed %llu --steps %d --bug %s\n",
		       (unsigned long long)caught, STEPS_PER_SEED, name);
	} else {
		printf("# %s NOT caught in %llu steps from seed %llu\n", name,
		       (unsigned long long)steps, (unsigned long long)seed);
	}
	fflush(stdout);
	ASSERT_NE(0, caught);
}

TEST_F_TIMEOUT(sim, planted_double_vote_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_DOUBLE_VOTE, "double-vote");
}

TEST_F_TIMEOUT(sim, planted_commit_of_old_term_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_COMMIT_OLD_TERM, "commit-old-term");
}

/* A vote reply that goes out before the vote is durable: a crash forgets it. */
TEST_F_TIMEOUT(sim, planted_vote_before_persist_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_VOTE_BEFORE_PERSIST, "vote-before-persist");
}

/* A leader that counts its own entries before its storage synced them. */
TEST_F_TIMEOUT(sim, planted_commit_of_unsynced_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_COMMIT_UNSYNCED, "commit-unsynced");
}

/* A new leader's membership change before it committed an entry of its term. */
TEST_F_TIMEOUT(sim, planted_conf_before_term_commit_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_CONF_BEFORE_TERM_COMMIT,
		"conf-before-term-commit");
}

/* Two membership changes pending at once, with the direct check off. */
TEST_F_TIMEOUT(sim, planted_two_pending_conf_is_caught, 600)
{
	planted(_metadata, self->seed, RAFT_BUG_TWO_PENDING_CONF, "two-pending-conf");
}

/* A seed is a complete description of a run. */
TEST_F(sim, same_seed_same_run)
{
	struct sim_options opt = { .seed = self->seed, .steps = STEPS_PER_SEED };
	uint64_t steps, now, commits, elections, ntrace;
	struct sim_trace last;

	ASSERT_EQ(0, sim_run(&opt, &world));
	steps = world.steps;
	now = world.now;
	commits = world.commits;
	elections = world.elections;
	ntrace = world.n_trace;
	last = world.trace[(ntrace - 1) % (sizeof(world.trace) / sizeof(world.trace[0]))];
	ASSERT_EQ(0, sim_run(&opt, &world));
	EXPECT_EQ(steps, world.steps);
	EXPECT_EQ(now, world.now);
	EXPECT_EQ(commits, world.commits);
	EXPECT_EQ(elections, world.elections);
	EXPECT_EQ(ntrace, world.n_trace);
	EXPECT_EQ(0, memcmp(&last, &world.trace[(ntrace - 1) % (sizeof(world.trace) /
								 sizeof(world.trace[0]))],
			    sizeof(last)));
	EXPECT_GT(commits, 0);
}

TEST_HARNESS_MAIN
