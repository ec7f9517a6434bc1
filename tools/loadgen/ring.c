// SPDX-License-Identifier: GPL-2.0
/*
 * Ring set-up. io_uring can be missing (old kernel), disabled by the
 * kernel.io_uring_disabled sysctl, or refused by a seccomp filter; each
 * gets a message that says which, instead of a bare errno later on.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

#include "ring.h"

#define LG_SQ_ENTRIES	1024

static unsigned int pow2_at_least(unsigned int n)
{
	unsigned int p = 1;

	while (p < n && p < (1u << 20))
		p <<= 1;
	return p;
}

int lg_ring_init(struct io_uring *ring, unsigned int max_inflight,
		 const struct lg_opcode *need, size_t nr_need, const char *prog)
{
	struct io_uring_params params;
	struct io_uring_probe *probe;
	size_t i;
	int err;

	memset(&params, 0, sizeof(params));
	/*
	 * Every operation in flight may complete at once: room for all, as
	 * far as the kernel allows (beyond, it holds completions back).
	 */
	params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
	params.cq_entries = pow2_at_least(2 * LG_SQ_ENTRIES > max_inflight ?
					  2 * LG_SQ_ENTRIES : max_inflight);
	err = io_uring_queue_init_params(LG_SQ_ENTRIES, ring, &params);
	if (err == -ENOSYS) {
		fprintf(stderr, "%s: io_uring is not available in this kernel\n", prog);
		return err;
	}
	if (err == -EPERM) {
		fprintf(stderr, "%s: io_uring is disabled (%s)\n", prog,
			"sysctl kernel.io_uring_disabled, or a seccomp filter");
		return err;
	}
	if (err) {
		fprintf(stderr, "%s: io_uring set-up failed: %s\n", prog, strerror(-err));
		return err;
	}
	if (!(params.features & IORING_FEAT_NODROP) ||
	    !(params.features & IORING_FEAT_EXT_ARG)) {
		fprintf(stderr, "%s: this kernel's io_uring is too old (5.11 or later needed)\n",
			prog);
		io_uring_queue_exit(ring);
		return -EOPNOTSUPP;
	}
	probe = io_uring_get_probe_ring(ring);
	if (!probe) {
		fprintf(stderr, "%s: cannot probe io_uring opcodes\n", prog);
		io_uring_queue_exit(ring);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < nr_need; i++) {
		if (!io_uring_opcode_supported(probe, need[i].op)) {
			fprintf(stderr, "%s: io_uring lacks %s in this kernel\n",
				prog, need[i].name);
			io_uring_free_probe(probe);
			io_uring_queue_exit(ring);
			return -EOPNOTSUPP;
		}
	}
	io_uring_free_probe(probe);
	return 0;
}

struct io_uring_sqe *lg_ring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe;

	for (;;) {
		sqe = io_uring_get_sqe(ring);
		if (sqe)
			return sqe;
		io_uring_submit(ring);
	}
}

int lg_signals_fd(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
