// SPDX-License-Identifier: GPL-2.0
/*
 * The real storage (WAL, snapshot file, storage glue) over a simulated file
 * system that crashes: random batches of entries, rewrites by new leaders,
 * term and vote changes, commit-only updates without a sync, compactions
 * and snapshot installs, with the machine dying after a random number of
 * changes (in the middle of any of them), writes failing with ENOSPC or EIO
 * and syncs with EIO. After every failure the node restarts from what the
 * crash left, and:
 *
 *   - it starts: a crash is never taken for corruption;
 *   - the core accepts what storage hands it (raft_new());
 *   - every acknowledged entry, term and vote is there, unless the write
 *     in flight legitimately replaced it; nothing else is, and the
 *     snapshot never goes back.
 *
 * $RAFT_CRASH_SEED is the first seed (default from the clock, printed),
 * $RAFT_CRASH_SEEDS how many (default 1000); a failure prints the seed and
 * the step, and replays with RAFT_CRASH_SEED=seed RAFT_CRASH_SEEDS=1
 * ($RAFT_CRASH_TRACE set: every operation on stderr).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "raft/prng.h"
#include "raft/sim_fs.h"
#include "raft/storage.h"

#define STEPS 400
#define MAX_INDEX 4096
#define DIR "node"

/* What the node holds: acknowledged, or after the operation in flight. */
struct node_state {
	struct raft_hard_state hs;
	struct raft_snapshot_meta snap;
	uint64_t last;
	uint64_t terms[MAX_INDEX];	/* of entries snap.index + 1 .. last */
};

enum op_kind {
	OP_APPEND,
	OP_COMMIT,
	OP_VOTE,
	OP_COMPACT,
	OP_INSTALL,
};

/* The operation in flight: what it may have left behind when it failed. */
struct op {
	enum op_kind kind;
	uint64_t from;			/* first entry written */
	uint64_t to;			/* last entry written */
	uint64_t term;			/* of its entries, and of its hard state */
	struct raft_snapshot_meta snap;	/* compact, install */
};

struct run {
	uint64_t seed;
	int step;
	struct prng prng;
	struct sim_fs *sfs;
	struct wal_options opt;
	struct raft_storage st;
	struct node_state acked;	/* durable for sure */
	struct node_state cur;		/* acked + the operation in flight */
	char err[512];
	bool trace;			/* $RAFT_CRASH_TRACE: operations on stderr */
	uint64_t restarts, ops_failed;
	struct sim_fs_stats fs_stats;
};

static const struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };

static void entry_data(char *buf, size_t len, uint64_t index, uint64_t term)
{
	snprintf(buf, len, "e%llu.%llu", (unsigned long long)index, (unsigned long long)term);
}

static int fail(struct run *rn, const char *fmt, ...)
{
	size_t n = snprintf(rn->err, sizeof(rn->err), "seed %llu step %d: ",
			    (unsigned long long)rn->seed, rn->step);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rn->err + n, sizeof(rn->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t term_at(const struct node_state *ns, uint64_t index)
{
	if (index == ns->snap.index)
		return ns->snap.term;
	if (index <= ns->snap.index || index > ns->last)
		return 0;
	return ns->terms[index - ns->snap.index - 1];
}

/* Appends entries from..to of 'term' to cur (a rewrite drops the suffix). */
static int do_append(struct run *rn, struct op *op, struct raft_ready *rd)
{
	static struct raft_entry ents[8];
	static char data[8][32];
	uint64_t i;

	for (i = op->from; i <= op->to; i++) {
		struct raft_entry *e = &ents[i - op->from];

		entry_data(data[i - op->from], sizeof(data[0]), i, op->term);
		*e = (struct raft_entry){ .term = op->term, .index = i,
					  .len = strlen(data[i - op->from]),
					  .data = data[i - op->from] };
	}
	rd->entries = ents;
	rd->n_entries = op->to - op->from + 1;
	for (i = op->from; i <= op->to; i++)
		rn->cur.terms[i - rn->cur.snap.index - 1] = op->term;
	rn->cur.last = op->to;
	return raft_storage_save(&rn->st, rd);
}

/* Picks and runs one operation; cur becomes what success would leave. */
static int run_op(struct run *rn, struct op *op)
{
	struct node_state *c = &rn->cur;
	struct raft_ready rd = { .must_sync = true };
	static struct raft_snapshot snap;
	static char snap_data[32];
	uint64_t pick = prng_below(&rn->prng, 100);

	memset(op, 0, sizeof(*op));
	if (c->hs.term == 0)
		pick = 99;	/* a vote first */
	else if (c->last + 16 >= c->snap.index + MAX_INDEX)
		pick = 70;	/* compact before the log is full */
	if (pick < 45) {
		op->kind = OP_APPEND;
		op->term = c->hs.term;
		op->from = c->last + 1;
		if (pick < 10 && c->last > c->hs.commit && c->last > c->snap.index) {
			/* A new leader overwrites an uncommitted suffix. */
			uint64_t low = c->hs.commit > c->snap.index ? c->hs.commit : c->snap.index;

			op->term = ++c->hs.term;
			c->hs.vote = 1 + prng_below(&rn->prng, 3);
			op->from = low + 1 + prng_below(&rn->prng, c->last - low);
		}
		op->to = op->from + prng_below(&rn->prng, 6);
		rd.hs_changed = true;
		rd.hs = c->hs;
		return do_append(rn, op, &rd);
	}
	if (pick < 60 && c->last > c->hs.commit) {
		op->kind = OP_COMMIT;
		c->hs.commit += 1 + prng_below(&rn->prng, c->last - c->hs.commit);
		rd.hs_changed = true;
		rd.hs = c->hs;
		rd.must_sync = false;
		return raft_storage_save(&rn->st, &rd);
	}
	if (pick < 75 && c->last > c->snap.index) {
		uint64_t upto = c->hs.commit > c->snap.index ? c->hs.commit : c->last;

		op->kind = OP_COMPACT;
		op->snap.index = c->snap.index + 1 + prng_below(&rn->prng, upto - c->snap.index);
		op->snap.term = term_at(c, op->snap.index);
		op->snap.conf = conf;
		snprintf(snap_data, sizeof(snap_data), "s%llu", (unsigned long long)op->snap.index);
		snap = (struct raft_snapshot){ .meta = op->snap, .data = snap_data,
					       .len = strlen(snap_data) };
		memmove(c->terms, c->terms + (op->snap.index - c->snap.index),
			(c->last - op->snap.index) * sizeof(c->terms[0]));
		c->snap = op->snap;
		return raft_storage_compact(&rn->st, &snap);
	}
	if (pick < 85) {
		/* A leader of a newer term sends its snapshot, then entries. */
		op->kind = OP_INSTALL;
		op->term = ++c->hs.term;
		c->hs.vote = 0;
		op->snap.index = c->snap.index + 1 +
				 prng_below(&rn->prng, c->last - c->snap.index + 8);
		op->snap.term = op->snap.index <= c->last && prng_below(&rn->prng, 2) ?
				term_at(c, op->snap.index) : op->term;
		op->snap.conf = conf;
		snprintf(snap_data, sizeof(snap_data), "s%llu", (unsigned long long)op->snap.index);
		snap = (struct raft_snapshot){ .meta = op->snap, .data = snap_data,
					       .len = strlen(snap_data) };
		c->snap = op->snap;
		c->last = c->snap.index;
		c->hs.commit = c->snap.index;
		rd.snapshot = &snap;
		rd.hs_changed = true;
		rd.hs = c->hs;
		op->from = c->last + 1;
		op->to = op->from + prng_below(&rn->prng, 4) - 1;
		if (op->to < op->from)
			return raft_storage_save(&rn->st, &rd);
		return do_append(rn, op, &rd);
	}
	op->kind = OP_VOTE;
	op->term = ++c->hs.term;
	c->hs.vote = 1 + prng_below(&rn->prng, 3);
	rd.hs_changed = true;
	rd.hs = c->hs;
	return raft_storage_save(&rn->st, &rd);
}

static bool snap_eq(const struct raft_snapshot_meta *a, const struct raft_snapshot_meta *b)
{
	return a->index == b->index && a->term == b->term;
}

/* What a restart found, against what was acknowledged and what was in flight. */
static int check_boot(struct run *rn, const struct op *op, const struct raft_boot *boot)
{
	const struct node_state *a = &rn->acked;
	bool snap_new = op && (op->kind == OP_COMPACT || op->kind == OP_INSTALL) &&
			snap_eq(&boot->snap, &op->snap);
	uint64_t need = a->last, i;
	struct raft_config cfg;
	struct raft *r;
	int err;

	raft_config_default(&cfg, 1, 1);
	err = raft_new(&r, &cfg, boot);
	if (err)
		return fail(rn, "the core refuses the boot state: %s", strerror(-err));
	raft_free(r);
	if (boot->hs.term < a->hs.term)
		return fail(rn, "term went back from %llu to %llu",
			    (unsigned long long)a->hs.term, (unsigned long long)boot->hs.term);
	if (boot->hs.term == a->hs.term && a->hs.vote && boot->hs.vote != a->hs.vote)
		return fail(rn, "vote in term %llu lost", (unsigned long long)a->hs.term);
	if (!snap_eq(&boot->snap, &a->snap) && !snap_new)
		return fail(rn, "snapshot (%llu, %llu) is neither acknowledged nor in flight",
			    (unsigned long long)boot->snap.index,
			    (unsigned long long)boot->snap.term);
	for (i = 0; i < boot->n_entries; i++) {
		const struct raft_entry *e = &boot->entries[i];
		bool written = op && op->from <= e->index && e->index <= op->to &&
			       e->term == op->term;
		char want[32];

		entry_data(want, sizeof(want), e->index, e->term);
		if (e->len != strlen(want) || memcmp(e->data, want, e->len))
			return fail(rn, "entry %llu holds bytes never written there",
				    (unsigned long long)e->index);
		if (!written && e->term != term_at(a, e->index))
			return fail(rn, "entry %llu of term %llu was never acknowledged",
				    (unsigned long long)e->index, (unsigned long long)e->term);
	}
	/* Acknowledged entries stay, unless the operation in flight replaced them. */
	if (op && op->kind == OP_APPEND && op->from <= need)
		need = op->from - 1;
	if (snap_new && op->kind == OP_INSTALL)
		need = 0;
	for (i = boot->snap.index + 1; i <= need; i++) {
		if (i > boot->snap.index + boot->n_entries ||
		    boot->entries[i - boot->snap.index - 1].term != term_at(a, i))
			return fail(rn, "acknowledged entry %llu lost", (unsigned long long)i);
	}
	return 0;
}

/* Restarts the node from what the file system holds; op: what was in flight. */
static int restart(struct run *rn, const struct op *op, bool crash)
{
	struct raft_boot boot;
	struct node_state *c = &rn->cur;
	size_t i;
	int err;

	raft_storage_close(&rn->st);
	if (crash)
		sim_fs_crash(rn->sfs);
	else
		sim_fs_restart(rn->sfs);
	rn->restarts++;
	err = raft_storage_open(&rn->st, DIR, &rn->opt, &boot);
	if (err)
		return fail(rn, "restart refused (%s): %s", strerror(-err), rn->st.error);
	if (rn->trace)
		fprintf(stderr, "# %s: term %llu vote %llu, snapshot (%llu, %llu), last %llu\n",
			crash ? "crash" : "restart", (unsigned long long)boot.hs.term,
			(unsigned long long)boot.hs.vote, (unsigned long long)boot.snap.index,
			(unsigned long long)boot.snap.term,
			(unsigned long long)(boot.snap.index + boot.n_entries));
	if (check_boot(rn, op, &boot))
		return -1;
	memset(c, 0, sizeof(*c));
	c->hs = boot.hs;
	c->snap = boot.snap;
	c->last = boot.snap.index + boot.n_entries;
	for (i = 0; i < boot.n_entries; i++)
		c->terms[i] = boot.entries[i].term;
	if (c->hs.commit > c->last)
		c->hs.commit = c->last;
	if (c->hs.commit < c->snap.index)
		c->hs.commit = c->snap.index;
	rn->acked = *c;
	return 0;
}

static const char *const op_names[] = { "append", "commit", "vote", "compact", "install" };

static int run_seed(struct run *rn, uint64_t seed)
{
	struct raft_boot boot;
	int err;

	memset(rn, 0, sizeof(*rn));
	rn->seed = seed;
	rn->trace = getenv("RAFT_CRASH_TRACE");
	prng_seed(&rn->prng, seed);
	rn->sfs = sim_fs_new(seed ^ 0x5eed);
	rn->opt = (struct wal_options){
		.fs = sim_fs_ops(rn->sfs),
		.segment_bytes = 128 + prng_below(&rn->prng, 2048),
	};
	err = raft_storage_bootstrap(DIR, &conf, &rn->opt) ?:
	      raft_storage_open(&rn->st, DIR, &rn->opt, &boot);
	if (err)
		return fail(rn, "bootstrap: %s", strerror(-err));
	for (rn->step = 0; rn->step < STEPS; rn->step++) {
		struct sim_fs_faults faults = { .changes_until_death = -1 };
		struct op op;

		if (prng_chance(&rn->prng, 150))
			faults.changes_until_death = prng_below(&rn->prng, 16);
		if (prng_chance(&rn->prng, 100)) {
			faults.write_error_permille = 100;
			faults.sync_error_permille = 100;
		}
		sim_fs_set_faults(rn->sfs, &faults);
		err = run_op(rn, &op);
		if (rn->trace)
			fprintf(stderr, "# step %d: %s %llu..%llu term %llu snap (%llu, %llu)%s%s\n",
				rn->step, op_names[op.kind], (unsigned long long)op.from,
				(unsigned long long)op.to, (unsigned long long)op.term,
				(unsigned long long)op.snap.index, (unsigned long long)op.snap.term,
				err ? ": " : "", err ? strerror(-err) : "");
		if (err) {
			rn->ops_failed++;
			/* Dead, or the process stops after the error (maybe a crash too). */
			if (restart(rn, &op, sim_fs_dead(rn->sfs) || prng_below(&rn->prng, 2)))
				goto out;
			continue;
		}
		if (op.kind != OP_COMMIT)
			rn->acked = rn->cur;
		else
			rn->acked.hs.commit = rn->cur.hs.commit;
		if (prng_chance(&rn->prng, 30)) {
			if (restart(rn, NULL, true))
				goto out;
		}
	}
	err = 0;
out:
	raft_storage_close(&rn->st);
	sim_fs_stats(rn->sfs, &rn->fs_stats);
	sim_fs_free(rn->sfs);
	return rn->err[0] ? -1 : err;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

TEST(crash_anywhere_and_restart)
{
	struct timespec ts;
	uint64_t first, n, seed;
	uint64_t restarts = 0, failed = 0, torn = 0, lost = 0, crashes = 0;
	static struct run rn;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)ts.tv_sec * 1000003 ^ ts.tv_nsec) % 1000000000;
	first = env_u64("RAFT_CRASH_SEED", seed);
	n = env_u64("RAFT_CRASH_SEEDS", 1000);
	TH_LOG("seeds %llu..%llu (RAFT_CRASH_SEED=%llu RAFT_CRASH_SEEDS=%llu)",
	       (unsigned long long)first, (unsigned long long)(first + n - 1),
	       (unsigned long long)first, (unsigned long long)n);
	for (seed = first; seed < first + n; seed++) {
		if (run_seed(&rn, seed)) {
			TH_LOG("%s", rn.err);
			TH_LOG("replay: RAFT_CRASH_SEED=%llu RAFT_CRASH_SEEDS=1 %s",
			       (unsigned long long)seed, "build/selftests/raft/crash_test");
			ASSERT_EQ(0, 1);
		}
		restarts += rn.restarts;
		failed += rn.ops_failed;
		crashes += rn.fs_stats.crashes;
		torn += rn.fs_stats.torn_writes;
		lost += rn.fs_stats.lost_writes;
	}
	TH_LOG("%llu restarts (%llu crashes), %llu operations failed, %llu writes torn, %llu lost",
	       (unsigned long long)restarts, (unsigned long long)crashes,
	       (unsigned long long)failed, (unsigned long long)torn, (unsigned long long)lost);
}

TEST_HARNESS_MAIN
