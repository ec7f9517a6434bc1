// SPDX-License-Identifier: GPL-2.0
/*
 * Backend lists: identity order, and the checks every entry point runs
 * before it changes anything.
 */
#include <stdlib.h>
#include <string.h>

#include <klb/maglev.h>

#include "lib/maglev_internal.h"

int maglev_identity_cmp(const struct maglev_backend *a,
			const struct maglev_backend *b)
{
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (c)
		return c;
	/* Byte-wise, so that the order does not depend on the host. */
	return memcmp(&a->port, &b->port, sizeof(a->port));
}

int maglev_check_size(uint32_t m)
{
	if (m < KLB_TABLE_SIZE_MIN || m > KLB_TABLE_SIZE_LIMIT)
		return -MAGLEV_E_SIZE_RANGE;
	if (!klb_maglev_size_valid(m))
		return -MAGLEV_E_SIZE_NOT_PRIME;
	return 0;
}

/* An identity as integers, most significant first, for sorting. */
struct identity_key {
	uint64_t hi, lo;
	uint32_t port, pos;
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int cmp_identity_key(const void *x, const void *y)
{
	const struct identity_key *a = x, *b = y;

	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int maglev_sort_by_identity(const struct maglev_backend *b, size_t n,
			    uint32_t *pos)
{
	struct identity_key *k = malloc((n + 1) * sizeof(*k));
	size_t i;

	if (!k)
		return -MAGLEV_E_NOMEM;
	for (i = 0; i < n; i++) {
		const uint8_t *port = (const uint8_t *)&b[i].port;

		k[i].hi = load_be64(b[i].addr);
		k[i].lo = load_be64(b[i].addr + 8);
		k[i].port = port[0] << 8 | port[1];
		k[i].pos = i;
	}
	qsort(k, n, sizeof(*k), cmp_identity_key);
	for (i = 0; i < n; i++)
		pos[i] = k[i].pos;
	free(k);
	return 0;
}

static int cmp_id(const void *x, const void *y)
{
	const struct maglev_backend *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

void maglev_sort_by_id(struct maglev_backend *b, size_t n)
{
	qsort(b, n, sizeof(*b), cmp_id);
}

int maglev_check_backends(const struct maglev_backend *b, size_t n, uint32_t m,
			  uint32_t *pos)
{
	uint8_t seen[(KLB_BACKEND_ID_MAX + 1 + 7) / 8] = { 0 };
	uint32_t *own = NULL;
	int err;
	size_t i;

	err = maglev_check_size(m);
	if (err)
		return err;
	if (n > MAGLEV_BACKENDS_MAX)
		return -MAGLEV_E_TOO_MANY;
	if (n > m)
		return -MAGLEV_E_SIZE_SMALL;
	for (i = 0; i < n; i++) {
		if (b[i].id > KLB_BACKEND_ID_MAX)
			return -MAGLEV_E_ID_RANGE;
		if (b[i].weight > MAGLEV_WEIGHT_MAX)
			return -MAGLEV_E_WEIGHT_RANGE;
		if (b[i].state > KLB_BACKEND_STATE_MAX)
			return -MAGLEV_E_STATE;
		if (seen[b[i].id / 8] & (1u << (b[i].id % 8)))
			return -MAGLEV_E_DUP_ID;
		seen[b[i].id / 8] |= 1u << (b[i].id % 8);
	}
	if (!pos) {
		pos = own = malloc((n + 1) * sizeof(*pos));
		if (!pos)
			return -MAGLEV_E_NOMEM;
	}
	err = maglev_sort_by_identity(b, n, pos);
	for (i = 1; i < n && !err; i++)
		if (!maglev_identity_cmp(&b[pos[i - 1]], &b[pos[i]]))
			err = -MAGLEV_E_DUP_IDENTITY;
	free(own);
	return err;
}
