// SPDX-License-Identifier: GPL-2.0
/*
 * Membership changes on the control socket (KLBD_CTL_MEMBER): the
 * encoding round-trips, and every malformed body is refused with its
 * reason (a table of cases).
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lib/klbd_bytes.h"
#include "lib/klbd_proto.h"

TEST(round_trip)
{
	struct klbd_member_req in = { .op = KLBD_MEMBER_ADD, .id = 4 }, out;
	uint8_t buf[KLBD_MEMBER_MAX_BYTES];
	char why[128];
	int n;

	strcpy(in.addr, "[2001:db8::4]:7400");
	n = klbd_member_encode(&in, buf, sizeof(buf));
	ASSERT_EQ(KLBD_MEMBER_HEADER_BYTES + 18, n);
	EXPECT_EQ(KLBD_MEMBER_ADD, buf[0]);
	EXPECT_EQ(18, buf[1]);
	EXPECT_EQ(4, get_u64(buf + 4));
	ASSERT_EQ(0, klbd_member_decode(buf, n, &out, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_MEMBER_ADD, out.op);
	EXPECT_EQ(4, out.id);
	EXPECT_STREQ("[2001:db8::4]:7400", out.addr);

	memset(&in, 0, sizeof(in));
	in.op = KLBD_MEMBER_REMOVE;
	in.id = UINT64_MAX;
	n = klbd_member_encode(&in, buf, sizeof(buf));
	ASSERT_EQ(KLBD_MEMBER_HEADER_BYTES, n);
	ASSERT_EQ(0, klbd_member_decode(buf, n, &out, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_MEMBER_REMOVE, out.op);
	EXPECT_EQ(UINT64_MAX, out.id);
	EXPECT_STREQ("", out.addr);
}

TEST(encode_refuses)
{
	struct klbd_member_req m = { .op = KLBD_MEMBER_ADD, .id = 4 };
	uint8_t buf[KLBD_MEMBER_MAX_BYTES];

	EXPECT_EQ(-EINVAL, klbd_member_encode(&m, buf, sizeof(buf)));	/* no address */
	memset(m.addr, 'a', sizeof(m.addr) - 1);
	EXPECT_EQ(KLBD_MEMBER_MAX_BYTES, klbd_member_encode(&m, buf, sizeof(buf)));
	strcpy(m.addr, "192.0.2.4:7400");
	EXPECT_EQ(-EINVAL, klbd_member_encode(&m, buf, 8));		/* no room */
	m.id = 0;
	EXPECT_EQ(-EINVAL, klbd_member_encode(&m, buf, sizeof(buf)));
}

static const struct {
	const char *name;
	uint8_t op, alen;
	uint16_t rsvd;
	uint64_t id;
	const char *addr;
	int extra;		/* bytes more (or less) than the header says */
	int err;
	const char *why;
} bad[] = {
	{ "unknown op", 3, 0, 0, 4, "", 0, -EINVAL, "unknown membership change 3" },
	{ "op 0", 0, 0, 0, 4, "", 0, -EINVAL, "unknown membership change 0" },
	{ "id 0", KLBD_MEMBER_REMOVE, 0, 0, 0, "", 0, -EINVAL, "member id 0" },
	{ "add without address", KLBD_MEMBER_ADD, 0, 0, 4, "", 0, -EINVAL,
	  "a new member needs an address" },
	{ "remove with address", KLBD_MEMBER_REMOVE, 5, 0, 4, "a:1:1", 0, -EINVAL,
	  "a removal takes no address" },
	{ "space in address", KLBD_MEMBER_ADD, 6, 0, 4, "a b:80", 0, -EINVAL,
	  "the address must be" },
	{ "NUL in address", KLBD_MEMBER_ADD, 6, 0, 4, "ab\0:80", 0, -EINVAL,
	  "the address must be" },
	{ "reserved bits", KLBD_MEMBER_REMOVE, 0, 1, 4, "", 0, -EBADMSG,
	  "membership change malformed" },
	{ "trailing byte", KLBD_MEMBER_REMOVE, 0, 0, 4, "", 1, -EBADMSG,
	  "membership change malformed" },
	{ "address cut short", KLBD_MEMBER_ADD, 9, 0, 4, "192.0.2.4", -1, -EBADMSG,
	  "membership change malformed" },
	{ "address too long", KLBD_MEMBER_ADD, 64, 0, 4,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
	  -ENAMETOOLONG, "the address is longer than 63" },
};

TEST(decode_refuses)
{
	uint8_t buf[KLBD_MEMBER_HEADER_BYTES + 80];
	struct klbd_member_req m;
	char why[128];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = bad[i].op;
		buf[1] = bad[i].alen;
		put_u16(buf + 2, bad[i].rsvd);
		put_u64(buf + 4, bad[i].id);
		memcpy(buf + KLBD_MEMBER_HEADER_BYTES, bad[i].addr, bad[i].alen);
		len = KLBD_MEMBER_HEADER_BYTES + bad[i].alen + bad[i].extra;
		why[0] = '\0';
		EXPECT_EQ(bad[i].err, klbd_member_decode(buf, len, &m, why, sizeof(why)))
			TH_LOG("%s", bad[i].name);
		EXPECT_EQ(0, strncmp(why, bad[i].why, strlen(bad[i].why)))
			TH_LOG("%s: got '%s'", bad[i].name, why);
	}
	EXPECT_EQ(-EBADMSG, klbd_member_decode(buf, 11, &m, why, sizeof(why)));
	EXPECT_STREQ("membership change truncated", why);
}

TEST_HARNESS_MAIN
