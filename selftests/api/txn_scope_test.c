// SPDX-License-Identifier: GPL-2.0
/*
 * What a transaction covers. Only SERVICE_SET, BACKEND_NEW/SET/DEL and
 * TABLE_SET/DEL stage into one (include/uapi/linux/klb.h); the other
 * writes apply at once, so a transaction id on them must be refused, not
 * ignored: a caller that sends one believes its change waits for the
 * commit (and the commit's generation guard) when it would not.
 *
 * A staged write that the kernel rejects must leave the transaction as it
 * was, so committing afterwards publishes what was staged before.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "api_test.h"

FIXTURE(txn)
{
	struct api_nl nl;
	struct api_key a;
	uint32_t id;
};

FIXTURE_SETUP(txn)
{
	static const uint16_t table[7] = { 0, 0, 0, 0, 0, 0, 0 };
	struct api_be be;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&self->a, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->a, KLB_SCHED_MAGLEV,
					   7, NULL));
	api_be_v4(&be, 0, API_BE_ADDR(1), 8080);
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, 0, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, table, 7, 0, NULL));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &self->id, NULL));
}

FIXTURE_TEARDOWN(txn)
{
	api_close(&self->nl);
}

FIXTURE_VARIANT(txn)
{
	uint8_t cmd;
	bool with_service;
	bool with_generation;
};

FIXTURE_VARIANT_ADD(txn, service_new) {
	.cmd = KLB_CMD_SERVICE_NEW, .with_service = true,
};

FIXTURE_VARIANT_ADD(txn, service_del) {
	.cmd = KLB_CMD_SERVICE_DEL, .with_service = true,
};

FIXTURE_VARIANT_ADD(txn, flush) {
	.cmd = KLB_CMD_FLUSH,
};

FIXTURE_VARIANT_ADD(txn, generation_set) {
	.cmd = KLB_CMD_GENERATION_SET, .with_generation = true,
};

TEST_F(txn, immediate_write_refuses_txn_id)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_key k = self->a;
	struct api_err err;
	uint64_t before;

	ASSERT_NE(NULL, req);
	/* SERVICE_NEW needs a key that does not exist yet to be valid. */
	if (variant->cmd == KLB_CMD_SERVICE_NEW)
		api_key_v4(&k, IPPROTO_TCP, API_VIP(2), 80);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &before));
	api_req_start(req, &self->nl, variant->cmd, 0);
	if (variant->with_service)
		api_put_service(req->nlh, &k);
	if (variant->with_generation)
		mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 1000);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, self->id);
	ASSERT_REJECTED(EINVAL, api_transact(&self->nl, req->nlh, NULL, NULL,
					     &err), &err);
	EXPECT_TRUE(err.has_offset) TH_LOG("extack does not point at KLB_A_TXN");
	ASSERT_UNCHANGED(&self->nl, before);
	/* The transaction is still there and still commits. */
	EXPECT_EQ(0, api_txn_commit(&self->nl, self->id, NULL));
	free(req);
}

TEST_HARNESS_MAIN
