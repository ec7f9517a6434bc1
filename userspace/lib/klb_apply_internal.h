/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the apply engine's files share: a service read from the kernel in
 * one piece, the table it should have, the transaction runner and the
 * retry loop. Not for the engine's users: lib/klb_apply.h is the API.
 */

#ifndef KLB_APPLY_INTERNAL_H
#define KLB_APPLY_INTERNAL_H

#include "lib/klb_apply.h"

/* A service as read from the kernel, all parts from one version. */
struct apply_svc {
	struct klb_service svc;
	struct klb_backend *bes;
	size_t nr_bes;
	struct klb_table table;		/* ids NULL when there is none */
	uint64_t generation;		/* as of the first read */
};

/* Reads key's service; ESTALE when it changed between the reads. */
int apply_svc_read(struct klb_client *c, const struct klb_service_key *key,
		   struct apply_svc *st, klb_error *e);
void apply_svc_free(struct apply_svc *st);

/*
 * The table the service should have with backends bes, built from
 * st's table when incremental: *out is NULL when no backend takes new
 * flows (the table is then deleted).
 */
int apply_new_table(const struct apply_svc *st,
		    const struct klb_service_conf *conf, bool incremental,
		    const struct klb_backend *bes, size_t n, uint16_t **out,
		    klb_error *e);

/* Staged writes of one transaction; called between batch begin and end. */
typedef int (*apply_stage_fn)(struct klb_client *c, const struct klb_write *w,
			      void *arg, klb_error *e);

/*
 * One transaction on key's service: begin, stage, commit under the
 * generation guard. A failure aborts it, so nothing is left half done.
 */
int apply_txn(struct klb_client *c, const struct klb_service_key *key,
	      uint64_t generation, apply_stage_fn stage, void *arg,
	      klb_error *e);

/* One read-compute-write attempt: ESTALE to be run again. */
typedef int (*apply_attempt_fn)(struct klb_client *c, void *arg, klb_error *e);

/* Runs attempt until no other writer gets in between, or gives up. */
int apply_retry(struct klb_client *c, apply_attempt_fn attempt, void *arg,
		klb_error *e);

/* A direct write guarded by generation. */
static inline struct klb_write apply_cas(uint64_t generation)
{
	return (struct klb_write){ .check_generation = true,
				   .expect_generation = generation };
}

#endif /* KLB_APPLY_INTERNAL_H */
