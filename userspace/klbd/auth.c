// SPDX-License-Identifier: GPL-2.0
/* The handshake's proofs and session keys (auth.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "klbd/auth.h"

int auth_nonce(uint8_t *nonce)
{
	ssize_t n = getrandom(nonce, AUTH_NONCE_BYTES, 0);

	if (n != AUTH_NONCE_BYTES)
		return n < 0 ? -errno : -EIO;
	return 0;
}

static void auth_hmac(const uint8_t *key, size_t key_len, const char *label,
		      const struct auth_hs *hs, uint8_t *out)
{
	uint8_t t[32 + 16 + 2 * AUTH_NONCE_BYTES];
	unsigned int out_len = FRAME_MAC_BYTES;
	size_t n = strlen(label);

	/* The label, NUL-padded to 32 bytes, then T. */
	memset(t, 0, 32);
	memcpy(t, label, n);
	put_u64(t + 32, hs->client);
	put_u64(t + 40, hs->server);
	memcpy(t + 48, hs->client_nonce, AUTH_NONCE_BYTES);
	memcpy(t + 48 + AUTH_NONCE_BYTES, hs->server_nonce, AUTH_NONCE_BYTES);
	HMAC(EVP_sha256(), key, key_len, t, sizeof(t), out, &out_len);
}

void auth_proof(const uint8_t *key, size_t key_len, const struct auth_hs *hs,
		enum auth_role role, uint8_t *proof)
{
	auth_hmac(key, key_len, role == AUTH_SERVER ? "klbd server" : "klbd client",
		  hs, proof);
}

int auth_check(const uint8_t *key, size_t key_len, const struct auth_hs *hs,
	       enum auth_role role, const uint8_t *proof)
{
	uint8_t want[FRAME_MAC_BYTES];

	auth_proof(key, key_len, hs, role, want);
	return !CRYPTO_memcmp(want, proof, FRAME_MAC_BYTES);
}

void auth_session_key(const uint8_t *key, size_t key_len,
		      const struct auth_hs *hs, struct frame_key *out)
{
	auth_hmac(key, key_len, "klbd session", hs, out->key);
}
