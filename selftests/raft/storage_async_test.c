// SPDX-License-Identifier: GPL-2.0
/*
 * The storage's asynchronous path: readies prepared while a batch is on the
 * disk, batches handed out one at a time, operations completed in any
 * order, failures, and the whole thing on a real io_uring ring with a
 * snapshot install in the middle. Directories are made with mkdtemp under
 * $TMPDIR (or the build directory) and removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "raft/storage.h"
#include "raft/uring.h"

static void make_dir(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, len, "%s/raft-async-XXXXXX", base ? base : "build");
	if (!mkdtemp(dir))
		abort();
}

static void remove_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path))
			remove_dir(path);
	}
	closedir(d);
	rmdir(dir);
}

static char payload[256][32];

/* A ready that appends entries from..to of term, with the hard state. */
static struct raft_ready ready(struct raft_entry *ents, uint64_t from, uint64_t to,
			       uint64_t term)
{
	struct raft_ready rd = { .must_sync = true, .hs_changed = true };
	uint64_t i;

	for (i = from; i <= to; i++) {
		char *p = payload[i % 256];

		snprintf(p, 32, "e%llu.%llu", (unsigned long long)i, (unsigned long long)term);
		ents[i - from] = (struct raft_entry){ .term = term, .index = i,
						      .len = strlen(p), .data = p };
	}
	rd.entries = ents;
	rd.n_entries = to - from + 1;
	rd.hs = (struct raft_hard_state){ .term = term, .vote = 1, .commit = from - 1 };
	rd.persist_index = to;
	rd.persist_term = term;
	return rd;
}

FIXTURE(async) {
	char root[4096];
	char dir[4200];
	struct raft_storage st;
	struct raft_boot boot;
};

FIXTURE_SETUP(async)
{
	static const struct raft_conf conf = { .n_voters = 1, .voters = { 1 } };

	make_dir(self->root, sizeof(self->root));
	snprintf(self->dir, sizeof(self->dir), "%s/node", self->root);
	ASSERT_EQ(0, raft_storage_bootstrap(self->dir, &conf, NULL));
	ASSERT_EQ(0, raft_storage_open(&self->st, self->dir, NULL, &self->boot));
}

FIXTURE_TEARDOWN(async)
{
	raft_storage_close(&self->st);
	remove_dir(self->root);
}

static void reopen(struct _test_data_async *self, struct __test_metadata *_metadata)
{
	raft_storage_close(&self->st);
	ASSERT_EQ(0, raft_storage_open(&self->st, self->dir, NULL, &self->boot));
}

/* Runs each operation in order, then reports the completions in reverse. */
static int run_reversed(struct raft_storage *st, struct raft_io_batch *io,
			struct raft_storage_durable *d)
{
	int res[RAFT_IO_MAX_OPS], ret = 0;
	size_t i;

	for (i = 0; i < io->n_ops; i++)
		res[i] = raft_io_run_op(st->fs, NULL, &io->ops[i]);
	for (i = io->n_ops; i-- > 0;) {
		ret = raft_storage_complete(st, &io->ops[i], res[i], d);
		if (i && ret)
			return -1000;	/* finished before its last completion */
	}
	return ret;
}

TEST_F(async, readies_queue_behind_the_running_batch_and_merge)
{
	struct raft_entry e1[3], e2[2], e3[1];
	struct raft_ready r1 = ready(e1, 1, 3, 1), r2 = ready(e2, 4, 5, 1),
			  r3 = ready(e3, 6, 6, 2), empty = { 0 };
	struct raft_storage_durable d = { 0 };
	struct raft_io_batch *a, *b;
	uint64_t t1, t2, t3, t4;

	ASSERT_EQ(0, raft_storage_prepare(&self->st, &r1, &t1));
	a = raft_storage_next(&self->st);
	ASSERT_NE(NULL, a);
	/* While a is on the disk, three more readies come. */
	ASSERT_EQ(0, raft_storage_prepare(&self->st, &r2, &t2));
	ASSERT_EQ(0, raft_storage_prepare(&self->st, &r3, &t3));
	ASSERT_EQ(0, raft_storage_prepare(&self->st, &empty, &t4));
	EXPECT_LT(t1, t2);
	EXPECT_EQ(t2, t3);	/* merged: one write, one sync */
	EXPECT_EQ(t3, t4);	/* nothing to write: follows what came before */
	EXPECT_EQ(NULL, raft_storage_next(&self->st));	/* one batch at a time */
	EXPECT_FALSE(raft_storage_is_durable(&self->st, t1));

	ASSERT_EQ(1, run_reversed(&self->st, a, &d));
	EXPECT_EQ(t1, d.ticket);
	EXPECT_EQ(3, d.persist_index);
	EXPECT_EQ(1, d.persist_term);
	EXPECT_TRUE(raft_storage_is_durable(&self->st, t1));
	EXPECT_FALSE(raft_storage_is_durable(&self->st, t2));

	b = raft_storage_next(&self->st);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(2, b->n_ops);	/* write + fdatasync */
	ASSERT_EQ(1, run_reversed(&self->st, b, &d));
	EXPECT_EQ(t3, d.ticket);
	EXPECT_EQ(6, d.persist_index);	/* the newest ready's acknowledgement */
	EXPECT_EQ(2, d.persist_term);
	EXPECT_EQ(NULL, raft_storage_next(&self->st));

	reopen(self, _metadata);
	ASSERT_EQ(6, self->boot.n_entries);
	EXPECT_EQ(2, self->boot.entries[5].term);
	EXPECT_EQ(2, self->boot.hs.term);
	EXPECT_EQ(0, memcmp(self->boot.entries[5].data, "e6.2", 4));
}

TEST_F(async, a_failed_operation_cancels_the_rest_and_stops_the_storage)
{
	struct raft_entry e1[2], e2[2];
	struct raft_ready r1 = ready(e1, 1, 2, 1), r2 = ready(e2, 3, 4, 1);
	struct raft_storage_durable d = { 0 };
	struct raft_io_batch *io;
	uint64_t t;

	ASSERT_EQ(0, raft_storage_save(&self->st, &r1));
	ASSERT_EQ(0, raft_storage_prepare(&self->st, &r2, &t));
	io = raft_storage_next(&self->st);
	ASSERT_NE(NULL, io);
	ASSERT_EQ(2, io->n_ops);
	/* The sync's completion first, cancelled by the write's failure. */
	EXPECT_EQ(0, raft_storage_complete(&self->st, &io->ops[1], -ECANCELED, &d));
	EXPECT_EQ(-ENOSPC, raft_storage_complete(&self->st, &io->ops[0], -ENOSPC, &d));
	EXPECT_FALSE(raft_storage_is_durable(&self->st, t));
	EXPECT_EQ(-EIO, raft_storage_prepare(&self->st, &r2, &t));
	EXPECT_EQ(NULL, raft_storage_next(&self->st));
	reopen(self, _metadata);
	EXPECT_EQ(2, self->boot.n_entries);	/* what was acknowledged */
}

TEST_F(async, a_short_write_is_a_failure)
{
	struct raft_entry e1[2];
	struct raft_ready r1 = ready(e1, 1, 2, 1);
	struct raft_storage_durable d = { 0 };
	struct raft_io_batch *io;
	uint64_t t;

	ASSERT_EQ(0, raft_storage_prepare(&self->st, &r1, &t));
	io = raft_storage_next(&self->st);
	ASSERT_NE(NULL, io);
	EXPECT_EQ(0, raft_storage_complete(&self->st, &io->ops[0], 1, &d));
	EXPECT_EQ(-EIO, raft_storage_complete(&self->st, &io->ops[1], -ECANCELED, &d));
}

/* Drives every queued batch through a real ring until ticket is durable. */
static int ring_until(struct io_uring *ring, struct raft_storage *st, uint64_t ticket,
		      struct raft_storage_durable *d, unsigned int *batches)
{
	struct io_uring_cqe *cqe;
	struct raft_io_batch *io;
	int err;

	while (!raft_storage_is_durable(st, ticket)) {
		io = raft_storage_next(st);
		if (io) {
			err = raft_uring_queue(ring, io);
			if (err)
				return err;
			err = io_uring_submit(ring);
			if (err < 0)
				return err;
			(*batches)++;
		}
		err = io_uring_wait_cqe(ring, &cqe);
		if (err)
			return err;
		err = raft_storage_complete(st, io_uring_cqe_get_data(cqe), cqe->res, d);
		io_uring_cqe_seen(ring, cqe);
		if (err < 0)
			return err;
	}
	return 0;
}

TEST_F(async, io_uring_ring_with_a_snapshot_install_in_the_middle)
{
	static struct raft_entry ents[200][1];
	struct raft_storage_durable d = { 0 };
	struct raft_snapshot snap = {
		.meta = { .index = 150, .term = 3, .conf = { .n_voters = 1, .voters = { 1 } } },
		.data = "state at 150",
		.len = 12,
	};
	struct raft_ready rd;
	unsigned int batches = 0;
	struct io_uring ring;
	uint64_t t = 0, i;

	ASSERT_EQ(0, io_uring_queue_init(32, &ring, 0));
	/* Entries one ready at a time, the ring drained only now and then. */
	for (i = 1; i <= 100; i++) {
		struct raft_io_batch *io;

		rd = ready(ents[i - 1], i, i, 1);
		ASSERT_EQ(0, raft_storage_prepare(&self->st, &rd, &t));
		io = raft_storage_next(&self->st);
		if (io) {
			ASSERT_EQ(0, raft_uring_queue(&ring, io));
			ASSERT_LE(0, io_uring_submit(&ring));
			batches++;
		}
		if (i % 10 == 0) {
			struct io_uring_cqe *cqe;

			while (io_uring_peek_cqe(&ring, &cqe) == 0) {
				ASSERT_LE(0, raft_storage_complete(&self->st,
								   io_uring_cqe_get_data(cqe),
								   cqe->res, &d));
				io_uring_cqe_seen(&ring, cqe);
			}
		}
	}
	/* A snapshot from the leader, then entries after it. */
	rd = (struct raft_ready){ .snapshot = &snap, .must_sync = true, .hs_changed = true,
				  .hs = { .term = 3, .vote = 0, .commit = 150 },
				  .persist_index = 150, .persist_term = 3 };
	ASSERT_EQ(0, raft_storage_prepare(&self->st, &rd, &t));
	for (i = 151; i <= 160; i++) {
		rd = ready(ents[i - 1], i, i, 3);
		ASSERT_EQ(0, raft_storage_prepare(&self->st, &rd, &t));
	}
	ASSERT_EQ(0, ring_until(&ring, &self->st, t, &d, &batches));
	EXPECT_EQ(160, d.persist_index);
	EXPECT_EQ(3, d.persist_term);
	/* Group commit: far fewer batches than readies. */
	EXPECT_LT(batches, 111);
	TH_LOG("111 readies in %u batches", batches);
	io_uring_queue_exit(&ring);

	reopen(self, _metadata);
	EXPECT_EQ(150, self->boot.snap.index);
	EXPECT_EQ(12, self->boot.snap_len);
	ASSERT_EQ(10, self->boot.n_entries);
	EXPECT_EQ(151, self->boot.entries[0].index);
	EXPECT_EQ(3, self->boot.hs.term);
}

TEST_F(async, compaction_through_the_ring_drops_old_segments)
{
	static struct raft_entry ents[40][1];
	struct raft_storage_durable d = { 0 };
	struct raft_snapshot snap = {
		.meta = { .index = 30, .term = 1, .conf = { .n_voters = 1, .voters = { 1 } } },
		.data = "s30",
		.len = 3,
	};
	struct wal_options opt = { .segment_bytes = 256 };
	struct raft_ready rd;
	unsigned int batches = 0, before;
	struct io_uring ring;
	uint64_t t, i;

	raft_storage_close(&self->st);
	ASSERT_EQ(0, raft_storage_open(&self->st, self->dir, &opt, &self->boot));
	ASSERT_EQ(0, io_uring_queue_init(32, &ring, 0));
	for (i = 1; i <= 40; i++) {
		rd = ready(ents[i - 1], i, i, 1);
		ASSERT_EQ(0, raft_storage_prepare(&self->st, &rd, &t));
		ASSERT_EQ(0, ring_until(&ring, &self->st, t, &d, &batches));
	}
	before = wal_segment_count(self->st.wal);
	ASSERT_GT(before, 3);
	ASSERT_EQ(0, raft_storage_prepare_compact(&self->st, &snap, &t));
	ASSERT_EQ(0, ring_until(&ring, &self->st, t, &d, &batches));
	EXPECT_LT(wal_segment_count(self->st.wal), before);
	io_uring_queue_exit(&ring);
	reopen(self, _metadata);
	EXPECT_EQ(30, self->boot.snap.index);
	ASSERT_EQ(10, self->boot.n_entries);
	EXPECT_EQ(31, self->boot.entries[0].index);
}

TEST_HARNESS_MAIN
