// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "raft/progress.h"

void inflights_init(struct inflights *in, uint32_t max_count, uint64_t max_bytes)
{
	memset(in, 0, sizeof(*in));
	if (max_count == 0 || max_count > INFLIGHTS_MAX)
		max_count = INFLIGHTS_MAX;
	in->max_count = max_count;
	in->max_bytes = max_bytes;
}

void inflights_reset(struct inflights *in)
{
	in->start = 0;
	in->count = 0;
	in->bytes = 0;
}

bool inflights_full(const struct inflights *in)
{
	return in->count >= in->max_count || (in->max_bytes && in->bytes >= in->max_bytes);
}

void inflights_add(struct inflights *in, uint64_t index, uint64_t bytes)
{
	uint32_t slot;

	if (in->count >= INFLIGHTS_MAX)
		return;	/* callers check inflights_full() first */
	slot = (in->start + in->count) % INFLIGHTS_MAX;
	in->index[slot] = index;
	in->size[slot] = bytes;
	in->count++;
	in->bytes += bytes;
}

void inflights_free_to(struct inflights *in, uint64_t index)
{
	while (in->count && in->index[in->start] <= index) {
		in->bytes -= in->size[in->start];
		in->start = (in->start + 1) % INFLIGHTS_MAX;
		in->count--;
	}
	if (!in->count)
		in->start = 0;
}

void inflights_free_first(struct inflights *in)
{
	if (in->count)
		inflights_free_to(in, in->index[in->start]);
}

void progress_init(struct progress *pr, uint64_t id, uint64_t next, uint32_t max_msgs,
		   uint64_t max_bytes)
{
	memset(pr, 0, sizeof(*pr));
	pr->id = id;
	pr->next = next;
	pr->state = PROGRESS_PROBE;
	inflights_init(&pr->inflights, max_msgs, max_bytes);
}

static void progress_reset_state(struct progress *pr, enum progress_state s)
{
	pr->state = s;
	pr->probe_sent = false;
	pr->pending_snapshot = 0;
	pr->snap_offset = 0;
	inflights_reset(&pr->inflights);
}

void progress_become_probe(struct progress *pr)
{
	/* After a snapshot, resume right after it (or after match if newer). */
	if (pr->state == PROGRESS_SNAPSHOT) {
		uint64_t snap = pr->pending_snapshot;

		progress_reset_state(pr, PROGRESS_PROBE);
		pr->next = (pr->match > snap ? pr->match : snap) + 1;
		return;
	}
	progress_reset_state(pr, PROGRESS_PROBE);
	pr->next = pr->match + 1;
}

void progress_become_replicate(struct progress *pr)
{
	progress_reset_state(pr, PROGRESS_REPLICATE);
	pr->next = pr->match + 1;
}

void progress_become_snapshot(struct progress *pr, uint64_t snap_index)
{
	progress_reset_state(pr, PROGRESS_SNAPSHOT);
	pr->pending_snapshot = snap_index;
}

bool progress_maybe_update(struct progress *pr, uint64_t index)
{
	bool updated = false;

	if (pr->match < index) {
		pr->match = index;
		updated = true;
		pr->probe_sent = false;
	}
	if (pr->next < index + 1)
		pr->next = index + 1;
	return updated;
}

bool progress_maybe_decrease(struct progress *pr, uint64_t rejected, uint64_t hint)
{
	if (pr->state == PROGRESS_REPLICATE) {
		/* Stale unless it rejects the very entry after our match. */
		if (rejected <= pr->match)
			return false;
		pr->next = pr->match + 1;
		return true;
	}
	/* Probe: only the reply to the probe in flight (next - 1) counts. */
	if (pr->next == 0 || pr->next - 1 != rejected)
		return false;
	pr->next = (rejected < hint + 1 ? rejected : hint + 1);
	if (pr->next < pr->match + 1)
		pr->next = pr->match + 1;
	if (pr->next < 1)
		pr->next = 1;
	pr->probe_sent = false;
	return true;
}

void progress_sent(struct progress *pr, uint64_t last, uint64_t bytes, bool had_entries)
{
	switch (pr->state) {
	case PROGRESS_REPLICATE:
		if (had_entries) {
			pr->next = last + 1;
			inflights_add(&pr->inflights, last, bytes);
		}
		break;
	case PROGRESS_PROBE:
		pr->probe_sent = true;
		break;
	case PROGRESS_SNAPSHOT:
		break;
	}
}

bool progress_is_paused(const struct progress *pr)
{
	switch (pr->state) {
	case PROGRESS_PROBE:
		return pr->probe_sent;
	case PROGRESS_REPLICATE:
		return inflights_full(&pr->inflights);
	case PROGRESS_SNAPSHOT:
		return true;
	}
	return true;
}

const char *progress_state_name(enum progress_state s)
{
	static const char *const names[] = { "probe", "replicate", "snapshot" };

	return s <= PROGRESS_SNAPSHOT ? names[s] : "?";
}
