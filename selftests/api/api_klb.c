// SPDX-License-Identifier: GPL-2.0
/*
 * klb requests and replies for the API tests. Builders write exactly what
 * the contract in include/uapi/linux/klb.h describes; tests that need a
 * malformed message build it themselves from the same pieces.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>

#include "api_klb.h"

size_t api_addr_len(uint16_t family)
{
	return family == AF_INET ? 4 : 16;
}

void api_key_v4(struct api_key *k, uint8_t proto, uint32_t addr, uint16_t port)
{
	uint32_t be = htonl(addr);

	memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->family = AF_INET;
	memcpy(k->addr, &be, sizeof(be));
	k->port = port;
}

/* 2001:db8::<last> */
static void api_addr_v6(uint8_t *addr, uint16_t last)
{
	memset(addr, 0, 16);
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x0d;
	addr[3] = 0xb8;
	addr[14] = last >> 8;
	addr[15] = last & 0xff;
}

void api_key_v6(struct api_key *k, uint8_t proto, uint16_t last, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->family = AF_INET6;
	api_addr_v6(k->addr, last);
	k->port = port;
}

void api_be_v4(struct api_be *be, uint16_t id, uint32_t addr, uint16_t port)
{
	uint32_t n = htonl(addr);

	memset(be, 0, sizeof(*be));
	be->id = id;
	be->family = AF_INET;
	memcpy(be->addr, &n, sizeof(n));
	be->port = port;
}

void api_be_v6(struct api_be *be, uint16_t id, uint16_t last, uint16_t port)
{
	memset(be, 0, sizeof(*be));
	be->id = id;
	be->family = AF_INET6;
	api_addr_v6(be->addr, 0x100 + last);
	be->port = port;
}

/* ---- builders ---------------------------------------------------------- */

struct nlattr *api_put_service_open(struct nlmsghdr *nlh,
				    const struct api_key *k)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_SERVICE);

	mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, k->proto);
	mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, k->family);
	mnl_attr_put(nlh, KLB_SVC_A_ADDR, api_addr_len(k->family), k->addr);
	mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(k->port));
	return nest;
}

void api_put_service(struct nlmsghdr *nlh, const struct api_key *k)
{
	mnl_attr_nest_end(nlh, api_put_service_open(nlh, k));
}

struct nlattr *api_put_backend_open(struct nlmsghdr *nlh,
				    const struct api_be *be, bool with_id)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_BACKEND);

	if (with_id)
		mnl_attr_put_u16(nlh, KLB_BE_A_ID, be->id);
	mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, be->family);
	mnl_attr_put(nlh, KLB_BE_A_ADDR, api_addr_len(be->family), be->addr);
	mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(be->port));
	return nest;
}

void api_put_table(struct nlmsghdr *nlh, uint32_t size, uint32_t offset,
		   const uint16_t *entries, uint32_t count)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_TABLE);

	mnl_attr_put_u32(nlh, KLB_TBL_A_SIZE, size);
	mnl_attr_put_u32(nlh, KLB_TBL_A_OFFSET, offset);
	mnl_attr_put(nlh, KLB_TBL_A_ENTRIES, count * sizeof(uint16_t), entries);
	mnl_attr_nest_end(nlh, nest);
}

/* ---- parsing ------------------------------------------------------------ */

static void api_copy_addr(uint8_t *dst, const struct nlattr *a)
{
	size_t len = mnl_attr_get_payload_len(a);

	memset(dst, 0, 16);
	memcpy(dst, mnl_attr_get_payload(a), len > 16 ? 16 : len);
}

/* The type of @a, noted in @seen (bit n: attribute n was present). */
static uint16_t api_seen(const struct nlattr *a, uint32_t *seen)
{
	uint16_t type = mnl_attr_get_type(a);

	if (type < 32)
		*seen |= 1u << type;
	return type;
}

static void api_parse_service(const struct nlattr *nest, struct api_service *s)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (api_seen(a, &s->seen)) {
		case KLB_SVC_A_PROTO:
			s->key.proto = mnl_attr_get_u8(a);
			break;
		case KLB_SVC_A_FAMILY:
			s->key.family = mnl_attr_get_u16(a);
			break;
		case KLB_SVC_A_ADDR:
			api_copy_addr(s->key.addr, a);
			break;
		case KLB_SVC_A_PORT:
			s->key.port = ntohs(mnl_attr_get_u16(a));
			break;
		case KLB_SVC_A_SCHED:
			s->sched = mnl_attr_get_u8(a);
			break;
		case KLB_SVC_A_FWD:
			s->fwd = mnl_attr_get_u8(a);
			break;
		case KLB_SVC_A_TABLE_SIZE:
			s->table_size = mnl_attr_get_u32(a);
			break;
		case KLB_SVC_A_BOUND:
			s->bound = mnl_attr_get_u32(a);
			break;
		case KLB_SVC_A_FLAGS:
			s->flags = mnl_attr_get_u32(a);
			break;
		case KLB_SVC_A_SEED:
			if (mnl_attr_get_payload_len(a) == KLB_SEED_LEN)
				memcpy(s->seed, mnl_attr_get_payload(a),
				       KLB_SEED_LEN);
			break;
		case KLB_SVC_A_VERSION:
			s->version = mnl_attr_get_u64(a);
			break;
		case KLB_SVC_A_BACKENDS:
			s->backends = mnl_attr_get_u32(a);
			break;
		case KLB_SVC_A_TABLE_LOADED:
			s->table_loaded = mnl_attr_get_u8(a);
			break;
		}
	}
}

static void api_parse_backend(const struct nlattr *nest, struct api_backend *b)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (api_seen(a, &b->seen)) {
		case KLB_BE_A_ID:
			b->be.id = mnl_attr_get_u16(a);
			break;
		case KLB_BE_A_FAMILY:
			b->be.family = mnl_attr_get_u16(a);
			break;
		case KLB_BE_A_ADDR:
			api_copy_addr(b->be.addr, a);
			break;
		case KLB_BE_A_PORT:
			b->be.port = ntohs(mnl_attr_get_u16(a));
			break;
		case KLB_BE_A_WEIGHT:
			b->weight = mnl_attr_get_u32(a);
			break;
		case KLB_BE_A_STATE:
			b->state = mnl_attr_get_u8(a);
			break;
		}
	}
}

static void api_parse_table(const struct nlattr *nest, struct api_msg *m)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case KLB_TBL_A_SIZE:
			m->tbl_size = mnl_attr_get_u32(a);
			break;
		case KLB_TBL_A_OFFSET:
			m->has_tbl_offset = true;
			m->tbl_offset = mnl_attr_get_u32(a);
			break;
		case KLB_TBL_A_ENTRIES:
			m->entries = mnl_attr_get_payload(a);
			m->count = mnl_attr_get_payload_len(a) / sizeof(uint16_t);
			break;
		}
	}
}

static uint64_t api_u64(const struct nlattr *a)
{
	return mnl_attr_get_payload_len(a) == 8 ? mnl_attr_get_u64(a) :
						  mnl_attr_get_u32(a);
}

static void api_parse_info(const struct nlattr *nest, struct api_info *in)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (api_seen(a, &in->seen)) {
		case KLB_INFO_A_MAX_SERVICES:
			in->max_services = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_MAX_BACKENDS:
			in->max_backends = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_MAX_TABLE_SIZE:
			in->max_table_size = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_MAX_TXNS:
			in->max_txns = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_SERVICES:
			in->services = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_TXNS:
			in->txns = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_SERVICE_LIMIT_HITS:
			in->service_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_BACKEND_LIMIT_HITS:
			in->backend_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_TABLE_LIMIT_HITS:
			in->table_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_TXN_LIMIT_HITS:
			in->txn_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_CHUNK_LIMIT_HITS:
			in->chunk_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_SERVICE_FLAGS:
			in->service_flags = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_TABLE_CHUNK_MAX:
			in->table_chunk_max = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_MAX_MEMORY:
			in->max_memory = api_u64(a);
			break;
		case KLB_INFO_A_MEMORY:
			in->memory = api_u64(a);
			break;
		case KLB_INFO_A_MEMORY_LIMIT_HITS:
			in->memory_limit_hits = api_u64(a);
			break;
		case KLB_INFO_A_BACKEND_BATCH_MAX:
			in->backend_batch_max = mnl_attr_get_u32(a);
			break;
		case KLB_INFO_A_BATCH_LIMIT_HITS:
			in->batch_limit_hits = api_u64(a);
			break;
		}
	}
}

int api_parse(const struct nlmsghdr *nlh, struct api_msg *m)
{
	const struct nlattr *a;

	memset(m, 0, sizeof(*m));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr))
		return -EBADMSG;
	m->cmd = api_msg_cmd(nlh);
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case KLB_A_SERVICE:
			m->has_service = true;
			api_parse_service(a, &m->svc);
			break;
		case KLB_A_BACKEND:
			m->has_backend = true;
			api_parse_backend(a, &m->be);
			break;
		case KLB_A_TABLE:
			m->has_table = true;
			api_parse_table(a, m);
			break;
		case KLB_A_GENERATION:
			m->has_generation = true;
			m->generation = mnl_attr_get_u64(a);
			break;
		case KLB_A_TXN:
			m->has_txn = true;
			m->txn = mnl_attr_get_u32(a);
			break;
		case KLB_A_INFO:
			m->has_info = true;
			api_parse_info(a, &m->info);
			break;
		}
	}
	return 0;
}

/* ---- operations --------------------------------------------------------- */

/* Sends @req, passes the reply's messages to @cb and frees @req. */
static int api_send(struct api_nl *nl, struct api_req *req, api_msg_cb cb,
		    void *data, struct api_err *err)
{
	int ret = api_transact(nl, req->nlh, cb, data, err);

	free(req);
	return ret;
}

static int api_simple(struct api_nl *nl, struct api_req *req,
		      struct api_err *err)
{
	return api_send(nl, req, NULL, NULL, err);
}

static struct api_req *api_new_req(struct api_nl *nl, uint8_t cmd,
				   uint16_t flags)
{
	struct api_req *req = malloc(sizeof(*req));

	if (req)
		api_req_start(req, nl, cmd, flags);
	return req;
}

static void api_put_txn(struct nlmsghdr *nlh, uint32_t txn)
{
	if (txn)
		mnl_attr_put_u32(nlh, KLB_A_TXN, txn);
}

int api_service_new(struct api_nl *nl, const struct api_key *k,
		    struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_SERVICE_NEW, 0);

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	return api_simple(nl, req, err);
}

int api_service_new_sched(struct api_nl *nl, const struct api_key *k,
			  uint8_t sched, uint32_t table_size,
			  struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_SERVICE_NEW, 0);
	struct nlattr *nest;

	if (!req)
		return -ENOMEM;
	nest = api_put_service_open(req->nlh, k);
	mnl_attr_put_u8(req->nlh, KLB_SVC_A_SCHED, sched);
	if (table_size)
		mnl_attr_put_u32(req->nlh, KLB_SVC_A_TABLE_SIZE, table_size);
	mnl_attr_nest_end(req->nlh, nest);
	return api_simple(nl, req, err);
}

int api_service_del(struct api_nl *nl, const struct api_key *k,
		    struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_SERVICE_DEL, 0);

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	return api_simple(nl, req, err);
}

struct api_get_ctx {
	struct api_msg msg;
	unsigned int n;
};

static int api_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct api_get_ctx *ctx = data;

	ctx->n++;
	api_parse(nlh, &ctx->msg);
	return MNL_CB_OK;
}

/* Sends @req (and frees it): the reply must be exactly one message, @m. */
static int api_get_one(struct api_nl *nl, struct api_req *req,
		       struct api_msg *m, struct api_err *err)
{
	struct api_get_ctx ctx = { 0 };
	int ret;

	ret = api_send(nl, req, api_get_cb, &ctx, err);
	if (ret)
		return ret;
	if (ctx.n != 1)
		return -EBADMSG;
	*m = ctx.msg;
	return 0;
}

int api_service_get(struct api_nl *nl, const struct api_key *k,
		    struct api_service *out, uint64_t *generation,
		    struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_SERVICE_GET, 0);
	struct api_msg m;
	int ret;

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	ret = api_get_one(nl, req, &m, err);
	if (ret)
		return ret;
	if (!m.has_service)
		return -EBADMSG;
	if (out)
		*out = m.svc;
	if (generation)
		*generation = m.generation;
	return 0;
}

int api_service_dump(struct api_nl *nl, api_msg_cb cb, void *data,
		     struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_SERVICE_GET, NLM_F_DUMP);

	if (!req)
		return -ENOMEM;
	return api_send(nl, req, cb, data, err);
}

static int api_backend_write(struct api_nl *nl, uint8_t cmd,
			     const struct api_key *k, const struct api_be *be,
			     bool with_id, int64_t weight, uint32_t txn,
			     struct api_err *err)
{
	struct api_req *req = api_new_req(nl, cmd, 0);
	struct nlattr *nest;

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	nest = api_put_backend_open(req->nlh, be, with_id);
	if (weight >= 0)
		mnl_attr_put_u32(req->nlh, KLB_BE_A_WEIGHT, (uint32_t)weight);
	mnl_attr_nest_end(req->nlh, nest);
	api_put_txn(req->nlh, txn);
	return api_simple(nl, req, err);
}

void api_backends_req(struct api_req *req, struct api_nl *nl, uint8_t cmd,
		      const struct api_key *k, uint16_t first, int n,
		      uint32_t txn)
{
	struct api_be be;
	int i;

	api_req_start(req, nl, cmd, 0);
	api_put_service(req->nlh, k);
	for (i = 0; i < n; i++) {
		/* Addresses repeat every 256: the port keeps them apart. */
		api_be_v4(&be, first + i, API_BE_ADDR(first + i + 1), 10000 + first + i);
		mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, &be, true));
	}
	if (txn)
		mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
}

int api_backend_new(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, uint32_t weight, uint32_t txn,
		    struct api_err *err)
{
	return api_backend_write(nl, KLB_CMD_BACKEND_NEW, k, be, true, weight,
				 txn, err);
}

int api_backend_set_weight(struct api_nl *nl, const struct api_key *k,
			   const struct api_be *be, uint32_t weight,
			   uint32_t txn, struct api_err *err)
{
	return api_backend_write(nl, KLB_CMD_BACKEND_SET, k, be, false, weight,
				 txn, err);
}

int api_backend_del(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, uint32_t txn, struct api_err *err)
{
	return api_backend_write(nl, KLB_CMD_BACKEND_DEL, k, be, false, -1,
				 txn, err);
}

int api_backend_get(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, struct api_backend *out,
		    struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_BACKEND_GET, 0);
	struct api_msg m;
	int ret;

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	mnl_attr_nest_end(req->nlh, api_put_backend_open(req->nlh, be, false));
	ret = api_get_one(nl, req, &m, err);
	if (ret)
		return ret;
	if (!m.has_backend)
		return -EBADMSG;
	if (out)
		*out = m.be;
	return 0;
}

static int api_be_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct api_be_dump *d = data;
	struct api_msg m;

	api_parse(nlh, &m);
	if (!m.has_service || !(m.svc.seen & (1u << KLB_SVC_A_VERSION)))
		d->missing_version = true;
	if (d->n == 0)
		d->version = m.svc.version;
	else if (m.svc.version != d->version)
		d->mixed = true;
	if (d->n < d->max && m.has_backend)
		d->be[d->n] = m.be;
	d->n++;
	return MNL_CB_OK;
}

int api_backend_dump(struct api_nl *nl, const struct api_key *k,
		     struct api_be_dump *d, struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_BACKEND_GET, NLM_F_DUMP);

	if (!req)
		return -ENOMEM;
	d->n = 0;
	d->version = 0;
	d->mixed = false;
	d->missing_version = false;
	api_put_service(req->nlh, k);
	return api_send(nl, req, api_be_dump_cb, d, err);
}

int api_table_set(struct api_nl *nl, const struct api_key *k, uint32_t size,
		  uint32_t offset, const uint16_t *entries, uint32_t count,
		  uint32_t txn, struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_TABLE_SET, 0);

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	api_put_table(req->nlh, size, offset, entries, count);
	api_put_txn(req->nlh, txn);
	return api_simple(nl, req, err);
}

int api_table_chunks(struct api_nl *nl, const struct api_key *k,
		     uint32_t size, const uint16_t *entries, uint32_t chunk,
		     uint32_t txn, struct api_err *err)
{
	uint32_t off, n;
	int ret;

	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		ret = api_table_set(nl, k, size, off, entries + off, n, txn,
				    err);
		if (ret)
			return ret;
	}
	return 0;
}

int api_table_push(struct api_nl *nl, const struct api_key *k, uint32_t size,
		   const uint16_t *entries, struct api_err *err)
{
	uint32_t txn;
	int ret;

	if (size <= KLB_TABLE_CHUNK_MAX)
		return api_table_set(nl, k, size, 0, entries, size, 0, err);
	ret = api_txn_begin(nl, k, &txn, err);
	if (ret)
		return ret;
	ret = api_table_chunks(nl, k, size, entries, KLB_TABLE_CHUNK_MAX, txn,
			       err);
	if (ret) {
		api_txn_abort(nl, txn, NULL);
		return ret;
	}
	return api_txn_commit(nl, txn, err);
}

int api_table_del(struct api_nl *nl, const struct api_key *k, uint32_t txn,
		  struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_TABLE_DEL, 0);

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	api_put_txn(req->nlh, txn);
	return api_simple(nl, req, err);
}

static int api_tbl_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct api_tbl_dump *d = data;
	struct api_msg m;

	api_parse(nlh, &m);
	if (!m.has_table || !m.has_service) {
		d->out_of_order = true;
		return MNL_CB_OK;
	}
	if (d->chunks == 0)
		d->version = m.svc.version;
	else if (m.svc.version != d->version)
		d->mixed = true;
	d->chunks++;
	if (m.tbl_size != d->size)
		d->bad_size = true;
	if (!m.has_tbl_offset || m.tbl_offset != d->filled ||
	    m.count > d->size - d->filled) {
		d->out_of_order = true;
		return MNL_CB_OK;
	}
	memcpy(d->entries + d->filled, m.entries, m.count * sizeof(uint16_t));
	d->filled += m.count;
	if (m.count > d->largest_chunk)
		d->largest_chunk = m.count;
	return MNL_CB_OK;
}

int api_table_dump(struct api_nl *nl, const struct api_key *k,
		   struct api_tbl_dump *d, struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_TABLE_GET, NLM_F_DUMP);

	if (!req)
		return -ENOMEM;
	d->filled = 0;
	d->version = 0;
	d->mixed = false;
	d->out_of_order = false;
	d->bad_size = false;
	d->chunks = 0;
	d->largest_chunk = 0;
	api_put_service(req->nlh, k);
	return api_send(nl, req, api_tbl_dump_cb, d, err);
}

int api_txn_begin(struct api_nl *nl, const struct api_key *k, uint32_t *txn,
		  struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_TXN_BEGIN, 0);
	struct api_msg m;
	int ret;

	if (!req)
		return -ENOMEM;
	api_put_service(req->nlh, k);
	ret = api_get_one(nl, req, &m, err);
	if (ret)
		return ret;
	if (!m.has_txn)
		return -EBADMSG;
	*txn = m.txn;
	return 0;
}

static int api_txn_end(struct api_nl *nl, uint8_t cmd, uint32_t txn,
		       struct api_err *err)
{
	struct api_req *req = api_new_req(nl, cmd, 0);

	if (!req)
		return -ENOMEM;
	mnl_attr_put_u32(req->nlh, KLB_A_TXN, txn);
	return api_simple(nl, req, err);
}

int api_txn_commit(struct api_nl *nl, uint32_t txn, struct api_err *err)
{
	return api_txn_end(nl, KLB_CMD_TXN_COMMIT, txn, err);
}

int api_txn_abort(struct api_nl *nl, uint32_t txn, struct api_err *err)
{
	return api_txn_end(nl, KLB_CMD_TXN_ABORT, txn, err);
}

int api_flush(struct api_nl *nl, struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_FLUSH, 0);

	if (!req)
		return -ENOMEM;
	return api_simple(nl, req, err);
}

int api_generation_get(struct api_nl *nl, uint64_t *generation)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_GENERATION_GET, 0);
	struct api_msg m;
	int ret;

	if (!req)
		return -ENOMEM;
	ret = api_get_one(nl, req, &m, NULL);
	if (ret)
		return ret;
	if (!m.has_generation)
		return -EBADMSG;
	*generation = m.generation;
	return 0;
}

int api_generation_set(struct api_nl *nl, uint64_t generation,
		       struct api_err *err)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_GENERATION_SET, 0);

	if (!req)
		return -ENOMEM;
	mnl_attr_put_u64(req->nlh, KLB_A_GENERATION, generation);
	return api_simple(nl, req, err);
}

int api_info_get(struct api_nl *nl, struct api_info *info,
		 uint64_t *generation)
{
	struct api_req *req = api_new_req(nl, KLB_CMD_INFO_GET, 0);
	struct api_msg m;
	int ret;

	if (!req)
		return -ENOMEM;
	ret = api_get_one(nl, req, &m, NULL);
	if (ret)
		return ret;
	if (!m.has_info)
		return -EBADMSG;
	*info = m.info;
	if (generation)
		*generation = m.generation;
	return 0;
}

/* FNV-1a, 64 bits: enough to tell two states apart in a test. */
static uint64_t api_hash(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int api_fp_cb(const struct nlmsghdr *nlh, void *data)
{
	uint64_t *h = data;

	*h = api_hash(*h, mnl_nlmsg_get_payload(nlh),
		      mnl_nlmsg_get_payload_len(nlh));
	return MNL_CB_OK;
}

static int api_fingerprint_of(struct api_nl *nl, bool with_txns, uint64_t *fp)
{
	uint64_t h = 0xcbf29ce484222325ULL, gen;
	struct api_info info;
	int ret;

	ret = api_info_get(nl, &info, &gen);
	if (ret)
		return ret;
	h = api_hash(h, &gen, sizeof(gen));
	h = api_hash(h, &info.services, sizeof(info.services));
	if (with_txns)
		h = api_hash(h, &info.txns, sizeof(info.txns));
	ret = api_service_dump(nl, api_fp_cb, &h, NULL);
	if (ret)
		return ret;
	*fp = h;
	return 0;
}

int api_fingerprint(struct api_nl *nl, uint64_t *fp)
{
	return api_fingerprint_of(nl, true, fp);
}

int api_fingerprint_published(struct api_nl *nl, uint64_t *fp)
{
	return api_fingerprint_of(nl, false, fp);
}
