/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's in-memory view of the log: the entries after the latest
 * snapshot, plus the indexes that track how far they are committed, handed
 * to the host for persistence, known durable, and applied.
 *
 *   snap_index < applied <= commit,   stable <= last,   entries owned here
 */
#ifndef KLB_RAFT_LOG_H
#define KLB_RAFT_LOG_H

#include <stdbool.h>
#include "raft/raft.h"

struct raft_log {
	struct raft_entry *ents;
	size_t n;
	size_t cap;
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t commit;
	uint64_t stable;	/* durable up to here (host acknowledged) */
	uint64_t persist_next;	/* first entry not yet handed out to persist */
	uint64_t applied;	/* host acknowledged */
	uint64_t apply_next;	/* first entry not yet handed out to apply */
};

void log_init(struct raft_log *l, uint64_t snap_index, uint64_t snap_term);
void log_free(struct raft_log *l);

static inline uint64_t log_last_index(const struct raft_log *l)
{
	return l->snap_index + l->n;
}

static inline uint64_t log_first_index(const struct raft_log *l)
{
	return l->snap_index + 1;
}

/* 0, -ENOENT when compacted away, -ERANGE when past the end. */
int log_term(const struct raft_log *l, uint64_t index, uint64_t *term);
uint64_t log_last_term(const struct raft_log *l);
bool log_matches(const struct raft_log *l, uint64_t index, uint64_t term);
struct raft_entry *log_entry(const struct raft_log *l, uint64_t index);
/* Appends a deep copy of e at last+1 (e->index must be last+1). */
int log_append(struct raft_log *l, const struct raft_entry *e);
void log_truncate_from(struct raft_log *l, uint64_t index);
void log_compact(struct raft_log *l, uint64_t index);
void log_reset(struct raft_log *l, uint64_t snap_index, uint64_t snap_term);
/* Figure 2's "at least as up-to-date" comparison against (term, index). */
bool log_is_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term);
/* Largest index <= index whose term is <= term (a rejection hint). */
uint64_t log_find_conflict_by_term(const struct raft_log *l, uint64_t index, uint64_t term);

#endif
