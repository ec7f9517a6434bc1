// SPDX-License-Identifier: GPL-2.0
/* The ring and the requests klbd puts on it (loop.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "klbd/loop.h"

#define LOOP_ENTRIES	256

static const struct {
	int op;
	const char *name;
} loop_ops[] = {
	{ IORING_OP_POLL_ADD, "POLL_ADD" },
	{ IORING_OP_POLL_REMOVE, "POLL_REMOVE" },
	{ IORING_OP_TIMEOUT, "TIMEOUT" },
	/* health probes (probe.c) */
	{ IORING_OP_CONNECT, "CONNECT" },
	{ IORING_OP_SEND, "SEND" },
	{ IORING_OP_RECV, "RECV" },
	{ IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT" },
	/* the Raft storage's (raft/uring.c) */
	{ IORING_OP_WRITE, "WRITE" },
	{ IORING_OP_FSYNC, "FSYNC" },
	{ IORING_OP_RENAMEAT, "RENAMEAT" },
};

int loop_init(struct io_uring *ring, char *err, size_t err_len)
{
	struct io_uring_probe *probe;
	size_t i;
	int ret;

	ret = io_uring_queue_init(LOOP_ENTRIES, ring, 0);
	if (ret) {
		bool off = ret == -ENOSYS || ret == -EPERM;

		snprintf(err, err_len, "io_uring unavailable (%s)%s", strerror(-ret),
			 off ? ": disabled by the kernel or a security policy (seccomp, a container); klbd needs it" :
			 "");
		return ret;
	}
	probe = io_uring_get_probe_ring(ring);
	if (!probe) {
		snprintf(err, err_len, "io_uring: cannot probe the supported operations");
		io_uring_queue_exit(ring);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < sizeof(loop_ops) / sizeof(loop_ops[0]); i++) {
		if (!io_uring_opcode_supported(probe, loop_ops[i].op)) {
			snprintf(err, err_len,
				 "io_uring: this kernel lacks IORING_OP_%s (klbd needs Linux 5.11 or later)",
				 loop_ops[i].name);
			io_uring_free_probe(probe);
			io_uring_queue_exit(ring);
			return -EOPNOTSUPP;
		}
	}
	io_uring_free_probe(probe);
	return 0;
}

struct io_uring_sqe *loop_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	while (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static uint64_t tag(struct loop_ev *ev)
{
	return (uint64_t)(uintptr_t)ev | 1;
}

void loop_poll(struct io_uring *ring, struct loop_ev *ev, int fd,
	       unsigned int mask)
{
	struct io_uring_sqe *sqe = loop_sqe(ring);

	io_uring_prep_poll_add(sqe, fd, mask);
	io_uring_sqe_set_data64(sqe, tag(ev));
	ev->armed = true;
}

void loop_poll_cancel(struct io_uring *ring, struct loop_ev *ev)
{
	struct io_uring_sqe *sqe;

	if (!ev->armed)
		return;
	sqe = loop_sqe(ring);
	io_uring_prep_poll_remove(sqe, tag(ev));
	/* Its own completion needs no handler: untagged zero is skipped. */
	io_uring_sqe_set_data64(sqe, 0);
}

void loop_timeout(struct io_uring *ring, struct loop_ev *ev,
		  struct __kernel_timespec *ts)
{
	struct io_uring_sqe *sqe = loop_sqe(ring);

	io_uring_prep_timeout(sqe, ts, 0, 0);
	io_uring_sqe_set_data64(sqe, tag(ev));
	ev->armed = true;
}

struct io_uring_sqe *loop_sqe_pair(struct io_uring *ring)
{
	/* Both in one submission: a link cut by a submit would be lost. */
	while (io_uring_sq_space_left(ring) < 2)
		io_uring_submit(ring);
	return io_uring_get_sqe(ring);
}

void loop_link_timeout(struct io_uring *ring, struct io_uring_sqe *op,
		       struct loop_ev *ev, struct __kernel_timespec *ts)
{
	struct io_uring_sqe *t;

	op->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(op, tag(ev));
	ev->armed = true;
	t = io_uring_get_sqe(ring);
	io_uring_prep_link_timeout(t, ts, 0);
	/* The operation's completion says what happened: -ECANCELED. */
	io_uring_sqe_set_data64(t, 0);
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
