/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format of Raft messages between klbd peers: one frame per
 * message, little-endian, versioned, every length bounded.
 *
 *   frame    u32 length of the rest | u8 version | u8 type | u8 flags | u8 0 |
 *            u64 from, to, term, index, log_term, commit, reject_hint, context |
 *            SNAPSHOT, SNAPSHOT_RESP:  u64 snap index | u64 snap term |
 *                                      u32 conf length | conf (conf.h's encoding)
 *            SNAPSHOT:                 u64 offset | u64 total | u32 chunk length | chunk
 *            APPEND:                   u32 n_entries | n * (u64 term | u64 index |
 *                                      u32 type | u32 length | data)
 *
 * flags: bit 0 reject; the other bits must be 0. A message of another type
 * carries none of the optional sections. Decoding takes untrusted bytes:
 * it checks every length against what is left and against its limit before
 * reading, and refuses anything it does not fully understand.
 */
#ifndef KLB_RAFT_CODEC_H
#define KLB_RAFT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define RAFT_CODEC_VERSION 1
/* Entries in one APPEND (the core sends fewer: see max_msg_bytes). */
#define RAFT_CODEC_MAX_ENTRIES 4096u
/* One entry's data: raft_config.max_entry_bytes must not exceed it. */
#define RAFT_CODEC_MAX_ENTRY_BYTES (1u << 20)
/* One snapshot chunk: raft_config.snapshot_chunk_bytes must not exceed it. */
#define RAFT_CODEC_MAX_CHUNK_BYTES (1u << 20)
/* A whole frame, length prefix included. */
#define RAFT_CODEC_MAX_FRAME_BYTES (16u << 20)
/* The fixed part: prefix, version, type, flags, pad, eight u64 fields. */
#define RAFT_CODEC_HEADER_BYTES (4 + 4 + 8 * 8)

/*
 * Bytes m encodes to, or -EMSGSIZE when a length is over its limit, -EINVAL
 * for a type the format does not know or entries on a message that cannot
 * carry them.
 */
long raft_codec_size(const struct raft_msg *m);
/*
 * Encodes m into buf; returns the frame's length, -ENOBUFS when cap is too
 * small (nothing meaningful written), or raft_codec_size()'s errors.
 */
long raft_codec_encode(const struct raft_msg *m, void *buf, size_t cap);
/*
 * For splitting a byte stream: the length of the frame that starts at buf,
 * -EAGAIN when fewer than 4 bytes are there yet, -EMSGSIZE when it claims
 * more than RAFT_CODEC_MAX_FRAME_BYTES (drop the connection).
 */
long raft_codec_frame_len(const void *buf, size_t len);
/*
 * Decodes exactly one frame of len bytes into m. Entry data and the
 * snapshot chunk point into buf (valid while buf is); m->entries is
 * allocated: release it with raft_codec_msg_free(). Errors, with m left
 * empty:
 *   -EBADMSG           truncated, trailing bytes, or lengths that disagree
 *   -EMSGSIZE          a length over its limit
 *   -EPROTONOSUPPORT   a version other than RAFT_CODEC_VERSION
 *   -EPROTO            an unknown type, unknown flags, a non-zero pad byte,
 *                      or a section the type cannot carry
 *   -ENOMEM
 */
int raft_codec_decode(const void *buf, size_t len, struct raft_msg *m);
/* Frees what raft_codec_decode() allocated in m. */
void raft_codec_msg_free(struct raft_msg *m);

#endif
