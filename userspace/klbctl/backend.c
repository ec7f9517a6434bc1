// SPDX-License-Identifier: GPL-2.0
/* klbctl backend add|set|del|show */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbctl/klbctl.h"

/*
 * PROTO VIP:PORT ADDR:PORT [weight W] [state S]; allowed says which
 * keywords the command takes (KLB_BE_WEIGHT, KLB_BE_STATE).
 */
static int backend_args(struct ctx *ctx, int argc, char **argv,
			struct klb_service_key *key, struct klb_backend *be,
			uint32_t allowed)
{
	char what[160];
	int i, ret;

	memset(be, 0, sizeof(*be));
	if (argc < 3)
		return usage_error(ctx, "missing %s", argc < 2 ? "PROTO VIP:PORT ADDR:PORT" :
				   "ADDR:PORT");
	ret = service_key_args(ctx, argc, argv, key);
	if (ret)
		return ret;
	if (parse_endpoint(argv[2], &be->addr))
		return usage_error(ctx, "bad backend address '%s' (want 198.51.100.2:80 or [2001:db8::2]:80, port 1..65535)",
				   argv[2]);
	for (i = 3; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (matches(kw, "weight") && (allowed & KLB_BE_WEIGHT)) {
			if (!val)
				return usage_error(ctx, "'weight' needs a value");
			if (parse_u32(val, &be->weight) && !(val[0] >= '0' && val[0] <= '9'))
				return usage_error(ctx, "weight '%s' is not a number", val);
			if (parse_u32(val, &be->weight) || be->weight > KLB_WEIGHT_MAX)
				return report_msg(fmt_backend(key, &be->addr, what, sizeof(what)),
						  "weight out of range (0..%u)", KLB_WEIGHT_MAX);
			be->fields |= KLB_BE_WEIGHT;
		} else if (matches(kw, "state") && (allowed & KLB_BE_STATE)) {
			if (!val)
				return usage_error(ctx, "'state' needs a value");
			if (parse_state(val, &be->state))
				return usage_error(ctx, "state is up, drain or down, not '%s'", val);
			be->fields |= KLB_BE_STATE;
		} else {
			return usage_error(ctx, "unknown keyword '%s'", kw);
		}
	}
	if (be->addr.family != key->vip.family)
		return report_msg(fmt_backend(key, &be->addr, what, sizeof(what)),
				  "backend address family differs from the service's");
	return 0;
}

int cmd_backend_add(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_backend be;
	int ret;

	ret = backend_args(ctx, argc, argv, &key, &be, KLB_BE_WEIGHT);
	if (ret)
		return ret;
	if (!(be.fields & KLB_BE_WEIGHT))
		be.weight = KLB_WEIGHT_DEFAULT;
	be.fields |= KLB_BE_WEIGHT | KLB_BE_STATE;
	be.state = KLB_BACKEND_UP;
	return ctx->ops->backend_add(ctx, &key, &be);
}

int cmd_backend_set(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_backend be;
	int ret;

	ret = backend_args(ctx, argc, argv, &key, &be, KLB_BE_WEIGHT | KLB_BE_STATE);
	if (ret)
		return ret;
	if (!be.fields)
		return usage_error(ctx, "nothing to set (weight W or state up|drain|down)");
	return ctx->ops->backend_set(ctx, &key, &be);
}

int cmd_backend_del(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_backend be;
	int ret;

	ret = backend_args(ctx, argc, argv, &key, &be, 0);
	if (ret)
		return ret;
	return ctx->ops->backend_del(ctx, &key, &be);
}

int cmd_backend_show(struct ctx *ctx, int argc, char **argv)
{
	char name[WHAT_STRLEN], addr[ENDPOINT_STRLEN];
	struct stats_set stats = { 0 };
	struct klb_service_key key;
	struct klb_backend *bes;
	struct klb_client *c;
	klb_error e;
	size_t n, i;
	int ret;

	ret = service_key_only(ctx, argc, argv, &key);
	if (ret)
		return ret;
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	fmt_service_what(&key, name);
	if (klb_backend_list(c, &key, &bes, &n, NULL, &e))
		return report_error(name, &e);
	if (ctx->stats && stats_read(c, &key, &stats, &e)) {
		free(bes);
		return report_error(name, &e);
	}
	out_list_begin();
	for (i = 0; i < n; i++) {
		out_record_begin();
		out_uint("id", bes[i].id);
		out_str("addr", fmt_endpoint(&bes[i].addr, addr));
		out_uint("weight", bes[i].weight);
		out_str("state", state_name(bes[i].state));
		if (ctx->stats)
			out_stats(stats_find(&stats, &key, bes[i].id));
		out_record_end();
	}
	out_list_end();
	out_finish();
	stats_free(&stats);
	free(bes);
	return EXIT_OK;
}
