// SPDX-License-Identifier: GPL-2.0
/*
 * The connection side of klbd's HTTP servers (http_server.h): accept,
 * read one request, hand it over, write the answer, close. Every step
 * is non-blocking on klbd's ring; a timer closes what overstays.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/http.h"
#include "klbd/http_server.h"
#include "klbd/klbd.h"

/* After the answer, how long the client has to close its side. */
#define HTTP_LINGER_MS		1000
#define HTTP_TIMER_NS		(250 * 1000000ll)

enum http_phase {
	HTTP_READ,		/* the request */
	HTTP_WAIT,		/* handed over; its answer to come */
	HTTP_WRITE,		/* the answer */
	HTTP_LINGER,		/* answered: waits for the client's EOF */
};

struct http_conn {
	struct http_server *srv;
	uint64_t id;
	int fd;
	bool dead;		/* closed; freed when no poll is in flight */
	enum http_phase phase;
	uint64_t deadline_ms;
	char hdr[256];
	size_t hlen, hoff;
	struct wbuf body;
	struct loop_ev ev;
	struct http_conn *next;
	void *priv;		/* priv_size bytes after the struct */
	char *req;		/* request_max bytes after priv */
	size_t rlen;
};

/* Room for the struct and then priv, each aligned for any type. */
#define HTTP_ALIGN(n)	(((n) + 15) & ~(size_t)15)

uint64_t http_conn_id(const struct http_conn *c)
{
	return c->id;
}

void *http_conn_priv(struct http_conn *c)
{
	return c->priv;
}

struct http_server *http_conn_server(struct http_conn *c)
{
	return c->srv;
}

static void conn_close(struct http_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_poll_cancel(&c->srv->d->ring, &c->ev);
	close(c->fd);
	c->fd = -1;
	if (c->srv->ops->closed)
		c->srv->ops->closed(c);
}

void http_server_reap(struct http_server *s)
{
	struct http_conn **pp = &s->conns, *c;

	while ((c = *pp)) {
		if (!c->dead || c->ev.armed) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		s->n_conns--;
		wbuf_free(&c->body);
		free(c);
	}
}

struct http_conn *http_server_waiting(struct http_server *s, uint64_t id)
{
	struct http_conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->id == id && !c->dead && c->phase == HTTP_WAIT)
			return c;
	return NULL;
}

/* Reads and drops what the client still sends, until its EOF. */
static void conn_linger(struct http_conn *c)
{
	char sink[512];
	ssize_t n;

	for (;;) {
		n = read(c->fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_poll(&c->srv->d->ring, &c->ev, c->fd, POLLIN);
			return;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
	}
}

static void conn_flush(struct http_conn *c)
{
	ssize_t n;

	while (c->hoff < c->hlen || c->body.off < c->body.len) {
		if (c->hoff < c->hlen)
			n = write(c->fd, c->hdr + c->hoff, c->hlen - c->hoff);
		else
			n = write(c->fd, c->body.p + c->body.off,
				  c->body.len - c->body.off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_poll(&c->srv->d->ring, &c->ev, c->fd, POLLOUT);
			return;
		}
		if (n < 0) {
			conn_close(c);
			return;
		}
		if (c->hoff < c->hlen)
			c->hoff += n;
		else
			c->body.off += n;
	}
	/*
	 * Closing with unread bytes would reset the connection, and the
	 * client could lose the answer: end ours, then wait for its EOF.
	 */
	wbuf_free(&c->body);
	shutdown(c->fd, SHUT_WR);
	c->phase = HTTP_LINGER;
	c->deadline_ms = c->srv->d->now_ms + HTTP_LINGER_MS;
	conn_linger(c);
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

void http_answer(struct http_conn *c, int code, const char *ctype,
		 const char *extra, struct wbuf *body)
{
	wbuf_free(&c->body);
	c->body = *body;
	memset(body, 0, sizeof(*body));
	c->body.off = 0;
	c->hlen = snprintf(c->hdr, sizeof(c->hdr),
			   "HTTP/1.0 %d %s\r\n"
			   "Content-Type: %s\r\n"
			   "Content-Length: %zu\r\n"
			   "%s"
			   "Connection: close\r\n\r\n",
			   code, reason(code), ctype, c->body.len, extra);
	if (c->hlen >= sizeof(c->hdr)) {	/* a caller's bug: not silently */
		conn_close(c);
		return;
	}
	c->hoff = 0;
	c->phase = HTTP_WRITE;
	c->srv->answered++;
	conn_flush(c);
}

void http_answer_text(struct http_conn *c, int code, const char *extra,
		      const char *text)
{
	struct wbuf b = { 0 };

	if (wbuf_append(&b, text, strlen(text)) || wbuf_append(&b, "\n", 1)) {
		wbuf_free(&b);
		conn_close(c);
		return;
	}
	http_answer(c, code, "text/plain", extra, &b);
}

static void conn_ev(struct loop_ev *ev, int res)
{
	struct http_conn *c =
		(struct http_conn *)((char *)ev - offsetof(struct http_conn, ev));
	struct http_server *s = c->srv;
	ssize_t n;

	if (c->dead)
		return;
	if (c->phase == HTTP_WRITE) {
		conn_flush(c);
		return;
	}
	if (c->phase == HTTP_LINGER) {
		conn_linger(c);
		return;
	}
	for (;;) {
		n = read(c->fd, c->req + c->rlen, s->request_max - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c);	/* gone before asking */
			return;
		}
		c->rlen += n;
		if (http_request_complete(c->req, c->rlen)) {
			c->phase = HTTP_WAIT;
			s->ops->request(c, c->req, c->rlen);
			return;
		}
		if (c->rlen == s->request_max) {
			s->too_large++;
			http_answer_text(c, 431, "", "request too large");
			return;
		}
	}
	loop_poll(&s->d->ring, &c->ev, c->fd, POLLIN);
}

static void timer_arm(struct http_server *s)
{
	if (s->timer_ev.armed)
		return;
	s->timer_ts.tv_sec = 0;
	s->timer_ts.tv_nsec = HTTP_TIMER_NS;
	loop_timeout(&s->d->ring, &s->timer_ev, &s->timer_ts);
}

/* Closes the connections past their deadline; runs while there are any. */
static void timer_ev(struct loop_ev *ev, int res)
{
	struct http_server *s =
		(struct http_server *)((char *)ev - offsetof(struct http_server, timer_ev));
	struct http_conn *c;
	bool any = false;

	s->d->now_ms = loop_now_ms();
	for (c = s->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (s->d->now_ms < c->deadline_ms) {
			any = true;
			continue;
		}
		if (c->phase != HTTP_LINGER)
			s->timeouts++;
		conn_close(c);
	}
	if (any)
		timer_arm(s);
}

static void listen_ev(struct loop_ev *ev, int res)
{
	struct http_server *s =
		(struct http_server *)((char *)ev - offsetof(struct http_server, listen_ev));
	struct klbd *d = s->d;
	struct http_conn *c;
	int fd;

	d->now_ms = loop_now_ms();
	while ((fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (s->n_conns >= s->conns_max) {
			s->conns_over_limit++;
			close(fd);
			continue;
		}
		c = calloc(1, HTTP_ALIGN(sizeof(*c)) + HTTP_ALIGN(s->priv_size) +
			   s->request_max);
		if (!c) {
			close(fd);
			continue;
		}
		c->srv = s;
		c->id = ++d->next_client;
		c->fd = fd;
		c->phase = HTTP_READ;
		c->deadline_ms = d->now_ms + s->timeout_ms;
		c->priv = (char *)c + HTTP_ALIGN(sizeof(*c));
		c->req = (char *)c->priv + HTTP_ALIGN(s->priv_size);
		c->ev.fn = conn_ev;
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
		loop_poll(&d->ring, &c->ev, fd, POLLIN);
	}
	if (s->n_conns)
		timer_arm(s);
	loop_poll(&d->ring, &s->listen_ev, s->fd, POLLIN);
}

int http_server_start(struct http_server *s, const struct klbd_addr *a,
		      const char *name, const char *text, char *err, size_t err_len)
{
	int one = 1;

	s->fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (const struct sockaddr *)&a->sa, a->len) ||
	    listen(s->fd, 16)) {
		snprintf(err, err_len, "%s %s: %s", name, text, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->listen_ev.fn = listen_ev;
	s->timer_ev.fn = timer_ev;
	loop_poll(&s->d->ring, &s->listen_ev, s->fd, POLLIN);
	return 0;
}
