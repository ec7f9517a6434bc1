/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The file system calls the storage makes (WAL, snapshot file), behind one
 * table so that a simulated file system can stand in for the real one: it
 * then decides what a crash keeps of writes that were never synced.
 *
 * Calls mirror their POSIX namesakes and return a negative errno on error.
 * Handles are small integers; a directory handle serves for the *at calls
 * and for syncing the directory itself.
 */
#ifndef KLB_RAFT_FS_H
#define KLB_RAFT_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum fs_open_flags {
	FS_WRITE = 1 << 0,
	FS_CREATE = 1 << 1,
	FS_EXCL = 1 << 2,
	FS_TRUNC = 1 << 3,
};

struct fs_ops {
	int (*mkdir)(void *ctx, const char *path);	/* -EEXIST if it is there */
	int (*open_dir)(void *ctx, const char *path);
	/* Calls fn for each name in the directory; stops at fn's error. */
	int (*list)(void *ctx, int dirfd, int (*fn)(void *arg, const char *name), void *arg);
	int (*open)(void *ctx, int dirfd, const char *name, int flags);
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, uint64_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, uint64_t off);
	int (*size)(void *ctx, int fd, uint64_t *size);
	int (*truncate)(void *ctx, int fd, uint64_t size);
	int (*sync)(void *ctx, int fd);			/* a file's data, or a directory */
	int (*rename)(void *ctx, int dirfd, const char *from, const char *to);
	int (*unlink)(void *ctx, int dirfd, const char *name);
	void (*close)(void *ctx, int fd);
};

struct fs {
	const struct fs_ops *ops;
	void *ctx;
};

/* The real one: the kernel's file systems. */
extern const struct fs fs_posix;

/* A NULL fs means fs_posix. */
static inline const struct fs *fs_or_posix(const struct fs *fs)
{
	return fs ? fs : &fs_posix;
}

int fs_write_all(const struct fs *fs, int fd, const void *buf, size_t len, uint64_t off);
int fs_sync_dir(const struct fs *fs, const char *path);
/* Reads a whole file into a malloc'ed buffer. */
int fs_read_file(const struct fs *fs, int dirfd, const char *name, uint8_t **out, size_t *size);

#endif
