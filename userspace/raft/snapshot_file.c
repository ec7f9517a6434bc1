// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/conf.h"
#include "raft/crc32c.h"
#include "raft/snapshot_file.h"

#define SNAP_MAGIC "KLBSNAP1"
#define SNAP_NAME "snapshot"
#define SNAP_TMP "snapshot.tmp"

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int save_tmp(int dirfd, const struct raft_snapshot *snap, const struct storage_fault *fault)
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
	fd = openat(dirfd, SNAP_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = storage_fault_check(fault, STORAGE_WRITE);
	if (!err)
		err = write_all(fd, head, off);
	if (!err && snap->len)
		err = write_all(fd, snap->data, snap->len);
	if (!err)
		err = write_all(fd, &crc, 4);
	if (!err)
		err = storage_fault_check(fault, STORAGE_SYNC);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int snapshot_save(const char *dir, const struct raft_snapshot *snap,
		  const struct storage_fault *fault)
{
	int dirfd, err;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	err = save_tmp(dirfd, snap, fault);
	if (!err)
		err = storage_fault_check(fault, STORAGE_RENAME);
	if (!err && renameat(dirfd, SNAP_TMP, dirfd, SNAP_NAME))
		err = -errno;
	if (!err)
		err = storage_fault_check(fault, STORAGE_SYNC);
	if (!err && fsync(dirfd))
		err = -errno;
	if (err)
		unlinkat(dirfd, SNAP_TMP, 0);
	close(dirfd);
	return err;
}

int snapshot_load(const char *dir, struct raft_snapshot *snap)
{
	char path[4096];
	struct stat st;
	uint8_t *buf = NULL;
	uint32_t conf_len, crc;
	uint64_t data_len;
	size_t size, off;
	FILE *f;
	int err = -EBADMSG;

	memset(snap, 0, sizeof(*snap));
	snprintf(path, sizeof(path), "%s/" SNAP_NAME, dir);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st)) {
		err = -errno;
		goto out;
	}
	size = st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, size, f) != size) {
		err = -EIO;
		goto out;
	}
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
	fclose(f);
	return err;
}
