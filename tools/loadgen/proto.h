/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire protocol between klb-loadgen and klb-echo, defined once.
 *
 * TCP: a request is one line ending in "\n" (its content is ignored). The
 * server answers every request with one reply line, its identity followed
 * by "\n", in order. A connection carries any number of requests: the
 * client sends one, reads the reply, and may send the next (short-lived
 * clients close after the first reply). The server never closes first
 * unless the client does, or sends a line longer than LG_LINE_MAX.
 *
 * UDP: a request is one datagram of at most LG_DATAGRAM_MAX bytes, any
 * content; the reply is one datagram, identity + "\n", sent back to the
 * request's source address and port from the address it came to.
 *
 * HTTP (klb-echo --http, TCP only): a connection whose first bytes are
 * "GET " or "HEAD " is an HTTP/1.x request instead. Once the header ends
 * (an empty line) the server answers "HTTP/1.0 <status> <reason>" with
 * the identity + "\n" as a text/plain body, and closes.
 *
 * An identity is 1 to LG_ID_MAX bytes of printable ASCII without spaces,
 * quotes or backslashes, so that a reply line is also a name that text
 * and JSON reports print as is.
 */
#ifndef KLB_LOADGEN_PROTO_H
#define KLB_LOADGEN_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define LG_ID_MAX		64
#define LG_LINE_MAX		512
#define LG_DATAGRAM_MAX		1472	/* one Ethernet-sized IPv4 payload */
#define LG_REQUEST		"ping\n"
#define LG_REQUEST_LEN		(sizeof(LG_REQUEST) - 1)

/* A reply line is at most the identity and its newline. */
#define LG_REPLY_MAX		(LG_ID_MAX + 1)

static inline bool lg_id_valid(const char *id, size_t len)
{
	size_t i;

	if (len == 0 || len > LG_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] > '~' || id[i] == '"' || id[i] == '\\')
			return false;
	return true;
}

#endif /* KLB_LOADGEN_PROTO_H */
