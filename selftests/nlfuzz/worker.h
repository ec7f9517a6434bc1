/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fuzzing worker: its own sockets in one network namespace, with or
 * without CAP_NET_ADMIN there, sending messages until the run's budget is
 * spent and judging every answer.
 */

#ifndef NLFUZZ_WORKER_H
#define NLFUZZ_WORKER_H

#include <stdbool.h>

#include "run.h"

struct nlf_worker {
	struct nlf_run *run;
	struct nlf_slot *slot;
	bool unpriv;			/* writes must fail with EPERM */
	unsigned long limit;		/* own cap on messages, 0 for none */
};

/* Runs in the caller's thread, netns and credentials. */
void nlf_worker_run(struct nlf_worker *w);

/* Records a failure in @slot and the run; the first one of a slot wins. */
void nlf_fail(struct nlf_run *run, struct nlf_slot *slot, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* NLFUZZ_WORKER_H */
