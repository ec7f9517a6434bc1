/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The write-ahead log: Raft entries, hard state and log-start markers as
 * CRC32C-protected records in segment files named by sequence number.
 *
 *   record   u32 payload length | u32 crc32c(length, type, payload) | u8 type | payload
 *
 * A batch (one ready's worth) is one write and one fdatasync: group commit,
 * submitted through io_uring as a linked write + fsync pair. Every segment
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
#include "raft/raft.h"

struct wal_options {
	size_t segment_bytes;		/* roll over past this size */
	bool no_uring;			/* plain pwrite + fdatasync */
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

int wal_open(struct wal **out, const char *dir, const struct wal_options *opt,
	     struct wal_recovery *rec);
void wal_recovery_free(struct wal_recovery *rec);
/* Append entries (overwriting any at the same indexes) and hs, one sync. */
int wal_append(struct wal *w, const struct raft_entry *ents, size_t n,
	       const struct raft_hard_state *hs, bool sync);
/*
 * The log now starts after (index, term): after installing a snapshot
 * (reset: drop everything) or compacting (drop what is <= index).
 */
int wal_set_start(struct wal *w, uint64_t index, uint64_t term, bool reset);
/* Delete segments that hold nothing after 'index'. */
int wal_compact(struct wal *w, uint64_t index);
void wal_close(struct wal *w);
unsigned int wal_segment_count(const struct wal *w);

#endif
