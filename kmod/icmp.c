// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP errors about a flow's packets go to the flow's backend.
 *
 * A router between the gateway and a client that cannot pass a packet the
 * service sent (a NAT reply, or a tunnel backend's direct answer, both
 * from VIP:port) sends its error to the VIP. The error quotes the packet's
 * headers: VIP:port -> client:port, which is the flow's key turned around.
 * The error goes where the flow goes: encapsulated whole to a tunnel
 * backend (which owns the VIP), or translated for a NAT backend (the outer
 * destination and the quoted source become the backend's, as the backend
 * sent it), so that the backend learns the path MTU or that the client is
 * gone. The ICMP checksum is computed again over the whole message: errors
 * are rare and short.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#include "klb.h"

/* What an ICMP error quotes: its header's place and the flow it is about. */
struct klb_icmp_quote {
	unsigned int icmp_off;		/* the ICMP header */
	unsigned int inner_off;		/* the quoted IP header */
	unsigned int ports_off;		/* the quoted ports */
	struct klb_tuple flow;		/* client -> VIP */
};

static bool klb_icmp4_is_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

static bool klb_icmp6_is_error(u8 type)
{
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/* The flow the quoted packet belongs to, from its (turned around) ports. */
static bool klb_icmp_quoted_ports(struct sk_buff *skb,
				  struct klb_icmp_quote *q, u8 proto)
{
	__be16 _ports[2];
	const __be16 *ports;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	ports = skb_header_pointer(skb, q->ports_off, sizeof(_ports), _ports);
	if (!ports)
		return false;
	q->flow.proto = proto;
	q->flow.sport = ports[1];
	q->flow.dport = ports[0];
	return true;
}

static bool klb_icmp4_quote(struct sk_buff *skb, struct klb_icmp_quote *q)
{
	struct icmphdr _ih;
	const struct icmphdr *ih;
	struct iphdr _iph;
	const struct iphdr *iph;

	q->icmp_off = skb_network_offset(skb) + ip_hdrlen(skb);
	ih = skb_header_pointer(skb, q->icmp_off, sizeof(_ih), &_ih);
	if (!ih || !klb_icmp4_is_error(ih->type))
		return false;
	q->inner_off = q->icmp_off + sizeof(*ih);
	iph = skb_header_pointer(skb, q->inner_off, sizeof(_iph), &_iph);
	if (!iph || iph->ihl < 5 || ip_is_fragment(iph))
		return false;
	q->ports_off = q->inner_off + iph->ihl * 4;
	memset(&q->flow, 0, sizeof(q->flow));
	q->flow.family = AF_INET;
	q->flow.saddr.v4 = iph->daddr;
	q->flow.daddr.v4 = iph->saddr;
	return klb_icmp_quoted_ports(skb, q, iph->protocol);
}

static bool klb_icmp6_quote(struct sk_buff *skb, struct klb_icmp_quote *q)
{
	struct icmp6hdr _ih;
	const struct icmp6hdr *ih;
	struct ipv6hdr _iph;
	const struct ipv6hdr *iph;
	__be16 frag_off;
	u8 nexthdr;
	int off;

	nexthdr = ipv6_hdr(skb)->nexthdr;
	off = ipv6_skip_exthdr(skb, skb_network_offset(skb) +
			       sizeof(struct ipv6hdr), &nexthdr, &frag_off);
	if (off < 0 || frag_off || nexthdr != IPPROTO_ICMPV6)
		return false;
	q->icmp_off = off;
	ih = skb_header_pointer(skb, q->icmp_off, sizeof(_ih), &_ih);
	if (!ih || !klb_icmp6_is_error(ih->icmp6_type))
		return false;
	q->inner_off = q->icmp_off + sizeof(*ih);
	iph = skb_header_pointer(skb, q->inner_off, sizeof(_iph), &_iph);
	if (!iph)
		return false;
	nexthdr = iph->nexthdr;
	off = ipv6_skip_exthdr(skb, q->inner_off + sizeof(*iph), &nexthdr,
			       &frag_off);
	if (off < 0 || frag_off)
		return false;
	q->ports_off = off;
	memset(&q->flow, 0, sizeof(q->flow));
	q->flow.family = AF_INET6;
	q->flow.saddr.v6 = iph->daddr;
	q->flow.daddr.v6 = iph->saddr;
	return klb_icmp_quoted_ports(skb, q, nexthdr);
}

/* The quoted packet as the backend sent it; the outer one to the backend. */
static int klb_icmp_nat(struct sk_buff *skb, const struct klb_icmp_quote *q,
			const struct klb_backend *be)
{
	unsigned int len = skb->len - q->icmp_off;
	__be16 *ports;
	__wsum csum;

	if (skb_ensure_writable(skb, q->ports_off + 2 * sizeof(__be16)))
		return -ENOMEM;
	ports = (__be16 *)(skb->data + q->ports_off);
	ports[0] = be->port;
	if (be->family == AF_INET) {
		struct iphdr *outer = ip_hdr(skb);
		struct iphdr *inner = (struct iphdr *)(skb->data + q->inner_off);
		struct icmphdr *ih = (struct icmphdr *)(skb->data + q->icmp_off);

		csum_replace4(&inner->check, inner->saddr, be->addr.v4);
		inner->saddr = be->addr.v4;
		csum_replace4(&outer->check, outer->daddr, be->addr.v4);
		outer->daddr = be->addr.v4;
		ih->checksum = 0;
		ih->checksum = csum_fold(skb_checksum(skb, q->icmp_off, len, 0));
	} else {
		struct ipv6hdr *outer = ipv6_hdr(skb);
		struct ipv6hdr *inner = (struct ipv6hdr *)(skb->data + q->inner_off);
		struct icmp6hdr *ih = (struct icmp6hdr *)(skb->data + q->icmp_off);

		inner->saddr = be->addr.v6;
		outer->daddr = be->addr.v6;
		ih->icmp6_cksum = 0;
		csum = skb_checksum(skb, q->icmp_off, len, 0);
		ih->icmp6_cksum = csum_ipv6_magic(&outer->saddr, &outer->daddr,
						  len, IPPROTO_ICMPV6, csum);
	}
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/*
 * An ICMP error to a VIP: NF_ACCEPT if it is about no flow of klb's,
 * otherwise sent on to the flow's backend (or dropped, counted).
 */
unsigned int klb_icmp_in(struct net *net, struct sk_buff *skb, u16 family)
{
	struct klb_net *kn = klb_net(net);
	struct klb_icmp_quote q;
	const struct klb_snapshot *snap;
	struct klb_service_key key;
	struct klb_service *svc;
	struct klb_backend *be;
	struct klb_flow *flow;

	if (family == AF_INET ? !klb_icmp4_quote(skb, &q) :
				!klb_icmp6_quote(skb, &q))
		return NF_ACCEPT;
	flow = klb_flow_lookup(kn, &q.flow);
	if (!flow)
		return NF_ACCEPT;
	memset(&key, 0, sizeof(key));
	key.family = family;
	key.proto = q.flow.proto;
	key.addr = q.flow.daddr;
	key.port = q.flow.dport;
	svc = klb_service_find(kn, &key);
	snap = svc ? rcu_dereference(svc->snap) : NULL;
	if (!snap)
		return NF_ACCEPT;
	be = klb_flow_backend(flow);
	if (snap->conf.fwd == KLB_FWD_TUNNEL) {
		klb_tunnel_xmit(net, skb, be, svc->stats);
		return NF_STOLEN;
	}
	if (klb_icmp_nat(skb, &q, be)) {
		klb_stats_inc(svc->stats, KLB_STATS_A_DROP_ERROR);
		return NF_DROP;
	}
	skb_dst_drop(skb);
	return NF_ACCEPT;
}
