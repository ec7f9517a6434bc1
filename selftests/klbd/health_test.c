// SPDX-License-Identifier: GPL-2.0
/*
 * Health verdicts: one gateway's from its probe results (rise and fall in
 * a row, a streak broken by one contrary result), and the cluster's from
 * the gateways' (a majority of the voters, an unheard voter counting as
 * healthy). And the DNS check's query and how an answer is judged.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/health.h"
#include "klbd/probe_dns.h"

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

TEST_HARNESS_MAIN
