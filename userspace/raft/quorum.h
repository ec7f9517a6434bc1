/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Quorum arithmetic: which index a set of voters has committed and whether an
 * election is won, for a simple majority and for a joint configuration (both
 * majorities must agree). Pure functions over plain arrays.
 */
#ifndef KLB_RAFT_QUORUM_H
#define KLB_RAFT_QUORUM_H

#include <stddef.h>
#include <stdint.h>

enum quorum_vote {
	QUORUM_PENDING,
	QUORUM_WON,
	QUORUM_LOST,
};

/* Largest index acknowledged by a majority; UINT64_MAX for no voters. */
uint64_t quorum_majority_index(const uint64_t *acked, size_t n);
uint64_t quorum_joint_index(const uint64_t *in, size_t n_in, const uint64_t *out, size_t n_out);

enum quorum_vote quorum_majority_vote(size_t n, size_t granted, size_t rejected);
enum quorum_vote quorum_joint_vote(size_t n_in, size_t granted_in, size_t rejected_in,
				   size_t n_out, size_t granted_out, size_t rejected_out);

/* True when 'count' of 'n' voters is a majority (an empty set always is). */
static inline int quorum_is_majority(size_t n, size_t count)
{
	return n == 0 || count >= n / 2 + 1;
}

#endif
