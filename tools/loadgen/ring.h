/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The io_uring set-up both programs share: a ring whose opcodes were
 * probed, a way to get an SQE that never fails, and the termination
 * signals as a file the ring can read.
 */
#ifndef KLB_LOADGEN_RING_H
#define KLB_LOADGEN_RING_H

#include <liburing.h>
#include <stddef.h>

struct lg_opcode {
	int op;
	const char *name;
};

/*
 * Sets up a ring with room for max_inflight operations in its completion
 * queue and checks the kernel knows every opcode in need. On failure
 * prints why, prefixed with prog, and returns a negative errno.
 */
int lg_ring_init(struct io_uring *ring, unsigned int max_inflight,
		 const struct lg_opcode *need, size_t nr_need, const char *prog);

/* An SQE, submitting what is queued first when the queue is full. */
struct io_uring_sqe *lg_ring_sqe(struct io_uring *ring);

/*
 * Blocks SIGINT and SIGTERM and returns a signalfd that becomes readable
 * when one arrives, so that shutdown is one more completion in the ring.
 */
int lg_signals_fd(void);

#endif /* KLB_LOADGEN_RING_H */
