// SPDX-License-Identifier: GPL-2.0
/*
 * Peer frames and the handshake: round trips, and every kind of damage,
 * forgery and replay refused with its own error.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/auth.h"
#include "klbd/frame.h"

static const struct frame_key key = { .key = "0123456789abcdef0123456789abcde" };
static const struct frame_key other = { .key = "0123456789abcdef0123456789abcdX" };

TEST(round_trip_with_mac_and_sequence)
{
	uint8_t buf[256];
	struct frame f;
	long n;

	n = frame_encode(buf, sizeof(buf), FRAME_RAFT, 7, "hello", 5, &key);
	ASSERT_EQ(frame_size(FRAME_RAFT, 5), n);
	EXPECT_EQ(n, frame_len(buf, n));
	EXPECT_EQ(-EAGAIN, frame_len(buf, 3));
	ASSERT_EQ(0, frame_decode(buf, n, &key, 7, &f));
	EXPECT_EQ(FRAME_RAFT, f.type);
	EXPECT_EQ(5, f.len);
	EXPECT_EQ(0, memcmp(f.payload, "hello", 5));
	/* The same frame again: a replay. */
	EXPECT_EQ(-EILSEQ, frame_decode(buf, n, &key, 8, &f));
	/* Another connection's key. */
	EXPECT_EQ(-EKEYREJECTED, frame_decode(buf, n, &other, 7, &f));
	/* Before the handshake ended, no data frame. */
	EXPECT_EQ(-EPROTO, frame_decode(buf, n, NULL, 0, &f));
}

TEST(every_flipped_bit_is_refused)
{
	uint8_t buf[256];
	struct frame f;
	long n, i;
	int b;

	n = frame_encode(buf, sizeof(buf), FRAME_FWD_REQ, 3, "abcdefgh", 8, &key);
	ASSERT_GT(n, 0);
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			buf[i] ^= 1 << b;
			EXPECT_NE(0, frame_decode(buf, n, &key, 3, &f))
				TH_LOG("byte %ld bit %d", i, b);
			buf[i] ^= 1 << b;
		}
	ASSERT_EQ(0, frame_decode(buf, n, &key, 3, &f));
}

TEST(corruption_is_a_crc_error_forgery_a_mac_error)
{
	uint8_t buf[256];
	struct frame f;
	long n;

	n = frame_encode(buf, sizeof(buf), FRAME_RAFT, 1, "payload", 7, &key);
	buf[FRAME_HEADER_BYTES + 2] ^= 0x40;
	EXPECT_EQ(-EBADMSG, frame_decode(buf, n, &key, 1, &f));
	/* A forger who fixes the CRC still lacks the key. */
	n = frame_encode(buf, sizeof(buf), FRAME_RAFT, 1, "payloaX", 7, &other);
	EXPECT_EQ(-EKEYREJECTED, frame_decode(buf, n, &key, 1, &f));
}

TEST(limits_and_unknowns)
{
	uint8_t buf[64];
	struct frame f;
	long n;

	EXPECT_EQ(-EINVAL, frame_encode(buf, sizeof(buf), 99, 0, NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, frame_encode(buf, sizeof(buf), FRAME_RAFT, 0, NULL, 0, NULL));
	EXPECT_EQ(-ENOBUFS, frame_encode(buf, 10, FRAME_HELLO, 0, NULL, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, frame_encode(buf, sizeof(buf), FRAME_HELLO, 0, buf,
					  FRAME_MAX_PAYLOAD + 1, NULL));
	put_u32(buf, FRAME_MAX_BYTES);
	EXPECT_EQ(-EMSGSIZE, frame_len(buf, 4));
	put_u32(buf, 3);
	EXPECT_EQ(-EMSGSIZE, frame_len(buf, 4));
	n = frame_encode(buf, sizeof(buf), FRAME_HELLO, 0, "x", 1, NULL);
	ASSERT_GT(n, 0);
	EXPECT_EQ(0, frame_decode(buf, n, NULL, 0, &f));
	EXPECT_EQ(-EBADMSG, frame_decode(buf, n - 1, NULL, 0, &f));
	/* A handshake frame once the connection is keyed. */
	EXPECT_EQ(-EPROTO, frame_decode(buf, n, &key, 0, &f));
}

TEST(handshake_proofs)
{
	static const uint8_t k[] = "the cluster key, at least 32 bytes long";
	static const uint8_t k2[] = "another cluster key, at least 32 bytes";
	struct auth_hs hs = { .client = 1, .server = 2 }, hs2;
	uint8_t proof[FRAME_MAC_BYTES];
	struct frame_key s1, s2;

	ASSERT_EQ(0, auth_nonce(hs.client_nonce));
	ASSERT_EQ(0, auth_nonce(hs.server_nonce));
	auth_proof(k, sizeof(k), &hs, AUTH_SERVER, proof);
	EXPECT_TRUE(auth_check(k, sizeof(k), &hs, AUTH_SERVER, proof));
	/* One side's proof is not the other's, nor valid under another key. */
	EXPECT_FALSE(auth_check(k, sizeof(k), &hs, AUTH_CLIENT, proof));
	EXPECT_FALSE(auth_check(k2, sizeof(k2), &hs, AUTH_SERVER, proof));
	/* A recorded proof fails against a fresh nonce. */
	hs2 = hs;
	ASSERT_EQ(0, auth_nonce(hs2.server_nonce));
	EXPECT_FALSE(auth_check(k, sizeof(k), &hs2, AUTH_SERVER, proof));
	/* Nor does it serve for another pair of nodes. */
	hs2 = hs;
	hs2.client = 3;
	EXPECT_FALSE(auth_check(k, sizeof(k), &hs2, AUTH_SERVER, proof));
	auth_session_key(k, sizeof(k), &hs, &s1);
	auth_session_key(k, sizeof(k), &hs2, &s2);
	EXPECT_NE(0, memcmp(s1.key, s2.key, sizeof(s1.key)));
}

TEST_HARNESS_MAIN
