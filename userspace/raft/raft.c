// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft state machine. Each role has its own step and tick functions
 * (followers and both kinds of candidates share a tick); raft_step() does
 * only what is common to all roles: term checks and vote requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/conf.h"
#include "raft/log.h"
#include "raft/prng.h"
#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/raft.h"

#define MAX_PENDING_READS 4096
/* Early campaigns after raft_forget_leader(): a split vote gets retries. */
#define FORGET_ATTEMPTS 3

enum vote_mark {
	VOTE_NONE,
	VOTE_GRANTED,
	VOTE_REJECTED,
};

struct msg_queue {
	struct raft_msg *m;
	size_t n;
	size_t cap;
};

struct read_queue {
	struct raft_read *r;
	size_t n;
	size_t cap;
};

struct pending_read {
	uint64_t ctx;
	uint64_t index;
	uint64_t round;
	uint32_t n_acks;
	uint64_t acks[RAFT_MAX_NODES];
};

struct raft {
	struct raft_config cfg;
	uint64_t id;
	uint64_t term;
	uint64_t vote;
	uint64_t lead;
	enum raft_role role;
	int (*step_role)(struct raft *r, const struct raft_msg *m);
	void (*tick_role)(struct raft *r);

	struct raft_log log;
	struct raft_conf conf;
	uint64_t conf_index;	/* entry (or snapshot) that set conf */
	struct progress prs[RAFT_MAX_NODES];
	uint8_t votes[RAFT_MAX_NODES];
	size_t n_prs;

	unsigned int election_elapsed;
	unsigned int heartbeat_elapsed;
	unsigned int randomized_timeout;
	unsigned int hurry;	/* early campaigns left: the leader is gone */
	uint64_t transferee;
	uint64_t uncommitted_bytes;
	struct prng prng;

	struct raft_snapshot snap;	/* latest: sent to lagging followers */
	bool snap_unsaved;		/* received, not yet handed to the host */
	struct raft_snapshot_meta in_meta;	/* snapshot being received */
	uint8_t *in_data;
	uint64_t in_len;
	uint64_t in_total;
	bool in_active;

	struct raft_hard_state prev_hs;
	struct msg_queue out_now, out_after;
	struct msg_queue handed_now, handed_after;
	struct pending_read *reads;
	size_t n_reads;
	size_t cap_reads;
	uint64_t read_round;
	struct read_queue reads_ready, reads_handed;
	uint64_t proposals_too_large;
	uint64_t proposals_over_limit;
	uint64_t reads_over_limit;
	uint64_t reads_dropped;
	uint64_t snapshots_too_large;
	uint64_t leader_forgotten;
};

static int step_leader(struct raft *r, const struct raft_msg *m);
static int step_candidate(struct raft *r, const struct raft_msg *m);
static int step_follower(struct raft *r, const struct raft_msg *m);
static void tick_leader(struct raft *r);
static void tick_election(struct raft *r);
static bool send_append(struct raft *r, struct progress *pr, bool allow_empty);

/* ---- outgoing messages ---- */

static void msg_release(struct raft_msg *m)
{
	free(m->entries);
	free(m->snap_data);
}

static void queue_clear(struct msg_queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		msg_release(&q->m[i]);
	q->n = 0;
}

static void queue_free(struct msg_queue *q)
{
	queue_clear(q);
	free(q->m);
	q->m = NULL;
	q->cap = 0;
}

/* Replies and vote requests promise durable state; the rest does not. */
static bool msg_needs_persist(uint32_t type)
{
	switch (type) {
	case RAFT_MSG_APPEND_RESP:
	case RAFT_MSG_VOTE:
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_HEARTBEAT_RESP:
	case RAFT_MSG_SNAPSHOT_RESP:
		return true;
	default:
		return false;
	}
}

/*
 * Takes ownership of m's buffers; on allocation failure the message is lost,
 * which Raft tolerates like any dropped packet.
 */
static void send_msg(struct raft *r, struct raft_msg *m)
{
	bool early = m->type == RAFT_MSG_VOTE_RESP && (r->cfg.bugs & RAFT_BUG_VOTE_BEFORE_PERSIST);
	bool after = msg_needs_persist(m->type) && !early;
	struct msg_queue *q = after ? &r->out_after : &r->out_now;

	m->from = r->id;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct raft_msg *nm = realloc(q->m, cap * sizeof(*nm));

		if (!nm) {
			msg_release(m);
			return;
		}
		q->m = nm;
		q->cap = cap;
	}
	q->m[q->n++] = *m;
}

/* Deep copy of entries [first, first + n) into one allocation. */
static int attach_entries(struct raft *r, struct raft_msg *m, uint64_t first, size_t n)
{
	size_t i, bytes = 0;
	struct raft_entry *ents;
	uint8_t *p;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		bytes += log_entry(&r->log, first + i)->len;
	ents = malloc(n * sizeof(*ents) + bytes);
	if (!ents)
		return -ENOMEM;
	p = (uint8_t *)(ents + n);
	for (i = 0; i < n; i++) {
		const struct raft_entry *e = log_entry(&r->log, first + i);

		ents[i] = *e;
		ents[i].data = e->len ? p : NULL;
		if (e->len)
			memcpy(p, e->data, e->len);
		p += e->len;
	}
	m->entries = ents;
	m->n_entries = n;
	return 0;
}

/* ---- membership and progress ---- */

static struct progress *progress_of(struct raft *r, uint64_t id)
{
	size_t i;

	for (i = 0; i < r->n_prs; i++)
		if (r->prs[i].id == id)
			return &r->prs[i];
	return NULL;
}

static bool promotable(const struct raft *r)
{
	return conf_is_voter(&r->conf, r->id);
}

/* Keep progress of members that stay, start fresh for new ones. */
static void tracker_sync(struct raft *r)
{
	struct progress old[RAFT_MAX_NODES];
	uint8_t old_votes[RAFT_MAX_NODES];
	size_t n_old = r->n_prs, i, j;
	uint64_t ids[RAFT_MAX_NODES * 2];
	size_t n_ids = 0;

	memcpy(old, r->prs, sizeof(old));
	memcpy(old_votes, r->votes, sizeof(old_votes));
	for (i = 0; i < r->conf.n_voters; i++)
		ids[n_ids++] = r->conf.voters[i];
	for (i = 0; i < r->conf.n_learners; i++)
		ids[n_ids++] = r->conf.learners[i];
	r->n_prs = 0;
	for (i = 0; i < n_ids && r->n_prs < RAFT_MAX_NODES; i++) {
		struct progress *pr = &r->prs[r->n_prs];

		r->votes[r->n_prs] = VOTE_NONE;
		for (j = 0; j < n_old; j++) {
			if (old[j].id == ids[i]) {
				*pr = old[j];
				r->votes[r->n_prs] = old_votes[j];
				break;
			}
		}
		if (j == n_old) {
			progress_init(pr, ids[i], log_last_index(&r->log) + 1,
				      r->cfg.max_inflight_msgs, r->cfg.max_inflight_bytes);
			pr->recent_active = true;
			if (ids[i] == r->id) {
				pr->match = r->log.stable;
				pr->state = PROGRESS_REPLICATE;
			}
		}
		r->n_prs++;
	}
	if (r->transferee && !conf_is_voter(&r->conf, r->transferee))
		r->transferee = RAFT_NONE;
}

/* Membership is that of the newest configuration in the log. */
static void conf_refresh(struct raft *r)
{
	uint64_t i;

	for (i = log_last_index(&r->log); i > r->log.snap_index; i--) {
		const struct raft_entry *e = log_entry(&r->log, i);
		struct raft_conf c;

		if (e->type == RAFT_ENTRY_CONF && conf_decode(e->data, e->len, &c) == 0) {
			r->conf = c;
			r->conf_index = i;
			tracker_sync(r);
			return;
		}
	}
	r->conf = r->snap.meta.conf;
	r->conf_index = r->snap.meta.index;
	tracker_sync(r);
}

static void conf_at(const struct raft *r, uint64_t index, struct raft_conf *c)
{
	uint64_t i;

	for (i = index; i > r->log.snap_index; i--) {
		const struct raft_entry *e = log_entry(&r->log, i);

		if (e && e->type == RAFT_ENTRY_CONF && conf_decode(e->data, e->len, c) == 0)
			return;
	}
	*c = r->snap.meta.conf;
}

/* ---- role changes ---- */

static void reset_timeouts(struct raft *r)
{
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	r->randomized_timeout = r->cfg.election_ticks +
				prng_below(&r->prng, r->cfg.election_ticks);
}

static void reset(struct raft *r, uint64_t term)
{
	if (r->term != term) {
		r->term = term;
		r->vote = RAFT_NONE;
	}
	r->lead = RAFT_NONE;
	r->transferee = RAFT_NONE;
	reset_timeouts(r);
	memset(r->votes, 0, sizeof(r->votes));
	/* Pending reads cannot be confirmed any more; the host retries. */
	r->reads_dropped += r->n_reads;
	r->n_reads = 0;
}

static void become_follower(struct raft *r, uint64_t term, uint64_t lead)
{
	reset(r, term);
	r->lead = lead;
	r->role = RAFT_FOLLOWER;
	r->step_role = step_follower;
	r->tick_role = tick_election;
}

static void become_pre_candidate(struct raft *r)
{
	/* Term and vote stay: a pre-vote changes nothing durable. */
	r->lead = RAFT_NONE;
	r->transferee = RAFT_NONE;
	reset_timeouts(r);
	memset(r->votes, 0, sizeof(r->votes));
	r->n_reads = 0;
	r->role = RAFT_PRE_CANDIDATE;
	r->step_role = step_candidate;
	r->tick_role = tick_election;
}

static void become_candidate(struct raft *r)
{
	reset(r, r->term + 1);
	r->vote = r->id;
	r->role = RAFT_CANDIDATE;
	r->step_role = step_candidate;
	r->tick_role = tick_election;
}

static void bcast_append(struct raft *r, bool allow_empty)
{
	size_t i;

	for (i = 0; i < r->n_prs; i++) {
		struct progress *pr = &r->prs[i];

		/* Fill the follower's window: pipelining. */
		if (pr->id != r->id && send_append(r, pr, allow_empty))
			while (send_append(r, pr, false))
				;
	}
}

static int append_local(struct raft *r, struct raft_entry *e)
{
	int err;

	e->term = r->term;
	e->index = log_last_index(&r->log) + 1;
	err = log_append(&r->log, e);
	if (err)
		return err;
	if (e->type == RAFT_ENTRY_CONF)
		conf_refresh(r);
	r->uncommitted_bytes += e->len;
	return 0;
}

static void become_leader(struct raft *r)
{
	struct raft_entry noop = { .type = RAFT_ENTRY_NORMAL };
	uint64_t last = log_last_index(&r->log);
	size_t i;

	reset(r, r->term);
	r->lead = r->id;
	r->role = RAFT_LEADER;
	r->step_role = step_leader;
	r->tick_role = tick_leader;
	r->uncommitted_bytes = 0;
	for (i = 0; i < r->n_prs; i++) {
		struct progress *pr = &r->prs[i];

		progress_init(pr, pr->id, last + 1, r->cfg.max_inflight_msgs,
			      r->cfg.max_inflight_bytes);
		pr->recent_active = true;
		if (pr->id == r->id) {
			pr->match = r->log.stable;
			pr->state = PROGRESS_REPLICATE;
		}
	}
	/* An entry of the new term lets earlier ones commit (Figure 8). */
	append_local(r, &noop);
	bcast_append(r, true);
}

static enum quorum_vote poll(struct raft *r, uint64_t from, bool granted)
{
	size_t i, yes = 0, no = 0;

	for (i = 0; i < r->n_prs; i++) {
		if (r->prs[i].id == from && r->votes[i] == VOTE_NONE)
			r->votes[i] = granted ? VOTE_GRANTED : VOTE_REJECTED;
	}
	for (i = 0; i < r->n_prs; i++) {
		if (!conf_is_voter(&r->conf, r->prs[i].id))
			continue;
		if (r->votes[i] == VOTE_GRANTED)
			yes++;
		else if (r->votes[i] == VOTE_REJECTED)
			no++;
	}
	return quorum_joint_vote(r->conf.n_voters, yes, no, 0, 0, 0);
}

/*
 * The next campaign in a random 1 .. max(1, election_ticks / 4) ticks, not
 * in step with the others that lost the same leader at the same moment.
 */
static void campaign_soon(struct raft *r)
{
	unsigned int window = r->cfg.election_ticks / 4 ? r->cfg.election_ticks / 4 : 1;
	unsigned int at = r->randomized_timeout - 1 - prng_below(&r->prng, window);

	if (r->election_elapsed < at)
		r->election_elapsed = at;
}

static void campaign(struct raft *r, bool pre, bool transfer)
{
	uint32_t type;
	uint64_t term;
	size_t i;

	if (pre) {
		become_pre_candidate(r);
		type = RAFT_MSG_PREVOTE;
		term = r->term + 1;
	} else {
		become_candidate(r);
		type = RAFT_MSG_VOTE;
		term = r->term;
	}
	/*
	 * With the leader known gone, a campaign that does not win (two
	 * that went at once split the vote) is tried again early too.
	 */
	if (r->hurry)
		campaign_soon(r);
	if (poll(r, r->id, true) == QUORUM_WON) {
		if (pre)
			campaign(r, false, false);
		else
			become_leader(r);
		return;
	}
	for (i = 0; i < r->conf.n_voters; i++) {
		struct raft_msg m = {
			.type = type,
			.to = r->conf.voters[i],
			.term = term,
			.index = log_last_index(&r->log),
			.log_term = log_last_term(&r->log),
			.context = transfer ? RAFT_VOTE_TRANSFER : 0,
		};

		if (m.to != r->id)
			send_msg(r, &m);
	}
}

static void hup(struct raft *r, bool transfer)
{
	/*
	 * The next term would wrap to 0 and void every vote and log check.
	 * Only a peer's absurd term leads here; staying a follower is safe.
	 */
	if (r->role == RAFT_LEADER || !promotable(r) || r->term == UINT64_MAX)
		return;
	campaign(r, r->cfg.pre_vote && !transfer, transfer);
}

/* ---- replication ---- */

static void send_snapshot_chunk(struct raft *r, struct progress *pr)
{
	uint64_t off = pr->snap_offset;
	uint64_t left = r->snap.len > off ? r->snap.len - off : 0;
	uint32_t len = left < r->cfg.snapshot_chunk_bytes ? left : r->cfg.snapshot_chunk_bytes;
	struct raft_msg m = {
		.type = RAFT_MSG_SNAPSHOT,
		.to = pr->id,
		.term = r->term,
		.snap = r->snap.meta,
		.snap_offset = off,
		.snap_total = r->snap.len,
		.snap_len = len,
	};

	if (len) {
		m.snap_data = malloc(len);
		if (!m.snap_data)
			return;
		memcpy(m.snap_data, (uint8_t *)r->snap.data + off, len);
	}
	send_msg(r, &m);
}

static void start_snapshot(struct raft *r, struct progress *pr)
{
	progress_become_snapshot(pr, r->snap.meta.index);
	send_snapshot_chunk(r, pr);
}

/* Sends what pr is missing, if its flow control allows; true if sent. */
static bool send_append(struct raft *r, struct progress *pr, bool allow_empty)
{
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .to = pr->id, .term = r->term };
	uint64_t last = log_last_index(&r->log), prev = pr->next - 1, bytes = 0;
	size_t n = 0;

	if (progress_is_paused(pr))
		return false;
	if (log_term(&r->log, prev, &m.log_term)) {
		start_snapshot(r, pr);
		return true;
	}
	while (prev + n < last) {
		const struct raft_entry *e = log_entry(&r->log, prev + n + 1);

		if (n && (bytes >= r->cfg.max_msg_bytes ||
			  bytes + e->len > r->cfg.max_msg_bytes))
			break;
		bytes += e->len;
		n++;
	}
	if (!n && !allow_empty)
		return false;
	m.index = prev;
	m.commit = r->log.commit;
	if (attach_entries(r, &m, prev + 1, n))
		return false;
	progress_sent(pr, prev + n, bytes, n > 0);
	send_msg(r, &m);
	return true;
}

static void send_heartbeat(struct raft *r, struct progress *pr, uint64_t ctx)
{
	struct raft_msg m = {
		.type = RAFT_MSG_HEARTBEAT,
		.to = pr->id,
		.term = r->term,
		/* Only what the follower is known to hold may be committed. */
		.commit = pr->match < r->log.commit ? pr->match : r->log.commit,
		.context = ctx,
	};

	send_msg(r, &m);
}

static void bcast_heartbeat(struct raft *r, uint64_t ctx)
{
	size_t i;

	for (i = 0; i < r->n_prs; i++)
		if (r->prs[i].id != r->id)
			send_heartbeat(r, &r->prs[i], ctx);
}

static void commit_to(struct raft *r, uint64_t index)
{
	uint64_t last = log_last_index(&r->log);

	if (index > last)
		index = last;
	if (index > r->log.commit)
		r->log.commit = index;
}

static bool maybe_commit(struct raft *r)
{
	uint64_t acked[RAFT_MAX_NODES];
	size_t n = 0, i;
	uint64_t idx, t, old = r->log.commit;

	for (i = 0; i < r->n_prs; i++) {
		const struct progress *pr = &r->prs[i];

		if (conf_is_voter(&r->conf, pr->id))
			acked[n++] = pr->id != r->id ? pr->match :
				     r->cfg.bugs & RAFT_BUG_COMMIT_UNSYNCED ?
				     log_last_index(&r->log) : r->log.stable;
	}
	idx = quorum_joint_index(acked, n, NULL, 0);
	if (idx <= old || log_term(&r->log, idx, &t))
		return false;
	/* Figure 8: count replicas only for entries of the current term. */
	if (t != r->term && !(r->cfg.bugs & RAFT_BUG_COMMIT_OLD_TERM))
		return false;
	r->log.commit = idx;
	for (i = old + 1; i <= idx; i++) {
		const struct raft_entry *e = log_entry(&r->log, i);
		uint64_t len = e ? e->len : 0;

		r->uncommitted_bytes -= len < r->uncommitted_bytes ? len : r->uncommitted_bytes;
	}
	return true;
}

static bool committed_in_term(const struct raft *r)
{
	uint64_t t;

	return log_term(&r->log, r->log.commit, &t) == 0 && t == r->term;
}

/* ---- reads ---- */

static int read_push_ready(struct raft *r, uint64_t ctx, uint64_t index)
{
	struct read_queue *q = &r->reads_ready;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct raft_read *nr = realloc(q->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		q->r = nr;
		q->cap = cap;
	}
	q->r[q->n].ctx = ctx;
	q->r[q->n].index = index;
	q->n++;
	return 0;
}

static size_t read_voter_acks(const struct raft *r, const struct pending_read *pr)
{
	size_t i, n = 0;

	for (i = 0; i < pr->n_acks; i++)
		if (conf_is_voter(&r->conf, pr->acks[i]))
			n++;
	return n;
}

static void read_ack(struct raft *r, uint64_t from, uint64_t round)
{
	size_t i, j, done = 0;

	for (i = 0; i < r->n_reads && r->reads[i].round <= round; i++) {
		struct pending_read *pr = &r->reads[i];

		for (j = 0; j < pr->n_acks; j++)
			if (pr->acks[j] == from)
				break;
		if (j == pr->n_acks && pr->n_acks < RAFT_MAX_NODES)
			pr->acks[pr->n_acks++] = from;
		/* A confirmed round confirms every earlier read as well. */
		if (quorum_is_majority(r->conf.n_voters, read_voter_acks(r, pr)))
			done = i + 1;
	}
	for (i = 0; i < done; i++)
		read_push_ready(r, r->reads[i].ctx, r->reads[i].index);
	/* Every heartbeat reply comes here, mostly with no read pending. */
	if (done) {
		memmove(r->reads, r->reads + done, (r->n_reads - done) * sizeof(*r->reads));
		r->n_reads -= done;
	}
}

/* ---- per-role step functions ---- */

static void leader_on_append_resp(struct raft *r, struct progress *pr, const struct raft_msg *m)
{
	bool was_paused;

	pr->recent_active = true;
	if (m->reject) {
		/*
		 * The hint is the follower's last entry whose term (log_term)
		 * is not above the rejected one's; its entries before it have
		 * no higher terms. So every entry of ours up to the hint with
		 * a term above log_term conflicts too: skip them all at once,
		 * a round trip per term instead of per entry.
		 */
		uint64_t hint = log_find_conflict_by_term(&r->log, m->reject_hint, m->log_term);

		if (progress_maybe_decrease(pr, m->index, hint)) {
			if (pr->state == PROGRESS_REPLICATE)
				progress_become_probe(pr);
			send_append(r, pr, true);
		}
		return;
	}
	was_paused = progress_is_paused(pr);
	/*
	 * A probe accepted at match moves nothing, but proves the logs agree
	 * up to it: replicate now rather than wait for the next heartbeat.
	 */
	if (!progress_maybe_update(pr, m->index) &&
	    (pr->state != PROGRESS_PROBE || m->index != pr->match))
		return;
	switch (pr->state) {
	case PROGRESS_PROBE:
		progress_become_replicate(pr);
		break;
	case PROGRESS_SNAPSHOT:
		if (pr->match >= pr->pending_snapshot)
			progress_become_probe(pr);
		break;
	case PROGRESS_REPLICATE:
		inflights_free_to(&pr->inflights, m->index);
		break;
	}
	if (maybe_commit(r))
		bcast_append(r, true);
	else if (was_paused)
		send_append(r, pr, true);
	while (send_append(r, pr, false))
		;
	if (m->from == r->transferee && pr->match == log_last_index(&r->log)) {
		struct raft_msg tn = { .type = RAFT_MSG_TIMEOUT_NOW, .to = m->from, .term = r->term };

		send_msg(r, &tn);
	}
}

static int step_leader(struct raft *r, const struct raft_msg *m)
{
	struct progress *pr = progress_of(r, m->from);

	if (!pr)
		return 0;
	switch (m->type) {
	case RAFT_MSG_APPEND_RESP:
		leader_on_append_resp(r, pr, m);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		pr->recent_active = true;
		pr->probe_sent = false;
		if (pr->state == PROGRESS_SNAPSHOT) {
			/* Chunks go one at a time; a lost one is resent here. */
			if (pr->pending_snapshot != r->snap.meta.index)
				progress_become_snapshot(pr, r->snap.meta.index);
			send_snapshot_chunk(r, pr);
		} else if (pr->match < log_last_index(&r->log)) {
			/*
			 * A full window may be full of lost messages: let one more
			 * through; a gap it reveals sends the follower to probe.
			 */
			if (pr->state == PROGRESS_REPLICATE && inflights_full(&pr->inflights))
				inflights_free_first(&pr->inflights);
			send_append(r, pr, true);
		}
		if (m->context)
			read_ack(r, m->from, m->context);
		break;
	case RAFT_MSG_SNAPSHOT_RESP:
		pr->recent_active = true;
		if (pr->state != PROGRESS_SNAPSHOT || m->snap.index != pr->pending_snapshot)
			break;
		if (pr->pending_snapshot != r->snap.meta.index) {
			start_snapshot(r, pr);	/* compacted again meanwhile */
			break;
		}
		pr->snap_offset = m->index <= r->snap.len ? m->index : 0;
		send_snapshot_chunk(r, pr);
		break;
	default:
		break;
	}
	return 0;
}

static void reply(struct raft *r, struct raft_msg *resp, const struct raft_msg *m)
{
	resp->to = m->from;
	resp->term = r->term;
	send_msg(r, resp);
}

static int handle_append(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP };
	uint64_t last_new = m->index + m->n_entries;
	bool conf_changed = false;
	uint32_t i;

	if (m->index < r->log.commit) {
		resp.index = r->log.commit;
		reply(r, &resp, m);
		return 0;
	}
	if (!log_matches(&r->log, m->index, m->log_term)) {
		uint64_t hint = log_find_conflict_by_term(&r->log, m->index, m->log_term);

		resp.reject = true;
		resp.index = m->index;
		resp.reject_hint = hint;
		log_term(&r->log, hint, &resp.log_term);
		reply(r, &resp, m);
		return 0;
	}
	for (i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		uint64_t t;

		if (log_term(&r->log, e->index, &t) == 0) {
			if (t == e->term)
				continue;
			/* Never rewrite what this node knows is committed. */
			if (e->index <= r->log.commit)
				return -EIO;
			log_truncate_from(&r->log, e->index);
			conf_changed = true;
		}
		if (log_append(&r->log, e))
			return -ENOMEM;
		if (e->type == RAFT_ENTRY_CONF)
			conf_changed = true;
	}
	if (conf_changed)
		conf_refresh(r);
	commit_to(r, m->commit < last_new ? m->commit : last_new);
	resp.index = last_new;
	reply(r, &resp, m);
	return 0;
}

static bool restore_snapshot(struct raft *r)
{
	const struct raft_snapshot_meta *meta = &r->in_meta;

	if (meta->index <= r->log.commit)
		return false;
	if (log_matches(&r->log, meta->index, meta->term)) {
		/* We hold the entries already: just learn they are committed. */
		commit_to(r, meta->index);
		return false;
	}
	log_reset(&r->log, meta->index, meta->term);
	r->log.commit = meta->index;
	free(r->snap.data);
	r->snap.meta = *meta;
	r->snap.data = r->in_data;
	r->snap.len = r->in_len;
	r->in_data = NULL;
	r->snap_unsaved = true;
	conf_refresh(r);
	return true;
}

static int handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg resp = { .type = RAFT_MSG_SNAPSHOT_RESP, .snap = m->snap };

	if (m->snap.index <= r->log.commit) {
		struct raft_msg ack = { .type = RAFT_MSG_APPEND_RESP, .index = r->log.commit };

		r->in_active = false;
		reply(r, &ack, m);
		return 0;
	}
	if (m->snap_offset == 0) {
		uint8_t *buf = m->snap_total ? malloc(m->snap_total) : NULL;

		if (m->snap_total && !buf)
			return -ENOMEM;
		free(r->in_data);
		r->in_data = buf;
		r->in_meta = m->snap;
		r->in_total = m->snap_total;
		r->in_len = 0;
		r->in_active = true;
	}
	if (!r->in_active || r->in_meta.index != m->snap.index || r->in_meta.term != m->snap.term ||
	    r->in_total != m->snap_total || m->snap_offset != r->in_len ||
	    m->snap_len > r->in_total - r->in_len) {
		resp.reject = true;
		resp.index = r->in_active && r->in_meta.index == m->snap.index ? r->in_len : 0;
		reply(r, &resp, m);
		return 0;
	}
	if (m->snap_len)
		memcpy(r->in_data + r->in_len, m->snap_data, m->snap_len);
	r->in_len += m->snap_len;
	if (r->in_len < r->in_total) {
		resp.index = r->in_len;
		reply(r, &resp, m);
		return 0;
	}
	r->in_active = false;
	restore_snapshot(r);
	free(r->in_data);
	r->in_data = NULL;
	{
		/*
		 * Acknowledge the snapshot's index (now the commit index), not
		 * the last one: where the log already held the snapshot's
		 * entry, what follows it may be another leader's branch, and
		 * claiming it would let the leader commit over it.
		 */
		struct raft_msg ack = { .type = RAFT_MSG_APPEND_RESP, .index = r->log.commit };

		reply(r, &ack, m);
	}
	return 0;
}

static int step_follower(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND:
		r->election_elapsed = 0;
		r->lead = m->from;
		return handle_append(r, m);
	case RAFT_MSG_HEARTBEAT: {
		struct raft_msg resp = { .type = RAFT_MSG_HEARTBEAT_RESP, .context = m->context };

		r->election_elapsed = 0;
		r->lead = m->from;
		commit_to(r, m->commit);
		reply(r, &resp, m);
		return 0;
	}
	case RAFT_MSG_SNAPSHOT:
		r->election_elapsed = 0;
		r->lead = m->from;
		return handle_snapshot(r, m);
	case RAFT_MSG_TIMEOUT_NOW:
		hup(r, true);
		return 0;
	default:
		return 0;
	}
}

static int step_candidate(struct raft *r, const struct raft_msg *m)
{
	enum quorum_vote res;

	switch (m->type) {
	case RAFT_MSG_APPEND:
	case RAFT_MSG_HEARTBEAT:
	case RAFT_MSG_SNAPSHOT:
		/* A leader of our term exists: we lost. */
		become_follower(r, m->term, m->from);
		return step_follower(r, m);
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		if ((m->type == RAFT_MSG_PREVOTE_RESP) != (r->role == RAFT_PRE_CANDIDATE))
			return 0;
		if (r->role == RAFT_PRE_CANDIDATE && !m->reject && m->term != r->term + 1)
			return 0;
		res = poll(r, m->from, !m->reject);
		if (res == QUORUM_WON) {
			if (r->role == RAFT_PRE_CANDIDATE)
				campaign(r, false, false);
			else
				become_leader(r);
		} else if (res == QUORUM_LOST) {
			become_follower(r, r->term, RAFT_NONE);
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- ticks ---- */

static void tick_election(struct raft *r)
{
	r->election_elapsed++;
	if (r->lead != RAFT_NONE)
		r->hurry = 0;
	if (promotable(r) && r->election_elapsed >= r->randomized_timeout) {
		r->election_elapsed = 0;
		if (r->hurry)
			r->hurry--;
		hup(r, false);
	}
}

static bool quorum_active(struct raft *r)
{
	size_t i, active = 0;

	for (i = 0; i < r->n_prs; i++) {
		struct progress *pr = &r->prs[i];

		if (conf_is_voter(&r->conf, pr->id) && (pr->id == r->id || pr->recent_active))
			active++;
		if (pr->id != r->id)
			pr->recent_active = false;
	}
	return quorum_is_majority(r->conf.n_voters, active);
}

static void tick_leader(struct raft *r)
{
	r->heartbeat_elapsed++;
	r->election_elapsed++;
	if (r->election_elapsed >= r->cfg.election_ticks) {
		r->election_elapsed = 0;
		if (r->cfg.check_quorum && !quorum_active(r)) {
			become_follower(r, r->term, RAFT_NONE);
			return;
		}
		/* A transfer that did not finish in time is abandoned. */
		r->transferee = RAFT_NONE;
	}
	if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		bcast_heartbeat(r, r->read_round);
	}
}

/* ---- public API ---- */

void raft_config_default(struct raft_config *cfg, uint64_t id, uint64_t seed)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->id = id;
	cfg->seed = seed;
	cfg->election_ticks = 10;
	cfg->heartbeat_ticks = 1;
	cfg->pre_vote = true;
	cfg->check_quorum = true;
	cfg->max_msg_bytes = 64 * 1024;
	cfg->max_inflight_msgs = 64;
	cfg->max_inflight_bytes = 0;
	cfg->max_entry_bytes = 1024 * 1024;
	cfg->max_uncommitted_bytes = 64 * 1024 * 1024;
	cfg->snapshot_chunk_bytes = 64 * 1024;
	cfg->max_snapshot_bytes = RAFT_MAX_SNAPSHOT_BYTES;
}

int raft_new(struct raft **out, const struct raft_config *cfg, const struct raft_boot *boot)
{
	static const struct raft_boot empty;
	struct raft *r;
	size_t i;

	if (!boot)
		boot = &empty;
	if (!cfg->id || !cfg->heartbeat_ticks || cfg->election_ticks <= cfg->heartbeat_ticks ||
	    !cfg->snapshot_chunk_bytes || !cfg->max_msg_bytes || !cfg->max_snapshot_bytes ||
	    boot->snap_len > cfg->max_snapshot_bytes)
		return -EINVAL;
	for (i = 0; i < boot->n_entries; i++)
		if (boot->entries[i].index != boot->snap.index + 1 + i ||
		    boot->entries[i].term < boot->snap.term)
			return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->id = cfg->id;
	prng_seed(&r->prng, cfg->seed);
	log_init(&r->log, boot->snap.index, boot->snap.term);
	r->snap.meta = boot->snap;
	if (boot->snap_len) {
		r->snap.data = malloc(boot->snap_len);
		if (!r->snap.data)
			goto nomem;
		memcpy(r->snap.data, boot->snap_data, boot->snap_len);
		r->snap.len = boot->snap_len;
	}
	for (i = 0; i < boot->n_entries; i++)
		if (log_append(&r->log, &boot->entries[i]))
			goto nomem;
	r->log.stable = log_last_index(&r->log);
	r->log.persist_next = r->log.stable + 1;
	r->log.commit = boot->hs.commit;
	if (r->log.commit > log_last_index(&r->log))
		r->log.commit = log_last_index(&r->log);
	if (r->log.commit < boot->snap.index)
		r->log.commit = boot->snap.index;
	r->log.applied = boot->applied > boot->snap.index ? boot->applied : boot->snap.index;
	if (r->log.applied > r->log.commit)
		r->log.applied = r->log.commit;
	r->log.apply_next = r->log.applied + 1;
	r->term = boot->hs.term;
	r->vote = boot->hs.vote;
	r->prev_hs = (struct raft_hard_state){ r->term, r->vote, r->log.commit };
	conf_refresh(r);
	become_follower(r, r->term, RAFT_NONE);
	*out = r;
	return 0;
nomem:
	raft_free(r);
	return -ENOMEM;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	log_free(&r->log);
	free(r->snap.data);
	free(r->in_data);
	queue_free(&r->out_now);
	queue_free(&r->out_after);
	queue_free(&r->handed_now);
	queue_free(&r->handed_after);
	free(r->reads);
	free(r->reads_ready.r);
	free(r->reads_handed.r);
	free(r);
}

void raft_tick(struct raft *r)
{
	r->tick_role(r);
}

int raft_forget_leader(struct raft *r)
{
	if (r->role != RAFT_FOLLOWER || r->lead == RAFT_NONE || !promotable(r))
		return -EINVAL;
	r->lead = RAFT_NONE;
	r->leader_forgotten++;
	/*
	 * A pre-vote granted meanwhile, or a message from a leader, resets
	 * the timer to the full timeout; hearing a leader ends the hurry.
	 */
	r->hurry = FORGET_ATTEMPTS;
	campaign_soon(r);
	return 0;
}

int raft_campaign(struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return -EALREADY;
	if (!promotable(r))
		return -EPERM;
	hup(r, false);
	return 0;
}

static int validate_msg(const struct raft *r, const struct raft_msg *m)
{
	uint32_t i;

	if (m->type == 0 || m->type >= RAFT_MSG_TYPE_MAX || m->to != r->id ||
	    m->from == RAFT_NONE || m->from == r->id)
		return -EINVAL;
	if (m->n_entries && !m->entries)
		return -EINVAL;
	/* The index after the last one must exist: log arithmetic never wraps. */
	if (m->index >= UINT64_MAX - m->n_entries || m->snap.index == UINT64_MAX)
		return -EINVAL;
	for (i = 0; i < m->n_entries; i++) {
		if (m->entries[i].index != m->index + 1 + i || m->entries[i].term > m->term ||
		    (m->entries[i].len && !m->entries[i].data))
			return -EINVAL;
	}
	if (m->type == RAFT_MSG_SNAPSHOT &&
	    (m->snap_offset > m->snap_total || m->snap_len > m->snap_total - m->snap_offset ||
	     (m->snap_len && !m->snap_data)))
		return -EINVAL;
	return 0;
}

static void step_vote_request(struct raft *r, const struct raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE;
	struct raft_msg resp = {
		.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP,
		.to = m->from,
	};
	bool can_vote = r->vote == m->from ||
			(r->vote == RAFT_NONE && r->lead == RAFT_NONE) ||
			(pre && m->term > r->term);

	if (!pre && (r->cfg.bugs & RAFT_BUG_DOUBLE_VOTE))
		can_vote = true;
	if (can_vote && log_is_up_to_date(&r->log, m->index, m->log_term)) {
		/* A granted pre-vote answers in the term it asks about. */
		resp.term = m->term;
		if (!pre) {
			r->election_elapsed = 0;
			r->vote = m->from;
		} else if (r->role == RAFT_FOLLOWER) {
			/*
			 * Give the candidate we would vote for time to finish
			 * instead of timing out next to it and splitting the
			 * vote. Its leader is silent (we are out of lease), so
			 * forget it: the lease must not turn the real vote away.
			 */
			r->election_elapsed = 0;
			r->lead = RAFT_NONE;
		}
	} else {
		resp.term = r->term;
		resp.reject = true;
	}
	send_msg(r, &resp);
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	int err = validate_msg(r, m);

	if (err)
		return err;
	if (m->type == RAFT_MSG_SNAPSHOT && m->snap_total > r->cfg.max_snapshot_bytes) {
		r->snapshots_too_large++;
		return -EMSGSIZE;
	}
	if (m->term > r->term) {
		if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE) {
			bool force = m->type == RAFT_MSG_VOTE && m->context == RAFT_VOTE_TRANSFER;
			bool in_lease = r->cfg.check_quorum && r->lead != RAFT_NONE &&
					(r->role == RAFT_LEADER ||
					 r->election_elapsed + r->cfg.heartbeat_ticks <
					 r->cfg.election_ticks);

			/*
			 * Leader lease: a live leader makes us ignore campaigns.
			 * A follower that reaches a live leader hears from it every
			 * heartbeat interval, so the lease can end one interval
			 * before the shortest election timeout: then followers
			 * that heard the last heartbeat a little apart do not
			 * turn away the first one to time out. A leader is its own
			 * lease (check_quorum deposes it when a majority is silent):
			 * a follower that wrongly forgot it must not win its
			 * pre-vote in the last tick of the leader's window.
			 */
			if (in_lease && !force)
				return 0;
		}
		if (m->type == RAFT_MSG_PREVOTE ||
		    (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)) {
			/* Pre-votes and their grants do not move our term. */
		} else if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
			   m->type == RAFT_MSG_SNAPSHOT) {
			become_follower(r, m->term, m->from);
		} else {
			become_follower(r, m->term, RAFT_NONE);
		}
	} else if (m->term < r->term) {
		if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
		    (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT)) {
			/* Tell a deposed leader about the newer term. */
			struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP };

			reply(r, &resp, m);
		} else if (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE) {
			struct raft_msg resp = {
				.type = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP :
								   RAFT_MSG_PREVOTE_RESP,
				.reject = true,
			};

			/* Figure 2: refuse, and tell the sender our term. */
			reply(r, &resp, m);
		}
		return 0;
	}
	if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE) {
		step_vote_request(r, m);
		return 0;
	}
	return r->step_role(r, m);
}

int raft_propose(struct raft *r, const struct raft_buf *bufs, size_t n,
		 struct raft_proposal *first)
{
	uint64_t bytes = 0;
	size_t i;
	int err;

	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (r->transferee)
		return -EAGAIN;
	for (i = 0; i < n; i++) {
		if (bufs[i].len > r->cfg.max_entry_bytes) {
			r->proposals_too_large++;
			return -EMSGSIZE;
		}
		bytes += bufs[i].len;
	}
	/* The uncommitted tail is bounded; one oversized batch may still go alone. */
	if (r->cfg.max_uncommitted_bytes && r->uncommitted_bytes &&
	    r->uncommitted_bytes + bytes > r->cfg.max_uncommitted_bytes) {
		r->proposals_over_limit++;
		return -ENOBUFS;
	}
	if (first) {
		first->index = log_last_index(&r->log) + 1;
		first->term = r->term;
	}
	for (i = 0; i < n; i++) {
		struct raft_entry e = {
			.type = RAFT_ENTRY_NORMAL,
			.len = bufs[i].len,
			.data = (void *)bufs[i].data,
		};

		err = append_local(r, &e);
		if (err)
			return err;
	}
	bcast_append(r, false);
	return 0;
}

int raft_propose_conf(struct raft *r, enum raft_conf_op op, uint64_t node, const char *addr,
		      struct raft_proposal *id)
{
	uint8_t buf[CONF_ENCODED_MAX];
	struct raft_conf next;
	struct raft_entry e = { .type = RAFT_ENTRY_CONF, .data = buf };
	int err;

	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (r->transferee)
		return -EAGAIN;
	if (r->conf_index > r->log.commit && !(r->cfg.bugs & RAFT_BUG_TWO_PENDING_CONF))
		return -EBUSY;		/* one change at a time */
	if (!committed_in_term(r) && !(r->cfg.bugs & RAFT_BUG_CONF_BEFORE_TERM_COMMIT))
		return -EAGAIN;		/* see Ongaro's single-server fix */
	err = conf_change(&r->conf, op, node, addr, &next);
	if (err)
		return err;
	if (op == RAFT_CONF_REMOVE && node == r->id)
		return -EINVAL;		/* transfer leadership first */
	if (op == RAFT_CONF_PROMOTE) {
		const struct progress *pr = progress_of(r, node);

		/* A learner must hold everything committed before it votes. */
		if (!pr || pr->match < r->log.commit)
			return -EAGAIN;
	}
	e.len = conf_encode(&next, buf);
	if (id) {
		id->index = log_last_index(&r->log) + 1;
		id->term = r->term;
	}
	err = append_local(r, &e);
	if (err)
		return err;
	bcast_append(r, false);
	return 0;
}

int raft_read_index(struct raft *r, uint64_t ctx)
{
	struct pending_read *pr;

	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (!committed_in_term(r))
		return -EAGAIN;
	if (r->conf.n_voters == 1)
		return read_push_ready(r, ctx, r->log.commit);
	if (r->n_reads >= MAX_PENDING_READS) {
		r->reads_over_limit++;
		return -ENOBUFS;
	}
	if (r->n_reads == r->cap_reads) {
		size_t cap = r->cap_reads ? r->cap_reads * 2 : 16;
		struct pending_read *nr = realloc(r->reads, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		r->reads = nr;
		r->cap_reads = cap;
	}
	pr = &r->reads[r->n_reads++];
	memset(pr, 0, sizeof(*pr));
	pr->ctx = ctx;
	pr->index = r->log.commit;
	pr->round = ++r->read_round;
	pr->acks[pr->n_acks++] = r->id;
	bcast_heartbeat(r, pr->round);
	return 0;
}

int raft_transfer_leader(struct raft *r, uint64_t to)
{
	struct progress *pr;

	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (to == r->id || !conf_is_voter(&r->conf, to))
		return -EINVAL;
	if (r->transferee == to)
		return -EALREADY;
	pr = progress_of(r, to);
	r->transferee = to;
	r->election_elapsed = 0;
	if (pr->match == log_last_index(&r->log)) {
		struct raft_msg tn = { .type = RAFT_MSG_TIMEOUT_NOW, .to = to, .term = r->term };

		send_msg(r, &tn);
	} else {
		send_append(r, pr, true);
	}
	return 0;
}

int raft_compact(struct raft *r, uint64_t index, const void *data, size_t len)
{
	struct raft_snapshot_meta meta;
	void *copy = NULL;

	if (index <= r->log.snap_index || index > r->log.applied)
		return -EINVAL;
	if (len > r->cfg.max_snapshot_bytes) {
		r->snapshots_too_large++;	/* followers would refuse it */
		return -EMSGSIZE;
	}
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	meta.index = index;
	log_term(&r->log, index, &meta.term);
	conf_at(r, index, &meta.conf);
	free(r->snap.data);
	r->snap.meta = meta;
	r->snap.data = copy;
	r->snap.len = len;
	log_compact(&r->log, index);
	return 0;
}

static uint64_t apply_limit(const struct raft *r)
{
	return r->log.commit < r->log.stable ? r->log.commit : r->log.stable;
}

bool raft_has_ready(const struct raft *r)
{
	return r->out_now.n || r->out_after.n || r->snap_unsaved || r->reads_ready.n ||
	       r->prev_hs.term != r->term || r->prev_hs.vote != r->vote ||
	       r->prev_hs.commit != r->log.commit ||
	       r->log.persist_next <= log_last_index(&r->log) ||
	       r->log.apply_next <= apply_limit(r);
}

static void queue_hand_over(struct msg_queue *from, struct msg_queue *to)
{
	struct msg_queue tmp = *to;

	queue_clear(&tmp);
	*to = *from;
	*from = tmp;
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
	uint64_t last = log_last_index(&r->log), limit;
	struct read_queue rq;

	memset(rd, 0, sizeof(*rd));
	rd->hs = (struct raft_hard_state){ r->term, r->vote, r->log.commit };
	rd->hs_changed = memcmp(&rd->hs, &r->prev_hs, sizeof(rd->hs)) != 0;
	rd->must_sync = r->prev_hs.term != r->term || r->prev_hs.vote != r->vote;
	r->prev_hs = rd->hs;
	if (r->snap_unsaved) {
		rd->snapshot = &r->snap;
		r->snap_unsaved = false;
		rd->must_sync = true;
	}
	if (r->log.persist_next <= last) {
		rd->entries = log_entry(&r->log, r->log.persist_next);
		rd->n_entries = last - r->log.persist_next + 1;
		r->log.persist_next = last + 1;
		rd->must_sync = true;
	}
	if (rd->snapshot || rd->n_entries) {
		rd->persist_index = last;
		log_term(&r->log, last, &rd->persist_term);
	}
	limit = apply_limit(r);
	if (r->log.apply_next <= limit) {
		rd->committed = log_entry(&r->log, r->log.apply_next);
		rd->n_committed = limit - r->log.apply_next + 1;
		r->log.apply_next = limit + 1;
	}
	queue_hand_over(&r->out_now, &r->handed_now);
	queue_hand_over(&r->out_after, &r->handed_after);
	rd->msgs = r->handed_now.m;
	rd->n_msgs = r->handed_now.n;
	rd->msgs_after_persist = r->handed_after.m;
	rd->n_msgs_after_persist = r->handed_after.n;
	rq = r->reads_handed;
	r->reads_handed = r->reads_ready;
	r->reads_ready = rq;
	r->reads_ready.n = 0;
	rd->reads = r->reads_handed.r;
	rd->n_reads = r->reads_handed.n;
}

void raft_persisted(struct raft *r, uint64_t index, uint64_t term)
{
	struct progress *self;

	/* An acknowledgement for entries since overwritten says nothing. */
	if (index <= r->log.stable || index >= r->log.persist_next ||
	    !log_matches(&r->log, index, term))
		return;
	r->log.stable = index;
	if (r->role != RAFT_LEADER)
		return;
	self = progress_of(r, r->id);
	if (self)
		progress_maybe_update(self, index);
	if (maybe_commit(r))
		bcast_append(r, true);
}

void raft_applied(struct raft *r, uint64_t index)
{
	if (index > r->log.applied && index < r->log.apply_next)
		r->log.applied = index;
}

void raft_advance(struct raft *r, const struct raft_ready *rd)
{
	if (rd->persist_index)
		raft_persisted(r, rd->persist_index, rd->persist_term);
	if (rd->n_committed)
		raft_applied(r, rd->committed[rd->n_committed - 1].index);
	else if (rd->snapshot)
		raft_applied(r, rd->snapshot->meta.index);
}

void raft_status(const struct raft *r, struct raft_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = r->id;
	st->role = r->role;
	st->term = r->term;
	st->vote = r->vote;
	st->lead = r->lead;
	st->commit = r->log.commit;
	st->applied = r->log.applied;
	st->stable = r->log.stable;
	st->first_index = log_first_index(&r->log);
	st->last_index = log_last_index(&r->log);
	st->snap_index = r->log.snap_index;
	st->snap_term = r->log.snap_term;
	st->conf_index = r->conf_index;
	st->transferee = r->transferee;
	st->conf = r->conf;
	if (r->role == RAFT_LEADER) {
		size_t i;

		for (i = 0; i < r->n_prs; i++) {
			st->progress[i].id = r->prs[i].id;
			st->progress[i].match = r->prs[i].match;
			st->progress[i].next = r->prs[i].next;
			st->progress[i].recent_active = r->prs[i].recent_active;
		}
		st->n_progress = r->n_prs;
	}
	st->proposals_too_large = r->proposals_too_large;
	st->proposals_over_limit = r->proposals_over_limit;
	st->reads_over_limit = r->reads_over_limit;
	st->reads_dropped = r->reads_dropped;
	st->snapshots_too_large = r->snapshots_too_large;
	st->leader_forgotten = r->leader_forgotten;
}

enum raft_proposal_state raft_proposal_state(const struct raft *r,
					     const struct raft_proposal *p)
{
	uint64_t term;

	if (p->index > r->log.commit)
		return RAFT_PROPOSAL_PENDING;
	if (log_term(&r->log, p->index, &term))
		return RAFT_PROPOSAL_UNKNOWN;
	return term == p->term ? RAFT_PROPOSAL_COMMITTED : RAFT_PROPOSAL_DROPPED;
}

int raft_term_at(const struct raft *r, uint64_t index, uint64_t *term)
{
	return log_term(&r->log, index, term);
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	return log_entry(&r->log, index);
}

const struct raft_snapshot *raft_snapshot(const struct raft *r)
{
	return &r->snap;
}

const char *raft_role_name(enum raft_role role)
{
	static const char *const names[] = { "follower", "pre-candidate", "candidate", "leader" };

	return role <= RAFT_LEADER ? names[role] : "?";
}

const char *raft_msg_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "app", "app-resp", "vote", "vote-resp", "prevote", "prevote-resp",
		"heartbeat", "heartbeat-resp", "snap", "snap-resp", "timeout-now",
	};

	return type < RAFT_MSG_TYPE_MAX ? names[type] : "?";
}
