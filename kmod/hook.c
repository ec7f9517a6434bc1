// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: netfilter hooks that catch packets to a service and
 * steer them to a backend.
 *
 * PRE_ROUTING, right after defragmentation (which klb turns on in a netns
 * with services, so that a datagram's fragments are whole again) and before
 * conntrack: a packet to a service's (proto, VIP, port) finds its flow, or
 * gets a backend from the scheduler and a flow, and leaves as NAT (the
 * destination rewritten, routing then takes it to the backend) or as a
 * tunnel (encapsulated and sent here, the original consumed). The VIP need
 * not be a local address. Because this runs before conntrack, conntrack
 * and a stateful firewall see the connection as it really runs, client to
 * backend, and the backend's replies as its reply direction.
 *
 * POST_ROUTING, last before conntrack confirms: a NAT backend's reply gets
 * the VIP back as its source, after the firewall has judged the real one.
 *
 * Packets of no service cost a flag test (no service in the netns) or one
 * hash lookup. Everything runs under the RCU read lock netfilter holds;
 * nothing takes the netns's configuration lock.
 */

#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "klb.h"

struct klb_pkt {
	struct klb_tuple tuple;
	unsigned int l4off;
	u8 tcp_flags;
};

/* Reads the ports (and TCP flags) of a TCP or UDP packet at @l4off. */
static bool klb_parse_l4(struct sk_buff *skb, struct klb_pkt *p)
{
	struct tcphdr _th;
	const struct tcphdr *th;
	struct udphdr _uh;
	const struct udphdr *uh;

	if (p->tuple.proto == IPPROTO_TCP) {
		th = skb_header_pointer(skb, p->l4off, sizeof(_th), &_th);
		if (!th)
			return false;
		p->tuple.sport = th->source;
		p->tuple.dport = th->dest;
		p->tcp_flags = ((const u8 *)th)[13];
		return true;
	}
	if (p->tuple.proto == IPPROTO_UDP) {
		uh = skb_header_pointer(skb, p->l4off, sizeof(_uh), &_uh);
		if (!uh)
			return false;
		p->tuple.sport = uh->source;
		p->tuple.dport = uh->dest;
		p->tcp_flags = 0;
		return true;
	}
	return false;
}

static bool klb_parse4(struct sk_buff *skb, struct klb_pkt *p)
{
	const struct iphdr *iph = ip_hdr(skb);

	p->tuple.proto = 0;
	/* Fragments are reassembled before this hook; a stray one is not ours. */
	if (ip_is_fragment(iph))
		return false;
	memset(&p->tuple, 0, sizeof(p->tuple));
	p->tuple.family = AF_INET;
	p->tuple.proto = iph->protocol;
	p->tuple.saddr.v4 = iph->saddr;
	p->tuple.daddr.v4 = iph->daddr;
	p->l4off = skb_network_offset(skb) + ip_hdrlen(skb);
	return klb_parse_l4(skb, p);
}

static bool klb_parse6(struct sk_buff *skb, struct klb_pkt *p)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	__be16 frag_off;
	u8 nexthdr = ip6h->nexthdr;
	int off;

	p->tuple.proto = 0;
	off = ipv6_skip_exthdr(skb, skb_network_offset(skb) + sizeof(*ip6h),
			       &nexthdr, &frag_off);
	if (off < 0 || frag_off)
		return false;
	memset(&p->tuple, 0, sizeof(p->tuple));
	p->tuple.family = AF_INET6;
	p->tuple.proto = nexthdr;
	p->tuple.saddr.v6 = ip6h->saddr;
	p->tuple.daddr.v6 = ip6h->daddr;
	p->l4off = off;
	return klb_parse_l4(skb, p);
}

static struct klb_service *klb_service_of(struct klb_net *kn,
					  const struct klb_tuple *t)
{
	struct klb_service_key key;

	memset(&key, 0, sizeof(key));
	key.family = t->family;
	key.proto = t->proto;
	key.addr = t->daddr;
	key.port = t->dport;
	return klb_service_find(kn, &key);
}

static bool klb_tcp_syn(const struct klb_pkt *p)
{
	return p->tuple.proto == IPPROTO_TCP &&
	       (p->tcp_flags & (KLB_TCP_SYN | KLB_TCP_ACK)) == KLB_TCP_SYN;
}

/*
 * The backend for this packet's flow: its flow's, unless that backend is
 * gone, down or the connection is being opened again; else a new one.
 * NULL: drop (counted). ERR_PTR(-ECONNRESET): drop, and the client's TCP
 * connection should be reset.
 */
static struct klb_backend *klb_backend_for(struct klb_net *kn,
					   struct klb_service *svc,
					   const struct klb_snapshot *snap,
					   const struct klb_pkt *p)
{
	const struct klb_backend_slot *slot;
	struct klb_backend *be;
	struct klb_flow *flow;
	bool nat = snap->conf.fwd == KLB_FWD_NAT;
	bool resteer = false;

	flow = klb_flow_lookup(kn, &p->tuple);
	if (flow) {
		be = klb_flow_backend(flow);
		slot = klb_snapshot_slot(snap, be->id);
		if (slot && slot->backend == be &&
		    slot->state != KLB_BACKEND_DOWN &&
		    !(klb_tcp_syn(p) &&
		      (klb_flow_state(flow) == KLB_FLOW_CLOSING ||
		       klb_flow_state(flow) == KLB_FLOW_CLOSED))) {
			klb_flow_update(flow, p->tcp_flags, false);
			return be;
		}
		if (slot && slot->backend == be &&
		    slot->state == KLB_BACKEND_DOWN &&
		    (snap->conf.flags & KLB_SVC_F_DOWN_DROP)) {
			klb_stats_inc(svc->stats, KLB_STATS_A_DROP_DOWN);
			return p->tuple.proto == IPPROTO_TCP ?
			       ERR_PTR(-ECONNRESET) : NULL;
		}
		/* Removed, down (re-steer policy) or a new SYN on a closing flow. */
		klb_flow_kill(kn, flow);
		resteer = !klb_tcp_syn(p);
	}

	slot = klb_sched_pick(svc, snap, &p->tuple, false);
	if (!slot) {
		klb_stats_inc(svc->stats, KLB_STATS_A_DROP_NO_BACKEND);
		return NULL;
	}
	flow = klb_flow_create(kn, &p->tuple, slot->backend,
			       klb_flow_initial_state(p->tuple.proto,
						      p->tcp_flags), nat);
	if (IS_ERR(flow) && nat) {
		/* Its replies could not be translated back without an entry. */
		klb_stats_inc(svc->stats, KLB_STATS_A_DROP_TABLE_FULL);
		return NULL;
	}
	if (IS_ERR(flow)) {
		/* No entry: every packet of the flow must pick the same. */
		slot = klb_sched_pick(svc, snap, &p->tuple, true);
		if (!slot) {
			klb_stats_inc(svc->stats, KLB_STATS_A_DROP_NO_BACKEND);
			return NULL;
		}
		klb_stats_inc(svc->stats, KLB_STATS_A_FLOWS_STATELESS);
		return slot->backend;
	}
	be = klb_flow_backend(flow);
	if (be == slot->backend) {
		klb_stats_inc(svc->stats, KLB_STATS_A_FLOWS_NEW);
		klb_stats_inc(&be->stats, KLB_STATS_A_FLOWS_NEW);
		if (resteer)
			klb_stats_inc(svc->stats, KLB_STATS_A_FLOWS_RESTEERED);
	}
	return be;
}

/*
 * Tells the client at once that its connection to a down backend is over
 * (down policy drop), rather than leaving it to retransmit into a drop
 * until it times out. The reset comes from the VIP, the address the
 * client talks to, whichever the forwarding method. nf_reject sends
 * nothing in answer to a reset or a packet with a bad checksum.
 */
static void klb_send_reset(struct net *net, struct sk_buff *skb,
			   const struct klb_pkt *p)
{
	if (p->tuple.family == AF_INET)
		nf_send_reset(net, NULL, skb, NF_INET_PRE_ROUTING);
	else
		nf_send_reset6(net, NULL, skb, NF_INET_PRE_ROUTING);
}

static unsigned int klb_steer(struct net *net, struct sk_buff *skb,
			      const struct klb_pkt *p)
{
	struct klb_net *kn = klb_net(net);
	const struct klb_snapshot *snap;
	struct klb_service *svc;
	struct klb_backend *be;
	unsigned int len = skb->len;

	svc = klb_service_of(kn, &p->tuple);
	if (!svc)
		return NF_ACCEPT;
	snap = rcu_dereference(svc->snap);
	if (!snap)
		return NF_ACCEPT;
	be = klb_backend_for(kn, svc, snap, p);
	if (IS_ERR_OR_NULL(be)) {
		if (PTR_ERR(be) == -ECONNRESET)
			klb_send_reset(net, skb, p);
		return NF_DROP;
	}
	klb_stats_inc(svc->stats, KLB_STATS_A_PKTS_IN);
	klb_stats_add(svc->stats, KLB_STATS_A_BYTES_IN, len);
	klb_stats_inc(&be->stats, KLB_STATS_A_PKTS_IN);
	klb_stats_add(&be->stats, KLB_STATS_A_BYTES_IN, len);

	if (snap->conf.fwd == KLB_FWD_TUNNEL) {
		klb_tunnel_xmit(net, skb, be, svc->stats);
		return NF_STOLEN;
	}
	if (klb_nat_dst(skb, p->tuple.family, p->tuple.proto, p->l4off,
			&be->addr, be->port)) {
		klb_stats_inc(svc->stats, KLB_STATS_A_DROP_ERROR);
		return NF_DROP;
	}
	/* Route again, to the backend. */
	skb_dst_drop(skb);
	return NF_ACCEPT;
}

/* A NAT backend's reply: the VIP becomes its source again. */
static unsigned int klb_reply(struct net *net, struct sk_buff *skb,
			      const struct klb_pkt *p)
{
	struct klb_net *kn = klb_net(net);
	struct klb_backend *be;
	struct klb_flow *flow;
	union klb_addr vaddr;
	__be16 vport;
	unsigned int len = skb->len;

	flow = klb_flow_lookup_reply(kn, &p->tuple);
	if (!flow)
		return NF_ACCEPT;
	be = klb_flow_backend(flow);
	klb_flow_vip(flow, &vaddr, &vport);
	if (klb_nat_src(skb, p->tuple.family, p->tuple.proto, p->l4off,
			&vaddr, vport)) {
		klb_stats_inc(be->svc_stats, KLB_STATS_A_DROP_ERROR);
		return NF_DROP;
	}
	klb_flow_update(flow, p->tcp_flags, true);
	klb_stats_inc(be->svc_stats, KLB_STATS_A_PKTS_OUT);
	klb_stats_add(be->svc_stats, KLB_STATS_A_BYTES_OUT, len);
	klb_stats_inc(&be->stats, KLB_STATS_A_PKTS_OUT);
	klb_stats_add(&be->stats, KLB_STATS_A_BYTES_OUT, len);
	return NF_ACCEPT;
}

static bool klb_net_active(struct net *net)
{
	return READ_ONCE(klb_net(net)->nr_services);
}

static unsigned int klb_in4(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct klb_pkt p;

	if (!klb_net_active(state->net))
		return NF_ACCEPT;
	if (!klb_parse4(skb, &p))
		return p.tuple.proto == IPPROTO_ICMP ?
		       klb_icmp_in(state->net, skb, AF_INET) : NF_ACCEPT;
	return klb_steer(state->net, skb, &p);
}

static unsigned int klb_out4(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct klb_pkt p;

	if (!klb_net_active(state->net) || !klb_parse4(skb, &p))
		return NF_ACCEPT;
	return klb_reply(state->net, skb, &p);
}

static unsigned int klb_in6(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct klb_pkt p;

	if (!klb_net_active(state->net))
		return NF_ACCEPT;
	if (!klb_parse6(skb, &p))
		return p.tuple.proto == IPPROTO_ICMPV6 ?
		       klb_icmp_in(state->net, skb, AF_INET6) : NF_ACCEPT;
	return klb_steer(state->net, skb, &p);
}

static unsigned int klb_out6(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct klb_pkt p;

	if (!klb_net_active(state->net) || !klb_parse6(skb, &p))
		return NF_ACCEPT;
	return klb_reply(state->net, skb, &p);
}

static const struct nf_hook_ops klb_nf_ops[] = {
	{
		.hook = klb_in4,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK_DEFRAG + 1,
	},
	{
		.hook = klb_out4,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK_CONFIRM - 1,
	},
	{
		.hook = klb_in6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP6_PRI_CONNTRACK_DEFRAG + 1,
	},
	{
		.hook = klb_out6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_LAST - 1,
	},
};

int klb_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, klb_nf_ops, ARRAY_SIZE(klb_nf_ops));
}

/* Waits for the packets in the hooks (synchronize_net()) before it returns. */
void klb_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, klb_nf_ops, ARRAY_SIZE(klb_nf_ops));
}

/* Reassembly, once a netns has a service (it costs every other packet). */
int klb_defrag_enable(struct klb_net *kn)
{
	int err;

	lockdep_assert_held(&kn->lock);
	if (kn->defrag)
		return 0;
	err = nf_defrag_ipv4_enable(kn->net);
	if (err)
		return err;
	err = nf_defrag_ipv6_enable(kn->net);
	if (err) {
		nf_defrag_ipv4_disable(kn->net);
		return err;
	}
	kn->defrag = true;
	return 0;
}

void klb_defrag_disable(struct klb_net *kn)
{
	if (!kn->defrag)
		return;
	nf_defrag_ipv4_disable(kn->net);
	nf_defrag_ipv6_disable(kn->net);
	kn->defrag = false;
}
