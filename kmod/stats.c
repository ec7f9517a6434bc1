// SPDX-License-Identifier: GPL-2.0
/*
 * Counters of services and backends: per CPU, so that the packet path
 * never writes a shared cache line, and summed when someone reads them.
 */

#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "klb.h"

/* A page per CPU at most, so that blocks fit the per-CPU allocator's units. */
#define KLB_STATS_BLOCK_MAX	(PAGE_SIZE / sizeof(struct klb_pcpu_stats))

static size_t klb_stats_block_bytes(u32 size)
{
	return sizeof(struct klb_stats_block) +
	       array3_size(num_possible_cpus(), size,
			   sizeof(struct klb_pcpu_stats));
}

static struct klb_stats_block *klb_stats_block_alloc(struct klb_mem *mem,
						     u32 size)
{
	struct klb_stats_block *block;
	int err;

	if (mem) {
		err = klb_mem_charge(mem, klb_stats_block_bytes(size));
		if (err)
			return ERR_PTR(err);
	}
	block = kzalloc(sizeof(*block), GFP_KERNEL_ACCOUNT);
	if (!block)
		goto err;
	block->pcpu = __alloc_percpu_gfp(size * sizeof(struct klb_pcpu_stats),
					 __alignof__(struct klb_pcpu_stats),
					 GFP_KERNEL_ACCOUNT);
	if (!block->pcpu) {
		kfree(block);
		goto err;
	}
	refcount_set(&block->ref, 1);
	block->size = size;
	block->mem = mem;
	return block;

err:
	if (mem)
		klb_mem_uncharge(mem, klb_stats_block_bytes(size));
	return ERR_PTR(-ENOMEM);
}

static void klb_stats_block_put(struct klb_stats_block *block)
{
	if (!block || !refcount_dec_and_test(&block->ref))
		return;
	free_percpu(block->pcpu);
	if (block->mem)
		klb_mem_uncharge(block->mem, klb_stats_block_bytes(block->size));
	kfree(block);
}

/*
 * @wanted is how many counters the request will take: blocks are cut to
 * it, so a request of one backend costs what it did before blocks.
 */
void klb_stats_source_init(struct klb_stats_source *src, struct klb_mem *mem,
			   u32 wanted)
{
	src->mem = mem;
	src->block = NULL;
	src->used = 0;
	src->wanted = wanted;
}

/* Counters for one more object, zeroed; charged to @src's account. */
int klb_stats_take(struct klb_stats_source *src, struct klb_stats *stats)
{
	struct klb_stats_block *block = src->block;

	if (!block || src->used == block->size) {
		u32 size = clamp_t(u32, src->wanted, 1, KLB_STATS_BLOCK_MAX);

		block = klb_stats_block_alloc(src->mem, size);
		if (IS_ERR(block))
			return PTR_ERR(block);
		klb_stats_block_put(src->block);
		src->block = block;
		src->used = 0;
		src->wanted -= min(src->wanted, size);
	}
	refcount_set(&stats->ref, 1);
	refcount_inc(&block->ref);
	stats->block = block;
	stats->pcpu = block->pcpu + src->used++;
	return 0;
}

/* Of counters that are part of their object, once no reader can see it. */
void klb_stats_drop(struct klb_stats *stats)
{
	klb_stats_block_put(stats->block);
}

/* What the request did not take is freed with the block's last user. */
void klb_stats_source_release(struct klb_stats_source *src)
{
	klb_stats_block_put(src->block);
	src->block = NULL;
}

/* A service's counters: a block of their own, not charged (as services). */
struct klb_stats *klb_stats_alloc(void)
{
	struct klb_stats_source src;
	struct klb_stats *stats;

	stats = kzalloc(sizeof(*stats), GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	klb_stats_source_init(&src, NULL, 1);
	if (klb_stats_take(&src, stats)) {
		kfree(stats);
		stats = NULL;
	}
	klb_stats_source_release(&src);
	return stats;
}

static void klb_stats_free_rcu(struct rcu_head *head)
{
	struct klb_stats *stats = container_of(head, struct klb_stats, rcu);

	klb_stats_drop(stats);
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
