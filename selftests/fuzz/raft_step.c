// SPDX-License-Identifier: GPL-2.0
/*
 * What the Raft core accepts from peers. There is no wire codec yet, so
 * the input is a script: each operation a byte, then its operands. Most
 * are raft_step() with a message built from the bytes (any type, sender,
 * term, indexes, entries, snapshot chunk, within what a decoder could
 * produce: counts within bounds and pointers that match lengths); the
 * others are what the host does between messages (ticks, proposals,
 * reads, compaction, and persisting and applying each ready, as a correct
 * host would). Terms and indexes are mostly drawn near the node's own so
 * that messages get past the first checks.
 *
 * Peers are not trusted to be correct, only to be peers: after every
 * operation the checks are the node's own bookkeeping (indexes in order,
 * term and commit never going back, a ready that is well formed), which
 * no message may break.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/conf.h"
#include "raft/raft.h"

#define SELF 1
#define MAX_ENTRIES 4
#define DATA_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	const uint8_t *p;
	size_t left;
};

static uint8_t u8(struct script *s)
{
	if (!s->left)
		return 0;
	s->left--;
	return *s->p++;
}

static uint64_t u64(struct script *s)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | u8(s);
	return v;
}

/* Near base (-8..+7), now and then anything at all. */
static uint64_t around(struct script *s, uint64_t base)
{
	uint8_t b = u8(s);
	int d = (int)(b & 15) - 8;

	if (b >= 0xf8)
		return u64(s);
	if (d < 0 && (uint64_t)-d > base)
		return 0;
	return base + d;
}

/* Bytes for entry and snapshot data: the rest of the script, if short. */
static void *bytes(struct script *s, uint32_t *len)
{
	static uint8_t junk[DATA_MAX];
	uint32_t n = u8(s) % DATA_MAX, i;

	for (i = 0; i < n; i++)
		junk[i] = u8(s);
	*len = n;
	return junk;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "raft_step: %s\n", what);
		abort();
	}
}

static void some_conf(struct script *s, struct raft_conf *c)
{
	uint32_t i;

	memset(c, 0, sizeof(*c));
	c->n_voters = u8(s) % (RAFT_MAX_NODES + 1);
	c->n_learners = u8(s) % (RAFT_MAX_NODES + 1 - c->n_voters);
	for (i = 0; i < c->n_voters; i++)
		c->voters[i] = u8(s) % 8;
	for (i = 0; i < c->n_learners; i++)
		c->learners[i] = u8(s) % 8;
}

static void step(struct raft *r, struct script *s, const struct raft_status *st)
{
	static struct raft_entry ents[MAX_ENTRIES];
	static uint8_t conf_buf[MAX_ENTRIES][CONF_ENCODED_MAX];
	struct raft_msg m = { 0 };
	uint32_t i;

	m.type = u8(s) % (RAFT_MSG_TYPE_MAX + 1);
	m.from = u8(s) % 6;	/* 0 and SELF are refused; 4 a learner, 5 a stranger */
	m.to = u8(s) < 0xf0 ? SELF : 2;
	m.term = around(s, st->term);
	m.index = around(s, st->last_index);
	m.log_term = around(s, st->term);
	m.commit = around(s, st->commit);
	m.reject = u8(s) & 1;
	m.reject_hint = around(s, st->last_index);
	m.context = u8(s) % 4;
	m.n_entries = u8(s) % (MAX_ENTRIES + 1);
	m.entries = m.n_entries ? ents : NULL;
	for (i = 0; i < m.n_entries; i++) {
		struct raft_entry *e = &ents[i];

		e->index = m.index + 1 + i;
		e->term = m.term - (m.term ? u8(s) % 2 : 0);
		e->type = u8(s) % 3;	/* 2: neither kind */
		if (e->type == RAFT_ENTRY_CONF && u8(s) & 1) {
			struct raft_conf c;

			some_conf(s, &c);
			e->len = conf_encode(&c, conf_buf[i]);
			e->data = conf_buf[i];
		} else {
			e->data = bytes(s, &e->len);
		}
	}
	if (m.type == RAFT_MSG_SNAPSHOT) {
		m.snap.index = around(s, st->commit);
		m.snap.term = around(s, st->term);
		some_conf(s, &m.snap.conf);
		m.snap_total = u8(s) % 128;
		m.snap_offset = u8(s) % (m.snap_total + 1);
		m.snap_data = bytes(s, &m.snap_len);
		if (m.snap_len > m.snap_total - m.snap_offset)
			m.snap_len = m.snap_total - m.snap_offset;
	}
	raft_step(r, &m);
}

/* A correct host: persist everything, then apply everything. */
static void ready(struct raft *r)
{
	struct raft_ready rd;
	size_t i;

	if (!raft_has_ready(r))
		return;
	raft_ready(r, &rd);
	for (i = 1; i < rd.n_entries; i++)
		check(rd.entries[i].index == rd.entries[i - 1].index + 1, "ready entries not in order");
	for (i = 1; i < rd.n_committed; i++)
		check(rd.committed[i].index == rd.committed[i - 1].index + 1,
		      "committed entries not in order");
	for (i = 0; i < rd.n_msgs; i++)
		check(rd.msgs[i].from == SELF && rd.msgs[i].to != SELF, "message not from us");
	for (i = 0; i < rd.n_msgs_after_persist; i++)
		check(rd.msgs_after_persist[i].from == SELF && rd.msgs_after_persist[i].to != SELF,
		      "message not from us");
	raft_advance(r, &rd);
}

static void check_status(const struct raft *r, struct raft_status *prev)
{
	struct raft_status st;
	uint64_t term;

	raft_status(r, &st);
	check(st.term >= prev->term, "term went back");
	check(st.commit >= prev->commit, "commit went back");
	check(st.snap_index <= st.applied && st.applied <= st.commit, "applied out of range");
	check(st.commit <= st.last_index, "commit past the log");
	check(st.stable <= st.last_index, "stable past the log");
	check(st.first_index == st.snap_index + 1, "first index");
	check(st.conf.n_voters <= RAFT_MAX_NODES && st.conf.n_learners <= RAFT_MAX_NODES,
	      "configuration too large");
	if (st.role == RAFT_LEADER)
		check(st.lead == SELF, "leader that does not know it");
	if (st.role == RAFT_CANDIDATE)
		check(st.vote == SELF, "candidate that did not vote for itself");
	if (st.last_index > st.snap_index)
		check(!raft_term_at(r, st.last_index, &term), "last entry has no term");
	*prev = st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t entry_data[] = "x";
	struct script s = { data, size };
	struct raft_entry boot_ents[3] = {
		{ .term = 1, .index = 3, .len = 1, .data = (void *)entry_data },
		{ .term = 1, .index = 4, .len = 1, .data = (void *)entry_data },
		{ .term = 2, .index = 5, .len = 1, .data = (void *)entry_data },
	};
	struct raft_boot boot = {
		.hs = { .term = 2, .vote = 2, .commit = 4 },
		.snap = { .index = 2, .term = 1,
			  .conf = { .n_voters = 3, .voters = { 1, 2, 3 },
				    .n_learners = 1, .learners = { 4 } } },
		.entries = boot_ents,
		.n_entries = 3,
		.applied = 2,
	};
	struct raft_config cfg;
	struct raft_status st;
	struct raft *r;
	uint8_t flags = u8(&s);

	raft_config_default(&cfg, SELF, 1);
	cfg.pre_vote = flags & 1;
	cfg.check_quorum = flags & 2;
	/* Small limits, to reach chunking and the bounds quickly. */
	cfg.max_msg_bytes = 64;
	cfg.max_inflight_msgs = 4;
	cfg.max_entry_bytes = 48;
	cfg.max_uncommitted_bytes = 256;
	cfg.snapshot_chunk_bytes = 16;
	cfg.max_snapshot_bytes = 4096;
	if (raft_new(&r, &cfg, &boot))
		return 0;
	raft_status(r, &st);
	while (s.left) {
		uint8_t op = u8(&s);
		uint32_t len;
		void *p;

		switch (op % 10) {
		case 0:
			for (len = u8(&s) % 16 + 1; len; len--)
				raft_tick(r);
			break;
		case 1:
		case 2:
		case 3:
			step(r, &s, &st);
			break;
		case 4:
			ready(r);
			break;
		case 5: {
			struct raft_buf buf;

			p = bytes(&s, &len);
			buf.data = p;
			buf.len = len;
			raft_propose(r, &buf, 1, NULL);
			break;
		}
		case 6:
			raft_campaign(r);
			break;
		case 7:
			if (op & 0x80)
				raft_transfer_leader(r, u8(&s) % 6);
			else
				raft_read_index(r, u8(&s));
			break;
		case 8:
			p = bytes(&s, &len);
			raft_compact(r, around(&s, st.applied), p, len);
			break;
		case 9:
			raft_propose_conf(r, u8(&s) % 4, u8(&s) % 7, "192.0.2.1:4000", NULL);
			break;
		}
		check_status(r, &st);
	}
	ready(r);
	check_status(r, &st);
	raft_free(r);
	return 0;
}
