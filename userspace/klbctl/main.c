// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl: the operators' command line for klb. Options, the dispatch
 * table, the network namespace switch, and the choice of where writes go
 * (the kernel, or klbd when its control socket is there).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klbctl/klbctl.h"

#define SVC_OPTS "[sched maglev|maglev-bounded|wlc|wrr|rr] [fwd nat|tunnel] " \
	"[table-size M] [bound C] [affinity src|none] [down-policy resteer|drop] [seed HEX32] " \
	"[check tcp|http[:STATUS]|https[:STATUS]|dns|exec:NAME|none] [check-port PORT] [interval MS] [timeout MS] [rise N] [fall N]"

static const struct command commands[] = {
	{ "service", "add", cmd_service_add,
	  "service add PROTO VIP:PORT " SVC_OPTS },
	{ "service", "set", cmd_service_set,
	  "service set PROTO VIP:PORT " SVC_OPTS },
	{ "service", "del", cmd_service_del, "service del PROTO VIP:PORT" },
	{ "service", "show", cmd_service_show, "service show [PROTO VIP:PORT]" },
	{ "backend", "add", cmd_backend_add,
	  "backend add PROTO VIP:PORT ADDR:PORT [weight W] [ttl S]" },
	{ "backend", "set", cmd_backend_set,
	  "backend set PROTO VIP:PORT ADDR:PORT [weight W] [state up|drain|down]" },
	{ "backend", "del", cmd_backend_del,
	  "backend del PROTO VIP:PORT ADDR:PORT" },
	{ "backend", "renew", cmd_backend_renew,
	  "backend renew PROTO VIP:PORT ADDR:PORT" },
	{ "backend", "show", cmd_backend_show, "backend show PROTO VIP:PORT" },
	{ "table", "show", cmd_table_show, "table show PROTO VIP:PORT" },
	{ "flow", "show", cmd_flow_show,
	  "flow show [PROTO VIP:PORT] [backend ADDR:PORT]" },
	{ "flow", "flush", cmd_flow_flush, "flow flush [PROTO VIP:PORT]" },
	{ "flow", "where", cmd_flow_where,
	  "flow where PROTO VIP:PORT CLIENT:PORT" },
	{ NULL, "stats", cmd_stats, "stats [PROTO VIP:PORT]" },
	{ NULL, "info", cmd_info, "info" },
	{ NULL, "save", cmd_save, "save" },
	{ NULL, "restore", cmd_restore, "restore" },
	{ NULL, "flush", cmd_flush, "flush" },
	{ NULL, "monitor", cmd_monitor, "monitor [kernel|cluster]" },
	{ "cluster", "status", cmd_cluster_status, "cluster status" },
	{ "cluster", "transfer-leader", cmd_cluster_transfer_leader,
	  "cluster transfer-leader ID" },
	{ "cluster", "members", cmd_cluster_members, "cluster members" },
	{ "cluster", "add-member", cmd_cluster_add_member,
	  "cluster add-member ID ADDR:PORT" },
	{ "cluster", "remove-member", cmd_cluster_remove_member,
	  "cluster remove-member ID" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fputs("usage: klbctl [-j] [-s] [-n NETNS] [--direct] OBJECT COMMAND [ARGS]\n", f);
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "       klbctl %s\n", commands[i].usage);
	fputs("PROTO is tcp or udp; addresses are 203.0.113.10:80 or [2001:db8::10]:80\n", f);
}

int usage_error(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("klbctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctx && ctx->cmd)
		fprintf(stderr, "usage: klbctl %s\n", ctx->cmd->usage);
	else
		print_usage(stderr);
	return EXIT_USAGE;
}

int report_msg(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "klbctl: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int report_error(const char *what, const klb_error *e)
{
	if (e->err == EPERM)
		return report_msg(what, "%s%spermission denied: changing klb needs CAP_NET_ADMIN in the network namespace (run as root)",
				  e->msg[0] ? e->msg : "", e->msg[0] ? ": " : "");
	if (e->msg[0])
		return report_msg(what, "%s", e->msg);
	return report_msg(what, "%s", strerror(e->err));
}

int ctx_client(struct ctx *ctx, struct klb_client **c)
{
	klb_error e;

	if (!ctx->client_open) {
		if (klb_client_open(&ctx->client, &e))
			return report_error("klb", &e);
		ctx->client_open = true;
	}
	*c = &ctx->client;
	return 0;
}

/* Like ip -n: join /run/netns/NAME before opening any socket. */
static int enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (!*name || strchr(name, '/'))
		return report_msg("netns", "'%s' is not a namespace name", name);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report_msg("netns", "cannot open network namespace '%s': %s",
				  name, strerror(errno));
	if (setns(fd, CLONE_NEWNET)) {
		int err = errno;

		close(fd);
		return report_msg("netns", "cannot enter network namespace '%s': %s%s",
				  name, strerror(err),
				  err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	}
	close(fd);
	return 0;
}

/* Writes go to klbd when it runs, so that the cluster agrees on them. */
static const struct klbctl_ops *choose_ops(bool direct)
{
	const char *path = klbd_socket_path();
	struct stat st;

	if (stat(path, &st) || !S_ISSOCK(st.st_mode))
		return &kernel_ops;
	if (direct) {
		fprintf(stderr,
			"klbctl: warning: --direct: writing to the kernel behind klbd's back (%s); klbd will undo what the cluster did not agree to\n",
			path);
		return &kernel_ops;
	}
	return &klbd_ops;
}

static const struct command *find_command(int argc, char **argv, int *used)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++) {
		const struct command *cmd = &commands[i];

		if (!cmd->object && matches(argv[0], cmd->name)) {
			*used = 1;
			return cmd;
		}
		if (cmd->object && argc >= 2 && matches(argv[0], cmd->object) &&
		    matches(argv[1], cmd->name)) {
			*used = 2;
			return cmd;
		}
	}
	return NULL;
}

static bool is_object(const char *word)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (commands[i].object && matches(word, commands[i].object))
			return true;
	return false;
}

int parse_command_line(struct ctx *ctx, int *argcp, char ***argvp)
{
	const struct command *cmd;
	int argc = *argcp, used;
	char **argv = *argvp;

	ctx->cmd = NULL;
	while (argc && argv[0][0] == '-') {
		if (matches(argv[0], "-j") || matches(argv[0], "--json")) {
			ctx->json = true;
		} else if (matches(argv[0], "-s") || matches(argv[0], "--stats")) {
			ctx->stats = true;
		} else if (matches(argv[0], "--direct")) {
			ctx->direct = true;
		} else if (matches(argv[0], "-n") || matches(argv[0], "--netns")) {
			if (argc < 2)
				return usage_error(NULL, "-n needs a network namespace name");
			ctx->netns = argv[1];
			argc--;
			argv++;
		} else if (matches(argv[0], "-h") || matches(argv[0], "--help")) {
			print_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[0]);
		}
		argc--;
		argv++;
	}
	if (!argc)
		return usage_error(NULL, "missing OBJECT");
	cmd = find_command(argc, argv, &used);
	if (!cmd) {
		if (is_object(argv[0]))
			return usage_error(NULL, argc > 1 ? "unknown command '%s %s'" :
					   "'%s' needs a command", argv[0],
					   argc > 1 ? argv[1] : "");
		return usage_error(NULL, "unknown object '%s'", argv[0]);
	}
	ctx->cmd = cmd;
	*argcp = argc - used;
	*argvp = argv + used;
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { 0 };
	int ret;

	argc--;
	argv++;
	ret = parse_command_line(&ctx, &argc, &argv);
	if (!ctx.cmd)
		return ret;
	if (ctx.netns && enter_netns(ctx.netns))
		return EXIT_FAIL;
	ctx.ops = choose_ops(ctx.direct);
	out_init(ctx.json);
	ret = ctx.cmd->run(&ctx, argc, argv);
	if (ctx.client_open)
		klb_client_close(&ctx.client);
	return ret;
}
