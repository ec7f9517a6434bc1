// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/log.h"

void log_init(struct raft_log *l, uint64_t snap_index, uint64_t snap_term)
{
	memset(l, 0, sizeof(*l));
	l->snap_index = snap_index;
	l->snap_term = snap_term;
	l->commit = snap_index;
	l->stable = snap_index;
	l->persist_next = snap_index + 1;
	l->applied = snap_index;
	l->apply_next = snap_index + 1;
}

static void free_range(struct raft_log *l, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		free(l->ents[i].data);
}

void log_free(struct raft_log *l)
{
	free_range(l, 0, l->n);
	free(l->ents);
	l->ents = NULL;
	l->n = l->cap = 0;
}

int log_term(const struct raft_log *l, uint64_t index, uint64_t *term)
{
	if (index == l->snap_index) {
		*term = l->snap_term;
		return 0;
	}
	if (index < l->snap_index)
		return -ENOENT;
	if (index > log_last_index(l))
		return -ERANGE;
	*term = l->ents[index - l->snap_index - 1].term;
	return 0;
}

uint64_t log_last_term(const struct raft_log *l)
{
	return l->n ? l->ents[l->n - 1].term : l->snap_term;
}

bool log_matches(const struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t t;

	return log_term(l, index, &t) == 0 && t == term;
}

struct raft_entry *log_entry(const struct raft_log *l, uint64_t index)
{
	if (index <= l->snap_index || index > log_last_index(l))
		return NULL;
	return &l->ents[index - l->snap_index - 1];
}

int log_append(struct raft_log *l, const struct raft_entry *e)
{
	struct raft_entry *dst;

	if (e->index != log_last_index(l) + 1)
		return -EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct raft_entry *ents = realloc(l->ents, cap * sizeof(*ents));

		if (!ents)
			return -ENOMEM;
		l->ents = ents;
		l->cap = cap;
	}
	dst = &l->ents[l->n];
	*dst = *e;
	dst->data = NULL;
	if (e->len) {
		dst->data = malloc(e->len);
		if (!dst->data)
			return -ENOMEM;
		memcpy(dst->data, e->data, e->len);
	}
	l->n++;
	return 0;
}

void log_truncate_from(struct raft_log *l, uint64_t index)
{
	size_t keep;

	if (index <= l->snap_index || index > log_last_index(l))
		return;
	keep = index - l->snap_index - 1;
	free_range(l, keep, l->n);
	l->n = keep;
	/* Entries handed out or acknowledged past here are gone. */
	if (l->stable >= index)
		l->stable = index - 1;
	if (l->persist_next > index)
		l->persist_next = index;
}

void log_compact(struct raft_log *l, uint64_t index)
{
	size_t drop;

	if (index <= l->snap_index || index > log_last_index(l))
		return;
	drop = index - l->snap_index;
	l->snap_term = l->ents[drop - 1].term;
	free_range(l, 0, drop);
	memmove(l->ents, l->ents + drop, (l->n - drop) * sizeof(*l->ents));
	l->n -= drop;
	l->snap_index = index;
}

void log_reset(struct raft_log *l, uint64_t snap_index, uint64_t snap_term)
{
	free_range(l, 0, l->n);
	l->n = 0;
	l->snap_index = snap_index;
	l->snap_term = snap_term;
	if (l->commit < snap_index)
		l->commit = snap_index;
	l->stable = snap_index;
	l->persist_next = snap_index + 1;
	if (l->applied < snap_index)
		l->applied = snap_index;
	if (l->apply_next < snap_index + 1)
		l->apply_next = snap_index + 1;
}

bool log_is_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term)
{
	uint64_t my_term = log_last_term(l);

	return last_term > my_term ||
	       (last_term == my_term && last_index >= log_last_index(l));
}

uint64_t log_find_conflict_by_term(const struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t t;

	if (index > log_last_index(l))
		index = log_last_index(l);
	while (index > l->snap_index) {
		if (log_term(l, index, &t) || t <= term)
			break;
		index--;
	}
	return index;
}
