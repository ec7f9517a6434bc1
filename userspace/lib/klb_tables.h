/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Maglev table a service should have for a backend set: incrementally
 * from the table the kernel publishes when there is one of the same size
 * and seed, so that no entry moves unless it must, or from scratch.
 * Never prints; errors are values (klb_error).
 *
 * A caller that keeps base tables (lib/maglev.h: the table plus the slots
 * each unavailable backend held when it became unavailable) passes the
 * old one and receives the new one: a backend that comes back then gets
 * exactly its old slots. Without one (the kernel keeps no base table) it
 * gets a fair share taken from the others, as a new backend would.
 */

#ifndef KLB_TABLES_H
#define KLB_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

struct klb_table_input {
	const struct klb_service_conf *conf;	/* table_size and seed */
	const struct klb_backend *old_bes;	/* what old_table and old_base name */
	size_t nr_old;
	const uint16_t *old_table;		/* NULL: build from scratch */
	/* old_table's base table, or NULL: old_table itself (nothing reserved). */
	const uint16_t *old_base;
	const struct klb_backend *new_bes;
	size_t nr_new;
	/*
	 * NULL: no base table is kept. Else it receives the new base table,
	 * malloc'd (conf->table_size entries), when it reserves slots, or
	 * NULL when it is the table or there is no table.
	 */
	uint16_t **new_base;
};

/*
 * Computes into out (conf->table_size entries) the table of the new
 * backend set, moving as little as possible from old_table. Returns the
 * number of backends that take new flows (0: no table, out untouched, no
 * base table) or a negative errno with e set.
 *
 * With no table there is no base table either, and the next table is
 * built from scratch: a slot's base entry names only the last backend
 * that held it, so once every backend has left one by one the base names
 * the last of them everywhere, and keeping it would buy nothing.
 */
int klb_table_compute(const struct klb_table_input *in, uint16_t *out,
		      klb_error *e);

#endif /* KLB_TABLES_H */
