// SPDX-License-Identifier: GPL-2.0
/*
 * Raw generic netlink for the API tests. libmnl does the byte work; this
 * file adds family resolution and the reading of extended ACKs, which the
 * tests assert on for every rejected request.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/klb.h>

#include "api_nl.h"

struct api_family_info {
	uint16_t id;
	uint32_t events_group;
};

static int api_mcast_group(const struct nlattr *grp, struct api_family_info *fi)
{
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(a, grp) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID)
			id = mnl_attr_get_u32(a);
	}
	if (name && !strcmp(name, KLB_MCGRP_EVENTS))
		fi->events_group = id;
	return MNL_CB_OK;
}

static int api_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct api_family_info *fi = data;
	const struct nlattr *a, *grp;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			fi->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(grp, a)
				api_mcast_group(grp, fi);
			break;
		}
	}
	return MNL_CB_OK;
}

int api_open(struct api_nl *nl)
{
	struct api_family_info fi = { 0 };
	struct genlmsghdr *genl;
	struct api_req *req;
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->rcv = malloc(API_RCV_MAX);
	req = malloc(sizeof(*req));
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->rcv || !req || !nl->sock) {
		err = -errno;
		goto err;
	}
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID)) {
		err = -errno;
		goto err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 1;

	req->nlh = mnl_nlmsg_put_header(req->buf);
	req->nlh->nlmsg_type = GENL_ID_CTRL;
	req->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req->nlh->nlmsg_seq = nl->seq++;
	genl = mnl_nlmsg_put_extra_header(req->nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(req->nlh, CTRL_ATTR_FAMILY_NAME, KLB_GENL_NAME);
	err = api_transact(nl, req->nlh, api_family_cb, &fi, NULL);
	if (err)
		goto err;
	if (!fi.id || !fi.events_group) {
		err = -ENOENT;
		goto err;
	}
	nl->family = fi.id;
	nl->events_group = fi.events_group;
	free(req);
	return 0;

err:
	free(req);
	api_close(nl);
	return err;
}

void api_close(struct api_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->rcv);
	nl->sock = NULL;
	nl->rcv = NULL;
}

int api_join_events(struct api_nl *nl)
{
	int grp = nl->events_group;

	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)))
		return -errno;
	return 0;
}

struct nlmsghdr *api_req_start(struct api_req *req, struct api_nl *nl,
			       uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr *genl;

	req->nlh = mnl_nlmsg_put_header(req->buf);
	req->nlh->nlmsg_type = nl->family;
	req->nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	req->nlh->nlmsg_seq = nl->seq++;
	genl = mnl_nlmsg_put_extra_header(req->nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = KLB_GENL_VERSION;
	return req->nlh;
}

uint8_t api_msg_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	return genl->cmd;
}

/* The TLVs after an error code: those of an extended ACK. */
static void api_parse_ext_ack(const void *tlvs, size_t len,
			      struct api_err *err)
{
	const struct nlattr *a;

	for (a = tlvs; mnl_attr_ok(a, (int)len);
	     len -= MNL_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG:
			err->has_msg = true;
			snprintf(err->msg, sizeof(err->msg), "%.*s",
				 (int)mnl_attr_get_payload_len(a),
				 (const char *)mnl_attr_get_payload(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			err->has_offset = true;
			err->offset = mnl_attr_get_u32(a);
			break;
		case NLMSGERR_ATTR_COOKIE:
			err->has_cookie = true;
			err->cookie = 0;
			if (mnl_attr_get_payload_len(a) == sizeof(uint64_t))
				err->cookie = mnl_attr_get_u64(a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			err->has_miss_type = true;
			err->miss_type = mnl_attr_get_u32(a);
			break;
		}
	}
}

/* Returns 1 when @nlh ends the reply, 0 to go on, -errno on a bad message. */
static int api_handle_msg(const struct nlmsghdr *nlh, api_msg_cb cb,
			  void *data, struct api_err *err)
{
	const char *payload = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh);

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR: {
		const struct nlmsgerr *e = (const void *)payload;

		if (len < sizeof(*e))
			return -EBADMSG;
		err->error = -e->error;
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
			size_t off = sizeof(*e);

			if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
				off += MNL_ALIGN(e->msg.nlmsg_len -
						 sizeof(struct nlmsghdr));
			if (off <= len)
				api_parse_ext_ack(payload + off, len - off, err);
		}
		return 1;
	}
	case NLMSG_DONE: {
		int code = 0;

		if (len >= sizeof(code))
			memcpy(&code, payload, sizeof(code));
		err->error = -code;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			err->dump_intr = true;
		if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && len >= MNL_ALIGN(4))
			api_parse_ext_ack(payload + MNL_ALIGN(4),
					  len - MNL_ALIGN(4), err);
		return 1;
	}
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return 0;
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		err->dump_intr = true;
	err->messages++;
	if (cb && cb(nlh, data) < MNL_CB_OK)
		return -EPROTO;
	return 0;
}

int api_recv_reply(struct api_nl *nl, uint32_t seq, api_msg_cb cb,
		   void *data, struct api_err *err)
{
	struct api_err local;
	int done = 0;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	while (!done) {
		const struct nlmsghdr *nlh;
		ssize_t n;

		n = mnl_socket_recvfrom(nl->sock, nl->rcv, API_RCV_MAX);
		if (n < 0)
			return -errno;
		for (nlh = (const void *)nl->rcv; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			done = api_handle_msg(nlh, cb, data, err);
			if (done < 0)
				return done;
			if (done)
				break;
		}
		if (!done && nl->between_reads)
			nl->between_reads(nl->between_reads_arg);
	}
	return -err->error;
}

int api_send_raw(struct api_nl *nl, const void *buf, size_t len)
{
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return -errno;
	return 0;
}

int api_transact(struct api_nl *nl, struct nlmsghdr *nlh, api_msg_cb cb,
		 void *data, struct api_err *err)
{
	int ret;

	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	ret = api_send_raw(nl, nlh, nlh->nlmsg_len);
	if (ret)
		return ret;
	return api_recv_reply(nl, nlh->nlmsg_seq, cb, data, err);
}

int api_recv_event(struct api_nl *nl, int timeout_ms, api_msg_cb cb,
		   void *data)
{
	struct pollfd pfd = {
		.fd = mnl_socket_get_fd(nl->sock),
		.events = POLLIN,
	};
	const struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret)
		return 0;
	n = recv(pfd.fd, nl->rcv, API_RCV_MAX, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	/* One multicast datagram carries one event. */
	nlh = (const void *)nl->rcv;
	if (!mnl_nlmsg_ok(nlh, (int)n))
		return -EBADMSG;
	if (cb)
		cb(nlh, data);
	return 1;
}
