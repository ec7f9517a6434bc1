/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a run counts: attempts, successes, errors by kind, latency, and
 * the replies each backend identity gave.
 */
#ifndef KLB_LOADGEN_STATS_H
#define KLB_LOADGEN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "proto.h"

enum lg_err {
	LG_ERR_REFUSED,		/* RST to a SYN, or ICMP port unreachable */
	LG_ERR_RESET,		/* an established connection reset */
	LG_ERR_TIMEOUT,		/* no connection or no reply in --timeout */
	LG_ERR_CLOSED,		/* the peer closed before it replied */
	LG_ERR_UNREACHABLE,	/* no route, host or network unreachable */
	LG_ERR_NO_PORT,		/* no local address or port left to connect from */
	LG_ERR_BAD_REPLY,	/* a reply that is not an identity line */
	LG_ERR_OTHER,
	LG_ERR_NR
};

extern const char *const lg_err_names[LG_ERR_NR];

/* The kind of a failed operation's negative errno. */
enum lg_err lg_err_of(int err);

struct lg_counts {
	uint64_t attempts;
	uint64_t successes;
	uint64_t errors[LG_ERR_NR];
};

struct lg_backend {
	char id[LG_ID_MAX + 1];
	uint64_t replies;
	uint64_t replies_before;	/* at the last progress line */
};

/* More identities than this are counted under LG_OTHER_ID. */
#define LG_BACKENDS_MAX		4096
#define LG_OTHER_ID		"(other)"

struct lg_stats {
	struct lg_counts counts;
	struct lg_counts counts_before;	/* at the last progress line */
	struct lg_hist latency;		/* nanoseconds, successes only */
	struct lg_backend *backends;
	size_t nr_backends;
	size_t cap_backends;
	uint64_t conns_opened;		/* long-lived: connections established */
	uint64_t conns_lost;		/* long-lived: of those, failed later */
};

uint64_t lg_errors_total(const struct lg_counts *counts);
void lg_stats_success(struct lg_stats *stats, const char *id, size_t len,
		      uint64_t latency_ns);
void lg_stats_error(struct lg_stats *stats, enum lg_err kind);
/* Backends by identity, for reports that must not depend on arrival order. */
void lg_stats_sort_backends(struct lg_stats *stats);
void lg_stats_free(struct lg_stats *stats);

#endif /* KLB_LOADGEN_STATS_H */
