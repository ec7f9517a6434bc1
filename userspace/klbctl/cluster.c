// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl cluster status: what the local klbd says about the cluster (its
 * role, term, leader, commit and applied index, counters), asked over its
 * control socket; cluster transfer-leader: another member leads; cluster
 * members, add-member, remove-member: the membership and its changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbctl/klbctl.h"
#include "lib/klbd_proto.h"

/* A question to the local klbd: EXIT_OK with *a to free, or reported. */
static int cluster_ask(uint8_t op, struct klbd_answer *a)
{
	int err = klbd_call(op, NULL, 0, klbd_now_ms() + 10000, a);

	if (err)
		return report_msg("cluster", "klbd (%s): %s%s", klbd_socket_path(),
				  strerror(-err),
				  err == -ENOENT || err == -ECONNREFUSED ?
				  " (is klbd running?)" : "");
	return klbd_answer_check(a, "cluster");
}

int cmd_cluster_status(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_answer a;
	char *line, *save, *sp, *end;
	unsigned long long v;
	int err;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	err = cluster_ask(KLBD_CTL_STATUS, &a);
	if (err)
		return err;
	out_record_begin();
	for (line = strtok_r(a.body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = '\0';
		errno = 0;
		v = strtoull(sp, &end, 10);
		if (!errno && *sp && !*end)
			out_uint(line, v);
		else
			out_str(line, sp);
	}
	out_record_end();
	out_finish();
	free(a.buf);
	return EXIT_OK;
}

/* klbctl cluster transfer-leader ID: returns once ID leads. */
int cmd_cluster_transfer_leader(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_answer a;
	uint8_t body[8];
	uint64_t id;
	int err, i;

	if (argc != 1 || parse_u64(argv[0], &id) || !id)
		return usage_error(ctx, "transfer-leader needs a member id");
	for (i = 0; i < 8; i++)
		body[i] = id >> (8 * i);
	err = klbd_call(KLBD_CTL_TRANSFER, body, sizeof(body), klbd_now_ms() + 30000, &a);
	if (err)
		return report_msg("cluster", "klbd (%s): %s", klbd_socket_path(),
				  strerror(-err));
	if (a.status) {
		err = report_msg("cluster", "transfer to %llu: %s",
				 (unsigned long long)id,
				 a.msg[0] ? a.msg : strerror(-a.status));
		free(a.buf);
		return err;
	}
	free(a.buf);
	return EXIT_OK;
}

/* A line of KLBD_CTL_MEMBERS: "ID ROLE LEADER MATCH APPLIED ADDRESS". */
static void member_record(char *line)
{
	char *f[6], *save = NULL, *end;
	unsigned long long v;
	int i;

	for (i = 0; i < 6; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!f[i])
			return;
	}
	out_record_begin();
	out_uint("id", strtoull(f[0], NULL, 10));
	out_str("address", f[5]);
	out_str("role", f[1]);
	out_bool("leader", !strcmp(f[2], "yes"));
	/* What this gateway does not know is left out ("-" in the table). */
	for (i = 3; i <= 4; i++) {
		errno = 0;
		v = strtoull(f[i], &end, 10);
		if (!errno && *f[i] != '-' && !*end)
			out_uint(i == 3 ? "match" : "applied", v);
	}
	out_record_end();
}

/* klbctl cluster members: the newest configuration, as this klbd sees it. */
int cmd_cluster_members(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_answer a;
	char *line, *save;
	int err;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	err = cluster_ask(KLBD_CTL_MEMBERS, &a);
	if (err)
		return err;
	out_list_begin();
	for (line = strtok_r(a.body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		member_record(line);
	out_list_end();
	out_finish();
	free(a.buf);
	return EXIT_OK;
}

static int member_change(const struct klbd_member_req *m, unsigned int deadline_ms)
{
	uint8_t body[KLBD_MEMBER_MAX_BYTES];
	char what[32];
	int n;

	snprintf(what, sizeof(what), "member %llu", (unsigned long long)m->id);
	n = klbd_member_encode(m, body, sizeof(body));
	if (n < 0)
		return report_msg(what, "%s", n == -ENAMETOOLONG ?
				  "the address is too long" : "malformed request");
	return klbd_call_ok(KLBD_CTL_MEMBER, body, n, klbd_now_ms() + deadline_ms, what);
}

/*
 * klbctl cluster add-member ID ADDR:PORT: returns once the node caught up
 * and is a voter. The leader allows it a minute to catch up.
 */
int cmd_cluster_add_member(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_member_req m = { .op = KLBD_MEMBER_ADD };

	if (argc != 2 || parse_u64(argv[0], &m.id) || !m.id)
		return usage_error(ctx, "add-member needs a node id (from 1) and its ADDR:PORT");
	if (strlen(argv[1]) >= sizeof(m.addr))
		return usage_error(ctx, "address '%s' is longer than %zu characters",
				   argv[1], sizeof(m.addr) - 1);
	strcpy(m.addr, argv[1]);
	return member_change(&m, 120000);
}

/* klbctl cluster remove-member ID: returns once the removal is committed. */
int cmd_cluster_remove_member(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_member_req m = { .op = KLBD_MEMBER_REMOVE };

	if (argc != 1 || parse_u64(argv[0], &m.id) || !m.id)
		return usage_error(ctx, "remove-member needs a node id (from 1)");
	return member_change(&m, 60000);
}
