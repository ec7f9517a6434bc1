/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What klbctl and klbd say to each other, and what klbd's Raft log holds:
 *
 * A command (struct klbd_cmd) is one change of the configuration. Its
 * encoding is both a log entry and the body of a control request, so a
 * command travels from klbctl to the leader and into every gateway's log
 * without being rebuilt:
 *
 *   u8 version (1) | u8 op | u16 0 |
 *   service key (FLUSH, BOOTSTRAP_DONE: none) |
 *   SERVICE_ADD, SERVICE_SET: conf | u32 clear_flags [| check]
 *   BACKEND_*:                backend
 *   HEALTH:                   endpoint (the backend) | u64 node |
 *                             u8 failing | 3 bytes 0
 *   LEASE_RENEW:              endpoint (the backend)
 *   LEASE_END:                endpoint (the backend) | u64 lease
 *   SERVICE_REPLACE:          conf (every field) | u32 has_check (0, 1) |
 *                             [check] | u32 n_backends | n x rbackend |
 *                             u32 has_table (0, 1) | [table_size x u16 id]
 *
 *   service key  u8 proto | u8 0 | endpoint
 *   endpoint     u16 family | 16 bytes address | u16 port
 *   conf         u32 fields | u8 sched | u8 fwd | u16 0 | u32 table_size |
 *                u32 bound | u32 flags | 16 bytes seed
 *   backend      u32 fields | u16 id | u16 0 | endpoint | u32 weight |
 *                u8 state | u8 0 | u16 ttl
 *   rbackend     u16 id | u8 state | u8 0 | endpoint | u32 weight
 *   check        u32 fields (not 0) | u8 type | u8 rise | u8 fall |
 *                u8 name length | u16 port | u16 http status |
 *                u32 interval ms | u32 timeout ms | name |
 *                [u8 via-vip | 3 bytes 0, when fields has VIA_VIP]
 *
 * BOOTSTRAP_DONE marks the state bootstrapped: the services of klbd.conf's
 * bootstrap-services file were proposed, and never are again (see
 * Documentation/klbd.md, Bootstrap services). Nothing follows its header.
 *
 * SERVICE_REPLACE gives one service whole: its settings, its backends in
 * ascending id order (KLBD_REPLACE_MAX_BACKENDS at most, ids and addresses
 * unique, the service's address family), optionally its check (without
 * one the service keeps the check it has) and optionally its Maglev table
 * (KLBD_REPLACE_MAX_TABLE entries at most, each naming one of the
 * backends; without one the table is computed, moving what must move).
 *
 * The check block is there only when the command sets a health-check
 * setting, so that a command without one has the bytes it always had and
 * logs written before health checks existed still decode. The name (of
 * an exec check's script, KLBD_CHECK_NAME_MAX bytes at most, no NUL) is
 * there exactly when the command sets the type to exec; its length byte
 * was always 0 before, so older commands read the same. The via-vip
 * byte, likewise, is there exactly when the command sets it (fields has
 * KLBD_CHECK_F_VIA_VIP, a bit no older command had).
 *
 * little-endian, every field checked on decode (unused bytes zero, an
 * address's unused bytes too), so that two encodings of one command are
 * the same bytes.
 *
 * A backend's ttl (seconds, KLBD_LEASE_TTL_MIN to _MAX) gives it a lease:
 * BACKEND_ADD only, 0 (no lease) in every other command, so commands
 * written before leases existed decode as they did. LEASE_RENEW is never
 * a log entry: the leader answers it from its own deadlines. LEASE_END
 * deletes the backend if its lease is still `lease` (0: whichever lease
 * it has); see Documentation/klbd.md, Leases.
 *
 * The control socket (a Unix stream socket) carries requests and
 * responses, one response per request, in order:
 *
 *   request   u32 length of the rest | u8 version (1) | u8 op | u16 0 | body
 *   response  u32 length of the rest | u8 version | u8 op | u16 0 |
 *             i32 status (0 or -errno) | u32 message length | message | body
 *
 *   KLBD_CTL_SUBMIT  body: a command. Answered once the command is
 *                    committed and applied on this gateway; status is the
 *                    command's own outcome (-EEXIST, ...), message why.
 *   KLBD_CTL_STATUS  no body. Response body: "name value" lines (role,
 *                    term, leader, commit, applied, counters).
 *   KLBD_CTL_TRANSFER  body: u64 the voter that should lead. Answered once
 *                    this node sees it lead (or -ETIMEDOUT).
 *   KLBD_CTL_HEALTH  body: a service key. Response body: one line per
 *                    backend, "ID HEALTH FAILING_ON": HEALTH is up, down
 *                    (the cluster failed it over), unreachable-from-here
 *                    (this gateway alone sees it failing) or unchecked;
 *                    FAILING_ON the gateways that see it failing,
 *                    comma-separated, or "-".
 *   KLBD_CTL_MEMBERS  no body. Response body: one line per member of the
 *                    newest configuration, "ID ROLE LEADER MATCH APPLIED
 *                    ADDRESS": ROLE voter or learner, LEADER yes or no,
 *                    MATCH the leader's view of the member's log (known
 *                    when this gateway leads), APPLIED this gateway's own
 *                    applied index; "-" for what is not known here.
 *   KLBD_CTL_SERVICES  no body. Response body: per service, ascending,
 *                    service key | u64 digest | check (every field):
 *                    the digest (klbd_replace_digest()) of the
 *                    SERVICE_REPLACE that gives the service as it is,
 *                    operator states and base table, so that a restore
 *                    sends only what differs; the check for a save.
 *   KLBD_CTL_MEMBER  body: a membership change,
 *                      u8 op | u8 address length | u16 0 | u64 id | address
 *                    op KLBD_MEMBER_ADD (an address required) or
 *                    KLBD_MEMBER_REMOVE (none). An add is answered once
 *                    the node caught up and its promotion to voter is
 *                    committed, a removal once it is committed.
 *   KLBD_CTL_WATCH   no body. Turns the connection into a stream of what
 *                    the cluster decides, as seen on this gateway: an
 *                    answer (status 0, or -EBUSY over KLBD_WATCHERS_MAX
 *                    watchers), then one response of op KLBD_CTL_WATCH,
 *                    status 0, per event, its body one event record,
 *                    until the client closes. A watcher whose queue
 *                    passes KLBD_WATCH_QUEUE_MAX_BYTES is sent an
 *                    overflow record (when its socket takes it) and
 *                    disconnected; klbd never waits for a watcher.
 *
 * An event record:
 *
 *   u8 type | u8 flag | u16 count | rest by type:
 *   VERDICT   flag failing (1) or healthy (0), count the reason's length:
 *             service key | endpoint (the backend) | u64 this gateway |
 *             reason
 *   HEALTH    flag down (1) or up (0), count the gateways that see the
 *             backend failing: service key | endpoint | u64 Raft index |
 *             count u64 gateway ids
 *   LEADER    flag the Raft role (enum klbd_event_role), count 0:
 *             u64 term | u64 leader (0: none known)
 *   MEMBER    flag the learners, count the voters: u64 Raft index |
 *             count voter ids | flag learner ids (u64 each)
 *   OVERFLOW  flag 0, count 0: nothing more; the stream ends.
 *
 * decoded as strictly as a command.
 */
#ifndef KLBD_PROTO_H
#define KLBD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

#define KLBD_PROTO_VERSION	1
/* Every command but SERVICE_REPLACE. */
#define KLBD_CMD_MAX_BYTES	128
/* A SERVICE_REPLACE's bounds, and so its size. */
#define KLBD_REPLACE_MAX_BACKENDS	4096
#define KLBD_REPLACE_MAX_TABLE		(1u << 18)
#define KLBD_REPLACE_FIXED_BYTES	(4 + 22 + 36 + 4 + 4 + 4)
#define KLBD_REPLACE_BE_BYTES		28
#define KLBD_REPLACE_MAX_BYTES	(KLBD_REPLACE_FIXED_BYTES + 20 + \
				 KLBD_CHECK_NAME_MAX + \
				 KLBD_REPLACE_MAX_BACKENDS * KLBD_REPLACE_BE_BYTES + \
				 2 * KLBD_REPLACE_MAX_TABLE)
/* The largest command: Raft's max_entry_bytes. */
#define KLBD_ENTRY_MAX_BYTES	KLBD_REPLACE_MAX_BYTES
#define KLBD_CTL_HEADER_BYTES	8
/* A control message, length prefix included: a request with the largest command. */
#define KLBD_CTL_MAX_BYTES	(KLBD_CTL_HEADER_BYTES + KLBD_ENTRY_MAX_BYTES)
#define KLBD_CTL_RESP_HEADER_BYTES 16

enum klbd_cmd_op {
	KLBD_CMD_SERVICE_ADD = 1,
	KLBD_CMD_SERVICE_SET,
	KLBD_CMD_SERVICE_DEL,
	KLBD_CMD_BACKEND_ADD,
	KLBD_CMD_BACKEND_SET,
	KLBD_CMD_BACKEND_DEL,
	KLBD_CMD_FLUSH,
	/* A gateway's verdict on a backend: see Documentation/klbd.md. */
	KLBD_CMD_HEALTH,
	/* Leases: see Documentation/klbd.md. RENEW is never in the log. */
	KLBD_CMD_LEASE_RENEW,
	KLBD_CMD_LEASE_END,
	/* One service whole, atomically: see above. */
	KLBD_CMD_SERVICE_REPLACE,
	/* The bootstrap services are in: see above. */
	KLBD_CMD_BOOTSTRAP_DONE,
	KLBD_CMD_OP_MAX = KLBD_CMD_BOOTSTRAP_DONE,
};

/* A backend's lease, in seconds. */
#define KLBD_LEASE_TTL_MIN	1
#define KLBD_LEASE_TTL_MAX	3600

/* A service's health check: what klbd probes each backend with. */
enum klbd_check_type {
	KLBD_CHECK_NONE,
	KLBD_CHECK_TCP,		/* a connect */
	KLBD_CHECK_HTTP,	/* GET / and an expected status */
	KLBD_CHECK_HTTPS,	/* the same over TLS */
	KLBD_CHECK_DNS,		/* a DNS query over UDP */
	KLBD_CHECK_EXEC,	/* a local script, by name */
	KLBD_CHECK_TYPE_MAX = KLBD_CHECK_EXEC,
};

/* An exec check's script: [A-Za-z0-9_-]{1,32}, in the checks directory. */
#define KLBD_CHECK_NAME_MAX	32

/* Which settings of a struct klbd_check are meant. */
enum klbd_check_field {
	KLBD_CHECK_F_TYPE	= 1 << 0,
	KLBD_CHECK_F_PORT	= 1 << 1,
	KLBD_CHECK_F_STATUS	= 1 << 2,
	KLBD_CHECK_F_INTERVAL	= 1 << 3,
	KLBD_CHECK_F_TIMEOUT	= 1 << 4,
	KLBD_CHECK_F_RISE	= 1 << 5,
	KLBD_CHECK_F_FALL	= 1 << 6,
	KLBD_CHECK_F_VIA_VIP	= 1 << 7,
	KLBD_CHECK_F_ALL	= (1 << 8) - 1,
};

/* Defaults and bounds, the same on every gateway. */
#define KLBD_CHECK_INTERVAL_DEFAULT	1000
#define KLBD_CHECK_TIMEOUT_DEFAULT	500
#define KLBD_CHECK_RISE_DEFAULT		2
#define KLBD_CHECK_FALL_DEFAULT		2
#define KLBD_CHECK_STATUS_DEFAULT	200
#define KLBD_CHECK_INTERVAL_MIN		50
#define KLBD_CHECK_INTERVAL_MAX		3600000
#define KLBD_CHECK_TIMEOUT_MIN		10
#define KLBD_CHECK_RISE_FALL_MAX	100

struct klbd_check {
	uint32_t fields;		/* enum klbd_check_field */
	uint8_t type;			/* enum klbd_check_type */
	uint8_t rise, fall;		/* results in a row to change */
	uint16_t port;			/* 0: the backend's own */
	uint16_t http_status;		/* KLBD_CHECK_HTTP, _HTTPS */
	uint32_t interval_ms, timeout_ms;
	/* KLBD_CHECK_EXEC, set with the type; "" for the other types */
	char exec_name[KLBD_CHECK_NAME_MAX + 1];
	/*
	 * KLBD_CHECK_TCP of a tunnel service: the SYN goes to the VIP,
	 * encapsulated to the backend as klb.ko would (probe_vip.h). Set
	 * with the type or after it; a new type clears it.
	 */
	bool via_vip;
};

struct klbd_cmd {
	uint8_t op;			/* enum klbd_cmd_op */
	struct klb_service_key key;
	struct klb_service_conf conf;	/* SERVICE_ADD, SERVICE_SET */
	uint32_t clear_flags;		/* SERVICE_SET */
	struct klbd_check check;	/* SERVICE_ADD, SERVICE_SET */
	uint64_t node;			/* HEALTH: the gateway that probed */
	bool failing;			/* HEALTH: its verdict */
	struct klb_backend be;		/* BACKEND_*, LEASE_* (addr only) */
	uint16_t ttl;			/* BACKEND_ADD: a lease, seconds; 0: none */
	uint64_t lease;			/* LEASE_END: the lease; 0: any */
	/*
	 * SERVICE_REPLACE: conf and check (check.fields 0: keep the
	 * service's) as above, and these. Decoding allocates them (free with
	 * klbd_cmd_release()); an encoder's may point anywhere.
	 */
	struct klb_backend *bes;	/* ascending ids */
	uint32_t n_bes;
	uint16_t *table;		/* conf.table_size ids, or NULL */
};

enum klbd_ctl_op {
	KLBD_CTL_SUBMIT = 1,
	KLBD_CTL_STATUS,
	KLBD_CTL_TRANSFER,
	KLBD_CTL_HEALTH,
	KLBD_CTL_MEMBERS,
	KLBD_CTL_MEMBER,
	KLBD_CTL_WATCH,
	KLBD_CTL_SERVICES,
};

/* Watchers at once (KLBD_CTL_WATCH), and what each may have queued. */
#define KLBD_WATCHERS_MAX	16
#define KLBD_WATCH_QUEUE_MAX_BYTES	(64 * 1024)

enum klbd_event_type {
	KLBD_EV_VERDICT = 1,	/* this gateway's own verdict changed */
	KLBD_EV_HEALTH,		/* the cluster failed a backend over, or back */
	KLBD_EV_LEADER,		/* role, term or leader changed here */
	KLBD_EV_MEMBER,		/* a configuration was applied */
	KLBD_EV_OVERFLOW,	/* the watcher fell behind: disconnected */
	KLBD_EV_TYPE_MAX = KLBD_EV_OVERFLOW,
};

enum klbd_event_role {
	KLBD_ROLE_FOLLOWER,
	KLBD_ROLE_CANDIDATE,
	KLBD_ROLE_LEADER,
	KLBD_ROLE_MAX = KLBD_ROLE_LEADER,
};

#define KLBD_EVENT_REASON_MAX	127
#define KLBD_EVENT_IDS_MAX	32	/* voters, learners, failing gateways */
#define KLBD_EVENT_MAX_BYTES	(4 + 22 + 20 + 8 + 2 * 8 * KLBD_EVENT_IDS_MAX)

struct klbd_event {
	uint8_t type;			/* enum klbd_event_type */
	struct klb_service_key key;	/* VERDICT, HEALTH */
	struct klb_endpoint backend;	/* VERDICT, HEALTH */
	bool on;			/* VERDICT: failing; HEALTH: down */
	uint64_t node;			/* VERDICT: this gateway */
	char reason[KLBD_EVENT_REASON_MAX + 1];	/* VERDICT */
	uint64_t index;			/* HEALTH, MEMBER */
	/* HEALTH: the gateways seeing it failing; MEMBER: the voters */
	uint64_t ids[KLBD_EVENT_IDS_MAX];
	size_t n_ids;
	uint64_t learners[KLBD_EVENT_IDS_MAX];	/* MEMBER */
	size_t n_learners;
	uint8_t role;			/* LEADER: enum klbd_event_role */
	uint64_t term, leader;		/* LEADER */
};

/* One service in a KLBD_CTL_SERVICES answer, at most (key, digest, check). */
#define KLBD_SERVICES_ENTRY_MAX	(22 + 8 + 20 + KLBD_CHECK_NAME_MAX + 4)

enum klbd_member_op {
	KLBD_MEMBER_ADD = 1,
	KLBD_MEMBER_REMOVE,
};

/* A member's "IPV4:PORT" or "[IPV6]:PORT", NUL included (RAFT_ADDR_MAX). */
#define KLBD_MEMBER_ADDR_MAX	64
#define KLBD_MEMBER_HEADER_BYTES 12
#define KLBD_MEMBER_MAX_BYTES	(KLBD_MEMBER_HEADER_BYTES + KLBD_MEMBER_ADDR_MAX - 1)

struct klbd_member_req {
	uint8_t op;			/* enum klbd_member_op */
	uint64_t id;
	char addr[KLBD_MEMBER_ADDR_MAX];	/* ADD: where its peers reach it */
};

#define KLBD_KEY_BYTES		22

/*
 * Bytes written to buf (klbd_cmd_size(), KLBD_CMD_MAX_BYTES but for
 * SERVICE_REPLACE), or -EINVAL.
 */
int klbd_cmd_encode(const struct klbd_cmd *cmd, uint8_t *buf, size_t cap);
/*
 * cmd made the SERVICE_REPLACE that gives a service whole: key, conf,
 * check (fields 0: none) and table (NULL: none) as given, the n backends
 * copied in ascending id order, as the encoding wants (free(cmd->bes)).
 * 0, or -ENOMEM.
 */
int klbd_replace_build(struct klbd_cmd *cmd, const struct klb_service_key *key,
		       const struct klb_service_conf *conf,
		       const struct klb_backend *bes, size_t n,
		       const uint16_t *table, const struct klbd_check *check);
/* The encoding's length (0: cmd cannot be encoded). */
size_t klbd_cmd_size(const struct klbd_cmd *cmd);
/* Frees what klbd_cmd_decode() allocated (SERVICE_REPLACE's arrays). */
void klbd_cmd_release(struct klbd_cmd *cmd);
/* 0, or -EBADMSG / -EPROTO / -EINVAL with why (may be NULL) filled. */
int klbd_cmd_decode(const uint8_t *buf, size_t len, struct klbd_cmd *cmd,
		    char *why, size_t why_len);
const char *klbd_cmd_name(uint8_t op);
/* A service key alone (KLBD_KEY_BYTES), as in a command. */
void klbd_key_encode(const struct klb_service_key *key, uint8_t *buf);
int klbd_key_decode(const uint8_t *buf, size_t len,
		    struct klb_service_key *key, char *why, size_t why_len);
const char *klbd_check_name(uint8_t type);
/* Bytes written (at most KLBD_MEMBER_MAX_BYTES), or -EINVAL / -ENAMETOOLONG. */
int klbd_member_encode(const struct klbd_member_req *m, uint8_t *buf, size_t cap);
/*
 * 0, or -EBADMSG / -EINVAL / -ENAMETOOLONG with why filled. The address's
 * syntax is the receiver's to check: only its length and bytes are here.
 */
int klbd_member_decode(const uint8_t *buf, size_t len, struct klbd_member_req *m,
		       char *why, size_t why_len);
/*
 * A SERVICE_REPLACE's digest, its check left out (a REPLACE without one
 * keeps the service's): the same on every host for the same service.
 * 0 when cmd cannot be encoded.
 */
uint64_t klbd_replace_digest(const struct klbd_cmd *cmd);
/*
 * A check block alone (fields not 0): bytes written, at most 20, the
 * name and the via-vip word.
 */
size_t klbd_check_encode(const struct klbd_check *c, uint8_t *buf);
/* Its bytes used (*used), or -EBADMSG. */
int klbd_check_decode(const uint8_t *buf, size_t len, struct klbd_check *c,
		      size_t *used);
/*
 * An event record: bytes written (at most KLBD_EVENT_MAX_BYTES; a reason
 * too long is cut), or -EINVAL.
 */
int klbd_event_encode(const struct klbd_event *ev, uint8_t *buf, size_t cap);
/* 0, or -EBADMSG / -EINVAL with why filled. */
int klbd_event_decode(const uint8_t *buf, size_t len, struct klbd_event *ev,
		      char *why, size_t why_len);
const char *klbd_event_name(uint8_t type);
const char *klbd_role_name(uint8_t role);
/* Whether name (len bytes) may name an exec check's script. */
bool klbd_check_name_valid(const char *name, size_t len);
/*
 * Whether two checks probe the same way (type, port, status, script,
 * via-vip):
 * verdicts survive a change of timing only.
 */
bool klbd_check_same_kind(const struct klbd_check *a,
			  const struct klbd_check *b);
/*
 * c made whole: the settings it lacks from base (NULL: the defaults).
 * 0, or -EINVAL and why when the result is out of bounds.
 */
int klbd_check_merge(const struct klbd_check *base, const struct klbd_check *c,
		     struct klbd_check *out, char *why, size_t why_len);

#endif
