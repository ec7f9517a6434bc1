/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Backends' own registrations over HTTP (`register` in klbd.conf): a
 * backend that is no gateway registers, renews and deregisters itself
 * with a lease (Documentation/klbd.md, Leases):
 *
 *   PUT /v1/services/PROTO/VIP:PORT/backends/ADDR:PORT?ttl=S[&weight=W]
 *	registers (with a lease of S seconds) or renews
 *   DELETE /v1/services/PROTO/VIP:PORT/backends/ADDR:PORT
 *	deregisters (a self-registered backend only)
 *
 * Each request carries "Authorization: Bearer TOKEN" (register-token-file)
 * and is answered once its command is committed and applied here, as
 * klbctl's are. One request per connection, answered, then closed.
 */
#ifndef KLBD_REGISTER_H
#define KLBD_REGISTER_H

#include <stddef.h>
#include <stdint.h>

#include "klbd/config.h"
#include "klbd/loop.h"

/* Bounds, each with a counter. */
#define REG_CLIENTS_MAX		64		/* connections at once */
#define REG_REQUEST_MAX		2048		/* request line and headers */
#define REG_TIMEOUT_MS		20000		/* a whole exchange, commit included */
#define REG_LINGER_MS		1000		/* after the answer, for the client's EOF */

struct reg_client;

struct reg {
	int fd;				/* -1: off */
	struct loop_ev listen_ev, timer_ev;
	struct __kernel_timespec timer_ts;
	struct reg_client *clients;
	size_t n_clients;
	char token[REG_TOKEN_MAX];
	size_t token_len;
	uint64_t requests;		/* answered, whatever the answer */
	uint64_t unauthorized;		/* 401: no token or a wrong one */
	uint64_t bad_requests;		/* 400, 404 (no such route), 405 */
	uint64_t clients_over_limit, too_large, timeouts;
};

struct klbd;

/* Listens on cfg.reg, when set; reads the token. */
int reg_start(struct klbd *d, char *err, size_t err_len);
/* Frees the connections that are closed and have nothing in flight. */
void reg_reap(struct klbd *d);
/* The outcome of client id's command (node.c answers through control_reply). */
void reg_reply(struct klbd *d, uint64_t id, int status, const char *msg);

#endif
