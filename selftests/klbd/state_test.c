// SPDX-License-Identifier: GPL-2.0
/*
 * The replicated state: the same commands give byte-identical states
 * (tables included) whatever the path (straight, or through a snapshot);
 * a change moves only the table entries it must; refused commands change
 * nothing; snapshots and commands are decoded strictly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/state.h"

static struct klb_endpoint ep4(const char *addr, uint16_t port)
{
	struct klb_endpoint ep = { .family = AF_INET, .port = port };

	inet_pton(AF_INET, addr, ep.addr);
	return ep;
}

static struct klbd_cmd svc_add(const char *vip, uint32_t table_size)
{
	struct klbd_cmd c = { .op = KLBD_CMD_SERVICE_ADD };

	c.key.proto = IPPROTO_TCP;
	c.key.vip = ep4(vip, 80);
	c.conf.fields = KLB_SVC_SEED | KLB_SVC_TABLE_SIZE;
	c.conf.table_size = table_size;
	memset(c.conf.seed, 0x5a, KLB_SEED_LEN);
	return c;
}

static struct klbd_cmd be_cmd(uint8_t op, const char *vip, const char *be,
			      uint32_t weight)
{
	struct klbd_cmd c = { .op = op };

	c.key.proto = IPPROTO_TCP;
	c.key.vip = ep4(vip, 80);
	c.be.addr = ep4(be, 8080);
	if (weight) {
		c.be.fields = KLB_BE_WEIGHT;
		c.be.weight = weight;
	}
	return c;
}

/* Encodes and decodes every command first, as the log does. */
static int apply(struct klbd_state *s, struct klbd_cmd c)
{
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	struct klbd_cmd d;
	int n = klbd_cmd_encode(&c, buf, sizeof(buf));

	if (n < 0 || klbd_cmd_decode(buf, n, &d, NULL, 0))
		return -1000;
	return state_apply(s, &d, NULL, 0);
}

static void snapshot(struct klbd_state *s, uint8_t **buf, size_t *len)
{
	if (state_encode(s, buf, len))
		abort();
}

static const char *const backends[] = {
	"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4",
	"198.51.100.5", "198.51.100.6",
};

/* A history of changes; at step 'cut' the state goes through a snapshot. */
static void history(struct klbd_state *s, int cut)
{
	int i, step = 0;

	state_init(s);
	apply(s, svc_add("203.0.113.10", 251));
	apply(s, svc_add("203.0.113.11", KLB_TABLE_SIZE_DEFAULT));
	for (i = 0; i < 6; i++, step++) {
		apply(s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10", backends[i], i + 1));
		apply(s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.11", backends[i], 0));
		if (step == cut) {
			struct klbd_state n;
			uint8_t *buf;
			size_t len;

			snapshot(s, &buf, &len);
			state_init(&n);
			if (state_decode(&n, buf, len, NULL, 0))
				abort();
			free(buf);
			state_free(s);
			*s = n;
		}
	}
	apply(s, be_cmd(KLBD_CMD_BACKEND_DEL, "203.0.113.10", backends[2], 0));
	apply(s, be_cmd(KLBD_CMD_BACKEND_SET, "203.0.113.11", backends[4], 9));
	apply(s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10", backends[2], 0));
}

TEST(same_commands_same_bytes_whatever_the_path)
{
	struct klbd_state a, b;
	uint8_t *ea, *eb;
	size_t la, lb;
	int cut;

	history(&a, -1);
	snapshot(&a, &ea, &la);
	ASSERT_EQ(2, a.n_svcs);
	ASSERT_NE(NULL, a.svcs[1].table);
	for (cut = 0; cut < 6; cut++) {
		history(&b, cut);
		snapshot(&b, &eb, &lb);
		ASSERT_EQ(la, lb);
		EXPECT_EQ(0, memcmp(ea, eb, la)) TH_LOG("snapshot at step %d", cut);
		free(eb);
		state_free(&b);
	}
	free(ea);
	state_free(&a);
}

TEST(a_removed_backend_moves_only_its_own_entries)
{
	const struct state_service *svc;
	struct klb_service_key key = { .proto = IPPROTO_TCP };
	struct klbd_state s;
	uint16_t *before;
	uint32_t i, size, moved = 0, its = 0;
	int i2;

	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", KLB_TABLE_SIZE_DEFAULT)));
	for (i2 = 0; i2 < 6; i2++)
		ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
					      backends[i2], 0)));
	key.vip = ep4("203.0.113.10", 80);
	svc = state_find(&s, &key);
	ASSERT_NE(NULL, svc);
	size = svc->conf.table_size;
	before = malloc(size * sizeof(*before));
	memcpy(before, svc->table, size * sizeof(*before));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_DEL, "203.0.113.10",
				      backends[3], 0)));
	svc = state_find(&s, &key);
	for (i = 0; i < size; i++) {
		its += before[i] == 3;
		moved += before[i] != svc->table[i];
		EXPECT_NE(3, svc->table[i]);
	}
	EXPECT_EQ(its, moved);
	free(before);
	state_free(&s);
}

TEST(refused_commands_change_nothing)
{
	struct klbd_state s;
	struct klbd_cmd c;
	uint8_t *e1, *e2;
	size_t l1, l2;
	char why[160];

	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[0], 0)));
	snapshot(&s, &e1, &l1);
	EXPECT_EQ(-EEXIST, apply(&s, svc_add("203.0.113.10", 251)));
	EXPECT_EQ(-ENOENT, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.99",
					    backends[0], 0)));
	EXPECT_EQ(-EEXIST, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
					    backends[0], 0)));
	EXPECT_EQ(-ENOENT, apply(&s, be_cmd(KLBD_CMD_BACKEND_DEL, "203.0.113.10",
					    backends[1], 0)));
	EXPECT_EQ(-EINVAL, apply(&s, be_cmd(KLBD_CMD_BACKEND_SET, "203.0.113.10",
					    backends[0], KLB_WEIGHT_MAX + 1)));
	EXPECT_EQ(-EINVAL, apply(&s, svc_add("203.0.113.11", 250)));	/* not prime */
	c = svc_add("203.0.113.12", 251);
	c.conf.fields &= ~KLB_SVC_SEED;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	c = svc_add("203.0.113.10", 251);
	c.op = KLBD_CMD_SERVICE_SET;
	c.conf.fields = KLB_SVC_BOUND;
	c.conf.bound = 5;
	EXPECT_EQ(-EINVAL, state_apply(&s, &c, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "bound must be", 13)) TH_LOG("%s", why);
	c = be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10", backends[1], 0);
	c.be.addr.family = AF_INET6;
	EXPECT_EQ(-EINVAL, state_apply(&s, &c, why, sizeof(why)));
	snapshot(&s, &e2, &l2);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	free(e1);
	free(e2);
	state_free(&s);
}

TEST(snapshot_decoding_is_strict)
{
	struct klbd_state s, t;
	uint8_t *buf;
	size_t len, i;
	char why[160];

	state_init(&s);
	state_init(&t);
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[0], 0)));
	snapshot(&s, &buf, &len);
	/* Every truncation refused; t unchanged (empty). */
	for (i = 0; i < len; i++)
		EXPECT_EQ(-EBADMSG, state_decode(&t, buf, i, why, sizeof(why)));
	EXPECT_EQ(0, t.n_svcs);
	/* A table entry naming a backend that does not exist. */
	buf[len - 2] = 77;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "service 0: table names backend 77", 33)) TH_LOG("%s", why);
	buf[0] ^= 1;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	free(buf);
	state_free(&s);
}

TEST(commands_round_trip_and_are_strict)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_BACKEND_SET, "203.0.113.10",
				   backends[0], 5), d;
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n;

	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	EXPECT_EQ(0, memcmp(&c.be.addr, &d.be.addr, sizeof(c.be.addr)));
	EXPECT_EQ(5, d.be.weight);
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n - 1, &d, NULL, 0));
	buf[14] = 1;	/* a byte after the IPv4 address */
	EXPECT_NE(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[14] = 0;
	buf[0] = 2;
	EXPECT_EQ(-EPROTO, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[0] = 1;
	buf[1] = 42;
	EXPECT_EQ(-EPROTO, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[1] = KLBD_CMD_BACKEND_SET;
	buf[4] = 1;	/* protocol 1 */
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, NULL, 0));
}

/* Field by field: a struct copy need not copy the padding. */
static bool check_eq(const struct klbd_check *a, const struct klbd_check *b)
{
	return a->fields == b->fields && a->type == b->type &&
	       a->rise == b->rise && a->fall == b->fall && a->port == b->port &&
	       a->http_status == b->http_status &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       !strcmp(a->exec_name, b->exec_name);
}

TEST(check_settings_replicate_and_are_checked)
{
	struct klbd_cmd c = svc_add("203.0.113.10", 251), d;
	const struct state_service *svc;
	struct klbd_state s, t;
	uint8_t buf[KLBD_CMD_MAX_BYTES], *snap;
	size_t len;
	int n, plain;
	char why[160];

	/* Without check settings a command keeps its old bytes. */
	plain = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_GT(plain, 0);
	c.check.fields = KLBD_CHECK_F_TYPE | KLBD_CHECK_F_STATUS |
			 KLBD_CHECK_F_INTERVAL | KLBD_CHECK_F_TIMEOUT;
	c.check.type = KLBD_CHECK_HTTP;
	c.check.http_status = 204;
	c.check.interval_ms = 200;
	c.check.timeout_ms = 150;
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(plain + 20, n);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	EXPECT_TRUE(check_eq(&c.check, &d.check));
	buf[plain] = 0;		/* a check block that sets nothing */
	buf[plain + 1] = 0;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, why, sizeof(why)));

	state_init(&s);
	ASSERT_EQ(0, apply(&s, c));
	svc = &s.svcs[0];
	EXPECT_EQ(KLBD_CHECK_HTTP, svc->check.type);
	EXPECT_EQ(204, svc->check.http_status);
	EXPECT_EQ(200, svc->check.interval_ms);
	EXPECT_EQ(150, svc->check.timeout_ms);
	EXPECT_EQ(KLBD_CHECK_RISE_DEFAULT, svc->check.rise);

	/* Out of bounds: refused, nothing changes. */
	c.op = KLBD_CMD_SERVICE_SET;
	c.conf.fields = 0;
	c.check.fields = KLBD_CHECK_F_TIMEOUT;
	c.check.timeout_ms = 300;	/* over the 200 ms interval */
	EXPECT_EQ(-EINVAL, apply(&s, c));
	c.check.fields = KLBD_CHECK_F_FALL;
	c.check.fall = 0;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	EXPECT_EQ(150, s.svcs[0].check.timeout_ms);
	EXPECT_EQ(KLBD_CHECK_FALL_DEFAULT, s.svcs[0].check.fall);
	c.check.fields = KLBD_CHECK_F_FALL | KLBD_CHECK_F_PORT;
	c.check.fall = 3;
	c.check.port = 8081;
	EXPECT_EQ(0, apply(&s, c));
	EXPECT_EQ(3, s.svcs[0].check.fall);
	EXPECT_EQ(KLBD_CHECK_HTTP, s.svcs[0].check.type);

	/* Through a snapshot, the same settings. */
	snapshot(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	/* Version 1 (no check block) still reads, with no check. */
	snap[4] = 1;
	memmove(snap + 12 + 62, snap + 12 + 62 + 20, len - 12 - 62 - 20);
	ASSERT_EQ(0, state_decode(&t, snap, len - 20, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(KLBD_CHECK_NONE, t.svcs[0].check.type);
	free(snap);
	state_free(&t);
	state_free(&s);
}

TEST(exec_check_names)
{
	static const struct {
		const char *name;
		bool valid;
	} names[] = {
		{ "http-ok", true }, { "A_b-9", true },
		{ "abcdefghijabcdefghijabcdefghij12", true },	/* 32 */
		{ "abcdefghijabcdefghijabcdefghij123", false },
		{ "", false }, { "../x", false }, { "a/b", false }, { ".", false },
		{ "a b", false }, { "a\n", false }, { "é", false },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		EXPECT_EQ(names[i].valid, klbd_check_name_valid(names[i].name,
								 strlen(names[i].name)))
			TH_LOG("name %zu", i);
}

/* The check block of an encoded service command: after key, conf, clear. */
#define CHECK_AT	(4 + 22 + 36 + 4)

TEST(exec_check_replicates_its_name_only)
{
	struct klbd_cmd c = svc_add("203.0.113.10", 251), d;
	struct klbd_state s, t;
	uint8_t buf[KLBD_CMD_MAX_BYTES], *snap;
	size_t len;
	char why[160];
	int n;

	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.type = KLBD_CHECK_EXEC;
	strcpy(c.check.exec_name, "app-ok");
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(CHECK_AT + 20 + 6, n);
	EXPECT_EQ(6, buf[CHECK_AT + 7]);
	EXPECT_EQ(0, memcmp(buf + CHECK_AT + 20, "app-ok", 6));
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&c.check, &d.check));
	/* Forged names and lengths are refused. */
	buf[CHECK_AT + 20 + 3] = '/';
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[CHECK_AT + 20 + 3] = '.';
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[CHECK_AT + 20 + 3] = '-';
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n - 1, &d, NULL, 0));
	buf[CHECK_AT + 7] = 7;		/* longer than what is there */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[CHECK_AT + 7] = 6;
	buf[CHECK_AT + 4] = KLBD_CHECK_HTTP;	/* a name with another type */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[CHECK_AT + 4] = KLBD_CHECK_EXEC;
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	/* exec without a name: refused by the encoding and by the state. */
	c.check.exec_name[0] = '\0';
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	state_init(&s);
	EXPECT_EQ(-EINVAL, state_apply(&s, &c, why, sizeof(why)));
	EXPECT_EQ(0, s.n_svcs);
	/* The longest name fits a command. */
	strcpy(c.check.exec_name, "abcdefghijabcdefghijabcdefghij12");
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(CHECK_AT + 20 + KLBD_CHECK_NAME_MAX, n);
	ASSERT_LE(n, KLBD_CMD_MAX_BYTES);
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_STREQ("abcdefghijabcdefghijabcdefghij12", s.svcs[0].check.exec_name);

	/* Another name is another check: verdicts start over. */
	ASSERT_EQ(0, state_set_voters(&s, (const uint64_t[]){ 1 }, 1));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[0], 0)));
	{
		struct klbd_cmd v = be_cmd(KLBD_CMD_HEALTH, "203.0.113.10",
					   backends[0], 0);

		v.node = 1;
		v.failing = true;
		ASSERT_EQ(0, apply(&s, v));
	}
	EXPECT_EQ(1, s.svcs[0].health[0].failing);
	c.op = KLBD_CMD_SERVICE_SET;
	c.conf.fields = 0;
	strcpy(c.check.exec_name, "other");
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_EQ(0, s.svcs[0].health[0].failing);
	/* A timing change keeps the name (and the verdicts). */
	c.check.fields = KLBD_CHECK_F_INTERVAL;
	c.check.interval_ms = 2000;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_STREQ("other", s.svcs[0].check.exec_name);

	/* Through a snapshot (version 3), the same name. */
	snapshot(&s, &snap, &len);
	EXPECT_EQ(STATE_SNAPSHOT_VERSION, snap[4]);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	state_free(&t);
	/* Version 2 had no names: one there is refused. */
	snap[4] = 2;
	EXPECT_EQ(-EBADMSG, state_decode(&t, snap, len, NULL, 0));
	free(snap);

	/* Another type drops the name; version 2 bytes decode the same. */
	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.type = KLBD_CHECK_DNS;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_STREQ("", s.svcs[0].check.exec_name);
	snapshot(&s, &snap, &len);
	snap[4] = 2;
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	free(snap);
	state_free(&t);
	state_free(&s);
}

static struct klbd_cmd verdict(const char *be, uint64_t node, bool failing)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_HEALTH, "203.0.113.10", be, 0);

	c.node = node;
	c.failing = failing;
	return c;
}

static uint8_t be_state(const struct klbd_state *s, size_t j)
{
	return s->svcs[0].bes[j].state;
}

TEST(a_majority_fails_a_backend_and_the_operator_wins)
{
	static const uint64_t voters[] = { 30, 10, 20 };
	struct klbd_state s, t;
	uint8_t *e1, *e2;
	size_t l1, l2;
	char why[160];

	state_init(&s);
	ASSERT_EQ(0, state_set_voters(&s, voters, 3));
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[0], 0)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[1], 0)));

	/* One gateway alone (its own broken link): not failed over. */
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 20, true)));
	EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 0));
	EXPECT_EQ(0x2, s.svcs[0].health[0].failing);	/* 20: the 2nd voter */
	/* A second one: a majority, down in the table too. */
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 30, true)));
	EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 0));
	EXPECT_EQ(KLB_BACKEND_UP, s.svcs[0].health[0].admin);
	for (l1 = 0; l1 < 251; l1++)
		ASSERT_NE(s.svcs[0].bes[0].id, s.svcs[0].table[l1]);
	/* Unknown voters and forged bytes are refused, nothing changes. */
	EXPECT_EQ(-EINVAL, apply(&s, verdict(backends[0], 99, false)));
	EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 0));

	/* Through a snapshot, the same verdicts. */
	snapshot(&s, &e1, &l1);
	state_init(&t);
	ASSERT_EQ(0, state_set_voters(&t, voters, 3));
	ASSERT_EQ(0, state_decode(&t, e1, l1, why, sizeof(why))) TH_LOG("%s", why);
	snapshot(&t, &e2, &l2);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	free(e1);
	free(e2);
	state_free(&t);

	/* The operator drains: health still says down, the kernel too. */
	{
		struct klbd_cmd c = be_cmd(KLBD_CMD_BACKEND_SET, "203.0.113.10",
					   backends[0], 0);

		c.be.fields = KLB_BE_STATE;
		c.be.state = KLB_BACKEND_DRAIN;
		ASSERT_EQ(0, apply(&s, c));
		EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 0));
		/* Healthy again from a majority: the drain holds. */
		ASSERT_EQ(0, apply(&s, verdict(backends[0], 20, false)));
		EXPECT_EQ(KLB_BACKEND_DRAIN, be_state(&s, 0));
		/* An operator's down wins over a healthy verdict. */
		c.be.state = KLB_BACKEND_DOWN;
		ASSERT_EQ(0, apply(&s, c));
		ASSERT_EQ(0, apply(&s, verdict(backends[0], 30, false)));
		EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 0));
		c.be.state = KLB_BACKEND_UP;
		ASSERT_EQ(0, apply(&s, c));
		EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 0));
	}

	/* A new kind of check starts every backend healthy. */
	ASSERT_EQ(0, apply(&s, verdict(backends[1], 10, true)));
	ASSERT_EQ(0, apply(&s, verdict(backends[1], 20, true)));
	EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 1));
	{
		struct klbd_cmd c = svc_add("203.0.113.10", 251);

		c.op = KLBD_CMD_SERVICE_SET;
		c.conf.fields = 0;
		c.check.fields = KLBD_CHECK_F_TYPE;
		c.check.type = KLBD_CHECK_TCP;
		ASSERT_EQ(0, apply(&s, c));
	}
	EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 1));
	EXPECT_EQ(0, s.svcs[0].health[1].failing);
	state_free(&s);
}

TEST(a_failed_over_backend_moves_only_its_own_entries)
{
	static const uint64_t voters[] = { 1, 2, 3 };
	struct klbd_state s;
	uint16_t *before;
	uint32_t i, size, moved = 0, its = 0;
	int j;

	state_init(&s);
	ASSERT_EQ(0, state_set_voters(&s, voters, 3));
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", KLB_TABLE_SIZE_DEFAULT)));
	for (j = 0; j < 3; j++)
		ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
					      backends[j], 0)));
	size = s.svcs[0].conf.table_size;
	before = malloc(size * sizeof(*before));
	memcpy(before, s.svcs[0].table, size * sizeof(*before));
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 1, true)));
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 2, true)));
	/* A verdict that changes nothing the kernel gets moves nothing. */
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 3, true)));
	for (i = 0; i < size; i++) {
		its += before[i] == 0;
		moved += before[i] != s.svcs[0].table[i];
		EXPECT_NE(0, s.svcs[0].table[i]);
	}
	EXPECT_EQ(its, moved);
	free(before);
	state_free(&s);
}

TEST(health_commands_are_strict)
{
	struct klbd_cmd c = verdict(backends[0], 7, true), d;
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n = klbd_cmd_encode(&c, buf, sizeof(buf));

	ASSERT_GT(n, 0);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	EXPECT_EQ(7, d.node);
	EXPECT_TRUE(d.failing);
	buf[n - 4] = 2;		/* failing is 0 or 1 */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[n - 4] = 1;
	buf[n - 1] = 1;		/* padding */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	c.node = 0;
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
}

TEST_HARNESS_MAIN
