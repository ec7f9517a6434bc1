// SPDX-License-Identifier: GPL-2.0
/*
 * The structure-aware part of the fuzzer. Every request starts from the
 * spec's tables (klb_spec.h): the operation's own attributes, each nest
 * filled from its attribute set. Values are valid most of the time, so
 * that requests reach the code behind the policies, and otherwise at or
 * past the attribute's boundaries, of the wrong length or the wrong kind.
 * Keys come from a small fixed set, so that requests from every worker
 * name the same services and backends and collide on them.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "klb_spec.h"
#include "msg.h"

#define NLF_DEPTH_MAX		12	/* deeper than any policy the kernel walks */
/* Room that attributes leave for a header and a mutation's trailing bytes. */
#define NLF_MSG_SLACK		64

struct nlf_gen {
	struct nlf_rng *r;
	const struct nlf_pool *pool;
	struct nlf_msg *m;
	unsigned int key;		/* the service this request is about */
	bool valid;			/* keep values within the spec */
};

static int set_service = -1, set_backend = -1, set_table = -1;

static int set_find(const char *name)
{
	int i;

	for (i = 0; i < NLF_NR_SETS; i++)
		if (!strcmp(nlf_sets[i].name, name))
			return i;
	return -1;
}

void nlf_msg_init(void)
{
	set_service = set_find("service");
	set_backend = set_find("backend");
	set_table = set_find("table");
}

const struct nlf_op *nlf_op_find(uint8_t cmd)
{
	int i;

	for (i = 0; i < NLF_NR_OPS; i++)
		if (nlf_ops[i].cmd == cmd)
			return &nlf_ops[i];
	return NULL;
}

/* ---- bytes --------------------------------------------------------- */

/* Appends an attribute; NULL when the buffer is full (the tree just ends). */
static struct nlattr *put(struct nlf_gen *g, uint16_t type, const void *data,
			  size_t len)
{
	struct nlf_msg *m = g->m;
	size_t total = NLA_HDRLEN + len;
	struct nlattr *a;

	if (len > 0xffff - NLA_HDRLEN ||
	    m->len + NLA_ALIGN(total) > NLF_MSG_MAX - NLF_MSG_SLACK)
		return NULL;
	a = (struct nlattr *)(m->buf + m->len);
	a->nla_type = type;
	a->nla_len = total;
	if (len)
		memcpy(a + 1, data, len);
	memset((uint8_t *)a + total, 0, NLA_ALIGN(total) - total);
	m->len += NLA_ALIGN(total);
	return a;
}

static size_t nest_start(struct nlf_gen *g, uint16_t type)
{
	size_t off = g->m->len;

	return put(g, type, NULL, 0) ? off : (size_t)-1;
}

/* A nest of more than 64 KiB cannot be said: its length wraps (a lie). */
static void nest_end(struct nlf_gen *g, size_t off)
{
	struct nlattr *a;

	if (off == (size_t)-1)
		return;
	a = (struct nlattr *)(g->m->buf + off);
	a->nla_len = (uint16_t)(g->m->len - off);
}

static void put_uint(struct nlf_gen *g, uint16_t type, uint64_t v, size_t size,
		     bool be)
{
	uint8_t b[8] = { 0 };
	uint16_t v16 = be ? htons((uint16_t)v) : (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (size) {
	case 1:
		b[0] = (uint8_t)v;
		break;
	case 2:
		memcpy(b, &v16, 2);
		break;
	case 4:
		memcpy(b, &v32, 4);
		break;
	default:
		memcpy(b, &v, 8);
		size = 8;
	}
	put(g, type, b, size);
}

/* ---- the services and backends requests name ------------------------- */

static uint8_t key_proto(unsigned int key)
{
	return key % 2 ? IPPROTO_UDP : IPPROTO_TCP;
}

static uint16_t key_family(unsigned int key)
{
	return key % 3 == 2 ? AF_INET6 : AF_INET;
}

static uint16_t key_port(unsigned int key)
{
	return key % 2 ? 53 : 80;
}

/* 192.0.2.x for services, 198.51.100.x for backends, 2001:db8:: for v6. */
static size_t addr_of(uint16_t family, bool backend, unsigned int n,
		      uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = backend ? 198 : 192;
		a[1] = backend ? 51 : 0;
		a[2] = backend ? 100 : 2;
		a[3] = (uint8_t)(n + 1);
		return 4;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[5] = backend ? 2 : 1;
	a[15] = (uint8_t)(n + 1);
	return 16;
}

/* ---- values ------------------------------------------------------------ */

static uint64_t type_max(const struct nlf_attr *a)
{
	return a->size >= 8 ? UINT64_MAX : (1ULL << (8 * a->size)) - 1;
}

/* At and around the edges of what the attribute takes. */
static uint64_t boundary_value(struct nlf_gen *g, const struct nlf_attr *a)
{
	uint64_t lo = a->has_min ? a->min : 0;
	uint64_t hi = a->has_max ? a->max : type_max(a);
	uint64_t v[] = { 0, 1, lo - 1, lo, hi, hi + 1, type_max(a),
			 type_max(a) - 1, 1ULL << (8 * (a->size ?: 1) - 1),
			 a->flags_mask + 1, ~(uint64_t)a->flags_mask,
			 nlf_rand(g->r) };

	return v[nlf_below(g->r, sizeof(v) / sizeof(v[0]))] & type_max(a);
}

/* What makes sense for this attribute, the key's values where it names one. */
static uint64_t valid_value(struct nlf_gen *g, int set,
			    const struct nlf_attr *a)
{
	static const uint32_t sizes[] = { 7, 11, 13, 16381, 1048573 };

	if (set == set_service || set == set_backend) {
		switch (a->type) {
		case KLB_SVC_A_PROTO:	/* == KLB_BE_A_ID */
			if (set == set_backend)
				return nlf_below(g->r, NLF_NR_IDS);
			return key_proto(g->key);
		case KLB_SVC_A_FAMILY:	/* == KLB_BE_A_FAMILY */
			return key_family(g->key);
		case KLB_SVC_A_PORT:	/* == KLB_BE_A_PORT */
			return set == set_backend ? 8080 : key_port(g->key);
		}
	}
	if (set == set_service && a->type == KLB_SVC_A_TABLE_SIZE)
		return nlf_one_in(g->r, 4) ? sizes[nlf_below(g->r, 5)] : 7;
	if (set == set_backend && a->type == KLB_BE_A_WEIGHT)
		return nlf_below(g->r, 4);
	if (set == set_table && a->type == KLB_TBL_A_SIZE)
		return nlf_one_in(g->r, 8) ? sizes[nlf_below(g->r, 5)] : 7;
	if (set == set_table && a->type == KLB_TBL_A_OFFSET)
		return nlf_one_in(g->r, 4) ? nlf_below(g->r, 8) : 0;
	if (a->flags_mask)
		return nlf_rand(g->r) & a->flags_mask;
	if (a->has_max)
		return (a->has_min ? a->min : 0) +
		       nlf_below(g->r, a->max - (a->has_min ? a->min : 0) + 1);
	return nlf_below(g->r, 64);
}

static void gen_scalar(struct nlf_gen *g, int set, const struct nlf_attr *a,
		       uint16_t type)
{
	static const size_t wrong[] = { 0, 1, 2, 3, 4, 5, 8, 16 };
	size_t size = a->size;
	uint64_t v;

	if (g->valid || nlf_pct(g->r, 70))
		v = valid_value(g, set, a);
	else
		v = boundary_value(g, a);
	if (!g->valid && nlf_one_in(g->r, 12)) {
		uint8_t b[16];
		size_t i, n = wrong[nlf_below(g->r, 8)];

		for (i = 0; i < n; i++)
			b[i] = (uint8_t)(v >> (8 * (i % 8)));
		put(g, type, b, n);
		return;
	}
	put_uint(g, type, v, size, a->big_endian);
}

/* Table entries: ids of the pool's backends, empty slots, strangers. */
static void gen_entries(struct nlf_gen *g, uint16_t type)
{
	static const uint32_t counts[] = { 0, 1, 6, 7, 8, 13, 32000, 32001,
					   32765 };
	static __thread uint16_t e[32766];	/* per worker thread */
	uint32_t n = 7, i;
	size_t bytes;

	if (!g->valid && nlf_pct(g->r, 30))
		n = counts[nlf_below(g->r, 9)];
	for (i = 0; i < n; i++) {
		if (g->valid || nlf_pct(g->r, 90))
			e[i] = nlf_below(g->r, 4);
		else
			e[i] = nlf_one_in(g->r, 2) ? KLB_BACKEND_ID_NONE :
			       (uint16_t)nlf_rand(g->r);
	}
	bytes = n * 2;
	if (!g->valid && bytes && nlf_one_in(g->r, 10))
		bytes--;		/* half an entry */
	put(g, type, e, bytes);
}

static void gen_binary(struct nlf_gen *g, int set, const struct nlf_attr *a,
		       uint16_t type)
{
	static const size_t lens[] = { 0, 1, 3, 4, 5, 15, 16, 17, 32, 255,
				       4096 };
	static __thread uint8_t b[4096];
	size_t len, i;

	if (a->u16_array) {
		gen_entries(g, type);
		return;
	}
	if (set == set_service && a->type == KLB_SVC_A_SEED)
		len = KLB_SEED_LEN;
	else if (set == set_backend)
		len = addr_of(key_family(g->key), true, nlf_below(g->r, NLF_NR_IDS), b);
	else
		len = addr_of(key_family(g->key), false, g->key, b);
	if (set == set_service && a->type == KLB_SVC_A_SEED)
		for (i = 0; i < len; i++)
			b[i] = (uint8_t)nlf_rand(g->r);
	if (!g->valid && nlf_pct(g->r, 25)) {
		len = lens[nlf_below(g->r, sizeof(lens) / sizeof(lens[0]))];
		for (i = 0; i < len; i++)
			b[i] = (uint8_t)nlf_rand(g->r);
	}
	put(g, type, b, len);
}

/* ---- trees ------------------------------------------------------------ */

static void gen_set(struct nlf_gen *g, int set, unsigned int depth);

/* Attributes nobody defined, of any shape. */
static void gen_stranger(struct nlf_gen *g, int set, unsigned int depth)
{
	uint16_t max = nlf_sets[set].max;
	uint16_t types[] = { 0, max + 1, max + 2, (uint16_t)(max + 100), 0x3fff,
			     (uint16_t)nlf_below(g->r, max + 4) };
	uint16_t type = types[nlf_below(g->r, 6)];
	uint8_t b[64];
	size_t len = nlf_below(g->r, sizeof(b) + 1), i, off;

	if (nlf_one_in(g->r, 8))
		type |= NLA_F_NESTED;
	if (nlf_one_in(g->r, 16))
		type |= NLA_F_NET_BYTEORDER;
	if (depth < NLF_DEPTH_MAX && nlf_one_in(g->r, 4)) {
		off = nest_start(g, type | NLA_F_NESTED);
		gen_set(g, nlf_below(g->r, NLF_NR_SETS), depth + 1);
		nest_end(g, off);
		return;
	}
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)nlf_rand(g->r);
	put(g, type, b, len);
}

static void gen_attr(struct nlf_gen *g, int set, const struct nlf_attr *a,
		     unsigned int depth)
{
	uint16_t type = a->type;
	enum nlf_kind kind = a->kind;
	size_t off;

	if (!g->valid) {
		/* NLA_F_NESTED where it does not belong, or missing. */
		if (kind != NLF_NEST && nlf_one_in(g->r, 30))
			type |= NLA_F_NESTED;
		if (nlf_one_in(g->r, 50))
			type |= NLA_F_NET_BYTEORDER;
		/* Another kind under the right type. */
		if (nlf_one_in(g->r, 25))
			kind = (enum nlf_kind)nlf_below(g->r, NLF_FLAG + 1);
	}
	switch (kind) {
	case NLF_NEST:
		if (g->valid || !nlf_one_in(g->r, 15))
			type |= NLA_F_NESTED;
		off = nest_start(g, type);
		if (depth < NLF_DEPTH_MAX)
			gen_set(g, a->kind == NLF_NEST ? a->nested :
				nlf_below(g->r, NLF_NR_SETS), depth + 1);
		nest_end(g, off);
		break;
	case NLF_U8:
	case NLF_U16:
	case NLF_U32:
	case NLF_U64:
		if (a->size)
			gen_scalar(g, set, a, type);
		else
			put_uint(g, type, nlf_rand(g->r), 4, false);
		break;
	case NLF_PAD:
		put(g, type, "\0\0\0\0\0\0\0", nlf_below(g->r, 9));
		break;
	default:
		gen_binary(g, set, a, type);
		break;
	}
}

/* Would a well-behaved client put this attribute of @set in a request? */
static bool settable(int set, const struct nlf_attr *a)
{
	if (set == set_service)
		return a->type <= KLB_SVC_A_FLAGS;
	return set == set_backend || set == set_table;
}

/* The keys first (most requests name an object), then settings. */
static void gen_set(struct nlf_gen *g, int set, unsigned int depth)
{
	const struct nlf_set *s = &nlf_sets[set];
	unsigned int i, n;

	for (i = 0; i < s->nr_attrs; i++) {
		const struct nlf_attr *a = &s->attrs[i];
		bool key = (set == set_service || set == set_backend) &&
			   a->type <= KLB_SVC_A_PORT;
		unsigned int pct = key ? 92 : settable(set, a) ? 20 : 3;

		if (set == set_table)
			pct = 90;
		if (g->valid && !settable(set, a))
			continue;
		if (!nlf_pct(g->r, pct))
			continue;
		gen_attr(g, set, a, depth);
		/* The same attribute twice: the last one counts, or not. */
		if (!g->valid && nlf_one_in(g->r, 40))
			gen_attr(g, set, a, depth);
	}
	if (g->valid)
		return;
	n = nlf_one_in(g->r, 6) ? 1 + nlf_below(g->r, 3) : 0;
	while (n--)
		gen_stranger(g, set, depth);
}

/* One attribute, many times: a huge count in a small tree. */
static void gen_flood(struct nlf_gen *g, const struct nlf_op *op)
{
	static const unsigned int counts[] = { 64, 1000, 5000, 20000 };
	unsigned int n = counts[nlf_below(g->r, 4)], i;
	const struct nlf_set *top = &nlf_sets[NLF_TOP_SET];
	const struct nlf_attr *a = &top->attrs[nlf_below(g->r, top->nr_attrs)];
	size_t before;

	for (i = 0; i < n; i++) {
		before = g->m->len;
		gen_attr(g, NLF_TOP_SET, a, 1);
		if (g->m->len == before)
			break;		/* full */
	}
}

/* Nests in nests, deeper than any policy. */
static void gen_deep(struct nlf_gen *g)
{
	unsigned int depth = 8 + nlf_below(g->r, 200), i;
	size_t offs[256];

	for (i = 0; i < depth; i++) {
		offs[i] = nest_start(g, (nlf_one_in(g->r, 2) ? KLB_A_SERVICE :
				     1 + nlf_below(g->r, 4)) | NLA_F_NESTED);
	}
	if (nlf_one_in(g->r, 2))
		put_uint(g, KLB_SVC_A_PROTO, IPPROTO_TCP, 1, false);
	while (i--)
		nest_end(g, offs[i]);
}

/* ---- messages ---------------------------------------------------------- */

static const struct nlf_op *pick_op(struct nlf_gen *g, uint8_t *cmd)
{
	if (nlf_one_in(g->r, 40)) {
		*cmd = nlf_one_in(g->r, 2) ? 0 : (uint8_t)nlf_rand(g->r);
		return nlf_op_find(*cmd);
	}
	*cmd = nlf_ops[nlf_below(g->r, NLF_NR_OPS)].cmd;
	return nlf_op_find(*cmd);
}

static struct nlmsghdr *msg_start(struct nlf_gen *g, uint16_t family,
				  uint32_t seq, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(g->m->buf + g->m->len);
	struct genlmsghdr *genl = (struct genlmsghdr *)(nlh + 1);

	memset(nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	genl->cmd = cmd;
	genl->version = KLB_GENL_VERSION;
	g->m->len += NLMSG_HDRLEN + GENL_HDRLEN;
	return nlh;
}

static void msg_end(struct nlf_gen *g, struct nlmsghdr *nlh)
{
	nlh->nlmsg_len = (uint32_t)(g->m->buf + g->m->len - (uint8_t *)nlh);
}

/*
 * More of a multi-attr attribute: a few, or now and then the batch limit's
 * worth (KLB_BACKEND_BATCH_MAX in all, or one more), so that a request's
 * all-or-none path and its limit meet everything else the fuzzer sends.
 */
static void gen_repeats(struct nlf_gen *g, const struct nlf_attr *a)
{
	unsigned int more = nlf_one_in(g->r, 50) ?
			    KLB_BACKEND_BATCH_MAX - 1 + nlf_below(g->r, 2) :
			    1 + nlf_below(g->r, 15);

	while (more--)
		gen_attr(g, NLF_TOP_SET, a, 1);
}

/* The allowed top-level attributes of the request, and the rest. */
static void gen_request(struct nlf_gen *g, const struct nlf_op *op, bool dump)
{
	const uint16_t *allowed = op ? (dump ? op->dump_attrs : op->do_attrs) :
					NULL;
	unsigned int nr = op ? (dump ? op->nr_dump : op->nr_do) : 0, i, j;
	const struct nlf_set *top = &nlf_sets[NLF_TOP_SET];

	for (i = 0; i < top->nr_attrs; i++) {
		const struct nlf_attr *a = &top->attrs[i];
		bool ok = false;
		unsigned int pct;

		for (j = 0; j < nr; j++)
			ok |= allowed[j] == a->type;
		if (ok)
			pct = a->type == KLB_A_SERVICE || a->type == KLB_A_BACKEND ||
			      a->type == KLB_A_TABLE ? 90 :
			      a->type == KLB_A_TXN ? 30 : 10;
		else
			pct = g->valid ? 0 : 3;
		if (!nlf_pct(g->r, pct))
			continue;
		if (a->type == KLB_A_TXN && g->pool->nr_txns && nlf_pct(g->r, 80)) {
			put_uint(g, KLB_A_TXN, g->pool->txns[nlf_below(g->r,
				 g->pool->nr_txns)].id, 4, false);
			continue;
		}
		gen_attr(g, NLF_TOP_SET, a, 1);
		if (a->multi && nlf_one_in(g->r, 4))
			gen_repeats(g, a);
	}
	if (!g->valid && nlf_one_in(g->r, 10))
		gen_stranger(g, NLF_TOP_SET, 1);
}

static uint16_t pick_flags(struct nlf_gen *g, const struct nlf_op *op,
			   bool *dump)
{
	static const uint16_t odd[] = { NLM_F_ECHO, NLM_F_ROOT, NLM_F_MATCH,
					NLM_F_ATOMIC, NLM_F_CREATE, NLM_F_EXCL,
					NLM_F_REPLACE, NLM_F_APPEND, 0x8000 };
	uint16_t flags;

	if (op && op->has_do && op->has_dump)
		*dump = nlf_one_in(g->r, 2);
	else
		*dump = op && op->has_dump;
	if (nlf_one_in(g->r, 30))
		*dump = !*dump;		/* the kind the command lacks */
	flags = *dump ? NLM_F_DUMP : NLM_F_ACK;
	if (!g->valid && nlf_one_in(g->r, 25))
		flags |= odd[nlf_below(g->r, sizeof(odd) / sizeof(odd[0]))];
	return flags;
}

static bool flags_refused(uint16_t flags)
{
	if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
		flags &= ~NLM_F_DUMP;
	return flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO);
}

/* Broken after the fact: cut short, trailing bytes, a length that lies. */
static void mutate(struct nlf_gen *g, struct nlmsghdr *nlh,
		   struct nlf_expect *e)
{
	size_t hdr = NLMSG_HDRLEN + GENL_HDRLEN, len = nlh->nlmsg_len, i, n;
	uint8_t *p = (uint8_t *)nlh;

	switch (nlf_below(g->r, 6)) {
	case 0:		/* cut inside the attributes */
		if (len > hdr)
			nlh->nlmsg_len = hdr + nlf_below(g->r, len - hdr);
		g->m->shape = "truncated";
		break;
	case 1:		/* cut inside the genetlink header */
		nlh->nlmsg_len = NLMSG_HDRLEN + nlf_below(g->r, GENL_HDRLEN);
		e->short_hdr = true;
		g->m->shape = "short genl header";
		break;
	case 2:		/* bytes after the last attribute, within the message */
		n = 1 + nlf_below(g->r, 7);
		for (i = 0; i < n; i++)
			p[len + i] = (uint8_t)nlf_rand(g->r);
		nlh->nlmsg_len += n;
		g->m->shape = "trailing bytes";
		break;
	case 3:		/* the first attribute's length lies */
		if (len >= hdr + NLA_HDRLEN) {
			struct nlattr *a = (struct nlattr *)(p + hdr);

			a->nla_len = nlf_one_in(g->r, 2) ? nlf_below(g->r, 8) :
				     (uint16_t)nlf_rand(g->r);
		}
		g->m->shape = "lying nla_len";
		break;
	case 4:		/* bits flipped in the attributes */
		n = 1 + nlf_below(g->r, 4);
		for (i = 0; i < n && len > hdr; i++)
			p[hdr + nlf_below(g->r, len - hdr)] ^= 1u << nlf_below(g->r, 8);
		g->m->shape = "bit flips";
		break;
	case 5:		/* the datagram is shorter than the message says */
		nlh->nlmsg_len += 4 + nlf_below(g->r, 64);
		g->m->silent = true;
		g->m->shape = "datagram short of nlmsg_len";
		break;
	}
	g->m->len = (uint8_t *)nlh + NLMSG_ALIGN(nlh->nlmsg_len) - g->m->buf;
	if (g->m->silent)
		g->m->len = (uint8_t *)nlh + len - g->m->buf;
}

static void build_one(struct nlf_gen *g, uint16_t family, uint32_t seq,
		      bool may_break)
{
	struct nlf_expect *e = &g->m->exp[g->m->nr++];
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	uint16_t flags;
	uint8_t cmd;
	bool dump;

	memset(e, 0, sizeof(*e));
	g->key = nlf_below(g->r, NLF_NR_KEYS);
	g->valid = nlf_pct(g->r, 45);
	e->op = pick_op(g, &cmd);
	flags = pick_flags(g, e->op, &dump);
	nlh = msg_start(g, family, seq, cmd, flags);
	genl = (struct genlmsghdr *)(nlh + 1);
	e->seq = seq;
	e->dump = dump;
	if (!g->valid && nlf_one_in(g->r, 40))
		genl->version = (uint8_t)nlf_rand(g->r);
	if (!g->valid && nlf_one_in(g->r, 60))
		genl->reserved = (uint16_t)(1 + nlf_below(g->r, 0xfffe));
	e->bad_hdr = genl->reserved || flags_refused(flags);

	switch (g->valid ? 0 : nlf_below(g->r, 40)) {
	case 0:
		gen_flood(g, e->op);
		g->m->shape = "flood";
		break;
	case 1:
		gen_deep(g);
		g->m->shape = "deep";
		break;
	default:
		gen_request(g, e->op, dump);
		g->m->shape = g->valid ? "valid" : "mixed";
		break;
	}
	if (g->valid && g->m->shape[0] == 'f')
		gen_request(g, e->op, dump), g->m->shape = "valid";
	msg_end(g, nlh);
	if (may_break && !g->valid && nlf_one_in(g->r, 6))
		mutate(g, nlh, e);
}

void nlf_msg_random(struct nlf_msg *m, struct nlf_rng *r,
		    const struct nlf_pool *pool, uint16_t family,
		    uint32_t *seq)
{
	struct nlf_gen g = { .r = r, .pool = pool, .m = m };
	unsigned int n = 1, i;

	m->len = 0;
	m->nr = 0;
	m->silent = false;
	if (nlf_one_in(r, 20))
		n = 2 + nlf_below(r, NLF_BATCH_MAX - 1);
	/* A batch fits one datagram: no next message after a big one. */
	for (i = 0; i < n && (!i || m->len < NLF_MSG_MAX / 2); i++)
		build_one(&g, family, (*seq)++, n == 1);
	if (m->nr > 1)
		m->shape = "batch";
	m->key = g.key;
}

void nlf_msg_dump(struct nlf_msg *m, struct nlf_rng *r, uint16_t family,
		  uint32_t *seq)
{
	static const struct nlf_pool none;
	struct nlf_gen g = { .r = r, .pool = &none, .m = m };
	const struct nlf_op *op;
	struct nlmsghdr *nlh;

	do
		op = &nlf_ops[nlf_below(r, NLF_NR_OPS)];
	while (!op->has_dump);
	m->len = 0;
	m->nr = 1;
	m->silent = false;
	m->shape = "dump";
	memset(&m->exp[0], 0, sizeof(m->exp[0]));
	m->exp[0].op = op;
	m->exp[0].dump = true;
	m->exp[0].seq = *seq;
	g.key = nlf_below(r, NLF_NR_KEYS);
	g.valid = nlf_pct(r, 80);
	nlh = msg_start(&g, family, (*seq)++, op->cmd, NLM_F_DUMP);
	gen_request(&g, op, true);
	msg_end(&g, nlh);
}

/* ---- valid transactions and set-up ---------------------------------- */

static void put_key(struct nlf_gen *g, unsigned int key)
{
	uint8_t a[16];
	size_t len = addr_of(key_family(key), false, key, a);

	put_uint(g, KLB_SVC_A_PROTO, key_proto(key), 1, false);
	put_uint(g, KLB_SVC_A_FAMILY, key_family(key), 2, false);
	put(g, KLB_SVC_A_ADDR, a, len);
	put_uint(g, KLB_SVC_A_PORT, key_port(key), 2, true);
}

static void put_backend(struct nlf_gen *g, unsigned int key, uint16_t id,
			bool with_id)
{
	size_t off = nest_start(g, KLB_A_BACKEND | NLA_F_NESTED);
	uint8_t a[16];
	size_t len = addr_of(key_family(key), true, id, a);

	if (with_id)
		put_uint(g, KLB_BE_A_ID, id, 2, false);
	put_uint(g, KLB_BE_A_FAMILY, key_family(key), 2, false);
	put(g, KLB_BE_A_ADDR, a, len);
	put_uint(g, KLB_BE_A_PORT, 8080, 2, true);
	nest_end(g, off);
}

static struct nlmsghdr *simple_start(struct nlf_gen *g, uint16_t family,
				     uint32_t *seq, uint8_t cmd)
{
	g->m->len = 0;
	g->m->nr = 1;
	g->m->silent = false;
	memset(&g->m->exp[0], 0, sizeof(g->m->exp[0]));
	g->m->exp[0].op = nlf_op_find(cmd);
	g->m->exp[0].seq = *seq;
	return msg_start(g, family, (*seq)++, cmd, NLM_F_ACK);
}

void nlf_msg_service(struct nlf_msg *m, uint16_t family, uint32_t *seq,
		     unsigned int key)
{
	struct nlf_gen g = { .m = m };
	struct nlmsghdr *nlh = simple_start(&g, family, seq, KLB_CMD_SERVICE_NEW);
	size_t off = nest_start(&g, KLB_A_SERVICE | NLA_F_NESTED);

	put_key(&g, key);
	put_uint(&g, KLB_SVC_A_TABLE_SIZE, 7, 4, false);
	nest_end(&g, off);
	msg_end(&g, nlh);
	m->shape = "set-up";
}

void nlf_msg_backend(struct nlf_msg *m, uint16_t family, uint32_t *seq,
		     unsigned int key, uint16_t id)
{
	struct nlf_gen g = { .m = m };
	struct nlmsghdr *nlh = simple_start(&g, family, seq, KLB_CMD_BACKEND_NEW);
	size_t off = nest_start(&g, KLB_A_SERVICE | NLA_F_NESTED);

	put_key(&g, key);
	nest_end(&g, off);
	put_backend(&g, key, id, true);
	msg_end(&g, nlh);
	m->shape = "set-up";
}

void nlf_msg_txn(struct nlf_msg *m, struct nlf_rng *r,
		 const struct nlf_pool *pool, uint16_t family, uint32_t *seq,
		 enum nlf_txn_action action)
{
	static const uint8_t stage_cmds[] = {
		KLB_CMD_BACKEND_NEW, KLB_CMD_BACKEND_DEL, KLB_CMD_BACKEND_SET,
		KLB_CMD_TABLE_SET, KLB_CMD_TABLE_SET, KLB_CMD_TABLE_DEL,
		KLB_CMD_SERVICE_SET,
	};
	struct nlf_gen g = { .r = r, .pool = pool, .m = m, .valid = true };
	unsigned int t = nlf_below(r, pool->nr_txns), key;
	struct nlmsghdr *nlh;
	uint8_t cmd;
	size_t off;

	if (!pool->nr_txns)
		action = NLF_TXN_BEGIN;
	key = action == NLF_TXN_BEGIN ? nlf_below(r, NLF_NR_KEYS) :
	      pool->txns[t].key;
	g.key = key;
	m->key = key;
	switch (action) {
	case NLF_TXN_BEGIN:
		cmd = KLB_CMD_TXN_BEGIN;
		break;
	case NLF_TXN_COMMIT:
		cmd = KLB_CMD_TXN_COMMIT;
		break;
	case NLF_TXN_ABORT:
		cmd = KLB_CMD_TXN_ABORT;
		break;
	default:
		cmd = stage_cmds[nlf_below(r, sizeof(stage_cmds))];
		break;
	}
	nlh = simple_start(&g, family, seq, cmd);
	m->shape = "txn";
	m->key = key;
	if (cmd != KLB_CMD_TXN_COMMIT && cmd != KLB_CMD_TXN_ABORT) {
		off = nest_start(&g, KLB_A_SERVICE | NLA_F_NESTED);
		put_key(&g, key);
		if (cmd == KLB_CMD_SERVICE_SET)
			put_uint(&g, KLB_SVC_A_BOUND, 100 + nlf_below(r, 901), 4,
				 false);
		nest_end(&g, off);
	}
	if (cmd == KLB_CMD_BACKEND_NEW || cmd == KLB_CMD_BACKEND_DEL ||
	    cmd == KLB_CMD_BACKEND_SET) {
		put_backend(&g, key, nlf_below(r, NLF_NR_IDS), true);
	} else if (cmd == KLB_CMD_TABLE_SET) {
		uint16_t e[7];
		uint32_t i, start = nlf_one_in(r, 3) ? 3 : 0;

		for (i = 0; i < 7; i++)
			e[i] = nlf_below(r, NLF_NR_IDS);
		off = nest_start(&g, KLB_A_TABLE | NLA_F_NESTED);
		put_uint(&g, KLB_TBL_A_SIZE, 7, 4, false);
		put_uint(&g, KLB_TBL_A_OFFSET, start, 4, false);
		put(&g, KLB_TBL_A_ENTRIES, e, (7 - start) * 2);
		nest_end(&g, off);
	}
	if (action != NLF_TXN_BEGIN)
		put_uint(&g, KLB_A_TXN, pool->txns[t].id, 4, false);
	msg_end(&g, nlh);
}
