// SPDX-License-Identifier: GPL-2.0
/* Health probes on the ring (probe.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"
#include "klbd/probe.h"
#include "klbd/probe_dns.h"
#include "klbd/probe_exec.h"
#include "klbd/probe_tls.h"

enum probe_phase {
	PROBE_CONNECT,
	PROBE_SEND,
	PROBE_RECV,
	PROBE_PH_TLS_SEND,		/* what OpenSSL wrote to its output BIO */
	PROBE_PH_TLS_RECV,		/* for OpenSSL's input BIO */
	PROBE_EXEC_WAIT,	/* the script's pidfd, until it exits */
	PROBE_EXEC_REAP,	/* killed at the timeout, result given */
};

/* Bytes moved per ring request for TLS (a server's first flight: a few). */
#define PROBE_NET_BUF	4096

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
	char why[PROBE_WHY_MAX];	/* the reason of a failure, if not errno's */
	uint16_t dns_id;
	struct probe_tls tls;
	struct probe_exec exec;
	int exec_slot;			/* in d->exec_pids */
	uint8_t net[PROBE_NET_BUF];
	size_t net_len, net_sent;
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
			if (old && klbd_check_same_kind(&old->check, &t->check)) {
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
	if (p->tls.ssl)
		probe_tls_free(&p->tls);
	if (p->type == KLBD_CHECK_EXEC) {
		probe_exec_close(&p->exec);
		d->exec_pids[p->exec_slot] = 0;
		d->execs_running--;
	}
	d->probes_inflight--;
	free(p);
}

/*
 * A script still running (at the timeout) is killed with its group and
 * the probe kept, counted against the limit, until the loop reaps it.
 */
static void probe_end(struct probe *p)
{
	if (p->type == KLBD_CHECK_EXEC && p->exec.pid > 0) {
		probe_exec_kill(&p->exec);
		p->phase = PROBE_EXEC_REAP;
		loop_poll(&p->d->ring, &p->ev, p->exec.pidfd, POLLIN);
		return;
	}
	probe_free(p);
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
		memcpy(t->last_why, p->why, sizeof(t->last_why));
		if (health_observe(&t->obs, ok, t->check.rise, t->check.fall)) {
			d->ps.verdict_changes++;
			t->report_ms = 0;
			health_changed(d, t);
		}
	}
	probe_end(p);
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
		if (p->type == KLBD_CHECK_DNS)
			io_uring_prep_recv(sqe, p->fd, p->net, PROBE_DNS_ANSWER_MAX, 0);
		else
			io_uring_prep_recv(sqe, p->fd, p->buf + p->rlen,
					   sizeof(p->buf) - 1 - p->rlen, 0);
		break;
	case PROBE_PH_TLS_SEND:
		io_uring_prep_send(sqe, p->fd, p->net + p->net_sent,
				   p->net_len - p->net_sent, MSG_NOSIGNAL);
		break;
	case PROBE_PH_TLS_RECV:
		io_uring_prep_recv(sqe, p->fd, p->net, sizeof(p->net), 0);
		break;
	case PROBE_EXEC_WAIT:
	case PROBE_EXEC_REAP:
		io_uring_prep_poll_add(sqe, p->exec.pidfd, POLLIN);
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

/* The status line in buf, judged: the probe's result. */
static void http_judge(struct probe *p)
{
	int st = http_status(p->buf);

	probe_result(p, st < 0 ? -EBADMSG : st == p->want_status ? 0 : -EREMOTEIO,
		     st);
}

/* Lets OpenSSL go as far as it can, then moves bytes for it. */
static void tls_drive(struct probe *p)
{
	int next = probe_tls_step(&p->tls, p->req, p->req_len, p->buf,
				  sizeof(p->buf), &p->rlen, p->why, sizeof(p->why));

	switch (next) {
	case PROBE_TLS_SEND:
		p->net_len = probe_tls_take(&p->tls, p->net, sizeof(p->net));
		p->net_sent = 0;
		p->phase = PROBE_PH_TLS_SEND;
		break;
	case PROBE_TLS_RECV:
		p->phase = PROBE_PH_TLS_RECV;
		break;
	case PROBE_TLS_DONE:
		http_judge(p);
		return;
	default:
		probe_result(p, next, 0);
		return;
	}
	step(p);
}

static void exec_exited(struct probe *p)
{
	int st = 0, r = probe_exec_reap(&p->exec, &st);

	if (!r) {
		/* Not yet: the poll said so early. Wait on. */
		step(p);
		return;
	}
	if (r < 0) {
		snprintf(p->why, sizeof(p->why), "script: %s", strerror(-r));
		probe_result(p, r, 0);
		return;
	}
	if (st)
		probe_exec_why(st, p->why, sizeof(p->why));
	probe_result(p, st ? -EREMOTEIO : 0, 0);
}

static void probe_done(struct loop_ev *ev, int res)
{
	struct probe *p = (struct probe *)((char *)ev - offsetof(struct probe, ev));
	int r;

	p->d->now_ms = loop_now_ms();
	if (p->phase == PROBE_EXEC_REAP) {
		if (probe_exec_reap(&p->exec, &r) == 0)
			loop_poll(&p->d->ring, &p->ev, p->exec.pidfd, POLLIN);
		else
			probe_free(p);
		return;
	}
	if (res == -ECANCELED || (res < 0 && p->d->now_ms >= p->deadline_ms)) {
		if (p->type == KLBD_CHECK_EXEC)
			snprintf(p->why, sizeof(p->why), "script: timed out, killed");
		else if (p->type == KLBD_CHECK_HTTPS && !p->tls.handshaken &&
			 p->phase != PROBE_CONNECT)
			snprintf(p->why, sizeof(p->why), "TLS handshake: timed out");
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
		if (p->type == KLBD_CHECK_HTTPS) {
			tls_drive(p);
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
		if (p->type == KLBD_CHECK_DNS) {
			/* Another id is no answer to this probe: wait on. */
			r = probe_dns_answer(p->net, res, p->dns_id, p->why,
					     sizeof(p->why));
			if (r != 1) {
				probe_result(p, r, 0);
				return;
			}
			break;
		}
		p->rlen += res;
		p->buf[p->rlen] = '\0';
		/* The status line is all we need. */
		if (strstr(p->buf, "\r\n") || !res ||
		    p->rlen == sizeof(p->buf) - 1) {
			http_judge(p);
			return;
		}
		break;
	case PROBE_PH_TLS_SEND:
		p->net_sent += res;
		if (p->net_sent < p->net_len)
			break;
		tls_drive(p);
		return;
	case PROBE_PH_TLS_RECV:
		if (!res) {
			/* Closed: an answer cut short is judged as it is. */
			if (p->rlen) {
				http_judge(p);
				return;
			}
			snprintf(p->why, sizeof(p->why), "%s: closed by the backend",
				 p->tls.handshaken ? "TLS" : "TLS handshake");
			probe_result(p, -ECONNRESET, 0);
			return;
		}
		if (probe_tls_feed(&p->tls, p->net, res)) {
			probe_result(p, -ENOMEM, 0);
			return;
		}
		tls_drive(p);
		return;
	case PROBE_EXEC_WAIT:
		exec_exited(p);
		return;
	case PROBE_EXEC_REAP:
		break;
	}
	step(p);
}

/* A fresh id for each DNS query: a stale answer never passes for one. */
static uint16_t dns_id(void)
{
	static uint16_t counter;
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = ++counter * 40503u;
	return id;
}

static void exec_start(struct probe *p, struct probe_target *t)
{
	struct klbd *d = p->d;
	int err;

	/* A free slot exists: fewer than PROBE_EXEC_MAX run. */
	for (p->exec_slot = 0; d->exec_pids[p->exec_slot]; p->exec_slot++)
		;
	d->exec_pids[p->exec_slot] = -1;
	d->execs_running++;
	err = probe_exec_start(&p->exec, d->cfg.checks_dir, t->check.exec_name,
			       &t->key, &t->addr, p->why, sizeof(p->why));
	if (err) {
		probe_result(p, err, 0);
		return;
	}
	d->exec_pids[p->exec_slot] = p->exec.pid;
	p->phase = PROBE_EXEC_WAIT;
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
	if (t->check.type == KLBD_CHECK_EXEC && d->execs_running >= PROBE_EXEC_MAX) {
		d->ps.exec_over_limit++;
		t->next_ms = d->now_ms + PROBE_WAKE_MAX_MS / 10;
		return;
	}
	if (t->check.type == KLBD_CHECK_HTTPS && !d->tls_ctx) {
		d->tls_ctx = probe_tls_ctx_new();
		if (!d->tls_ctx) {
			klbd_log(LOG_ERR, "health: no TLS client context");
			t->next_ms = d->now_ms + t->check.interval_ms;
			return;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->d = d;
	p->fd = -1;
	p->exec.pid = -1;
	p->exec.pidfd = -1;
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
	d->probes_inflight++;
	d->ps.started++;
	t->busy = true;
	t->next_ms = d->now_ms + t->check.interval_ms;
	if (p->type == KLBD_CHECK_EXEC) {
		exec_start(p, t);
		return;
	}
	/* DNS over UDP: connected, so an ICMP unreachable fails the recv. */
	p->fd = socket(a->family, (p->type == KLBD_CHECK_DNS ? SOCK_DGRAM : SOCK_STREAM) |
		       SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		d->ps.socket_errors++;
		probe_result(p, -errno, 0);
		return;
	}
	if (p->type == KLBD_CHECK_HTTPS && probe_tls_start(&p->tls, d->tls_ctx)) {
		probe_result(p, -ENOMEM, 0);
		return;
	}
	if (p->type == KLBD_CHECK_DNS) {
		p->dns_id = dns_id();
		probe_dns_query((uint8_t *)p->req, p->dns_id);
		p->req_len = PROBE_DNS_QUERY_BYTES;
	}
	if (p->type == KLBD_CHECK_HTTP || p->type == KLBD_CHECK_HTTPS) {
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

void probe_stop(struct klbd *d)
{
	size_t i;

	for (i = 0; i < PROBE_EXEC_MAX; i++)
		if (d->exec_pids[i] > 0)
			kill(-d->exec_pids[i], SIGKILL);
	SSL_CTX_free(d->tls_ctx);
	d->tls_ctx = NULL;
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
