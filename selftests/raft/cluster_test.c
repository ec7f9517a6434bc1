// SPDX-License-Identifier: GPL-2.0
/*
 * A small in-memory cluster driven through the public API only, the way a
 * daemon drives it: members' addresses replicated through configuration
 * entries and snapshots, and proposals followed by (index, term) through a
 * leader change that overwrites one of them. Messages are copied out of
 * each ready before the next call into the core (raft.h's lifetimes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "raft/codec.h"
#include "raft/raft.h"

#define N 4

struct cluster {
	struct raft *r[N + 1];
	bool cut[N + 1];		/* isolated: its messages are lost */
	uint8_t *wire[4096];		/* messages in flight, encoded */
	size_t wire_len[4096];
	size_t n_wire;
};

/* Sends through the codec: a real host would put these bytes on a socket. */
static void send_msg(struct cluster *c, const struct raft_msg *m)
{
	long n = raft_codec_size(m);

	if (n < 0 || c->n_wire == 4096 || c->cut[m->from] || c->cut[m->to] || !c->r[m->to])
		return;
	c->wire[c->n_wire] = malloc(n);
	raft_codec_encode(m, c->wire[c->n_wire], n);
	c->wire_len[c->n_wire++] = n;
}

static void process(struct cluster *c, int id)
{
	struct raft_ready rd;
	size_t i;

	while (raft_has_ready(c->r[id])) {
		raft_ready(c->r[id], &rd);
		for (i = 0; i < rd.n_msgs; i++)
			send_msg(c, &rd.msgs[i]);
		for (i = 0; i < rd.n_msgs_after_persist; i++)
			send_msg(c, &rd.msgs_after_persist[i]);
		raft_advance(c->r[id], &rd);
	}
}

static void settle(struct cluster *c, int rounds)
{
	int i, k;

	while (rounds--) {
		size_t n, j;

		for (i = 1; i <= N; i++)
			if (c->r[i])
				process(c, i);
		n = c->n_wire;
		c->n_wire = 0;
		for (j = 0; j < n; j++) {
			struct raft_msg m;

			if (raft_codec_decode(c->wire[j], c->wire_len[j], &m) == 0) {
				if (!c->cut[m.to] && !c->cut[m.from])
					raft_step(c->r[m.to], &m);
				raft_codec_msg_free(&m);
			}
			free(c->wire[j]);
		}
		for (k = 1; k <= N; k++)
			if (c->r[k])
				raft_tick(c->r[k]);
	}
}

static void start(struct cluster *c, const struct raft_conf *conf)
{
	struct raft_boot boot = { .snap = { .conf = *conf } };
	struct raft_config cfg;
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 1; i <= N; i++) {
		raft_config_default(&cfg, i, i);
		if (raft_new(&c->r[i], &cfg, &boot))
			abort();
	}
}

static void stop(struct cluster *c)
{
	int i;

	settle(c, 0);
	for (i = 1; i <= N; i++)
		raft_free(c->r[i]);
	while (c->n_wire)
		free(c->wire[--c->n_wire]);
}

static int leader(struct cluster *c)
{
	struct raft_status st;
	int i;

	for (i = 1; i <= N; i++) {
		raft_status(c->r[i], &st);
		if (st.role == RAFT_LEADER && !c->cut[i])
			return i;
	}
	return 0;
}

static int elect(struct cluster *c, int id)
{
	raft_campaign(c->r[id]);
	settle(c, 5);
	return leader(c);
}

static const struct raft_conf three = {
	.n_voters = 3, .voters = { 1, 2, 3 },
	.n_addrs = 3, .addrs = { { 1, "192.0.2.1:7400" }, { 2, "192.0.2.2:7400" },
				 { 3, "[2001:db8::3]:7400" } },
};

TEST(addresses_are_replicated_with_membership_changes)
{
	struct raft_proposal id;
	struct raft_status st;
	struct cluster c;
	char long_addr[RAFT_ADDR_MAX + 1];
	int i;

	start(&c, &three);
	ASSERT_EQ(1, elect(&c, 1));
	settle(&c, 3);
	ASSERT_EQ(0, raft_propose_conf(c.r[1], RAFT_CONF_ADD_LEARNER, 4, "198.51.100.4:7400",
				       &id));
	settle(&c, 5);
	for (i = 1; i <= N; i++) {
		raft_status(c.r[i], &st);
		ASSERT_TRUE(raft_conf_addr(&st.conf, 4) != NULL) TH_LOG("node %d", i);
		EXPECT_STREQ("198.51.100.4:7400", raft_conf_addr(&st.conf, 4));
		EXPECT_STREQ("[2001:db8::3]:7400", raft_conf_addr(&st.conf, 3));
	}
	EXPECT_EQ(RAFT_PROPOSAL_COMMITTED, raft_proposal_state(c.r[4], &id));
	/* A member that moved; the address survives promotion. */
	ASSERT_EQ(0, raft_propose_conf(c.r[1], RAFT_CONF_SET_ADDR, 2, "192.0.2.22:7400", NULL));
	settle(&c, 5);
	ASSERT_EQ(0, raft_propose_conf(c.r[1], RAFT_CONF_PROMOTE, 4, NULL, NULL));
	settle(&c, 5);
	raft_status(c.r[3], &st);
	EXPECT_TRUE(st.conf.n_voters == 4);
	EXPECT_STREQ("192.0.2.22:7400", raft_conf_addr(&st.conf, 2));
	EXPECT_STREQ("198.51.100.4:7400", raft_conf_addr(&st.conf, 4));
	/* Removal takes the address along; over-long and empty ones are refused. */
	ASSERT_EQ(0, raft_propose_conf(c.r[1], RAFT_CONF_REMOVE, 4, NULL, NULL));
	settle(&c, 5);
	raft_status(c.r[2], &st);
	EXPECT_EQ(NULL, raft_conf_addr(&st.conf, 4));
	memset(long_addr, 'a', RAFT_ADDR_MAX);
	long_addr[RAFT_ADDR_MAX] = 0;
	EXPECT_EQ(-ENAMETOOLONG, raft_propose_conf(c.r[1], RAFT_CONF_SET_ADDR, 2, long_addr,
						   NULL));
	EXPECT_EQ(-EINVAL, raft_propose_conf(c.r[1], RAFT_CONF_SET_ADDR, 2, "", NULL));
	EXPECT_EQ(-ENOENT, raft_propose_conf(c.r[1], RAFT_CONF_SET_ADDR, 9, "x:1", NULL));
	stop(&c);
}

TEST(addresses_travel_in_snapshots)
{
	struct raft_status st;
	struct cluster c;

	start(&c, &three);
	c.cut[4] = true;
	ASSERT_EQ(1, elect(&c, 1));
	settle(&c, 3);
	ASSERT_EQ(0, raft_propose_conf(c.r[1], RAFT_CONF_ADD_LEARNER, 4, "198.51.100.4:7400",
				       NULL));
	settle(&c, 5);
	raft_status(c.r[1], &st);
	/* Compact past the configuration entry, then let node 4 catch up. */
	ASSERT_EQ(0, raft_compact(c.r[1], st.applied, "app", 3));
	EXPECT_STREQ("198.51.100.4:7400", raft_conf_addr(&raft_snapshot(c.r[1])->meta.conf, 4));
	c.cut[4] = false;
	settle(&c, 30);
	raft_status(c.r[4], &st);
	EXPECT_EQ(raft_snapshot(c.r[1])->meta.index, st.snap_index);
	EXPECT_STREQ("198.51.100.4:7400", raft_conf_addr(&st.conf, 4));
	EXPECT_STREQ("192.0.2.1:7400", raft_conf_addr(&st.conf, 1));
	stop(&c);
}

TEST(conf_encoding_with_addresses_rejects_bad_ones)
{
	/* Exercised through the codec, which carries a configuration. */
	struct raft_msg m = { .type = RAFT_MSG_SNAPSHOT_RESP, .from = 1, .to = 2,
			      .snap = { .index = 5, .term = 1, .conf = three } }, got;
	uint8_t buf[2048];
	long n = raft_codec_encode(&m, buf, sizeof(buf));
	uint8_t *addr;

	ASSERT_LT(0, n);
	ASSERT_EQ(0, raft_codec_decode(buf, n, &got));
	EXPECT_STREQ("[2001:db8::3]:7400", raft_conf_addr(&got.snap.conf, 3));
	/* A NUL inside an address is refused. */
	addr = memmem(buf, n, "192.0.2.2", 9);
	ASSERT_NE(NULL, addr);
	addr[3] = 0;
	EXPECT_EQ(-EBADMSG, raft_codec_decode(buf, n, &got));
	addr[3] = '.';
	/* So is an address for an id that is not a member. */
	addr[-9] = 77;
	EXPECT_EQ(-EBADMSG, raft_codec_decode(buf, n, &got));
}

TEST(a_proposal_overwritten_by_a_new_leader_is_reported_dropped)
{
	struct raft_proposal lost, won, before;
	struct raft_status st;
	struct cluster c;
	int i, l;

	start(&c, &three);
	c.cut[4] = true;
	ASSERT_EQ(1, elect(&c, 1));
	settle(&c, 3);
	ASSERT_EQ(0, raft_propose(c.r[1], &(struct raft_buf){ "kept", 4 }, 1, &before));
	settle(&c, 3);
	EXPECT_EQ(RAFT_PROPOSAL_COMMITTED, raft_proposal_state(c.r[1], &before));

	/* The leader is cut off; its next proposal cannot commit. */
	c.cut[1] = true;
	ASSERT_EQ(0, raft_propose(c.r[1], &(struct raft_buf){ "lost", 4 }, 1, &lost));
	settle(&c, 2);
	EXPECT_EQ(RAFT_PROPOSAL_PENDING, raft_proposal_state(c.r[1], &lost));

	/*
	 * Once their lease on node 1 ran out, 2 or 3 leads a newer term; its
	 * empty entry of that term takes the index of the lost proposal.
	 */
	settle(&c, 40);
	l = leader(&c);
	ASSERT_TRUE(l == 2 || l == 3);
	ASSERT_EQ(0, raft_propose(c.r[l], &(struct raft_buf){ "won", 3 }, 1, &won));
	settle(&c, 3);
	EXPECT_GT(won.term, lost.term);
	EXPECT_EQ(won.index, lost.index + 1);
	EXPECT_EQ(RAFT_PROPOSAL_COMMITTED, raft_proposal_state(c.r[l], &won));
	EXPECT_EQ(RAFT_PROPOSAL_DROPPED, raft_proposal_state(c.r[l], &lost));
	/* The old leader still holds it uncommitted: to it, still pending. */
	EXPECT_EQ(RAFT_PROPOSAL_PENDING, raft_proposal_state(c.r[1], &lost));

	/* Healed, it learns: its entry was overwritten. */
	c.cut[1] = false;
	settle(&c, 10);
	raft_status(c.r[1], &st);
	EXPECT_GE(st.commit, won.index);
	EXPECT_EQ(RAFT_PROPOSAL_DROPPED, raft_proposal_state(c.r[1], &lost));
	EXPECT_EQ(RAFT_PROPOSAL_COMMITTED, raft_proposal_state(c.r[1], &won));
	EXPECT_EQ(RAFT_PROPOSAL_COMMITTED, raft_proposal_state(c.r[1], &before));
	for (i = 1; i <= 3; i++)
		EXPECT_EQ(RAFT_PROPOSAL_DROPPED, raft_proposal_state(c.r[i], &lost));

	/* Compacted away: only rd.committed could have told. */
	raft_status(c.r[l], &st);
	ASSERT_EQ(0, raft_compact(c.r[l], st.applied, NULL, 0));
	ASSERT_LT(before.index, st.applied);
	EXPECT_EQ(RAFT_PROPOSAL_UNKNOWN, raft_proposal_state(c.r[l], &before));
	stop(&c);
}

TEST_HARNESS_MAIN
