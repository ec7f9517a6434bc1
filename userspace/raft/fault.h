/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the storage layer: a hook consulted before each
 * write, sync and file creation. Returning a negative errno makes that
 * operation fail as if the kernel had returned it (tests use -ENOSPC, -EIO).
 */
#ifndef KLB_RAFT_FAULT_H
#define KLB_RAFT_FAULT_H

enum storage_op {
	STORAGE_WRITE,
	STORAGE_SYNC,
	STORAGE_CREATE,
	STORAGE_RENAME,
};

struct storage_fault {
	int (*hook)(void *ctx, enum storage_op op);
	void *ctx;
};

static inline int storage_fault_check(const struct storage_fault *f, enum storage_op op)
{
	return f && f->hook ? f->hook(f->ctx, op) : 0;
}

#endif
