/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed operations on the klb generic netlink family
 * (include/uapi/linux/klb.h): services, backends, Maglev tables (whole or
 * in chunks inside a transaction), transactions, the config generation
 * and its compare-and-swap, limits, and change events.
 *
 * Shared by klbd and klbctl. Nothing here prints or exits: every call
 * returns 0 or a negative errno, and fills struct klb_error with the
 * kernel's extended ack message when it sent one.
 */

#ifndef KLB_CLIENT_H
#define KLB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/klb.h>

#include "lib/nl.h"

/*
 * Why a call failed: the errno and, when the kernel sent one, its extended
 * ack message. Read it with the accessors; fill it with klb_error_set().
 */
typedef struct nl_error klb_error;

/* Sets e (may be NULL) to err with a printf-formatted message; -err. */
#define klb_error_set nl_error_set

/* The positive errno of a failure, 0 for none. */
static inline int klb_error_errno(const klb_error *e)
{
	return e->err;
}

/* The kernel's (or the library's) message, or "" when there is none. */
static inline const char *klb_error_msg(const klb_error *e)
{
	return e->msg;
}

/* An address and port; addr holds 4 (AF_INET) or 16 (AF_INET6) bytes. */
struct klb_endpoint {
	uint16_t family;
	uint8_t addr[16];
	uint16_t port;			/* host byte order */
};

struct klb_service_key {
	uint8_t proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	struct klb_endpoint vip;
};

/* Which settings of a struct klb_service_conf are meant. */
enum klb_service_field {
	KLB_SVC_SCHED		= 1 << 0,
	KLB_SVC_FWD		= 1 << 1,
	KLB_SVC_TABLE_SIZE	= 1 << 2,
	KLB_SVC_BOUND		= 1 << 3,
	KLB_SVC_SEED		= 1 << 4,
	KLB_SVC_FLAGS		= 1 << 5,
};

struct klb_service_conf {
	uint32_t fields;		/* enum klb_service_field */
	uint8_t sched;			/* enum klb_sched */
	uint8_t fwd;			/* enum klb_fwd */
	uint32_t table_size;
	uint32_t bound;
	uint32_t flags;			/* enum klb_service_flags */
	uint8_t seed[KLB_SEED_LEN];
};

/* A service as the kernel reports it. */
struct klb_service {
	struct klb_service_key key;
	struct klb_service_conf conf;	/* KLB_SVC_SEED only for admins */
	uint64_t version;
	uint32_t nr_backends;
	bool table_loaded;
};

enum klb_backend_field {
	KLB_BE_WEIGHT		= 1 << 0,
	KLB_BE_STATE		= 1 << 1,
	KLB_BE_ID		= 1 << 2,
};

struct klb_backend {
	uint32_t fields;		/* enum klb_backend_field */
	uint16_t id;
	struct klb_endpoint addr;
	uint32_t weight;
	uint8_t state;			/* enum klb_backend_state */
};

struct klb_table {
	uint32_t size;
	uint16_t *ids;			/* size entries, malloc'd */
	uint64_t version;		/* the service's snapshot version */
};

struct klb_info {
	uint64_t generation;
	uint32_t max_services, max_backends, max_table_size, max_txns;
	uint32_t services, txns;
	uint64_t service_limit_hits, backend_limit_hits;
	uint64_t table_limit_hits, txn_limit_hits, chunk_limit_hits;
	/* What the kernel accepts; the header's constants are a build's guess. */
	uint32_t service_flags, table_chunk_max;
	/* The flow table. */
	uint32_t max_flows, flows;
	uint64_t flow_limit_hits, flow_evictions;
	uint32_t flow_entry_bytes4, flow_entry_bytes6;
	/* Backends in one BACKEND_NEW: 0 from a kernel that takes one. */
	uint32_t backend_batch_max;
	uint64_t batch_limit_hits;
};

/* Counters of a service, or of one of its backends (has_backend). */
struct klb_stats_rec {
	struct klb_service_key key;
	bool has_backend;
	struct klb_backend backend;
	uint64_t ctr[KLB_STATS_A_MAX + 1];	/* by enum klb_stats_attr */
};

/* A flow table entry. */
struct klb_flow_rec {
	struct klb_service_key key;
	struct klb_backend backend;	/* id and address */
	struct klb_endpoint client;
	uint8_t state;			/* enum klb_flow_state */
	uint32_t expires_ms;
};

typedef int (*klb_stats_cb)(const struct klb_stats_rec *r, void *data);
typedef int (*klb_flow_cb)(const struct klb_flow_rec *r, void *data);

/* How a write is applied: inside a transaction, or guarded by a CAS. */
struct klb_write {
	uint32_t txn;			/* 0: outside any transaction */
	bool check_generation;
	uint64_t expect_generation;	/* with check_generation */
};

/* A change event (multicast group "events"). */
struct klb_event {
	uint8_t cmd;			/* enum klb_cmd of the write */
	uint64_t generation;
	bool has_service;
	struct klb_service_key service;
	uint64_t version;		/* with has_service, 0 if unknown */
	bool has_backend;
	struct klb_backend backend;
};

struct klb_client {
	struct nl_sock nl;
	char *buf;			/* request buffer */
	uint64_t generation;		/* as of the last reply that had one */
	bool batching;
	uint32_t backend_batch_max;	/* per BACKEND_NEW; 0: not asked yet */
};

/*
 * Opens a client in the caller's network namespace. ENOENT: the klb
 * module is not loaded (the message says so).
 */
int klb_client_open(struct klb_client *c, klb_error *e);
void klb_client_close(struct klb_client *c);

/*
 * The config generation as of the last reply that carried one: after a
 * read, the generation that read saw; after a guarded write, the one it
 * left.
 */
static inline uint64_t klb_client_generation(const struct klb_client *c)
{
	return c->generation;
}

/* Events: a client that only listens. */
int klb_events_subscribe(struct klb_client *c, klb_error *e);
typedef int (*klb_event_cb)(const struct klb_event *ev, void *data);
int klb_events_read(struct klb_client *c, klb_event_cb cb, void *data,
		    klb_error *e);

/*
 * Staged writes (those with a transaction) can be queued and sent together:
 * between klb_batch_begin() and klb_batch_end(), writes inside a
 * transaction only queue their request; klb_batch_end() sends the lot and
 * returns the first failure. Anything else flushes the queue first.
 */
void klb_batch_begin(struct klb_client *c);
int klb_batch_end(struct klb_client *c, klb_error *e);

int klb_generation_get(struct klb_client *c, uint64_t *gen, klb_error *e);
int klb_generation_set(struct klb_client *c, uint64_t gen,
		       const struct klb_write *w, klb_error *e);
int klb_info_get(struct klb_client *c, struct klb_info *info, klb_error *e);
int klb_flush(struct klb_client *c, const struct klb_write *w, klb_error *e);

/*
 * Counters of every service (or of @key's), each followed by its
 * backends', and the flow table (every flow, or @key's): @cb gets each
 * record as it arrives; a non-zero return stops the dump.
 */
int klb_stats_dump(struct klb_client *c, const struct klb_service_key *key,
		   klb_stats_cb cb, void *data, klb_error *e);
int klb_flow_dump(struct klb_client *c, const struct klb_service_key *key,
		  klb_flow_cb cb, void *data, klb_error *e);
/* Ends the flows of @key's service, or every flow. */
int klb_flow_flush(struct klb_client *c, const struct klb_service_key *key,
		   klb_error *e);

/* Every service of the netns; *svcs is malloc'd, *gen the generation. */
int klb_service_list(struct klb_client *c, struct klb_service **svcs,
		     size_t *n, uint64_t *gen, klb_error *e);
int klb_service_get(struct klb_client *c, const struct klb_service_key *key,
		    struct klb_service *svc, klb_error *e);
int klb_service_new(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_service_conf *conf,
		    const struct klb_write *w, klb_error *e);
int klb_service_set(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_service_conf *conf,
		    const struct klb_write *w, klb_error *e);
int klb_service_del(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_write *w, klb_error *e);

/* Every backend of a service, from one snapshot, in id order. */
int klb_backend_list(struct klb_client *c, const struct klb_service_key *key,
		     struct klb_backend **bes, size_t *n, uint64_t *version,
		     klb_error *e);
int klb_backend_new(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e);
/*
 * Several new backends in as few requests as the kernel allows (one
 * BACKEND_NEW carries up to KLB_INFO_A_BACKEND_BATCH_MAX): each request
 * adds all of its backends or none. More than one request's worth needs
 * a transaction (EMSGSIZE otherwise), which makes them all or none too.
 */
int klb_backends_new(struct klb_client *c, const struct klb_service_key *key,
		     const struct klb_backend *const *bes, size_t n,
		     const struct klb_write *w, klb_error *e);
int klb_backend_set(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e);
int klb_backend_del(struct klb_client *c, const struct klb_service_key *key,
		    const struct klb_backend *be, const struct klb_write *w,
		    klb_error *e);

/*
 * The published table. ENOENT when the service has no table. Free
 * table->ids with free().
 */
int klb_table_get(struct klb_client *c, const struct klb_service_key *key,
		  struct klb_table *table, klb_error *e);
/*
 * Pushes a whole table: in one message outside a transaction (size at
 * most KLB_TABLE_CHUNK_MAX), in chunks inside one.
 */
int klb_table_set(struct klb_client *c, const struct klb_service_key *key,
		  const uint16_t *ids, uint32_t size, const struct klb_write *w,
		  klb_error *e);
int klb_table_del(struct klb_client *c, const struct klb_service_key *key,
		  const struct klb_write *w, klb_error *e);

int klb_txn_begin(struct klb_client *c, const struct klb_service_key *key,
		  uint32_t *txn, klb_error *e);
/* w->txn is the transaction; its generation fields guard the commit. */
int klb_txn_commit(struct klb_client *c, const struct klb_write *w,
		   klb_error *e);
int klb_txn_abort(struct klb_client *c, uint32_t txn, klb_error *e);

/* Same service? Same backend address? (families, bytes and ports) */
bool klb_service_key_equal(const struct klb_service_key *a,
			   const struct klb_service_key *b);
bool klb_endpoint_equal(const struct klb_endpoint *a,
			const struct klb_endpoint *b);
size_t klb_endpoint_addr_len(const struct klb_endpoint *ep);
/* The backend of bes[0..n) at addr, or NULL (a linear scan). */
struct klb_backend *klb_backend_find(const struct klb_backend *bes, size_t n,
				     const struct klb_endpoint *addr);

/* "ADDR:PORT" or "[ADDR]:PORT" into buf (KLB_ENDPOINT_STRLEN bytes). */
#define KLB_ENDPOINT_STRLEN	64
const char *klb_endpoint_format(const struct klb_endpoint *ep, char *buf);
/* "tcp", "udp" or "?". */
const char *klb_proto_name(uint8_t proto);

#endif /* KLB_CLIENT_H */
