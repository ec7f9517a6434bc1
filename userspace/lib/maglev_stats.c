// SPDX-License-Identifier: GPL-2.0
/* Measures of a table: entries moved between two tables, and balance. */
#include <stdlib.h>

#include "lib/maglev_internal.h"

size_t maglev_table_moved(const uint16_t *a, const uint16_t *b, uint32_t m)
{
	size_t moved = 0;
	uint32_t s;

	for (s = 0; s < m; s++)
		moved += a[s] != b[s];
	return moved;
}

double maglev_table_balance(const uint16_t *table, uint32_t m,
			    const struct maglev_backend *backends, size_t n,
			    double *max_dev)
{
	uint32_t *count = calloc(KLB_BACKEND_ID_MAX + 2, sizeof(*count));
	double worst = 0, dev = 0, total = 0;
	uint32_t s;
	size_t i;

	if (!count)
		return -1;
	for (s = 0; s < m; s++)
		count[table[s]]++;
	for (i = 0; i < n; i++)
		if (maglev_backend_active(&backends[i]))
			total += backends[i].weight;
	for (i = 0; i < n && total > 0; i++) {
		double fair, held = count[backends[i].id];

		if (!maglev_backend_active(&backends[i]))
			continue;
		fair = m * (backends[i].weight / total);
		if (held / fair > worst)
			worst = held / fair;
		if (held - fair > dev)
			dev = held - fair;
		if (fair - held > dev)
			dev = fair - held;
	}
	free(count);
	if (max_dev)
		*max_dev = dev;
	return worst;
}
