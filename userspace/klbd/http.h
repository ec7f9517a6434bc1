/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An HTTP/1.x request as klbd's two small servers read it (metrics.c,
 * register.c): the request line and headers, no body, in one buffer.
 */
#ifndef KLBD_HTTP_H
#define KLBD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct http_req {
	const char *method, *path, *query;	/* query: after '?', or "" */
	size_t method_len, path_len, query_len;
};

/* Whether p holds the end of the headers (an empty line). */
bool http_request_complete(const char *p, size_t len);
/*
 * The request line of req (len bytes, CRLF or LF ended lines):
 * "METHOD SP TARGET SP HTTP/1.x", a token of capitals and an origin-form
 * target of printable bytes. 0, or -EINVAL.
 */
int http_request_line(const char *req, size_t len, struct http_req *r);
/*
 * The value of header name (case-insensitive), spaces around it removed,
 * in the request's header lines; NULL when absent.
 */
const char *http_header(const char *req, size_t len, const char *name,
			size_t *vlen);
/* Query parameter name's value in r's query; NULL when absent. */
const char *http_query(const struct http_req *r, const char *name, size_t *vlen);

#endif
