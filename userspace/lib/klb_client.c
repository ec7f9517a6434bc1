// SPDX-License-Identifier: GPL-2.0
/*
 * Typed operations on the klb generic netlink family: building requests
 * from structs and parsing replies back into them. The contract is
 * include/uapi/linux/klb.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "lib/klb_client.h"

/* A whole chunk of table entries plus headers and the service keys. */
#define KLB_REQ_SIZE	(KLB_TABLE_CHUNK_MAX * 2 + 4096)

static const struct klb_write klb_write_none;

size_t klb_endpoint_addr_len(const struct klb_endpoint *ep)
{
	return ep->family == AF_INET6 ? 16 : 4;
}

bool klb_endpoint_equal(const struct klb_endpoint *a,
			const struct klb_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, klb_endpoint_addr_len(a));
}

struct klb_backend *klb_backend_find(const struct klb_backend *bes, size_t n,
				     const struct klb_endpoint *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (klb_endpoint_equal(&bes[i].addr, addr))
			return (struct klb_backend *)&bes[i];
	return NULL;
}

const char *klb_endpoint_format(const struct klb_endpoint *ep, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	if (ep->family == AF_INET6)
		snprintf(buf, KLB_ENDPOINT_STRLEN, "[%s]:%u", host, ep->port);
	else
		snprintf(buf, KLB_ENDPOINT_STRLEN, "%s:%u", host, ep->port);
	return buf;
}

const char *klb_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

bool klb_service_key_equal(const struct klb_service_key *a,
			   const struct klb_service_key *b)
{
	return a->proto == b->proto && klb_endpoint_equal(&a->vip, &b->vip);
}

int klb_client_open(struct klb_client *c, klb_error *e)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->buf = malloc(KLB_REQ_SIZE);
	if (!c->buf)
		return nl_error_set(e, ENOMEM, "out of memory");
	err = nl_open(&c->nl, KLB_GENL_NAME, e);
	if (err == -ENOENT)
		nl_error_set(e, ENOENT,
			     "the klb kernel module is not loaded (load it with 'modprobe klb' or 'insmod klb.ko')");
	if (err) {
		free(c->buf);
		c->buf = NULL;
	}
	return err;
}

void klb_client_close(struct klb_client *c)
{
	nl_close(&c->nl);
	free(c->buf);
	c->buf = NULL;
}

/* ---- building requests -------------------------------------------------- */

static void put_endpoint_addr(struct nlmsghdr *nlh, uint16_t type,
			      const struct klb_endpoint *ep)
{
	mnl_attr_put(nlh, type, klb_endpoint_addr_len(ep), ep->addr);
}

static void put_service(struct nlmsghdr *nlh, const struct klb_service_key *key,
			const struct klb_service_conf *conf)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_SERVICE);

	mnl_attr_put_u8(nlh, KLB_SVC_A_PROTO, key->proto);
	mnl_attr_put_u16(nlh, KLB_SVC_A_FAMILY, key->vip.family);
	put_endpoint_addr(nlh, KLB_SVC_A_ADDR, &key->vip);
	mnl_attr_put_u16(nlh, KLB_SVC_A_PORT, htons(key->vip.port));
	if (conf) {
		if (conf->fields & KLB_SVC_SCHED)
			mnl_attr_put_u8(nlh, KLB_SVC_A_SCHED, conf->sched);
		if (conf->fields & KLB_SVC_FWD)
			mnl_attr_put_u8(nlh, KLB_SVC_A_FWD, conf->fwd);
		if (conf->fields & KLB_SVC_TABLE_SIZE)
			mnl_attr_put_u32(nlh, KLB_SVC_A_TABLE_SIZE, conf->table_size);
		if (conf->fields & KLB_SVC_BOUND)
			mnl_attr_put_u32(nlh, KLB_SVC_A_BOUND, conf->bound);
		if (conf->fields & KLB_SVC_SEED)
			mnl_attr_put(nlh, KLB_SVC_A_SEED, KLB_SEED_LEN, conf->seed);
		if (conf->fields & KLB_SVC_FLAGS)
			mnl_attr_put_u32(nlh, KLB_SVC_A_FLAGS, conf->flags);
	}
	mnl_attr_nest_end(nlh, nest);
}

static void put_backend(struct nlmsghdr *nlh, const struct klb_backend *be,
			bool keys_only)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KLB_A_BACKEND);

	if (!keys_only && (be->fields & KLB_BE_ID))
		mnl_attr_put_u16(nlh, KLB_BE_A_ID, be->id);
	mnl_attr_put_u16(nlh, KLB_BE_A_FAMILY, be->addr.family);
	put_endpoint_addr(nlh, KLB_BE_A_ADDR, &be->addr);
	mnl_attr_put_u16(nlh, KLB_BE_A_PORT, htons(be->addr.port));
	if (!keys_only && (be->fields & KLB_BE_WEIGHT))
		mnl_attr_put_u32(nlh, KLB_BE_A_WEIGHT, be->weight);
	if (!keys_only && (be->fields & KLB_BE_STATE))
		mnl_attr_put_u8(nlh, KLB_BE_A_STATE, be->state);
	mnl_attr_nest_end(nlh, nest);
}

static void put_write(struct nlmsghdr *nlh, const struct klb_write *w)
{
	if (!w)
		return;
	/* Inside a transaction the guard goes on the commit. */
	if (w->txn)
		mnl_attr_put_u32(nlh, KLB_A_TXN, w->txn);
	else if (w->check_generation)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION_EXPECT,
				 w->expect_generation);
}

/*
 * Where a write is built: a staged write that will be batched goes
 * straight into the batch, not copied there (a restore's tables are most
 * of what it sends); others, and a batch without room, use c->buf.
 */
static struct nlmsghdr *write_start(struct klb_client *c, uint8_t cmd,
				    const struct klb_write *w)
{
	void *buf = NULL;

	if (c->batching && w && w->txn)
		buf = nl_batch_tail(&c->nl, KLB_REQ_SIZE);
	return nl_msg_start(&c->nl, buf ? buf : c->buf, cmd, 0);
}

/*
 * Sends a write: queued when batching a staged write, else at once. The
 * generation a successful direct write leaves is one more than expected.
 */
static int klb_send_write(struct klb_client *c, struct nlmsghdr *nlh,
			  const struct klb_write *w, klb_error *e)
{
	int err;

	if (c->batching && w && w->txn)
		return nl_batch_add(&c->nl, nlh, e);
	if (c->batching) {
		err = nl_batch_send(&c->nl, e);
		if (err)
			return err;
	}
	err = nl_request(&c->nl, nlh, NULL, NULL, e);
	if (!err && w && w->check_generation && !w->txn)
		c->generation = w->expect_generation + 1;
	return err;
}

void klb_batch_begin(struct klb_client *c)
{
	c->batching = true;
}

int klb_batch_end(struct klb_client *c, klb_error *e)
{
	c->batching = false;
	return nl_batch_send(&c->nl, e);
}

/* Requests outside a batch: send what is queued first, keep the order. */
static int klb_request(struct klb_client *c, struct nlmsghdr *nlh,
		       nl_msg_cb cb, void *data, klb_error *e)
{
	int err;

	if (c->batching) {
		err = nl_batch_send(&c->nl, e);
		if (err)
			return err;
	}
	return nl_request(&c->nl, nlh, cb, data, e);
}

/* ---- parsing replies ---------------------------------------------------- */

struct klb_attrs {
	const struct nlattr *tb[KLB_A_MAX + 1];
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = ((const struct nlattr ***)data)[0];
	uintptr_t max = (uintptr_t)((void **)data)[1];
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= max)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void parse_nested(const struct nlattr *nest, const struct nlattr **tb,
			 uintptr_t max)
{
	void *data[2] = { tb, (void *)max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse_nested(nest, attr_table_cb, data);
}

static void parse_msg(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	void *data[2] = { tb, (void *)(uintptr_t)KLB_A_MAX };

	memset(tb, 0, (KLB_A_MAX + 1) * sizeof(*tb));
	mnl_attr_parse(nlh, NL_GENL_HDRLEN, attr_table_cb, data);
}

static bool attr_ok(const struct nlattr *a, enum mnl_attr_data_type type)
{
	return a && mnl_attr_validate(a, type) >= 0;
}

static int attr_endpoint(const struct nlattr *family, const struct nlattr *addr,
			  const struct nlattr *port, struct klb_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (!attr_ok(family, MNL_TYPE_U16) || !addr || !attr_ok(port, MNL_TYPE_U16))
		return -EBADMSG;
	ep->family = mnl_attr_get_u16(family);
	if (mnl_attr_get_payload_len(addr) != klb_endpoint_addr_len(ep))
		return -EBADMSG;
	memcpy(ep->addr, mnl_attr_get_payload(addr), klb_endpoint_addr_len(ep));
	ep->port = ntohs(mnl_attr_get_u16(port));
	return 0;
}

static int parse_service(const struct nlattr *nest, struct klb_service *svc)
{
	const struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_conf *conf = &svc->conf;

	memset(svc, 0, sizeof(*svc));
	if (!nest)
		return -EBADMSG;
	parse_nested(nest, tb, KLB_SVC_A_MAX);
	if (!attr_ok(tb[KLB_SVC_A_PROTO], MNL_TYPE_U8))
		return -EBADMSG;
	svc->key.proto = mnl_attr_get_u8(tb[KLB_SVC_A_PROTO]);
	if (attr_endpoint(tb[KLB_SVC_A_FAMILY], tb[KLB_SVC_A_ADDR],
			   tb[KLB_SVC_A_PORT], &svc->key.vip))
		return -EBADMSG;
	if (attr_ok(tb[KLB_SVC_A_SCHED], MNL_TYPE_U8)) {
		conf->sched = mnl_attr_get_u8(tb[KLB_SVC_A_SCHED]);
		conf->fields |= KLB_SVC_SCHED;
	}
	if (attr_ok(tb[KLB_SVC_A_FWD], MNL_TYPE_U8)) {
		conf->fwd = mnl_attr_get_u8(tb[KLB_SVC_A_FWD]);
		conf->fields |= KLB_SVC_FWD;
	}
	if (attr_ok(tb[KLB_SVC_A_TABLE_SIZE], MNL_TYPE_U32)) {
		conf->table_size = mnl_attr_get_u32(tb[KLB_SVC_A_TABLE_SIZE]);
		conf->fields |= KLB_SVC_TABLE_SIZE;
	}
	if (attr_ok(tb[KLB_SVC_A_BOUND], MNL_TYPE_U32)) {
		conf->bound = mnl_attr_get_u32(tb[KLB_SVC_A_BOUND]);
		conf->fields |= KLB_SVC_BOUND;
	}
	if (attr_ok(tb[KLB_SVC_A_FLAGS], MNL_TYPE_U32)) {
		conf->flags = mnl_attr_get_u32(tb[KLB_SVC_A_FLAGS]);
		conf->fields |= KLB_SVC_FLAGS;
	}
	if (tb[KLB_SVC_A_SEED] &&
	    mnl_attr_get_payload_len(tb[KLB_SVC_A_SEED]) == KLB_SEED_LEN) {
		memcpy(conf->seed, mnl_attr_get_payload(tb[KLB_SVC_A_SEED]),
		       KLB_SEED_LEN);
		conf->fields |= KLB_SVC_SEED;
	}
	if (attr_ok(tb[KLB_SVC_A_VERSION], MNL_TYPE_U64))
		svc->version = mnl_attr_get_u64(tb[KLB_SVC_A_VERSION]);
	if (attr_ok(tb[KLB_SVC_A_BACKENDS], MNL_TYPE_U32))
		svc->nr_backends = mnl_attr_get_u32(tb[KLB_SVC_A_BACKENDS]);
	if (attr_ok(tb[KLB_SVC_A_TABLE_LOADED], MNL_TYPE_U8))
		svc->table_loaded = mnl_attr_get_u8(tb[KLB_SVC_A_TABLE_LOADED]);
	return 0;
}

static int parse_backend(const struct nlattr *nest, struct klb_backend *be)
{
	const struct nlattr *tb[KLB_BE_A_MAX + 1];

	memset(be, 0, sizeof(*be));
	if (!nest)
		return -EBADMSG;
	parse_nested(nest, tb, KLB_BE_A_MAX);
	if (attr_endpoint(tb[KLB_BE_A_FAMILY], tb[KLB_BE_A_ADDR],
			   tb[KLB_BE_A_PORT], &be->addr))
		return -EBADMSG;
	if (attr_ok(tb[KLB_BE_A_ID], MNL_TYPE_U16)) {
		be->id = mnl_attr_get_u16(tb[KLB_BE_A_ID]);
		be->fields |= KLB_BE_ID;
	}
	if (attr_ok(tb[KLB_BE_A_WEIGHT], MNL_TYPE_U32)) {
		be->weight = mnl_attr_get_u32(tb[KLB_BE_A_WEIGHT]);
		be->fields |= KLB_BE_WEIGHT;
	}
	if (attr_ok(tb[KLB_BE_A_STATE], MNL_TYPE_U8)) {
		be->state = mnl_attr_get_u8(tb[KLB_BE_A_STATE]);
		be->fields |= KLB_BE_STATE;
	}
	return 0;
}

static void note_generation(struct klb_client *c, const struct nlattr **tb)
{
	if (attr_ok(tb[KLB_A_GENERATION], MNL_TYPE_U64))
		c->generation = mnl_attr_get_u64(tb[KLB_A_GENERATION]);
}

/* A growing array of fixed-size records filled by dump callbacks. */
struct vec {
	void *items;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *items = realloc(v->items, cap * v->size);

		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	return (char *)v->items + v->n++ * v->size;
}

/* ---- netns-wide ----------------------------------------------------------- */

static int generation_cb(const struct nlmsghdr *nlh, void *data)
{
	struct klb_client *c = data;
	const struct nlattr *tb[KLB_A_MAX + 1];

	parse_msg(nlh, tb);
	if (!attr_ok(tb[KLB_A_GENERATION], MNL_TYPE_U64))
		return -EBADMSG;
	note_generation(c, tb);
	return 0;
}

int klb_generation_get(struct klb_client *c, uint64_t *gen, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf,
					    KLB_CMD_GENERATION_GET, 0);
	int err = klb_request(c, nlh, generation_cb, c, e);

	if (err == -EBADMSG)
		nl_error_set(e, EBADMSG, "malformed reply from the kernel");
	if (!err)
		*gen = c->generation;
	return err;
}

int klb_generation_set(struct klb_client *c, uint64_t gen,
		       const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf,
					    KLB_CMD_GENERATION_SET, 0);

	mnl_attr_put_u64(nlh, KLB_A_GENERATION, gen);
	put_write(nlh, w);
	return klb_send_write(c, nlh, NULL, e);
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct klb_info *info = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	const struct nlattr *it[KLB_INFO_A_MAX + 1];

	parse_msg(nlh, tb);
	if (!attr_ok(tb[KLB_A_GENERATION], MNL_TYPE_U64) || !tb[KLB_A_INFO])
		return -EBADMSG;
	info->generation = mnl_attr_get_u64(tb[KLB_A_GENERATION]);
	parse_nested(tb[KLB_A_INFO], it, KLB_INFO_A_MAX);
#define U32(a, f) do { if (attr_ok(it[a], MNL_TYPE_U32)) info->f = mnl_attr_get_u32(it[a]); } while (0)
#define U64(a, f) do { if (attr_ok(it[a], MNL_TYPE_U64)) info->f = mnl_attr_get_u64(it[a]); } while (0)
	U32(KLB_INFO_A_MAX_SERVICES, max_services);
	U32(KLB_INFO_A_MAX_BACKENDS, max_backends);
	U32(KLB_INFO_A_MAX_TABLE_SIZE, max_table_size);
	U32(KLB_INFO_A_MAX_TXNS, max_txns);
	U32(KLB_INFO_A_SERVICES, services);
	U32(KLB_INFO_A_TXNS, txns);
	U64(KLB_INFO_A_SERVICE_LIMIT_HITS, service_limit_hits);
	U64(KLB_INFO_A_BACKEND_LIMIT_HITS, backend_limit_hits);
	U64(KLB_INFO_A_TABLE_LIMIT_HITS, table_limit_hits);
	U64(KLB_INFO_A_TXN_LIMIT_HITS, txn_limit_hits);
	U64(KLB_INFO_A_CHUNK_LIMIT_HITS, chunk_limit_hits);
	U32(KLB_INFO_A_SERVICE_FLAGS, service_flags);
	U32(KLB_INFO_A_TABLE_CHUNK_MAX, table_chunk_max);
	U32(KLB_INFO_A_MAX_FLOWS, max_flows);
	U32(KLB_INFO_A_FLOWS, flows);
	U64(KLB_INFO_A_FLOW_LIMIT_HITS, flow_limit_hits);
	U64(KLB_INFO_A_FLOW_EVICTIONS, flow_evictions);
	U32(KLB_INFO_A_FLOW_ENTRY_BYTES4, flow_entry_bytes4);
	U32(KLB_INFO_A_FLOW_ENTRY_BYTES6, flow_entry_bytes6);
	U32(KLB_INFO_A_BACKEND_BATCH_MAX, backend_batch_max);
	U64(KLB_INFO_A_BATCH_LIMIT_HITS, batch_limit_hits);
#undef U32
#undef U64
	return 0;
}

int klb_info_get(struct klb_client *c, struct klb_info *info, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_INFO_GET, 0);

	memset(info, 0, sizeof(*info));
	return klb_request(c, nlh, info_cb, info, e);
}

int klb_flush(struct klb_client *c, const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_FLUSH, 0);

	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

/* ---- services ------------------------------------------------------------- */

struct service_dump {
	struct klb_client *c;
	struct vec v;
};

static int service_cb(const struct nlmsghdr *nlh, void *data)
{
	struct service_dump *d = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	struct klb_service *svc;

	parse_msg(nlh, tb);
	note_generation(d->c, tb);
	svc = vec_push(&d->v);
	if (!svc)
		return -ENOMEM;
	if (parse_service(tb[KLB_A_SERVICE], svc))
		return -EBADMSG;
	return 0;
}

static int reply_error(int err, klb_error *e)
{
	if (err == -EBADMSG)
		return nl_error_set(e, EBADMSG, "malformed reply from the kernel");
	if (err == -ENOMEM)
		return nl_error_set(e, ENOMEM, "out of memory");
	return err;
}

int klb_service_list(struct klb_client *c, struct klb_service **svcs,
		     size_t *n, uint64_t *gen, klb_error *e)
{
	struct service_dump d = { .c = c, .v.size = sizeof(struct klb_service) };
	struct nlmsghdr *nlh;
	uint64_t before;
	int err;

	/* An empty dump carries no generation: ask for it first. */
	err = klb_generation_get(c, &before, e);
	if (err)
		return err;
	nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_SERVICE_GET, NLM_F_DUMP);
	err = reply_error(klb_request(c, nlh, service_cb, &d, e), e);
	if (err) {
		free(d.v.items);
		return err;
	}
	*svcs = d.v.items;
	*n = d.v.n;
	if (gen)
		*gen = c->generation;
	return 0;
}

int klb_service_get(struct klb_client *c, const struct klb_service_key *key,
		    struct klb_service *svc, klb_error *e)
{
	struct service_dump d = { .c = c, .v.size = sizeof(struct klb_service) };
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_SERVICE_GET, 0);
	int err;

	put_service(nlh, key, NULL);
	err = reply_error(klb_request(c, nlh, service_cb, &d, e), e);
	if (!err && d.v.n != 1)
		err = nl_error_set(e, EBADMSG, "malformed reply from the kernel");
	if (!err)
		*svc = *(struct klb_service *)d.v.items;
	free(d.v.items);
	return err;
}

int klb_service_new(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_service_conf *conf,
		    const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = write_start(c, KLB_CMD_SERVICE_NEW, w);

	put_service(nlh, key, conf);
	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

int klb_service_set(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_service_conf *conf,
		    const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = write_start(c, KLB_CMD_SERVICE_SET, w);

	put_service(nlh, key, conf);
	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

int klb_service_del(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = write_start(c, KLB_CMD_SERVICE_DEL, w);

	put_service(nlh, key, NULL);
	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

/* ---- backends ------------------------------------------------------------- */

struct backend_dump {
	struct klb_client *c;
	struct vec v;
	uint64_t version;
};

static int backend_cb(const struct nlmsghdr *nlh, void *data)
{
	struct backend_dump *d = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	struct klb_service svc;
	struct klb_backend *be;

	parse_msg(nlh, tb);
	note_generation(d->c, tb);
	if (!parse_service(tb[KLB_A_SERVICE], &svc))
		d->version = svc.version;
	be = vec_push(&d->v);
	if (!be)
		return -ENOMEM;
	if (parse_backend(tb[KLB_A_BACKEND], be))
		return -EBADMSG;
	return 0;
}

int klb_backend_list(struct klb_client *c, const struct klb_service_key *key,
		     struct klb_backend **bes, size_t *n, uint64_t *version,
		     klb_error *e)
{
	struct backend_dump d = { .c = c, .v.size = sizeof(struct klb_backend) };
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_BACKEND_GET,
					    NLM_F_DUMP);
	int err;

	put_service(nlh, key, NULL);
	err = reply_error(klb_request(c, nlh, backend_cb, &d, e), e);
	if (err == -ENOENT && e && !e->msg[0])
		nl_error_set(e, ENOENT, "no such service");
	if (err) {
		free(d.v.items);
		return err;
	}
	*bes = d.v.items;
	*n = d.v.n;
	if (version)
		*version = d.version;
	return 0;
}

static int backend_write(struct klb_client *c, uint8_t cmd,
			 const struct klb_service_key *key,
			 const struct klb_backend *be, bool keys_only,
			 const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = write_start(c, cmd, w);

	put_service(nlh, key, NULL);
	put_backend(nlh, be, keys_only);
	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

int klb_backend_new(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e)
{
	return backend_write(c, KLB_CMD_BACKEND_NEW, key, be, false, w, e);
}

/* One backend nest at its largest (IPv6, every setting). */
#define KLB_BACKEND_NEST_MAX	64

/*
 * How many backends one BACKEND_NEW may carry: what the kernel says (a
 * kernel that does not say takes one: it would keep only the last of
 * several), within the request buffer.
 */
static int backend_batch_max(struct klb_client *c, klb_error *e)
{
	struct klb_info info;
	uint32_t room = (KLB_REQ_SIZE - 4096) / KLB_BACKEND_NEST_MAX;
	int err;

	if (c->backend_batch_max)
		return 0;
	err = klb_info_get(c, &info, e);
	if (err)
		return err;
	c->backend_batch_max = info.backend_batch_max ? info.backend_batch_max : 1;
	if (c->backend_batch_max > room)
		c->backend_batch_max = room;
	return 0;
}

int klb_backends_new(struct klb_client *c, const struct klb_service_key *key,
		     const struct klb_backend *const *bes, size_t n,
		     const struct klb_write *w, klb_error *e)
{
	size_t i = 0, end;
	int err;

	if (!w)
		w = &klb_write_none;
	err = backend_batch_max(c, e);
	if (err)
		return err;
	if (!w->txn && n > c->backend_batch_max)
		return nl_error_set(e, EMSGSIZE,
				    "more than %u new backends need a transaction",
				    c->backend_batch_max);
	while (i < n) {
		struct nlmsghdr *nlh = write_start(c, KLB_CMD_BACKEND_NEW, w);

		end = n - i > c->backend_batch_max ? i + c->backend_batch_max : n;
		put_service(nlh, key, NULL);
		for (; i < end; i++)
			put_backend(nlh, bes[i], false);
		put_write(nlh, w);
		err = klb_send_write(c, nlh, w, e);
		if (err)
			return err;
	}
	return 0;
}

int klb_backend_set(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e)
{
	return backend_write(c, KLB_CMD_BACKEND_SET, key, be, false, w, e);
}

int klb_backend_del(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e)
{
	return backend_write(c, KLB_CMD_BACKEND_DEL, key, be, true, w, e);
}

/* ---- tables --------------------------------------------------------------- */

struct table_dump {
	struct klb_client *c;
	struct klb_table *t;
	uint32_t filled;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_dump *d = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	const struct nlattr *tt[KLB_TBL_A_MAX + 1];
	struct klb_service svc;
	uint32_t size, offset, count;
	uint16_t len;

	parse_msg(nlh, tb);
	note_generation(d->c, tb);
	if (!tb[KLB_A_TABLE])
		return -EBADMSG;
	if (!parse_service(tb[KLB_A_SERVICE], &svc))
		d->t->version = svc.version;
	parse_nested(tb[KLB_A_TABLE], tt, KLB_TBL_A_MAX);
	if (!attr_ok(tt[KLB_TBL_A_SIZE], MNL_TYPE_U32) ||
	    !attr_ok(tt[KLB_TBL_A_OFFSET], MNL_TYPE_U32) || !tt[KLB_TBL_A_ENTRIES])
		return -EBADMSG;
	size = mnl_attr_get_u32(tt[KLB_TBL_A_SIZE]);
	offset = mnl_attr_get_u32(tt[KLB_TBL_A_OFFSET]);
	len = mnl_attr_get_payload_len(tt[KLB_TBL_A_ENTRIES]);
	count = len / sizeof(uint16_t);
	if (!d->t->ids) {
		if (!size || size > KLB_TABLE_SIZE_LIMIT)
			return -EBADMSG;
		d->t->ids = malloc(size * sizeof(uint16_t));
		if (!d->t->ids)
			return -ENOMEM;
		d->t->size = size;
	}
	/* Chunks come in slot order from one snapshot. */
	if (size != d->t->size || offset != d->filled || count > size - offset ||
	    len % sizeof(uint16_t))
		return -EBADMSG;
	memcpy(d->t->ids + offset, mnl_attr_get_payload(tt[KLB_TBL_A_ENTRIES]), len);
	d->filled += count;
	return 0;
}

int klb_table_get(struct klb_client *c, const struct klb_service_key *key,
		  struct klb_table *table, klb_error *e)
{
	struct table_dump d = { .c = c, .t = table };
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_TABLE_GET,
					    NLM_F_DUMP);
	int err;

	memset(table, 0, sizeof(*table));
	put_service(nlh, key, NULL);
	err = reply_error(klb_request(c, nlh, table_cb, &d, e), e);
	if (err == -ENOENT && e && !e->msg[0]) {
		/* A dump's start gives no message: tell the two cases apart. */
		struct klb_service svc;
		klb_error ignored;

		nl_error_set(e, ENOENT, "%s",
			     klb_service_get(c, key, &svc, &ignored) == -ENOENT ?
			     "no such service" : "the service has no table");
	}
	if (!err && d.filled != table->size)
		err = nl_error_set(e, EBADMSG, "incomplete table from the kernel");
	if (err) {
		free(table->ids);
		memset(table, 0, sizeof(*table));
	}
	return err;
}

int klb_table_set(struct klb_client *c, const struct klb_service_key *key,
		  const uint16_t *ids, uint32_t size, const struct klb_write *w,
		  klb_error *e)
{
	uint32_t offset = 0;
	int err;

	if (!w)
		w = &klb_write_none;
	if (!w->txn && size > KLB_TABLE_CHUNK_MAX)
		return nl_error_set(e, EMSGSIZE,
				    "a table of more than %u entries needs a transaction",
				    KLB_TABLE_CHUNK_MAX);
	do {
		uint32_t n = size - offset;
		struct nlmsghdr *nlh;
		struct nlattr *nest;

		if (n > KLB_TABLE_CHUNK_MAX)
			n = KLB_TABLE_CHUNK_MAX;
		nlh = write_start(c, KLB_CMD_TABLE_SET, w);
		put_service(nlh, key, NULL);
		nest = mnl_attr_nest_start(nlh, KLB_A_TABLE);
		mnl_attr_put_u32(nlh, KLB_TBL_A_SIZE, size);
		mnl_attr_put_u32(nlh, KLB_TBL_A_OFFSET, offset);
		mnl_attr_put(nlh, KLB_TBL_A_ENTRIES, n * sizeof(uint16_t),
			     ids + offset);
		mnl_attr_nest_end(nlh, nest);
		put_write(nlh, w);
		err = klb_send_write(c, nlh, w, e);
		if (err)
			return err;
		offset += n;
	} while (offset < size);
	return 0;
}

int klb_table_del(struct klb_client *c, const struct klb_service_key *key,
		  const struct klb_write *w, klb_error *e)
{
	struct nlmsghdr *nlh = write_start(c, KLB_CMD_TABLE_DEL, w);

	put_service(nlh, key, NULL);
	put_write(nlh, w);
	return klb_send_write(c, nlh, w, e);
}

/* ---- transactions --------------------------------------------------------- */

static int txn_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLB_A_MAX + 1];

	parse_msg(nlh, tb);
	if (!attr_ok(tb[KLB_A_TXN], MNL_TYPE_U32))
		return -EBADMSG;
	*(uint32_t *)data = mnl_attr_get_u32(tb[KLB_A_TXN]);
	return 0;
}

int klb_txn_begin(struct klb_client *c, const struct klb_service_key *key,
		  uint32_t *txn, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_TXN_BEGIN, 0);

	*txn = 0;
	put_service(nlh, key, NULL);
	return reply_error(klb_request(c, nlh, txn_cb, txn, e), e);
}

int klb_txn_commit(struct klb_client *c, const struct klb_write *w,
		   klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_TXN_COMMIT, 0);
	int err;

	mnl_attr_put_u32(nlh, KLB_A_TXN, w->txn);
	if (w->check_generation)
		mnl_attr_put_u64(nlh, KLB_A_GENERATION_EXPECT,
				 w->expect_generation);
	err = klb_request(c, nlh, NULL, NULL, e);
	if (!err && w->check_generation)
		c->generation = w->expect_generation + 1;
	return err;
}

int klb_txn_abort(struct klb_client *c, uint32_t txn, klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_TXN_ABORT, 0);

	mnl_attr_put_u32(nlh, KLB_A_TXN, txn);
	return klb_request(c, nlh, NULL, NULL, e);
}

/* ---- counters and flows ------------------------------------------------ */

struct stats_dump {
	struct klb_client *c;
	klb_stats_cb cb;
	void *data;
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stats_dump *d = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	const struct nlattr *st[KLB_STATS_A_MAX + 1];
	struct klb_service svc;
	struct klb_stats_rec r;
	int i;

	memset(&r, 0, sizeof(r));
	parse_msg(nlh, tb);
	if (parse_service(tb[KLB_A_SERVICE], &svc) || !tb[KLB_A_STATS])
		return -EBADMSG;
	r.key = svc.key;
	if (tb[KLB_A_BACKEND]) {
		if (parse_backend(tb[KLB_A_BACKEND], &r.backend))
			return -EBADMSG;
		r.has_backend = true;
	}
	parse_nested(tb[KLB_A_STATS], st, KLB_STATS_A_MAX);
	for (i = KLB_STATS_A_PKTS_IN; i <= KLB_STATS_A_MAX; i++)
		if (attr_ok(st[i], MNL_TYPE_U64))
			r.ctr[i] = mnl_attr_get_u64(st[i]);
	return d->cb(&r, d->data);
}

int klb_stats_dump(struct klb_client *c, const struct klb_service_key *key,
		   klb_stats_cb cb, void *data, klb_error *e)
{
	struct stats_dump d = { .c = c, .cb = cb, .data = data };
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_STATS_GET,
					    NLM_F_DUMP);

	if (key)
		put_service(nlh, key, NULL);
	return reply_error(klb_request(c, nlh, stats_cb, &d, e), e);
}

struct flow_dump {
	klb_flow_cb cb;
	void *data;
};

static int flow_cb(const struct nlmsghdr *nlh, void *data)
{
	struct flow_dump *d = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	const struct nlattr *ft[KLB_FLOW_A_MAX + 1];
	struct klb_service svc;
	struct klb_flow_rec r;

	memset(&r, 0, sizeof(r));
	parse_msg(nlh, tb);
	if (parse_service(tb[KLB_A_SERVICE], &svc) ||
	    parse_backend(tb[KLB_A_BACKEND], &r.backend) || !tb[KLB_A_FLOW])
		return -EBADMSG;
	r.key = svc.key;
	parse_nested(tb[KLB_A_FLOW], ft, KLB_FLOW_A_MAX);
	if (attr_endpoint(ft[KLB_FLOW_A_FAMILY], ft[KLB_FLOW_A_CLIENT_ADDR],
			   ft[KLB_FLOW_A_CLIENT_PORT], &r.client) ||
	    !attr_ok(ft[KLB_FLOW_A_STATE], MNL_TYPE_U8) ||
	    !attr_ok(ft[KLB_FLOW_A_EXPIRES_MS], MNL_TYPE_U32))
		return -EBADMSG;
	r.state = mnl_attr_get_u8(ft[KLB_FLOW_A_STATE]);
	r.expires_ms = mnl_attr_get_u32(ft[KLB_FLOW_A_EXPIRES_MS]);
	return d->cb(&r, d->data);
}

int klb_flow_dump(struct klb_client *c, const struct klb_service_key *key,
		  klb_flow_cb cb, void *data, klb_error *e)
{
	struct flow_dump d = { .cb = cb, .data = data };
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_FLOW_GET,
					    NLM_F_DUMP);

	if (key)
		put_service(nlh, key, NULL);
	return reply_error(klb_request(c, nlh, flow_cb, &d, e), e);
}

int klb_flow_flush(struct klb_client *c, const struct klb_service_key *key,
		   klb_error *e)
{
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, c->buf, KLB_CMD_FLOW_FLUSH,
					    0);

	if (key)
		put_service(nlh, key, NULL);
	return klb_request(c, nlh, NULL, NULL, e);
}

/* ---- events --------------------------------------------------------------- */

int klb_events_subscribe(struct klb_client *c, klb_error *e)
{
	return nl_join_group(&c->nl, KLB_GENL_NAME, KLB_MCGRP_EVENTS, e);
}

struct event_ctx {
	klb_event_cb cb;
	void *data;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct event_ctx *ctx = data;
	const struct nlattr *tb[KLB_A_MAX + 1];
	struct klb_event ev = { .cmd = nl_msg_cmd(nlh) };
	struct klb_service svc;

	parse_msg(nlh, tb);
	if (attr_ok(tb[KLB_A_GENERATION], MNL_TYPE_U64))
		ev.generation = mnl_attr_get_u64(tb[KLB_A_GENERATION]);
	if (tb[KLB_A_SERVICE] && !parse_service(tb[KLB_A_SERVICE], &svc)) {
		ev.has_service = true;
		ev.service = svc.key;
		ev.version = svc.version;
	}
	if (tb[KLB_A_BACKEND] && !parse_backend(tb[KLB_A_BACKEND], &ev.backend))
		ev.has_backend = true;
	return ctx->cb(&ev, ctx->data);
}

int klb_events_read(struct klb_client *c, klb_event_cb cb, void *data,
		    klb_error *e)
{
	struct event_ctx ctx = { .cb = cb, .data = data };

	return nl_recv_events(&c->nl, event_cb, &ctx, e);
}
