// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing on libmnl. libmnl gives us sockets, message
 * building and attribute parsing; the receive loop is ours because
 * mnl_cb_run() drops the extended ack (the kernel's own words on what is
 * wrong), which is the one thing an operator needs to see.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "lib/nl.h"

/*
 * Dump messages are at most 32 KiB (the kernel's cap on dump buffers);
 * twice that leaves room for a table chunk of KLB_TABLE_CHUNK_MAX entries.
 */
#define NL_RX_SIZE	(128 * 1024)
/* Below the default socket send buffer, so one send never hits EMSGSIZE. */
#define NL_TX_SIZE	(160 * 1024)
/* Acks of a batch arrive together: make room for a burst of errors. */
#define NL_RCVBUF	(4 * 1024 * 1024)

int nl_error_set(struct nl_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		memset(e, 0, sizeof(*e));
		e->err = err;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -err;
}

int nl_fd(const struct nl_sock *nl)
{
	return mnl_socket_get_fd(nl->mnl);
}

uint8_t nl_msg_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	return genl->cmd;
}

static struct nlmsghdr *nl_msg_start_type(struct nl_sock *nl, void *buf,
					  uint16_t type, uint8_t cmd,
					  uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = 0;	/* set when sent */
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

struct nlmsghdr *nl_msg_start(struct nl_sock *nl, void *buf, uint8_t cmd,
			      uint16_t flags)
{
	return nl_msg_start_type(nl, buf, nl->family_id, cmd,
				 nl->family_version, flags);
}

struct nl_extack {
	const char *msg;
	uint32_t offset;
	bool has_cookie;
	uint64_t cookie;
};

static int nl_extack_attr(const struct nlattr *attr, void *data)
{
	struct nl_extack *ext = data;
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			ext->msg = mnl_attr_get_str(attr);
		break;
	case NLMSGERR_ATTR_OFFS:
		if (len == sizeof(uint32_t))
			ext->offset = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_COOKIE:
		if (len == sizeof(uint64_t)) {
			memcpy(&ext->cookie, mnl_attr_get_payload(attr),
			       sizeof(ext->cookie));
			ext->has_cookie = true;
		}
		break;
	}
	return MNL_CB_OK;
}

/* Records an error reply: errno and the extended ack, if it came with one. */
static void nl_error_from_msg(struct nl_error *e, const struct nlmsghdr *nlh,
			      int err, size_t tlv_offset, uint32_t index)
{
	struct nl_extack ext = { 0 };

	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    tlv_offset <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, tlv_offset, nl_extack_attr, &ext);
	nl_error_set(e, err, "%s", ext.msg ? ext.msg : "");
	if (e) {
		e->has_cookie = ext.has_cookie;
		e->cookie = ext.cookie;
		e->bad_attr_offset = ext.offset;
		e->msg_index = index;
	}
}

/* Length of the error message's payload before its TLVs. */
static size_t nl_err_tlv_offset(const struct nlmsghdr *nlh,
				const struct nlmsgerr *err)
{
	size_t off = sizeof(*err);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	return off;
}

/*
 * Reads replies to the requests with sequence numbers first..last until
 * the one for last ends (its ack, its error, or the end of its dump).
 * Data messages go to cb; the first error is kept in e and returned once
 * everything owed has been read, so the socket stays usable.
 */
static int nl_recv_until(struct nl_sock *nl, uint32_t first, uint32_t last,
			 nl_msg_cb cb, void *data, struct nl_error *e)
{
	int ret = 0;

	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t got;
		int len;

		got = mnl_socket_recvfrom(nl->mnl, nl->rx, NL_RX_SIZE);
		len = (int)got;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (!ret)
				ret = nl_error_set(e, errno, "receiving from the kernel: %s",
						   strerror(errno));
			return ret;
		}
		nlh = (const struct nlmsghdr *)nl->rx;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t seq = nlh->nlmsg_seq;
			bool done = false;

			if (nlh->nlmsg_pid != nl->portid ||
			    seq - first > last - first)
				continue;	/* not ours: an old reply */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err =
					mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
					if (!ret)
						ret = nl_error_set(e, EBADMSG,
								   "truncated netlink error");
					return ret;
				}
				if (err->error && !ret) {
					nl_error_from_msg(e, nlh, -err->error,
							  nl_err_tlv_offset(nlh, err),
							  seq - first);
					ret = err->error;
				}
				done = seq == last;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				int derr = 0;

				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
					memcpy(&derr, mnl_nlmsg_get_payload(nlh),
					       sizeof(int));
				if (derr && !ret) {
					nl_error_from_msg(e, nlh, -derr, sizeof(int),
							  seq - first);
					ret = derr;
				}
				done = seq == last;
			} else if (nlh->nlmsg_type == NLMSG_OVERRUN) {
				if (!ret)
					ret = nl_error_set(e, EOVERFLOW, "netlink overrun");
			} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb && !ret) {
				int cret = cb(nlh, data);

				if (cret < 0)
					ret = cret;
			}
			if (done)
				return ret;
		}
	}
}

static int nl_send(struct nl_sock *nl, const void *buf, size_t len,
		   struct nl_error *e)
{
	if (mnl_socket_sendto(nl->mnl, buf, len) < 0)
		return nl_error_set(e, errno, "sending to the kernel: %s",
				    strerror(errno));
	return 0;
}

int nl_request(struct nl_sock *nl, struct nlmsghdr *req, nl_msg_cb cb,
	       void *data, struct nl_error *e)
{
	int err;

	req->nlmsg_seq = ++nl->seq;
	/* A dump ends with NLMSG_DONE; everything else is acked. */
	if (!(req->nlmsg_flags & NLM_F_DUMP))
		req->nlmsg_flags |= NLM_F_ACK;
	err = nl_send(nl, req, req->nlmsg_len, e);
	if (err)
		return err;
	err = nl_recv_until(nl, req->nlmsg_seq, req->nlmsg_seq, cb, data, e);
	if (!err && e)
		e->err = 0;
	return err;
}

/* Sends what is queued, the last request acked, and reads the answers. */
static int nl_batch_flush(struct nl_sock *nl, struct nl_error *e)
{
	struct nlmsghdr *last = NULL, *nlh;
	uint32_t first = nl->tx_first_seq;
	int len = (int)nl->tx_len;
	int err;

	if (!nl->tx_count)
		return 0;
	for (nlh = (struct nlmsghdr *)nl->tx; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len))
		last = nlh;
	last->nlmsg_flags |= NLM_F_ACK;
	nl->tx_count = 0;
	err = nl_send(nl, nl->tx, nl->tx_len, e);
	nl->tx_len = 0;
	if (err)
		return err;
	return nl_recv_until(nl, first, last->nlmsg_seq, NULL, NULL, e);
}

void *nl_batch_tail(struct nl_sock *nl, size_t room)
{
	return NL_TX_SIZE - nl->tx_len >= room ? nl->tx + nl->tx_len : NULL;
}

int nl_batch_add(struct nl_sock *nl, const struct nlmsghdr *req,
		 struct nl_error *e)
{
	struct nlmsghdr *copy = (struct nlmsghdr *)(nl->tx + nl->tx_len);
	int err;

	/* Built in place by way of nl_batch_tail(): it fits. */
	if (req == copy)
		goto queued;
	if (req->nlmsg_len > NL_TX_SIZE)
		return nl_error_set(e, EMSGSIZE, "request larger than a batch");
	if (nl->tx_len + req->nlmsg_len > NL_TX_SIZE) {
		err = nl_batch_flush(nl, e);
		if (err)
			return err;
	}
	copy = (struct nlmsghdr *)(nl->tx + nl->tx_len);
	memcpy(copy, req, req->nlmsg_len);
queued:
	copy->nlmsg_seq = ++nl->seq;
	copy->nlmsg_flags &= ~NLM_F_ACK;
	if (!nl->tx_count)
		nl->tx_first_seq = copy->nlmsg_seq;
	nl->tx_count++;
	nl->tx_len += NLMSG_ALIGN(req->nlmsg_len);
	return 0;
}

int nl_batch_send(struct nl_sock *nl, struct nl_error *e)
{
	int err = nl_batch_flush(nl, e);

	if (!err && e)
		e->err = 0;
	return err;
}

struct nl_family_reply {
	const char *group;		/* wanted group, or NULL */
	uint16_t id;
	uint8_t version;
	uint32_t group_id;
	bool group_found;
};

static int nl_group_attr(const struct nlattr *attr, void *data)
{
	struct nl_family_reply *r = data;
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(a, attr) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
			 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			id = mnl_attr_get_u32(a);
	}
	if (r->group && name && !strcmp(name, r->group)) {
		r->group_id = id;
		r->group_found = true;
	}
	return MNL_CB_OK;
}

static int nl_family_attr(const struct nlattr *attr, void *data)
{
	struct nl_family_reply *r = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
			r->id = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_VERSION:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			r->version = (uint8_t)mnl_attr_get_u32(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_parse_nested(attr, nl_group_attr, r);
		break;
	}
	return MNL_CB_OK;
}

static int nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, NL_GENL_HDRLEN, nl_family_attr, data);
	return 0;
}

static int nl_resolve(struct nl_sock *nl, const char *family,
		      struct nl_family_reply *r, struct nl_error *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_msg_start_type(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	err = nl_request(nl, nlh, nl_family_cb, r, e);
	if (err == -ENOENT)
		return nl_error_set(e, ENOENT, "generic netlink family '%s' not found",
				    family);
	if (!err && !r->id)
		return nl_error_set(e, EPROTO, "no id for generic netlink family '%s'",
				    family);
	return err;
}

int nl_open(struct nl_sock *nl, const char *family, struct nl_error *e)
{
	struct nl_family_reply r = { 0 };
	int one = 1, rcvbuf = NL_RCVBUF;
	int fd, err;

	memset(nl, 0, sizeof(*nl));
	nl->rx = malloc(NL_RX_SIZE);
	nl->tx = malloc(NL_TX_SIZE);
	if (!nl->rx || !nl->tx) {
		err = nl_error_set(e, ENOMEM, "out of memory");
		goto fail;
	}
	nl->mnl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->mnl) {
		err = nl_error_set(e, errno, "opening a generic netlink socket: %s",
				   strerror(errno));
		goto fail;
	}
	fd = mnl_socket_get_fd(nl->mnl);
	/* Extended acks carry the kernel's message; capped acks stay small. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(nl->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = nl_error_set(e, errno, "binding a generic netlink socket: %s",
				   strerror(errno));
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->mnl);
	nl->seq = (uint32_t)time(NULL);
	err = nl_resolve(nl, family, &r, e);
	if (err)
		goto fail;
	nl->family_id = r.id;
	nl->family_version = r.version;
	return 0;
fail:
	nl_close(nl);
	return err;
}

void nl_close(struct nl_sock *nl)
{
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	free(nl->rx);
	free(nl->tx);
	memset(nl, 0, sizeof(*nl));
}

int nl_join_group(struct nl_sock *nl, const char *family, const char *group,
		  struct nl_error *e)
{
	struct nl_family_reply r = { .group = group };
	int err;

	err = nl_resolve(nl, family, &r, e);
	if (err)
		return err;
	if (!r.group_found)
		return nl_error_set(e, ENOENT, "family '%s' has no group '%s'",
				    family, group);
	if (setsockopt(nl_fd(nl), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &r.group_id, sizeof(r.group_id)))
		return nl_error_set(e, errno, "joining group '%s': %s", group,
				    strerror(errno));
	return 0;
}

int nl_recv_events(struct nl_sock *nl, nl_msg_cb cb, void *data,
		   struct nl_error *e)
{
	const struct nlmsghdr *nlh;
	ssize_t got;
	int len, err;

	do
		got = mnl_socket_recvfrom(nl->mnl, nl->rx, NL_RX_SIZE);
	while (got < 0 && errno == EINTR);
	len = (int)got;
	if (got < 0) {
		if (errno == ENOBUFS)
			return nl_error_set(e, ENOBUFS,
					    "events were lost (receive queue overflow)");
		return nl_error_set(e, errno, "receiving events: %s",
				    strerror(errno));
	}
	nlh = (const struct nlmsghdr *)nl->rx;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type != nl->family_id)
			continue;
		err = cb(nlh, data);
		if (err < 0)
			return err;
	}
	return 0;
}
