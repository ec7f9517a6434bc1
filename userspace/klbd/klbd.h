/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon: one struct klbd, driven by one event loop (loop.h). Its
 * parts, one file each: transport.c (peers over TCP), node.c (the Raft
 * node: storage, proposals, applying), reconcile.c (the kernel made to
 * match the applied state), control.c (klbctl's Unix socket), notify.c
 * (systemd), probe.c (health probes; health.c their verdicts), kevents.c
 * (the kernel's change events and the module's comings and goings),
 * member.c (membership changes), reload.c (SIGHUP), metrics.c
 * (the Prometheus endpoint), watch.c (events for klbctl monitor), lease.c
 * (the leader's lease deadlines), register.c (backends' own registrations
 * over HTTP), http.c (the HTTP requests both servers read), http_server.c
 * (their connections), bootstrap.c (the services a new cluster starts
 * with).
 */
#ifndef KLBD_H
#define KLBD_H

#include <stdbool.h>
#include <stdint.h>

#include "klbd/auth.h"
#include "klbd/config.h"
#include "klbd/dirty.h"
#include "klbd/frame.h"
#include "klbd/loop.h"
#include "klbd/metrics.h"
#include "klbd/probe.h"
#include "klbd/register.h"
#include "klbd/state.h"
#include "lib/klb_client.h"
#include "raft/raft.h"
#include "raft/storage.h"

/* Bounds, each with a counter. */
#define PEER_QUEUE_MAX_BYTES	(32u << 20)	/* a snapshot's chunks fit */
#define PEER_QUEUE_MAX_MSGS	4096
#define PEER_QUEUE_DOWN_MSGS	64	/* while not connected */
#define INBOUND_MAX		(2 * RAFT_MAX_NODES)
#define HANDSHAKE_TIMEOUT_MS	5000
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define CONTROL_CLIENTS_MAX	64
/*
 * A watcher's socket buffer: with KLBD_WATCH_QUEUE_MAX_BYTES the most a
 * watcher that does not read holds, in klbd and in the kernel.
 */
#define WATCH_SNDBUF_BYTES	(16 * 1024)
/* How long an overflowed watcher has to take its overflow event. */
#define WATCH_CLOSE_MS		1000
#define PENDING_MAX		1024
#define REQUEST_TIMEOUT_MS	15000
/* Peers: the members, and removed ones kept a while to be told so. */
#define PEERS_MAX		(2 * RAFT_MAX_NODES)
#define REMOVED_LINGER_MS	60000
/* How long a new member may take to catch up before add-member fails. */
#define MEMBER_CATCHUP_MS	60000

struct qmsg {
	struct qmsg *next;
	uint8_t type;
	size_t len;
	uint8_t data[];
};

struct wbuf {
	uint8_t *p;
	size_t len, off, cap;
};

enum conn_state {
	CONN_CONNECTING,	/* outbound: connect() in progress */
	CONN_WAIT_HELLO,	/* inbound */
	CONN_WAIT_CHALLENGE,	/* outbound */
	CONN_WAIT_AUTH,		/* inbound */
	CONN_OPEN,
};

struct conn {
	struct klbd *d;
	int fd;
	bool outbound;
	bool dead;		/* closed; freed when no request is in flight */
	enum conn_state state;
	uint64_t peer;		/* outbound: the peer; inbound: once known */
	uint64_t deadline_ms;	/* for the handshake */
	struct auth_hs hs;
	struct frame_key key;
	uint64_t send_seq, recv_seq;
	uint8_t *rbuf;
	size_t rlen, rcap;
	struct wbuf out;
	struct loop_ev rev, wev;
	struct conn *next;	/* inbound list, dead list */
};

struct peer {
	uint64_t id;
	char addr[RAFT_ADDR_MAX];	/* from the configuration or klbd.conf */
	struct klbd_addr sa;
	uint64_t retire_ms;	/* not a member any more: dropped then */
	struct conn *conn;	/* outbound */
	struct qmsg *qhead, *qtail;
	size_t qmsgs, qbytes;
	uint64_t next_attempt_ms;
	unsigned int backoff_ms;
	/*
	 * It was the leader when its connection closed: redialled at once
	 * (leader_redials times at most) until a handshake proves it alive,
	 * and a refusal tells that its daemon is gone (node_leader_refused).
	 */
	bool leader_lost;
	unsigned int leader_redials;
	uint64_t dropped;	/* messages refused: queue full */
};

struct transport_stats {
	uint64_t frames_sent, frames_received;
	uint64_t frames_bad_crc, frames_bad_mac, frames_bad_seq;
	uint64_t frames_bad_proto, frames_too_large;
	uint64_t peers_unknown, auth_failures, handshake_timeouts;
	uint64_t inbound_over_limit, queue_full_drops;
	uint64_t connects, disconnects;
	uint64_t peers_over_limit;	/* a removed peer dropped early: PEERS_MAX */
};

struct control_client {
	struct klbd *d;
	uint64_t id;
	int fd;
	bool dead, busy, processing;
	bool watching;		/* KLBD_CTL_WATCH: a stream of events */
	bool overflowed;	/* closed once the overflow event is out */
	uint64_t close_ms;	/* or then at the latest */
	uint8_t *rbuf;
	size_t rlen, rcap;
	struct wbuf out;
	struct loop_ev rev, wev;
	struct control_client *next;
};

/*
 * A command waiting for its outcome. On the node that proposed it
 * (index, term) identify it; a follower waits for its own applied index
 * to reach the leader's answer before answering its client.
 */
enum pending_kind {
	PENDING_PROPOSED,	/* proposed here: for a client here or a peer */
	PENDING_FORWARDED,	/* sent to the leader, no answer yet */
	PENDING_APPLYING,	/* the leader answered: wait to apply index */
	PENDING_TRANSFER,	/* waits for node 'peer' to lead */
	PENDING_MEMBER,		/* a membership change the leader drives */
};

enum member_stage {
	MEMBER_PROPOSED,	/* (index, term) proposed: wait for the commit */
	MEMBER_CATCHING_UP,	/* a learner: promote it once it caught up */
	MEMBER_HANDING_OFF,	/* the leader removes itself: another leads first */
};

struct pending {
	enum pending_kind kind;
	uint64_t client;	/* a control client here, 0 for none */
	uint64_t peer;		/* PROPOSED for a follower: who asked */
	uint64_t req;		/* the follower's request id */
	uint64_t index, term;
	uint64_t deadline_ms;
	uint64_t proposed_ns;	/* PROPOSED: when, for the latency */
	int status;
	char msg[160];
	uint8_t ctl_op;		/* the request answered: 0 for KLBD_CTL_SUBMIT */
	/* PENDING_MEMBER */
	struct klbd_member_req member;
	enum member_stage stage;
	bool promoting;		/* the proposal is the learner's promotion */
	struct pending *next;
};

struct klbd_stats {
	uint64_t applied_entries, apply_refused;
	uint64_t reconciles, reconcile_failures;
	uint64_t reconciles_partial;	/* the changed services only */
	uint64_t reconciled_services;	/* pushed by partial ones */
	uint64_t snapshots_taken, snapshots_installed;
	uint64_t proposals, forwarded, pending_over_limit, requests_timed_out;
	uint64_t control_over_limit, control_bad_requests;
	uint64_t kernel_events, module_events;
	uint64_t reloads, reload_failures;
	uint64_t members_added, members_removed, member_catchup_timeouts;
	uint64_t leader_changes;
	uint64_t lease_renewals, lease_renewals_refused, lease_expiries;
	uint64_t watch_events, watch_overflows, watch_over_limit;
	uint64_t bootstrap_proposed;	/* bootstrap services proposed here */
};

/* The cluster's decisions on some backends before an entry (watch.c). */
struct watch_mark {
	bool key_given;			/* one service's, or every one's */
	struct klb_service_key key;
	size_t n;
	struct watch_backend {
		struct klb_endpoint addr;
		bool down;
	} bes[];
};

struct klbd {
	struct klbd_config cfg;
	struct io_uring ring;
	uint64_t now_ms;
	uint64_t stop_at_ms;	/* removed: stop then, answers sent */

	/* node.c */
	struct raft *raft;
	struct raft_storage st;
	struct klbd_state state;
	uint64_t applied, snap_index;
	uint64_t applied_term;		/* the term of the entry at applied */
	bool storage_busy;
	struct after_persist *ap_head, *ap_tail;
	struct pending *pending;
	size_t n_pending;
	uint64_t next_req;
	struct loop_ev tick_ev;
	struct __kernel_timespec tick_ts;
	uint64_t lead_seen, lead_term;	/* for leader_changes */

	/* reconcile.c */
	struct klb_client nl;
	bool nl_open;
	/* the services to push: set where entries are applied */
	struct klbd_dirty dirty;
	bool reconcile_failing;
	bool synced;		/* caught up with a leader since start */
	uint64_t reconcile_retry_ms;
	uint64_t reconciled_index;	/* the kernel holds the state as of */
	uint64_t reconcile_tried_index;	/* the last attempt, failed or not */
	uint64_t generation;		/* the kernel's, after our last write */
	uint64_t generation_ms;		/* when we wrote (or first found) it */
	uint64_t generation_check_ms;

	/* kevents.c */
	struct nl_sock kctl;		/* nlctrl "notify": klb (un)loaded */
	bool kctl_open;
	struct klb_client kev;		/* klb "events": writes to the kernel */
	bool kev_open;
	struct loop_ev kctl_ev, kev_ev;
	uint64_t kevents_retry_ms;

	/* transport.c */
	int listen_fd;
	struct loop_ev listen_ev;
	struct peer peers[PEERS_MAX];
	size_t n_peers;
	struct raft_conf peers_conf;	/* the configuration peers follow */
	bool peers_synced;
	struct conn *inbound;
	size_t n_inbound;
	struct conn *dead_conns;
	struct transport_stats ts;
	uint64_t unknown_logged_ms, auth_logged_ms, frame_logged_ms;

	/* member.c */
	struct raft_conf conf_applied;	/* as of the applied index */
	struct { uint64_t id, index; } removed[RAFT_MAX_NODES];
	size_t n_removed;

	/* control.c */
	int control_fd;
	struct loop_ev control_ev;
	struct control_client *clients;
	size_t n_clients;
	uint64_t next_client;
	size_t n_watchers;

	/* watch.c: what the last leader event said */
	uint8_t watch_role;
	uint64_t watch_term, watch_leader;

	/* probe.c */
	struct probe_target *targets;	/* by key, then address */
	size_t n_targets;
	bool targets_valid;
	uint64_t probe_synced;		/* the applied index targets match */
	size_t probes_inflight;
	size_t execs_running;		/* exec probes' scripts, reaped or not */
	int exec_pids[PROBE_EXEC_MAX];	/* theirs (0: a free slot) */
	struct ssl_ctx_st *tls_ctx;	/* https probes' SSL_CTX, made once */
	/* via-vip probes' raw tunnel sockets, IPv4 and IPv6; -1: not yet */
	int vip_tx[2];
	struct loop_ev probe_ev;
	struct __kernel_timespec probe_ts;
	struct probe_stats ps;

	/* notify.c */
	int notify_fd;
	bool notified_ready;
	enum raft_role notified_role;
	uint64_t notified_term, notified_applied, watchdog_ms;

	/* metrics.c */
	struct metrics metrics;

	/* lease.c: the leader's, empty on other nodes */
	struct lease *leases;		/* by key, then address */
	size_t n_leases;
	uint64_t leases_term;		/* leading in; 0: not leading */
	uint64_t leases_applied;	/* the applied index they follow */

	/* register.c */
	struct reg reg;

	/* bootstrap.c: the file's services, until the state is bootstrapped */
	bool boot_loaded;
	struct restore_service *boot_svcs;
	size_t n_boot_svcs;
	uint64_t boot_term;		/* the term they were last proposed in */
	size_t boot_next;		/* the next to propose; past all: done */

	struct klbd_stats stats;
};

void klbd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int wbuf_append(struct wbuf *b, const void *p, size_t n);
void wbuf_free(struct wbuf *b);

/* transport.c */
int transport_start(struct klbd *d, char *err, size_t err_len);
/* Queues a message for peer (bounded; dropped and counted when full). */
void transport_send(struct klbd *d, uint64_t peer, uint8_t type,
		    const void *data, size_t len);
void transport_tick(struct klbd *d);
/* Peers follow Raft's newest configuration (klbd.conf's before there is one). */
void transport_sync(struct klbd *d);
/* An authenticated inbound connection from peer is open. */
bool transport_connected(struct klbd *d, uint64_t peer);
void transport_reap(struct klbd *d);

/* node.c */
int node_start(struct klbd *d, char *err, size_t err_len);
void node_recv(struct klbd *d, uint64_t from, uint8_t type,
	       const uint8_t *data, size_t len);
void node_storage_done(struct klbd *d, void *op, int res);
/* Runs the Raft node until it has nothing more to do now. */
void node_process(struct klbd *d);
/* A control client's command (encoded); answered through control_reply. */
void node_submit(struct klbd *d, uint64_t client, const uint8_t *cmd,
		 size_t len);
void node_status(struct klbd *d, char *buf, size_t cap);
/* KLBD_CTL_SERVICES: each service's digest and check (lib/klbd_proto.h). */
void node_services(struct klbd *d, uint64_t client);
/*
 * An encoded command proposed here, the leader, for nobody to wait on (its
 * outcome is the state's): 0, or raft_propose()'s -errno.
 */
int node_propose(struct klbd *d, const uint8_t *cmd, size_t len);
/* Hands leadership to target, from the leader or through it. */
void node_transfer(struct klbd *d, uint64_t client, uint64_t target);
void node_client_gone(struct klbd *d, uint64_t client);
/* Answers the clients whose command the last reconcile covered. */
void node_after_reconcile(struct klbd *d);
/* A command's waiter; on failure the client (op) got its answer. */
int pending_new(struct klbd *d, uint64_t client, uint8_t op, struct pending **out);
void pending_del(struct klbd *d, struct pending *p);
/* A new pending command, linked and counted, its deadline set; NULL: ENOMEM. */
struct pending *pending_add(struct klbd *d);
void pending_answer(struct klbd *d, struct pending *p, int status,
		    const char *msg, uint64_t index);
/* A snapshot of what is applied, now rather than after snapshot-entries. */
void node_snapshot_now(struct klbd *d);
/* The leader, when this node can send to it; else 0 and why. */
uint64_t node_leader(struct klbd *d, const char **why);
/* The leader this node follows, 0 for none (or when it leads itself). */
uint64_t node_followed(struct klbd *d);
/*
 * Peer id, the leader when its connection closed, refused the reconnect:
 * its daemon is gone. Forgets it (raft_forget_leader) if still followed.
 */
void node_leader_refused(struct klbd *d, uint64_t id);

/* member.c */
void member_show(struct klbd *d, uint64_t client);
/* A client's change (a KLBD_CTL_MEMBER body), here or through the leader. */
void member_request(struct klbd *d, uint64_t client, const uint8_t *body,
		    size_t len);
/* FRAME_MEMBER_REQ: u64 request id | a KLBD_CTL_MEMBER body. */
void member_forwarded(struct klbd *d, uint64_t from, const uint8_t *data,
		      size_t len);
/* Drives the changes in flight: commits, catching up, hand-offs, time. */
void member_tick(struct klbd *d);
/*
 * The configuration as of index was applied: an entry of the log
 * (from_log: the state's verdicts follow the voters), or a snapshot's.
 */
void member_conf_applied(struct klbd *d, const struct raft_conf *conf,
			 uint64_t index, bool from_log);
/* FRAME_REMOVED: u64 the index of the configuration without us. */
void member_removed_frame(struct klbd *d, uint64_t from, const uint8_t *data,
			  size_t len);
/* A Raft message from a node that is no member: tell it, if it was removed. */
void member_stray(struct klbd *d, uint64_t from);
/* Refuses to start a node that was removed (its marker in data-dir). */
int member_check_removed(struct klbd *d, char *err, size_t err_len);

/* reconcile.c */
void reconcile_run(struct klbd *d);
/* Has someone changed the kernel (or reloaded klb)? Soon after an event. */
void reconcile_check(struct klbd *d);
/* kevents.c saw a change (reloaded: the module came or went): check now. */
void reconcile_kernel_changed(struct klbd *d, bool reloaded);

/* kevents.c: opens (again) the listeners that call the above. */
void kevents_tick(struct klbd *d);

/* node.c: this gateway's verdict on a backend changed. */
void health_changed(struct klbd *d, const struct probe_target *t);
/* probe.c: answers a KLBD_CTL_HEALTH request (key: its body). */
void health_show(struct klbd *d, uint64_t client, const uint8_t *key,
		 size_t len);
/* node.c: proposes this gateway's verdict (no answer awaited). */
void health_report(struct klbd *d, const struct probe_target *t);

/* lease.c: the leader's deadlines, each tick; ends the expired leases. */
void lease_tick(struct klbd *d);
/* A LEASE_RENEW on the leader: 0, or -errno and why. */
int lease_renew(struct klbd *d, const struct klbd_cmd *cmd, char *why,
		size_t why_len);

/*
 * bootstrap.c: reads bootstrap-services (0, or -1 and err); each tick, the
 * leader proposes what the state lacks of it, once.
 */
int bootstrap_start(struct klbd *d, char *err, size_t err_len);
void bootstrap_tick(struct klbd *d);

/* notify.c: systemd's readiness, status and watchdog. */
void notify_tick(struct klbd *d);
void notify_stopping(struct klbd *d);
/* Around a reload: RELOADING=1, then READY=1 again. */
void notify_reload(struct klbd *d, bool start);

/* reload.c: SIGHUP's work (Documentation/klbd.md, Reload). */
void reload_run(struct klbd *d);

/* control.c */
int control_start(struct klbd *d, char *err, size_t err_len);
void control_reply(struct klbd *d, uint64_t client, uint8_t op, int status,
		   const char *msg, const void *body, size_t len);
void control_reap(struct klbd *d);
/* An event record for every watcher (bounded: over it, one is cut off). */
void control_watch_send(struct klbd *d, const void *rec, size_t len);
/* The same for one watcher, the client whose WATCH was just answered. */
void control_watch_send_one(struct klbd *d, uint64_t client, const void *rec,
			    size_t len);
/* Overflowed watchers that did not take their last event in time go. */
void control_tick(struct klbd *d);

/*
 * watch.c: events for watchers. Each does nothing (but track the role)
 * while there is no watcher.
 */
void watch_started(struct klbd *d, uint64_t client);
/* Role, term or leader changed since the last call: an event. */
void watch_tick(struct klbd *d);
void watch_verdict(struct klbd *d, const struct probe_target *t,
		   const char *why);
void watch_conf(struct klbd *d, const struct raft_conf *conf, uint64_t index);
/*
 * Before an entry that may move the cluster's decisions: the decisions
 * on key's backends (NULL: every service's); after it, watch_compare()
 * sends a health event for each that changed, and frees the mark.
 */
struct watch_mark *watch_mark(struct klbd *d, const struct klb_service_key *key);
void watch_compare(struct klbd *d, struct watch_mark *m, uint64_t index);

#endif
