/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated file system for the storage code (struct fs): everything in
 * memory, with what reads see kept apart from what a crash would leave.
 *
 *   file data     writes and truncations since the file's last sync are
 *                 pending; a crash keeps a random prefix of them, the last
 *                 kept write possibly torn at any byte (the rest of it
 *                 either missing or, as when the size reached the disk but
 *                 the data did not, zeros)
 *   directories   creations, renames and unlinks since the directory's
 *                 last sync are pending; a crash keeps a random prefix
 *   faults        a write may fail with -ENOSPC or -EIO (after writing a
 *                 random part of it), a sync with -EIO (nothing becomes
 *                 durable); and the machine can die after a given number
 *                 of changes, after which every call fails with -EIO until
 *                 sim_fs_crash()
 *
 * Writes are taken to reach the disk in the order they were made, the
 * model recovery's rule for a torn write relies on (see raft.md). Directories
 * themselves are durable once made.
 */
#ifndef KLB_RAFT_SIM_FS_H
#define KLB_RAFT_SIM_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/fs.h"
#include "raft/prng.h"

struct sim_fs_faults {
	unsigned int write_error_permille;	/* -ENOSPC or -EIO on a write */
	unsigned int sync_error_permille;	/* -EIO on a sync */
	int64_t changes_until_death;		/* < 0: never */
};

struct sim_fs;

struct sim_fs *sim_fs_new(uint64_t seed);
void sim_fs_free(struct sim_fs *sfs);
/* The struct fs to hand to the storage; valid while sfs lives. */
const struct fs *sim_fs_ops(struct sim_fs *sfs);
void sim_fs_set_faults(struct sim_fs *sfs, const struct sim_fs_faults *faults);
bool sim_fs_dead(const struct sim_fs *sfs);
/*
 * The machine loses power: every handle is closed and each file and
 * directory keeps what was durable plus a random prefix of what was not.
 * The file system then works again, without faults.
 */
void sim_fs_crash(struct sim_fs *sfs);
/* The process dies, the machine does not: handles close, data stays. */
void sim_fs_restart(struct sim_fs *sfs);

/* What happened, for reports. */
struct sim_fs_stats {
	uint64_t writes, syncs, crashes, torn_writes, lost_writes, write_errors, sync_errors;
};

void sim_fs_stats(const struct sim_fs *sfs, struct sim_fs_stats *st);

#endif
