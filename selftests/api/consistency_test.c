// SPDX-License-Identifier: GPL-2.0
/*
 * What readers see while writers work:
 *  - a dump of thousands of services returns each exactly once, and a dump
 *    interleaved with writes is either consistent or flagged
 *    NLM_F_DUMP_INTR;
 *  - a multi-part dump resumed after services were deleted (at and around
 *    where it stopped) and added still reports every service that lived
 *    throughout exactly once;
 *  - backend and table dumps come from one snapshot each, or end early
 *    flagged NLM_F_DUMP_INTR: a reader looping over them while a writer
 *    swaps (backend set, table) pairs through transactions never sees an
 *    unflagged mix.
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define NR_STABLE	5000
#define NR_CHURN	50

FIXTURE(klb)
{
	struct api_nl nl;
};

FIXTURE_SETUP(klb)
{
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
}

FIXTURE_TEARDOWN(klb)
{
	api_close(&self->nl);
}

/* Stable services: UDP, 192.0.2.<i % 250>, port 1000 + i / 250. */
static void stable_key(struct api_key *k, int i)
{
	api_key_v4(k, IPPROTO_UDP, API_VIP(i % 250), 1000 + i / 250);
}

/* Services the writer deletes and re-creates: TCP, port 1..NR_CHURN. */
static void churn_key(struct api_key *k, int i)
{
	api_key_v4(k, IPPROTO_TCP, API_VIP(7), 1 + i);
}

struct census {
	unsigned short stable[NR_STABLE];
	unsigned short churn[NR_CHURN];
	int other;
	int total;
	int last_stable;		/* the last stable service reported */
};

static int census_cb(const struct nlmsghdr *nlh, void *data)
{
	struct census *c = data;
	struct api_msg m;
	int i;

	api_parse(nlh, &m);
	c->total++;
	if (m.svc.key.proto == IPPROTO_UDP && m.svc.key.port >= 1000) {
		i = (m.svc.key.port - 1000) * 250 + m.svc.key.addr[3];
		if (i < NR_STABLE) {
			c->stable[i]++;
			c->last_stable = i;
			return MNL_CB_OK;
		}
	} else if (m.svc.key.proto == IPPROTO_TCP && m.svc.key.port >= 1 &&
		   m.svc.key.port <= NR_CHURN) {
		c->churn[m.svc.key.port - 1]++;
		return MNL_CB_OK;
	}
	c->other++;
	return MNL_CB_OK;
}

static int create_stable(struct api_nl *nl)
{
	struct api_key k;
	int i, ret;

	for (i = 0; i < NR_STABLE; i++) {
		stable_key(&k, i);
		ret = api_service_new(nl, &k, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

TEST_F_TIMEOUT(klb, dump_thousands_each_once, 240)
{
	struct census *c = calloc(1, sizeof(*c));
	struct api_info info;
	struct api_err err;
	int i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, create_stable(&self->nl));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	ASSERT_EQ(NR_STABLE, info.services);
	ASSERT_EQ(0, api_service_dump(&self->nl, census_cb, c, &err));
	/* Nobody wrote: nothing to flag. */
	EXPECT_FALSE(err.dump_intr);
	EXPECT_EQ(NR_STABLE, c->total);
	EXPECT_EQ(0, c->other);
	for (i = 0; i < NR_STABLE; i++)
		if (c->stable[i] != 1) {
			EXPECT_EQ(1, c->stable[i]) TH_LOG("service %d", i);
			break;
		}
	free(c);
}

/*
 * The churn services come first in the netns, so deleting one moves every
 * stable service one place down the list a dump walks: a dump that did not
 * notice would skip or repeat one. The writes happen at chosen points in
 * the middle of dumps (between two datagrams of the reply), so that every
 * other round is interleaved for certain; the rounds in between have no
 * write and must be consistent.
 */
struct churn {
	struct api_nl nl;
	int after;			/* write after this many datagrams */
	int seen;
	int next;
	int failed;
};

static void churn_between_reads(void *arg)
{
	struct churn *w = arg;
	struct api_key k;

	if (++w->seen != w->after)
		return;
	churn_key(&k, w->next);
	w->next = (w->next + 1) % NR_CHURN;
	if (api_service_del(&w->nl, &k, NULL) || api_service_new(&w->nl, &k, NULL))
		w->failed++;
}

TEST_F_TIMEOUT(klb, dump_interleaved_with_writes, 300)
{
	struct census *c = calloc(1, sizeof(*c));
	int clean = 0, flagged = 0, round, i;
	struct churn w = { 0 };
	struct api_key k;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, api_open(&w.nl));
	for (i = 0; i < NR_CHURN; i++) {
		churn_key(&k, i);
		ASSERT_EQ(0, api_service_new(&self->nl, &k, NULL));
	}
	ASSERT_EQ(0, create_stable(&self->nl));
	self->nl.between_reads = churn_between_reads;
	self->nl.between_reads_arg = &w;

	for (round = 0; round < 12; round++) {
		bool interleaved = round % 2 == 0;
		struct api_err err;
		int bad = 0;

		memset(c, 0, sizeof(*c));
		w.seen = 0;
		w.after = interleaved ? 1 + round / 2 : -1;
		ASSERT_EQ(0, api_service_dump(&self->nl, census_cb, c, &err));
		ASSERT_EQ(0, w.failed);
		if (interleaved) {
			ASSERT_LT(w.after, w.seen) TH_LOG("the dump ended before the write");
		} else {
			EXPECT_FALSE(err.dump_intr) TH_LOG("round %d: flagged without a write",
							   round);
		}
		if (err.dump_intr) {
			flagged++;
			continue;
		}
		clean++;
		for (i = 0; i < NR_STABLE; i++)
			bad += c->stable[i] != 1;
		for (i = 0; i < NR_CHURN; i++)
			bad += c->churn[i] > 1;
		EXPECT_EQ(0, bad) TH_LOG("round %d: a dump not flagged NLM_F_DUMP_INTR "
					 "skipped or repeated %d services", round, bad);
		EXPECT_EQ(0, c->other);
	}
	self->nl.between_reads = NULL;
	printf("# %d dumps consistent, %d flagged NLM_F_DUMP_INTR\n", clean, flagged);
	fflush(stdout);
	api_close(&w.nl);
	free(c);
}

/*
 * Between parts of one dump, delete services the dump has reported, every
 * service of a window ahead of it (wider than two parts, so that the next
 * part starts at a deleted index whichever part the kernel has already
 * queued), and add new ones. Services are listed oldest first, so the new
 * ones come after everything the dump has passed.
 */
#define RESUME_BEHIND	20
#define RESUME_AHEAD	800
#define RESUME_ADDED	20

struct resume {
	struct api_nl nl;
	struct census *c;
	int at[2];			/* intervene after these datagrams */
	int seen;
	int added;
	int failed;
	unsigned char behind[NR_STABLE];	/* deleted once reported */
	unsigned char ahead[NR_STABLE];		/* deleted before reported */
};

static void resume_between_reads(void *arg)
{
	struct resume *r = arg;
	struct api_key k;
	int i, j;

	++r->seen;
	if (r->seen != r->at[0] && r->seen != r->at[1])
		return;
	i = r->c->last_stable;
	for (j = i - RESUME_BEHIND + 1; j <= i + RESUME_AHEAD; j++) {
		if (j < 0 || j >= NR_STABLE || r->behind[j] || r->ahead[j])
			continue;
		if (j <= i)
			r->behind[j] = 1;
		else
			r->ahead[j] = 1;
		stable_key(&k, j);
		r->failed += !!api_service_del(&r->nl, &k, NULL);
	}
	for (j = 0; j < RESUME_ADDED / 2; j++) {
		churn_key(&k, r->added++);
		r->failed += !!api_service_new(&r->nl, &k, NULL);
	}
}

TEST_F_TIMEOUT(klb, dump_resumes_across_deletes_and_adds, 240)
{
	struct census *c = calloc(1, sizeof(*c));
	struct resume *r = calloc(1, sizeof(*r));
	int i, bad = 0, ahead = 0, ahead_reported = 0;
	struct api_err err;

	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, api_open(&r->nl));
	ASSERT_EQ(0, create_stable(&self->nl));
	r->c = c;
	r->at[0] = 1;
	r->at[1] = 4;
	self->nl.between_reads = resume_between_reads;
	self->nl.between_reads_arg = r;
	ASSERT_EQ(0, api_service_dump(&self->nl, census_cb, c, &err));
	self->nl.between_reads = NULL;
	ASSERT_EQ(0, r->failed);
	ASSERT_LT(r->at[1], r->seen) TH_LOG("the dump ended before the writes");
	EXPECT_TRUE(err.dump_intr) TH_LOG("writes between parts, not flagged");

	for (i = 0; i < NR_STABLE; i++) {
		if (r->ahead[i]) {
			ahead++;
			ahead_reported += c->stable[i];
			bad += c->stable[i] > 1;
		} else {
			bad += c->stable[i] != 1;
		}
	}
	EXPECT_EQ(0, bad) TH_LOG("%d services reported other than once", bad);
	/* At most the part already queued saw them: the rest were skipped. */
	EXPECT_LT(RESUME_AHEAD, ahead);
	EXPECT_LT(ahead_reported, ahead);
	for (i = 0; i < RESUME_ADDED; i++)
		EXPECT_EQ(1, c->churn[i]) TH_LOG("added service %d", i);
	EXPECT_EQ(0, c->other);
	printf("# %d datagrams; of %d services deleted ahead of the dump, %d reported\n",
	       r->seen, ahead, ahead_reported);
	fflush(stdout);
	api_close(&r->nl);
	free(r);
	free(c);
}

/* ---- atomic (backend set, table) replacement ------------------------------- */

#define BIG_M		65537	/* 128 KiB of table: chunked, so a transaction */
#define SET_SIZE	10
#define WRITES		30
#define READS_MAX	3000

/* Set s (0 or 1): ids 10*s .. 10*s+9 at 198.51.100.(1 + id). */
static void set_backend(struct api_be *be, int s, int j)
{
	int id = s * SET_SIZE + j;

	api_be_v4(be, id, API_BE_ADDR(1 + id), 8000 + id);
}

static void set_table(uint16_t *t, int s)
{
	uint32_t i;

	for (i = 0; i < BIG_M; i++)
		t[i] = s * SET_SIZE + (i * 31 + s) % SET_SIZE;
}

/* Replaces set 1 - @s by set @s and its table, as one transaction. */
static int swap_to(struct api_nl *nl, const struct api_key *k, int s,
		   const uint16_t *t)
{
	struct api_be be;
	uint32_t txn;
	int j, ret;

	ret = api_txn_begin(nl, k, &txn, NULL);
	if (ret)
		return ret;
	for (j = 0; j < SET_SIZE && !ret; j++) {
		set_backend(&be, 1 - s, j);
		ret = api_backend_del(nl, k, &be, txn, NULL);
		set_backend(&be, s, j);
		ret = ret ?: api_backend_new(nl, k, &be, 1, txn, NULL);
	}
	ret = ret ?: api_table_chunks(nl, k, BIG_M, t, KLB_TABLE_CHUNK_MAX, txn,
				      NULL);
	if (ret) {
		api_txn_abort(nl, txn, NULL);
		return ret;
	}
	return api_txn_commit(nl, txn, NULL);
}

struct reader_result {
	int reads;
	int same_version;		/* pairs from one snapshot */
	int table_mixed;		/* table equal to neither pushed table */
	int backends_mixed;		/* backend set equal to neither set */
	int pair_mismatch;		/* same version, entry names no backend */
	int version_mixed;		/* a dump spanning two versions */
	int interrupted;		/* a dump flagged NLM_F_DUMP_INTR */
	int errors;
};

/* 0 or 1 when @bk is exactly backend set 0 or 1; -1 otherwise. */
static int which_set(const struct api_backend *bk, size_t n)
{
	unsigned int mask = 0;
	size_t i;
	int s;

	if (n != SET_SIZE)
		return -1;
	s = bk[0].be.id / SET_SIZE;
	for (i = 0; i < n; i++) {
		struct api_be want;
		int j = bk[i].be.id - s * SET_SIZE;

		if (j < 0 || j >= SET_SIZE || (mask & (1u << j)))
			return -1;
		set_backend(&want, s, j);
		if (bk[i].be.port != want.port || memcmp(bk[i].be.addr, want.addr, 4))
			return -1;
		mask |= 1u << j;
	}
	return s;
}

static void reader(const struct api_key *k, const uint16_t *t0,
		   const uint16_t *t1, int stop_fd, struct reader_result *r)
{
	uint16_t *got = malloc(BIG_M * sizeof(uint16_t));
	struct api_backend bk[2 * SET_SIZE];
	struct api_be_dump bd = { .be = bk, .max = 2 * SET_SIZE };
	struct api_tbl_dump td = { .entries = got, .size = BIG_M };
	struct api_err be_err, tbl_err;
	int tail = -1;
	struct api_nl nl;
	char c;

	if (!got || api_open(&nl)) {
		r->errors++;
		return;
	}
	/* After the writer stops, a few more rounds that must all pair up. */
	for (r->reads = 0; r->reads < READS_MAX && tail != 0; r->reads++) {
		int bset, tset;
		uint32_t i;

		if (tail < 0 && read(stop_fd, &c, 1) == 1)
			tail = 3;
		else if (tail > 0)
			tail--;
		if (api_backend_dump(&nl, k, &bd, &be_err) ||
		    api_table_dump(&nl, k, &td, &tbl_err)) {
			r->errors++;
			continue;
		}
		/* Cut short by a write: the contract says dump again. */
		if (be_err.dump_intr || tbl_err.dump_intr) {
			r->interrupted++;
			continue;
		}
		if (td.filled != BIG_M || td.out_of_order || td.bad_size) {
			r->errors++;
			continue;
		}
		if (bd.mixed || td.mixed)
			r->version_mixed++;
		bset = which_set(bk, bd.n);
		tset = !memcmp(got, t0, BIG_M * 2) ? 0 :
		       !memcmp(got, t1, BIG_M * 2) ? 1 : -1;
		r->backends_mixed += bset < 0;
		r->table_mixed += tset < 0;
		if (bd.version != td.version)
			continue;
		r->same_version++;
		for (i = 0; i < BIG_M; i++)
			if (got[i] / SET_SIZE != bset)
				break;
		r->pair_mismatch += i < BIG_M || bset != tset;
	}
	api_close(&nl);
	free(got);
}

TEST_F_TIMEOUT(klb, atomic_table_replace, 600)
{
	uint16_t *t[2] = { malloc(BIG_M * 2), malloc(BIG_M * 2) };
	struct reader_result *r;
	struct api_key k;
	struct api_req *req = malloc(sizeof(*req));
	struct nlattr *nest;
	struct api_be be;
	int stop[2], w, j, status;
	pid_t pid;

	ASSERT_NE(NULL, t[0]);
	ASSERT_NE(NULL, t[1]);
	ASSERT_NE(NULL, req);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0, sizeof(*r));
	set_table(t[0], 0);
	set_table(t[1], 1);

	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 443);
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, BIG_M);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
	for (j = 0; j < SET_SIZE; j++) {
		set_backend(&be, 0, j);
		ASSERT_EQ(0, api_backend_new(&self->nl, &k, &be, 1, 0, NULL));
	}
	ASSERT_EQ(0, api_table_push(&self->nl, &k, BIG_M, t[0], NULL));

	ASSERT_EQ(0, pipe2(stop, O_NONBLOCK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(stop[1]);
		reader(&k, t[0], t[1], stop[0], r);
		_exit(0);
	}
	close(stop[0]);
	for (w = 1; w <= WRITES; w++)
		ASSERT_EQ(0, swap_to(&self->nl, &k, w % 2, t[w % 2])) TH_LOG("write %d", w);
	ASSERT_EQ(1, write(stop[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	printf("# %d writes, %d reads, %d from one version, %d interrupted\n",
	       WRITES, r->reads, r->same_version, r->interrupted);
	fflush(stdout);
	EXPECT_EQ(0, r->errors);
	EXPECT_LT(r->reads, READS_MAX) TH_LOG("the reader never saw the writer stop");
	EXPECT_EQ(0, r->version_mixed) TH_LOG("a dump spanned two versions");
	EXPECT_EQ(0, r->table_mixed) TH_LOG("a table dump equal to neither pushed table");
	EXPECT_EQ(0, r->backends_mixed) TH_LOG("a backend dump equal to neither set");
	EXPECT_EQ(0, r->pair_mismatch)
		TH_LOG("backends and table of one version do not belong together");
	EXPECT_LT(0, r->same_version);
	munmap(r, sizeof(*r));
	free(t[0]);
	free(t[1]);
}

TEST_HARNESS_MAIN
