// SPDX-License-Identifier: GPL-2.0
/*
 * raft-sim: run the deterministic Raft simulation.
 *
 *   raft-sim --seed S [--steps K]          one seed; replays exactly
 *   raft-sim --seeds A..B [--steps K]      many seeds
 *   raft-sim --budget N                    fresh seeds until N steps ran
 *   raft-sim --bug NAME ...                plant a bug: commit-old-term,
 *                                          double-vote, vote-before-persist,
 *                                          commit-unsynced,
 *                                          conf-before-term-commit,
 *                                          two-pending-conf (which also turns
 *                                          the direct one-pending check off)
 *   raft-sim --elections N [--forget]      election-time benchmark; with
 *                                          --forget the followers are told
 *                                          the crashed leader is gone
 *                                          (raft_forget_leader())
 *   -v (per-seed summary)  --trace (print every event)
 *
 * Exit status 1 on the first violation, after printing the seed, what was
 * violated, the last events and the command that replays it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft/sim.h"

int sim_elections(unsigned int count, uint64_t seed, bool forget);

static void usage(void)
{
	fprintf(stderr, "usage: raft-sim [--seed S | --seeds A..B | --budget STEPS] [--steps K]\n"
			"                [--bug NAME] [-v] [--trace]\n"
			"       raft-sim --elections N [--forget] [--seed S]\n");
	exit(2);
}

static uint64_t parse_num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		usage();
	return v;
}

static const struct {
	const char *name;
	unsigned int bug;
} bugs[] = {
	{ "commit-old-term", RAFT_BUG_COMMIT_OLD_TERM },
	{ "double-vote", RAFT_BUG_DOUBLE_VOTE },
	{ "vote-before-persist", RAFT_BUG_VOTE_BEFORE_PERSIST },
	{ "commit-unsynced", RAFT_BUG_COMMIT_UNSYNCED },
	{ "conf-before-term-commit", RAFT_BUG_CONF_BEFORE_TERM_COMMIT },
	{ "two-pending-conf", RAFT_BUG_TWO_PENDING_CONF },
};

static const char *bug_name(unsigned int bug)
{
	size_t i;

	for (i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++)
		if (bug & bugs[i].bug)
			return bugs[i].name;
	return NULL;
}

static unsigned int bug_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++)
		if (!strcmp(name, bugs[i].name))
			return bugs[i].bug;
	usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_options opt = { .steps = 20000 };
	uint64_t first = 0, last = 0, budget = 0, total = 0, seeds = 0, elections = 0;
	uint64_t commits = 0, crashes = 0, confs = 0, snaps = 0, reads = 0;
	uint64_t forgets = 0, forgets_false = 0;
	uint64_t failures = 0, batches = 0, torn = 0, lost = 0, inflight = 0;
	struct timespec t0, t1;
	unsigned int election_runs = 0;
	bool have_seed = false, forget = false;
	static struct sim s;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			first = last = parse_num(argv[++i]);
			have_seed = true;
		} else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
			char *dots = strstr(argv[++i], "..");

			if (!dots)
				usage();
			*dots = 0;
			first = parse_num(argv[i]);
			last = parse_num(dots + 2);
			have_seed = true;
		} else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
			opt.steps = parse_num(argv[++i]);
		} else if (!strcmp(argv[i], "--budget") && i + 1 < argc) {
			budget = parse_num(argv[++i]);
		} else if (!strcmp(argv[i], "--elections") && i + 1 < argc) {
			election_runs = parse_num(argv[++i]);
		} else if (!strcmp(argv[i], "--bug") && i + 1 < argc) {
			opt.bugs |= bug_parse(argv[++i]);
			/* Two changes pending: the invariants must catch it, not this check. */
			if (opt.bugs & RAFT_BUG_TWO_PENDING_CONF)
				opt.no_pending_check = true;
		} else if (!strcmp(argv[i], "--forget")) {
			forget = true;
		} else if (!strcmp(argv[i], "-v")) {
			opt.verbose = true;
		} else if (!strcmp(argv[i], "--trace")) {
			opt.trace_all = true;
		} else {
			usage();
		}
	}
	if (election_runs)
		return sim_elections(election_runs, have_seed ? first : (uint64_t)time(NULL),
				     forget);
	if (!have_seed) {
		struct timespec ts;

		/* Fresh seeds each run, printed so a failure can be replayed. */
		clock_gettime(CLOCK_REALTIME, &ts);
		first = (uint64_t)ts.tv_sec * 1000003 ^ ts.tv_nsec;
		first %= 1000000000000ULL;
		last = budget ? UINT64_MAX : first;
	}
	printf("raft-sim: seeds from %llu, %llu steps each%s%s\n", (unsigned long long)first,
	       (unsigned long long)opt.steps, opt.bugs ? ", planted bug: " : "",
	       opt.bugs ? bug_name(opt.bugs) : "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (opt.seed = first; ; opt.seed++) {
		int rc = sim_run(&opt, &s);

		seeds++;
		total += s.steps;
		elections += s.elections;
		commits += s.commits;
		crashes += s.crashes;
		confs += s.conf_changes;
		snaps += s.snapshots_sent;
		reads += s.reads;
		forgets += s.forgets;
		forgets_false += s.forgets_false;
		failures += s.storage_failures;
		batches += s.batches;
		torn += s.fs.torn_writes;
		lost += s.fs.lost_writes;
		if (s.max_tickets_in_flight > inflight)
			inflight = s.max_tickets_in_flight;
		if (opt.verbose)
			printf("seed %llu: %d nodes, %llu steps, %llu ms, %llu elections, "
			       "%llu commits, %llu crashes\n", (unsigned long long)opt.seed,
			       s.n_nodes, (unsigned long long)s.steps, (unsigned long long)s.now,
			       (unsigned long long)s.elections, (unsigned long long)s.commits,
			       (unsigned long long)s.crashes);
		if (rc) {
			printf("VIOLATION seed %llu: %s\nlast events:\n",
			       (unsigned long long)opt.seed, s.violation);
			sim_dump_trace(&s, stdout);
			printf("nodes:\n%s", s.nodes_dump);
			printf("after %llu seeds, %llu steps\n", (unsigned long long)seeds,
			       (unsigned long long)total);
			printf("replay: raft-sim --seed %llu --steps %llu%s%s\n",
			       (unsigned long long)opt.seed, (unsigned long long)opt.steps,
			       opt.bugs ? " --bug " : "", opt.bugs ? bug_name(opt.bugs) : "");
			return 1;
		}
		if (opt.seed == last || (budget && total >= budget))
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("raft-sim: %llu seeds (%llu..%llu), %llu steps, 0 violations; %llu elections, "
	       "%llu commits, %llu crashes, %llu conf changes, %llu snapshots sent, "
	       "%llu reads\n", (unsigned long long)seeds, (unsigned long long)first,
	       (unsigned long long)opt.seed, (unsigned long long)total,
	       (unsigned long long)elections, (unsigned long long)commits,
	       (unsigned long long)crashes, (unsigned long long)confs,
	       (unsigned long long)snaps, (unsigned long long)reads);
	printf("leaders forgotten: %llu, %llu of them while the leader was up\n",
	       (unsigned long long)forgets, (unsigned long long)forgets_false);
	printf("storage: %llu batches durable, %llu nodes stopped by a storage failure, "
	       "%llu writes torn and %llu lost by crashes, up to %llu tickets in flight; "
	       "%.1f s\n", (unsigned long long)batches, (unsigned long long)failures,
	       (unsigned long long)torn, (unsigned long long)lost, (unsigned long long)inflight,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
