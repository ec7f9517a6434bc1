// SPDX-License-Identifier: GPL-2.0
/*
 * klb: an L4 load balancer for Linux gateways. Module init and exit, limits,
 * and the per network namespace state.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/netns/generic.h>

#include "klb.h"

unsigned int klb_max_services = 65536;
module_param_named(max_services, klb_max_services, uint, 0644);
MODULE_PARM_DESC(max_services, "Most services per network namespace");

unsigned int klb_max_backends = 4096;
module_param_named(max_backends, klb_max_backends, uint, 0644);
MODULE_PARM_DESC(max_backends, "Most backends per service (at most 65535)");

unsigned int klb_max_table_size = KLB_TABLE_SIZE_LIMIT;
module_param_named(max_table_size, klb_max_table_size, uint, 0644);
MODULE_PARM_DESC(max_table_size, "Largest Maglev table size (at most 1048573)");

unsigned int klb_max_txns = 64;
module_param_named(max_txns, klb_max_txns, uint, 0644);
MODULE_PARM_DESC(max_txns, "Most open transactions per network namespace");

unsigned long klb_max_netns_memory = 256UL << 20;
module_param_named(max_netns_memory, klb_max_netns_memory, ulong, 0644);
MODULE_PARM_DESC(max_netns_memory, "Most bytes of configuration (snapshots, tables, backends) per network namespace");

unsigned int klb_max_flows = 1000000;
module_param_named(max_flows, klb_max_flows, uint, 0644);
MODULE_PARM_DESC(max_flows, "Most flows per network namespace; past it, new flows go without an entry");

unsigned int klb_flow_buckets = 65536;
module_param_named(flow_buckets, klb_flow_buckets, uint, 0444);
MODULE_PARM_DESC(flow_buckets, "Flow table buckets per network namespace (a power of 2)");

/* Seconds a flow lives without a packet, by state (enum klb_flow_state). */
unsigned int klb_flow_timeout[KLB_FLOW_STATE_MAX + 1] = {
	[KLB_FLOW_SYN] = 30,
	[KLB_FLOW_ESTABLISHED] = 900,
	[KLB_FLOW_CLOSING] = 60,
	[KLB_FLOW_CLOSED] = 10,
	[KLB_FLOW_UDP] = 300,
};
module_param_named(timeout_syn, klb_flow_timeout[KLB_FLOW_SYN], uint, 0644);
MODULE_PARM_DESC(timeout_syn, "Seconds a TCP flow lives in its handshake");
module_param_named(timeout_established, klb_flow_timeout[KLB_FLOW_ESTABLISHED],
		   uint, 0644);
MODULE_PARM_DESC(timeout_established, "Seconds an idle established TCP flow lives");
module_param_named(timeout_closing, klb_flow_timeout[KLB_FLOW_CLOSING], uint,
		   0644);
MODULE_PARM_DESC(timeout_closing, "Seconds a TCP flow lives after a FIN");
module_param_named(timeout_closed, klb_flow_timeout[KLB_FLOW_CLOSED], uint,
		   0644);
MODULE_PARM_DESC(timeout_closed, "Seconds a TCP flow lives after a RST");
module_param_named(timeout_udp, klb_flow_timeout[KLB_FLOW_UDP], uint, 0644);
MODULE_PARM_DESC(timeout_udp, "Seconds an idle UDP flow lives");

static unsigned int klb_net_id __read_mostly;

struct klb_net *klb_net(const struct net *net)
{
	return net_generic(net, klb_net_id);
}

static int __net_init klb_net_init(struct net *net)
{
	struct klb_net *kn = klb_net(net);
	int err;

	kn->net = net;
	mutex_init(&kn->lock);
	xa_init_flags(&kn->services, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&kn->txns);
	klb_flows_prepare(kn);
	kn->mem = klb_mem_alloc();
	if (!kn->mem)
		return -ENOMEM;
	err = klb_services_init(kn);
	if (err)
		goto err_services;
	err = klb_hooks_register(net);
	if (err)
		goto err_hooks;
	return 0;

err_hooks:
	klb_services_destroy(kn);
err_services:
	klb_mem_put(kn->mem);
	return err;
}

static void __net_exit klb_net_exit(struct net *net)
{
	struct klb_net *kn = klb_net(net);

	/* No packet is in the hooks once this returns. */
	klb_hooks_unregister(net);
	mutex_lock(&kn->lock);
	klb_txn_abort_all(kn);
	klb_services_destroy(kn);
	klb_defrag_disable(kn);
	mutex_unlock(&kn->lock);
	klb_flows_destroy(kn);
	/* What is still charged holds the account until it is freed. */
	klb_mem_put(kn->mem);
}

static struct pernet_operations klb_net_ops = {
	.init = klb_net_init,
	.exit = klb_net_exit,
	.id = &klb_net_id,
	.size = sizeof(struct klb_net),
};

/* A transaction dies with the socket that began it. */
static int klb_netlink_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;
	struct klb_net *kn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	kn = klb_net(n->net);
	/*
	 * Every generic netlink socket of the system passes here; most have
	 * no transaction, and a closing socket cannot open one. Handlers of
	 * other sockets may add and remove their own transactions meanwhile
	 * (parallel_ops), but never this socket's: if it has one, the list
	 * is not empty whatever they do, so the unlocked test is safe.
	 */
	if (list_empty_careful(&kn->txns))
		return NOTIFY_DONE;
	mutex_lock(&kn->lock);
	klb_txn_abort_released(kn, n->portid);
	mutex_unlock(&kn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block klb_netlink_notifier = {
	.notifier_call = klb_netlink_event,
};

static int __init klb_init(void)
{
	int err;

	err = klb_flow_hash_selftest();
	if (err)
		return err;
	err = klb_flow_module_init();
	if (err)
		return err;
	err = register_pernet_subsys(&klb_net_ops);
	if (err)
		goto err_pernet;
	err = netlink_register_notifier(&klb_netlink_notifier);
	if (err)
		goto err_notifier;
	err = klb_genl_init();
	if (err)
		goto err_genl;
	return 0;

err_genl:
	netlink_unregister_notifier(&klb_netlink_notifier);
err_notifier:
	unregister_pernet_subsys(&klb_net_ops);
err_pernet:
	klb_flow_module_exit();
	return err;
}

static void __exit klb_exit(void)
{
	klb_genl_exit();
	netlink_unregister_notifier(&klb_netlink_notifier);
	unregister_pernet_subsys(&klb_net_ops);
	/* Snapshots, backends and flows are freed from RCU callbacks. */
	rcu_barrier();
	klb_flow_module_exit();
}

module_init(klb_init);
module_exit(klb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klb: L4 load balancer with Maglev and least-connections tables");
MODULE_AUTHOR("The klb developers");
MODULE_ALIAS_GENL_FAMILY(KLB_GENL_NAME);
