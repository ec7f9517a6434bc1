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

const char *raft_conf_addr(const struct raft_conf *c, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < c->n_addrs; i++)
		if (c->addrs[i].id == id)
			return c->addrs[i].addr;
	return NULL;
}

static void addr_remove(struct raft_conf *c, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < c->n_addrs; i++) {
		if (c->addrs[i].id == id) {
			c->addrs[i] = c->addrs[--c->n_addrs];
			memset(&c->addrs[c->n_addrs], 0, sizeof(c->addrs[0]));
			return;
		}
	}
}

/* Sets (or with an empty addr, clears) id's address; id is a member. */
static int addr_set(struct raft_conf *c, uint64_t id, const char *addr)
{
	size_t len = addr ? strlen(addr) : 0;

	if (len >= RAFT_ADDR_MAX)
		return -ENAMETOOLONG;
	addr_remove(c, id);
	if (!len)
		return 0;
	c->addrs[c->n_addrs].id = id;
	memcpy(c->addrs[c->n_addrs].addr, addr, len + 1);
	c->n_addrs++;
	return 0;
}

bool conf_equal(const struct raft_conf *a, const struct raft_conf *b)
{
	uint32_t i;

	if (a->n_voters != b->n_voters || a->n_learners != b->n_learners ||
	    a->n_addrs != b->n_addrs)
		return false;
	for (i = 0; i < a->n_addrs; i++) {
		const char *other = raft_conf_addr(b, a->addrs[i].id);

		if (!other || strcmp(other, a->addrs[i].addr))
			return false;
	}
	for (i = 0; i < a->n_voters; i++)
		if (!conf_is_voter(b, a->voters[i]))
			return false;
	for (i = 0; i < a->n_learners; i++)
		if (!conf_is_learner(b, a->learners[i]))
			return false;
	return true;
}

int conf_change(const struct raft_conf *cur, enum raft_conf_op op, uint64_t node,
		const char *addr, struct raft_conf *next)
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
		return addr_set(next, node, addr);
	case RAFT_CONF_PROMOTE:
		if (!conf_is_learner(cur, node))
			return conf_is_voter(cur, node) ? -EEXIST : -ENOENT;
		ids_remove(next->learners, &next->n_learners, node);
		next->voters[next->n_voters++] = node;
		return 0;
	case RAFT_CONF_REMOVE:
		if (conf_is_learner(cur, node)) {
			ids_remove(next->learners, &next->n_learners, node);
			addr_remove(next, node);
			return 0;
		}
		if (!conf_is_voter(cur, node))
			return -ENOENT;
		if (cur->n_voters == 1)
			return -EINVAL;	/* would leave no one to decide */
		ids_remove(next->voters, &next->n_voters, node);
		addr_remove(next, node);
		return 0;
	case RAFT_CONF_SET_ADDR:
		if (!conf_is_voter(cur, node) && !conf_is_learner(cur, node))
			return -ENOENT;
		if (!addr || !*addr)
			return -EINVAL;
		return addr_set(next, node, addr);
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

/*
 * Little-endian: u32 voters, u32 learners, the ids as u64, then u32
 * addresses and each as u64 id | u8 length | bytes (no NUL). An encoding
 * that ends after the ids (written before addresses existed) has none.
 */
size_t conf_encode(const struct raft_conf *c, void *buf)
{
	uint8_t *p = buf;
	uint32_t i;
	size_t len;

	put_u32(p, c->n_voters);
	put_u32(p + 4, c->n_learners);
	p += 8;
	for (i = 0; i < c->n_voters; i++, p += 8)
		put_u64(p, c->voters[i]);
	for (i = 0; i < c->n_learners; i++, p += 8)
		put_u64(p, c->learners[i]);
	put_u32(p, c->n_addrs);
	p += 4;
	for (i = 0; i < c->n_addrs; i++) {
		len = strnlen(c->addrs[i].addr, RAFT_ADDR_MAX - 1);
		put_u64(p, c->addrs[i].id);
		p[8] = len;
		memcpy(p + 9, c->addrs[i].addr, len);
		p += 9 + len;
	}
	return p - (uint8_t *)buf;
}

static int decode_addrs(const uint8_t *p, size_t len, struct raft_conf *c)
{
	uint32_t n, i;
	uint64_t id;
	size_t alen;

	if (len < 4)
		return -EINVAL;
	n = get_u32(p);
	p += 4;
	len -= 4;
	if (n > RAFT_MAX_NODES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (len < 9)
			return -EINVAL;
		id = get_u64(p);
		alen = p[8];
		if (!alen || alen >= RAFT_ADDR_MAX || alen > len - 9 ||
		    memchr(p + 9, 0, alen) || raft_conf_addr(c, id) ||
		    (!conf_is_voter(c, id) && !conf_is_learner(c, id)))
			return -EINVAL;
		c->addrs[i].id = id;
		memcpy(c->addrs[i].addr, p + 9, alen);
		c->n_addrs = i + 1;
		p += 9 + alen;
		len -= 9 + alen;
	}
	return len ? -EINVAL : 0;
}

int conf_decode(const void *buf, size_t len, struct raft_conf *c)
{
	const uint8_t *p = buf;
	uint32_t i, nv, nl;
	size_t ids;

	if (len < 8)
		return -EINVAL;
	nv = get_u32(p);
	nl = get_u32(p + 4);
	ids = 8 + 8 * (size_t)(nv + nl);
	if (nv > RAFT_MAX_NODES || nl > RAFT_MAX_NODES || len < ids)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	p += 8;
	for (i = 0; i < nv; i++, p += 8)
		c->voters[i] = get_u64(p);
	for (i = 0; i < nl; i++, p += 8)
		c->learners[i] = get_u64(p);
	c->n_voters = nv;
	c->n_learners = nl;
	if (len > ids && decode_addrs(p, len - ids, c)) {
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	return 0;
}
