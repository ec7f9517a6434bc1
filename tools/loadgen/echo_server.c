// SPDX-License-Identifier: GPL-2.0
/*
 * The echo server's loop: one thread, one ring, like klb-loadgen, so both
 * ends of a test are driven the same way and a backend costs one core at
 * most. Every object in the ring (a TCP listener, a connection, a UDP
 * slot, the signal file) is at most once in flight, so a completion's
 * user data is the object's address with the operation in its low bits
 * (all of them are 8-byte aligned), and an object is freed only when it
 * has nothing in flight.
 *
 * Replies are all the same bytes, so a connection owes a count of them,
 * not a buffer: they go out from one shared block of repeated replies.
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "echo.h"
#include "ring.h"

enum op {
	OP_ACCEPT,
	OP_RECV,
	OP_SEND,
	OP_UDP_RECV,
	OP_UDP_SEND,
	OP_SIGNAL,
};

#define OP_MASK		7u

static const struct lg_opcode echo_opcodes[] = {
	{ IORING_OP_ACCEPT, "IORING_OP_ACCEPT" },
	{ IORING_OP_RECV, "IORING_OP_RECV" },
	{ IORING_OP_SEND, "IORING_OP_SEND" },
	{ IORING_OP_RECVMSG, "IORING_OP_RECVMSG" },
	{ IORING_OP_SENDMSG, "IORING_OP_SENDMSG" },
	{ IORING_OP_READ, "IORING_OP_READ" },
};

/* Datagrams a UDP listener has in the ring at once. */
#define UDP_SLOTS		32
/* Replies one send carries at most. */
#define REPLY_BATCH		64
/* An HTTP request header larger than this is not a health check. */
#define HTTP_HEADER_MAX		8192
#define LISTEN_BACKLOG		4096
#define UDP_RCVBUF		(4 << 20)

enum conn_mode {
	CONN_UNDECIDED,		/* --http: could still be "GET " or "HEAD " */
	CONN_LINES,
	CONN_HTTP,
};

struct conn {
	int fd;
	enum conn_mode mode;
	unsigned int prefix_len;	/* CONN_UNDECIDED: bytes seen */
	bool maybe_get, maybe_head;	/* CONN_UNDECIDED: still matching */
	bool http_head;			/* CONN_HTTP: HEAD, no body */
	size_t line_len;		/* CONN_LINES: the unfinished line */
	size_t header_len;		/* CONN_HTTP */
	unsigned int newlines;		/* CONN_HTTP: in a row, '\r' aside */
	uint64_t owed;			/* replies not yet sent */
	size_t batch_len;		/* bytes of the send in flight */
	size_t batch_sent;
	unsigned int batch_replies;
	bool close_after_send;		/* HTTP/1.0: one answer, then close */
	char buf[LG_LINE_MAX];
};

struct udp_slot {
	struct echo_listener *listener;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage peer;
	/* The request's destination, so that the reply leaves from it. */
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		     CMSG_SPACE(sizeof(struct in_pktinfo))];
	char buf[LG_DATAGRAM_MAX];
};

struct server {
	struct echo_config *cfg;
	struct io_uring ring;
	char *replies;			/* REPLY_BATCH replies in a row */
	size_t reply_len;
	char *http_reply, *http_head_reply;
	size_t http_reply_len, http_head_reply_len;
	struct udp_slot *slots;
	bool *accept_paused;		/* per listener: out of descriptors */
	unsigned int nr_paused;
	int signals;
	struct signalfd_siginfo siginfo;
	bool stopping;
	uint64_t conns_open, conns_total, tcp_requests, udp_requests, http_requests;
};

static void submit_op(struct server *s, void *obj, enum op op,
		      struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)obj | op);
}

static void arm_accept(struct server *s, struct echo_listener *l)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&s->ring);

	io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
	submit_op(s, l, OP_ACCEPT, sqe);
}

static void arm_recv(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&s->ring);

	io_uring_prep_recv(sqe, c->fd, c->buf, sizeof(c->buf), 0);
	submit_op(s, c, OP_RECV, sqe);
}

static void arm_send(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&s->ring);
	const char *data;

	if (c->mode == CONN_HTTP)
		data = c->http_head ? s->http_head_reply : s->http_reply;
	else
		data = s->replies;
	io_uring_prep_send(sqe, c->fd, data + c->batch_sent,
			   c->batch_len - c->batch_sent, MSG_NOSIGNAL);
	submit_op(s, c, OP_SEND, sqe);
}

static void arm_udp_recv(struct server *s, struct udp_slot *slot)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&s->ring);

	slot->iov.iov_base = slot->buf;
	slot->iov.iov_len = sizeof(slot->buf);
	memset(&slot->msg, 0, sizeof(slot->msg));
	slot->msg.msg_name = &slot->peer;
	slot->msg.msg_namelen = sizeof(slot->peer);
	slot->msg.msg_iov = &slot->iov;
	slot->msg.msg_iovlen = 1;
	slot->msg.msg_control = slot->control;
	slot->msg.msg_controllen = sizeof(slot->control);
	io_uring_prep_recvmsg(sqe, slot->listener->fd, &slot->msg, 0);
	submit_op(s, slot, OP_UDP_RECV, sqe);
}

static void arm_signals(struct server *s)
{
	struct io_uring_sqe *sqe = lg_ring_sqe(&s->ring);

	io_uring_prep_read(sqe, s->signals, &s->siginfo, sizeof(s->siginfo), 0);
	submit_op(s, &s->siginfo, OP_SIGNAL, sqe);
}

static void conn_close(struct server *s, struct conn *c)
{
	unsigned int i;

	close(c->fd);
	free(c);
	s->conns_open--;
	/* A descriptor came free: listeners that ran out may accept again. */
	for (i = 0; s->nr_paused && i < s->cfg->nr_listeners; i++) {
		if (s->accept_paused[i] && !s->stopping) {
			s->accept_paused[i] = false;
			s->nr_paused--;
			arm_accept(s, &s->cfg->listeners[i]);
		}
	}
}

/* Sends what the connection owes, or reads on when it owes nothing. */
static void conn_next(struct server *s, struct conn *c)
{
	if (c->mode == CONN_HTTP && c->owed) {
		c->batch_len = c->http_head ? s->http_head_reply_len : s->http_reply_len;
		c->batch_sent = 0;
		c->batch_replies = 1;
		c->close_after_send = true;
		arm_send(s, c);
	} else if (c->owed) {
		c->batch_replies = c->owed < REPLY_BATCH ? (unsigned int)c->owed : REPLY_BATCH;
		c->batch_len = c->batch_replies * s->reply_len;
		c->batch_sent = 0;
		arm_send(s, c);
	} else {
		arm_recv(s, c);
	}
}

/* CONN_LINES: counts the requests in what came in; false if out of protocol. */
static bool take_lines(struct conn *c, const char *data, size_t len)
{
	const char *end = data + len, *nl;

	while (data < end) {
		nl = memchr(data, '\n', (size_t)(end - data));
		if (!nl) {
			c->line_len += (size_t)(end - data);
			break;
		}
		c->owed++;
		c->line_len = 0;
		data = nl + 1;
	}
	return c->line_len <= LG_LINE_MAX;
}

/*
 * CONN_HTTP: waits for the empty line that ends the header. What the
 * request asks for does not matter: every path gets the identity.
 */
static bool take_http(struct conn *c, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (++c->newlines == 2) {
				c->owed = 1;
				return true;
			}
		} else if (data[i] != '\r') {
			c->newlines = 0;
		}
	}
	c->header_len += len;
	return c->header_len <= HTTP_HEADER_MAX;
}

/* --http: whether the connection starts with "GET " or "HEAD ". */
static void decide_mode(struct conn *c, size_t len)
{
	static const char get[] = "GET ", head[] = "HEAD ";
	size_t i;

	for (i = 0; i < len && c->mode == CONN_UNDECIDED; i++) {
		unsigned int at = c->prefix_len++;
		char ch = c->buf[i];

		c->maybe_get = c->maybe_get && at < sizeof(get) - 1 && get[at] == ch;
		c->maybe_head = c->maybe_head && at < sizeof(head) - 1 && head[at] == ch;
		if (c->maybe_get && c->prefix_len == sizeof(get) - 1) {
			c->mode = CONN_HTTP;
		} else if (c->maybe_head && c->prefix_len == sizeof(head) - 1) {
			c->mode = CONN_HTTP;
			c->http_head = true;
		} else if (!c->maybe_get && !c->maybe_head) {
			c->mode = CONN_LINES;
		}
	}
}

static bool conn_take(struct server *s, struct conn *c, size_t len)
{
	uint64_t owed = c->owed;

	if (c->mode == CONN_UNDECIDED) {
		/* Bytes of earlier reads matched a method: no newline among them. */
		size_t earlier = c->prefix_len;

		decide_mode(c, len);
		if (c->mode == CONN_UNDECIDED)
			return true;
		c->line_len = earlier;
		c->header_len = earlier;
	}
	if (c->mode == CONN_HTTP) {
		if (!take_http(c, c->buf, len))
			return false;
		s->http_requests += c->owed;
		return true;
	}
	if (!take_lines(c, c->buf, len))
		return false;
	s->tcp_requests += c->owed - owed;
	return true;
}

static void conn_received(struct server *s, struct conn *c, int res)
{
	if (res <= 0 || !conn_take(s, c, (size_t)res)) {
		conn_close(s, c);
		return;
	}
	conn_next(s, c);
}

static void conn_sent(struct server *s, struct conn *c, int res)
{
	if (res <= 0) {
		conn_close(s, c);
		return;
	}
	c->batch_sent += (size_t)res;
	if (c->batch_sent < c->batch_len) {
		arm_send(s, c);
		return;
	}
	if (c->close_after_send) {
		conn_close(s, c);
		return;
	}
	c->owed -= c->batch_replies;
	conn_next(s, c);
}

static void accepted(struct server *s, struct echo_listener *l, int res)
{
	struct conn *c;

	if (res < 0) {
		if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
			/* Resumed by the next close, instead of spinning on the error. */
			s->accept_paused[l - s->cfg->listeners] = true;
			s->nr_paused++;
			return;
		}
		if (!s->stopping)
			arm_accept(s, l);
		return;
	}
	if (!s->stopping)
		arm_accept(s, l);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(res);
		return;
	}
	c->fd = res;
	c->mode = s->cfg->http ? CONN_UNDECIDED : CONN_LINES;
	c->maybe_get = true;
	c->maybe_head = true;
	s->conns_open++;
	s->conns_total++;
	arm_recv(s, c);
}

/* The reply leaves from the address the request came to (a VIP, with DSR). */
static void reply_source(struct udp_slot *slot)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(&slot->msg); cm; cm = CMSG_NXTHDR(&slot->msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		}
	}
}

static void udp_received(struct server *s, struct udp_slot *slot, int res)
{
	struct io_uring_sqe *sqe;

	if (res < 0 || s->stopping) {
		if (!s->stopping)
			arm_udp_recv(s, slot);
		return;
	}
	s->udp_requests++;
	reply_source(slot);
	slot->iov.iov_base = s->replies;
	slot->iov.iov_len = s->reply_len;
	/* msg_controllen as recvmsg left it: the pktinfo it received. */
	slot->msg.msg_flags = 0;
	if (!slot->msg.msg_controllen)
		slot->msg.msg_control = NULL;
	sqe = lg_ring_sqe(&s->ring);
	io_uring_prep_sendmsg(sqe, slot->listener->fd, &slot->msg, 0);
	submit_op(s, slot, OP_UDP_SEND, sqe);
}

static void complete(struct server *s, struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	void *obj = (void *)(uintptr_t)(data & ~(uint64_t)OP_MASK);

	switch ((enum op)(data & OP_MASK)) {
	case OP_ACCEPT:
		accepted(s, obj, cqe->res);
		break;
	case OP_RECV:
		conn_received(s, obj, cqe->res);
		break;
	case OP_SEND:
		conn_sent(s, obj, cqe->res);
		break;
	case OP_UDP_RECV:
		udp_received(s, obj, cqe->res);
		break;
	case OP_UDP_SEND:
		if (!s->stopping)
			arm_udp_recv(s, obj);
		break;
	case OP_SIGNAL:
		s->stopping = true;
		break;
	}
}

static int listener_open(struct echo_listener *l, bool reuseport)
{
	int one = 1, udp_rcvbuf = UDP_RCVBUF, fd;
	int family = l->addr.ss.ss_family;
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);

	fd = socket(family, (l->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	l->fd = fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		return -errno;
	/* Each listener serves the family it names; a v4 one can sit beside it. */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/*
	 * Many flows' requests can land at once: room for a burst beyond the
	 * default buffer (the forced size needs CAP_NET_ADMIN; otherwise
	 * net.core.rmem_max caps it).
	 */
	if (l->udp && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &udp_rcvbuf,
				 sizeof(udp_rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &udp_rcvbuf, sizeof(udp_rcvbuf));
	if (l->udp && family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (l->udp && family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr.ss, l->addr.len))
		return -errno;
	if (!l->udp && listen(fd, LISTEN_BACKLOG))
		return -errno;
	/* Port 0 asked the kernel for one: report the one it gave. */
	if (getsockname(fd, (struct sockaddr *)&bound, &len))
		return -errno;
	memcpy(&l->addr.ss, &bound, len);
	return 0;
}

static const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static int build_replies(struct server *s)
{
	const char *id = s->cfg->id;
	size_t len = strlen(id), i, head_len;
	char head[256];

	s->reply_len = len + 1;
	s->replies = malloc(REPLY_BATCH * s->reply_len);
	if (!s->replies)
		return -ENOMEM;
	for (i = 0; i < REPLY_BATCH; i++) {
		memcpy(s->replies + i * s->reply_len, id, len);
		s->replies[i * s->reply_len + len] = '\n';
	}
	head_len = (size_t)snprintf(head, sizeof(head),
				    "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\n"
				    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				    s->cfg->http_status, http_reason(s->cfg->http_status),
				    s->reply_len);
	s->http_head_reply = strdup(head);
	s->http_head_reply_len = head_len;
	s->http_reply_len = head_len + s->reply_len;
	s->http_reply = malloc(s->http_reply_len);
	if (!s->http_head_reply || !s->http_reply)
		return -ENOMEM;
	memcpy(s->http_reply, head, head_len);
	memcpy(s->http_reply + head_len, s->replies, s->reply_len);
	return 0;
}

static int server_init(struct server *s, struct echo_config *cfg)
{
	char text[LG_ADDR_STRLEN];
	unsigned int i, j, nr_udp = 0;
	int err;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->signals = -1;
	if (build_replies(s)) {
		fputs("klb-echo: out of memory\n", stderr);
		return -ENOMEM;
	}
	for (i = 0; i < cfg->nr_listeners; i++) {
		err = listener_open(&cfg->listeners[i], cfg->reuseport);
		if (err) {
			fprintf(stderr, "klb-echo: %s %s: %s\n",
				cfg->listeners[i].udp ? "udp" : "tcp",
				lg_addr_format((struct sockaddr *)&cfg->listeners[i].addr.ss, text),
				strerror(-err));
			return err;
		}
		nr_udp += cfg->listeners[i].udp;
	}
	s->slots = calloc(nr_udp * UDP_SLOTS + 1, sizeof(*s->slots));
	s->accept_paused = calloc(cfg->nr_listeners, sizeof(*s->accept_paused));
	if (!s->slots || !s->accept_paused) {
		fputs("klb-echo: out of memory\n", stderr);
		return -ENOMEM;
	}
	s->signals = lg_signals_fd();
	if (s->signals < 0) {
		fprintf(stderr, "klb-echo: signalfd: %s\n", strerror(-s->signals));
		return s->signals;
	}
	/*
	 * Connections have one operation each; beyond the completion queue's
	 * size the kernel holds completions back rather than drop them.
	 */
	err = lg_ring_init(&s->ring, 4096 + nr_udp * UDP_SLOTS, echo_opcodes,
			   sizeof(echo_opcodes) / sizeof(echo_opcodes[0]), "klb-echo");
	if (err)
		return err;
	arm_signals(s);
	for (i = 0, nr_udp = 0; i < cfg->nr_listeners; i++) {
		struct echo_listener *l = &cfg->listeners[i];

		if (!l->udp) {
			arm_accept(s, l);
		} else {
			for (j = 0; j < UDP_SLOTS; j++) {
				struct udp_slot *slot = &s->slots[nr_udp++];

				slot->listener = l;
				arm_udp_recv(s, slot);
			}
		}
		printf("listening %s %s\n", l->udp ? "udp" : "tcp",
		       lg_addr_format((struct sockaddr *)&l->addr.ss, text));
	}
	fflush(stdout);
	return 0;
}

int echo_serve(struct echo_config *cfg)
{
	struct server s;
	unsigned int i;
	int err;

	err = server_init(&s, cfg);
	while (!err && !s.stopping) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		err = io_uring_submit_and_wait(&s.ring, 1);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0) {
			fprintf(stderr, "klb-echo: io_uring wait: %s\n", strerror(-err));
			break;
		}
		err = 0;
		io_uring_for_each_cqe(&s.ring, head, cqe) {
			complete(&s, cqe);
			seen++;
		}
		io_uring_cq_advance(&s.ring, seen);
	}
	if (!err)
		printf("%s: %llu connections, requests: %llu tcp, %llu udp, %llu http\n",
		       cfg->id, (unsigned long long)s.conns_total,
		       (unsigned long long)s.tcp_requests,
		       (unsigned long long)s.udp_requests,
		       (unsigned long long)s.http_requests);
	/*
	 * Connections still open are not tracked in a list: the process ends
	 * here, the kernel closes them, and tearing the ring down cancels what
	 * they had in flight.
	 */
	if (s.ring.ring_fd > 0)
		io_uring_queue_exit(&s.ring);
	for (i = 0; i < cfg->nr_listeners; i++)
		if (cfg->listeners[i].fd >= 0)
			close(cfg->listeners[i].fd);
	if (s.signals >= 0)
		close(s.signals);
	free(s.slots);
	free(s.accept_paused);
	free(s.replies);
	free(s.http_reply);
	free(s.http_head_reply);
	return err ? ECHO_EXIT_FATAL : ECHO_EXIT_OK;
}
