/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw generic netlink for the API tests: a socket bound to the "klb"
 * family, requests built by hand (so that they can be malformed on
 * purpose), and replies read with their extended ACK.
 */

#ifndef API_NL_H
#define API_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* Big enough for a request carrying KLB_TABLE_CHUNK_MAX entries. */
#define API_REQ_MAX	(80 * 1024)
/* Larger than any message the kernel builds for a dump. */
#define API_RCV_MAX	(96 * 1024)

struct api_nl {
	struct mnl_socket *sock;
	uint16_t family;		/* id of the "klb" family */
	uint32_t events_group;		/* id of its "events" group */
	uint32_t portid;
	uint32_t seq;
	char *rcv;			/* API_RCV_MAX bytes */
	/* Called after each datagram of a reply: to act in the middle of a dump. */
	void (*between_reads)(void *arg);
	void *between_reads_arg;
};

/* What the kernel said about a rejected (or accepted) request. */
struct api_err {
	int error;			/* 0 or a positive errno */
	bool has_msg;
	char msg[256];			/* NLMSGERR_ATTR_MSG */
	bool has_offset;
	uint32_t offset;		/* NLMSGERR_ATTR_OFFS */
	bool has_cookie;
	uint64_t cookie;		/* NLMSGERR_ATTR_COOKIE, as u64 if 8 bytes */
	bool has_miss_type;
	uint32_t miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	bool dump_intr;			/* a dump message had NLM_F_DUMP_INTR */
	unsigned int messages;		/* data messages received */
};

struct api_req {
	struct nlmsghdr *nlh;
	char buf[API_REQ_MAX];
};

/* Called for each data message of a reply; return MNL_CB_OK to go on. */
typedef int (*api_msg_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Opens a socket with extended ACKs and capped ACKs, and resolves the klb
 * family. Returns 0 or -errno (-ENOENT when the family is not registered).
 */
int api_open(struct api_nl *nl);
void api_close(struct api_nl *nl);
int api_join_events(struct api_nl *nl);

/* Starts a request for @cmd of the klb family; NLM_F_REQUEST is implied. */
struct nlmsghdr *api_req_start(struct api_req *req, struct api_nl *nl,
			       uint8_t cmd, uint16_t flags);

/*
 * Sends @nlh and reads until its ACK, error or end of dump. Data messages
 * go to @cb. Returns 0 or -errno as the kernel answered; @err (optional)
 * gets the details.
 */
int api_transact(struct api_nl *nl, struct nlmsghdr *nlh, api_msg_cb cb,
		 void *data, struct api_err *err);

/* Sends raw bytes as they are (for malformed messages). */
int api_send_raw(struct api_nl *nl, const void *buf, size_t len);

/*
 * Reads replies to sequence @seq until the ACK/error/end of dump, like
 * api_transact() after the send. Messages of other sequences are dropped.
 */
int api_recv_reply(struct api_nl *nl, uint32_t seq, api_msg_cb cb,
		   void *data, struct api_err *err);

/*
 * Receives one message from the events group within @timeout_ms and passes
 * it to @cb. Returns 1 if one came, 0 on timeout, -errno on error.
 */
int api_recv_event(struct api_nl *nl, int timeout_ms, api_msg_cb cb,
		   void *data);

/* The genl command of a message. */
uint8_t api_msg_cmd(const struct nlmsghdr *nlh);

#endif /* API_NL_H */
