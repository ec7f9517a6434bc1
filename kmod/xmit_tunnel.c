// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnel: the client's packet, whole, inside an outer IPv4 (IPIP) or IPv6
 * (IP6IP6) header to the backend, which decapsulates it with a standard
 * ipip/ip6tnl device, owns the VIP and answers the client directly (direct
 * server return). The outer source is the address the route to the backend
 * chooses.
 *
 * A packet that would not fit the path to the backend once encapsulated
 * gets the client an ICMP "fragmentation needed" / "packet too big" with
 * the MTU left for the inner packet, as a router on the path would send.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ip6_tunnel.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "klb.h"

static bool klb_too_big(const struct sk_buff *skb, unsigned int mtu)
{
	if (skb->len <= mtu)
		return false;
	return !(skb_is_gso(skb) && skb_gso_validate_network_len(skb, mtu));
}

static int klb_tunnel_xmit4(struct net *net, struct sk_buff *skb,
			    const struct klb_backend *be,
			    struct klb_stats *svc_stats)
{
	const struct iphdr *inner = ip_hdr(skb);
	u8 tos = inner->tos, ttl = inner->ttl;
	__be16 df = inner->frag_off & htons(IP_DF);
	struct flowi4 fl4 = {
		.daddr = be->addr.v4,
		.flowi4_proto = IPPROTO_IPIP,
		.flowi4_tos = RT_TOS(tos),
	};
	struct rtable *rt;
	unsigned int mtu;

	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_NO_ROUTE);
		goto drop;
	}
	mtu = dst_mtu(&rt->dst) - sizeof(struct iphdr);
	if (df && klb_too_big(skb, mtu)) {
		/* icmp_send() answers along the route of the packet it quotes. */
		skb_dst_drop(skb);
		skb_dst_set(skb, &rt->dst);
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_MTU);
		goto drop;
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			      sizeof(struct iphdr)) ||
	    iptunnel_handle_offloads(skb, SKB_GSO_IPXIP4)) {
		ip_rt_put(rt);
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_ERROR);
		goto drop;
	}
	skb_set_inner_ipproto(skb, IPPROTO_IPIP);
	skb_dst_drop(skb);
	/* No tunnel device: nothing to account the packet to. */
	skb->dev = NULL;
	iptunnel_xmit(NULL, rt, skb, fl4.saddr, be->addr.v4, IPPROTO_IPIP,
		      tos, ttl, df, false);
	return 0;

drop:
	kfree_skb(skb);
	return -EHOSTUNREACH;
}

static int klb_tunnel_xmit6(struct net *net, struct sk_buff *skb,
			    const struct klb_backend *be,
			    struct klb_stats *svc_stats)
{
	const struct ipv6hdr *inner = ipv6_hdr(skb);
	u8 dsfield = ipv6_get_dsfield(inner), hop_limit = inner->hop_limit;
	__be32 flowlabel = ip6_flowlabel(inner);
	struct flowi6 fl6 = {
		.daddr = be->addr.v6,
		.flowi6_proto = IPPROTO_IPV6,
	};
	struct dst_entry *dst;
	struct ipv6hdr *outer;
	unsigned int mtu;

	if (ip6_dst_lookup(net, NULL, &dst, &fl6)) {
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_NO_ROUTE);
		goto drop;
	}
	mtu = max_t(int, dst_mtu(dst) - sizeof(struct ipv6hdr), IPV6_MIN_MTU);
	if (klb_too_big(skb, mtu)) {
		skb_dst_drop(skb);
		skb_dst_set(skb, dst);
		icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_MTU);
		goto drop;
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(dst->dev) +
			      sizeof(struct ipv6hdr)) ||
	    iptunnel_handle_offloads(skb, SKB_GSO_IPXIP6)) {
		dst_release(dst);
		klb_stats_inc(svc_stats, KLB_STATS_A_DROP_ERROR);
		goto drop;
	}
	skb_set_inner_ipproto(skb, IPPROTO_IPV6);
	skb_scrub_packet(skb, false);
	skb_clear_hash_if_not_l4(skb);
	skb_dst_set(skb, dst);
	skb_push(skb, sizeof(struct ipv6hdr));
	skb_reset_network_header(skb);
	outer = ipv6_hdr(skb);
	ip6_flow_hdr(outer, dsfield, flowlabel);
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = hop_limit;
	outer->saddr = fl6.saddr;
	outer->daddr = be->addr.v6;
	skb->protocol = htons(ETH_P_IPV6);
	skb->dev = NULL;
	ip6tunnel_xmit(NULL, skb, NULL);
	return 0;

drop:
	kfree_skb(skb);
	return -EHOSTUNREACH;
}

/* Consumes @skb, sent or dropped (counted). */
int klb_tunnel_xmit(struct net *net, struct sk_buff *skb,
		    const struct klb_backend *be, struct klb_stats *svc_stats)
{
	if (be->family == AF_INET)
		return klb_tunnel_xmit4(net, skb, be, svc_stats);
	return klb_tunnel_xmit6(net, skb, be, svc_stats);
}
