// SPDX-License-Identifier: GPL-2.0
/* The peer frame codec: lengths first, then CRC, then MAC, then sequence. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "klbd/frame.h"
#include "raft/crc32c.h"

size_t frame_size(uint8_t type, size_t len)
{
	return FRAME_HEADER_BYTES + len +
	       (frame_type_has_mac(type) ? FRAME_MAC_BYTES : 0);
}

static int known_type(uint8_t type)
{
	return (type >= FRAME_HELLO && type <= FRAME_AUTH) ||
	       (type >= FRAME_RAFT && type <= FRAME_TYPE_LAST);
}

static uint32_t frame_crc(const uint8_t *p, size_t body)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = crc32c(0, p, 16);
	crc = crc32c(crc, zero, 4);
	return crc32c(crc, p + FRAME_HEADER_BYTES, body - FRAME_HEADER_BYTES);
}

static void frame_mac(const struct frame_key *key, const uint8_t *p, size_t n,
		      uint8_t *mac)
{
	unsigned int mac_len = FRAME_MAC_BYTES;

	HMAC(EVP_sha256(), key->key, sizeof(key->key), p, n, mac, &mac_len);
}

long frame_encode(void *buf, size_t cap, uint8_t type, uint64_t seq,
		  const void *payload, size_t len, const struct frame_key *key)
{
	size_t size = frame_size(type, len);
	size_t body = FRAME_HEADER_BYTES + len;
	uint8_t *p = buf;

	if (!known_type(type))
		return -EINVAL;
	if (len > FRAME_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (frame_type_has_mac(type) && !key)
		return -EINVAL;
	if (cap < size)
		return -ENOBUFS;
	put_u32(p, size - 4);
	p[4] = FRAME_VERSION;
	p[5] = type;
	put_u16(p + 6, 0);
	put_u64(p + 8, seq);
	if (len)
		memmove(p + FRAME_HEADER_BYTES, payload, len);
	put_u32(p + 16, frame_crc(p, body));
	if (frame_type_has_mac(type))
		frame_mac(key, p, body, p + body);
	return size;
}

long frame_len(const void *buf, size_t have)
{
	uint32_t n;

	if (have < 4)
		return -EAGAIN;
	n = get_u32(buf);
	if (n < FRAME_HEADER_BYTES - 4 || n > FRAME_MAX_BYTES - 4)
		return -EMSGSIZE;
	return (long)n + 4;
}

int frame_decode(const void *buf, size_t len, const struct frame_key *key,
		 uint64_t expect_seq, struct frame *f)
{
	const uint8_t *p = buf;
	uint8_t mac[FRAME_MAC_BYTES];
	size_t body;

	memset(f, 0, sizeof(*f));
	if (len < FRAME_HEADER_BYTES || len > FRAME_MAX_BYTES ||
	    get_u32(p) != len - 4)
		return -EBADMSG;
	body = len;
	if (frame_type_has_mac(p[5])) {
		if (len < FRAME_HEADER_BYTES + FRAME_MAC_BYTES)
			return -EBADMSG;
		body -= FRAME_MAC_BYTES;
	}
	if (get_u32(p + 16) != frame_crc(p, body))
		return -EBADMSG;
	if (p[4] != FRAME_VERSION)
		return -EPROTONOSUPPORT;
	if (!known_type(p[5]) || get_u16(p + 6))
		return -EPROTO;
	/* Handshake frames only before the key, authenticated ones only after. */
	if (!!key != !!frame_type_has_mac(p[5]))
		return -EPROTO;
	if (key) {
		frame_mac(key, p, body, mac);
		if (CRYPTO_memcmp(mac, p + body, FRAME_MAC_BYTES))
			return -EKEYREJECTED;
	}
	if (get_u64(p + 8) != expect_seq)
		return -EILSEQ;
	f->type = p[5];
	f->seq = get_u64(p + 8);
	f->payload = p + FRAME_HEADER_BYTES;
	f->len = body - FRAME_HEADER_BYTES;
	return 0;
}
