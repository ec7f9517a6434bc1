/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replicated state: every service, its backends and, for a Maglev
 * service, its table. Changed only by applying committed commands
 * (lib/klbd_proto.h) in log order, deterministically: the same commands
 * give the same state, byte for byte, tables included, on every gateway.
 * A table is computed when a command changes what it depends on,
 * incrementally from the service's previous table and base table
 * (lib/klb_tables.h), so a change moves only the entries that must move
 * and a backend that comes back gets its old entries back.
 *
 * A command that cannot apply (a service that exists already, a limit)
 * changes nothing and has an errno and a reason: every gateway reaches
 * the same verdict, and the proposer's client gets it.
 */
#ifndef KLBD_STATE_H
#define KLBD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/klb_apply.h"
#include "lib/klbd_proto.h"

/* Bounds of the state; each has a counter of commands it refused. */
#define STATE_MAX_SERVICES	4096
#define STATE_MAX_BACKENDS	4096	/* per service */
#define STATE_MAX_TABLE_SIZE	KLB_TABLE_SIZE_LIMIT

/*
 * The snapshot's layout, every version, is in Documentation/klbd.md
 * (Snapshots). 6: the bootstrapped flag. 5: a check's via-vip. 4: a backend's lease, and the last
 * lease given. 3: base tables and an exec check's script name. 2: a
 * health check per service. Versions 1 (no checks), 2 (no base tables,
 * no names), 3 (no leases), 4 (no via-vip) and 5 (no flag) still decode;
 * a state from before the flag is bootstrapped when it holds a service
 * (Documentation/klbd.md, Bootstrap services).
 */
#define STATE_SNAPSHOT_VERSION	6

/* The voters' verdicts fit a mask. */
#define STATE_MAX_VOTERS	32

/*
 * A backend's two states, kept apart: the operator's (klbctl backend
 * set state) and the gateways' verdicts. What the kernel gets (the
 * backend's state in bes, and the table) is down when either says so,
 * else the operator's: an operator's drain or down always wins.
 */
struct state_health {
	uint8_t admin;			/* enum klb_backend_state */
	uint32_t failing;		/* voter i sees it failing: bit i */
	/*
	 * A lease (the backend registered itself): its ttl in seconds and
	 * its number, which a new registration changes; both 0 without one.
	 * Its deadline is the leader's, in memory (lease.c), not state.
	 */
	uint16_t ttl;
	uint64_t lease;
};

struct state_service {
	struct klb_service_key key;
	struct klb_service_conf conf;	/* every field */
	struct klbd_check check;	/* every field */
	struct klb_backend *bes;	/* by id; state: what the kernel gets */
	struct state_health *health;	/* one per backend, in bes' order */
	size_t n_bes;
	uint16_t *table;		/* conf.table_size entries, or NULL */
	/*
	 * The table's base table (lib/maglev.h): conf.table_size entries
	 * when it reserves slots for unavailable backends, else NULL (it is
	 * the table, or there is no table).
	 */
	uint16_t *base;
};

struct klbd_state {
	struct state_service *svcs;	/* by key (state_key_cmp) */
	size_t n_svcs;
	uint64_t service_limit_hits;
	uint64_t backend_limit_hits;
	uint64_t lease_seq;		/* the last lease given: replicated */
	/*
	 * KLBD_CMD_BOOTSTRAP_DONE applied: the bootstrap services are never
	 * proposed again. Replicated; a flush leaves it.
	 */
	bool bootstrapped;
	/* The cluster's voters, ascending: the same on every gateway. */
	uint64_t voters[STATE_MAX_VOTERS];
	unsigned int n_voters;
};

void state_init(struct klbd_state *s);
/* The voters whose verdicts count (ids, any order); -EINVAL over the limit. */
int state_set_voters(struct klbd_state *s, const uint64_t *ids, size_t n);
/*
 * A configuration change applied from the log: the voters become ids and
 * each gateway's verdict stays its own (the bits follow the ids; a removed
 * voter's go), and what the kernel gets follows the new majority, tables
 * included. -EINVAL over the limit (nothing changed), -ENOMEM.
 * state_set_voters() is for a state whose verdicts already refer to ids
 * (at start, after a snapshot).
 */
int state_change_voters(struct klbd_state *s, const uint64_t *ids, size_t n);
/* The voter's index, or -1. */
int state_voter_index(const struct klbd_state *s, uint64_t id);
/* The backend's slot in svc, or SIZE_MAX. */
size_t state_backend_index(const struct state_service *svc,
			   const struct klb_endpoint *addr);
void state_free(struct klbd_state *s);
/* -errno (and why) when cmd cannot apply; s is then unchanged. */
int state_apply(struct klbd_state *s, const struct klbd_cmd *cmd, char *why,
		size_t why_len);
int state_key_cmp(const struct klb_service_key *a,
		  const struct klb_service_key *b);
const struct state_service *state_find(const struct klbd_state *s,
				       const struct klb_service_key *key);

/*
 * klbd_replace_digest() of the SERVICE_REPLACE that gives svc as it is:
 * operator states, the base table (what a REPLACE gave). 0: no memory.
 */
uint64_t state_service_digest(const struct state_service *svc);

/* The whole state as bytes (malloc'd), for a Raft snapshot. */
int state_encode(const struct klbd_state *s, uint8_t **out, size_t *len);
/*
 * Replaces s with the state buf encodes, every field checked; -EBADMSG
 * (why says where) leaves s unchanged.
 */
int state_decode(struct klbd_state *s, const uint8_t *buf, size_t len,
		 char *why, size_t why_len);

/*
 * The services as specs for klb_apply_services(), pointing into s (valid
 * until s changes); *specs is malloc'd.
 */
int state_specs(const struct klbd_state *s, struct klb_service_spec **specs);

#endif
