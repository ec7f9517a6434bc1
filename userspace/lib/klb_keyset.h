/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Short byte strings (a service key, a backend's address and port), each
 * with a value, found in constant time: what lets a restore, or klbd's
 * reconcile, match thousands of services and their backends against the
 * kernel's without comparing every pair.
 */

#ifndef KLB_KEYSET_H
#define KLB_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

#define KLB_KEYSET_KEY_MAX 24

struct klb_keyset_entry {
	uint8_t key[KLB_KEYSET_KEY_MAX];
	uint8_t len;			/* 0: a free slot */
	uint32_t value;
};

/* Zeroed is empty. */
struct klb_keyset {
	struct klb_keyset_entry *slots;
	size_t cap, n;
};

/*
 * Adds key (1..KLB_KEYSET_KEY_MAX bytes) with value: 0, or 1 if it was
 * there already (*old = its value; nothing changes), or -1 (out of
 * memory, or a bad length).
 */
int klb_keyset_add(struct klb_keyset *s, const void *key, size_t len,
		   uint32_t value, uint32_t *old);
/* 0 with *value, or -1 when key is not in the set. */
int klb_keyset_find(const struct klb_keyset *s, const void *key, size_t len,
		    uint32_t *value);
/* Empties the set, keeping its memory for the next use. */
void klb_keyset_clear(struct klb_keyset *s);
void klb_keyset_free(struct klb_keyset *s);

/* An endpoint as a key: 19 bytes (family, address, port) into key. */
size_t klb_endpoint_key(const struct klb_endpoint *ep, uint8_t *key);
/* A service key as a key: 20 bytes (protocol, then the VIP) into key. */
size_t klb_service_key_bytes(const struct klb_service_key *sk, uint8_t *key);

#endif /* KLB_KEYSET_H */
