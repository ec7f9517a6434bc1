// SPDX-License-Identifier: GPL-2.0
/*
 * Leases (Documentation/klbd.md, Leases): the leader's deadlines for the
 * backends that registered themselves. The replicated state says which
 * backends have a lease, its ttl and its number; the deadline is the
 * leader's alone, in memory. A renewal moves it and is no log entry. A
 * deadline passed, the leader proposes the lease's end, with its number:
 * a backend that registered again meanwhile has a new lease, which that
 * end leaves alone. A new leader starts every deadline afresh, a full ttl
 * from when it took over: a leader change may extend a lease, never cut
 * it short.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "klbd/klbd.h"

struct lease {
	struct klb_service_key key;
	struct klb_endpoint addr;
	uint64_t lease;		/* the state's number for it */
	uint16_t ttl;
	bool ending;		/* its end proposed: renewals refused */
	uint64_t deadline_ms;	/* ending: when to propose the end again */
};

static int ep_order(const struct klb_endpoint *a, const struct klb_endpoint *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int lease_cmp(const void *pa, const void *pb)
{
	const struct lease *a = pa, *b = pb;
	int c = state_key_cmp(&a->key, &b->key);

	return c ? c : ep_order(&a->addr, &b->addr);
}

static struct lease *lease_find(struct klbd *d, const struct klb_service_key *key,
				const struct klb_endpoint *addr)
{
	struct lease k = { .key = *key, .addr = *addr };

	if (!d->n_leases)
		return NULL;
	return bsearch(&k, d->leases, d->n_leases, sizeof(k), lease_cmp);
}

static void leases_clear(struct klbd *d)
{
	free(d->leases);
	d->leases = NULL;
	d->n_leases = 0;
	d->leases_term = 0;
}

/*
 * The deadlines follow the state as of the applied index: a lease new
 * here (a registration, or this node's first look as leader) gets a full
 * ttl from now; a lease gone from the state goes.
 */
static void leases_sync(struct klbd *d)
{
	const struct klbd_state *s = &d->state;
	struct lease *next, *old;
	size_t n = 0, i, j, k = 0;

	for (i = 0; i < s->n_svcs; i++)
		for (j = 0; j < s->svcs[i].n_bes; j++)
			n += !!s->svcs[i].health[j].lease;
	next = calloc(n ? n : 1, sizeof(*next));
	if (!next)
		return;		/* the next tick tries again */
	for (i = 0; i < s->n_svcs; i++)
		for (j = 0; j < s->svcs[i].n_bes; j++) {
			const struct state_health *h = &s->svcs[i].health[j];
			struct lease *l = &next[k];

			if (!h->lease)
				continue;
			l->key = s->svcs[i].key;
			l->addr = s->svcs[i].bes[j].addr;
			l->lease = h->lease;
			l->ttl = h->ttl;
			old = lease_find(d, &l->key, &l->addr);
			if (old && old->lease == l->lease) {
				l->ending = old->ending;
				l->deadline_ms = old->deadline_ms;
			} else {
				l->deadline_ms = d->now_ms + 1000ull * l->ttl;
			}
			k++;
		}
	qsort(next, n, sizeof(*next), lease_cmp);
	free(d->leases);
	d->leases = next;
	d->n_leases = n;
	d->leases_applied = d->applied;
}

static void lease_end(struct klbd *d, struct lease *l)
{
	struct klbd_cmd cmd = {
		.op = KLBD_CMD_LEASE_END, .key = l->key, .lease = l->lease,
	};
	char addr[INET6_ADDRSTRLEN];
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n;

	cmd.be.addr = l->addr;
	n = klbd_cmd_encode(&cmd, buf, sizeof(buf));
	if (n <= 0)
		return;
	if (!l->ending) {
		d->stats.lease_expiries++;
		inet_ntop(l->addr.family, l->addr.addr, addr, sizeof(addr));
		klbd_log(LOG_NOTICE, "lease %llu of backend %s port %u expired (ttl %u s): removing it",
			 (unsigned long long)l->lease, addr, l->addr.port, l->ttl);
	}
	l->ending = true;
	/* Lost with a leader change? The end is proposed again, harmlessly. */
	l->deadline_ms = d->now_ms + REQUEST_TIMEOUT_MS;
	/* Client 0: the outcome is the state's, seen at the next sync. */
	node_submit(d, 0, buf, n);
}

void lease_tick(struct klbd *d)
{
	struct raft_status rs;
	size_t i;

	raft_status(d->raft, &rs);
	if (rs.role != RAFT_LEADER) {
		if (d->leases_term)
			leases_clear(d);
		return;
	}
	/* Leading in a new term: every deadline starts afresh. */
	if (d->leases_term != rs.term) {
		leases_clear(d);
		d->leases_term = rs.term;
		leases_sync(d);
	} else if (d->leases_applied != d->applied) {
		leases_sync(d);
	}
	for (i = 0; i < d->n_leases; i++)
		if (d->now_ms >= d->leases[i].deadline_ms)
			lease_end(d, &d->leases[i]);
}

int lease_renew(struct klbd *d, const struct klbd_cmd *cmd, char *why,
		size_t why_len)
{
	const struct state_service *svc;
	struct raft_status rs;
	struct lease *l;
	int err;

	raft_status(d->raft, &rs);
	if (rs.role != RAFT_LEADER)
		return klbd_why(why, why_len, -EAGAIN, "not the leader (any more): retry");
	if (d->leases_term != rs.term || d->leases_applied != d->applied)
		lease_tick(d);
	l = lease_find(d, &cmd->key, &cmd->be.addr);
	if (l && !l->ending) {
		l->deadline_ms = d->now_ms + 1000ull * l->ttl;
		d->stats.lease_renewals++;
		return 0;
	}
	d->stats.lease_renewals_refused++;
	svc = state_find(&d->state, &cmd->key);
	if (l)
		err = klbd_why(why, why_len, -ENOENT, "the lease expired: register again");
	else if (!svc)
		err = klbd_why(why, why_len, -ENOENT, "no such service");
	else if (state_backend_index(svc, &cmd->be.addr) == SIZE_MAX)
		err = klbd_why(why, why_len, -ENOENT, "no such backend");
	else
		err = klbd_why(why, why_len, -EPERM, "the backend has no lease: the operator's");
	return err;
}
