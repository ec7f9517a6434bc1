// SPDX-License-Identifier: GPL-2.0
/* TLS on memory BIOs for the https check (probe_tls.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "klbd/probe_tls.h"
#include "lib/klbd_bytes.h"

SSL_CTX *probe_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* One exchange per connection: nothing to resume later. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

int probe_tls_start(struct probe_tls *t, SSL_CTX *ctx)
{
	memset(t, 0, sizeof(*t));
	t->ssl = SSL_new(ctx);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		BIO_free(t->in);
		BIO_free(t->out);
		SSL_free(t->ssl);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	/* An empty input BIO means "wait for the network", not end of stream. */
	BIO_set_mem_eof_return(t->in, -1);
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_connect_state(t->ssl);
	return 0;
}

void probe_tls_free(struct probe_tls *t)
{
	/* SSL_free frees the BIOs it was given. */
	SSL_free(t->ssl);
	memset(t, 0, sizeof(*t));
}

/* After an operation that did not complete: what the network must do. */
static int tls_next(struct probe_tls *t, int ret, const char *what, char *why,
		    size_t why_len)
{
	int e = SSL_get_error(t->ssl, ret);
	unsigned long code;
	const char *reason;

	/* What OpenSSL wrote goes out first, whatever it waits for. */
	if (BIO_ctrl_pending(t->out))
		return PROBE_TLS_SEND;
	if (e == SSL_ERROR_WANT_READ)
		return PROBE_TLS_RECV;
	code = ERR_peek_error();
	reason = code ? ERR_reason_error_string(code) : NULL;
	return klbd_why(why, why_len, -EPROTO, "%s: %s", what,
			reason ? reason : e == SSL_ERROR_ZERO_RETURN ?
			"closed by the backend" : "failed");
}

int probe_tls_step(struct probe_tls *t, const char *req, size_t req_len,
		   char *buf, size_t cap, size_t *rlen, char *why, size_t why_len)
{
	int ret;

	ERR_clear_error();
	if (!t->handshaken) {
		ret = SSL_do_handshake(t->ssl);
		if (ret != 1)
			return tls_next(t, ret, "TLS handshake", why, why_len);
		t->handshaken = true;
	}
	if (!t->written) {
		/* A memory BIO takes it whole. */
		ret = SSL_write(t->ssl, req, req_len);
		if (ret <= 0)
			return tls_next(t, ret, "TLS write", why, why_len);
		t->written = true;
	}
	for (;;) {
		if (strstr(buf, "\r\n") || *rlen >= cap - 1)
			return PROBE_TLS_DONE;
		ret = SSL_read(t->ssl, buf + *rlen, cap - 1 - *rlen);
		if (ret <= 0) {
			/* A clean close: the answer is what came. */
			if (SSL_get_error(t->ssl, ret) == SSL_ERROR_ZERO_RETURN)
				return PROBE_TLS_DONE;
			return tls_next(t, ret, "TLS read", why, why_len);
		}
		*rlen += ret;
		buf[*rlen] = '\0';
	}
}

size_t probe_tls_take(struct probe_tls *t, void *out, size_t cap)
{
	int n = BIO_read(t->out, out, cap);

	return n > 0 ? n : 0;
}

int probe_tls_feed(struct probe_tls *t, const void *in, size_t len)
{
	return BIO_write(t->in, in, len) == (int)len ? 0 : -ENOMEM;
}
