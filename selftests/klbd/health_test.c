// SPDX-License-Identifier: GPL-2.0
/*
 * Health verdicts: one gateway's from its probe results (rise and fall in
 * a row, a streak broken by one contrary result), and the cluster's from
 * the gateways' (a majority of the voters, an unheard voter counting as
 * healthy).
 */
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/health.h"

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

TEST_HARNESS_MAIN
