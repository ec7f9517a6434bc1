// SPDX-License-Identifier: GPL-2.0
/*
 * klb-loadgen: TCP connections or UDP requests to one address, counted by
 * the backend that answered. Options and exit status; the traffic is in
 * client.c, the reports in report.c.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "loadgen.h"

#define DEFAULT_CONCURRENCY	16
#define DEFAULT_DURATION_NS	(5 * LG_NSEC_PER_SEC)
#define DEFAULT_INTERVAL_NS	LG_NSEC_PER_SEC
#define DEFAULT_TIMEOUT_NS	LG_NSEC_PER_SEC
#define MAX_FLOWS		(1u << 20)

static const char usage_text[] =
	"usage: klb-loadgen [--tcp|--udp] [-c N] [-l N [-i TIME]] [-r RATE]\n"
	"                   [-d TIME] [-n COUNT] [-t TIME] [-s ADDR[,ADDR...]]\n"
	"                   [-p TIME] [-j] ADDR:PORT\n"
	"  --tcp                  TCP, a connection per request (default)\n"
	"  --udp                  UDP, a new socket per request\n"
	"  -c, --concurrency N    requests in flight at once (default 16)\n"
	"  -l, --long-lived N     hold N flows open, each sending every interval\n"
	"  -i, --interval TIME    long-lived: between a flow's requests (default 1s)\n"
	"  -r, --rate RATE        new flows per second at most (default: no limit)\n"
	"  -d, --duration TIME    stop starting requests after TIME (default 5s)\n"
	"  -n, --count COUNT      stop after COUNT requests\n"
	"  -t, --timeout TIME     for a connection, and for each reply (default 1s)\n"
	"  -s, --source ADDRS     local addresses to connect from, in turn\n"
	"  -p, --progress TIME    a line with the counts of each period TIME\n"
	"  -j, --json             JSON: one object per line, the summary last\n"
	"TIME is seconds, or a number with a unit: 250ms, 2s, 1m.\n"
	"Exit status: 0 all requests answered, 1 some failed, 2 usage, 3 could not run.\n";

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("klb-loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return LG_EXIT_USAGE;
}

/* Seconds with an optional unit, to nanoseconds; false if not a time > 0. */
static bool parse_time(const char *text, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "m", 60e9 },
	};
	double val;
	char *end;
	size_t i;

	errno = 0;
	val = strtod(text, &end);
	if (errno || end == text || !(val > 0) || !isfinite(val))
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].suffix)) {
			val *= units[i].scale;
			if (val < 1 || val > 1e18)
				return false;
			*ns = (uint64_t)val;
			return true;
		}
	}
	return false;
}

static bool parse_count(const char *text, uint64_t max, uint64_t *out)
{
	unsigned long long val;
	char *end;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	val = strtoull(text, &end, 10);
	if (errno || *end || val == 0 || val > max)
		return false;
	*out = val;
	return true;
}

static int parse_sources(char *list, struct lg_config *cfg)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct lg_addr *more = realloc(cfg->sources,
					       (cfg->nr_sources + 1) * sizeof(*more));

		if (!more)
			return -ENOMEM;
		cfg->sources = more;
		if (lg_addr_parse_host(tok, &cfg->sources[cfg->nr_sources]))
			return -EINVAL;
		cfg->nr_sources++;
	}
	return cfg->nr_sources ? 0 : -EINVAL;
}

/* Thousands of flows need as many descriptors: take what the hard limit allows. */
static void raise_fd_limit(unsigned int flows)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim))
		return;
	if (lim.rlim_cur >= (rlim_t)flows + 64)
		return;
	lim.rlim_cur = lim.rlim_max;
	setrlimit(RLIMIT_NOFILE, &lim);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcp", no_argument, NULL, 'T' },
		{ "udp", no_argument, NULL, 'U' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "connections", required_argument, NULL, 'c' },
		{ "long-lived", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },
		{ "progress", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lg_config cfg = {
		.concurrency = DEFAULT_CONCURRENCY,
		.interval_ns = DEFAULT_INTERVAL_NS,
		.timeout_ns = DEFAULT_TIMEOUT_NS,
	};
	struct lg_stats stats = { 0 };
	bool tcp = false, interval_set = false, interrupted;
	uint64_t val, elapsed;
	char *end;
	unsigned int i;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:l:i:r:d:n:t:s:p:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			tcp = true;
			break;
		case 'U':
			cfg.udp = true;
			break;
		case 'c':
			if (!parse_count(optarg, MAX_FLOWS, &val))
				return usage_error("bad --concurrency '%s'", optarg);
			cfg.concurrency = (unsigned int)val;
			break;
		case 'l':
			if (!parse_count(optarg, MAX_FLOWS, &val))
				return usage_error("bad --long-lived '%s'", optarg);
			cfg.long_lived = (unsigned int)val;
			break;
		case 'i':
			if (!parse_time(optarg, &cfg.interval_ns))
				return usage_error("bad --interval '%s'", optarg);
			interval_set = true;
			break;
		case 'r':
			errno = 0;
			cfg.rate = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(cfg.rate > 0) ||
			    cfg.rate > 1e9)
				return usage_error("bad --rate '%s'", optarg);
			break;
		case 'd':
			if (!parse_time(optarg, &cfg.duration_ns))
				return usage_error("bad --duration '%s'", optarg);
			break;
		case 'n':
			if (!parse_count(optarg, UINT64_MAX >> 1, &cfg.count))
				return usage_error("bad --count '%s'", optarg);
			break;
		case 't':
			if (!parse_time(optarg, &cfg.timeout_ns))
				return usage_error("bad --timeout '%s'", optarg);
			break;
		case 's':
			if (parse_sources(optarg, &cfg))
				return usage_error("bad --source '%s'", optarg);
			break;
		case 'p':
			if (!parse_time(optarg, &cfg.progress_ns))
				return usage_error("bad --progress '%s'", optarg);
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return LG_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error(optind == argc ? "no target given" : "one target only");
	if (lg_addr_parse(argv[optind], false, &cfg.target))
		return usage_error("bad target '%s' (want 192.0.2.1:80 or [2001:db8::1]:80)",
				   argv[optind]);
	if (tcp && cfg.udp)
		return usage_error("--tcp and --udp exclude each other");
	if (interval_set && !cfg.long_lived)
		return usage_error("--interval is for --long-lived flows");
	for (i = 0; i < cfg.nr_sources; i++)
		if (cfg.sources[i].ss.ss_family != cfg.target.ss.ss_family)
			return usage_error("--source addresses must be of the target's family");
	if (!cfg.duration_ns && !cfg.count)
		cfg.duration_ns = DEFAULT_DURATION_NS;

	raise_fd_limit(cfg.long_lived ? cfg.long_lived : cfg.concurrency);
	elapsed = lg_client_run(&cfg, &stats, &interrupted);
	if (!elapsed) {
		lg_stats_free(&stats);
		free(cfg.sources);
		return LG_EXIT_FATAL;
	}
	lg_report_summary(&cfg, &stats, elapsed, interrupted);
	val = lg_errors_total(&stats.counts);
	lg_stats_free(&stats);
	free(cfg.sources);
	return val ? LG_EXIT_ERRORS : LG_EXIT_OK;
}
