// SPDX-License-Identifier: GPL-2.0
/*
 * The classic build: bad input, exact apportionment on exhaustive small
 * cases, independence from input order and ids, and agreement with a plain
 * second implementation of the algorithm described in
 * Documentation/maglev.md.
 */
#include <errno.h>

#include "kselftest_harness.h"
#include <klb/maglev.h>
#include <klb/siphash.h>
#include "lib/maglev.h"
#include "testutil.h"

static const struct klb_hash_seed test_key = { 0x0123456789abcdefULL,
					       0xfedcba9876543210ULL };

static void set_up(struct maglev_backend *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		test_backend(&b[i], i + 1, i, 1, KLB_BACKEND_UP);
}

/* A failed build reports err and leaves the table alone. */
static int failed_build(uint32_t m, const struct maglev_backend *b, size_t n)
{
	static uint16_t table[64];
	struct maglev_state st;
	int err, err2;
	uint32_t s;

	for (s = 0; s < 64; s++)
		table[s] = 0x5a5a;
	err = maglev_build(m <= 64 ? table : NULL, m, &test_key, b, n);
	for (s = 0; s < 64; s++)
		if (table[s] != 0x5a5a)
			return 1000;
	memset(&st, 0, sizeof(st));
	err2 = maglev_state_init(&st, m, &test_key, b, n);
	if (err2 != err || st.table)
		return 2000;
	return err;
}

TEST(bad_input)
{
	struct maglev_backend *b = calloc(65536, sizeof(*b));
	size_t i;

	ASSERT_NE(NULL, b);
	set_up(b, 8);
	EXPECT_EQ(-MAGLEV_E_SIZE_NOT_PRIME, failed_build(63, b, 3));
	EXPECT_EQ(-MAGLEV_E_SIZE_NOT_PRIME, failed_build(16383, b, 3));
	EXPECT_EQ(-MAGLEV_E_SIZE_RANGE, failed_build(5, b, 3));
	EXPECT_EQ(-MAGLEV_E_SIZE_RANGE, failed_build(0, b, 3));
	EXPECT_EQ(-MAGLEV_E_SIZE_RANGE, failed_build(1048583, b, 3));
	EXPECT_EQ(-MAGLEV_E_SIZE_SMALL, failed_build(7, b, 8));
	{
		uint16_t table[7];

		EXPECT_EQ(0, maglev_build(table, 7, &test_key, b, 7));
	}

	b[2] = b[1];
	b[2].id = 2;
	EXPECT_EQ(-MAGLEV_E_DUP_IDENTITY, failed_build(13, b, 3));
	set_up(b, 3);
	b[2].id = 0;
	EXPECT_EQ(-MAGLEV_E_DUP_ID, failed_build(13, b, 3));
	set_up(b, 3);
	b[1].id = KLB_BACKEND_ID_NONE;
	EXPECT_EQ(-MAGLEV_E_ID_RANGE, failed_build(13, b, 3));
	set_up(b, 3);
	b[1].weight = MAGLEV_WEIGHT_MAX + 1;
	EXPECT_EQ(-MAGLEV_E_WEIGHT_RANGE, failed_build(13, b, 3));
	set_up(b, 3);
	b[1].state = KLB_BACKEND_STATE_MAX + 1;
	EXPECT_EQ(-MAGLEV_E_STATE, failed_build(13, b, 3));

	set_up(b, 3);
	for (i = 0; i < 3; i++)
		b[i].weight = 0;
	EXPECT_EQ(-MAGLEV_E_NO_WEIGHT, failed_build(13, b, 3));
	b[0].weight = 1;
	b[0].state = KLB_BACKEND_DOWN;
	b[1].weight = 5;
	b[1].state = KLB_BACKEND_DRAIN;
	EXPECT_EQ(-MAGLEV_E_NO_WEIGHT, failed_build(13, b, 3));
	EXPECT_EQ(-MAGLEV_E_NO_WEIGHT, failed_build(13, b, 0));

	for (i = 0; i < 65536; i++)
		test_backend(&b[i], i + 1, i < 65535 ? i : 0, 1, KLB_BACKEND_UP);
	EXPECT_EQ(-MAGLEV_E_TOO_MANY,
		  failed_build(KLB_TABLE_SIZE_LIMIT, b, 65536));

	/* Every code has its own message and an errno. */
	for (i = 1; i < MAGLEV_E_COUNT; i++) {
		EXPECT_NE(0, maglev_errno(-(int)i));
		EXPECT_STRNE("unknown Maglev error", maglev_strerror(-(int)i));
		if (i > 1)
			EXPECT_STRNE(maglev_strerror(-(int)i),
				     maglev_strerror(-(int)i + 1));
	}
	EXPECT_EQ(EINVAL, maglev_errno(-MAGLEV_E_SIZE_NOT_PRIME));
	EXPECT_EQ(ERANGE, maglev_errno(-MAGLEV_E_WEIGHT_RANGE));
	EXPECT_EQ(EEXIST, maglev_errno(-MAGLEV_E_DUP_ID));
	EXPECT_STREQ("unknown Maglev error", maglev_strerror(-1000));
	free(b);
}

/*
 * ---- A second, plain implementation of the documented algorithm ----
 * Sort by identity, largest-remainder quotas, each backend's turns at
 * floor((2k + 1) * M / (2q)) ordered by (time, identity rank), and on its
 * turn a backend takes the first empty slot of offset + j * skip.
 */
struct ref_turn {
	uint64_t time;
	uint32_t rank;
};

static int ref_cmp_turn(const void *x, const void *y)
{
	const struct ref_turn *a = x, *b = y;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static int ref_cmp_identity(const void *x, const void *y)
{
	const struct maglev_backend *a = x, *b = y;
	uint8_t ka[18], kb[18];

	memcpy(ka, a->addr, 16);
	memcpy(ka + 16, &a->port, 2);
	memcpy(kb, b->addr, 16);
	memcpy(kb + 16, &b->port, 2);
	return memcmp(ka, kb, 18);
}

static uint64_t ref_hash(uint8_t what, const struct maglev_backend *b,
			 const struct klb_hash_seed *seed)
{
	uint8_t msg[19] = { what };

	memcpy(msg + 1, b->addr, 16);
	memcpy(msg + 17, &b->port, 2);
	return klb_siphash(msg, sizeof(msg), seed);
}

static void reference_build(uint16_t *table, uint32_t m,
			    const struct klb_hash_seed *seed,
			    const struct maglev_backend *in, size_t n)
{
	struct maglev_backend *b = malloc(n * sizeof(*b));
	uint64_t *q = calloc(n, sizeof(*q)), *next = calloc(n, sizeof(*next));
	struct ref_turn *turns = malloc(m * sizeof(*turns));
	bool *extra = calloc(n, sizeof(*extra));
	uint64_t total = 0, given = 0;
	size_t i, na = 0, t = 0;
	uint64_t k, j;

	for (i = 0; i < n; i++)
		if (in[i].state == KLB_BACKEND_UP && in[i].weight)
			b[na++] = in[i];
	qsort(b, na, sizeof(*b), ref_cmp_identity);
	for (i = 0; i < na; i++)
		total += b[i].weight;
	for (i = 0; i < na; i++) {
		q[i] = (uint64_t)m * b[i].weight / total;
		given += q[i];
	}
	/* One more entry each to the largest remainders, lowest rank first. */
	while (given < m) {
		size_t best = na;

		for (i = 0; i < na; i++) {
			uint64_t rem = (uint64_t)m * b[i].weight % total;

			if (extra[i])
				continue;
			if (best == na ||
			    rem > (uint64_t)m * b[best].weight % total)
				best = i;
		}
		extra[best] = true;
		q[best]++;
		given++;
	}
	for (i = 0; i < na; i++)
		for (k = 0; k < q[i]; k++) {
			turns[t].time = (2 * k + 1) * m / (2 * q[i]);
			turns[t].rank = i;
			t++;
		}
	qsort(turns, t, sizeof(*turns), ref_cmp_turn);
	for (j = 0; j < m; j++)
		table[j] = KLB_BACKEND_ID_NONE;
	for (j = 0; j < m; j++) {
		struct maglev_backend *who = &b[turns[j].rank];
		uint64_t off = ref_hash(1, who, seed) % m;
		uint64_t skip = ref_hash(2, who, seed) % (m - 1) + 1;
		uint64_t s;

		for (;;) {
			s = (off + next[turns[j].rank] * skip) % m;
			next[turns[j].rank]++;
			if (table[s] == KLB_BACKEND_ID_NONE)
				break;
		}
		table[s] = who->id;
	}
	free(b);
	free(q);
	free(next);
	free(turns);
	free(extra);
}

static void random_set(struct test_rng *rng, struct maglev_backend *b,
		       size_t n, uint32_t m)
{
	int kind = test_below(rng, 3);
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t w = kind == 0 ? 1 : kind == 1 ?
			     1 + test_below(rng, 10) :
			     test_below(rng, MAGLEV_WEIGHT_MAX + 1);

		test_backend(&b[i], 1 + test_below(rng, 60000), i, w,
			     test_below(rng, 8) ? KLB_BACKEND_UP :
			     test_below(rng, 3));
		if (i && test_below(rng, 4) == 0)
			b[i].weight = b[i - 1].weight;
	}
	b[0].weight = 1 + b[0].weight % MAGLEV_WEIGHT_MAX;
	b[0].state = KLB_BACKEND_UP;
}

static bool unique_identities(const struct maglev_backend *b, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (!ref_cmp_identity(&b[i], &b[j]))
				return false;
	return true;
}

TEST(matches_reference)
{
	static const uint32_t sizes[] = { 7, 13, 251, 16381, 65537 };
	struct test_rng rng = { test_seed("matches_reference") };
	static uint16_t got[65537], want[65537];
	struct maglev_backend b[200];
	int round;

	for (round = 0; round < 150; round++) {
		uint32_t m = sizes[round % 5];
		size_t n = 1 + test_below(&rng, m < 200 ? m : 200);
		struct klb_hash_seed seed = { test_rand(&rng), test_rand(&rng) };

		do
			random_set(&rng, b, n, m);
		while (!unique_identities(b, n));
		ASSERT_EQ(0, maglev_build(got, m, &seed, b, n));
		reference_build(want, m, &seed, b, n);
		ASSERT_EQ(0, memcmp(want, got, m * sizeof(*got)))
			TH_LOG("round %d: M %u, %zu backends", round, m, n);
	}
}

/*
 * Exhaustive small cases: every weight vector over a few values for up to
 * four backends, at M = 7, 13 and 251. Active backends hold exactly floor
 * or ceil of M * w / W, the others nothing.
 */
TEST(exact_shares_exhaustive)
{
	static const uint32_t sizes[] = { 7, 13, 251 };
	static const uint32_t weights[] = { 0, 1, 2, 3, 7, 65535 };
	uint32_t count[KLB_BACKEND_ID_MAX + 2];
	struct maglev_backend b[4];
	uint16_t table[251];
	size_t si, n, i;
	uint32_t code;

	for (si = 0; si < 3; si++) {
		for (n = 1; n <= 4; n++) {
			uint32_t combos = 1;

			for (i = 0; i < n; i++)
				combos *= 6 * 2;	/* weight x (up, drain) */
			for (code = 0; code < combos; code++) {
				uint32_t c = code, m = sizes[si];
				uint64_t total = 0;
				int err;

				for (i = 0; i < n; i++) {
					test_backend(&b[i], 7 * i + 1, 10 + i,
						     weights[c % 6],
						     (c / 6) % 2 ?
						     KLB_BACKEND_DRAIN :
						     KLB_BACKEND_UP);
					c /= 12;
					if (maglev_backend_active(&b[i]))
						total += b[i].weight;
				}
				err = maglev_build(table, m, &test_key, b, n);
				if (!total) {
					ASSERT_EQ(-MAGLEV_E_NO_WEIGHT, err);
					continue;
				}
				ASSERT_EQ(0, err);
				test_count(table, m, count);
				ASSERT_EQ(0, count[KLB_BACKEND_ID_NONE]);
				for (i = 0; i < n; i++) {
					uint64_t mw = (uint64_t)m *
						(maglev_backend_active(&b[i]) ?
						 b[i].weight : 0);
					uint64_t lo = mw / total;
					uint64_t hi = lo + (mw % total != 0);

					ASSERT_LE(lo, count[b[i].id]);
					ASSERT_GE(hi, count[b[i].id]);
				}
			}
		}
	}
}

/* Same set in another order and under other ids: the same table. */
TEST(order_and_ids_do_not_matter)
{
	struct test_rng rng = { test_seed("order_and_ids_do_not_matter") };
	static uint16_t a[16381], c[16381];
	struct maglev_backend b[300], shuffled[300];
	uint16_t rename[300];
	int round;

	for (round = 0; round < 40; round++) {
		size_t n = 1 + test_below(&rng, 300), i;
		uint32_t s;

		do
			random_set(&rng, b, n, 16381);
		while (!unique_identities(b, n));
		ASSERT_EQ(0, maglev_build(a, 16381, &test_key, b, n));
		memcpy(shuffled, b, n * sizeof(*b));
		for (i = n - 1; i > 0; i--) {
			size_t j = test_below(&rng, i + 1);
			struct maglev_backend t = shuffled[i];

			shuffled[i] = shuffled[j];
			shuffled[j] = t;
		}
		for (i = 0; i < n; i++) {
			/* ids were 0..n-1: give them new ones, 1000 + i */
			rename[shuffled[i].id] = 1000 + i;
			shuffled[i].id = 1000 + i;
		}
		ASSERT_EQ(0, maglev_build(c, 16381, &test_key, shuffled, n));
		for (s = 0; s < 16381; s++)
			ASSERT_EQ(rename[a[s]], c[s]);
	}
}

/*
 * Maglev's point: rebuilding without one backend keeps most other entries
 * where they were (a table filled at random would move almost all).
 */
TEST(classic_rebuild_is_consistent)
{
	enum { N = 100, M = 16381 };
	static uint16_t before[M], after[M];
	struct maglev_backend b[N];
	size_t moved, removed = 0;
	uint32_t s;

	set_up(b, N);
	ASSERT_EQ(0, maglev_build(before, M, &test_key, b, N));
	b[37].state = KLB_BACKEND_DOWN;
	ASSERT_EQ(0, maglev_build(after, M, &test_key, b, N));
	for (s = 0; s < M; s++)
		removed += before[s] == 37;
	moved = maglev_table_moved(before, after, M);
	TH_LOG("removed share %zu, moved %zu", removed, moved);
	EXPECT_GE(moved, removed);
	EXPECT_LT(moved, 5 * removed);
}

TEST(seed_changes_table)
{
	static uint16_t a[16381], c[16381];
	struct klb_hash_seed other = test_key;
	struct maglev_backend b[10];

	set_up(b, 10);
	ASSERT_EQ(0, maglev_build(a, 16381, &test_key, b, 10));
	other.k1 ^= 1;
	ASSERT_EQ(0, maglev_build(c, 16381, &other, b, 10));
	EXPECT_GT(maglev_table_moved(a, c, 16381), 16381 / 2);
}

TEST_HARNESS_MAIN
