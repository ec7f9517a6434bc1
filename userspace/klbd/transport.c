// SPDX-License-Identifier: GPL-2.0
/*
 * Peers over TCP (frame.h, auth.h). Each node dials every other one and
 * sends its messages on that outbound connection only; what peers send
 * arrives on the connections they dialled. So a connection carries data
 * one way, and a peer's identity is what its handshake proved, never
 * where it came from.
 *
 * Who the peers are is Raft's newest configuration, with the addresses
 * it records (klbd.conf's [peers] until a node has a configuration, and
 * for a member the configuration gives no address). A member that leaves
 * it is kept REMOVED_LINGER_MS more, so that it can be told.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"
#include "raft/conf.h"

#define RBUF_MIN	(64 * 1024)
/* Frames put in the socket buffer at once; the rest wait in the queue. */
#define OUT_HIGH_WATER	(1u << 20)
#define HANDSHAKE_FRAME_MAX	256
#define READS_PER_EVENT		16
/* A refusal is logged once per this many ms (and always counted). */
#define REFUSAL_LOG_MS	10000
/*
 * Attempts to reach a lost leader (see conn_close): the first at once,
 * then one a tick while its dying listener still accepts and resets.
 */
#define LEADER_REDIALS_MAX	10

int wbuf_append(struct wbuf *b, const void *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (!n)
		return 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static struct peer *peer_find(struct klbd *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->n_peers; i++)
		if (d->peers[i].id == id)
			return &d->peers[i];
	return NULL;
}

static void conn_read_ev(struct loop_ev *ev, int res);
static void conn_write_ev(struct loop_ev *ev, int res);

static struct conn *conn_new(struct klbd *d, int fd, bool outbound)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->fd = fd;
	c->outbound = outbound;
	c->rev.fn = conn_read_ev;
	c->wev.fn = conn_write_ev;
	c->deadline_ms = d->now_ms + HANDSHAKE_TIMEOUT_MS;
	return c;
}

static void peer_backoff(struct klbd *d, struct peer *p)
{
	p->next_attempt_ms = d->now_ms + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			p->backoff_ms * 2;
}

static void conn_close(struct conn *c, const char *why)
{
	struct klbd *d = c->d;
	struct conn **pp;

	if (c->dead)
		return;
	if (why)
		klbd_log(c->state == CONN_OPEN ? LOG_INFO : LOG_DEBUG,
			 "%s connection %s peer %llu closed: %s",
			 c->outbound ? "outbound" : "inbound",
			 c->outbound ? "to" : "from",
			 (unsigned long long)c->peer, why);
	c->dead = true;
	loop_poll_cancel(&d->ring, &c->rev);
	loop_poll_cancel(&d->ring, &c->wev);
	close(c->fd);
	c->fd = -1;
	if (c->state == CONN_OPEN)
		d->ts.disconnects++;
	if (c->outbound) {
		struct peer *p = peer_find(d, c->peer);

		if (p && p->conn == c) {
			p->conn = NULL;
			/*
			 * The leader's connection closed: dial it again at once
			 * (redial_lost_leader) to tell a dead daemon from the
			 * network (a reset or a timeout says nothing). A dying
			 * process's listener may go last (io_uring releases
			 * the files it polls later) and accept an attempt,
			 * then reset it: that is tried again, a tick later.
			 */
			if (c->state == CONN_OPEN && !p->retire_ms &&
			    node_followed(d) == p->id) {
				p->leader_lost = true;
				p->leader_redials = 0;
				p->next_attempt_ms = d->now_ms;
			} else if (p->leader_lost && c->state == CONN_WAIT_CHALLENGE &&
				   p->leader_redials < LEADER_REDIALS_MAX) {
				p->next_attempt_ms = d->now_ms + 1;
			} else {
				/* A failed connect is leader_redial_failed()'s. */
				if (c->state != CONN_CONNECTING)
					p->leader_lost = false;
				peer_backoff(d, p);
			}
		}
	} else {
		for (pp = &d->inbound; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				d->n_inbound--;
				break;
			}
	}
	c->next = d->dead_conns;
	d->dead_conns = c;
}

void transport_reap(struct klbd *d)
{
	struct conn **pp = &d->dead_conns, *c;

	while ((c = *pp)) {
		if (c->rev.armed || c->wev.armed) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c->rbuf);
		wbuf_free(&c->out);
		free(c);
	}
}

static void conn_flush(struct conn *c)
{
	struct wbuf *b = &c->out;
	ssize_t n;

	while (b->off < b->len) {
		n = write(c->fd, b->p + b->off, b->len - b->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (!c->wev.armed)
					loop_poll(&c->d->ring, &c->wev, c->fd, POLLOUT);
				return;
			}
			conn_close(c, strerror(errno));
			return;
		}
		b->off += n;
	}
	b->off = b->len = 0;
}

static int conn_put(struct conn *c, uint8_t type, const void *data, size_t len)
{
	struct klbd *d = c->d;
	size_t size = frame_size(type, len);
	long n;
	int err;

	/* Room first, then encode in place: no second copy of big frames. */
	err = wbuf_append(&c->out, "", 0);
	if (!err && c->out.len + size > c->out.cap) {
		uint8_t *np;
		size_t cap = c->out.cap ? c->out.cap : 4096;

		while (cap < c->out.len + size)
			cap *= 2;
		np = realloc(c->out.p, cap);
		if (!np)
			return -ENOMEM;
		c->out.p = np;
		c->out.cap = cap;
	}
	n = frame_encode(c->out.p + c->out.len, c->out.cap - c->out.len, type,
			 frame_type_has_mac(type) ? c->send_seq : 0, data, len,
			 frame_type_has_mac(type) ? &c->key : NULL);
	if (n < 0)
		return n;
	if (frame_type_has_mac(type))
		c->send_seq++;
	c->out.len += n;
	d->ts.frames_sent++;
	return 0;
}

static void peer_drain(struct klbd *d, struct peer *p)
{
	struct conn *c = p->conn;
	struct qmsg *m;

	while (c && c->state == CONN_OPEN && (m = p->qhead) &&
	       c->out.len - c->out.off < OUT_HIGH_WATER) {
		p->qhead = m->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qmsgs--;
		p->qbytes -= m->len;
		if (conn_put(c, m->type, m->data, m->len))
			p->dropped++;
		free(m);
	}
	if (c && c->state == CONN_OPEN)
		conn_flush(c);
}

void transport_send(struct klbd *d, uint64_t id, uint8_t type,
		    const void *data, size_t len)
{
	struct peer *p = peer_find(d, id);
	struct qmsg *m;
	size_t max;

	if (!p)
		return;
	/*
	 * While the peer is unreachable only a few messages wait: they go
	 * stale, and Raft sends what matters again once it is back.
	 */
	max = p->conn && p->conn->state == CONN_OPEN ? PEER_QUEUE_MAX_MSGS :
	      PEER_QUEUE_DOWN_MSGS;
	if (p->qmsgs >= max || p->qbytes + len > PEER_QUEUE_MAX_BYTES) {
		/* Raft sends again what matters; memory must not grow. */
		p->dropped++;
		d->ts.queue_full_drops++;
		return;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		p->dropped++;
		return;
	}
	m->next = NULL;
	m->type = type;
	m->len = len;
	memcpy(m->data, data, len);
	if (p->qtail)
		p->qtail->next = m;
	else
		p->qhead = m;
	p->qtail = m;
	p->qmsgs++;
	p->qbytes += len;
	peer_drain(d, p);
}

/*
 * Warnings about what peers send are limited: a hostile or misconfigured
 * peer retries forever, and the counters tell how often.
 */
static int refusal_level(struct klbd *d, uint64_t *last_ms)
{
	if (*last_ms && d->now_ms - *last_ms < REFUSAL_LOG_MS)
		return LOG_DEBUG;
	*last_ms = d->now_ms;
	return LOG_WARNING;
}

static void count_frame_error(struct klbd *d, int err)
{
	switch (err) {
	case -EBADMSG:
		d->ts.frames_bad_crc++;
		break;
	case -EKEYREJECTED:
		d->ts.frames_bad_mac++;
		break;
	case -EILSEQ:
		d->ts.frames_bad_seq++;
		break;
	case -EMSGSIZE:
		d->ts.frames_too_large++;
		break;
	default:
		d->ts.frames_bad_proto++;
		break;
	}
}

static const char *frame_error_name(int err)
{
	switch (err) {
	case -EBADMSG:
		return "a corrupt frame (length or checksum)";
	case -EKEYREJECTED:
		return "a frame with a wrong MAC";
	case -EILSEQ:
		return "a frame out of sequence (replayed or lost)";
	case -EMSGSIZE:
		return "a frame over the size limit";
	case -EPROTONOSUPPORT:
		return "another protocol version";
	}
	return "a frame the protocol does not allow here";
}

/* Inbound: the client says who it is and whom it wants. */
static void on_hello(struct conn *c, const struct frame *f)
{
	struct klbd *d = c->d;
	uint8_t reply[AUTH_CHALLENGE_BYTES];

	if (f->type != FRAME_HELLO || f->len != AUTH_HELLO_BYTES) {
		d->ts.frames_bad_proto++;
		conn_close(c, "no HELLO");
		return;
	}
	c->hs.client = get_u64(f->payload);
	c->hs.server = get_u64(f->payload + 8);
	memcpy(c->hs.client_nonce, f->payload + 16, AUTH_NONCE_BYTES);
	c->peer = c->hs.client;
	/*
	 * A member, one klbd.conf names, or anyone while this node has no
	 * configuration yet (it joins, and the leader dials it first): the
	 * cluster key still has to be proved.
	 */
	if (c->hs.server != d->cfg.id || c->hs.client == d->cfg.id ||
	    (!peer_find(d, c->hs.client) && !klbd_config_peer(&d->cfg, c->hs.client) &&
	     (d->peers_conf.n_voters || d->peers_conf.n_learners))) {
		d->ts.peers_unknown++;
		klbd_log(refusal_level(d, &d->unknown_logged_ms),
			 "refused a connection from unknown node %llu (asking for node %llu)",
			 (unsigned long long)c->hs.client,
			 (unsigned long long)c->hs.server);
		conn_close(c, NULL);
		return;
	}
	if (auth_nonce(c->hs.server_nonce)) {
		conn_close(c, "no random bytes");
		return;
	}
	put_u64(reply, d->cfg.id);
	memcpy(reply + 8, c->hs.server_nonce, AUTH_NONCE_BYTES);
	auth_proof(d->cfg.key, d->cfg.key_len, &c->hs, AUTH_SERVER,
		   reply + 8 + AUTH_NONCE_BYTES);
	c->state = CONN_WAIT_AUTH;
	if (!conn_put(c, FRAME_CHALLENGE, reply, sizeof(reply)))
		conn_flush(c);
}

static void conn_open(struct conn *c)
{
	auth_session_key(c->d->cfg.key, c->d->cfg.key_len, &c->hs, &c->key);
	c->state = CONN_OPEN;
	c->send_seq = 1;
	c->recv_seq = 1;
}

/* Inbound: the client's proof. */
static void on_auth(struct conn *c, const struct frame *f)
{
	struct klbd *d = c->d;
	struct peer *p;

	if (f->type != FRAME_AUTH || f->len != AUTH_AUTH_BYTES ||
	    !auth_check(d->cfg.key, d->cfg.key_len, &c->hs, AUTH_CLIENT,
			f->payload)) {
		d->ts.auth_failures++;
		klbd_log(refusal_level(d, &d->auth_logged_ms),
			 "node %llu failed to authenticate (another cluster key?)",
			 (unsigned long long)c->peer);
		conn_close(c, NULL);
		return;
	}
	conn_open(c);
	klbd_log(LOG_INFO, "inbound connection from node %llu authenticated",
		 (unsigned long long)c->peer);
	/* It is back: dial it now rather than when the backoff ends. */
	p = peer_find(d, c->peer);
	if (p && !p->conn) {
		p->backoff_ms = BACKOFF_MIN_MS;
		p->next_attempt_ms = d->now_ms;
	}
}

/* Outbound: the server's proof, then ours. */
static void on_challenge(struct conn *c, const struct frame *f)
{
	struct klbd *d = c->d;
	struct peer *p = peer_find(d, c->peer);
	uint8_t proof[AUTH_AUTH_BYTES];

	if (f->type != FRAME_CHALLENGE || f->len != AUTH_CHALLENGE_BYTES ||
	    get_u64(f->payload) != c->peer) {
		d->ts.frames_bad_proto++;
		conn_close(c, "no CHALLENGE from the node dialled");
		return;
	}
	memcpy(c->hs.server_nonce, f->payload + 8, AUTH_NONCE_BYTES);
	if (!auth_check(d->cfg.key, d->cfg.key_len, &c->hs, AUTH_SERVER,
			f->payload + 8 + AUTH_NONCE_BYTES)) {
		d->ts.auth_failures++;
		klbd_log(refusal_level(d, &d->auth_logged_ms),
			 "node %llu failed to authenticate (another cluster key?)",
			 (unsigned long long)c->peer);
		conn_close(c, NULL);
		return;
	}
	auth_proof(d->cfg.key, d->cfg.key_len, &c->hs, AUTH_CLIENT, proof);
	if (conn_put(c, FRAME_AUTH, proof, sizeof(proof))) {
		conn_close(c, "out of memory");
		return;
	}
	conn_open(c);
	d->ts.connects++;
	if (p) {
		p->backoff_ms = BACKOFF_MIN_MS;
		p->leader_lost = false;	/* it answered: alive */
	}
	klbd_log(LOG_INFO, "connected to node %llu", (unsigned long long)c->peer);
	if (p)
		peer_drain(d, p);
	else
		conn_flush(c);
}

static void conn_frame(struct conn *c, const uint8_t *buf, size_t len)
{
	struct klbd *d = c->d;
	struct frame f;
	int err;

	err = frame_decode(buf, len, c->state == CONN_OPEN ? &c->key : NULL,
			   c->state == CONN_OPEN ? c->recv_seq : 0, &f);
	if (err) {
		count_frame_error(d, err);
		klbd_log(refusal_level(d, &d->frame_logged_ms),
			 "node %llu sent %s: connection dropped",
			 (unsigned long long)c->peer, frame_error_name(err));
		conn_close(c, NULL);
		return;
	}
	d->ts.frames_received++;
	switch (c->state) {
	case CONN_WAIT_HELLO:
		on_hello(c, &f);
		return;
	case CONN_WAIT_AUTH:
		on_auth(c, &f);
		return;
	case CONN_WAIT_CHALLENGE:
		on_challenge(c, &f);
		return;
	case CONN_OPEN:
		c->recv_seq++;
		if (c->outbound) {
			d->ts.frames_bad_proto++;
			conn_close(c, "data on an outbound connection");
			return;
		}
		node_recv(d, c->peer, f.type, f.payload, f.len);
		return;
	case CONN_CONNECTING:
		break;
	}
	conn_close(c, "unexpected frame");
}

static void conn_read(struct conn *c, int res)
{
	struct klbd *d = c->d;
	unsigned int reads;
	ssize_t n;
	long flen;

	if (c->dead)
		return;
	if (res < 0 && res != -EINTR) {
		conn_close(c, strerror(-res));
		return;
	}
	/* A bounded number of reads, then the others get their turn. */
	for (reads = 0; reads < READS_PER_EVENT; reads++) {
		size_t want = c->rlen + RBUF_MIN;

		flen = frame_len(c->rbuf, c->rlen);
		if (flen > 0 && (size_t)flen > want)
			want = flen;
		if (want > c->rcap) {
			uint8_t *np = realloc(c->rbuf, want);

			if (!np) {
				conn_close(c, "out of memory");
				return;
			}
			c->rbuf = np;
			c->rcap = want;
		}
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c, n ? strerror(errno) : "closed by the peer");
			return;
		}
		c->rlen += n;
		/* Every whole frame in the buffer. */
		for (;;) {
			flen = frame_len(c->rbuf, c->rlen);
			if (flen == -EMSGSIZE) {
				d->ts.frames_too_large++;
				klbd_log(LOG_WARNING,
					 "node %llu sent a frame over the size limit: connection dropped",
					 (unsigned long long)c->peer);
				conn_close(c, NULL);
				return;
			}
			/* Before the handshake, no one gets us to buffer much. */
			if (flen > HANDSHAKE_FRAME_MAX && c->state != CONN_OPEN) {
				d->ts.frames_too_large++;
				conn_close(c, "a handshake frame over its size limit");
				return;
			}
			if (flen < 0 || (size_t)flen > c->rlen)
				break;
			conn_frame(c, c->rbuf, flen);
			if (c->dead)
				return;
			memmove(c->rbuf, c->rbuf + flen, c->rlen - flen);
			c->rlen -= flen;
		}
	}
	loop_poll(&d->ring, &c->rev, c->fd, POLLIN);
}

static void peer_connect(struct klbd *d, struct peer *p);

/* A lost leader is dialled again now, not at the next tick. */
static void redial_lost_leader(struct klbd *d)
{
	size_t i;

	for (i = 0; i < d->n_peers; i++)
		if (d->peers[i].leader_lost && !d->peers[i].conn &&
		    d->now_ms >= d->peers[i].next_attempt_ms)
			peer_connect(d, &d->peers[i]);
}

static void conn_read_ev(struct loop_ev *ev, int res)
{
	struct conn *c = (struct conn *)((char *)ev - offsetof(struct conn, rev));

	if (c->dead)
		return;
	conn_read(c, res);
	if (c->dead)
		redial_lost_leader(c->d);
}

/* An attempt to dial a lost leader again failed to connect (err). */
static void leader_redial_failed(struct klbd *d, uint64_t id, int err)
{
	struct peer *p = peer_find(d, id);

	if (!p || !p->leader_lost)
		return;
	/* Accepted by a dying listener, then reset: see conn_close(). */
	if (err == ECONNRESET && p->leader_redials < LEADER_REDIALS_MAX) {
		p->next_attempt_ms = d->now_ms + 1;
		return;
	}
	p->leader_lost = false;
	if (err == ECONNREFUSED) {
		struct conn *c, *next;

		/*
		 * What the dead daemon sent and we have not read yet is stale:
		 * a heartbeat read after this would make it our leader again.
		 */
		for (c = d->inbound; c; c = next) {
			next = c->next;
			if (c->peer == id && c->state == CONN_OPEN)
				conn_close(c, "its daemon is gone");
		}
		node_leader_refused(d, id);
	}
}

static void conn_write(struct conn *c, int res)
{
	struct klbd *d = c->d;
	uint8_t hello[AUTH_HELLO_BYTES];
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->dead)
		return;
	if (c->state == CONN_CONNECTING) {
		if (res < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			err = err ? err : res < 0 ? -res : errno;
			conn_close(c, strerror(err));
			leader_redial_failed(d, c->peer, err);
			return;
		}
		c->hs.client = d->cfg.id;
		c->hs.server = c->peer;
		if (auth_nonce(c->hs.client_nonce)) {
			conn_close(c, "no random bytes");
			return;
		}
		put_u64(hello, c->hs.client);
		put_u64(hello + 8, c->hs.server);
		memcpy(hello + 16, c->hs.client_nonce, AUTH_NONCE_BYTES);
		c->state = CONN_WAIT_CHALLENGE;
		if (conn_put(c, FRAME_HELLO, hello, sizeof(hello))) {
			conn_close(c, "out of memory");
			return;
		}
		loop_poll(&d->ring, &c->rev, c->fd, POLLIN);
		conn_flush(c);
		return;
	}
	conn_flush(c);
	if (!c->dead && c->outbound && c->state == CONN_OPEN) {
		struct peer *p = peer_find(d, c->peer);

		if (p)
			peer_drain(d, p);
	}
}

static void conn_write_ev(struct loop_ev *ev, int res)
{
	struct conn *c = (struct conn *)((char *)ev - offsetof(struct conn, wev));

	if (c->dead)
		return;
	conn_write(c, res);
	if (c->dead)
		redial_lost_leader(c->d);
}

static void peer_connect(struct klbd *d, struct peer *p)
{
	struct conn *c;
	int fd, one = 1;

	fd = socket(p->sa.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		peer_backoff(d, p);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_new(d, fd, true);
	if (!c) {
		close(fd);
		peer_backoff(d, p);
		return;
	}
	c->peer = p->id;
	c->state = CONN_CONNECTING;
	p->conn = c;
	if (p->leader_lost)
		p->leader_redials++;
	if (connect(fd, (struct sockaddr *)&p->sa.sa, p->sa.len) && errno != EINPROGRESS) {
		int err = errno;
		uint64_t id = p->id;

		conn_close(c, strerror(err));
		leader_redial_failed(d, id, err);
		return;
	}
	loop_poll(&d->ring, &c->wev, fd, POLLOUT);
}

static void listen_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, listen_ev));
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (d->n_inbound >= INBOUND_MAX) {
			d->ts.inbound_over_limit++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(d, fd, false);
		if (!c) {
			close(fd);
			continue;
		}
		c->state = CONN_WAIT_HELLO;
		c->next = d->inbound;
		d->inbound = c;
		d->n_inbound++;
		loop_poll(&d->ring, &c->rev, fd, POLLIN);
	}
	loop_poll(&d->ring, &d->listen_ev, d->listen_fd, POLLIN);
}

static void peer_drop(struct klbd *d, size_t i)
{
	struct peer *p = &d->peers[i];
	struct qmsg *m;

	klbd_log(LOG_INFO, "node %llu is no peer any more", (unsigned long long)p->id);
	if (p->conn)
		conn_close(p->conn, "no member any more");
	while ((m = p->qhead)) {
		p->qhead = m->next;
		free(m);
	}
	memmove(p, p + 1, (d->n_peers - i - 1) * sizeof(*p));
	d->n_peers--;
}

static void peer_set(struct klbd *d, uint64_t id, const char *addr)
{
	struct peer *p = peer_find(d, id);
	struct klbd_addr sa;
	size_t i;

	if (klbd_parse_addr(addr, &sa)) {
		klbd_log(LOG_WARNING, "node %llu: address '%s' is not IPV4:PORT or [IPV6]:PORT: not dialled",
			 (unsigned long long)id, addr);
		return;
	}
	if (p) {
		p->retire_ms = 0;
		if (!strcmp(p->addr, addr))
			return;
		klbd_log(LOG_INFO, "node %llu is at %s now", (unsigned long long)id, addr);
		if (p->conn)
			conn_close(p->conn, "its address changed");
	} else {
		if (d->n_peers == PEERS_MAX) {
			/* Room for a member: a removed peer goes early. */
			for (i = 0; i < d->n_peers && !d->peers[i].retire_ms; i++)
				;
			if (i == d->n_peers)
				return;
			d->ts.peers_over_limit++;
			peer_drop(d, i);
		}
		p = &d->peers[d->n_peers++];
		memset(p, 0, sizeof(*p));
		p->id = id;
		p->backoff_ms = BACKOFF_MIN_MS;
		p->next_attempt_ms = d->now_ms;
	}
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->sa = sa;
}

void transport_sync(struct klbd *d)
{
	struct raft_status rs;
	const struct klbd_peer *cp;
	const char *addr;
	uint64_t ids[2 * RAFT_MAX_NODES];
	size_t n = 0, i, j;

	raft_status(d->raft, &rs);
	if (d->peers_synced && conf_equal(&rs.conf, &d->peers_conf))
		return;
	d->peers_conf = rs.conf;
	d->peers_synced = true;
	for (i = 0; i < rs.conf.n_voters; i++)
		ids[n++] = rs.conf.voters[i];
	for (i = 0; i < rs.conf.n_learners; i++)
		ids[n++] = rs.conf.learners[i];
	if (!n)
		for (i = 0; i < d->cfg.n_peers; i++)
			ids[n++] = d->cfg.peers[i].id;
	for (i = 0; i < n; i++) {
		if (ids[i] == d->cfg.id)
			continue;
		addr = raft_conf_addr(&rs.conf, ids[i]);
		cp = klbd_config_peer(&d->cfg, ids[i]);
		if ((!addr || !*addr) && cp)
			addr = cp->addr;
		if (addr && *addr)
			peer_set(d, ids[i], addr);
		else
			klbd_log(LOG_WARNING, "node %llu: no address (neither the configuration nor [peers] has one)",
				 (unsigned long long)ids[i]);
	}
	for (i = 0; i < d->n_peers; i++) {
		for (j = 0; j < n && ids[j] != d->peers[i].id; j++)
			;
		if (j == n && !d->peers[i].retire_ms)
			d->peers[i].retire_ms = d->now_ms + REMOVED_LINGER_MS;
	}
}

bool transport_connected(struct klbd *d, uint64_t id)
{
	struct peer *p = peer_find(d, id);

	return p && p->conn && p->conn->state == CONN_OPEN;
}

void transport_tick(struct klbd *d)
{
	struct conn *c, *next;
	size_t i;

	for (i = 0; i < d->n_peers; i++) {
		struct peer *p = &d->peers[i];

		if (p->retire_ms && d->now_ms >= p->retire_ms) {
			peer_drop(d, i--);
			continue;
		}

		if (p->conn && p->conn->state != CONN_OPEN &&
		    d->now_ms > p->conn->deadline_ms) {
			d->ts.handshake_timeouts++;
			conn_close(p->conn, "handshake timed out");
			p->leader_lost = false;	/* a timeout says nothing */
		}
		if (!p->conn && d->now_ms >= p->next_attempt_ms)
			peer_connect(d, p);
	}
	for (c = d->inbound; c; c = next) {
		next = c->next;
		if (c->state != CONN_OPEN && d->now_ms > c->deadline_ms) {
			d->ts.handshake_timeouts++;
			conn_close(c, "handshake timed out");
		}
	}
}

int transport_start(struct klbd *d, char *err, size_t err_len)
{
	const struct klbd_addr *a = &d->cfg.listen_sa;
	int one = 1;

	transport_sync(d);
	d->listen_fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0 ||
	    setsockopt(d->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(d->listen_fd, (const struct sockaddr *)&a->sa, a->len) ||
	    listen(d->listen_fd, 64)) {
		snprintf(err, err_len, "listen on %s: %s", d->cfg.listen, strerror(errno));
		return -1;
	}
	d->listen_ev.fn = listen_ev;
	loop_poll(&d->ring, &d->listen_ev, d->listen_fd, POLLIN);
	return 0;
}
