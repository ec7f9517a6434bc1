/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klb-echo: a backend that answers every request with its identity.
 */
#ifndef KLB_LOADGEN_ECHO_H
#define KLB_LOADGEN_ECHO_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "proto.h"

#define ECHO_EXIT_OK		0
#define ECHO_EXIT_FATAL		1
#define ECHO_EXIT_USAGE		2

struct echo_listener {
	struct lg_addr addr;
	bool udp;
	int fd;
};

struct echo_config {
	char id[LG_ID_MAX + 1];
	struct echo_listener *listeners;
	unsigned int nr_listeners;
	bool http;
	int http_status;
	bool reuseport;		/* several servers on one port share its load */
};

/*
 * Opens the listeners (port 0: the kernel picks one), prints the address
 * of each as "listening tcp|udp ADDR:PORT", and serves until SIGINT or
 * SIGTERM. Returns an exit status.
 */
int echo_serve(struct echo_config *cfg);

#endif /* KLB_LOADGEN_ECHO_H */
