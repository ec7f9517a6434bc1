// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl cluster status: what the local klbd says about the cluster (its
 * role, term, leader, commit and applied index, counters), asked over its
 * control socket.
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
