// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include "raft/uring.h"

static void prep(struct io_uring_sqe *sqe, struct raft_io_op *op)
{
	switch (op->kind) {
	case RAFT_IO_WRITE:
		io_uring_prep_write(sqe, op->fd, op->buf, op->len, op->off);
		break;
	case RAFT_IO_SYNC:
		/* A directory's entries need fsync; a file's data, fdatasync. */
		io_uring_prep_fsync(sqe, op->fd, op->dir ? 0 : IORING_FSYNC_DATASYNC);
		break;
	case RAFT_IO_RENAME:
		io_uring_prep_renameat(sqe, op->fd, op->from, op->fd, op->to, 0);
		break;
	}
	io_uring_sqe_set_data(sqe, op);
}

int raft_uring_queue(struct io_uring *ring, struct raft_io_batch *b)
{
	struct io_uring_sqe *sqe;
	size_t i;

	if (io_uring_sq_space_left(ring) < b->n_ops)
		return -EBUSY;
	for (i = 0; i < b->n_ops; i++) {
		sqe = io_uring_get_sqe(ring);
		prep(sqe, &b->ops[i]);
		if (i + 1 < b->n_ops)
			sqe->flags |= IOSQE_IO_LINK;
	}
	return 0;
}
