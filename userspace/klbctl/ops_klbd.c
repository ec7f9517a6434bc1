// SPDX-License-Identifier: GPL-2.0
/*
 * Writes through klbd, so that every gateway of the cluster agrees on
 * them. klbd's control protocol does not exist yet: until it does, say so
 * plainly instead of writing to the kernel behind the cluster's back.
 */

#include "klbctl/klbctl.h"

static int klbd_unsupported(void)
{
	return report_msg("klbd",
			  "klbd control socket found but not supported by this klbctl yet (use --direct to write to the kernel anyway)");
}

static int klbd_service_add(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf)
{
	return klbd_unsupported();
}

static int klbd_service_set(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf,
			    uint32_t clear_flags)
{
	return klbd_unsupported();
}

static int klbd_service_del(struct ctx *ctx, const struct klb_service_key *key)
{
	return klbd_unsupported();
}

static int klbd_backend(struct ctx *ctx, const struct klb_service_key *key,
			const struct klb_backend *be)
{
	return klbd_unsupported();
}

static int klbd_flush(struct ctx *ctx)
{
	return klbd_unsupported();
}

static int klbd_restore(struct ctx *ctx, const struct klb_service_spec *specs,
			size_t n)
{
	return klbd_unsupported();
}

const struct klbctl_ops klbd_ops = {
	.name = "klbd",
	.service_add = klbd_service_add,
	.service_set = klbd_service_set,
	.service_del = klbd_service_del,
	.backend_add = klbd_backend,
	.backend_set = klbd_backend,
	.backend_del = klbd_backend,
	.flush = klbd_flush,
	.restore = klbd_restore,
};
