/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klb requests and replies for the API tests: attribute builders that
 * follow include/uapi/linux/klb.h, a parser for every reply and event, and
 * the few operations most tests are made of.
 */

#ifndef API_KLB_H
#define API_KLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/klb.h>

#include "api_nl.h"

/* Documentation addresses: VIPs in 192.0.2.0/24, backends in 198.51.100.0/24. */
#define API_VIP(n)	(0xc0000200u | ((n) & 0xff))
#define API_BE_ADDR(n)	(0xc6336400u | ((n) & 0xff))

/* A service key. The port is in host byte order here. */
struct api_key {
	uint8_t proto;
	uint16_t family;
	uint8_t addr[16];
	uint16_t port;
};

/* A backend: its keys and id. */
struct api_be {
	uint16_t id;
	uint16_t family;
	uint8_t addr[16];
	uint16_t port;
};

struct api_service {
	struct api_key key;
	uint64_t version;
	uint8_t sched;
	uint8_t fwd;
	uint32_t table_size;
	uint32_t bound;
	uint32_t flags;
	uint32_t backends;
	uint8_t table_loaded;
	uint8_t seed[KLB_SEED_LEN];
	uint32_t seen;			/* bit n: KLB_SVC_A n was present */
};

struct api_backend {
	struct api_be be;
	uint32_t weight;
	uint8_t state;
	uint32_t seen;			/* bit n: KLB_BE_A n was present */
};

struct api_info {
	uint32_t max_services;
	uint32_t max_backends;
	uint32_t max_table_size;
	uint32_t max_txns;
	uint32_t services;
	uint32_t txns;
	uint64_t service_limit_hits;
	uint64_t backend_limit_hits;
	uint64_t table_limit_hits;
	uint64_t txn_limit_hits;
	uint64_t chunk_limit_hits;
	uint32_t service_flags;
	uint32_t table_chunk_max;
	uint64_t max_memory;
	uint64_t memory;
	uint64_t memory_limit_hits;
	uint32_t backend_batch_max;
	uint64_t batch_limit_hits;
	uint32_t seen;			/* bit n: KLB_INFO_A n was present */
};

/* One reply or event, parsed. Table entries point into the message. */
struct api_msg {
	uint8_t cmd;
	bool has_generation;
	uint64_t generation;
	bool has_service;
	struct api_service svc;
	bool has_backend;
	struct api_backend be;
	bool has_table;
	uint32_t tbl_size;
	uint32_t tbl_offset;
	bool has_tbl_offset;
	const uint16_t *entries;
	uint32_t count;
	bool has_txn;
	uint32_t txn;
	bool has_info;
	struct api_info info;
};

/* A backend dump. */
struct api_be_dump {
	struct api_backend *be;		/* caller's array */
	size_t max;
	size_t n;
	uint64_t version;		/* of the first message */
	bool mixed;			/* messages from different versions */
	bool missing_version;
};

/* A table dump into the caller's array of @size entries. */
struct api_tbl_dump {
	uint16_t *entries;
	uint32_t size;
	uint32_t filled;		/* entries received, in order */
	uint64_t version;
	bool mixed;
	bool out_of_order;		/* a chunk not where the last ended */
	bool bad_size;			/* KLB_TBL_A_SIZE other than @size */
	unsigned int chunks;
	uint32_t largest_chunk;
};

void api_key_v4(struct api_key *k, uint8_t proto, uint32_t addr, uint16_t port);
void api_key_v6(struct api_key *k, uint8_t proto, uint16_t last, uint16_t port);
void api_be_v4(struct api_be *be, uint16_t id, uint32_t addr, uint16_t port);
void api_be_v6(struct api_be *be, uint16_t id, uint16_t last, uint16_t port);
size_t api_addr_len(uint16_t family);

/* Builders: the *_open forms leave the nest open for more attributes. */
struct nlattr *api_put_service_open(struct nlmsghdr *nlh,
				    const struct api_key *k);
void api_put_service(struct nlmsghdr *nlh, const struct api_key *k);
struct nlattr *api_put_backend_open(struct nlmsghdr *nlh,
				    const struct api_be *be, bool with_id);
void api_put_table(struct nlmsghdr *nlh, uint32_t size, uint32_t offset,
		   const uint16_t *entries, uint32_t count);

int api_parse(const struct nlmsghdr *nlh, struct api_msg *m);

/* Operations: 0 or -errno; @err optional. @txn 0 means no transaction. */
int api_service_new(struct api_nl *nl, const struct api_key *k,
		    struct api_err *err);
int api_service_new_sched(struct api_nl *nl, const struct api_key *k,
			  uint8_t sched, uint32_t table_size,
			  struct api_err *err);
int api_service_del(struct api_nl *nl, const struct api_key *k,
		    struct api_err *err);
int api_service_get(struct api_nl *nl, const struct api_key *k,
		    struct api_service *out, uint64_t *generation,
		    struct api_err *err);
int api_service_dump(struct api_nl *nl, api_msg_cb cb, void *data,
		     struct api_err *err);
/* A request for @n backends, ids from @first, in one message (BACKEND_NEW). */
void api_backends_req(struct api_req *req, struct api_nl *nl, uint8_t cmd,
		      const struct api_key *k, uint16_t first, int n,
		      uint32_t txn);
int api_backend_new(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, uint32_t weight, uint32_t txn,
		    struct api_err *err);
int api_backend_set_weight(struct api_nl *nl, const struct api_key *k,
			   const struct api_be *be, uint32_t weight,
			   uint32_t txn, struct api_err *err);
int api_backend_del(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, uint32_t txn, struct api_err *err);
int api_backend_get(struct api_nl *nl, const struct api_key *k,
		    const struct api_be *be, struct api_backend *out,
		    struct api_err *err);
int api_backend_dump(struct api_nl *nl, const struct api_key *k,
		     struct api_be_dump *d, struct api_err *err);
int api_table_set(struct api_nl *nl, const struct api_key *k, uint32_t size,
		  uint32_t offset, const uint16_t *entries, uint32_t count,
		  uint32_t txn, struct api_err *err);
/* Adds @count chunks covering [0, size) to @txn. */
int api_table_chunks(struct api_nl *nl, const struct api_key *k,
		     uint32_t size, const uint16_t *entries, uint32_t chunk,
		     uint32_t txn, struct api_err *err);
/* The whole table: one message when it fits, else a transaction. */
int api_table_push(struct api_nl *nl, const struct api_key *k, uint32_t size,
		   const uint16_t *entries, struct api_err *err);
int api_table_del(struct api_nl *nl, const struct api_key *k, uint32_t txn,
		  struct api_err *err);
int api_table_dump(struct api_nl *nl, const struct api_key *k,
		   struct api_tbl_dump *d, struct api_err *err);
int api_txn_begin(struct api_nl *nl, const struct api_key *k, uint32_t *txn,
		  struct api_err *err);
int api_txn_commit(struct api_nl *nl, uint32_t txn, struct api_err *err);
int api_txn_abort(struct api_nl *nl, uint32_t txn, struct api_err *err);
int api_flush(struct api_nl *nl, struct api_err *err);
int api_generation_get(struct api_nl *nl, uint64_t *generation);
int api_generation_set(struct api_nl *nl, uint64_t generation,
		       struct api_err *err);
int api_info_get(struct api_nl *nl, struct api_info *info,
		 uint64_t *generation);

/*
 * A hash of everything a netns holds that a write can change: the
 * generation, the open transactions and every service with its version,
 * settings, backends and table. Equal fingerprints: nothing changed.
 */
int api_fingerprint(struct api_nl *nl, uint64_t *fp);
/* The same without the open transactions: what packets and readers see. */
int api_fingerprint_published(struct api_nl *nl, uint64_t *fp);

#endif /* API_KLB_H */
