// SPDX-License-Identifier: GPL-2.0
/*
 * The Maglev table of a backend set, from the Maglev library: the client's
 * backends (struct klb_backend, host byte order ports) become the
 * library's (canonical addresses, network byte order ports), its state
 * is imported from the old table (and base table, when the caller keeps
 * one) and dropped again, and its errors become errno values with a
 * message.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klb/addr.h>
#include <klb/siphash.h>

#include "lib/klb_tables.h"
#include "lib/maglev.h"

static struct maglev_backend *to_maglev(const struct klb_backend *bes, size_t n)
{
	struct maglev_backend *mb = calloc(n ? n : 1, sizeof(*mb));
	size_t i;

	if (!mb)
		return NULL;
	for (i = 0; i < n; i++) {
		if (bes[i].addr.family == AF_INET) {
			__be32 v4;

			memcpy(&v4, bes[i].addr.addr, sizeof(v4));
			klb_addr_from_ipv4(mb[i].addr, v4);
		} else {
			klb_addr_from_ipv6(mb[i].addr, bes[i].addr.addr);
		}
		mb[i].port = htons(bes[i].addr.port);
		mb[i].id = bes[i].id;
		mb[i].weight = bes[i].weight;
		mb[i].state = bes[i].state;
	}
	return mb;
}

/*
 * The base table the caller keeps: st's, handed over when it reserves a
 * slot, or none when it is the table (every slot's holder holds it).
 */
static uint16_t *take_base(struct maglev_state *st)
{
	uint16_t *base = st->base;

	if (!memcmp(base, st->table, (size_t)st->m * sizeof(*base)))
		return NULL;
	st->base = NULL;
	return base;
}

int klb_table_compute(const struct klb_table_input *in, uint16_t *out, klb_error *e)
{
	struct maglev_backend *old_mb = NULL, *new_mb = NULL;
	const struct klb_service_conf *conf = in->conf;
	struct maglev_state st;
	struct klb_hash_seed seed;
	size_t i, active = 0;
	int err;

	if (in->new_base)
		*in->new_base = NULL;
	for (i = 0; i < in->nr_new; i++)
		active += klb_backend_takes_new_flows(in->new_bes[i].state,
						      in->new_bes[i].weight);
	if (!active)
		return 0;
	klb_hash_seed_from_bytes(&seed, conf->seed);
	new_mb = to_maglev(in->new_bes, in->nr_new);
	if (!new_mb)
		return klb_error_set(e, ENOMEM, "out of memory");
	if (in->old_table) {
		old_mb = to_maglev(in->old_bes, in->nr_old);
		err = old_mb ? maglev_state_import(&st, conf->table_size, &seed,
						   old_mb, in->nr_old,
						   in->old_table, in->old_base) :
			-MAGLEV_E_NOMEM;
		if (!err) {
			err = maglev_update_list(&st, new_mb, in->nr_new);
			if (!err)
				memcpy(out, st.table, conf->table_size * sizeof(*out));
			if (!err && in->new_base)
				*in->new_base = take_base(&st);
			maglev_state_free(&st);
		}
	} else {
		/* A fresh table reserves nothing: its base is itself. */
		err = maglev_build(out, conf->table_size, &seed, new_mb, in->nr_new);
	}
	free(old_mb);
	free(new_mb);
	if (err)
		return klb_error_set(e, maglev_errno(err), "Maglev table: %s",
				    maglev_strerror(err));
	return (int)active;
}
