/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cluster configurations: membership tests, single-server changes and the
 * encoding carried in RAFT_ENTRY_CONF entries (the full resulting
 * configuration, so a log suffix alone tells a node its membership).
 */
#ifndef KLB_RAFT_CONF_H
#define KLB_RAFT_CONF_H

#include <stdbool.h>
#include "raft/raft.h"

/* ids, then u32 count and per address u64 id | u8 length | bytes */
#define CONF_ENCODED_MAX (8 + 8 * 2 * RAFT_MAX_NODES + 4 + \
			  RAFT_MAX_NODES * (8 + 1 + RAFT_ADDR_MAX - 1))

bool conf_is_voter(const struct raft_conf *c, uint64_t id);
bool conf_is_learner(const struct raft_conf *c, uint64_t id);
bool conf_equal(const struct raft_conf *a, const struct raft_conf *b);
/*
 * Derive 'next' from 'cur' by one change; -EINVAL/-EEXIST/-ENOENT/-ENOSPC,
 * -ENAMETOOLONG for an address of RAFT_ADDR_MAX bytes or more. addr as for
 * raft_propose_conf().
 */
int conf_change(const struct raft_conf *cur, enum raft_conf_op op, uint64_t node,
		const char *addr, struct raft_conf *next);
size_t conf_encode(const struct raft_conf *c, void *buf);
int conf_decode(const void *buf, size_t len, struct raft_conf *c);

#endif
