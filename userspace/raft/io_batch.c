// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/io_batch.h"

int raft_io_buf_reserve(struct raft_io_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void raft_io_buf_free(struct raft_io_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

struct raft_io_op *raft_io_add(struct raft_io_batch *b, enum raft_io_kind kind, int fd)
{
	struct raft_io_op *op;

	if (b->n_ops == RAFT_IO_MAX_OPS)
		abort();	/* a bug in the storage layer, not an input */
	op = &b->ops[b->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->fd = fd;
	op->batch = b;
	return op;
}

bool raft_io_complete(struct raft_io_op *op, int res)
{
	struct raft_io_batch *b = op->batch;

	if (res >= 0 && op->kind == RAFT_IO_WRITE && (size_t)res != op->len)
		res = -EIO;
	else if (res > 0)
		res = 0;
	/* The cause, not the cancellations it led to, is what counts. */
	if (res < 0 && (!b->err || b->err == -ECANCELED))
		b->err = res;
	return ++b->n_done == b->n_ops;
}

int raft_io_run_op(const struct fs *fs, const struct storage_fault *fault,
		   const struct raft_io_op *op)
{
	int err;

	switch (op->kind) {
	case RAFT_IO_WRITE:
		err = storage_fault_check(fault, STORAGE_WRITE);
		if (!err && op->len)
			err = fs_write_all(fs, op->fd, op->buf, op->len, op->off);
		return err ? err : (int)op->len;
	case RAFT_IO_SYNC:
		err = storage_fault_check(fault, STORAGE_SYNC);
		return err ? err : fs->ops->sync(fs->ctx, op->fd);
	case RAFT_IO_RENAME:
		err = storage_fault_check(fault, STORAGE_RENAME);
		return err ? err : fs->ops->rename(fs->ctx, op->fd, op->from, op->to);
	}
	return -EINVAL;
}

int raft_io_run(const struct fs *fs, const struct storage_fault *fault, struct raft_io_batch *b)
{
	size_t i;
	int res = 0;

	for (i = b->n_done; i < b->n_ops; i++) {
		res = res < 0 ? -ECANCELED : raft_io_run_op(fs, fault, &b->ops[i]);
		raft_io_complete(&b->ops[i], res);
	}
	return b->err;
}
