// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/conf.h"
#include "raft/crc32c.h"
#include "raft/snapshot_file.h"

#define SNAP_MAGIC "KLBSNAP1"
#define SNAP_NAME "snapshot"
#define SNAP_TMP "snapshot.tmp"

int snapshot_encode(const struct raft_snapshot *snap, struct raft_io_buf *out)
{
	uint64_t data_len = snap->len;
	uint32_t conf_len, crc;
	uint8_t *p;
	int err;

	out->len = 0;
	err = raft_io_buf_reserve(out, 28 + CONF_ENCODED_MAX + 8 + snap->len + 4);
	if (err)
		return err;
	p = out->p;
	memcpy(p, SNAP_MAGIC, 8);
	memcpy(p + 8, &snap->meta.index, 8);
	memcpy(p + 16, &snap->meta.term, 8);
	conf_len = conf_encode(&snap->meta.conf, p + 28);
	memcpy(p + 24, &conf_len, 4);
	out->len = 28 + conf_len;
	memcpy(p + out->len, &data_len, 8);
	out->len += 8;
	if (snap->len)
		memcpy(p + out->len, snap->data, snap->len);
	out->len += snap->len;
	crc = crc32c(0, p, out->len);
	memcpy(p + out->len, &crc, 4);
	out->len += 4;
	return 0;
}

int snapshot_submit(const struct fs *fs, int dirfd, const struct raft_io_buf *file,
		    const struct storage_fault *fault, struct raft_io_batch *io, int *tmpfd)
{
	struct raft_io_op *op;
	int fd, err;

	fs = fs_or_posix(fs);
	err = storage_fault_check(fault, STORAGE_CREATE);
	if (err)
		return err;
	fd = fs->ops->open(fs->ctx, dirfd, SNAP_TMP, FS_WRITE | FS_CREATE | FS_TRUNC);
	if (fd < 0)
		return fd;
	op = raft_io_add(io, RAFT_IO_WRITE, fd);
	op->buf = file->p;
	op->len = file->len;
	raft_io_add(io, RAFT_IO_SYNC, fd);
	op = raft_io_add(io, RAFT_IO_RENAME, dirfd);
	op->from = SNAP_TMP;
	op->to = SNAP_NAME;
	op = raft_io_add(io, RAFT_IO_SYNC, dirfd);
	op->dir = true;
	*tmpfd = fd;
	return 0;
}

void snapshot_complete(const struct fs *fs, int dirfd, int tmpfd, int err)
{
	fs = fs_or_posix(fs);
	fs->ops->close(fs->ctx, tmpfd);
	/* The old snapshot is still in place (or the new one, durably or not). */
	if (err)
		fs->ops->unlink(fs->ctx, dirfd, SNAP_TMP);
}

int snapshot_save(const struct fs *fs, const char *dir, const struct raft_snapshot *snap,
		  const struct storage_fault *fault)
{
	struct raft_io_buf file = { .len = 0 };
	struct raft_io_batch io = { .n_ops = 0 };
	int dirfd, tmpfd, err;

	fs = fs_or_posix(fs);
	err = snapshot_encode(snap, &file);
	if (err)
		return err;
	dirfd = fs->ops->open_dir(fs->ctx, dir);
	if (dirfd < 0) {
		raft_io_buf_free(&file);
		return dirfd;
	}
	err = snapshot_submit(fs, dirfd, &file, fault, &io, &tmpfd);
	if (!err) {
		err = raft_io_run(fs, fault, &io);
		snapshot_complete(fs, dirfd, tmpfd, err);
	}
	fs->ops->close(fs->ctx, dirfd);
	raft_io_buf_free(&file);
	return err;
}

int snapshot_load(const struct fs *fs, const char *dir, struct raft_snapshot *snap)
{
	uint8_t *buf = NULL;
	uint32_t conf_len, crc;
	uint64_t data_len;
	size_t size, off;
	int dirfd, err;

	memset(snap, 0, sizeof(*snap));
	fs = fs_or_posix(fs);
	dirfd = fs->ops->open_dir(fs->ctx, dir);
	if (dirfd < 0)
		return dirfd;
	err = fs_read_file(fs, dirfd, SNAP_NAME, &buf, &size);
	fs->ops->close(fs->ctx, dirfd);
	if (err)
		return err;
	err = -EBADMSG;
	if (size < 28 + 8 + 4 || memcmp(buf, SNAP_MAGIC, 8))
		goto out;
	memcpy(&crc, buf + size - 4, 4);
	if (crc != crc32c(0, buf, size - 4))
		goto out;
	memcpy(&snap->meta.index, buf + 8, 8);
	memcpy(&snap->meta.term, buf + 16, 8);
	memcpy(&conf_len, buf + 24, 4);
	if (conf_len > CONF_ENCODED_MAX || 28 + conf_len + 8 + 4 > size ||
	    conf_decode(buf + 28, conf_len, &snap->meta.conf))
		goto out;
	off = 28 + conf_len;
	memcpy(&data_len, buf + off, 8);
	off += 8;
	if (data_len != size - 4 - off)
		goto out;
	snap->len = data_len;
	snap->data = malloc(data_len ? data_len : 1);
	if (!snap->data) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(snap->data, buf + off, data_len);
	err = 0;
out:
	free(buf);
	return err;
}
