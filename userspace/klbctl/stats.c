// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl stats, and -s on the show commands: the fast path's counters of
 * services and backends, read from this gateway's kernel.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "klbctl/klbctl.h"

static const struct {
	int attr;
	const char *name;
} stat_names[] = {
	{ KLB_STATS_A_PKTS_IN, "pkts_in" },
	{ KLB_STATS_A_BYTES_IN, "bytes_in" },
	{ KLB_STATS_A_PKTS_OUT, "pkts_out" },
	{ KLB_STATS_A_BYTES_OUT, "bytes_out" },
	{ KLB_STATS_A_FLOWS_NEW, "flows_new" },
	{ KLB_STATS_A_FLOWS_ACTIVE, "flows_active" },
	{ KLB_STATS_A_FLOWS_STATELESS, "flows_stateless" },
	{ KLB_STATS_A_FLOWS_RESTEERED, "flows_resteered" },
	{ KLB_STATS_A_DROP_NO_BACKEND, "drop_no_backend" },
	{ KLB_STATS_A_DROP_DOWN, "drop_down" },
	{ KLB_STATS_A_DROP_MTU, "drop_mtu" },
	{ KLB_STATS_A_DROP_NO_ROUTE, "drop_no_route" },
	{ KLB_STATS_A_DROP_ERROR, "drop_error" },
	{ KLB_STATS_A_DROP_TABLE_FULL, "drop_table_full" },
};

void out_stats(const struct klb_stats_rec *r)
{
	size_t i;

	for (i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++)
		out_uint(stat_names[i].name, r ? r->ctr[stat_names[i].attr] : 0);
}

static int print_stats(const struct klb_stats_rec *r, void *data)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];

	out_record_begin();
	out_str("service", fmt_service(&r->key, svc));
	out_str("backend", r->has_backend ? fmt_endpoint(&r->backend.addr, addr) : "-");
	out_stats(r);
	out_record_end();
	return 0;
}

static int collect_stats(const struct klb_stats_rec *r, void *data)
{
	struct stats_set *set = data;
	struct klb_stats_rec *recs;

	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 16;
		recs = realloc(set->recs, set->cap * sizeof(*recs));
		if (!recs)
			return -ENOMEM;
		set->recs = recs;
	}
	set->recs[set->n++] = *r;
	return 0;
}

int stats_read(struct klb_client *c, const struct klb_service_key *key,
	       struct stats_set *set, klb_error *e)
{
	memset(set, 0, sizeof(*set));
	return klb_stats_dump(c, key, collect_stats, set, e);
}

const struct klb_stats_rec *stats_find(const struct stats_set *set,
				       const struct klb_service_key *key,
				       int backend_id)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct klb_stats_rec *r = &set->recs[i];

		if (!klb_service_key_equal(&r->key, key))
			continue;
		if (backend_id < 0 ? !r->has_backend :
		    r->has_backend && r->backend.id == backend_id)
			return r;
	}
	return NULL;
}

void stats_free(struct stats_set *set)
{
	free(set->recs);
	memset(set, 0, sizeof(*set));
}

int cmd_stats(struct ctx *ctx, int argc, char **argv)
{
	char name[WHAT_STRLEN];
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
	out_list_begin();
	if (klb_stats_dump(c, have_key ? &key : NULL, print_stats, NULL, &e))
		return report_error(have_key ? fmt_service_what(&key, name) :
				    "stats", &e);
	out_list_end();
	out_finish();
	return EXIT_OK;
}

/* The netns's limits, what is in use, and the refusals they caused. */
int cmd_info(struct ctx *ctx, int argc, char **argv)
{
	struct klb_client *c;
	struct klb_info info;
	klb_error e;
	int ret;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_info_get(c, &info, &e))
		return report_error("info", &e);
	out_record_begin();
	out_uint("generation", info.generation);
	out_uint("services", info.services);
	out_uint("max_services", info.max_services);
	out_uint("service_limit_hits", info.service_limit_hits);
	out_uint("max_backends", info.max_backends);
	out_uint("backend_limit_hits", info.backend_limit_hits);
	out_uint("max_table_size", info.max_table_size);
	out_uint("table_limit_hits", info.table_limit_hits);
	out_uint("chunk_limit_hits", info.chunk_limit_hits);
	out_uint("txns", info.txns);
	out_uint("max_txns", info.max_txns);
	out_uint("txn_limit_hits", info.txn_limit_hits);
	out_uint("flows", info.flows);
	out_uint("max_flows", info.max_flows);
	out_uint("flow_limit_hits", info.flow_limit_hits);
	out_uint("flow_evictions", info.flow_evictions);
	out_uint("flow_entry_bytes_ipv4", info.flow_entry_bytes4);
	out_uint("flow_entry_bytes_ipv6", info.flow_entry_bytes6);
	out_record_end();
	out_finish();
	return EXIT_OK;
}
