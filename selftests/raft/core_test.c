// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the pure pieces under the Raft core: quorum arithmetic,
 * per-follower progress and its in-flight window, configuration changes and
 * their encoding, the in-memory log; and the core's ready contract and input
 * validation.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "raft/conf.h"
#include "raft/log.h"
#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/raft.h"

TEST(majority_index)
{
	uint64_t three[] = { 5, 2, 9 };
	uint64_t four[] = { 7, 7, 1, 3 };
	uint64_t one[] = { 4 };
	uint64_t five[] = { 1, 2, 3, 4, 5 };

	EXPECT_EQ(5, quorum_majority_index(three, 3));
	/* Four voters need three acknowledgements: the third largest. */
	EXPECT_EQ(3, quorum_majority_index(four, 4));
	EXPECT_EQ(4, quorum_majority_index(one, 1));
	EXPECT_EQ(3, quorum_majority_index(five, 5));
	EXPECT_EQ(UINT64_MAX, quorum_majority_index(NULL, 0));
}

TEST(joint_index_is_the_smaller_majority)
{
	uint64_t in[] = { 10, 10, 2 };
	uint64_t out[] = { 4, 3, 9 };

	EXPECT_EQ(4, quorum_joint_index(in, 3, out, 3));
	/* An empty outgoing half defers to the incoming majority. */
	EXPECT_EQ(10, quorum_joint_index(in, 3, NULL, 0));
	EXPECT_EQ(0, quorum_joint_index(NULL, 0, NULL, 0));
}

TEST(majority_vote)
{
	EXPECT_EQ(QUORUM_PENDING, quorum_majority_vote(3, 1, 0));
	EXPECT_EQ(QUORUM_WON, quorum_majority_vote(3, 2, 1));
	EXPECT_EQ(QUORUM_LOST, quorum_majority_vote(3, 1, 2));
	EXPECT_EQ(QUORUM_PENDING, quorum_majority_vote(4, 2, 1));
	EXPECT_EQ(QUORUM_LOST, quorum_majority_vote(4, 2, 2));
	EXPECT_EQ(QUORUM_WON, quorum_majority_vote(1, 1, 0));
	EXPECT_EQ(QUORUM_WON, quorum_majority_vote(0, 0, 0));
}

TEST(joint_vote_needs_both_halves)
{
	EXPECT_EQ(QUORUM_PENDING, quorum_joint_vote(3, 2, 0, 3, 1, 0));
	EXPECT_EQ(QUORUM_WON, quorum_joint_vote(3, 2, 0, 3, 2, 0));
	EXPECT_EQ(QUORUM_LOST, quorum_joint_vote(3, 3, 0, 3, 0, 2));
	EXPECT_EQ(QUORUM_WON, quorum_joint_vote(3, 2, 1, 0, 0, 0));
}

TEST(inflights_window)
{
	struct inflights in;
	int i;

	inflights_init(&in, 3, 0);
	for (i = 1; i <= 3; i++) {
		EXPECT_FALSE(inflights_full(&in));
		inflights_add(&in, i * 10, 100);
	}
	EXPECT_TRUE(inflights_full(&in));
	inflights_free_to(&in, 15);
	EXPECT_EQ(2, in.count);
	EXPECT_FALSE(inflights_full(&in));
	inflights_free_to(&in, 30);
	EXPECT_EQ(0, in.count);
	EXPECT_EQ(0, in.bytes);

	inflights_init(&in, 100, 250);
	inflights_add(&in, 1, 100);
	inflights_add(&in, 2, 100);
	EXPECT_FALSE(inflights_full(&in));
	inflights_add(&in, 3, 100);
	EXPECT_TRUE(inflights_full(&in));	/* byte budget */
	inflights_free_to(&in, 1);
	EXPECT_FALSE(inflights_full(&in));
}

TEST(inflights_wrap_around)
{
	struct inflights in;
	uint64_t i;

	inflights_init(&in, INFLIGHTS_MAX, 0);
	for (i = 1; i <= 10 * INFLIGHTS_MAX; i++) {
		inflights_add(&in, i, 1);
		if (i > 5)
			inflights_free_to(&in, i - 5);
		ASSERT_EQ(i > 5 ? 5 : i, in.count);
	}
}

TEST(progress_probe_then_replicate)
{
	struct progress pr;

	progress_init(&pr, 2, 11, 4, 0);
	EXPECT_EQ(PROGRESS_PROBE, pr.state);
	EXPECT_FALSE(progress_is_paused(&pr));
	progress_sent(&pr, 11, 0, true);
	/* Probe: one message until an answer. */
	EXPECT_TRUE(progress_is_paused(&pr));
	EXPECT_EQ(11, pr.next);

	/* Rejection of index 10 with the follower at 6: retry from 7. */
	EXPECT_TRUE(progress_maybe_decrease(&pr, 10, 6));
	EXPECT_EQ(7, pr.next);
	EXPECT_FALSE(progress_is_paused(&pr));
	/* A stale rejection (not of next-1) is ignored. */
	EXPECT_FALSE(progress_maybe_decrease(&pr, 10, 3));
	EXPECT_EQ(7, pr.next);

	EXPECT_TRUE(progress_maybe_update(&pr, 8));
	progress_become_replicate(&pr);
	EXPECT_EQ(9, pr.next);
	progress_sent(&pr, 12, 10, true);
	progress_sent(&pr, 15, 10, true);
	EXPECT_EQ(16, pr.next);
	EXPECT_EQ(2, pr.inflights.count);
	EXPECT_FALSE(progress_maybe_update(&pr, 8));
	EXPECT_TRUE(progress_maybe_update(&pr, 12));
	/* Replicate: only a rejection above match counts. */
	EXPECT_FALSE(progress_maybe_decrease(&pr, 12, 0));
	EXPECT_TRUE(progress_maybe_decrease(&pr, 14, 0));
	EXPECT_EQ(13, pr.next);
}

TEST(progress_window_pauses_replication)
{
	struct progress pr;
	int i;

	progress_init(&pr, 2, 1, 2, 0);
	progress_become_replicate(&pr);
	for (i = 1; i <= 2; i++) {
		EXPECT_FALSE(progress_is_paused(&pr));
		progress_sent(&pr, i, 1, true);
	}
	EXPECT_TRUE(progress_is_paused(&pr));
	progress_maybe_update(&pr, 1);
	inflights_free_to(&pr.inflights, 1);
	EXPECT_FALSE(progress_is_paused(&pr));
}

TEST(progress_snapshot_resumes_after_it)
{
	struct progress pr;

	progress_init(&pr, 3, 5, 4, 0);
	progress_become_snapshot(&pr, 40);
	EXPECT_TRUE(progress_is_paused(&pr));
	progress_maybe_update(&pr, 40);
	progress_become_probe(&pr);
	EXPECT_EQ(41, pr.next);
	EXPECT_FALSE(progress_is_paused(&pr));
}

TEST(conf_single_server_changes)
{
	struct raft_conf c = { .n_voters = 3, .voters = { 1, 2, 3 } }, n;

	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_ADD_LEARNER, 4, NULL, &n));
	EXPECT_TRUE(conf_is_learner(&n, 4));
	EXPECT_FALSE(conf_is_voter(&n, 4));
	c = n;
	EXPECT_EQ(-EEXIST, conf_change(&c, RAFT_CONF_ADD_LEARNER, 4, NULL, &n));
	EXPECT_EQ(-EEXIST, conf_change(&c, RAFT_CONF_ADD_LEARNER, 2, NULL, &n));
	EXPECT_EQ(-ENOENT, conf_change(&c, RAFT_CONF_PROMOTE, 9, NULL, &n));
	EXPECT_EQ(-EEXIST, conf_change(&c, RAFT_CONF_PROMOTE, 2, NULL, &n));
	EXPECT_EQ(-EINVAL, conf_change(&c, RAFT_CONF_ADD_LEARNER, 0, NULL, &n));
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_PROMOTE, 4, NULL, &n));
	EXPECT_TRUE(conf_is_voter(&n, 4));
	EXPECT_EQ(4, n.n_voters);
	EXPECT_EQ(0, n.n_learners);
	c = n;
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_REMOVE, 2, NULL, &n));
	EXPECT_FALSE(conf_is_voter(&n, 2));
	EXPECT_EQ(3, n.n_voters);
	EXPECT_EQ(-ENOENT, conf_change(&n, RAFT_CONF_REMOVE, 2, NULL, &c));

	c = (struct raft_conf){ .n_voters = 1, .voters = { 7 } };
	EXPECT_EQ(-EINVAL, conf_change(&c, RAFT_CONF_REMOVE, 7, NULL, &n));
}

TEST(conf_encoding_round_trips_and_rejects_garbage)
{
	struct raft_conf c = { .n_voters = 2, .voters = { 1, 1ULL << 40 },
			       .n_learners = 1, .learners = { 9 } }, d;
	uint8_t buf[CONF_ENCODED_MAX];
	size_t len = conf_encode(&c, buf);

	EXPECT_EQ(8 + 3 * 8 + 4, len);
	ASSERT_EQ(0, conf_decode(buf, len, &d));
	EXPECT_TRUE(conf_equal(&c, &d));
	EXPECT_EQ(-EINVAL, conf_decode(buf, len - 1, &d));
	EXPECT_EQ(-EINVAL, conf_decode(buf, 4, &d));
	/* Written before addresses existed: the ids alone. */
	ASSERT_EQ(0, conf_decode(buf, len - 4, &d));
	EXPECT_EQ(0, d.n_addrs);
	buf[0] = 200;
	EXPECT_EQ(-EINVAL, conf_decode(buf, len, &d));
}

TEST(conf_addresses_follow_changes_and_round_trip)
{
	struct raft_conf c = { .n_voters = 1, .voters = { 1 } }, n, d;
	uint8_t buf[CONF_ENCODED_MAX];
	size_t len;

	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_SET_ADDR, 1, "192.0.2.1:7400", &n));
	c = n;
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_ADD_LEARNER, 2, "192.0.2.2:7400", &n));
	c = n;
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_ADD_LEARNER, 3, NULL, &n));
	c = n;
	EXPECT_EQ(NULL, raft_conf_addr(&c, 3));
	EXPECT_STREQ("192.0.2.2:7400", raft_conf_addr(&c, 2));
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_PROMOTE, 2, NULL, &n));
	EXPECT_STREQ("192.0.2.2:7400", raft_conf_addr(&n, 2));
	c = n;
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_SET_ADDR, 2, "[2001:db8::2]:7400", &n));
	EXPECT_FALSE(conf_equal(&c, &n));
	c = n;
	len = conf_encode(&c, buf);
	ASSERT_EQ(0, conf_decode(buf, len, &d));
	EXPECT_TRUE(conf_equal(&c, &d));
	EXPECT_STREQ("[2001:db8::2]:7400", raft_conf_addr(&d, 2));
	ASSERT_EQ(0, conf_change(&c, RAFT_CONF_REMOVE, 2, NULL, &n));
	EXPECT_EQ(NULL, raft_conf_addr(&n, 2));
	EXPECT_EQ(1, n.n_addrs);
	/* The encoding at its largest fits CONF_ENCODED_MAX. */
	memset(&c, 0, sizeof(c));
	for (c.n_voters = 0; c.n_voters < RAFT_MAX_NODES; c.n_voters++) {
		c.voters[c.n_voters] = c.n_voters + 1;
		c.addrs[c.n_voters].id = c.n_voters + 1;
		memset(c.addrs[c.n_voters].addr, 'x', RAFT_ADDR_MAX - 1);
	}
	c.n_addrs = RAFT_MAX_NODES;
	len = conf_encode(&c, buf);
	EXPECT_GE(CONF_ENCODED_MAX, len);
	ASSERT_EQ(0, conf_decode(buf, len, &d));
	EXPECT_TRUE(conf_equal(&c, &d));
}

static void append_terms(struct raft_log *l, const uint64_t *terms, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct raft_entry e = { .term = terms[i], .index = log_last_index(l) + 1 };

		log_append(l, &e);
	}
}

TEST(log_terms_truncation_compaction)
{
	static const uint64_t terms[] = { 1, 1, 2, 3, 3 };
	struct raft_log l;
	uint64_t t;

	log_init(&l, 0, 0);
	append_terms(&l, terms, 5);
	EXPECT_EQ(5, log_last_index(&l));
	EXPECT_EQ(3, log_last_term(&l));
	ASSERT_EQ(0, log_term(&l, 3, &t));
	EXPECT_EQ(2, t);
	EXPECT_EQ(-ERANGE, log_term(&l, 6, &t));
	{
		struct raft_entry gap = { .term = 3, .index = 9 };

		EXPECT_EQ(-EINVAL, log_append(&l, &gap));
	}
	/* The up-to-date rule compares last term first, then length. */
	EXPECT_TRUE(log_is_up_to_date(&l, 5, 3));
	EXPECT_TRUE(log_is_up_to_date(&l, 1, 4));
	EXPECT_FALSE(log_is_up_to_date(&l, 4, 3));
	EXPECT_FALSE(log_is_up_to_date(&l, 9, 2));
	/* Rejection hint: last index <= 5 whose term <= 2. */
	EXPECT_EQ(3, log_find_conflict_by_term(&l, 5, 2));
	EXPECT_EQ(0, log_find_conflict_by_term(&l, 5, 0));

	l.stable = 5;
	l.persist_next = 6;
	log_truncate_from(&l, 4);
	EXPECT_EQ(3, log_last_index(&l));
	EXPECT_EQ(3, l.stable);
	EXPECT_EQ(4, l.persist_next);

	log_compact(&l, 2);
	EXPECT_EQ(3, log_first_index(&l));
	EXPECT_EQ(-ENOENT, log_term(&l, 1, &t));
	ASSERT_EQ(0, log_term(&l, 2, &t));
	EXPECT_EQ(1, t);
	EXPECT_TRUE(log_matches(&l, 3, 2));
	log_free(&l);
}

/* ---- the ready contract, on the real core ---- */

static struct raft *one_node(uint64_t id, const struct raft_conf *conf)
{
	struct raft_boot boot = { .snap = { .conf = *conf } };
	struct raft_config cfg;
	struct raft *r = NULL;

	raft_config_default(&cfg, id, id);
	if (raft_new(&r, &cfg, &boot))
		abort();
	return r;
}

TEST(single_node_commits_only_what_it_persisted)
{
	struct raft_conf conf = { .n_voters = 1, .voters = { 1 } };
	struct raft *r = one_node(1, &conf);
	struct raft_buf b = { "x", 1 };
	struct raft_status st;
	struct raft_ready rd;

	ASSERT_EQ(0, raft_campaign(r));
	raft_ready(r, &rd);
	/* Elected at once, its empty entry is to be persisted... */
	ASSERT_EQ(1, rd.n_entries);
	EXPECT_TRUE(rd.must_sync);
	EXPECT_EQ(1, rd.hs.vote);
	/* ...and is not committed before the host says it is durable. */
	EXPECT_EQ(0, rd.n_committed);
	raft_status(r, &st);
	EXPECT_EQ(0, st.commit);
	raft_persisted(r, rd.persist_index, rd.persist_term);
	raft_status(r, &st);
	EXPECT_EQ(1, st.commit);
	raft_ready(r, &rd);
	ASSERT_EQ(1, rd.n_committed);
	raft_advance(r, &rd);

	ASSERT_EQ(0, raft_propose(r, &b, 1, NULL));
	raft_ready(r, &rd);
	ASSERT_EQ(1, rd.n_entries);
	/* A stale acknowledgement (wrong term) moves nothing. */
	raft_persisted(r, rd.persist_index, rd.persist_term + 1);
	raft_status(r, &st);
	EXPECT_EQ(1, st.commit);
	raft_advance(r, &rd);
	raft_status(r, &st);
	EXPECT_EQ(2, st.commit);
	if (raft_has_ready(r)) {
		raft_ready(r, &rd);
		EXPECT_EQ(0, rd.n_entries);	/* nothing is handed out twice */
	}
	raft_free(r);
}

TEST(replies_wait_for_persistence_and_appends_do_not)
{
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft *f = one_node(2, &conf);
	struct raft_entry e = { .term = 1, .index = 1 };
	struct raft_msg app = {
		.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1,
		.n_entries = 1, .entries = &e,
	};
	struct raft_ready rd;

	ASSERT_EQ(0, raft_step(f, &app));
	raft_ready(f, &rd);
	EXPECT_EQ(1, rd.n_entries);
	EXPECT_TRUE(rd.must_sync);
	EXPECT_EQ(0, rd.n_msgs);
	ASSERT_EQ(1, rd.n_msgs_after_persist);
	EXPECT_EQ(RAFT_MSG_APPEND_RESP, rd.msgs_after_persist[0].type);
	EXPECT_EQ(1, rd.msgs_after_persist[0].index);
	EXPECT_EQ(1, rd.hs.term);
	raft_free(f);
}

TEST(bad_input_is_refused_and_changes_nothing)
{
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft *f = one_node(2, &conf);
	struct raft_entry gap[2] = { { .term = 1, .index = 1 }, { .term = 1, .index = 3 } };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .to = 3, .term = 5 };
	struct raft_config cfg;
	struct raft_status st;
	struct raft *r;

	EXPECT_EQ(-EINVAL, raft_step(f, &m));		/* not for us */
	m.to = 2;
	m.type = 99;
	EXPECT_EQ(-EINVAL, raft_step(f, &m));		/* unknown type */
	m.type = RAFT_MSG_APPEND;
	m.entries = gap;
	m.n_entries = 2;
	EXPECT_EQ(-EINVAL, raft_step(f, &m));		/* entries with a hole */
	m.n_entries = 0;
	m.from = 2;
	EXPECT_EQ(-EINVAL, raft_step(f, &m));		/* from itself */
	raft_status(f, &st);
	EXPECT_EQ(0, st.term);
	EXPECT_EQ(0, st.last_index);
	EXPECT_FALSE(raft_has_ready(f));
	EXPECT_EQ(-EPERM, raft_propose(f, &(struct raft_buf){ "x", 1 }, 1, NULL));
	EXPECT_EQ(-EPERM, raft_read_index(f, 1));
	EXPECT_EQ(-EPERM, raft_transfer_leader(f, 1));
	EXPECT_EQ(-EINVAL, raft_compact(f, 5, NULL, 0));
	raft_free(f);

	raft_config_default(&cfg, 0, 1);
	EXPECT_EQ(-EINVAL, raft_new(&r, &cfg, NULL));	/* id 0 */
	raft_config_default(&cfg, 1, 1);
	cfg.heartbeat_ticks = cfg.election_ticks;
	EXPECT_EQ(-EINVAL, raft_new(&r, &cfg, NULL));
}

static const struct raft_msg *find_msg(const struct raft_ready *rd, uint32_t type)
{
	size_t i;

	for (i = 0; i < rd->n_msgs; i++)
		if (rd->msgs[i].type == type)
			return &rd->msgs[i];
	for (i = 0; i < rd->n_msgs_after_persist; i++)
		if (rd->msgs_after_persist[i].type == type)
			return &rd->msgs_after_persist[i];
	return NULL;
}

/*
 * A follower whose log already holds a snapshot's entry keeps its log, but
 * what follows that entry may be a deposed leader's branch: it acknowledges
 * the snapshot's index only, or the leader would count the branch as
 * replicated and commit over it (found by raft-sim, seed 352031465730).
 */
TEST(snapshot_already_in_the_log_is_acknowledged_at_its_index)
{
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft *f = one_node(2, &conf);
	struct raft_entry e[6];
	struct raft_msg app = {
		.type = RAFT_MSG_APPEND, .from = 3, .to = 2, .term = 1,
		.n_entries = 6, .entries = e,
	};
	struct raft_msg snap = {
		.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 2,
		.snap = { .index = 3, .term = 1, .conf = conf },
		.snap_total = 4, .snap_len = 4, .snap_data = "data",
	};
	const struct raft_msg *ack;
	struct raft_status st;
	struct raft_ready rd;
	size_t i;

	for (i = 0; i < 6; i++)
		e[i] = (struct raft_entry){ .term = 1, .index = i + 1 };
	ASSERT_EQ(0, raft_step(f, &app));
	raft_ready(f, &rd);
	raft_persisted(f, rd.persist_index, rd.persist_term);
	raft_advance(f, &rd);

	ASSERT_EQ(0, raft_step(f, &snap));
	ASSERT_TRUE(raft_has_ready(f));
	raft_ready(f, &rd);
	ack = find_msg(&rd, RAFT_MSG_APPEND_RESP);
	ASSERT_NE(NULL, ack);
	EXPECT_FALSE(ack->reject);
	EXPECT_EQ(3, ack->index);
	raft_advance(f, &rd);
	raft_status(f, &st);
	EXPECT_EQ(3, st.commit);
	EXPECT_EQ(6, st.last_index);	/* the tail waits for the leader's repair */
	raft_free(f);
}

/*
 * A peer says how big its snapshot is and the follower allocates that much
 * at the first chunk: the size is bounded before anything is allocated.
 */
TEST(oversized_snapshot_from_a_peer_is_refused)
{
	struct raft_conf conf = { .n_voters = 3, .voters = { 1, 2, 3 } };
	struct raft *f = one_node(2, &conf);
	struct raft_msg m = {
		.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 3,
		.snap = { .index = 10, .term = 2, .conf = conf },
		.snap_total = 1ull << 40, .snap_len = 4, .snap_data = "data",
	};
	struct raft_status st;

	struct raft_boot boot = { .snap = { .conf = conf } };
	struct raft_config cfg;

	EXPECT_EQ(-EMSGSIZE, raft_step(f, &m));
	raft_status(f, &st);
	EXPECT_EQ(0, st.term);
	EXPECT_EQ(0, st.lead);
	EXPECT_EQ(1, st.snapshots_too_large);
	EXPECT_FALSE(raft_has_ready(f));
	m.snap_total = RAFT_MAX_SNAPSHOT_BYTES + 1;
	EXPECT_EQ(-EMSGSIZE, raft_step(f, &m));
	raft_free(f);

	/* The bound is exact, and it holds for the node's own snapshots. */
	raft_config_default(&cfg, 2, 2);
	EXPECT_EQ(RAFT_MAX_SNAPSHOT_BYTES, cfg.max_snapshot_bytes);
	cfg.max_snapshot_bytes = 8;
	ASSERT_EQ(0, raft_new(&f, &cfg, &boot));
	m.snap_total = 9;
	EXPECT_EQ(-EMSGSIZE, raft_step(f, &m));
	m.snap_total = 8;
	EXPECT_EQ(0, raft_step(f, &m));
	m.snap_offset = 4;
	m.snap_data = "more";
	EXPECT_EQ(0, raft_step(f, &m));
	raft_status(f, &st);
	EXPECT_EQ(10, st.snap_index);
	EXPECT_EQ(1, st.snapshots_too_large);
	raft_free(f);

	boot.snap.conf = (struct raft_conf){ .n_voters = 1, .voters = { 2 } };
	ASSERT_EQ(0, raft_new(&f, &cfg, &boot));
	ASSERT_EQ(0, raft_campaign(f));
	while (raft_has_ready(f)) {
		struct raft_ready rd;

		raft_ready(f, &rd);
		raft_advance(f, &rd);
	}
	EXPECT_EQ(-EMSGSIZE, raft_compact(f, 1, "123456789", 9));
	EXPECT_EQ(0, raft_compact(f, 1, "12345678", 8));
	raft_status(f, &st);
	EXPECT_EQ(1, st.snapshots_too_large);
	raft_free(f);
}

/* ---- forgetting a leader that is known to be gone ---- */

static const struct raft_conf three_voters = { .n_voters = 3, .voters = { 1, 2, 3 } };

/* Drains r's ready like a synchronous host; true if it sent a 'type'. */
static bool drain_sent(struct raft *r, uint32_t type)
{
	struct raft_ready rd;
	bool sent = false;

	while (raft_has_ready(r)) {
		raft_ready(r, &rd);
		if (find_msg(&rd, type))
			sent = true;
		raft_advance(r, &rd);
	}
	return sent;
}

/* A follower of node 1 in term 'term', just heard from it. */
static struct raft *follower_of_1(uint64_t id, uint64_t seed, uint64_t term)
{
	struct raft_boot boot = { .snap = { .conf = three_voters } };
	struct raft_msg hb = { .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = id, .term = term };
	struct raft_config cfg;
	struct raft *r = NULL;

	raft_config_default(&cfg, id, seed);
	if (raft_new(&r, &cfg, &boot) || raft_step(r, &hb))
		abort();
	drain_sent(r, 0);
	return r;
}

TEST(forgotten_leader_no_longer_holds_the_lease)
{
	struct raft *f = follower_of_1(2, 2, 1);
	struct raft_msg pv = { .type = RAFT_MSG_PREVOTE, .from = 3, .to = 2, .term = 2 };
	const struct raft_msg *resp;
	struct raft_status st;
	struct raft_ready rd;

	/* In lease: the pre-vote is ignored. */
	ASSERT_EQ(0, raft_step(f, &pv));
	EXPECT_FALSE(drain_sent(f, RAFT_MSG_PREVOTE_RESP));

	ASSERT_EQ(0, raft_forget_leader(f));
	raft_status(f, &st);
	EXPECT_EQ(RAFT_FOLLOWER, st.role);
	EXPECT_EQ(1, st.term);
	EXPECT_EQ(RAFT_NONE, st.lead);
	EXPECT_EQ(1, st.leader_forgotten);
	/* Nothing durable changed. */
	EXPECT_FALSE(raft_has_ready(f));

	ASSERT_EQ(0, raft_step(f, &pv));
	ASSERT_TRUE(raft_has_ready(f));
	raft_ready(f, &rd);
	resp = find_msg(&rd, RAFT_MSG_PREVOTE_RESP);
	ASSERT_NE(NULL, resp);
	EXPECT_FALSE(resp->reject);
	EXPECT_EQ(2, resp->term);
	EXPECT_FALSE(rd.hs_changed);
	raft_advance(f, &rd);
	raft_status(f, &st);
	EXPECT_EQ(1, st.term);
	EXPECT_EQ(0, st.vote);
	raft_free(f);
}

/* Ticks until r sends a pre-vote request; returns how many it took. */
static unsigned int ticks_to_prevote(struct raft *r, unsigned int max)
{
	unsigned int t;

	for (t = 1; t <= max; t++) {
		raft_tick(r);
		if (drain_sent(r, RAFT_MSG_PREVOTE))
			return t;
	}
	return max + 1;
}

TEST(forgotten_leader_campaigns_within_a_quarter_timeout)
{
	struct raft_config cfg;
	unsigned int most = 0, least = UINT32_MAX, t;
	uint64_t seed;

	raft_config_default(&cfg, 2, 1);
	for (seed = 1; seed <= 200; seed++) {
		struct raft *f = follower_of_1(2, seed, 1);
		struct raft *g = follower_of_1(2, seed, 1);

		ASSERT_EQ(0, raft_forget_leader(f));
		t = ticks_to_prevote(f, 2 * cfg.election_ticks);
		most = t > most ? t : most;
		least = t < least ? t : least;
		/* The same node that did not forget waits its full timeout. */
		EXPECT_GE(ticks_to_prevote(g, 2 * cfg.election_ticks), cfg.election_ticks);
		raft_free(f);
		raft_free(g);
	}
	TH_LOG("forgot: pre-vote after %u..%u ticks (election_ticks %u)", least, most,
	       cfg.election_ticks);
	EXPECT_GE(least, 1);
	EXPECT_LE(most, cfg.election_ticks / 4 + 1);
	/* Randomized: followers that forget together do not all go at once. */
	EXPECT_LT(least, most);
}

TEST(a_heartbeat_after_forgetting_restores_the_follower)
{
	struct raft *f = follower_of_1(2, 7, 1);
	struct raft_msg hb = { .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 1 };
	struct raft_msg pv = { .type = RAFT_MSG_PREVOTE, .from = 3, .to = 2, .term = 2 };
	struct raft_config cfg;
	struct raft_status st;

	raft_config_default(&cfg, 2, 7);
	ASSERT_EQ(0, raft_forget_leader(f));
	raft_status(f, &st);
	EXPECT_EQ(RAFT_NONE, st.lead);
	ASSERT_EQ(0, raft_step(f, &hb));
	drain_sent(f, 0);
	raft_status(f, &st);
	EXPECT_EQ(1, st.lead);
	EXPECT_EQ(RAFT_FOLLOWER, st.role);
	/* In lease again, and no early campaign. */
	ASSERT_EQ(0, raft_step(f, &pv));
	EXPECT_FALSE(drain_sent(f, RAFT_MSG_PREVOTE_RESP));
	EXPECT_GE(ticks_to_prevote(f, 2 * cfg.election_ticks), cfg.election_ticks);
	raft_free(f);
}

TEST(forgetting_needs_a_follower_with_a_leader)
{
	struct raft_conf learner = { .n_voters = 2, .voters = { 1, 3 },
				     .n_learners = 1, .learners = { 2 } };
	struct raft_conf solo = { .n_voters = 1, .voters = { 1 } };
	struct raft_boot boot = { .snap = { .conf = learner } };
	struct raft_msg hb = { .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 1 };
	struct raft_config cfg;
	struct raft_status st;
	struct raft *r;

	/* A leader. */
	r = one_node(1, &solo);
	ASSERT_EQ(0, raft_campaign(r));
	drain_sent(r, 0);
	EXPECT_EQ(-EINVAL, raft_forget_leader(r));
	raft_status(r, &st);
	EXPECT_EQ(RAFT_LEADER, st.role);
	EXPECT_EQ(1, st.lead);
	EXPECT_EQ(0, st.leader_forgotten);
	raft_free(r);

	/* A follower that knows no leader. */
	r = one_node(2, &three_voters);
	EXPECT_EQ(-EINVAL, raft_forget_leader(r));
	/* A pre-candidate. */
	ASSERT_EQ(0, raft_campaign(r));
	EXPECT_EQ(-EINVAL, raft_forget_leader(r));
	raft_status(r, &st);
	EXPECT_EQ(RAFT_PRE_CANDIDATE, st.role);
	EXPECT_EQ(0, st.leader_forgotten);
	raft_free(r);

	/* A learner that hears its leader. */
	raft_config_default(&cfg, 2, 2);
	ASSERT_EQ(0, raft_new(&r, &cfg, &boot));
	ASSERT_EQ(0, raft_step(r, &hb));
	drain_sent(r, 0);
	EXPECT_EQ(-EINVAL, raft_forget_leader(r));
	raft_status(r, &st);
	EXPECT_EQ(1, st.lead);
	EXPECT_EQ(0, st.leader_forgotten);
	raft_free(r);
}

/*
 * Three nodes, stepped synchronously; a node 'down' neither sends nor
 * receives, and node 'mute_to' does not hear 'mute_from' lead (appends,
 * heartbeats, snapshots are lost; its answers to votes still arrive).
 */
struct trio {
	struct raft *r[4];
	bool down[4];
	int mute_to;
	int mute_from;
	bool in_step;	/* the followers' clocks tick together */
};

static void trio_start(struct trio *t, uint64_t seed)
{
	struct raft_boot boot = { .snap = { .conf = three_voters } };
	struct raft_config cfg;
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 1; i <= 3; i++) {
		raft_config_default(&cfg, i, seed * 10 + i);
		if (raft_new(&t->r[i], &cfg, &boot))
			abort();
	}
}

static void trio_deliver(struct trio *t, const struct raft_msg *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		bool leads = m[i].type == RAFT_MSG_APPEND || m[i].type == RAFT_MSG_HEARTBEAT ||
			     m[i].type == RAFT_MSG_SNAPSHOT;

		if (t->down[m[i].to] || (leads && m[i].from == (uint64_t)t->mute_from &&
					  m[i].to == (uint64_t)t->mute_to))
			continue;
		raft_step(t->r[m[i].to], &m[i]);
	}
}

/*
 * One round is one tick of every node, but the daemons' clocks are not in
 * step: node i ticks at its own quarter of the round, and messages are
 * delivered at every quarter (a round trip is much shorter than a tick).
 */
static void trio_round(struct trio *t)
{
	struct raft_ready rd;
	int q, i;

	for (q = 0; q < 4; q++) {
		for (i = 1; i <= 3; i++) {
			if (t->down[i])
				continue;
			while (raft_has_ready(t->r[i])) {
				raft_ready(t->r[i], &rd);
				raft_advance(t->r[i], &rd);
				trio_deliver(t, rd.msgs, rd.n_msgs);
				trio_deliver(t, rd.msgs_after_persist, rd.n_msgs_after_persist);
			}
		}
		for (i = 1; i <= 3; i++)
			if (!t->down[i] && q == (t->in_step && i == 3 ? 1 : i - 1))
				raft_tick(t->r[i]);
	}
}

static int trio_leader(struct trio *t, uint64_t *term)
{
	struct raft_status st;
	int i;

	for (i = 1; i <= 3; i++) {
		if (t->down[i])
			continue;
		raft_status(t->r[i], &st);
		if (st.role == RAFT_LEADER) {
			*term = st.term;
			return i;
		}
	}
	return 0;
}

static void trio_stop(struct trio *t)
{
	int i;

	for (i = 1; i <= 3; i++)
		raft_free(t->r[i]);
}

TEST(followers_that_forget_a_dead_leader_elect_a_new_one_at_once)
{
	unsigned int worst = 0, rounds;
	uint64_t seed, term0, term;
	int forget, lead;

	for (seed = 1; seed <= 100; seed++) {
		for (forget = 1; forget >= 0; forget--) {
			struct trio t;

			trio_start(&t, seed);
			raft_campaign(t.r[1]);
			for (rounds = 0; rounds < 5; rounds++)
				trio_round(&t);
			ASSERT_EQ(1, trio_leader(&t, &term0));
			t.down[1] = true;
			if (forget) {
				ASSERT_EQ(0, raft_forget_leader(t.r[2]));
				ASSERT_EQ(0, raft_forget_leader(t.r[3]));
			}
			/* A quarter timeout, and the rounds an election takes. */
			for (rounds = 1, lead = 0; rounds <= 10 / 4 + 4 && !lead; rounds++) {
				trio_round(&t);
				lead = trio_leader(&t, &term);
			}
			if (forget) {
				ASSERT_NE(0, lead) TH_LOG("seed %llu", (unsigned long long)seed);
				EXPECT_EQ(term0 + 1, term);
				worst = rounds - 1 > worst ? rounds - 1 : worst;
			} else {
				/* Without it, the election timeout is still running. */
				EXPECT_EQ(0, lead) TH_LOG("seed %llu", (unsigned long long)seed);
			}
			trio_stop(&t);
		}
	}
	TH_LOG("new leader after at most %u rounds (election_ticks 10)", worst);
}

/*
 * Worst case: the two followers' clocks tick together, so when they draw
 * the same delay they campaign at once and split the vote. The leader is
 * known gone, so the next tries come early as well instead of after the
 * election timeout (10-19 ticks). Each try splits half the time here;
 * with the first try alone 92 of the 200 seeds elect within 9 rounds,
 * with three about seven in eight.
 */
TEST(followers_in_step_that_split_the_vote_try_again_early)
{
	unsigned int within = 0, splits = 0, rounds;
	uint64_t seed, term0, term;
	int lead;

	for (seed = 1; seed <= 200; seed++) {
		struct trio t;

		trio_start(&t, seed);
		t.in_step = true;
		raft_campaign(t.r[1]);
		for (rounds = 0; rounds < 5; rounds++)
			trio_round(&t);
		ASSERT_EQ(1, trio_leader(&t, &term0));
		t.down[1] = true;
		ASSERT_EQ(0, raft_forget_leader(t.r[2]));
		ASSERT_EQ(0, raft_forget_leader(t.r[3]));
		for (rounds = 1, lead = 0; rounds < 10 && !lead; rounds++) {
			trio_round(&t);
			lead = trio_leader(&t, &term);
		}
		if (lead) {
			within++;
			splits += term > term0 + 1;
		}
		trio_stop(&t);
	}
	TH_LOG("%u of 200 elected within 9 rounds, %u of them after a split vote",
	       within, splits);
	EXPECT_GT(splits, 0);
	EXPECT_GE(within, 160);
}

TEST(one_follower_forgetting_a_live_leader_disrupts_nothing)
{
	uint64_t seed, term0, term;
	struct raft_status st;
	int rounds, campaigned = 0;

	for (seed = 1; seed <= 100; seed++) {
		struct trio t;

		trio_start(&t, seed);
		raft_campaign(t.r[1]);
		/* Suspected at every point of the leader's lease window. */
		for (rounds = 0; rounds < 5 + (int)(seed % 10); rounds++)
			trio_round(&t);
		ASSERT_EQ(1, trio_leader(&t, &term0));
		/*
		 * Node 2 wrongly suspects the leader and, not hearing it for a
		 * few ticks, asks for pre-votes: the leader and node 3 are in
		 * lease and ignore them.
		 */
		ASSERT_EQ(0, raft_forget_leader(t.r[2]));
		t.mute_from = 1;
		t.mute_to = 2;
		for (rounds = 0; rounds < 10 / 4 + 2; rounds++) {
			trio_round(&t);
			raft_status(t.r[2], &st);
			if (st.role == RAFT_PRE_CANDIDATE) {
				campaigned++;
				break;
			}
		}
		t.mute_to = 0;
		for (rounds = 0; rounds < 50; rounds++)
			trio_round(&t);
		EXPECT_EQ(1, trio_leader(&t, &term)) TH_LOG("seed %llu", (unsigned long long)seed);
		EXPECT_EQ(term0, term);
		raft_status(t.r[2], &st);
		EXPECT_EQ(1, st.lead);
		EXPECT_EQ(term0, st.term);
		raft_status(t.r[3], &st);
		EXPECT_EQ(term0, st.term);
		trio_stop(&t);
	}
	/* The pre-vote was really asked for, and turned away. */
	EXPECT_EQ(100, campaigned);
}

TEST_HARNESS_MAIN
