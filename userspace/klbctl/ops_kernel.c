// SPDX-License-Identifier: GPL-2.0
/*
 * Writes straight to the kernel, through the apply engine
 * (lib/klb_apply.h): each command is one call, and a failure is printed
 * naming the object it concerns.
 */

#include "klbctl/klbctl.h"
#include "lib/klb_apply.h"

static int kernel_service_add(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_service_conf *conf,
			      const struct klbd_check *check)
{
	char what[WHAT_STRLEN];
	struct klb_client *c;
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_apply_service_add(c, key, conf, &e))
		return report_error(fmt_service_what(key, what), &e);
	return EXIT_OK;
}

static int kernel_service_set(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_service_conf *conf,
			      uint32_t clear_flags, const struct klbd_check *check)
{
	char what[WHAT_STRLEN];
	struct klb_client *c;
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_apply_service_set(c, key, conf, clear_flags, &e))
		return report_error(fmt_service_what(key, what), &e);
	return EXIT_OK;
}

static int kernel_service_del(struct ctx *ctx, const struct klb_service_key *key)
{
	char what[WHAT_STRLEN];
	struct klb_client *c;
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_apply_service_del(c, key, &e))
		return report_error(fmt_service_what(key, what), &e);
	return EXIT_OK;
}

static int kernel_flush(struct ctx *ctx)
{
	struct klb_client *c;
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_apply_flush(c, &e))
		return report_error("flush", &e);
	return EXIT_OK;
}

typedef int (*backend_apply_fn)(struct klb_client *c,
				const struct klb_service_key *key,
				const struct klb_backend *be, klb_error *e);

static int backend_write(struct ctx *ctx, backend_apply_fn apply,
			 const struct klb_service_key *key,
			 const struct klb_backend *be)
{
	struct klb_client *c;
	char what[160];
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (apply(c, key, be, &e))
		return report_error(fmt_backend(key, &be->addr, what, sizeof(what)), &e);
	return EXIT_OK;
}

static int kernel_backend_add(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, klb_apply_backend_add, key, be);
}

static int kernel_backend_set(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, klb_apply_backend_set, key, be);
}

static int kernel_backend_del(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, klb_apply_backend_del, key, be);
}

static int kernel_restore(struct ctx *ctx, const struct klb_service_spec *specs,
			  const struct klbd_check *checks, size_t n)
{
	struct klb_apply_failure where;
	char what[WHAT_STRLEN];
	struct klb_client *c;
	klb_error e;
	int ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_apply_services(c, specs, n, &where, &e))
		return report_error(where.has_service ?
				    fmt_service_what(&where.service, what) :
				    "restore", &e);
	return EXIT_OK;
}

const struct klbctl_ops kernel_ops = {
	.name = "kernel",
	.service_add = kernel_service_add,
	.service_set = kernel_service_set,
	.service_del = kernel_service_del,
	.backend_add = kernel_backend_add,
	.backend_set = kernel_backend_set,
	.backend_del = kernel_backend_del,
	.flush = kernel_flush,
	.restore = kernel_restore,
};
