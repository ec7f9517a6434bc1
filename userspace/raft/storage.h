/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A node's durable state in one directory: the WAL (wal/) and the latest
 * snapshot (snapshot). Glue between raft_ready and the two, in the order
 * that keeps a crash at any point recoverable:
 *
 *   save(ready)   snapshot file first (atomic), then a WAL start marker that
 *                 drops the old log, then entries + hard state, one sync
 *   compact       snapshot file, then the WAL start, then old segments go
 *   open          snapshot + WAL replay -> struct raft_boot; entries after
 *                 the snapshot are kept only if the log holds the
 *                 snapshot's (index, term), else they are of another
 *                 branch (a crash between the first two steps of save)
 */
#ifndef KLB_RAFT_STORAGE_H
#define KLB_RAFT_STORAGE_H

#include "raft/raft.h"
#include "raft/wal.h"

struct raft_storage {
	char *dir;
	struct wal *wal;
	struct wal_recovery rec;
	struct raft_snapshot snap;
	const struct storage_fault *fault;
	const struct fs *fs;
	char error[400];	/* why open refused to start, for the operator */
};

/*
 * First start of a new cluster member: record the initial configuration as
 * a snapshot at index 0. -EEXIST if the directory already holds state.
 */
int raft_storage_bootstrap(const char *dir, const struct raft_conf *conf,
			   const struct wal_options *opt);
/*
 * Fills boot (valid until raft_storage_close); creates dir if needed.
 * -EBADMSG when the state on disk is corrupt: st->error names the file and
 * offset, and the node must not start.
 */
int raft_storage_open(struct raft_storage *st, const char *dir, const struct wal_options *opt,
		      struct raft_boot *boot);
int raft_storage_save(struct raft_storage *st, const struct raft_ready *rd);
int raft_storage_compact(struct raft_storage *st, const struct raft_snapshot *snap);
void raft_storage_close(struct raft_storage *st);

#endif
