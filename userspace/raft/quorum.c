// SPDX-License-Identifier: GPL-2.0
#include "raft/quorum.h"
#include "raft/raft.h"

uint64_t quorum_majority_index(const uint64_t *acked, size_t n)
{
	uint64_t sorted[RAFT_MAX_NODES * 2];
	size_t i, j;

	if (n == 0)
		return UINT64_MAX;
	if (n > sizeof(sorted) / sizeof(sorted[0]))
		n = sizeof(sorted) / sizeof(sorted[0]);
	/* Insertion sort, descending: n is a handful of voters. */
	for (i = 0; i < n; i++) {
		uint64_t v = acked[i];

		for (j = i; j > 0 && sorted[j - 1] < v; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = v;
	}
	/* The (n/2+1)-th largest value is held by a majority. */
	return sorted[n / 2];
}

uint64_t quorum_joint_index(const uint64_t *in, size_t n_in, const uint64_t *out, size_t n_out)
{
	uint64_t a = quorum_majority_index(in, n_in);
	uint64_t b = quorum_majority_index(out, n_out);
	uint64_t idx = a < b ? a : b;

	/* Both halves empty: nothing can be committed. */
	return idx == UINT64_MAX ? 0 : idx;
}

enum quorum_vote quorum_majority_vote(size_t n, size_t granted, size_t rejected)
{
	size_t q = n / 2 + 1;

	if (n == 0)
		return QUORUM_WON;
	if (granted >= q)
		return QUORUM_WON;
	if (n - rejected < q)
		return QUORUM_LOST;
	return QUORUM_PENDING;
}

enum quorum_vote quorum_joint_vote(size_t n_in, size_t granted_in, size_t rejected_in,
				   size_t n_out, size_t granted_out, size_t rejected_out)
{
	enum quorum_vote a = quorum_majority_vote(n_in, granted_in, rejected_in);
	enum quorum_vote b = quorum_majority_vote(n_out, granted_out, rejected_out);

	if (a == QUORUM_LOST || b == QUORUM_LOST)
		return QUORUM_LOST;
	if (a == QUORUM_WON && b == QUORUM_WON)
		return QUORUM_WON;
	return QUORUM_PENDING;
}
