// SPDX-License-Identifier: GPL-2.0
/*
 * SERVICE_REPLACE: one service whole in one command. Its encoding round
 * trips and is decoded strictly (bounds, order, unique ids and addresses,
 * a table naming the service's backends, no stray bytes); applying it
 * creates the service or replaces it in one step, keeps the verdicts of
 * the backends that stay, takes a given table or computes one moving only
 * what must move, and gives byte-identical states straight or through a
 * snapshot; backends that stay keep their leases; a via-vip check
 * travels whole and needs a tunnel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/state.h"
#include "lib/klb_tables.h"

#define VIP	"203.0.113.10"
#define M	251

static struct klb_endpoint ep4(const char *addr, uint16_t port)
{
	struct klb_endpoint ep = { .family = AF_INET, .port = port };

	inet_pton(AF_INET, addr, ep.addr);
	return ep;
}

/* Backends 198.51.100.(first..first+n-1), ids from id0 up. */
static struct klb_backend *bes_make(unsigned int first, unsigned int n,
				    uint16_t id0)
{
	struct klb_backend *bes = calloc(n ? n : 1, sizeof(*bes));
	char a[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "198.51.100.%u", first + i);
		bes[i].fields = KLB_BE_ID | KLB_BE_WEIGHT | KLB_BE_STATE;
		bes[i].id = id0 + i;
		bes[i].addr = ep4(a, 8080);
		bes[i].weight = 1;
		bes[i].state = KLB_BACKEND_UP;
	}
	return bes;
}

static struct klbd_cmd replace(struct klb_backend *bes, uint32_t n)
{
	struct klbd_cmd c = { .op = KLBD_CMD_SERVICE_REPLACE };

	c.key.proto = IPPROTO_TCP;
	c.key.vip = ep4(VIP, 80);
	c.conf.fields = KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE |
			KLB_SVC_BOUND | KLB_SVC_SEED | KLB_SVC_FLAGS;
	c.conf.sched = KLB_SCHED_MAGLEV;
	c.conf.fwd = KLB_FWD_NAT;
	c.conf.table_size = M;
	c.conf.bound = KLB_BOUND_DEFAULT;
	memset(c.conf.seed, 0x5a, KLB_SEED_LEN);
	c.bes = bes;
	c.n_bes = n;
	return c;
}

/* Encodes and decodes first, as the log does. */
static int apply(struct klbd_state *s, struct klbd_cmd c)
{
	size_t cap = klbd_cmd_size(&c);
	uint8_t *buf = malloc(cap ? cap : 1);
	struct klbd_cmd d;
	int n, err;

	n = klbd_cmd_encode(&c, buf, cap);
	if (n < 0 || klbd_cmd_decode(buf, n, &d, NULL, 0)) {
		free(buf);
		return -1000;
	}
	free(buf);
	err = state_apply(s, &d, NULL, 0);
	klbd_cmd_release(&d);
	return err;
}

static struct klbd_cmd verdict(const char *be, uint64_t node)
{
	struct klbd_cmd c = { .op = KLBD_CMD_HEALTH };

	c.key.proto = IPPROTO_TCP;
	c.key.vip = ep4(VIP, 80);
	c.be.addr = ep4(be, 8080);
	c.node = node;
	c.failing = true;
	return c;
}

static void same_bytes(struct __test_metadata *_metadata,
		       const struct klbd_state *a, const struct klbd_state *b)
{
	uint8_t *e1, *e2;
	size_t l1, l2;

	ASSERT_EQ(0, state_encode(a, &e1, &l1));
	ASSERT_EQ(0, state_encode(b, &e2, &l2));
	ASSERT_EQ(l1, l2);
	EXPECT_EQ(0, memcmp(e1, e2, l1));
	free(e1);
	free(e2);
}

TEST(replace_round_trips_and_is_strict)
{
	struct klb_backend *bes = bes_make(1, 5, 3);
	uint16_t table[M];
	struct klbd_cmd c = replace(bes, 5), d;
	uint8_t *buf, *buf2;
	char why[160];
	size_t cap;
	int n, i;

	for (i = 0; i < M; i++)
		table[i] = 3 + i % 5;
	c.table = table;
	c.check.fields = KLBD_CHECK_F_TYPE | KLBD_CHECK_F_INTERVAL;
	c.check.type = KLBD_CHECK_EXEC;
	strcpy(c.check.exec_name, "probe-x");
	c.check.interval_ms = 2000;
	cap = klbd_cmd_size(&c);
	ASSERT_EQ(KLBD_REPLACE_FIXED_BYTES + 20 + 7 + 5 * KLBD_REPLACE_BE_BYTES + 2 * M,
		  cap);
	buf = malloc(cap);
	buf2 = malloc(cap);
	n = klbd_cmd_encode(&c, buf, cap);
	ASSERT_EQ((int)cap, n);
	EXPECT_EQ(-EINVAL, klbd_cmd_encode(&c, buf2, cap - 1));
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(5, d.n_bes);
	EXPECT_EQ(0, memcmp(d.table, table, sizeof(table)));
	EXPECT_STREQ("probe-x", d.check.exec_name);
	/* One encoding: the decoded command encodes to the same bytes. */
	ASSERT_EQ(n, klbd_cmd_encode(&d, buf2, cap));
	EXPECT_EQ(0, memcmp(buf, buf2, n));
	klbd_cmd_release(&d);

	/* Truncated, or a byte too many. */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n - 1, &d, NULL, 0));
	/* A table naming a backend the service lacks. */
	table[7] = 99;
	n = klbd_cmd_encode(&c, buf, cap);
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "slot 7"));
	table[7] = 3;
	/* Ids out of order (or twice). */
	bes[1].id = 3;
	n = klbd_cmd_encode(&c, buf, cap);
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	bes[1].id = 4;
	/* One address twice. */
	bes[4].addr = bes[0].addr;
	n = klbd_cmd_encode(&c, buf, cap);
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, why, sizeof(why)));
	bes[4].addr = ep4("198.51.100.5", 8080);
	/* Another family than the service's. */
	bes[2].addr.family = AF_INET6;
	n = klbd_cmd_encode(&c, buf, cap);
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, NULL, 0));
	bes[2].addr = ep4("198.51.100.3", 8080);
	/* A padding byte set, a has_table of 2, settings not all given. */
	n = klbd_cmd_encode(&c, buf, cap);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	klbd_cmd_release(&d);
	buf[KLBD_REPLACE_FIXED_BYTES - 4 + 20 + 7 + 3] = 1;	/* 1st backend's pad */
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	n = klbd_cmd_encode(&c, buf, cap);
	buf[n - 2 * M - 4] = 2;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	c.conf.fields &= ~KLB_SVC_FLAGS;
	n = klbd_cmd_encode(&c, buf, cap);
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	c.conf.fields |= KLB_SVC_FLAGS;
	/* A claimed backend count beyond the bytes, or beyond the limit. */
	c.table = NULL;
	c.check.fields = 0;
	n = klbd_cmd_encode(&c, buf, cap);
	buf[KLBD_REPLACE_FIXED_BYTES - 8] = 6;
	EXPECT_EQ(-EBADMSG, klbd_cmd_decode(buf, n, &d, NULL, 0));
	buf[KLBD_REPLACE_FIXED_BYTES - 8] = 0;
	buf[KLBD_REPLACE_FIXED_BYTES - 7] = (KLBD_REPLACE_MAX_BACKENDS + 1) >> 8;
	buf[KLBD_REPLACE_FIXED_BYTES - 8] = (KLBD_REPLACE_MAX_BACKENDS + 1) & 0xff;
	EXPECT_EQ(-EINVAL, klbd_cmd_decode(buf, n, &d, NULL, 0));
	/* The encoder refuses over the limits too. */
	c.n_bes = KLBD_REPLACE_MAX_BACKENDS + 1;
	EXPECT_EQ(0, klbd_cmd_size(&c));
	EXPECT_EQ(-EINVAL, klbd_cmd_encode(&c, buf, cap));
	free(buf);
	free(buf2);
	free(bes);
}

TEST(the_largest_replace_fits_an_entry)
{
	struct klb_backend *bes = bes_make(1, 1, 0), *many;
	struct klbd_cmd c, d;
	uint16_t *table;
	uint8_t *buf;
	uint32_t i;
	int n;

	many = calloc(KLBD_REPLACE_MAX_BACKENDS, sizeof(*many));
	for (i = 0; i < KLBD_REPLACE_MAX_BACKENDS; i++) {
		many[i] = bes[0];
		many[i].id = i;
		many[i].addr.addr[2] = i >> 8;
		many[i].addr.addr[3] = i & 0xff;
	}
	c = replace(many, KLBD_REPLACE_MAX_BACKENDS);
	c.conf.table_size = KLBD_REPLACE_MAX_TABLE;
	table = malloc(KLBD_REPLACE_MAX_TABLE * sizeof(*table));
	for (i = 0; i < KLBD_REPLACE_MAX_TABLE; i++)
		table[i] = i % KLBD_REPLACE_MAX_BACKENDS;
	c.table = table;
	c.check.fields = KLBD_CHECK_F_TYPE;
	c.check.type = KLBD_CHECK_EXEC;
	memset(c.check.exec_name, 'a', KLBD_CHECK_NAME_MAX);
	EXPECT_EQ(KLBD_REPLACE_MAX_BYTES, klbd_cmd_size(&c));
	buf = malloc(KLBD_ENTRY_MAX_BYTES);
	n = klbd_cmd_encode(&c, buf, KLBD_ENTRY_MAX_BYTES);
	ASSERT_EQ(KLBD_ENTRY_MAX_BYTES, n);
	ASSERT_EQ(0, klbd_cmd_decode(buf, n, &d, NULL, 0));
	klbd_cmd_release(&d);
	/* A table over the bound is not sent: klbd computes it. */
	c.conf.table_size++;
	EXPECT_EQ(0, klbd_cmd_size(&c));
	free(buf);
	free(table);
	free(many);
	free(bes);
}

TEST(replace_creates_then_replaces_keeping_verdicts)
{
	static const uint64_t voters[] = { 10, 20, 30 };
	struct klb_backend *bes = bes_make(1, 4, 0), *next;
	const struct state_service *svc;
	struct klbd_state s;
	uint16_t before[M];
	size_t moved = 0, j;

	state_init(&s);
	ASSERT_EQ(0, state_set_voters(&s, voters, 3));
	ASSERT_EQ(0, apply(&s, replace(bes, 4)));
	ASSERT_EQ(1, s.n_svcs);
	svc = &s.svcs[0];
	ASSERT_EQ(4, svc->n_bes);
	ASSERT_NE(NULL, svc->table);
	EXPECT_EQ(KLBD_CHECK_NONE, svc->check.type);
	/* A majority fails backend .2. */
	ASSERT_EQ(0, apply(&s, verdict("198.51.100.2", 10)));
	ASSERT_EQ(0, apply(&s, verdict("198.51.100.2", 20)));
	EXPECT_EQ(KLB_BACKEND_DOWN, s.svcs[0].bes[1].state);
	memcpy(before, s.svcs[0].table, sizeof(before));

	/*
	 * .1 .. .3 stay (.3 drained by the operator), .4 goes, .5 comes:
	 * .2 keeps its verdicts, only what must move moves.
	 */
	next = bes_make(1, 4, 0);
	next[2].state = KLB_BACKEND_DRAIN;
	next[3].addr = ep4("198.51.100.5", 8080);
	next[3].id = 4;
	ASSERT_EQ(0, apply(&s, replace(next, 4)));
	svc = &s.svcs[0];
	ASSERT_EQ(4, svc->n_bes);
	EXPECT_EQ(4, svc->bes[3].id);
	EXPECT_EQ(0x3, svc->health[1].failing);
	EXPECT_EQ(KLB_BACKEND_DOWN, svc->bes[1].state);
	EXPECT_EQ(KLB_BACKEND_UP, svc->health[1].admin);
	EXPECT_EQ(KLB_BACKEND_DRAIN, svc->health[2].admin);
	EXPECT_EQ(0, svc->health[3].failing);
	for (j = 0; j < M; j++) {
		EXPECT_NE(1, svc->table[j]);	/* failed over */
		EXPECT_NE(2, svc->table[j]);	/* drained */
		EXPECT_NE(3, svc->table[j]);	/* gone */
		/* .1 keeps its slots. */
		if (before[j] == 0)
			EXPECT_EQ(0, svc->table[j]);
		moved += svc->table[j] != before[j];
	}
	EXPECT_LT(moved, M);

	/*
	 * A given table naming the failed-over backend: its slots move, and
	 * the base table keeps them for its return.
	 */
	{
		static const uint16_t ids[] = { 0, 1, 4 };
		uint16_t given[M];
		struct klbd_cmd c = replace(next, 4);

		next[2].state = KLB_BACKEND_UP;
		for (j = 0; j < M; j++)
			given[j] = j < 3 ? 2 : ids[j % 3];
		c.table = given;
		ASSERT_EQ(0, apply(&s, c));
		svc = &s.svcs[0];
		ASSERT_NE(NULL, svc->base);
		for (j = 0; j < M; j++) {
			EXPECT_NE(1, svc->table[j]);
			if (given[j] == 1) {
				EXPECT_EQ(1, svc->base[j]);
			} else {
				EXPECT_EQ(given[j], svc->table[j]);
			}
		}
	}
	state_free(&s);
	free(bes);
	free(next);
}

TEST(a_given_table_is_taken_and_check_kept_when_absent)
{
	struct klb_backend *bes = bes_make(1, 3, 0);
	struct klbd_state s, t;
	uint16_t table[M];
	struct klbd_cmd c;
	uint8_t *snap;
	size_t len, j;
	char why[160];

	for (j = 0; j < M; j++)
		table[j] = j < 200 ? 2 : j % 2;
	state_init(&s);
	c = replace(bes, 3);
	c.table = table;
	c.check.fields = KLBD_CHECK_F_TYPE | KLBD_CHECK_F_RISE;
	c.check.type = KLBD_CHECK_TCP;
	c.check.rise = 5;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_EQ(0, memcmp(s.svcs[0].table, table, sizeof(table)));
	EXPECT_EQ(NULL, s.svcs[0].base);
	EXPECT_EQ(KLBD_CHECK_TCP, s.svcs[0].check.type);
	EXPECT_EQ(5, s.svcs[0].check.rise);

	/* No check settings: the service keeps its check. */
	c.check.fields = 0;
	c.table = NULL;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_EQ(KLBD_CHECK_TCP, s.svcs[0].check.type);
	EXPECT_EQ(5, s.svcs[0].check.rise);
	for (j = 0; j < M; j++)
		EXPECT_GT(3, s.svcs[0].table[j]);

	/* A given table is taken as it is, an operator's down included. */
	bes[2].state = KLB_BACKEND_DOWN;
	for (j = 0; j < M; j++)
		table[j] = j % 2;
	c.table = table;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_EQ(0, memcmp(s.svcs[0].table, table, sizeof(table)));
	EXPECT_EQ(KLB_BACKEND_DOWN, s.svcs[0].bes[2].state);

	/* Through a snapshot: the same bytes. */
	ASSERT_EQ(0, state_encode(&s, &snap, &len));
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	same_bytes(_metadata, &s, &t);
	free(snap);

	/* Refused (a table for a scheduler without one): nothing changes. */
	c.conf.sched = KLB_SCHED_RR;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	same_bytes(_metadata, &s, &t);
	state_free(&t);
	state_free(&s);
	free(bes);
}

/*
 * A check through the VIP travels whole in a replace (its word after the
 * name), and only with a tunnel: with nat it is refused, nothing changed.
 */
TEST(a_via_vip_check_travels_and_needs_a_tunnel)
{
	struct klb_backend *bes = bes_make(1, 2, 0);
	struct klbd_check back;
	struct klbd_state s, t;
	struct klbd_cmd c;
	uint8_t *snap, blk[64];
	size_t len, used, n;
	char why[160];

	state_init(&s);
	c = replace(bes, 2);
	c.check.fields = KLBD_CHECK_F_TYPE | KLBD_CHECK_F_VIA_VIP;
	c.check.type = KLBD_CHECK_TCP;
	c.check.via_vip = true;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	EXPECT_EQ(0, s.n_svcs);
	c.conf.fwd = KLB_FWD_TUNNEL;
	ASSERT_EQ(0, apply(&s, c));
	EXPECT_TRUE(s.svcs[0].check.via_vip);
	EXPECT_EQ(KLBD_CHECK_TCP, s.svcs[0].check.type);

	ASSERT_EQ(0, state_encode(&s, &snap, &len));
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_TRUE(t.svcs[0].check.via_vip);
	same_bytes(_metadata, &s, &t);
	free(snap);

	/* Alone (klbd's list of services), into a buffer not zeroed. */
	memset(blk, 0xff, sizeof(blk));
	n = klbd_check_encode(&s.svcs[0].check, blk);
	ASSERT_EQ(0, klbd_check_decode(blk, sizeof(blk), &back, &used));
	EXPECT_EQ(n, used);
	EXPECT_TRUE(back.via_vip);

	/* Back to nat with the check kept: refused, nothing changes. */
	c.conf.fwd = KLB_FWD_NAT;
	c.check.fields = 0;
	EXPECT_EQ(-EINVAL, apply(&s, c));
	same_bytes(_metadata, &s, &t);
	state_free(&t);
	state_free(&s);
	free(bes);
}

TEST(the_same_replaces_give_the_same_bytes_whatever_the_path)
{
	struct klb_backend *a = bes_make(1, 6, 0), *b = bes_make(3, 6, 0);
	struct klbd_state s, t;
	uint8_t *snap;
	size_t len;

	state_init(&s);
	state_init(&t);
	ASSERT_EQ(0, apply(&s, replace(a, 6)));
	ASSERT_EQ(0, apply(&t, replace(a, 6)));
	/* t goes through a snapshot between the two. */
	ASSERT_EQ(0, state_encode(&t, &snap, &len));
	state_free(&t);
	state_init(&t);
	ASSERT_EQ(0, state_decode(&t, snap, len, NULL, 0));
	free(snap);
	ASSERT_EQ(0, apply(&s, replace(b, 6)));
	ASSERT_EQ(0, apply(&t, replace(b, 6)));
	same_bytes(_metadata, &s, &t);
	state_free(&s);
	state_free(&t);
	free(a);
	free(b);
}

TEST(replace_respects_the_service_limit)
{
	struct klb_backend *bes = bes_make(1, 1, 0);
	struct klbd_state s;
	struct klbd_cmd c;
	unsigned int i;

	state_init(&s);
	c = replace(bes, 1);
	for (i = 0; i < STATE_MAX_SERVICES; i++) {
		c.key.vip.addr[2] = i >> 8;
		c.key.vip.addr[3] = i & 0xff;
		ASSERT_EQ(0, apply(&s, c));
	}
	c.key.vip.addr[1] = 1;
	EXPECT_EQ(-ENOSPC, apply(&s, c));
	EXPECT_EQ(1, s.service_limit_hits);
	/* Replacing one that exists is no new service. */
	c.key.vip.addr[1] = 0;
	EXPECT_EQ(0, apply(&s, c));
	state_free(&s);
	free(bes);
}

/*
 * A backend that stays keeps its lease (as through a backend set), one
 * that goes takes it along, and a new one has none; the leases survive a
 * snapshot.
 */
TEST(replace_keeps_the_leases_of_backends_that_stay)
{
	static const uint64_t voters[] = { 10, 20, 30 };
	struct klb_backend *bes = bes_make(1, 2, 0), *next = bes_make(2, 2, 1);
	struct klbd_cmd add = { .op = KLBD_CMD_BACKEND_ADD, .ttl = 30 };
	const struct state_service *svc;
	struct klbd_state s, t;
	uint8_t *enc;
	size_t len;
	uint64_t lease;

	state_init(&s);
	state_init(&t);
	ASSERT_EQ(0, state_set_voters(&s, voters, 3));
	ASSERT_EQ(0, apply(&s, replace(bes, 2)));
	add.key = s.svcs[0].key;
	add.be.fields = KLB_BE_WEIGHT;
	add.be.weight = 1;
	add.be.addr = ep4("198.51.100.7", 8080);
	ASSERT_EQ(0, apply(&s, add));
	add.be.addr = ep4("198.51.100.8", 8080);
	ASSERT_EQ(0, apply(&s, add));
	svc = &s.svcs[0];
	ASSERT_EQ(4, svc->n_bes);
	lease = svc->health[2].lease;
	ASSERT_NE(0, lease);

	/* .1 goes, .2 stays, .7 stays (leased), .8 goes (leased), .3 comes. */
	next[0].addr = ep4("198.51.100.2", 8080);
	next[1].addr = ep4("198.51.100.3", 8080);
	free(bes);
	bes = calloc(3, sizeof(*bes));
	bes[0] = next[0];
	bes[0].id = 1;
	bes[1] = s.svcs[0].bes[2];
	bes[1].state = KLB_BACKEND_UP;
	bes[2] = next[1];
	bes[2].id = 4;
	ASSERT_EQ(0, apply(&s, replace(bes, 3)));
	svc = &s.svcs[0];
	ASSERT_EQ(3, svc->n_bes);
	EXPECT_EQ(0, svc->health[0].lease);
	EXPECT_EQ(lease, svc->health[1].lease);
	EXPECT_EQ(30, svc->health[1].ttl);
	EXPECT_EQ(0, svc->health[2].lease);
	EXPECT_EQ(0, svc->health[2].ttl);

	ASSERT_EQ(0, state_encode(&s, &enc, &len));
	ASSERT_EQ(0, state_decode(&t, enc, len, NULL, 0));
	EXPECT_EQ(lease, t.svcs[0].health[1].lease);
	EXPECT_EQ(s.lease_seq, t.lease_seq);
	free(enc);
	state_free(&s);
	state_free(&t);
	free(bes);
	free(next);
}

TEST_HARNESS_MAIN
