// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/snapshot_file.h"
#include "raft/storage.h"

int raft_storage_bootstrap(const char *dir, const struct raft_conf *conf,
			   const struct wal_options *opt)
{
	const struct fs *fs = fs_or_posix(opt ? opt->fs : NULL);
	struct raft_snapshot snap = { .meta = { .conf = *conf } };
	int err;

	err = fs->ops->mkdir(fs->ctx, dir);
	if (err && err != -EEXIST)
		return err;
	err = snapshot_load(fs, dir, &snap);
	if (err != -ENOENT) {
		free(snap.data);
		return err ? err : -EEXIST;
	}
	snap = (struct raft_snapshot){ .meta = { .conf = *conf } };
	return snapshot_save(fs, dir, &snap, opt ? opt->fault : NULL);
}

/*
 * The log continues the snapshot only if it holds the snapshot's own
 * (index, term): as the entry before first_after, or as its start.
 */
static bool log_holds_snapshot(const struct wal_recovery *rec, size_t first_after,
			       const struct raft_snapshot_meta *snap)
{
	const struct raft_entry *e = first_after ? &rec->entries[first_after - 1] : NULL;

	if (e)
		return e->index == snap->index && e->term == snap->term;
	return rec->start_index == snap->index && rec->start_term == snap->term;
}

int raft_storage_open(struct raft_storage *st, const char *dir, const struct wal_options *opt,
		      struct raft_boot *boot)
{
	char wal_dir[4096], why[sizeof(st->error)] = "";
	uint64_t last_term;
	size_t skip = 0;
	int err;

	memset(st, 0, sizeof(*st));
	memset(boot, 0, sizeof(*boot));
	st->fs = fs_or_posix(opt ? opt->fs : NULL);
	err = st->fs->ops->mkdir(st->fs->ctx, dir);
	if (err && err != -EEXIST)
		return err;
	st->dir = strdup(dir);
	if (!st->dir)
		return -ENOMEM;
	st->fault = opt ? opt->fault : NULL;
	err = snapshot_load(st->fs, dir, &st->snap);
	if (err && err != -ENOENT) {
		if (err == -EBADMSG)
			snprintf(why, sizeof(why), "%s/snapshot: damaged", dir);
		goto fail;
	}
	/*
	 * A run that stopped after a failed directory sync may have left the
	 * snapshot's rename visible but not durable: make it durable before
	 * the node relies on it (and resets its log to it).
	 */
	err = fs_sync_dir(st->fs, dir);
	if (err)
		goto fail;
	snprintf(wal_dir, sizeof(wal_dir), "%s/wal", dir);
	err = wal_open(&st->wal, wal_dir, opt, &st->rec);
	if (err) {
		memcpy(why, st->rec.error, sizeof(st->rec.error));
		goto fail;
	}
	while (skip < st->rec.n_entries && st->rec.entries[skip].index <= st->snap.meta.index)
		skip++;
	if (st->rec.start_index > st->snap.meta.index ||
	    (skip < st->rec.n_entries && st->rec.entries[skip].index != st->snap.meta.index + 1)) {
		snprintf(why, sizeof(why),
			 "%s/wal: the log starts after index %llu, the snapshot is at %llu",
			 dir, (unsigned long long)st->rec.start_index,
			 (unsigned long long)st->snap.meta.index);
		err = -EBADMSG;
		goto fail;
	}
	if (!log_holds_snapshot(&st->rec, skip, &st->snap.meta)) {
		/*
		 * A crash between saving a received snapshot and resetting the
		 * WAL: what follows the snapshot in the log is of another
		 * branch, or the log ends before it and what is appended next
		 * would leave a hole. Reset it, durably, before anything is
		 * appended.
		 */
		err = wal_set_start(st->wal, st->snap.meta.index, st->snap.meta.term, true);
		if (err)
			goto fail;
		skip = st->rec.n_entries;
	}
	boot->hs = st->rec.hs;
	boot->snap = st->snap.meta;
	boot->snap_data = st->snap.data;
	boot->snap_len = st->snap.len;
	boot->entries = st->rec.entries + skip;
	boot->n_entries = st->rec.n_entries - skip;
	boot->applied = st->snap.meta.index;
	last_term = boot->n_entries ? boot->entries[boot->n_entries - 1].term : boot->snap.term;
	if (boot->hs.term < last_term) {
		/*
		 * The hard state that came with a received snapshot is written
		 * after it, and a batch's after its entries: a crash in between
		 * leaves the term behind the node's own log. The node had
		 * moved to that term, with no vote in it yet. Record it: a
		 * later reset of the log must not take the term back.
		 */
		boot->hs.term = last_term;
		boot->hs.vote = RAFT_NONE;
		err = wal_append(st->wal, NULL, 0, &boot->hs, true);
		if (err)
			goto fail;
	}
	return 0;
fail:
	raft_storage_close(st);
	memcpy(st->error, why, sizeof(why));
	return err;
}

int raft_storage_save(struct raft_storage *st, const struct raft_ready *rd)
{
	int err;

	if (rd->snapshot) {
		err = snapshot_save(st->fs, st->dir, rd->snapshot, st->fault);
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
	int err = snapshot_save(st->fs, st->dir, snap, st->fault);

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
