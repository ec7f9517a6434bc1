// SPDX-License-Identifier: GPL-2.0
/*
 * Health verdicts: one gateway's from its probe results (rise and fall in
 * a row, a streak broken by one contrary result), and the cluster's from
 * the gateways' (a majority of the voters, an unheard voter counting as
 * healthy). And the DNS check's query and how an answer is judged; the
 * via-vip check's packets (checksums against values computed apart, with
 * Python's struct) and how an answer is judged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "klbd/health.h"
#include "klbd/probe_dns.h"
#include "klbd/probe_vip.h"

/* Feeds results ("+" ok, "-" failed); the verdict after each, as a string. */
static void run(const char *results, uint8_t rise, uint8_t fall, char *out)
{
	struct health_obs h = { 0 };

	for (; *results; results++)
		*out++ = (health_observe(&h, *results == '+', rise, fall) ?
			  (h.failing ? 'D' : 'U') : (h.failing ? 'd' : 'u'));
	*out = '\0';
}

TEST(hysteresis_rise_and_fall)
{
	static const struct {
		const char *results;
		uint8_t rise, fall;
		const char *want;	/* D/U: changed to failing/healthy */
	} cases[] = {
		{ "++++", 2, 2, "uuuu" },		/* starts healthy */
		{ "-+-+-+", 2, 2, "uuuuuu" },		/* flapping: holds */
		{ "--", 2, 2, "uD" },
		{ "---++", 2, 2, "uDddU" },
		{ "--+-++", 2, 2, "uDdddU" },		/* a failure breaks the rise */
		{ "-", 1, 1, "D" },
		{ "-+", 1, 1, "DU" },
		{ "---+--+++", 3, 3, "uuDdddddU" },
	};
	char got[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(cases[i].results, cases[i].rise, cases[i].fall, got);
		EXPECT_STREQ(cases[i].want, got) TH_LOG("case %zu: %s", i, cases[i].results);
	}
}

TEST(counts_every_probe)
{
	struct health_obs h = { 0 };

	health_observe(&h, true, 2, 2);
	health_observe(&h, false, 2, 2);
	health_observe(&h, false, 2, 2);
	EXPECT_EQ(3, h.probes);
	EXPECT_EQ(2, h.failures);
	EXPECT_TRUE(h.failing);
}

TEST(majority_of_voters)
{
	static const struct {
		uint32_t failing;
		unsigned int voters;
		bool down;
	} cases[] = {
		{ 0x0, 3, false },
		{ 0x1, 3, false },	/* one gateway's broken link */
		{ 0x4, 3, false },
		{ 0x3, 3, true },
		{ 0x5, 3, true },
		{ 0x7, 3, true },
		{ 0x1, 1, true },	/* a single gateway decides alone */
		{ 0x3, 4, false },	/* half is not a majority */
		{ 0x7, 4, true },
		{ 0x3, 5, false },
		{ 0x7, 5, true },
		{ 0x1, 0, false },	/* no voters, no verdict */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ(cases[i].down,
			  health_majority_down(cases[i].failing, cases[i].voters))
			TH_LOG("case %zu", i);
}

TEST(dns_query_and_answers)
{
	static const uint8_t want[PROBE_DNS_QUERY_BYTES] = {
		0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,	/* id, RD clear */
		0, 0, 6, 0, 1,				/* . SOA IN */
	};
	static const struct {
		const char *what;
		uint8_t flags[2];
		size_t len;		/* 0: the whole answer */
		uint16_t id;
		int want;
	} cases[] = {
		{ "NOERROR", { 0x84, 0x00 }, 0, 0xbeef, 0 },
		{ "REFUSED, an authoritative-only server", { 0x80, 0x05 }, 0, 0xbeef, 0 },
		{ "NXDOMAIN", { 0x80, 0x03 }, 0, 0xbeef, 0 },
		{ "no question echoed (FORMERR)", { 0x80, 0x01 }, 12, 0xbeef, 0 },
		{ "SERVFAIL", { 0x80, 0x02 }, 0, 0xbeef, -EREMOTEIO },
		{ "another id", { 0x80, 0x00 }, 0, 0x1234, 1 },
		{ "a query, not an answer", { 0x00, 0x00 }, 0, 0xbeef, -EBADMSG },
		{ "another opcode", { 0x88, 0x00 }, 0, 0xbeef, -EBADMSG },
		{ "shorter than a header", { 0x80, 0x00 }, 11, 0xbeef, -EBADMSG },
		{ "a question cut short", { 0x80, 0x00 }, 15, 0xbeef, -EBADMSG },
	};
	uint8_t q[PROBE_DNS_QUERY_BYTES], a[64];
	char why[96];
	size_t i, len;

	probe_dns_query(q, 0xbeef);
	EXPECT_EQ(0, memcmp(want, q, sizeof(q)));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(a, q, sizeof(q));
		a[2] = cases[i].flags[0];
		a[3] = cases[i].flags[1];
		len = cases[i].len ? cases[i].len : sizeof(q);
		if (len == 12)
			a[5] = 0;	/* qdcount 0 */
		why[0] = '\0';
		EXPECT_EQ(cases[i].want, probe_dns_answer(a, len, cases[i].id, why,
							  sizeof(why)))
			TH_LOG("%s: %s", cases[i].what, why);
	}
	/* The answer to another question, or two questions. */
	memcpy(a, q, sizeof(q));
	a[2] = 0x80;
	a[14] = 1;
	EXPECT_EQ(-EBADMSG, probe_dns_answer(a, sizeof(q), 0xbeef, NULL, 0));
	a[14] = 6;
	a[5] = 2;
	EXPECT_EQ(-EBADMSG, probe_dns_answer(a, sizeof(q), 0xbeef, NULL, 0));
}


static struct klb_endpoint ep(int family, const char *addr, uint16_t port)
{
	struct klb_endpoint e = { .family = family, .port = port };

	inet_pton(family, addr, e.addr);
	return e;
}

static uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* The one's complement sum of a packet whose checksum is right: 0xffff. */
static uint16_t ones_sum(const uint8_t *a, size_t alen, const uint8_t *b,
			 size_t blen, uint32_t extra)
{
	uint32_t sum = extra;
	size_t i;

	for (i = 0; i < alen; i += 2)
		sum += be16(a + i);
	for (i = 0; i < blen; i += 2)
		sum += be16(b + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

TEST(via_vip_packets)
{
	struct klb_endpoint gw = ep(AF_INET, "192.0.2.1", 40000);
	struct klb_endpoint vip = ep(AF_INET, "203.0.113.10", 80);
	struct klb_endpoint gw6 = ep(AF_INET6, "2001:db8::1", 40000);
	struct klb_endpoint vip6 = ep(AF_INET6, "2001:db8:ff::10", 80);
	uint8_t p[PROBE_VIP_PKT_MAX];
	size_t n;

	n = probe_vip_packet(p, &gw, &vip, PROBE_VIP_TCP_SYN, 0x01020304);
	ASSERT_EQ(40, n);
	EXPECT_EQ(0x45, p[0]);
	EXPECT_EQ(40, be16(p + 2));
	EXPECT_EQ(0x4000, be16(p + 6));		/* DF, as a client sends */
	EXPECT_EQ(IPPROTO_TCP, p[9]);
	EXPECT_EQ(0, memcmp(p + 12, gw.addr, 4));
	EXPECT_EQ(0, memcmp(p + 16, vip.addr, 4));
	EXPECT_EQ(0x39c0, be16(p + 10));
	EXPECT_EQ(0xffff, ones_sum(p, 20, NULL, 0, 0));
	EXPECT_EQ(40000, be16(p + 20));
	EXPECT_EQ(80, be16(p + 22));
	EXPECT_EQ(0x50, p[32]);
	EXPECT_EQ(PROBE_VIP_TCP_SYN, p[33]);
	EXPECT_EQ(0x0d40, be16(p + 36));
	EXPECT_EQ(0xffff, ones_sum(p + 12, 8, p + 20, 20, IPPROTO_TCP + 20));

	n = probe_vip_packet(p, &gw6, &vip6, PROBE_VIP_TCP_SYN, 0x01020304);
	ASSERT_EQ(60, n);
	EXPECT_EQ(0x60, p[0]);
	EXPECT_EQ(20, be16(p + 4));
	EXPECT_EQ(IPPROTO_TCP, p[6]);
	EXPECT_EQ(0, memcmp(p + 8, gw6.addr, 16));
	EXPECT_EQ(0, memcmp(p + 24, vip6.addr, 16));
	EXPECT_EQ(0xaeca, be16(p + 56));
	EXPECT_EQ(0xffff, ones_sum(p + 8, 32, p + 40, 20, IPPROTO_TCP + 20));

	/* The RST: seq as given, no window; its checksum right too. */
	n = probe_vip_packet(p, &gw, &vip, PROBE_VIP_TCP_RST, 0x01020305);
	EXPECT_EQ(PROBE_VIP_TCP_RST, p[33]);
	EXPECT_EQ(0, be16(p + 34));
	EXPECT_EQ(0xffff, ones_sum(p + 12, 8, p + 20, 20, IPPROTO_TCP + 20));
}

/* An answer as the raw socket gives it: from VIP:80 to the gateway's 40000. */
static size_t answer(uint8_t *p, int family, uint8_t flags, uint32_t ack)
{
	struct klb_endpoint gw = ep(family, family == AF_INET ? "192.0.2.1" :
				    "2001:db8::1", 40000);
	struct klb_endpoint vip = ep(family, family == AF_INET ? "203.0.113.10" :
				     "2001:db8:ff::10", 80);
	size_t n = probe_vip_packet(p, &vip, &gw, flags, 777);
	uint8_t *tcp;

	/* IPv6: the raw socket gives the TCP header on. */
	if (family == AF_INET6) {
		memmove(p, p + 40, 20);
		n -= 40;
	}
	tcp = p + (family == AF_INET ? 20 : 0);
	tcp[8] = ack >> 24;
	tcp[9] = ack >> 16;
	tcp[10] = ack >> 8;
	tcp[11] = ack;
	return n;
}

TEST(via_vip_answers)
{
	static const struct {
		int family;
		uint8_t flags;
		uint32_t ack;
		int want;
	} cases[] = {
		{ AF_INET, PROBE_VIP_TCP_SYN | PROBE_VIP_TCP_ACK, 1001, 1 },
		{ AF_INET, PROBE_VIP_TCP_SYN | PROBE_VIP_TCP_ACK, 1000, 0 },
		{ AF_INET, PROBE_VIP_TCP_SYN, 1001, 0 },
		{ AF_INET, PROBE_VIP_TCP_RST | PROBE_VIP_TCP_ACK, 1001, -ECONNREFUSED },
		{ AF_INET, PROBE_VIP_TCP_RST | PROBE_VIP_TCP_ACK, 5, 0 },
		{ AF_INET, PROBE_VIP_TCP_ACK, 1001, 0 },
		{ AF_INET6, PROBE_VIP_TCP_SYN | PROBE_VIP_TCP_ACK, 1001, 1 },
		{ AF_INET6, PROBE_VIP_TCP_SYN | PROBE_VIP_TCP_ACK, 1002, 0 },
		{ AF_INET6, PROBE_VIP_TCP_RST | PROBE_VIP_TCP_ACK, 1001, -ECONNREFUSED },
	};
	struct klb_endpoint gw = ep(AF_INET, "192.0.2.1", 40000);
	struct klb_endpoint vip = ep(AF_INET, "203.0.113.10", 80);
	struct klb_endpoint gw6 = ep(AF_INET6, "2001:db8::1", 40000);
	struct klb_endpoint vip6 = ep(AF_INET6, "2001:db8:ff::10", 80);
	struct klb_endpoint other = vip;
	uint8_t p[PROBE_VIP_PKT_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v6 = cases[i].family == AF_INET6;

		n = answer(p, cases[i].family, cases[i].flags, cases[i].ack);
		EXPECT_EQ(cases[i].want,
			  probe_vip_answer(p, n, cases[i].family,
					   v6 ? vip6.addr : vip.addr, v6 ? &gw6 : &gw,
					   v6 ? &vip6 : &vip, 1000)) TH_LOG("case %zu", i);
	}
	/* Not from the VIP, not to the probe's port, cut short: not it. */
	n = answer(p, AF_INET, PROBE_VIP_TCP_SYN | PROBE_VIP_TCP_ACK, 1001);
	other.addr[3] = 11;
	EXPECT_EQ(0, probe_vip_answer(p, n, AF_INET, other.addr, &gw, &vip, 1000));
	other = vip;
	other.port = 81;
	EXPECT_EQ(0, probe_vip_answer(p, n, AF_INET, vip.addr, &gw, &other, 1000));
	EXPECT_EQ(0, probe_vip_answer(p, n - 1, AF_INET, vip.addr, &gw, &vip, 1000));
	EXPECT_EQ(1, probe_vip_answer(p, n, AF_INET, vip.addr, &gw, &vip, 1000));
}

TEST_HARNESS_MAIN
