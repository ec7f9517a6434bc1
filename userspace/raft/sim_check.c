// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's safety checker. It sees every node's readies (entries to
 * persist, snapshots, commit index, entries applied) and the storage model's
 * durable state, and checks after every step:
 *
 *   Election Safety       at most one leader per term
 *   Leader Append-Only    a leader never truncates its log
 *   Log Matching          same (index, term) => same entry and same prefix:
 *                         every position carries a chained hash, and one
 *                         (index, term) must always have one chain
 *   Leader Completeness   a new leader holds every entry known committed
 *   State Machine Safety  all nodes commit and apply the same entry at an
 *                         index, and reach the same state there
 *   Durability            an entry is committed only once a majority holds
 *                         it durably (acknowledged by its real storage,
 *                         not in memory)
 *   Monotonicity          commit and applied never go backwards, durable
 *                         commit and snapshot not even across restarts
 *   One pending change    a leader never has two uncommitted conf entries
 *   ReadIndex             a read's index covers everything committed before
 *                         the read was asked
 */
#include <stdlib.h>
#include <string.h>

#include "raft/conf.h"
#include "raft/quorum.h"
#include "raft/sim.h"

struct chain_slot {
	uint64_t index;
	uint64_t term;
	uint64_t chain;
};

/* A configuration change as some log holds it. */
struct conf_change {
	uint64_t index;
	uint64_t term;
	uint32_t conf_id;
};

struct pending_read {
	uint64_t ctx;
	uint64_t need;
};

struct check {
	/* (index, term) -> chain, open addressing */
	struct chain_slot *slots;
	size_t n_slots;
	size_t used;
	/* committed[i]: chain (and term) of the committed entry at i (0: unknown) */
	uint64_t *committed;
	uint64_t *committed_term;
	uint32_t *commit_conf;	/* leader's configuration when it committed i, +1 */
	uint64_t *sm_at;
	size_t cap_committed;
	uint64_t commit_max;
	/* leader of each term; highest index seen committed in each term */
	uint64_t *leader_of;
	uint64_t *commit_in_term;
	size_t cap_terms;
	/* interned configurations */
	struct raft_conf *confs;
	size_t n_confs;
	size_t cap_confs;
	struct pending_read *reads;
	size_t n_reads;
	size_t cap_reads;
	/* configuration changes that may still take effect */
	struct conf_change *changes;
	size_t n_changes;
	size_t cap_changes;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

uint64_t check_chain(uint64_t prev, const struct raft_entry *e)
{
	uint64_t h = mix(prev, e->term);
	uint32_t i;

	h = mix(h, e->index);
	h = mix(h, e->type);
	for (i = 0; i < e->len; i++)
		h = mix(h, ((uint8_t *)e->data)[i]);
	return h | 1;	/* never 0: 0 means unknown */
}

struct check *check_new(void)
{
	struct check *c = calloc(1, sizeof(*c));
	struct raft_conf empty = { 0 };

	c->n_slots = 1 << 16;
	c->slots = calloc(c->n_slots, sizeof(*c->slots));
	check_conf_id(c, &empty);
	return c;
}

void check_free(struct check *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->committed);
	free(c->committed_term);
	free(c->commit_conf);
	free(c->sm_at);
	free(c->leader_of);
	free(c->commit_in_term);
	free(c->confs);
	free(c->reads);
	free(c->changes);
	free(c);
}

uint32_t check_conf_id(struct check *c, const struct raft_conf *conf)
{
	size_t i;

	for (i = c->n_confs; i-- > 0;)
		if (conf_equal(&c->confs[i], conf))
			return i;
	if (c->n_confs == c->cap_confs) {
		c->cap_confs = c->cap_confs ? c->cap_confs * 2 : 16;
		c->confs = realloc(c->confs, c->cap_confs * sizeof(*c->confs));
	}
	c->confs[c->n_confs] = *conf;
	return c->n_confs++;
}

const struct raft_conf *check_conf(struct check *c, uint32_t id)
{
	return &c->confs[id];
}

uint64_t check_commit_max(const struct check *c)
{
	return c->commit_max;
}

/* ---- (index, term) -> chain registry ---- */

static struct chain_slot *slot_find(struct check *c, uint64_t index, uint64_t term)
{
	size_t mask = c->n_slots - 1, i = mix(index, term) & mask;

	while (c->slots[i].chain && (c->slots[i].index != index || c->slots[i].term != term))
		i = (i + 1) & mask;
	return &c->slots[i];
}

static void slots_grow(struct check *c)
{
	struct chain_slot *old = c->slots;
	size_t n = c->n_slots, i;

	c->n_slots *= 2;
	c->slots = calloc(c->n_slots, sizeof(*c->slots));
	for (i = 0; i < n; i++)
		if (old[i].chain)
			*slot_find(c, old[i].index, old[i].term) = old[i];
	free(old);
}

/* Log Matching: one (index, term) has exactly one history. */
static void register_chain(struct sim *s, struct sim_node *n, uint64_t index, uint64_t term,
			   uint64_t chain)
{
	struct check *c = s->check;
	struct chain_slot *sl;

	if (c->used * 2 >= c->n_slots)
		slots_grow(c);
	sl = slot_find(c, index, term);
	if (!sl->chain) {
		sl->index = index;
		sl->term = term;
		sl->chain = chain;
		c->used++;
		return;
	}
	if (sl->chain != chain)
		sim_violation(s, "Log Matching: node %llu entry %llu term %llu has a different "
			      "history than another log's", (unsigned long long)n->id,
			      (unsigned long long)index, (unsigned long long)term);
}

static uint64_t lookup_chain(struct check *c, uint64_t index, uint64_t term)
{
	if (index == 0)
		return 0;
	return slot_find(c, index, term)->chain;
}

uint64_t check_chain_of(struct check *c, uint64_t index, uint64_t term)
{
	return lookup_chain(c, index, term);
}

/* ---- shadow logs ---- */

void shadow_reset(struct shadow_log *l, uint64_t index, uint64_t term, uint64_t chain,
		  uint32_t conf)
{
	l->base_index = index;
	l->base_term = term;
	l->base_chain = chain;
	l->base_conf = conf;
	l->n = 0;
}

void shadow_free(struct shadow_log *l)
{
	free(l->e);
	memset(l, 0, sizeof(*l));
}

uint64_t shadow_last(const struct shadow_log *l)
{
	return l->base_index + l->n;
}

const struct shadow_entry *shadow_at(const struct shadow_log *l, uint64_t index)
{
	if (index <= l->base_index || index > shadow_last(l))
		return NULL;
	return &l->e[index - l->base_index - 1];
}

static uint64_t shadow_chain(const struct shadow_log *l, uint64_t index)
{
	const struct shadow_entry *e = shadow_at(l, index);

	return e ? e->chain : index == l->base_index ? l->base_chain : 0;
}

static uint32_t shadow_conf(const struct shadow_log *l, uint64_t index)
{
	const struct shadow_entry *e = shadow_at(l, index);

	return e ? e->conf_id : l->base_conf;
}

static void ensure_committed(struct check *c, uint64_t index)
{
	if (index < c->cap_committed)
		return;
	size_t cap = c->cap_committed ? c->cap_committed : 1024;

	while (cap <= index)
		cap *= 2;
	c->committed = realloc(c->committed, cap * sizeof(*c->committed));
	c->sm_at = realloc(c->sm_at, cap * sizeof(*c->sm_at));
	c->committed_term = realloc(c->committed_term, cap * sizeof(*c->committed_term));
	c->commit_conf = realloc(c->commit_conf, cap * sizeof(*c->commit_conf));
	memset(c->commit_conf + c->cap_committed, 0,
	       (cap - c->cap_committed) * sizeof(*c->commit_conf));
	memset(c->committed + c->cap_committed, 0,
	       (cap - c->cap_committed) * sizeof(*c->committed));
	memset(c->sm_at + c->cap_committed, 0, (cap - c->cap_committed) * sizeof(*c->sm_at));
	c->cap_committed = cap;
}

/* Whether some majority of a and some majority of b have no voter in common. */
static bool majorities_disjoint(const struct raft_conf *a, const struct raft_conf *b)
{
	uint32_t both = 0, qa = a->n_voters / 2 + 1, qb = b->n_voters / 2 + 1, i;
	uint32_t need = 0;

	for (i = 0; i < a->n_voters; i++)
		both += conf_is_voter(b, a->voters[i]);
	/* Each majority takes its own voters first, then shared ones. */
	if (qa > a->n_voters - both)
		need += qa - (a->n_voters - both);
	if (qb > b->n_voters - both)
		need += qb - (b->n_voters - both);
	return need <= both;
}

/*
 * An entry (index, term) is dead once an entry of a later term is
 * committed: every later leader holds that one, and a log holding it holds
 * (index, term) only if it is in the committed prefix already.
 */
static bool change_live(const struct conf_change *cc, uint64_t committed_term)
{
	return committed_term <= cc->term;
}

/*
 * Configuration Safety: a change takes effect as soon as a log holds it,
 * so two changes on divergent branches that may both still commit must
 * have overlapping majorities, or each branch can elect and commit on its
 * own. Raft's rules make it impossible: a leader changes the configuration
 * only after committing an entry of its own term, which kills every change
 * of an earlier term that it does not hold. Checked as each change first
 * reaches a log.
 */
static void check_conf_change(struct sim *s, struct sim_node *n, const struct raft_entry *e,
			      uint32_t conf_id)
{
	struct check *c = s->check;
	struct conf_change cc = { e->index, e->term, conf_id };
	uint64_t committed_term = c->commit_max ? c->committed_term[c->commit_max] : 0, t = 0;
	struct raft_status st;
	size_t i, keep = 0;
	bool seen = false;

	/* The node's own commit may be newer than the checker has seen. */
	raft_status(n->r, &st);
	if (raft_term_at(n->r, st.commit, &t) == 0 && t > committed_term)
		committed_term = t;
	for (i = 0; i < c->n_changes; i++) {
		if (!change_live(&c->changes[i], committed_term))
			continue;
		if (c->changes[i].index == cc.index && c->changes[i].term == cc.term)
			seen = true;
		c->changes[keep++] = c->changes[i];
	}
	c->n_changes = keep;
	if (seen || !change_live(&cc, committed_term))
		return;
	for (i = 0; i < c->n_changes; i++) {
		const struct conf_change *o = &c->changes[i];
		const struct shadow_entry *se = shadow_at(&n->log, o->index);

		/*
		 * On this branch: of the same term (one leader made both),
		 * held by this log, or in its snapshot (committed, or dead).
		 */
		if (o->term == cc.term || o->index <= n->log.base_index ||
		    (o->index < cc.index && se && se->term == o->term))
			continue;
		if (majorities_disjoint(check_conf(c, o->conf_id), check_conf(c, conf_id)))
			sim_violation(s, "Configuration Safety: node %llu holds change %llu (term "
				      "%llu) while change %llu (term %llu) on another branch may "
				      "still commit, and their majorities can be disjoint",
				      (unsigned long long)n->id, (unsigned long long)cc.index,
				      (unsigned long long)cc.term, (unsigned long long)o->index,
				      (unsigned long long)o->term);
	}
	if (c->n_changes == c->cap_changes) {
		c->cap_changes = c->cap_changes ? c->cap_changes * 2 : 16;
		c->changes = realloc(c->changes, c->cap_changes * sizeof(*c->changes));
	}
	c->changes[c->n_changes++] = cc;
}

static bool still_leader(struct sim_node *n)
{
	struct raft_status st;

	raft_status(n->r, &st);
	return st.role == RAFT_LEADER && st.term == n->term;
}

void check_entries(struct sim *s, struct sim_node *n, const struct raft_entry *ents, size_t cnt)
{
	struct shadow_log *l = &n->log;
	uint64_t prev;
	size_t i;

	if (!cnt)
		return;
	if (ents[0].index > shadow_last(l) + 1 || ents[0].index <= l->base_index) {
		sim_violation(s, "node %llu persists entries from %llu, log is %llu..%llu",
			      (unsigned long long)n->id, (unsigned long long)ents[0].index,
			      (unsigned long long)l->base_index, (unsigned long long)shadow_last(l));
		return;
	}
	/* Leader Append-Only: a leader's entries only ever extend its log. */
	if (n->role == RAFT_LEADER && ents[0].index <= shadow_last(l) &&
	    still_leader(n))
		sim_violation(s, "Leader Append-Only: leader %llu rewrites its entry %llu",
			      (unsigned long long)n->id, (unsigned long long)ents[0].index);
	l->n = ents[0].index - l->base_index - 1;
	prev = shadow_chain(l, ents[0].index - 1);
	for (i = 0; i < cnt; i++) {
		const struct raft_entry *e = &ents[i];
		struct shadow_entry se = {
			.term = e->term,
			.type = e->type,
			.chain = check_chain(prev, e),
			.conf_id = shadow_conf(l, e->index - 1),
		};

		if (e->type == RAFT_ENTRY_CONF) {
			struct raft_conf conf;

			if (conf_decode(e->data, e->len, &conf) == 0)
				se.conf_id = check_conf_id(s->check, &conf);
			check_conf_change(s, n, e, se.conf_id);
			/* At most one uncommitted configuration change. */
			if (n->role == RAFT_LEADER && !s->opt.no_pending_check) {
				struct raft_status st;
				uint64_t j;

				raft_status(n->r, &st);
				for (j = st.commit + 1; j < e->index; j++) {
					const struct shadow_entry *o = shadow_at(l, j);

					if (o && o->type == RAFT_ENTRY_CONF)
						sim_violation(s, "leader %llu appends conf change %llu "
							      "while %llu is pending",
							      (unsigned long long)n->id,
							      (unsigned long long)e->index,
							      (unsigned long long)j);
				}
			}
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			l->e = realloc(l->e, l->cap * sizeof(*l->e));
		}
		l->e[l->n++] = se;
		register_chain(s, n, e->index, e->term, se.chain);
		prev = se.chain;
	}
}

void check_snapshot(struct sim *s, struct sim_node *n, const struct raft_snapshot *snap)
{
	struct check *c = s->check;
	uint64_t idx = snap->meta.index;
	uint64_t chain = lookup_chain(c, idx, snap->meta.term);

	ensure_committed(c, idx);
	if (!chain || (c->committed[idx] && c->committed[idx] != chain))
		sim_violation(s, "node %llu installs snapshot %llu/%llu that matches no "
			      "committed entry", (unsigned long long)n->id,
			      (unsigned long long)idx, (unsigned long long)snap->meta.term);
	shadow_reset(&n->log, idx, snap->meta.term, chain,
		     check_conf_id(c, &snap->meta.conf));
}

static size_t durable_holders(struct sim *s, uint64_t index, uint64_t chain,
			      const struct raft_conf *conf)
{
	size_t held = 0;
	uint32_t v;

	for (v = 0; v < conf->n_voters; v++) {
		const struct sim_node *o;
		const struct disk *d;

		if (conf->voters[v] > (uint64_t)s->n_nodes)
			continue;
		o = &s->nodes[conf->voters[v]];
		d = &o->disk;
		if (d->snap.index >= index)
			held++;
		else if (index - d->snap.index <= d->n &&
			 d->chains[index - d->snap.index - 1] == chain)
			held++;
	}
	return held;
}

static void ensure_terms(struct check *c, uint64_t term)
{
	size_t cap = c->cap_terms ? c->cap_terms : 64;

	if (term < c->cap_terms)
		return;
	while (cap <= term)
		cap *= 2;
	c->leader_of = realloc(c->leader_of, cap * sizeof(*c->leader_of));
	c->commit_in_term = realloc(c->commit_in_term, cap * sizeof(*c->commit_in_term));
	memset(c->leader_of + c->cap_terms, 0, (cap - c->cap_terms) * sizeof(*c->leader_of));
	memset(c->commit_in_term + c->cap_terms, 0,
	       (cap - c->cap_terms) * sizeof(*c->commit_in_term));
	c->cap_terms = cap;
}

void check_commit(struct sim *s, struct sim_node *n, uint64_t commit)
{
	struct check *c = s->check;
	struct raft_status st;
	uint64_t i, from = n->commit + 1;

	if (commit < n->commit) {
		sim_violation(s, "node %llu commit index went back from %llu to %llu",
			      (unsigned long long)n->id, (unsigned long long)n->commit,
			      (unsigned long long)commit);
		return;
	}
	ensure_committed(c, commit);
	raft_status(n->r, &st);
	ensure_terms(c, st.term);
	if (from <= n->log.base_index)
		from = n->log.base_index + 1;
	for (i = from; i <= commit; i++) {
		const struct shadow_entry *e = shadow_at(&n->log, i);

		if (!e) {
			sim_violation(s, "node %llu commits %llu beyond its log",
				      (unsigned long long)n->id, (unsigned long long)i);
			return;
		}
		if (c->committed[i]) {
			if (c->committed[i] != e->chain)
				sim_violation(s, "State Machine Safety: node %llu commits a "
					      "different entry %llu (term %llu) than another node",
					      (unsigned long long)n->id, (unsigned long long)i,
					      (unsigned long long)e->term);
			continue;
		}
		c->committed[i] = e->chain;
		c->committed_term[i] = e->term;
		if (i > c->commit_max)
			c->commit_max = i;
		if (i > c->commit_in_term[st.term])
			c->commit_in_term[st.term] = i;
		/*
		 * Durability: a majority has it on disk (of the configuration at
		 * the entry or of the newest one: single-server changes overlap).
		 */
		{
			const struct raft_conf *at = check_conf(c, e->conf_id);

			const struct raft_conf *by = c->commit_conf[i] ?
						     check_conf(c, c->commit_conf[i] - 1) : at;

			if (!quorum_is_majority(at->n_voters,
						durable_holders(s, i, e->chain, at)) &&
			    !quorum_is_majority(st.conf.n_voters,
						durable_holders(s, i, e->chain, &st.conf)) &&
			    !quorum_is_majority(by->n_voters,
						durable_holders(s, i, e->chain, by)))
				sim_violation(s, "entry %llu committed by node %llu before a "
					      "majority had it durably", (unsigned long long)i,
					      (unsigned long long)n->id);
		}
		s->commits++;
	}
	n->commit = commit;
}

uint64_t check_sm_at(struct check *c, uint64_t index, uint64_t hash, bool *mismatch)
{
	ensure_committed(c, index);
	*mismatch = false;
	if (!c->sm_at[index])
		c->sm_at[index] = hash | 1;
	else if (c->sm_at[index] != (hash | 1))
		*mismatch = true;
	return c->sm_at[index];
}

void check_apply(struct sim *s, struct sim_node *n, const struct raft_entry *e)
{
	struct check *c = s->check;
	const struct shadow_entry *se = shadow_at(&n->log, e->index);
	bool mismatch;

	if (e->index != n->applied + 1) {
		sim_violation(s, "node %llu applies %llu after %llu", (unsigned long long)n->id,
			      (unsigned long long)e->index, (unsigned long long)n->applied);
		return;
	}
	ensure_committed(c, e->index);
	if (e->index > n->commit || !c->committed[e->index] || !se ||
	    se->chain != c->committed[e->index])
		sim_violation(s, "State Machine Safety: node %llu applies entry %llu that is not "
			      "the committed one", (unsigned long long)n->id,
			      (unsigned long long)e->index);
	n->applied = e->index;
	if (e->type == RAFT_ENTRY_NORMAL && e->len)
		n->sm_hash = check_chain(n->sm_hash, e);
	check_sm_at(c, e->index, n->sm_hash, &mismatch);
	if (mismatch)
		sim_violation(s, "State Machine Safety: node %llu state at %llu differs",
			      (unsigned long long)n->id, (unsigned long long)e->index);
}

void check_role(struct sim *s, struct sim_node *n)
{
	struct check *c = s->check;
	struct raft_status st;

	raft_status(n->r, &st);
	if (st.role == RAFT_LEADER && (n->role != RAFT_LEADER || n->term != st.term)) {
		uint64_t cm = 0, tm;

		ensure_terms(c, st.term);
		/*
		 * The paper's guarantee covers entries committed in earlier
		 * terms: a leader elected late in an old term may lack newer
		 * commits. Commit terms are recorded as the committing
		 * observer's term, never below the real one: sound.
		 */
		for (tm = 0; tm < st.term; tm++)
			if (c->commit_in_term[tm] > cm)
				cm = c->commit_in_term[tm];
		if (c->leader_of[st.term] && c->leader_of[st.term] != n->id)
			sim_violation(s, "Election Safety: nodes %llu and %llu both lead term %llu",
				      (unsigned long long)c->leader_of[st.term],
				      (unsigned long long)n->id, (unsigned long long)st.term);
		c->leader_of[st.term] = n->id;
		s->elections++;
		/*
		 * Leader Completeness: everything committed so far is here. The
		 * core's own log is read (the shadow may lag behind a write in
		 * flight); equal terms at one index mean equal prefixes, which
		 * the Log Matching check covers.
		 */
		if (cm > st.snap_index) {
			uint64_t t = 0;

			if (raft_term_at(n->r, cm, &t) || t != c->committed_term[cm])
				sim_violation(s, "Leader Completeness: leader %llu of term %llu lacks "
					      "committed entry %llu", (unsigned long long)n->id,
					      (unsigned long long)st.term, (unsigned long long)cm);
		} else if (st.snap_index && c->committed_term[st.snap_index] &&
			   c->committed_term[st.snap_index] != st.snap_term) {
			sim_violation(s, "Leader Completeness: leader %llu snapshot differs",
				      (unsigned long long)n->id);
		}
	}
	if (st.term < n->term)
		sim_violation(s, "node %llu term went back", (unsigned long long)n->id);
	n->role = st.role;
	n->term = st.term;
}

void check_leader_commit(struct sim *s, struct sim_node *n)
{
	struct check *c = s->check;
	struct raft_status st;
	uint64_t i;

	raft_status(n->r, &st);
	if (st.commit < n->core_commit)
		n->core_commit = st.commit;	/* restarted */
	if (st.role != RAFT_LEADER || st.commit <= n->core_commit)
		return;
	ensure_committed(c, st.commit);
	i = n->core_commit > st.snap_index ? n->core_commit : st.snap_index;
	for (i++; i <= st.commit; i++)
		if (!c->commit_conf[i])
			c->commit_conf[i] = check_conf_id(c, &st.conf) + 1;
	n->core_commit = st.commit;
}

void check_read_issued(struct sim *s, struct sim_node *n, uint64_t ctx)
{
	struct check *c = s->check;

	if (c->n_reads == c->cap_reads) {
		c->cap_reads = c->cap_reads ? c->cap_reads * 2 : 64;
		c->reads = realloc(c->reads, c->cap_reads * sizeof(*c->reads));
	}
	c->reads[c->n_reads].ctx = ctx;
	c->reads[c->n_reads].need = c->commit_max;
	c->n_reads++;
}

void check_read_released(struct sim *s, struct sim_node *n, const struct raft_read *rd)
{
	struct check *c = s->check;
	size_t i;

	for (i = 0; i < c->n_reads; i++) {
		if (c->reads[i].ctx != rd->ctx)
			continue;
		if (rd->index < c->reads[i].need)
			sim_violation(s, "stale read: node %llu serves read %llu at index %llu, "
				      "but %llu was committed before it was asked",
				      (unsigned long long)n->id, (unsigned long long)rd->ctx,
				      (unsigned long long)rd->index,
				      (unsigned long long)c->reads[i].need);
		c->reads[i] = c->reads[--c->n_reads];
		s->reads++;
		return;
	}
}

void check_restart(struct sim *s, struct sim_node *n)
{
	const struct disk *d = &n->disk;

	if (d->hs.commit < n->max_durable_commit)
		sim_violation(s, "node %llu durable commit went back from %llu to %llu",
			      (unsigned long long)n->id, (unsigned long long)n->max_durable_commit,
			      (unsigned long long)d->hs.commit);
	if (d->snap.index < n->max_durable_snap)
		sim_violation(s, "node %llu durable snapshot went back",
			      (unsigned long long)n->id);
	n->max_durable_commit = d->hs.commit;
	n->max_durable_snap = d->snap.index;
}
