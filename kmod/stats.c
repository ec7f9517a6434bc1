// SPDX-License-Identifier: GPL-2.0
/*
 * Counters of services and backends: per CPU, so that the packet path
 * never writes a shared cache line, and summed when someone reads them.
 */

#include <linux/percpu.h>
#include <linux/slab.h>

#include "klb.h"

struct klb_stats *klb_stats_alloc(void)
{
	struct klb_stats *stats;

	stats = kzalloc(sizeof(*stats), GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	stats->pcpu = alloc_percpu_gfp(struct klb_pcpu_stats,
				       GFP_KERNEL_ACCOUNT);
	if (!stats->pcpu) {
		kfree(stats);
		return NULL;
	}
	refcount_set(&stats->ref, 1);
	return stats;
}

static void klb_stats_free_rcu(struct rcu_head *head)
{
	struct klb_stats *stats = container_of(head, struct klb_stats, rcu);

	free_percpu(stats->pcpu);
	kfree(stats);
}

void klb_stats_put(struct klb_stats *stats)
{
	if (stats && refcount_dec_and_test(&stats->ref))
		call_rcu(&stats->rcu, klb_stats_free_rcu);
}

/* Sums over the CPUs; a counter read while it moves is off by in-flight. */
void klb_stats_read(const struct klb_stats *stats, u64 *ctr, s64 *active)
{
	int cpu, i;

	memset(ctr, 0, KLB_NR_COUNTERS * sizeof(*ctr));
	*active = 0;
	for_each_possible_cpu(cpu) {
		const struct klb_pcpu_stats *p = per_cpu_ptr(stats->pcpu, cpu);

		for (i = 0; i < KLB_NR_COUNTERS; i++)
			ctr[i] += READ_ONCE(p->ctr[i]);
		*active += READ_ONCE(p->active);
	}
	if (*active < 0)
		*active = 0;
}

/* Active flows alone: what wlc and maglev-bounded compare. */
s64 klb_stats_active(const struct klb_stats *stats)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(stats->pcpu, cpu)->active);
	return sum > 0 ? sum : 0;
}
