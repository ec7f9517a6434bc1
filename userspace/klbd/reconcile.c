// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel made to hold the applied state, through the apply engine
 * (lib/klb_apply.h): level-triggered and idempotent, so the same call
 * serves after applied commands, at start-up and after someone changed
 * the kernel behind klbd's back (kevents.c hears of it; a slow poll of
 * the config generation is the backstop). Only applied state is ever pushed: it is
 * committed. When it fails (the module is not loaded, a kernel limit),
 * the kernel keeps what it has and klbd tries again a second later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "klbd/klbd.h"
#include "lib/klb_apply.h"

#define RECONCILE_RETRY_MS	1000
/* Without the event listeners (kevents.c), and as their backstop. */
#define GENERATION_CHECK_MS	2000
#define GENERATION_BACKSTOP_MS	10000

static int client(struct klbd *d, klb_error *e)
{
	if (d->nl_open)
		return 0;
	if (klb_client_open(&d->nl, e))
		return -1;
	d->nl_open = true;
	return 0;
}

static void client_drop(struct klbd *d)
{
	if (d->nl_open)
		klb_client_close(&d->nl);
	d->nl_open = false;
}

void reconcile_run(struct klbd *d)
{
	struct klb_apply_failure where = { 0 };
	struct klb_service_spec *specs;
	klb_error e = { 0 };
	uint64_t t0;
	int err;

	if (!d->reconcile_dirty || d->now_ms < d->reconcile_retry_ms)
		return;
	/*
	 * Index 0 is a node that never applied anything: an empty state
	 * that would wipe the kernel before the log is even read.
	 */
	if (!d->applied)
		return;
	/*
	 * After a restart the disk may hold less than the kernel already
	 * has (the commit index is persisted lazily): wait until this node
	 * has heard from a leader and applied what it committed, so that a
	 * gateway without quorum keeps its tables.
	 */
	if (!d->synced) {
		struct raft_status rs;

		raft_status(d->raft, &rs);
		if (!rs.lead || d->applied < rs.commit)
			return;
		d->synced = true;
	}
	d->reconcile_tried_index = d->applied;
	t0 = loop_now_ns();
	if (client(d, &e)) {
		err = -klb_error_errno(&e);
		goto fail;
	}
	err = state_specs(&d->state, &specs);
	if (err) {
		klb_error_set(&e, -err, "out of memory");
		goto fail;
	}
	err = klb_apply_services(&d->nl, specs, d->state.n_svcs, &where, &e);
	free(specs);
	if (err)
		goto fail;
	/*
	 * The kernel's generation says which Raft index its configuration
	 * is: set it, guarded, so a writer that got in between is noticed
	 * (ESTALE) and undone by the next round.
	 */
	if (klb_client_generation(&d->nl) != d->applied) {
		struct klb_write w = {
			.check_generation = true,
			.expect_generation = klb_client_generation(&d->nl),
		};

		err = klb_generation_set(&d->nl, d->applied, &w, &e);
		if (err)
			goto fail;
		d->generation_ms = d->now_ms;
	}
	if (!d->generation_ms)
		d->generation_ms = d->now_ms;	/* the kernel had it already */
	metrics_observe(&d->metrics.reconcile, loop_now_ns() - t0);
	if (d->reconcile_failing)
		klbd_log(LOG_NOTICE, "reconcile at index %llu succeeded again",
			 (unsigned long long)d->applied);
	d->reconcile_failing = false;
	d->reconcile_dirty = false;
	d->reconciled_index = d->applied;
	d->generation = d->applied;
	d->stats.reconciles++;
	return;
fail:
	d->stats.reconcile_failures++;
	d->reconcile_retry_ms = d->now_ms + RECONCILE_RETRY_MS;
	/* Once when it starts failing, not every second. */
	klbd_log(d->reconcile_failing ? LOG_DEBUG : LOG_ERR,
		 "reconcile at index %llu failed%s: %s%s%s",
		 (unsigned long long)d->applied,
		 where.has_service ? " (a service)" : "",
		 strerror(klb_error_errno(&e) ? klb_error_errno(&e) : -err),
		 klb_error_msg(&e)[0] ? ": " : "", klb_error_msg(&e));
	d->reconcile_failing = true;
	client_drop(d);
}

void reconcile_check(struct klbd *d)
{
	klb_error e = { 0 };
	uint64_t gen;

	if (d->now_ms < d->generation_check_ms || !d->reconciled_index)
		return;
	d->generation_check_ms = d->now_ms +
		(d->kev_open && d->kctl_open ? GENERATION_BACKSTOP_MS :
		 GENERATION_CHECK_MS);
	if (client(d, &e) || klb_generation_get(&d->nl, &gen, &e)) {
		client_drop(d);
		d->reconcile_dirty = true;
		return;
	}
	if (gen != d->generation) {
		klbd_log(LOG_NOTICE,
			 "the kernel's configuration changed behind klbd (generation %llu, not %llu): reconciling",
			 (unsigned long long)gen, (unsigned long long)d->generation);
		d->reconcile_dirty = true;
	}
}

void reconcile_kernel_changed(struct klbd *d, bool reloaded)
{
	if (reloaded) {
		/* Its socket names a family that is gone. */
		client_drop(d);
		d->reconcile_retry_ms = 0;
	}
	d->generation_check_ms = 0;
}
