// SPDX-License-Identifier: GPL-2.0
/*
 * Backends' own registrations over HTTP (register.h). A request becomes
 * a command, submitted as klbctl's are (node_submit, answered through
 * control_reply, which hands ours to reg_reply): a PUT first renews, and
 * registers (BACKEND_ADD with a ttl) when there is no lease to renew; a
 * DELETE ends the backend's lease (LEASE_END, any lease: an operator's
 * backend stays). The token is compared by its SHA-256, in constant time:
 * neither its bytes nor its length show in the timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/http.h"
#include "klbd/klbd.h"

enum reg_phase {
	REG_READ,		/* the request */
	REG_WAIT,		/* its command's outcome */
	REG_WRITE,		/* the answer */
	REG_LINGER,		/* answered: waits for the client's EOF */
};

struct reg_client {
	struct klbd *d;
	uint64_t id;		/* a control client's id, for node.c */
	int fd;
	bool dead;		/* closed; freed when no poll is in flight */
	enum reg_phase phase;
	uint64_t deadline_ms;
	struct klbd_cmd cmd;	/* PUT: the registration, if renewing fails */
	char req[REG_REQUEST_MAX];
	size_t rlen;
	char out[512];
	size_t olen, ooff;
	struct loop_ev ev;
	struct reg_client *next;
};

static void client_close(struct reg_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_poll_cancel(&c->d->ring, &c->ev);
	close(c->fd);
	c->fd = -1;
	node_client_gone(c->d, c->id);
}

void reg_reap(struct klbd *d)
{
	struct reg_client **pp = &d->reg.clients, *c;

	while ((c = *pp)) {
		if (!c->dead || c->ev.armed) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		d->reg.n_clients--;
		free(c);
	}
}

/* Reads and drops what the client still sends, until its EOF. */
static void client_linger(struct reg_client *c)
{
	char sink[512];
	ssize_t n;

	for (;;) {
		n = read(c->fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_poll(&c->d->ring, &c->ev, c->fd, POLLIN);
			return;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
	}
}

static void client_flush(struct reg_client *c)
{
	ssize_t n;

	while (c->ooff < c->olen) {
		n = write(c->fd, c->out + c->ooff, c->olen - c->ooff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_poll(&c->d->ring, &c->ev, c->fd, POLLOUT);
			return;
		}
		if (n < 0) {
			client_close(c);
			return;
		}
		c->ooff += n;
	}
	/* Closing with unread bytes would reset the connection: see metrics.c. */
	shutdown(c->fd, SHUT_WR);
	c->phase = REG_LINGER;
	c->deadline_ms = c->d->now_ms + REG_LINGER_MS;
	client_linger(c);
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	}
	return "Internal Server Error";
}

static void client_answer(struct reg_client *c, int code, const char *body)
{
	const char *extra = "";

	c->d->reg.requests++;
	if (code == 401)
		extra = "WWW-Authenticate: Bearer\r\n";
	else if (code == 405)
		extra = "Allow: PUT, DELETE\r\n";
	else if (code == 503)
		extra = "Retry-After: 1\r\n";
	c->olen = snprintf(c->out, sizeof(c->out),
			   "HTTP/1.0 %d %s\r\n"
			   "Content-Type: text/plain\r\n"
			   "Content-Length: %zu\r\n"
			   "%s"
			   "Connection: close\r\n\r\n%s\n",
			   code, reason(code), strlen(body) + 1, extra, body);
	if (c->olen >= sizeof(c->out))
		c->olen = sizeof(c->out) - 1;
	c->ooff = 0;
	c->phase = REG_WRITE;
	client_flush(c);
}

/* A command's errno as an HTTP status. */
static int http_code(int status)
{
	switch (status) {
	case 0:
		return 200;
	case -EINVAL:
	case -EBADMSG:
		return 400;
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -ESTALE:
	case -EPERM:		/* an operator's backend, without a lease */
		return 409;
	case -EAGAIN:
	case -EBUSY:
	case -ETIMEDOUT:
	case -ECANCELED:
		return 503;
	}
	return 500;
}

static void submit(struct reg_client *c)
{
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n = klbd_cmd_encode(&c->cmd, buf, sizeof(buf));

	if (n <= 0) {
		client_answer(c, 500, "cannot encode the command");
		return;
	}
	c->phase = REG_WAIT;
	/* The answer may come at once, through reg_reply. */
	node_submit(c->d, c->id, buf, n);
}

void reg_reply(struct klbd *d, uint64_t id, int status, const char *msg)
{
	struct reg_client *c;
	const char *done;

	for (c = d->reg.clients; c; c = c->next)
		if (c->id == id && !c->dead && c->phase == REG_WAIT)
			break;
	if (!c)
		return;
	/* No lease to renew (none, or it just expired): register. */
	if (c->cmd.op == KLBD_CMD_LEASE_RENEW && status == -ENOENT) {
		c->cmd.op = KLBD_CMD_BACKEND_ADD;
		submit(c);
		return;
	}
	switch (c->cmd.op) {
	case KLBD_CMD_LEASE_RENEW:
		done = "renewed";
		break;
	case KLBD_CMD_BACKEND_ADD:
		done = "registered";
		break;
	default:
		done = "deregistered";
		break;
	}
	client_answer(c, http_code(status), status ? (msg && msg[0] ? msg :
						       strerror(-status)) : done);
}

/* "ADDR:PORT" (len bytes) as an endpoint. */
static int parse_ep(const char *s, size_t len, struct klb_endpoint *ep)
{
	struct klbd_addr a;
	char buf[RAFT_ADDR_MAX];

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (klbd_parse_addr(buf, &a))
		return -1;
	memset(ep, 0, sizeof(*ep));
	ep->family = a.sa.ss_family;
	if (ep->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a.sa;

		memcpy(ep->addr, &in->sin_addr, 4);
		ep->port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a.sa;

		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->port = ntohs(in6->sin6_port);
	}
	return ep->port ? 0 : -1;
}

/* /v1/services/PROTO/VIP:PORT/backends/ADDR:PORT into key and addr. */
static int parse_path(const struct http_req *r, struct klbd_cmd *cmd)
{
	static const char pre[] = "/v1/services/", mid[] = "/backends/";
	const char *p = r->path, *end = r->path + r->path_len, *m;
	size_t i;

	if (r->path_len < sizeof(pre) + 4 || memcmp(p, pre, sizeof(pre) - 1))
		return -1;
	p += sizeof(pre) - 1;
	if (!memcmp(p, "tcp/", 4))
		cmd->key.proto = IPPROTO_TCP;
	else if (!memcmp(p, "udp/", 4))
		cmd->key.proto = IPPROTO_UDP;
	else
		return -1;
	p += 4;
	for (m = NULL, i = 0; p + i + sizeof(mid) - 1 <= end; i++)
		if (!memcmp(p + i, mid, sizeof(mid) - 1)) {
			m = p + i;
			break;
		}
	if (!m || parse_ep(p, m - p, &cmd->key.vip))
		return -1;
	p = m + sizeof(mid) - 1;
	return parse_ep(p, end - p, &cmd->be.addr);
}

/* A decimal number from lo to hi, all of s. */
static int parse_num(const char *s, size_t len, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* PUT's query: ttl (required), weight; nothing else. */
static const char *parse_query(const struct http_req *r, struct klbd_cmd *cmd)
{
	const char *v, *p = r->query, *end = r->query + r->query_len, *amp;
	size_t vlen;
	uint32_t n;

	for (; p < end; p = amp + 1) {
		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		if ((amp - p < 4 || memcmp(p, "ttl=", 4)) &&
		    (amp - p < 7 || memcmp(p, "weight=", 7)))
			return "unknown parameter: ttl=S and weight=W only";
	}
	v = http_query(r, "ttl", &vlen);
	if (!v || parse_num(v, vlen, KLBD_LEASE_TTL_MIN, KLBD_LEASE_TTL_MAX, &n))
		return "ttl must be 1 to 3600 seconds";
	cmd->ttl = n;
	v = http_query(r, "weight", &vlen);
	if (v) {
		if (parse_num(v, vlen, 0, KLB_WEIGHT_MAX, &n))
			return "weight out of range";
		cmd->be.fields |= KLB_BE_WEIGHT;
		cmd->be.weight = n;
	}
	return NULL;
}

static bool authorized(struct reg *g, const char *req, size_t len)
{
	uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	const char *v;
	size_t vlen;

	v = http_header(req, len, "Authorization", &vlen);
	if (!v || vlen < 7 || strncasecmp(v, "Bearer ", 7))
		return false;
	v += 7;
	vlen -= 7;
	SHA256((const uint8_t *)g->token, g->token_len, want);
	SHA256((const uint8_t *)v, vlen, got);
	return !CRYPTO_memcmp(want, got, sizeof(want));
}

/* The request is complete: check it, then submit its command. */
static void client_request(struct reg_client *c)
{
	struct reg *g = &c->d->reg;
	struct http_req r;
	const char *why;

	memset(&c->cmd, 0, sizeof(c->cmd));
	if (http_request_line(c->req, c->rlen, &r)) {
		g->bad_requests++;
		client_answer(c, 400, "bad request");
		return;
	}
	if (!authorized(g, c->req, c->rlen)) {
		g->unauthorized++;
		client_answer(c, 401, "a valid 'Authorization: Bearer TOKEN' is needed");
		return;
	}
	if (parse_path(&r, &c->cmd)) {
		g->bad_requests++;
		client_answer(c, 404,
			      "not found: /v1/services/tcp|udp/VIP:PORT/backends/ADDR:PORT");
		return;
	}
	if (r.method_len == 3 && !memcmp(r.method, "PUT", 3)) {
		why = parse_query(&r, &c->cmd);
		if (why) {
			g->bad_requests++;
			client_answer(c, 400, why);
			return;
		}
		c->cmd.op = KLBD_CMD_LEASE_RENEW;
	} else if (r.method_len == 6 && !memcmp(r.method, "DELETE", 6)) {
		if (r.query_len) {
			g->bad_requests++;
			client_answer(c, 400, "a deregistration takes no parameters");
			return;
		}
		c->cmd.op = KLBD_CMD_LEASE_END;
	} else {
		g->bad_requests++;
		client_answer(c, 405, "method not allowed: PUT or DELETE");
		return;
	}
	submit(c);
}

static void client_ev(struct loop_ev *ev, int res)
{
	struct reg_client *c =
		(struct reg_client *)((char *)ev - offsetof(struct reg_client, ev));
	ssize_t n;

	if (c->dead)
		return;
	if (c->phase == REG_WRITE) {
		client_flush(c);
		return;
	}
	if (c->phase == REG_LINGER) {
		client_linger(c);
		return;
	}
	for (;;) {
		n = read(c->fd, c->req + c->rlen, sizeof(c->req) - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_close(c);	/* gone before asking */
			return;
		}
		c->rlen += n;
		if (http_request_complete(c->req, c->rlen)) {
			client_request(c);
			return;
		}
		if (c->rlen == sizeof(c->req)) {
			c->d->reg.too_large++;
			client_answer(c, 431, "request too large");
			return;
		}
	}
	loop_poll(&c->d->ring, &c->ev, c->fd, POLLIN);
}

static void timer_arm(struct klbd *d)
{
	struct reg *g = &d->reg;

	if (g->timer_ev.armed)
		return;
	g->timer_ts.tv_sec = 0;
	g->timer_ts.tv_nsec = 250 * 1000000ll;
	loop_timeout(&d->ring, &g->timer_ev, &g->timer_ts);
}

/* Closes the connections past their deadline; runs while there are any. */
static void timer_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, reg.timer_ev));
	struct reg_client *c;
	bool any = false;

	d->now_ms = loop_now_ms();
	for (c = d->reg.clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (d->now_ms < c->deadline_ms) {
			any = true;
			continue;
		}
		if (c->phase != REG_LINGER)
			d->reg.timeouts++;
		client_close(c);
	}
	if (any)
		timer_arm(d);
}

static void listen_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, reg.listen_ev));
	struct reg *g = &d->reg;
	struct reg_client *c;
	int fd;

	d->now_ms = loop_now_ms();
	while ((fd = accept4(g->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (g->n_clients >= REG_CLIENTS_MAX) {
			g->clients_over_limit++;
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->d = d;
		c->id = ++d->next_client;
		c->fd = fd;
		c->phase = REG_READ;
		c->deadline_ms = d->now_ms + REG_TIMEOUT_MS;
		c->ev.fn = client_ev;
		c->next = g->clients;
		g->clients = c;
		g->n_clients++;
		loop_poll(&d->ring, &c->ev, fd, POLLIN);
	}
	if (g->n_clients)
		timer_arm(d);
	loop_poll(&d->ring, &g->listen_ev, g->fd, POLLIN);
}

int reg_start(struct klbd *d, char *err, size_t err_len)
{
	const struct klbd_addr *a = &d->cfg.reg_sa;
	struct reg *g = &d->reg;
	int one = 1;

	g->fd = -1;
	if (!d->cfg.reg[0])
		return 0;
	if (klbd_config_load_token(&d->cfg, g->token, &g->token_len, err, err_len))
		return -1;
	g->fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0 ||
	    setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(g->fd, (const struct sockaddr *)&a->sa, a->len) ||
	    listen(g->fd, 16)) {
		snprintf(err, err_len, "register %s: %s", d->cfg.reg, strerror(errno));
		return -1;
	}
	g->listen_ev.fn = listen_ev;
	g->timer_ev.fn = timer_ev;
	loop_poll(&d->ring, &g->listen_ev, g->fd, POLLIN);
	klbd_log(LOG_INFO, "registrations on http://%s/v1/services/", d->cfg.reg);
	return 0;
}
