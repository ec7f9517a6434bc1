// SPDX-License-Identifier: GPL-2.0
/*
 * The replicated state: the same commands give byte-identical states
 * (tables included) whatever the path (straight, or through a snapshot);
 * a change moves only the table entries it must, and a backend that comes
 * back gets its old entries back (base tables); refused commands change
 * nothing; snapshots and commands are decoded strictly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/state.h"
#include "lib/klb_tables.h"

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

/* The operator sets a backend's state. */
static struct klbd_cmd state_cmd(const char *vip, const char *be, uint8_t state)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_BACKEND_SET, vip, be, 0);

	c.be.fields = KLB_BE_STATE;
	c.be.state = state;
	return c;
}

/* A weight, 0 included (be_cmd() leaves a 0 weight out). */
static struct klbd_cmd weight_cmd(const char *vip, const char *be, uint32_t weight)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_BACKEND_SET, vip, be, 0);

	c.be.fields = KLB_BE_WEIGHT;
	c.be.weight = weight;
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

/* A version 4 snapshot's lease section when no backend has a lease. */
#define NO_LEASES_BYTES	12
/* Version 6's flags, after the leases. */
#define FLAGS_BYTES	4

/* A snapshot as version 5 wrote it: the same bytes, without the flags. */
static void snapshot_v5(struct klbd_state *s, uint8_t **buf, size_t *len)
{
	snapshot(s, buf, len);
	*len -= FLAGS_BYTES;
	(*buf)[4] = 5;
}

/* A snapshot as version 3 wrote it: the same bytes, without the leases. */
static void snapshot_v3(struct klbd_state *s, uint8_t **buf, size_t *len)
{
	snapshot_v5(s, buf, len);
	*len -= NO_LEASES_BYTES;
	(*buf)[4] = 3;
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
		/* A base table that goes through the later cuts. */
		if (i == 1)
			apply(s, state_cmd("203.0.113.11", backends[0], KLB_BACKEND_DOWN));
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
	apply(s, state_cmd("203.0.113.11", backends[0], KLB_BACKEND_UP));
	apply(s, state_cmd("203.0.113.10", backends[3], KLB_BACKEND_DRAIN));
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
	ASSERT_NE(NULL, a.svcs[0].base);	/* the drained backend's slots */
	ASSERT_EQ(NULL, a.svcs[1].base);	/* back: nothing reserved */
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
	snapshot_v3(&s, &buf, &len);
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
	       !strcmp(a->exec_name, b->exec_name) && a->via_vip == b->via_vip;
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
	snapshot_v3(&s, &snap, &len);
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
	EXPECT_EQ(-EBADMSG, state_decode(&t, snap, len - NO_LEASES_BYTES - FLAGS_BYTES,
					 NULL, 0));
	free(snap);

	/* Another type drops the name; version 2 bytes decode the same. */
	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.type = KLBD_CHECK_DNS;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_STREQ("", s.svcs[0].check.exec_name);
	snapshot_v3(&s, &snap, &len);
	snap[4] = 2;
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	free(snap);
	state_free(&t);
	state_free(&s);
}

TEST(via_vip_replicates_on_tunnel_services_only)
{
	struct klbd_cmd c = svc_add("203.0.113.10", 251), d;
	struct klbd_state s, t;
	uint8_t buf[KLBD_CMD_MAX_BYTES], *snap;
	size_t len;
	char why[160];
	int n;

	c.conf.fields |= KLB_SVC_FWD;
	c.conf.fwd = KLB_FWD_TUNNEL;
	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.type = KLBD_CHECK_TCP;
	/* Without via-vip: the bytes a command always had. */
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(CHECK_AT + 20, n);
	c.check.fields |= KLBD_CHECK_F_VIA_VIP;
	c.check.via_vip = true;
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(CHECK_AT + 20 + 4, n);
	EXPECT_EQ(1, buf[CHECK_AT + 20]);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&c.check, &d.check));
	/* Strict: one value, zero padding, all of it there. */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n - 1, &d, NULL, 0));
	buf[CHECK_AT + 20] = 2;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[CHECK_AT + 20] = 1;
	buf[CHECK_AT + 22] = 1;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));

	state_init(&s);
	/* Not through nat, not with another kind: refused, nothing added. */
	c.conf.fwd = KLB_FWD_NAT;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	c.conf.fwd = KLB_FWD_TUNNEL;
	c.check.type = KLBD_CHECK_HTTP;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	EXPECT_EQ(0, s.n_svcs);
	c.check.type = KLBD_CHECK_TCP;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_TRUE(s.svcs[0].check.via_vip);
	/* The service cannot turn to nat under it. */
	c.op = KLBD_CMD_SERVICE_SET;
	c.conf.fields = KLB_SVC_FWD;
	c.conf.fwd = KLB_FWD_NAT;
	c.check.fields = 0;
	EXPECT_EQ(-EINVAL, state_apply(&s, &c, why, sizeof(why)));
	EXPECT_EQ(KLB_FWD_TUNNEL, s.svcs[0].conf.fwd);
	c.conf.fields = 0;

	/* Through a snapshot (version 5), the same check. */
	snapshot_v5(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	state_free(&t);
	/* Version 4 had no via-vip: one there is refused. */
	snap[4] = 4;
	EXPECT_EQ(-EBADMSG, state_decode(&t, snap, len, NULL, 0));
	free(snap);

	/* A new type clears it; version 4 bytes then decode the same. */
	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.via_vip = false;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_FALSE(s.svcs[0].check.via_vip);
	snapshot_v5(&s, &snap, &len);
	snap[4] = 4;
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(check_eq(&s.svcs[0].check, &t.svcs[0].check));
	free(snap);
	state_free(&t);
	/* And via-vip alone sets it on the tcp check there is. */
	c.check.fields = KLBD_CHECK_F_VIA_VIP;
	c.check.via_vip = true;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_TRUE(s.svcs[0].check.via_vip);
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

/*
 * Verdicts are bits by voter position: a configuration change must carry
 * each gateway's verdict to its new position, and the kernel's state
 * must follow the new majority at that index.
 */
TEST(verdicts_follow_their_gateway_through_a_membership_change)
{
	static const uint64_t four[] = { 1, 2, 3, 4 }, three[] = { 2, 3, 4 };
	static const uint64_t two_three[] = { 2, 3 };
	struct klbd_state s;
	const struct state_service *svc;
	uint16_t id;

	state_init(&s);
	ASSERT_EQ(0, state_set_voters(&s, four, 4));
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[0], 0)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, "203.0.113.10",
				      backends[1], 0)));
	/* 3 and 4 of four see backend 0 failing: no majority. */
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 3, true)));
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 4, true)));
	EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 0));
	EXPECT_EQ(0xc, s.svcs[0].health[0].failing);

	/* 1 leaves: 3 and 4 are now the 2nd and 3rd voters, two of three. */
	ASSERT_EQ(0, state_change_voters(&s, three, 3));
	EXPECT_EQ(0x6, s.svcs[0].health[0].failing);
	EXPECT_EQ(KLB_BACKEND_DOWN, be_state(&s, 0));
	svc = &s.svcs[0];
	id = svc->bes[0].id;
	for (uint32_t i = 0; i < svc->conf.table_size; i++)
		ASSERT_NE(id, svc->table[i]);

	/* 3 takes its verdict back: its own bit, not another's. */
	ASSERT_EQ(0, apply(&s, verdict(backends[0], 3, false)));
	EXPECT_EQ(0x4, s.svcs[0].health[0].failing);
	EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 0));

	/* 4 leaves: its verdict goes with it. */
	ASSERT_EQ(0, state_change_voters(&s, two_three, 2));
	EXPECT_EQ(0, s.svcs[0].health[0].failing);
	EXPECT_EQ(KLB_BACKEND_UP, be_state(&s, 0));
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

/*
 * Base tables. The Maglev library's contract (lib/maglev.h,
 * Documentation/maglev.md): a backend that becomes unavailable and comes
 * back with nothing else changed gets exactly its old slots, so the table
 * is the one before it left; after other changes its reservation is a
 * preference (it takes back the reserved slots whose holders are above
 * their quota, and fills the rest of its quota like a new backend). A
 * slot's base entry names one backend: the last that held it, so when
 * another backend that took over some of those slots leaves in turn,
 * those slots are reserved for it from then on.
 */

#define VIP		"203.0.113.10"
#define NR_BES		5
#define BIG		KLB_TABLE_SIZE_DEFAULT

static const uint64_t three_voters[] = { 1, 2, 3 };

/* Five backends of weights 1, 2, 3, 1, 2 (ids 0..4), three voters. */
static void five_backends(struct klbd_state *s)
{
	int j;

	state_init(s);
	if (state_set_voters(s, three_voters, 3) || apply(s, svc_add(VIP, BIG)))
		abort();
	for (j = 0; j < NR_BES; j++)
		if (apply(s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[j], j % 3 + 1)))
			abort();
}

static uint16_t *copy_table(const struct state_service *svc)
{
	uint16_t *t = malloc(svc->conf.table_size * sizeof(*t));

	if (!t || !svc->table)
		abort();
	memcpy(t, svc->table, svc->conf.table_size * sizeof(*t));
	return t;
}

static uint32_t count_id(const uint16_t *t, uint32_t m, uint16_t id)
{
	uint32_t i, n = 0;

	for (i = 0; i < m; i++)
		n += t[i] == id;
	return n;
}

static uint32_t count_moved(const uint16_t *a, const uint16_t *b, uint32_t m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m; i++)
		n += a[i] != b[i];
	return n;
}

/*
 * The base reserves for id exactly the slots it held in before, except
 * those that other held in lost (when not NULL), and follows the table
 * everywhere else.
 */
static bool reserves_but(const struct state_service *svc, const uint16_t *before,
			 uint16_t id, const uint16_t *lost, uint16_t other)
{
	uint32_t i;

	if (!svc->base || !svc->table)
		return false;
	for (i = 0; i < svc->conf.table_size; i++) {
		bool mine = before[i] == id && !(lost && lost[i] == other);

		if (svc->base[i] != (mine ? id : svc->table[i]))
			return false;
	}
	return true;
}

static bool reserves_exactly(const struct state_service *svc,
			     const uint16_t *before, uint16_t id)
{
	return reserves_but(svc, before, id, NULL, 0);
}

enum leave_how { BY_OPERATOR_DOWN, BY_DRAIN, BY_WEIGHT_0, BY_HEALTH, NR_HOW };

static const char *const how_names[] = {
	"operator down", "drain", "weight 0", "failed over by health checks",
};

static void leave(struct klbd_state *s, enum leave_how how, int j)
{
	int err = 0;

	switch (how) {
	case BY_OPERATOR_DOWN:
		err = apply(s, state_cmd(VIP, backends[j], KLB_BACKEND_DOWN));
		break;
	case BY_DRAIN:
		err = apply(s, state_cmd(VIP, backends[j], KLB_BACKEND_DRAIN));
		break;
	case BY_WEIGHT_0:
		err = apply(s, weight_cmd(VIP, backends[j], 0));
		break;
	default: {
		struct klbd_cmd c = be_cmd(KLBD_CMD_HEALTH, VIP, backends[j], 0);

		c.failing = true;
		c.node = 1;
		err = apply(s, c);
		c.node = 2;
		err = err ?: apply(s, c);
		break;
	}
	}
	if (err)
		abort();
}

static void come_back(struct klbd_state *s, enum leave_how how, int j)
{
	int err;

	if (how == BY_WEIGHT_0) {
		err = apply(s, weight_cmd(VIP, backends[j], j % 3 + 1));
	} else if (how == BY_HEALTH) {
		struct klbd_cmd c = be_cmd(KLBD_CMD_HEALTH, VIP, backends[j], 0);

		c.node = 2;	/* one voter of three left: no majority */
		err = apply(s, c);
	} else {
		err = apply(s, state_cmd(VIP, backends[j], KLB_BACKEND_UP));
	}
	if (err)
		abort();
}

TEST(a_backend_that_comes_back_gets_exactly_its_old_slots)
{
	uint16_t *t0, *t1;
	struct klbd_state s;
	int how, j;

	for (how = 0; how < NR_HOW; how++) {
		for (j = 0; j < NR_BES; j++) {
			const struct state_service *svc;
			uint32_t had;

			five_backends(&s);
			svc = &s.svcs[0];
			t0 = copy_table(svc);
			EXPECT_EQ(NULL, svc->base);
			had = count_id(t0, BIG, j);
			ASSERT_GT(had, 0);

			leave(&s, how, j);
			svc = &s.svcs[0];
			t1 = copy_table(svc);
			EXPECT_EQ(0, count_id(t1, BIG, j)) TH_LOG("%s", how_names[how]);
			/* Only its slots moved; the base remembers them. */
			EXPECT_EQ(had, count_moved(t0, t1, BIG)) TH_LOG("%s", how_names[how]);
			EXPECT_TRUE(reserves_exactly(svc, t0, j)) TH_LOG("%s", how_names[how]);

			come_back(&s, how, j);
			svc = &s.svcs[0];
			/* All of them back, and only they moved: the table is t0. */
			EXPECT_EQ(had, count_moved(t1, svc->table, BIG))
				TH_LOG("%s, backend %d", how_names[how], j);
			EXPECT_EQ(0, memcmp(t0, svc->table, BIG * sizeof(*t0)))
				TH_LOG("%s, backend %d", how_names[how], j);
			EXPECT_EQ(NULL, svc->base);
			free(t0);
			free(t1);
			state_free(&s);
		}
	}
}

static void through_snapshot(struct klbd_state *s, uint32_t *version,
			     uint32_t *tables)
{
	struct klbd_state n;
	uint8_t *buf;
	size_t len;

	snapshot(s, &buf, &len);
	*version = buf[4] | buf[5] << 8;
	*tables = buf[12 + 62 - 4];	/* the first service's */
	state_init(&n);
	if (state_set_voters(&n, s->voters, s->n_voters) ||
	    state_decode(&n, buf, len, NULL, 0))
		abort();
	free(buf);
	state_free(s);
	*s = n;
}

TEST(the_old_slots_come_back_through_a_snapshot)
{
	struct klbd_state s, straight;
	uint32_t version, tables;
	uint8_t *e1, *e2;
	size_t l1, l2;
	uint16_t *t0;

	five_backends(&s);
	five_backends(&straight);
	t0 = copy_table(&s.svcs[0]);
	leave(&s, BY_HEALTH, 1);
	leave(&straight, BY_HEALTH, 1);
	through_snapshot(&s, &version, &tables);
	EXPECT_EQ(STATE_SNAPSHOT_VERSION, version);
	EXPECT_EQ(2, tables);	/* the table and its base */
	EXPECT_TRUE(reserves_exactly(&s.svcs[0], t0, 1));
	come_back(&s, BY_HEALTH, 1);
	come_back(&straight, BY_HEALTH, 1);
	EXPECT_EQ(0, memcmp(t0, s.svcs[0].table, BIG * sizeof(*t0)));
	/* The same bytes as the state that never went through one. */
	snapshot(&s, &e1, &l1);
	snapshot(&straight, &e2, &l2);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	free(e1);
	free(e2);
	free(t0);
	state_free(&straight);
	state_free(&s);
}

TEST(the_base_survives_other_changes)
{
	const struct state_service *svc;
	struct klb_backend *bes_before;
	struct klbd_state s;
	uint16_t *t0, *t1, *nobase;
	uint32_t had, back = 0, back_nobase = 0, moved, to_it = 0, i, n_before;
	uint32_t lost = 0;
	struct klb_table_input in;
	klb_error e = { 0 };

	five_backends(&s);
	t0 = copy_table(&s.svcs[0]);
	had = count_id(t0, BIG, 0);
	leave(&s, BY_OPERATOR_DOWN, 0);
	/* Another weight, a new backend, a removed one: still reserved. */
	ASSERT_EQ(0, apply(&s, weight_cmd(VIP, backends[2], 5)));
	EXPECT_TRUE(reserves_exactly(&s.svcs[0], t0, 0));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[5], 2)));
	EXPECT_TRUE(reserves_exactly(&s.svcs[0], t0, 0));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_DEL, VIP, backends[4], 0)));
	EXPECT_TRUE(reserves_exactly(&s.svcs[0], t0, 0));
	/*
	 * Another backend drained and back in between: it gets its slots
	 * back (the table is as before), and the slots of backend 0 that it
	 * held are no longer reserved for 0 (it was their last holder).
	 */
	t1 = copy_table(&s.svcs[0]);
	for (i = 0; i < BIG; i++)
		lost += t0[i] == 0 && t1[i] == 3;
	ASSERT_GT(lost, 0);
	leave(&s, BY_DRAIN, 3);
	come_back(&s, BY_DRAIN, 3);
	EXPECT_EQ(0, memcmp(t1, s.svcs[0].table, BIG * sizeof(*t1)));
	EXPECT_TRUE(reserves_but(&s.svcs[0], t0, 0, t1, 3));

	svc = &s.svcs[0];
	n_before = svc->n_bes;
	bes_before = malloc(n_before * sizeof(*bes_before));
	ASSERT_NE(NULL, bes_before);
	memcpy(bes_before, svc->bes, n_before * sizeof(*bes_before));
	come_back(&s, BY_OPERATOR_DOWN, 0);
	svc = &s.svcs[0];
	EXPECT_EQ(NULL, svc->base);

	/* What a caller without a base table (klbctl --direct) would get. */
	nobase = malloc(BIG * sizeof(*nobase));
	ASSERT_NE(NULL, nobase);
	in = (struct klb_table_input){
		.conf = &svc->conf, .old_bes = bes_before, .nr_old = n_before,
		.old_table = t1, .new_bes = svc->bes, .nr_new = svc->n_bes,
	};
	ASSERT_LT(0, klb_table_compute(&in, nobase, &e));

	moved = count_moved(t1, svc->table, BIG);
	for (i = 0; i < BIG; i++) {
		back += t0[i] == 0 && svc->table[i] == 0;
		back_nobase += t0[i] == 0 && nobase[i] == 0;
		to_it += t1[i] != svc->table[i] && svc->table[i] == 0;
	}
	TH_LOG("backend 0 back after other changes: %u of its %u old slots", back, had);
	TH_LOG("(%u still reserved, %u without a base table)", had - lost, back_nobase);
	TH_LOG("%u slots moved, %u of them to it", moved, to_it);
	/*
	 * The weaker contract: moves go to the returning backend (up to two
	 * more where the integer quotas force them), and it gets back more
	 * of its old slots than it would without its base table.
	 */
	EXPECT_LE(moved, to_it + 2);
	EXPECT_EQ(count_id(svc->table, BIG, 0), to_it);
	EXPECT_GT(back, back_nobase);
	free(nobase);
	free(bes_before);
	free(t1);
	free(t0);
	state_free(&s);
}

TEST(everything_down_keeps_no_base)
{
	struct klbd_state s;
	uint32_t version, tables;
	uint16_t *t1;

	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add(VIP, BIG)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[0], 1)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[1], 3)));
	ASSERT_EQ(0, apply(&s, state_cmd(VIP, backends[0], KLB_BACKEND_DOWN)));
	ASSERT_NE(NULL, s.svcs[0].base);
	ASSERT_EQ(0, apply(&s, state_cmd(VIP, backends[1], KLB_BACKEND_DOWN)));
	/* No table for the kernel, and no base: nothing to come back to. */
	EXPECT_EQ(NULL, s.svcs[0].table);
	EXPECT_EQ(NULL, s.svcs[0].base);
	through_snapshot(&s, &version, &tables);
	EXPECT_EQ(0, tables);
	/* Built from scratch: the first back holds every slot. */
	ASSERT_EQ(0, apply(&s, state_cmd(VIP, backends[0], KLB_BACKEND_UP)));
	EXPECT_EQ(BIG, count_id(s.svcs[0].table, BIG, 0));
	EXPECT_EQ(NULL, s.svcs[0].base);
	t1 = copy_table(&s.svcs[0]);
	ASSERT_EQ(0, apply(&s, state_cmd(VIP, backends[1], KLB_BACKEND_UP)));
	/* Then incrementally: only the slots going to the other move. */
	EXPECT_EQ(count_id(s.svcs[0].table, BIG, 1), count_moved(t1, s.svcs[0].table, BIG));
	free(t1);
	state_free(&s);
}

/* The first service's tables field and where its tables start. */
#define SNAP_TABLES_AT	(12 + 62 - 4)

TEST(a_version_2_snapshot_reads_with_no_base)
{
	struct klbd_state s, t;
	uint8_t *buf, *again;
	size_t len, alen, tables_at;
	uint16_t *t0, *t1;
	char why[160];

	five_backends(&s);
	t0 = copy_table(&s.svcs[0]);
	leave(&s, BY_OPERATOR_DOWN, 2);
	t1 = copy_table(&s.svcs[0]);
	snapshot_v3(&s, &buf, &len);
	/* Version 3 with its base, to version 2: the base table goes. */
	tables_at = SNAP_TABLES_AT;
	ASSERT_EQ(2, buf[tables_at]);
	buf[4] = 2;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "service 0: bad counts", 21)) TH_LOG("%s", why);
	buf[tables_at] = 1;
	len -= 2 * BIG;
	state_init(&t);
	ASSERT_EQ(0, state_set_voters(&t, three_voters, 3));
	ASSERT_EQ(0, state_decode(&t, buf, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(NULL, t.svcs[0].base);
	EXPECT_EQ(0, memcmp(t1, t.svcs[0].table, BIG * sizeof(*t1)));
	/* It encodes as today's version, the same but for the version. */
	snapshot(&t, &again, &alen);
	ASSERT_EQ(len + NO_LEASES_BYTES + FLAGS_BYTES, alen);
	EXPECT_EQ(STATE_SNAPSHOT_VERSION, again[4]);
	again[4] = 2;
	EXPECT_EQ(0, memcmp(buf, again, len));
	/* The backend comes back to a fair share, as a new one would. */
	come_back(&t, BY_OPERATOR_DOWN, 2);
	EXPECT_LE(count_moved(t1, t.svcs[0].table, BIG),
		  count_id(t.svcs[0].table, BIG, 2) + 2);
	EXPECT_NE(0, memcmp(t0, t.svcs[0].table, BIG * sizeof(*t0)));
	free(again);
	free(buf);
	free(t0);
	free(t1);
	state_free(&t);
	state_free(&s);
}

TEST(base_tables_are_decoded_strictly)
{
	struct klbd_state s, t;
	uint8_t *buf, *base;
	size_t len, i, at;
	char why[160];

	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add(VIP, 251)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[i], 0)));
	ASSERT_EQ(0, apply(&s, state_cmd(VIP, backends[1], KLB_BACKEND_DOWN)));
	snapshot_v3(&s, &buf, &len);
	state_init(&t);
	base = buf + len - 2 * 251;
	for (at = 0; at < 251 && (base[2 * at] | base[2 * at + 1] << 8) != 1; at++)
		;
	ASSERT_LT(at, 251);	/* a slot reserved for backend 1 */

	/* Reserved for an active backend (the one that holds it, or the other). */
	base[2 * at] = base[2 * at - 2 * 251] == 0 ? 2 : 0;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "service 0: base table reserves slot", 35)) TH_LOG("%s", why);
	/* For a backend that does not exist. */
	base[2 * at] = 9;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "service 0: base table names backend 9", 37)) TH_LOG("%s", why);
	/* Reserving nothing: then there is no base table. */
	memcpy(base, base - 2 * 251, 2 * 251);
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "service 0: base table reserves nothing", 38)) TH_LOG("%s", why);
	/* More tables than a table and its base. */
	buf[SNAP_TABLES_AT] = 3;
	EXPECT_EQ(-EBADMSG, state_decode(&t, buf, len, why, sizeof(why)));
	EXPECT_EQ(0, t.n_svcs);
	free(buf);
	state_free(&s);
}

static struct klbd_cmd leased(const char *be, uint16_t ttl)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_BACKEND_ADD, VIP, be, 0);

	c.ttl = ttl;
	return c;
}

static struct klbd_cmd lease_end(const char *be, uint64_t lease)
{
	struct klbd_cmd c = be_cmd(KLBD_CMD_LEASE_END, VIP, be, 0);

	c.lease = lease;
	return c;
}

TEST(lease_commands_round_trip_and_are_strict)
{
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	struct klbd_cmd c = leased(backends[0], 3600), d;
	char why[160];
	int n;

	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(3600, d.ttl);
	/* The byte before the ttl is 0, as it always was. */
	buf[n - 3] = 1;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[n - 3] = 0;
	/* Over the bound. */
	buf[n - 2] = 3601 & 0xff;
	buf[n - 1] = 3601 >> 8;
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "a lease's ttl is 1 to 3600", 26)) TH_LOG("%s", why);
	/* A ttl on any other backend command. */
	buf[n - 2] = 10;
	buf[n - 1] = 0;
	buf[1] = KLBD_CMD_BACKEND_SET;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[1] = KLBD_CMD_BACKEND_DEL;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	/* Without a ttl, an add has the bytes it always had. */
	c.ttl = 0;
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	EXPECT_EQ(0, buf[n - 1] | buf[n - 2] | buf[n - 3]);

	/* A renewal names a backend; an end, a lease too. */
	c = be_cmd(KLBD_CMD_LEASE_RENEW, VIP, backends[1], 0);
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(4 + 22 + 20, n);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	EXPECT_EQ(0, memcmp(&c.be.addr, &d.be.addr, sizeof(d.be.addr)));
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n + 1, &d, NULL, 0));
	c = lease_end(backends[1], 0x0102030405060708ull);
	n = klbd_cmd_encode(&c, buf, sizeof(buf));
	ASSERT_EQ(4 + 22 + 20 + 8, n);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	EXPECT_EQ(0x0102030405060708ull, d.lease);
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n - 1, &d, NULL, 0));
	buf[4 + 22] = 99;	/* the backend's address family */
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, NULL, 0));
}

TEST(a_lease_ends_only_its_own_backend)
{
	struct klbd_state s, t;
	uint8_t *e1, *e2;
	size_t l1, l2, i;
	struct klbd_cmd set;
	char why[160];

	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add(VIP, 251)));
	ASSERT_EQ(0, apply(&s, leased(backends[0], 10)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_ADD, VIP, backends[1], 0)));
	ASSERT_EQ(0, apply(&s, leased(backends[2], 3)));
	EXPECT_EQ(2, s.lease_seq);
	EXPECT_EQ(10, s.svcs[0].health[0].ttl);
	EXPECT_EQ(1, s.svcs[0].health[0].lease);
	EXPECT_EQ(0, s.svcs[0].health[1].lease);
	EXPECT_EQ(2, s.svcs[0].health[2].lease);
	/* A renewal is never a log entry. */
	EXPECT_EQ(-EINVAL, apply(&s, be_cmd(KLBD_CMD_LEASE_RENEW, VIP, backends[0], 0)));
	/* The operator drains a leased backend: the lease stays. */
	set = state_cmd(VIP, backends[0], KLB_BACKEND_DRAIN);
	ASSERT_EQ(0, apply(&s, set));
	EXPECT_EQ(1, s.svcs[0].health[0].lease);
	EXPECT_EQ(KLB_BACKEND_DRAIN, s.svcs[0].bes[0].state);

	/* Through a snapshot: the same leases, the same bytes. */
	snapshot(&s, &e1, &l1);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, e1, l1, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(2, t.lease_seq);
	snapshot(&t, &e2, &l2);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	/* Every truncation refused. */
	for (i = 0; i < l1; i++)
		EXPECT_EQ(-EBADMSG, state_decode(&t, e1, i, NULL, 0));
	/*
	 * A lease above the last given; a ttl of 0; a backend that is not
	 * there (the leases end before the flags).
	 */
	e2[l2 - FLAGS_BYTES - 8] = 3;
	EXPECT_EQ(-EBADMSG, state_decode(&t, e2, l2, NULL, 0));
	e2[l2 - FLAGS_BYTES - 8] = 2;
	e2[l2 - FLAGS_BYTES - 10] = 0;
	EXPECT_EQ(-EBADMSG, state_decode(&t, e2, l2, NULL, 0));
	e2[l2 - FLAGS_BYTES - 10] = 3;
	e2[l2 - FLAGS_BYTES - 12] = 0;	/* backend 0 twice */
	EXPECT_EQ(-EBADMSG, state_decode(&t, e2, l2, NULL, 0));
	e2[l2 - FLAGS_BYTES - 12] = 9;
	EXPECT_EQ(-EBADMSG, state_decode(&t, e2, l2, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "lease 1: no such backend", 24)) TH_LOG("%s", why);
	free(e2);
	state_free(&t);

	/* An expiry of another lease, or of an unleased backend: nothing. */
	EXPECT_EQ(-ESTALE, apply(&s, lease_end(backends[0], 2)));
	EXPECT_EQ(-EPERM, apply(&s, lease_end(backends[1], 0)));
	EXPECT_EQ(-ENOENT, apply(&s, lease_end(backends[3], 1)));
	snapshot(&s, &e2, &l2);
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	free(e2);
	free(e1);
	/* Its own lease ends it. */
	ASSERT_EQ(0, apply(&s, lease_end(backends[0], 1)));
	EXPECT_EQ(2, s.svcs[0].n_bes);
	/* Registered again: a new lease, which the old expiry cannot end. */
	ASSERT_EQ(0, apply(&s, leased(backends[0], 5)));
	EXPECT_EQ(3, s.lease_seq);
	EXPECT_EQ(-ESTALE, apply(&s, lease_end(backends[0], 1)));
	EXPECT_EQ(3, s.svcs[0].n_bes);
	/* A deregistration (any lease) and an operator's delete end leases too. */
	ASSERT_EQ(0, apply(&s, lease_end(backends[0], 0)));
	ASSERT_EQ(0, apply(&s, be_cmd(KLBD_CMD_BACKEND_DEL, VIP, backends[2], 0)));
	EXPECT_EQ(1, s.svcs[0].n_bes);
	EXPECT_EQ(0, s.svcs[0].health[0].lease);
	/* A flush keeps the count: no lease number is given twice. */
	ASSERT_EQ(0, apply(&s, (struct klbd_cmd){ .op = KLBD_CMD_FLUSH }));
	EXPECT_EQ(3, s.lease_seq);
	state_free(&s);
}

/*
 * The bootstrap marker: set by its command, kept by a flush, carried by
 * the snapshot; a state from before the flag is bootstrapped when it
 * holds a service.
 */
TEST(the_bootstrap_marker)
{
	struct klbd_cmd done = { .op = KLBD_CMD_BOOTSTRAP_DONE };
	struct klbd_cmd flush = { .op = KLBD_CMD_FLUSH };
	struct klbd_state s, t;
	uint8_t *snap, cmd[KLBD_CMD_MAX_BYTES];
	size_t len;
	char why[160];

	state_init(&s);
	EXPECT_FALSE(s.bootstrapped);
	/* Its encoding: the header alone, strictly. */
	ASSERT_EQ(4, klbd_cmd_encode(&done, cmd, sizeof(cmd)));
	EXPECT_EQ(KLBD_CMD_BOOTSTRAP_DONE, cmd[1]);
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(cmd, 5, &done, NULL, 0));
	EXPECT_STREQ("bootstrap done", klbd_cmd_name(KLBD_CMD_BOOTSTRAP_DONE));
	done.op = KLBD_CMD_BOOTSTRAP_DONE;

	/* Not bootstrapped: through a snapshot, still not. */
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	snapshot(&s, &snap, &len);
	EXPECT_EQ(STATE_SNAPSHOT_VERSION, snap[4]);
	EXPECT_EQ(6, STATE_SNAPSHOT_VERSION);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_FALSE(t.bootstrapped);
	EXPECT_EQ(1, t.n_svcs);
	state_free(&t);
	free(snap);

	/* The marker, again harmlessly; a flush keeps it. */
	ASSERT_EQ(0, apply(&s, done));
	EXPECT_TRUE(s.bootstrapped);
	ASSERT_EQ(0, apply(&s, done));
	ASSERT_EQ(0, apply(&s, flush));
	EXPECT_EQ(0, s.n_svcs);
	EXPECT_TRUE(s.bootstrapped);
	/* Through a snapshot, with no service left: still bootstrapped. */
	snapshot(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(t.bootstrapped);
	/* Unknown flags, or none at all, are refused; t stays as it was. */
	snap[len - 4] = 3;
	EXPECT_EQ(-EBADMSG, state_decode(&t, snap, len, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "unknown flags", 13)) TH_LOG("%s", why);
	EXPECT_EQ(-EBADMSG, state_decode(&t, snap, len - FLAGS_BYTES, NULL, 0));
	EXPECT_TRUE(t.bootstrapped);
	state_free(&t);
	free(snap);

	/* Version 5, empty: not bootstrapped, whatever the state had. */
	snapshot_v5(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_FALSE(t.bootstrapped);
	state_free(&t);
	free(snap);
	/* Version 5 (and 3) with a service: in use before the flag, bootstrapped. */
	state_free(&s);
	state_init(&s);
	ASSERT_EQ(0, apply(&s, svc_add("203.0.113.10", 251)));
	snapshot_v5(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(t.bootstrapped);
	state_free(&t);
	free(snap);
	snapshot_v3(&s, &snap, &len);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(t.bootstrapped);
	state_free(&t);
	free(snap);
	state_free(&s);
}

TEST_HARNESS_MAIN
