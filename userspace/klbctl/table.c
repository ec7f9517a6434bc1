// SPDX-License-Identifier: GPL-2.0
/* klbctl table show: the backend of every slot of a Maglev table. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbctl/klbctl.h"

/* "ADDR:PORT" of every backend id, for printing tables. */
char **backend_names(const struct klb_backend *bes, size_t n)
{
	char **names = calloc(KLB_BACKEND_ID_MAX + 1, sizeof(*names));
	char buf[ENDPOINT_STRLEN];
	size_t i;

	if (!names)
		return NULL;
	for (i = 0; i < n; i++) {
		names[bes[i].id] = strdup(fmt_endpoint(&bes[i].addr, buf));
		if (!names[bes[i].id]) {
			free_backend_names(names);
			return NULL;
		}
	}
	return names;
}

void free_backend_names(char **names)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i <= KLB_BACKEND_ID_MAX; i++)
		free(names[i]);
	free(names);
}

int cmd_table_show(struct ctx *ctx, int argc, char **argv)
{
	char what[SERVICE_STRLEN + 8] = "service ";
	const char **slots = NULL;
	struct klb_service_key key;
	struct klb_backend *bes = NULL;
	struct klb_table table;
	struct klb_client *c;
	char **names = NULL;
	uint64_t version;
	klb_error e;
	size_t n, i;
	int ret, tries;

	if (argc != 2)
		return usage_error(ctx, argc < 2 ? "missing PROTO VIP:PORT" :
				   "unexpected '%s'", argc > 2 ? argv[2] : "");
	if (parse_service_key(argv[0], argv[1], &key))
		return usage_error(ctx, "bad service '%s %s'", argv[0], argv[1]);
	fmt_service(&key, what + 8);
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	/* The table and the backends it names, from one version. */
	for (tries = 0;; tries++) {
		if (klb_table_get(c, &key, &table, &e))
			return report_error(what, &e);
		if (klb_backend_list(c, &key, &bes, &n, &version, &e)) {
			free(table.ids);
			return report_error(what, &e);
		}
		if (version == table.version || tries == KLBCTL_CAS_RETRIES)
			break;
		free(table.ids);
		free(bes);
	}
	names = backend_names(bes, n);
	slots = calloc(table.size ? table.size : 1, sizeof(*slots));
	if (!names || !slots) {
		ret = report_msg(what, "out of memory");
		goto out;
	}
	for (i = 0; i < table.size; i++)
		slots[i] = names[table.ids[i]] ? names[table.ids[i]] : "?";
	out_strings(slots, table.size);
	out_finish();
	ret = EXIT_OK;
out:
	free(slots);
	free_backend_names(names);
	free(bes);
	free(table.ids);
	return ret;
}
