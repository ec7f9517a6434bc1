/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink plumbing on libmnl: a socket bound to one family,
 * requests with their acknowledgement and the kernel's extended ack
 * message, dumps, batches of requests in one send, and multicast events.
 *
 * Nothing here prints: every failure is returned as a negative errno with
 * the details in struct nl_error.
 */

#ifndef KLB_NL_H
#define KLB_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#define NL_ERR_MSG_LEN 256

/* Why a request failed: errno, and what the kernel said about it. */
struct nl_error {
	int err;			/* positive errno, 0 for none */
	char msg[NL_ERR_MSG_LEN];	/* the extack message, or "" */
	bool has_cookie;
	uint64_t cookie;		/* extack cookie (e.g. a generation) */
	uint32_t bad_attr_offset;	/* extack offset into the request, 0 */
	uint32_t msg_index;		/* within a batch: which message failed */
};

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	uint16_t family_id;
	uint8_t family_version;
	char *rx;			/* receive buffer, NL_RX_SIZE bytes */
	/* batch of queued requests, sent by nl_batch_send() */
	char *tx;
	size_t tx_len;
	uint32_t tx_first_seq;
	uint32_t tx_count;
};

/* Called for every data message of a reply or dump; returns 0 or -errno. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

/* Sets e to err with a printf-formatted message; returns -err. */
int nl_error_set(struct nl_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Opens a generic netlink socket and resolves family. ENOENT: the family
 * is not registered (its module is not loaded).
 */
int nl_open(struct nl_sock *nl, const char *family, struct nl_error *e);
void nl_close(struct nl_sock *nl);

/* Joins the multicast group of the family named group. */
int nl_join_group(struct nl_sock *nl, const char *family, const char *group,
		  struct nl_error *e);

/*
 * Starts a request in buf (at least MNL_SOCKET_BUFFER_SIZE bytes, or as
 * large as the attributes need) for command cmd of the family.
 */
struct nlmsghdr *nl_msg_start(struct nl_sock *nl, void *buf, uint8_t cmd,
			      uint16_t flags);

/*
 * Sends one request and reads until its ack (or the end of a dump, with
 * NLM_F_DUMP in its flags), passing data messages to cb (may be NULL).
 */
int nl_request(struct nl_sock *nl, struct nlmsghdr *req, nl_msg_cb cb,
	       void *data, struct nl_error *e);

/*
 * Batches: requests queued with nl_batch_add() go out together in as few
 * sends as fit the buffer; only failures are acknowledged, except the
 * last one. nl_batch_send() returns the first failure, with msg_index set.
 * The kernel runs every queued request even after one fails, so queue
 * only requests whose effects can be thrown away (writes staged in a
 * transaction that is then aborted).
 */
int nl_batch_add(struct nl_sock *nl, const struct nlmsghdr *req,
		 struct nl_error *e);
/*
 * Where the next queued request can be built in place, if the batch has
 * room bytes free: nl_batch_add() of a request built there copies
 * nothing. NULL when it has not (build it elsewhere: nl_batch_add() sends
 * the batch first when it must).
 */
void *nl_batch_tail(struct nl_sock *nl, size_t room);
int nl_batch_send(struct nl_sock *nl, struct nl_error *e);

/* Blocks until the next multicast message, passes it to cb. */
int nl_recv_events(struct nl_sock *nl, nl_msg_cb cb, void *data,
		   struct nl_error *e);

/* The file descriptor, for poll(). */
int nl_fd(const struct nl_sock *nl);

/* The generic netlink payload (after the genl header) and its command. */
uint8_t nl_msg_cmd(const struct nlmsghdr *nlh);
#define NL_GENL_HDRLEN 4	/* sizeof(struct genlmsghdr) */

#endif /* KLB_NL_H */
