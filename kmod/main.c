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

static unsigned int klb_net_id __read_mostly;

struct klb_net *klb_net(const struct net *net)
{
	return net_generic(net, klb_net_id);
}

static int __net_init klb_net_init(struct net *net)
{
	struct klb_net *kn = klb_net(net);

	kn->net = net;
	mutex_init(&kn->lock);
	xa_init_flags(&kn->services, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&kn->txns);
	return klb_services_init(kn);
}

static void __net_exit klb_net_exit(struct net *net)
{
	struct klb_net *kn = klb_net(net);

	mutex_lock(&kn->lock);
	klb_txn_abort_all(kn);
	klb_services_destroy(kn);
	mutex_unlock(&kn->lock);
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
	return err;
}

static void __exit klb_exit(void)
{
	klb_genl_exit();
	netlink_unregister_notifier(&klb_netlink_notifier);
	unregister_pernet_subsys(&klb_net_ops);
	/* Snapshots and backends are freed from RCU callbacks. */
	rcu_barrier();
}

module_init(klb_init);
module_exit(klb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klb: L4 load balancer with Maglev and least-connections tables");
MODULE_AUTHOR("The klb developers");
MODULE_ALIAS_GENL_FAMILY(KLB_GENL_NAME);
