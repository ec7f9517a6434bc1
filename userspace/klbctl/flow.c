// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl flow show|flush|where: the fast path's flow table, read straight from this gateway's kernel (they are its own, not
 * replicated configuration); "where" needs only the table, the seed and the
 * shared flow hash.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klb/addr.h>
#include <klb/flow_hash.h>
#include <klb/maglev.h>

#include "klbctl/klbctl.h"

/* [PROTO VIP:PORT] then the command's own keywords from *i. */
static int optional_service(struct ctx *ctx, int argc, char **argv, int *i,
			    struct klb_service_key *key, bool *have)
{
	int ret;

	*i = 0;
	*have = false;
	if (argc >= 1 && !parse_proto(argv[0], &key->proto)) {
		ret = service_key_args(ctx, argc, argv, key);
		if (ret)
			return ret;
		*i = 2;
		*have = true;
	}
	return 0;
}

/* [PROTO VIP:PORT] and nothing else. */
int only_optional_service(struct ctx *ctx, int argc, char **argv,
				 struct klb_service_key *key, bool *have)
{
	int i, ret;

	ret = optional_service(ctx, argc, argv, &i, key, have);
	if (ret)
		return ret;
	if (i < argc)
		return usage_error(ctx, "unexpected '%s'", argv[i]);
	return 0;
}

static const char *flow_state_name(uint8_t state)
{
	static const char *const names[] = {
		[KLB_FLOW_SYN] = "syn",
		[KLB_FLOW_ESTABLISHED] = "established",
		[KLB_FLOW_CLOSING] = "closing",
		[KLB_FLOW_CLOSED] = "closed",
		[KLB_FLOW_UDP] = "udp",
	};

	return state <= KLB_FLOW_STATE_MAX ? names[state] : "?";
}

struct flow_show {
	bool by_backend;
	struct klb_endpoint backend;
	unsigned long n;
};

static int print_flow(const struct klb_flow_rec *r, void *data)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];
	struct flow_show *f = data;

	if (f->by_backend && !klb_endpoint_equal(&r->backend.addr, &f->backend))
		return 0;
	out_record_begin();
	out_str("service", fmt_service(&r->key, svc));
	out_str("client", fmt_endpoint(&r->client, addr));
	out_str("backend", fmt_endpoint(&r->backend.addr, addr));
	out_uint("backend_id", r->backend.id);
	out_str("state", flow_state_name(r->state));
	out_uint("expires_ms", r->expires_ms);
	out_record_end();
	f->n++;
	return 0;
}

int cmd_flow_show(struct ctx *ctx, int argc, char **argv)
{
	struct flow_show f = { 0 };
	struct klb_service_key key;
	struct klb_client *c;
	bool have_key;
	klb_error e;
	int i, ret;

	ret = optional_service(ctx, argc, argv, &i, &key, &have_key);
	if (ret)
		return ret;
	if (i < argc) {
		if (!matches(argv[i], "backend"))
			return usage_error(ctx, "unknown keyword '%s'", argv[i]);
		if (i + 1 >= argc || parse_endpoint(argv[i + 1], &f.backend))
			return usage_error(ctx, "'backend' needs ADDR:PORT");
		if (i + 2 < argc)
			return usage_error(ctx, "unexpected '%s'", argv[i + 2]);
		f.by_backend = true;
	}
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	out_list_begin();
	if (klb_flow_dump(c, have_key ? &key : NULL, print_flow, &f, &e))
		return report_error("flow show", &e);
	out_list_end();
	out_finish();
	return EXIT_OK;
}

int cmd_flow_flush(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_client *c;
	bool have_key;
	klb_error e;
	int ret;

	ret = only_optional_service(ctx, argc, argv, &key, &have_key);
	if (ret)
		return ret;
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	/* Flows are this gateway's own state: never a replicated write. */
	if (klb_flow_flush(c, have_key ? &key : NULL, &e))
		return report_error("flow flush", &e);
	return EXIT_OK;
}

static void canonical(const struct klb_endpoint *ep, uint8_t *out)
{
	if (ep->family == AF_INET) {
		__be32 v4;

		memcpy(&v4, ep->addr, sizeof(v4));
		klb_addr_from_ipv4(out, v4);
	} else {
		klb_addr_from_ipv6(out, ep->addr);
	}
}

int cmd_flow_where(struct ctx *ctx, int argc, char **argv)
{
	char what[WHAT_STRLEN], client_s[ENDPOINT_STRLEN];
	char hash_s[20], vip_s[ENDPOINT_STRLEN], svc_s[SERVICE_STRLEN];
	const char *cand_names[KLB_MAGLEV_CAND_MAX];
	uint16_t cands[KLB_MAGLEV_CAND_MAX];
	struct klb_backend *bes = NULL, *chosen = NULL;
	struct klb_service_key key;
	struct klb_endpoint client;
	struct klb_flow_key fk = { 0 };
	struct klb_hash_seed seed;
	struct klb_service svc;
	struct klb_table table = { 0 };
	struct klb_client *c;
	char **names = NULL;
	unsigned int nr_cands = 0, k;
	uint64_t hash;
	uint32_t slot;
	klb_error e;
	size_t n, i;
	int ret, tries;

	ret = service_key_args(ctx, argc, argv, &key);
	if (ret)
		return ret;
	if (argc != 3)
		return usage_error(ctx, argc < 3 ? "missing CLIENT:PORT" :
				   "unexpected '%s'", argc > 3 ? argv[3] : "");
	if (parse_endpoint(argv[2], &client))
		return usage_error(ctx, "bad client address '%s'", argv[2]);
	fmt_service_what(&key, what);
	if (client.family != key.vip.family)
		return report_msg(what, "client address family differs from the service's");
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	/* The service's seed and the table, from one version. */
	for (tries = 0;; tries++) {
		if (klb_service_get(c, &key, &svc, &e))
			return report_error(what, &e);
		if (!(svc.conf.fields & KLB_SVC_SEED))
			return report_msg(what, "reading the service's hash seed needs CAP_NET_ADMIN");
		if (!klb_sched_is_maglev(svc.conf.sched))
			return report_msg(what, "scheduler %s picks backends by load, not by a table: a new flow's backend depends on live connection counts",
					  sched_name(svc.conf.sched));
		if (!svc.table_loaded)
			return report_msg(what, "the service has no table: a new flow gets no backend");
		if (read_table(c, &key, &table, &bes, &n, &e))
			return report_error(what, &e);
		if (table.version == svc.version || tries == KLBCTL_CAS_RETRIES)
			break;
		free(table.ids);
		free(bes);
	}

	fk.family = (uint8_t)key.vip.family;
	fk.proto = key.proto;
	fk.sport = htons(client.port);
	fk.dport = htons(key.vip.port);
	canonical(&client, fk.saddr);
	canonical(&key.vip, fk.daddr);
	klb_hash_seed_from_bytes(&seed, svc.conf.seed);
	hash = klb_flow_hash(&fk, &seed, svc.conf.flags & KLB_SVC_F_AFFINITY_SRC);
	slot = klb_maglev_slot(hash, table.size);
	names = backend_names(bes, n);
	if (!names) {
		ret = report_msg(what, "out of memory");
		goto out;
	}
	if (svc.conf.sched == KLB_SCHED_MAGLEV_BOUNDED) {
		/*
		 * Bounded loads move a flow down its candidates while one is
		 * full; without the fast path's counters every backend counts
		 * as below its bound, so the first one taking new flows wins.
		 */
		nr_cands = klb_maglev_candidates(table.ids, table.size, hash, cands,
						 KLB_MAGLEV_CAND_MAX, table.size);
		for (k = 0; k < nr_cands; k++) {
			cand_names[k] = names[cands[k]] ? names[cands[k]] : "?";
			for (i = 0; !chosen && i < n; i++)
				if (bes[i].id == cands[k] && klb_backend_takes_new_flows(bes[i].state, bes[i].weight))
					chosen = &bes[i];
		}
	} else {
		for (i = 0; i < n; i++)
			if (bes[i].id == table.ids[slot])
				chosen = &bes[i];
	}
	snprintf(hash_s, sizeof(hash_s), "%016" PRIx64, hash);
	out_record_begin();
	out_str("service", fmt_service(&key, svc_s));
	out_str("vip", fmt_endpoint(&key.vip, vip_s));
	out_str("client", fmt_endpoint(&client, client_s));
	out_str("hash", hash_s);
	out_uint("slot", slot);
	out_str("backend", chosen ? names[chosen->id] : "none");
	if (chosen) {
		out_uint("id", chosen->id);
		out_str("state", state_name(chosen->state));
	}
	if (svc.conf.sched == KLB_SCHED_MAGLEV_BOUNDED)
		out_str_list("candidates", cand_names, nr_cands);
	out_str("note", "choice for a NEW flow; an established flow stays on its backend");
	out_record_end();
	out_finish();
	ret = EXIT_OK;
out:
	free_backend_names(names);
	free(bes);
	free(table.ids);
	return ret;
}
