// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/snapshot_file.h"
#include "raft/storage.h"

/*
 * One batch: an optional snapshot file, then the WAL's records, in one
 * chain of operations. Readies prepared while it waits are merged into it.
 */
struct storage_batch {
	struct raft_io_batch io;
	struct storage_batch *next;
	uint64_t ticket;
	bool handed_out;
	struct wal_batch wal;
	bool has_snap;
	struct raft_io_buf snap_file;
	int snap_fd;
	bool compact;			/* drop old segments when done */
	uint64_t compact_index;
	uint64_t persist_index;
	uint64_t persist_term;
};

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
	st->dirfd = -1;
	st->fs = fs_or_posix(opt ? opt->fs : NULL);
	err = st->fs->ops->mkdir(st->fs->ctx, dir);
	if (err && err != -EEXIST)
		return err;
	st->dir = strdup(dir);
	if (!st->dir)
		return -ENOMEM;
	st->dirfd = st->fs->ops->open_dir(st->fs->ctx, dir);
	if (st->dirfd < 0) {
		err = st->dirfd;
		goto fail;
	}
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

static struct storage_batch *batch_of(struct raft_io_batch *io)
{
	return (struct storage_batch *)((char *)io - offsetof(struct storage_batch, io));
}

static void batch_free(struct storage_batch *b)
{
	wal_batch_free(&b->wal);
	raft_io_buf_free(&b->snap_file);
	free(b);
}

/* The batch waiting behind the running one, or a new one. */
static struct storage_batch *batch_open(struct raft_storage *st, bool fresh)
{
	struct storage_batch *b = st->tail;

	if (b && !b->handed_out && !fresh)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->snap_fd = -1;
	b->ticket = ++st->last_ticket;
	if (st->tail)
		st->tail->next = b;
	else
		st->head = b;
	st->tail = b;
	return b;
}

/*
 * A snapshot goes first in a batch of its own making: the records merged
 * into the batch before it would be written after it and dropped by its
 * log start anyway, but keeping them apart keeps each batch one story.
 */
static int batch_add_snapshot(struct raft_storage *st, const struct raft_snapshot *snap,
			      bool reset, struct storage_batch **out)
{
	struct storage_batch *b = batch_open(st, true);
	int err;

	if (!b)
		return -ENOMEM;
	*out = b;
	b->has_snap = true;
	err = snapshot_encode(snap, &b->snap_file);
	if (!err)
		err = wal_batch_start(&b->wal, snap->meta.index, snap->meta.term, reset);
	return err;
}

int raft_storage_prepare(struct raft_storage *st, const struct raft_ready *rd, uint64_t *ticket)
{
	struct storage_batch *b = NULL;
	int err = 0;

	if (st->failed)
		return -EIO;
	*ticket = st->last_ticket;
	if (!rd->snapshot && !rd->n_entries && !rd->hs_changed)
		return 0;
	if (rd->snapshot)
		err = batch_add_snapshot(st, rd->snapshot, true, &b);
	else if (!(b = batch_open(st, false)))
		err = -ENOMEM;
	if (!err)
		err = wal_batch_entries(&b->wal, rd->entries, rd->n_entries);
	if (!err && rd->hs_changed)
		err = wal_batch_hs(&b->wal, &rd->hs);
	if (err) {
		/* Half a ready in a batch: nothing after it can be trusted. */
		st->failed = err;
		return err;
	}
	b->wal.sync |= rd->must_sync;
	if (rd->persist_index) {
		b->persist_index = rd->persist_index;
		b->persist_term = rd->persist_term;
	}
	*ticket = b->ticket;
	return 0;
}

int raft_storage_prepare_compact(struct raft_storage *st, const struct raft_snapshot *snap,
				 uint64_t *ticket)
{
	struct storage_batch *b;
	int err;

	if (st->failed)
		return -EIO;
	err = batch_add_snapshot(st, snap, false, &b);
	if (err) {
		st->failed = err;
		return err;
	}
	b->compact = true;
	b->compact_index = snap->meta.index;
	*ticket = b->ticket;
	return 0;
}

struct raft_io_batch *raft_storage_next(struct raft_storage *st)
{
	struct storage_batch *b = st->head;
	int err = 0;

	if (!b || b->handed_out || st->failed)
		return NULL;
	b->handed_out = true;
	if (b->has_snap)
		err = snapshot_submit(st->fs, st->dirfd, &b->snap_file, st->fault, &b->io,
				      &b->snap_fd);
	if (!err)
		err = wal_submit(st->wal, &b->wal, &b->io);
	if (err || !b->io.n_ops) {
		/*
		 * Nothing was handed out, so nothing will complete: fail the
		 * storage now (the host learns it from its next call).
		 */
		if (b->snap_fd >= 0)
			snapshot_complete(st->fs, st->dirfd, b->snap_fd, -EIO);
		st->failed = err ? err : -EIO;
		return NULL;
	}
	return &b->io;
}

int raft_storage_complete(struct raft_storage *st, struct raft_io_op *op, int res,
			  struct raft_storage_durable *d)
{
	struct storage_batch *b = batch_of(op->batch);
	int err;

	if (!raft_io_complete(op, res))
		return 0;
	err = b->io.err;
	if (b->snap_fd >= 0)
		snapshot_complete(st->fs, st->dirfd, b->snap_fd, err);
	b->snap_fd = -1;
	err = wal_complete(st->wal, &b->wal, err) ?: err;
	if (!err && b->compact)
		err = wal_drop_segments(st->wal, b->compact_index);
	if (err) {
		st->failed = err;
		return err;
	}
	st->durable_ticket = b->ticket;
	d->ticket = b->ticket;
	d->persist_index = b->persist_index;
	d->persist_term = b->persist_term;
	st->head = b->next;
	if (!st->head)
		st->tail = NULL;
	batch_free(b);
	return 1;
}

bool raft_storage_is_durable(const struct raft_storage *st, uint64_t ticket)
{
	return ticket <= st->durable_ticket;
}

int raft_storage_run(struct raft_storage *st, struct raft_storage_durable *d)
{
	struct raft_storage_durable got, ignored;
	struct raft_io_batch *io;
	size_t i, n;
	int res, err;

	if (!d)
		d = &ignored;
	while ((io = raft_storage_next(st))) {
		res = 0;
		/* Completing the last operation frees the batch, io with it. */
		n = io->n_ops;
		for (i = 0; i < n; i++) {
			struct raft_io_op *op = &io->ops[i];

			res = res < 0 ? -ECANCELED : raft_io_run_op(st->fs, st->fault, op);
			err = raft_storage_complete(st, op, res, &got);
			if (err < 0)
				return err;
			if (err == 1) {
				d->ticket = got.ticket;
				if (got.persist_index) {
					d->persist_index = got.persist_index;
					d->persist_term = got.persist_term;
				}
				break;
			}
		}
	}
	return st->failed;
}

int raft_storage_save(struct raft_storage *st, const struct raft_ready *rd)
{
	uint64_t ticket;

	return raft_storage_prepare(st, rd, &ticket) ?: raft_storage_run(st, NULL);
}

int raft_storage_compact(struct raft_storage *st, const struct raft_snapshot *snap)
{
	uint64_t ticket;

	return raft_storage_prepare_compact(st, snap, &ticket) ?: raft_storage_run(st, NULL) ?:
	       wal_compact(st->wal, snap->meta.index);
}

void raft_storage_close(struct raft_storage *st)
{
	struct storage_batch *b, *next;

	/* Batches never handed out, or whose operations never all completed. */
	for (b = st->head; b; b = next) {
		next = b->next;
		if (b->snap_fd >= 0)
			st->fs->ops->close(st->fs->ctx, b->snap_fd);
		batch_free(b);
	}
	if (st->dirfd >= 0 && st->fs)
		st->fs->ops->close(st->fs->ctx, st->dirfd);
	wal_close(st->wal);
	wal_recovery_free(&st->rec);
	free(st->snap.data);
	free(st->dir);
	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
}
