/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure part of health checking, apart from the probes so that tests
 * can drive it: one gateway's verdict on one backend from its probe
 * results (rise and fall in a row), and the cluster's from the
 * gateways' verdicts (a majority).
 */
#ifndef KLBD_HEALTH_H
#define KLBD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* One gateway's view of one backend. */
struct health_obs {
	bool failing;		/* the verdict: unhealthy from here */
	uint8_t run;		/* results in a row that disagree with it */
	uint64_t probes, failures;
};

/*
 * Counts one probe result. A backend starts healthy; fall failures in a
 * row make it failing, rise successes in a row healthy again. Returns
 * true when the verdict changed.
 */
bool health_observe(struct health_obs *h, bool ok, uint8_t rise,
		    uint8_t fall);

/*
 * The cluster's verdict: down when a majority of the voters see the
 * backend failing. failing is a set of voters (bit i: the i-th voter);
 * a voter that never said anything counts as seeing it healthy, so a
 * gateway that is down itself cannot fail a backend over.
 */
bool health_majority_down(uint32_t failing, unsigned int voters);

#endif
