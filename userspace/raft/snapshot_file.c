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

static int save_tmp(const struct fs *fs, int dirfd, const struct raft_snapshot *snap,
		    const struct storage_fault *fault)
{
	uint8_t head[8 + 8 + 8 + 4 + CONF_ENCODED_MAX + 8];
	uint32_t conf_len, crc;
	uint64_t data_len = snap->len;
	size_t off = 0;
	int fd, err;

	memcpy(head, SNAP_MAGIC, 8);
	memcpy(head + 8, &snap->meta.index, 8);
	memcpy(head + 16, &snap->meta.term, 8);
	conf_len = conf_encode(&snap->meta.conf, head + 28);
	memcpy(head + 24, &conf_len, 4);
	off = 28 + conf_len;
	memcpy(head + off, &data_len, 8);
	off += 8;
	crc = crc32c(0, head, off);
	crc = crc32c(crc, snap->data, snap->len);

	err = storage_fault_check(fault, STORAGE_CREATE);
	if (err)
		return err;
	fd = fs->ops->open(fs->ctx, dirfd, SNAP_TMP, FS_WRITE | FS_CREATE | FS_TRUNC);
	if (fd < 0)
		return fd;
	err = storage_fault_check(fault, STORAGE_WRITE);
	if (!err)
		err = fs_write_all(fs, fd, head, off, 0);
	if (!err && snap->len)
		err = fs_write_all(fs, fd, snap->data, snap->len, off);
	if (!err)
		err = fs_write_all(fs, fd, &crc, 4, off + snap->len);
	if (!err)
		err = storage_fault_check(fault, STORAGE_SYNC);
	if (!err)
		err = fs->ops->sync(fs->ctx, fd);
	fs->ops->close(fs->ctx, fd);
	return err;
}

int snapshot_save(const struct fs *fs, const char *dir, const struct raft_snapshot *snap,
		  const struct storage_fault *fault)
{
	int dirfd, err;

	fs = fs_or_posix(fs);
	dirfd = fs->ops->open_dir(fs->ctx, dir);
	if (dirfd < 0)
		return dirfd;
	err = save_tmp(fs, dirfd, snap, fault);
	if (!err)
		err = storage_fault_check(fault, STORAGE_RENAME);
	if (!err)
		err = fs->ops->rename(fs->ctx, dirfd, SNAP_TMP, SNAP_NAME);
	if (!err)
		err = storage_fault_check(fault, STORAGE_SYNC);
	if (!err)
		err = fs->ops->sync(fs->ctx, dirfd);
	if (err)
		fs->ops->unlink(fs->ctx, dirfd, SNAP_TMP);
	fs->ops->close(fs->ctx, dirfd);
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
