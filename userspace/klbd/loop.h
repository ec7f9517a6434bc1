/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klbd's event loop: one thread, one io_uring ring. Sockets are watched
 * with one-shot poll requests (re-armed by their owner), timers are
 * timeout requests, health probes are connect/send/recv requests with a
 * linked timeout, and the Raft storage's batches run on the same ring
 * (raft/uring.h). A completion's user_data is either a struct loop_ev
 * (tagged with the low bit) or a storage operation (struct raft_io_op,
 * untagged, as raft_uring_queue() sets it).
 */
#ifndef KLBD_LOOP_H
#define KLBD_LOOP_H

#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop_ev;
typedef void (*loop_fn)(struct loop_ev *ev, int res);

struct loop_ev {
	loop_fn fn;
	bool armed;		/* a request is in flight */
};

/*
 * Sets up the ring and checks that the kernel supports every operation
 * klbd uses; err says what is missing (io_uring disabled, an old kernel).
 */
int loop_init(struct io_uring *ring, char *err, size_t err_len);
/* An SQE, submitting what is queued when the ring is full. */
struct io_uring_sqe *loop_sqe(struct io_uring *ring);
void loop_poll(struct io_uring *ring, struct loop_ev *ev, int fd,
	       unsigned int mask);
void loop_poll_cancel(struct io_uring *ring, struct loop_ev *ev);
void loop_timeout(struct io_uring *ring, struct loop_ev *ev,
		  struct __kernel_timespec *ts);
/*
 * An operation bounded in time: loop_sqe_pair() gives the operation's
 * SQE with room for its timeout after it; prepare it, then
 * loop_link_timeout() links the timeout (ts must live until submitted).
 * On timeout the operation completes with -ECANCELED.
 */
struct io_uring_sqe *loop_sqe_pair(struct io_uring *ring);
void loop_link_timeout(struct io_uring *ring, struct io_uring_sqe *op,
		       struct loop_ev *ev, struct __kernel_timespec *ts);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);
/* Nanoseconds of CLOCK_MONOTONIC, for latencies. */
uint64_t loop_now_ns(void);

static inline bool loop_is_ev(uint64_t user_data)
{
	return user_data & 1;
}

static inline struct loop_ev *loop_ev_of(uint64_t user_data)
{
	return (struct loop_ev *)(uintptr_t)(user_data & ~(uint64_t)1);
}

#endif
