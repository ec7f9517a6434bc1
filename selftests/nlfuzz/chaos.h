/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What happens around the workers: credentials dropped, network namespaces
 * deleted under them, the module unloaded and loaded again.
 */

#ifndef NLFUZZ_CHAOS_H
#define NLFUZZ_CHAOS_H

#include <sys/types.h>

#include "rng.h"
#include "run.h"

/* CAP_NET_ADMIN out of this thread's effective and permitted sets. */
int nlf_drop_net_admin(void);
/* uid and gid 65534, no groups, no capabilities: the whole process. */
int nlf_become_nobody(void);

int nlf_module_load(void);

/*
 * Tries rmmod now and then until the run stops: it must succeed or say
 * the module is busy. After an unload the module is loaded again, and the
 * epoch tells the workers to find the family anew.
 */
void nlf_rmmod_loop(struct nlf_run *run, struct nlf_rng *r);

/*
 * Forks a process that keeps forking workers into fresh network
 * namespaces and kills each after a while, so that the namespace goes
 * away with its sockets, transactions and dumps while being fuzzed. Half
 * of them are nobody in a user namespace of their own, CAP_NET_ADMIN over
 * their netns only. Their counts go to @slot.
 */
pid_t nlf_spawn_netns_killer(struct nlf_run *run, unsigned int slot);

#endif /* NLFUZZ_CHAOS_H */
