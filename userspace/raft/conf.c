// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "raft/conf.h"

static bool ids_contain(const uint64_t *ids, uint32_t n, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void ids_remove(uint64_t *ids, uint32_t *n, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < *n; i++) {
		if (ids[i] == id) {
			ids[i] = ids[--*n];
			ids[*n] = 0;
			return;
		}
	}
}

bool conf_is_voter(const struct raft_conf *c, uint64_t id)
{
	return ids_contain(c->voters, c->n_voters, id);
}

bool conf_is_learner(const struct raft_conf *c, uint64_t id)
{
	return ids_contain(c->learners, c->n_learners, id);
}

bool conf_equal(const struct raft_conf *a, const struct raft_conf *b)
{
	uint32_t i;

	if (a->n_voters != b->n_voters || a->n_learners != b->n_learners)
		return false;
	for (i = 0; i < a->n_voters; i++)
		if (!conf_is_voter(b, a->voters[i]))
			return false;
	for (i = 0; i < a->n_learners; i++)
		if (!conf_is_learner(b, a->learners[i]))
			return false;
	return true;
}

int conf_change(const struct raft_conf *cur, enum raft_conf_op op, uint64_t node,
		struct raft_conf *next)
{
	if (node == RAFT_NONE)
		return -EINVAL;
	*next = *cur;
	switch (op) {
	case RAFT_CONF_ADD_LEARNER:
		if (conf_is_voter(cur, node) || conf_is_learner(cur, node))
			return -EEXIST;
		if (cur->n_learners >= RAFT_MAX_NODES ||
		    cur->n_voters + cur->n_learners >= RAFT_MAX_NODES)
			return -ENOSPC;
		next->learners[next->n_learners++] = node;
		return 0;
	case RAFT_CONF_PROMOTE:
		if (!conf_is_learner(cur, node))
			return conf_is_voter(cur, node) ? -EEXIST : -ENOENT;
		ids_remove(next->learners, &next->n_learners, node);
		next->voters[next->n_voters++] = node;
		return 0;
	case RAFT_CONF_REMOVE:
		if (conf_is_learner(cur, node)) {
			ids_remove(next->learners, &next->n_learners, node);
			return 0;
		}
		if (!conf_is_voter(cur, node))
			return -ENOENT;
		if (cur->n_voters == 1)
			return -EINVAL;	/* would leave no one to decide */
		ids_remove(next->voters, &next->n_voters, node);
		return 0;
	}
	return -EINVAL;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Little-endian: u32 voters, u32 learners, then the ids as u64. */
size_t conf_encode(const struct raft_conf *c, void *buf)
{
	uint8_t *p = buf;
	uint32_t i;

	put_u32(p, c->n_voters);
	put_u32(p + 4, c->n_learners);
	p += 8;
	for (i = 0; i < c->n_voters; i++, p += 8)
		put_u64(p, c->voters[i]);
	for (i = 0; i < c->n_learners; i++, p += 8)
		put_u64(p, c->learners[i]);
	return p - (uint8_t *)buf;
}

int conf_decode(const void *buf, size_t len, struct raft_conf *c)
{
	const uint8_t *p = buf;
	uint32_t i, nv, nl;

	if (len < 8)
		return -EINVAL;
	nv = get_u32(p);
	nl = get_u32(p + 4);
	if (nv > RAFT_MAX_NODES || nl > RAFT_MAX_NODES || len != 8 + 8 * (size_t)(nv + nl))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	p += 8;
	for (i = 0; i < nv; i++, p += 8)
		c->voters[i] = get_u64(p);
	for (i = 0; i < nl; i++, p += 8)
		c->learners[i] = get_u64(p);
	c->n_voters = nv;
	c->n_learners = nl;
	return 0;
}
