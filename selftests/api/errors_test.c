// SPDX-License-Identifier: GPL-2.0
/*
 * The Errors section of include/uapi/linux/klb.h: every rejected request
 * comes back with its errno and an extack message, and changes nothing
 * (the netns's fingerprint - generation, services, versions, settings,
 * open transactions - is the same before and after).
 *
 * Most cases are one malformed or refused request against a fixed state;
 * they are variants of one test. Cases that need a sequence (transactions,
 * limits) are tests of their own.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/genetlink.h>

#include "kselftest_harness.h"
#include "api_test.h"

/* The state every case starts from. */
static const uint16_t table_a[7] = { 0, 1, 0, 1, 0, 1, 0 };
#define GEN0	100

static void key_a(struct api_key *k)	/* maglev, M = 7, backends 0 and 1, table */
{
	api_key_v4(k, IPPROTO_TCP, API_VIP(1), 80);
}

static void key_b(struct api_key *k)	/* IPv6, defaults, no backend */
{
	api_key_v6(k, IPPROTO_UDP, 1, 53);
}

static void key_w(struct api_key *k)	/* wlc, one backend */
{
	api_key_v4(k, IPPROTO_TCP, API_VIP(2), 80);
}

static void key_none(struct api_key *k)	/* no such service */
{
	api_key_v4(k, IPPROTO_UDP, API_VIP(99), 80);
}

static void be_a(struct api_be *be, int n)	/* backends of A: n = 0, 1 */
{
	api_be_v4(be, n, API_BE_ADDR(n + 1), 8080);
}

struct err_ctx {
	uint32_t other_txn;		/* a transaction of another socket, on A */
	uint32_t own_txn;		/* one of the requesting socket, on B */
};

static int setup_state(struct api_nl *nl)
{
	struct api_key a, b, w;
	struct api_be be;
	int ret;

	key_a(&a);
	key_b(&b);
	key_w(&w);
	ret = api_service_new_sched(nl, &a, KLB_SCHED_MAGLEV, 7, NULL);
	ret = ret ?: api_service_new(nl, &b, NULL);
	ret = ret ?: api_service_new_sched(nl, &w, KLB_SCHED_WLC, 0, NULL);
	be_a(&be, 0);
	ret = ret ?: api_backend_new(nl, &a, &be, 1, 0, NULL);
	be_a(&be, 1);
	ret = ret ?: api_backend_new(nl, &a, &be, 1, 0, NULL);
	ret = ret ?: api_backend_new(nl, &w, &be, 1, 0, NULL);
	ret = ret ?: api_table_set(nl, &a, 7, 0, table_a, 7, 0, NULL);
	ret = ret ?: api_generation_set(nl, GEN0, NULL);
	return ret;
}

/* ---- one request each ---------------------------------------------------- */

typedef void (*build_fn)(struct api_req *req, struct api_nl *nl,
			 const struct err_ctx *c);

FIXTURE(reject)
{
	struct api_nl nl;
	struct api_nl other;
	struct err_ctx ctx;
};

/*
 * A case is a builder, or for the many requests that are nothing but a
 * command and maybe a service's keys, that command and key.
 */
FIXTURE_VARIANT(reject)
{
	build_fn build;
	uint8_t cmd;
	uint16_t flags;
	void (*key)(struct api_key *k);	/* NULL: no KLB_A_SERVICE */
	int expect;
};

FIXTURE_SETUP(reject)
{
	struct api_key a, b;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	ASSERT_EQ(0, api_open(&self->other));
	ASSERT_EQ(0, setup_state(&self->nl));
	key_a(&a);
	key_b(&b);
	ASSERT_EQ(0, api_txn_begin(&self->other, &a, &self->ctx.other_txn, NULL));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &b, &self->ctx.own_txn, NULL));
}

FIXTURE_TEARDOWN(reject)
{
	api_close(&self->other);
	api_close(&self->nl);
}

TEST_F(reject, errno_extack_and_nothing_changes)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_err err;
	uint64_t before;
	int ret;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &before));
	if (variant->build) {
		variant->build(req, &self->nl, &self->ctx);
	} else {
		struct api_key k;

		api_req_start(req, &self->nl, variant->cmd, variant->flags);
		if (variant->key) {
			variant->key(&k);
			api_put_service(req->nlh, &k);
		}
	}
	ret = api_transact(&self->nl, req->nlh, NULL, NULL, &err);
	ASSERT_REJECTED(variant->expect, ret, &err);
	ASSERT_UNCHANGED(&self->nl, before);
	free(req);
}

/* Builders. Each makes exactly one thing wrong. */

static void svc_msg(struct api_req *req, struct api_nl *nl, uint8_t cmd,
		    void (*key)(struct api_key *))
{
	struct api_key k;

	key(&k);
	api_req_start(req, nl, cmd, 0);
	api_put_service(req->nlh, &k);
}

/* A SERVICE_NEW of a new key with one setting added by @extra. */
#define SVC_NEW_WITH(name, extra) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	struct api_key k; \
	struct nlattr *nest; \
	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80); \
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0); \
	nest = api_put_service_open(req->nlh, &k); \
	extra; \
	mnl_attr_nest_end(req->nlh, nest); \
}

/* A SERVICE_NEW whose service nest is written by @body. */
#define SVC_NEW_RAW(name, body) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	uint8_t addr4[4] = { 192, 0, 2, 50 }, addr16[16] = { 0x20, 0x01, 0x0d, 0xb8 }; \
	struct nlmsghdr *nlh = api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0); \
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_SERVICE); \
	(void)addr4; (void)addr16; \
	body; \
	mnl_attr_nest_end(nlh, nest); \
}

SVC_NEW_RAW(svc_new_no_proto,
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_no_family,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_no_addr,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_no_port,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4))
SVC_NEW_RAW(svc_new_proto_u32,
	    mnl_attr_put_u32(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_port_u32,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u32(nlh, KLB_SVC_A_PORT, htonl(80)))
SVC_NEW_RAW(svc_new_proto_icmp,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_ICMP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_port_zero,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, 0))
SVC_NEW_RAW(svc_new_family_unix,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_UNIX);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_v6_with_4_bytes,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET6);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 4, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_v4_with_16_bytes,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 16, addr16);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_addr_5_bytes,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 5, addr16);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))

SVC_NEW_RAW(svc_new_addr_17_bytes,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET6);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 17, "0123456789abcdefg");
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))
SVC_NEW_RAW(svc_new_addr_3_bytes,
	    mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, IPPROTO_TCP);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, AF_INET);
	    mnl_attr_put(nlh, KLB_SVC_A_ADDR, 3, addr4);
	    mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(80)))

SVC_NEW_WITH(svc_new_unknown_nested_attr,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_MAX + 1, 1))
SVC_NEW_WITH(svc_new_read_only_version,
	     mnl_attr_put_u64(req->nlh, KLB_SVC_A_VERSION, 1))
SVC_NEW_WITH(svc_new_read_only_backends,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_BACKENDS, 1))
SVC_NEW_WITH(svc_new_seed_long,
	     mnl_attr_put(req->nlh, KLB_SVC_A_SEED, 17, "0123456789abcdefg"))
SVC_NEW_WITH(svc_new_seed_short,
	     mnl_attr_put(req->nlh, KLB_SVC_A_SEED, 8, "01234567"))
SVC_NEW_WITH(svc_new_bound_low,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 99))
SVC_NEW_WITH(svc_new_bound_high,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 1001))
SVC_NEW_WITH(svc_new_sched_unknown,
	     mnl_attr_put_u8(req->nlh, KLB_SVC_A_SCHED, KLB_SCHED_MAX + 1))
SVC_NEW_WITH(svc_new_fwd_unknown,
	     mnl_attr_put_u8(req->nlh, KLB_SVC_A_FWD, KLB_FWD_MAX + 1))
SVC_NEW_WITH(svc_new_flags_unknown,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_FLAGS, 1u << 7))
SVC_NEW_WITH(svc_new_size_not_prime,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 16383))
SVC_NEW_WITH(svc_new_size_below_7,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 5))
SVC_NEW_WITH(svc_new_size_above_limit,
	     mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 1048583))
SVC_NEW_WITH(svc_new_size_u16,
	     mnl_attr_put_u16(req->nlh, KLB_SVC_A_TABLE_SIZE, 7))

static void svc_new_unknown_top_attr(struct api_req *req, struct api_nl *nl,
				     const struct err_ctx *c)
{
	struct api_key k;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_A_MAX + 1, 1);
}

static void svc_new_read_only_info(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	struct api_key k;
	struct nlattr *nest;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
	nest = mnl_attr_nest_start(req->nlh, KLB_A_INFO);
	mnl_attr_put_u32(req->nlh, KLB_INFO_A_SERVICES, 1);
	mnl_attr_nest_end(req->nlh, nest);
}

static void svc_new_trailing_garbage(struct api_req *req, struct api_nl *nl,
				     const struct err_ctx *c)
{
	struct api_key k;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
	/* Three bytes that are not an attribute. */
	memset((char *)req->nlh + req->nlh->nlmsg_len, 0x5a, 4);
	req->nlh->nlmsg_len += 3;
}

static void svc_new_generation_u32(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	struct api_key k;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_A_GENERATION, 5);
}

static void svc_set_size_not_prime(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	struct api_key k;
	struct nlattr *nest;

	key_a(&k);
	api_req_start(req, nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 9);
	mnl_attr_nest_end(req->nlh, nest);
}

/*
 * The genetlink header checks of the core (the family leaves resv_start_op at 0): a
 * reserved field that is not zero, and netlink flags that mean nothing for
 * a generic netlink request, are refused before klb parses anything.
 */
static void svc_new_valid(struct api_req *req, struct api_nl *nl)
{
	struct api_key k;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
}

static void hdr_reserved(struct api_req *req, struct api_nl *nl,
			 const struct err_ctx *c)
{
	struct genlmsghdr *genl;

	svc_new_valid(req, nl);
	genl = mnl_nlmsg_get_payload(req->nlh);
	genl->reserved = 1;
}

static void hdr_flag_excl(struct api_req *req, struct api_nl *nl,
			  const struct err_ctx *c)
{
	svc_new_valid(req, nl);
	req->nlh->nlmsg_flags |= NLM_F_EXCL;
}

static void hdr_dump_reserved(struct api_req *req, struct api_nl *nl,
			      const struct err_ctx *c)
{
	struct genlmsghdr *genl;

	api_req_start(req, nl, KLB_CMD_SERVICE_GET, NLM_F_DUMP);
	genl = mnl_nlmsg_get_payload(req->nlh);
	genl->reserved = 0x8000;
}

static void hdr_dump_root_only(struct api_req *req, struct api_nl *nl,
			       const struct err_ctx *c)
{
	/* Half of NLM_F_DUMP: not a dump, and not a flag a request may carry. */
	api_req_start(req, nl, KLB_CMD_SERVICE_GET, NLM_F_ROOT);
}

/* A backend request on @key whose backend nest @body writes. */
#define BE_RAW(name, cmd, key, body) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	uint8_t addr4[4] = { 198, 51, 100, 77 }, addr16[16] = { 0x20, 0x01, 0x0d, 0xb8 }; \
	struct nlmsghdr *nlh; \
	struct nlattr *nest; \
	svc_msg(req, nl, cmd, key); \
	nlh = req->nlh; \
	nest = mnl_attr_nest_start(nlh, KLB_A_BACKEND); \
	(void)addr4; (void)addr16; \
	body; \
	mnl_attr_nest_end(nlh, nest); \
}

/* A backend of A (@n: 0, 1; 2 is new) with extra attributes from @extra. */
#define BE_WITH(name, cmd, n, with_id, extra) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	struct api_be be; \
	struct nlattr *nest; \
	svc_msg(req, nl, cmd, key_a); \
	be_a(&be, n); \
	nest = api_put_backend_open(req->nlh, &be, with_id); \
	extra; \
	mnl_attr_nest_end(req->nlh, nest); \
}

static void be_new_unknown_service(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	struct api_be be;

	svc_msg(req, nl, KLB_CMD_BACKEND_NEW, key_none);
	be_a(&be, 2);
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, true));
}

BE_WITH(be_new_no_id, KLB_CMD_BACKEND_NEW, 2, false, (void)0)
BE_WITH(be_new_weight_high, KLB_CMD_BACKEND_NEW, 2, true,
	mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 65536))
BE_WITH(be_new_state_unknown, KLB_CMD_BACKEND_NEW, 2, true,
	mnl_attr_put_u8(req->nlh, KLB_BE_A_STATE, KLB_BACKEND_STATE_MAX + 1))
BE_WITH(be_new_unknown_attr, KLB_CMD_BACKEND_NEW, 2, true,
	mnl_attr_put_u8(req->nlh, KLB_BE_A_MAX + 1, 0))
BE_WITH(be_set_weight_high, KLB_CMD_BACKEND_SET, 0, false,
	mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 1u << 31))
BE_WITH(be_del_in_table, KLB_CMD_BACKEND_DEL, 1, false, (void)0)
/* Backend 0 named with backend 1's id. */
BE_WITH(be_set_id_differs, KLB_CMD_BACKEND_SET, 0, false,
	mnl_attr_put_u16(req->nlh, KLB_BE_A_ID, 1))
BE_WITH(be_del_id_differs, KLB_CMD_BACKEND_DEL, 0, false,
	mnl_attr_put_u16(req->nlh, KLB_BE_A_ID, 1))

/* Backend 0's address and port under a new id. */
static void be_new_dup_addr(struct api_req *req, struct api_nl *nl,
			    const struct err_ctx *c)
{
	struct api_be be;

	svc_msg(req, nl, KLB_CMD_BACKEND_NEW, key_a);
	be_a(&be, 0);
	be.id = 9;
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, true));
}

/* A new address under backend 1's id. */
static void be_new_dup_id(struct api_req *req, struct api_nl *nl,
			  const struct err_ctx *c)
{
	struct api_be be;

	svc_msg(req, nl, KLB_CMD_BACKEND_NEW, key_a);
	be_a(&be, 2);
	be.id = 1;
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, true));
}

BE_RAW(be_new_id_high, KLB_CMD_BACKEND_NEW, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, KLB_BACKEND_ID_NONE);
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_new_family_mismatch, KLB_CMD_BACKEND_NEW, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, 5);
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET6);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 16, addr16);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_new_v4_in_v6_service, KLB_CMD_BACKEND_NEW, key_b,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, 5);
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_new_addr_len_mismatch, KLB_CMD_BACKEND_NEW, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, 5);
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 16, addr16);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_new_port_zero, KLB_CMD_BACKEND_NEW, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, 5);
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, 0))
BE_RAW(be_new_no_family, KLB_CMD_BACKEND_NEW, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_ID, 5);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_set_unknown_backend, KLB_CMD_BACKEND_SET, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80));
       mnl_attr_put_u32(nlh, KLB_BE_A_WEIGHT, 3))
BE_RAW(be_del_unknown_backend, KLB_CMD_BACKEND_DEL, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))
BE_RAW(be_get_unknown_backend, KLB_CMD_BACKEND_GET, key_a,
       mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, AF_INET);
       mnl_attr_put(nlh, KLB_BE_A_ADDR, 4, addr4);
       mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(80)))

/* TABLE_SET on @key with the given table attributes. */
static void table_msg(struct api_req *req, struct api_nl *nl,
		      void (*key)(struct api_key *), uint32_t size,
		      uint32_t offset, const uint16_t *entries, uint32_t count)
{
	svc_msg(req, nl, KLB_CMD_TABLE_SET, key);
	api_put_table(req->nlh, size, offset, entries, count);
}

#define TABLE_CASE(name, key, size, offset, count, ...) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	uint16_t t[16] = { __VA_ARGS__ }; \
	table_msg(req, nl, key, size, offset, t, count); \
}

TABLE_CASE(table_unknown_service, key_none, 7, 0, 7, 0)
TABLE_CASE(table_short, key_a, 7, 0, 6, 0)
TABLE_CASE(table_long, key_a, 7, 0, 8, 0)
TABLE_CASE(table_size_mismatch, key_a, 11, 0, 11, 0)
TABLE_CASE(table_offset_outside_txn, key_a, 7, 1, 6, 0)
TABLE_CASE(table_names_no_backend, key_a, 7, 0, 7, 0, 1, 0, 1, 5, 1, 0)

/* A whole, well-formed table naming W's backend: only the scheduler is wrong. */
static void table_on_wlc(struct api_req *req, struct api_nl *nl,
			 const struct err_ctx *c)
{
	static uint16_t t[KLB_TABLE_SIZE_DEFAULT];
	int i;

	for (i = 0; i < KLB_TABLE_SIZE_DEFAULT; i++)
		t[i] = 1;
	table_msg(req, nl, key_w, KLB_TABLE_SIZE_DEFAULT, 0, t,
		  KLB_TABLE_SIZE_DEFAULT);
}

static void table_odd_bytes(struct api_req *req, struct api_nl *nl,
			    const struct err_ctx *c)
{
	uint16_t t[7] = { 0 };
	struct nlattr *nest;

	svc_msg(req, nl, KLB_CMD_TABLE_SET, key_a);
	nest = mnl_attr_nest_start(req->nlh, KLB_A_TABLE);
	mnl_attr_put_u32(req->nlh, KLB_TBL_A_SIZE, 7);
	mnl_attr_put(req->nlh, KLB_TBL_A_ENTRIES, 13, t);
	mnl_attr_nest_end(req->nlh, nest);
}

static void table_entries_empty(struct api_req *req, struct api_nl *nl,
				const struct err_ctx *c)
{
	struct nlattr *nest;

	svc_msg(req, nl, KLB_CMD_TABLE_SET, key_a);
	nest = mnl_attr_nest_start(req->nlh, KLB_A_TABLE);
	mnl_attr_put_u32(req->nlh, KLB_TBL_A_SIZE, 7);
	mnl_attr_put(req->nlh, KLB_TBL_A_ENTRIES, 0, NULL);
	mnl_attr_nest_end(req->nlh, nest);
}

/* One entry more than a chunk may hold; nothing else is looked at first. */
static void table_chunk_above_max(struct api_req *req, struct api_nl *nl,
				  const struct err_ctx *c)
{
	static uint16_t t[KLB_TABLE_CHUNK_MAX + 1];

	table_msg(req, nl, key_a, 7, 0, t, KLB_TABLE_CHUNK_MAX + 1);
}

static void table_no_entries(struct api_req *req, struct api_nl *nl,
			     const struct err_ctx *c)
{
	struct nlattr *nest;

	svc_msg(req, nl, KLB_CMD_TABLE_SET, key_a);
	nest = mnl_attr_nest_start(req->nlh, KLB_A_TABLE);
	mnl_attr_put_u32(req->nlh, KLB_TBL_A_SIZE, 7);
	mnl_attr_nest_end(req->nlh, nest);
}

static void txn_commit_other_socket(struct api_req *req, struct api_nl *nl,
				    const struct err_ctx *c)
{
	api_req_start(req, nl, KLB_CMD_TXN_COMMIT, 0);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, c->other_txn);
}

static void txn_abort_other_socket(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	api_req_start(req, nl, KLB_CMD_TXN_ABORT, 0);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, c->other_txn);
}

/* A new backend of A, staged into @txn. */
static void staged_be_new(struct api_req *req, struct api_nl *nl, uint32_t txn)
{
	struct api_be be;

	svc_msg(req, nl, KLB_CMD_BACKEND_NEW, key_a);
	be_a(&be, 2);
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, true));
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
}

static void txn_staged_other_socket(struct api_req *req, struct api_nl *nl,
				    const struct err_ctx *c)
{
	staged_be_new(req, nl, c->other_txn);
}

/* The caller's own transaction is on B. */
static void txn_staged_other_service(struct api_req *req, struct api_nl *nl,
				     const struct err_ctx *c)
{
	staged_be_new(req, nl, c->own_txn);
}

/* The generation goes on the commit, not on a staged write. */
static void txn_staged_with_generation(struct api_req *req, struct api_nl *nl,
				       const struct err_ctx *c)
{
	svc_msg(req, nl, KLB_CMD_TABLE_DEL, key_b);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, c->own_txn);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, GEN0 + 1);
}

static void txn_staged_with_expect(struct api_req *req, struct api_nl *nl,
				   const struct err_ctx *c)
{
	svc_msg(req, nl, KLB_CMD_TABLE_DEL, key_b);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, c->own_txn);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, GEN0);
}

static void txn_commit_unknown(struct api_req *req, struct api_nl *nl,
			       const struct err_ctx *c)
{
	api_req_start(req, nl, KLB_CMD_TXN_COMMIT, 0);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, c->other_txn + 1000);
}

/* Every write with a KLB_A_GENERATION_EXPECT that does not match. */
#define STALE(name, inner) \
static void name(struct api_req *req, struct api_nl *nl, const struct err_ctx *c) \
{ \
	inner(req, nl, c); \
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, GEN0 - 1); \
}

static void ok_svc_new(struct api_req *req, struct api_nl *nl,
		       const struct err_ctx *c)
{
	struct api_key k;

	api_key_v4(&k, IPPROTO_TCP, API_VIP(50), 80);
	api_req_start(req, nl, KLB_CMD_SERVICE_NEW, 0);
	api_put_service(req->nlh, &k);
}

static void ok_svc_set(struct api_req *req, struct api_nl *nl,
		       const struct err_ctx *c)
{
	struct api_key k;
	struct nlattr *nest;

	key_a(&k);
	api_req_start(req, nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_BOUND, 300);
	mnl_attr_nest_end(req->nlh, nest);
}

static void ok_svc_del(struct api_req *req, struct api_nl *nl,
		       const struct err_ctx *c)
{
	svc_msg(req, nl, KLB_CMD_SERVICE_DEL, key_b);
}

BE_WITH(ok_be_new, KLB_CMD_BACKEND_NEW, 2, true, (void)0)
BE_WITH(ok_be_set, KLB_CMD_BACKEND_SET, 0, false,
	mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, 9))

static void ok_be_del(struct api_req *req, struct api_nl *nl,
		      const struct err_ctx *c)
{
	struct api_be be;
	struct api_key k;

	key_w(&k);
	api_req_start(req, nl, KLB_CMD_BACKEND_DEL, 0);
	api_put_service(req->nlh, &k);
	be_a(&be, 1);
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, false));
}

TABLE_CASE(ok_table_set, key_a, 7, 0, 7, 1, 1, 1, 0, 0, 0, 0)

static void ok_table_del(struct api_req *req, struct api_nl *nl,
			 const struct err_ctx *c)
{
	svc_msg(req, nl, KLB_CMD_TABLE_DEL, key_a);
}

static void ok_flush(struct api_req *req, struct api_nl *nl,
		     const struct err_ctx *c)
{
	api_req_start(req, nl, KLB_CMD_FLUSH, 0);
}

static void ok_generation_set(struct api_req *req, struct api_nl *nl,
			      const struct err_ctx *c)
{
	api_req_start(req, nl, KLB_CMD_GENERATION_SET, 0);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 5);
}

STALE(stale_service_new, ok_svc_new)
STALE(stale_service_set, ok_svc_set)
STALE(stale_service_del, ok_svc_del)
STALE(stale_backend_new, ok_be_new)
STALE(stale_backend_set, ok_be_set)
STALE(stale_backend_del, ok_be_del)
STALE(stale_table_set, ok_table_set)
STALE(stale_table_del, ok_table_del)
STALE(stale_flush, ok_flush)
STALE(stale_generation_set, ok_generation_set)

#define CASE(name_, errno_) \
FIXTURE_VARIANT_ADD(reject, name_) { .build = name_, .expect = errno_ }
/* A request of @cmd_ with only @key_'s service keys, or nothing (NULL). */
#define BARE(name_, cmd_, flags_, key_, errno_) \
FIXTURE_VARIANT_ADD(reject, name_) { \
	.cmd = cmd_, .flags = flags_, .key = key_, .expect = errno_ \
}

CASE(hdr_reserved, EINVAL);
CASE(hdr_flag_excl, EINVAL);
CASE(hdr_dump_reserved, EINVAL);
CASE(hdr_dump_root_only, EINVAL);
BARE(svc_new_no_service, KLB_CMD_SERVICE_NEW, 0, NULL, EINVAL);
CASE(svc_new_no_proto, EINVAL);
CASE(svc_new_no_family, EINVAL);
CASE(svc_new_no_addr, EINVAL);
CASE(svc_new_no_port, EINVAL);
CASE(svc_new_proto_u32, EINVAL);
CASE(svc_new_port_u32, EINVAL);
CASE(svc_new_proto_icmp, EINVAL);
CASE(svc_new_port_zero, EINVAL);
CASE(svc_new_family_unix, EINVAL);
CASE(svc_new_v6_with_4_bytes, EINVAL);
CASE(svc_new_v4_with_16_bytes, EINVAL);
CASE(svc_new_addr_5_bytes, EINVAL);
CASE(svc_new_addr_3_bytes, EINVAL);
CASE(svc_new_addr_17_bytes, ERANGE);
CASE(svc_new_seed_long, ERANGE);
CASE(svc_new_unknown_top_attr, EINVAL);
CASE(svc_new_unknown_nested_attr, EINVAL);
CASE(svc_new_read_only_version, EINVAL);
CASE(svc_new_read_only_backends, EINVAL);
CASE(svc_new_read_only_info, EINVAL);
CASE(svc_new_trailing_garbage, EINVAL);
CASE(svc_new_generation_u32, EINVAL);
CASE(svc_new_seed_short, EINVAL);
CASE(svc_new_size_u16, EINVAL);
BARE(svc_new_duplicate, KLB_CMD_SERVICE_NEW, 0, key_a, EEXIST);
CASE(svc_new_bound_low, ERANGE);
CASE(svc_new_bound_high, ERANGE);
CASE(svc_new_sched_unknown, ERANGE);
CASE(svc_new_fwd_unknown, ERANGE);
CASE(svc_new_flags_unknown, EINVAL);
CASE(svc_new_size_not_prime, EINVAL);
CASE(svc_new_size_below_7, EINVAL);
CASE(svc_new_size_above_limit, ERANGE);
BARE(svc_set_unknown, KLB_CMD_SERVICE_SET, 0, key_none, ENOENT);
BARE(svc_del_unknown, KLB_CMD_SERVICE_DEL, 0, key_none, ENOENT);
BARE(svc_get_unknown, KLB_CMD_SERVICE_GET, 0, key_none, ENOENT);
CASE(svc_set_size_not_prime, EINVAL);
CASE(be_new_unknown_service, ENOENT);
BARE(be_new_no_backend, KLB_CMD_BACKEND_NEW, 0, key_a, EINVAL);
CASE(be_new_no_id, EINVAL);
CASE(be_new_no_family, EINVAL);
CASE(be_new_dup_addr, EEXIST);
CASE(be_new_dup_id, EEXIST);
CASE(be_new_weight_high, ERANGE);
CASE(be_new_id_high, ERANGE);
CASE(be_new_state_unknown, ERANGE);
CASE(be_new_unknown_attr, EINVAL);
CASE(be_new_family_mismatch, EINVAL);
CASE(be_new_v4_in_v6_service, EINVAL);
CASE(be_new_addr_len_mismatch, EINVAL);
CASE(be_new_port_zero, EINVAL);
CASE(be_set_unknown_backend, ENOENT);
CASE(be_set_weight_high, ERANGE);
CASE(be_set_id_differs, EINVAL);
CASE(be_del_id_differs, EINVAL);
CASE(be_del_unknown_backend, ENOENT);
CASE(be_del_in_table, EBUSY);
CASE(be_get_unknown_backend, ENOENT);
BARE(be_dump_no_service, KLB_CMD_BACKEND_GET, NLM_F_DUMP, NULL, EINVAL);
BARE(be_dump_unknown_service, KLB_CMD_BACKEND_GET, NLM_F_DUMP, key_none, ENOENT);
CASE(table_unknown_service, ENOENT);
BARE(table_no_table, KLB_CMD_TABLE_SET, 0, key_a, EINVAL);
CASE(table_no_entries, EINVAL);
CASE(table_short, EINVAL);
CASE(table_long, EINVAL);
CASE(table_odd_bytes, EINVAL);
CASE(table_entries_empty, EINVAL);
CASE(table_chunk_above_max, ERANGE);
CASE(table_size_mismatch, EINVAL);
CASE(table_offset_outside_txn, EINVAL);
CASE(table_names_no_backend, ENOENT);
CASE(table_on_wlc, EOPNOTSUPP);
BARE(table_del_unknown_service, KLB_CMD_TABLE_DEL, 0, key_none, ENOENT);
BARE(table_dump_no_table, KLB_CMD_TABLE_GET, NLM_F_DUMP, key_b, ENOENT);
BARE(table_dump_unknown_service, KLB_CMD_TABLE_GET, NLM_F_DUMP, key_none, ENOENT);
BARE(table_dump_no_service, KLB_CMD_TABLE_GET, NLM_F_DUMP, NULL, EINVAL);
BARE(generation_set_missing, KLB_CMD_GENERATION_SET, 0, NULL, EINVAL);
BARE(txn_begin_unknown_service, KLB_CMD_TXN_BEGIN, 0, key_none, ENOENT);
BARE(txn_begin_no_service, KLB_CMD_TXN_BEGIN, 0, NULL, EINVAL);
CASE(txn_commit_other_socket, ENOENT);
CASE(txn_abort_other_socket, ENOENT);
CASE(txn_staged_other_socket, ENOENT);
CASE(txn_staged_other_service, EINVAL);
CASE(txn_staged_with_generation, EINVAL);
CASE(txn_staged_with_expect, EINVAL);
CASE(txn_commit_unknown, ENOENT);
BARE(txn_commit_no_id, KLB_CMD_TXN_COMMIT, 0, NULL, EINVAL);
BARE(txn_abort_no_id, KLB_CMD_TXN_ABORT, 0, NULL, EINVAL);
CASE(stale_service_new, ESTALE);
CASE(stale_service_set, ESTALE);
CASE(stale_service_del, ESTALE);
CASE(stale_backend_new, ESTALE);
CASE(stale_backend_set, ESTALE);
CASE(stale_backend_del, ESTALE);
CASE(stale_table_set, ESTALE);
CASE(stale_table_del, ESTALE);
CASE(stale_flush, ESTALE);
CASE(stale_generation_set, ESTALE);

/* ---- sequences ------------------------------------------------------------ */

FIXTURE(klb)
{
	struct api_nl nl;
	struct api_key a;
	unsigned int saved[4];
	bool saved_ok[4];
};

static const char *const params[4] = {
	"max_services", "max_backends", "max_table_size", "max_txns",
};

FIXTURE_SETUP(klb)
{
	int i;

	for (i = 0; i < 4; i++)
		self->saved_ok[i] = !api_param_read(params[i], &self->saved[i]);
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	ASSERT_EQ(0, setup_state(&self->nl));
	key_a(&self->a);
}

FIXTURE_TEARDOWN(klb)
{
	int i;

	for (i = 0; i < 4; i++)
		if (self->saved_ok[i])
			api_param_write(params[i], self->saved[i]);
	api_close(&self->nl);
}

/* ESTALE's extack gives the current generation (message or cookie). */
TEST_F(klb, stale_reports_current_generation)
{
	struct api_req *req = malloc(sizeof(*req));
	char num[32];
	struct api_err err;
	uint64_t gen;

	ASSERT_NE(NULL, req);
	ok_flush(req, &self->nl, NULL);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, 12345);
	ASSERT_REJECTED(ESTALE, api_transact(&self->nl, req->nlh, NULL, NULL, &err),
			&err);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(GEN0, gen);
	snprintf(num, sizeof(num), "%d", GEN0);
	EXPECT_TRUE((err.has_cookie && err.cookie == GEN0) || strstr(err.msg, num))
		TH_LOG("extack \"%s\" does not give the generation", err.msg);
	free(req);
}

/* A table entry naming no backend: ENOENT, and the extack names the slot. */
TEST_F(klb, table_error_names_slot)
{
	uint16_t t[7] = { 0, 1, 0, 1, 0, 1, 0 };
	struct api_err err;
	char num[16];
	uint64_t fp;

	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	t[4] = 3;
	ASSERT_REJECTED(ENOENT, api_table_set(&self->nl, &self->a, 7, 0, t, 7, 0,
					      &err), &err);
	snprintf(num, sizeof(num), "%d", 4);
	EXPECT_TRUE((err.has_cookie && err.cookie == 4) || strstr(err.msg, num))
		TH_LOG("extack \"%s\" does not name slot 4", err.msg);
	ASSERT_UNCHANGED(&self->nl, fp);
}

/*
 * The kernel checks a table two ways: ids 0..n-1 against n, others with a
 * lookup. Both refuse an id no backend has (past the last, or in a gap),
 * name its slot and change nothing; both take every id present and the
 * empty entry.
 */
TEST_F(klb, table_check_dense_and_sparse_ids)
{
	uint16_t t[7] = { 0, 1, KLB_BACKEND_ID_NONE, 1, 0, 1, 0 };
	static const uint16_t missing[] = { 2, 3, 6 };
	struct api_err err;
	struct api_be be;
	uint64_t fp;
	int sparse;
	size_t i;

	for (sparse = 0; sparse < 2; sparse++) {
		if (sparse) {
			/* 0, 1 and 5: 2, 3 and 6 are missing. */
			be_a(&be, 5);
			ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, 0,
						     NULL));
			t[3] = 5;
		}
		ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, t, 7, 0,
					   NULL));
		ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
		for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
			uint16_t bad[7];

			if (!sparse && missing[i] != 2)
				continue;
			memcpy(bad, t, sizeof(bad));
			bad[6] = missing[i];
			ASSERT_REJECTED(ENOENT, api_table_set(&self->nl, &self->a, 7,
							      0, bad, 7, 0, &err),
					&err);
			EXPECT_TRUE((err.has_cookie && err.cookie == 6) ||
				    strstr(err.msg, "6"))
				TH_LOG("id %u: extack \"%s\" does not name slot 6",
				       missing[i], err.msg);
			ASSERT_UNCHANGED(&self->nl, fp);
		}
	}
}

/* Chunks in a transaction: in order, restartable at 0, complete at commit. */
TEST_F(klb, txn_table_chunks)
{
	uint16_t t[7] = { 1, 1, 1, 0, 0, 0, 1 }, got[7];
	struct api_tbl_dump d = { .entries = got, .size = 7 };
	struct api_err err;
	uint64_t fp;
	uint32_t txn;

	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, t, 3, txn, NULL));
	/* A gap, an overlap, a chunk past M: out of order. */
	ASSERT_REJECTED(EINVAL, api_table_set(&self->nl, &self->a, 7, 4, t + 4, 3,
					      txn, &err), &err);
	ASSERT_REJECTED(EINVAL, api_table_set(&self->nl, &self->a, 7, 2, t + 2, 3,
					      txn, &err), &err);
	ASSERT_REJECTED(EINVAL, api_table_set(&self->nl, &self->a, 7, 3, t, 5,
					      txn, &err), &err);
	/* Size other than the service's. */
	ASSERT_REJECTED(EINVAL, api_table_set(&self->nl, &self->a, 11, 3, t + 3, 4,
					      txn, &err), &err);
	ASSERT_UNCHANGED(&self->nl, fp);
	/* Restart at 0 and finish. */
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, t, 2, txn, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 2, t + 2, 5, txn, NULL));
	ASSERT_EQ(0, api_txn_commit(&self->nl, txn, NULL));
	ASSERT_EQ(0, api_table_dump(&self->nl, &self->a, &d, NULL));
	EXPECT_EQ(0, memcmp(t, got, sizeof(t)));
}

TEST_F(klb, txn_commit_incomplete_table)
{
	uint16_t t[7] = { 1, 1, 1, 0, 0, 0, 1 };
	struct api_err err;
	uint64_t fp;
	uint32_t txn;

	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, t, 5, txn, NULL));
	ASSERT_REJECTED(EINVAL, api_txn_commit(&self->nl, txn, &err), &err);
	/* A failed commit ends the transaction and changes nothing. */
	EXPECT_EQ(-ENOENT, api_txn_commit(&self->nl, txn, &err));
	ASSERT_UNCHANGED(&self->nl, fp);
}

TEST_F(klb, txn_commit_table_names_missing_backend)
{
	uint16_t t[7] = { 1, 1, 1, 0, 0, 0, 1 };
	struct api_err err;
	struct api_be be;
	uint64_t fp;
	uint32_t txn;

	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	/* Deleting a backend the staged table still names. */
	be_a(&be, 1);
	ASSERT_EQ(0, api_backend_del(&self->nl, &self->a, &be, txn, NULL));
	ASSERT_EQ(0, api_table_set(&self->nl, &self->a, 7, 0, t, 7, txn, NULL));
	ASSERT_REJECTED(ENOENT, api_txn_commit(&self->nl, txn, &err), &err);
	ASSERT_UNCHANGED(&self->nl, fp);
}

TEST_F(klb, txn_commit_after_concurrent_change)
{
	struct api_nl other;
	struct api_err err;
	struct api_be be;
	uint64_t fp;
	uint32_t txn;

	ASSERT_EQ(0, api_open(&other));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	be_a(&be, 2);
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, txn, NULL));
	/* Someone else changes the service first. */
	be_a(&be, 0);
	ASSERT_EQ(0, api_backend_set_weight(&other, &self->a, &be, 5, 0, NULL));
	ASSERT_EQ(0, api_fingerprint_published(&self->nl, &fp));
	ASSERT_REJECTED(ESTALE, api_txn_commit(&self->nl, txn, &err), &err);
	ASSERT_PUBLISHED_UNCHANGED(&self->nl, fp);
	EXPECT_EQ(-ENOENT, api_txn_abort(&self->nl, txn, NULL)) TH_LOG("a failed commit ends the transaction");

	/* Or deletes it. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_EQ(0, api_service_del(&other, &self->a, NULL));
	ASSERT_EQ(0, api_fingerprint_published(&self->nl, &fp));
	ASSERT_REJECTED(ESTALE, api_txn_commit(&self->nl, txn, &err), &err);
	ASSERT_PUBLISHED_UNCHANGED(&self->nl, fp);
	EXPECT_EQ(-ENOENT, api_txn_abort(&self->nl, txn, NULL)) TH_LOG("a failed commit ends the transaction");
	api_close(&other);
}

TEST_F(klb, txn_commit_stale_generation)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_err err;
	struct api_be be;
	uint64_t fp, gen;
	uint32_t txn;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	be_a(&be, 2);
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, txn, NULL));
	ASSERT_EQ(0, api_fingerprint_published(&self->nl, &fp));
	api_req_start(req, &self->nl, KLB_CMD_TXN_COMMIT, 0);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, GEN0 + 1);
	ASSERT_REJECTED(ESTALE, api_transact(&self->nl, req->nlh, NULL, NULL, &err),
			&err);
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(GEN0, gen);
	ASSERT_PUBLISHED_UNCHANGED(&self->nl, fp);
	EXPECT_EQ(-ENOENT, api_txn_abort(&self->nl, txn, NULL))
		TH_LOG("a failed commit ends the transaction");

	/* With the right expectation and a new generation it goes through. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, txn, NULL));
	api_req_start(req, &self->nl, KLB_CMD_TXN_COMMIT, 0);
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION_EXPECT, GEN0);
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, 5000);
	ASSERT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	ASSERT_EQ(0, api_generation_get(&self->nl, &gen));
	EXPECT_EQ(5000, gen);
	free(req);
}

/* ---- limits: module parameters, and the counters INFO reports ------------- */

TEST_F(klb, limit_max_services)
{
	struct api_info info0, info;
	struct api_err err;
	struct api_key k;
	uint64_t fp;

	/* Three services exist; room for two more. */
	ASSERT_EQ(0, api_param_write("max_services", 5));
	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	EXPECT_EQ(5, info0.max_services);
	api_key_v4(&k, IPPROTO_UDP, API_VIP(10), 1);
	ASSERT_EQ(0, api_service_new(&self->nl, &k, NULL));
	k.port = 2;
	ASSERT_EQ(0, api_service_new(&self->nl, &k, NULL));
	k.port = 3;
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REJECTED(ENOSPC, api_service_new(&self->nl, &k, &err), &err);
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.service_limit_hits + 1, info.service_limit_hits);
	EXPECT_EQ(5, info.services);
	/* Deleting one makes room again. */
	k.port = 2;
	ASSERT_EQ(0, api_service_del(&self->nl, &k, NULL));
	k.port = 3;
	EXPECT_EQ(0, api_service_new(&self->nl, &k, NULL));
}

TEST_F(klb, limit_max_backends)
{
	struct api_info info0, info;
	struct api_err err;
	struct api_be be;
	uint64_t fp;
	uint32_t txn;

	/* A has two backends; room for one more. */
	ASSERT_EQ(0, api_param_write("max_backends", 3));
	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	EXPECT_EQ(3, info0.max_backends);
	be_a(&be, 2);
	ASSERT_EQ(0, api_backend_new(&self->nl, &self->a, &be, 1, 0, NULL));
	be_a(&be, 3);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REJECTED(ENOSPC, api_backend_new(&self->nl, &self->a, &be, 1, 0, &err),
			&err);
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.backend_limit_hits + 1, info.backend_limit_hits);
	/* The limit holds inside a transaction too. */
	ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_REJECTED(ENOSPC, api_backend_new(&self->nl, &self->a, &be, 1, txn, &err),
			&err);
	api_txn_abort(&self->nl, txn, NULL);
	/* It is per service: at two, B (which has none) takes two. */
	ASSERT_EQ(0, api_param_write("max_backends", 2));
	{
		struct api_key b;
		int i;

		key_b(&b);
		for (i = 0; i < 2; i++) {
			api_be_v6(&be, i, i + 1, 53);
			ASSERT_EQ(0, api_backend_new(&self->nl, &b, &be, 1, 0, NULL));
		}
	}
}

TEST_F(klb, limit_max_txns)
{
	struct api_info info0, info;
	struct api_err err;
	uint32_t txn;
	uint64_t fp;
	int i;

	ASSERT_EQ(0, api_param_write("max_txns", 3));
	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	EXPECT_EQ(3, info0.max_txns);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REJECTED(ENOSPC, api_txn_begin(&self->nl, &self->a, &txn, &err), &err);
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.txn_limit_hits + 1, info.txn_limit_hits);
	EXPECT_EQ(3, info.txns);
	/* Ending one makes room. */
	ASSERT_EQ(0, api_txn_abort(&self->nl, txn, NULL));
	EXPECT_EQ(0, api_txn_begin(&self->nl, &self->a, &txn, NULL));
}

TEST_F(klb, limit_max_table_size)
{
	struct api_req *req = malloc(sizeof(*req));
	struct api_info info0, info;
	struct nlattr *nest;
	struct api_err err;
	struct api_key k;
	uint64_t fp;

	ASSERT_NE(NULL, req);
	ASSERT_EQ(0, api_param_write("max_table_size", 16381));
	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	EXPECT_EQ(16381, info0.max_table_size);
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	/* 16411 is prime: only the limit is wrong. */
	api_key_v4(&k, IPPROTO_UDP, API_VIP(10), 1);
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 16411);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_REJECTED(ERANGE, api_transact(&self->nl, req->nlh, NULL, NULL, &err),
			&err);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.table_limit_hits + 1, info.table_limit_hits);
	/* SERVICE_SET is held to it too. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_SET, 0);
	nest = api_put_service_open(req->nlh, &self->a);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 16411);
	mnl_attr_nest_end(req->nlh, nest);
	ASSERT_REJECTED(ERANGE, api_transact(&self->nl, req->nlh, NULL, NULL, &err),
			&err);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.table_limit_hits + 2, info.table_limit_hits);
	ASSERT_UNCHANGED(&self->nl, fp);
	/* At the limit is fine. */
	api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
	nest = api_put_service_open(req->nlh, &k);
	mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 16381);
	mnl_attr_nest_end(req->nlh, nest);
	EXPECT_EQ(0, api_transact(&self->nl, req->nlh, NULL, NULL, NULL));
	free(req);
}

/*
 * A TABLE_SET chunk holds at most KLB_TABLE_CHUNK_MAX entries, in a
 * transaction too; the refusals are counted. 65537 is prime and larger
 * than two chunks.
 */
TEST_F(klb, limit_table_chunk)
{
	uint16_t *t = calloc(KLB_TABLE_CHUNK_MAX + 1, sizeof(*t));
	struct api_info info0, info;
	struct api_err err;
	struct api_key k;
	uint32_t txn;
	uint64_t fp;

	ASSERT_NE(NULL, t);
	api_key_v4(&k, IPPROTO_UDP, API_VIP(10), 1);
	ASSERT_EQ(0, api_service_new_sched(&self->nl, &k, KLB_SCHED_MAGLEV, 65537,
					   NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	EXPECT_TRUE(info0.seen & (1u << KLB_INFO_A_CHUNK_LIMIT_HITS));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &k, &txn, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	ASSERT_REJECTED(ERANGE, api_table_set(&self->nl, &k, 65537, 0, t,
					      KLB_TABLE_CHUNK_MAX + 1, txn, &err),
			&err);
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.chunk_limit_hits + 1, info.chunk_limit_hits);
	/* Outside a transaction the same. */
	ASSERT_REJECTED(ERANGE, api_table_set(&self->nl, &self->a, 7, 0, t,
					      KLB_TABLE_CHUNK_MAX + 1, 0, &err),
			&err);
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.chunk_limit_hits + 2, info.chunk_limit_hits);
	/* A chunk of exactly the limit is taken. */
	EXPECT_EQ(0, api_table_set(&self->nl, &k, 65537, 0, t,
				   KLB_TABLE_CHUNK_MAX, txn, NULL));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.chunk_limit_hits + 2, info.chunk_limit_hits);
	EXPECT_EQ(0, api_txn_abort(&self->nl, txn, NULL));
	free(t);
}

/* The table-size ceiling of the contract holds whatever the parameter says. */
TEST_F(klb, table_size_ceiling)
{
	struct api_info info0, info;
	struct api_err err;
	uint64_t fp;

	ASSERT_EQ(0, api_info_get(&self->nl, &info0, NULL));
	ASSERT_EQ(0, api_fingerprint(&self->nl, &fp));
	{
		struct api_req *req = malloc(sizeof(*req));
		struct nlattr *nest;
		struct api_key k;

		ASSERT_NE(NULL, req);
		api_key_v4(&k, IPPROTO_UDP, API_VIP(10), 1);
		api_req_start(req, &self->nl, KLB_CMD_SERVICE_NEW, 0);
		nest = api_put_service_open(req->nlh, &k);
		mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, 1048583);
		mnl_attr_nest_end(req->nlh, nest);
		ASSERT_REJECTED(ERANGE, api_transact(&self->nl, req->nlh, NULL, NULL,
						     &err), &err);
		free(req);
	}
	ASSERT_UNCHANGED(&self->nl, fp);
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(info0.table_limit_hits + 1, info.table_limit_hits);
}

FIXTURE(reject_stray)
{
	struct api_nl nl;
	struct api_nl other;
	struct err_ctx ctx;
};

FIXTURE_SETUP(reject_stray)
{
	struct api_key a, b;

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
	ASSERT_EQ(0, api_open(&self->other));
	ASSERT_EQ(0, setup_state(&self->nl));
	key_a(&a);
	key_b(&b);
	ASSERT_EQ(0, api_txn_begin(&self->other, &a, &self->ctx.other_txn, NULL));
	ASSERT_EQ(0, api_txn_begin(&self->nl, &b, &self->ctx.own_txn, NULL));
}

FIXTURE_TEARDOWN(reject_stray)
{
	api_close(&self->other);
	api_close(&self->nl);
}

/* ---- an attribute a command does not use ------------------------------ */

/*
 * Every command has its own policy: any attribute it does not use, at the
 * top level or inside a nest that only names an object, is refused
 * (EINVAL, extack naming the attribute) instead of being ignored. One case
 * per command and attribute it does not take.
 */

#define A(x)	(1u << (x))
#define A_WRITE	(A(KLB_A_GENERATION) | A(KLB_A_GENERATION_EXPECT))
#define A_STAGE	(A_WRITE | A(KLB_A_TXN))

struct stray_cmd {
	const char *name;
	uint8_t cmd;
	uint16_t flags;
	uint32_t takes;			/* top-level attributes it uses */
	void (*key)(struct api_key *k);	/* its KLB_A_SERVICE, keys only */
	bool full_service;		/* the service nest takes settings */
	bool has_backend;
	int backend;			/* which backend of A */
	bool backend_key_only;		/* the backend nest only names it */
	bool table;
	bool generation;
	bool txn;
};

static void key_new(struct api_key *k)
{
	api_key_v4(k, IPPROTO_TCP, API_VIP(50), 80);
}

#define STRAY(name_, cmd_, flags_, takes_, ...) \
	{ .name = name_, .cmd = cmd_, .flags = flags_, .takes = takes_, \
	  __VA_ARGS__ }

static const struct stray_cmd stray_cmds[] = {
	STRAY("service_new", KLB_CMD_SERVICE_NEW, 0, A(KLB_A_SERVICE) | A_WRITE,
	      .key = key_new, .full_service = true),
	STRAY("service_set", KLB_CMD_SERVICE_SET, 0, A(KLB_A_SERVICE) | A_STAGE,
	      .key = key_a, .full_service = true),
	STRAY("service_del", KLB_CMD_SERVICE_DEL, 0, A(KLB_A_SERVICE) | A_WRITE,
	      .key = key_b),
	STRAY("service_get", KLB_CMD_SERVICE_GET, 0, A(KLB_A_SERVICE),
	      .key = key_a),
	STRAY("service_dump", KLB_CMD_SERVICE_GET, NLM_F_DUMP, 0),
	STRAY("backend_new", KLB_CMD_BACKEND_NEW, 0,
	      A(KLB_A_SERVICE) | A(KLB_A_BACKEND) | A_STAGE,
	      .key = key_a, .has_backend = true, .backend = 2),
	STRAY("backend_set", KLB_CMD_BACKEND_SET, 0,
	      A(KLB_A_SERVICE) | A(KLB_A_BACKEND) | A_STAGE,
	      .key = key_a, .has_backend = true, .backend = 0),
	STRAY("backend_del", KLB_CMD_BACKEND_DEL, 0,
	      A(KLB_A_SERVICE) | A(KLB_A_BACKEND) | A_STAGE,
	      .key = key_w, .has_backend = true, .backend = 1, .backend_key_only = true),
	STRAY("backend_get", KLB_CMD_BACKEND_GET, 0,
	      A(KLB_A_SERVICE) | A(KLB_A_BACKEND),
	      .key = key_a, .has_backend = true, .backend = 0, .backend_key_only = true),
	STRAY("backend_dump", KLB_CMD_BACKEND_GET, NLM_F_DUMP, A(KLB_A_SERVICE),
	      .key = key_a),
	STRAY("table_set", KLB_CMD_TABLE_SET, 0,
	      A(KLB_A_SERVICE) | A(KLB_A_TABLE) | A_STAGE,
	      .key = key_a, .table = true),
	STRAY("table_del", KLB_CMD_TABLE_DEL, 0, A(KLB_A_SERVICE) | A_STAGE,
	      .key = key_a),
	STRAY("table_dump", KLB_CMD_TABLE_GET, NLM_F_DUMP, A(KLB_A_SERVICE),
	      .key = key_a),
	STRAY("flush", KLB_CMD_FLUSH, 0, A_WRITE),
	STRAY("generation_get", KLB_CMD_GENERATION_GET, 0, 0),
	STRAY("generation_set", KLB_CMD_GENERATION_SET, 0, A_WRITE,
	      .generation = true),
	STRAY("info_get", KLB_CMD_INFO_GET, 0, 0),
	STRAY("txn_begin", KLB_CMD_TXN_BEGIN, 0, A(KLB_A_SERVICE), .key = key_a),
	STRAY("txn_commit", KLB_CMD_TXN_COMMIT, 0, A_STAGE, .txn = true),
	STRAY("txn_abort", KLB_CMD_TXN_ABORT, 0, A(KLB_A_TXN), .txn = true),
};

static const uint16_t stray_attrs[] = {
	KLB_A_SERVICE, KLB_A_BACKEND, KLB_A_TABLE, KLB_A_GENERATION,
	KLB_A_GENERATION_EXPECT, KLB_A_TXN, KLB_A_INFO, KLB_A_PAD,
};

enum stray_nest { STRAY_TOP, STRAY_IN_SERVICE, STRAY_IN_BACKEND };

/*
 * A valid request of @sc, with @stray added at the top level, or with a
 * setting inside the service or backend nest that only names its object.
 * Returns the offset of the stray attribute in the message.
 */
static uint32_t stray_build(struct api_req *req, struct api_nl *nl,
			    const struct err_ctx *c, const struct stray_cmd *sc,
			    int stray, enum stray_nest where)
{
	struct nlmsghdr *nlh = api_req_start(req, nl, sc->cmd, sc->flags);
	uint32_t off = 0;
	struct nlattr *nest;
	struct api_key k;
	struct api_be be;

	if (sc->key) {
		sc->key(&k);
		nest = api_put_service_open(nlh, &k);
		if (where == STRAY_IN_SERVICE) {
			off = nlh->nlmsg_len;
			mnl_attr_put_u8(nlh, KLB_SVC_A_SCHED, KLB_SCHED_MAGLEV);
		}
		mnl_attr_nest_end(nlh, nest);
	}
	if (sc->has_backend) {
		be_a(&be, sc->backend);
		nest = api_put_backend_open(nlh, &be, sc->cmd == KLB_CMD_BACKEND_NEW);
		if (where == STRAY_IN_BACKEND)
			off = nlh->nlmsg_len;
		if (sc->cmd == KLB_CMD_BACKEND_SET || where == STRAY_IN_BACKEND)
			mnl_attr_put_u32(nlh, KLB_BE_A_WEIGHT, 5);
		mnl_attr_nest_end(nlh, nest);
	}
	if (sc->table)
		api_put_table(nlh, 7, 0, table_a, 7);
	if (sc->generation)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION, GEN0 + 1);
	if (sc->txn)
		mnl_attr_put_u32(nlh, KLB_A_TXN, c->own_txn);
	if (where != STRAY_TOP)
		return off;

	off = nlh->nlmsg_len;
	switch (stray) {
	case KLB_A_SERVICE:
		key_a(&k);
		api_put_service(nlh, &k);
		break;
	case KLB_A_BACKEND:
		be_a(&be, 0);
		mnl_attr_nest_end(nlh, api_put_backend_open(nlh, &be, false));
		break;
	case KLB_A_TABLE:
		api_put_table(nlh, 7, 0, table_a, 7);
		break;
	case KLB_A_GENERATION:
		mnl_attr_put_u64(nlh, KLB_A_GENERATION, GEN0 + 1);
		break;
	case KLB_A_GENERATION_EXPECT:
		mnl_attr_put_u64(nlh, KLB_A_GENERATION_EXPECT, GEN0);
		break;
	case KLB_A_TXN:
		mnl_attr_put_u32(nlh, KLB_A_TXN, c->own_txn);
		break;
	case KLB_A_INFO:
		mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, KLB_A_INFO));
		break;
	default:
		mnl_attr_put(nlh, stray, 0, NULL);
		break;
	}
	return off;
}

static bool stray_applies(const struct stray_cmd *sc, int attr,
			  enum stray_nest where)
{
	switch (where) {
	case STRAY_IN_SERVICE:
		return sc->key && !sc->full_service;
	case STRAY_IN_BACKEND:
		return sc->backend_key_only;
	default:
		return !(sc->takes & A(attr));
	}
}

TEST_F(reject_stray, every_command_refuses_what_it_does_not_use)
{
	struct api_req *req = malloc(sizeof(*req));
	unsigned int cases = 0, failed = 0;
	size_t i, j;

	ASSERT_NE(NULL, req);
	for (i = 0; i < ARRAY_SIZE(stray_cmds); i++) {
		const struct stray_cmd *sc = &stray_cmds[i];

		for (j = 0; j < ARRAY_SIZE(stray_attrs) + 2; j++) {
			enum stray_nest where = j < ARRAY_SIZE(stray_attrs) ? STRAY_TOP :
				j == ARRAY_SIZE(stray_attrs) ? STRAY_IN_SERVICE :
				STRAY_IN_BACKEND;
			int attr = where == STRAY_TOP ? stray_attrs[j] : 0;
			struct api_err err;
			uint64_t before, after;
			uint32_t off;
			int ret;

			if (!stray_applies(sc, attr, where))
				continue;
			cases++;
			ASSERT_EQ(0, api_fingerprint(&self->nl, &before));
			off = stray_build(req, &self->nl, &self->ctx, sc, attr,
					  where);
			ret = api_transact(&self->nl, req->nlh, NULL, NULL, &err);
			ASSERT_EQ(0, api_fingerprint(&self->nl, &after));
			/* A dump's own check reports no offset (NLMSG_DONE has none). */
			if (ret != -EINVAL || !err.has_msg ||
			    (err.has_offset && err.offset != off) ||
			    (!err.has_offset && !(sc->flags & NLM_F_DUMP)) ||
			    before != after) {
				failed++;
				TH_LOG("%s with %s %d: %s (extack \"%s\", offset %d of %u)%s",
				       sc->name, where == STRAY_TOP ? "attribute" :
				       where == STRAY_IN_SERVICE ? "service setting" :
				       "backend setting", attr, strerror(-ret), err.msg,
				       err.has_offset ? (int)err.offset : -1, off,
				       before != after ? ", state changed" : "");
			}
		}
	}
	free(req);
	TH_LOG("%u cases", cases);
	ASSERT_EQ(0, failed);
}

TEST_HARNESS_MAIN
