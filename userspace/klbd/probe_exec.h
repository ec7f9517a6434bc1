/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exec check's process: the gateway's own script DIR/NAME, started
 * with posix_spawn in a process group of its own, watched through a
 * pidfd on the ring (readable once it exited), killed with its group at
 * the timeout. Only NAME is replicated: what it runs is each gateway's.
 */
#ifndef KLBD_PROBE_EXEC_H
#define KLBD_PROBE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/klb_client.h"

struct probe_exec {
	pid_t pid;
	int pidfd;
};

/*
 * Starts DIR/NAME for backend be of service key (arguments and
 * environment: Documentation/klbd.md), stdin, stdout and stderr on
 * /dev/null. 0, or -errno with why (a missing script: -ENOENT).
 */
int probe_exec_start(struct probe_exec *x, const char *dir, const char *name,
		     const struct klb_service_key *key,
		     const struct klb_endpoint *be, char *why, size_t why_len);
/*
 * Reaps it if it exited: 1 and *status (as waitpid's), 0 while it runs,
 * -errno on failure.
 */
int probe_exec_reap(struct probe_exec *x, int *status);
/* SIGKILL to its process group. */
void probe_exec_kill(struct probe_exec *x);
/* The pidfd closed, once it is reaped. */
void probe_exec_close(struct probe_exec *x);
/* Why a status is not healthy: "exit status 1", "killed by signal 9". */
void probe_exec_why(int status, char *why, size_t why_len);

#endif
