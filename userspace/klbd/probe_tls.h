/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS for the https check without a socket of its own: OpenSSL works on
 * two memory BIOs and the probe moves their bytes with ring requests.
 * probe_tls_step() advances the exchange (handshake, the request
 * written once, the answer read) as far as the bytes at hand allow and
 * says what the network must do next.
 */
#ifndef KLBD_PROBE_TLS_H
#define KLBD_PROBE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct probe_tls {
	SSL *ssl;
	BIO *in, *out;		/* from the network, to the network */
	bool handshaken, written;
};

enum probe_tls_next {
	PROBE_TLS_SEND,		/* probe_tls_take() has bytes for the backend */
	PROBE_TLS_RECV,		/* give probe_tls_feed() the backend's bytes */
	PROBE_TLS_DONE,		/* the answer's first line is in buf (or full) */
};

/*
 * The client context every https probe of this klbd shares: any TLS
 * version OpenSSL allows, certificates not verified (a health check asks
 * whether the backend serves, not who it is). NULL on failure.
 */
SSL_CTX *probe_tls_ctx_new(void);
/* 0, or -ENOMEM. */
int probe_tls_start(struct probe_tls *t, SSL_CTX *ctx);
void probe_tls_free(struct probe_tls *t);
/*
 * enum probe_tls_next, or -EPROTO with why ("TLS handshake: ...") when
 * TLS failed. Plaintext is appended to buf (NUL-terminated, cap bytes).
 */
int probe_tls_step(struct probe_tls *t, const char *req, size_t req_len,
		   char *buf, size_t cap, size_t *rlen, char *why, size_t why_len);
/* Bytes waiting to be sent, at most cap, moved to out. */
size_t probe_tls_take(struct probe_tls *t, void *out, size_t cap);
/* 0, or -ENOMEM. */
int probe_tls_feed(struct probe_tls *t, const void *in, size_t len);

#endif
