// SPDX-License-Identifier: GPL-2.0
/* Verdicts from probe results and from the gateways' verdicts (health.h). */
#include "klbd/health.h"

bool health_observe(struct health_obs *h, bool ok, uint8_t rise,
		    uint8_t fall)
{
	h->probes++;
	if (!ok)
		h->failures++;
	if (ok != h->failing) {
		/* Agrees with the verdict: a streak against it is broken. */
		h->run = 0;
		return false;
	}
	if (h->run < UINT8_MAX)
		h->run++;
	if (h->run < (h->failing ? rise : fall))
		return false;
	h->failing = !h->failing;
	h->run = 0;
	return true;
}

bool health_majority_down(uint32_t failing, unsigned int voters)
{
	unsigned int n = __builtin_popcount(failing);

	return voters && n >= voters / 2 + 1;
}
