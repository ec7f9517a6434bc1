// SPDX-License-Identifier: GPL-2.0
/*
 * The shared headers in include/klb: SipHash-2-4 against the official
 * vectors, the flow hash against its documented byte encoding, and a flow's
 * candidate sequence against the walk it is defined as.
 *
 * The expected values come from flow_hash_vectors.py, an independent
 * implementation (of the paper and of the encoding in klb/flow_hash.h);
 * its SipHash table is the one published with the reference code, its
 * flow answers are klb/flow_hash_kat.h.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include <klb/flow_hash.h>
#include <klb/flow_hash_kat.h>
#include <klb/maglev.h>
#include "lib/maglev.h"
#include "testutil.h"

static const uint64_t siphash_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static void key_bytes(uint8_t *key)
{
	int i;

	for (i = 0; i < 16; i++)
		key[i] = i;
}

TEST(siphash_official_vectors)
{
	struct klb_hash_seed seed;
	uint8_t key[16], msg[64];
	int n;

	key_bytes(key);
	klb_hash_seed_from_bytes(&seed, key);
	EXPECT_EQ(0x0706050403020100ULL, seed.k0);
	EXPECT_EQ(0x0f0e0d0c0b0a0908ULL, seed.k1);
	for (n = 0; n < 64; n++)
		msg[n] = n;
	for (n = 0; n < 64; n++)
		EXPECT_EQ(siphash_vectors[n], klb_siphash(msg, n, &seed))
			TH_LOG("message length %d", n);
}

TEST(siphash_ignores_alignment)
{
	struct klb_hash_seed seed = { 0x0706050403020100ULL,
				      0x0f0e0d0c0b0a0908ULL };
	uint8_t buf[64 + 8];
	int off, n, i;

	for (off = 1; off < 8; off++) {
		for (i = 0; i < 64; i++)
			buf[off + i] = i;
		for (n = 0; n < 64; n += 7)
			EXPECT_EQ(siphash_vectors[n],
				  klb_siphash(buf + off, n, &seed));
	}
}

/*
 * The known answers of klb/flow_hash_kat.h (from flow_hash_vectors.py),
 * which klb.ko also checks when it loads: host and kernel agree on them.
 */
static void make_key(struct klb_flow_key *key, size_t i)
{
	memset(key, 0, sizeof(*key));
	klb_flow_kat_key(&klb_flow_kats[i], key);
}

TEST(flow_hash_vectors)
{
	struct klb_hash_seed seeds[KLB_FLOW_KAT_SEEDS];
	struct klb_flow_key fk;
	size_t f;
	int s;

	for (s = 0; s < KLB_FLOW_KAT_SEEDS; s++)
		klb_hash_seed_from_bytes(&seeds[s], klb_flow_kat_seeds[s]);
	for (f = 0; f < ARRAY_SIZE(klb_flow_kats); f++) {
		make_key(&fk, f);
		for (s = 0; s < KLB_FLOW_KAT_SEEDS; s++) {
			EXPECT_EQ(klb_flow_kats[f].hash[s][0],
				  klb_flow_hash(&fk, &seeds[s], false))
				TH_LOG("flow %zu seed %d five-tuple", f, s);
			EXPECT_EQ(klb_flow_kats[f].hash[s][1],
				  klb_flow_hash(&fk, &seeds[s], true))
				TH_LOG("flow %zu seed %d source", f, s);
		}
	}
}

TEST(flow_slot_vectors)
{
	const struct klb_flow_kat *v;
	size_t f;
	int i, k;

	for (f = 0; f < ARRAY_SIZE(klb_flow_kats); f++) {
		v = &klb_flow_kats[f];
		for (i = 0; i < KLB_FLOW_KAT_SIZES; i++) {
			uint32_t m = klb_flow_kat_sizes[i];

			EXPECT_EQ(v->slot[i][0],
				  klb_maglev_slot(v->hash[0][0], m))
				TH_LOG("flow %zu M %u slot", f, m);
			for (k = 1; k <= KLB_FLOW_KAT_PROBES; k++)
				EXPECT_EQ(v->slot[i][k],
					  klb_maglev_probe(v->hash[0][0], k, m))
					TH_LOG("flow %zu M %u probe %d", f, m, k);
		}
	}
}

TEST(flow_key_encoding)
{
	static const uint8_t tuple[40] = {
		1, AF_INET, 6, 0, 0x9c, 0x40, 0x00, 0x50,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 10,
	};
	static const uint8_t source[24] = {
		2, AF_INET, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
	};
	struct klb_flow_key fk;
	uint8_t buf[KLB_FLOW_ENC_MAX];

	make_key(&fk, 0);
	ASSERT_EQ(sizeof(tuple), klb_flow_key_encode(&fk, false, buf));
	EXPECT_EQ(0, memcmp(tuple, buf, sizeof(tuple)));
	ASSERT_EQ(sizeof(source), klb_flow_key_encode(&fk, true, buf));
	EXPECT_EQ(0, memcmp(source, buf, sizeof(source)));
	EXPECT_TRUE(klb_addr_is_ipv4(fk.saddr));
	make_key(&fk, 2);
	EXPECT_FALSE(klb_addr_is_ipv4(fk.saddr));
}

/* Source affinity ignores everything but family and source address. */
TEST(flow_hash_source_only)
{
	struct klb_hash_seed seed = { 1, 2 };
	struct klb_flow_key a, b;
	uint64_t h;

	make_key(&a, 0);
	h = klb_flow_hash(&a, &seed, true);
	b = a;
	b.sport = htons(1);
	b.dport = htons(2);
	b.proto = 17;
	b.daddr[15] ^= 1;
	EXPECT_EQ(h, klb_flow_hash(&b, &seed, true));
	EXPECT_NE(klb_flow_hash(&a, &seed, false),
		  klb_flow_hash(&b, &seed, false));
	b.saddr[15] ^= 1;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, true));
	b = a;
	seed.k1++;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, true));
}

/* Every field of the five-tuple is hashed, including the port bytes' order. */
TEST(flow_hash_every_field)
{
	struct klb_hash_seed seed = { 3, 4 };
	struct klb_flow_key a, b;
	uint64_t h;

	make_key(&a, 2);
	h = klb_flow_hash(&a, &seed, false);
	b = a;
	b.family = AF_INET;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
	b = a;
	b.proto = 17;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
	b = a;
	b.sport = htons(ntohs(a.sport) + 1);
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
	b = a;
	b.dport = a.sport;
	b.sport = a.dport;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
	b = a;
	b.saddr[0] ^= 0x80;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
	b = a;
	b.daddr[7] ^= 1;
	EXPECT_NE(h, klb_flow_hash(&b, &seed, false));
}

static bool is_prime(uint32_t m)
{
	uint64_t d;

	if (m < 2)
		return false;
	for (d = 2; d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

TEST(table_size_valid)
{
	uint32_t m;

	for (m = 0; m < 5000; m++)
		EXPECT_EQ(m >= 7 && is_prime(m), klb_maglev_size_valid(m))
			TH_LOG("M = %u", m);
	EXPECT_TRUE(klb_maglev_size_valid(KLB_TABLE_SIZE_DEFAULT));
	EXPECT_TRUE(klb_maglev_size_valid(65537));
	EXPECT_TRUE(klb_maglev_size_valid(655373));
	EXPECT_TRUE(klb_maglev_size_valid(KLB_TABLE_SIZE_LIMIT));
	EXPECT_TRUE(is_prime(1048583));
	EXPECT_FALSE(klb_maglev_size_valid(1048583));	/* above the limit */
	EXPECT_FALSE(klb_maglev_size_valid(1048575));
	EXPECT_FALSE(klb_maglev_size_valid(UINT32_MAX));
}

TEST(slot_in_range_and_spread)
{
	static const uint32_t sizes[] = { 7, 13, 251, 16381, 1048573 };
	struct test_rng rng = { test_seed("slot_in_range_and_spread") };
	uint32_t count[251] = { 0 };
	size_t i;
	int k;

	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0, klb_maglev_slot(0, sizes[i]));
		EXPECT_EQ(sizes[i] - 1, klb_maglev_slot(UINT64_MAX, sizes[i]));
		EXPECT_EQ(sizes[i] - 1, klb_maglev_slot(0xffffffffULL, sizes[i]));
		EXPECT_EQ(0, klb_maglev_slot(0xffffffff00000000ULL, sizes[i]));
	}
	for (k = 0; k < 251 * 400; k++)
		count[klb_maglev_slot(test_rand(&rng), 251)]++;
	/* Mean 400, standard deviation 20: 8 sigma either way. */
	for (i = 0; i < 251; i++) {
		EXPECT_GT(count[i], 240);
		EXPECT_LT(count[i], 560);
	}
}

/* The candidates, computed the slow way from their definition. */
static uint64_t reference_mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned int reference_candidates(const uint16_t *table, uint32_t m,
					 uint64_t h, uint16_t *ids,
					 unsigned int max_ids, uint32_t probes)
{
	unsigned int n = 0, j;
	uint64_t k;

	for (k = 0; k < probes && n < max_ids; k++) {
		uint64_t x = k ? reference_mix(h + k * 0x9e3779b97f4a7c15ULL) : h;
		uint16_t id = table[((x & 0xffffffffULL) * m) >> 32];
		bool dup = id == KLB_BACKEND_ID_NONE;

		for (j = 0; j < n; j++)
			dup |= ids[j] == id;
		if (!dup)
			ids[n++] = id;
	}
	return n;
}

TEST(candidates_follow_definition)
{
	struct test_rng rng = { test_seed("candidates_follow_definition") };
	static const uint32_t sizes[] = { 7, 13, 251, 16381 };
	uint16_t got[KLB_MAGLEV_CAND_MAX], want[KLB_MAGLEV_CAND_MAX];
	static uint16_t table[16381];
	int round, k;

	for (round = 0; round < 40; round++) {
		uint32_t m = sizes[round % 4], s, nb = 1 + test_below(&rng, 40);
		unsigned int max_ids = 1 + test_below(&rng, KLB_MAGLEV_CAND_MAX);
		uint32_t probes = test_below(&rng, 2 * m);

		for (s = 0; s < m; s++)
			table[s] = test_below(&rng, 8) ? test_below(&rng, nb) :
				   KLB_BACKEND_ID_NONE;
		for (k = 0; k < 50; k++) {
			uint64_t h = test_rand(&rng);
			unsigned int n, r;

			n = klb_maglev_candidates(table, m, h, got, max_ids, probes);
			r = reference_candidates(table, m, h, want, max_ids, probes);
			ASSERT_EQ(r, n);
			ASSERT_EQ(0, memcmp(want, got, n * sizeof(*got)));
			if (n && table[klb_maglev_slot(h, m)] != KLB_BACKEND_ID_NONE && probes)
				ASSERT_EQ(klb_maglev_lookup(table, m, h), got[0]);
		}
	}
}

/*
 * Enough probes find every id in the table, each once, even one that holds
 * a single slot; one probe is the plain lookup.
 */
TEST(candidates_reach_every_backend)
{
	static const uint16_t table[13] = { 4, 4, 9, KLB_BACKEND_ID_NONE, 4, 0,
					    9, 4, 4, 4, 4, 4, 70 };
	uint16_t ids[KLB_MAGLEV_CAND_MAX];
	uint64_t h;

	for (h = 0; h < 2000; h++) {
		uint64_t hash = h * 0x9e3779b97f4a7c15ULL;
		unsigned int n = klb_maglev_candidates(table, 13, hash, ids,
						       KLB_MAGLEV_CAND_MAX, 1000);
		unsigned int i, mask = 0;

		ASSERT_EQ(4, n);
		for (i = 0; i < n; i++)
			mask |= ids[i] == 4 ? 1 : ids[i] == 9 ? 2 :
				ids[i] == 0 ? 4 : ids[i] == 70 ? 8 : 16;
		ASSERT_EQ(15, mask);
		n = klb_maglev_candidates(table, 13, hash, ids, 4, 1);
		ASSERT_EQ(klb_maglev_lookup(table, 13, hash) != KLB_BACKEND_ID_NONE, n);
	}
}

/*
 * The second choice of the flows whose first choice is one backend is
 * spread over all the others (bounded loads then spreads an overloaded
 * backend's overflow instead of piling it onto a neighbour).
 */
TEST(second_choice_spread)
{
	struct test_rng rng = { test_seed("second_choice_spread") };
	enum { N = 10, M = 16381, FLOWS = 200000 };
	static uint16_t table[M];
	struct maglev_backend b[N];
	struct klb_hash_seed seed = { test_rand(&rng), test_rand(&rng) };
	uint32_t second[N][N] = { { 0 } }, first[N] = { 0 };
	uint16_t ids[2];
	int i, j;

	for (i = 0; i < N; i++)
		test_backend(&b[i], i + 1, i, 1, KLB_BACKEND_UP);
	ASSERT_EQ(0, maglev_build(table, M, &seed, b, N));
	for (i = 0; i < FLOWS; i++) {
		ASSERT_EQ(2, klb_maglev_candidates(table, M, test_rand(&rng),
						   ids, 2, 64));
		ASSERT_NE(ids[0], ids[1]);
		first[ids[0]]++;
		second[ids[0]][ids[1]]++;
	}
	/* Each pair expects FLOWS / 90 = 2222 (sd ~ 46): allow +-25%. */
	for (i = 0; i < N; i++)
		for (j = 0; j < N; j++)
			if (i != j) {
				EXPECT_GT(second[i][j], 1666);
				EXPECT_LT(second[i][j], 2777);
			}
}

TEST_HARNESS_MAIN
