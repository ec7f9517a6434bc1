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

#define CONF_ENCODED_MAX (8 + 8 * 2 * RAFT_MAX_NODES)

bool conf_is_voter(const struct raft_conf *c, uint64_t id);
bool conf_is_learner(const struct raft_conf *c, uint64_t id);
bool conf_equal(const struct raft_conf *a, const struct raft_conf *b);
/* Derive 'next' from 'cur' by one change; -EINVAL/-EEXIST/-ENOENT/-ENOSPC. */
int conf_change(const struct raft_conf *cur, enum raft_conf_op op, uint64_t node,
		struct raft_conf *next);
size_t conf_encode(const struct raft_conf *c, void *buf);
int conf_decode(const void *buf, size_t len, struct raft_conf *c);

#endif
