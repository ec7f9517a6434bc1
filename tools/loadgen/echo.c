// SPDX-License-Identifier: GPL-2.0
/*
 * klb-echo: the backend for tests and the demo. It answers every request
 * with its identity (see proto.h), on as many TCP and UDP listeners as it
 * is given, and optionally answers HTTP health checks. Options here; the
 * serving loop is in echo_server.c.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "echo.h"

static const char usage_text[] =
	"usage: klb-echo [--id NAME] [-t ADDR:PORT]... [-u ADDR:PORT]... [ADDR:PORT]...\n"
	"                [--http] [--http-status CODE] [--reuseport]\n"
	"  -i, --id NAME          the identity every reply carries (default: host name)\n"
	"  -t, --tcp ADDR:PORT    a TCP listener; port 0 lets the kernel choose\n"
	"  -u, --udp ADDR:PORT    a UDP listener\n"
	"  ADDR:PORT              both a TCP and a UDP listener\n"
	"      --http             TCP connections that start with GET or HEAD get an\n"
	"                         HTTP/1.0 answer with the identity as body\n"
	"      --http-status CODE the status of that answer (default 200; implies --http)\n"
	"      --reuseport        SO_REUSEPORT: several servers given the same port\n"
	"                         share its connections and datagrams (tests)\n"
	"Prints \"listening tcp|udp ADDR:PORT\" for each listener once it is ready,\n"
	"and serves until SIGINT or SIGTERM.\n"
	"Exit status: 0 after a signal, 1 could not serve, 2 usage.\n";

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("klb-echo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return ECHO_EXIT_USAGE;
}

static int add_listener(struct echo_config *cfg, const char *text, bool udp)
{
	struct echo_listener *more;

	more = realloc(cfg->listeners, (cfg->nr_listeners + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	cfg->listeners = more;
	more = &cfg->listeners[cfg->nr_listeners];
	memset(more, 0, sizeof(*more));
	more->fd = -1;
	more->udp = udp;
	if (lg_addr_parse(text, true, &more->addr))
		return -EINVAL;
	cfg->nr_listeners++;
	return 0;
}

static bool set_id(struct echo_config *cfg, const char *id)
{
	size_t len = strlen(id);

	if (!lg_id_valid(id, len))
		return false;
	memcpy(cfg->id, id, len + 1);
	return true;
}

/* Thousands of connections need as many descriptors. */
static void raise_fd_limit(void)
{
	struct rlimit lim;

	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "tcp", required_argument, NULL, 't' },
		{ "udp", required_argument, NULL, 'u' },
		{ "http", no_argument, NULL, 'H' },
		{ "http-status", required_argument, NULL, 'S' },
		{ "reuseport", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct echo_config cfg = { .http_status = 200 };
	char host[256];
	long status;
	char *end;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:t:u:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (!set_id(&cfg, optarg))
				return usage_error("bad --id '%s' (%d characters at most: %s)",
						   optarg, LG_ID_MAX,
						   "printable, no space, quote or backslash");
			break;
		case 't':
		case 'u':
			if (add_listener(&cfg, optarg, opt == 'u'))
				return usage_error("bad address '%s'", optarg);
			break;
		case 'H':
			cfg.http = true;
			break;
		case 'S':
			errno = 0;
			status = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || status < 100 || status > 599)
				return usage_error("bad --http-status '%s'", optarg);
			cfg.http_status = (int)status;
			cfg.http = true;
			break;
		case 'R':
			cfg.reuseport = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return ECHO_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++)
		if (add_listener(&cfg, argv[optind], false) ||
		    add_listener(&cfg, argv[optind], true))
			return usage_error("bad address '%s'", argv[optind]);
	if (!cfg.nr_listeners)
		return usage_error("no address to listen on");
	if (!cfg.id[0]) {
		if (gethostname(host, sizeof(host)) || !set_id(&cfg, host))
			return usage_error("the host name is no identity: give --id");
	}
	raise_fd_limit();
	rc = echo_serve(&cfg);
	free(cfg.listeners);
	return rc;
}
