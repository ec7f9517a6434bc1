/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The write-ahead log: Raft entries, hard state and log-start markers as
 * CRC32C-protected records in segment files named by sequence number.
 *
 *   record   u32 payload length | u32 crc32c(length, type, payload) | u8 type | payload
 *
 * A batch (one ready's worth, or several merged) is one write and one
 * fdatasync: group commit. The WAL does no I/O of its own for a batch: it
 * encodes the records (wal_batch_*), then wal_submit() turns them into
 * operations (struct raft_io_batch) that the host runs, on its own
 * io_uring ring or synchronously, and reports with wal_complete(). One
 * submitted batch at a time: a later batch that became durable before an
 * earlier one was torn by a crash would look like corruption to recovery,
 * and the core acknowledges a durable prefix of its log. Every segment
 * starts with the current hard state and log start so that older segments
 * can be deleted after compaction, and is synced before the next one is
 * created. Recovery replays all segments; a damaged record at the end of
 * the last segment with nothing intact after it is a torn write and is cut
 * off (the batch it belonged to was never acknowledged); any other damage
 * is corruption: -EBADMSG, and wal_recovery.error names file and offset.
 *
 * After a failed write or sync the WAL refuses all further work (-EIO):
 * what reached the disk is unknown until it is reopened and recovered.
 */
#ifndef KLB_RAFT_WAL_H
#define KLB_RAFT_WAL_H

#include <stdbool.h>
#include <stddef.h>

#include "raft/fault.h"
#include "raft/fs.h"
#include "raft/io_batch.h"
#include "raft/raft.h"

struct wal_options {
	size_t segment_bytes;		/* roll over past this size */
	const struct storage_fault *fault;
	const struct fs *fs;		/* NULL: the kernel's (fs_posix) */
};

struct wal_recovery {
	struct raft_hard_state hs;
	uint64_t start_index;		/* entries begin after this index */
	uint64_t start_term;
	struct raft_entry *entries;
	size_t n_entries;
	uint64_t truncated_bytes;	/* torn tail cut off, if any */
	unsigned int segments;
	char error[320];		/* why recovery refused, for the operator */
};

struct wal;

/*
 * The WAL's part of one batch: records encoded when the ready is prepared,
 * written when the batch is submitted (wal_submit), acknowledged when it
 * completed (wal_complete). Zero-initialise; set sync for a synced write.
 */
struct wal_batch {
	struct raft_io_buf recs;
	bool sync;			/* fdatasync after the write */
	uint64_t last_index;		/* highest entry index in recs */
	bool has_hs;
	struct raft_hard_state hs;	/* the last hard state in recs */
	bool has_start;
	uint64_t start_index;		/* the last log start in recs */
	uint64_t start_term;
	/* filled by wal_submit() */
	struct raft_io_buf out;		/* header + recs when a segment begins */
	bool synced;			/* the batch ends with a sync */
};

int wal_open(struct wal **out, const char *dir, const struct wal_options *opt,
	     struct wal_recovery *rec);
void wal_recovery_free(struct wal_recovery *rec);
/* Encode into wb: entries (overwriting any at the same indexes), hs, start. */
int wal_batch_entries(struct wal_batch *wb, const struct raft_entry *ents, size_t n);
int wal_batch_hs(struct wal_batch *wb, const struct raft_hard_state *hs);
/* A log start marker (see wal_set_start); always synced. */
int wal_batch_start(struct wal_batch *wb, uint64_t index, uint64_t term, bool reset);
void wal_batch_free(struct wal_batch *wb);
/*
 * Adds wb's operations to io (nothing if wb is empty). -EBUSY while a
 * submitted batch has not completed; -EIO after a failure. A segment roll
 * happens here: creating the file is the one synchronous file system call
 * (no sync: the directory sync is an operation of the batch).
 */
int wal_submit(struct wal *w, struct wal_batch *wb, struct raft_io_batch *io);
/*
 * The submitted batch finished with err (io->err). After an error the WAL
 * refuses all further work with -EIO. wb may be freed afterwards.
 */
int wal_complete(struct wal *w, struct wal_batch *wb, int err);

/*
 * Synchronous helpers (tests, tools, start-up): encode, submit, run the
 * operations through the struct fs, complete.
 *
 * Append entries (overwriting any at the same indexes) and hs, one sync.
 */
int wal_append(struct wal *w, const struct raft_entry *ents, size_t n,
	       const struct raft_hard_state *hs, bool sync);
/*
 * The log now starts after (index, term): after installing a snapshot
 * (reset: drop everything) or compacting (drop what is <= index).
 */
int wal_set_start(struct wal *w, uint64_t index, uint64_t term, bool reset);
/* Delete segments that hold nothing after 'index', and sync the directory. */
int wal_compact(struct wal *w, uint64_t index);
/*
 * The same without waiting: the directory sync becomes the first operation
 * of the next submitted batch. Until then a crash may bring deleted
 * segments back, which recovery handles: their records are all before the
 * recorded log start.
 */
int wal_drop_segments(struct wal *w, uint64_t index);
void wal_close(struct wal *w);
unsigned int wal_segment_count(const struct wal *w);

#endif
