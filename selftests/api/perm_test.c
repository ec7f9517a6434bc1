// SPDX-License-Identifier: GPL-2.0
/*
 * Writes need CAP_NET_ADMIN; reads are open. The test process sets up a
 * netns as root, then becomes nobody (uid 65534, no capabilities) and
 * tries every write (EPERM, nothing changes) and every read (works, but
 * the service seed stays hidden).
 */

#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "api_test.h"

static const uint16_t table7[7] = { 0, 1, 0, 1, 0, 1, 0 };
static const uint8_t seed[KLB_SEED_LEN] = "0123456789abcdef";

struct nobody_state {
	struct api_nl root_nl;		/* opened as root, used as nobody */
	struct api_nl nl;		/* opened as nobody */
	struct api_key k;
	uint32_t root_txn;
};

/* Every write command, one variant each. */
FIXTURE(nobody)
{
	struct nobody_state st;
};

/* The other tests, once. */
FIXTURE(unpriv)
{
	struct nobody_state st;
};

FIXTURE_VARIANT(nobody)
{
	uint8_t cmd;
};

static int setup_as_root(struct api_nl *nl, const struct api_key *k)
{
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	struct api_be be;
	int i, ret;

	if (!req)
		return -ENOMEM;
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 7);
	mnl_attr_put(req->nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, seed);
	mnl_attr_nest_end(req->nlh, nest);
	ret = api_transact(nl, req->nlh, NULL, NULL, NULL);
	free(req);
	for (i = 0; i < 2 && !ret; i++) {
		api_be_v4(&be, i, API_BE_ADDR(1 + i), 80);
		ret = api_backend_new(nl, k, &be, 1, 0, NULL);
	}
	return ret ?: api_table_set(nl, k, 7, 0, table7, 7, 0, NULL);
}

static int become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

static void enter_as_nobody(struct __test_metadata *_metadata,
			 struct nobody_state *self)
{
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->root_nl)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&self->k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, setup_as_root(&self->root_nl, &self->k));
	ASSERT_EQ(0, api_txn_begin(&self->root_nl, &self->k, &self->root_txn, NULL));
	ASSERT_EQ(0, become_nobody());
	ASSERT_EQ(0, api_open(&self->nl));
}

static void leave_nobody(struct nobody_state *self)
{
	api_close(&self->nl);
	api_close(&self->root_nl);
}

FIXTURE_SETUP(nobody)
{
	enter_as_nobody(_metadata, &self->st);
}

FIXTURE_TEARDOWN(nobody)
{
	leave_nobody(&self->st);
}

FIXTURE_SETUP(unpriv)
{
	enter_as_nobody(_metadata, &self->st);
}

FIXTURE_TEARDOWN(unpriv)
{
	leave_nobody(&self->st);
}

/* A request that root would get through. */
static struct api_nl *build_write(struct api_req *req, struct nobody_state *self,
				  uint8_t cmd)
{
	struct api_nl *nl = &self->nl;
	struct nlattr *nest;
	struct api_be be;
	struct api_key k2;

	api_be_v4(&be, 0, API_BE_ADDR(1), 80);
	switch (cmd) {
	case KLB_CMD_SERVICE_NEW:
		api_key_v4(&k2, IPPROTO_UDP, API_VIP(2), 80);
		api_req_start(req, nl, cmd, 0);
		api_put_service(req->nlh, &k2);
		break;
	case KLB_CMD_SERVICE_SET:
		api_req_start(req, nl, cmd, 0);
		nest = api_put_service_open(req->nlh, &self->k);
		mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 200);
		mnl_attr_nest_end(req->nlh, nest);
		break;
	case KLB_CMD_SERVICE_DEL:
	case KLB_CMD_TABLE_DEL:
	case KLB_CMD_TXN_BEGIN:
		api_req_start(req, nl, cmd, 0);
		api_put_service(req->nlh, &self->k);
		break;
	case KLB_CMD_BACKEND_NEW:
		be.id = 5;
		be.port = 81;
		/* fall through */
	case KLB_CMD_BACKEND_SET:
	case KLB_CMD_BACKEND_DEL:
		api_req_start(req, nl, cmd, 0);
		api_put_service(req->nlh, &self->k);
		nest = api_put_backend_open(req->nlh, &be, cmd == KLB_CMD_BACKEND_NEW);
		if (cmd == KLB_CMD_BACKEND_SET)
			mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 3);
		mnl_attr_nest_end(req->nlh, nest);
		break;
	case KLB_CMD_TABLE_SET:
		api_req_start(req, nl, cmd, 0);
		api_put_service(req->nlh, &self->k);
		api_put_table(req->nlh, 7, 0, table7, 7);
		break;
	case KLB_CMD_FLUSH:
		api_req_start(req, nl, cmd, 0);
		break;
	case KLB_CMD_GENERATION_SET:
		api_req_start(req, nl, cmd, 0);
		mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 77);
		break;
	case KLB_CMD_TXN_COMMIT:
	case KLB_CMD_TXN_ABORT:
		/* Root's own socket and transaction, used by nobody. */
		nl = &self->root_nl;
		api_req_start(req, nl, cmd, 0);
		mnl_attr_put_u32(req->nlh, KLB_A_TXN, self->root_txn);
		break;
	}
	return nl;
}

TEST_F(nobody, write_is_eperm)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_nl *nl;
	struct api_err err;
	uint64_t before;
	int ret;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_fingerprint(&self->st.nl, &before));
	nl = build_write(req, &self->st, variant->cmd);
	ret = api_transact(nl, req->nlh, NULL, NULL, &err);
	ASSERT_EQ(-EPERM, ret) TH_LOG("command %d: %s", variant->cmd, strerror(-ret));
	ASSERT_UNCHANGED(&self->st.nl, before);
	free(req);
}

#define WRITE_CMD(name, cmd_) \
	FIXTURE_VARIANT_ADD(nobody, name) { .cmd = cmd_ }

WRITE_CMD(service_new, KLB_CMD_SERVICE_NEW);
WRITE_CMD(service_set, KLB_CMD_SERVICE_SET);
WRITE_CMD(service_del, KLB_CMD_SERVICE_DEL);
WRITE_CMD(backend_new, KLB_CMD_BACKEND_NEW);
WRITE_CMD(backend_set, KLB_CMD_BACKEND_SET);
WRITE_CMD(backend_del, KLB_CMD_BACKEND_DEL);
WRITE_CMD(table_set, KLB_CMD_TABLE_SET);
WRITE_CMD(table_del, KLB_CMD_TABLE_DEL);
WRITE_CMD(flush, KLB_CMD_FLUSH);
WRITE_CMD(generation_set, KLB_CMD_GENERATION_SET);
WRITE_CMD(txn_begin, KLB_CMD_TXN_BEGIN);
WRITE_CMD(txn_commit, KLB_CMD_TXN_COMMIT);
WRITE_CMD(txn_abort, KLB_CMD_TXN_ABORT);

TEST_F(unpriv, reads_work)
{
	struct api_backend bk[4];
	struct api_be_dump bd = { .be = bk, .max = 4 };
	uint16_t got[7];
	struct api_tbl_dump td = { .entries = got, .size = 7 };
	struct api_service s;
	struct api_backend b;
	struct api_info info;
	struct api_be be;
	uint64_t gen;

	ASSERT_EQ(0, api_service_get(&self->st.nl, &self->st.k, &s, NULL, NULL));
	EXPECT_EQ(7, s.table_size);
	EXPECT_EQ(2, s.backends);
	EXPECT_FALSE(s.seen & (1u << KLB_SVC_A_SEED))
		TH_LOG("the seed is only reported to callers with CAP_NET_ADMIN");
	ASSERT_EQ(0, api_service_dump(&self->st.nl, NULL, NULL, NULL));
	api_be_v4(&be, 0, API_BE_ADDR(1), 80);
	ASSERT_EQ(0, api_backend_get(&self->st.nl, &self->st.k, &be, &b, NULL));
	ASSERT_EQ(0, api_backend_dump(&self->st.nl, &self->st.k, &bd, NULL));
	EXPECT_EQ(2, bd.n);
	ASSERT_EQ(0, api_table_dump(&self->st.nl, &self->st.k, &td, NULL));
	EXPECT_EQ(0, memcmp(table7, got, sizeof(got)));
	ASSERT_EQ(0, api_generation_get(&self->st.nl, &gen));
	ASSERT_EQ(0, api_info_get(&self->st.nl, &info, NULL));
	EXPECT_EQ(1, info.services);
}

/* Root in the same process sees the seed: the check is about the caller. */
TEST(root_sees_seed)
{
	struct api_service s;
	struct api_nl nl;
	struct api_key k;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&nl));
	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, setup_as_root(&nl, &k));
	ASSERT_EQ(0, api_service_get(&nl, &k, &s, NULL, NULL));
	ASSERT_TRUE(s.seen & (1u << KLB_SVC_A_SEED));
	EXPECT_EQ(0, memcmp(seed, s.seed, KLB_SEED_LEN));
	api_close(&nl);
}

TEST_HARNESS_MAIN
