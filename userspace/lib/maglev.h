/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maglev tables: computing them (the kernel only validates and publishes
 * them). Documentation/maglev.md explains the algorithms and why they have
 * the properties below.
 *
 * A table is M backend ids (uint16_t, host byte order), M prime in
 * KLB_TABLE_SIZE_MIN..KLB_TABLE_SIZE_LIMIT. A backend takes entries when it
 * is up with a weight above 0 ("active"); drain, down and weight 0 take
 * none. What a backend's slots are hashed from is its identity, address and
 * port, never its id or its place in a list.
 *
 * Two ways to get a table:
 *
 *  - maglev_build(): the classic NSDI'16 population, a pure function of
 *    the set of (address, port, weight, state), the seed and M. Any two
 *    hosts with the same set build byte-identical tables.
 *
 *  - struct maglev_state + maglev_update(): incremental. A change moves
 *    only the entries that must move (the share of a removed or failed
 *    backend, the share of a new one, the difference of a weight change),
 *    every active backend ends within one entry of its weighted fair share
 *    M * w / W, and a backend that fails and comes back with nothing else
 *    changed gets exactly its old entries back. The next state is a
 *    deterministic function of the previous state and the change: the
 *    backend list, the published table, the base table (below), the seed
 *    and M. All of it is in struct maglev_state and in its encoding
 *    (maglev_state_encode()), so replicas that apply the same changes hold
 *    byte-identical states.
 *
 * The base table is the published table except in the slots an unavailable
 * (drain, down, weight 0) backend held when it became unavailable: there it
 * names that backend, so that it can take them back. Only a backend coming
 * back reads it. The kernel's table plus the backend list is therefore
 * enough to compute every next table except one detail: without the base
 * table (maglev_state_import() with base NULL) a backend that comes back
 * gets its fair share from the others as a new backend would, not its old
 * slots.
 *
 * Errors: functions return 0 (or a size) on success and a negative
 * enum maglev_error on failure, and then change nothing.
 * maglev_strerror() and maglev_errno() describe the error.
 */

#ifndef KLB_USERSPACE_MAGLEV_H
#define KLB_USERSPACE_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include <klb/addr.h>
#include <klb/sched.h>
#include <klb/siphash.h>
#include <uapi/linux/klb.h>

#define MAGLEV_BACKENDS_MAX	(KLB_BACKEND_ID_MAX + 1)
#define MAGLEV_WEIGHT_MAX	KLB_WEIGHT_MAX

struct maglev_backend {
	uint8_t addr[KLB_ADDR_LEN];	/* canonical form, klb/addr.h */
	uint16_t port;			/* network byte order */
	uint16_t id;			/* 0..KLB_BACKEND_ID_MAX */
	uint32_t weight;		/* 0..MAGLEV_WEIGHT_MAX */
	uint8_t state;			/* enum klb_backend_state */
};

enum maglev_error {
	MAGLEV_OK,
	MAGLEV_E_SIZE_NOT_PRIME,	/* M is not prime */
	MAGLEV_E_SIZE_RANGE,		/* M outside 7..1048573 */
	MAGLEV_E_SIZE_SMALL,		/* M below the number of backends */
	MAGLEV_E_TOO_MANY,		/* more than MAGLEV_BACKENDS_MAX */
	MAGLEV_E_DUP_IDENTITY,		/* two backends with one address:port */
	MAGLEV_E_DUP_ID,		/* two backends with one id */
	MAGLEV_E_NO_WEIGHT,		/* no backend up with a weight above 0 */
	MAGLEV_E_ID_RANGE,		/* id above KLB_BACKEND_ID_MAX */
	MAGLEV_E_WEIGHT_RANGE,		/* weight above MAGLEV_WEIGHT_MAX */
	MAGLEV_E_STATE,			/* unknown backend state */
	MAGLEV_E_UNKNOWN_ID,		/* a change names an id not in the list */
	MAGLEV_E_OP,			/* unknown change */
	MAGLEV_E_TABLE,			/* a table names an id not in the list */
	MAGLEV_E_FORMAT,		/* malformed encoded state */
	MAGLEV_E_SHORT,			/* buffer too short */
	MAGLEV_E_NOMEM,

	MAGLEV_E_COUNT
};

/* A message for a return value (0 or -MAGLEV_E_...). */
const char *maglev_strerror(int err);
/* The errno that fits a return value: EINVAL, ERANGE, EEXIST, ... */
int maglev_errno(int err);

/* The backend takes table entries: it takes new flows (klb/sched.h). */
static inline int maglev_backend_active(const struct maglev_backend *b)
{
	return klb_backend_takes_new_flows(b->state, b->weight);
}

/*
 * The classic build into table[m]. Only active backends get entries, each
 * floor or ceil of M * w / W of them (largest remainders first).
 */
int maglev_build(uint16_t *table, uint32_t m, const struct klb_hash_seed *seed,
		 const struct maglev_backend *backends, size_t n);

struct maglev_state {
	uint32_t m;
	struct klb_hash_seed seed;
	size_t nr_backends;
	struct maglev_backend *backends;	/* sorted by id */
	uint16_t *table;			/* published: what the kernel holds */
	uint16_t *base;				/* table + unavailable's reserved slots */
};

/* A new state whose table is maglev_build() of the list. */
int maglev_state_init(struct maglev_state *st, uint32_t m,
		      const struct klb_hash_seed *seed,
		      const struct maglev_backend *backends, size_t n);

/*
 * A state from what the kernel holds: its table (every entry an id of the
 * list) and the backend list. base may be NULL (see above). The table need
 * not be balanced: the next update moves it towards the fair shares with as
 * few moves as it can. Entries naming unavailable backends count as their
 * reserved slots.
 */
int maglev_state_import(struct maglev_state *st, uint32_t m,
			const struct klb_hash_seed *seed,
			const struct maglev_backend *backends, size_t n,
			const uint16_t *table, const uint16_t *base);

int maglev_state_copy(struct maglev_state *dst, const struct maglev_state *src);
void maglev_state_free(struct maglev_state *st);

enum maglev_op {
	MAGLEV_ADD,		/* backend: every field */
	MAGLEV_REMOVE,		/* backend.id */
	MAGLEV_SET_WEIGHT,	/* backend.id, backend.weight */
	MAGLEV_SET_STATE,	/* backend.id, backend.state */
};

struct maglev_change {
	enum maglev_op op;
	struct maglev_backend backend;
};

/*
 * Applies a batch of changes, in order, as one update: the table moves once,
 * from the old backend set to the final one.
 */
int maglev_update(struct maglev_state *st, const struct maglev_change *changes,
		  size_t n);

/*
 * The same with the complete new backend list. A backend is the same one
 * before and after when both its id and its identity are unchanged.
 *
 * When no backend is active afterwards, every entry is KLB_BACKEND_ID_NONE
 * (the kernel refuses such a table: keep the old one or delete it); the
 * state still follows, and the backends that come back get their slots.
 */
int maglev_update_list(struct maglev_state *st,
		       const struct maglev_backend *backends, size_t n);

/*
 * The state as bytes (little-endian, versioned; Documentation/maglev.md).
 * encode returns the length written, or -MAGLEV_E_SHORT when len is below
 * maglev_state_encoded_size(); decode validates everything, as
 * maglev_state_import() does.
 */
size_t maglev_state_encoded_size(const struct maglev_state *st);
long maglev_state_encode(const struct maglev_state *st, void *buf, size_t len);
int maglev_state_decode(struct maglev_state *st, const void *buf, size_t len);

/* Slots whose id differs between two tables of m entries. */
size_t maglev_table_moved(const uint16_t *a, const uint16_t *b, uint32_t m);

/*
 * Balance of a table for a backend list: the largest ratio, over active
 * backends, of entries held to fair share M * w / W (1.0 is perfect), and
 * the largest absolute difference from the fair share in *max_dev when
 * max_dev is not NULL. Returns a negative value on error.
 */
double maglev_table_balance(const uint16_t *table, uint32_t m,
			    const struct maglev_backend *backends, size_t n,
			    double *max_dev);

#endif /* KLB_USERSPACE_MAGLEV_H */
