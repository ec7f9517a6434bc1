// SPDX-License-Identifier: GPL-2.0
/*
 * The family runs its handlers in parallel (parallel_ops): the genetlink
 * core no longer serializes them, klb's per-netns lock does. Several
 * sockets write, read and open and drop transactions at once in one netns;
 * no write may be lost or applied twice, every dump stays well formed and
 * a transaction dies with its socket even while others are being opened.
 */

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define NR_WRITERS	3
#define NR_BACKENDS	60

struct par {
	pthread_mutex_t lock;
	int writers_left;
	/* Totals, under @lock. */
	unsigned long writes;		/* successful writes: one generation each */
	unsigned long failures;
	unsigned long dumps;
	unsigned long bad_dumps;
	unsigned long txns_dropped;
	char why[256];
};

struct worker {
	struct par *par;
	int n;
};

static void writer_key(struct api_key *k, int n)
{
	api_key_v4(k, IPPROTO_TCP, API_VIP(10 + n), 80);
}

static void par_fail(struct par *p, const char *what, int ret)
{
	pthread_mutex_lock(&p->lock);
	p->failures++;
	if (!p->why[0])
		snprintf(p->why, sizeof(p->why), "%s: %s", what, strerror(-ret));
	pthread_mutex_unlock(&p->lock);
}

static bool par_writers_done(struct par *p)
{
	bool done;

	pthread_mutex_lock(&p->lock);
	done = !p->writers_left;
	pthread_mutex_unlock(&p->lock);
	return done;
}

/* Adds backends one by one, reweights each, and every 8th in a transaction. */
static void *writer(void *arg)
{
	struct worker *w = arg;
	struct par *p = w->par;
	unsigned long writes = 0;
	struct api_nl nl;
	struct api_key k;
	struct api_be be;
	uint32_t txn;
	int i, ret;

	ret = api_open(&nl);
	if (ret) {
		par_fail(p, "open", ret);
		goto out;
	}
	writer_key(&k, w->n);
	for (i = 0; i < NR_BACKENDS; i++) {
		api_be_v4(&be, i, API_BE_ADDR(i), 8000 + w->n);
		ret = api_backend_new(&nl, &k, &be, 1, 0, NULL);
		if (ret) {
			par_fail(p, "backend new", ret);
			break;
		}
		writes++;
		if (i % 8) {
			ret = api_backend_set_weight(&nl, &k, &be, 2 + i, 0, NULL);
		} else {
			ret = api_txn_begin(&nl, &k, &txn, NULL);
			ret = ret ?: api_backend_set_weight(&nl, &k, &be, 2 + i,
							    txn, NULL);
			ret = ret ?: api_txn_commit(&nl, txn, NULL);
		}
		if (ret) {
			par_fail(p, "backend set", ret);
			break;
		}
		writes++;
	}
	api_close(&nl);
out:
	pthread_mutex_lock(&p->lock);
	p->writes += writes;
	p->writers_left--;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Begins transactions on sockets it then closes without a word. */
static void *dropper(void *arg)
{
	struct worker *w = arg;
	struct par *p = w->par;
	unsigned long dropped = 0;
	struct api_nl nl;
	struct api_key k;
	uint32_t txn;
	int ret;

	writer_key(&k, w->n);
	while (!par_writers_done(p)) {
		ret = api_open(&nl);
		if (ret) {
			par_fail(p, "open", ret);
			break;
		}
		ret = api_txn_begin(&nl, &k, &txn, NULL);
		api_close(&nl);
		if (ret) {
			par_fail(p, "txn begin", ret);
			break;
		}
		dropped++;
	}
	pthread_mutex_lock(&p->lock);
	p->txns_dropped += dropped;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Dumps services and a writer's backends while the writers run. */
static void *reader(void *arg)
{
	static struct api_backend bes[NR_BACKENDS + 1];
	struct worker *w = arg;
	struct par *p = w->par;
	unsigned long dumps = 0, bad = 0;
	struct api_be_dump d;
	struct api_err err;
	struct api_nl nl;
	struct api_key k;
	int ret;

	ret = api_open(&nl);
	if (ret) {
		par_fail(p, "open", ret);
		return NULL;
	}
	writer_key(&k, w->n);
	while (!par_writers_done(p)) {
		ret = api_service_dump(&nl, NULL, NULL, NULL);
		if (ret) {
			par_fail(p, "service dump", ret);
			break;
		}
		memset(&d, 0, sizeof(d));
		d.be = bes;
		d.max = NR_BACKENDS + 1;
		ret = api_backend_dump(&nl, &k, &d, &err);
		if (ret) {
			par_fail(p, "backend dump", ret);
			break;
		}
		/* One snapshot, or flagged as interrupted. */
		if (d.n > NR_BACKENDS || d.missing_version ||
		    (d.mixed && !err.dump_intr))
			bad++;
		dumps += 2;
	}
	api_close(&nl);
	pthread_mutex_lock(&p->lock);
	p->dumps += dumps;
	p->bad_dumps += bad;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

FIXTURE(par)
{
	struct api_nl nl;
};

FIXTURE_SETUP(par)
{
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
}

FIXTURE_TEARDOWN(par)
{
	api_close(&self->nl);
}

TEST_F(par, writers_readers_and_dropped_txns_in_one_netns)
{
	struct worker ws[NR_WRITERS], dw = { .n = 0 }, rw = { .n = 1 };
	pthread_t wt[NR_WRITERS], dt, rt;
	struct par p = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct api_backend bes[NR_BACKENDS + 1];
	uint64_t gen0, gen;
	struct api_info info;
	struct api_be_dump d;
	struct api_key k;
	int i, j;

	for (i = 0; i < NR_WRITERS; i++) {
		writer_key(&k, i);
		ASSERT_EQ(0, api_service_new_sched(&self->nl, &k, KLB_SCHED_WLC,
						   0, NULL));
	}
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen0));

	p.writers_left = NR_WRITERS;
	dw.par = &p;
	rw.par = &p;
	for (i = 0; i < NR_WRITERS; i++) {
		ws[i].par = &p;
		ws[i].n = i;
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer, &ws[i]));
	}
	ASSERT_EQ(0, pthread_create(&dt, NULL, dropper, &dw));
	ASSERT_EQ(0, pthread_create(&rt, NULL, reader, &rw));
	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(wt[i], NULL);
	pthread_join(dt, NULL);
	pthread_join(rt, NULL);

	ASSERT_EQ(0, p.failures) TH_LOG("%s", p.why);
	EXPECT_EQ(0, p.bad_dumps);
	TH_LOG("%lu writes, %lu dumps, %lu transactions dropped with their socket",
	       p.writes, p.dumps, p.txns_dropped);
	ASSERT_EQ(NR_WRITERS * NR_BACKENDS * 2, p.writes);

	/* Every write moved the generation exactly once. */
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(gen0 + p.writes, gen);
	/* Every writer's backends, with their last weight. */
	for (i = 0; i < NR_WRITERS; i++) {
		writer_key(&k, i);
		memset(&d, 0, sizeof(d));
		d.be = bes;
		d.max = NR_BACKENDS + 1;
		ASSERT_EQ(0, api_backend_dump(&self->nl, &k, &d, NULL));
		ASSERT_EQ(NR_BACKENDS, d.n);
		for (j = 0; j < NR_BACKENDS; j++)
			EXPECT_EQ(2 + bes[j].be.id, bes[j].weight);
	}
	/* Closing a socket aborted its transaction: none is left open. */
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(0, info.txns);
}

TEST_HARNESS_MAIN
