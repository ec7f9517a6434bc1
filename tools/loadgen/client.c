// SPDX-License-Identifier: GPL-2.0
/*
 * The traffic itself: one thread, one ring, a fixed array of flows.
 *
 * A flow is one socket and the request on it. Short-lived, a flow lives
 * for one request (TCP: connect, send, read the reply, close; UDP: a new
 * socket, so a new 5-tuple, per request) and its slot is then reused.
 * Long-lived, a flow keeps its socket and sends a request every interval;
 * a TCP flow that fails is closed and connects again an interval later.
 *
 * Each flow has at most one operation of its own in flight; the waits that
 * may block (connect, reply) carry a linked timeout. Completions name the
 * flow, the operation and the flow's generation, so that a completion that
 * belongs to a flow's previous life (a timer that raced a shutdown) is
 * recognised and dropped.
 */

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "ring.h"

enum op {
	OP_IGNORE,	/* linked timeouts: their operation reports for them */
	OP_CONNECT,
	OP_SEND,
	OP_RECV,
	OP_WAIT,	/* long-lived: the pause before the next request */
	OP_SIGNAL,
};

static const struct lg_opcode client_opcodes[] = {
	{ IORING_OP_CONNECT, "IORING_OP_CONNECT" },
	{ IORING_OP_SEND, "IORING_OP_SEND" },
	{ IORING_OP_RECV, "IORING_OP_RECV" },
	{ IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT" },
	{ IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT" },
	{ IORING_OP_READ, "IORING_OP_READ" },
};

#define UD_OP_BITS	8
#define UD_GEN_SHIFT	56

struct flow {
	int fd;
	uint8_t gen;
	bool busy;		/* a request is in flight */
	bool connected;		/* long-lived: the socket is reusable */
	uint64_t started_ns;	/* the request's start, for its latency */
	size_t reply_len;
	char reply[LG_REPLY_MAX];
	struct __kernel_timespec timeout;	/* read when submitted */
	struct __kernel_timespec pause;
};

struct client {
	const struct lg_config *cfg;
	struct lg_stats *stats;
	struct io_uring ring;
	struct flow *flows;
	unsigned int nr_flows;
	unsigned int *fresh;	/* flows waiting for their first request */
	unsigned int nr_fresh;
	unsigned int busy;	/* requests in flight */
	uint64_t started;	/* requests started */
	uint64_t t0;
	uint64_t end_ns;	/* when no more requests start; 0: none */
	uint64_t until_ns;	/* when they stopped: the deadline, a count, a signal */
	uint64_t last_done_ns;	/* the last request's end */
	uint64_t next_start_ns;	/* rate limit: the next flow may start */
	uint64_t start_period_ns;
	uint64_t next_progress_ns;
	unsigned int next_source;
	bool stopping;
	int signals;
	unsigned int nr_signals;
	struct signalfd_siginfo siginfo;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void ts_set(struct __kernel_timespec *ts, uint64_t ns)
{
	ts->tv_sec = (long long)(ns / LG_NSEC_PER_SEC);
	ts->tv_nsec = (long long)(ns % LG_NSEC_PER_SEC);
}

static uint64_t user_data(struct client *c, struct flow *f, enum op op)
{
	return ((uint64_t)f->gen << UD_GEN_SHIFT) |
	       ((uint64_t)(f - c->flows) << UD_OP_BITS) | op;
}

static struct io_uring_sqe *flow_sqe(struct client *c, struct flow *f, enum op op)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&c->ring);

	io_uring_sqe_set_data64(sqe, user_data(c, f, op));
	return sqe;
}

/* Bounds the operation just queued by --timeout. */
static void link_timeout(struct client *c, struct flow *f, struct io_uring_sqe *op)
{
	struct io_uring_sqe *sqe;

	op->flags |= IOSQE_IO_LINK;
	ts_set(&f->timeout, c->cfg->timeout_ns);
	sqe = lg_ring_sqe(&c->ring);
	io_uring_prep_link_timeout(sqe, &f->timeout, 0);
	io_uring_sqe_set_data64(sqe, OP_IGNORE);
}

static void flow_close(struct flow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->connected = false;
	/* Whatever of this flow is still in the ring is now stale. */
	f->gen++;
}

static int flow_socket(struct client *c, struct flow *f)
{
	const struct lg_config *cfg = c->cfg;
	const struct lg_addr *src;
	int one = 1;

	f->fd = socket(cfg->target.ss.ss_family,
		       (cfg->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return -errno;
	if (!cfg->nr_sources)
		return 0;
	src = &cfg->sources[c->next_source++ % cfg->nr_sources];
	/* Let connect() pick the port: the 4-tuple, not the address, must be unique. */
	if (!cfg->udp)
		setsockopt(f->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(f->fd, (const struct sockaddr *)&src->ss, src->len))
		return -errno;
	return 0;
}

static void send_request(struct client *c, struct flow *f)
{
	struct io_uring_sqe *sqe = flow_sqe(c, f, OP_SEND);

	io_uring_prep_send(sqe, f->fd, LG_REQUEST, LG_REQUEST_LEN, MSG_NOSIGNAL);
}

static void recv_reply(struct client *c, struct flow *f)
{
	struct io_uring_sqe *sqe = flow_sqe(c, f, OP_RECV);

	io_uring_prep_recv(sqe, f->fd, f->reply + f->reply_len,
			   sizeof(f->reply) - f->reply_len, 0);
	link_timeout(c, f, sqe);
}

/* Long-lived: the next request of this flow, an interval after the last. */
static void pause_flow(struct client *c, struct flow *f, uint64_t now)
{
	uint64_t due = f->started_ns + c->cfg->interval_ns;
	struct io_uring_sqe *sqe;

	if (c->end_ns && due > c->end_ns)
		due = c->end_ns;
	ts_set(&f->pause, due > now ? due - now : 0);
	sqe = flow_sqe(c, f, OP_WAIT);
	io_uring_prep_timeout(sqe, &f->pause, 0, 0);
}

static void request_done(struct client *c, struct flow *f, uint64_t now)
{
	c->last_done_ns = now;
	f->busy = false;
	c->busy--;
	if (!c->cfg->long_lived) {
		flow_close(f);
		c->fresh[c->nr_fresh++] = (unsigned int)(f - c->flows);
	} else if (c->stopping) {
		flow_close(f);
	} else {
		pause_flow(c, f, now);
	}
}

static void request_failed(struct client *c, struct flow *f, enum lg_err kind,
			   uint64_t now)
{
	lg_stats_error(c->stats, kind);
	/*
	 * A UDP flow is its socket and has no connection to lose: it keeps
	 * its source port, and so its backend, across timeouts.
	 */
	if (c->cfg->udp && c->cfg->long_lived) {
		f->reply_len = 0;
	} else {
		if (f->connected && c->cfg->long_lived)
			c->stats->conns_lost++;
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		f->connected = false;
	}
	request_done(c, f, now);
}

static void request_start(struct client *c, struct flow *f, uint64_t now)
{
	const struct lg_config *cfg = c->cfg;
	struct io_uring_sqe *sqe;
	int err;

	f->busy = true;
	c->busy++;
	c->started++;
	c->stats->counts.attempts++;
	f->started_ns = now;
	f->reply_len = 0;
	if (f->connected) {
		send_request(c, f);
		return;
	}
	if (f->fd >= 0)
		close(f->fd);
	err = flow_socket(c, f);
	if (err) {
		request_failed(c, f, lg_err_of(err), now);
		return;
	}
	if (cfg->udp) {
		/* Connected, so that only the target's replies come in. */
		if (connect(f->fd, (const struct sockaddr *)&cfg->target.ss,
			    cfg->target.len)) {
			request_failed(c, f, lg_err_of(-errno), now);
			return;
		}
		f->connected = true;
		c->stats->conns_opened += cfg->long_lived ? 1 : 0;
		send_request(c, f);
		return;
	}
	sqe = flow_sqe(c, f, OP_CONNECT);
	io_uring_prep_connect(sqe, f->fd, (const struct sockaddr *)&cfg->target.ss,
			      cfg->target.len);
	link_timeout(c, f, sqe);
}

static void reply_received(struct client *c, struct flow *f, int res, uint64_t now)
{
	char *nl;

	if (res == 0) {
		request_failed(c, f, LG_ERR_CLOSED, now);
		return;
	}
	f->reply_len += (size_t)res;
	nl = memchr(f->reply, '\n', f->reply_len);
	if (!nl) {
		/* TCP may split a reply; a datagram is all there is. */
		if (c->cfg->udp || f->reply_len == sizeof(f->reply))
			request_failed(c, f, LG_ERR_BAD_REPLY, now);
		else
			recv_reply(c, f);
		return;
	}
	/* One request, one line: anything after it is out of protocol. */
	if (nl + 1 != f->reply + f->reply_len ||
	    !lg_id_valid(f->reply, (size_t)(nl - f->reply))) {
		request_failed(c, f, LG_ERR_BAD_REPLY, now);
		return;
	}
	lg_stats_success(c->stats, f->reply, (size_t)(nl - f->reply),
			 now - f->started_ns);
	request_done(c, f, now);
}

/* The pause before a flow's next request may end right at the deadline. */
static bool no_more_requests(struct client *c, uint64_t now)
{
	return c->stopping || (c->end_ns && now >= c->end_ns) ||
	       (c->cfg->count && c->started >= c->cfg->count);
}

static void flow_complete(struct client *c, struct flow *f, enum op op, int res,
			  uint64_t now)
{
	switch (op) {
	case OP_CONNECT:
		if (res < 0) {
			request_failed(c, f, lg_err_of(res), now);
			break;
		}
		if (c->cfg->long_lived) {
			f->connected = true;
			c->stats->conns_opened++;
		}
		send_request(c, f);
		break;
	case OP_SEND:
		if (res < 0)
			request_failed(c, f, lg_err_of(res), now);
		else if ((size_t)res != LG_REQUEST_LEN)
			request_failed(c, f, LG_ERR_OTHER, now);
		else
			recv_reply(c, f);
		break;
	case OP_RECV:
		if (res < 0)
			request_failed(c, f, lg_err_of(res), now);
		else
			reply_received(c, f, res, now);
		break;
	case OP_WAIT:
		if (no_more_requests(c, now))
			flow_close(f);
		else
			request_start(c, f, now);
		break;
	default:
		break;
	}
}

static void read_signals(struct client *c)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&c->ring);

	io_uring_prep_read(sqe, c->signals, &c->siginfo, sizeof(c->siginfo), 0);
	io_uring_sqe_set_data64(sqe, OP_SIGNAL);
}

static void stop(struct client *c, uint64_t now)
{
	unsigned int i;

	if (c->stopping)
		return;
	c->stopping = true;
	c->until_ns = c->end_ns && now > c->end_ns ? c->end_ns : now;
	/* Flows between requests have nothing to finish. */
	for (i = 0; i < c->nr_flows; i++)
		if (!c->flows[i].busy && c->flows[i].fd >= 0)
			flow_close(&c->flows[i]);
}

static void complete(struct client *c, struct io_uring_cqe *cqe, uint64_t now)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	enum op op = (enum op)(data & ((1u << UD_OP_BITS) - 1));
	uint64_t index = (data & ((1ull << UD_GEN_SHIFT) - 1)) >> UD_OP_BITS;
	struct flow *f;

	if (op == OP_SIGNAL) {
		if (++c->nr_signals > 1)
			return;
		stop(c, now);
		read_signals(c);
		return;
	}
	if (op == OP_IGNORE || op > OP_SIGNAL || index >= c->nr_flows)
		return;
	f = &c->flows[index];
	if ((uint8_t)(data >> UD_GEN_SHIFT) != f->gen)
		return;
	flow_complete(c, f, op, cqe->res, now);
}

static bool may_start(struct client *c, uint64_t now)
{
	if (c->stopping || !c->nr_fresh)
		return false;
	if (c->cfg->count && c->started >= c->cfg->count)
		return false;
	return !c->start_period_ns || now >= c->next_start_ns;
}

static void start_fresh(struct client *c, uint64_t now)
{
	while (may_start(c, now)) {
		struct flow *f = &c->flows[c->fresh[--c->nr_fresh]];

		if (c->start_period_ns) {
			c->next_start_ns += c->start_period_ns;
			/* Fell behind (concurrency bound): do not burst to catch up. */
			if (c->next_start_ns + c->start_period_ns < now)
				c->next_start_ns = now;
		}
		request_start(c, f, now);
	}
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Until when to wait for completions: 0 for no deadline. */
static uint64_t next_deadline(struct client *c)
{
	uint64_t at = 0;

	if (!c->stopping) {
		at = c->end_ns;
		if (c->start_period_ns && c->nr_fresh &&
		    (!c->cfg->count || c->started < c->cfg->count))
			at = earliest(at, c->next_start_ns);
	}
	if (c->cfg->progress_ns)
		at = earliest(at, c->next_progress_ns);
	return at;
}

static int client_init(struct client *c, const struct lg_config *cfg,
		       struct lg_stats *stats)
{
	unsigned int i, ops;
	int err;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->stats = stats;
	c->nr_flows = cfg->long_lived ? cfg->long_lived : cfg->concurrency;
	c->flows = calloc(c->nr_flows, sizeof(*c->flows));
	c->fresh = calloc(c->nr_flows, sizeof(*c->fresh));
	if (!c->flows || !c->fresh) {
		fputs("klb-loadgen: out of memory\n", stderr);
		return -ENOMEM;
	}
	for (i = 0; i < c->nr_flows; i++) {
		c->flows[i].fd = -1;
		/* Popped from the end: flow 0 starts first. */
		c->fresh[i] = c->nr_flows - 1 - i;
	}
	c->nr_fresh = c->nr_flows;
	c->signals = lg_signals_fd();
	if (c->signals < 0) {
		fprintf(stderr, "klb-loadgen: signalfd: %s\n", strerror(-c->signals));
		return c->signals;
	}
	/* A flow's operation and its linked timeout, and the signal read. */
	ops = 2 * c->nr_flows + 1;
	err = lg_ring_init(&c->ring, ops, client_opcodes,
			   sizeof(client_opcodes) / sizeof(client_opcodes[0]),
			   "klb-loadgen");
	if (err)
		return err;
	if (cfg->rate > 0)
		c->start_period_ns = (uint64_t)llround(1e9 / cfg->rate);
	else if (cfg->long_lived)
		/*
		 * Flows that all start at once stay in step and send in bursts
		 * that overflow the server's queues: spread them over the first
		 * interval instead, for a steady load from the start.
		 */
		c->start_period_ns = cfg->interval_ns / cfg->long_lived;
	if (!c->start_period_ns && (cfg->rate > 0 || cfg->long_lived))
		c->start_period_ns = 1;
	return 0;
}

static void client_fini(struct client *c)
{
	unsigned int i;

	for (i = 0; c->flows && i < c->nr_flows; i++)
		if (c->flows[i].fd >= 0)
			close(c->flows[i].fd);
	if (c->ring.ring_fd > 0)
		io_uring_queue_exit(&c->ring);
	if (c->signals > 0)
		close(c->signals);
	free(c->flows);
	free(c->fresh);
}

uint64_t lg_client_run(const struct lg_config *cfg, struct lg_stats *stats,
		       bool *interrupted)
{
	struct client c;
	uint64_t now, elapsed;

	*interrupted = false;
	if (client_init(&c, cfg, stats)) {
		client_fini(&c);
		return 0;
	}
	read_signals(&c);
	now = now_ns();
	c.t0 = now;
	c.next_start_ns = c.t0;
	if (cfg->duration_ns)
		c.end_ns = c.t0 + cfg->duration_ns;
	if (cfg->progress_ns)
		c.next_progress_ns = c.t0 + cfg->progress_ns;

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		uint64_t deadline;
		int err;

		if ((c.end_ns && now >= c.end_ns) ||
		    (cfg->count && c.started >= cfg->count))
			stop(&c, now);
		start_fresh(&c, now);
		if (cfg->progress_ns && now >= c.next_progress_ns) {
			lg_report_progress(cfg, stats, now - c.t0);
			c.next_progress_ns += cfg->progress_ns;
			if (c.next_progress_ns <= now)
				c.next_progress_ns = now + cfg->progress_ns;
		}
		if ((c.stopping && !c.busy) || c.nr_signals > 1)
			break;

		deadline = next_deadline(&c);
		if (deadline) {
			ts_set(&ts, deadline > now ? deadline - now : 0);
			err = io_uring_submit_and_wait_timeout(&c.ring, &cqe, 1, &ts, NULL);
		} else {
			err = io_uring_submit_and_wait_timeout(&c.ring, &cqe, 1, NULL, NULL);
		}
		if (err < 0 && err != -ETIME && err != -EINTR) {
			fprintf(stderr, "klb-loadgen: io_uring wait: %s\n", strerror(-err));
			client_fini(&c);
			return 0;
		}
		now = now_ns();
		io_uring_for_each_cqe(&c.ring, head, cqe) {
			complete(&c, cqe, now);
			seen++;
		}
		io_uring_cq_advance(&c.ring, seen);
	}
	*interrupted = c.nr_signals > 0;
	/* Not the time it took to close what was open: the rate would lie. */
	elapsed = (c.last_done_ns > c.until_ns ? c.last_done_ns : c.until_ns) - c.t0;
	client_fini(&c);
	return elapsed ? elapsed : 1;
}
