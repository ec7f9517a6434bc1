// SPDX-License-Identifier: GPL-2.0
/*
 * What configuration costs a netns, and its limit (max_netns_memory).
 *
 * The expensive case: a service with the largest table (1,048,573 entries,
 * 2 MiB) and a backend of the largest id (65534). A change that pushes no
 * table (a weight, a state, a new backend) must share the published table
 * and cost O(backends), not a table and a slot per possible id: measured
 * by the module's own figure (KLB_INFO_A_MEMORY) and, independently, by
 * the memory cgroup the writer runs in, over transactions held open so
 * that what each change made stays allocated while it is measured.
 *
 * The limit: a write that needs more than is left is refused with ENOSPC
 * and an extack message, counted, and changes nothing; what is freed is
 * given back (polled with a deadline: frees wait for RCU, and backends
 * for a sweep of the flow table).
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define BIG_M		KLB_TABLE_SIZE_LIMIT
#define TABLE_BYTES	(BIG_M * 2ull)
#define HIGH_ID		KLB_BACKEND_ID_MAX
#define OPEN_TXNS	8
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define KIB		1024ll
#define MIB		(1024 * KIB)

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static long long memory_current(const char *cg)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long long memory_in_use(struct api_nl *nl)
{
	struct api_info info;

	if (api_info_get(nl, &info, NULL))
		return -1;
	return info.memory;
}

/* Polls INFO until the netns holds at most @bytes; the last value read. */
static long long wait_memory_at_most(struct api_nl *nl, long long bytes)
{
	long long v = -1;
	int i;

	for (i = 0; i < 300; i++) {
		v = memory_in_use(nl);
		if (v >= 0 && v <= bytes)
			break;
		usleep(100 * 1000);
	}
	return v;
}

FIXTURE(memory)
{
	struct api_nl nl;
	struct api_key k;
	struct api_be low, high;
	unsigned int saved_limit;	/* 0: no such parameter */
	uint16_t *table;
	char cg[128];
};

FIXTURE_SETUP(memory)
{
	uint32_t i;

	/*
	 * Read, not required here: the cgroup's figure in the first test
	 * also measures a module from before the limit existed.
	 */
	if (api_param_read("max_netns_memory", &self->saved_limit))
		self->saved_limit = 0;
	self->cg[0] = 0;
	self->table = malloc(TABLE_BYTES);
	ASSERT_NE(NULL, self->table);
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&self->k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, api_service_new_sched(&self->nl, &self->k,
					   KLB_SCHED_MAGLEV, BIG_M, NULL));
	api_be_v4(&self->low, 0, API_BE_ADDR(1), 80);
	api_be_v4(&self->high, HIGH_ID, API_BE_ADDR(2), 80);
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->k, &self->low, 1, 0, NULL));
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->k, &self->high, 1, 0, NULL));
	for (i = 0; i < BIG_M; i++)
		self->table[i] = i % 2 ? HIGH_ID : 0;
	ASSERT_EQ(0, api_table_push(&self->nl, &self->k, BIG_M, self->table, NULL));
}

FIXTURE_TEARDOWN(memory)
{
	if (self->saved_limit)
		api_param_write("max_netns_memory", self->saved_limit);
	api_close(&self->nl);
	if (self->cg[0]) {
		write_file(CGROUP_ROOT "/cgroup.procs", "0\n");
		rmdir(self->cg);
	}
	free(self->table);
}

TEST_F(memory, a_weight_change_shares_the_table)
{
	long long used0, used, cg0, cg1, settled;
	uint32_t txn[OPEN_TXNS];
	struct api_err err;
	char path[192], pid[32];
	int i;

	/* A table, two backends, a snapshot: about 2 MiB once the replaced are gone. */
	settled = wait_memory_at_most(&self->nl, TABLE_BYTES + 256 * KIB);
	ASSERT_LE(settled, TABLE_BYTES + 256 * KIB)
		TH_LOG("the netns still holds %lld KiB after one table", settled / KIB);

	write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(self->cg, sizeof(self->cg), CGROUP_ROOT "/klb-memory-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	ASSERT_EQ(0, write_file(path, pid));

	/*
	 * Each transaction is a copy of the service with the backend of the
	 * highest id reweighted, held open so that it stays allocated.
	 */
	used0 = memory_in_use(&self->nl);
	cg0 = memory_current(self->cg);
	ASSERT_LE(0, cg0) TH_LOG("no memory controller in %s", self->cg);
	for (i = 0; i < OPEN_TXNS; i++) {
		ASSERT_EQ(0, api_txn_begin(&self->nl, &self->k, &txn[i], &err))
			TH_LOG("%s", err.msg);
		ASSERT_EQ(0, api_backend_set_weight(&self->nl, &self->k, &self->high,
						    2 + i, txn[i], &err))
			TH_LOG("%s", err.msg);
	}
	used = memory_in_use(&self->nl);
	cg1 = memory_current(self->cg);
	TH_LOG("%d open weight changes: INFO memory +%lld bytes, writer's cgroup +%lld KiB",
	       OPEN_TXNS, used - used0, (cg1 - cg0) / KIB);
	EXPECT_LT(used - used0, OPEN_TXNS * 4 * KIB);
	/* Per-CPU charge batching blurs the cgroup's figure by a few pages. */
	EXPECT_LT(cg1 - cg0, 1 * MIB);
	for (i = 0; i < OPEN_TXNS; i++)
		ASSERT_EQ(0, api_txn_abort(&self->nl, txn[i], NULL));
	ASSERT_NE(0, self->saved_limit) TH_LOG("no module parameter max_netns_memory");

	/*
	 * Published: with room for a snapshot but not for a table, a
	 * reweight, taking a backend out (weight 0) and a new backend all go
	 * through.
	 */
	used = memory_in_use(&self->nl);
	ASSERT_EQ(0, api_param_write("max_netns_memory", used + 64 * KIB));
	ASSERT_EQ(0, api_backend_set_weight(&self->nl, &self->k, &self->high, 7, 0,
					    &err))
		TH_LOG("a weight change needed more than 64 KiB: %s", err.msg);
	ASSERT_EQ(0, api_backend_set_weight(&self->nl, &self->k, &self->low, 0, 0,
					    &err))
		TH_LOG("%s", err.msg);
	{
		struct api_be be;

		api_be_v4(&be, 1000, API_BE_ADDR(3), 80);
		ASSERT_EQ(0, api_backend_new(&self->nl, &self->k, &be, 1, 0, &err))
			TH_LOG("a new backend needed more than 64 KiB: %s", err.msg);
	}
}

/* A write the limit refuses: ENOSPC, a message, a count, no change. */
#define ASSERT_REFUSED(ret, err, nl, fp, hits) do { \
	struct api_info __info; \
	ASSERT_REJECTED(ENOSPC, ret, err); \
	ASSERT_NE(NULL, strstr((err)->msg, "max_netns_memory")) \
		TH_LOG("extack: %s", (err)->msg); \
	ASSERT_UNCHANGED(nl, fp); \
	ASSERT_EQ(0, api_info_get(nl, &__info, NULL)); \
	ASSERT_EQ(++(hits), __info.memory_limit_hits); \
} while (0)

TEST_F(memory, the_limit_refuses_with_enospc_and_counts)
{
	struct api_info info;
	struct api_err err;
	uint64_t fp, hits;
	uint32_t txn;
	struct api_be be;
	struct api_key k2;
	long long used;

	ASSERT_NE(0, self->saved_limit) TH_LOG("no module parameter max_netns_memory");
	used = wait_memory_at_most(&self->nl, TABLE_BYTES + 256 * KIB);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	ASSERT_EQ(self->saved_limit, info.max_memory);
	hits = info.memory_limit_hits;
	ASSERT_EQ(0, hits);

	/* Room for small changes, not for a second table. */
	ASSERT_EQ(0, api_param_write("max_netns_memory", used + MIB));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	ASSERT_EQ(used + MIB, (long long)info.max_memory);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REFUSED(api_table_push(&self->nl, &self->k, BIG_M, self->table, &err),
		       &err, &self->nl, fp, hits);

	/* A table staged in a transaction is charged as it arrives. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->k, &txn, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, api_backend_del(&self->nl, &self->k, &self->low, txn, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REFUSED(api_table_set(&self->nl, &self->k, BIG_M, 0, self->table,
				     KLB_TABLE_CHUNK_MAX, txn, &err),
		       &err, &self->nl, fp, hits);
	ASSERT_EQ(0, api_txn_abort(&self->nl, txn, NULL));

	/* No room at all: every write that allocates is refused. */
	ASSERT_EQ(0, api_param_write("max_netns_memory", 1));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	api_be_v4(&be, 7, API_BE_ADDR(7), 80);
	ASSERT_REFUSED(api_backend_new(&self->nl, &self->k, &be, 1, 0, &err),
		       &err, &self->nl, fp, hits);
	ASSERT_REFUSED(api_backend_set_weight(&self->nl, &self->k, &self->high, 3, 0,
					      &err),
		       &err, &self->nl, fp, hits);
	ASSERT_REFUSED(api_txn_begin(&self->nl, &self->k, &txn, &err),
		       &err, &self->nl, fp, hits);
	api_key_v4(&k2, IPPROTO_UDP, API_VIP(2), 53);
	ASSERT_REFUSED(api_service_new(&self->nl, &k2, &err),
		       &err, &self->nl, fp, hits);

	/* Given room again, the same writes go through. */
	ASSERT_EQ(0, api_param_write("max_netns_memory", self->saved_limit));
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->k, &be, 1, 0, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(0, api_service_new(&self->nl, &k2, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	ASSERT_EQ(hits, info.memory_limit_hits);
}

/*
 * A request of many backends that the limit stops part way: the backends
 * it had made, their counter blocks included, are undone and uncharged.
 * The limit is half of what the same request costs: room for part of
 * it, not for all.
 */
TEST_F(memory, a_batch_refused_part_way_gives_all_back)
{
	struct api_req *req = malloc(sizeof(*req));
	long long used, cost, back;
	struct api_backend got;
	struct api_info info;
	struct api_err err;
	uint64_t fp, hits;
	struct api_be be;
	int i;

	ASSERT_NE(NULL, req);
	ASSERT_NE(0, self->saved_limit) TH_LOG("no module parameter max_netns_memory");
	used = wait_memory_at_most(&self->nl, TABLE_BYTES + 256 * KIB);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	hits = info.memory_limit_hits;

	/* What 100 backends in one request cost, then given back. */
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->k, 1, 100, 0);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	cost = memory_in_use(&self->nl) - used;
	ASSERT_LT(0, cost);
	for (i = 1; i <= 100; i++) {
		api_be_v4(&be, i, API_BE_ADDR(i + 1), 10000 + i);
		ASSERT_EQ(0, api_backend_del(&self->nl, &self->k, &be, 0, NULL));
	}
	back = wait_memory_at_most(&self->nl, used);
	ASSERT_GE(used, back) TH_LOG("deleted backends left %lld bytes charged", back - used);
	used = back;

	ASSERT_EQ(0, api_param_write("max_netns_memory", used + cost / 2));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->k, 1, 100, 0);
	ASSERT_REFUSED(api_transact(&self->nl, req->nlh, NULL, NULL, &err),
		       &err, &self->nl, fp, hits);
	back = wait_memory_at_most(&self->nl, used);
	EXPECT_GE(used, back) TH_LOG("the refused request left %lld bytes charged", back - used);

	/* Given room again, the same request goes through whole. */
	ASSERT_EQ(0, api_param_write("max_netns_memory", self->saved_limit));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->k, 1, 100, 0);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, &err))
		TH_LOG("%s", err.msg);
	api_be_v4(&be, 100, API_BE_ADDR(101), 10100);
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->k, &be, &got, NULL));
	free(req);
}

/*
 * Also the counters of backends one request made, which share per-CPU
 * blocks: with all but one of them deleted the last is still there, and
 * the blocks go with it.
 */
TEST_F(memory, what_is_freed_is_given_back)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_backend got;
	struct api_be be;
	long long used;
	int i;

	ASSERT_NE(NULL, req);
	ASSERT_NE(0, self->saved_limit) TH_LOG("no module parameter max_netns_memory");
	ASSERT_LT(0, memory_in_use(&self->nl));
	api_backends_req(req, &self->nl, KLB_CMD_BACKEND_NEW, &self->k, 1, 100, 0);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
	for (i = 1; i < 100; i++) {
		api_be_v4(&be, i, API_BE_ADDR(i + 1), 10000 + i);
		ASSERT_EQ(0, api_backend_del(&self->nl, &self->k, &be, 0, NULL));
	}
	api_be_v4(&be, 100, API_BE_ADDR(101), 10100);
	ASSERT_EQ(0, api_backend_get(&self->nl, &self->k, &be, &got, NULL));
	ASSERT_EQ(100, got.be.id);
	ASSERT_EQ(0, api_flush(&self->nl, NULL));
	/* Backends go after a sweep of the flow table: seconds, not more. */
	used = wait_memory_at_most(&self->nl, 0);
	EXPECT_EQ(0, used) TH_LOG("%lld bytes still charged with nothing configured", used);
}

TEST_HARNESS_MAIN
