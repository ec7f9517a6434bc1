/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection side of klbd's two small HTTP servers (metrics.c,
 * register.c), on klbd's ring. One request per connection (the request
 * line and headers, no body), one answer, then the connection closes.
 * Connections at once, a request's size and a whole exchange's time are
 * bounded, each with a counter. A server is handed each whole request
 * and answers it at once or later: register.c answers after a commit.
 */
#ifndef KLBD_HTTP_SERVER_H
#define KLBD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klbd/config.h"
#include "klbd/loop.h"

struct klbd;
struct http_conn;
struct wbuf;

struct http_server_ops {
	/* A whole request (req, len bytes): answer it, now or later. */
	void (*request)(struct http_conn *c, const char *req, size_t len);
	/* The connection is closed, answered or not; may be NULL. */
	void (*closed)(struct http_conn *c);
};

struct http_server {
	/* Set by the server before http_server_start. */
	struct klbd *d;
	const struct http_server_ops *ops;
	size_t conns_max;		/* connections at once */
	size_t request_max;		/* request line and headers */
	size_t priv_size;		/* each connection's http_conn.priv */
	uint64_t timeout_ms;		/* a whole exchange, waits included */
	/* Its own. */
	int fd;				/* -1: off */
	struct loop_ev listen_ev, timer_ev;
	struct __kernel_timespec timer_ts;
	struct http_conn *conns;
	size_t n_conns;
	uint64_t answered;		/* answers begun, whatever their code */
	uint64_t conns_over_limit;	/* refused: conns_max at once */
	uint64_t too_large;		/* answered 431 */
	uint64_t timeouts;		/* closed before their answer was out */
};

/* A connection: its klbd client id (node_submit) and the server's bytes. */
uint64_t http_conn_id(const struct http_conn *c);
void *http_conn_priv(struct http_conn *c);
struct http_server *http_conn_server(struct http_conn *c);

/*
 * Listens on a (name and text for messages: "metrics 192.0.2.1:9100");
 * -1 with err filled when it cannot.
 */
int http_server_start(struct http_server *s, const struct klbd_addr *a,
		      const char *name, const char *text, char *err, size_t err_len);
/* Frees the connections that are closed and have nothing in flight. */
void http_server_reap(struct http_server *s);
/* Connection id, if it waits for its answer. */
struct http_conn *http_server_waiting(struct http_server *s, uint64_t id);

/*
 * Answers c with code and body (taken over; its bytes are sent, then
 * freed), "Content-Type: ctype" and the extra header lines (each ending
 * with CRLF, or ""); then closes once the client has read it.
 */
void http_answer(struct http_conn *c, int code, const char *ctype,
		 const char *extra, struct wbuf *body);
/* The same with a text/plain body: text and a newline. */
void http_answer_text(struct http_conn *c, int code, const char *extra,
		      const char *text);

#endif
