/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Maglev table a service should have for a backend set: incrementally
 * from the table the kernel publishes when there is one of the same size
 * and seed, so that no entry moves unless it must, or from scratch.
 * Never prints; errors are values (klb_error).
 */

#ifndef KLB_TABLES_H
#define KLB_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

struct klb_table_input {
	const struct klb_service_conf *conf;	/* table_size and seed */
	const struct klb_backend *old_bes;	/* what old_table names */
	size_t nr_old;
	const uint16_t *old_table;		/* NULL: build from scratch */
	const struct klb_backend *new_bes;
	size_t nr_new;
};

/*
 * Computes into out (conf->table_size entries) the table of the new
 * backend set, moving as little as possible from old_table. Returns the
 * number of backends that take new flows (0: no table, out untouched) or
 * a negative errno with e set.
 */
int klb_table_compute(const struct klb_table_input *in, uint16_t *out,
		      klb_error *e);

#endif /* KLB_TABLES_H */
