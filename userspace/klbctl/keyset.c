// SPDX-License-Identifier: GPL-2.0
/*
 * A set of short byte strings (addresses, service keys) with a value each,
 * so that a restore of many services with many backends finds a repeated
 * one in constant time instead of comparing every pair.
 */

#include <stdlib.h>
#include <string.h>

#include "klbctl/klbctl.h"

/* FNV-1a: the keys are not chosen by an attacker who could gain anything. */
static uint32_t key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static struct keyset_entry *slot_of(struct keyset_entry *slots, size_t cap,
				    const uint8_t *key, size_t len)
{
	size_t i = key_hash(key, len) & (cap - 1);

	while (slots[i].len &&
	       (slots[i].len != len || memcmp(slots[i].key, key, len)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Keeps the load at most one half, so that probe runs stay short. */
static int keyset_grow(struct keyset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64, i;
	struct keyset_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i].len)
			*slot_of(slots, cap, s->slots[i].key, s->slots[i].len) =
				s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int keyset_add(struct keyset *s, const void *key, size_t len, uint32_t value,
	       uint32_t *old)
{
	struct keyset_entry *e;

	if (!len || len > KEYSET_KEY_MAX)
		return -1;
	if (2 * (s->n + 1) > s->cap && keyset_grow(s))
		return -1;
	e = slot_of(s->slots, s->cap, key, len);
	if (e->len) {
		*old = e->value;
		return 1;
	}
	memcpy(e->key, key, len);
	e->len = (uint8_t)len;
	e->value = value;
	s->n++;
	return 0;
}

void keyset_clear(struct keyset *s)
{
	if (s->n)
		memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->n = 0;
}

void keyset_free(struct keyset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

size_t endpoint_key(const struct klb_endpoint *ep, uint8_t *key)
{
	key[0] = (uint8_t)ep->family;
	memcpy(key + 1, ep->addr, 16);
	key[17] = (uint8_t)(ep->port >> 8);
	key[18] = (uint8_t)ep->port;
	return 19;
}
