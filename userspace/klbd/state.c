// SPDX-License-Identifier: GPL-2.0
/*
 * Applying commands to the replicated state, and its snapshot encoding.
 * Every change is computed aside first (the new backend list, the new
 * table) and swapped in only when all of it succeeded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <klb/sched.h>

#include "klbd/frame.h"
#include "klbd/health.h"
#include "klbd/state.h"
#include "lib/klb_idset.h"
#include "lib/klb_tables.h"

#define SNAP_MAGIC	0x53424c4bu	/* "KLBS" */
#define EP_BYTES	20
#define SVC_BYTES	(2 + EP_BYTES + 4 + 4 + 4 + 4 + KLB_SEED_LEN + 4 + 4)
#define BE_BYTES	(2 + EP_BYTES + 4 + 1 + 1 + 4)
#define BE_BYTES_V1	(2 + EP_BYTES + 4 + 1)
#define LEASE_BYTES	(4 + 2 + 2 + 8)	/* version 4, after the services */
#define CHECK_BYTES	(4 + 2 + 2 + 4 + 4 + 4)
/* Version 6: a word of flags after the leases. */
#define SNAP_F_BOOTSTRAPPED	1u

void state_init(struct klbd_state *s)
{
	memset(s, 0, sizeof(*s));
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int state_set_voters(struct klbd_state *s, const uint64_t *ids, size_t n)
{
	if (n > STATE_MAX_VOTERS)
		return -EINVAL;
	memcpy(s->voters, ids, n * sizeof(*ids));
	qsort(s->voters, n, sizeof(*ids), u64_cmp);
	s->n_voters = n;
	return 0;
}

int state_voter_index(const struct klbd_state *s, uint64_t id)
{
	unsigned int i;

	for (i = 0; i < s->n_voters; i++)
		if (s->voters[i] == id)
			return i;
	return -1;
}

/* What the kernel gets: down when either state says so. */
static uint8_t effective_state(const struct klbd_state *s,
			       const struct state_health *h)
{
	if (h->admin == KLB_BACKEND_DOWN ||
	    health_majority_down(h->failing, s->n_voters))
		return KLB_BACKEND_DOWN;
	return h->admin;
}

static void service_free(struct state_service *svc)
{
	free(svc->health);
	free(svc->bes);
	free(svc->table);
	free(svc->base);
}

void state_free(struct klbd_state *s)
{
	size_t i;

	for (i = 0; i < s->n_svcs; i++)
		service_free(&s->svcs[i]);
	free(s->svcs);
	s->svcs = NULL;
	s->n_svcs = 0;
}

static int ep_cmp(const struct klb_endpoint *a, const struct klb_endpoint *b)
{
	int d;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	d = memcmp(a->addr, b->addr, a->family == AF_INET6 ? 16 : 4);
	if (d)
		return d < 0 ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

int state_key_cmp(const struct klb_service_key *a,
		  const struct klb_service_key *b)
{
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return ep_cmp(&a->vip, &b->vip);
}

/* The service's slot, or where it would go (*found false). */
static size_t find_slot(const struct klbd_state *s,
			const struct klb_service_key *key, bool *found)
{
	size_t lo = 0, hi = s->n_svcs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = state_key_cmp(&s->svcs[mid].key, key);

		if (!d) {
			*found = true;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct state_service *state_find(const struct klbd_state *s,
				       const struct klb_service_key *key)
{
	bool found;
	size_t i = find_slot(s, key, &found);

	return found ? &s->svcs[i] : NULL;
}

static bool is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return false;
	for (d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int check_conf(const struct klb_service_conf *c, char *why, size_t len)
{
	if (c->sched > KLB_SCHED_MAX)
		return klbd_why(why, len, -EINVAL, "unknown scheduler %u", c->sched);
	if (c->fwd > KLB_FWD_MAX)
		return klbd_why(why, len, -EINVAL, "unknown forwarding method %u", c->fwd);
	if (c->table_size < KLB_TABLE_SIZE_MIN ||
	    c->table_size > STATE_MAX_TABLE_SIZE || !is_prime(c->table_size))
		return klbd_why(why, len, -EINVAL,
			       "table size must be a prime from %u to %u, not %u",
			       KLB_TABLE_SIZE_MIN, STATE_MAX_TABLE_SIZE, c->table_size);
	if (c->bound < KLB_BOUND_MIN || c->bound > KLB_BOUND_MAX)
		return klbd_why(why, len, -EINVAL, "bound must be %u to %u, not %u",
			       KLB_BOUND_MIN, KLB_BOUND_MAX, c->bound);
	if (c->flags & ~(uint32_t)KLB_SVC_F_ALL)
		return klbd_why(why, len, -EINVAL, "unknown service flags %#x",
			       c->flags & ~(uint32_t)KLB_SVC_F_ALL);
	return 0;
}

static int check_backend(const struct klb_backend *be, char *why, size_t len)
{
	if (be->weight > KLB_WEIGHT_MAX)
		return klbd_why(why, len, -EINVAL, "weight must be at most %u, not %u",
			       KLB_WEIGHT_MAX, be->weight);
	if (be->state > KLB_BACKEND_DOWN)
		return klbd_why(why, len, -EINVAL, "unknown backend state %u", be->state);
	return 0;
}

/*
 * The table in asks for, computed into t, which becomes *out; t is freed
 * instead when there is no table (no backend takes new flows) or on an
 * error.
 */
static int table_computed(const struct klb_table_input *in, uint16_t *t,
			  uint16_t **out, char *why, size_t why_len)
{
	klb_error e = { 0 };
	int ret;

	ret = klb_table_compute(in, t, &e);
	if (ret <= 0) {
		free(t);
		if (ret < 0)
			return klbd_why(why, why_len, ret, "table: %s", klb_error_msg(&e));
		return 0;
	}
	*out = t;
	return 0;
}

/*
 * The table conf and bes call for into *out (NULL: none) and its base
 * table into *base (NULL: the table): from old's tables when conf keeps
 * their size and seed, else (old NULL) from scratch. The base comes only
 * from the replicated backend list and tables, so every gateway computes
 * the same.
 */
static int compute_table(const struct klb_service_conf *conf,
			 const struct state_service *old,
			 const struct klb_backend *bes, size_t n,
			 uint16_t **out, uint16_t **base, char *why, size_t why_len)
{
	struct klb_table_input in = {
		.conf = conf, .new_bes = bes, .nr_new = n, .new_base = base,
	};
	uint16_t *t;

	*out = NULL;
	*base = NULL;
	if (!klb_sched_is_maglev(conf->sched))
		return 0;
	if (old) {
		in.old_bes = old->bes;
		in.nr_old = old->n_bes;
		in.old_table = old->table;
		in.old_base = old->base;
	}
	t = malloc(conf->table_size * sizeof(*t));
	if (!t)
		return klbd_why(why, why_len, -ENOMEM, "out of memory");
	return table_computed(&in, t, out, why, why_len);
}

/*
 * A service's backends as the kernel should get them after the voters
 * changed: a verdict that was a majority may not be one any more, and
 * the reverse. Its table follows, moving only what must move.
 */
static int service_revote(const struct klbd_state *s, struct state_service *svc)
{
	struct klb_backend *bes;
	uint16_t *table, *base;
	bool changed = false;
	char why[128];
	size_t i;
	int err;

	for (i = 0; i < svc->n_bes; i++)
		changed |= svc->bes[i].state != effective_state(s, &svc->health[i]);
	if (!changed)
		return 0;
	bes = malloc(svc->n_bes * sizeof(*bes));
	if (!bes)
		return -ENOMEM;
	memcpy(bes, svc->bes, svc->n_bes * sizeof(*bes));
	for (i = 0; i < svc->n_bes; i++)
		bes[i].state = effective_state(s, &svc->health[i]);
	err = compute_table(&svc->conf, svc, bes, svc->n_bes, &table, &base,
			    why, sizeof(why));
	if (err) {
		free(bes);
		return err;
	}
	free(svc->bes);
	free(svc->table);
	free(svc->base);
	svc->bes = bes;
	svc->table = table;
	svc->base = base;
	return 0;
}

int state_change_voters(struct klbd_state *s, const uint64_t *ids, size_t n)
{
	struct klbd_state next = *s;
	int to[STATE_MAX_VOTERS];
	size_t i, j, b;
	int err;

	err = state_set_voters(&next, ids, n);
	if (err)
		return err;
	for (i = 0; i < s->n_voters; i++)
		to[i] = state_voter_index(&next, s->voters[i]);
	for (i = 0; i < s->n_svcs; i++) {
		struct state_service *svc = &s->svcs[i];

		for (b = 0; b < svc->n_bes; b++) {
			uint32_t old = svc->health[b].failing, now = 0;

			for (j = 0; j < s->n_voters; j++)
				if ((old & (1u << j)) && to[j] >= 0)
					now |= 1u << to[j];
			svc->health[b].failing = now;
		}
	}
	memcpy(s->voters, next.voters, sizeof(s->voters));
	s->n_voters = next.n_voters;
	for (i = 0; i < s->n_svcs; i++) {
		err = service_revote(s, &s->svcs[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Only a tunnel delivers the VIP to the backend: through NAT the backend
 * never sees it, and a probe through it would prove nothing more.
 */
static int check_via_vip(const struct klb_service_conf *c,
			 const struct klbd_check *check, char *why, size_t len)
{
	if (check->via_vip && c->fwd != KLB_FWD_TUNNEL)
		return klbd_why(why, len, -EINVAL,
			       "via-vip needs a tunnel service: with nat the backend never sees the VIP");
	return 0;
}

static int service_add(struct klbd_state *s, const struct klbd_cmd *cmd,
		       char *why, size_t len)
{
	struct klb_service_conf c = {
		.sched = KLB_SCHED_MAGLEV, .fwd = KLB_FWD_NAT,
		.table_size = KLB_TABLE_SIZE_DEFAULT, .bound = KLB_BOUND_DEFAULT,
	};
	const struct klb_service_conf *in = &cmd->conf;
	struct state_service *svcs;
	struct klbd_check check;
	bool found;
	size_t i;
	int err;

	i = find_slot(s, &cmd->key, &found);
	if (found)
		return klbd_why(why, len, -EEXIST, "the service exists");
	/* The proposer chose the seed: gateways must not pick their own. */
	if (!(in->fields & KLB_SVC_SEED))
		return klbd_why(why, len, -EINVAL, "no seed");
	if (s->n_svcs >= STATE_MAX_SERVICES) {
		s->service_limit_hits++;
		return klbd_why(why, len, -ENOSPC, "the cluster holds %u services, its limit",
			       STATE_MAX_SERVICES);
	}
	if (in->fields & KLB_SVC_SCHED)
		c.sched = in->sched;
	if (in->fields & KLB_SVC_FWD)
		c.fwd = in->fwd;
	if (in->fields & KLB_SVC_TABLE_SIZE)
		c.table_size = in->table_size;
	if (in->fields & KLB_SVC_BOUND)
		c.bound = in->bound;
	if (in->fields & KLB_SVC_FLAGS)
		c.flags = in->flags;
	memcpy(c.seed, in->seed, KLB_SEED_LEN);
	c.fields = KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE |
		   KLB_SVC_BOUND | KLB_SVC_SEED | KLB_SVC_FLAGS;
	err = check_conf(&c, why, len);
	if (!err)
		err = klbd_check_merge(NULL, &cmd->check, &check, why, len);
	if (!err)
		err = check_via_vip(&c, &check, why, len);
	if (err)
		return err;
	svcs = realloc(s->svcs, (s->n_svcs + 1) * sizeof(*svcs));
	if (!svcs)
		return klbd_why(why, len, -ENOMEM, "out of memory");
	s->svcs = svcs;
	memmove(&svcs[i + 1], &svcs[i], (s->n_svcs - i) * sizeof(*svcs));
	memset(&svcs[i], 0, sizeof(svcs[i]));
	svcs[i].key = cmd->key;
	svcs[i].conf = c;
	svcs[i].check = check;
	s->n_svcs++;
	return 0;
}

static int service_set(struct klbd_state *s, struct state_service *svc,
		       const struct klbd_cmd *cmd, char *why, size_t len)
{
	const struct klb_service_conf *in = &cmd->conf;
	struct klb_service_conf c = svc->conf;
	struct klb_backend *bes = NULL;
	struct klbd_check check;
	uint16_t *table, *base;
	bool rebuild, fresh;
	size_t j;
	int err;

	if (in->fields & KLB_SVC_SCHED)
		c.sched = in->sched;
	if (in->fields & KLB_SVC_FWD)
		c.fwd = in->fwd;
	if (in->fields & KLB_SVC_TABLE_SIZE)
		c.table_size = in->table_size;
	if (in->fields & KLB_SVC_BOUND)
		c.bound = in->bound;
	if (in->fields & KLB_SVC_SEED)
		memcpy(c.seed, in->seed, KLB_SEED_LEN);
	if (in->fields & KLB_SVC_FLAGS)
		c.flags |= in->flags;
	c.flags &= ~cmd->clear_flags;
	err = check_conf(&c, why, len);
	if (!err)
		err = klbd_check_merge(&svc->check, &cmd->check, &check, why, len);
	if (!err)
		err = check_via_vip(&c, &check, why, len);
	if (err)
		return err;
	/*
	 * Verdicts belong to one check: another kind of check (or none, when
	 * nobody probes any more) starts with every backend healthy.
	 */
	fresh = !klbd_check_same_kind(&check, &svc->check);
	if (fresh && svc->n_bes) {
		bes = malloc(svc->n_bes * sizeof(*bes));
		if (!bes)
			return klbd_why(why, len, -ENOMEM, "out of memory");
		memcpy(bes, svc->bes, svc->n_bes * sizeof(*bes));
		for (j = 0; j < svc->n_bes; j++) {
			struct state_health h = { .admin = svc->health[j].admin };

			bes[j].state = effective_state(s, &h);
		}
	}
	/* A table belongs to one size and seed. */
	rebuild = c.table_size != svc->conf.table_size ||
		  memcmp(c.seed, svc->conf.seed, KLB_SEED_LEN) ||
		  klb_sched_is_maglev(c.sched) != klb_sched_is_maglev(svc->conf.sched);
	table = svc->table;
	base = svc->base;
	if (rebuild || bes) {
		err = compute_table(&c, rebuild ? NULL : svc, bes ? bes : svc->bes,
				    svc->n_bes, &table, &base, why, len);
		if (err) {
			free(bes);
			return err;
		}
		free(svc->table);
		free(svc->base);
	}
	if (bes) {
		free(svc->bes);
		svc->bes = bes;
		for (j = 0; j < svc->n_bes; j++)
			svc->health[j].failing = 0;
	}
	svc->table = table;
	svc->base = base;
	svc->conf = c;
	svc->check = check;
	return 0;
}

static void service_del(struct klbd_state *s, size_t i)
{
	service_free(&s->svcs[i]);
	memmove(&s->svcs[i], &s->svcs[i + 1],
		(s->n_svcs - i - 1) * sizeof(s->svcs[0]));
	s->n_svcs--;
}

size_t state_backend_index(const struct state_service *svc,
			   const struct klb_endpoint *addr)
{
	size_t i;

	for (i = 0; i < svc->n_bes; i++)
		if (!ep_cmp(&svc->bes[i].addr, addr))
			return i;
	return SIZE_MAX;
}

/* Backends: the new list is built aside, the table from it, then both swap in. */
static int backend_change(struct klbd_state *s, struct state_service *svc,
			  const struct klbd_cmd *cmd, char *why, size_t len)
{
	size_t i = state_backend_index(svc, &cmd->be.addr), n = svc->n_bes, at;
	struct state_health *hs, h = { 0 };
	struct klb_backend *bes, be;
	uint16_t *table, *base;
	int err, voter;

	if (cmd->be.addr.family != svc->key.vip.family)
		return klbd_why(why, len, -EINVAL,
			       "the backend's address family is not the service's");
	if (cmd->op == KLBD_CMD_BACKEND_ADD && i != SIZE_MAX)
		return klbd_why(why, len, -EEXIST, "the backend exists");
	if (cmd->op != KLBD_CMD_BACKEND_ADD && i == SIZE_MAX)
		return klbd_why(why, len, -ENOENT, "no such backend");
	voter = cmd->op == KLBD_CMD_HEALTH ? state_voter_index(s, cmd->node) : 0;
	if (voter < 0)
		return klbd_why(why, len, -EINVAL, "node %llu is not a voter",
			       (unsigned long long)cmd->node);
	/* An operator's delete ends a lease too; an expiry, only its own. */
	if (cmd->op == KLBD_CMD_LEASE_END && !svc->health[i].lease)
		return klbd_why(why, len, -EPERM, "the backend has no lease: the operator's");
	if (cmd->op == KLBD_CMD_LEASE_END && cmd->lease &&
	    cmd->lease != svc->health[i].lease)
		return klbd_why(why, len, -ESTALE,
			       "the backend registered again since: a new lease");
	if (cmd->op == KLBD_CMD_BACKEND_ADD && n >= STATE_MAX_BACKENDS) {
		s->backend_limit_hits++;
		return klbd_why(why, len, -ENOSPC,
			       "the service has %u backends, its limit",
			       STATE_MAX_BACKENDS);
	}
	at = i;
	bes = malloc((n + 1) * sizeof(*bes));
	hs = malloc((n + 1) * sizeof(*hs));
	if (!bes || !hs) {
		free(bes);
		free(hs);
		return klbd_why(why, len, -ENOMEM, "out of memory");
	}
	if (n) {
		memcpy(bes, svc->bes, n * sizeof(*bes));
		memcpy(hs, svc->health, n * sizeof(*hs));
	}
	switch (cmd->op) {
	case KLBD_CMD_BACKEND_ADD: {
		struct klb_idset *ids;
		int id;

		ids = calloc(1, sizeof(*ids));
		if (!ids) {
			free(bes);
			free(hs);
			return klbd_why(why, len, -ENOMEM, "out of memory");
		}
		for (at = 0; at < n; at++)
			klb_idset_add(ids, bes[at].id);
		id = klb_idset_lowest_free(ids);
		free(ids);
		if (id < 0) {
			free(bes);
			free(hs);
			return klbd_why(why, len, -ENOSPC, "no backend id left");
		}
		memset(&be, 0, sizeof(be));
		be.fields = KLB_BE_WEIGHT | KLB_BE_STATE | KLB_BE_ID;
		be.id = id;
		be.addr = cmd->be.addr;
		be.weight = cmd->be.fields & KLB_BE_WEIGHT ? cmd->be.weight :
			    KLB_WEIGHT_DEFAULT;
		be.state = cmd->be.fields & KLB_BE_STATE ? cmd->be.state :
			   KLB_BACKEND_UP;
		h.admin = be.state;
		h.ttl = cmd->ttl;
		h.lease = cmd->ttl ? s->lease_seq + 1 : 0;
		for (at = 0; at < n && bes[at].id < be.id; at++)
			;
		memmove(&bes[at + 1], &bes[at], (n - at) * sizeof(*bes));
		memmove(&hs[at + 1], &hs[at], (n - at) * sizeof(*hs));
		bes[at] = be;
		hs[at] = h;
		n++;
		break;
	}
	case KLBD_CMD_BACKEND_SET:
		if (cmd->be.fields & KLB_BE_WEIGHT)
			bes[i].weight = cmd->be.weight;
		if (cmd->be.fields & KLB_BE_STATE)
			hs[i].admin = cmd->be.state;
		be = bes[i];
		be.state = hs[i].admin;		/* checked as given */
		break;
	case KLBD_CMD_HEALTH:
		if (cmd->failing)
			hs[i].failing |= 1u << voter;
		else
			hs[i].failing &= ~(1u << voter);
		be = bes[i];
		break;
	default:
		memmove(&bes[i], &bes[i + 1], (n - i - 1) * sizeof(*bes));
		memmove(&hs[i], &hs[i + 1], (n - i - 1) * sizeof(*hs));
		n--;
		memset(&be, 0, sizeof(be));
		break;
	}
	err = check_backend(&be, why, len);
	if (!err && cmd->op != KLBD_CMD_BACKEND_DEL && cmd->op != KLBD_CMD_LEASE_END)
		bes[at].state = effective_state(s, &hs[at]);
	if (!err)
		err = compute_table(&svc->conf, svc, bes, n, &table, &base, why, len);
	if (err) {
		free(bes);
		free(hs);
		return err;
	}
	free(svc->bes);
	free(svc->health);
	free(svc->table);
	free(svc->base);
	svc->bes = bes;
	svc->health = hs;
	svc->n_bes = n;
	svc->table = table;
	svc->base = base;
	if (cmd->op == KLBD_CMD_BACKEND_ADD && cmd->ttl)
		s->lease_seq++;
	return 0;
}

/*
 * The table of a SERVICE_REPLACE that gives one: taken as it is, or, when
 * the gateways' verdicts took backends out that the input counts on, as
 * the old table the new one is computed from (only their slots move; the
 * given table is the base, so they get them back).
 */
static int given_table(const struct klbd_cmd *cmd, const struct klb_backend *bes,
		       size_t n, uint16_t **out, uint16_t **base, char *why,
		       size_t len)
{
	struct klb_table_input in = {
		.conf = &cmd->conf, .old_bes = cmd->bes, .nr_old = cmd->n_bes,
		.old_table = cmd->table, .new_bes = bes, .nr_new = n,
		.new_base = base,
	};
	bool verbatim = true;
	uint16_t *t;
	uint32_t i;

	*out = NULL;
	*base = NULL;
	t = malloc(cmd->conf.table_size * sizeof(*t));
	if (!t)
		return klbd_why(why, len, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (!klb_backend_takes_new_flows(bes[i].state, bes[i].weight) &&
		    klb_backend_takes_new_flows(cmd->bes[i].state, cmd->bes[i].weight))
			verbatim = false;
	/* The usual case: nobody is failed over, the table is the input's. */
	if (verbatim) {
		memcpy(t, cmd->table, cmd->conf.table_size * sizeof(*t));
		*out = t;
		return 0;
	}
	return table_computed(&in, t, out, why, len);
}

/*
 * One service whole: created, or its settings and backends replaced in
 * one step. A backend that stays (same address) keeps its lease, and the
 * gateways' verdicts while the check probes the same way; its operator
 * state is the command's. A backend that goes takes its lease along.
 */
static int service_replace(struct klbd_state *s, const struct klbd_cmd *cmd,
			   char *why, size_t len)
{
	const struct klbd_check none = { 0 };
	struct state_service *old = NULL, *svcs, nsvc = { 0 };
	struct klbd_check check;
	size_t i, j, at;
	bool found, fresh;
	int err;

	at = find_slot(s, &cmd->key, &found);
	if (found)
		old = &s->svcs[at];
	if (!(cmd->conf.fields & KLB_SVC_SEED))
		return klbd_why(why, len, -EINVAL, "no seed");
	if (!old && s->n_svcs >= STATE_MAX_SERVICES) {
		s->service_limit_hits++;
		return klbd_why(why, len, -ENOSPC, "the cluster holds %u services, its limit",
			       STATE_MAX_SERVICES);
	}
	if (cmd->n_bes > STATE_MAX_BACKENDS) {
		s->backend_limit_hits++;
		return klbd_why(why, len, -ENOSPC, "%u backends, over the limit of %u",
			       cmd->n_bes, STATE_MAX_BACKENDS);
	}
	err = check_conf(&cmd->conf, why, len);
	if (err)
		return err;
	if (cmd->table && !klb_sched_is_maglev(cmd->conf.sched))
		return klbd_why(why, len, -EINVAL, "a table for a scheduler without one");
	for (i = 0; i < cmd->n_bes; i++) {
		err = check_backend(&cmd->bes[i], why, len);
		if (err)
			return err;
	}
	/* No check settings: the service keeps the check it has. */
	if (cmd->check.fields)
		err = klbd_check_merge(NULL, &cmd->check, &check, why, len);
	else if (old)
		check = old->check;
	else
		err = klbd_check_merge(NULL, &none, &check, why, len);
	if (!err)
		err = check_via_vip(&cmd->conf, &check, why, len);
	if (err)
		return err;
	fresh = !old || !klbd_check_same_kind(&check, &old->check);
	nsvc.key = cmd->key;
	nsvc.conf = cmd->conf;
	nsvc.check = check;
	nsvc.n_bes = cmd->n_bes;
	nsvc.bes = malloc((cmd->n_bes ? cmd->n_bes : 1) * sizeof(*nsvc.bes));
	nsvc.health = calloc(cmd->n_bes ? cmd->n_bes : 1, sizeof(*nsvc.health));
	if (!nsvc.bes || !nsvc.health) {
		service_free(&nsvc);
		return klbd_why(why, len, -ENOMEM, "out of memory");
	}
	for (i = 0; i < cmd->n_bes; i++) {
		nsvc.bes[i] = cmd->bes[i];
		nsvc.bes[i].fields = KLB_BE_WEIGHT | KLB_BE_STATE | KLB_BE_ID;
		nsvc.health[i].admin = cmd->bes[i].state;
		j = old ? state_backend_index(old, &cmd->bes[i].addr) : SIZE_MAX;
		/* A backend that stays keeps its lease, as with any other change. */
		if (j != SIZE_MAX) {
			nsvc.health[i].ttl = old->health[j].ttl;
			nsvc.health[i].lease = old->health[j].lease;
		}
		if (j != SIZE_MAX && !fresh)
			nsvc.health[i].failing = old->health[j].failing;
		nsvc.bes[i].state = effective_state(s, &nsvc.health[i]);
	}
	if (cmd->table)
		err = given_table(cmd, nsvc.bes, nsvc.n_bes, &nsvc.table, &nsvc.base,
				  why, len);
	else
		/* A table belongs to one size and seed: else from scratch. */
		err = compute_table(&nsvc.conf,
				    old && old->conf.table_size == nsvc.conf.table_size &&
				    !memcmp(old->conf.seed, nsvc.conf.seed, KLB_SEED_LEN) ?
				    old : NULL, nsvc.bes, nsvc.n_bes, &nsvc.table,
				    &nsvc.base, why, len);
	if (err) {
		service_free(&nsvc);
		return err;
	}
	if (old) {
		service_free(old);
		*old = nsvc;
		return 0;
	}
	svcs = realloc(s->svcs, (s->n_svcs + 1) * sizeof(*svcs));
	if (!svcs) {
		service_free(&nsvc);
		return klbd_why(why, len, -ENOMEM, "out of memory");
	}
	s->svcs = svcs;
	memmove(&svcs[at + 1], &svcs[at], (s->n_svcs - at) * sizeof(*svcs));
	svcs[at] = nsvc;
	s->n_svcs++;
	return 0;
}

int state_apply(struct klbd_state *s, const struct klbd_cmd *cmd, char *why,
		size_t why_len)
{
	bool found;
	size_t i;

	if (why && why_len)
		why[0] = '\0';
	/* Services only: whether the state was bootstrapped stays. */
	if (cmd->op == KLBD_CMD_FLUSH) {
		state_free(s);
		return 0;
	}
	if (cmd->op == KLBD_CMD_BOOTSTRAP_DONE) {
		s->bootstrapped = true;
		return 0;
	}
	if (cmd->op == KLBD_CMD_SERVICE_ADD)
		return service_add(s, cmd, why, why_len);
	if (cmd->op == KLBD_CMD_SERVICE_REPLACE)
		return service_replace(s, cmd, why, why_len);
	i = find_slot(s, &cmd->key, &found);
	if (!found)
		return klbd_why(why, why_len, -ENOENT, "no such service");
	switch (cmd->op) {
	case KLBD_CMD_SERVICE_SET:
		return service_set(s, &s->svcs[i], cmd, why, why_len);
	case KLBD_CMD_SERVICE_DEL:
		service_del(s, i);
		return 0;
	case KLBD_CMD_BACKEND_ADD:
	case KLBD_CMD_BACKEND_SET:
	case KLBD_CMD_BACKEND_DEL:
	case KLBD_CMD_HEALTH:
	case KLBD_CMD_LEASE_END:
		return backend_change(s, &s->svcs[i], cmd, why, why_len);
	case KLBD_CMD_LEASE_RENEW:
		return klbd_why(why, why_len, -EINVAL, "a renewal is no log entry");
	}
	return klbd_why(why, why_len, -EINVAL, "unknown command %u", cmd->op);
}

uint64_t state_service_digest(const struct state_service *svc)
{
	struct klbd_cmd c = { .op = KLBD_CMD_SERVICE_REPLACE, .key = svc->key,
			      .conf = svc->conf, .n_bes = svc->n_bes };
	uint64_t h;
	size_t i;

	c.bes = malloc((svc->n_bes ? svc->n_bes : 1) * sizeof(*c.bes));
	if (!c.bes)
		return 0;
	/* What the operator gave: the verdicts are no part of it. */
	for (i = 0; i < svc->n_bes; i++) {
		c.bes[i] = svc->bes[i];
		c.bes[i].state = svc->health[i].admin;
	}
	c.table = svc->base ? svc->base : svc->table;
	h = klbd_replace_digest(&c);
	free(c.bes);
	return h;
}

int state_specs(const struct klbd_state *s, struct klb_service_spec **specs)
{
	struct klb_service_spec *sp;
	size_t i;

	sp = calloc(s->n_svcs ? s->n_svcs : 1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	for (i = 0; i < s->n_svcs; i++) {
		sp[i].key = s->svcs[i].key;
		sp[i].conf = s->svcs[i].conf;
		sp[i].backends = s->svcs[i].bes;
		sp[i].nr_backends = s->svcs[i].n_bes;
		sp[i].table = s->svcs[i].table;
	}
	*specs = sp;
	return 0;
}

/* Snapshot encoding: see Documentation/klbd.md. */

static uint8_t *put_ep(uint8_t *p, const struct klb_endpoint *ep)
{
	put_u16(p, ep->family);
	memset(p + 2, 0, 16);
	memcpy(p + 2, ep->addr, ep->family == AF_INET6 ? 16 : 4);
	put_u16(p + 18, ep->port);
	return p + EP_BYTES;
}

int state_encode(const struct klbd_state *s, uint8_t **out, size_t *len)
{
	size_t n = 12 + 8 + 4 + 4, i, j, n_leases = 0;
	uint8_t *buf, *p;

	for (i = 0; i < s->n_svcs; i++) {
		for (j = 0; j < s->svcs[i].n_bes; j++)
			n_leases += !!s->svcs[i].health[j].lease;
		n += SVC_BYTES + CHECK_BYTES + strlen(s->svcs[i].check.exec_name) +
		     s->svcs[i].n_bes * BE_BYTES;
		if (s->svcs[i].table)
			n += 2 * (size_t)s->svcs[i].conf.table_size;
		if (s->svcs[i].base)
			n += 2 * (size_t)s->svcs[i].conf.table_size;
	}
	n += n_leases * LEASE_BYTES;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	p = buf;
	put_u32(p, SNAP_MAGIC);
	put_u32(p + 4, STATE_SNAPSHOT_VERSION);
	put_u32(p + 8, s->n_svcs);
	p += 12;
	for (i = 0; i < s->n_svcs; i++) {
		const struct state_service *svc = &s->svcs[i];
		const struct klb_service_conf *c = &svc->conf;

		p[0] = svc->key.proto;
		p[1] = 0;
		p = put_ep(p + 2, &svc->key.vip);
		p[0] = c->sched;
		p[1] = c->fwd;
		put_u16(p + 2, 0);
		put_u32(p + 4, c->table_size);
		put_u32(p + 8, c->bound);
		put_u32(p + 12, c->flags);
		memcpy(p + 16, c->seed, KLB_SEED_LEN);
		p += 16 + KLB_SEED_LEN;
		put_u32(p, svc->n_bes);
		put_u32(p + 4, !!svc->table + !!svc->base);
		p += 8;
		p[0] = svc->check.type;
		p[1] = svc->check.rise;
		p[2] = svc->check.fall;
		p[3] = strlen(svc->check.exec_name);
		put_u16(p + 4, svc->check.port);
		put_u16(p + 6, svc->check.http_status);
		put_u32(p + 8, svc->check.interval_ms);
		put_u32(p + 12, svc->check.timeout_ms);
		put_u32(p + 16, 0);
		p[16] = svc->check.via_vip;
		memcpy(p + CHECK_BYTES, svc->check.exec_name, p[3]);
		p += CHECK_BYTES + p[3];
		for (j = 0; j < svc->n_bes; j++) {
			const struct klb_backend *be = &svc->bes[j];

			put_u16(p, be->id);
			p = put_ep(p + 2, &be->addr);
			put_u32(p, be->weight);
			p[4] = be->state;
			p[5] = svc->health[j].admin;
			put_u32(p + 6, svc->health[j].failing);
			p += 10;
		}
		if (svc->table) {
			for (j = 0; j < c->table_size; j++)
				put_u16(p + 2 * j, svc->table[j]);
			p += 2 * (size_t)c->table_size;
		}
		if (svc->base) {
			for (j = 0; j < c->table_size; j++)
				put_u16(p + 2 * j, svc->base[j]);
			p += 2 * (size_t)c->table_size;
		}
	}
	put_u64(p, s->lease_seq);
	put_u32(p + 8, n_leases);
	p += 12;
	for (i = 0; i < s->n_svcs; i++)
		for (j = 0; j < s->svcs[i].n_bes; j++) {
			const struct state_health *h = &s->svcs[i].health[j];

			if (!h->lease)
				continue;
			put_u32(p, i);
			put_u16(p + 4, s->svcs[i].bes[j].id);
			put_u16(p + 6, h->ttl);
			put_u64(p + 8, h->lease);
			p += LEASE_BYTES;
		}
	put_u32(p, s->bootstrapped ? SNAP_F_BOOTSTRAPPED : 0);
	*out = buf;
	*len = n;
	return 0;
}

struct snap_reader {
	const uint8_t *p, *end;
};

static const uint8_t *take(struct snap_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if ((size_t)(r->end - r->p) < n)
		return NULL;
	r->p += n;
	return p;
}

static int get_ep(const uint8_t *p, struct klb_endpoint *ep)
{
	size_t i;

	memset(ep, 0, sizeof(*ep));
	ep->family = get_u16(p);
	if (ep->family != AF_INET && ep->family != AF_INET6)
		return -1;
	if (ep->family == AF_INET)
		for (i = 6; i < 18; i++)
			if (p[i])
				return -1;
	memcpy(ep->addr, p + 2, ep->family == AF_INET6 ? 16 : 4);
	ep->port = get_u16(p + 18);
	return ep->port ? 0 : -1;
}

static int decode_check(struct snap_reader *r, uint32_t version,
			struct klbd_check *check)
{
	const struct klbd_check none = { 0 };
	struct klbd_check in = { .fields = KLBD_CHECK_F_ALL };
	const uint8_t *p, *name;

	if (version < 2)
		return klbd_check_merge(NULL, &none, check, NULL, 0);
	p = take(r, CHECK_BYTES);
	/* Version 2 had no names: its name length byte is 0. */
	/* Before version 5 (no via-vip) the last four bytes are 0. */
	if (!p || (version < 3 && p[3]) || get_u32(p + 16) > (version < 5 ? 0 : 1))
		return -EBADMSG;
	name = take(r, p[3]);
	if (!name || (p[3] != 0) != (p[0] == KLBD_CHECK_EXEC) ||
	    (p[3] && !klbd_check_name_valid((const char *)name, p[3])))
		return -EBADMSG;
	memcpy(in.exec_name, name, p[3]);
	in.type = p[0];
	in.rise = p[1];
	in.fall = p[2];
	in.port = get_u16(p + 4);
	in.http_status = get_u16(p + 6);
	in.interval_ms = get_u32(p + 8);
	in.timeout_ms = get_u32(p + 12);
	in.via_vip = p[16];
	return klbd_check_merge(NULL, &in, check, NULL, 0);
}

/* m ids into *out (malloc'd), each naming a backend in ids, or none. */
static int decode_ids(struct snap_reader *r, uint32_t m,
		      const struct klb_idset *ids, uint16_t **out,
		      const char *what, char *why, size_t len, size_t at)
{
	const uint8_t *p = take(r, 2 * (size_t)m);
	uint32_t j;

	if (!p)
		return klbd_why(why, len, -EBADMSG, "service %zu: truncated", at);
	*out = malloc(m * sizeof(**out));
	if (!*out)
		return klbd_why(why, len, -ENOMEM, "out of memory");
	for (j = 0; j < m; j++) {
		uint16_t id = get_u16(p + 2 * j);

		if (id != KLB_BACKEND_ID_NONE && !klb_idset_has(ids, id))
			return klbd_why(why, len, -EBADMSG,
				       "service %zu: %s names backend %u", at, what, id);
		(*out)[j] = id;
	}
	return 0;
}

/*
 * A base table is what the encoder keeps: it differs from the table in
 * one slot at least, and only where it reserves the slot for an
 * unavailable backend.
 */
static int check_base(const struct state_service *svc,
		      const struct klb_idset *unavailable, char *why,
		      size_t len, size_t at)
{
	uint32_t j, reserved = 0;

	for (j = 0; j < svc->conf.table_size; j++) {
		uint16_t b = svc->base[j];

		if (b == svc->table[j])
			continue;
		if (!klb_idset_has(unavailable, b))
			return klbd_why(why, len, -EBADMSG,
				       "service %zu: base table reserves slot %u for backend %u",
				       at, j, b);
		reserved++;
	}
	if (!reserved)
		return klbd_why(why, len, -EBADMSG,
			       "service %zu: base table reserves nothing", at);
	return 0;
}

/*
 * The tables after the backends: none, the table, or the table and its
 * base table. ids[0]: every backend, ids[1]: the unavailable ones.
 */
static int decode_tables(struct snap_reader *r, struct state_service *svc,
			 uint32_t tables, char *why, size_t len, size_t at)
{
	struct klb_idset *ids;
	size_t j;
	int err = 0;

	ids = calloc(2, sizeof(*ids));
	if (!ids)
		return klbd_why(why, len, -ENOMEM, "out of memory");
	for (j = 0; j < svc->n_bes; j++) {
		const struct klb_backend *be = &svc->bes[j];

		klb_idset_add(&ids[0], be->id);
		if (!klb_backend_takes_new_flows(be->state, be->weight))
			klb_idset_add(&ids[1], be->id);
	}
	if (tables > 0)
		err = decode_ids(r, svc->conf.table_size, &ids[0], &svc->table,
				 "table", why, len, at);
	if (!err && tables > 1)
		err = decode_ids(r, svc->conf.table_size, &ids[0], &svc->base,
				 "base table", why, len, at);
	if (!err && svc->base)
		err = check_base(svc, &ids[1], why, len, at);
	free(ids);
	return err;
}

static int decode_service(struct snap_reader *r, uint32_t version,
			  struct state_service *svc,
			  const struct state_service *prev, char *why, size_t len,
			  size_t at)
{
	const uint8_t *p = take(r, SVC_BYTES);
	struct klb_service_conf *c = &svc->conf;
	uint32_t n_bes, tables, j;
	int err;

	if (!p)
		return klbd_why(why, len, -EBADMSG, "service %zu: truncated", at);
	svc->key.proto = p[0];
	if ((p[0] != IPPROTO_TCP && p[0] != IPPROTO_UDP) || p[1] ||
	    get_ep(p + 2, &svc->key.vip))
		return klbd_why(why, len, -EBADMSG, "service %zu: bad key", at);
	if (prev && state_key_cmp(&prev->key, &svc->key) >= 0)
		return klbd_why(why, len, -EBADMSG, "service %zu: out of order", at);
	p += 2 + EP_BYTES;
	c->sched = p[0];
	c->fwd = p[1];
	c->table_size = get_u32(p + 4);
	c->bound = get_u32(p + 8);
	c->flags = get_u32(p + 12);
	memcpy(c->seed, p + 16, KLB_SEED_LEN);
	c->fields = KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE |
		    KLB_SVC_BOUND | KLB_SVC_SEED | KLB_SVC_FLAGS;
	p += 16 + KLB_SEED_LEN;
	n_bes = get_u32(p);
	tables = get_u32(p + 4);
	err = check_conf(c, why, len);
	if (err || get_u16(p - KLB_SEED_LEN - 14))
		return klbd_why(why, len, -EBADMSG, "service %zu: bad settings", at);
	/* Before version 3: a table or none, never a base table. */
	if (n_bes > STATE_MAX_BACKENDS || tables > (version < 3 ? 1 : 2) ||
	    (tables && !klb_sched_is_maglev(c->sched)))
		return klbd_why(why, len, -EBADMSG, "service %zu: bad counts", at);
	if (decode_check(r, version, &svc->check) ||
	    check_via_vip(c, &svc->check, NULL, 0))
		return klbd_why(why, len, -EBADMSG, "service %zu: bad check", at);
	svc->bes = calloc(n_bes ? n_bes : 1, sizeof(*svc->bes));
	svc->health = calloc(n_bes ? n_bes : 1, sizeof(*svc->health));
	if (!svc->bes || !svc->health)
		return klbd_why(why, len, -ENOMEM, "out of memory");
	for (j = 0; j < n_bes; j++) {
		struct klb_backend *be = &svc->bes[j];

		p = take(r, version < 2 ? BE_BYTES_V1 : BE_BYTES);
		if (!p)
			return klbd_why(why, len, -EBADMSG, "service %zu: truncated", at);
		be->fields = KLB_BE_WEIGHT | KLB_BE_STATE | KLB_BE_ID;
		be->id = get_u16(p);
		be->weight = get_u32(p + 2 + EP_BYTES);
		be->state = p[6 + EP_BYTES];
		svc->health[j].admin = version < 2 ? be->state : p[7 + EP_BYTES];
		svc->health[j].failing = version < 2 ? 0 : get_u32(p + 8 + EP_BYTES);
		if (svc->health[j].admin > KLB_BACKEND_DOWN ||
		    svc->health[j].failing >> (STATE_MAX_VOTERS - 1) >> 1)
			return klbd_why(why, len, -EBADMSG, "service %zu: backend %u bad",
				       at, j);
		if (be->id > KLB_BACKEND_ID_MAX || (j && be->id <= svc->bes[j - 1].id) ||
		    get_ep(p + 2, &be->addr) ||
		    be->addr.family != svc->key.vip.family ||
		    check_backend(be, NULL, 0))
			return klbd_why(why, len, -EBADMSG, "service %zu: backend %u bad",
				       at, j);
		svc->n_bes++;
	}
	return decode_tables(r, svc, tables, why, len, at);
}

/*
 * Version 4: the leases, after the services: the last lease given, then
 * each leased backend's, in the services' and backends' order, each
 * naming a backend once, none above the last.
 */
static int decode_leases(struct snap_reader *r, struct klbd_state *n,
			 char *why, size_t why_len)
{
	const uint8_t *p = take(r, 12);
	uint32_t count, k, svc, prev_svc = 0;
	size_t j, prev_be = 0;
	bool first = true;

	if (!p)
		return klbd_why(why, why_len, -EBADMSG, "leases truncated");
	n->lease_seq = get_u64(p);
	count = get_u32(p + 8);
	for (k = 0; k < count; k++) {
		struct state_service *sv;
		struct state_health *h;

		p = take(r, LEASE_BYTES);
		if (!p)
			return klbd_why(why, why_len, -EBADMSG, "leases truncated");
		svc = get_u32(p);
		if (svc >= n->n_svcs)
			return klbd_why(why, why_len, -EBADMSG, "lease %u: no service %u",
				       k, svc);
		sv = &n->svcs[svc];
		for (j = 0; j < sv->n_bes && sv->bes[j].id != get_u16(p + 4); j++)
			;
		if (j == sv->n_bes ||
		    (!first && (svc < prev_svc || (svc == prev_svc && j <= prev_be))))
			return klbd_why(why, why_len, -EBADMSG,
				       "lease %u: no such backend, or out of order", k);
		h = &sv->health[j];
		h->ttl = get_u16(p + 6);
		h->lease = get_u64(p + 8);
		if (h->ttl < KLBD_LEASE_TTL_MIN || h->ttl > KLBD_LEASE_TTL_MAX ||
		    !h->lease || h->lease > n->lease_seq)
			return klbd_why(why, why_len, -EBADMSG, "lease %u: bad ttl or number",
				       k);
		first = false;
		prev_svc = svc;
		prev_be = j;
	}
	return 0;
}

/*
 * Version 6: the flags, after the leases. Before it, a state that holds a
 * service was in use before bootstrap services existed: bootstrapped, so
 * that a bootstrap file added to such a cluster changes nothing in it.
 * An empty one was never given anything: it may still be bootstrapped.
 */
static int decode_flags(struct snap_reader *r, uint32_t version,
			struct klbd_state *n, char *why, size_t why_len)
{
	const uint8_t *p;

	if (version < 6) {
		n->bootstrapped = n->n_svcs > 0;
		return 0;
	}
	p = take(r, 4);
	if (!p)
		return klbd_why(why, why_len, -EBADMSG, "flags truncated");
	if (get_u32(p) & ~SNAP_F_BOOTSTRAPPED)
		return klbd_why(why, why_len, -EBADMSG, "unknown flags %#x",
			       get_u32(p) & ~SNAP_F_BOOTSTRAPPED);
	n->bootstrapped = get_u32(p) & SNAP_F_BOOTSTRAPPED;
	return 0;
}

int state_decode(struct klbd_state *s, const uint8_t *buf, size_t len,
		 char *why, size_t why_len)
{
	struct snap_reader r = { buf, buf + len };
	struct klbd_state n = { 0 };
	const uint8_t *p = take(&r, 12);
	uint32_t count, i, version;
	int err = 0;

	if (!p || get_u32(p) != SNAP_MAGIC)
		return klbd_why(why, why_len, -EBADMSG, "not a klbd state");
	version = get_u32(p + 4);
	if (version < 1 || version > STATE_SNAPSHOT_VERSION)
		return klbd_why(why, why_len, -EBADMSG, "state version %u, not 1 to %u",
			       version, STATE_SNAPSHOT_VERSION);
	count = get_u32(p + 8);
	if (count > STATE_MAX_SERVICES)
		return klbd_why(why, why_len, -EBADMSG, "%u services, over the limit",
			       count);
	n.svcs = calloc(count ? count : 1, sizeof(*n.svcs));
	if (!n.svcs)
		return klbd_why(why, why_len, -ENOMEM, "out of memory");
	for (i = 0; i < count && !err; i++) {
		err = decode_service(&r, version, &n.svcs[i], i ? &n.svcs[i - 1] : NULL,
				     why, why_len, i);
		n.n_svcs++;
	}
	if (!err && version >= 4)
		err = decode_leases(&r, &n, why, why_len);
	if (!err)
		err = decode_flags(&r, version, &n, why, why_len);
	if (!err && r.p != r.end)
		err = klbd_why(why, why_len, -EBADMSG, "bytes after the last %s",
			       version >= 6 ? "flags" : version >= 4 ? "lease" : "service");
	if (err) {
		state_free(&n);
		return err;
	}
	n.service_limit_hits = s->service_limit_hits;
	n.backend_limit_hits = s->backend_limit_hits;
	memcpy(n.voters, s->voters, sizeof(n.voters));
	n.n_voters = s->n_voters;
	state_free(s);
	*s = n;
	return 0;
}
