// SPDX-License-Identifier: GPL-2.0
/*
 * What the cluster decides, as events for the control socket's watchers
 * (KLBD_CTL_WATCH, lib/klbd_proto.h): this gateway's verdicts, the
 * committed failovers and returns, role and leader, configurations.
 * control.c queues them, bounded, to each watcher. Nothing here runs
 * while nobody watches but the leader tracking, which is a compare.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbd/klbd.h"

static uint8_t event_role(enum raft_role role)
{
	switch (role) {
	case RAFT_LEADER:
		return KLBD_ROLE_LEADER;
	case RAFT_PRE_CANDIDATE:
	case RAFT_CANDIDATE:
		return KLBD_ROLE_CANDIDATE;
	default:
		return KLBD_ROLE_FOLLOWER;
	}
}

static void watch_send(struct klbd *d, const struct klbd_event *ev)
{
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	int n;

	if (!d->n_watchers)
		return;
	n = klbd_event_encode(ev, buf, sizeof(buf));
	if (n > 0)
		control_watch_send(d, buf, n);
}

static void leader_event(struct klbd *d, struct klbd_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = KLBD_EV_LEADER;
	ev->role = d->watch_role;
	ev->term = d->watch_term;
	ev->leader = d->watch_leader;
}

void watch_started(struct klbd *d, uint64_t client)
{
	struct klbd_event ev;
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	int n;

	/* Where the stream starts: the role and leader now. */
	leader_event(d, &ev);
	n = klbd_event_encode(&ev, buf, sizeof(buf));
	if (n > 0)
		control_watch_send_one(d, client, buf, n);
}

void watch_tick(struct klbd *d)
{
	struct raft_status rs;
	struct klbd_event ev;

	raft_status(d->raft, &rs);
	if (event_role(rs.role) == d->watch_role && rs.term == d->watch_term &&
	    rs.lead == d->watch_leader)
		return;
	d->watch_role = event_role(rs.role);
	d->watch_term = rs.term;
	d->watch_leader = rs.lead;
	leader_event(d, &ev);
	watch_send(d, &ev);
}

void watch_verdict(struct klbd *d, const struct probe_target *t,
		   const char *why)
{
	struct klbd_event ev = {
		.type = KLBD_EV_VERDICT, .key = t->key, .backend = t->addr,
		.on = t->obs.failing, .node = d->cfg.id,
	};

	snprintf(ev.reason, sizeof(ev.reason), "%s", why);
	watch_send(d, &ev);
}

void watch_conf(struct klbd *d, const struct raft_conf *conf, uint64_t index)
{
	struct klbd_event ev = { .type = KLBD_EV_MEMBER, .index = index };
	size_t i;

	for (i = 0; i < conf->n_voters && i < KLBD_EVENT_IDS_MAX; i++)
		ev.ids[ev.n_ids++] = conf->voters[i];
	for (i = 0; i < conf->n_learners && i < KLBD_EVENT_IDS_MAX; i++)
		ev.learners[ev.n_learners++] = conf->learners[i];
	watch_send(d, &ev);
}

static bool down_by_verdicts(const struct klbd_state *s,
			     const struct state_service *svc, size_t i)
{
	return health_majority_down(svc->health[i].failing, s->n_voters);
}

struct watch_mark *watch_mark(struct klbd *d, const struct klb_service_key *key)
{
	const struct klbd_state *s = &d->state;
	struct watch_mark *m;
	size_t n = 0, i, j, k = 0;

	if (!d->n_watchers)
		return NULL;
	for (i = 0; i < s->n_svcs; i++)
		if (!key || !state_key_cmp(key, &s->svcs[i].key))
			n += s->svcs[i].n_bes;
	m = malloc(sizeof(*m) + n * sizeof(m->bes[0]));
	if (!m)
		return NULL;
	m->key_given = key != NULL;
	if (key)
		m->key = *key;
	m->n = n;
	for (i = 0; i < s->n_svcs; i++) {
		if (key && state_key_cmp(key, &s->svcs[i].key))
			continue;
		for (j = 0; j < s->svcs[i].n_bes; j++, k++) {
			m->bes[k].addr = s->svcs[i].bes[j].addr;
			m->bes[k].down = down_by_verdicts(s, &s->svcs[i], j);
		}
	}
	return m;
}

static void health_event(struct klbd *d, const struct state_service *svc,
			 size_t i, bool down, uint64_t index)
{
	const struct klbd_state *s = &d->state;
	struct klbd_event ev = {
		.type = KLBD_EV_HEALTH, .key = svc->key,
		.backend = svc->bes[i].addr, .on = down, .index = index,
	};
	unsigned int v;

	for (v = 0; v < s->n_voters && v < 32; v++)
		if (svc->health[i].failing & (1u << v))
			ev.ids[ev.n_ids++] = s->voters[v];
	watch_send(d, &ev);
}

/*
 * The backend at position k before, or else the one with its address: a
 * replacement (one service's mark) may have moved or exchanged backends.
 */
static const struct watch_backend *marked(const struct watch_mark *m, size_t k,
					  const struct klb_endpoint *addr)
{
	size_t i;

	if (k < m->n && klb_endpoint_equal(&m->bes[k].addr, addr))
		return &m->bes[k];
	if (!m->key_given)
		return NULL;
	for (i = 0; i < m->n; i++)
		if (klb_endpoint_equal(&m->bes[i].addr, addr))
			return &m->bes[i];
	return NULL;
}

void watch_compare(struct klbd *d, struct watch_mark *m, uint64_t index)
{
	const struct klbd_state *s = &d->state;
	const struct klb_service_key *key;
	const struct watch_backend *was;
	size_t i, j, k = 0;
	bool down;

	if (!m)
		return;
	key = m->key_given ? &m->key : NULL;
	/*
	 * A backend new here or gone (not a verdict's doing) has nothing to
	 * say; one that stays is compared with itself.
	 */
	for (i = 0; i < s->n_svcs; i++) {
		if (key && state_key_cmp(key, &s->svcs[i].key))
			continue;
		for (j = 0; j < s->svcs[i].n_bes; j++, k++) {
			was = marked(m, k, &s->svcs[i].bes[j].addr);
			if (!was)
				continue;
			down = down_by_verdicts(s, &s->svcs[i], j);
			if (down != was->down)
				health_event(d, &s->svcs[i], j, down, index);
		}
	}
	free(m);
}
