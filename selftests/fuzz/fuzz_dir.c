// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_dir.h"

static char path[256];

static void remove_dir(void)
{
	fuzz_dir_clear();
	rmdir(path);
}

const char *fuzz_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (path[0])
		return path;
	if (!base || !*base)
		base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	snprintf(path, sizeof(path), "%s/klb-fuzz-XXXXXX", base);
	if (!mkdtemp(path)) {
		perror(path);
		abort();
	}
	atexit(remove_dir);
	return path;
}

void fuzz_dir_clear(void)
{
	DIR *d = opendir(fuzz_dir());
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

void fuzz_dir_write(const char *name, const void *data, size_t len)
{
	char file[512];
	int fd;

	snprintf(file, sizeof(file), "%s/%s", fuzz_dir(), name);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(file);
		abort();
	}
	close(fd);
}
