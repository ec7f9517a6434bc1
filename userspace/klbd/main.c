// SPDX-License-Identifier: GPL-2.0
/*
 * klbd: start-up (configuration, key, storage, sockets) and the event
 * loop. Nothing starts on a bad configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"

static int log_max = LOG_INFO;
static volatile sig_atomic_t stopping, reloading;

void klbd_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	/* "<N>": journald reads the level from the prefix. */
	fprintf(stderr, "<%d>klbd: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fputs("usage: klbd [-c FILE] [--check-config] [-v]\n"
	      "  -c, --config FILE   the configuration (" KLBD_CONFIG_DEFAULT ")\n"
	      "      --check-config  check the configuration, the key and the bootstrap\n"
	      "                      services, start nothing\n"
	      "  -v, --verbose       debug messages too\n", f);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reloading = 1;
	else
		stopping = 1;
}

static void dispatch(struct klbd *d, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int res = cqe->res;

	if (!ud)
		return;		/* a poll removal's own completion */
	if (loop_is_ev(ud)) {
		struct loop_ev *ev = loop_ev_of(ud);

		ev->armed = false;
		ev->fn(ev, res);
		return;
	}
	node_storage_done(d, (void *)(uintptr_t)ud, res);
}

static int run(struct klbd *d)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	int ret;

	while (!stopping && !(d->stop_at_ms && d->now_ms >= d->stop_at_ms)) {
		d->now_ms = loop_now_ms();
		if (reloading) {
			reloading = 0;
			notify_reload(d, true);
			reload_run(d);
			notify_reload(d, false);
		}
		node_process(d);
		probe_run(d);
		kevents_tick(d);
		reconcile_check(d);
		reconcile_run(d);
		node_after_reconcile(d);
		notify_tick(d);
		watch_tick(d);
		control_tick(d);
		transport_reap(d);
		control_reap(d);
		http_server_reap(&d->metrics.srv);
		http_server_reap(&d->reg.srv);
		ret = io_uring_submit_and_wait(&d->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			klbd_log(LOG_CRIT, "io_uring: %s", strerror(-ret));
			return 1;
		}
		d->now_ms = loop_now_ms();
		n = 0;
		io_uring_for_each_cqe(&d->ring, head, cqe) {
			dispatch(d, cqe);
			n++;
		}
		io_uring_cq_advance(&d->ring, n);
	}
	notify_stopping(d);
	probe_stop(d);
	klbd_log(LOG_INFO, "stopping; the kernel keeps its tables");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = KLBD_CONFIG_DEFAULT;
	char err[KLBD_CONFIG_ERR_MAX + 128];
	bool check = false;
	struct klbd *d;
	int c;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'v':
			log_max = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->notify_fd = -1;
	d->vip_tx[0] = d->vip_tx[1] = -1;
	d->notified_role = -1;
	if (klbd_config_read(&d->cfg, path, err, sizeof(err)) ||
	    klbd_config_load_key(&d->cfg, err, sizeof(err)) ||
	    bootstrap_start(d, err, sizeof(err))) {
		fprintf(stderr, "klbd: %s\n", err);
		free(d);
		return 1;
	}
	if (check) {
		printf("%s: ok (node %llu, %zu members", path,
		       (unsigned long long)d->cfg.id, d->cfg.n_peers);
		if (d->boot_loaded)
			printf(", %zu bootstrap services", d->n_boot_svcs);
		printf(")\n");
		restore_free(d->boot_svcs, d->n_boot_svcs);
		free(d);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	d->now_ms = loop_now_ms();
	if (loop_init(&d->ring, err, sizeof(err)) ||
	    node_start(d, err, sizeof(err)) ||
	    transport_start(d, err, sizeof(err)) ||
	    control_start(d, err, sizeof(err)) ||
	    metrics_start(d, err, sizeof(err)) ||
	    reg_start(d, err, sizeof(err))) {
		fprintf(stderr, "klbd: %s\n", err);
		return 1;
	}
	klbd_log(LOG_NOTICE, "node %llu listening on %s, control socket %s",
		 (unsigned long long)d->cfg.id, d->cfg.listen, d->cfg.control_socket);
	return run(d);
}
