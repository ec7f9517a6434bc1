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

int read_table(struct klb_client *c, const struct klb_service_key *key,
	       struct klb_table *table, struct klb_backend **bes, size_t *n,
	       klb_error *e)
{
	uint64_t version;
	int tries, err;

	for (tries = 0;; tries++) {
		err = klb_table_get(c, key, table, e);
		if (err)
			return err;
		err = klb_backend_list(c, key, bes, n, &version, e);
		if (err) {
			free(table->ids);
			table->ids = NULL;
			return err;
		}
		/* Past the retries: a picture a writer moved, but a picture. */
		if (version == table->version || tries == KLBCTL_CAS_RETRIES)
			return 0;
		free(table->ids);
		free(*bes);
	}
}

int cmd_table_show(struct ctx *ctx, int argc, char **argv)
{
	char what[WHAT_STRLEN];
	const char **slots = NULL;
	struct klb_service_key key;
	struct klb_backend *bes = NULL;
	struct klb_table table;
	struct klb_client *c;
	char **names = NULL;
	klb_error e;
	size_t n, i;
	int ret;

	ret = service_key_only(ctx, argc, argv, &key);
	if (ret)
		return ret;
	fmt_service_what(&key, what);
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	if (read_table(c, &key, &table, &bes, &n, &e))
		return report_error(what, &e);
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
