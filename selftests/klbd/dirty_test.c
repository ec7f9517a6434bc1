// SPDX-License-Identifier: GPL-2.0
/*
 * The set of services changed since the last reconcile (dirty.c): each
 * key once, in the order first touched; "everything" absorbs the rest
 * until cleared; past DIRTY_MAX distinct keys it overflows into
 * "everything" and counts it, and a key already there does not.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/dirty.h"

static struct klb_service_key key(unsigned int i)
{
	struct klb_service_key k = { .proto = IPPROTO_TCP };

	k.vip.family = AF_INET;
	k.vip.addr[0] = 10;
	k.vip.addr[1] = i >> 16;
	k.vip.addr[2] = i >> 8;
	k.vip.addr[3] = i;
	k.vip.port = 80;
	return k;
}

TEST(each_key_once_in_order)
{
	struct klbd_dirty dt = { 0 };
	struct klb_service_key a = key(1), b = key(2), c = key(1);

	EXPECT_FALSE(dirty_any(&dt));
	dirty_service(&dt, &b);
	dirty_service(&dt, &a);
	dirty_service(&dt, &b);
	c.proto = IPPROTO_UDP;		/* another service, same VIP */
	dirty_service(&dt, &c);
	EXPECT_TRUE(dirty_any(&dt));
	EXPECT_FALSE(dt.all);
	ASSERT_EQ(3, dt.n);
	EXPECT_EQ(0, memcmp(&dt.keys[0], &b, sizeof(b)));
	EXPECT_EQ(0, memcmp(&dt.keys[1], &a, sizeof(a)));
	EXPECT_EQ(0, memcmp(&dt.keys[2], &c, sizeof(c)));
	dirty_clear(&dt);
	EXPECT_FALSE(dirty_any(&dt));
	EXPECT_EQ(0, dt.n);
	/* Cleared means empty: the key is new again. */
	dirty_service(&dt, &a);
	EXPECT_EQ(1, dt.n);
	dirty_free(&dt);
}

TEST(everything_absorbs_keys_until_cleared)
{
	struct klbd_dirty dt = { 0 };
	struct klb_service_key a = key(1);

	dirty_service(&dt, &a);
	dirty_all(&dt);
	EXPECT_TRUE(dt.all);
	EXPECT_EQ(0, dt.n);
	dirty_service(&dt, &a);
	EXPECT_TRUE(dt.all);
	EXPECT_EQ(0, dt.n);
	EXPECT_TRUE(dirty_any(&dt));
	dirty_clear(&dt);
	EXPECT_FALSE(dt.all);
	EXPECT_FALSE(dirty_any(&dt));
	EXPECT_EQ(0, dt.overflows);
	dirty_free(&dt);
}

TEST(past_the_limit_is_everything_and_counted)
{
	struct klbd_dirty dt = { 0 };
	struct klb_service_key k;
	unsigned int i;

	for (i = 0; i < DIRTY_MAX; i++) {
		k = key(i);
		dirty_service(&dt, &k);
	}
	ASSERT_EQ(DIRTY_MAX, dt.n);
	EXPECT_FALSE(dt.all);
	/* One already there: nothing grows. */
	k = key(7);
	dirty_service(&dt, &k);
	EXPECT_FALSE(dt.all);
	EXPECT_EQ(0, dt.overflows);
	k = key(DIRTY_MAX);
	dirty_service(&dt, &k);
	EXPECT_TRUE(dt.all);
	EXPECT_EQ(0, dt.n);
	EXPECT_EQ(1, dt.overflows);
	/* After a clear it remembers keys one by one again. */
	dirty_clear(&dt);
	dirty_service(&dt, &k);
	EXPECT_FALSE(dt.all);
	EXPECT_EQ(1, dt.n);
	EXPECT_EQ(1, dt.overflows);
	dirty_free(&dt);
}

TEST_HARNESS_MAIN
