// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and printing of socket addresses. Only numeric addresses: the
 * programs drive tests and benchmarks, where a name lookup would be one
 * more thing that can stall or differ between runs.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int parse_port(const char *text, bool port_zero_ok, in_port_t *port)
{
	unsigned long val;
	char *end;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	val = strtoul(text, &end, 10);
	if (errno || *end || val > 65535 || (val == 0 && !port_zero_ok))
		return -EINVAL;
	*port = htons((unsigned short)val);
	return 0;
}

static int fill(const char *host, in_port_t port, struct lg_addr *addr)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		addr->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		addr->len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

int lg_addr_parse(const char *text, bool port_zero_ok, struct lg_addr *addr)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *start = text, *stop;
	in_port_t port;

	if (*text == '[') {
		start = text + 1;
		stop = strchr(start, ']');
		if (!stop || stop[1] != ':')
			return -EINVAL;
		colon = stop + 1;
	} else {
		colon = strrchr(text, ':');
		/* An IPv6 address needs brackets to carry a port. */
		if (!colon || memchr(text, ':', colon - text))
			return -EINVAL;
		stop = colon;
	}
	if (stop - start <= 0 || (size_t)(stop - start) >= sizeof(host))
		return -EINVAL;
	memcpy(host, start, stop - start);
	host[stop - start] = '\0';
	if (parse_port(colon + 1, port_zero_ok, &port))
		return -EINVAL;
	if (fill(host, port, addr))
		return -EINVAL;
	/* Bracketed IPv4 is not an address anyone writes on purpose. */
	if (*text == '[' && addr->ss.ss_family != AF_INET6)
		return -EINVAL;
	return 0;
}

int lg_addr_parse_host(const char *text, struct lg_addr *addr)
{
	return fill(text, 0, addr);
}

const char *lg_addr_format(const struct sockaddr *sa, char *buf)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, LG_ADDR_STRLEN, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, LG_ADDR_STRLEN, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, LG_ADDR_STRLEN, "(family %u)", sa->sa_family);
	}
	return buf;
}
