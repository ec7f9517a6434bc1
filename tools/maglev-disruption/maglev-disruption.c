// SPDX-License-Identifier: GPL-2.0
/*
 * maglev-disruption: how many table entries a change moves, and how
 * balanced the table is afterwards, for the classic rebuild and for the
 * incremental update, from the same starting table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maglev-disruption/experiment.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: maglev-disruption [-n N] [-m M] [-w WEIGHTS] [-s SEED] CHANGE\n"
		"  -n N        backends before the change (default 100)\n"
		"  -m M        table size, prime (default 16381)\n"
		"  -w WEIGHTS  1 (all equal, default), 1,2,3 (repeated) or random:LO-HI\n"
		"  -s SEED     picks the hash seed, random weights and the backends\n"
		"              the change concerns (default 1)\n"
		"  CHANGE      remove:K, remove:P%%, add:K[:W], down:K, drain:K,\n"
		"              weight:K:W (one batch)\n"
		"Prints entries moved (and per entry that had to change hands) and the\n"
		"balance afterwards: the largest entries / fair share.\n");
}

static void row(const char *name, const struct experiment *e,
		const struct outcome *o)
{
	printf("%-20s %9zu %8.3f%% %10.3f %9.5f %9.2f\n", name, o->moved,
	       100.0 * o->moved / e->m, e->needed > 0 ? o->moved / e->needed : 0,
	       o->balance, o->max_dev);
}

int main(int argc, char **argv)
{
	unsigned long n = 100, m = 16381;
	unsigned long long seed = 1;
	const char *weights = "1";
	struct outcome classic, incr;
	struct maglev_state st;
	struct experiment e;
	uint16_t *next;
	int c, err;

	while ((c = getopt(argc, argv, "n:m:w:s:h")) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			m = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			weights = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || m > UINT32_MAX) {
		usage(stderr);
		return 2;
	}
	if (experiment_init(&e, n, m, weights, argv[optind], seed))
		return 2;
	next = malloc(m * sizeof(*next));
	err = next ? maglev_state_init(&st, m, &e.seed, e.before, n) :
	      -MAGLEV_E_NOMEM;
	if (!err)
		err = experiment_classic(&e, st.table, next);
	if (err) {
		fprintf(stderr, "maglev-disruption: %s\n", maglev_strerror(err));
		return 1;
	}
	experiment_measure(&e, st.table, next, &classic);
	memcpy(next, st.table, m * sizeof(*next));
	err = experiment_incremental(&e, &st);
	if (err) {
		fprintf(stderr, "maglev-disruption: %s\n", maglev_strerror(err));
		return 1;
	}
	experiment_measure(&e, next, st.table, &incr);

	printf("N=%lu M=%lu weights=%s change=%s seed=%llu\n", n, m, weights,
	       argv[optind], seed);
	printf("fair share that changes hands: %.1f entries\n", e.needed);
	printf("%-20s %9s %9s %10s %9s %9s\n", "", "moved", "of M",
	       "per needed", "balance", "max|dev|");
	row("classic rebuild", &e, &classic);
	row("incremental", &e, &incr);
	maglev_state_free(&st);
	free(next);
	experiment_free(&e);
	return 0;
}
