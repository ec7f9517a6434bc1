// SPDX-License-Identifier: GPL-2.0
/*
 * The services changed since the last successful reconcile (dirty.h):
 * filled where entries are applied (node.c, member.c), emptied by
 * reconcile.c. Adding is constant time, a key once however often it is
 * touched; memory that fails to grow makes it "everything", which is
 * always correct, only slower.
 */
#include <stdlib.h>
#include <string.h>

#include "klbd/dirty.h"

void dirty_all(struct klbd_dirty *dt)
{
	dt->all = true;
	klb_keyset_clear(&dt->set);
	dt->n = 0;
}

void dirty_service(struct klbd_dirty *dt, const struct klb_service_key *key)
{
	uint8_t k[KLB_KEYSET_KEY_MAX];
	struct klb_service_key *keys;
	uint32_t old;
	size_t cap;
	int ret;

	if (dt->all)
		return;
	if (dt->n == DIRTY_MAX) {
		/* Unless it is there already: then nothing grows. */
		if (!klb_keyset_find(&dt->set, k, klb_service_key_bytes(key, k), &old))
			return;
		dt->overflows++;
		dirty_all(dt);
		return;
	}
	if (dt->n == dt->cap) {
		cap = dt->cap ? 2 * dt->cap : 64;
		keys = realloc(dt->keys, cap * sizeof(*keys));
		if (!keys) {
			dirty_all(dt);
			return;
		}
		dt->keys = keys;
		dt->cap = cap;
	}
	ret = klb_keyset_add(&dt->set, k, klb_service_key_bytes(key, k),
			     (uint32_t)dt->n, &old);
	if (ret < 0) {
		dirty_all(dt);
		return;
	}
	if (ret == 0)
		dt->keys[dt->n++] = *key;
}

bool dirty_any(const struct klbd_dirty *dt)
{
	return dt->all || dt->n;
}

void dirty_clear(struct klbd_dirty *dt)
{
	dt->all = false;
	klb_keyset_clear(&dt->set);
	dt->n = 0;
}

void dirty_free(struct klbd_dirty *dt)
{
	klb_keyset_free(&dt->set);
	free(dt->keys);
	memset(dt, 0, sizeof(*dt));
}
