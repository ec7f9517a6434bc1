/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raft consensus as a pure state machine.
 *
 * The core does no I/O, reads no clock, starts no thread and keeps no global
 * state. The host drives it:
 *
 *   inputs   raft_tick()          one logical clock tick
 *            raft_step()          a message received from a peer
 *            raft_propose()       new entries (leader only)
 *            raft_propose_conf()  a single-server membership change
 *            raft_read_index()    a linearizable read barrier
 *            raft_transfer_leader()
 *            raft_compact()       the application took a snapshot
 *
 *   outputs  raft_ready() fills a struct raft_ready. The host then, in order:
 *              1. sends rd.msgs (they depend on nothing unpersisted);
 *              2. saves rd.snapshot, appends rd.entries and writes rd.hs with
 *                 one fsync (group commit);
 *              3. only then sends rd.msgs_after_persist and calls
 *                 raft_persisted(rd.persist_index, rd.persist_term);
 *              4. applies rd.committed (always already durable locally) and
 *                 calls raft_applied() with the last one applied;
 *              5. serves rd.reads once its applied index reaches each read's
 *                 index.
 *            raft_advance() does 3's and 4's acknowledgements in one call for
 *            hosts that do everything synchronously.
 *
 * Lifetimes. Every pointer in a struct raft_ready points into the core; a
 * host that keeps something longer copies it (raft_storage_prepare() and
 * the codec do). Exactly:
 *
 *   msgs, msgs_after_persist   until the next raft_ready() or raft_free();
 *   (and their entries, data)  stepping, ticking, proposing in between is
 *                              fine, so they may wait for a write
 *   reads                      until the next raft_ready() or raft_free()
 *   entries, committed         until the next call that changes the log:
 *   (and their data)           raft_step(), raft_tick(), raft_campaign(),
 *                              raft_propose(), raft_propose_conf(),
 *                              raft_transfer_leader(), raft_compact(),
 *                              raft_ready(), raft_free(). raft_persisted(),
 *                              raft_applied() and raft_advance() of the same
 *                              ready leave them in place.
 *   snapshot (and its data)    until raft_step(), raft_compact() or
 *                              raft_free() (a newer snapshot replaces it)
 *
 * Pointers returned by raft_entry_at() and raft_snapshot() follow the same
 * rules as entries and snapshot. Nothing the host passes in is kept: the
 * core copies proposals, messages and boot state.
 *
 * Membership changes are single-server changes (one voter or learner added,
 * promoted or removed per change) that take effect as soon as the entry is
 * appended to a log, at most one uncommitted at a time, and only after the
 * leader has committed an entry of its own term.
 */
#ifndef KLB_RAFT_H
#define KLB_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_NODES 16
#define RAFT_NONE 0
/*
 * Default bound on a snapshot's size (raft_config.max_snapshot_bytes): a
 * follower allocates what the leader announces, and the core keeps the
 * latest snapshot in memory.
 */
#define RAFT_MAX_SNAPSHOT_BYTES (1ull << 30)

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0,
	RAFT_ENTRY_CONF = 1,	/* data is an encoded struct raft_conf */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint32_t type;
	uint32_t len;
	void *data;
};

/* A member's address for its peers ("host:port"), NUL-terminated. */
#define RAFT_ADDR_MAX 64

struct raft_member_addr {
	uint64_t id;
	char addr[RAFT_ADDR_MAX];
};

/*
 * A configuration: who votes, who learns, and where each member is reached
 * (a member may have no address: a host that finds peers otherwise). It
 * travels whole in every configuration entry and snapshot, so a node that
 * learns its membership from the log or a snapshot also learns addresses.
 */
struct raft_conf {
	uint32_t n_voters;
	uint32_t n_learners;
	uint64_t voters[RAFT_MAX_NODES];
	uint64_t learners[RAFT_MAX_NODES];
	uint32_t n_addrs;
	struct raft_member_addr addrs[RAFT_MAX_NODES];
};

struct raft_hard_state {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

struct raft_snapshot_meta {
	uint64_t index;
	uint64_t term;
	struct raft_conf conf;
};

struct raft_snapshot {
	struct raft_snapshot_meta meta;
	void *data;
	size_t len;
};

enum raft_msg_type {
	RAFT_MSG_APPEND = 1,
	RAFT_MSG_APPEND_RESP,
	RAFT_MSG_VOTE,
	RAFT_MSG_VOTE_RESP,
	RAFT_MSG_PREVOTE,
	RAFT_MSG_PREVOTE_RESP,
	RAFT_MSG_HEARTBEAT,
	RAFT_MSG_HEARTBEAT_RESP,
	RAFT_MSG_SNAPSHOT,
	RAFT_MSG_SNAPSHOT_RESP,
	RAFT_MSG_TIMEOUT_NOW,
	RAFT_MSG_TYPE_MAX,
};

/* RAFT_MSG_VOTE context: campaign ordered by the leader (TimeoutNow). */
#define RAFT_VOTE_TRANSFER 1

struct raft_msg {
	uint32_t type;
	uint64_t from;
	uint64_t to;
	uint64_t term;
	/*
	 * APPEND: index/log_term of the entry before 'entries';
	 * VOTE, PREVOTE: the candidate's last index/term;
	 * APPEND_RESP: last matching index (accept) or the rejected index;
	 * SNAPSHOT_RESP: next chunk offset wanted, or last index when done.
	 */
	uint64_t index;
	uint64_t log_term;
	uint64_t commit;
	bool reject;
	uint64_t reject_hint;	/* APPEND_RESP reject: follower log hint */
	uint64_t context;	/* HEARTBEAT(_RESP): read round; VOTE: flags */
	uint32_t n_entries;
	struct raft_entry *entries;
	/* SNAPSHOT: one chunk of the snapshot described by snap. */
	struct raft_snapshot_meta snap;
	uint64_t snap_offset;
	uint64_t snap_total;
	uint32_t snap_len;
	void *snap_data;
};

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_PRE_CANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
};

/* Planted bugs, for showing that the simulator catches them. Never in use. */
enum raft_bug {
	RAFT_BUG_COMMIT_OLD_TERM = 1 << 0,	/* count previous-term entries */
	RAFT_BUG_DOUBLE_VOTE = 1 << 1,		/* vote again in the same term */
	RAFT_BUG_VOTE_BEFORE_PERSIST = 1 << 2,	/* grant a vote before it is durable */
	RAFT_BUG_COMMIT_UNSYNCED = 1 << 3,	/* count the leader's unsynced entries */
	RAFT_BUG_CONF_BEFORE_TERM_COMMIT = 1 << 4, /* change before committing in term */
	RAFT_BUG_TWO_PENDING_CONF = 1 << 5,	/* a change while one is uncommitted */
};

struct raft_config {
	uint64_t id;
	unsigned int election_ticks;	/* timeout is random in [n, 2n) */
	unsigned int heartbeat_ticks;
	uint64_t seed;			/* PRNG seed for election timeouts */
	bool pre_vote;
	bool check_quorum;
	uint32_t max_msg_bytes;		/* entry bytes per APPEND (>= 1 entry) */
	uint32_t max_inflight_msgs;	/* APPENDs in flight per follower */
	uint64_t max_inflight_bytes;	/* 0: unlimited */
	uint32_t max_entry_bytes;	/* proposal size limit */
	uint64_t max_uncommitted_bytes;	/* 0: unlimited */
	uint32_t snapshot_chunk_bytes;
	uint64_t max_snapshot_bytes;	/* received and compacted snapshots */
	unsigned int bugs;		/* enum raft_bug, testing only */
};

/* Durable state the host loaded from storage at start. */
struct raft_boot {
	struct raft_hard_state hs;
	struct raft_snapshot_meta snap;
	const void *snap_data;
	size_t snap_len;
	const struct raft_entry *entries;	/* snap.index+1 ... */
	size_t n_entries;
	uint64_t applied;	/* what the state machine already holds */
};

struct raft_read {
	uint64_t ctx;
	uint64_t index;
};

/* The core's output; see "Lifetimes" at the top for every pointer. */
struct raft_ready {
	bool hs_changed;
	struct raft_hard_state hs;
	const struct raft_snapshot *snapshot;	/* received; save and restore */
	const struct raft_entry *entries;	/* append to the log */
	size_t n_entries;
	uint64_t persist_index;			/* acknowledge with these */
	uint64_t persist_term;
	bool must_sync;
	const struct raft_entry *committed;
	size_t n_committed;
	const struct raft_msg *msgs;
	size_t n_msgs;
	const struct raft_msg *msgs_after_persist;
	size_t n_msgs_after_persist;
	const struct raft_read *reads;
	size_t n_reads;
};

/* What the leader knows of a member's log. */
struct raft_member_progress {
	uint64_t id;
	uint64_t match;		/* its log holds ours up to here */
	uint64_t next;		/* the next index the leader sends it */
	bool recent_active;	/* heard from within the election timeout */
};

struct raft_status {
	uint64_t id;
	enum raft_role role;
	uint64_t term;
	uint64_t vote;
	uint64_t lead;
	uint64_t commit;
	uint64_t applied;
	uint64_t stable;
	uint64_t first_index;
	uint64_t last_index;
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t conf_index;
	uint64_t transferee;
	struct raft_conf conf;
	/* the leader's view of every member, itself included; 0 elsewhere */
	uint32_t n_progress;
	struct raft_member_progress progress[RAFT_MAX_NODES];
	/* limits hit, since start */
	uint64_t proposals_too_large;	/* -EMSGSIZE */
	uint64_t proposals_over_limit;	/* -ENOBUFS: uncommitted bound */
	uint64_t reads_over_limit;	/* -ENOBUFS: pending reads */
	uint64_t reads_dropped;		/* pending when leadership was lost */
	uint64_t snapshots_too_large;	/* -EMSGSIZE: from a peer or compact */
	uint64_t leader_forgotten;	/* raft_forget_leader() that took effect */
};

enum raft_conf_op {
	RAFT_CONF_ADD_LEARNER,	/* with its address, or none */
	RAFT_CONF_PROMOTE,
	RAFT_CONF_REMOVE,	/* its address goes too */
	RAFT_CONF_SET_ADDR,	/* a member moved: membership unchanged */
};

struct raft_buf {
	const void *data;
	uint32_t len;
};

/*
 * What identifies a proposal: the index the leader gave it and the term it
 * led in. The same index may later hold another entry (a new leader
 * overwrote it); the pair never names anything else.
 */
struct raft_proposal {
	uint64_t index;
	uint64_t term;
};

enum raft_proposal_state {
	/* not known committed: it may still commit, or be overwritten */
	RAFT_PROPOSAL_PENDING,
	RAFT_PROPOSAL_COMMITTED,
	/* another entry is committed at its index: it never will be */
	RAFT_PROPOSAL_DROPPED,
	/* compacted into the snapshot before anyone asked: see rd.committed */
	RAFT_PROPOSAL_UNKNOWN,
};

struct raft;

void raft_config_default(struct raft_config *cfg, uint64_t id, uint64_t seed);
int raft_new(struct raft **out, const struct raft_config *cfg, const struct raft_boot *boot);
void raft_free(struct raft *r);

void raft_tick(struct raft *r);
int raft_step(struct raft *r, const struct raft_msg *m);
int raft_campaign(struct raft *r);
/*
 * The host has strong evidence that the leader is gone (its daemon refuses
 * connections) before the election timeout says so. A voting follower that
 * knows its leader forgets it: its term and vote stay, nothing is persisted,
 * its lease ends (it grants pre-votes at once), and it campaigns -- with a
 * pre-vote when pre_vote is on -- after a random 1 .. max(1,
 * election_ticks / 4) ticks instead of its full timeout; if that campaign
 * does not win (two that forgot at once split the vote), up to two more
 * come as soon. A message from a leader of its term (append, heartbeat,
 * snapshot) makes it an ordinary follower again with the usual timeout, and
 * hearing any leader ends the early campaigns. Returns 0, or -EINVAL and changes
 * nothing on a leader, a (pre-)candidate, a learner, or a follower that
 * knows no leader. A wrong suspicion is safe and, with pre_vote and
 * check_quorum on, harmless: the others still hear the leader and turn the
 * pre-vote away.
 */
int raft_forget_leader(struct raft *r);
/*
 * Appends n entries (leader only). *first (may be NULL): the first one's
 * identity; the others follow at first->index + 1 ... in the same term.
 */
int raft_propose(struct raft *r, const struct raft_buf *bufs, size_t n,
		 struct raft_proposal *first);
/*
 * A single-server change. addr: the member's "host:port" for ADD_LEARNER
 * (NULL or "" for none) and SET_ADDR (required), shorter than
 * RAFT_ADDR_MAX; ignored otherwise. -ENAMETOOLONG for a longer one.
 */
int raft_propose_conf(struct raft *r, enum raft_conf_op op, uint64_t node, const char *addr,
		      struct raft_proposal *id);
int raft_read_index(struct raft *r, uint64_t ctx);
int raft_transfer_leader(struct raft *r, uint64_t to);
int raft_compact(struct raft *r, uint64_t index, const void *data, size_t len);

bool raft_has_ready(const struct raft *r);
void raft_ready(struct raft *r, struct raft_ready *rd);
void raft_persisted(struct raft *r, uint64_t index, uint64_t term);
void raft_applied(struct raft *r, uint64_t index);
void raft_advance(struct raft *r, const struct raft_ready *rd);

void raft_status(const struct raft *r, struct raft_status *st);
/*
 * What became of a proposal, as far as this node knows. Only a committed
 * entry decides: an entry this node dropped from its log (a new leader
 * overwrote it here) may still be held by a node that wins a later
 * election and commits it, so that is PENDING, not DROPPED. A host that
 * tracks its proposals can also resolve them as it applies rd.committed:
 * the entry at the proposal's index either has its term or another.
 */
enum raft_proposal_state raft_proposal_state(const struct raft *r,
					     const struct raft_proposal *p);
int raft_term_at(const struct raft *r, uint64_t index, uint64_t *term);
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
const struct raft_snapshot *raft_snapshot(const struct raft *r);

/* The address c records for member id, or NULL when it has none. */
const char *raft_conf_addr(const struct raft_conf *c, uint64_t id);

const char *raft_role_name(enum raft_role role);
const char *raft_msg_name(uint32_t type);

#endif
