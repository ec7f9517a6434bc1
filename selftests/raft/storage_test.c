// SPDX-License-Identifier: GPL-2.0
/*
 * Storage against a real directory: WAL round trips, overwrites, torn and
 * corrupt tails, segment roll-over and compaction, injected ENOSPC/EIO, and
 * atomic snapshots. Directories are made with mkdtemp under $TMPDIR (or the
 * build directory) and removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "raft/crc32c.h"
#include "raft/prng.h"
#include "raft/snapshot_file.h"
#include "raft/storage.h"
#include "raft/wal.h"

static void make_dir(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, len, "%s/raft-storage-XXXXXX", base ? base : "build");
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
			remove_dir(path);	/* a node's directory and its wal/ */
	}
	closedir(d);
	rmdir(dir);
}

static char payload[64][32];

static struct raft_entry entry(uint64_t index, uint64_t term)
{
	char *p = payload[index % 64];

	snprintf(p, 32, "entry-%llu-%llu", (unsigned long long)index, (unsigned long long)term);
	return (struct raft_entry){ .term = term, .index = index, .len = strlen(p), .data = p };
}

static int append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t term)
{
	struct raft_entry e[64];
	uint64_t i;

	for (i = from; i <= to; i++)
		e[i - from] = entry(i, term);
	return wal_append(w, e, to - from + 1, NULL, true);
}

static int check_entries(const struct wal_recovery *rec, uint64_t from, uint64_t to,
			 uint64_t term)
{
	uint64_t i;

	if (rec->n_entries != to - from + 1)
		return -1;
	for (i = from; i <= to; i++) {
		struct raft_entry want = entry(i, term);
		const struct raft_entry *got = &rec->entries[i - from];

		if (got->index != i || got->term != term || got->len != want.len ||
		    memcmp(got->data, want.data, want.len))
			return -1;
	}
	return 0;
}

static char *last_segment(const char *dir)
{
	static char path[4096];
	char best[256] = "";
	struct dirent *de;
	DIR *d = opendir(dir);

	while ((de = readdir(d)))
		if (strstr(de->d_name, ".wal") && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", dir, best);
	return path;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

FIXTURE(wal) {
	char dir[4096];
	struct wal *w;
	struct wal_recovery rec;
};

FIXTURE_SETUP(wal)
{
	make_dir(self->dir, sizeof(self->dir));
	ASSERT_EQ(0, wal_open(&self->w, self->dir, NULL, &self->rec));
}

FIXTURE_TEARDOWN(wal)
{
	wal_close(self->w);
	wal_recovery_free(&self->rec);
	remove_dir(self->dir);
}

static void reopen(struct _test_data_wal *self, const struct wal_options *opt, int want)
{
	wal_close(self->w);
	self->w = NULL;
	wal_recovery_free(&self->rec);
	if (wal_open(&self->w, self->dir, opt, &self->rec) != want)
		abort();
}

TEST(crc32c_known_answer_and_both_paths_agree)
{
	struct prng p;
	uint8_t buf[1000];
	size_t i, len;

	EXPECT_EQ(0xe3069283u, crc32c_portable(0, "123456789", 9));
	EXPECT_EQ(0xe3069283u, crc32c(0, "123456789", 9));
	/* Continuation equals one pass. */
	EXPECT_EQ(0xe3069283u, crc32c(crc32c(0, "1234", 4), "56789", 5));
	prng_seed(&p, 42);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = prng_next(&p);
	for (len = 0; len < sizeof(buf); len += 37)
		ASSERT_EQ(crc32c_portable(7, buf, len), crc32c_sse42(7, buf, len));
}

TEST_F(wal, fresh_directory_is_empty)
{
	EXPECT_EQ(0, self->rec.n_entries);
	EXPECT_EQ(0, self->rec.hs.term);
	EXPECT_EQ(1, wal_segment_count(self->w));
}

TEST_F(wal, entries_and_hard_state_round_trip)
{
	struct raft_hard_state hs = { .term = 3, .vote = 2, .commit = 5 };
	struct raft_entry e = entry(9, 3);

	ASSERT_EQ(0, append_range(self->w, 1, 8, 3));
	ASSERT_EQ(0, wal_append(self->w, &e, 1, &hs, true));
	reopen(self, NULL, 0);
	EXPECT_EQ(0, check_entries(&self->rec, 1, 9, 3));
	EXPECT_EQ(3, self->rec.hs.term);
	EXPECT_EQ(2, self->rec.hs.vote);
	EXPECT_EQ(5, self->rec.hs.commit);
	EXPECT_EQ(0, self->rec.truncated_bytes);
}

TEST_F(wal, rewritten_index_drops_the_old_suffix)
{
	ASSERT_EQ(0, append_range(self->w, 1, 6, 1));
	ASSERT_EQ(0, append_range(self->w, 4, 5, 2));
	reopen(self, NULL, 0);
	ASSERT_EQ(5, self->rec.n_entries);
	EXPECT_EQ(1, self->rec.entries[2].term);
	EXPECT_EQ(2, self->rec.entries[3].term);
	EXPECT_EQ(5, self->rec.entries[4].index);
}

TEST_F(wal, torn_tail_is_cut_off_and_appends_continue)
{
	char *seg;
	off_t size;

	ASSERT_EQ(0, append_range(self->w, 1, 5, 1));
	seg = last_segment(self->dir);
	size = file_size(seg);
	/* The last record loses its last 3 bytes: a torn write. */
	ASSERT_EQ(0, truncate(seg, size - 3));
	reopen(self, NULL, 0);
	EXPECT_EQ(0, check_entries(&self->rec, 1, 4, 1));
	EXPECT_GT(self->rec.truncated_bytes, 0);
	EXPECT_LT(file_size(seg), size - 3);
	ASSERT_EQ(0, append_range(self->w, 5, 6, 1));
	reopen(self, NULL, 0);
	EXPECT_EQ(0, check_entries(&self->rec, 1, 6, 1));
	EXPECT_EQ(0, self->rec.truncated_bytes);
}

TEST_F(wal, corrupt_tail_is_cut_off)
{
	char *seg;
	off_t size;
	int fd;
	char c;

	ASSERT_EQ(0, append_range(self->w, 1, 5, 1));
	seg = last_segment(self->dir);
	size = file_size(seg);
	fd = open(seg, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pread(fd, &c, 1, size - 2));
	c ^= 0x40;
	ASSERT_EQ(1, pwrite(fd, &c, 1, size - 2));
	close(fd);
	reopen(self, NULL, 0);
	EXPECT_EQ(0, check_entries(&self->rec, 1, 4, 1));
	EXPECT_GT(self->rec.truncated_bytes, 0);
}

TEST_F(wal, damage_before_the_tail_is_an_error)
{
	struct wal_options opt = { .segment_bytes = 256 };
	char path[4200];
	int fd;
	char c = 0;
	uint64_t i;

	reopen(self, &opt, 0);
	for (i = 1; i <= 20; i++)
		ASSERT_EQ(0, append_range(self->w, i, i, 1));
	ASSERT_GT(wal_segment_count(self->w), 2);
	snprintf(path, sizeof(path), "%s/0000000000000001.wal", self->dir);
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pread(fd, &c, 1, 70));
	c ^= 0x20;
	ASSERT_EQ(1, pwrite(fd, &c, 1, 70));
	close(fd);
	wal_close(self->w);
	self->w = NULL;
	wal_recovery_free(&self->rec);
	EXPECT_EQ(-EBADMSG, wal_open(&self->w, self->dir, &opt, &self->rec));
	TH_LOG("%s", self->rec.error);
	EXPECT_NE(NULL, strstr(self->rec.error, "0000000000000001.wal"));
	EXPECT_NE(NULL, strstr(self->rec.error, "offset 59"));
}

/* Offset of record number 'n' (from 0) in a segment file. */
static off_t record_offset(const char *path, int n)
{
	uint32_t len;
	off_t off = 0;
	int fd = open(path, O_RDONLY);

	while (n-- > 0 && pread(fd, &len, 4, off) == 4)
		off += 9 + len;
	close(fd);
	return off;
}

static void flip_byte(const char *path, off_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t c = 0;

	if (fd < 0 || pread(fd, &c, 1, off) != 1)
		abort();
	c ^= mask;
	if (pwrite(fd, &c, 1, off) != 1)
		abort();
	close(fd);
}

TEST_F(wal, record_crc_covers_the_length)
{
	uint8_t rec[64];
	uint32_t len, crc;
	int fd;

	ASSERT_EQ(0, append_range(self->w, 1, 1, 1));
	fd = open(last_segment(self->dir), O_RDONLY);
	ASSERT_EQ(sizeof(rec), pread(fd, rec, sizeof(rec), 0));
	close(fd);
	memcpy(&len, rec, 4);
	memcpy(&crc, rec + 4, 4);
	ASSERT_GT(sizeof(rec), 9 + len);
	EXPECT_EQ(crc32c(crc32c(0, rec, 4), rec + 8, 1 + len), crc);
}

/*
 * A torn write is only ever the end of the last segment. A damaged record
 * with intact ones after it is corruption: recovery refuses, names the file
 * and offset, and leaves the file as it found it.
 */
TEST_F(wal, damage_followed_by_intact_records_is_refused)
{
	static const struct {
		const char *what;
		int field;		/* byte of the record to damage */
		uint8_t mask;
	} cases[] = {
		{ "payload", 30, 0x04 },
		{ "checksum", 5, 0x80 },
		{ "length, past the end", 3, 0x7f },
		{ "length, shorter", 0, 0x01 },
	};
	size_t c;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		char seg[4096], want[64];
		off_t off, size;

		TH_LOG("%s", cases[c].what);
		remove_dir(self->dir);
		reopen(self, NULL, 0);
		ASSERT_EQ(0, append_range(self->w, 1, 3, 1));
		ASSERT_EQ(0, append_range(self->w, 4, 5, 1));
		snprintf(seg, sizeof(seg), "%s", last_segment(self->dir));
		size = file_size(seg);
		/* Records: hard state, start, entries 1..5; damage entry 2. */
		off = record_offset(seg, 3);
		flip_byte(seg, off + cases[c].field, cases[c].mask);
		wal_close(self->w);
		self->w = NULL;
		wal_recovery_free(&self->rec);
		EXPECT_EQ(-EBADMSG, wal_open(&self->w, self->dir, NULL, &self->rec));
		TH_LOG("%s", self->rec.error);
		EXPECT_NE(NULL, strstr(self->rec.error, strrchr(seg, '/') + 1));
		snprintf(want, sizeof(want), "offset %ld", (long)off);
		EXPECT_NE(NULL, strstr(self->rec.error, want));
		EXPECT_EQ(size, file_size(seg));
	}
}

struct op_log {
	enum storage_op ops[4096];
	size_t n;
};

static int log_op(void *ctx, enum storage_op op)
{
	struct op_log *l = ctx;

	if (l->n < ARRAY_SIZE(l->ops))
		l->ops[l->n++] = op;
	return 0;
}

/*
 * Batches written without a sync may be torn by a crash. Once a newer
 * segment exists such a tail would be damage before the end, which recovery
 * refuses: the full segment is synced before the next one is created.
 */
TEST_F(wal, unsynced_batches_are_synced_before_a_roll)
{
	struct op_log ops = { .n = 0 };
	struct storage_fault fault = { log_op, &ops };
	struct wal_options opt = { .segment_bytes = 256, .fault = &fault };
	struct raft_hard_state hs = { .term = 1, .vote = 1 };
	size_t i, creates = 0;
	uint64_t index;

	reopen(self, &opt, 0);
	ops.n = 0;
	for (index = 1; index <= 20; index++) {
		struct raft_entry e = entry(index, 1);

		hs.commit = index - 1;
		ASSERT_EQ(0, wal_append(self->w, &e, 1, &hs, false));
	}
	ASSERT_GT(wal_segment_count(self->w), 2);
	/* Reopening syncs what a crashed run may have left unsynced. */
	reopen(self, &opt, 0);
	EXPECT_EQ(STORAGE_SYNC, ops.ops[ops.n - 1]);
	for (i = 1; i < ops.n - 1; i++) {
		if (ops.ops[i] != STORAGE_CREATE)
			continue;
		creates++;
		EXPECT_EQ(STORAGE_SYNC, ops.ops[i - 1]);
	}
	EXPECT_EQ(wal_segment_count(self->w) - 1, creates);
}

TEST_F(wal, segments_roll_over_and_compaction_removes_old_ones)
{
	struct wal_options opt = { .segment_bytes = 256 };
	struct raft_hard_state hs = { .term = 1, .vote = 1, .commit = 30 };
	unsigned int before;
	uint64_t i;

	reopen(self, &opt, 0);
	for (i = 1; i <= 30; i++)
		ASSERT_EQ(0, append_range(self->w, i, i, 1));
	ASSERT_EQ(0, wal_append(self->w, NULL, 0, &hs, true));
	before = wal_segment_count(self->w);
	ASSERT_GT(before, 3);
	EXPECT_EQ(-EINVAL, wal_compact(self->w, 20));	/* start not recorded */
	ASSERT_EQ(0, wal_set_start(self->w, 20, 1, false));
	ASSERT_EQ(0, wal_compact(self->w, 20));
	EXPECT_LT(wal_segment_count(self->w), before);
	reopen(self, &opt, 0);
	EXPECT_EQ(20, self->rec.start_index);
	EXPECT_EQ(1, self->rec.start_term);
	EXPECT_EQ(0, check_entries(&self->rec, 21, 30, 1));
	/* The hard state survives in the newer segments' headers. */
	EXPECT_EQ(30, self->rec.hs.commit);
	EXPECT_EQ(1, self->rec.hs.vote);
}

TEST_F(wal, reset_start_drops_everything)
{
	ASSERT_EQ(0, append_range(self->w, 1, 10, 1));
	ASSERT_EQ(0, wal_set_start(self->w, 7, 2, true));
	reopen(self, NULL, 0);
	EXPECT_EQ(0, self->rec.n_entries);
	EXPECT_EQ(7, self->rec.start_index);
	ASSERT_EQ(0, append_range(self->w, 8, 9, 2));
	reopen(self, NULL, 0);
	EXPECT_EQ(0, check_entries(&self->rec, 8, 9, 2));
}

/*
 * A crash (or ENOSPC) during the first write to a freshly rolled segment
 * leaves it empty or holding part of its header. The node restarts onto it,
 * appends there, and compaction later deletes the older segments: their
 * term and vote must still be found in what is left.
 */
TEST_F(wal, term_and_vote_survive_a_restart_onto_an_empty_last_segment)
{
	static const off_t cuts[] = { 0, 20, 40 };
	struct wal_options opt = { .segment_bytes = 256 };
	struct raft_hard_state hs = { .term = 5, .vote = 2 };
	size_t c;

	for (c = 0; c < ARRAY_SIZE(cuts); c++) {
		struct raft_entry e = entry(1, 5);
		unsigned int segs;
		uint64_t i, last;

		remove_dir(self->dir);
		reopen(self, &opt, 0);
		ASSERT_EQ(0, wal_append(self->w, &e, 1, &hs, true));
		segs = wal_segment_count(self->w);
		for (i = 2; wal_segment_count(self->w) == segs; i++)
			ASSERT_EQ(0, append_range(self->w, i, i, 5));
		/* Entry i - 1 went into the new segment with its header: torn. */
		ASSERT_EQ(0, truncate(last_segment(self->dir), cuts[c]));
		reopen(self, &opt, 0);
		ASSERT_EQ(i - 2, self->rec.n_entries);
		EXPECT_EQ(5, self->rec.hs.term);
		last = i + 2;
		ASSERT_EQ(0, append_range(self->w, i - 1, last, 5));
		ASSERT_EQ(0, wal_set_start(self->w, last, 5, false));
		ASSERT_EQ(0, wal_compact(self->w, last));
		ASSERT_EQ(1, wal_segment_count(self->w));
		reopen(self, &opt, 0);
		TH_LOG("cut at %ld", (long)cuts[c]);
		EXPECT_EQ(5, self->rec.hs.term);
		EXPECT_EQ(2, self->rec.hs.vote);
		EXPECT_EQ(last, self->rec.start_index);
	}
}

struct fault_plan {
	enum storage_op op;
	int err;
	int after;	/* let this many matching operations succeed first */
};

static int fault_hook(void *ctx, enum storage_op op)
{
	struct fault_plan *f = ctx;

	if (op != f->op || !f->err)
		return 0;
	if (f->after-- > 0)
		return 0;
	return f->err;
}

static void fault_run(struct _test_data_wal *self, struct __test_metadata *_metadata,
		      enum storage_op op, int err)
{
	struct fault_plan plan = { .op = op, .err = 0 };
	struct storage_fault fault = { fault_hook, &plan };
	struct wal_options opt = { .fault = &fault };

	reopen(self, &opt, 0);
	ASSERT_EQ(0, append_range(self->w, 1, 3, 1));
	plan.err = err;
	EXPECT_EQ(err, append_range(self->w, 4, 5, 1));
	/* The WAL does not carry on after a failed write or sync. */
	plan.err = 0;
	EXPECT_EQ(-EIO, append_range(self->w, 4, 5, 1));
	EXPECT_EQ(-EIO, wal_set_start(self->w, 1, 1, false));
	reopen(self, NULL, 0);
	/* What was acknowledged before is intact. */
	ASSERT_GE(self->rec.n_entries, 3);
	EXPECT_EQ(0, memcmp(self->rec.entries[2].data, "entry-3-1", 9));
}

TEST_F(wal, enospc_on_write_is_returned)
{
	fault_run(self, _metadata, STORAGE_WRITE, -ENOSPC);
}

TEST_F(wal, eio_on_sync_is_returned)
{
	fault_run(self, _metadata, STORAGE_SYNC, -EIO);
}

TEST_F(wal, enospc_creating_a_segment_is_returned)
{
	struct fault_plan plan = { .op = STORAGE_CREATE, .err = -ENOSPC };
	struct storage_fault fault = { fault_hook, &plan };
	struct wal_options opt = { .fault = &fault, .segment_bytes = 128 };
	int err = 0;
	uint64_t i;

	reopen(self, &opt, 0);
	for (i = 1; i <= 20 && !err; i++)
		err = append_range(self->w, i, i, 1);
	EXPECT_EQ(-ENOSPC, err);
	EXPECT_EQ(-EIO, append_range(self->w, i, i, 1));
}

FIXTURE(snap) {
	char dir[4096];
};

FIXTURE_SETUP(snap)
{
	make_dir(self->dir, sizeof(self->dir));
}

FIXTURE_TEARDOWN(snap)
{
	remove_dir(self->dir);
}

TEST_F(snap, save_load_round_trip)
{
	struct raft_snapshot s = {
		.meta = { .index = 42, .term = 7,
			  .conf = { .n_voters = 3, .voters = { 1, 2, 3 }, .n_learners = 1,
				    .learners = { 4 } } },
		.data = "state machine bytes",
		.len = 19,
	}, got;

	EXPECT_EQ(-ENOENT, snapshot_load(NULL, self->dir, &got));
	ASSERT_EQ(0, snapshot_save(NULL, self->dir, &s, NULL));
	ASSERT_EQ(0, snapshot_load(NULL, self->dir, &got));
	EXPECT_EQ(42, got.meta.index);
	EXPECT_EQ(7, got.meta.term);
	EXPECT_EQ(3, got.meta.conf.n_voters);
	EXPECT_EQ(4, got.meta.conf.learners[0]);
	ASSERT_EQ(19, got.len);
	EXPECT_EQ(0, memcmp(got.data, "state machine bytes", 19));
	free(got.data);
}

TEST_F(snap, failed_save_keeps_the_old_snapshot)
{
	struct raft_snapshot old = { .meta = { .index = 10, .term = 1 }, .data = "old", .len = 3 };
	struct raft_snapshot nw = { .meta = { .index = 20, .term = 2 }, .data = "new", .len = 3 };
	static const enum storage_op ops[] = { STORAGE_CREATE, STORAGE_WRITE, STORAGE_SYNC,
					       STORAGE_RENAME };
	struct raft_snapshot got;
	size_t i;

	ASSERT_EQ(0, snapshot_save(NULL, self->dir, &old, NULL));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct fault_plan plan = { .op = ops[i], .err = -ENOSPC };
		struct storage_fault fault = { fault_hook, &plan };

		EXPECT_EQ(-ENOSPC, snapshot_save(NULL, self->dir, &nw, &fault));
		ASSERT_EQ(0, snapshot_load(NULL, self->dir, &got));
		EXPECT_EQ(10, got.meta.index);
		free(got.data);
	}
}

TEST_F(snap, leftover_temp_file_is_ignored_and_damage_detected)
{
	struct raft_snapshot s = { .meta = { .index = 5, .term = 1 }, .data = "abcdef", .len = 6 };
	struct raft_snapshot got;
	char path[4200];
	int fd;

	ASSERT_EQ(0, snapshot_save(NULL, self->dir, &s, NULL));
	snprintf(path, sizeof(path), "%s/snapshot.tmp", self->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ASSERT_EQ(4, write(fd, "junk", 4));
	close(fd);
	ASSERT_EQ(0, snapshot_load(NULL, self->dir, &got));
	EXPECT_EQ(5, got.meta.index);
	free(got.data);

	snprintf(path, sizeof(path), "%s/snapshot", self->dir);
	fd = open(path, O_WRONLY);
	ASSERT_EQ(1, pwrite(fd, "X", 1, 40));
	close(fd);
	EXPECT_EQ(-EBADMSG, snapshot_load(NULL, self->dir, &got));
}

/*
 * A node persists through raft_storage, restarts from it, compacts, and
 * restarts again: the core boots with the same term, vote, log and commit.
 */
static void drive(struct raft *r, struct raft_storage *st, struct __test_metadata *_metadata)
{
	struct raft_ready rd;

	while (raft_has_ready(r)) {
		raft_ready(r, &rd);
		ASSERT_EQ(0, raft_storage_save(st, &rd));
		raft_advance(r, &rd);
	}
}

TEST_F(snap, node_restarts_from_its_directory)
{
	struct raft_conf conf = { .n_voters = 1, .voters = { 1 } };
	struct raft_boot boot;
	struct raft_storage st;
	struct raft_status s1, s2;
	struct raft_config cfg;
	struct raft *r;
	char dir[4200];
	int i;

	snprintf(dir, sizeof(dir), "%s/node", self->dir);
	raft_config_default(&cfg, 1, 1);
	ASSERT_EQ(0, raft_storage_bootstrap(dir, &conf, NULL));
	EXPECT_EQ(-EEXIST, raft_storage_bootstrap(dir, &conf, NULL));
	ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
	EXPECT_EQ(0, boot.n_entries);
	EXPECT_EQ(1, boot.snap.conf.n_voters);
	ASSERT_EQ(0, raft_new(&r, &cfg, &boot));
	ASSERT_EQ(0, raft_campaign(r));
	drive(r, &st, _metadata);
	for (i = 0; i < 10; i++) {
		char data[16];
		struct raft_buf b = { data, snprintf(data, sizeof(data), "v%d", i) };

		ASSERT_EQ(0, raft_propose(r, &b, 1, NULL));
		drive(r, &st, _metadata);
	}
	raft_status(r, &s1);
	EXPECT_EQ(11, s1.commit);
	raft_free(r);
	raft_storage_close(&st);

	ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
	ASSERT_EQ(0, raft_new(&r, &cfg, &boot));
	raft_status(r, &s2);
	EXPECT_EQ(s1.term, s2.term);
	EXPECT_EQ(s1.vote, s2.vote);
	EXPECT_EQ(11, s2.last_index);
	EXPECT_EQ(11, s2.commit);
	EXPECT_EQ(1, s2.conf.n_voters);
	ASSERT_EQ(4, raft_entry_at(r, 6)->len + 2);
	EXPECT_EQ(0, memcmp(raft_entry_at(r, 6)->data, "v4", 2));
	/* Apply everything, snapshot at 8, compact. */
	drive(r, &st, _metadata);
	ASSERT_EQ(0, raft_compact(r, 8, "state@8", 7));
	ASSERT_EQ(0, raft_storage_compact(&st, raft_snapshot(r)));
	raft_free(r);
	raft_storage_close(&st);

	ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
	EXPECT_EQ(8, boot.snap.index);
	EXPECT_EQ(1, boot.snap.conf.n_voters);
	ASSERT_EQ(7, boot.snap_len);
	EXPECT_EQ(0, memcmp(boot.snap_data, "state@8", 7));
	ASSERT_EQ(3, boot.n_entries);
	EXPECT_EQ(9, boot.entries[0].index);
	ASSERT_EQ(0, raft_new(&r, &cfg, &boot));
	raft_status(r, &s2);
	EXPECT_EQ(11, s2.last_index);
	EXPECT_EQ(9, s2.first_index);
	EXPECT_EQ(s1.term, s2.term);
	raft_free(r);
	raft_storage_close(&st);
}

/* Fails every WAL write once the new snapshot file is in place: a crash. */
static int crash_after_rename(void *ctx, enum storage_op op)
{
	bool *renamed = ctx;

	if (op == STORAGE_RENAME)
		*renamed = true;
	return op == STORAGE_WRITE && *renamed ? -EIO : 0;
}

/*
 * A received snapshot is saved, then the WAL is reset; a crash in between
 * leaves the old log behind the new snapshot. Entries after the snapshot may
 * be kept only if the log holds the snapshot's own (index, term); otherwise
 * they belong to another branch.
 */
TEST_F(snap, crash_between_snapshot_and_wal_reset)
{
	static const struct {
		const char *what;
		uint64_t terms[9];	/* of the WAL's entries 1..n */
		int n;
		uint64_t keep;		/* entries after the snapshot at 7 */
	} cases[] = {
		{ "entry 7 of a later term", { 2, 2, 2, 2, 2, 2, 4, 4, 4 }, 9, 0 },
		{ "entries of lower terms", { 2, 2, 2, 2, 2, 2, 2, 2, 2 }, 9, 0 },
		{ "the snapshot's own branch", { 2, 2, 2, 2, 2, 3, 3, 3, 3 }, 9, 2 },
		{ "a log that ends before the snapshot", { 2, 2, 2, 2, 2 }, 5, 0 },
	};
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft_snapshot snap = {
		.meta = { .index = 7, .term = 3, .conf = conf }, .data = "state@7", .len = 7,
	};
	struct raft_config cfg;
	size_t c;

	raft_config_default(&cfg, 1, 1);
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		bool renamed = false;
		struct storage_fault fault = { crash_after_rename, &renamed };
		struct wal_options opt = { .fault = &fault };
		struct raft_entry ents[9];
		struct raft_ready rd = {
			.entries = ents, .n_entries = cases[c].n, .must_sync = true,
			.hs_changed = true, .hs = { .term = 4, .vote = 2 },
		};
		struct raft_ready install = { .snapshot = &snap, .must_sync = true };
		struct raft_storage st;
		struct raft_boot boot;
		struct raft *r;
		char dir[4200];
		int i;

		TH_LOG("%s", cases[c].what);
		snprintf(dir, sizeof(dir), "%s/node%zu", self->dir, c);
		for (i = 0; i < cases[c].n; i++)
			ents[i] = entry(i + 1, cases[c].terms[i]);
		ASSERT_EQ(0, raft_storage_bootstrap(dir, &conf, NULL));
		ASSERT_EQ(0, raft_storage_open(&st, dir, &opt, &boot));
		ASSERT_EQ(0, raft_storage_save(&st, &rd));
		EXPECT_EQ(-EIO, raft_storage_save(&st, &install));
		raft_storage_close(&st);

		/* Twice: what the first start decided must be durable. */
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
			EXPECT_EQ(7, boot.snap.index);
			EXPECT_EQ(3, boot.snap.term);
			EXPECT_EQ(4, boot.hs.term);
			ASSERT_EQ(cases[c].keep, boot.n_entries);
			if (boot.n_entries)
				EXPECT_EQ(8, boot.entries[0].index);
			ASSERT_EQ(0, raft_new(&r, &cfg, &boot));
			raft_free(r);
			raft_storage_close(&st);
		}
		/* The log continues after the snapshot, and restarts again. */
		ents[0] = entry(8, 4);
		ents[1] = entry(9, 4);
		rd.n_entries = 2;
		ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
		ASSERT_EQ(0, raft_storage_save(&st, &rd));
		raft_storage_close(&st);
		ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
		TH_LOG("%s", st.error);
		ASSERT_EQ(2, boot.n_entries);
		EXPECT_EQ(4, boot.entries[1].term);
		raft_storage_close(&st);
	}
}

/*
 * The hard state that comes with a received snapshot is written after the
 * snapshot file: a crash in between leaves a term behind the snapshot's.
 * The node restarts in the snapshot's term (no vote in it), durably.
 */
TEST_F(snap, term_is_never_behind_the_log_after_a_crash)
{
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft_snapshot snap = {
		.meta = { .index = 7, .term = 5, .conf = conf }, .data = "state@7", .len = 7,
	};
	struct raft_entry ents[3] = { entry(1, 2), entry(2, 2), entry(3, 2) };
	struct raft_ready rd = {
		.entries = ents, .n_entries = 3, .must_sync = true, .hs_changed = true,
		.hs = { .term = 2, .vote = 3 },
	};
	struct raft_ready install = {
		.snapshot = &snap, .must_sync = true, .hs_changed = true,
		.hs = { .term = 5, .commit = 7 },
	};
	bool renamed = false;
	struct storage_fault fault = { crash_after_rename, &renamed };
	struct wal_options opt = { .fault = &fault };
	struct raft_storage st;
	struct raft_boot boot;
	char dir[4200];
	int i;

	snprintf(dir, sizeof(dir), "%s/node", self->dir);
	ASSERT_EQ(0, raft_storage_bootstrap(dir, &conf, NULL));
	ASSERT_EQ(0, raft_storage_open(&st, dir, &opt, &boot));
	ASSERT_EQ(0, raft_storage_save(&st, &rd));
	EXPECT_EQ(-EIO, raft_storage_save(&st, &install));
	raft_storage_close(&st);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
		EXPECT_EQ(7, boot.snap.index);
		EXPECT_EQ(5, boot.hs.term);
		EXPECT_EQ(0, boot.hs.vote);
		if (i)	/* the first start recorded it, the second reads it */
			EXPECT_EQ(5, st.rec.hs.term);
		raft_storage_close(&st);
	}
}

/* A node refuses to start on corrupt state and says which file is at fault. */
TEST_F(snap, open_names_the_corrupt_file)
{
	struct raft_conf conf = { .n_voters = 1, .voters = { 1 } };
	struct raft_entry ents[3] = { entry(1, 1), entry(2, 1), entry(3, 1) };
	struct raft_storage st;
	struct raft_boot boot;
	char dir[4200], seg[4300];
	int i;

	snprintf(dir, sizeof(dir), "%s/node", self->dir);
	ASSERT_EQ(0, raft_storage_bootstrap(dir, &conf, NULL));
	ASSERT_EQ(0, raft_storage_open(&st, dir, NULL, &boot));
	for (i = 0; i < 3; i++) {
		struct raft_ready rd = { .entries = &ents[i], .n_entries = 1, .must_sync = true };

		ASSERT_EQ(0, raft_storage_save(&st, &rd));
	}
	raft_storage_close(&st);
	snprintf(seg, sizeof(seg), "%s/wal/0000000000000001.wal", dir);
	flip_byte(seg, record_offset(seg, 2) + 20, 0x01);
	EXPECT_EQ(-EBADMSG, raft_storage_open(&st, dir, NULL, &boot));
	TH_LOG("%s", st.error);
	EXPECT_NE(NULL, strstr(st.error, "wal/0000000000000001.wal: offset 59"));

	flip_byte(seg, record_offset(seg, 2) + 20, 0x01);
	snprintf(seg, sizeof(seg), "%s/snapshot", dir);
	flip_byte(seg, 9, 0x01);
	EXPECT_EQ(-EBADMSG, raft_storage_open(&st, dir, NULL, &boot));
	TH_LOG("%s", st.error);
	EXPECT_NE(NULL, strstr(st.error, "snapshot"));
}

TEST_HARNESS_MAIN
