// SPDX-License-Identifier: GPL-2.0
/*
 * Membership changes (Documentation/klbd.md, "Membership"), driven by the
 * leader one at a time. An add proposes the node as a learner, waits for
 * its log to hold everything committed (from the log or a snapshot) and
 * promotes it to voter; a removal is one change. The Raft core refuses to
 * remove its own leader, so a leader asked to remove itself hands
 * leadership to the most caught-up voter and answers "retry": klbctl sends
 * the request again, and the new leader removes the old one. A node that
 * learns it was removed stops, and leaves a marker in its data-dir so that
 * it never starts again as the member it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"
#include "raft/conf.h"

#define REMOVED_MARKER	"removed"

static bool is_member(const struct raft_conf *c, uint64_t id)
{
	return conf_is_voter(c, id) || conf_is_learner(c, id);
}

static void show_line(struct klbd *d, const struct raft_status *rs, uint64_t id,
		      bool voter, char *buf, size_t cap, size_t *n)
{
	const char *addr = raft_conf_addr(&rs->conf, id);
	char match[24] = "-", applied[24] = "-";
	uint32_t i;

	for (i = 0; i < rs->n_progress; i++)
		if (rs->progress[i].id == id)
			snprintf(match, sizeof(match), "%llu",
				 (unsigned long long)rs->progress[i].match);
	if (id == d->cfg.id)
		snprintf(applied, sizeof(applied), "%llu", (unsigned long long)d->applied);
	if (*n < cap)
		*n += snprintf(buf + *n, cap - *n, "%llu %s %s %s %s %s\n",
			       (unsigned long long)id, voter ? "voter" : "learner",
			       id == rs->lead ? "yes" : "no", match, applied,
			       addr && *addr ? addr : "-");
}

void member_show(struct klbd *d, uint64_t client)
{
	char buf[2 * RAFT_MAX_NODES * (3 * 24 + RAFT_ADDR_MAX + 32)];
	struct raft_status rs;
	size_t n = 0;
	uint32_t i;

	raft_status(d->raft, &rs);
	for (i = 0; i < rs.conf.n_voters; i++)
		show_line(d, &rs, rs.conf.voters[i], true, buf, sizeof(buf), &n);
	for (i = 0; i < rs.conf.n_learners; i++)
		show_line(d, &rs, rs.conf.learners[i], false, buf, sizeof(buf), &n);
	control_reply(d, client, KLBD_CTL_MEMBERS, 0, NULL, buf,
		      n < sizeof(buf) ? n : sizeof(buf) - 1);
}

static void member_fail(struct klbd *d, struct pending *p, int err,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void member_fail(struct klbd *d, struct pending *p, int err,
			const char *fmt, ...)
{
	char msg[sizeof(p->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pending_answer(d, p, err, msg, 0);
}

/* 0 when proposed; else the pending got its answer, unless err is transient. */
static int member_propose(struct klbd *d, struct pending *p, enum raft_conf_op op)
{
	const struct klbd_member_req *m = &p->member;
	struct raft_proposal prop;
	int err;

	err = raft_propose_conf(d->raft, op, m->id,
				op == RAFT_CONF_ADD_LEARNER ? m->addr : NULL, &prop);
	if (!err) {
		d->stats.proposals++;
		p->stage = MEMBER_PROPOSED;
		p->promoting = op == RAFT_CONF_PROMOTE;
		p->index = prop.index;
		p->term = prop.term;
		p->deadline_ms = d->now_ms + REQUEST_TIMEOUT_MS;
		return 0;
	}
	/* The promotion waits for the learner, or for another change. */
	if (op == RAFT_CONF_PROMOTE && (err == -EAGAIN || err == -EBUSY))
		return err;
	switch (err) {
	case -EBUSY:
		member_fail(d, p, -EAGAIN, "another membership change is being committed: retry");
		break;
	case -EAGAIN:
	case -EPERM:
		member_fail(d, p, -EAGAIN, "the leader is not ready for a change: retry");
		break;
	case -ENOSPC:
		member_fail(d, p, -ENOSPC, "the cluster has %d members, the most it can have",
			    RAFT_MAX_NODES);
		break;
	case -ENAMETOOLONG:
		member_fail(d, p, err, "the address is longer than %d characters",
			    RAFT_ADDR_MAX - 1);
		break;
	default:
		member_fail(d, p, err, "the change was refused: %s", strerror(-err));
		break;
	}
	return err;
}

/* The voter that takes over from this leader: the most caught-up one. */
static void member_hand_off(struct klbd *d, struct pending *p,
			    const struct raft_status *rs)
{
	uint64_t best = 0, best_match = 0;
	uint32_t i;

	for (i = 0; i < rs->n_progress; i++) {
		const struct raft_member_progress *pr = &rs->progress[i];

		if (pr->id == d->cfg.id || !conf_is_voter(&rs->conf, pr->id) ||
		    !pr->recent_active)
			continue;
		if (!best || pr->match > best_match) {
			best = pr->id;
			best_match = pr->match;
		}
	}
	if (!best) {
		member_fail(d, p, -EAGAIN, "no other voter is reachable to take over: retry");
		return;
	}
	if (raft_transfer_leader(d->raft, best) == 0)
		klbd_log(LOG_NOTICE, "removing this node (the leader): handing leadership to node %llu first",
			 (unsigned long long)best);
}

/* On the leader: checks the change against the configuration, starts it. */
static void member_begin(struct klbd *d, struct pending *p)
{
	const struct klbd_member_req *m = &p->member;
	struct raft_status rs;
	struct klbd_addr sa;
	const char *cur;
	uint32_t i;

	raft_status(d->raft, &rs);
	p->kind = PENDING_MEMBER;
	p->deadline_ms = d->now_ms + REQUEST_TIMEOUT_MS;
	if (m->op == KLBD_MEMBER_ADD) {
		if (klbd_parse_addr(m->addr, &sa)) {
			member_fail(d, p, -EINVAL,
				    "address '%s' is not IPV4:PORT or [IPV6]:PORT",
				    m->addr);
			return;
		}
		if (conf_is_voter(&rs.conf, m->id)) {
			member_fail(d, p, -EEXIST, "node %llu is a member already (a voter)",
				    (unsigned long long)m->id);
			return;
		}
		for (i = 0; i < rs.conf.n_addrs; i++) {
			if (rs.conf.addrs[i].id == m->id ||
			    strcmp(rs.conf.addrs[i].addr, m->addr))
				continue;
			member_fail(d, p, -EEXIST, "address %s is node %llu's", m->addr,
				    (unsigned long long)rs.conf.addrs[i].id);
			return;
		}
		if (conf_is_learner(&rs.conf, m->id)) {
			cur = raft_conf_addr(&rs.conf, m->id);
			if (!cur || strcmp(cur, m->addr)) {
				member_fail(d, p, -EEXIST,
					    "node %llu is a learner already, at %s",
					    (unsigned long long)m->id, cur ? cur : "no address");
				return;
			}
			/* A retry: the learner is there, go on catching it up. */
			p->stage = MEMBER_CATCHING_UP;
			p->deadline_ms = d->now_ms + MEMBER_CATCHUP_MS;
			return;
		}
		/*
		 * The new node learns the configuration from a snapshot: a log
		 * replayed from its start would apply commands before it knows
		 * the voters whose verdicts they carry.
		 */
		if (!rs.snap_index)
			node_snapshot_now(d);
		member_propose(d, p, RAFT_CONF_ADD_LEARNER);
		return;
	}
	if (!is_member(&rs.conf, m->id)) {
		member_fail(d, p, -ENOENT, "node %llu is not a member",
			    (unsigned long long)m->id);
		return;
	}
	if (conf_is_voter(&rs.conf, m->id) && rs.conf.n_voters == 1) {
		member_fail(d, p, -EINVAL,
			    "node %llu is the last voter: a cluster needs one",
			    (unsigned long long)m->id);
		return;
	}
	if (m->id == d->cfg.id) {
		p->stage = MEMBER_HANDING_OFF;
		p->deadline_ms = d->now_ms + 4ull * d->cfg.election_ticks * d->cfg.tick_ms;
		member_hand_off(d, p, &rs);
		return;
	}
	member_propose(d, p, RAFT_CONF_REMOVE);
}

static int member_decode(struct klbd *d, const uint8_t *body, size_t len,
			 struct klbd_member_req *m, char *why, size_t why_len)
{
	int err = klbd_member_decode(body, len, m, why, why_len);

	if (err)
		d->stats.control_bad_requests++;
	return err;
}

void member_request(struct klbd *d, uint64_t client, const uint8_t *body,
		    size_t len)
{
	uint8_t buf[8 + KLBD_MEMBER_MAX_BYTES];
	struct klbd_member_req m;
	struct raft_status rs;
	struct pending *p;
	const char *msg = "";
	uint64_t lead;
	char why[160];
	int err;

	err = member_decode(d, body, len, &m, why, sizeof(why));
	if (err) {
		control_reply(d, client, KLBD_CTL_MEMBER, err, why, NULL, 0);
		return;
	}
	if (pending_new(d, client, KLBD_CTL_MEMBER, &p))
		return;
	p->member = m;
	raft_status(d->raft, &rs);
	if (rs.role == RAFT_LEADER) {
		member_begin(d, p);
		return;
	}
	lead = node_leader(d, &msg);
	if (!lead) {
		pending_answer(d, p, -EAGAIN, msg, 0);
		return;
	}
	p->kind = PENDING_FORWARDED;
	p->req = ++d->next_req;
	/* The leader answers once the change is done, catching up included. */
	p->deadline_ms = d->now_ms + MEMBER_CATCHUP_MS + 2 * REQUEST_TIMEOUT_MS;
	put_u64(buf, p->req);
	memcpy(buf + 8, body, len);
	transport_send(d, lead, FRAME_MEMBER_REQ, buf, 8 + len);
	d->stats.forwarded++;
}

void member_forwarded(struct klbd *d, uint64_t from, const uint8_t *data,
		      size_t len)
{
	struct klbd_member_req m;
	struct raft_status rs;
	struct pending *p;
	char why[160];
	int err;

	if (len < 8 || len > 8 + KLBD_MEMBER_MAX_BYTES) {
		d->ts.frames_bad_proto++;
		return;
	}
	p = pending_add(d);
	if (!p)
		return;
	p->kind = PENDING_MEMBER;
	p->peer = from;
	p->req = get_u64(data);
	if (d->n_pending > PENDING_MAX) {
		d->stats.pending_over_limit++;
		pending_answer(d, p, -EBUSY, "too many commands in flight", 0);
		return;
	}
	err = member_decode(d, data + 8, len - 8, &m, why, sizeof(why));
	if (err) {
		pending_answer(d, p, err, why, 0);
		return;
	}
	p->member = m;
	raft_status(d->raft, &rs);
	if (rs.role != RAFT_LEADER) {
		pending_answer(d, p, -EAGAIN, "not the leader (any more): retry", 0);
		return;
	}
	member_begin(d, p);
}

static void member_done(struct klbd *d, struct pending *p)
{
	const struct klbd_member_req *m = &p->member;

	if (m->op == KLBD_MEMBER_ADD) {
		d->stats.members_added++;
		klbd_log(LOG_NOTICE, "node %llu (%s) is a voter now",
			 (unsigned long long)m->id, m->addr);
	} else {
		d->stats.members_removed++;
		klbd_log(LOG_NOTICE, "node %llu is no member any more",
			 (unsigned long long)m->id);
	}
	pending_answer(d, p, 0, "", p->index);
}

static void member_step(struct klbd *d, struct pending *p,
			const struct raft_status *rs)
{
	const struct klbd_member_req *m = &p->member;
	struct raft_proposal prop = { .index = p->index, .term = p->term };
	uint64_t match = 0;
	uint32_t i;
	int err;

	switch (p->stage) {
	case MEMBER_PROPOSED:
		switch (raft_proposal_state(d->raft, &prop)) {
		case RAFT_PROPOSAL_COMMITTED:
			if (m->op != KLBD_MEMBER_ADD || p->promoting) {
				member_done(d, p);
				return;
			}
			klbd_log(LOG_INFO, "node %llu is a learner: catching up",
				 (unsigned long long)m->id);
			p->stage = MEMBER_CATCHING_UP;
			p->deadline_ms = d->now_ms + MEMBER_CATCHUP_MS;
			break;		/* it may be caught up already */
		case RAFT_PROPOSAL_DROPPED:
			member_fail(d, p, -EAGAIN, "a new leader overwrote the change: retry");
			return;
		case RAFT_PROPOSAL_UNKNOWN:
			member_fail(d, p, -ETIMEDOUT,
				    "outcome unknown (a snapshot replaced the log): check cluster members");
			return;
		case RAFT_PROPOSAL_PENDING:
			if (d->now_ms >= p->deadline_ms)
				member_fail(d, p, -ETIMEDOUT,
					    "the change did not commit in time (is a majority up?): check cluster members");
			return;
		}
		/* fall through */
	case MEMBER_CATCHING_UP:
		if (rs->role != RAFT_LEADER) {
			member_fail(d, p, -EAGAIN, "leadership changed while node %llu caught up: retry",
				    (unsigned long long)m->id);
			return;
		}
		if (conf_is_voter(&rs->conf, m->id)) {
			member_done(d, p);
			return;
		}
		if (!conf_is_learner(&rs->conf, m->id)) {
			member_fail(d, p, -ENOENT, "node %llu was removed meanwhile",
				    (unsigned long long)m->id);
			return;
		}
		err = member_propose(d, p, RAFT_CONF_PROMOTE);
		if (err != -EAGAIN && err != -EBUSY)
			return;		/* proposed, or answered */
		if (d->now_ms < p->deadline_ms)
			return;
		for (i = 0; i < rs->n_progress; i++)
			if (rs->progress[i].id == m->id)
				match = rs->progress[i].match;
		d->stats.member_catchup_timeouts++;
		member_fail(d, p, -ETIMEDOUT,
			    "node %llu did not catch up in %d s (its log at %llu of %llu): is it running with join = yes, reachable at %s? It stays a learner until removed",
			    (unsigned long long)m->id, MEMBER_CATCHUP_MS / 1000,
			    (unsigned long long)match, (unsigned long long)rs->commit, m->addr);
		return;
	case MEMBER_HANDING_OFF:
		if (rs->role != RAFT_LEADER && rs->lead && rs->lead != d->cfg.id) {
			member_fail(d, p, -EAGAIN, "node %llu leads now: retry the removal there",
				    (unsigned long long)rs->lead);
			return;
		}
		if (d->now_ms >= p->deadline_ms) {
			member_fail(d, p, -ETIMEDOUT, "no other voter took over in time");
			return;
		}
		/* An abandoned transfer is tried again. */
		if (rs->role == RAFT_LEADER && !rs->transferee)
			member_hand_off(d, p, rs);
		return;
	}
}

void member_tick(struct klbd *d)
{
	struct pending *p, *next;
	struct raft_status rs;
	bool any = false;

	for (p = d->pending; p && !any; p = p->next)
		any = p->kind == PENDING_MEMBER;
	if (!any)
		return;
	raft_status(d->raft, &rs);
	for (p = d->pending; p; p = next) {
		next = p->next;
		if (p->kind == PENDING_MEMBER)
			member_step(d, p, &rs);
	}
}

static void self_removed(struct klbd *d, uint64_t index, const char *how)
{
	char path[PATH_MAX + 16];
	int fd;

	if (d->stop_at_ms)
		return;
	klbd_log(LOG_NOTICE,
		 "this node (%llu) was removed from the cluster (configuration at index %llu; %s): stopping, the kernel keeps its tables. To join again, empty %s and start with join = yes",
		 (unsigned long long)d->cfg.id, (unsigned long long)index, how,
		 d->cfg.data_dir);
	snprintf(path, sizeof(path), "%s/" REMOVED_MARKER, d->cfg.data_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "node %llu was removed from the cluster at index %llu\n",
			(unsigned long long)d->cfg.id, (unsigned long long)index);
		fsync(fd);
		close(fd);
	} else {
		klbd_log(LOG_WARNING, "%s: %s", path, strerror(errno));
	}
	/* A moment for the answers on their way (klbctl's, if it asked here). */
	d->stop_at_ms = d->now_ms + 2000;
}

void member_conf_applied(struct klbd *d, const struct raft_conf *conf,
			 uint64_t index, bool from_log)
{
	const struct raft_conf *old = &d->conf_applied;
	uint64_t ids[2 * RAFT_MAX_NODES];
	uint8_t buf[8];
	size_t n = 0, i;
	struct raft_status rs;
	int err;

	/*
	 * A new majority counts the verdicts anew: only a service with one
	 * may change in the kernel (the remapping drops verdicts, never adds).
	 */
	if (from_log)
		for (i = 0; i < d->state.n_svcs; i++) {
			const struct state_service *svc = &d->state.svcs[i];
			size_t b;

			for (b = 0; b < svc->n_bes && !svc->health[b].failing; b++)
				;
			if (b < svc->n_bes)
				dirty_service(&d->dirty, &svc->key);
		}
	/* The same voters at the same index on every gateway. */
	err = from_log ? state_change_voters(&d->state, conf->voters, conf->n_voters) :
		state_set_voters(&d->state, conf->voters, conf->n_voters);
	if (err == -EINVAL)
		klbd_log(LOG_WARNING, "more than %u voters: their verdicts are not counted",
			 STATE_MAX_VOTERS);
	else if (err) {
		/* Half applied, this state would differ from the others'. */
		klbd_log(LOG_CRIT, "applying the configuration at %llu: %s: stopping; the next start replays it",
			 (unsigned long long)index, strerror(-err));
		exit(1);
	}
	for (i = 0; i < old->n_voters; i++)
		ids[n++] = old->voters[i];
	for (i = 0; i < old->n_learners; i++)
		ids[n++] = old->learners[i];
	raft_status(d->raft, &rs);
	put_u64(buf, index);
	for (i = 0; i < n; i++) {
		if (is_member(conf, ids[i]))
			continue;
		klbd_log(LOG_INFO, "node %llu left the configuration at index %llu",
			 (unsigned long long)ids[i], (unsigned long long)index);
		if (ids[i] == d->cfg.id) {
			self_removed(d, index, "this node applied it");
			continue;
		}
		if (d->n_removed == RAFT_MAX_NODES) {
			memmove(d->removed, d->removed + 1,
				(RAFT_MAX_NODES - 1) * sizeof(d->removed[0]));
			d->n_removed--;
		}
		d->removed[d->n_removed].id = ids[i];
		d->removed[d->n_removed].index = index;
		d->n_removed++;
		/* It will not hear from Raft again: tell it. */
		if (rs.role == RAFT_LEADER)
			transport_send(d, ids[i], FRAME_REMOVED, buf, sizeof(buf));
	}
	if (!is_member(old, d->cfg.id) && is_member(conf, d->cfg.id))
		klbd_log(LOG_NOTICE, "this node is a %s of the cluster (index %llu)",
			 conf_is_voter(conf, d->cfg.id) ? "voter" : "learner",
			 (unsigned long long)index);
	else if (conf_is_learner(old, d->cfg.id) && conf_is_voter(conf, d->cfg.id))
		klbd_log(LOG_NOTICE, "this node is a voter now (index %llu)",
			 (unsigned long long)index);
	d->conf_applied = *conf;
}

void member_stray(struct klbd *d, uint64_t from)
{
	struct raft_status rs;
	uint8_t buf[8];
	size_t i;

	if (!d->n_removed)
		return;
	for (i = 0; i < d->n_removed && d->removed[i].id != from; i++)
		;
	if (i == d->n_removed)
		return;
	raft_status(d->raft, &rs);
	if (rs.role != RAFT_LEADER || is_member(&rs.conf, from))
		return;
	put_u64(buf, d->removed[i].index);
	transport_send(d, from, FRAME_REMOVED, buf, sizeof(buf));
}

void member_removed_frame(struct klbd *d, uint64_t from, const uint8_t *data,
			  size_t len)
{
	uint64_t index;
	char how[64];

	if (len != 8) {
		d->ts.frames_bad_proto++;
		return;
	}
	index = get_u64(data);
	/*
	 * Believed from a voter we know, about a configuration we have not
	 * applied: one we applied would have told us itself.
	 */
	if (!conf_is_voter(&d->conf_applied, from) || index <= d->applied) {
		d->ts.frames_bad_proto++;
		return;
	}
	snprintf(how, sizeof(how), "told by node %llu", (unsigned long long)from);
	self_removed(d, index, how);
}

int member_check_removed(struct klbd *d, char *err, size_t err_len)
{
	char path[PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/" REMOVED_MARKER, d->cfg.data_dir);
	if (stat(path, &st))
		return 0;
	snprintf(err, err_len,
		 "data-dir %s: this node was removed from the cluster (%s); to join again, empty data-dir and start it with join = yes",
		 d->cfg.data_dir, path);
	return -EPERM;
}
