// SPDX-License-Identifier: GPL-2.0
/*
 * The state an incremental update starts from: creating it, importing it
 * from what the kernel holds, copying it, and its encoding.
 *
 * Encoding, little-endian, version 1:
 *
 *   0   4   magic "KLBM"
 *   4   4   version (1)
 *   8   4   M
 *   12  16  seed: k0, then k1 (the KLB_SVC_A_SEED bytes)
 *   28  4   number of backends n
 *   32  24n backends, by id: address (16), port (2, network order),
 *           id (2), weight (2), state (1), 0 (1)
 *   ..  2M  published table
 *   ..  2M  base table
 */
#include <stdlib.h>
#include <string.h>

#include "lib/maglev_internal.h"

#define STATE_MAGIC	"KLBM"
#define STATE_VERSION	1
#define STATE_HEADER	32
#define STATE_BACKEND	24

void maglev_state_free(struct maglev_state *st)
{
	free(st->backends);
	free(st->table);
	free(st->base);
	memset(st, 0, sizeof(*st));
}

static int state_alloc(struct maglev_state *st, uint32_t m,
		       const struct klb_hash_seed *seed,
		       const struct maglev_backend *backends, size_t n)
{
	memset(st, 0, sizeof(*st));
	st->m = m;
	st->seed = *seed;
	st->backends = malloc((n + 1) * sizeof(*st->backends));
	st->table = malloc((size_t)m * sizeof(*st->table));
	st->base = malloc((size_t)m * sizeof(*st->base));
	if (!st->backends || !st->table || !st->base) {
		maglev_state_free(st);
		return -MAGLEV_E_NOMEM;
	}
	memcpy(st->backends, backends, n * sizeof(*backends));
	st->nr_backends = n;
	maglev_sort_by_id(st->backends, n);
	return 0;
}

int maglev_state_init(struct maglev_state *st, uint32_t m,
		      const struct klb_hash_seed *seed,
		      const struct maglev_backend *backends, size_t n)
{
	struct maglev_state tmp;
	int err;

	err = maglev_check_backends(backends, n, m, NULL);
	if (err)
		return err;
	err = state_alloc(&tmp, m, seed, backends, n);
	if (err)
		return err;
	err = maglev_build(tmp.table, m, seed, backends, n);
	if (err) {
		maglev_state_free(&tmp);
		return err;
	}
	memcpy(tmp.base, tmp.table, (size_t)m * sizeof(*tmp.base));
	*st = tmp;
	return 0;
}

/* What each id is: 0 unknown, 1 active, 2 in the list but not active. */
static void id_kinds(const struct maglev_backend *b, size_t n, uint8_t *kind)
{
	size_t i;

	memset(kind, 0, KLB_BACKEND_ID_MAX + 2);
	for (i = 0; i < n; i++)
		kind[b[i].id] = maglev_backend_active(&b[i]) ? 1 : 2;
}

int maglev_state_import(struct maglev_state *st, uint32_t m,
			const struct klb_hash_seed *seed,
			const struct maglev_backend *backends, size_t n,
			const uint16_t *table, const uint16_t *base)
{
	struct maglev_state tmp;
	uint8_t *kind;
	uint32_t s;
	int err;

	err = maglev_check_backends(backends, n, m, NULL);
	if (err)
		return err;
	kind = malloc(KLB_BACKEND_ID_MAX + 2);
	if (!kind)
		return -MAGLEV_E_NOMEM;
	id_kinds(backends, n, kind);
	err = -MAGLEV_E_TABLE;
	for (s = 0; s < m; s++) {
		/* NONE is KLB_BACKEND_ID_MAX + 1: kind[NONE] is 0. */
		if (table[s] != MAGLEV_NONE && !kind[table[s]])
			goto out;
		if (base && base[s] != MAGLEV_NONE && !kind[base[s]])
			goto out;
	}
	err = state_alloc(&tmp, m, seed, backends, n);
	if (err)
		goto out;
	memcpy(tmp.table, table, (size_t)m * sizeof(*table));
	/*
	 * A base entry that differs from the table is a reservation, which
	 * only an unavailable backend can hold.
	 */
	for (s = 0; s < m; s++) {
		if (base && base[s] != MAGLEV_NONE && kind[base[s]] == 2)
			tmp.base[s] = base[s];
		else
			tmp.base[s] = table[s];
	}
	*st = tmp;
out:
	free(kind);
	return err;
}

int maglev_state_copy(struct maglev_state *dst, const struct maglev_state *src)
{
	struct maglev_state tmp;
	int err;

	err = state_alloc(&tmp, src->m, &src->seed, src->backends,
			  src->nr_backends);
	if (err)
		return err;
	memcpy(tmp.table, src->table, (size_t)src->m * sizeof(*tmp.table));
	memcpy(tmp.base, src->base, (size_t)src->m * sizeof(*tmp.base));
	*dst = tmp;
	return 0;
}

size_t maglev_state_encoded_size(const struct maglev_state *st)
{
	return STATE_HEADER + STATE_BACKEND * st->nr_backends +
	       4 * (size_t)st->m;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v);
	return put16(p, v >> 16);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, v);
	return put32(p, v >> 32);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

long maglev_state_encode(const struct maglev_state *st, void *buf, size_t len)
{
	size_t need = maglev_state_encoded_size(st), i;
	uint8_t *p = buf;
	uint32_t s;

	if (len < need)
		return -MAGLEV_E_SHORT;
	memcpy(p, STATE_MAGIC, 4);
	p = put32(p + 4, STATE_VERSION);
	p = put32(p, st->m);
	p = put64(p, st->seed.k0);
	p = put64(p, st->seed.k1);
	p = put32(p, st->nr_backends);
	for (i = 0; i < st->nr_backends; i++) {
		const struct maglev_backend *b = &st->backends[i];

		memcpy(p, b->addr, KLB_ADDR_LEN);
		memcpy(p + KLB_ADDR_LEN, &b->port, 2);
		p = put16(p + KLB_ADDR_LEN + 2, b->id);
		p = put16(p, b->weight);
		*p++ = b->state;
		*p++ = 0;
	}
	for (s = 0; s < st->m; s++)
		p = put16(p, st->table[s]);
	for (s = 0; s < st->m; s++)
		p = put16(p, st->base[s]);
	return need;
}

int maglev_state_decode(struct maglev_state *st, const void *buf, size_t len)
{
	struct maglev_backend *b = NULL;
	uint16_t *table = NULL, *base;
	const uint8_t *p = buf;
	struct klb_hash_seed seed;
	uint32_t m, s;
	size_t n, i;
	int err;

	if (len < STATE_HEADER || memcmp(p, STATE_MAGIC, 4) ||
	    get32(p + 4) != STATE_VERSION)
		return -MAGLEV_E_FORMAT;
	m = get32(p + 8);
	klb_hash_seed_from_bytes(&seed, p + 12);
	n = get32(p + 28);
	err = maglev_check_size(m);
	if (err)
		return err;
	if (n > MAGLEV_BACKENDS_MAX ||
	    len != STATE_HEADER + STATE_BACKEND * n + 4 * (size_t)m)
		return -MAGLEV_E_FORMAT;

	b = calloc(n + 1, sizeof(*b));
	table = malloc(2 * (size_t)m * sizeof(*table));
	err = -MAGLEV_E_NOMEM;
	if (!b || !table)
		goto out;
	p += STATE_HEADER;
	err = -MAGLEV_E_FORMAT;
	for (i = 0; i < n; i++, p += STATE_BACKEND) {
		memcpy(b[i].addr, p, KLB_ADDR_LEN);
		memcpy(&b[i].port, p + KLB_ADDR_LEN, 2);
		b[i].id = get16(p + KLB_ADDR_LEN + 2);
		b[i].weight = get16(p + KLB_ADDR_LEN + 4);
		b[i].state = p[KLB_ADDR_LEN + 6];
		if (p[KLB_ADDR_LEN + 7])
			goto out;
	}
	base = table + m;
	for (s = 0; s < m; s++)
		table[s] = get16(p + 2 * s);
	p += 2 * (size_t)m;
	for (s = 0; s < m; s++)
		base[s] = get16(p + 2 * s);
	err = maglev_state_import(st, m, &seed, b, n, table, base);
out:
	free(b);
	free(table);
	return err;
}
