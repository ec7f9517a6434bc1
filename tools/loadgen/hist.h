/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A latency histogram in the manner of HdrHistogram: buckets double in
 * width and each is split in LG_HIST_SUB linear sub-buckets, so every
 * recorded value is known to within 1/LG_HIST_SUB (about 6%) of itself,
 * from a nanosecond to hours, in a fixed few kilobytes.
 */
#ifndef KLB_LOADGEN_HIST_H
#define KLB_LOADGEN_HIST_H

#include <stdint.h>

#define LG_HIST_SUB_BITS	4
#define LG_HIST_SUB		(1u << LG_HIST_SUB_BITS)
#define LG_HIST_BUCKETS		((64 - LG_HIST_SUB_BITS + 1) * LG_HIST_SUB)

struct lg_hist {
	uint64_t counts[LG_HIST_BUCKETS];
	uint64_t total;
	uint64_t max;
	uint64_t sum;
};

void lg_hist_record(struct lg_hist *hist, uint64_t value);
/* The value at or below which a fraction q (0..1) of records fall. */
uint64_t lg_hist_quantile(const struct lg_hist *hist, double q);

#endif /* KLB_LOADGEN_HIST_H */
