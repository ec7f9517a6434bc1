/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus endpoint (`metrics` in klbd.conf): GET /metrics in the
 * text exposition format, served by a small HTTP/1.0-style server on
 * klbd's ring. One request per connection, answered, then closed. The
 * values are read when the request comes: the kernel's counters over
 * netlink, the rest from klbd's own structures; the histograms below are
 * filled by their owners as things happen.
 */
#ifndef KLBD_METRICS_H
#define KLBD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klbd/loop.h"
#include "lib/klb_client.h"

/* Bounds, each with a counter. */
#define METRICS_CLIENTS_MAX	16		/* connections at once */
#define METRICS_REQUEST_MAX	4096		/* request line and headers */
#define METRICS_TIMEOUT_MS	10000		/* a whole exchange */
#define METRICS_LINGER_MS	1000		/* after the answer, for the client's EOF */
#define METRICS_RESPONSE_MAX	(64u << 20)	/* the body */
#define METRICS_STATS_RECS_MAX	65536		/* services and backends read */

/* Latencies from 1 ms to 5 s: upper bounds in seconds, in metrics.c. */
#define METRICS_HIST_BUCKETS	12

struct metrics_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t bucket[METRICS_HIST_BUCKETS];	/* each its own, not cumulative */
};

/* Counts one observation of ns nanoseconds. */
void metrics_observe(struct metrics_hist *h, uint64_t ns);

enum metrics_code {
	METRICS_200,
	METRICS_400,
	METRICS_404,
	METRICS_405,
	METRICS_431,	/* the request is over METRICS_REQUEST_MAX */
	METRICS_500,	/* the body would be over METRICS_RESPONSE_MAX */
	METRICS_CODES
};

struct metrics_client;

struct metrics {
	int fd;				/* -1: off */
	struct loop_ev listen_ev, timer_ev;
	struct __kernel_timespec timer_ts;
	struct metrics_client *clients;
	size_t n_clients;
	/* Its own netlink client: reading counters leaves reconcile's alone. */
	struct klb_client nl;
	bool nl_open;
	/* A generation klbd did not set: when a scrape first saw it. */
	uint64_t gen_seen, gen_seen_ms;
	/* Filled by their owners. */
	struct metrics_hist probe;	/* probe.c: a probe's start to its result */
	struct metrics_hist proposal;	/* node.c: proposed here to applied here */
	struct metrics_hist reconcile;	/* reconcile.c: a successful push */
	/* The server's own counters. */
	uint64_t requests[METRICS_CODES];
	uint64_t clients_over_limit, timeouts;
};

struct klbd;

/* Listens on cfg.metrics, when set. */
int metrics_start(struct klbd *d, char *err, size_t err_len);
/* Frees the connections that are closed and have nothing in flight. */
void metrics_reap(struct klbd *d);

#endif
