// SPDX-License-Identifier: GPL-2.0
/*
 * Every command of the klb family doing what include/uapi/linux/klb.h
 * says when the request is well formed, and the "events" notifications a
 * write sends.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "api_test.h"

FIXTURE(klb)
{
	struct api_nl nl;
	struct api_key v4;
	struct api_key v6;
};

FIXTURE_SETUP(klb)
{
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&self->v4, IPPROTO_TCP, API_VIP(1), 80);
	api_key_v6(&self->v6, IPPROTO_UDP, 1, 53);
}

FIXTURE_TEARDOWN(klb)
{
	api_close(&self->nl);
}

static void fill_table(uint16_t *t, uint32_t size, uint16_t nr_ids,
		       uint64_t salt)
{
	uint32_t i;

	for (i = 0; i < size; i++)
		t[i] = (uint16_t)((i * 7 + salt) % nr_ids);
}

/* Adds backends with ids 0..n-1 to @k. */
static int add_backends(struct api_nl *nl, const struct api_key *k, int n,
			uint32_t txn)
{
	struct api_be be;
	int i, ret;

	for (i = 0; i < n; i++) {
		if (k->family == AF_INET)
			api_be_v4(&be, i, API_BE_ADDR(i + 1), 8080);
		else
			api_be_v6(&be, i, i + 1, 8080);
		ret = api_backend_new(nl, k, &be, 1, txn, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

TEST_F(klb, service_new_defaults)
{
	struct api_service s;
	uint64_t gen0, gen;
	uint8_t zero[KLB_SEED_LEN] = { 0 };

	ASSERT_EQ(0, api_generation_get(&self->nl, &gen0));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, &gen, NULL));
	EXPECT_EQ(gen0 + 1, gen);
	EXPECT_EQ(IPPROTO_TCP, s.key.proto);
	EXPECT_EQ(AF_INET, s.key.family);
	EXPECT_EQ(0, memcmp(s.key.addr, self->v4.addr, 4));
	EXPECT_EQ(80, s.key.port);
	EXPECT_EQ(KLB_SCHED_MAGLEV, s.sched);
	EXPECT_EQ(KLB_FWD_NAT, s.fwd);
	EXPECT_EQ(KLB_TABLE_SIZE_DEFAULT, s.table_size);
	EXPECT_EQ(KLB_BOUND_DEFAULT, s.bound);
	EXPECT_EQ(0, s.flags);
	EXPECT_EQ(0, s.backends);
	EXPECT_EQ(0, s.table_loaded);
	EXPECT_TRUE(s.seen & (1u << KLB_SVC_A_VERSION));
	EXPECT_TRUE(s.seen & (1u << KLB_SVC_A_TABLE_LOADED));
	/* The caller has CAP_NET_ADMIN: the seed shows, a random one. */
	ASSERT_TRUE(s.seen & (1u << KLB_SVC_A_SEED));
	EXPECT_NE(0, memcmp(zero, s.seed, KLB_SEED_LEN));
}

/* A service created without a seed gets one nobody chose, its own. */
TEST_F(klb, service_new_random_seed)
{
	struct api_service s4, s6;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v6, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s4, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v6, &s6, NULL, NULL));
	EXPECT_NE(0, memcmp(s4.seed, s6.seed, KLB_SEED_LEN));
}

TEST_F(klb, service_new_with_settings)
{
	uint8_t seed[KLB_SEED_LEN];
	struct api_service s;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	int i;

	ASSERT_NE(NULL, req);
	for (i = 0; i < KLB_SEED_LEN; i++)
		seed[i] = 0xa0 + i;
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, &self->v6);
	mnl_attr_put_u8(req->nlh, KLB_SVC_A_SCHED, KLB_SCHED_MAGLEV_BOUNDED);
	mnl_attr_put_u8(req->nlh, KLB_SVC_A_FWD, KLB_FWD_TUNNEL);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 65537);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 150);
	mnl_attr_put(req->nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, seed);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_FLAGS, KLB_SVC_F_ALL);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);

	ASSERT_EQ(0, api_service_get(&self->nl, &self->v6, &s, NULL, NULL));
	EXPECT_EQ(IPPROTO_UDP, s.key.proto);
	EXPECT_EQ(AF_INET6, s.key.family);
	EXPECT_EQ(0, memcmp(s.key.addr, self->v6.addr, 16));
	EXPECT_EQ(53, s.key.port);
	EXPECT_EQ(KLB_SCHED_MAGLEV_BOUNDED, s.sched);
	EXPECT_EQ(KLB_FWD_TUNNEL, s.fwd);
	EXPECT_EQ(65537, s.table_size);
	EXPECT_EQ(150, s.bound);
	EXPECT_EQ(KLB_SVC_F_ALL, s.flags);
	EXPECT_EQ(0, memcmp(seed, s.seed, KLB_SEED_LEN));
}

TEST_F(klb, service_set)
{
	struct api_service before, after;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	uint64_t gen0, gen;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &before, &gen0, NULL));
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u8(req->nlh, KLB_SVC_A_FWD, KLB_FWD_TUNNEL);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_FLAGS, KLB_SVC_F_DOWN_DROP);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &after, &gen, NULL));
	EXPECT_EQ(gen0 + 1, gen);
	EXPECT_LT(before.version, after.version);
	EXPECT_EQ(KLB_FWD_TUNNEL, after.fwd);
	EXPECT_EQ(KLB_SVC_F_DOWN_DROP, after.flags);
	/* What the request did not name stays. */
	EXPECT_EQ(before.sched, after.sched);
	EXPECT_EQ(before.table_size, after.table_size);
	EXPECT_EQ(before.bound, after.bound);
}

TEST_F(klb, service_del)
{
	struct api_be_dump d = { 0 };
	struct api_info info;
	struct api_err err;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v6, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 3, 0));
	ASSERT_EQ(0, api_service_del(&self->nl, &self->v4, NULL));
	EXPECT_EQ(-ENOENT, api_service_get(&self->nl, &self->v4, NULL, NULL, &err));
	EXPECT_EQ(-ENOENT, api_backend_dump(&self->nl, &self->v4, &d, &err));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(1, info.services);
	/* The other one is untouched. */
	EXPECT_EQ(0, api_service_get(&self->nl, &self->v6, NULL, NULL, NULL));
	/* Its key can be used again, from nothing. */
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_backend_dump(&self->nl, &self->v4, &d, NULL));
	EXPECT_EQ(0, d.n);
}

struct seen_services {
	int n;
	int msgs_without_generation;
	unsigned char count[64];
};

static int count_services_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen_services *seen = data;
	struct api_msg m;
	unsigned int i;

	api_parse(nlh, &m);
	if (!m.has_generation)
		seen->msgs_without_generation++;
	seen->n++;
	/* The VIP's last byte (v4) or port - 1000 (v6) says which one it is. */
	i = m.svc.key.family == AF_INET ? m.svc.key.addr[3] :
					    32 + m.svc.key.port - 1000;
	if (m.cmd == KLB_CMD_SERVICE_GET && i < 64)
		seen->count[i]++;
	return MNL_CB_OK;
}

TEST_F(klb, service_dump)
{
	struct seen_services seen = { 0 };
	struct api_key k;
	int i;

	for (i = 0; i < 20; i++) {
		if (i % 2)
			api_key_v4(&k, IPPROTO_TCP, API_VIP(i), 443);
		else
			api_key_v6(&k, IPPROTO_UDP, 7, 1000 + i);
		ASSERT_EQ(0, api_service_new(&self->nl, &k, NULL));
	}
	ASSERT_EQ(0, api_service_dump(&self->nl, count_services_cb, &seen, NULL));
	EXPECT_EQ(20, seen.n);
	EXPECT_EQ(0, seen.msgs_without_generation);
	for (i = 0; i < 20; i++)
		EXPECT_EQ(1, seen.count[i % 2 ? i : 32 + i]) TH_LOG("service %d", i);
}

TEST_F(klb, backend_new_get_set_del)
{
	struct api_backend bk[8];
	struct api_be_dump d = { .be = bk, .max = 8 };
	struct api_service s;
	struct api_backend b;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	struct api_be be;
	size_t i;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 3, 0));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(3, s.backends);

	/* Without weight and state: the defaults, 1 and up. */
	api_be_v4(&be, 1, API_BE_ADDR(2), 8080);
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->v4, &be, &b, NULL));
	EXPECT_EQ(1, b.be.id);
	EXPECT_EQ(AF_INET, b.be.family);
	EXPECT_EQ(0, memcmp(be.addr, b.be.addr, 4));
	EXPECT_EQ(8080, b.be.port);
	EXPECT_EQ(1, b.weight);
	EXPECT_EQ(KLB_BACKEND_UP, b.state);

	/* A backend with weight and state given. */
	api_req_start(req, &self->nl, KLB_CMD_BACKEND_NEW, 0);
	api_put_service(req->nlh, &self->v4);
	api_be_v4(&be, 40000, API_BE_ADDR(200), 9090);
	nest = api_put_backend_open(req->nlh, &be, true);
	mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 65535);
	mnl_attr_put_u8(req->nlh, KLB_BE_A_STATE, KLB_BACKEND_DRAIN);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->v4, &be, &b, NULL));
	EXPECT_EQ(40000, b.be.id);
	EXPECT_EQ(65535, b.weight);
	EXPECT_EQ(KLB_BACKEND_DRAIN, b.state);

	/* SET changes weight and state, nothing else. */
	api_req_start(req, &self->nl, KLB_CMD_BACKEND_SET, 0);
	api_put_service(req->nlh, &self->v4);
	nest = api_put_backend_open(req->nlh, &be, false);
	mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 0);
	mnl_attr_put_u8(req->nlh, KLB_BE_A_STATE, KLB_BACKEND_DOWN);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->v4, &be, &b, NULL));
	EXPECT_EQ(40000, b.be.id);
	EXPECT_EQ(0, b.weight);
	EXPECT_EQ(KLB_BACKEND_DOWN, b.state);
	/* Only the weight: the state stays. */
	ASSERT_EQ(0, api_backend_set_weight(&self->nl, &self->v4, &be, 7, 0, NULL));
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->v4, &be, &b, NULL));
	EXPECT_EQ(7, b.weight);
	EXPECT_EQ(KLB_BACKEND_DOWN, b.state);

	/* The dump: every backend once, one snapshot, its version. */
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	ASSERT_EQ(0, api_backend_dump(&self->nl, &self->v4, &d, NULL));
	ASSERT_EQ(4, d.n);
	EXPECT_FALSE(d.mixed);
	EXPECT_FALSE(d.missing_version);
	EXPECT_EQ(s.version, d.version);
	for (i = 0; i < d.n; i++) {
		EXPECT_TRUE(bk[i].seen & (1u << KLB_BE_A_WEIGHT));
		EXPECT_TRUE(bk[i].seen & (1u << KLB_BE_A_STATE));
		if (bk[i].be.id == 40000)
			EXPECT_EQ(7, bk[i].weight);
	}

	ASSERT_EQ(0, api_backend_del(&self->nl, &self->v4, &be, 0, NULL));
	EXPECT_EQ(-ENOENT, api_backend_get(&self->nl, &self->v4, &be, &b, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(3, s.backends);
	free(req);
}

/*
 * Several backends in one BACKEND_NEW: all in one write, or none, in a
 * transaction of its own or staged in the caller's; the limit is exact.
 */
TEST_F(klb, backend_new_several)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_err err = { 0 };
	struct api_info info;
	struct api_service s;
	uint64_t gen, gen2;
	uint32_t txn;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 0, 3, 0);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(3, s.backends);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen2));
	EXPECT_EQ(gen + 1, gen2);

	/* The third of three is already there: none is added. */
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 1000, 2, 0);
	{
		struct api_be dup;

		api_be_v4(&dup, 2, API_BE_ADDR(3), 10002);
		mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &dup, true));
	}
	EXPECT_EQ(-EEXIST, api_transact(&self->nl, req->nlh, NULL, NULL, &err));
	EXPECT_TRUE(err.has_offset) TH_LOG("extack names the nest");
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(3, s.backends);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(gen2, gen);

	/* Staged: a failed request takes its own out, the rest stays. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 10, 1, txn);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 20, 3, txn);
	{
		struct api_be dup;

		api_be_v4(&dup, 21, API_BE_ADDR(99), 8080);	/* id 21 twice */
		mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &dup, true));
	}
	EXPECT_EQ(-EEXIST, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(4, s.backends);

	/* The limit: one more is refused and counted, exactly it is taken. */
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	ASSERT_EQ(KLB_BACKEND_BATCH_MAX, info.backend_batch_max);
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 2000,
			 KLB_BACKEND_BATCH_MAX + 1, 0);
	EXPECT_EQ(-E2BIG, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(1, info.batch_limit_hits);
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(4, s.backends);
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 2000,
			 KLB_BACKEND_BATCH_MAX, 0);
	EXPECT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(4 + KLB_BACKEND_BATCH_MAX, s.backends);

	/* SET names one backend. */
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_SET, &self->v4, 0, 2, 0);
	EXPECT_EQ(-EINVAL, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
}

TEST_F(klb, table_set_get_single_message)
{
	uint32_t m = KLB_TABLE_SIZE_DEFAULT;
	uint16_t *t = calloc(m, 2), *got = calloc(m, 2);
	struct api_tbl_dump d = { .entries = got, .size = m };
	struct api_service s;
	uint64_t gen0, gen;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 5, 0));
	fill_table(t, m, 5, 3);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen0));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, m, 0, t, m, 0, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, &gen, NULL));
	EXPECT_EQ(gen0 + 1, gen);
	EXPECT_EQ(1, s.table_loaded);
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &d, NULL));
	EXPECT_FALSE(d.out_of_order);
	EXPECT_FALSE(d.bad_size);
	EXPECT_FALSE(d.mixed);
	EXPECT_EQ(s.version, d.version);
	EXPECT_LE(d.largest_chunk, KLB_TABLE_CHUNK_MAX);
	ASSERT_EQ(m, d.filled);
	EXPECT_EQ(0, memcmp(t, got, m * 2));
	free(t);
	free(got);
}

TEST_F_TIMEOUT(klb, table_chunked_largest, 120)
{
	uint32_t m = KLB_TABLE_SIZE_LIMIT;
	uint16_t *t = calloc(m, 2), *got = calloc(m, 2);
	struct api_tbl_dump d = { .entries = got, .size = m };
	struct api_service s;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	uint32_t txn;
	uint64_t gen0, gen;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, req);
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, &self->v6);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, m);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
	ASSERT_EQ(0, add_backends(&self->nl, &self->v6, 11, 0));
	fill_table(t, m, 11, 5);

	ASSERT_EQ(0, api_generation_get(&self->nl, &gen0));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v6, &txn, NULL));
	/* Uneven chunks: the kernel must not depend on a chunk size. */
	ASSERT_EQ(0, api_table_chunks(&self->nl, &self->v6, m, t, 31999, txn, NULL));
	/* Nothing is published before the commit. */
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v6, &s, NULL, NULL));
	EXPECT_EQ(0, s.table_loaded);
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v6, &s, &gen, NULL));
	EXPECT_EQ(gen0 + 1, gen) TH_LOG("a transaction is one write");
	EXPECT_EQ(1, s.table_loaded);
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v6, &d, NULL));
	EXPECT_FALSE(d.out_of_order);
	EXPECT_FALSE(d.bad_size);
	EXPECT_FALSE(d.mixed);
	EXPECT_EQ(s.version, d.version);
	EXPECT_LE(d.largest_chunk, KLB_TABLE_CHUNK_MAX);
	EXPECT_GE(d.chunks, (m + KLB_TABLE_CHUNK_MAX - 1) / KLB_TABLE_CHUNK_MAX);
	ASSERT_EQ(m, d.filled);
	EXPECT_EQ(0, memcmp(t, got, (size_t)m * 2));
	free(t);
	free(got);
}

TEST_F(klb, table_del)
{
	uint16_t t[7] = { 0, 1, 0, 1, 0, 1, 0 }, got[7];
	struct api_tbl_dump d = { .entries = got, .size = 7 };
	struct api_service s;
	struct api_err err;
	struct api_be be;

	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 2, 0));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t, 7, 0, NULL));
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &d, NULL));
	ASSERT_EQ(0, api_table_del(&self->nl, &self->v4, 0, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(0, s.table_loaded);
	EXPECT_EQ(-ENOENT, api_table_dump(&self->nl, &self->v4, &d, &err));
	/* With no table left, a backend can go. */
	api_be_v4(&be, 0, API_BE_ADDR(1), 8080);
	EXPECT_EQ(0, api_backend_del(&self->nl, &self->v4, &be, 0, NULL));
}

/* Table size or scheduler changes drop the table, unless a txn pushes one. */
TEST_F(klb, service_set_drops_table)
{
	uint16_t t7[7] = { 0 }, t11[11] = { 1, 0 }, got[11];
	struct api_tbl_dump d = { .entries = got, .size = 11 };
	struct api_req *req = malloc(sizeof(*req));
	struct api_service s;
	struct nlattr *nest;
	uint32_t txn;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 2, 0));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t7, 7, 0, NULL));

	/* New size alone: the table goes. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 11);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(11, s.table_size);
	EXPECT_EQ(0, s.table_loaded);

	/* New size and a table of that size in one transaction: kept. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 7);
	mnl_attr_nest_end(req->nlh, nest);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t7, 7, txn, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(7, s.table_size);
	EXPECT_EQ(1, s.table_loaded);

	/* And the other way round: table first, then the size. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 11);
	mnl_attr_nest_end(req->nlh, nest);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 11, 0, t11, 11, txn, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &d, NULL));
	ASSERT_EQ(11, d.filled);
	EXPECT_EQ(0, memcmp(t11, got, sizeof(t11)));

	/* A new seed alone: the table, built with the old one, goes. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put(req->nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, "seed-number-one!");
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(0, memcmp("seed-number-one!", s.seed, KLB_SEED_LEN));
	EXPECT_EQ(0, s.table_loaded);

	/* A new seed and a table after it in one transaction: kept. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put(req->nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, "seed-number-two!");
	mnl_attr_nest_end(req->nlh, nest);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 11, 0, t11, 11, txn, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(0, memcmp("seed-number-two!", s.seed, KLB_SEED_LEN));
	EXPECT_EQ(1, s.table_loaded);

	/* The same seed again is no change: the table stays. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put(req->nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, "seed-number-two!");
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(1, s.table_loaded);

	/* A scheduler without a table: the table goes. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u8(req->nlh, KLB_SVC_A_SCHED, KLB_SCHED_WLC);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
	EXPECT_EQ(KLB_SCHED_WLC, s.sched);
	EXPECT_EQ(0, s.table_loaded);
	free(req);
}

TEST_F(klb, flush)
{
	struct api_info info;
	struct api_err err;
	uint32_t txn;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v6, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 2, 0));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v6, &txn, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(2, info.services);
	EXPECT_EQ(1, info.txns);
	ASSERT_EQ(0, api_flush(&self->nl, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(0, info.services);
	EXPECT_EQ(0, info.txns);
	EXPECT_EQ(-ENOENT, api_service_get(&self->nl, &self->v4, NULL, NULL, &err));
	EXPECT_EQ(-ENOENT, api_txn_commit(&self->nl, txn, &err));
}

TEST_F(klb, generation)
{
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	uint64_t gen;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(0, gen) TH_LOG("a new netns starts at generation 0");
	ASSERT_EQ(0, api_generation_set(&self->nl, 0xfedcba9876543210ULL, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(0xfedcba9876543210ULL, gen);

	/* A write without KLB_A_GENERATION adds one. */
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(0xfedcba9876543211ULL, gen);

	/* With it and a matching KLB_A_GENERATION_EXPECT: both honoured. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_FLAGS, KLB_SVC_F_AFFINITY_SRC);
	mnl_attr_nest_end(req->nlh, nest);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, 0xfedcba9876543211ULL);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 42);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(42, gen);

	/* GENERATION_SET with a matching expectation. */
	api_req_start(req, &self->nl, KLB_CMD_GENERATION_SET, 0);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, 42);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 7);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(7, gen);
	free(req);
}

TEST_F(klb, info_get)
{
	unsigned int max_services, max_backends, max_table_size, max_txns;
	struct api_info info;
	uint64_t gen, gen2;
	uint32_t txn;

	ASSERT_EQ(0, api_param_read("max_services", &max_services));
	ASSERT_EQ(0, api_param_read("max_backends", &max_backends));
	ASSERT_EQ(0, api_param_read("max_table_size", &max_table_size));
	ASSERT_EQ(0, api_param_read("max_txns", &max_txns));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_service_new(&self->nl, &self->v6, NULL));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, &gen));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen2));
	EXPECT_EQ(gen2, gen);
	EXPECT_EQ(max_services, info.max_services);
	EXPECT_EQ(max_backends, info.max_backends);
	EXPECT_EQ(max_table_size, info.max_table_size);
	EXPECT_EQ(max_txns, info.max_txns);
	EXPECT_EQ(2, info.services);
	EXPECT_EQ(1, info.txns);
	/* Every counter is there, zero in a netns that hit no limit. */
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_SERVICE_LIMIT_HITS));
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_BACKEND_LIMIT_HITS));
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_TABLE_LIMIT_HITS));
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_TXN_LIMIT_HITS));
	EXPECT_EQ(0, info.service_limit_hits + info.backend_limit_hits +
		     info.table_limit_hits + info.txn_limit_hits);
	/* The limits the header froze come from the kernel too. */
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_SERVICE_FLAGS));
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_TABLE_CHUNK_MAX));
	EXPECT_EQ(KLB_SVC_F_ALL, info.service_flags);
	EXPECT_EQ(KLB_TABLE_CHUNK_MAX, info.table_chunk_max);
	EXPECT_EQ(KLB_BACKEND_BATCH_MAX, info.backend_batch_max);
	EXPECT_TRUE(info.seen & (1u << KLB_INFO_A_BATCH_LIMIT_HITS));
	EXPECT_EQ(0, info.batch_limit_hits);
	/* Padding carries nothing and is never sent. */
	EXPECT_FALSE(info.seen & (1u << KLB_INFO_A_PAD));
}

/*
 * KLB_BACKEND_ID_NONE is an empty slot: a table may hold it anywhere, even
 * only it, and reads back as sent.
 */
TEST_F(klb, table_empty_slots)
{
	uint16_t t[7] = { 0, KLB_BACKEND_ID_NONE, 1, KLB_BACKEND_ID_NONE, 0, 1,
			  KLB_BACKEND_ID_NONE }, got[7];
	uint16_t none[7] = { KLB_BACKEND_ID_NONE, KLB_BACKEND_ID_NONE,
			     KLB_BACKEND_ID_NONE, KLB_BACKEND_ID_NONE,
			     KLB_BACKEND_ID_NONE, KLB_BACKEND_ID_NONE,
			     KLB_BACKEND_ID_NONE };
	struct api_tbl_dump d = { .entries = got, .size = 7 };
	struct api_service s;

	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 2, 0));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t, 7, 0, NULL));
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &d, NULL));
	ASSERT_EQ(7, d.filled);
	EXPECT_EQ(0, memcmp(t, got, sizeof(t)));

	/* No backend at all, a table of empty slots. */
	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v6, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v6, 7, 0, none, 7, 0, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v6, &s, NULL, NULL));
	EXPECT_EQ(1, s.table_loaded);
	EXPECT_EQ(0, s.backends);
}

TEST_F(klb, txn_commit_publishes_at_once)
{
	uint16_t t[7] = { 0, 1, 2, 0, 1, 2, 0 }, got[7];
	struct api_tbl_dump td = { .entries = got, .size = 7 };
	struct api_be_dump d = { 0 };
	struct api_service s0, s;
	struct api_info info;
	uint64_t gen0, gen;
	uint32_t txn;

	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s0, &gen0, NULL));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	ASSERT_NE(0, txn);
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 3, txn));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t, 7, txn, NULL));
	/* Staged: the published service is the one before. */
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, &gen, NULL));
	EXPECT_EQ(s0.version, s.version);
	EXPECT_EQ(gen0, gen);
	EXPECT_EQ(0, s.backends);
	ASSERT_EQ(0, api_backend_dump(&self->nl, &self->v4, &d, NULL));
	EXPECT_EQ(0, d.n);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(1, info.txns);

	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, &gen, NULL));
	EXPECT_LT(s0.version, s.version);
	EXPECT_EQ(gen0 + 1, gen);
	EXPECT_EQ(3, s.backends);
	EXPECT_EQ(1, s.table_loaded);
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &td, NULL));
	EXPECT_EQ(0, memcmp(t, got, sizeof(t)));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(0, info.txns);
	/* The transaction is over. */
	EXPECT_EQ(-ENOENT, api_txn_commit(&self->nl, txn, NULL));
}

TEST_F(klb, txn_abort_discards)
{
	uint64_t fp0, fp;
	struct api_err err;
	uint32_t txn;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp0));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 2, txn));
	ASSERT_EQ(0, api_txn_abort(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	EXPECT_EQ(fp0, fp);
	EXPECT_EQ(-ENOENT, api_txn_commit(&self->nl, txn, &err));
	EXPECT_EQ(-ENOENT, api_txn_abort(&self->nl, txn, &err));
}

/* Delete a backend the table names and push a table without it, both orders. */
TEST_F(klb, txn_backend_del_with_table)
{
	uint16_t t3[7] = { 0, 1, 2, 0, 1, 2, 0 }, t2[7] = { 0, 1, 0, 1, 0, 1, 0 };
	uint16_t got[7];
	struct api_tbl_dump td = { .entries = got, .size = 7 };
	struct api_service s;
	struct api_be be;
	uint32_t txn;
	int order;

	for (order = 0; order < 2; order++) {
		ASSERT_EQ(0, api_flush(&self->nl, NULL));
		ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4,
						   KLB_SCHED_MAGLEV, 7, NULL));
		ASSERT_EQ(0, add_backends(&self->nl, &self->v4, 3, 0));
		ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t3, 7, 0, NULL));
		api_be_v4(&be, 2, API_BE_ADDR(3), 8080);
		ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
		if (order == 0) {
			ASSERT_EQ(0, api_backend_del(&self->nl, &self->v4, &be, txn, NULL));
			ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t2, 7,
						   txn, NULL));
		} else {
			ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t2, 7,
						   txn, NULL));
			ASSERT_EQ(0, api_backend_del(&self->nl, &self->v4, &be, txn, NULL));
		}
		ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
		ASSERT_EQ(0, api_service_get(&self->nl, &self->v4, &s, NULL, NULL));
		EXPECT_EQ(2, s.backends);
		ASSERT_EQ(0, api_table_dump(&self->nl, &self->v4, &td, NULL));
		EXPECT_EQ(0, memcmp(t2, got, sizeof(t2)));
	}
}

TEST_F(klb, txn_ends_with_its_socket)
{
	struct api_info info;
	struct api_nl other;
	uint32_t txn;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_open(&other));
	ASSERT_EQ(0, api_txn_begin(&other, &self->v4, &txn, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(1, info.txns);
	api_close(&other);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(0, info.txns);
}

/* ---- notifications ------------------------------------------------------ */

struct event_ctx {
	struct api_msg m;
	bool has_service;
	bool has_svc_version;
	bool has_backend;
	uint16_t be_id;
	uint16_t be_port;
	uint8_t be_addr[16];
	uint16_t svc_port;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct event_ctx *ev = data;

	api_parse(nlh, &ev->m);
	ev->has_service = ev->m.has_service;
	ev->has_svc_version = ev->m.svc.seen & (1u << KLB_SVC_A_VERSION);
	ev->svc_port = ev->m.svc.key.port;
	ev->has_backend = ev->m.has_backend;
	ev->be_id = ev->m.be.be.id;
	ev->be_port = ev->m.be.be.port;
	memcpy(ev->be_addr, ev->m.be.be.addr, 16);
	return MNL_CB_OK;
}

/* The next event: its command and the generation it must carry. */
static int next_event(struct api_nl *ev_nl, struct api_nl *nl,
		      struct event_ctx *ev)
{
	int ret;

	memset(ev, 0, sizeof(*ev));
	ret = api_recv_event(ev_nl, 5000, event_cb, ev);
	if (ret != 1)
		return ret ? ret : -ETIMEDOUT;
	return 0;
}

#define ASSERT_EVENT(cmd_, with_service, with_backend) do { \
	uint64_t __gen; \
	ASSERT_EQ(0, next_event(&events, &self->nl, &ev)) \
		TH_LOG("no event for command %d", cmd_); \
	ASSERT_EQ(0, api_generation_get(&self->nl, &__gen)); \
	EXPECT_EQ(cmd_, ev.m.cmd); \
	EXPECT_TRUE(ev.m.has_generation); \
	EXPECT_EQ(__gen, ev.m.generation); \
	if (with_service) { \
		EXPECT_TRUE(ev.has_service) TH_LOG("command %d", cmd_); \
		EXPECT_TRUE(ev.has_svc_version) TH_LOG("command %d", cmd_); \
		EXPECT_EQ(80, ev.svc_port); \
	} \
	if (with_backend) { \
		EXPECT_TRUE(ev.has_backend) TH_LOG("command %d", cmd_); \
		EXPECT_EQ(be.id, ev.be_id); \
		EXPECT_EQ(be.port, ev.be_port); \
		EXPECT_EQ(0, memcmp(be.addr, ev.be_addr, 4)); \
	} \
} while (0)

TEST_F(klb, events)
{
	uint16_t t[7] = { 0 };
	struct api_nl events;
	struct event_ctx ev;
	struct api_be be;
	uint32_t txn;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_open(&events));
	ASSERT_EQ(0, api_join_events(&events));
	api_be_v4(&be, 3, API_BE_ADDR(9), 8080);

	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->v4, KLB_SCHED_MAGLEV,
					   7, NULL));
	ASSERT_EVENT(KLB_CMD_SERVICE_NEW, true, false);

	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->v4);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 200);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EVENT(KLB_CMD_SERVICE_SET, true, false);

	ASSERT_EQ(0, api_backend_new(&self->nl, &self->v4, &be, 1, 0, NULL));
	ASSERT_EVENT(KLB_CMD_BACKEND_NEW, true, true);
	ASSERT_EQ(0, api_backend_set_weight(&self->nl, &self->v4, &be, 5, 0, NULL));
	ASSERT_EVENT(KLB_CMD_BACKEND_SET, true, true);
	for (int i = 0; i < 7; i++)
		t[i] = 3;
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t, 7, 0, NULL));
	ASSERT_EVENT(KLB_CMD_TABLE_SET, true, false);
	ASSERT_EQ(0, api_table_del(&self->nl, &self->v4, 0, NULL));
	ASSERT_EVENT(KLB_CMD_TABLE_DEL, true, false);
	ASSERT_EQ(0, api_backend_del(&self->nl, &self->v4, &be, 0, NULL));
	ASSERT_EVENT(KLB_CMD_BACKEND_DEL, true, true);
	/* Several backends in one request: the event names none. */
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->v4, 4, 2, 0);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EVENT(KLB_CMD_BACKEND_NEW, true, false);
	EXPECT_FALSE(ev.has_backend);

	/* A transaction: staged writes say nothing, the commit says it once. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->v4, &txn, NULL));
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->v4, &be, 1, txn, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->v4, 7, 0, t, 7, txn, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EVENT(KLB_CMD_TXN_COMMIT, true, false);

	ASSERT_EQ(0, api_generation_set(&self->nl, 1000, NULL));
	ASSERT_EVENT(KLB_CMD_GENERATION_SET, false, false);
	ASSERT_EQ(0, api_service_del(&self->nl, &self->v4, NULL));
	ASSERT_EVENT(KLB_CMD_SERVICE_DEL, false, false);
	ASSERT_EQ(0, api_flush(&self->nl, NULL));
	ASSERT_EVENT(KLB_CMD_FLUSH, false, false);

	/* Rejected writes and reads send nothing. */
	EXPECT_EQ(-ENOENT, api_service_del(&self->nl, &self->v4, NULL));
	EXPECT_EQ(0, api_fingerprint(&self->nl, &(uint64_t){ 0 }));
	EXPECT_EQ(0, api_recv_event(&events, 200, NULL, NULL));
	api_close(&events);
	free(req);
}

/* SERVICE_DEL names the service it deleted. */
TEST_F(klb, event_service_del_names_service)
{
	struct api_nl events;
	struct event_ctx ev;

	ASSERT_EQ(0, api_service_new(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, api_open(&events));
	ASSERT_EQ(0, api_join_events(&events));
	ASSERT_EQ(0, api_service_del(&self->nl, &self->v4, NULL));
	ASSERT_EQ(0, next_event(&events, &self->nl, &ev));
	EXPECT_EQ(KLB_CMD_SERVICE_DEL, ev.m.cmd);
	EXPECT_TRUE(ev.has_service) TH_LOG("the contract: KLB_A_SERVICE where one is concerned");
	EXPECT_EQ(80, ev.svc_port);
	api_close(&events);
}

TEST_HARNESS_MAIN
