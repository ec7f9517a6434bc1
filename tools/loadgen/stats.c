// SPDX-License-Identifier: GPL-2.0
/*
 * Counting. Backends are few (a service has tens of them at most), so a
 * linear search that starts at the identity seen last is enough: replies
 * of one flow come from one backend, one after the other.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *const lg_err_names[LG_ERR_NR] = {
	[LG_ERR_REFUSED] = "refused",
	[LG_ERR_RESET] = "reset",
	[LG_ERR_TIMEOUT] = "timeout",
	[LG_ERR_CLOSED] = "closed",
	[LG_ERR_UNREACHABLE] = "unreachable",
	[LG_ERR_NO_PORT] = "no_port",
	[LG_ERR_BAD_REPLY] = "bad_reply",
	[LG_ERR_OTHER] = "other",
};

enum lg_err lg_err_of(int err)
{
	switch (-err) {
	case ECONNREFUSED:
		return LG_ERR_REFUSED;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return LG_ERR_RESET;
	/* A linked timeout cancels the operation it guards. */
	case ECANCELED:
	case ETIME:
	case ETIMEDOUT:
		return LG_ERR_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return LG_ERR_UNREACHABLE;
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		return LG_ERR_NO_PORT;
	default:
		return LG_ERR_OTHER;
	}
}

uint64_t lg_errors_total(const struct lg_counts *counts)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < LG_ERR_NR; i++)
		total += counts->errors[i];
	return total;
}

static struct lg_backend *backend_add(struct lg_stats *stats, const char *id,
				      size_t len)
{
	struct lg_backend *b;

	if (stats->nr_backends == stats->cap_backends) {
		size_t cap = stats->cap_backends ? 2 * stats->cap_backends : 16;

		b = realloc(stats->backends, cap * sizeof(*b));
		if (!b) {
			fputs("klb-loadgen: out of memory\n", stderr);
			exit(3);
		}
		stats->backends = b;
		stats->cap_backends = cap;
	}
	b = &stats->backends[stats->nr_backends++];
	memset(b, 0, sizeof(*b));
	memcpy(b->id, id, len);
	return b;
}

static struct lg_backend *backend_find(struct lg_stats *stats, const char *id,
				       size_t len)
{
	static size_t last;
	size_t i, n = stats->nr_backends;

	for (i = 0; i < n; i++) {
		struct lg_backend *b = &stats->backends[(last + i) % n];

		if (strlen(b->id) == len && !memcmp(b->id, id, len)) {
			last = (last + i) % n;
			return b;
		}
	}
	if (n < LG_BACKENDS_MAX)
		return backend_add(stats, id, len);
	for (i = 0; i < n; i++)
		if (!strcmp(stats->backends[i].id, LG_OTHER_ID))
			return &stats->backends[i];
	return backend_add(stats, LG_OTHER_ID, strlen(LG_OTHER_ID));
}

void lg_stats_success(struct lg_stats *stats, const char *id, size_t len,
		      uint64_t latency_ns)
{
	stats->counts.successes++;
	backend_find(stats, id, len)->replies++;
	lg_hist_record(&stats->latency, latency_ns);
}

void lg_stats_error(struct lg_stats *stats, enum lg_err kind)
{
	stats->counts.errors[kind]++;
}

static int backend_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lg_backend *)a)->id,
		      ((const struct lg_backend *)b)->id);
}

void lg_stats_sort_backends(struct lg_stats *stats)
{
	if (stats->nr_backends)
		qsort(stats->backends, stats->nr_backends,
		      sizeof(*stats->backends), backend_cmp);
}

void lg_stats_free(struct lg_stats *stats)
{
	free(stats->backends);
	stats->backends = NULL;
	stats->nr_backends = 0;
	stats->cap_backends = 0;
}
