/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Storage batches on the host's own io_uring ring. Only for storage opened
 * on the kernel's file systems (fs_posix): the handles in the operations
 * are then kernel file descriptors.
 */
#ifndef KLB_RAFT_URING_H
#define KLB_RAFT_URING_H

#include <liburing.h>

#include "raft/io_batch.h"

/*
 * Queues b's operations on ring as one link chain (each runs after the
 * previous one succeeded; a failure cancels the rest), the user_data of
 * each SQE being its struct raft_io_op, for raft_storage_complete(). Does
 * not submit. -EBUSY, and nothing queued, when the submission queue lacks
 * room for the whole chain.
 */
int raft_uring_queue(struct io_uring *ring, struct raft_io_batch *b);

#endif
