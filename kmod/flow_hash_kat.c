// SPDX-License-Identifier: GPL-2.0
/*
 * The flow hash's known answers (klb/flow_hash_kat.h), checked when the
 * module loads. klbd and klbctl predict where a flow goes, and gateways
 * promise identical steering, only because this module computes the same
 * hash and slots as userspace from the same header. A mismatch comes from
 * the build (compiler, byte order), not from anything at run time, so the
 * module refuses to load rather than steer flows differently.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/printk.h>
#include <klb/flow_hash_kat.h>
#include <klb/maglev.h>

#include "klb.h"

static bool __init klb_flow_kat_holds(const struct klb_flow_kat *v,
				      const struct klb_hash_seed *seeds)
{
	struct klb_flow_key key = {};
	u64 hash = v->hash[0][0];
	int s, i, k;

	klb_flow_kat_key(v, &key);
	for (s = 0; s < KLB_FLOW_KAT_SEEDS; s++)
		if (klb_flow_hash(&key, &seeds[s], false) != v->hash[s][0] ||
		    klb_flow_hash(&key, &seeds[s], true) != v->hash[s][1])
			return false;
	for (i = 0; i < KLB_FLOW_KAT_SIZES; i++) {
		u32 m = klb_flow_kat_sizes[i];

		if (klb_maglev_slot(hash, m) != v->slot[i][0])
			return false;
		for (k = 1; k <= KLB_FLOW_KAT_PROBES; k++)
			if (klb_maglev_probe(hash, k, m) != v->slot[i][k])
				return false;
	}
	return true;
}

int __init klb_flow_hash_selftest(void)
{
	struct klb_hash_seed seeds[KLB_FLOW_KAT_SEEDS];
	size_t f;
	int s;

	for (s = 0; s < KLB_FLOW_KAT_SEEDS; s++)
		klb_hash_seed_from_bytes(&seeds[s], klb_flow_kat_seeds[s]);
	for (f = 0; f < ARRAY_SIZE(klb_flow_kats); f++) {
		if (!klb_flow_kat_holds(&klb_flow_kats[f], seeds)) {
			pr_err("flow hash known answer %zu is wrong: this build would steer flows unlike userspace\n",
			       f);
			return -ENOTRECOVERABLE;
		}
	}
	return 0;
}
