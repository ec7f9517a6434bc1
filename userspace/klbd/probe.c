// SPDX-License-Identifier: GPL-2.0
/* Health probes on the ring (probe.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"
#include "klbd/probe.h"

enum probe_phase {
	PROBE_CONNECT,
	PROBE_SEND,
	PROBE_RECV,
};

/*
 * One probe in flight. It names its target by key and address, not by
 * pointer: the targets are rebuilt when the state changes, and a probe
 * whose target went away is only closed.
 */
struct probe {
	struct loop_ev ev;
	struct klbd *d;
	int fd;
	enum probe_phase phase;
	struct klb_service_key key;
	struct klb_endpoint addr;
	uint8_t type;
	uint16_t want_status;
	uint64_t deadline_ms;
	uint64_t start_ns;
	struct __kernel_timespec ts;
	struct sockaddr_storage sa;
	socklen_t sa_len;
	char req[160];
	size_t req_len, sent;
	char buf[PROBE_HTTP_BUF];
	size_t rlen;
};

static int ep_cmp(const struct klb_endpoint *a, const struct klb_endpoint *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, a->family == AF_INET6 ? 16 : 4);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

static int target_cmp(const void *a, const void *b)
{
	const struct probe_target *x = a, *y = b;
	int c = state_key_cmp(&x->key, &y->key);

	return c ? c : ep_cmp(&x->addr, &y->addr);
}

const struct probe_target *probe_find(const struct klbd *d,
				      const struct klb_service_key *key,
				      const struct klb_endpoint *addr)
{
	struct probe_target k = { .key = *key, .addr = *addr };

	return bsearch(&k, d->targets, d->n_targets, sizeof(k), target_cmp);
}

static struct probe_target *find_mut(struct klbd *d,
				     const struct klb_service_key *key,
				     const struct klb_endpoint *addr)
{
	return (struct probe_target *)probe_find(d, key, addr);
}

/* Spreads first probes over the interval: no burst when a service starts. */
static uint64_t first_due(const struct klbd *d, const struct probe_target *t)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(t->addr.addr); i++)
		h = (h ^ t->addr.addr[i]) * 16777619u;
	h = (h ^ t->addr.port) * 16777619u;
	return d->now_ms + h % t->check.interval_ms;
}

void probe_sync(struct klbd *d)
{
	const struct klbd_state *s = &d->state;
	int me = state_voter_index(s, d->cfg.id);
	struct probe_target *nt, *old;
	size_t n = 0, i, j;

	if (d->probe_synced == d->applied && d->targets_valid)
		return;
	for (i = 0; i < s->n_svcs; i++)
		if (s->svcs[i].check.type != KLBD_CHECK_NONE)
			n += s->svcs[i].n_bes;
	nt = calloc(n ? n : 1, sizeof(*nt));
	if (!nt) {
		/* Keep probing the old set; the next loop tries again. */
		klbd_log(LOG_ERR, "health: out of memory for %zu probe targets", n);
		return;
	}
	n = 0;
	for (i = 0; i < s->n_svcs; i++) {
		const struct state_service *svc = &s->svcs[i];

		if (svc->check.type == KLBD_CHECK_NONE)
			continue;
		for (j = 0; j < svc->n_bes; j++) {
			struct probe_target *t = &nt[n++];

			t->key = svc->key;
			t->addr = svc->bes[j].addr;
			t->check = svc->check;
			t->recorded = me >= 0 && svc->health[j].failing >> me & 1;
			old = find_mut(d, &t->key, &t->addr);
			/* The verdict survives a change of timing, not of kind. */
			if (old && old->check.type == t->check.type &&
			    old->check.port == t->check.port &&
			    old->check.http_status == t->check.http_status) {
				t->obs = old->obs;
				t->busy = old->busy;
				t->last_err = old->last_err;
				t->next_ms = old->next_ms;
				t->report_ms = old->report_ms;
			} else {
				/* A restarted klbd starts from its recorded verdict. */
				t->obs.failing = t->recorded;
				t->next_ms = first_due(d, t);
			}
		}
	}
	qsort(nt, n, sizeof(*nt), target_cmp);
	free(d->targets);
	d->targets = nt;
	d->n_targets = n;
	d->probe_synced = d->applied;
	d->targets_valid = true;
}

static void probe_free(struct probe *p)
{
	struct klbd *d = p->d;

	if (p->fd >= 0)
		close(p->fd);
	d->probes_inflight--;
	free(p);
}

static void probe_result(struct probe *p, int err, int status)
{
	struct klbd *d = p->d;
	struct probe_target *t = find_mut(d, &p->key, &p->addr);
	bool ok = !err;

	metrics_observe(&d->metrics.probe, loop_now_ns() - p->start_ns);
	if (ok)
		d->ps.succeeded++;
	else if (err == -ETIMEDOUT)
		d->ps.timed_out++;
	else
		d->ps.failed++;
	if (t && t->busy) {
		t->busy = false;
		t->last_err = err;
		t->last_status = status;
		if (health_observe(&t->obs, ok, t->check.rise, t->check.fall)) {
			d->ps.verdict_changes++;
			t->report_ms = 0;
			health_changed(d, t);
		}
	}
	probe_free(p);
}

static void arm(struct probe *p, struct io_uring_sqe *sqe)
{
	uint64_t left = p->deadline_ms > p->d->now_ms ?
			p->deadline_ms - p->d->now_ms : 1;

	p->ts.tv_sec = left / 1000;
	p->ts.tv_nsec = (left % 1000) * 1000000ll;
	loop_link_timeout(&p->d->ring, sqe, &p->ev, &p->ts);
}

static void step(struct probe *p)
{
	struct io_uring_sqe *sqe = loop_sqe_pair(&p->d->ring);

	switch (p->phase) {
	case PROBE_CONNECT:
		io_uring_prep_connect(sqe, p->fd, (struct sockaddr *)&p->sa,
				      p->sa_len);
		break;
	case PROBE_SEND:
		io_uring_prep_send(sqe, p->fd, p->req + p->sent,
				   p->req_len - p->sent, MSG_NOSIGNAL);
		break;
	case PROBE_RECV:
		io_uring_prep_recv(sqe, p->fd, p->buf + p->rlen,
				   sizeof(p->buf) - 1 - p->rlen, 0);
		break;
	}
	arm(p, sqe);
}

/* "HTTP/1.x NNN ...": the status, or -1 when the line is not one. */
static int http_status(const char *buf)
{
	int st;

	if (strncmp(buf, "HTTP/1.", 7) || !buf[7] || buf[8] != ' ' ||
	    sscanf(buf + 9, "%3d", &st) != 1 || st < 100 || st > 599)
		return -1;
	return st;
}

static void probe_done(struct loop_ev *ev, int res)
{
	struct probe *p = (struct probe *)((char *)ev - offsetof(struct probe, ev));
	int st;

	p->d->now_ms = loop_now_ms();
	if (res == -ECANCELED || (res < 0 && p->d->now_ms >= p->deadline_ms)) {
		probe_result(p, -ETIMEDOUT, 0);
		return;
	}
	if (res < 0) {
		probe_result(p, res, 0);
		return;
	}
	switch (p->phase) {
	case PROBE_CONNECT:
		if (p->type == KLBD_CHECK_TCP) {
			probe_result(p, 0, 0);
			return;
		}
		p->phase = PROBE_SEND;
		break;
	case PROBE_SEND:
		p->sent += res;
		if (p->sent == p->req_len)
			p->phase = PROBE_RECV;
		break;
	case PROBE_RECV:
		p->rlen += res;
		p->buf[p->rlen] = '\0';
		/* The status line is all we need. */
		if (strstr(p->buf, "\r\n") || !res ||
		    p->rlen == sizeof(p->buf) - 1) {
			st = http_status(p->buf);
			probe_result(p, st < 0 ? -EBADMSG :
				     st == p->want_status ? 0 : -EREMOTEIO, st);
			return;
		}
		break;
	}
	step(p);
}

static void probe_start(struct klbd *d, struct probe_target *t)
{
	const struct klb_endpoint *a = &t->addr;
	uint16_t port = t->check.port ? t->check.port : a->port;
	char host[64];
	struct probe *p;

	if (d->probes_inflight >= PROBE_INFLIGHT_MAX) {
		d->ps.over_limit++;
		t->next_ms = d->now_ms + PROBE_WAKE_MAX_MS / 10;
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->d = d;
	p->ev.fn = probe_done;
	p->key = t->key;
	p->addr = t->addr;
	p->type = t->check.type;
	p->want_status = t->check.http_status;
	p->deadline_ms = d->now_ms + t->check.timeout_ms;
	p->start_ns = loop_now_ns();
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		p->sa_len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		p->sa_len = sizeof(*sin6);
	}
	p->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	d->probes_inflight++;
	d->ps.started++;
	t->busy = true;
	t->next_ms = d->now_ms + t->check.interval_ms;
	if (p->fd < 0) {
		d->ps.socket_errors++;
		probe_result(p, -errno, 0);
		return;
	}
	if (p->type == KLBD_CHECK_HTTP) {
		host[0] = '[';
		inet_ntop(a->family, a->addr, host + 1, sizeof(host) - 2);
		if (a->family == AF_INET6)
			strcat(host, "]");
		p->req_len = snprintf(p->req, sizeof(p->req),
				      "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: klbd\r\n\r\n",
				      a->family == AF_INET6 ? host : host + 1);
	}
	p->phase = PROBE_CONNECT;
	step(p);
}

static void probe_wake(struct loop_ev *ev, int res)
{
	/* Only wakes the loop: probe_run() starts what is due. */
}

void probe_run(struct klbd *d)
{
	uint64_t next = UINT64_MAX, wait;
	size_t i;

	probe_sync(d);
	for (i = 0; i < d->n_targets; i++) {
		struct probe_target *t = &d->targets[i];

		if (!t->busy && t->next_ms <= d->now_ms)
			probe_start(d, t);
		if (t->obs.failing != t->recorded && t->report_ms <= d->now_ms) {
			t->report_ms = d->now_ms + HEALTH_REPORT_RETRY_MS;
			d->ps.reports++;
			health_report(d, t);
		}
		if (t->obs.failing != t->recorded && t->report_ms < next)
			next = t->report_ms;
		if (!t->busy && t->next_ms < next)
			next = t->next_ms;
	}
	if (next == UINT64_MAX || d->probe_ev.armed)
		return;
	wait = next > d->now_ms ? next - d->now_ms : 1;
	if (wait > PROBE_WAKE_MAX_MS)
		wait = PROBE_WAKE_MAX_MS;
	d->probe_ts.tv_sec = 0;
	d->probe_ts.tv_nsec = wait * 1000000ll;
	d->probe_ev.fn = probe_wake;
	loop_timeout(&d->ring, &d->probe_ev, &d->probe_ts);
}


static const char *health_word(const struct klbd_state *s,
			       const struct state_service *svc, size_t j,
			       const struct probe_target *t)
{
	if (svc->check.type == KLBD_CHECK_NONE)
		return "unchecked";
	if (health_majority_down(svc->health[j].failing, s->n_voters))
		return "down";
	if (t && t->obs.failing)
		return "unreachable-from-here";
	return "up";
}

void health_show(struct klbd *d, uint64_t client, const uint8_t *body,
		 size_t len)
{
	const struct klbd_state *s = &d->state;
	int me = state_voter_index(s, d->cfg.id);
	const struct state_service *svc;
	struct klb_service_key key;
	size_t cap = KLBD_CTL_MAX_BYTES - KLBD_CTL_RESP_HEADER_BYTES, n = 0, j;
	unsigned int v;
	char why[160], *buf;
	int err;

	err = klbd_key_decode(body, len, &key, why, sizeof(why));
	if (err) {
		d->stats.control_bad_requests++;
		control_reply(d, client, KLBD_CTL_HEALTH, err, why, NULL, 0);
		return;
	}
	svc = state_find(s, &key);
	if (!svc) {
		control_reply(d, client, KLBD_CTL_HEALTH, -ENOENT, "no such service",
			      NULL, 0);
		return;
	}
	buf = malloc(cap);
	if (!buf) {
		control_reply(d, client, KLBD_CTL_HEALTH, -ENOMEM, "out of memory",
			      NULL, 0);
		return;
	}
	for (j = 0; j < svc->n_bes && n < cap; j++) {
		const struct probe_target *t = probe_find(d, &key, &svc->bes[j].addr);
		/* As far as klbd knows: the record, and our own fresher verdict. */
		uint32_t failing = svc->health[j].failing;
		bool any = false;

		if (me >= 0 && t) {
			failing &= ~(1u << me);
			failing |= (uint32_t)t->obs.failing << me;
		}
		n += snprintf(buf + n, cap - n, "%u %s ", svc->bes[j].id,
			      health_word(s, svc, j, t));
		for (v = 0; v < s->n_voters && n < cap; v++) {
			if (!(failing >> v & 1))
				continue;
			n += snprintf(buf + n, cap - n, "%s%llu", any ? "," : "",
				      (unsigned long long)s->voters[v]);
			any = true;
		}
		if (n < cap)
			n += snprintf(buf + n, cap - n, "%s\n", any ? "" : "-");
	}
	if (n >= cap) {
		d->stats.control_over_limit++;
		control_reply(d, client, KLBD_CTL_HEALTH, -E2BIG,
			      "too many backends to answer in one response", NULL, 0);
	} else {
		control_reply(d, client, KLBD_CTL_HEALTH, 0, NULL, buf, n);
	}
	free(buf);
}
