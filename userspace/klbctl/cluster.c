// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl cluster status: what the local klbd says about the cluster (its
 * role, term, leader, commit and applied index, counters), asked over its
 * control socket; cluster transfer-leader: another member leads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klbctl/klbctl.h"
#include "lib/klbd_proto.h"

int cmd_cluster_status(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_answer a;
	struct timespec ts;
	char *line, *save, *sp, *end;
	unsigned long long v;
	int err;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	err = klbd_call(KLBD_CTL_STATUS, NULL, 0,
			(uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 10000, &a);
	if (err)
		return report_msg("cluster", "klbd (%s): %s%s", klbd_socket_path(),
				  strerror(-err),
				  err == -ENOENT || err == -ECONNREFUSED ?
				  " (is klbd running?)" : "");
	if (a.status) {
		err = report_msg("cluster", "%s", a.msg[0] ? a.msg : strerror(-a.status));
		free(a.buf);
		return err;
	}
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
	struct timespec ts;
	uint8_t body[8];
	uint64_t id;
	int err, i;

	if (argc != 1 || parse_u64(argv[0], &id) || !id)
		return usage_error(ctx, "transfer-leader needs a member id");
	for (i = 0; i < 8; i++)
		body[i] = id >> (8 * i);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	err = klbd_call(KLBD_CTL_TRANSFER, body, sizeof(body),
			(uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 30000, &a);
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
