// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/fs.h"

static int posix_mkdir(void *ctx, const char *path)
{
	return mkdir(path, 0700) ? -errno : 0;
}

static int posix_open_dir(void *ctx, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int posix_list(void *ctx, int dirfd, int (*fn)(void *arg, const char *name), void *arg)
{
	int fd = dup(dirfd), err = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!err && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			err = fn(arg, de->d_name);
	closedir(d);
	return err;
}

static int posix_open(void *ctx, int dirfd, const char *name, int flags)
{
	int oflags = O_CLOEXEC | (flags & FS_WRITE ? O_WRONLY : O_RDONLY);
	int fd;

	if (flags & FS_CREATE)
		oflags |= O_CREAT;
	if (flags & FS_EXCL)
		oflags |= O_EXCL;
	if (flags & FS_TRUNC)
		oflags |= O_TRUNC;
	fd = openat(dirfd, name, oflags, 0600);
	return fd < 0 ? -errno : fd;
}

static ssize_t posix_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static ssize_t posix_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static int posix_size(void *ctx, int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*size = st.st_size;
	return 0;
}

static int posix_truncate(void *ctx, int fd, uint64_t size)
{
	return ftruncate(fd, size) ? -errno : 0;
}

static int posix_sync(void *ctx, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	/* A directory's entries need fsync; a file's data, fdatasync. */
	if (S_ISDIR(st.st_mode))
		return fsync(fd) ? -errno : 0;
	return fdatasync(fd) ? -errno : 0;
}

static int posix_rename(void *ctx, int dirfd, const char *from, const char *to)
{
	return renameat(dirfd, from, dirfd, to) ? -errno : 0;
}

static int posix_unlink(void *ctx, int dirfd, const char *name)
{
	return unlinkat(dirfd, name, 0) ? -errno : 0;
}

static void posix_close(void *ctx, int fd)
{
	close(fd);
}

static const struct fs_ops posix_ops = {
	.mkdir = posix_mkdir,
	.open_dir = posix_open_dir,
	.list = posix_list,
	.open = posix_open,
	.pread = posix_pread,
	.pwrite = posix_pwrite,
	.size = posix_size,
	.truncate = posix_truncate,
	.sync = posix_sync,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.close = posix_close,
};

const struct fs fs_posix = { .ops = &posix_ops };
