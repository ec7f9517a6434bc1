// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot file (userspace/raft/snapshot_file.c): the input is the
 * file, loaded by snapshot_load(). Twice: as given, and with its trailing
 * checksum made right, so that the fields behind it are reached too. A
 * snapshot that loads must save and load back the same.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dir.h"
#include "raft/conf.h"
#include "raft/crc32c.h"
#include "raft/snapshot_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "snapshot_load: %s\n", what);
		abort();
	}
}

static void load(const uint8_t *data, size_t size)
{
	struct raft_snapshot snap, again;
	const char *dir = fuzz_dir();

	fuzz_dir_clear();
	fuzz_dir_write("snapshot", data, size);
	if (snapshot_load(NULL, dir, &snap))
		return;
	check(snap.meta.conf.n_voters <= RAFT_MAX_NODES &&
	      snap.meta.conf.n_learners <= RAFT_MAX_NODES, "configuration too large");
	check(snap.data != NULL, "no data buffer");
	check(!snapshot_save(NULL, dir, &snap, NULL), "saving it back failed");
	check(!snapshot_load(NULL, dir, &again), "loading it back failed");
	check(again.meta.index == snap.meta.index && again.meta.term == snap.meta.term &&
	      conf_equal(&again.meta.conf, &snap.meta.conf), "metadata changed");
	check(again.len == snap.len && !memcmp(again.data, snap.data, snap.len), "data changed");
	free(again.data);
	free(snap.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint32_t crc;

	load(data, size);
	if (size < 4)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	crc = crc32c(0, copy, size - 4);
	memcpy(copy + size - 4, &crc, 4);
	load(copy, size);
	free(copy);
	return 0;
}
