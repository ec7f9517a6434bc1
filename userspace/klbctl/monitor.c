// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl monitor: print the kernel's change events as they happen, one
 * line (or, with -j, one JSON object per line) per event, with what
 * changed.
 *
 * An event says which service moved, not how: the monitor keeps what it
 * last read of every service (settings and backends), reads the service
 * again on each event and prints the difference. That is level-triggered:
 * when several writes land before the monitor reads, the first event
 * carries all of their changes and the later ones none.
 *
 * When klbd runs, the monitor also subscribes to its event stream
 * (KLBD_CTL_WATCH, lib/klbd_proto.h): what the cluster decides, printed
 * between the kernel's events as it comes.
 */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "klbctl/klbctl.h"
#include "lib/klbd_bytes.h"

static const char *const event_names[] = {
	[KLB_CMD_SERVICE_NEW] = "service-add",
	[KLB_CMD_SERVICE_SET] = "service-set",
	[KLB_CMD_SERVICE_DEL] = "service-del",
	[KLB_CMD_BACKEND_NEW] = "backend-add",
	[KLB_CMD_BACKEND_SET] = "backend-set",
	[KLB_CMD_BACKEND_DEL] = "backend-del",
	[KLB_CMD_TABLE_SET] = "table-set",
	[KLB_CMD_TABLE_DEL] = "table-del",
	[KLB_CMD_FLUSH] = "flush",
	[KLB_CMD_GENERATION_SET] = "generation-set",
	[KLB_CMD_TXN_COMMIT] = "commit",
};

/* What the monitor last read of one service. */
struct mon_service {
	struct klb_service svc;
	struct klb_backend *bes;
	size_t nr_bes;
};

struct monitor {
	struct klb_client *c;
	struct mon_service *svcs;
	size_t n, cap;
	char **changes;
	size_t nr_changes;
};

static void change(struct monitor *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void change(struct monitor *m, const char *fmt, ...)
{
	char **grown;
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	grown = line ? realloc(m->changes, (m->nr_changes + 1) * sizeof(*grown)) :
		       NULL;
	if (!grown) {
		fputs("klbctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	m->changes = grown;
	m->changes[m->nr_changes++] = line;
}

static struct mon_service *mon_find(struct monitor *m,
				    const struct klb_service_key *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (klb_service_key_equal(&m->svcs[i].svc.key, key))
			return &m->svcs[i];
	return NULL;
}

static void mon_forget(struct monitor *m, struct mon_service *ms)
{
	free(ms->bes);
	*ms = m->svcs[--m->n];
}

static void diff_conf(struct monitor *m, const struct klb_service *a,
		      const struct klb_service *b)
{
	const struct klb_service_conf *x = &a->conf, *y = &b->conf;

	if (x->sched != y->sched)
		change(m, "sched %s -> %s", sched_name(x->sched), sched_name(y->sched));
	if (x->fwd != y->fwd)
		change(m, "fwd %s -> %s", fwd_name(x->fwd), fwd_name(y->fwd));
	if (x->table_size != y->table_size)
		change(m, "table-size %u -> %u", x->table_size, y->table_size);
	if (x->bound != y->bound)
		change(m, "bound %u -> %u", x->bound, y->bound);
	if (x->flags != y->flags)
		change(m, "flags %#x -> %#x", x->flags, y->flags);
	if ((x->fields & KLB_SVC_SEED) && (y->fields & KLB_SVC_SEED) &&
	    memcmp(x->seed, y->seed, KLB_SEED_LEN))
		change(m, "seed changed");
	if (a->table_loaded != b->table_loaded)
		change(m, b->table_loaded ? "table published" : "table removed");
	else if (b->table_loaded && a->version != b->version)
		change(m, "version %llu -> %llu", (unsigned long long)a->version,
		       (unsigned long long)b->version);
}

static void diff_backends(struct monitor *m, const struct mon_service *old,
			  const struct klb_backend *bes, size_t n)
{
	char addr[ENDPOINT_STRLEN];
	const struct klb_backend *o;
	size_t i;

	for (i = 0; i < n; i++) {
		fmt_endpoint(&bes[i].addr, addr);
		o = klb_backend_find(old->bes, old->nr_bes, &bes[i].addr);
		if (!o) {
			change(m, "backend %s added (id %u, weight %u, %s)", addr,
			       bes[i].id, bes[i].weight, state_name(bes[i].state));
			continue;
		}
		if (o->weight != bes[i].weight)
			change(m, "backend %s weight %u -> %u", addr, o->weight,
			       bes[i].weight);
		if (o->state != bes[i].state)
			change(m, "backend %s %s -> %s", addr, state_name(o->state),
			       state_name(bes[i].state));
	}
	for (i = 0; i < old->nr_bes; i++)
		if (!klb_backend_find(bes, n, &old->bes[i].addr))
			change(m, "backend %s removed",
			       fmt_endpoint(&old->bes[i].addr, addr));
}

/* Reads @key again and records how it differs from what was known. */
static void mon_refresh(struct monitor *m, const struct klb_service_key *key)
{
	struct mon_service *ms = mon_find(m, key), fresh = { 0 };
	klb_error e;

	if (klb_service_get(m->c, key, &fresh.svc, &e)) {
		if (ms) {
			change(m, "service removed");
			mon_forget(m, ms);
		}
		return;
	}
	if (klb_backend_list(m->c, key, &fresh.bes, &fresh.nr_bes, NULL, &e)) {
		fresh.bes = NULL;
		fresh.nr_bes = 0;
	}
	if (!ms) {
		struct mon_service empty = { .svc = fresh.svc };

		change(m, "service added (%s, %s)", sched_name(fresh.svc.conf.sched),
		       fwd_name(fresh.svc.conf.fwd));
		diff_backends(m, &empty, fresh.bes, fresh.nr_bes);
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 16;
			m->svcs = realloc(m->svcs, m->cap * sizeof(*m->svcs));
			if (!m->svcs) {
				fputs("klbctl: out of memory\n", stderr);
				exit(EXIT_FAIL);
			}
		}
		m->svcs[m->n++] = fresh;
		return;
	}
	diff_conf(m, &ms->svc, &fresh.svc);
	diff_backends(m, ms, fresh.bes, fresh.nr_bes);
	free(ms->bes);
	*ms = fresh;
}

/* Everything there is, before the first event. */
static int mon_load(struct monitor *m, klb_error *e)
{
	struct klb_service *svcs;
	size_t n, i;
	int err;

	err = klb_service_list(m->c, &svcs, &n, NULL, e);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		mon_refresh(m, &svcs[i].key);
	free(svcs);
	for (i = 0; i < m->nr_changes; i++)
		free(m->changes[i]);
	m->nr_changes = 0;
	return 0;
}

static int print_event(const struct klb_event *ev, void *data)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];
	struct monitor *m = data;
	const char *name = NULL;
	size_t i;

	if (ev->cmd < sizeof(event_names) / sizeof(event_names[0]))
		name = event_names[ev->cmd];
	out_record_begin();
	out_str("event", name ? name : "unknown");
	out_uint("generation", ev->generation);
	if (ev->has_service) {
		out_str("service", fmt_service(&ev->service, svc));
		if (ev->version)
			out_uint("version", ev->version);
	}
	if (ev->has_backend) {
		out_str("backend", fmt_endpoint(&ev->backend.addr, addr));
		if (ev->backend.fields & KLB_BE_ID)
			out_uint("id", ev->backend.id);
	}
	if (ev->cmd == KLB_CMD_FLUSH) {
		if (m->n)
			change(m, "every service removed");
		while (m->n)
			mon_forget(m, &m->svcs[m->n - 1]);
	} else if (ev->has_service) {
		mon_refresh(m, &ev->service);
	}
	out_str_list("changes", (const char *const *)m->changes, m->nr_changes);
	out_record_end();
	for (i = 0; i < m->nr_changes; i++)
		free(m->changes[i]);
	m->nr_changes = 0;
	return 0;
}

/* klbd's event stream: the messages read so far, not yet whole. */
struct watch {
	int fd;
	size_t len;
	uint8_t buf[KLBD_CTL_MAX_BYTES];
};

static void id_strings(const uint64_t *ids, size_t n, char (*s)[24],
		       const char **p)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(s[i], sizeof(s[i]), "%llu", (unsigned long long)ids[i]);
		p[i] = s[i];
	}
}

static void print_klbd_event(const struct klbd_event *ev)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];
	char ids[KLBD_EVENT_IDS_MAX][24], lids[KLBD_EVENT_IDS_MAX][24];
	const char *p[KLBD_EVENT_IDS_MAX], *lp[KLBD_EVENT_IDS_MAX];

	out_record_begin();
	out_str("event", klbd_event_name(ev->type));
	switch (ev->type) {
	case KLBD_EV_VERDICT:
	case KLBD_EV_HEALTH:
		out_str("service", fmt_service(&ev->key, svc));
		out_str("backend", fmt_endpoint(&ev->backend, addr));
		if (ev->type == KLBD_EV_VERDICT) {
			out_str("verdict", ev->on ? "failing" : "healthy");
			out_uint("gateway", ev->node);
			out_str("reason", ev->reason);
			break;
		}
		out_str("health", ev->on ? "down" : "up");
		id_strings(ev->ids, ev->n_ids, ids, p);
		out_str_list("failing_on", p, ev->n_ids);
		out_uint("index", ev->index);
		break;
	case KLBD_EV_LEADER:
		out_str("role", klbd_role_name(ev->role));
		out_uint("term", ev->term);
		out_uint("leader", ev->leader);
		break;
	case KLBD_EV_MEMBER:
		out_uint("index", ev->index);
		id_strings(ev->ids, ev->n_ids, ids, p);
		out_str_list("voters", p, ev->n_ids);
		id_strings(ev->learners, ev->n_learners, lids, lp);
		out_str_list("learners", lp, ev->n_learners);
		break;
	}
	out_record_end();
}

/*
 * The whole messages in w->buf, each taken out. The first one (first
 * set) is the answer to the WATCH request. Returns 0, 1 at the end of
 * the stream (an overflow), or EXIT_FAIL with the error reported.
 */
static int watch_messages(struct watch *w, bool *first)
{
	struct klbd_event ev;
	uint32_t len, mlen;
	char why[128];
	int32_t status;

	while (w->len >= KLBD_CTL_RESP_HEADER_BYTES) {
		len = get_u32(w->buf) + 4;
		mlen = get_u32(w->buf + 12);
		if (len < KLBD_CTL_RESP_HEADER_BYTES || len > sizeof(w->buf) ||
		    mlen > len - KLBD_CTL_RESP_HEADER_BYTES ||
		    w->buf[5] != KLBD_CTL_WATCH)
			return report_msg("monitor", "klbd: a malformed message");
		if (w->len < len)
			return 0;
		status = (int32_t)get_u32(w->buf + 8);
		if (*first) {
			*first = false;
			if (status)
				return report_msg("monitor", "klbd: %.*s (%s)", (int)mlen,
						  (char *)w->buf + KLBD_CTL_RESP_HEADER_BYTES,
						  strerror(-status));
		} else if (klbd_event_decode(w->buf + KLBD_CTL_RESP_HEADER_BYTES + mlen,
					     len - KLBD_CTL_RESP_HEADER_BYTES - mlen,
					     &ev, why, sizeof(why))) {
			return report_msg("monitor", "klbd: a bad event: %s", why);
		} else {
			print_klbd_event(&ev);
			if (ev.type == KLBD_EV_OVERFLOW)
				return report_msg("monitor",
						  "klbd cut the stream off: this monitor fell behind");
		}
		memmove(w->buf, w->buf + len, w->len - len);
		w->len -= len;
	}
	return 0;
}

static int watch_read(struct watch *w, bool *first)
{
	ssize_t n;

	do
		n = read(w->fd, w->buf + w->len, sizeof(w->buf) - w->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return report_msg("monitor", "klbd closed the event stream%s%s",
				  n ? ": " : "", n ? strerror(errno) : "");
	w->len += n;
	return watch_messages(w, first);
}

/*
 * Subscribes to klbd's events: EXIT_OK with w->fd open and the answer
 * read, EXIT_OK with w->fd -1 when klbd is not running and that is
 * fine (!required), or the error reported.
 */
static int watch_open(struct watch *w, bool required)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t req[KLBD_CTL_HEADER_BYTES] = { 0 };
	bool first = true;
	int err;

	w->len = 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", klbd_socket_path());
	w->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		return report_msg("monitor", "socket: %s", strerror(errno));
	if (connect(w->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = errno;
		close(w->fd);
		w->fd = -1;
		if (!required && (err == ENOENT || err == ECONNREFUSED))
			return EXIT_OK;
		return report_msg("monitor", "klbd (%s): %s", klbd_socket_path(),
				  strerror(err));
	}
	put_u32(req, KLBD_CTL_HEADER_BYTES - 4);
	req[4] = KLBD_PROTO_VERSION;
	req[5] = KLBD_CTL_WATCH;
	if (write(w->fd, req, sizeof(req)) != sizeof(req))
		return report_msg("monitor", "klbd: %s", strerror(errno));
	while (first) {
		err = watch_read(w, &first);
		if (err)
			return err;
	}
	return EXIT_OK;
}

static int kernel_event(struct klb_client *c, struct monitor *m)
{
	klb_error e;

	if (klb_events_read(c, print_event, m, &e)) {
		/* Lost events: say so and go on, like ip monitor. */
		if (e.err == ENOBUFS) {
			fprintf(stderr, "klbctl: monitor: %s\n", e.msg);
			return EXIT_OK;
		}
		return report_error("monitor", &e);
	}
	return EXIT_OK;
}

int cmd_monitor(struct ctx *ctx, int argc, char **argv)
{
	static struct watch w = { .fd = -1 };
	struct monitor m = { 0 };
	struct pollfd pfd[2];
	struct klb_client *c = NULL;
	bool kernel = true, cluster = !ctx->direct, first = false;
	size_t n = 0;
	klb_error e;
	int ret;

	if (argc && (matches(argv[0], "kernel") || matches(argv[0], "cluster"))) {
		kernel = matches(argv[0], "kernel");
		cluster = !kernel;
		argc--;
		argv++;
	}
	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	if (kernel) {
		ret = ctx_client(ctx, &c);
		if (ret)
			return ret;
		if (klb_events_subscribe(c, &e))
			return report_error("monitor", &e);
		/* A second socket reads state: the first must only carry events. */
		m.c = calloc(1, sizeof(*m.c));
		if (!m.c || klb_client_open(m.c, &e))
			return report_error("monitor", &e);
		if (mon_load(&m, &e))
			return report_error("monitor", &e);
		pfd[n++] = (struct pollfd){ .fd = nl_fd(&c->nl), .events = POLLIN };
	}
	out_stream_begin();
	if (cluster) {
		/* "monitor" alone without klbd is the kernel's events, as before. */
		ret = watch_open(&w, !kernel);
		if (ret)
			return ret;
		if (w.fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = w.fd, .events = POLLIN };
		/* The answer may have come with the first events. */
		ret = watch_messages(&w, &first);
		if (ret)
			return ret;
	}
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return report_msg("monitor", "poll: %s", strerror(errno));
		}
		if (kernel && pfd[0].revents) {
			ret = kernel_event(c, &m);
			if (ret)
				return ret;
		}
		if (w.fd >= 0 && pfd[n - 1].revents) {
			ret = watch_read(&w, &first);
			if (ret)
				return ret;
		}
	}
}
