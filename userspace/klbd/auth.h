/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer handshake, challenge-response over fresh nonces with the
 * cluster key K (HMAC-SHA256, OpenSSL's libcrypto):
 *
 *   client -> HELLO      client id | server id | client nonce
 *   server -> CHALLENGE  server id | server nonce | HMAC(K, "klbd server" | T)
 *   client -> AUTH       HMAC(K, "klbd client" | T)
 *
 * T = client id | server id | client nonce | server nonce. Each side
 * proves it holds K over a nonce the other just chose, so a recorded
 * handshake cannot be replayed; the labels keep one side's proof from
 * serving as the other's. Both then key the connection's frames with
 * HMAC(K, "klbd session" | T): a frame of another connection fails its
 * MAC. The server refuses an id not among its peers before any proof.
 */
#ifndef KLBD_AUTH_H
#define KLBD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "klbd/frame.h"

#define AUTH_NONCE_BYTES	32
#define AUTH_HELLO_BYTES	(8 + 8 + AUTH_NONCE_BYTES)
#define AUTH_CHALLENGE_BYTES	(8 + AUTH_NONCE_BYTES + FRAME_MAC_BYTES)
#define AUTH_AUTH_BYTES		FRAME_MAC_BYTES

struct auth_hs {
	uint64_t client, server;
	uint8_t client_nonce[AUTH_NONCE_BYTES];
	uint8_t server_nonce[AUTH_NONCE_BYTES];
};

enum auth_role { AUTH_SERVER, AUTH_CLIENT };

/* Fresh random bytes (getrandom); -errno on failure. */
int auth_nonce(uint8_t *nonce);
/* HMAC(K, label of role | T) into proof (FRAME_MAC_BYTES). */
void auth_proof(const uint8_t *key, size_t key_len, const struct auth_hs *hs,
		enum auth_role role, uint8_t *proof);
/* Whether proof is role's, in constant time. */
int auth_check(const uint8_t *key, size_t key_len, const struct auth_hs *hs,
	       enum auth_role role, const uint8_t *proof);
void auth_session_key(const uint8_t *key, size_t key_len,
		      const struct auth_hs *hs, struct frame_key *out);

#endif
