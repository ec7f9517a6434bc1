/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The apply engine: makes the kernel hold a desired configuration. Shared
 * by klbctl (each command is one call) and klbd (which applies what the
 * cluster agreed on); neither builds a message of its own.
 *
 * Every operation reads the kernel's current state, computes the change
 * from it (for a Maglev service, the new table, incrementally from the
 * published one, so that only what must move moves) and writes it under
 * the config generation compare-and-swap (KLB_A_GENERATION_EXPECT). When
 * another writer got in between, the kernel refuses with ESTALE and the
 * whole read-compute-write runs again, after a random backoff, up to
 * KLB_APPLY_ATTEMPTS times. A change that takes several writes (backends
 * and their table, a whole service) goes in one transaction, so packets
 * see all of it or none of it.
 *
 * Nothing here prints or exits: each call returns 0 or a negative errno
 * and fills e (klb_error) with why. -ESTALE means the configuration kept
 * changing under every attempt. Documentation/apply.md has the details.
 */

#ifndef KLB_APPLY_H
#define KLB_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

/* Read-compute-write attempts before giving up with ESTALE. */
#define KLB_APPLY_ATTEMPTS	32

/*
 * A service as it should be. conf has every field (klb_apply_* never
 * merges it with the kernel's); each backend has its id, weight and
 * state. table: conf.table_size entries, or NULL: for a Maglev service,
 * computed from the backends (incrementally from the kernel's table when
 * it has one of the same size and seed); for the others, none.
 */
struct klb_service_spec {
	struct klb_service_key key;
	struct klb_service_conf conf;
	const struct klb_backend *backends;
	size_t nr_backends;
	const uint16_t *table;
};

/* Creates a service with conf (the kernel fills what conf leaves out). */
int klb_apply_service_add(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_service_conf *conf, klb_error *e);

/*
 * Changes the settings conf->fields names, and clears the flags in
 * clear_flags. A new table size, seed or a scheduler that starts using a
 * table gets a table built anew in the same transaction.
 */
int klb_apply_service_set(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_service_conf *conf,
			  uint32_t clear_flags, klb_error *e);

/* Deletes a service with its backends, table and flows. */
int klb_apply_service_del(struct klb_client *c,
			  const struct klb_service_key *key, klb_error *e);

/*
 * Adds a backend (be->addr, and be->weight and be->state as given; be->id
 * is ignored): it gets the lowest id the service does not use
 * (lib/klb_idset.h), and the table changes with it.
 */
int klb_apply_backend_add(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e);

/* Changes the weight and/or state be->fields names, and the table. */
int klb_apply_backend_set(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e);

/* Deletes the backend at be->addr and its table entries. */
int klb_apply_backend_del(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e);

/* Deletes every service. */
int klb_apply_flush(struct klb_client *c, klb_error *e);

/*
 * Makes one service exactly spec: created when missing; settings, the
 * whole backend list and the table replaced in one transaction; nothing
 * written when the kernel already holds it. Backends keep their id by
 * address: one whose id changes is deleted and added anew.
 */
int klb_apply_service_replace(struct klb_client *c,
			      const struct klb_service_spec *spec,
			      klb_error *e);

/* What a failed klb_apply_services() was at. */
struct klb_apply_failure {
	bool has_service;		/* the failure is about one service: */
	struct klb_service_key service;
};

/*
 * Makes the kernel hold exactly the n services of specs (keys unique):
 * first deletes the services specs does not name, then replaces every
 * other one as klb_apply_service_replace() does. Linear in services and
 * backends. Each service is applied whole or not at all; when a later one
 * fails, the earlier ones stay applied (the next call converges). On
 * failure *where (may be NULL) says which service the error is about.
 */
int klb_apply_services(struct klb_client *c,
		       const struct klb_service_spec *specs, size_t n,
		       struct klb_apply_failure *where, klb_error *e);

/*
 * Like klb_apply_services(), for some services only: makes the kernel
 * hold the n services of specs and none of the n_gone keys of gone (keys
 * unique, none in both), and leaves every other service as it is. Linear
 * in the services named, whatever the kernel holds besides: what a
 * caller that knows which services changed since the kernel held its
 * state, at generation from, pushes (klbd's reconcile). When the
 * configuration is not at from as an attempt starts (another writer, or
 * an attempt cut short by one), the other services may not be what the
 * caller thinks: -EAGAIN, nothing retried, and the caller pushes all.
 */
int klb_apply_services_some(struct klb_client *c,
			    const struct klb_service_spec *specs, size_t n,
			    const struct klb_service_key *gone, size_t n_gone,
			    uint64_t from, struct klb_apply_failure *where,
			    klb_error *e);

#endif /* KLB_APPLY_H */
