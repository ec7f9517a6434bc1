// SPDX-License-Identifier: GPL-2.0
/*
 * NAT: the destination of a client's packet becomes the backend's, the
 * source of a backend's reply becomes the VIP. Checksums are updated
 * incrementally: inet_proto_csum_replace*() keeps CHECKSUM_PARTIAL (and so
 * GSO) packets right by changing only the pseudo-header part, and fixes
 * skb->csum of CHECKSUM_COMPLETE packets along with the field.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "klb.h"

/* The L4 checksum field, or NULL for a UDP/IPv4 datagram without one. */
static __sum16 *klb_l4_check(struct sk_buff *skb, u8 proto,
			     unsigned int l4off)
{
	if (proto == IPPROTO_TCP)
		return &((struct tcphdr *)(skb->data + l4off))->check;
	if (!((struct udphdr *)(skb->data + l4off))->check)
		return NULL;
	return &((struct udphdr *)(skb->data + l4off))->check;
}

static unsigned int klb_l4_len(u8 proto)
{
	return proto == IPPROTO_TCP ? sizeof(struct tcphdr) :
				      sizeof(struct udphdr);
}

/*
 * Rewrites one end of the packet: the destination (@dst) or the source.
 * Both port fields sit at the same offsets in TCP and UDP.
 */
static int klb_nat(struct sk_buff *skb, u16 family, u8 proto,
		   unsigned int l4off, const union klb_addr *addr,
		   __be16 port, bool dst)
{
	__be16 *ports;
	__be16 *pport;
	__sum16 *check;

	if (skb_ensure_writable(skb, l4off + klb_l4_len(proto)))
		return -ENOMEM;
	ports = (__be16 *)(skb->data + l4off);
	pport = &ports[dst ? 1 : 0];
	check = klb_l4_check(skb, proto, l4off);

	if (family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);
		__be32 *paddr = dst ? &iph->daddr : &iph->saddr;

		if (check)
			inet_proto_csum_replace4(check, skb, *paddr, addr->v4,
						 true);
		csum_replace4(&iph->check, *paddr, addr->v4);
		*paddr = addr->v4;
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);
		struct in6_addr *paddr = dst ? &ip6h->daddr : &ip6h->saddr;

		if (check)
			inet_proto_csum_replace16(check, skb, paddr->s6_addr32,
						  addr->v6.s6_addr32, true);
		*paddr = addr->v6;
	}
	if (check) {
		inet_proto_csum_replace2(check, skb, *pport, port, false);
		if (proto == IPPROTO_UDP && !*check)
			*check = CSUM_MANGLED_0;
	}
	*pport = port;
	return 0;
}

int klb_nat_dst(struct sk_buff *skb, u16 family, u8 proto, unsigned int l4off,
		const union klb_addr *addr, __be16 port)
{
	return klb_nat(skb, family, proto, l4off, addr, port, true);
}

int klb_nat_src(struct sk_buff *skb, u16 family, u8 proto, unsigned int l4off,
		const union klb_addr *addr, __be16 port)
{
	return klb_nat(skb, family, proto, l4off, addr, port, false);
}
