// SPDX-License-Identifier: GPL-2.0
/*
 * Key sets: open addressing with linear probing, at most half full.
 */

#include <stdlib.h>
#include <string.h>

#include "lib/klb_keyset.h"

/* FNV-1a: the keys are not chosen by an attacker who could gain anything. */
static uint32_t key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static struct klb_keyset_entry *slot_of(struct klb_keyset_entry *slots,
					size_t cap, const uint8_t *key,
					size_t len)
{
	size_t i = key_hash(key, len) & (cap - 1);

	while (slots[i].len &&
	       (slots[i].len != len || memcmp(slots[i].key, key, len)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Keeps the load at most one half, so that probe runs stay short. */
static int klb_keyset_grow(struct klb_keyset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64, i;
	struct klb_keyset_entry *slots = calloc(cap, sizeof(*slots));

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

int klb_keyset_add(struct klb_keyset *s, const void *key, size_t len,
		   uint32_t value, uint32_t *old)
{
	struct klb_keyset_entry *e;

	if (!len || len > KLB_KEYSET_KEY_MAX)
		return -1;
	if (2 * (s->n + 1) > s->cap && klb_keyset_grow(s))
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

void klb_keyset_clear(struct klb_keyset *s)
{
	if (s->n)
		memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->n = 0;
}

void klb_keyset_free(struct klb_keyset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

int klb_keyset_find(const struct klb_keyset *s, const void *key, size_t len,
		    uint32_t *value)
{
	const struct klb_keyset_entry *e;

	if (!s->n || !len || len > KLB_KEYSET_KEY_MAX)
		return -1;
	e = slot_of(s->slots, s->cap, key, len);
	if (!e->len)
		return -1;
	*value = e->value;
	return 0;
}

size_t klb_endpoint_key(const struct klb_endpoint *ep, uint8_t *key)
{
	key[0] = (uint8_t)ep->family;
	memcpy(key + 1, ep->addr, 16);
	key[17] = (uint8_t)(ep->port >> 8);
	key[18] = (uint8_t)ep->port;
	return 19;
}

size_t klb_service_key_bytes(const struct klb_service_key *sk, uint8_t *key)
{
	key[0] = sk->proto;
	return 1 + klb_endpoint_key(&sk->vip, key + 1);
}
