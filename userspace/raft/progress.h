/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a leader knows about one follower's log, and how fast it may send.
 *
 *   probe      match unknown: one APPEND at a time until a reply arrives
 *   replicate  match known: APPENDs are pipelined, bounded by an in-flight
 *              window counted in messages and bytes
 *   snapshot   the follower needs the snapshot; nothing else is sent
 */
#ifndef KLB_RAFT_PROGRESS_H
#define KLB_RAFT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define INFLIGHTS_MAX 256

enum progress_state {
	PROGRESS_PROBE,
	PROGRESS_REPLICATE,
	PROGRESS_SNAPSHOT,
};

/* Ring of the last index (and bytes) of each APPEND not yet acknowledged. */
struct inflights {
	uint32_t start;
	uint32_t count;
	uint32_t max_count;
	uint64_t bytes;
	uint64_t max_bytes;	/* 0: unlimited */
	uint64_t index[INFLIGHTS_MAX];
	uint64_t size[INFLIGHTS_MAX];
};

struct progress {
	uint64_t id;
	uint64_t match;
	uint64_t next;
	enum progress_state state;
	bool probe_sent;
	bool recent_active;
	uint64_t pending_snapshot;	/* snapshot index being sent */
	uint64_t snap_offset;		/* next chunk to send */
	struct inflights inflights;
};

void inflights_init(struct inflights *in, uint32_t max_count, uint64_t max_bytes);
void inflights_add(struct inflights *in, uint64_t index, uint64_t bytes);
void inflights_free_to(struct inflights *in, uint64_t index);
bool inflights_full(const struct inflights *in);
void inflights_free_first(struct inflights *in);
void inflights_reset(struct inflights *in);

void progress_init(struct progress *pr, uint64_t id, uint64_t next, uint32_t max_msgs,
		   uint64_t max_bytes);
void progress_become_probe(struct progress *pr);
void progress_become_replicate(struct progress *pr);
void progress_become_snapshot(struct progress *pr, uint64_t snap_index);
/* An acknowledgement up to 'index'; false when it tells nothing new. */
bool progress_maybe_update(struct progress *pr, uint64_t index);
/* A rejection of 'rejected', follower hint 'hint'; false when stale. */
bool progress_maybe_decrease(struct progress *pr, uint64_t rejected, uint64_t hint);
/* Record an APPEND carrying entries up to 'last' ('bytes' of data). */
void progress_sent(struct progress *pr, uint64_t last, uint64_t bytes, bool had_entries);
bool progress_is_paused(const struct progress *pr);
const char *progress_state_name(enum progress_state s);

#endif
