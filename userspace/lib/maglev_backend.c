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

static int cmp_identity_pos(const void *x, const void *y, void *arg)
{
	const struct maglev_backend *b = arg;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c = maglev_identity_cmp(&b[i], &b[j]);

	if (c)
		return c;
	return i < j ? -1 : i > j;
}

void maglev_sort_by_identity(const struct maglev_backend *b, size_t n,
			     uint32_t *pos)
{
	size_t i;

	for (i = 0; i < n; i++)
		pos[i] = i;
	qsort_r(pos, n, sizeof(*pos), cmp_identity_pos, (void *)b);
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

int maglev_check_backends(const struct maglev_backend *b, size_t n, uint32_t m)
{
	uint8_t seen[(KLB_BACKEND_ID_MAX + 1 + 7) / 8] = { 0 };
	uint32_t *pos;
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
	if (n < 2)
		return 0;
	pos = malloc(n * sizeof(*pos));
	if (!pos)
		return -MAGLEV_E_NOMEM;
	maglev_sort_by_identity(b, n, pos);
	for (i = 1; i < n; i++) {
		if (!maglev_identity_cmp(&b[pos[i - 1]], &b[pos[i]])) {
			free(pos);
			return -MAGLEV_E_DUP_IDENTITY;
		}
	}
	free(pos);
	return 0;
}
