// SPDX-License-Identifier: GPL-2.0
/* The packets and sockets of a TCP check through the VIP (probe_vip.h). */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "klbd/probe_vip.h"

#define TCP_BYTES	20

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

static uint16_t get_be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

/* The Internet checksum's running sum (RFC 1071) over big-endian words. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

size_t probe_vip_packet(uint8_t *buf, const struct klb_endpoint *src,
			const struct klb_endpoint *dst, uint8_t flags,
			uint32_t seq)
{
	size_t alen = src->family == AF_INET6 ? 16 : 4;
	size_t ip = src->family == AF_INET6 ? 40 : 20;
	uint8_t *tcp = buf + ip;
	uint32_t sum;

	memset(buf, 0, ip + TCP_BYTES);
	if (src->family == AF_INET6) {
		buf[0] = 0x60;
		put_be16(buf + 4, TCP_BYTES);
		buf[6] = IPPROTO_TCP;
		buf[7] = 64;
		memcpy(buf + 8, src->addr, 16);
		memcpy(buf + 24, dst->addr, 16);
	} else {
		buf[0] = 0x45;
		put_be16(buf + 2, ip + TCP_BYTES);
		put_be16(buf + 4, seq);		/* an id: any will do */
		put_be16(buf + 6, 0x4000);	/* DF */
		buf[8] = 64;
		buf[9] = IPPROTO_TCP;
		memcpy(buf + 12, src->addr, 4);
		memcpy(buf + 16, dst->addr, 4);
		put_be16(buf + 10, fold(sum16(0, buf, 20)));
	}
	put_be16(tcp, src->port);
	put_be16(tcp + 2, dst->port);
	put_be32(tcp + 4, seq);
	tcp[12] = (TCP_BYTES / 4) << 4;
	tcp[13] = flags;
	put_be16(tcp + 14, flags & PROBE_VIP_TCP_SYN ? 1024 : 0);
	/* The pseudo-header: addresses, protocol, TCP length. */
	sum = sum16(0, src->addr, alen);
	sum = sum16(sum, dst->addr, alen);
	sum += IPPROTO_TCP + TCP_BYTES;
	put_be16(tcp + 16, fold(sum16(sum, tcp, TCP_BYTES)));
	return ip + TCP_BYTES;
}

int probe_vip_answer(const uint8_t *pkt, size_t len, int family,
		     const uint8_t *from, const struct klb_endpoint *src,
		     const struct klb_endpoint *dst, uint32_t isn)
{
	size_t alen = family == AF_INET6 ? 16 : 4, ihl = 0;
	const uint8_t *tcp;
	uint8_t flags;

	if (family != src->family || memcmp(from, dst->addr, alen))
		return 0;
	if (family == AF_INET) {
		if (len < 20 || pkt[0] >> 4 != 4 || pkt[9] != IPPROTO_TCP)
			return 0;
		ihl = (pkt[0] & 0xf) * 4;
		if (ihl < 20 || memcmp(pkt + 12, dst->addr, 4) ||
		    memcmp(pkt + 16, src->addr, 4))
			return 0;
	}
	if (len < ihl + TCP_BYTES)
		return 0;
	tcp = pkt + ihl;
	flags = tcp[13];
	if (get_be16(tcp) != dst->port || get_be16(tcp + 2) != src->port ||
	    !(flags & PROBE_VIP_TCP_ACK) || get_be32(tcp + 8) != isn + 1)
		return 0;
	if (flags & PROBE_VIP_TCP_RST)
		return -ECONNREFUSED;
	return flags & PROBE_VIP_TCP_SYN ? 1 : 0;
}

static socklen_t sockaddr_of(const struct klb_endpoint *ep, uint16_t port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ep->addr, 16);
		return sizeof(*s6);
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, ep->addr, 4);
	return sizeof(*s4);
}

/* The address and port a socket is bound to, into ep. */
static int bound_to(int fd, struct klb_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	memset(ep, 0, sizeof(*ep));
	ep->family = ss.ss_family;
	if (ss.ss_family == AF_INET6) {
		memcpy(ep->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		ep->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		memcpy(ep->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		ep->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

/* prog on fd: the kernel runs it on each packet before queueing it. */
static int attach(int fd, struct sock_filter *prog, unsigned short n)
{
	struct sock_fprog fp = { .len = n, .filter = prog };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) ?
	       -errno : 0;
}

/*
 * The answers only: from the VIP's port to the probe's. An IPv4 raw
 * socket sees the IP header first, an IPv6 one the TCP header.
 */
static int rx_filter(int fd, int family, uint16_t sport, uint16_t dport)
{
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, dport, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sport, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, dport, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sport, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};

	return family == AF_INET6 ? attach(fd, v6, 6) : attach(fd, v4, 7);
}

int probe_vip_open(const struct klb_endpoint *backend,
		   const struct klb_endpoint *dst, struct klb_endpoint *src,
		   int *rx, int *hold)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err;

	*rx = *hold = -1;
	/* The address the route to the backend leaves from: klb.ko's too. */
	fd = socket(backend->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sl = sockaddr_of(backend, backend->port, &ss);
	err = connect(fd, (struct sockaddr *)&ss, sl) ? -errno : bound_to(fd, src);
	close(fd);
	if (err)
		return err;
	*hold = socket(backend->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*hold < 0)
		return -errno;
	sl = sockaddr_of(src, 0, &ss);
	if (bind(*hold, (struct sockaddr *)&ss, sl) || bound_to(*hold, src)) {
		err = -errno;
		goto fail;
	}
	*rx = socket(backend->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		     IPPROTO_TCP);
	if (*rx < 0) {
		err = -errno;
		goto fail;
	}
	err = rx_filter(*rx, backend->family, src->port, dst->port);
	if (!err && bind(*rx, (struct sockaddr *)&ss, sl))
		err = -errno;
	if (!err)
		return 0;
fail:
	if (*rx >= 0)
		close(*rx);
	close(*hold);
	*rx = *hold = -1;
	return err;
}

int probe_vip_tx_open(int family)
{
	/* It sends only: every tunnel packet this host receives is dropped. */
	struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	int fd, err;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IPIP);
	if (fd < 0)
		return -errno;
	err = attach(fd, none, 1);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
