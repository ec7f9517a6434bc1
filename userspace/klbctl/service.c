// SPDX-License-Identifier: GPL-2.0
/* klbctl service add|set|del|show */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "klbctl/klbctl.h"

/* PROTO VIP:PORT [KEYWORD VALUE]...: add and set take the same words. */
static int service_conf_args(struct ctx *ctx, int argc, char **argv,
			     struct klb_service_key *key,
			     struct klb_service_conf *conf, uint32_t *clear,
			     struct klbd_check *check)
{
	int ret;

	memset(conf, 0, sizeof(*conf));
	*clear = 0;
	ret = service_key_args(ctx, argc, argv, key);
	if (ret)
		return ret;
	ret = parse_service_options(ctx, argc - 2, argv + 2, conf, clear, check);
	if (ret)
		return ret;
	/* Only klbd probes: a kernel alone has no one to run the check. */
	if (check->fields && ctx->ops == &kernel_ops)
		return report_msg("service",
				  "health checks are run by klbd: it is not running here, or --direct was given");
	return 0;
}

int cmd_service_add(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_conf conf;
	struct klb_service_key key;
	struct klbd_check check;
	uint32_t clear;
	int ret;

	ret = service_conf_args(ctx, argc, argv, &key, &conf, &clear, &check);
	if (ret)
		return ret;
	/* Defaults spelled out, so that the table is built for what we send. */
	if (!(conf.fields & KLB_SVC_SCHED))
		conf.sched = KLB_SCHED_MAGLEV;
	if (!(conf.fields & KLB_SVC_FWD))
		conf.fwd = KLB_FWD_NAT;
	if (!(conf.fields & KLB_SVC_TABLE_SIZE))
		conf.table_size = KLB_TABLE_SIZE_DEFAULT;
	conf.fields |= KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE;
	if (!(conf.fields & KLB_SVC_SEED)) {
		if (getrandom(conf.seed, sizeof(conf.seed), 0) != sizeof(conf.seed))
			return report_msg("service", "getrandom: %s", strerror(errno));
		conf.fields |= KLB_SVC_SEED;
	}
	return ctx->ops->service_add(ctx, &key, &conf, &check);
}

int cmd_service_set(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_conf conf;
	struct klb_service_key key;
	struct klbd_check check;
	uint32_t clear;
	int ret;

	ret = service_conf_args(ctx, argc, argv, &key, &conf, &clear, &check);
	if (ret)
		return ret;
	if (!conf.fields && !check.fields)
		return usage_error(ctx, "nothing to set");
	return ctx->ops->service_set(ctx, &key, &conf, clear, &check);
}

int cmd_service_del(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	int ret;

	ret = service_key_only(ctx, argc, argv, &key);
	if (ret)
		return ret;
	return ctx->ops->service_del(ctx, &key);
}

static void print_service(const struct klb_service *svc,
			  const struct klb_stats_rec *stats, bool with_stats)
{
	char vip[ENDPOINT_STRLEN], seed[2 * KLB_SEED_LEN + 1];
	const struct klb_service_conf *conf = &svc->conf;

	out_record_begin();
	out_str("proto", proto_name(svc->key.proto));
	out_str("vip", fmt_endpoint(&svc->key.vip, vip));
	out_str("sched", sched_name(conf->sched));
	out_str("fwd", fwd_name(conf->fwd));
	out_uint("table_size", conf->table_size);
	out_uint("bound", conf->bound);
	out_str("affinity", conf->flags & KLB_SVC_F_AFFINITY_SRC ? "src" : "none");
	out_str("down_policy", conf->flags & KLB_SVC_F_DOWN_DROP ? "drop" : "resteer");
	out_uint("backends", svc->nr_backends);
	out_bool("table", svc->table_loaded);
	out_uint("version", svc->version);
	if (conf->fields & KLB_SVC_SEED) {
		fmt_hex(conf->seed, KLB_SEED_LEN, seed);
		out_str("seed", seed);
	}
	if (with_stats)
		out_stats(stats);
	out_record_end();
}

int cmd_service_show(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service *svcs = NULL, one;
	struct stats_set stats = { 0 };
	struct klb_service_key key;
	struct klb_client *c;
	char name[WHAT_STRLEN];
	klb_error e;
	size_t n, i;
	int ret;

	if (argc == 1 || argc > 2)
		return usage_error(ctx, argc == 1 ? "missing VIP:PORT" : "unexpected '%s'",
				   argc > 2 ? argv[2] : "");
	if (argc == 2) {
		ret = service_key_args(ctx, argc, argv, &key);
		if (ret)
			return ret;
	}
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (ctx->stats && stats_read(c, argc == 2 ? &key : NULL, &stats, &e))
		return report_error("stats", &e);
	if (argc == 2) {
		fmt_service_what(&key, name);
		if (klb_service_get(c, &key, &one, &e))
			return report_error(name, &e);
		svcs = &one;
		n = 1;
	} else if (klb_service_list(c, &svcs, &n, NULL, &e)) {
		return report_error("service", &e);
	}
	out_list_begin();
	for (i = 0; i < n; i++)
		print_service(&svcs[i], ctx->stats ?
			      stats_find(&stats, &svcs[i].key, -1) : NULL,
			      ctx->stats);
	out_list_end();
	out_finish();
	stats_free(&stats);
	if (svcs != &one)
		free(svcs);
	return EXIT_OK;
}
