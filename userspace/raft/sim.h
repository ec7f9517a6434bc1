/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deterministic simulation of a Raft cluster: one thread, a seeded PRNG, a
 * virtual clock in milliseconds, a virtual network, and for each node the
 * real storage (WAL, snapshot file) on a simulated file system that keeps
 * written apart from durable data. Everything that happens is a function
 * of the seed, so any run replays exactly.
 */
#ifndef KLB_RAFT_SIM_H
#define KLB_RAFT_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/prng.h"
#include "raft/raft.h"
#include "raft/sim_fs.h"
#include "raft/storage.h"

#define SIM_MAX_NODES 7

/* What the checker remembers of one log position. */
struct shadow_entry {
	uint64_t term;
	uint64_t chain;		/* hash of this entry and all before it */
	uint32_t conf_id;	/* configuration in force at this entry */
	uint8_t type;
};

/* A mirror of a log: entries after (base_index, base_term). */
struct shadow_log {
	uint64_t base_index;
	uint64_t base_term;
	uint64_t base_chain;
	uint32_t base_conf;
	struct shadow_entry *e;
	size_t n;
	size_t cap;
};

/* One ready (or compaction) handed to the storage, not yet known durable. */
struct disk_write {
	uint64_t ticket;	/* the storage's: durable once it is */
	bool compact;		/* the node's own snapshot: the log after it stays */
	bool has_snap;
	struct raft_snapshot_meta snap;
	uint8_t snap_data[16];
	uint64_t snap_chain;
	struct raft_entry *ents;
	uint64_t *chains;
	size_t n;
	bool has_hs;
	struct raft_hard_state hs;
};

/*
 * What the storage acknowledged as durable (the checker's view of each
 * node's disk), plus what was handed to it and is not yet acknowledged.
 * Rebuilt from what recovery finds at every restart.
 */
struct disk {
	struct raft_hard_state hs;
	struct raft_snapshot_meta snap;
	uint8_t snap_data[16];
	uint64_t snap_chain;
	struct raft_entry *ents;	/* snap.index + 1 ... */
	uint64_t *chains;
	size_t n;
	size_t cap;
	struct disk_write *pending;
	size_t n_pending;
	size_t cap_pending;
};

struct sim_node {
	uint64_t id;
	struct raft *r;
	bool up;
	bool removed;		/* decommissioned after leaving the config */
	uint64_t paused_until;
	unsigned int tick_ms;	/* clock skew: each node ticks at its own rate */
	unsigned int restarts;
	struct disk disk;
	struct shadow_log log;
	/* the real storage on this node's own simulated file system */
	struct sim_fs *fs;
	struct wal_options wopt;
	struct raft_storage st;
	struct raft_io_batch *io;	/* the batch on the disk, or NULL */
	size_t io_next;			/* its next operation to run */
	int io_res;			/* < 0: an operation failed, the rest cancel */
	bool io_scheduled;
	uint64_t io_gen;
	/* after-persist messages waiting for their ticket */
	struct sim_after *after;
	size_t n_after;
	size_t cap_after;
	/* state machine: hash of applied data, and its index */
	uint64_t sm_hash;
	uint64_t applied;
	uint64_t commit;
	uint64_t core_commit;	/* the core's commit index when last looked at */
	enum raft_role role;
	uint64_t term;
	uint64_t max_durable_commit;
	uint64_t max_durable_snap;
	uint64_t conf_tried_term;	/* term whose first moments were tried */
	uint64_t forgot_dead;	/* its messages dropped while it is down */
};

struct sim_after {
	uint64_t ticket;
	struct raft_msg m;
};

struct sim_event {
	uint64_t time;
	uint64_t seq;
	int kind;
	int node;
	uint64_t gen;
	struct raft_msg *msg;
	uint64_t arg;		/* EV_FORGET: the leader suspected, 0: any */
};

struct sim_trace {
	uint64_t time;
	uint64_t a, b, c, d;
	int kind;
	int node;
	int msg_type;
	uint32_t n_entries;
	bool reject;
	uint64_t commit;
};

struct sim_options {
	uint64_t seed;
	uint64_t steps;
	unsigned int bugs;
	bool no_pending_check;	/* the direct "one pending change" check off */
	bool verbose;
	bool trace_all;
	/* election benchmark */
	unsigned int election_ticks;
	unsigned int heartbeat_ticks;
	unsigned int tick_ms;
	bool no_faults;
	int nodes;		/* fixed cluster size, all voters (0: seed picks) */
	bool forget_on_crash;	/* sim_crash(): followers forget the dead leader */
};

struct sim {
	struct sim_options opt;
	struct prng prng;
	uint64_t now;
	uint64_t steps;
	int n_nodes;
	struct sim_node nodes[SIM_MAX_NODES + 1];
	bool blocked[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
	/* fault mix of this seed, permille */
	unsigned int p_drop, p_dup, p_long_delay;
	unsigned int max_delay;
	unsigned int w_partition, w_crash, w_pause, w_conf, w_compact, w_transfer, w_heal;
	/* storage faults of this seed: permille per operation, per start */
	unsigned int p_write_err, p_sync_err, p_death;
	unsigned int p_crash_io;		/* power fails before an I/O operation */
	unsigned int p_conf_at_election;	/* a change tried the moment a leader wins */
	unsigned int p_conf_client;		/* a change with a client's proposal */
	unsigned int p_isolate_after_conf;	/* the leader cut off as it proposes one */
	size_t segment_bytes;
	/*
	 * raft_forget_leader(): permille of a crashed leader's followers that
	 * learn it at once (its daemon refuses connections), and a false
	 * suspicion of a live leader every forget_every_ms on average (0:
	 * never). Drawn from forget_prng, so the rest of a seed's fault mix
	 * is what it was before.
	 */
	struct prng forget_prng;
	unsigned int p_forget_on_crash;
	unsigned int forget_every_ms;
	bool healing;		/* final phase: faults stop */
	uint64_t conf_applied;	/* newest conf entry applied anywhere */
	/* events */
	struct sim_event *heap;
	size_t n_heap;
	size_t cap_heap;
	uint64_t seq;
	/* client */
	uint64_t next_payload;
	uint64_t next_read;
	uint64_t heal_payload;	/* proposals from here on must commit */
	uint64_t heal_time;
	bool live_ok;
	/* checker state */
	struct check *check;
	/* statistics */
	uint64_t elections;
	uint64_t commits;
	uint64_t crashes;
	uint64_t conf_changes;
	uint64_t snapshots_sent;
	uint64_t reads;
	uint64_t forgets;		/* raft_forget_leader() that took effect */
	uint64_t forgets_false;		/* of them, of a leader that was up */
	uint64_t storage_failures;	/* write/sync errors and deaths: node stopped */
	uint64_t batches;		/* storage batches completed */
	uint64_t max_tickets_in_flight;	/* prepared, not durable, at once */
	struct sim_fs_stats fs;		/* summed over nodes */
	/* trace ring */
	struct sim_trace trace[512];
	uint64_t n_trace;
	/* first violation, and every node's state at that moment */
	char violation[512];
	char nodes_dump[4096];
};

/* sim.c */
int sim_run(const struct sim_options *opt, struct sim *out_stats);
/* Pieces for drivers other than sim_run (the election benchmark). */
void sim_world_init(struct sim *s, const struct sim_options *opt);
void sim_world_free(struct sim *s);
bool sim_step(struct sim *s);
void sim_crash(struct sim *s, struct sim_node *n);
void sim_restart(struct sim *s, struct sim_node *n);
struct sim_node *sim_leader(struct sim *s);
void sim_violation(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_dump_trace(const struct sim *s, FILE *f);

/* sim_check.c: invariants, checked as the hosts see readies */
struct check *check_new(void);
void check_free(struct check *c);
uint32_t check_conf_id(struct check *c, const struct raft_conf *conf);
const struct raft_conf *check_conf(struct check *c, uint32_t id);
uint64_t check_chain(uint64_t prev, const struct raft_entry *e);
/* The history (chain) every log holds at (index, term); 0 when never seen. */
uint64_t check_chain_of(struct check *c, uint64_t index, uint64_t term);
void check_entries(struct sim *s, struct sim_node *n, const struct raft_entry *ents, size_t cnt);
void check_snapshot(struct sim *s, struct sim_node *n, const struct raft_snapshot *snap);
void check_commit(struct sim *s, struct sim_node *n, uint64_t commit);
void check_apply(struct sim *s, struct sim_node *n, const struct raft_entry *e);
void check_role(struct sim *s, struct sim_node *n);
void check_leader_commit(struct sim *s, struct sim_node *n);
void check_read_issued(struct sim *s, struct sim_node *n, uint64_t ctx);
void check_read_released(struct sim *s, struct sim_node *n, const struct raft_read *rd);
void check_restart(struct sim *s, struct sim_node *n);
uint64_t check_commit_max(const struct check *c);
uint64_t check_sm_at(struct check *c, uint64_t index, uint64_t hash, bool *mismatch);

void shadow_reset(struct shadow_log *l, uint64_t index, uint64_t term, uint64_t chain,
		  uint32_t conf);
void shadow_free(struct shadow_log *l);
const struct shadow_entry *shadow_at(const struct shadow_log *l, uint64_t index);
uint64_t shadow_last(const struct shadow_log *l);

#endif
