// SPDX-License-Identifier: GPL-2.0
/*
 * The log-linear histogram. Values below LG_HIST_SUB have a bucket each;
 * above, a value with its top bit at position k lands in the group k and
 * the sub-bucket given by the LG_HIST_SUB_BITS bits below the top one.
 */

#include "hist.h"

static unsigned int bucket_of(uint64_t value)
{
	unsigned int top, shift;

	if (value < LG_HIST_SUB)
		return (unsigned int)value;
	top = 63 - __builtin_clzll(value);
	shift = top - LG_HIST_SUB_BITS;
	return (shift + 1) * LG_HIST_SUB +
	       (unsigned int)((value >> shift) & (LG_HIST_SUB - 1));
}

/* The largest value that lands in a bucket: quantiles err on the high side. */
static uint64_t bucket_top(unsigned int bucket)
{
	unsigned int group = bucket / LG_HIST_SUB, sub = bucket % LG_HIST_SUB;
	unsigned int shift;

	if (group == 0)
		return bucket;
	shift = group - 1;
	return (((uint64_t)(LG_HIST_SUB + sub + 1)) << shift) - 1;
}

void lg_hist_record(struct lg_hist *hist, uint64_t value)
{
	hist->counts[bucket_of(value)]++;
	hist->total++;
	hist->sum += value;
	if (value > hist->max)
		hist->max = value;
}

uint64_t lg_hist_quantile(const struct lg_hist *hist, double q)
{
	uint64_t rank, seen = 0;
	unsigned int i;

	if (!hist->total)
		return 0;
	/* The smallest value with at least q of all records at or below it. */
	rank = (uint64_t)(q * (double)hist->total + 0.999999);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < LG_HIST_BUCKETS; i++) {
		seen += hist->counts[i];
		if (seen >= rank)
			return bucket_top(i) < hist->max ? bucket_top(i) : hist->max;
	}
	return hist->max;
}
