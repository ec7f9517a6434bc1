/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What klbctl and klbd say to each other, and what klbd's Raft log holds:
 *
 * A command (struct klbd_cmd) is one change of the configuration. Its
 * encoding is both a log entry and the body of a control request, so a
 * command travels from klbctl to the leader and into every gateway's log
 * without being rebuilt:
 *
 *   u8 version (1) | u8 op | u16 0 | service key (FLUSH: none) |
 *   SERVICE_ADD, SERVICE_SET: conf | u32 clear_flags
 *   BACKEND_*:                backend
 *
 *   service key  u8 proto | u8 0 | endpoint
 *   endpoint     u16 family | 16 bytes address | u16 port
 *   conf         u32 fields | u8 sched | u8 fwd | u16 0 | u32 table_size |
 *                u32 bound | u32 flags | 16 bytes seed
 *   backend      u32 fields | u16 id | u16 0 | endpoint | u32 weight |
 *                u8 state | 3 bytes 0
 *
 * little-endian, every field checked on decode (unused bytes zero, an
 * address's unused bytes too), so that two encodings of one command are
 * the same bytes.
 *
 * The control socket (a Unix stream socket) carries requests and
 * responses, one response per request, in order:
 *
 *   request   u32 length of the rest | u8 version (1) | u8 op | u16 0 | body
 *   response  u32 length of the rest | u8 version | u8 op | u16 0 |
 *             i32 status (0 or -errno) | u32 message length | message | body
 *
 *   KLBD_CTL_SUBMIT  body: a command. Answered once the command is
 *                    committed and applied on this gateway; status is the
 *                    command's own outcome (-EEXIST, ...), message why.
 *   KLBD_CTL_STATUS  no body. Response body: "name value" lines (role,
 *                    term, leader, commit, applied, counters).
 *   KLBD_CTL_TRANSFER  body: u64 the voter that should lead. Answered once
 *                    this node sees it lead (or -ETIMEDOUT).
 */
#ifndef KLBD_PROTO_H
#define KLBD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

#define KLBD_PROTO_VERSION	1
#define KLBD_CMD_MAX_BYTES	128
/* A control message, length prefix included. */
#define KLBD_CTL_MAX_BYTES	(64 * 1024)
#define KLBD_CTL_HEADER_BYTES	8
#define KLBD_CTL_RESP_HEADER_BYTES 16

enum klbd_cmd_op {
	KLBD_CMD_SERVICE_ADD = 1,
	KLBD_CMD_SERVICE_SET,
	KLBD_CMD_SERVICE_DEL,
	KLBD_CMD_BACKEND_ADD,
	KLBD_CMD_BACKEND_SET,
	KLBD_CMD_BACKEND_DEL,
	KLBD_CMD_FLUSH,
	KLBD_CMD_OP_MAX = KLBD_CMD_FLUSH,
};

struct klbd_cmd {
	uint8_t op;			/* enum klbd_cmd_op */
	struct klb_service_key key;
	struct klb_service_conf conf;	/* SERVICE_ADD, SERVICE_SET */
	uint32_t clear_flags;		/* SERVICE_SET */
	struct klb_backend be;		/* BACKEND_* */
};

enum klbd_ctl_op {
	KLBD_CTL_SUBMIT = 1,
	KLBD_CTL_STATUS,
	KLBD_CTL_TRANSFER,
};

/* Bytes written to buf (KLBD_CMD_MAX_BYTES), or -EINVAL. */
int klbd_cmd_encode(const struct klbd_cmd *cmd, uint8_t *buf, size_t cap);
/* 0, or -EBADMSG / -EPROTO / -EINVAL with why (may be NULL) filled. */
int klbd_cmd_decode(const uint8_t *buf, size_t len, struct klbd_cmd *cmd,
		    char *why, size_t why_len);
const char *klbd_cmd_name(uint8_t op);

#endif
