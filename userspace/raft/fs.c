// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "raft/fs.h"

int fs_write_all(const struct fs *fs, int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = fs->ops->pwrite(fs->ctx, fd, p, len, off);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int fs_sync_dir(const struct fs *fs, const char *path)
{
	int fd = fs->ops->open_dir(fs->ctx, path), err;

	if (fd < 0)
		return fd;
	err = fs->ops->sync(fs->ctx, fd);
	fs->ops->close(fs->ctx, fd);
	return err;
}

int fs_read_file(const struct fs *fs, int dirfd, const char *name, uint8_t **out, size_t *size)
{
	int fd = fs->ops->open(fs->ctx, dirfd, name, 0), err;
	uint64_t len, got = 0;
	uint8_t *buf;

	if (fd < 0)
		return fd;
	err = fs->ops->size(fs->ctx, fd, &len);
	buf = err ? NULL : malloc(len ? len : 1);
	if (!err && !buf)
		err = -ENOMEM;
	while (!err && got < len) {
		ssize_t n = fs->ops->pread(fs->ctx, fd, buf + got, len - got, got);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? n : -EIO;
		else
			got += n;
	}
	fs->ops->close(fs->ctx, fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*size = len;
	return 0;
}
