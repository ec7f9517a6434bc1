// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the binary seed corpora into DIR (selftests/fuzz/corpus/ when run
 * by 'make fuzz-corpus'): WAL segments and snapshot files made by the
 * storage's own writers, and raft_step scripts that walk a node through
 * the common paths (elected, following, catching up from a snapshot). The
 * text corpora (klbctl_args, klbctl_restore) are written by hand.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft/fs.h"
#include "raft/raft.h"
#include "raft/snapshot_file.h"
#include "raft/wal.h"

#define SEGMENT_BREAK "SEGMENT-BREAK"

static const char *out;

static void die(const char *what, int err)
{
	fprintf(stderr, "make_corpus: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void write_seed(const char *corpus, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, corpus);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out, corpus, name);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die(path, errno);
}

static void scratch_clear(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static uint8_t *read_all(const char *dir, const char *name, size_t *len)
{
	int dirfd = fs_posix.ops->open_dir(fs_posix.ctx, dir), err;
	uint8_t *buf;

	if (dirfd < 0)
		die(dir, dirfd);
	err = fs_read_file(&fs_posix, dirfd, name, &buf, len);
	fs_posix.ops->close(fs_posix.ctx, dirfd);
	if (err)
		die(name, err);
	return buf;
}

static int is_segment(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return len > 4 && !strcmp(de->d_name + len - 4, ".wal");
}

/* Every segment of the WAL in dir, in order, joined by SEGMENT_BREAK. */
static void wal_seed(const char *dir, const char *name)
{
	struct dirent **names;
	uint8_t seed[16384];
	size_t n = 0, len;
	int i, nr;

	nr = scandir(dir, &names, is_segment, alphasort);
	if (nr < 0)
		die(dir, errno);
	for (i = 0; i < nr; i++) {
		uint8_t *buf = read_all(dir, names[i]->d_name, &len);

		if (n + strlen(SEGMENT_BREAK) + len > sizeof(seed))
			die("seed too large", EFBIG);
		if (n) {
			memcpy(seed + n, SEGMENT_BREAK, strlen(SEGMENT_BREAK));
			n += strlen(SEGMENT_BREAK);
		}
		memcpy(seed + n, buf, len);
		n += len;
		free(buf);
		free(names[i]);
	}
	free(names);
	write_seed("wal_recovery", name, seed, n);
}

static void wal_seeds(const char *scratch)
{
	struct wal_options opt = { 0 };
	struct raft_hard_state hs = { .term = 1, .vote = 1, .commit = 0 };
	struct wal_recovery rec;
	struct raft_entry e;
	struct wal *w;
	uint64_t i;
	int err;

	/* A new WAL: the header alone. */
	scratch_clear(scratch);
	err = wal_open(&w, scratch, &opt, &rec);
	if (err)
		die("wal_open", err);
	wal_close(w);
	wal_recovery_free(&rec);
	wal_seed(scratch, "empty");

	/* Entries of two terms, one rewritten, and a commit. */
	scratch_clear(scratch);
	err = wal_open(&w, scratch, &opt, &rec);
	for (i = 1; !err && i <= 5; i++) {
		e = (struct raft_entry){ .term = 1, .index = i, .len = 3, .data = "abc" };
		err = wal_append(w, &e, 1, &hs, i % 2);
	}
	hs = (struct raft_hard_state){ .term = 2, .vote = 2, .commit = 3 };
	e = (struct raft_entry){ .term = 2, .index = 4, .len = 2, .data = "de" };
	if (!err)
		err = wal_append(w, &e, 1, &hs, true);
	if (err)
		die("wal_append", err);
	wal_close(w);
	wal_recovery_free(&rec);
	wal_seed(scratch, "entries");

	/* Small segments: several, and a log start after compaction. */
	scratch_clear(scratch);
	opt.segment_bytes = 128;
	err = wal_open(&w, scratch, &opt, &rec);
	for (i = 1; !err && i <= 12; i++) {
		e = (struct raft_entry){ .term = 1 + i / 6, .index = i, .len = 8,
					 .data = "segments" };
		hs.term = e.term;
		err = wal_append(w, &e, 1, &hs, true);
	}
	if (!err)
		err = wal_set_start(w, 6, 2, false);
	if (!err)
		err = wal_compact(w, 6);
	if (err)
		die("wal segments", err);
	wal_close(w);
	wal_recovery_free(&rec);
	wal_seed(scratch, "segments");

	/* A reset (snapshot installed) followed by new entries. */
	scratch_clear(scratch);
	opt.segment_bytes = 0;
	err = wal_open(&w, scratch, &opt, &rec);
	e = (struct raft_entry){ .term = 1, .index = 1, .len = 1, .data = "x" };
	if (!err)
		err = wal_append(w, &e, 1, &hs, true);
	if (!err)
		err = wal_set_start(w, 20, 3, true);
	e = (struct raft_entry){ .term = 3, .index = 21, .type = RAFT_ENTRY_CONF, .len = 1,
				 .data = "y" };
	if (!err)
		err = wal_append(w, &e, 1, NULL, true);
	if (err)
		die("wal reset", err);
	wal_close(w);
	wal_recovery_free(&rec);
	wal_seed(scratch, "reset");
}

static void snapshot_seed(const char *scratch, const char *name, const struct raft_snapshot *s)
{
	uint8_t *buf;
	size_t len;
	int err;

	scratch_clear(scratch);
	err = snapshot_save(NULL, scratch, s, NULL);
	if (err)
		die("snapshot_save", err);
	buf = read_all(scratch, "snapshot", &len);
	write_seed("snapshot_load", name, buf, len);
	free(buf);
}

static void snapshot_seeds(const char *scratch)
{
	struct raft_snapshot s = {
		.meta = { .index = 0, .term = 0, .conf = { .n_voters = 1, .voters = { 1 } } },
	};

	snapshot_seed(scratch, "bootstrap", &s);
	s.meta = (struct raft_snapshot_meta){
		.index = 42, .term = 7,
		.conf = { .n_voters = 3, .voters = { 1, 2, 3 }, .n_learners = 1, .learners = { 4 } },
	};
	s.data = "service tcp 203.0.113.10:80 backends 198.51.100.2:80 198.51.100.3:80";
	s.len = strlen(s.data);
	snapshot_seed(scratch, "three-voters", &s);
}

/*
 * raft_step scripts (the encoding is raft_step.c's): an operation byte
 * (its value mod 10), then its operands. NEAR(k) is a term or index k
 * away from the node's own.
 */
#define NEAR(k)		((uint8_t)((k) + 8))
#define OP_TICK		0
#define OP_STEP		1
#define OP_READY	4
#define OP_PROPOSE	5
#define OP_CAMPAIGN	6
#define OP_READ		7
#define OP_COMPACT	8
#define OP_CONF		9
/* type, from, to (SELF), term, index, log term, commit, reject, hint, context */
#define MSG(type, from, dterm, dindex, dlogterm, dcommit, reject) \
	OP_STEP, type, from, 0, NEAR(dterm), NEAR(dindex), NEAR(dlogterm), NEAR(dcommit), \
	reject, NEAR(0), 0

static void raft_step_seeds(void)
{
	/* Booted at term 2, log 3..5: elected, then a proposal committed. */
	static const uint8_t elected[] = {
		0,
		OP_CAMPAIGN, OP_READY,
		MSG(RAFT_MSG_VOTE_RESP, 2, 0, 0, 0, 0, 0), 0,
		OP_READY,
		OP_PROPOSE, 3, 'a', 'b', 'c', OP_READY,
		MSG(RAFT_MSG_APPEND_RESP, 2, 0, 2, 0, 0, 0), 0,
		MSG(RAFT_MSG_HEARTBEAT_RESP, 3, 0, 0, 0, 0, 0), 0,
		OP_READY, OP_READ, 9, OP_READY,
		OP_CONF, 0, 5, OP_READY,
		OP_TICK, 5, OP_READY,
	};
	/* A leader of term 3 sends two entries, then commits them. */
	static const uint8_t following[] = {
		3,
		MSG(RAFT_MSG_APPEND, 2, 1, 0, 0, 0, 0), 2,
		0, 0, 2, 'h', 'i',		/* term, type, data */
		0, 1, 1, 3, 0, 1, 2, 3,		/* a configuration of voters 1 2 3 */
		OP_READY,
		MSG(RAFT_MSG_HEARTBEAT, 2, 0, 0, 0, 3, 0), 0,
		OP_READY, OP_COMPACT, 0, NEAR(0), OP_READY,
	};
	/* A leader far ahead sends its snapshot in two chunks. */
	static const uint8_t snapshot[] = {
		0,
		MSG(RAFT_MSG_SNAPSHOT, 3, 1, 20, 1, 20, 0), 0,
		NEAR(20), NEAR(1), 3, 0, 1, 2, 3, 8, 0, 4, 's', 'n', 'a', 'p',
		OP_READY,
		MSG(RAFT_MSG_SNAPSHOT, 3, 0, 20, 0, 20, 0), 0,
		NEAR(20), NEAR(0), 3, 0, 1, 2, 3, 8, 4, 4, 's', 'h', 'o', 't',
		OP_READY,
	};
	/* Elections by others: pre-votes and votes, granted and refused. */
	static const uint8_t votes[] = {
		1,
		MSG(RAFT_MSG_PREVOTE, 3, 1, 0, 0, 0, 0), 0,
		OP_READY,
		MSG(RAFT_MSG_VOTE, 3, 1, 0, 0, 0, 0), 0,
		MSG(RAFT_MSG_VOTE, 2, 1, -1, 0, 0, 0), 0,
		OP_READY,
		OP_TICK, 15, OP_TICK, 15, OP_READY,
		MSG(RAFT_MSG_PREVOTE_RESP, 2, 1, 0, 0, 0, 0), 0,
		MSG(RAFT_MSG_TIMEOUT_NOW, 2, 0, 0, 0, 0, 0), 0,
		OP_READY,
	};

	write_seed("raft_step", "elected", elected, sizeof(elected));
	write_seed("raft_step", "following", following, sizeof(following));
	write_seed("raft_step", "snapshot", snapshot, sizeof(snapshot));
	write_seed("raft_step", "votes", votes, sizeof(votes));
}

int main(int argc, char **argv)
{
	char scratch[] = "/tmp/klb-corpus-XXXXXX";

	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}
	out = argv[1];
	if (!mkdtemp(scratch))
		die("mkdtemp", errno);
	wal_seeds(scratch);
	snapshot_seeds(scratch);
	raft_step_seeds();
	scratch_clear(scratch);
	rmdir(scratch);
	return 0;
}
