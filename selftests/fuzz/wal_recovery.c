// SPDX-License-Identifier: GPL-2.0
/*
 * WAL recovery (userspace/raft/wal.c): the input is one to four segment
 * files, split at SEGMENT_BREAK, written into an empty directory that
 * wal_open() then recovers. Twice: as given, and with every record's
 * checksum made right (where the lengths allow), so that what lies past
 * the checksums (record kinds, entry order, log starts) is reached too.
 *
 * When recovery succeeds, its log must be in order from the start it
 * reports, the WAL must take one more entry, and reopening it must give
 * back the same state plus that entry.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dir.h"
#include "raft/crc32c.h"
#include "raft/wal.h"

#define SEGMENT_BREAK "SEGMENT-BREAK"
#define MAX_SEGMENTS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "wal_recovery: %s\n", what);
		abort();
	}
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The record format of wal.h: u32 length | u32 crc32c | u8 type | payload. */
static void seal_records(uint8_t *buf, size_t size)
{
	size_t off = 0;

	while (size - off >= 9) {
		uint8_t *r = buf + off;
		uint32_t len = get32(r), crc;

		if (len > size - off - 9)
			break;
		crc = crc32c(crc32c(0, r, 4), r + 8, 1 + len);
		memcpy(r + 4, &crc, 4);
		off += 9 + len;
	}
}

static void check_log(const struct wal_recovery *rec)
{
	size_t i;

	if (!rec->n_entries)
		return;
	check(rec->entries[0].index == rec->start_index + 1, "log does not start after its start");
	for (i = 0; i < rec->n_entries; i++) {
		check(rec->entries[i].index == rec->entries[0].index + i, "log not in order");
		check(!rec->entries[i].len || rec->entries[i].data, "entry without its data");
	}
}

static void recover(uint8_t *data, size_t size, bool seal)
{
	const struct wal_options opt = { 0 };
	struct wal_recovery rec, again;
	struct raft_entry e = { 0 };
	const char *dir = fuzz_dir();
	size_t off = 0, n = 0;
	uint8_t one = 0x5a;
	struct wal *w;
	char name[32];

	fuzz_dir_clear();
	while (n < MAX_SEGMENTS) {
		uint8_t *brk = n + 1 < MAX_SEGMENTS ?
			memmem(data + off, size - off, SEGMENT_BREAK, strlen(SEGMENT_BREAK)) : NULL;
		size_t len = brk ? (size_t)(brk - (data + off)) : size - off;

		if (seal)
			seal_records(data + off, len);
		snprintf(name, sizeof(name), "%016llx.wal", (unsigned long long)++n);
		fuzz_dir_write(name, data + off, len);
		if (!brk)
			break;
		off += len + strlen(SEGMENT_BREAK);
	}

	if (wal_open(&w, dir, &opt, &rec))
		return;
	check_log(&rec);
	e.index = rec.n_entries ? rec.entries[rec.n_entries - 1].index + 1 : rec.start_index + 1;
	e.term = rec.hs.term;
	e.len = 1;
	e.data = &one;
	/* (An index that wraps to 0 is not one a log can take.) */
	if (e.index && !wal_append(w, &e, 1, &rec.hs, true)) {
		wal_close(w);
		check(!wal_open(&w, dir, &opt, &again), "reopening after an append failed");
		check_log(&again);
		check(again.n_entries == rec.n_entries + 1, "appended entry missing after reopening");
		check(again.entries[again.n_entries - 1].index == e.index &&
		      again.entries[again.n_entries - 1].len == 1 &&
		      *(uint8_t *)again.entries[again.n_entries - 1].data == one,
		      "appended entry changed after reopening");
		check(!memcmp(&again.hs, &rec.hs, sizeof(rec.hs)), "hard state changed");
		check(again.start_index == rec.start_index, "log start changed");
		wal_recovery_free(&again);
	}
	wal_close(w);
	wal_recovery_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	recover(copy, size, false);
	memcpy(copy, data, size);
	recover(copy, size, true);
	free(copy);
	return 0;
}
