/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Storage I/O as data: the storage layer turns what must become durable
 * into a batch of operations (write these bytes at this offset of this
 * file, sync this file, rename in this directory) and the host runs them
 * wherever it likes: on its own io_uring ring (raft_uring_submit() in
 * uring.h prepares one linked chain of SQEs), or synchronously through the
 * struct fs with raft_io_run() for tests and tools.
 *
 * The operations of a batch run in order, each only after the previous one
 * succeeded (an io_uring link chain: a failure cancels the rest). Buffers,
 * file handles and names belong to the storage layer and stay valid until
 * the last operation of the batch was reported complete.
 */
#ifndef KLB_RAFT_IO_BATCH_H
#define KLB_RAFT_IO_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/fault.h"
#include "raft/fs.h"

/* The most operations one batch holds (see storage.c for the longest). */
#define RAFT_IO_MAX_OPS 10

enum raft_io_kind {
	RAFT_IO_WRITE,		/* buf, len at off of fd; must write all of it */
	RAFT_IO_SYNC,		/* fd: fdatasync for a file, fsync for a directory */
	RAFT_IO_RENAME,		/* from -> to inside directory fd, replacing 'to' */
};

struct raft_io_batch;

/*
 * One operation. fd is a handle of the struct fs the storage was opened
 * with; with fs_posix it is a kernel file descriptor the host can hand to
 * io_uring. 'dir' tells a directory sync (fsync) from a file's (fdatasync).
 */
struct raft_io_op {
	enum raft_io_kind kind;
	int fd;
	bool dir;
	const void *buf;
	size_t len;
	uint64_t off;
	const char *from;
	const char *to;
	struct raft_io_batch *batch;	/* the batch it belongs to */
};

/*
 * A batch: ops[0..n_ops) in order. n_done and err are the completion
 * bookkeeping of raft_io_complete(); the rest is the owner's.
 */
struct raft_io_batch {
	struct raft_io_op ops[RAFT_IO_MAX_OPS];
	size_t n_ops;
	size_t n_done;
	int err;		/* first failure, 0 while all succeeded */
};

/* A growable byte buffer the batches' bytes are encoded into. */
struct raft_io_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

int raft_io_buf_reserve(struct raft_io_buf *b, size_t more);
void raft_io_buf_free(struct raft_io_buf *b);

/* Appends an operation to b; returns it so the caller can fill it in. */
struct raft_io_op *raft_io_add(struct raft_io_batch *b, enum raft_io_kind kind, int fd);

/*
 * Records the result of one operation, as io_uring reports it: bytes
 * written for a write, 0 for a sync or rename, a negative errno (-ECANCELED
 * for an operation a failed predecessor cancelled). A short write is a
 * failure (-EIO): the linked operations after it were cancelled, so its
 * sync never ran. Returns true when this was the batch's last operation;
 * b->err then tells whether all of it succeeded. Completions may be
 * reported in any order.
 */
bool raft_io_complete(struct raft_io_op *op, int res);

/*
 * Runs one operation synchronously through fs, consulting fault first
 * (STORAGE_WRITE, STORAGE_SYNC, STORAGE_RENAME). Returns what
 * raft_io_complete() expects.
 */
int raft_io_run_op(const struct fs *fs, const struct storage_fault *fault,
		   const struct raft_io_op *op);

/*
 * Runs a whole batch synchronously in order, stopping at the first failure
 * (the rest count as cancelled), and completes every operation. Returns
 * b->err.
 */
int raft_io_run(const struct fs *fs, const struct storage_fault *fault, struct raft_io_batch *b);

#endif
