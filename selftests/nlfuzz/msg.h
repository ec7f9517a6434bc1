/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building requests for the klb family from its spec: valid ones, ones at
 * the boundaries of every attribute, and broken ones (wrong types and
 * lengths, unknown attributes, nesting flag games, deep and huge trees,
 * truncated and lying lengths), with what the kernel's answer must be.
 */

#ifndef NLFUZZ_MSG_H
#define NLFUZZ_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "spec.h"

/* Below the default socket send buffer, above one 64 KiB attribute. */
#define NLF_MSG_MAX		(160 * 1024)
#define NLF_BATCH_MAX		4
#define NLF_NR_KEYS		6	/* services the requests name */
#define NLF_NR_IDS		8	/* backend ids they name */
#define NLF_TXN_POOL		8

/* What a worker learned from earlier answers: transactions to stage into. */
struct nlf_pool {
	struct {
		uint32_t id;
		uint8_t key;
	} txns[NLF_TXN_POOL];
	unsigned int nr_txns;
};

/* One message of a datagram and what its answer must look like. */
struct nlf_expect {
	uint32_t seq;
	const struct nlf_op *op;	/* NULL: no such command */
	bool dump;			/* NLM_F_DUMP */
	bool short_hdr;			/* no room for the genetlink header */
	bool bad_hdr;			/* reserved field or flags genetlink refuses */
};

struct nlf_msg {
	uint8_t buf[NLF_MSG_MAX];
	size_t len;			/* bytes to send */
	unsigned int nr;		/* messages in the datagram */
	struct nlf_expect exp[NLF_BATCH_MAX];
	bool silent;			/* the kernel drops it without a word */
	unsigned int key;		/* the service it names, mostly */
	const char *shape;		/* how it was made, for reports */
};

enum nlf_txn_action {
	NLF_TXN_BEGIN,
	NLF_TXN_STAGE,
	NLF_TXN_COMMIT,
	NLF_TXN_ABORT,
};

void nlf_msg_init(void);

/* A random request (or a batch of them) of family @family. */
void nlf_msg_random(struct nlf_msg *m, struct nlf_rng *r,
		    const struct nlf_pool *pool, uint16_t family,
		    uint32_t *seq);

/* A valid request of one transaction step, on a pooled transaction. */
void nlf_msg_txn(struct nlf_msg *m, struct nlf_rng *r,
		 const struct nlf_pool *pool, uint16_t family, uint32_t *seq,
		 enum nlf_txn_action action);

/* A dump request of a random dump command, mostly valid. */
void nlf_msg_dump(struct nlf_msg *m, struct nlf_rng *r, uint16_t family,
		  uint32_t *seq);

/* Valid set-up: service @key (table size 7) or backend @id of it. */
void nlf_msg_service(struct nlf_msg *m, uint16_t family, uint32_t *seq,
		     unsigned int key);
void nlf_msg_backend(struct nlf_msg *m, uint16_t family, uint32_t *seq,
		     unsigned int key, uint16_t id);

const struct nlf_op *nlf_op_find(uint8_t cmd);

#endif /* NLFUZZ_MSG_H */
