// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration memory a netns makes the module hold: snapshots,
 * tables, wheels and backends are charged here when they are allocated and
 * uncharged when they are freed, against the max_netns_memory limit.
 *
 * Most frees run in RCU callbacks, and some after the netns is gone (a
 * backend waits for the flow table's last sweep, a snapshot for readers):
 * every charged object holds a reference on the account, which outlives
 * the netns until the last of them is freed.
 */

#include <linux/slab.h>

#include "klb.h"

struct klb_mem *klb_mem_alloc(void)
{
	struct klb_mem *mem;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return NULL;
	refcount_set(&mem->ref, 1);
	atomic64_set(&mem->used, 0);
	atomic64_set(&mem->refusals, 0);
	return mem;
}

void klb_mem_put(struct klb_mem *mem)
{
	if (mem && refcount_dec_and_test(&mem->ref))
		kfree(mem);
}

/*
 * Writers are serialized per netns, but frees run concurrently and only
 * lower the figure: adding first and backing out on excess never lets two
 * charges both pass on room that only one of them had.
 */
int klb_mem_charge(struct klb_mem *mem, size_t bytes)
{
	u64 limit = READ_ONCE(klb_max_netns_memory);

	if (atomic64_add_return(bytes, &mem->used) > limit) {
		atomic64_sub(bytes, &mem->used);
		atomic64_inc(&mem->refusals);
		return -ENOSPC;
	}
	refcount_inc(&mem->ref);
	return 0;
}

void klb_mem_uncharge(struct klb_mem *mem, size_t bytes)
{
	atomic64_sub(bytes, &mem->used);
	klb_mem_put(mem);
}

/* Says for people why an allocation for a write failed; returns @err. */
int klb_mem_error(struct netlink_ext_ack *extack, int err)
{
	if (err == -ENOSPC)
		NL_SET_ERR_MSG(extack, "netns config memory at its limit (max_netns_memory)");
	else if (err == -ENOMEM)
		NL_SET_ERR_MSG(extack, "out of memory");
	return err;
}
