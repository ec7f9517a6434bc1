/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klb-loadgen: what a run is asked to do, and the pieces that do it.
 */
#ifndef KLB_LOADGEN_LOADGEN_H
#define KLB_LOADGEN_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "stats.h"

/* Exit statuses, documented in Documentation/loadgen.md. */
#define LG_EXIT_OK		0
#define LG_EXIT_ERRORS		1	/* the run completed, some requests failed */
#define LG_EXIT_USAGE		2
#define LG_EXIT_FATAL		3	/* the run could not be made */

#define LG_NSEC_PER_SEC		1000000000ull

struct lg_config {
	struct lg_addr target;
	bool udp;
	unsigned int concurrency;	/* short-lived: requests in flight */
	unsigned int long_lived;	/* flows held open; 0 for short-lived */
	uint64_t interval_ns;		/* long-lived: between requests of a flow */
	double rate;			/* new flows per second, 0 for no limit */
	uint64_t duration_ns;		/* 0: until count */
	uint64_t count;			/* requests in all; 0: until duration */
	uint64_t timeout_ns;		/* for a connection, and for each reply */
	struct lg_addr *sources;	/* bound round robin; none: the kernel's */
	unsigned int nr_sources;
	uint64_t progress_ns;		/* 0: no progress lines */
	bool json;
};

/*
 * Runs the traffic the config asks for, filling stats, printing progress
 * lines on the way; *interrupted tells whether SIGINT or SIGTERM cut it
 * short. Returns the nanoseconds it ran, or 0 after printing why it could
 * not run.
 */
uint64_t lg_client_run(const struct lg_config *cfg, struct lg_stats *stats,
		       bool *interrupted);

void lg_report_progress(const struct lg_config *cfg, struct lg_stats *stats,
			uint64_t elapsed_ns);
void lg_report_summary(const struct lg_config *cfg, struct lg_stats *stats,
		       uint64_t elapsed_ns, bool interrupted);

#endif /* KLB_LOADGEN_LOADGEN_H */
