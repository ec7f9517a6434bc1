/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames between klbd peers over TCP. Every frame:
 *
 *   u32 length of the rest | u8 version | u8 type | u16 flags (0) |
 *   u64 sequence | u32 CRC32C | payload | [32-byte HMAC-SHA256]
 *
 * little-endian. The CRC covers the whole frame before the MAC, its own
 * field counted as 0, and catches damage before anything else looks at
 * the bytes. The handshake frames (HELLO, CHALLENGE, AUTH) carry no MAC
 * and sequence 0: their contents are authenticated by the handshake
 * itself (auth.h). Every later frame carries the next sequence number of
 * its connection and a MAC under the connection's session key, so that a
 * replayed, reordered, forged or corrupted frame is refused.
 */
#ifndef KLBD_FRAME_H
#define KLBD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klbd_bytes.h"

#include "raft/codec.h"

#define FRAME_VERSION		1
#define FRAME_HEADER_BYTES	20
#define FRAME_MAC_BYTES		32
/* A Raft message and the frame around it. */
#define FRAME_MAX_PAYLOAD	RAFT_CODEC_MAX_FRAME_BYTES
#define FRAME_MAX_BYTES		(FRAME_HEADER_BYTES + FRAME_MAX_PAYLOAD + \
				 FRAME_MAC_BYTES)

enum frame_type {
	FRAME_HELLO = 1,	/* client: its id, the id it wants, a nonce */
	FRAME_CHALLENGE,	/* server: its id, a nonce, its proof */
	FRAME_AUTH,		/* client: its proof */
	FRAME_RAFT = 16,	/* a Raft message (raft/codec.h) */
	FRAME_FWD_REQ,		/* a follower forwards a client's command */
	FRAME_FWD_RESP,		/* the leader's answer to it */
	FRAME_TRANSFER,		/* a follower asks the leader to hand over */
	FRAME_MEMBER_REQ,	/* a follower forwards a membership change */
	FRAME_REMOVED,		/* the leader: you are no member any more */
	FRAME_TYPE_LAST = FRAME_REMOVED,
};

struct frame {
	uint8_t type;
	uint64_t seq;
	const uint8_t *payload;	/* points into the decoded buffer */
	size_t len;
};

/* A connection's session key (auth.h), or NULL for a handshake frame. */
struct frame_key {
	uint8_t key[32];
};

static inline int frame_type_has_mac(uint8_t type)
{
	return type >= FRAME_RAFT;
}

/* Bytes a frame with len bytes of payload takes. */
size_t frame_size(uint8_t type, size_t len);
/*
 * Writes the frame into buf (frame_size() bytes); key is required for the
 * types that carry a MAC. Returns the bytes written, -EMSGSIZE, -ENOBUFS
 * (cap too small) or -EINVAL (a key missing).
 */
long frame_encode(void *buf, size_t cap, uint8_t type, uint64_t seq,
		  const void *payload, size_t len, const struct frame_key *key);
/*
 * For splitting a stream: the whole frame's length, -EAGAIN with fewer
 * than 4 bytes, -EMSGSIZE when it claims more than FRAME_MAX_BYTES or
 * less than a header.
 */
long frame_len(const void *buf, size_t have);
/*
 * Checks and decodes one frame of len bytes. key: the connection's
 * session key (NULL while handshaking: then only handshake types pass);
 * expect_seq: the sequence the frame must carry. Errors:
 *   -EBADMSG           length or CRC wrong (damage)
 *   -EPROTONOSUPPORT   another version
 *   -EPROTO            unknown type or flags, or a type not allowed now
 *   -EKEYREJECTED      the MAC is wrong (forged, or another key)
 *   -EILSEQ            the sequence is not expect_seq (replayed, lost)
 */
int frame_decode(const void *buf, size_t len, const struct frame_key *key,
		 uint64_t expect_seq, struct frame *f);

#endif
