// SPDX-License-Identifier: GPL-2.0
/* klbctl backend add|set|del|renew|show */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klbctl/klbctl.h"

/* backend add's own keyword, beside the backend's fields. */
#define BE_ARG_TTL	(1u << 31)

/*
 * PROTO VIP:PORT ADDR:PORT [weight W] [state S] [ttl S]; allowed says
 * which keywords the command takes (KLB_BE_WEIGHT, KLB_BE_STATE,
 * BE_ARG_TTL: then *ttl, 0 when not given).
 */
static int backend_args(struct ctx *ctx, int argc, char **argv,
			struct klb_service_key *key, struct klb_backend *be,
			uint32_t allowed, uint16_t *ttl)
{
	char what[160];
	uint32_t n;
	int i, ret;

	memset(be, 0, sizeof(*be));
	if (ttl)
		*ttl = 0;
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
		} else if (matches(kw, "ttl") && (allowed & BE_ARG_TTL)) {
			if (!val)
				return usage_error(ctx, "'ttl' needs a value");
			if (parse_u32(val, &n) || n < KLBD_LEASE_TTL_MIN ||
			    n > KLBD_LEASE_TTL_MAX)
				return usage_error(ctx, "ttl is %u to %u seconds, not '%s'",
						   KLBD_LEASE_TTL_MIN, KLBD_LEASE_TTL_MAX, val);
			*ttl = n;
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

	uint16_t ttl;

	ret = backend_args(ctx, argc, argv, &key, &be, KLB_BE_WEIGHT | BE_ARG_TTL,
			   &ttl);
	if (ret)
		return ret;
	if (!(be.fields & KLB_BE_WEIGHT))
		be.weight = KLB_WEIGHT_DEFAULT;
	be.fields |= KLB_BE_WEIGHT | KLB_BE_STATE;
	be.state = KLB_BACKEND_UP;
	if (!ttl)
		return ctx->ops->backend_add(ctx, &key, &be);
	/* A lease's deadline is klbd's leader's: no lease in the kernel alone. */
	if (ctx->ops != &klbd_ops)
		return usage_error(ctx, "a lease (ttl) needs klbd, not --direct");
	return klbd_backend_lease(ctx, &key, &be, ttl);
}

int cmd_backend_renew(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_backend be;
	int ret;

	ret = backend_args(ctx, argc, argv, &key, &be, 0, NULL);
	if (ret)
		return ret;
	if (ctx->ops != &klbd_ops)
		return usage_error(ctx, "a lease is klbd's: renew needs klbd, not --direct");
	return klbd_backend_renew(ctx, &key, &be);
}

int cmd_backend_set(struct ctx *ctx, int argc, char **argv)
{
	struct klb_service_key key;
	struct klb_backend be;
	int ret;

	ret = backend_args(ctx, argc, argv, &key, &be, KLB_BE_WEIGHT | KLB_BE_STATE,
			   NULL);
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

	ret = backend_args(ctx, argc, argv, &key, &be, 0, NULL);
	if (ret)
		return ret;
	return ctx->ops->backend_del(ctx, &key, &be);
}

/* klbd's word on each backend's health (KLBD_CTL_HEALTH), by id. */
struct health_row {
	unsigned int id;
	const char *health;
	const char *failing_on[KLBD_HEALTH_SHOW_IDS];
	size_t n_failing;
};

static size_t health_rows(char *body, struct health_row *rows, size_t cap)
{
	char *line, *save, *id, *word, *list, *s2, *tok;
	size_t n = 0;

	for (line = strtok_r(body, "\n", &save); line && n < cap;
	     line = strtok_r(NULL, "\n", &save)) {
		struct health_row *r = &rows[n];

		id = strtok_r(line, " ", &s2);
		word = strtok_r(NULL, " ", &s2);
		list = strtok_r(NULL, " ", &s2);
		if (!id || !word || !list)
			continue;
		r->id = strtoul(id, NULL, 10);
		r->health = word;
		r->n_failing = 0;
		for (tok = strtok_r(list, ",", &s2); tok && strcmp(tok, "-") &&
		     r->n_failing < KLBD_HEALTH_SHOW_IDS; tok = strtok_r(NULL, ",", &s2))
			r->failing_on[r->n_failing++] = tok;
		n++;
	}
	return n;
}

/*
 * Health is klbd's: asked when it runs here. Without it (or when it does
 * not know the service) the columns are left out.
 */
static struct health_row *health_read(struct ctx *ctx,
				      const struct klb_service_key *key,
				      struct klbd_answer *a, size_t *n)
{
	uint8_t body[KLBD_KEY_BYTES];
	struct health_row *rows;
	struct timespec ts;

	*n = 0;
	if (ctx->ops != &klbd_ops)
		return NULL;
	klbd_key_encode(key, body);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (klbd_call(KLBD_CTL_HEALTH, body, sizeof(body),
		      (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 10000, a))
		return NULL;
	if (a->status) {
		free(a->buf);
		a->buf = NULL;
		return NULL;
	}
	rows = calloc(KLB_BACKEND_ID_MAX + 1, sizeof(*rows));
	if (rows)
		*n = health_rows(a->body, rows, KLB_BACKEND_ID_MAX + 1);
	return rows;
}

static const struct health_row *health_find(const struct health_row *rows,
					    size_t n, unsigned int id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].id == id)
			return &rows[i];
	return NULL;
}

int cmd_backend_show(struct ctx *ctx, int argc, char **argv)
{
	char name[WHAT_STRLEN], addr[ENDPOINT_STRLEN];
	struct stats_set stats = { 0 };
	struct klb_service_key key;
	struct klbd_answer a = { 0 };
	struct health_row *rows;
	struct klb_backend *bes;
	struct klb_client *c;
	klb_error e;
	size_t n, i, n_rows;
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
	rows = health_read(ctx, &key, &a, &n_rows);
	out_list_begin();
	for (i = 0; i < n; i++) {
		const struct health_row *h = rows ?
			health_find(rows, n_rows, bes[i].id) : NULL;

		out_record_begin();
		out_uint("id", bes[i].id);
		out_str("addr", fmt_endpoint(&bes[i].addr, addr));
		out_uint("weight", bes[i].weight);
		out_str("state", state_name(bes[i].state));
		if (rows) {
			/* The kernel and klbd may be an apply apart. */
			out_str("health", h ? h->health : "unknown");
			out_str_list("failing_on", h ? h->failing_on : NULL,
				     h ? h->n_failing : 0);
		}
		if (ctx->stats)
			out_stats(stats_find(&stats, &key, bes[i].id));
		out_record_end();
	}
	out_list_end();
	out_finish();
	stats_free(&stats);
	free(rows);
	free(a.buf);
	free(bes);
	return EXIT_OK;
}
