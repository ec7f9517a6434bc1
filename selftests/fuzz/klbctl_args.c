// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl's command line: the input is argv, words separated by NUL bytes.
 * The global options and the command lookup run as in main(); commands
 * that only parse and then write run too, against operations that check
 * what the parser produced instead of sending it. Commands that read from
 * the kernel (show, save, monitor, flow where) or from the standard input
 * (restore) stop after the lookup: past their arguments they need a
 * kernel (their arguments go through the same parse.c functions, which
 * the words are also fed to one by one).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klb/maglev.h>

#include "klbctl/klbctl.h"

#define MAX_WORDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "klbctl_args: %s\n", what);
		abort();
	}
}

static void check_endpoint(const struct klb_endpoint *ep)
{
	check(ep->family == AF_INET || ep->family == AF_INET6, "endpoint family");
	check(ep->port >= 1, "endpoint port 0");
}

static void check_key(const struct klb_service_key *key)
{
	check(key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP, "protocol");
	check_endpoint(&key->vip);
}

static void check_conf(const struct klb_service_conf *conf)
{
	if (conf->fields & KLB_SVC_SCHED)
		check(conf->sched <= KLB_SCHED_MAX, "scheduler");
	if (conf->fields & KLB_SVC_FWD)
		check(conf->fwd <= KLB_FWD_MAX, "forwarding method");
}

static void check_backend(const struct klb_service_key *key, const struct klb_backend *be)
{
	check_key(key);
	check_endpoint(&be->addr);
	check(be->addr.family == key->vip.family, "backend family");
	if (be->fields & KLB_BE_WEIGHT)
		check(be->weight <= 65535, "weight");
	if (be->fields & KLB_BE_STATE)
		check(be->state <= KLB_BACKEND_STATE_MAX, "backend state");
}

static int fuzz_service_add(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf,
			    const struct klbd_check *hc)
{
	check(!(hc->fields & ~(uint32_t)KLBD_CHECK_F_ALL), "unknown check setting");
	check_key(key);
	check_conf(conf);
	check(conf->fields & KLB_SVC_SEED, "service add without a seed");
	return EXIT_OK;
}

static int fuzz_service_set(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf, uint32_t clear_flags,
			    const struct klbd_check *hc)
{
	check(!(hc->fields & ~(uint32_t)KLBD_CHECK_F_ALL), "unknown check setting");
	check_key(key);
	check_conf(conf);
	check(conf->fields || hc->fields, "service set with nothing to set");
	check(!(conf->flags & clear_flags), "a flag both set and cleared");
	return EXIT_OK;
}

static int fuzz_service_del(struct ctx *ctx, const struct klb_service_key *key)
{
	check_key(key);
	return EXIT_OK;
}

static int fuzz_backend(struct ctx *ctx, const struct klb_service_key *key,
			const struct klb_backend *be)
{
	check_backend(key, be);
	return EXIT_OK;
}

static int fuzz_flush(struct ctx *ctx)
{
	return EXIT_OK;
}

static const struct klbctl_ops fuzz_ops = {
	.name = "fuzz",
	.service_add = fuzz_service_add,
	.service_set = fuzz_service_set,
	.service_del = fuzz_service_del,
	.backend_add = fuzz_backend,
	.backend_set = fuzz_backend,
	.backend_del = fuzz_backend,
	.flush = fuzz_flush,
};

/* Commands that parse and then only call ctx->ops, or refuse. */
static int (*const offline_commands[])(struct ctx *, int, char **) = {
	cmd_service_add, cmd_service_set, cmd_service_del,
	cmd_backend_add, cmd_backend_set, cmd_backend_del,
	cmd_flow_show, cmd_flow_flush, cmd_stats, cmd_flush,
};

static bool offline(const struct command *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(offline_commands) / sizeof(offline_commands[0]); i++)
		if (cmd->run == offline_commands[i])
			return true;
	return false;
}

/* What klbctl prints can be pasted back: endpoints read back the same. */
static void word(const char *w)
{
	char buf[ENDPOINT_STRLEN], why[160];
	struct klb_service_conf conf = { 0 };
	struct klb_endpoint ep, again;
	uint8_t seed[KLB_SEED_LEN];
	uint32_t clear = 0;
	uint64_t v;

	if (!parse_endpoint(w, &ep)) {
		check_endpoint(&ep);
		check(!parse_endpoint(fmt_endpoint(&ep, buf), &again), "printed endpoint unreadable");
		check(klb_endpoint_equal(&ep, &again), "printed endpoint reads back different");
	}
	if (!parse_u64(w, &v)) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		check(!strcmp(buf, w) || w[0] == '0', "number reads back different");
	}
	if (!parse_hex(w, seed, sizeof(seed))) {
		fmt_hex(seed, sizeof(seed), buf);
		check(!strcasecmp(buf, w), "hex reads back different");
	}
	if (!parse_service_option("seed", w, &conf, &clear, why, sizeof(why)))
		check(conf.fields == KLB_SVC_SEED, "seed sets something else");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *argv[MAX_WORDS + 1], **args;
	struct ctx ctx = { 0 };
	int argc = 0, i, ret;
	size_t off = 0;

	/* A NUL after the last word too, so that every word ends. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (off <= size && argc < MAX_WORDS) {
		argv[argc++] = copy + off;
		off += strlen(copy + off) + 1;
	}
	argv[argc] = NULL;
	for (i = 0; i < argc; i++)
		word(argv[i]);

	args = argv;
	ret = parse_command_line(&ctx, &argc, &args);
	check(ctx.cmd || ret == EXIT_OK || ret == EXIT_USAGE, "exit status of a usage error");
	if (ctx.cmd && offline(ctx.cmd)) {
		ctx.ops = &fuzz_ops;
		ret = ctx.cmd->run(&ctx, argc, args);
		check(ret == EXIT_OK || ret == EXIT_FAIL || ret == EXIT_USAGE, "exit status");
	}
	free(copy);
	return 0;
}
