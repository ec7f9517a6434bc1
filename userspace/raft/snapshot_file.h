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
#include "raft/raft.h"

/* fs: NULL for the kernel's file systems. */
int snapshot_save(const struct fs *fs, const char *dir, const struct raft_snapshot *snap,
		  const struct storage_fault *fault);
/* -ENOENT when there is none, -EBADMSG when it is damaged. */
int snapshot_load(const struct fs *fs, const char *dir, struct raft_snapshot *snap);

#endif
