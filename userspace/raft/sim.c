// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated world: nodes running the real core behind a host that
 * persists through the real storage (storage.c, wal.c, snapshot_file.c) on
 * its own simulated file system (sim_fs.c), asynchronously as the daemon
 * does (readies prepared while earlier batches are on the disk, one
 * operation per event); a network that loses, duplicates, delays and
 * partitions; a client; and a fault scheduler whose mix of faults (network,
 * crashes and power loss, write and sync errors, a machine dying in the
 * middle of a batch) is drawn from the seed. Every step is one event off a heap ordered
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
	EV_IO,
	EV_CLIENT,
	EV_FAULT,
	EV_HEAL_NET,
	EV_RESTART,
	EV_UNPAUSE,
	EV_DECOMMISSION,
	EV_FORGET,
	EV_DROP,	/* trace only */
	EV_CRASH,	/* trace only */
};

static const char *const event_names[] = {
	"tick", "deliver", "io", "client", "fault", "heal-net", "restart", "unpause",
	"decommission", "forget", "drop", "crash",
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

static void heap_push(struct sim *s, struct sim_event ev)
{
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

static void schedule(struct sim *s, uint64_t at, int kind, int node, uint64_t gen,
		     struct raft_msg *msg)
{
	heap_push(s, (struct sim_event){ at, s->seq++, kind, node, gen, msg, 0 });
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

static void disk_apply(struct disk *d, struct disk_write *w)
{
	size_t j;

	if (w->has_snap)
		disk_set_snapshot(d, &w->snap, w->snap_data, w->snap_chain, !w->compact);
	for (j = 0; j < w->n; j++)
		disk_push(d, &w->ents[j], w->chains[j]);
	if (w->has_hs)
		d->hs = w->hs;
}

/* The storage says every ticket up to this one is durable. */
static void disk_settle(struct disk *d, uint64_t ticket)
{
	size_t i, done = 0;

	for (i = 0; i < d->n_pending && d->pending[i].ticket <= ticket; i++, done++) {
		disk_apply(d, &d->pending[i]);
		write_free(&d->pending[i]);
	}
	if (done) {
		memmove(d->pending, d->pending + done, (d->n_pending - done) * sizeof(*d->pending));
		d->n_pending -= done;
	}
}

/* A crash: what was not acknowledged is the file system's to keep or lose. */
static void disk_forget_pending(struct disk *d)
{
	size_t i;

	for (i = 0; i < d->n_pending; i++)
		write_free(&d->pending[i]);
	d->n_pending = 0;
}

static struct disk_write *disk_new_write(struct disk *d, uint64_t ticket)
{
	struct disk_write *w;

	if (d->n_pending == d->cap_pending) {
		d->cap_pending = d->cap_pending ? d->cap_pending * 2 : 8;
		d->pending = realloc(d->pending, d->cap_pending * sizeof(*d->pending));
	}
	w = &d->pending[d->n_pending++];
	memset(w, 0, sizeof(*w));
	w->ticket = ticket;
	return w;
}

static void disk_write(struct sim_node *n, const struct raft_ready *rd, uint64_t ticket)
{
	struct disk_write *w = disk_new_write(&n->disk, ticket);
	size_t i;

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
	disk_forget_pending(d);
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

#define NODE_DIR "node"

/* The storage faults of this seed, armed at each start (not while healing). */
static void node_arm_faults(struct sim *s, struct sim_node *n)
{
	struct sim_fs_faults f = { .changes_until_death = -1 };

	if (!s->healing) {
		f.write_error_permille = s->p_write_err;
		f.sync_error_permille = s->p_sync_err;
		if (prng_chance(&s->prng, s->p_death))
			f.changes_until_death = prng_below(&s->prng, 400);
	}
	sim_fs_set_faults(n->fs, &f);
}

/*
 * What recovery found becomes the checker's view of the node's disk. The
 * snapshot's history is the one its (index, term) has everywhere: one the
 * node acknowledged, or one it was installing when it went down.
 */
static void disk_recovered(struct sim *s, struct sim_node *n, const struct raft_boot *boot)
{
	struct disk *d = &n->disk;
	uint64_t chain = 0;
	size_t i;

	disk_forget_pending(d);
	disk_truncate(d, 0);
	if (boot->snap.index == d->snap.index && boot->snap.term == d->snap.term)
		chain = d->snap_chain;
	else if (boot->snap.index)
		chain = check_chain_of(s->check, boot->snap.index, boot->snap.term);
	if (boot->snap.index && !chain)
		sim_violation(s, "node %llu recovers snapshot (%llu, %llu) that no log ever held",
			      (unsigned long long)n->id, (unsigned long long)boot->snap.index,
			      (unsigned long long)boot->snap.term);
	if (boot->snap_len && boot->snap_len != sizeof(d->snap_data))
		sim_violation(s, "node %llu recovers a snapshot of %zu bytes",
			      (unsigned long long)n->id, boot->snap_len);
	d->hs = boot->hs;
	d->snap = boot->snap;
	memset(d->snap_data, 0, sizeof(d->snap_data));
	if (boot->snap_len == sizeof(d->snap_data))
		memcpy(d->snap_data, boot->snap_data, sizeof(d->snap_data));
	d->snap_chain = chain;
	for (i = 0; i < boot->n_entries; i++) {
		chain = check_chain(chain, &boot->entries[i]);
		disk_push(d, &boot->entries[i], chain);
	}
}

static void node_start(struct sim *s, struct sim_node *n)
{
	struct disk *d = &n->disk;
	struct raft_config cfg;
	struct raft_boot boot;
	struct raft_status st;
	size_t i;
	int err;

	if (!n->fs) {
		/* First start: a fresh machine, bootstrapped with its configuration. */
		n->fs = sim_fs_new(s->opt.seed * 7919 + n->id);
		n->wopt = (struct wal_options){ .fs = sim_fs_ops(n->fs),
						.segment_bytes = s->segment_bytes };
		err = raft_storage_bootstrap(NODE_DIR, &d->snap.conf, &n->wopt);
		if (err) {
			sim_violation(s, "node %llu cannot bootstrap: %s",
				      (unsigned long long)n->id, strerror(-err));
			return;
		}
	}
	err = raft_storage_open(&n->st, NODE_DIR, &n->wopt, &boot);
	if (err) {
		sim_violation(s, "node %llu refuses to start from its storage (%s): %s",
			      (unsigned long long)n->id, strerror(-err), n->st.error);
		return;
	}
	disk_recovered(s, n, &boot);
	node_arm_faults(s, n);
	node_config(s, n, &cfg);
	check_restart(s, n);
	err = raft_new(&n->r, &cfg, &boot);
	if (err) {
		sim_violation(s, "node %llu cannot boot from its storage: %s",
			      (unsigned long long)n->id, strerror(-err));
		raft_storage_close(&n->st);
		return;
	}
	n->up = true;
	n->io = NULL;
	n->io_scheduled = false;
	memcpy(&n->sm_hash, d->snap_data, 8);
	n->applied = d->snap.index;
	shadow_reset(&n->log, d->snap.index, d->snap.term, d->snap_chain,
		     check_conf_id(s->check, &d->snap.conf));
	/* The recovered log replays into the shadow: Log Matching checks it. */
	for (i = 0; i < d->n; i++)
		check_entries(s, n, &d->ents[i], 1);
	raft_status(n->r, &st);
	n->commit = d->snap.index;
	n->role = st.role;
	n->term = st.term;
	check_commit(s, n, st.commit);
}

static void after_free(struct sim_node *n)
{
	size_t i;

	for (i = 0; i < n->n_after; i++)
		msg_release(&n->after[i].m);
	n->n_after = 0;
}

/*
 * The node goes down: the process dies, or the machine loses power
 * (power: unsynced writes are lost or torn, as the file system decides).
 */
static void node_down(struct sim *s, struct sim_node *n, bool power)
{
	if (!n->up)
		return;
	raft_free(n->r);
	n->r = NULL;
	raft_storage_close(&n->st);
	if (power || sim_fs_dead(n->fs))
		sim_fs_crash(n->fs);
	else
		sim_fs_restart(n->fs);
	disk_forget_pending(&n->disk);
	n->up = false;
	n->io = NULL;
	n->io_gen++;
	after_free(n);
	n->restarts++;
	n->role = RAFT_FOLLOWER;
	s->crashes++;
	trace(s, EV_CRASH, n->id, NULL, power);
}

static void node_crash(struct sim *s, struct sim_node *n)
{
	/* Mostly power loss; sometimes only the process dies. */
	node_down(s, n, !prng_chance(&s->prng, 200));
}

static void node_process(struct sim *s, struct sim_node *n);

/*
 * Node n forgets its leader soon: 'lead' if it still follows that
 * one (0: whoever it follows, a false suspicion if the leader is up).
 */
static void forget_later(struct sim *s, struct sim_node *n, uint64_t lead, uint64_t after)
{
	heap_push(s, (struct sim_event){ s->now + after, s->seq++, EV_FORGET, n->id,
					 n->restarts, NULL, lead });
}

/*
 * A leader whose daemon died: its followers see the connection close and
 * the reconnect refused, each after its own short delay.
 */
static void leader_gone(struct sim *s, struct sim_node *dead, unsigned int permille)
{
	struct raft_status st;
	int i;

	for (i = 1; i <= s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (!n->up || n == dead)
			continue;
		raft_status(n->r, &st);
		if (st.lead == dead->id && prng_chance(&s->forget_prng, permille))
			forget_later(s, n, dead->id, 1 + prng_below(&s->forget_prng, 5));
	}
}

static void node_forget(struct sim *s, struct sim_node *n, uint64_t lead)
{
	struct raft_status st;

	if (!n->up || s->now < n->paused_until)
		return;
	raft_status(n->r, &st);
	if (lead && st.lead != lead)
		return;
	if (raft_forget_leader(n->r))
		return;
	/*
	 * Told by a refused connection: what the dead leader sent before
	 * is not read any more (the daemon closes those connections).
	 */
	if (lead)
		n->forgot_dead = lead;
	s->forgets++;
	if (st.lead && st.lead <= (uint64_t)s->n_nodes && s->nodes[st.lead].up &&
	    s->nodes[st.lead].role == RAFT_LEADER)
		s->forgets_false++;
	trace(s, EV_FORGET, n->id, NULL, st.lead);
	node_process(s, n);
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
			/*
			 * Out of the cluster for good: an operator shuts it
			 * down, at once or a while later.
			 */
			o->removed = true;
			if (prng_chance(&s->prng, 500))
				node_crash(s, o);
			else
				schedule(s, s->now + prng_below(&s->prng, 1000), EV_DECOMMISSION,
					 o->id, o->restarts, NULL);
		}
	}
}

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

static void node_restart_later(struct sim *s, struct sim_node *n, uint64_t after);
static int propose_conf(struct sim *s, struct sim_node *l);

/*
 * The storage failed (an error on write or sync, or the machine died):
 * like the daemon, the node stops and starts over from what recovery finds.
 */
static void node_storage_failed(struct sim *s, struct sim_node *n)
{
	s->storage_failures++;
	node_down(s, n, false);
	node_restart_later(s, n, 10 + prng_below(&s->prng, 500));
}

/* Runs the storage's next operation soon, if it has one. */
static void io_kick(struct sim *s, struct sim_node *n, uint64_t delay)
{
	uint64_t in_flight = n->st.last_ticket - n->st.durable_ticket;

	if (in_flight > s->max_tickets_in_flight)
		s->max_tickets_in_flight = in_flight;
	if (n->io_scheduled || (!n->io && !in_flight))
		return;
	n->io_scheduled = true;
	schedule(s, s->now + delay, EV_IO, n->id, n->io_gen, NULL);
}

static void node_after_add(struct sim_node *n, uint64_t ticket, const struct raft_msg *m)
{
	struct raft_msg *c = msg_copy(m);

	if (n->n_after == n->cap_after) {
		n->cap_after = n->cap_after ? n->cap_after * 2 : 16;
		n->after = realloc(n->after, n->cap_after * sizeof(*n->after));
	}
	n->after[n->n_after].ticket = ticket;
	n->after[n->n_after++].m = *c;
	free(c);
}

static void node_process(struct sim *s, struct sim_node *n)
{
	struct raft_ready rd;
	uint64_t ticket;
	size_t i;
	int err;

	/*
	 * Roles are checked as soon as they change, even while a write is
	 * in flight and no ready is taken.
	 */
	if (n->up) {
		check_role(s, n);
		check_leader_commit(s, n);
		/*
		 * A change asked of a leader the moment it wins, before it
		 * committed anything of its term (the core must say -EAGAIN).
		 */
		if (n->role == RAFT_LEADER && n->term != n->conf_tried_term) {
			n->conf_tried_term = n->term;
			if (!s->healing && prng_chance(&s->prng, s->p_conf_at_election))
				propose_conf(s, n);
		}
	}
	/*
	 * Readies are taken while earlier ones are still on their way to the
	 * disk: the core's asynchronous persistence contract.
	 */
	while (n->up && s->now >= n->paused_until && raft_has_ready(n->r) && !s->violation[0]) {
		raft_ready(n->r, &rd);
		if (rd.snapshot)
			check_snapshot(s, n, rd.snapshot);
		check_entries(s, n, rd.entries, rd.n_entries);
		check_role(s, n);
		check_commit(s, n, rd.hs.commit);
		for (i = 0; i < rd.n_msgs; i++)
			net_send(s, &rd.msgs[i]);
		err = raft_storage_prepare(&n->st, &rd, &ticket);
		if (err) {
			node_storage_failed(s, n);
			return;
		}
		/* Commit-only writes are not synced: not counted durable. */
		if (rd.must_sync)
			disk_write(n, &rd, ticket);
		for (i = 0; i < rd.n_msgs_after_persist; i++) {
			if (raft_storage_is_durable(&n->st, ticket))
				net_send(s, &rd.msgs_after_persist[i]);
			else
				node_after_add(n, ticket, &rd.msgs_after_persist[i]);
		}
		io_kick(s, n, 0);
		node_apply(s, n, &rd);
		if (!n->up)
			break;	/* shut down while applying: rd is gone */
		for (i = 0; i < rd.n_reads; i++)
			check_read_released(s, n, &rd.reads[i]);
	}
}

static void node_durable(struct sim *s, struct sim_node *n, const struct raft_storage_durable *d)
{
	size_t i, sent = 0;

	s->batches++;
	disk_settle(&n->disk, d->ticket);
	if (n->disk.hs.commit > n->max_durable_commit)
		n->max_durable_commit = n->disk.hs.commit;
	if (n->disk.snap.index > n->max_durable_snap)
		n->max_durable_snap = n->disk.snap.index;
	for (i = 0; i < n->n_after && n->after[i].ticket <= d->ticket; i++, sent++) {
		net_send(s, &n->after[i].m);
		msg_release(&n->after[i].m);
	}
	if (sent) {
		memmove(n->after, n->after + sent, (n->n_after - sent) * sizeof(*n->after));
		n->n_after -= sent;
	}
	if (d->persist_index)
		raft_persisted(n->r, d->persist_index, d->persist_term);
	node_process(s, n);
}

/* How long an operation takes: a sync longer than a write, now and then much longer. */
static uint64_t io_latency(struct sim *s, const struct raft_io_op *op)
{
	if (op->kind != RAFT_IO_SYNC)
		return prng_below(&s->prng, 2);
	if (!s->opt.no_faults && prng_chance(&s->prng, 50))
		return 20 + prng_below(&s->prng, 80);
	return 1 + prng_below(&s->prng, 3);
}

/*
 * The batch on the disk, one operation per event: the event that takes a
 * batch starts its first operation, each later one finishes an operation
 * (its latency elapsed) and starts the next. A crash can fall between any
 * two.
 */
static void node_io(struct sim *s, struct sim_node *n)
{
	struct raft_storage_durable d = { 0 };
	struct raft_io_op *op;
	int rc, res;

	n->io_scheduled = false;
	if (!n->io) {
		n->io = raft_storage_next(&n->st);
		n->io_next = 0;
		n->io_res = 0;
		if (!n->io) {
			if (n->st.failed)
				node_storage_failed(s, n);
			return;
		}
		io_kick(s, n, io_latency(s, &n->io->ops[0]));
		return;
	}
	/* Power fails between any two operations of a batch. */
	if (prng_chance(&s->prng, s->p_crash_io) && !s->healing) {
		node_down(s, n, true);
		node_restart_later(s, n, 20 + prng_below(&s->prng, 1500));
		return;
	}
	op = &n->io->ops[n->io_next++];
	res = n->io_res < 0 ? -ECANCELED : raft_io_run_op(sim_fs_ops(n->fs), NULL, op);
	if (res < 0)
		n->io_res = res;
	/* Completing the last operation frees the batch. */
	rc = raft_storage_complete(&n->st, op, res, &d);
	if (rc < 0) {
		node_storage_failed(s, n);
		return;
	}
	if (rc == 1) {
		n->io = NULL;
		node_durable(s, n, &d);
		if (n->up)
			io_kick(s, n, 0);
		return;
	}
	io_kick(s, n, io_latency(s, &n->io->ops[n->io_next]));
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
	/* Seeds where membership changes come thick and fast. */
	if (!s->healing && prng_chance(&s->prng, s->p_conf_client))
		propose_conf(s, n);
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

/* Node n alone on one side, everyone else on the other. */
static void isolate(struct sim *s, struct sim_node *n)
{
	int i;

	memset(s->blocked, 0, sizeof(s->blocked));
	for (i = 1; i <= s->n_nodes; i++)
		s->blocked[i][n->id] = s->blocked[n->id][i] = i != (int)n->id;
	trace(s, EV_FAULT, n->id, NULL, 100);
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

/* One membership change proposed at leader l, of the kind the cluster allows. */
static int propose_conf(struct sim *s, struct sim_node *l)
{
	struct raft_status st;
	int i, err = -EINVAL;

	raft_status(l->r, &st);
	/*
	 * Promote a learner, else add a spare, else remove someone; now and
	 * then a voter goes first, so that a growing and a shrinking change
	 * can meet (the case the committed-in-term rule exists for).
	 */
	if (st.conf.n_voters > 3 && prng_chance(&s->prng, 200)) {
		uint64_t victim = st.conf.voters[prng_below(&s->prng, st.conf.n_voters)];

		if (victim != l->id)
			err = raft_propose_conf(l->r, RAFT_CONF_REMOVE, victim, NULL, NULL);
	} else if (st.conf.n_learners && prng_chance(&s->prng, 700)) {
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
	return err;
}

/*
 * Sometimes an operator's script sends a second change right behind the
 * first (the core must refuse it while the first is uncommitted).
 */
static void fault_conf(struct sim *s)
{
	struct sim_node *l = find_leader(s);

	if (!l)
		return;
	if (!propose_conf(s, l)) {
		if (prng_chance(&s->prng, 300))
			propose_conf(s, l);
		/*
		 * The leader is cut off as it sends the change: the change
		 * stays on its log alone while the others elect a leader.
		 */
		if (prng_chance(&s->prng, s->p_isolate_after_conf))
			isolate(s, l);
	}
	node_process(s, l);
}

/*
 * The application snapshots what it applied: the core drops the log up to
 * it at once, the storage writes the snapshot file, then the WAL's new
 * start, and deletes the old segments.
 */
static void node_compact(struct sim *s, struct sim_node *n)
{
	const struct shadow_entry *e;
	struct shadow_log *l = &n->log;
	struct disk_write *w;
	uint8_t data[16];
	uint64_t ticket;
	size_t drop;

	if (n->applied <= l->base_index)
		return;
	sm_encode(n, data);
	if (raft_compact(n->r, n->applied, data, sizeof(data)))
		return;
	if (raft_storage_prepare_compact(&n->st, raft_snapshot(n->r), &ticket)) {
		node_storage_failed(s, n);
		return;
	}
	w = disk_new_write(&n->disk, ticket);
	w->compact = true;
	w->has_snap = true;
	w->snap = raft_snapshot(n->r)->meta;
	memcpy(w->snap_data, data, sizeof(data));
	e = shadow_at(l, w->snap.index);
	w->snap_chain = e ? e->chain : l->base_chain;
	drop = w->snap.index - l->base_index;
	l->base_conf = e ? e->conf_id : l->base_conf;
	memmove(l->e, l->e + drop, (l->n - drop) * sizeof(*l->e));
	l->n -= drop;
	l->base_index = w->snap.index;
	l->base_term = w->snap.term;
	l->base_chain = w->snap_chain;
	io_kick(s, n, 0);
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
			bool led = n->role == RAFT_LEADER;

			node_crash(s, n);
			if (led)
				leader_gone(s, n, s->p_forget_on_crash);
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
		if (n)
			node_compact(s, n);
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
		if (n->fs)
			node_arm_faults(s, n);	/* healing: none */
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
				n->removed ? " removed" : "", n->io ? " writing" : "",
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
	/* Storage faults: a third of the seeds run on a flaky disk. */
	if (prng_chance(&s->prng, 333)) {
		s->p_write_err = prng_below(&s->prng, 20);
		s->p_sync_err = prng_below(&s->prng, 20);
		s->p_death = prng_below(&s->prng, 300);
	}
	if (prng_chance(&s->prng, 500))
		s->p_crash_io = prng_below(&s->prng, 4);
	s->segment_bytes = 256 + prng_below(&s->prng, 8192);
	if (s->w_conf) {
		s->p_conf_at_election = prng_below(&s->prng, 1000);
		if (prng_chance(&s->prng, 250))
			s->p_conf_client = prng_below(&s->prng, 100);
		s->p_isolate_after_conf = prng_below(&s->prng, 500);
	}
	if (opt->no_faults) {
		s->p_write_err = s->p_sync_err = s->p_death = s->p_crash_io = 0;
		s->p_conf_at_election = s->p_conf_client = s->p_isolate_after_conf = 0;
		s->p_drop = s->p_dup = s->p_long_delay = 0;
		s->max_delay = 5;
	}
	prng_seed(&s->forget_prng, opt->seed ^ 0x666f72676574ULL);
	if (!opt->no_faults && prng_chance(&s->forget_prng, 750)) {
		s->p_forget_on_crash = prng_below(&s->forget_prng, 1001);
		if (prng_chance(&s->forget_prng, 500))
			s->forget_every_ms = 50 + prng_below(&s->forget_prng, 2000);
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
	if (s->forget_every_ms)
		schedule(s, prng_below(&s->forget_prng, 2 * s->forget_every_ms), EV_FORGET,
			 0, 0, NULL);
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
			raft_free(n->r);
			raft_storage_close(&n->st);
		}
		after_free(n);
		if (n->fs) {
			struct sim_fs_stats st;

			sim_fs_stats(n->fs, &st);
			s->fs.writes += st.writes;
			s->fs.syncs += st.syncs;
			s->fs.crashes += st.crashes;
			s->fs.torn_writes += st.torn_writes;
			s->fs.lost_writes += st.lost_writes;
			s->fs.write_errors += st.write_errors;
			s->fs.sync_errors += st.sync_errors;
			sim_fs_free(n->fs);
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
		if (n->forgot_dead && s->nodes[n->forgot_dead].up)
			n->forgot_dead = 0;
		if (n->up && n->forgot_dead && n->forgot_dead == ev->msg->from) {
			trace(s, EV_DROP, ev->node, ev->msg, 0);
			msg_destroy(ev->msg);
			break;
		}
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
	case EV_IO:
		if (n->up && ev->gen == n->io_gen)
			node_io(s, n);
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
	case EV_DECOMMISSION:
		if (n->removed && n->up && ev->gen == n->restarts)
			node_crash(s, n);
		break;
	case EV_UNPAUSE:
		if (n->up)
			node_process(s, n);
		break;
	case EV_FORGET:
		if (n) {
			if (ev->gen == n->restarts)
				node_forget(s, n, ev->arg);
			break;
		}
		/* A false suspicion: a random node forgets whoever it follows. */
		if (s->healing)
			break;
		schedule(s, s->now + 1 + prng_below(&s->forget_prng, 2 * s->forget_every_ms),
			 EV_FORGET, 0, 0, NULL);
		n = &s->nodes[1 + prng_below(&s->forget_prng, s->n_nodes)];
		node_forget(s, n, 0);
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
	bool led = n->role == RAFT_LEADER;

	node_crash(s, n);
	if (led && s->opt.forget_on_crash)
		leader_gone(s, n, 1000);
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
