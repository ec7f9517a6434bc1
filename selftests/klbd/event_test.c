// SPDX-License-Identifier: GPL-2.0
/*
 * klbd's event records (KLBD_CTL_WATCH): each type round-trips, and
 * malformed records are refused with their reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lib/klbd_bytes.h"
#include "lib/klbd_proto.h"

static void fill_backend(struct klbd_event *ev)
{
	ev->key.proto = IPPROTO_TCP;
	ev->key.vip.family = AF_INET;
	inet_pton(AF_INET, "203.0.113.10", ev->key.vip.addr);
	ev->key.vip.port = 80;
	ev->backend.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::11", ev->backend.addr);
	ev->backend.port = 8080;
}

static int round_trip(struct klbd_event *in, struct klbd_event *out,
		      uint8_t *buf, char *why)
{
	int n = klbd_event_encode(in, buf, KLBD_EVENT_MAX_BYTES);

	if (n < 0)
		return n;
	return klbd_event_decode(buf, n, out, why, 128) ? -1 : n;
}

TEST(verdict)
{
	struct klbd_event in = { .type = KLBD_EV_VERDICT, .on = true, .node = 3 }, out;
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	char why[128] = "";
	int n;

	fill_backend(&in);
	strcpy(in.reason, "connect: Connection refused");
	n = round_trip(&in, &out, buf, why);
	ASSERT_EQ(4 + 22 + 20 + 8 + 27, n) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_EV_VERDICT, out.type);
	EXPECT_TRUE(out.on);
	EXPECT_EQ(3, out.node);
	EXPECT_STREQ("connect: Connection refused", out.reason);
	EXPECT_EQ(0, memcmp(&in.key, &out.key, sizeof(in.key)));
	EXPECT_EQ(0, memcmp(&in.backend, &out.backend, sizeof(in.backend)));

	/* A reason too long is cut, not refused. */
	memset(in.reason, 'x', sizeof(in.reason) - 1);
	n = round_trip(&in, &out, buf, why);
	ASSERT_LT(0, n);
	EXPECT_EQ(KLBD_EVENT_REASON_MAX, strlen(out.reason));

	/* A NUL in the reason, a flag that is no verdict, a short record. */
	in.reason[0] = 'a';
	in.reason[1] = '\0';
	n = klbd_event_encode(&in, buf, sizeof(buf));
	buf[n - 1] = '\0';
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, n, &out, why, sizeof(why)));
	EXPECT_STREQ("a NUL in the reason", why);
	buf[n - 1] = 'a';
	buf[1] = 2;
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, n, &out, why, sizeof(why)));
	buf[1] = 0;
	EXPECT_EQ(-EBADMSG, klbd_event_decode(buf, n - 1, &out, why, sizeof(why)));
	EXPECT_EQ(0, klbd_event_decode(buf, n, &out, why, sizeof(why)));
}

TEST(health)
{
	struct klbd_event in = {
		.type = KLBD_EV_HEALTH, .on = true, .index = 42,
		.ids = { 1, 3 }, .n_ids = 2,
	}, out;
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	char why[128] = "";
	int n;

	fill_backend(&in);
	n = round_trip(&in, &out, buf, why);
	ASSERT_EQ(4 + 22 + 20 + 8 + 16, n) TH_LOG("%s", why);
	EXPECT_TRUE(out.on);
	EXPECT_EQ(42, out.index);
	ASSERT_EQ(2, out.n_ids);
	EXPECT_EQ(1, out.ids[0]);
	EXPECT_EQ(3, out.ids[1]);

	/* Up with nobody failing it. */
	in.on = false;
	in.n_ids = 0;
	n = round_trip(&in, &out, buf, why);
	ASSERT_EQ(4 + 22 + 20 + 8, n) TH_LOG("%s", why);
	EXPECT_FALSE(out.on);
	EXPECT_EQ(0, out.n_ids);

	/* More gateways than there can be; a count the length disagrees with. */
	in.n_ids = KLBD_EVENT_IDS_MAX + 1;
	EXPECT_EQ(-EINVAL, klbd_event_encode(&in, buf, sizeof(buf)));
	in.n_ids = 0;
	n = klbd_event_encode(&in, buf, sizeof(buf));
	put_u16(buf + 2, KLBD_EVENT_IDS_MAX + 1);
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, n, &out, why, sizeof(why)));
	put_u16(buf + 2, 1);
	EXPECT_EQ(-EBADMSG, klbd_event_decode(buf, n, &out, why, sizeof(why)));
	/* A bad service in it. */
	put_u16(buf + 2, 0);
	buf[4] = 1;
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, n, &out, why, sizeof(why)));
}

TEST(leader_member_overflow)
{
	struct klbd_event in = {
		.type = KLBD_EV_LEADER, .role = KLBD_ROLE_FOLLOWER, .term = 7,
		.leader = 2,
	}, out;
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	char why[128] = "";
	int n, i;

	n = round_trip(&in, &out, buf, why);
	ASSERT_EQ(4 + 16, n) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_ROLE_FOLLOWER, out.role);
	EXPECT_EQ(7, out.term);
	EXPECT_EQ(2, out.leader);
	EXPECT_STREQ("follower", klbd_role_name(out.role));
	buf[1] = KLBD_ROLE_MAX + 1;
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, n, &out, why, sizeof(why)));
	in.role = KLBD_ROLE_MAX + 1;
	EXPECT_EQ(-EINVAL, klbd_event_encode(&in, buf, sizeof(buf)));

	memset(&in, 0, sizeof(in));
	in.type = KLBD_EV_MEMBER;
	in.index = 9;
	for (i = 0; i < KLBD_EVENT_IDS_MAX; i++) {
		in.ids[i] = i + 1;
		in.learners[i] = 100 + i;
	}
	in.n_ids = KLBD_EVENT_IDS_MAX;
	in.n_learners = KLBD_EVENT_IDS_MAX;
	n = round_trip(&in, &out, buf, why);
	ASSERT_GE(KLBD_EVENT_MAX_BYTES, n) TH_LOG("%s", why);
	ASSERT_EQ(4 + 8 + 2 * 8 * KLBD_EVENT_IDS_MAX, n);
	EXPECT_EQ(9, out.index);
	EXPECT_EQ(KLBD_EVENT_IDS_MAX, out.n_ids);
	EXPECT_EQ(KLBD_EVENT_IDS_MAX, out.n_learners);
	EXPECT_EQ(100 + KLBD_EVENT_IDS_MAX - 1, out.learners[KLBD_EVENT_IDS_MAX - 1]);
	EXPECT_EQ(-EBADMSG, klbd_event_decode(buf, n + 1, &out, why, sizeof(why)));

	memset(&in, 0, sizeof(in));
	in.type = KLBD_EV_OVERFLOW;
	n = round_trip(&in, &out, buf, why);
	ASSERT_EQ(4, n) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_EV_OVERFLOW, out.type);
	EXPECT_STREQ("overflow", klbd_event_name(out.type));
	buf[3] = 1;
	EXPECT_EQ(-EBADMSG, klbd_event_decode(buf, n, &out, why, sizeof(why)));

	/* Unknown types, both ways; nothing at all. */
	in.type = KLBD_EV_TYPE_MAX + 1;
	EXPECT_EQ(-EINVAL, klbd_event_encode(&in, buf, sizeof(buf)));
	memset(buf, 0, 4);
	buf[0] = KLBD_EV_TYPE_MAX + 1;
	EXPECT_EQ(-EINVAL, klbd_event_decode(buf, 4, &out, why, sizeof(why)));
	EXPECT_EQ(-EBADMSG, klbd_event_decode(buf, 3, &out, why, sizeof(why)));
}

TEST_HARNESS_MAIN
