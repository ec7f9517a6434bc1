// SPDX-License-Identifier: GPL-2.0
/*
 * maglev-bench: the Maglev table library's benchmark. For N backends in
 * {3, 10, 100, 1000} and M in {65537, 655373}, and for removing one backend,
 * removing 5% of them and adding one: entries moved and balance for the
 * classic rebuild and for the incremental update side by side, and the wall
 * time of a classic build and of an incremental update (median of runs).
 *
 * "--one build" and "--one update" do exactly one operation, for
 * instruction counts:
 *   valgrind --tool=callgrind --toggle-collect=maglev_build \
 *	build/tools/bench/maglev-bench --one build -n 1000 -m 65537
 *   valgrind --tool=callgrind --toggle-collect=maglev_update \
 *	build/tools/bench/maglev-bench --one update -n 1000 -m 65537 -c remove:1
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <klb/flow_hash.h>
#include <klb/maglev.h>

#include "maglev-disruption/experiment.h"

static double clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this process: what the wall time would be on an idle host. */
static double cpu_ms(void)
{
	return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
	struct outcome classic, incr;
	double build_ms, update_ms;		/* wall */
	double build_cpu, update_cpu;		/* CPU */
};

static int run(const struct experiment *e, int reps, struct result *r)
{
	double build[15], update[15], build_cpu[15], update_cpu[15];
	struct maglev_state start, st;
	uint16_t *next = malloc(e->m * sizeof(*next));
	int i, err;

	if (!next)
		return -MAGLEV_E_NOMEM;
	err = maglev_state_init(&start, e->m, &e->seed, e->before, e->n);
	if (err)
		goto out;
	for (i = 0; i < reps && !err; i++) {
		double t0 = now_ms(), c0 = cpu_ms();

		err = maglev_build(next, e->m, &e->seed, e->before, e->n);
		build_cpu[i] = cpu_ms() - c0;
		build[i] = now_ms() - t0;
	}
	if (!err)
		err = experiment_classic(e, start.table, next);
	if (err)
		goto free_start;
	experiment_measure(e, start.table, next, &r->classic);
	for (i = 0; i < reps && !err; i++) {
		double t0, c0;

		err = maglev_state_copy(&st, &start);
		if (err)
			break;
		t0 = now_ms();
		c0 = cpu_ms();
		err = experiment_incremental(e, &st);
		update_cpu[i] = cpu_ms() - c0;
		update[i] = now_ms() - t0;
		if (!err && i == reps - 1)
			experiment_measure(e, start.table, st.table, &r->incr);
		maglev_state_free(&st);
	}
	r->build_ms = median(build, reps);
	r->update_ms = median(update, reps);
	r->build_cpu = median(build_cpu, reps);
	r->update_cpu = median(update_cpu, reps);
free_start:
	maglev_state_free(&start);
out:
	free(next);
	return err;
}

static void print_machine(void)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			printf("# cpu:%s", strchr(line, ':') + 1);
			break;
		}
	}
	if (f)
		fclose(f);
}

static int table(const char *weights, const char *add)
{
	static const unsigned int ns[] = { 3, 10, 100, 1000 };
	static const unsigned int ms[] = { 65537, 655373 };
	const char *const changes[] = { "remove:1", "remove:5%", add };
	size_t ni, mi, ci;

	printf("# weights %s; need: fair share that changes hands; mv/need: "
	       "entries moved per entry needed; bal: max entries / fair share; "
	       "build, update: median ms, wall/CPU\n", weights);
	printf("%5s %6s %-10s %8s | %8s %8s | %6s %6s | %7s %7s | %13s %13s\n",
	       "N", "M", "change", "need", "moved-cl", "moved-in",
	       "mv/n-c", "mv/n-i", "bal-cl", "bal-in", "build", "update");
	for (mi = 0; mi < 2; mi++) {
		for (ni = 0; ni < 4; ni++) {
			for (ci = 0; ci < 3; ci++) {
				struct experiment e;
				struct result r;
				int err;

				if (experiment_init(&e, ns[ni], ms[mi], weights,
						    changes[ci], 1))
					return 1;
				err = run(&e, ms[mi] < 100000 ? 9 : 3, &r);
				if (err) {
					fprintf(stderr, "maglev-bench: %s\n",
						maglev_strerror(err));
					return 1;
				}
				printf("%5zu %6u %-10s %8.1f | %8zu %8zu | %6.3f %6.3f | "
				       "%7.4f %7.4f | %6.2f/%6.2f %6.2f/%6.2f\n",
				       e.n, e.m, changes[ci], e.needed,
				       r.classic.moved, r.incr.moved,
				       r.classic.moved / e.needed,
				       r.incr.moved / e.needed,
				       r.classic.balance, r.incr.balance,
				       r.build_ms, r.build_cpu, r.update_ms,
				       r.update_cpu);
				fflush(stdout);
				experiment_free(&e);
			}
		}
	}
	return 0;
}

/*
 * The per-packet side: the flow hash and a flow's candidates, in ns per
 * call (what klb.ko runs for a new flow).
 */
static int packet_path(void)
{
	enum { FLOWS = 1 << 20, N = 1000, M = 65537 };
	static const unsigned int wants[] = { 1, 2, 4 };
	struct klb_flow_key key = { .family = 10, .proto = 6 };
	struct klb_hash_seed seed = { 1, 2 };
	struct experiment e;
	uint16_t *table, ids[4];
	uint64_t sink = 0;
	double t0, t;
	uint32_t i;
	int src;
	size_t k;

	if (experiment_init(&e, N, M, "1", "remove:0", 1))
		return 1;
	table = malloc(M * sizeof(*table));
	if (!table || maglev_build(table, M, &e.seed, e.before, N))
		return 1;
	printf("# per new flow, CPU time: SipHash-2-4 flow hash, %d flows\n",
	       FLOWS);
	for (src = 0; src < 2; src++) {
		t0 = cpu_ms();
		for (i = 0; i < FLOWS; i++) {
			key.sport = i;
			key.saddr[15] = i >> 16;
			key.saddr[14] = i >> 8;
			sink += klb_flow_hash(&key, &seed, src);
		}
		t = cpu_ms() - t0;
		printf("flow hash, %-12s %7.1f ns\n",
		       src ? "source only" : "five-tuple", t * 1e6 / FLOWS);
	}
	for (k = 0; k < 3; k++) {
		t0 = cpu_ms();
		for (i = 0; i < FLOWS; i++)
			sink += klb_maglev_candidates(table, M, sink * 31 + i,
						      ids, wants[k], 64);
		t = cpu_ms() - t0;
		printf("first %u candidate%s of %d backends, M %d: %7.1f ns\n",
		       wants[k], wants[k] > 1 ? "s" : " ", N, M,
		       t * 1e6 / FLOWS);
	}
	free(table);
	experiment_free(&e);
	return sink == 42;	/* keeps the loops */
}

static int one(const char *what, unsigned long n, unsigned long m,
	       const char *weights, const char *change)
{
	struct maglev_state st;
	struct experiment e;
	uint16_t *next;
	int err;

	if (experiment_init(&e, n, m, weights, change, 1))
		return 2;
	next = malloc(m * sizeof(*next));
	if (!next)
		return 1;
	if (!strcmp(what, "build")) {
		err = maglev_build(next, m, &e.seed, e.before, e.n);
	} else {
		err = maglev_state_init(&st, m, &e.seed, e.before, e.n);
		if (!err)
			err = experiment_incremental(&e, &st);
		if (!err)
			maglev_state_free(&st);
	}
	if (err)
		fprintf(stderr, "maglev-bench: %s\n", maglev_strerror(err));
	free(next);
	experiment_free(&e);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "one", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = NULL, *weights = "1", *change = "remove:1";
	unsigned long n = 1000, m = 65537;
	int c;

	while ((c = getopt_long(argc, argv, "n:m:w:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			what = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			m = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			weights = optarg;
			break;
		case 'c':
			change = optarg;
			break;
		default:
			fprintf(stderr, "usage: maglev-bench [--one build|update "
				"[-n N] [-m M] [-w WEIGHTS] [-c CHANGE]]\n");
			return 2;
		}
	}
	if (what) {
		if (strcmp(what, "build") && strcmp(what, "update")) {
			fprintf(stderr, "--one build or --one update\n");
			return 2;
		}
		return one(what, n, m, weights, change);
	}
	printf("# maglev-bench: Maglev tables, classic rebuild vs incremental update\n");
	print_machine();
	if (packet_path())
		return 1;
	printf("\n");
	if (table("1", "add:1"))
		return 1;
	printf("\n");
	return table("random:1-100", "add:1:50");
}
