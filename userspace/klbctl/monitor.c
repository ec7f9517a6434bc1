// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl monitor: print the kernel's change events as they happen, one
 * line (or, with -j, one JSON object per line) per event.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "klbctl/klbctl.h"

static const char *const event_names[] = {
	[KLB_CMD_SERVICE_NEW] = "service-add",
	[KLB_CMD_SERVICE_SET] = "service-set",
	[KLB_CMD_SERVICE_DEL] = "service-del",
	[KLB_CMD_BACKEND_NEW] = "backend-add",
	[KLB_CMD_BACKEND_SET] = "backend-set",
	[KLB_CMD_BACKEND_DEL] = "backend-del",
	[KLB_CMD_TABLE_SET] = "table-set",
	[KLB_CMD_TABLE_DEL] = "table-del",
	[KLB_CMD_FLUSH] = "flush",
	[KLB_CMD_GENERATION_SET] = "generation-set",
	[KLB_CMD_TXN_COMMIT] = "commit",
};

static int print_event(const struct klb_event *ev, void *data)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];
	const char *name = NULL;

	if (ev->cmd < sizeof(event_names) / sizeof(event_names[0]))
		name = event_names[ev->cmd];
	out_record_begin();
	out_str("event", name ? name : "unknown");
	out_uint("generation", ev->generation);
	if (ev->has_service) {
		out_str("service", fmt_service(&ev->service, svc));
		if (ev->version)
			out_uint("version", ev->version);
	}
	if (ev->has_backend) {
		out_str("backend", fmt_endpoint(&ev->backend.addr, addr));
		if (ev->backend.fields & KLB_BE_ID)
			out_uint("id", ev->backend.id);
	}
	out_record_end();
	return 0;
}

int cmd_monitor(struct ctx *ctx, int argc, char **argv)
{
	struct klb_client *c;
	klb_error e;
	int ret;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (klb_events_subscribe(c, &e))
		return report_error("monitor", &e);
	out_stream_begin();
	for (;;) {
		if (klb_events_read(c, print_event, NULL, &e)) {
			/* Lost events: say so and go on, like ip monitor. */
			if (e.err == ENOBUFS) {
				fprintf(stderr, "klbctl: monitor: %s\n", e.msg);
				continue;
			}
			return report_error("monitor", &e);
		}
	}
}
