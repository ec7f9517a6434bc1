// SPDX-License-Identifier: GPL-2.0
/*
 * The "klb" generic netlink family. The contract is in
 * include/uapi/linux/klb.h; this file parses, checks permissions and
 * limits, and turns requests into transactions on snapshots.
 */

#include <linux/capability.h>
#include <linux/in.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include <klb/maglev.h>

#include "klb.h"

static struct genl_family klb_family;

enum klb_mcgrp {
	KLB_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group klb_mcgrps[] = {
	[KLB_MCGRP_EVENTS_ID] = { .name = KLB_MCGRP_EVENTS },
};

/* Bounds past s16 need a range object: the inline policy fields are s16. */
static struct netlink_range_validation klb_weight_range = {
	.max = KLB_WEIGHT_MAX,
};

static struct netlink_range_validation klb_backend_id_range = {
	.max = KLB_BACKEND_ID_MAX,
};

/*
 * Every command has its own policy, down to the nests: the core's strict
 * validation refuses an attribute without an entry ("Unsupported
 * attribute"), so nothing a command does not use is silently ignored.
 * The key-only nests repeat the keys' entries of the full ones; the full
 * ones also split nests the core has already checked against a narrower
 * policy (every entry of a narrower policy equals the full one's).
 */
#define KLB_READ_ONLY "read only: the kernel reports it, requests cannot carry it"
#define KLB_NOT_STAGED "this command applies at once: it cannot be part of a transaction"

static const struct nla_policy klb_service_policy[KLB_SVC_A_MAX + 1] = {
	[KLB_SVC_A_PROTO] = { .type = NLA_U8 },
	[KLB_SVC_A_FAMILY] = { .type = NLA_U16 },
	[KLB_SVC_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[KLB_SVC_A_PORT] = { .type = NLA_BE16 },
	[KLB_SVC_A_SCHED] = NLA_POLICY_MAX(NLA_U8, KLB_SCHED_MAX),
	[KLB_SVC_A_FWD] = NLA_POLICY_MAX(NLA_U8, KLB_FWD_MAX),
	[KLB_SVC_A_TABLE_SIZE] = { .type = NLA_U32 },
	[KLB_SVC_A_BOUND] = NLA_POLICY_RANGE(NLA_U32, KLB_BOUND_MIN, KLB_BOUND_MAX),
	[KLB_SVC_A_SEED] = { .type = NLA_BINARY, .len = KLB_SEED_LEN },
	[KLB_SVC_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, KLB_SVC_F_ALL),
	[KLB_SVC_A_VERSION] = { .type = NLA_REJECT, .reject_message = KLB_READ_ONLY },
	[KLB_SVC_A_BACKENDS] = { .type = NLA_REJECT, .reject_message = KLB_READ_ONLY },
	[KLB_SVC_A_TABLE_LOADED] = { .type = NLA_REJECT, .reject_message = KLB_READ_ONLY },
	[KLB_SVC_A_PAD] = { .type = NLA_REJECT, .reject_message = KLB_READ_ONLY },
};

static const struct nla_policy klb_service_key_policy[KLB_SVC_A_MAX + 1] = {
	[KLB_SVC_A_PROTO] = { .type = NLA_U8 },
	[KLB_SVC_A_FAMILY] = { .type = NLA_U16 },
	[KLB_SVC_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[KLB_SVC_A_PORT] = { .type = NLA_BE16 },
};

static const struct nla_policy klb_backend_policy[KLB_BE_A_MAX + 1] = {
	[KLB_BE_A_ID] = NLA_POLICY_FULL_RANGE(NLA_U16, &klb_backend_id_range),
	[KLB_BE_A_FAMILY] = { .type = NLA_U16 },
	[KLB_BE_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[KLB_BE_A_PORT] = { .type = NLA_BE16 },
	[KLB_BE_A_WEIGHT] = NLA_POLICY_FULL_RANGE(NLA_U32, &klb_weight_range),
	[KLB_BE_A_STATE] = NLA_POLICY_MAX(NLA_U8, KLB_BACKEND_STATE_MAX),
};

/* A backend named, not changed: keys and the id that must agree. */
static const struct nla_policy klb_backend_key_policy[KLB_BE_A_MAX + 1] = {
	[KLB_BE_A_ID] = NLA_POLICY_FULL_RANGE(NLA_U16, &klb_backend_id_range),
	[KLB_BE_A_FAMILY] = { .type = NLA_U16 },
	[KLB_BE_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[KLB_BE_A_PORT] = { .type = NLA_BE16 },
};

static const struct nla_policy klb_table_policy[KLB_TBL_A_MAX + 1] = {
	[KLB_TBL_A_SIZE] = { .type = NLA_U32 },
	[KLB_TBL_A_OFFSET] = { .type = NLA_U32 },
	/* Its length is checked in klb_cmd_table_set(), which counts overruns. */
	[KLB_TBL_A_ENTRIES] = { .type = NLA_BINARY },
};

static const struct nla_policy klb_service_new_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_REJECT, .reject_message = KLB_NOT_STAGED },
};

static const struct nla_policy klb_service_set_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

static const struct nla_policy klb_service_del_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_REJECT, .reject_message = KLB_NOT_STAGED },
};

/* SERVICE_GET, TABLE_GET, TXN_BEGIN: a service's keys, nothing else. */
static const struct nla_policy klb_service_key_only_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
};

static const struct nla_policy klb_backend_write_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_BACKEND] = NLA_POLICY_NESTED(klb_backend_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

static const struct nla_policy klb_backend_del_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_BACKEND] = NLA_POLICY_NESTED(klb_backend_key_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

static const struct nla_policy klb_backend_get_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_BACKEND] = NLA_POLICY_NESTED(klb_backend_key_policy),
};

static const struct nla_policy klb_table_set_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_TABLE] = NLA_POLICY_NESTED(klb_table_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

static const struct nla_policy klb_table_del_policy[KLB_A_MAX + 1] = {
	[KLB_A_SERVICE] = NLA_POLICY_NESTED(klb_service_key_policy),
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

/* FLUSH and GENERATION_SET: netns-wide, applied at once. */
static const struct nla_policy klb_netns_write_policy[KLB_A_MAX + 1] = {
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_REJECT, .reject_message = KLB_NOT_STAGED },
};

/* GENERATION_GET and INFO_GET: every attribute is refused, with a message. */
static const struct nla_policy klb_no_attr_policy[KLB_A_MAX + 1] = {
};

static const struct nla_policy klb_txn_commit_policy[KLB_A_MAX + 1] = {
	[KLB_A_GENERATION] = { .type = NLA_U64 },
	[KLB_A_GENERATION_EXPECT] = { .type = NLA_U64 },
	[KLB_A_TXN] = { .type = NLA_U32 },
};

static const struct nla_policy klb_txn_abort_policy[KLB_A_MAX + 1] = {
	[KLB_A_TXN] = { .type = NLA_U32 },
};

/*
 * A missing top-level attribute: flag it for tools and say it for people.
 * A macro because extack messages must be string literals.
 */
#define klb_missing(info, type, msg) ({				\
	struct genl_info *__mi = (info);			\
	bool __missing = GENL_REQ_ATTR_CHECK(__mi, type);	\
								\
	if (__missing)						\
		GENL_SET_ERR_MSG(__mi, msg);			\
	__missing;						\
})

/* ---- parsing ---------------------------------------------------------- */

static int klb_parse_addr(const struct nlattr *attr, u16 family,
			  union klb_addr *addr, struct netlink_ext_ack *extack)
{
	size_t len = family == AF_INET ? sizeof(addr->v4) : sizeof(addr->v6);

	if (nla_len(attr) != len) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "address length does not match its family");
		return -EINVAL;
	}
	memset(addr, 0, sizeof(*addr));
	nla_memcpy(addr, attr, len);
	return 0;
}

static int klb_parse_family(const struct nlattr *attr, u16 *family,
			    struct netlink_ext_ack *extack)
{
	*family = nla_get_u16(attr);
	if (*family != AF_INET && *family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "address family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	return 0;
}

static int klb_parse_port(const struct nlattr *attr, __be16 *port,
			  struct netlink_ext_ack *extack)
{
	*port = nla_get_be16(attr);
	if (!*port) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "port must be 1..65535");
		return -EINVAL;
	}
	return 0;
}

static int klb_parse_service_key(struct nlattr **tb, const struct nlattr *nest,
				 struct klb_service_key *key,
				 struct netlink_ext_ack *extack)
{
	int err;

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_SVC_A_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_SVC_A_FAMILY) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_SVC_A_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_SVC_A_PORT)) {
		NL_SET_ERR_MSG(extack, "service needs protocol, family, address and port");
		return -EINVAL;
	}
	memset(key, 0, sizeof(*key));
	key->proto = nla_get_u8(tb[KLB_SVC_A_PROTO]);
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KLB_SVC_A_PROTO], "protocol must be TCP or UDP");
		return -EINVAL;
	}
	err = klb_parse_family(tb[KLB_SVC_A_FAMILY], &key->family, extack);
	if (err)
		return err;
	err = klb_parse_addr(tb[KLB_SVC_A_ADDR], key->family, &key->addr,
			     extack);
	if (err)
		return err;
	return klb_parse_port(tb[KLB_SVC_A_PORT], &key->port, extack);
}

/* Applies the settings present in @tb on top of @conf. */
static int klb_parse_service_conf(struct klb_net *kn, struct nlattr **tb,
				  struct klb_service_conf *conf,
				  struct netlink_ext_ack *extack)
{
	if (tb[KLB_SVC_A_SCHED])
		conf->sched = nla_get_u8(tb[KLB_SVC_A_SCHED]);
	if (tb[KLB_SVC_A_FWD])
		conf->fwd = nla_get_u8(tb[KLB_SVC_A_FWD]);
	if (tb[KLB_SVC_A_BOUND])
		conf->bound = nla_get_u32(tb[KLB_SVC_A_BOUND]);
	if (tb[KLB_SVC_A_FLAGS])
		conf->flags = nla_get_u32(tb[KLB_SVC_A_FLAGS]);
	if (tb[KLB_SVC_A_SEED]) {
		if (nla_len(tb[KLB_SVC_A_SEED]) != KLB_SEED_LEN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KLB_SVC_A_SEED], "seed must be 16 bytes");
			return -EINVAL;
		}
		nla_memcpy(conf->seed, tb[KLB_SVC_A_SEED], sizeof(conf->seed));
	}
	if (tb[KLB_SVC_A_TABLE_SIZE]) {
		u32 size = nla_get_u32(tb[KLB_SVC_A_TABLE_SIZE]);
		u32 max = min_t(u32, READ_ONCE(klb_max_table_size),
				KLB_TABLE_SIZE_LIMIT);

		if (size > max) {
			atomic64_inc(&kn->table_limit_hits);
			NL_SET_ERR_MSG_ATTR(extack, tb[KLB_SVC_A_TABLE_SIZE],
					    "table size above the limit (module parameter max_table_size)");
			return -ERANGE;
		}
		if (!klb_maglev_size_valid(size)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KLB_SVC_A_TABLE_SIZE],
					    "table size must be a prime of at least 7");
			return -EINVAL;
		}
		conf->table_size = size;
	}
	return 0;
}

struct klb_backend_req {
	const struct nlattr *nest;
	struct nlattr *tb[KLB_BE_A_MAX + 1];
	u16 family;
	union klb_addr addr;
	__be16 port;
};

static int klb_parse_backend_nest(const struct nlattr *nest, u16 svc_family,
				  struct klb_backend_req *req,
				  struct netlink_ext_ack *extack)
{
	struct nlattr **tb = req->tb;
	int err;

	req->nest = nest;
	/*
	 * genl validated every KLB_A_BACKEND nest against the command's
	 * policy before the handler ran: this only finds the attributes.
	 */
	err = nla_parse_nested(tb, KLB_BE_A_MAX, nest, NULL, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_BE_A_FAMILY) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_BE_A_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KLB_BE_A_PORT)) {
		NL_SET_ERR_MSG(extack, "backend needs family, address and port");
		return -EINVAL;
	}
	err = klb_parse_family(tb[KLB_BE_A_FAMILY], &req->family, extack);
	if (err)
		return err;
	if (req->family != svc_family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KLB_BE_A_FAMILY],
				    "backend address family differs from the service's");
		return -EINVAL;
	}
	err = klb_parse_addr(tb[KLB_BE_A_ADDR], req->family, &req->addr, extack);
	if (err)
		return err;
	return klb_parse_port(tb[KLB_BE_A_PORT], &req->port, extack);
}

/*
 * The KLB_A_BACKEND nests of the request, counted: only BACKEND_NEW takes
 * more than one (genl's parse keeps the last, so others must be found).
 */
static u32 klb_backend_nests(struct genl_info *info)
{
	const struct nlattr *attr;
	u32 n = 0;
	int rem;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem)
		n += nla_type(attr) == KLB_A_BACKEND;
	return n;
}

/* The one backend a SET, DEL or GET names. */
static int klb_parse_backend(struct genl_info *info, u16 svc_family,
			     struct klb_backend_req *req)
{
	if (klb_missing(info, KLB_A_BACKEND, "request needs the backend"))
		return -EINVAL;
	if (klb_backend_nests(info) > 1) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KLB_A_BACKEND],
				    "only a new backend request may name several backends");
		return -EINVAL;
	}
	return klb_parse_backend_nest(info->attrs[KLB_A_BACKEND], svc_family,
				      req, info->extack);
}

/* ---- replies and events ---------------------------------------------- */

static bool klb_caller_is_admin(const struct sk_buff *skb, struct net *net)
{
	return netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN);
}

static int klb_put_service_key(struct sk_buff *skb,
			       const struct klb_service_key *key)
{
	size_t len = key->family == AF_INET ? sizeof(key->addr.v4) :
					      sizeof(key->addr.v6);

	if (nla_put_u8(skb, KLB_SVC_A_PROTO, key->proto) ||
	    nla_put_u16(skb, KLB_SVC_A_FAMILY, key->family) ||
	    nla_put(skb, KLB_SVC_A_ADDR, len, &key->addr) ||
	    nla_put_be16(skb, KLB_SVC_A_PORT, key->port))
		return -EMSGSIZE;
	return 0;
}

/* @snap NULL: keys only; @full: every setting too. */
static int klb_put_service(struct sk_buff *skb,
			   const struct klb_service_key *key,
			   const struct klb_snapshot *snap, bool full,
			   bool with_seed)
{
	const struct klb_service_conf *conf;
	struct nlattr *nest;

	nest = nla_nest_start(skb, KLB_A_SERVICE);
	if (!nest || klb_put_service_key(skb, key))
		return -EMSGSIZE;
	if (snap && nla_put_u64_64bit(skb, KLB_SVC_A_VERSION, snap->version,
				      KLB_SVC_A_PAD))
		return -EMSGSIZE;
	if (snap && full) {
		conf = &snap->conf;
		if (nla_put_u8(skb, KLB_SVC_A_SCHED, conf->sched) ||
		    nla_put_u8(skb, KLB_SVC_A_FWD, conf->fwd) ||
		    nla_put_u32(skb, KLB_SVC_A_TABLE_SIZE, conf->table_size) ||
		    nla_put_u32(skb, KLB_SVC_A_BOUND, conf->bound) ||
		    nla_put_u32(skb, KLB_SVC_A_FLAGS, conf->flags) ||
		    nla_put_u32(skb, KLB_SVC_A_BACKENDS, snap->nr_backends) ||
		    nla_put_u8(skb, KLB_SVC_A_TABLE_LOADED, !!snap->table))
			return -EMSGSIZE;
		if (with_seed && nla_put(skb, KLB_SVC_A_SEED, sizeof(conf->seed),
					 conf->seed))
			return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int klb_put_backend(struct sk_buff *skb, const struct klb_backend *be,
			   const struct klb_backend_slot *slot)
{
	size_t len = be->family == AF_INET ? sizeof(be->addr.v4) :
					     sizeof(be->addr.v6);
	struct nlattr *nest;

	nest = nla_nest_start(skb, KLB_A_BACKEND);
	if (!nest ||
	    nla_put_u16(skb, KLB_BE_A_ID, be->id) ||
	    nla_put_u16(skb, KLB_BE_A_FAMILY, be->family) ||
	    nla_put(skb, KLB_BE_A_ADDR, len, &be->addr) ||
	    nla_put_be16(skb, KLB_BE_A_PORT, be->port))
		return -EMSGSIZE;
	if (slot && (nla_put_u32(skb, KLB_BE_A_WEIGHT, slot->weight) ||
		     nla_put_u8(skb, KLB_BE_A_STATE, slot->state)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Sends a doit's reply, or drops it if building it failed with @err. */
static int klb_reply(struct sk_buff *msg, struct genl_info *info, int err)
{
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int klb_put_generation(struct sk_buff *skb, u64 generation)
{
	return nla_put_u64_64bit(skb, KLB_A_GENERATION, generation, KLB_A_PAD);
}

/*
 * Tells listeners what changed. Best effort: a listener that overflows
 * sees ENOBUFS on its socket and must re-read, as with rtnetlink.
 */
static void klb_notify(struct klb_net *kn, u8 cmd,
		       const struct klb_service_key *key,
		       const struct klb_backend *be)
{
	struct klb_snapshot *snap = NULL;
	struct klb_service *svc;
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&klb_family, kn->net, KLB_MCGRP_EVENTS_ID))
		return;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &klb_family, 0, cmd);
	if (!hdr)
		goto err;
	if (klb_put_generation(skb, kn->generation))
		goto err;
	if (key) {
		/* A deleted service is named by its keys alone. */
		svc = klb_service_find(kn, key);
		if (svc)
			snap = rcu_dereference_protected(svc->snap,
							 lockdep_is_held(&kn->lock));
		if (klb_put_service(skb, key, snap, false, false))
			goto err;
	}
	if (be && klb_put_backend(skb, be, NULL))
		goto err;
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&klb_family, kn->net, skb, 0,
				KLB_MCGRP_EVENTS_ID, GFP_KERNEL);
	return;
err:
	nlmsg_free(skb);
}

/* ---- generation compare-and-swap -------------------------------------- */

static int klb_generation_check(struct klb_net *kn, struct genl_info *info)
{
	struct nlattr *expect = info->attrs[KLB_A_GENERATION_EXPECT];

	if (expect && nla_get_u64(expect) != kn->generation) {
		nl_set_extack_cookie_u64(info->extack, kn->generation);
		NL_SET_ERR_MSG_ATTR(info->extack, expect,
				    "config generation has changed (the cookie holds the current one)");
		return -ESTALE;
	}
	return 0;
}

static void klb_generation_advance(struct klb_net *kn, struct genl_info *info)
{
	struct nlattr *gen = info->attrs[KLB_A_GENERATION];

	kn->generation = gen ? nla_get_u64(gen) : kn->generation + 1;
	klb_net_changed(kn);
}

/* ---- the write path shared by service-scoped commands ----------------- */

struct klb_write {
	struct klb_net *kn;
	struct klb_service *svc;
	struct klb_txn *txn;
	struct nlattr *svc_tb[KLB_SVC_A_MAX + 1];
	struct klb_service_key key;
};

static int klb_parse_service(struct genl_info *info,
			     struct nlattr **tb, struct klb_service_key *key)
{
	int err;

	if (klb_missing(info, KLB_A_SERVICE, "request needs the service"))
		return -EINVAL;
	err = nla_parse_nested(tb, KLB_SVC_A_MAX, info->attrs[KLB_A_SERVICE],
			       klb_service_policy, info->extack);
	if (err)
		return err;
	return klb_parse_service_key(tb, info->attrs[KLB_A_SERVICE], key,
				     info->extack);
}

/* The service a request names, or NULL with the extack saying so. */
static struct klb_service *klb_req_service(struct klb_net *kn,
					   struct genl_info *info,
					   const struct klb_service_key *key)
{
	struct klb_service *svc = klb_service_find(kn, key);

	if (!svc)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KLB_A_SERVICE],
				    "no such service");
	return svc;
}

/*
 * Parses the service, takes the lock, finds the service and the
 * transaction to edit: the caller's explicit one (KLB_A_TXN) or a fresh
 * implicit one. On success the lock is held; klb_write_end() releases it.
 */
static int klb_write_begin(struct sk_buff *skb, struct genl_info *info,
			   struct klb_write *w)
{
	struct nlattr *txn_attr = info->attrs[KLB_A_TXN];
	int err;

	w->kn = klb_net(genl_info_net(info));
	w->txn = NULL;
	err = klb_parse_service(info, w->svc_tb, &w->key);
	if (err)
		return err;
	if (txn_attr && (info->attrs[KLB_A_GENERATION] ||
			 info->attrs[KLB_A_GENERATION_EXPECT])) {
		NL_SET_ERR_MSG(info->extack, "generation goes on the transaction commit");
		return -EINVAL;
	}

	mutex_lock(&w->kn->lock);
	if (!txn_attr) {
		err = klb_generation_check(w->kn, info);
		if (err)
			goto err;
	}
	w->svc = klb_req_service(w->kn, info, &w->key);
	if (!w->svc) {
		err = -ENOENT;
		goto err;
	}
	if (txn_attr) {
		w->txn = klb_txn_find(w->kn, nla_get_u32(txn_attr),
				      NETLINK_CB(skb).sk);
		if (!w->txn) {
			NL_SET_ERR_MSG_ATTR(info->extack, txn_attr,
					    "no such transaction on this socket");
			err = -ENOENT;
			goto err;
		}
		if (memcmp(&w->txn->key, &w->key, sizeof(w->key))) {
			NL_SET_ERR_MSG_ATTR(info->extack, txn_attr,
					    "transaction belongs to another service");
			err = -EINVAL;
			goto err;
		}
	} else {
		w->txn = klb_txn_open(w->kn, w->svc, true, info->extack);
		if (IS_ERR(w->txn)) {
			err = PTR_ERR(w->txn);
			goto err;
		}
	}
	return 0;

err:
	mutex_unlock(&w->kn->lock);
	return err;
}

/*
 * Commits an implicit transaction if the edit succeeded (@err == 0), moves
 * the generation on and tells listeners. Releases the lock.
 */
static int klb_write_end(struct genl_info *info, struct klb_write *w, int err,
			 const struct klb_backend *be)
{
	struct klb_txn *txn = w->txn;

	if (!txn->implicit)
		goto out;
	if (err) {
		klb_txn_close(w->kn, txn);
		goto out;
	}
	err = klb_txn_commit(w->kn, txn, info->extack);
	if (err)
		goto out;
	klb_generation_advance(w->kn, info);
	klb_notify(w->kn, info->genlhdr->cmd, &w->key, be);
out:
	mutex_unlock(&w->kn->lock);
	return err;
}

/* ---- services --------------------------------------------------------- */

static int klb_cmd_service_new(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_conf conf;
	struct klb_service_key key;
	int err;

	err = klb_parse_service(info, tb, &key);
	if (err)
		return err;
	klb_service_conf_default(&conf);
	err = klb_parse_service_conf(kn, tb, &conf, info->extack);
	if (err)
		return err;
	/* A seed nobody chose is one nobody can predict. */
	if (!tb[KLB_SVC_A_SEED])
		get_random_bytes(conf.seed, sizeof(conf.seed));

	mutex_lock(&kn->lock);
	err = klb_generation_check(kn, info);
	if (!err)
		err = klb_service_create(kn, &key, &conf, info->extack);
	if (!err) {
		klb_generation_advance(kn, info);
		klb_notify(kn, KLB_CMD_SERVICE_NEW, &key, NULL);
	}
	mutex_unlock(&kn->lock);
	return err;
}

static int klb_cmd_service_set(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_service_conf conf;
	struct klb_write w;
	int err;

	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	conf = w.txn->staged->conf;
	err = klb_parse_service_conf(w.kn, w.svc_tb, &conf, info->extack);
	if (!err)
		err = klb_txn_set_conf(w.txn, &conf);
	return klb_write_end(info, &w, err, NULL);
}

static int klb_cmd_service_del(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_key key;
	struct klb_service *svc;
	int err;

	err = klb_parse_service(info, tb, &key);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	err = klb_generation_check(kn, info);
	if (err)
		goto out;
	svc = klb_req_service(kn, info, &key);
	if (!svc) {
		err = -ENOENT;
		goto out;
	}
	klb_service_delete(kn, svc);
	klb_generation_advance(kn, info);
	klb_notify(kn, KLB_CMD_SERVICE_DEL, &key, NULL);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int klb_fill_service_msg(struct sk_buff *skb, u32 portid, u32 seq,
				int flags, u64 generation,
				struct klb_service *svc,
				const struct klb_snapshot *snap,
				bool with_seed, struct netlink_callback *cb)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &klb_family, flags,
			  KLB_CMD_SERVICE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (klb_put_generation(skb, generation) ||
	    klb_put_service(skb, &svc->key, snap, true, with_seed)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int klb_cmd_service_get(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct klb_net *kn = klb_net(net);
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_key key;
	struct klb_service *svc;
	struct sk_buff *msg;
	int err;

	err = klb_parse_service(info, tb, &key);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&kn->lock);
	svc = klb_req_service(kn, info, &key);
	if (!svc) {
		err = -ENOENT;
	} else {
		err = klb_fill_service_msg(msg, info->snd_portid, info->snd_seq,
					   0, kn->generation, svc,
					   rcu_dereference_protected(svc->snap,
								     lockdep_is_held(&kn->lock)),
					   klb_caller_is_admin(skb, net), NULL);
	}
	mutex_unlock(&kn->lock);
	return klb_reply(msg, info, err);
}

/* cb->args[0]: the index to resume from. Consistency: cb->seq. */
static int klb_dump_services(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct klb_net *kn = klb_net(net);
	bool with_seed = klb_caller_is_admin(cb->skb, net);
	unsigned long index = cb->args[0];
	struct klb_service *svc;

	/* The policy is the doit's, which names one service. */
	if (genl_dumpit_info(cb)->attrs[KLB_A_SERVICE]) {
		NL_SET_ERR_MSG(cb->extack, "a dump of every service takes no attributes");
		return -EINVAL;
	}
	mutex_lock(&kn->lock);
	cb->seq = kn->change_seq;
	xa_for_each_start(&kn->services, index, svc, cb->args[0]) {
		if (klb_fill_service_msg(skb, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI,
					 kn->generation, svc,
					 rcu_dereference_protected(svc->snap,
								   lockdep_is_held(&kn->lock)),
					 with_seed, cb))
			break;
	}
	mutex_unlock(&kn->lock);
	/* Resume at the service that did not fit, or past the last one. */
	cb->args[0] = svc ? index : ULONG_MAX;
	return skb->len;
}

/* ---- backends --------------------------------------------------------- */

static int klb_backend_new_one(struct genl_info *info, struct klb_write *w,
			       struct klb_stats_source *counters,
			       const struct nlattr *nest, u16 *id)
{
	struct klb_backend_req req;
	u8 state = KLB_BACKEND_UP;
	u32 weight = 1;
	int err;

	err = klb_parse_backend_nest(nest, w->key.family, &req, info->extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, req.nest, req.tb, KLB_BE_A_ID)) {
		NL_SET_ERR_MSG(info->extack, "a new backend needs an id");
		return -EINVAL;
	}
	if (req.tb[KLB_BE_A_WEIGHT])
		weight = nla_get_u32(req.tb[KLB_BE_A_WEIGHT]);
	if (req.tb[KLB_BE_A_STATE])
		state = nla_get_u8(req.tb[KLB_BE_A_STATE]);
	*id = nla_get_u16(req.tb[KLB_BE_A_ID]);
	err = klb_txn_backend_new(w->kn, w->txn, w->svc, counters, *id,
				  req.family, &req.addr, req.port, weight,
				  state, info->extack);
	/* Of several backends, say which. */
	if (err)
		NL_SET_BAD_ATTR(info->extack, nest);
	return err;
}

/*
 * One KLB_A_BACKEND nest or up to KLB_BACKEND_BATCH_MAX of them (a
 * service's whole list: one message, not one per backend), added all or
 * none: in a transaction of its own, or, staged, taken out of the explicit
 * one again when one of them fails.
 */
static int klb_cmd_backend_new(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_stats_source counters;
	struct klb_backend *be = NULL;
	const struct nlattr *attr;
	u32 n, added = 0;
	struct klb_write w;
	int rem, err;
	u16 id = 0;

	if (klb_missing(info, KLB_A_BACKEND, "request needs the backend"))
		return -EINVAL;
	n = klb_backend_nests(info);
	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	if (n > KLB_BACKEND_BATCH_MAX) {
		atomic64_inc(&w.kn->batch_limit_hits);
		NL_SET_ERR_MSG(info->extack,
			       "more than KLB_BACKEND_BATCH_MAX backends in one request");
		err = -E2BIG;
		goto out;
	}
	/* Room for all of them at once, rather than regrown as they come. */
	if (n > 1) {
		err = klb_snapshot_reserve(w.txn->staged,
					   min(w.txn->staged->nr_backends + n,
					       klb_backends_max()));
		if (err) {
			klb_mem_error(info->extack, err);
			goto out;
		}
	}
	klb_stats_source_init(&counters, w.kn->mem, n);
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != KLB_A_BACKEND)
			continue;
		err = klb_backend_new_one(info, &w, &counters, attr, &id);
		if (err)
			break;
		added++;
	}
	klb_stats_source_release(&counters);
	if (err && !w.txn->implicit) {
		/* The ids of the nests before the failed one are this request's. */
		nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
			struct nlattr *idattr;

			if (!added)
				break;
			if (nla_type(attr) != KLB_A_BACKEND)
				continue;
			idattr = nla_find_nested(attr, KLB_BE_A_ID);
			klb_txn_backend_new_undo(w.txn, nla_get_u16(idattr));
			added--;
		}
	}
	/* An event names the backend of a request that added one. */
	if (!err && n == 1)
		be = klb_snapshot_slot(w.txn->staged, id)->backend;
out:
	return klb_write_end(info, &w, err, be);
}

/*
 * Parses the backend a write names and finds it in the transaction's
 * snapshot; with an id, the id must agree.
 */
static int klb_req_slot(struct genl_info *info, struct klb_write *w,
			struct klb_backend_req *req,
			struct klb_backend_slot **slot)
{
	int err;

	err = klb_parse_backend(info, w->key.family, req);
	if (err)
		return err;
	*slot = klb_snapshot_find_backend(w->txn->staged, req->family,
					  &req->addr, req->port);
	if (!*slot) {
		NL_SET_ERR_MSG_ATTR(info->extack, req->nest, "no such backend in the service");
		return -ENOENT;
	}
	if (req->tb[KLB_BE_A_ID] &&
	    nla_get_u16(req->tb[KLB_BE_A_ID]) != (*slot)->backend->id) {
		NL_SET_ERR_MSG_ATTR(info->extack, req->tb[KLB_BE_A_ID],
				    "a backend's id cannot change");
		return -EINVAL;
	}
	return 0;
}

static int klb_cmd_backend_set(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_backend_slot *slot;
	struct klb_backend *be = NULL;
	struct klb_backend_req req;
	struct klb_write w;
	u32 weight;
	u8 state;
	int err;

	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	err = klb_req_slot(info, &w, &req, &slot);
	if (err)
		goto out;
	be = slot->backend;
	if (req.tb[KLB_BE_A_WEIGHT])
		weight = nla_get_u32(req.tb[KLB_BE_A_WEIGHT]);
	if (req.tb[KLB_BE_A_STATE])
		state = nla_get_u8(req.tb[KLB_BE_A_STATE]);
	err = klb_txn_backend_set(w.txn, slot,
				  req.tb[KLB_BE_A_WEIGHT] ? &weight : NULL,
				  req.tb[KLB_BE_A_STATE] ? &state : NULL);
out:
	return klb_write_end(info, &w, err, be);
}

static int klb_cmd_backend_del(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_backend_slot *slot;
	struct klb_backend *be = NULL;
	struct klb_backend_req req;
	struct klb_write w;
	int err;

	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	err = klb_req_slot(info, &w, &req, &slot);
	if (err)
		goto out;
	/* Keep it alive for the event after the slot lets go. */
	be = slot->backend;
	refcount_inc(&be->ref);
	err = klb_txn_backend_del(w.txn, slot, info->extack);
out:
	err = klb_write_end(info, &w, err, be);
	klb_backend_put(be);
	return err;
}

static int klb_fill_backend_msg(struct sk_buff *skb, u32 portid, u32 seq,
				int flags, u64 generation,
				const struct klb_service_key *key,
				const struct klb_snapshot *snap,
				const struct klb_backend_slot *slot,
				struct netlink_callback *cb)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &klb_family, flags,
			  KLB_CMD_BACKEND_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (klb_put_generation(skb, generation) ||
	    klb_put_service(skb, key, snap, false, false) ||
	    klb_put_backend(skb, slot->backend, slot)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int klb_cmd_backend_get(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_backend_slot *slot;
	struct klb_service_key key;
	struct klb_backend_req req;
	struct klb_snapshot *snap;
	struct klb_service *svc;
	struct sk_buff *msg;
	int err;

	err = klb_parse_service(info, tb, &key);
	if (err)
		return err;
	err = klb_parse_backend(info, key.family, &req);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&kn->lock);
	svc = klb_req_service(kn, info, &key);
	if (!svc) {
		err = -ENOENT;
		goto out;
	}
	snap = rcu_dereference_protected(svc->snap, lockdep_is_held(&kn->lock));
	slot = klb_snapshot_find_backend(snap, req.family, &req.addr, req.port);
	if (!slot) {
		NL_SET_ERR_MSG_ATTR(info->extack, req.nest, "no such backend in the service");
		err = -ENOENT;
		goto out;
	}
	err = klb_fill_backend_msg(msg, info->snd_portid, info->snd_seq, 0,
				   kn->generation, &key, snap, slot, NULL);
out:
	mutex_unlock(&kn->lock);
	return klb_reply(msg, info, err);
}

/*
 * Backend and table dumps hold nothing between parts: anyone may start one
 * and never read it, and a held snapshot would pin its table (up to 2 MiB,
 * charged to the writer) for as long. Each part looks the service up again
 * under the lock and reads its published snapshot; if the version moved
 * since the first part, the dump stops and NLMSG_DONE carries
 * NLM_F_DUMP_INTR (cb->seq moves from 1 to 2; every message sent before
 * set cb->prev_seq to 1).
 */
struct klb_dump_ctx {
	struct klb_service_key key;
	u64 version;			/* 0 until the first part */
	u64 generation;
	u32 pos;
	bool done;
};

static struct klb_dump_ctx *klb_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct klb_dump_ctx) > sizeof(cb->ctx));
	return (struct klb_dump_ctx *)cb->ctx;
}

/*
 * The first part's checks run in dumpit rather than in .start: only
 * dumpit's errors carry an extack message to userspace (in NLMSG_DONE).
 */
static int klb_dump_parse(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *dinfo = genl_dumpit_info(cb);
	struct klb_dump_ctx *ctx = klb_dump_ctx(cb);
	struct nlattr *nest = dinfo->attrs[KLB_A_SERVICE];
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	int err;

	if (!nest) {
		NL_SET_ERR_MSG(cb->extack, "dump needs the service");
		return -EINVAL;
	}
	/* The policy is the doit's, which also names one backend. */
	if (dinfo->attrs[KLB_A_BACKEND]) {
		NL_SET_ERR_MSG(cb->extack, "a dump takes the service's keys only");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KLB_SVC_A_MAX, nest, klb_service_policy,
			       cb->extack);
	if (err)
		return err;
	return klb_parse_service_key(tb, nest, &ctx->key, cb->extack);
}

/*
 * Under the lock: the snapshot this part reads. NULL with *err == 0 when
 * the dump is over (the service changed or went away: flagged), or with
 * the first part's error.
 */
static const struct klb_snapshot *
klb_dump_part(struct netlink_callback *cb, struct klb_net *kn,
	      bool need_table, int *err)
{
	const struct genl_dumpit_info *dinfo = genl_dumpit_info(cb);
	struct klb_dump_ctx *ctx = klb_dump_ctx(cb);
	const struct klb_snapshot *snap = NULL;
	struct klb_service *svc;

	lockdep_assert_held(&kn->lock);
	*err = 0;
	svc = klb_service_find(kn, &ctx->key);
	if (svc)
		snap = rcu_dereference_protected(svc->snap,
						 lockdep_is_held(&kn->lock));
	if (!ctx->version) {
		if (!snap) {
			NL_SET_ERR_MSG_ATTR(cb->extack, dinfo->attrs[KLB_A_SERVICE],
					    "no such service");
			*err = -ENOENT;
			return NULL;
		}
		if (need_table && !snap->table) {
			NL_SET_ERR_MSG_ATTR(cb->extack, dinfo->attrs[KLB_A_SERVICE],
					    "service has no table");
			*err = -ENOENT;
			return NULL;
		}
		ctx->version = snap->version;
		ctx->generation = kn->generation;
		cb->seq = 1;
		return snap;
	}
	if (!snap || snap->version != ctx->version) {
		cb->seq = 2;
		return NULL;
	}
	return snap;
}

static int klb_dump_backends(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klb_net *kn = klb_net(sock_net(cb->skb->sk));
	struct klb_dump_ctx *ctx = klb_dump_ctx(cb);
	const struct klb_snapshot *snap;
	int err;

	if (ctx->done)
		return 0;
	if (!ctx->version) {
		err = klb_dump_parse(cb);
		if (err)
			return err;
	}
	mutex_lock(&kn->lock);
	snap = klb_dump_part(cb, kn, false, &err);
	if (!snap)
		goto out;
	for (; ctx->pos < snap->nr_backends; ctx->pos++) {
		if (klb_fill_backend_msg(skb, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI,
					 ctx->generation, &ctx->key, snap,
					 &snap->slots[ctx->pos], cb))
			break;
	}
	ctx->done = ctx->pos >= snap->nr_backends;
out:
	mutex_unlock(&kn->lock);
	return err ?: skb->len;
}

/* ---- tables ----------------------------------------------------------- */

static int klb_cmd_table_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[KLB_TBL_A_MAX + 1];
	struct nlattr *nest = info->attrs[KLB_A_TABLE];
	struct klb_write w;
	u32 offset = 0;
	int err;

	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	if (klb_missing(info, KLB_A_TABLE, "request needs the table")) {
		err = -EINVAL;
		goto out;
	}
	err = nla_parse_nested(tb, KLB_TBL_A_MAX, nest, klb_table_policy,
			       info->extack);
	if (err)
		goto out;
	if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, KLB_TBL_A_SIZE) ||
	    NL_REQ_ATTR_CHECK(info->extack, nest, tb, KLB_TBL_A_ENTRIES)) {
		NL_SET_ERR_MSG(info->extack, "table needs its size and entries");
		err = -EINVAL;
		goto out;
	}
	if (nla_len(tb[KLB_TBL_A_ENTRIES]) > KLB_TABLE_CHUNK_MAX * sizeof(u16)) {
		atomic64_inc(&w.kn->chunk_limit_hits);
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLB_TBL_A_ENTRIES],
				    "table chunk above KLB_TABLE_CHUNK_MAX entries");
		err = -ERANGE;
		goto out;
	}
	if (!nla_len(tb[KLB_TBL_A_ENTRIES]) ||
	    nla_len(tb[KLB_TBL_A_ENTRIES]) % sizeof(u16)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLB_TBL_A_ENTRIES],
				    "table entries are u16 backend ids");
		err = -EINVAL;
		goto out;
	}
	if (tb[KLB_TBL_A_OFFSET])
		offset = nla_get_u32(tb[KLB_TBL_A_OFFSET]);
	err = klb_txn_table_chunk(w.txn, nla_get_u32(tb[KLB_TBL_A_SIZE]),
				  offset, nla_data(tb[KLB_TBL_A_ENTRIES]),
				  nla_len(tb[KLB_TBL_A_ENTRIES]) / sizeof(u16),
				  info->extack);
out:
	return klb_write_end(info, &w, err, NULL);
}

static int klb_cmd_table_del(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_write w;
	int err;

	err = klb_write_begin(skb, info, &w);
	if (err)
		return err;
	klb_txn_table_del(w.txn);
	return klb_write_end(info, &w, 0, NULL);
}

static int klb_dump_table(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klb_net *kn = klb_net(sock_net(cb->skb->sk));
	struct klb_dump_ctx *ctx = klb_dump_ctx(cb);
	const struct klb_snapshot *snap;
	struct nlattr *nest;
	void *hdr = NULL;
	int room;
	u32 size;
	u32 n;
	int err;

	if (ctx->done)
		return 0;
	if (!ctx->version) {
		err = klb_dump_parse(cb);
		if (err)
			return err;
	}
	mutex_lock(&kn->lock);
	snap = klb_dump_part(cb, kn, true, &err);
	if (!snap)
		goto out;
	size = snap->conf.table_size;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &klb_family, NLM_F_MULTI, KLB_CMD_TABLE_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out;
	}
	genl_dump_check_consistent(cb, hdr);
	if (klb_put_generation(skb, ctx->generation) ||
	    klb_put_service(skb, &ctx->key, snap, false, false))
		goto cancel;
	nest = nla_nest_start(skb, KLB_A_TABLE);
	if (!nest || nla_put_u32(skb, KLB_TBL_A_SIZE, size) ||
	    nla_put_u32(skb, KLB_TBL_A_OFFSET, ctx->pos))
		goto cancel;
	/* As many entries as this buffer holds, in one chunk. */
	room = skb_tailroom(skb) - 2 * NLA_HDRLEN - NLA_ALIGNTO;
	if (room < (int)sizeof(u16))
		goto cancel;
	n = min3(size - ctx->pos, (u32)room / (u32)sizeof(u16),
		 (u32)KLB_TABLE_CHUNK_MAX);
	if (nla_put(skb, KLB_TBL_A_ENTRIES, n * sizeof(u16),
		    klb_snapshot_table(snap) + ctx->pos))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	ctx->pos += n;
	ctx->done = ctx->pos >= size;
	goto out;
cancel:
	genlmsg_cancel(skb, hdr);
	if (!skb->len)
		err = -EMSGSIZE;
out:
	mutex_unlock(&kn->lock);
	return err ?: skb->len;
}

/* ---- netns-wide commands ---------------------------------------------- */

static int klb_cmd_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct klb_service *svc;
	unsigned long index;
	int err;

	mutex_lock(&kn->lock);
	err = klb_generation_check(kn, info);
	if (!err) {
		klb_txn_abort_all(kn);
		xa_for_each(&kn->services, index, svc)
			klb_service_delete(kn, svc);
		klb_flow_flush(kn, NULL, -1);
		klb_generation_advance(kn, info);
		klb_notify(kn, KLB_CMD_FLUSH, NULL, NULL);
	}
	mutex_unlock(&kn->lock);
	return err;
}

static int klb_cmd_flow_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_key key;
	int err;

	if (info->attrs[KLB_A_SERVICE]) {
		err = klb_parse_service(info, tb, &key);
		if (err)
			return err;
	}
	/* Flows change under their bucket locks; this only keeps flushes apart. */
	mutex_lock(&kn->lock);
	klb_flow_flush(kn, info->attrs[KLB_A_SERVICE] ? &key : NULL, -1);
	mutex_unlock(&kn->lock);
	return 0;
}

/* ---- stats and flows -------------------------------------------------- */

static int klb_put_stats(struct sk_buff *skb, const struct klb_stats *stats)
{
	u64 ctr[KLB_NR_COUNTERS];
	struct nlattr *nest;
	s64 active;
	int i;

	klb_stats_read(stats, ctr, &active);
	ctr[KLB_CTR(KLB_STATS_A_FLOWS_ACTIVE)] = active;
	nest = nla_nest_start(skb, KLB_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < KLB_NR_COUNTERS; i++)
		if (nla_put_u64_64bit(skb, KLB_STATS_A_PKTS_IN + i, ctr[i],
				      KLB_STATS_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* A service's counters (@slot NULL) or one of its backends'. */
static int klb_fill_stats_msg(struct sk_buff *skb, struct netlink_callback *cb,
			      struct klb_service *svc,
			      const struct klb_snapshot *snap,
			      const struct klb_backend_slot *slot)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &klb_family, NLM_F_MULTI, KLB_CMD_STATS_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (klb_put_service(skb, &svc->key, snap, false, false) ||
	    (slot && klb_put_backend(skb, slot->backend, slot)) ||
	    klb_put_stats(skb, slot ? &slot->backend->stats : svc->stats)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * Every service's counters (or one service's), each followed by its
 * backends'. cb->args: [0] the service index, [1] 0 before the service's
 * own message, then 1 + the backend position to go on from, [2] one
 * service only.
 */
static int klb_dump_stats(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klb_net *kn = klb_net(sock_net(skb->sk));
	const struct genl_dumpit_info *dinfo = genl_dumpit_info(cb);
	const struct klb_snapshot *snap;
	struct klb_service *svc = NULL;
	unsigned long index = cb->args[0];
	u32 pos;
	int err = 0;

	mutex_lock(&kn->lock);
	if (dinfo->attrs[KLB_A_SERVICE] && !cb->args[2]) {
		struct nlattr *tb[KLB_SVC_A_MAX + 1];
		struct klb_service_key key;

		err = nla_parse_nested(tb, KLB_SVC_A_MAX,
				       dinfo->attrs[KLB_A_SERVICE],
				       klb_service_policy, cb->extack);
		if (!err)
			err = klb_parse_service_key(tb, dinfo->attrs[KLB_A_SERVICE],
						    &key, cb->extack);
		if (!err) {
			svc = klb_service_find(kn, &key);
			if (!svc) {
				NL_SET_ERR_MSG(cb->extack, "no such service");
				err = -ENOENT;
			}
		}
		if (err)
			goto out;
		cb->args[0] = svc->index;
		cb->args[2] = 1;
		index = svc->index;
	}
	xa_for_each_start(&kn->services, index, svc, cb->args[0]) {
		/* One service only, and it went away between parts. */
		if (cb->args[2] && index != cb->args[0]) {
			svc = NULL;
			break;
		}
		snap = rcu_dereference_protected(svc->snap,
						 lockdep_is_held(&kn->lock));
		if (!cb->args[1]) {
			if (klb_fill_stats_msg(skb, cb, svc, snap, NULL))
				break;
			cb->args[1] = 1;
		}
		/* Backends in id order; a part resumes at a position. */
		for (pos = cb->args[1] - 1; pos < snap->nr_backends; pos++) {
			if (klb_fill_stats_msg(skb, cb, svc, snap,
					       &snap->slots[pos]))
				break;
			cb->args[1] = pos + 2;
		}
		if (pos < snap->nr_backends)
			break;
		cb->args[1] = 0;
		if (cb->args[2])
			break;
	}
	if (!svc || (cb->args[2] && !cb->args[1]))
		index = ULONG_MAX;
	cb->args[0] = index;
out:
	mutex_unlock(&kn->lock);
	return err ?: skb->len;
}

/* A flow dump's place between parts, in cb->ctx. */
struct klb_flow_dump_ctx {
	struct klb_service_key key;
	u32 pos;			/* bucket */
	u32 skip;			/* flows of that bucket already sent */
	bool filtered;			/* key was read */
};

struct klb_flow_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	const struct klb_service_key *key;	/* NULL: every service's */
};

static bool klb_flow_of(const struct klb_flow_info *fi,
			const struct klb_service_key *key)
{
	size_t len = fi->family == AF_INET ? sizeof(fi->vaddr.v4) :
					     sizeof(fi->vaddr.v6);

	return fi->family == key->family && fi->proto == key->proto &&
	       fi->vport == key->port && !memcmp(&fi->vaddr, &key->addr, len);
}

static int klb_fill_flow_msg(const struct klb_flow_info *fi, void *arg)
{
	struct klb_flow_dump *d = arg;
	struct sk_buff *skb = d->skb;
	size_t len = fi->family == AF_INET ? sizeof(fi->caddr.v4) :
					     sizeof(fi->caddr.v6);
	struct klb_service_key key;
	struct nlattr *nest;
	void *hdr;

	if (d->key && !klb_flow_of(fi, d->key))
		return 0;
	memset(&key, 0, sizeof(key));
	key.family = fi->family;
	key.proto = fi->proto;
	key.addr = fi->vaddr;
	key.port = fi->vport;
	hdr = genlmsg_put(skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &klb_family, NLM_F_MULTI,
			  KLB_CMD_FLOW_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (klb_put_service(skb, &key, NULL, false, false) ||
	    klb_put_backend(skb, fi->backend, NULL))
		goto cancel;
	nest = nla_nest_start(skb, KLB_A_FLOW);
	if (!nest ||
	    nla_put_u16(skb, KLB_FLOW_A_FAMILY, fi->family) ||
	    nla_put_u8(skb, KLB_FLOW_A_PROTO, fi->proto) ||
	    nla_put(skb, KLB_FLOW_A_CLIENT_ADDR, len, &fi->caddr) ||
	    nla_put_be16(skb, KLB_FLOW_A_CLIENT_PORT, fi->cport) ||
	    nla_put_u16(skb, KLB_FLOW_A_BACKEND_ID, fi->backend->id) ||
	    nla_put_u8(skb, KLB_FLOW_A_STATE, fi->state) ||
	    nla_put_u32(skb, KLB_FLOW_A_EXPIRES_MS, fi->expires_ms))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* The flow table (or one service's flows), read under RCU only. */
static int klb_dump_flows(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klb_net *kn = klb_net(sock_net(skb->sk));
	const struct genl_dumpit_info *dinfo = genl_dumpit_info(cb);
	struct klb_flow_dump d = { .skb = skb, .cb = cb };
	struct klb_flow_dump_ctx *ctx = (void *)cb->ctx;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	if (dinfo->attrs[KLB_A_SERVICE]) {
		struct nlattr *tb[KLB_SVC_A_MAX + 1];

		if (!ctx->filtered) {
			err = nla_parse_nested(tb, KLB_SVC_A_MAX,
					       dinfo->attrs[KLB_A_SERVICE],
					       klb_service_policy, cb->extack);
			if (!err)
				err = klb_parse_service_key(tb, dinfo->attrs[KLB_A_SERVICE],
							    &ctx->key, cb->extack);
			if (err)
				return err;
			ctx->filtered = true;
		}
		d.key = &ctx->key;
	}
	err = klb_flow_walk(kn, &ctx->pos, &ctx->skip, klb_fill_flow_msg, &d);
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int klb_reply_generation(struct genl_info *info, u8 cmd, bool with_info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &klb_family, 0, cmd);
	if (!hdr)
		goto err;
	mutex_lock(&kn->lock);
	if (klb_put_generation(msg, kn->generation))
		goto err_unlock;
	if (with_info) {
		nest = nla_nest_start(msg, KLB_A_INFO);
		if (!nest ||
		    nla_put_u32(msg, KLB_INFO_A_MAX_SERVICES, READ_ONCE(klb_max_services)) ||
		    nla_put_u32(msg, KLB_INFO_A_MAX_BACKENDS, klb_backends_max()) ||
		    nla_put_u32(msg, KLB_INFO_A_MAX_TABLE_SIZE,
				min_t(u32, READ_ONCE(klb_max_table_size),
				      KLB_TABLE_SIZE_LIMIT)) ||
		    nla_put_u32(msg, KLB_INFO_A_MAX_TXNS, READ_ONCE(klb_max_txns)) ||
		    nla_put_u32(msg, KLB_INFO_A_SERVICES, kn->nr_services) ||
		    nla_put_u32(msg, KLB_INFO_A_TXNS, kn->nr_txns) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_SERVICE_LIMIT_HITS,
				      atomic64_read(&kn->service_limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_BACKEND_LIMIT_HITS,
				      atomic64_read(&kn->backend_limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_TABLE_LIMIT_HITS,
				      atomic64_read(&kn->table_limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_TXN_LIMIT_HITS,
				      atomic64_read(&kn->txn_limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_CHUNK_LIMIT_HITS,
				      atomic64_read(&kn->chunk_limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u32(msg, KLB_INFO_A_SERVICE_FLAGS, KLB_SVC_F_ALL) ||
		    nla_put_u32(msg, KLB_INFO_A_TABLE_CHUNK_MAX,
				KLB_TABLE_CHUNK_MAX) ||
		    nla_put_u32(msg, KLB_INFO_A_MAX_FLOWS,
				READ_ONCE(klb_max_flows)) ||
		    nla_put_u32(msg, KLB_INFO_A_FLOWS, klb_flows_live(kn)) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_FLOW_LIMIT_HITS,
				      atomic64_read(&kn->flows.limit_hits),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_FLOW_EVICTIONS,
				      atomic64_read(&kn->flows.evictions),
				      KLB_INFO_A_PAD) ||
		    nla_put_u32(msg, KLB_INFO_A_FLOW_ENTRY_BYTES4,
				klb_flow_entry_size(AF_INET)) ||
		    nla_put_u32(msg, KLB_INFO_A_FLOW_ENTRY_BYTES6,
				klb_flow_entry_size(AF_INET6)) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_MAX_MEMORY,
				      READ_ONCE(klb_max_netns_memory),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_MEMORY,
				      atomic64_read(&kn->mem->used),
				      KLB_INFO_A_PAD) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_MEMORY_LIMIT_HITS,
				      atomic64_read(&kn->mem->refusals),
				      KLB_INFO_A_PAD) ||
		    nla_put_u32(msg, KLB_INFO_A_BACKEND_BATCH_MAX,
				KLB_BACKEND_BATCH_MAX) ||
		    nla_put_u64_64bit(msg, KLB_INFO_A_BATCH_LIMIT_HITS,
				      atomic64_read(&kn->batch_limit_hits),
				      KLB_INFO_A_PAD))
			goto err_unlock;
		nla_nest_end(msg, nest);
	}
	mutex_unlock(&kn->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&kn->lock);
err:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int klb_cmd_generation_get(struct sk_buff *skb, struct genl_info *info)
{
	return klb_reply_generation(info, KLB_CMD_GENERATION_GET, false);
}

static int klb_cmd_info_get(struct sk_buff *skb, struct genl_info *info)
{
	return klb_reply_generation(info, KLB_CMD_INFO_GET, true);
}

static int klb_cmd_generation_set(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	int err;

	if (klb_missing(info, KLB_A_GENERATION, "request needs the generation"))
		return -EINVAL;
	mutex_lock(&kn->lock);
	err = klb_generation_check(kn, info);
	if (!err) {
		klb_generation_advance(kn, info);
		klb_notify(kn, KLB_CMD_GENERATION_SET, NULL, NULL);
	}
	mutex_unlock(&kn->lock);
	return err;
}

/* ---- transactions ----------------------------------------------------- */

static int klb_cmd_txn_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct nlattr *tb[KLB_SVC_A_MAX + 1];
	struct klb_service_key key;
	struct klb_service *svc;
	struct klb_txn *txn;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = klb_parse_service(info, tb, &key);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &klb_family, 0, KLB_CMD_TXN_BEGIN);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err;
	}
	mutex_lock(&kn->lock);
	svc = klb_req_service(kn, info, &key);
	if (!svc) {
		err = -ENOENT;
		goto err_unlock;
	}
	if (kn->nr_txns >= READ_ONCE(klb_max_txns)) {
		atomic64_inc(&kn->txn_limit_hits);
		NL_SET_ERR_MSG(info->extack, "too many transactions (max_txns)");
		err = -ENOSPC;
		goto err_unlock;
	}
	txn = klb_txn_open(kn, svc, false, info->extack);
	if (IS_ERR(txn)) {
		err = PTR_ERR(txn);
		goto err_unlock;
	}
	txn->portid = info->snd_portid;
	txn->owner = NETLINK_CB(skb).sk;
	if (nla_put_u32(msg, KLB_A_TXN, txn->id)) {
		klb_txn_close(kn, txn);
		err = -EMSGSIZE;
		goto err_unlock;
	}
	mutex_unlock(&kn->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&kn->lock);
err:
	nlmsg_free(msg);
	return err;
}

static struct klb_txn *klb_req_txn(struct klb_net *kn, struct sk_buff *skb,
				   struct genl_info *info)
{
	struct klb_txn *txn;

	if (klb_missing(info, KLB_A_TXN, "request needs the transaction id"))
		return NULL;
	txn = klb_txn_find(kn, nla_get_u32(info->attrs[KLB_A_TXN]),
			   NETLINK_CB(skb).sk);
	if (!txn)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KLB_A_TXN],
				    "no such transaction on this socket");
	return txn;
}

static int klb_cmd_txn_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct klb_service_key key;
	struct klb_txn *txn;
	int err;

	mutex_lock(&kn->lock);
	txn = klb_req_txn(kn, skb, info);
	if (!txn) {
		err = info->attrs[KLB_A_TXN] ? -ENOENT : -EINVAL;
		goto out;
	}
	key = txn->key;
	err = klb_generation_check(kn, info);
	if (err) {
		klb_txn_close(kn, txn);
		goto out;
	}
	err = klb_txn_commit(kn, txn, info->extack);
	if (!err) {
		klb_generation_advance(kn, info);
		klb_notify(kn, KLB_CMD_TXN_COMMIT, &key, NULL);
	}
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int klb_cmd_txn_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct klb_net *kn = klb_net(genl_info_net(info));
	struct klb_txn *txn;
	int err = 0;

	mutex_lock(&kn->lock);
	txn = klb_req_txn(kn, skb, info);
	if (txn)
		klb_txn_close(kn, txn);
	else
		err = info->attrs[KLB_A_TXN] ? -ENOENT : -EINVAL;
	mutex_unlock(&kn->lock);
	return err;
}

/* ---- the family ------------------------------------------------------- */

static const struct genl_ops klb_ops[] = {
	{
		.cmd = KLB_CMD_STATS_GET,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.dumpit = klb_dump_stats,
	},
	{
		.cmd = KLB_CMD_FLOW_GET,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.dumpit = klb_dump_flows,
	},
	{
		.cmd = KLB_CMD_FLOW_FLUSH,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_flow_flush,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_SERVICE_NEW,
		.policy = klb_service_new_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_service_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_SERVICE_SET,
		.policy = klb_service_set_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_service_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_SERVICE_DEL,
		.policy = klb_service_del_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_service_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_SERVICE_GET,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_service_get,
		.dumpit = klb_dump_services,
	},
	{
		.cmd = KLB_CMD_BACKEND_NEW,
		.policy = klb_backend_write_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_backend_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_BACKEND_SET,
		.policy = klb_backend_write_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_backend_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_BACKEND_DEL,
		.policy = klb_backend_del_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_backend_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_BACKEND_GET,
		.policy = klb_backend_get_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_backend_get,
		.dumpit = klb_dump_backends,
	},
	{
		.cmd = KLB_CMD_TABLE_SET,
		.policy = klb_table_set_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_table_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_TABLE_DEL,
		.policy = klb_table_del_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_table_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_TABLE_GET,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.dumpit = klb_dump_table,
	},
	{
		.cmd = KLB_CMD_FLUSH,
		.policy = klb_netns_write_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_flush,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_GENERATION_GET,
		.policy = klb_no_attr_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_generation_get,
	},
	{
		.cmd = KLB_CMD_GENERATION_SET,
		.policy = klb_netns_write_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_generation_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_INFO_GET,
		.policy = klb_no_attr_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_info_get,
	},
	{
		.cmd = KLB_CMD_TXN_BEGIN,
		.policy = klb_service_key_only_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_txn_begin,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_TXN_COMMIT,
		.policy = klb_txn_commit_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_txn_commit,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KLB_CMD_TXN_ABORT,
		.policy = klb_txn_abort_policy,
		.maxattr = KLB_A_MAX,
		.doit = klb_cmd_txn_abort,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family klb_family __ro_after_init = {
	.name = KLB_GENL_NAME,
	.version = KLB_GENL_VERSION,
	.netnsok = true,
	/*
	 * Handlers serialize on their netns's klb_net.lock only: a long table
	 * check must not hold genl_mutex, which every other family without
	 * parallel_ops (and nlctrl's family lookups) needs.
	 */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = klb_ops,
	.n_ops = ARRAY_SIZE(klb_ops),
	.mcgrps = klb_mcgrps,
	.n_mcgrps = ARRAY_SIZE(klb_mcgrps),
};

int __init klb_genl_init(void)
{
	return genl_register_family(&klb_family);
}

void klb_genl_exit(void)
{
	genl_unregister_family(&klb_family);
}
