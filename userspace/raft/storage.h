/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A node's durable state in one directory: the WAL (wal/) and the latest
 * snapshot (snapshot). Glue between raft_ready and the two, in the order
 * that keeps a crash at any point recoverable:
 *
 *   save(ready)   snapshot file first (atomic), then a WAL start marker that
 *                 drops the old log with the entries + hard state after
 *                 it, one write and one sync
 *   compact       snapshot file, then the WAL start, then old segments go
 *   open          snapshot + WAL replay -> struct raft_boot; entries after
 *                 the snapshot are kept only if the log holds the
 *                 snapshot's (index, term), else they are of another
 *                 branch (a crash between the first two steps of save)
 *
 * Asynchronous use, for a host that runs one event loop: the storage never
 * waits for the disk. raft_storage_prepare() encodes a ready (copying what
 * it needs: the ready may go away at once) and returns a ticket;
 * raft_storage_next() hands out the next batch of I/O operations to run
 * (struct raft_io_batch: submit them as one io_uring link chain, see
 * uring.h); raft_storage_complete() takes each operation's result and,
 * when a batch finished, says which tickets are durable and what to pass
 * to raft_persisted(). Then the host sends the after-persist messages of
 * the readies up to that ticket.
 *
 * Batches run one at a time, in order: a batch is handed out only after
 * the previous one completed. Readies prepared meanwhile are merged into
 * the batch waiting behind it (one write and one sync for all of them:
 * group commit across readies), so "several batches in flight" means
 * several prepared tickets, one of them on the disk. The operations of
 * one batch may complete in any order. Why not several batches on the disk
 * at once: a later write made durable before an earlier one was torn by a
 * crash leaves damage followed by intact records, which recovery must
 * refuse as corruption; and the core acknowledges a durable prefix of the
 * log, never a hole.
 *
 * raft_storage_save() and raft_storage_compact() do the same synchronously
 * through the struct fs, for tests and tools.
 */
#ifndef KLB_RAFT_STORAGE_H
#define KLB_RAFT_STORAGE_H

#include "raft/io_batch.h"
#include "raft/raft.h"
#include "raft/wal.h"

struct storage_batch;

struct raft_storage {
	char *dir;
	int dirfd;		/* dir: the snapshot's rename and sync */
	struct wal *wal;
	struct wal_recovery rec;
	struct raft_snapshot snap;
	const struct storage_fault *fault;
	const struct fs *fs;
	struct storage_batch *head;	/* oldest not yet durable; may be on the disk */
	struct storage_batch *tail;	/* newest; takes merges while not handed out */
	uint64_t last_ticket;		/* the newest ticket given out */
	uint64_t durable_ticket;	/* every ticket up to this one is durable */
	int failed;
	char error[400];	/* why open refused to start, for the operator */
};

/* What a finished batch made durable. */
struct raft_storage_durable {
	uint64_t ticket;		/* this ticket and every earlier one */
	uint64_t persist_index;		/* for raft_persisted(), when not 0 */
	uint64_t persist_term;
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

/*
 * Encodes what rd asks to persist (snapshot, entries, hard state) and
 * queues it. *ticket: the readies' after-persist messages may go out once
 * raft_storage_is_durable(ticket); a ready with nothing to write gets the
 * newest ticket (its messages follow everything prepared before it). The
 * ready is not referred to after the call. -EIO after a failure.
 */
int raft_storage_prepare(struct raft_storage *st, const struct raft_ready *rd, uint64_t *ticket);
/*
 * Queues the application's own snapshot: the snapshot file, then the WAL's
 * new start; the old segments are deleted when it completed (their
 * directory sync rides with the next batch).
 */
int raft_storage_prepare_compact(struct raft_storage *st, const struct raft_snapshot *snap,
				 uint64_t *ticket);
/*
 * The next batch of operations to run, or NULL when there is none or one
 * is still running. Valid until its last operation was completed.
 */
struct raft_io_batch *raft_storage_next(struct raft_storage *st);
/*
 * One operation of the running batch finished with res (as io_uring
 * reports it). Returns 0 while the batch has operations left, 1 when it
 * finished and *d says what is durable, or a negative errno when it
 * failed: the storage then refuses everything (-EIO) and the host must
 * stop and reopen it (recovery decides what reached the disk).
 */
int raft_storage_complete(struct raft_storage *st, struct raft_io_op *op, int res,
			  struct raft_storage_durable *d);
/* Whether ticket (from a prepare) is durable. */
bool raft_storage_is_durable(const struct raft_storage *st, uint64_t ticket);
/*
 * Runs every queued batch synchronously through the struct fs. *d (may be
 * NULL) accumulates what became durable. Returns the first failure.
 */
int raft_storage_run(struct raft_storage *st, struct raft_storage_durable *d);

/* prepare + run: the synchronous path. */
int raft_storage_save(struct raft_storage *st, const struct raft_ready *rd);
/* prepare_compact + run, the old segments deleted and their directory synced. */
int raft_storage_compact(struct raft_storage *st, const struct raft_snapshot *snap);
void raft_storage_close(struct raft_storage *st);

#endif
