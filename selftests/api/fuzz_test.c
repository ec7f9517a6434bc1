// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded random traffic, much of it malformed: commands in and out of
 * range, attributes of every type with random lengths and contents, valid
 * requests with bytes flipped or lengths broken, transactions started and
 * left, dumps. The module must answer every request, never crash or WARN
 * (the guest's kernel log is checked), and still work correctly after.
 *
 * The seed is printed; KLB_SEED=<seed> replays the same run, KLB_FUZZ_ITERS
 * changes the number of messages.
 */

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/genetlink.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define NR_KEYS		6
#define NR_IDS		24

struct fuzz {
	uint64_t rng;
	struct api_nl nl;
	struct api_req *req;
	uint32_t txns[8];
	unsigned int nr_txns;
	unsigned long sent, ok, rejected;
};

static uint32_t rnd(struct fuzz *f, uint32_t n)
{
	return n ? (uint32_t)(api_rand(&f->rng) % n) : 0;
}

static void fuzz_key(struct fuzz *f, struct api_key *k)
{
	uint32_t i = rnd(f, NR_KEYS);

	if (i % 2)
		api_key_v6(k, IPPROTO_UDP, i, 53);
	else
		api_key_v4(k, IPPROTO_TCP, API_VIP(i), 80);
}

static void fuzz_be(struct fuzz *f, const struct api_key *k, struct api_be *be)
{
	uint16_t id = rnd(f, NR_IDS);

	/* Mostly the service's family; sometimes the other one. */
	if ((k->family == AF_INET) ^ (rnd(f, 20) == 0))
		api_be_v4(be, id, API_BE_ADDR(id), 80);
	else
		api_be_v6(be, id, id, 80);
}

/* One random attribute: any type in (and a little past) the nest's range. */
static void random_attr(struct fuzz *f, struct nlmsghdr *nlh, uint16_t max)
{
	uint8_t buf[40];
	uint32_t len = rnd(f, 5) == 0 ? rnd(f, sizeof(buf)) :
		       (uint32_t[]){ 0, 1, 2, 4, 8, 16 }[rnd(f, 6)];
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = rnd(f, 4) ? (uint8_t)rnd(f, 256) : 0;
	mnl_attr_put(nlh, rnd(f, max + 3) | (rnd(f, 30) == 0 ? NLA_F_NESTED : 0),
		     len, buf);
}

static void maybe_table(struct fuzz *f, struct nlmsghdr *nlh)
{
	static const uint32_t sizes[] = { 7, 11, 13, 16381, 1, 0 };
	uint16_t entries[64];
	uint32_t size = sizes[rnd(f, 6)], count = rnd(f, 65), i;
	struct nlattr *nest;

	for (i = 0; i < count; i++)
		entries[i] = rnd(f, 8) ? rnd(f, NR_IDS) : (uint16_t)rnd(f, 65536);
	nest = mnl_attr_nest_start(nlh, KLB_A_TABLE);
	if (rnd(f, 8))
		mnl_attr_put_u32(nlh, KLB_TBL_A_SIZE, size);
	if (rnd(f, 2))
		mnl_attr_put_u32(nlh, KLB_TBL_A_OFFSET,
				 rnd(f, 4) ? rnd(f, 16) : (uint32_t)api_rand(&f->rng));
	if (rnd(f, 8))
		mnl_attr_put(nlh, KLB_TBL_A_ENTRIES,
			     count * 2 - (rnd(f, 10) == 0 && count), entries);
	if (rnd(f, 10) == 0)
		random_attr(f, nlh, KLB_TBL_A_MAX);
	mnl_attr_nest_end(nlh, nest);
}

/* A plausible request with random choices; often valid. */
static void build_plausible(struct fuzz *f, struct nlmsghdr *nlh)
{
	struct api_key k;
	struct api_be be;
	struct nlattr *nest;
	int i, n;

	fuzz_key(f, &k);
	if (rnd(f, 8)) {
		nest = api_put_service_open(nlh, &k);
		if (rnd(f, 4) == 0)
			mnl_attr_put_u8(nlh, KLB_SVC_A_SCHED, rnd(f, KLB_SCHED_MAX + 2));
		if (rnd(f, 6) == 0)
			mnl_attr_put_u32(nlh, KLB_SVC_A_TABLE_SIZE,
					 (uint32_t[]){ 7, 11, 16381, 9, 1048573, 1048583 }[rnd(f, 6)]);
		if (rnd(f, 8) == 0)
			mnl_attr_put_u32(nlh, KLB_SVC_A_BOUND, 50 + rnd(f, 1100));
		if (rnd(f, 8) == 0)
			mnl_attr_put_u32(nlh, KLB_SVC_A_FLAGS, rnd(f, 8));
		if (rnd(f, 10) == 0)
			random_attr(f, nlh, KLB_SVC_A_MAX);
		mnl_attr_nest_end(nlh, nest);
	}
	if (rnd(f, 2)) {
		fuzz_be(f, &k, &be);
		nest = api_put_backend_open(nlh, &be, rnd(f, 4) != 0);
		if (rnd(f, 3) == 0)
			mnl_attr_put_u32(nlh, KLB_BE_A_WEIGHT, rnd(f, 4) ? rnd(f, 10) :
					 (uint32_t)api_rand(&f->rng));
		if (rnd(f, 4) == 0)
			mnl_attr_put_u8(nlh, KLB_BE_A_STATE, rnd(f, 5));
		if (rnd(f, 10) == 0)
			random_attr(f, nlh, KLB_BE_A_MAX);
		mnl_attr_nest_end(nlh, nest);
	}
	if (rnd(f, 3) == 0)
		maybe_table(f, nlh);
	if (rnd(f, 3) == 0 && f->nr_txns)
		mnl_attr_put_u32(nlh, KLB_A_TXN, rnd(f, 6) ?
				 f->txns[rnd(f, f->nr_txns)] : rnd(f, 100));
	if (rnd(f, 6) == 0)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION, rnd(f, 50));
	if (rnd(f, 6) == 0)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION_EXPECT, rnd(f, 50));
	n = rnd(f, 8) == 0 ? 1 + rnd(f, 3) : 0;
	for (i = 0; i < n; i++)
		random_attr(f, nlh, KLB_A_MAX);
}

/* Breaks a built message in one of several ways, keeping nlmsg_len sane. */
static void mutate(struct fuzz *f, struct nlmsghdr *nlh)
{
	uint8_t *p = (uint8_t *)nlh;
	uint32_t hdr = NLMSG_HDRLEN;
	uint32_t len = nlh->nlmsg_len, i, n;

	switch (rnd(f, 5)) {
	case 0:		/* flip bytes after the netlink header */
		n = 1 + rnd(f, 4);
		for (i = 0; i < n && len > hdr; i++)
			p[hdr + rnd(f, len - hdr)] ^= 1u << rnd(f, 8);
		break;
	case 1:		/* cut the message short */
		if (len > hdr)
			nlh->nlmsg_len = hdr + rnd(f, len - hdr);
		break;
	case 2:		/* trailing bytes */
		n = 1 + rnd(f, 7);
		for (i = 0; i < n; i++)
			p[len + i] = rnd(f, 256);
		nlh->nlmsg_len += n;
		break;
	case 3:		/* an attribute length that lies */
		if (len > hdr + GENL_HDRLEN + 4) {
			struct nlattr *a = (void *)(p + hdr + GENL_HDRLEN);

			a->nla_len = rnd(f, 2) ? rnd(f, 8) : (uint16_t)rnd(f, 65536);
		}
		break;
	case 4:		/* the genl version or reserved field */
		if (len >= hdr + GENL_HDRLEN)
			p[hdr + 1 + rnd(f, 3)] = rnd(f, 256);
		break;
	}
}

static void note_txn(struct fuzz *f, const struct nlmsghdr *nlh)
{
	struct api_msg m;

	if (api_parse(nlh, &m) || !m.has_txn)
		return;
	if (f->nr_txns < 8)
		f->txns[f->nr_txns++] = m.txn;
	else
		f->txns[rnd(f, 8)] = m.txn;
}

static int txn_cb(const struct nlmsghdr *nlh, void *data)
{
	note_txn(data, nlh);
	return MNL_CB_OK;
}

/* One message; 0 when the kernel answered (accepting or rejecting it). */
static int fuzz_one(struct fuzz *f)
{
	uint8_t cmd = rnd(f, 10) == 0 ? rnd(f, 256) : 1 + rnd(f, KLB_CMD_MAX);
	uint16_t flags = rnd(f, 6) == 0 ? NLM_F_DUMP : 0;
	struct nlmsghdr *nlh = api_req_start(f->req, &f->nl, cmd, flags);
	struct api_err err;
	int ret;

	if (rnd(f, 5))
		build_plausible(f, nlh);
	else
		for (ret = rnd(f, 6); ret > 0; ret--)
			random_attr(f, nlh, KLB_A_MAX);
	if (rnd(f, 4) == 0)
		mutate(f, nlh);
	/* The kernel drops a message shorter than its header without a word. */
	if (nlh->nlmsg_len < NLMSG_HDRLEN)
		nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_flags |= NLM_F_ACK;
	f->sent++;
	ret = api_send_raw(&f->nl, nlh, nlh->nlmsg_len);
	if (ret)
		return ret;
	ret = api_recv_reply(&f->nl, nlh->nlmsg_seq, txn_cb, f, &err);
	if (ret == -EAGAIN || ret == -EBADMSG || ret == -EPROTO)
		return ret;
	if (ret)
		f->rejected++;
	else
		f->ok++;
	return 0;
}

/* After the storm: a clean service, backends and table round-trip. */
static int still_works(struct api_nl *nl)
{
	uint16_t t[7] = { 0, 1, 2, 0, 1, 2, 0 }, got[7];
	struct api_tbl_dump td = { .entries = got, .size = 7 };
	struct api_info info;
	struct api_key k;
	struct api_be be;
	int i, ret;

	ret = api_flush(nl, NULL);
	ret = ret ?: api_info_get(nl, &info, NULL);
	if (ret || info.services || info.txns)
		return ret ?: -EUCLEAN;
	api_key_v4(&k, IPPROTO_TCP, API_VIP(200), 80);
	ret = api_service_new_sched(nl, &k, KLB_SCHED_MAGLEV, 7, NULL);
	for (i = 0; i < 3 && !ret; i++) {
		api_be_v4(&be, i, API_BE_ADDR(i), 80);
		ret = api_backend_new(nl, &k, &be, 1, 0, NULL);
	}
	ret = ret ?: api_table_set(nl, &k, 7, 0, t, 7, 0, NULL);
	ret = ret ?: api_table_dump(nl, &k, &td, NULL);
	if (!ret && (td.filled != 7 || memcmp(t, got, sizeof(t))))
		ret = -EUCLEAN;
	return ret;
}

FIXTURE(fuzz)
{
	struct fuzz f;
};

FIXTURE_SETUP(fuzz)
{
	struct timeval tv = { .tv_sec = 20 };

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->f.nl)) TH_LOG("no klb family: is klb.ko loaded?");
	/* A request left unanswered is a failure, not a hang. */
	ASSERT_EQ(0, setsockopt(mnl_socket_get_fd(self->f.nl.sock), SOL_SOCKET,
				SO_RCVTIMEO, &tv, sizeof(tv)));
	self->f.req = malloc(sizeof(*self->f.req));
	ASSERT_NE(NULL, self->f.req);
	self->f.rng = api_seed() | 1;
}

FIXTURE_TEARDOWN(fuzz)
{
	free(self->f.req);
	api_close(&self->f.nl);
}

TEST_F_TIMEOUT(fuzz, random_messages, 300)
{
	const char *env = getenv("KLB_FUZZ_ITERS");
	unsigned long iters = env && *env ? strtoul(env, NULL, 0) : 20000;
	struct api_info info;
	struct api_key k;
	unsigned long i;
	int ret;

	/* Some state for the plausible requests to work on. */
	for (i = 0; i < NR_KEYS; i++) {
		fuzz_key(&self->f, &k);
		api_service_new(&self->f.nl, &k, NULL);
	}
	for (i = 0; i < iters; i++) {
		ret = fuzz_one(&self->f);
		ASSERT_EQ(0, ret) TH_LOG("message %lu: no proper answer (%s)", i,
					 strerror(-ret));
		/* Now and then, the module must still answer a plain read. */
		if (i % 500 == 499)
			ASSERT_EQ(0, api_info_get(&self->f.nl, &info, NULL))
				TH_LOG("after message %lu", i);
	}
	printf("# %lu messages: %lu accepted, %lu rejected\n", self->f.sent,
	       self->f.ok, self->f.rejected);
	fflush(stdout);
	EXPECT_LT(0, self->f.ok);
	EXPECT_LT(0, self->f.rejected);
	ASSERT_EQ(0, still_works(&self->f.nl));
}

TEST_HARNESS_MAIN
