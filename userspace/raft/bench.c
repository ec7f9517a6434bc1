// SPDX-License-Identifier: GPL-2.0
/*
 * raft-bench: commits per second of a three-node cluster in one process,
 * with no network latency, each node writing its own WAL with real
 * fdatasync and group commit (one sync per ready, however many entries it
 * holds).
 *
 *   raft-bench [--commits N] [--entry BYTES] [--dir DIR]
 *   raft-bench --mem --commits N     same cluster, no storage: a fixed
 *                                    amount of work for callgrind
 *
 * Nodes run one after the other in one thread, so the three fsyncs of a
 * round are serial; the leader keeps up to --window entries uncommitted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "raft/raft.h"
#include "raft/wal.h"

#define NODES 3

struct bench_node {
	struct raft *r;
	struct wal *wal;
	char dir[4096];
	uint64_t applied;
};

struct queue {
	struct raft_msg *m;
	size_t n;
	size_t cap;
};

static struct bench_node nodes[NODES + 1];
static uint64_t syncs, synced_entries;

static void push(struct queue *q, const struct raft_msg *m)
{
	struct raft_msg *c;
	size_t bytes = 0, i;
	uint8_t *p;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->m = realloc(q->m, q->cap * sizeof(*q->m));
	}
	c = &q->m[q->n++];
	*c = *m;
	c->snap_data = NULL;
	c->snap_len = 0;
	if (!m->n_entries)
		return;
	for (i = 0; i < m->n_entries; i++)
		bytes += m->entries[i].len;
	/* One block per message: the entries, then their data. */
	c->entries = malloc(m->n_entries * sizeof(*c->entries) + bytes);
	p = (uint8_t *)(c->entries + m->n_entries);
	for (i = 0; i < m->n_entries; i++) {
		c->entries[i] = m->entries[i];
		c->entries[i].data = p;
		memcpy(p, m->entries[i].data, m->entries[i].len);
		p += m->entries[i].len;
	}
}

static int process(struct bench_node *n, struct queue *q)
{
	struct raft_ready rd;
	size_t i;
	int err;

	while (raft_has_ready(n->r)) {
		raft_ready(n->r, &rd);
		for (i = 0; i < rd.n_msgs; i++)
			push(q, &rd.msgs[i]);
		if (n->wal && (rd.n_entries || rd.hs_changed)) {
			err = wal_append(n->wal, rd.entries, rd.n_entries,
					 rd.hs_changed ? &rd.hs : NULL, rd.must_sync);
			if (err)
				return err;
			if (rd.must_sync) {
				syncs++;
				synced_entries += rd.n_entries;
			}
		}
		for (i = 0; i < rd.n_msgs_after_persist; i++)
			push(q, &rd.msgs_after_persist[i]);
		if (rd.n_committed)
			n->applied = rd.committed[rd.n_committed - 1].index;
		raft_advance(n->r, &rd);
	}
	return 0;
}

static int deliver(struct queue *q)
{
	struct queue batch = *q;
	size_t i;
	int err = 0;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < batch.n; i++) {
		if (!err)
			err = raft_step(nodes[batch.m[i].to].r, &batch.m[i]);
		free(batch.m[i].entries);
	}
	free(batch.m);
	return err;
}

static int round_trip(struct queue *q)
{
	int i, err;

	for (i = 1; i <= NODES; i++) {
		err = process(&nodes[i], q);
		if (err)
			return err;
	}
	return deliver(q);
}

static void remove_tree(const char *dir)
{
	char path[8192];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path))
			remove_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t commits = 200000, window = 4096, entry_bytes = 64, start_index;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "build";
	struct raft_conf conf = { .n_voters = NODES, .voters = { 1, 2, 3 } };
	struct queue q = { 0 };
	char top[2048];
	bool mem = false;
	uint8_t *payload;
	struct raft_buf bufs[256];
	double t0, dt;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mem")) {
			mem = true;
		} else if (!strcmp(argv[i], "--commits") && i + 1 < argc) {
			commits = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--entry") && i + 1 < argc) {
			entry_bytes = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
			window = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			base = argv[++i];
		} else {
			fprintf(stderr, "usage: raft-bench [--mem] [--commits N] [--entry BYTES] "
					"[--window N] [--dir DIR]\n");
			return 2;
		}
	}
	payload = calloc(1, entry_bytes);
	for (i = 0; i < 256; i++)
		bufs[i] = (struct raft_buf){ payload, entry_bytes };
	snprintf(top, sizeof(top), "%s/raft-bench-XXXXXX", base);
	if (!mem && !mkdtemp(top)) {
		fprintf(stderr, "raft-bench: %s: %s\n", top, strerror(errno));
		return 1;
	}
	for (i = 1; i <= NODES; i++) {
		struct raft_config cfg;
		struct raft_boot boot = { .snap = { .conf = conf } };
		struct wal_recovery rec;

		raft_config_default(&cfg, i, i);
		cfg.max_inflight_msgs = 256;
		cfg.max_msg_bytes = 1 << 20;
		if (raft_new(&nodes[i].r, &cfg, &boot))
			return 1;
		if (mem)
			continue;
		snprintf(nodes[i].dir, sizeof(nodes[i].dir), "%s/node%d", top, i);
		err = wal_open(&nodes[i].wal, nodes[i].dir, NULL, &rec);
		wal_recovery_free(&rec);
		if (err) {
			fprintf(stderr, "raft-bench: wal %s: %s\n", nodes[i].dir, strerror(-err));
			return 1;
		}
	}
	raft_campaign(nodes[1].r);
	while (!nodes[1].applied)
		if (round_trip(&q))
			return 1;
	start_index = nodes[1].applied;
	syncs = synced_entries = 0;
	t0 = now_s();
	while (nodes[1].applied - start_index < commits) {
		struct raft_status st;

		raft_status(nodes[1].r, &st);
		while (st.last_index - st.commit < window) {
			err = raft_propose(nodes[1].r, bufs, 256, NULL);
			if (err) {
				fprintf(stderr, "raft-bench: propose: %s\n", strerror(-err));
				return 1;
			}
			raft_status(nodes[1].r, &st);
		}
		err = round_trip(&q);
		if (err) {
			fprintf(stderr, "raft-bench: %s\n", strerror(-err));
			return 1;
		}
	}
	dt = now_s() - t0;
	commits = nodes[1].applied - start_index;
	if (mem) {
		printf("raft-bench --mem: %llu commits, 3 nodes in memory, %llu-byte entries\n",
		       (unsigned long long)commits, (unsigned long long)entry_bytes);
	} else {
		printf("raft-bench: 3 nodes, one WAL each (fdatasync, group commit), %llu-byte "
		       "entries, window %llu\n", (unsigned long long)entry_bytes,
		       (unsigned long long)window);
		printf("%llu commits in %.2f s: %.0f commits/s; %llu syncs, %.1f entries per "
		       "sync, %.0f us per sync round\n", (unsigned long long)commits, dt,
		       commits / dt, (unsigned long long)syncs,
		       syncs ? (double)synced_entries / syncs : 0.0,
		       syncs ? dt * 1e6 / syncs * NODES : 0.0);
	}
	for (i = 1; i <= NODES; i++) {
		wal_close(nodes[i].wal);
		raft_free(nodes[i].r);
	}
	if (!mem)
		remove_tree(top);
	free(payload);
	return 0;
}
