/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The latest snapshot as one file, replaced atomically: write a temporary
 * file, fsync it, rename it over "snapshot", fsync the directory. A crash at
 * any point leaves either the old or the new snapshot, never a mix.
 *
 *   "KLBSNAP1" | u64 index | u64 term | u32 conf length | conf |
 *   u64 data length | data | u32 crc32c of everything before it
 */
#ifndef KLB_RAFT_SNAPSHOT_FILE_H
#define KLB_RAFT_SNAPSHOT_FILE_H

#include "raft/fault.h"
#include "raft/fs.h"
#include "raft/io_batch.h"
#include "raft/raft.h"

/*
 * The whole file (header, data, CRC) into out: a copy, so the snapshot
 * the core handed out may go away while the write is in flight.
 */
int snapshot_encode(const struct raft_snapshot *snap, struct raft_io_buf *out);
/*
 * Opens (truncates) the temporary file, the one synchronous call, and adds
 * to io: write 'file' to it, sync it, rename it over the snapshot, sync
 * the directory dirfd. *tmpfd is for snapshot_complete().
 */
int snapshot_submit(const struct fs *fs, int dirfd, const struct raft_io_buf *file,
		    const struct storage_fault *fault, struct raft_io_batch *io, int *tmpfd);
/* The batch finished with err: close the temporary file, remove it on error. */
void snapshot_complete(const struct fs *fs, int dirfd, int tmpfd, int err);
/* All of the above, synchronously. fs: NULL for the kernel's file systems. */
int snapshot_save(const struct fs *fs, const char *dir, const struct raft_snapshot *snap,
		  const struct storage_fault *fault);
/* -ENOENT when there is none, -EBADMSG when it is damaged. */
int snapshot_load(const struct fs *fs, const char *dir, struct raft_snapshot *snap);

#endif
