// SPDX-License-Identifier: GPL-2.0
/*
 * Requests the fuzzer makes at random, fixed here with the one answer
 * each must get: the shapes it found worth keeping (a run that fails is
 * minimized into a case of this table), and every command of the spec
 * without attributes, as a do and as a dump.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <linux/genetlink.h>
#include <linux/klb.h>

#include "api_nl.h"
#include "klb_spec.h"
#include "regress.h"

#define ANY	-1			/* any errno the header lists, with extack */

struct nlf_case {
	const char *name;
	uint8_t cmd;
	uint16_t flags;
	void (*build)(struct nlmsghdr *nlh);
	int want;
	uint16_t reserved;		/* the genetlink header's */
	int cut;			/* bytes off nlmsg_len */
};

static void service_key(struct nlmsghdr *nlh, uint16_t nest_type)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, nest_type);
	uint8_t addr[4] = { 192, 0, 2, 1 };

	mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, 6);
	mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, 2);
	mnl_attr_put(nlh, KLB_SVC_A_ADDR, sizeof(addr), addr);
	mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80));
	mnl_attr_nest_end(nlh, n);
}

static void nest_without_flag(struct nlmsghdr *nlh)
{
	/* mnl_attr_nest_start() sets NLA_F_NESTED; take it off again. */
	struct nlattr *n = (struct nlattr *)mnl_nlmsg_get_payload_tail(nlh);

	service_key(nlh, KLB_A_SERVICE);
	n->nla_type &= ~NLA_F_NESTED;
}

static void nested_flag_on_u64(struct nlmsghdr *nlh)
{
	mnl_attr_put_u64(nlh, KLB_A_GENERATION | NLA_F_NESTED, 1);
}

static void pad_in_request(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, KLB_A_PAD, 0, NULL);
}

static void unknown_type(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, 0x3fff, 1);
}

static void short_u32(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KLB_A_TXN, 1);
}

static void long_u32(struct nlmsghdr *nlh)
{
	mnl_attr_put_u64(nlh, KLB_A_TXN, 1);
}

static void deep(struct nlmsghdr *nlh)
{
	struct nlattr *n[200];
	int i;

	for (i = 0; i < 200; i++)
		n[i] = mnl_attr_nest_start(nlh, KLB_A_SERVICE);
	while (i--)
		mnl_attr_nest_end(nlh, n[i]);
}

static void many_generations(struct nlmsghdr *nlh)
{
	int i;

	for (i = 0; i < 5000; i++)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION, i);
}

static void chunk_over_limit(struct nlmsghdr *nlh)
{
	static uint16_t e[KLB_TABLE_CHUNK_MAX + 1];
	struct nlattr *n;

	service_key(nlh, KLB_A_SERVICE);
	n = mnl_attr_nest_start(nlh, KLB_A_TABLE);
	mnl_attr_put_u32(nlh, KLB_TBL_A_SIZE, 7);
	mnl_attr_put(nlh, KLB_TBL_A_ENTRIES, sizeof(e), e);
	mnl_attr_nest_end(nlh, n);
}

static void addr_17_bytes(struct nlmsghdr *nlh)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, KLB_A_SERVICE);
	uint8_t addr[17] = { 0 };

	mnl_attr_put(nlh, KLB_SVC_A_ADDR, sizeof(addr), addr);
	mnl_attr_nest_end(nlh, n);
}

/* Designated, so that a case names only what it changes. */
#define CASE(name_, cmd_, flags_, build_, want_, ...) \
	{ .name = name_, .cmd = cmd_, .flags = flags_, .build = build_, \
	  .want = want_, __VA_ARGS__ }

static const struct nlf_case cases[] = {
	CASE("service nest without NLA_F_NESTED", KLB_CMD_SERVICE_GET, NLM_F_ACK,
	  nest_without_flag, EINVAL),
	CASE("NLA_F_NESTED on a u64", KLB_CMD_GENERATION_SET, NLM_F_ACK,
	  nested_flag_on_u64, EINVAL),
	CASE("KLB_A_PAD in a request", KLB_CMD_SERVICE_NEW, NLM_F_ACK,
	  pad_in_request, EINVAL),
	CASE("attribute type 0x3fff", KLB_CMD_FLUSH, NLM_F_ACK, unknown_type,
	  EINVAL),
	CASE("u32 of 2 bytes", KLB_CMD_TXN_ABORT, NLM_F_ACK, short_u32, EINVAL),
	CASE("u32 of 8 bytes", KLB_CMD_TXN_ABORT, NLM_F_ACK, long_u32, EINVAL),
	CASE("200 nests deep", KLB_CMD_SERVICE_GET, NLM_F_ACK, deep, EINVAL),
	CASE("200 nests deep, dump", KLB_CMD_STATS_GET, NLM_F_DUMP, deep, EINVAL),
	CASE("5000 KLB_A_GENERATION, the last counts", KLB_CMD_GENERATION_SET,
	  NLM_F_ACK, many_generations, 0),
	CASE("a chunk over the limit", KLB_CMD_TABLE_SET, NLM_F_ACK,
	  chunk_over_limit, ANY),
	CASE("an address of 17 bytes", KLB_CMD_FLOW_FLUSH, NLM_F_ACK,
	  addr_17_bytes, ERANGE),
	CASE("genetlink reserved field", KLB_CMD_INFO_GET, NLM_F_ACK, NULL, EINVAL,
	  .reserved = 1),
	CASE("NLM_F_ROOT alone", KLB_CMD_INFO_GET, NLM_F_ACK | NLM_F_ROOT, NULL,
	  EINVAL),
	CASE("NLM_F_CREATE", KLB_CMD_FLUSH, NLM_F_ACK | NLM_F_CREATE, NULL, EINVAL),
	CASE("genetlink header cut", KLB_CMD_INFO_GET, NLM_F_ACK, NULL, EINVAL,
	  .cut = 2),
	CASE("a service nest cut", KLB_CMD_FLOW_GET, NLM_F_DUMP, addr_17_bytes,
	  EINVAL, .cut = 8),
};

static bool listed(int e)
{
	return e == 0 || e == EINVAL || e == ERANGE || e == EEXIST ||
	       e == ENOENT || e == ENOSPC || e == EBUSY || e == EOPNOTSUPP ||
	       e == ESTALE;
}

static int run_case(struct api_nl *nl, struct api_req *req,
		    const struct nlf_case *c)
{
	struct nlmsghdr *nlh = api_req_start(req, nl, c->cmd, c->flags);
	struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	struct api_err err;
	int ret;

	if (c->build)
		c->build(nlh);
	genl->reserved = c->reserved;
	nlh->nlmsg_len -= c->cut;
	ret = api_send_raw(nl, nlh, nlh->nlmsg_len);
	ret = ret ?: api_recv_reply(nl, nlh->nlmsg_seq, NULL, NULL, &err);
	if (ret == -EAGAIN || ret == -EBADMSG || ret == -EPROTO) {
		printf("# %s: no proper answer (%s)\n", c->name, strerror(-ret));
		return -1;
	}
	if (c->want == ANY ? !listed(-ret) : -ret != c->want) {
		printf("# %s: answered %s, expected %s\n", c->name,
		       strerror(-ret), c->want == ANY ? "a listed errno" :
		       strerror(c->want));
		return -1;
	}
	/* The genetlink core refuses some without a word; klb never does. */
	if (ret && c->want == ANY && !err.has_msg) {
		printf("# %s: %s without an extack message\n", c->name,
		       strerror(-ret));
		return -1;
	}
	return 0;
}

int nlf_regress(struct api_nl *nl, unsigned int *nr_cases)
{
	static struct api_req req;
	struct nlf_case c = { .want = ANY };
	int failed = 0, i;

	*nr_cases = 0;
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++, (*nr_cases)++)
		failed += !!run_case(nl, &req, &cases[i]);
	/* Every command of the spec, bare, as a do and as a dump. */
	for (i = 0; i < NLF_NR_OPS; i++) {
		c.name = nlf_ops[i].name;
		c.cmd = nlf_ops[i].cmd;
		c.flags = NLM_F_ACK;
		c.want = nlf_ops[i].has_do ? ANY : EOPNOTSUPP;
		failed += !!run_case(nl, &req, &c);
		c.flags = NLM_F_DUMP;
		c.want = nlf_ops[i].has_dump ? ANY : EOPNOTSUPP;
		failed += !!run_case(nl, &req, &c);
		*nr_cases += 2;
	}
	return failed;
}
