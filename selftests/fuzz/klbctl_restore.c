// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl restore's input: the fuzz input is the save file. What the
 * parser accepts must be what restore may hand the kernel: a valid table
 * size and bound, backends of the service's family with distinct
 * addresses and ids, and a table (when the scheduler uses one) that names
 * only the service's backends.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klb/maglev.h>

#include "klbctl/klbctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "klbctl_restore: %s\n", what);
		abort();
	}
}

static void check_service(const struct restore_service *svc, uint8_t *id_used)
{
	const struct klb_service_conf *conf = &svc->conf;
	size_t i, j;

	check(klb_maglev_size_valid(conf->table_size), "table size");
	check(conf->bound >= 100 && conf->bound <= 1000, "bound");
	check(conf->sched <= KLB_SCHED_MAX && conf->fwd <= KLB_FWD_MAX, "sched or fwd");
	for (i = 0; i < svc->nr_backends; i++) {
		const struct klb_backend *be = &svc->backends[i];

		check(be->addr.family == svc->key.vip.family, "backend family");
		check(be->id <= KLB_BACKEND_ID_MAX, "backend id");
		check(be->weight <= 65535, "weight");
		check(!id_used[be->id], "backend id twice");
		id_used[be->id] = 1;
		for (j = 0; j < i; j++)
			check(!klb_endpoint_equal(&be->addr, &svc->backends[j].addr),
			      "backend address twice");
	}
	if (svc->table) {
		check(klb_sched_is_maglev(conf->sched), "a table for a scheduler without one");
		for (i = 0; i < conf->table_size; i++)
			check(id_used[svc->table[i]], "table names a backend the service lacks");
	}
	for (i = 0; i < svc->nr_backends; i++)
		id_used[svc->backends[i].id] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t id_used[UINT16_MAX + 1];
	char err[KLB_SAVE_ERR_MAX];
	struct restore_service *svcs;
	size_t n, i, j;
	FILE *in;

	/* fmemopen refuses an empty buffer; an empty file restores nothing. */
	if (!size)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	if (!restore_parse(in, NULL, &svcs, &n, err, sizeof(err))) {
		for (i = 0; i < n; i++) {
			check_service(&svcs[i], id_used);
			for (j = 0; j < i; j++)
				check(!klb_service_key_equal(&svcs[i].key, &svcs[j].key),
				      "service twice");
		}
		restore_free(svcs, n);
	}
	fclose(in);
	return 0;
}
