// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated world: nodes running the real core behind a host that
 * persists through a storage model, a network that loses, duplicates,
 * delays and partitions, a client, and a fault scheduler whose mix of
 * faults is drawn from the seed. Every step is one event off a heap ordered
 * by (virtual time, sequence number), so a seed replays exactly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "raft/conf.h"
#include "raft/sim.h"

enum event_kind {
	EV_TICK,
	EV_DELIVER,
	EV_SYNC,
	EV_CLIENT,
	EV_FAULT,
	EV_HEAL_NET,
	EV_RESTART,
	EV_UNPAUSE,
	EV_DROP,	/* trace only */
	EV_CRASH,	/* trace only */
};

static const char *const event_names[] = {
	"tick", "deliver", "sync", "client", "fault", "heal-net", "restart", "unpause",
	"drop", "crash",
};

#define LIVENESS_MS 30000

void sim_violation(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	if (s->violation[0])
		return;
	off = snprintf(s->violation, sizeof(s->violation), "step %llu t=%llums: ",
		       (unsigned long long)s->steps, (unsigned long long)s->now);
	va_start(ap, fmt);
	vsnprintf(s->violation + off, sizeof(s->violation) - off, fmt, ap);
	va_end(ap);
}

static void trace(struct sim *s, int kind, int node, const struct raft_msg *m, uint64_t a)
{
	struct sim_trace *t = &s->trace[s->n_trace++ % (sizeof(s->trace) / sizeof(s->trace[0]))];

	memset(t, 0, sizeof(*t));
	t->time = s->now;
	t->kind = kind;
	t->node = node;
	t->a = a;
	if (m) {
		t->msg_type = m->type;
		t->a = m->from;
		t->b = m->to;
		t->c = m->term;
		t->d = m->index;
		t->n_entries = m->n_entries;
		t->reject = m->reject;
		t->commit = m->commit;
	}
	if (s->opt.trace_all)
		sim_dump_trace(s, stdout), s->n_trace = 0;
}

static void print_trace(const struct sim_trace *t, FILE *f)
{
	fprintf(f, "  %8llu ms  %-8s node %d", (unsigned long long)t->time,
		event_names[t->kind], t->node);
	if (t->msg_type)
		fprintf(f, "  %s %llu->%llu term %llu index %llu entries %u commit %llu%s",
			raft_msg_name(t->msg_type), (unsigned long long)t->a,
			(unsigned long long)t->b, (unsigned long long)t->c,
			(unsigned long long)t->d, t->n_entries, (unsigned long long)t->commit,
			t->reject ? " reject" : "");
	else if (t->a)
		fprintf(f, "  %llu", (unsigned long long)t->a);
	fputc('\n', f);
}

void sim_dump_trace(const struct sim *s, FILE *f)
{
	size_t cap = sizeof(s->trace) / sizeof(s->trace[0]);
	uint64_t i = s->n_trace > cap ? s->n_trace - cap : 0;

	for (; i < s->n_trace; i++)
		print_trace(&s->trace[i % cap], f);
}

/* ---- event heap ---- */

static bool ev_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void schedule(struct sim *s, uint64_t at, int kind, int node, uint64_t gen,
		     struct raft_msg *msg)
{
	struct sim_event ev = { at, s->seq++, kind, node, gen, msg };
	size_t i;

	if (s->n_heap == s->cap_heap) {
		s->cap_heap = s->cap_heap ? s->cap_heap * 2 : 1024;
		s->heap = realloc(s->heap, s->cap_heap * sizeof(*s->heap));
	}
	i = s->n_heap++;
	while (i && ev_before(&ev, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = ev;
}

static struct sim_event pop(struct sim *s)
{
	struct sim_event top = s->heap[0], last = s->heap[--s->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n_heap)
			break;
		if (c + 1 < s->n_heap && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->n_heap)
		s->heap[i] = last;
	return top;
}

/* ---- messages ---- */

static struct raft_msg *msg_copy(const struct raft_msg *m)
{
	struct raft_msg *c = malloc(sizeof(*c));
	uint32_t i;

	*c = *m;
	c->entries = NULL;
	c->snap_data = NULL;
	if (m->n_entries) {
		c->entries = malloc(m->n_entries * sizeof(*c->entries));
		for (i = 0; i < m->n_entries; i++) {
			c->entries[i] = m->entries[i];
			c->entries[i].data = NULL;
			if (m->entries[i].len) {
				c->entries[i].data = malloc(m->entries[i].len);
				memcpy(c->entries[i].data, m->entries[i].data, m->entries[i].len);
			}
		}
	}
	if (m->snap_len) {
		c->snap_data = malloc(m->snap_len);
		memcpy(c->snap_data, m->snap_data, m->snap_len);
	}
	return c;
}

static void msg_release(struct raft_msg *m)
{
	uint32_t i;

	for (i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
	free(m->snap_data);
}

static void msg_destroy(struct raft_msg *m)
{
	if (!m)
		return;
	msg_release(m);
	free(m);
}

static void net_send(struct sim *s, const struct raft_msg *m)
{
	int copies = 1, i;

	if (m->to < 1 || m->to > (uint64_t)s->n_nodes || s->blocked[m->from][m->to] ||
	    (!s->healing && prng_chance(&s->prng, s->p_drop))) {
		trace(s, EV_DROP, m->from, m, 0);
		return;
	}
	if (m->type == RAFT_MSG_SNAPSHOT && m->snap_offset == 0)
		s->snapshots_sent++;
	if (!s->healing && prng_chance(&s->prng, s->p_dup))
		copies = 2;
	for (i = 0; i < copies; i++) {
		uint64_t delay = 1 + prng_below(&s->prng, s->max_delay);

		if (!s->healing && prng_chance(&s->prng, s->p_long_delay))
			delay += prng_below(&s->prng, 300);	/* reordering */
		schedule(s, s->now + delay, EV_DELIVER, m->to, 0, msg_copy(m));
	}
}

/* ---- storage model ---- */

static void entry_copy(struct raft_entry *dst, const struct raft_entry *src)
{
	*dst = *src;
	dst->data = NULL;
	if (src->len) {
		dst->data = malloc(src->len);
		memcpy(dst->data, src->data, src->len);
	}
}

static void disk_truncate(struct disk *d, size_t keep)
{
	while (d->n > keep)
		free(d->ents[--d->n].data);
}

static void disk_push(struct disk *d, const struct raft_entry *e, uint64_t chain)
{
	if (e->index <= d->snap.index)
		return;
	disk_truncate(d, e->index - d->snap.index - 1);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->ents = realloc(d->ents, d->cap * sizeof(*d->ents));
		d->chains = realloc(d->chains, d->cap * sizeof(*d->chains));
	}
	entry_copy(&d->ents[d->n], e);
	d->chains[d->n] = chain;
	d->n++;
}

static void disk_set_snapshot(struct disk *d, const struct raft_snapshot_meta *meta,
			      const uint8_t *data, uint64_t chain, bool reset)
{
	size_t drop = 0, i;

	if (reset) {
		disk_truncate(d, 0);
	} else {
		while (drop < d->n && d->ents[drop].index <= meta->index)
			drop++;
		for (i = 0; i < drop; i++)
			free(d->ents[i].data);
		memmove(d->ents, d->ents + drop, (d->n - drop) * sizeof(*d->ents));
		memmove(d->chains, d->chains + drop, (d->n - drop) * sizeof(*d->chains));
		d->n -= drop;
	}
	d->snap = *meta;
	memcpy(d->snap_data, data, sizeof(d->snap_data));
	d->snap_chain = chain;
}

static void write_free(struct disk_write *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->ents[i].data);
	free(w->ents);
	free(w->chains);
}

/* Make the first 'records' records of pending writes durable (all: -1). */
static void disk_settle(struct disk *d, int64_t records)
{
	size_t i, j;

	for (i = 0; i < d->n_pending; i++) {
		struct disk_write *w = &d->pending[i];

		if (w->has_snap && records-- != 0)
			disk_set_snapshot(d, &w->snap, w->snap_data, w->snap_chain, true);
		else if (w->has_snap)
			records = 0;
		for (j = 0; j < w->n && records != 0; j++, records--)
			disk_push(d, &w->ents[j], w->chains[j]);
		if (w->has_hs && records != 0) {
			d->hs = w->hs;
			records--;
		}
		write_free(w);
	}
	d->n_pending = 0;
}

static size_t disk_pending_records(const struct disk *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n_pending; i++)
		n += d->pending[i].has_snap + d->pending[i].n + d->pending[i].has_hs;
	return n;
}

static void disk_write(struct sim_node *n, const struct raft_ready *rd)
{
	struct disk *d = &n->disk;
	struct disk_write *w;
	size_t i;

	if (d->n_pending == d->cap_pending) {
		d->cap_pending = d->cap_pending ? d->cap_pending * 2 : 8;
		d->pending = realloc(d->pending, d->cap_pending * sizeof(*d->pending));
	}
	w = &d->pending[d->n_pending++];
	memset(w, 0, sizeof(*w));
	if (rd->snapshot) {
		w->has_snap = true;
		w->snap = rd->snapshot->meta;
		memcpy(w->snap_data, rd->snapshot->data, sizeof(w->snap_data));
		w->snap_chain = n->log.base_chain;
	}
	if (rd->n_entries) {
		w->ents = malloc(rd->n_entries * sizeof(*w->ents));
		w->chains = malloc(rd->n_entries * sizeof(*w->chains));
		for (i = 0; i < rd->n_entries; i++) {
			entry_copy(&w->ents[i], &rd->entries[i]);
			w->chains[i] = shadow_at(&n->log, rd->entries[i].index)->chain;
		}
		w->n = rd->n_entries;
	}
	if (rd->hs_changed) {
		w->has_hs = true;
		w->hs = rd->hs;
	}
}

static void disk_free(struct disk *d)
{
	disk_settle(d, 0);
	disk_truncate(d, 0);
	free(d->ents);
	free(d->chains);
	free(d->pending);
	memset(d, 0, sizeof(*d));
}

/* ---- node hosts ---- */

static void sm_encode(const struct sim_node *n, uint8_t *buf)
{
	memcpy(buf, &n->sm_hash, 8);
	memcpy(buf + 8, &n->applied, 8);
}

static void node_config(struct sim *s, struct sim_node *n, struct raft_config *cfg)
{
	struct prng p;

	/* Per-seed knobs, the same for every node and restart. */
	prng_seed(&p, s->opt.seed ^ 0x5eed);
	raft_config_default(cfg, n->id, s->opt.seed * 1000003 + n->id * 131 + n->restarts);
	cfg->election_ticks = s->opt.election_ticks;
	cfg->heartbeat_ticks = s->opt.heartbeat_ticks;
	cfg->pre_vote = prng_chance(&p, 700);
	cfg->check_quorum = prng_chance(&p, 700);
	/*
	 * Without PreVote and CheckQuorum, a removed server that has not
	 * learned of its removal can depose every leader forever (Raft
	 * dissertation 4.2.3); liveness is only claimed with one of them.
	 */
	if (!cfg->pre_vote && !cfg->check_quorum && s->w_conf)
		cfg->check_quorum = true;
	if (s->opt.no_faults) {
		cfg->pre_vote = true;
		cfg->check_quorum = true;
	}
	/*
	 * Tiny messages (one entry each) open windows where a leader has
	 * acknowledgements for old entries but not yet for its own.
	 */
	cfg->max_msg_bytes = prng_chance(&p, 500) ? 8 + prng_below(&p, 32) :
						    256 + prng_below(&p, 4096);
	cfg->max_inflight_msgs = 1 + prng_below(&p, 16);
	/* Bounded, so the liveness deadline bounds the catch-up work too. */
	cfg->max_uncommitted_bytes = 128 + prng_below(&p, 2048);
	cfg->snapshot_chunk_bytes = 3 + prng_below(&p, 16);
	cfg->bugs = s->opt.bugs;
}

static void node_start(struct sim *s, struct sim_node *n)
{
	struct disk *d = &n->disk;
	struct raft_config cfg;
	struct raft_boot boot = {
		.hs = d->hs,
		.snap = d->snap,
		.snap_data = d->snap_data,
		.snap_len = sizeof(d->snap_data),
		.entries = d->ents,
		.n_entries = d->n,
		.applied = d->snap.index,
	};
	struct raft_status st;
	size_t i;
	int err;

	node_config(s, n, &cfg);
	check_restart(s, n);
	err = raft_new(&n->r, &cfg, &boot);
	if (err) {
		sim_violation(s, "node %llu cannot boot from its storage: %s",
			      (unsigned long long)n->id, strerror(-err));
		return;
	}
	n->up = true;
	n->writing = false;
	memcpy(&n->sm_hash, d->snap_data, 8);
	n->applied = d->snap.index;
	shadow_reset(&n->log, d->snap.index, d->snap.term, d->snap_chain,
		     check_conf_id(s->check, &d->snap.conf));
	for (i = 0; i < d->n; i++) {
		/* The durable log replays into the shadow; same chains. */
		check_entries(s, n, &d->ents[i], 1);
		if (n->log.e[n->log.n - 1].chain != d->chains[i])
			sim_violation(s, "node %llu storage chain mismatch at %llu",
				      (unsigned long long)n->id,
				      (unsigned long long)d->ents[i].index);
	}
	raft_status(n->r, &st);
	n->commit = d->snap.index;
	n->role = st.role;
	n->term = st.term;
	check_commit(s, n, st.commit);
}

static void node_crash(struct sim *s, struct sim_node *n)
{
	struct disk *d = &n->disk;
	size_t i;

	if (!n->up)
		return;
	/*
	 * Lose what was not synced, keeping a random prefix: a torn write
	 * that recovery cuts at the first bad record.
	 */
	disk_settle(d, prng_below(&s->prng, disk_pending_records(d) + 1));
	raft_free(n->r);
	n->r = NULL;
	n->up = false;
	n->writing = false;
	for (i = 0; i < n->n_after; i++)
		msg_release(&n->after[i]);
	free(n->after);
	n->after = NULL;
	n->n_after = 0;
	n->restarts++;
	n->role = RAFT_FOLLOWER;
	s->crashes++;
	trace(s, EV_CRASH, n->id, NULL, 0);
}

static void node_restart_later(struct sim *s, struct sim_node *n, uint64_t after)
{
	schedule(s, s->now + after, EV_RESTART, n->id, n->restarts, NULL);
}

static void decommission_removed(struct sim *s, const struct raft_entry *e)
{
	struct raft_conf conf;
	int i;

	/*
	 * Only the newest configuration counts; a lagging node may apply
	 * an older one long after.
	 */
	if (e->index <= s->conf_applied || conf_decode(e->data, e->len, &conf))
		return;
	s->conf_applied = e->index;
	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *o = &s->nodes[i];

		if (!conf_is_voter(&conf, o->id) && !conf_is_learner(&conf, o->id) && !o->removed) {
			/* Out of the cluster for good: an operator shuts it down. */
			o->removed = true;
			node_crash(s, o);
		}
	}
}

static void node_process(struct sim *s, struct sim_node *n);

static void node_apply(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	size_t i;

	if (rd->snapshot) {
		bool mismatch;

		memcpy(&n->sm_hash, rd->snapshot->data, 8);
		n->applied = rd->snapshot->meta.index;
		check_sm_at(s->check, n->applied, n->sm_hash, &mismatch);
		if (mismatch)
			sim_violation(s, "node %llu restores a snapshot whose state differs",
				      (unsigned long long)n->id);
	}
	for (i = 0; i < rd->n_committed; i++) {
		const struct raft_entry *e = &rd->committed[i];

		check_apply(s, n, e);
		if (e->type == RAFT_ENTRY_CONF) {
			decommission_removed(s, e);
			/*
			 * It removed this node, which is shut down: the core
			 * is freed and the ready's entries with it.
			 */
			if (!n->up)
				return;
		}
		else if (e->len == 8 && s->healing) {
			uint64_t id;

			memcpy(&id, e->data, 8);
			if (id >= s->heal_payload)
				s->live_ok = true;
		}
	}
	if (n->up && n->applied)
		raft_applied(n->r, n->applied);
}

static void node_process(struct sim *s, struct sim_node *n)
{
	struct raft_ready rd;
	size_t i;

	/*
	 * Roles are checked as soon as they change, even while a write is
	 * in flight and no ready is taken.
	 */
	if (n->up) {
		check_role(s, n);
		check_leader_commit(s, n);
	}
	while (n->up && !n->writing && s->now >= n->paused_until && raft_has_ready(n->r) &&
	       !s->violation[0]) {
		raft_ready(n->r, &rd);
		if (rd.snapshot)
			check_snapshot(s, n, rd.snapshot);
		check_entries(s, n, rd.entries, rd.n_entries);
		check_role(s, n);
		check_commit(s, n, rd.hs.commit);
		for (i = 0; i < rd.n_msgs; i++)
			net_send(s, &rd.msgs[i]);
		if (rd.snapshot || rd.n_entries || rd.hs_changed)
			disk_write(n, &rd);
		if (rd.must_sync) {
			n->writing = true;
			n->write_gen++;
			n->ack_index = rd.persist_index;
			n->ack_term = rd.persist_term;
			n->n_after = rd.n_msgs_after_persist;
			n->after = n->n_after ? malloc(n->n_after * sizeof(*n->after)) : NULL;
			for (i = 0; i < n->n_after; i++) {
				struct raft_msg *c = msg_copy(&rd.msgs_after_persist[i]);

				n->after[i] = *c;
				free(c);
			}
			/* fsync latency: usually short, sometimes slow */
			schedule(s, s->now + (!s->opt.no_faults && prng_chance(&s->prng, 50) ?
					      20 + prng_below(&s->prng, 80) :
					      1 + prng_below(&s->prng, 3)),
				 EV_SYNC, n->id, n->write_gen, NULL);
		} else {
			for (i = 0; i < rd.n_msgs_after_persist; i++)
				net_send(s, &rd.msgs_after_persist[i]);
		}
		node_apply(s, n, &rd);
		if (!n->up)
			break;	/* shut down while applying: rd is gone */
		for (i = 0; i < rd.n_reads; i++)
			check_read_released(s, n, &rd.reads[i]);
	}
}

static void node_synced(struct sim *s, struct sim_node *n)
{
	size_t i;

	disk_settle(&n->disk, -1);
	if (n->disk.hs.commit > n->max_durable_commit)
		n->max_durable_commit = n->disk.hs.commit;
	if (n->disk.snap.index > n->max_durable_snap)
		n->max_durable_snap = n->disk.snap.index;
	n->writing = false;
	for (i = 0; i < n->n_after; i++) {
		net_send(s, &n->after[i]);
		msg_release(&n->after[i]);
	}
	free(n->after);
	n->after = NULL;
	n->n_after = 0;
	if (n->ack_index)
		raft_persisted(n->r, n->ack_index, n->ack_term);
	node_process(s, n);
}

/* ---- client and faults ---- */

static struct sim_node *find_leader(struct sim *s)
{
	struct sim_node *best = NULL;
	int i;

	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (n->up && n->role == RAFT_LEADER && (!best || n->term > best->term))
			best = n;
	}
	return best;
}

static void client_step(struct sim *s)
{
	struct sim_node *n = find_leader(s);
	uint64_t ids[4];
	struct raft_buf bufs[4];
	int k, i;

	schedule(s, s->now + (s->healing ? 50 : s->opt.no_faults ? 200 :
			      3 + prng_below(&s->prng, 20)), EV_CLIENT, 0, 0, NULL);
	if (!n || s->now < n->paused_until)
		return;
	k = 1 + prng_below(&s->prng, 4);
	for (i = 0; i < k; i++) {
		ids[i] = s->next_payload++;
		bufs[i] = (struct raft_buf){ &ids[i], 8 };
	}
	raft_propose(n->r, bufs, k, NULL);
	if (prng_chance(&s->prng, 200)) {
		uint64_t ctx = ++s->next_read;

		if (raft_read_index(n->r, ctx) == 0)
			check_read_issued(s, n, ctx);
	}
	node_process(s, n);
}

static void fault_partition(struct sim *s)
{
	int i, j, kind = prng_below(&s->prng, 4);
	uint64_t mask = 0;

	memset(s->blocked, 0, sizeof(s->blocked));
	switch (kind) {
	case 0:		/* one node isolated, often the leader */
		mask = 1ULL << (1 + prng_below(&s->prng, s->n_nodes));
		if (find_leader(s) && prng_chance(&s->prng, 500))
			mask = 1ULL << find_leader(s)->id;
		break;
	case 1:		/* random symmetric split */
		mask = prng_next(&s->prng);
		break;
	case 2:		/* asymmetric: some directed links cut */
		for (i = 0; i < 1 + (int)prng_below(&s->prng, 4); i++) {
			int a = 1 + prng_below(&s->prng, s->n_nodes);
			int b = 1 + prng_below(&s->prng, s->n_nodes);

			s->blocked[a][b] = true;
		}
		break;
	case 3:		/* flapping: a split that heals soon, then maybe again */
		mask = prng_next(&s->prng);
		schedule(s, s->now + 10 + prng_below(&s->prng, 60), EV_HEAL_NET, 0, 0, NULL);
		break;
	}
	if (kind != 2)
		for (i = 1; i <= s->n_nodes; i++)
			for (j = 1; j <= s->n_nodes; j++)
				s->blocked[i][j] = ((mask >> i) & 1) != ((mask >> j) & 1);
	trace(s, EV_FAULT, 0, NULL, 100 + kind);
}

static struct sim_node *random_up(struct sim *s)
{
	int i, start = prng_below(&s->prng, s->n_nodes);

	for (i = 0; i < s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[1 + (start + i) % s->n_nodes];

		if (n->up)
			return n;
	}
	return NULL;
}

static void fault_conf(struct sim *s)
{
	struct sim_node *l = find_leader(s);
	struct raft_status st;
	int i, err = -EINVAL;

	if (!l)
		return;
	raft_status(l->r, &st);
	/* Promote a learner, else add a spare, else remove someone. */
	if (st.conf.n_learners && prng_chance(&s->prng, 700)) {
		err = raft_propose_conf(l->r, RAFT_CONF_PROMOTE, st.conf.learners[0], NULL, NULL);
	} else {
		for (i = 1; i <= s->n_nodes; i++) {
			struct sim_node *o = &s->nodes[i];

			if (!conf_is_voter(&st.conf, o->id) && !conf_is_learner(&st.conf, o->id) &&
			    prng_chance(&s->prng, 600)) {
				err = raft_propose_conf(l->r, RAFT_CONF_ADD_LEARNER, o->id, NULL, NULL);
				if (!err && o->removed) {
					o->removed = false;
					if (!o->up)
						node_start(s, o);
				}
				break;
			}
		}
		if (i > s->n_nodes && st.conf.n_voters > 3) {
			uint64_t victim = st.conf.voters[prng_below(&s->prng, st.conf.n_voters)];

			if (victim != l->id)
				err = raft_propose_conf(l->r, RAFT_CONF_REMOVE, victim, NULL, NULL);
		} else if (i > s->n_nodes && st.conf.n_learners) {
			err = raft_propose_conf(l->r, RAFT_CONF_REMOVE, st.conf.learners[0], NULL, NULL);
		}
	}
	if (!err)
		s->conf_changes++;
	node_process(s, l);
}

static void fault_step(struct sim *s)
{
	unsigned int total = s->w_partition + s->w_crash + s->w_pause + s->w_conf + s->w_compact +
			     s->w_transfer + s->w_heal;
	unsigned int pick;
	struct sim_node *n;

	if (s->healing)
		return;
	schedule(s, s->now + 20 + prng_below(&s->prng, 300), EV_FAULT, 0, 0, NULL);
	pick = prng_below(&s->prng, total);
	if (pick < s->w_partition) {
		fault_partition(s);
		return;
	}
	pick -= s->w_partition;
	if (pick < s->w_crash) {
		n = prng_chance(&s->prng, 500) ? find_leader(s) : random_up(s);
		if (n) {
			node_crash(s, n);
			node_restart_later(s, n, 20 + prng_below(&s->prng, 1500));
		}
		return;
	}
	pick -= s->w_crash;
	if (pick < s->w_pause) {
		n = random_up(s);
		if (n) {
			n->paused_until = s->now + 20 + prng_below(&s->prng, 800);
			schedule(s, n->paused_until, EV_UNPAUSE, n->id, 0, NULL);
		}
		return;
	}
	pick -= s->w_pause;
	if (pick < s->w_conf) {
		fault_conf(s);
		return;
	}
	pick -= s->w_conf;
	if (pick < s->w_compact) {
		n = random_up(s);
		if (n && n->applied > n->disk.snap.index && n->applied > n->log.base_index) {
			uint8_t data[16];
			struct raft_snapshot_meta meta;
			const struct raft_snapshot *sn;

			sm_encode(n, data);
			if (raft_compact(n->r, n->applied, data, sizeof(data)) == 0) {
				/* snapshot file (fsynced, renamed) then WAL start */
				sn = raft_snapshot(n->r);
				meta = sn->meta;
				{
					const struct shadow_entry *e = shadow_at(&n->log, meta.index);
					uint64_t chain = e ? e->chain : n->log.base_chain;
					uint32_t conf = e ? e->conf_id : n->log.base_conf;
					struct shadow_log *l = &n->log;
					size_t drop = meta.index - l->base_index;

					disk_set_snapshot(&n->disk, &meta, data, chain, false);
					memmove(l->e, l->e + drop, (l->n - drop) * sizeof(*l->e));
					l->n -= drop;
					l->base_index = meta.index;
					l->base_term = meta.term;
					l->base_chain = chain;
					l->base_conf = conf;
				}
				if (n->disk.snap.index > n->max_durable_snap)
					n->max_durable_snap = n->disk.snap.index;
			}
		}
		return;
	}
	pick -= s->w_compact;
	if (pick < s->w_transfer) {
		struct sim_node *l = find_leader(s);
		struct raft_status st;

		if (l) {
			raft_status(l->r, &st);
			raft_transfer_leader(l->r, st.conf.voters[prng_below(&s->prng,
									 st.conf.n_voters)]);
			node_process(s, l);
		}
		return;
	}
	memset(s->blocked, 0, sizeof(s->blocked));
	trace(s, EV_HEAL_NET, 0, NULL, 0);
}

static void heal_all(struct sim *s)
{
	int i;

	s->healing = true;
	s->heal_time = s->now;
	s->heal_payload = s->next_payload;
	memset(s->blocked, 0, sizeof(s->blocked));
	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];

		n->paused_until = 0;
		if (!n->up && !n->removed)
			node_start(s, n);
		else if (n->up)
			node_process(s, n);
	}
}

/* ---- the run ---- */

static void dump_nodes(struct sim *s)
{
	size_t off = 0;
	int i;

	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		struct raft_status st = { 0 };
		uint32_t v;

		if (n->up)
			raft_status(n->r, &st);
		off += snprintf(s->nodes_dump + off, sizeof(s->nodes_dump) - off,
				"  node %d: %s%s%s%s term %llu lead %llu commit %llu last %llu "
				"applied %llu snap %llu voters", i, n->up ? raft_role_name(st.role) : "down",
				n->removed ? " removed" : "", n->writing ? " writing" : "",
				n->paused_until > s->now ? " paused" : "",
				(unsigned long long)st.term, (unsigned long long)st.lead,
				(unsigned long long)st.commit, (unsigned long long)st.last_index,
				(unsigned long long)n->applied, (unsigned long long)st.snap_index);
		for (v = 0; v < st.conf.n_voters && off < sizeof(s->nodes_dump); v++)
			off += snprintf(s->nodes_dump + off, sizeof(s->nodes_dump) - off, " %llu",
					(unsigned long long)st.conf.voters[v]);
		off += snprintf(s->nodes_dump + off, sizeof(s->nodes_dump) - off, " learners");
		for (v = 0; v < st.conf.n_learners && off < sizeof(s->nodes_dump); v++)
			off += snprintf(s->nodes_dump + off, sizeof(s->nodes_dump) - off, " %llu",
					(unsigned long long)st.conf.learners[v]);
		off += snprintf(s->nodes_dump + off, sizeof(s->nodes_dump) - off, "\n");
		if (off >= sizeof(s->nodes_dump))
			break;
	}
}

static void world_init(struct sim *s, const struct sim_options *opt)
{
	struct raft_conf conf = { 0 };
	int i, voters;

	memset(s, 0, sizeof(*s));
	s->opt = *opt;
	if (!s->opt.election_ticks)
		s->opt.election_ticks = 10;
	if (!s->opt.heartbeat_ticks)
		s->opt.heartbeat_ticks = 1;
	if (!s->opt.tick_ms)
		s->opt.tick_ms = 10;
	prng_seed(&s->prng, opt->seed);
	s->check = check_new();
	s->n_nodes = 3 + prng_below(&s->prng, SIM_MAX_NODES - 2);
	voters = s->n_nodes >= 5 && prng_chance(&s->prng, 500) ? 5 : 3;
	if (opt->nodes >= 1 && opt->nodes <= SIM_MAX_NODES)
		s->n_nodes = voters = opt->nodes;
	/* The fault mix of this seed. */
	s->p_drop = prng_below(&s->prng, 150);
	s->p_dup = prng_below(&s->prng, 100);
	s->p_long_delay = prng_below(&s->prng, 100);
	s->max_delay = 1 + prng_below(&s->prng, 15);
	s->w_partition = prng_below(&s->prng, 10);
	s->w_crash = prng_below(&s->prng, 10);
	s->w_pause = prng_below(&s->prng, 6);
	s->w_conf = prng_below(&s->prng, 6);
	s->w_compact = prng_below(&s->prng, 6);
	s->w_transfer = prng_below(&s->prng, 4);
	s->w_heal = 1 + prng_below(&s->prng, 10);
	if (opt->no_faults) {
		s->p_drop = s->p_dup = s->p_long_delay = 0;
		s->max_delay = 5;
	}
	s->next_payload = 1;
	for (i = 1; i <= voters; i++)
		conf.voters[conf.n_voters++] = i;
	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];

		n->id = i;
		n->tick_ms = s->opt.tick_ms;
		if (!opt->no_faults)	/* clock skew: up to +-30% */
			n->tick_ms = s->opt.tick_ms * (70 + prng_below(&s->prng, 61)) / 100;
		if (!n->tick_ms)
			n->tick_ms = 1;
		if (i <= voters) {
			n->disk.snap.conf = conf;
			node_start(s, n);
		} else {
			n->removed = true;	/* a spare, started when added */
		}
		schedule(s, prng_below(&s->prng, n->tick_ms), EV_TICK, i, 0, NULL);
	}
	schedule(s, 1, EV_CLIENT, 0, 0, NULL);
	if (!opt->no_faults)
		schedule(s, 100 + prng_below(&s->prng, 300), EV_FAULT, 0, 0, NULL);
}

static void world_free(struct sim *s)
{
	int i;

	while (s->n_heap) {
		struct sim_event ev = pop(s);

		msg_destroy(ev.msg);
	}
	free(s->heap);
	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (n->up) {
			size_t j;

			raft_free(n->r);
			for (j = 0; j < n->n_after; j++)
				msg_release(&n->after[j]);
		}
		disk_free(&n->disk);
		shadow_free(&n->log);
		free(n->after);
	}
	check_free(s->check);
}

static void step_event(struct sim *s, struct sim_event *ev)
{
	struct sim_node *n = ev->node ? &s->nodes[ev->node] : NULL;
	int err;

	s->now = ev->time;
	s->steps++;
	switch (ev->kind) {
	case EV_TICK:
		schedule(s, s->now + n->tick_ms, EV_TICK, n->id, 0, NULL);
		if (!n->up || s->now < n->paused_until)
			break;
		raft_tick(n->r);
		node_process(s, n);
		break;
	case EV_DELIVER:
		if (!n->up || s->blocked[ev->msg->from][ev->msg->to]) {
			trace(s, EV_DROP, ev->node, ev->msg, 0);
			msg_destroy(ev->msg);
			break;
		}
		if (s->now < n->paused_until) {
			schedule(s, n->paused_until, EV_DELIVER, n->id, 0, ev->msg);
			break;
		}
		trace(s, EV_DELIVER, ev->node, ev->msg, 0);
		err = raft_step(n->r, ev->msg);
		if (err)
			sim_violation(s, "node %llu refused %s from %llu: %s",
				      (unsigned long long)n->id, raft_msg_name(ev->msg->type),
				      (unsigned long long)ev->msg->from, strerror(-err));
		msg_destroy(ev->msg);
		node_process(s, n);
		break;
	case EV_SYNC:
		if (n->up && n->writing && ev->gen == n->write_gen)
			node_synced(s, n);
		break;
	case EV_CLIENT:
		client_step(s);
		break;
	case EV_FAULT:
		fault_step(s);
		break;
	case EV_HEAL_NET:
		memset(s->blocked, 0, sizeof(s->blocked));
		break;
	case EV_RESTART:
		if (!n->up && !n->removed && ev->gen == n->restarts && !s->violation[0]) {
			trace(s, EV_RESTART, n->id, NULL, 0);
			node_start(s, n);
			node_process(s, n);
		}
		break;
	case EV_UNPAUSE:
		if (n->up)
			node_process(s, n);
		break;
	}
	if (ev->kind != EV_DELIVER && ev->kind != EV_TICK)
		trace(s, ev->kind, ev->node, NULL, 0);
}

void sim_world_init(struct sim *s, const struct sim_options *opt)
{
	world_init(s, opt);
}

void sim_world_free(struct sim *s)
{
	world_free(s);
}

bool sim_step(struct sim *s)
{
	struct sim_event ev;

	if (!s->n_heap || s->violation[0])
		return false;
	ev = pop(s);
	step_event(s, &ev);
	return !s->violation[0];
}

void sim_crash(struct sim *s, struct sim_node *n)
{
	node_crash(s, n);
}

void sim_restart(struct sim *s, struct sim_node *n)
{
	if (!n->up) {
		node_start(s, n);
		node_process(s, n);
	}
}

struct sim_node *sim_leader(struct sim *s)
{
	return find_leader(s);
}

int sim_run(const struct sim_options *opt, struct sim *s)
{
	uint64_t deadline = 0;

	world_init(s, opt);
	while (!s->violation[0] && s->n_heap) {
		struct sim_event ev;

		if (!s->healing && s->steps >= opt->steps) {
			heal_all(s);
			deadline = s->now + LIVENESS_MS;
		}
		if (s->healing && (s->live_ok || s->now > deadline))
			break;
		ev = pop(s);
		step_event(s, &ev);
	}
	if (!s->violation[0] && s->healing && !s->live_ok)
		sim_violation(s, "liveness: nothing proposed after the faults healed committed "
			      "within %d ms", LIVENESS_MS);
	if (s->violation[0])
		dump_nodes(s);
	world_free(s);
	return s->violation[0] ? -1 : 0;
}
