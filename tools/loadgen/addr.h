/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Socket addresses as the command lines write them: 127.0.0.1:80,
 * [::1]:80, and without the port for source addresses.
 */
#ifndef KLB_LOADGEN_ADDR_H
#define KLB_LOADGEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

struct lg_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* ADDR:PORT or [ADDR6]:PORT; the port may be 0 when port_zero_ok. */
int lg_addr_parse(const char *text, bool port_zero_ok, struct lg_addr *addr);
/* A bare address (no port, no brackets), port 0. */
int lg_addr_parse_host(const char *text, struct lg_addr *addr);
/* Formats as the parser reads it; buf of LG_ADDR_STRLEN bytes. */
#define LG_ADDR_STRLEN	64
const char *lg_addr_format(const struct sockaddr *sa, char *buf);

#endif /* KLB_LOADGEN_ADDR_H */
