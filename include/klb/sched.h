/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What a scheduler and a backend's state mean, stated once for klb.ko and
 * for userspace: the kernel decides with these where a new flow may go,
 * and userspace decides with the same rules which backends get table
 * entries and whether a service needs a table at all. Were the two to
 * disagree, a table could name a backend the fast path refuses, or leave
 * out one it would pick.
 */

#ifndef _KLB_SCHED_H
#define _KLB_SCHED_H

#include <klb/types.h>
#include <uapi/linux/klb.h>

/* The scheduler picks through a Maglev table that userspace computes. */
static inline bool klb_sched_is_maglev(u8 sched)
{
	return sched == KLB_SCHED_MAGLEV || sched == KLB_SCHED_MAGLEV_BOUNDED;
}

/*
 * A backend in this state with this weight takes new flows (and, under
 * Maglev, table entries): up with a weight above 0. Drain, down and weight
 * 0 keep the flows they have and take no new one.
 */
static inline bool klb_backend_takes_new_flows(u8 state, u32 weight)
{
	return state == KLB_BACKEND_UP && weight > 0;
}

#endif /* _KLB_SCHED_H */
