/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The services changed since the kernel last took the state (reconcile.c):
 * a reconcile pushes those only, so that applying costs what changed and
 * not the whole state. "Everything" stands for the cases where klbd cannot
 * know what the kernel lacks: start-up, a snapshot installed, the kernel
 * changed behind klbd's back or reloaded, a failed round, a flush, and a
 * set grown past DIRTY_MAX (counted).
 */
#ifndef KLBD_DIRTY_H
#define KLBD_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"
#include "lib/klb_keyset.h"

/* Services remembered one by one; past that, everything. */
#define DIRTY_MAX	4096

struct klbd_dirty {
	bool all;
	struct klb_keyset set;		/* key -> index in keys */
	struct klb_service_key *keys;	/* in the order they were touched */
	size_t n, cap;
	uint64_t overflows;		/* sets that grew past DIRTY_MAX */
};

/* The service at key changed (or went). */
void dirty_service(struct klbd_dirty *dt, const struct klb_service_key *key);
/* Anything may have changed: the next reconcile is a whole one. */
void dirty_all(struct klbd_dirty *dt);
/* Whether a reconcile has anything to do. */
bool dirty_any(const struct klbd_dirty *dt);
/* After a successful reconcile. */
void dirty_clear(struct klbd_dirty *dt);
void dirty_free(struct klbd_dirty *dt);

#endif
