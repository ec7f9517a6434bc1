// SPDX-License-Identifier: GPL-2.0
/*
 * Reports: the summary at the end and the progress lines on the way, in
 * text for people or in JSON (one object per line) for programs. Both
 * are built from the same numbers, in the same order.
 */

#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>

#include "loadgen.h"

static const char *rate_unit(const struct lg_config *cfg)
{
	return !cfg->udp && !cfg->long_lived ? "conn/s" : "req/s";
}

static double per_second(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* Doubles rounded as a reader wants them, not to 17 digits. */
static json_object *json_double(double val, int decimals)
{
	char text[64];

	snprintf(text, sizeof(text), "%.*f", decimals, val);
	return json_object_new_double_s(val, text);
}

static json_object *json_errors(const struct lg_counts *now,
				const struct lg_counts *before)
{
	json_object *errors = json_object_new_object();
	int i;

	json_object_object_add(errors, "total",
			       json_object_new_int64((int64_t)(lg_errors_total(now) -
							       lg_errors_total(before))));
	for (i = 0; i < LG_ERR_NR; i++)
		json_object_object_add(errors, lg_err_names[i],
				       json_object_new_int64((int64_t)(now->errors[i] -
								       before->errors[i])));
	return errors;
}

static void print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
}

void lg_report_progress(const struct lg_config *cfg, struct lg_stats *stats,
			uint64_t elapsed_ns)
{
	const struct lg_counts *now = &stats->counts, *before = &stats->counts_before;
	uint64_t ok = now->successes - before->successes;
	size_t i;
	int k;

	lg_stats_sort_backends(stats);
	if (cfg->json) {
		json_object *obj = json_object_new_object();
		json_object *backends = json_object_new_object();

		json_object_object_add(obj, "type", json_object_new_string("progress"));
		json_object_object_add(obj, "elapsed_s",
				       json_double((double)elapsed_ns / 1e9, 3));
		json_object_object_add(obj, "attempts",
				       json_object_new_int64((int64_t)(now->attempts -
								       before->attempts)));
		json_object_object_add(obj, "successes", json_object_new_int64((int64_t)ok));
		json_object_object_add(obj, "errors", json_errors(now, before));
		json_object_object_add(obj, "rate",
				       json_double(per_second(ok, cfg->progress_ns), 1));
		for (i = 0; i < stats->nr_backends; i++) {
			struct lg_backend *b = &stats->backends[i];

			json_object_object_add(backends, b->id,
					       json_object_new_int64((int64_t)(b->replies -
									       b->replies_before)));
		}
		json_object_object_add(obj, "backends", backends);
		print_json(obj);
	} else {
		printf("%8.1f s  attempts %" PRIu64 "  ok %" PRIu64 "  errors %" PRIu64
		       "  %.0f %s",
		       (double)elapsed_ns / 1e9, now->attempts - before->attempts, ok,
		       lg_errors_total(now) - lg_errors_total(before),
		       per_second(ok, cfg->progress_ns), rate_unit(cfg));
		for (k = 0; k < LG_ERR_NR; k++)
			if (now->errors[k] != before->errors[k])
				printf(" %s %" PRIu64, lg_err_names[k],
				       now->errors[k] - before->errors[k]);
		printf("  |");
		for (i = 0; i < stats->nr_backends; i++)
			printf(" %s %" PRIu64, stats->backends[i].id,
			       stats->backends[i].replies - stats->backends[i].replies_before);
		putchar('\n');
		fflush(stdout);
	}
	stats->counts_before = stats->counts;
	for (i = 0; i < stats->nr_backends; i++)
		stats->backends[i].replies_before = stats->backends[i].replies;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

static void summary_json(const struct lg_config *cfg, struct lg_stats *stats,
			 uint64_t elapsed_ns, bool interrupted)
{
	static const struct lg_counts zero;
	const struct lg_counts *n = &stats->counts;
	json_object *obj = json_object_new_object();
	json_object *latency = json_object_new_object();
	json_object *backends = json_object_new_object();
	char target[LG_ADDR_STRLEN];
	size_t i;

	json_object_object_add(obj, "type", json_object_new_string("summary"));
	json_object_object_add(obj, "protocol", json_object_new_string(cfg->udp ? "udp" : "tcp"));
	json_object_object_add(obj, "mode", json_object_new_string(cfg->long_lived ?
								     "long-lived" :
								     "short-lived"));
	json_object_object_add(obj, "target",
			       json_object_new_string(lg_addr_format((const struct sockaddr *)
								     &cfg->target.ss, target)));
	json_object_object_add(obj, "elapsed_s", json_double((double)elapsed_ns / 1e9, 3));
	json_object_object_add(obj, "interrupted", json_object_new_boolean(interrupted));
	json_object_object_add(obj, "attempts", json_object_new_int64((int64_t)n->attempts));
	json_object_object_add(obj, "successes", json_object_new_int64((int64_t)n->successes));
	json_object_object_add(obj, "errors", json_errors(n, &zero));
	json_object_object_add(obj, "rate",
			       json_double(per_second(n->successes, elapsed_ns), 1));
	json_object_object_add(obj, "rate_unit", json_object_new_string(rate_unit(cfg)));
	json_object_object_add(latency, "p50",
			       json_double(lg_hist_quantile(&stats->latency, 0.50) / 1e3, 1));
	json_object_object_add(latency, "p90",
			       json_double(lg_hist_quantile(&stats->latency, 0.90) / 1e3, 1));
	json_object_object_add(latency, "p99",
			       json_double(lg_hist_quantile(&stats->latency, 0.99) / 1e3, 1));
	json_object_object_add(latency, "max",
			       json_double(stats->latency.max / 1e3, 1));
	json_object_object_add(obj, "latency_us", latency);
	if (cfg->long_lived && !cfg->udp) {
		json_object *conns = json_object_new_object();

		json_object_object_add(conns, "opened",
				       json_object_new_int64((int64_t)stats->conns_opened));
		json_object_object_add(conns, "lost",
				       json_object_new_int64((int64_t)stats->conns_lost));
		json_object_object_add(obj, "connections", conns);
	}
	for (i = 0; i < stats->nr_backends; i++) {
		struct lg_backend *b = &stats->backends[i];
		json_object *one = json_object_new_object();

		json_object_object_add(one, "replies", json_object_new_int64((int64_t)b->replies));
		json_object_object_add(one, "share",
				       json_double(share(b->replies, n->successes), 4));
		json_object_object_add(backends, b->id, one);
	}
	json_object_object_add(obj, "backends", backends);
	print_json(obj);
}

static void summary_text(const struct lg_config *cfg, struct lg_stats *stats,
			 uint64_t elapsed_ns, bool interrupted)
{
	const struct lg_counts *n = &stats->counts;
	uint64_t failed = lg_errors_total(n);
	char target[LG_ADDR_STRLEN];
	size_t i;
	int k;

	printf("%s %s to %s, %.2f s%s\n", cfg->udp ? "udp" : "tcp",
	       cfg->long_lived ? "long-lived" : "short-lived",
	       lg_addr_format((const struct sockaddr *)&cfg->target.ss, target),
	       (double)elapsed_ns / 1e9, interrupted ? " (interrupted)" : "");
	printf("requests     %" PRIu64 " attempted, %" PRIu64 " succeeded, %" PRIu64
	       " failed\n", n->attempts, n->successes, failed);
	if (cfg->long_lived && !cfg->udp)
		printf("connections  %" PRIu64 " opened, %" PRIu64 " lost\n",
		       stats->conns_opened, stats->conns_lost);
	printf("rate         %.1f %s\n", per_second(n->successes, elapsed_ns),
	       rate_unit(cfg));
	printf("latency      p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n",
	       lg_hist_quantile(&stats->latency, 0.50) / 1e3,
	       lg_hist_quantile(&stats->latency, 0.90) / 1e3,
	       lg_hist_quantile(&stats->latency, 0.99) / 1e3,
	       stats->latency.max / 1e3);
	if (failed) {
		printf("errors      ");
		for (k = 0; k < LG_ERR_NR; k++)
			if (n->errors[k])
				printf(" %s %" PRIu64, lg_err_names[k], n->errors[k]);
		putchar('\n');
	}
	for (i = 0; i < stats->nr_backends; i++)
		printf("backend      %-24s %10" PRIu64 "  %5.1f%%\n", stats->backends[i].id,
		       stats->backends[i].replies,
		       100.0 * share(stats->backends[i].replies, n->successes));
}

void lg_report_summary(const struct lg_config *cfg, struct lg_stats *stats,
		       uint64_t elapsed_ns, bool interrupted)
{
	lg_stats_sort_backends(stats);
	if (cfg->json)
		summary_json(cfg, stats, elapsed_ns, interrupted);
	else
		summary_text(cfg, stats, elapsed_ns, interrupted);
}
