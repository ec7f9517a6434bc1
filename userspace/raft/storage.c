// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "raft/snapshot_file.h"
#include "raft/storage.h"

int raft_storage_bootstrap(const char *dir, const struct raft_conf *conf)
{
	struct raft_snapshot snap = { .meta = { .conf = *conf } };
	int err;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	err = snapshot_load(dir, &snap);
	if (err != -ENOENT) {
		free(snap.data);
		return err ? err : -EEXIST;
	}
	snap = (struct raft_snapshot){ .meta = { .conf = *conf } };
	return snapshot_save(dir, &snap, NULL);
}

int raft_storage_open(struct raft_storage *st, const char *dir, const struct wal_options *opt,
		      struct raft_boot *boot)
{
	char wal_dir[4096];
	size_t skip = 0;
	int err;

	memset(st, 0, sizeof(*st));
	memset(boot, 0, sizeof(*boot));
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	st->dir = strdup(dir);
	if (!st->dir)
		return -ENOMEM;
	st->fault = opt ? opt->fault : NULL;
	err = snapshot_load(dir, &st->snap);
	if (err && err != -ENOENT)
		goto fail;
	snprintf(wal_dir, sizeof(wal_dir), "%s/wal", dir);
	err = wal_open(&st->wal, wal_dir, opt, &st->rec);
	if (err)
		goto fail;
	/*
	 * A crash between saving a snapshot and marking the WAL leaves log
	 * entries the snapshot covers: skip them.
	 */
	while (skip < st->rec.n_entries && st->rec.entries[skip].index <= st->snap.meta.index)
		skip++;
	if (st->rec.start_index > st->snap.meta.index ||
	    (skip < st->rec.n_entries && st->rec.entries[skip].index != st->snap.meta.index + 1)) {
		err = -EBADMSG;	/* the log starts after a snapshot we do not have */
		goto fail;
	}
	boot->hs = st->rec.hs;
	boot->snap = st->snap.meta;
	boot->snap_data = st->snap.data;
	boot->snap_len = st->snap.len;
	boot->entries = st->rec.entries + skip;
	boot->n_entries = st->rec.n_entries - skip;
	boot->applied = st->snap.meta.index;
	return 0;
fail:
	raft_storage_close(st);
	return err;
}

int raft_storage_save(struct raft_storage *st, const struct raft_ready *rd)
{
	int err;

	if (rd->snapshot) {
		err = snapshot_save(st->dir, rd->snapshot, st->fault);
		if (err)
			return err;
		err = wal_set_start(st->wal, rd->snapshot->meta.index, rd->snapshot->meta.term,
				    true);
		if (err)
			return err;
	}
	if (!rd->n_entries && !rd->hs_changed)
		return 0;
	return wal_append(st->wal, rd->entries, rd->n_entries, rd->hs_changed ? &rd->hs : NULL,
			  rd->must_sync);
}

int raft_storage_compact(struct raft_storage *st, const struct raft_snapshot *snap)
{
	int err = snapshot_save(st->dir, snap, st->fault);

	if (err)
		return err;
	err = wal_set_start(st->wal, snap->meta.index, snap->meta.term, false);
	if (err)
		return err;
	return wal_compact(st->wal, snap->meta.index);
}

void raft_storage_close(struct raft_storage *st)
{
	wal_close(st->wal);
	wal_recovery_free(&st->rec);
	free(st->snap.data);
	free(st->dir);
	memset(st, 0, sizeof(*st));
}
