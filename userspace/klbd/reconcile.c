// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel made to hold the applied state, through the apply engine
 * (lib/klb_apply.h): level-triggered and idempotent, so the same call
 * serves after applied commands, at start-up and after someone changed
 * the kernel behind klbd's back (kevents.c hears of it; a slow poll of
 * the config generation is the backstop). Only applied state is ever pushed: it is
 * committed. When it fails (the module is not loaded, a kernel limit),
 * the kernel keeps what it has and klbd tries again a second later.
 *
 * A round pushes the services changed since the last successful one
 * (dirty.h) when klbd knows the kernel holds the rest: it is still at the
 * generation klbd gave it. Else, and after start-up, a snapshot, a
 * module reload, a failed round or an overflowing set, the whole state.
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

/*
 * The changed services that the state holds, as specs, and the ones it no
 * longer holds, as keys to delete.
 */
static int changed_specs(const struct klbd *d, struct klb_service_spec **specs,
			 size_t *n, struct klb_service_key **gone, size_t *n_gone)
{
	const struct klbd_dirty *dt = &d->dirty;
	const struct state_service *svc;
	struct klb_service_spec *sp;
	struct klb_service_key *g;
	size_t i;

	sp = calloc(dt->n ? dt->n : 1, sizeof(*sp));
	g = calloc(dt->n ? dt->n : 1, sizeof(*g));
	if (!sp || !g) {
		free(sp);
		free(g);
		return -ENOMEM;
	}
	*n = 0;
	*n_gone = 0;
	for (i = 0; i < dt->n; i++) {
		svc = state_find(&d->state, &dt->keys[i]);
		if (!svc) {
			g[(*n_gone)++] = dt->keys[i];
			continue;
		}
		sp[*n].key = svc->key;
		sp[*n].conf = svc->conf;
		sp[*n].backends = svc->bes;
		sp[*n].nr_backends = svc->n_bes;
		sp[*n].table = svc->table;
		(*n)++;
	}
	*specs = sp;
	*gone = g;
	return 0;
}

/* The whole state, or (partial) the changed services only. */
static int push(struct klbd *d, bool partial, struct klb_apply_failure *where,
		klb_error *e)
{
	struct klb_service_spec *specs;
	struct klb_service_key *gone = NULL;
	size_t n, n_gone = 0;
	int err;

	if (partial)
		err = changed_specs(d, &specs, &n, &gone, &n_gone);
	else
		err = state_specs(&d->state, &specs);
	if (err)
		return klb_error_set(e, -err, "out of memory");
	if (partial) {
		err = klb_apply_services_some(&d->nl, specs, n, gone, n_gone,
					      d->generation, where, e);
		if (!err) {
			d->stats.reconciles_partial++;
			d->stats.reconciled_services += n + n_gone;
		}
	}
	/* Someone else wrote: the changed services do not suffice. */
	if (partial && err == -EAGAIN) {
		free(specs);
		err = state_specs(&d->state, &specs);
		if (err) {
			free(gone);
			return klb_error_set(e, -err, "out of memory");
		}
		partial = false;
	}
	if (!partial)
		err = klb_apply_services(&d->nl, specs, d->state.n_svcs, where, e);
	free(specs);
	free(gone);
	return err;
}

void reconcile_run(struct klbd *d)
{
	struct klb_apply_failure where = { 0 };
	klb_error e = { 0 };
	uint64_t t0;
	int err;

	if (!dirty_any(&d->dirty) || d->now_ms < d->reconcile_retry_ms)
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
	/*
	 * The changed services suffice while the kernel is at the
	 * generation klbd gave it: nobody else wrote since.
	 */
	err = push(d, !d->dirty.all, &where, &e);
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
	dirty_clear(&d->dirty);
	d->reconciled_index = d->applied;
	d->generation = d->applied;
	d->stats.reconciles++;
	return;
fail:
	/* What the failed round wrote, or not, is not known: all next time. */
	dirty_all(&d->dirty);
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
		dirty_all(&d->dirty);
		return;
	}
	if (gen != d->generation) {
		klbd_log(LOG_NOTICE,
			 "the kernel's configuration changed behind klbd (generation %llu, not %llu): reconciling",
			 (unsigned long long)gen, (unsigned long long)d->generation);
		dirty_all(&d->dirty);
	}
}

void reconcile_kernel_changed(struct klbd *d, bool reloaded)
{
	if (reloaded) {
		/* Its socket names a family that is gone; its tables too. */
		client_drop(d);
		d->reconcile_retry_ms = 0;
		dirty_all(&d->dirty);
	}
	d->generation_check_ms = 0;
}
