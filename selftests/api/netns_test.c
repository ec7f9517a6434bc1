// SPDX-License-Identifier: GPL-2.0
/*
 * klb state is per network namespace: what one netns holds is invisible
 * in another, the same service key may exist in both, and a netns that
 * goes away with services, backends, tables and open transactions in it
 * takes them along (the guest's kernel log shows any leak or WARN).
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "api_test.h"

/* A service with backends, a table and an open transaction. */
static int fill(struct api_nl *nl, const struct api_key *k, uint32_t m,
		int nr_backends, uint32_t *txn)
{
	struct api_req *req = malloc(sizeof(*req));
	uint16_t *t = malloc((size_t)m * 2);
	struct nlattr *nest;
	struct api_be be;
	uint32_t i;
	int ret;

	if (!req || !t) {
		free(req);
		free(t);
		return -ENOMEM;
	}
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, m);
	mnl_attr_nest_end(req->nlh, nest);
	ret = api_transact(nl, req->nlh, NULL, NULL, NULL);
	for (i = 0; i < (uint32_t)nr_backends && !ret; i++) {
		if (k->family == AF_INET)
			api_be_v4(&be, i, API_BE_ADDR(1 + i), 80);
		else
			api_be_v6(&be, i, 1 + i, 80);
		ret = api_backend_new(nl, k, &be, 1 + i, 0, NULL);
	}
	for (i = 0; i < m; i++)
		t[i] = i % nr_backends;
	ret = ret ?: api_table_push(nl, k, m, t, NULL);
	if (!ret && txn) {
		/* Left open, half-way through a table. */
		ret = api_txn_begin(nl, k, txn, NULL);
		ret = ret ?: api_table_set(nl, k, m, 0, t,
					   m / 2 < KLB_TABLE_CHUNK_MAX ? m / 2 :
					   KLB_TABLE_CHUNK_MAX, *txn, NULL);
	}
	free(req);
	free(t);
	return ret;
}

TEST(isolation)
{
	struct api_service sa, sb, sa2;
	struct api_info info;
	struct api_nl a, b;
	struct api_key k;
	struct api_err err;
	uint64_t gen_a, gen_b;
	int count = 0;
	uint32_t txn;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&a)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, fill(&a, &k, 7, 3, &txn));
	ASSERT_EQ(0, api_generation_set(&a, 500, NULL));
	ASSERT_EQ(0, api_service_get(&a, &k, &sa, NULL, NULL));

	/* A socket opened after moving lives in the other netns. */
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&b));
	EXPECT_EQ(-ENOENT, api_service_get(&b, &k, NULL, NULL, &err));
	ASSERT_EQ(0, api_service_dump(&b, NULL, NULL, &err));
	EXPECT_EQ(0, err.messages);
	ASSERT_EQ(0, api_info_get(&b, &info, &gen_b));
	EXPECT_EQ(0, info.services);
	EXPECT_EQ(0, info.txns);
	EXPECT_EQ(0, gen_b);
	/* The other netns's transaction is unknown here. */
	EXPECT_EQ(-ENOENT, api_txn_commit(&b, txn, &err));

	/* The same key, other settings: both exist. */
	ASSERT_EQ(0, api_service_new_sched(&b, &k, KLB_SCHED_WLC, 0, NULL));
	ASSERT_EQ(0, api_service_get(&b, &k, &sb, NULL, NULL));
	EXPECT_EQ(KLB_SCHED_WLC, sb.sched);
	EXPECT_EQ(0, sb.backends);
	ASSERT_EQ(0, api_flush(&b, NULL));

	/* Nothing in a moved: same version, backends, generation, txn. */
	ASSERT_EQ(0, api_service_get(&a, &k, &sa2, &gen_a, NULL));
	EXPECT_EQ(sa.version, sa2.version);
	EXPECT_EQ(3, sa2.backends);
	EXPECT_EQ(KLB_SCHED_MAGLEV, sa2.sched);
	EXPECT_EQ(500, gen_a);
	ASSERT_EQ(0, api_info_get(&a, &info, NULL));
	EXPECT_EQ(1, info.services);
	EXPECT_EQ(1, info.txns);
	ASSERT_EQ(0, api_service_dump(&a, NULL, NULL, &err));
	count = err.messages;
	EXPECT_EQ(1, count);
	api_close(&b);
	api_close(&a);
}

/* Events of one netns are not heard in another. */
TEST(events_stay_in_their_netns)
{
	struct api_nl a, b, listen_b;
	struct api_key k;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&a));
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&b));
	ASSERT_EQ(0, api_open(&listen_b));
	ASSERT_EQ(0, api_join_events(&listen_b));
	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, api_service_new(&a, &k, NULL));
	EXPECT_EQ(0, api_recv_event(&listen_b, 300, NULL, NULL));
	/* While one in b is. */
	ASSERT_EQ(0, api_service_new(&b, &k, NULL));
	EXPECT_EQ(1, api_recv_event(&listen_b, 5000, NULL, NULL));
	api_close(&listen_b);
	api_close(&b);
	api_close(&a);
}

/*
 * Namespaces that die holding state: each child fills its own netns
 * (services, backends, a 1M-entry table, an open transaction) and exits.
 */
FIXTURE(slow)
{
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, netns_deleted_with_state, 180)
{
	int i, status;

	for (i = 0; i < 6; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct api_key k4, k6;
			struct api_nl nl;
			uint32_t txn;

			if (api_enter_new_netns() || api_open(&nl))
				_exit(2);
			api_key_v4(&k4, IPPROTO_TCP, API_VIP(i), 80);
			api_key_v6(&k6, IPPROTO_UDP, i, 53);
			if (fill(&nl, &k4, i == 0 ? KLB_TABLE_SIZE_LIMIT : 16381, 8, &txn) ||
			    fill(&nl, &k6, 7, 2, NULL))
				_exit(3);
			/* Exit with the socket and the netns still holding it all. */
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child %d failed", i);
	}
}

TEST_HARNESS_MAIN
