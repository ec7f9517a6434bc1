// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft node: drives the core (raft.h) with the storage's batches on
 * the loop's ring, sends and receives messages through the transport,
 * applies committed commands to the state, takes snapshots, and tracks
 * the commands of control clients until they are applied here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include "klbd/klbd.h"
#include "raft/codec.h"
#include "raft/conf.h"
#include "raft/uring.h"

/* A SERVICE_REPLACE is one log entry, and one entry of an APPEND frame. */
_Static_assert(KLBD_ENTRY_MAX_BYTES <= RAFT_CODEC_MAX_ENTRY_BYTES,
	       "the largest command must fit a Raft entry");
_Static_assert(8 + KLBD_ENTRY_MAX_BYTES + RAFT_CODEC_HEADER_BYTES <= FRAME_MAX_PAYLOAD,
	       "a forwarded command must fit a frame");

struct after_persist {
	struct after_persist *next;
	uint64_t ticket;
	uint64_t to;
	size_t len;
	uint8_t data[];
};

static uint8_t *scratch;
static size_t scratch_cap;

static uint8_t *scratch_get(size_t n)
{
	if (n > scratch_cap) {
		uint8_t *p = realloc(scratch, n);

		if (!p)
			return NULL;
		scratch = p;
		scratch_cap = n;
	}
	return scratch;
}

static void send_msg(struct klbd *d, const struct raft_msg *m)
{
	long n = raft_codec_size(m);
	uint8_t *buf = n < 0 ? NULL : scratch_get(n);

	if (!buf)
		return;
	n = raft_codec_encode(m, buf, n);
	if (n > 0)
		transport_send(d, m->to, FRAME_RAFT, buf, n);
}

/* After-persist messages wait, encoded, for their ticket. */
static void hold_msg(struct klbd *d, const struct raft_msg *m, uint64_t ticket)
{
	long n = raft_codec_size(m);
	struct after_persist *ap;

	if (n < 0)
		return;
	ap = malloc(sizeof(*ap) + n);
	if (!ap)
		return;
	if (raft_codec_encode(m, ap->data, n) != n) {
		free(ap);
		return;
	}
	ap->next = NULL;
	ap->ticket = ticket;
	ap->to = m->to;
	ap->len = n;
	if (d->ap_tail)
		d->ap_tail->next = ap;
	else
		d->ap_head = ap;
	d->ap_tail = ap;
}

static void release_held(struct klbd *d)
{
	struct after_persist *ap;

	while ((ap = d->ap_head) && raft_storage_is_durable(&d->st, ap->ticket)) {
		d->ap_head = ap->next;
		if (!d->ap_head)
			d->ap_tail = NULL;
		transport_send(d, ap->to, FRAME_RAFT, ap->data, ap->len);
		free(ap);
	}
}

void pending_del(struct klbd *d, struct pending *p)
{
	struct pending **pp;

	for (pp = &d->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			d->n_pending--;
			free(p);
			return;
		}
}

/* The answer for whoever waits on p; p is then gone. */
struct pending *pending_add(struct klbd *d)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->deadline_ms = d->now_ms + REQUEST_TIMEOUT_MS;
	p->next = d->pending;
	d->pending = p;
	d->n_pending++;
	return p;
}

void pending_answer(struct klbd *d, struct pending *p, int status,
		    const char *msg, uint64_t index)
{
	if (p->peer) {
		uint8_t buf[8 + 4 + 8 + 2 + sizeof(p->msg)];
		size_t n = strnlen(msg, sizeof(p->msg) - 1);

		put_u64(buf, p->req);
		put_u32(buf + 8, (uint32_t)status);
		put_u64(buf + 12, index);
		put_u16(buf + 20, n);
		memcpy(buf + 22, msg, n);
		transport_send(d, p->peer, FRAME_FWD_RESP, buf, 22 + n);
		pending_del(d, p);
		return;
	}
	/* A client here hears once the kernel was given the change too. */
	p->kind = PENDING_APPLYING;
	p->index = status ? 0 : index;
	p->status = status;
	snprintf(p->msg, sizeof(p->msg), "%s", msg);
}

static void apply_entry(struct klbd *d, const struct raft_entry *e)
{
	char why[160] = "";
	struct klbd_cmd cmd;
	struct pending *p, *next;
	struct watch_mark *mark = NULL;
	int status = 0;

	if (e->type == RAFT_ENTRY_NORMAL && e->len) {
		status = klbd_cmd_decode(e->data, e->len, &cmd, why, sizeof(why));
		/* A verdict, a new kind of check or a replacement may fail over. */
		if (!status && (cmd.op == KLBD_CMD_HEALTH ||
				cmd.op == KLBD_CMD_SERVICE_SET ||
				cmd.op == KLBD_CMD_SERVICE_REPLACE))
			mark = watch_mark(d, &cmd.key);
		if (!status) {
			status = state_apply(&d->state, &cmd, why, sizeof(why));
			klbd_cmd_release(&cmd);
		}
		/* The kernel gets the service the entry changed, or all. */
		if (status)
			d->stats.apply_refused++;
		else if (cmd.op == KLBD_CMD_FLUSH)
			dirty_all(&d->dirty);
		else if (cmd.op != KLBD_CMD_BOOTSTRAP_DONE)
			dirty_service(&d->dirty, &cmd.key);
		watch_compare(d, mark, e->index);
	} else if (e->type == RAFT_ENTRY_CONF) {
		struct raft_conf conf;

		/* The core decoded it when it was appended: it decodes. */
		if (!conf_decode(e->data, e->len, &conf)) {
			/* A new majority may fail backends over, or back. */
			mark = watch_mark(d, NULL);
			member_conf_applied(d, &conf, e->index, true);
			watch_compare(d, mark, e->index);
			watch_conf(d, &conf, e->index);
		}
	}
	d->applied = e->index;
	d->applied_term = e->term;
	d->stats.applied_entries++;
	for (p = d->pending; p; p = next) {
		next = p->next;
		if (p->kind != PENDING_PROPOSED || p->index != e->index)
			continue;
		if (p->term == e->term) {
			metrics_observe(&d->metrics.proposal,
					loop_now_ns() - p->proposed_ns);
			pending_answer(d, p, status, why, e->index);
		} else {
			pending_answer(d, p, -ECANCELED,
				       "a new leader overwrote the command: retry", 0);
		}
	}
}

static void install_snapshot(struct klbd *d, const struct raft_snapshot *snap)
{
	char why[160];
	struct pending *p, *next;

	if (state_decode(&d->state, snap->data, snap->len, why, sizeof(why))) {
		/* The leader's own encoding: a bug, not an input to live with. */
		klbd_log(LOG_CRIT, "snapshot at %llu refused: %s",
			 (unsigned long long)snap->meta.index, why);
		exit(1);
	}
	d->applied = snap->meta.index;
	d->applied_term = snap->meta.term;
	d->snap_index = snap->meta.index;
	dirty_all(&d->dirty);
	d->stats.snapshots_installed++;
	member_conf_applied(d, &snap->meta.conf, snap->meta.index, false);
	for (p = d->pending; p; p = next) {
		next = p->next;
		if (p->kind == PENDING_PROPOSED && p->index <= snap->meta.index)
			/* Not -EAGAIN: it may be in the snapshot, so no blind retry. */
			pending_answer(d, p, -ETIMEDOUT,
				       "outcome unknown (a snapshot replaced the log): check before retrying",
				       0);
	}
	klbd_log(LOG_INFO, "installed the leader's snapshot at index %llu",
		 (unsigned long long)snap->meta.index);
}

static void fatal_storage(struct klbd *d, int err)
{
	klbd_log(LOG_CRIT, "Raft storage failed (%s): stopping; the next start recovers",
		 strerror(-err));
	exit(1);
}

static void compact(struct klbd *d)
{
	uint8_t *data;
	size_t len;
	uint64_t ticket;
	int err;

	if (state_encode(&d->state, &data, &len))
		return;
	err = raft_compact(d->raft, d->applied, data, len);
	free(data);
	if (err) {
		klbd_log(LOG_WARNING, "snapshot at %llu: %s",
			 (unsigned long long)d->applied, strerror(-err));
		d->snap_index = d->applied;	/* try again later, not at once */
		return;
	}
	err = raft_storage_prepare_compact(&d->st, raft_snapshot(d->raft), &ticket);
	if (err)
		fatal_storage(d, err);
	d->snap_index = d->applied;
	d->stats.snapshots_taken++;
}

static void maybe_compact(struct klbd *d)
{
	if (d->applied >= d->snap_index + d->cfg.snapshot_entries)
		compact(d);
}

void node_snapshot_now(struct klbd *d)
{
	if (d->applied > d->snap_index)
		compact(d);
}

static void submit_storage(struct klbd *d)
{
	struct raft_io_batch *b;
	int err;

	if (d->storage_busy)
		return;
	b = raft_storage_next(&d->st);
	if (!b) {
		if (d->st.failed)
			fatal_storage(d, d->st.failed);
		return;
	}
	while ((err = raft_uring_queue(&d->ring, b)) == -EBUSY)
		io_uring_submit(&d->ring);
	if (err)
		fatal_storage(d, err);
	d->storage_busy = true;
}

void node_storage_done(struct klbd *d, void *op, int res)
{
	struct raft_storage_durable dur = { 0 };
	int ret;

	ret = raft_storage_complete(&d->st, op, res, &dur);
	if (ret < 0)
		fatal_storage(d, ret);
	if (ret == 1) {
		d->storage_busy = false;
		if (dur.persist_index)
			raft_persisted(d->raft, dur.persist_index, dur.persist_term);
		release_held(d);
	}
}

void node_process(struct klbd *d)
{
	struct raft_status rs;
	struct raft_ready rd;
	bool any = false;
	uint64_t ticket;
	size_t i;
	int err;

	/* Its proposals go out in this same pass. */
	member_tick(d);
	while (raft_has_ready(d->raft)) {
		any = true;
		raft_ready(d->raft, &rd);
		for (i = 0; i < rd.n_msgs; i++)
			send_msg(d, &rd.msgs[i]);
		if (rd.snapshot)
			install_snapshot(d, rd.snapshot);
		err = raft_storage_prepare(&d->st, &rd, &ticket);
		if (err)
			fatal_storage(d, err);
		for (i = 0; i < rd.n_msgs_after_persist; i++)
			hold_msg(d, &rd.msgs_after_persist[i], ticket);
		for (i = 0; i < rd.n_committed; i++)
			apply_entry(d, &rd.committed[i]);
		if (rd.n_committed || rd.snapshot)
			raft_applied(d->raft, d->applied);
		release_held(d);
	}
	/*
	 * A leadership (a leader in a term) seen for the first time; one
	 * always comes with a ready.
	 */
	if (any) {
		raft_status(d->raft, &rs);
		if (rs.lead && (rs.lead != d->lead_seen || rs.term != d->lead_term)) {
			d->lead_seen = rs.lead;
			d->lead_term = rs.term;
			d->stats.leader_changes++;
		}
	}
	maybe_compact(d);
	submit_storage(d);
	transport_sync(d);
}

void node_recv(struct klbd *d, uint64_t from, uint8_t type,
	       const uint8_t *data, size_t len)
{
	struct raft_msg m;
	struct pending *p;
	int err;

	switch (type) {
	case FRAME_RAFT:
		err = raft_codec_decode(data, len, &m);
		if (err) {
			d->ts.frames_bad_proto++;
			return;
		}
		/* A peer speaks for itself only. */
		if (m.from == from && m.to == d->cfg.id) {
			member_stray(d, from);
			raft_step(d->raft, &m);
		} else {
			d->ts.frames_bad_proto++;
		}
		raft_codec_msg_free(&m);
		return;
	case FRAME_FWD_REQ: {
		struct raft_proposal prop;
		struct raft_buf buf;
		struct klbd_cmd cmd;

		if (len < 8 || len > 8 + KLBD_ENTRY_MAX_BYTES) {
			d->ts.frames_bad_proto++;
			return;
		}
		/* A gateway speaks for itself only. */
		err = klbd_cmd_decode(data + 8, len - 8, &cmd, NULL, 0);
		if (!err)
			klbd_cmd_release(&cmd);
		if (!err && cmd.op == KLBD_CMD_HEALTH && cmd.node != from) {
			d->ts.frames_bad_proto++;
			return;
		}
		p = pending_add(d);
		if (!p)
			return;
		p->kind = PENDING_PROPOSED;
		p->peer = from;
		p->req = get_u64(data);
		buf.data = data + 8;
		buf.len = len - 8;
		if (d->n_pending > PENDING_MAX) {
			d->stats.pending_over_limit++;
			pending_answer(d, p, -EBUSY, "too many commands in flight", 0);
			return;
		}
		/* A renewal is answered here, and never logged. */
		if (!err && cmd.op == KLBD_CMD_LEASE_RENEW) {
			char why[160] = "";

			err = lease_renew(d, &cmd, why, sizeof(why));
			pending_answer(d, p, err, why, 0);
			return;
		}
		err = raft_propose(d->raft, &buf, 1, &prop);
		if (err) {
			pending_answer(d, p, -EAGAIN, "not the leader (any more): retry", 0);
			return;
		}
		d->stats.proposals++;
		p->proposed_ns = loop_now_ns();
		p->index = prop.index;
		p->term = prop.term;
		return;
	}
	case FRAME_MEMBER_REQ:
		member_forwarded(d, from, data, len);
		return;
	case FRAME_REMOVED:
		member_removed_frame(d, from, data, len);
		return;
	case FRAME_TRANSFER:
		if (len == 8)
			raft_transfer_leader(d->raft, get_u64(data));
		else
			d->ts.frames_bad_proto++;
		return;
	case FRAME_FWD_RESP: {
		uint64_t req, index;
		uint16_t n;

		n = len < 22 ? 0 : get_u16(data + 20);
		if (len < 22 || len != 22u + n || n >= sizeof(p->msg)) {
			d->ts.frames_bad_proto++;
			return;
		}
		req = get_u64(data);
		index = get_u64(data + 12);
		for (p = d->pending; p; p = p->next)
			if (p->kind == PENDING_FORWARDED && p->req == req)
				break;
		if (!p)
			return;		/* timed out meanwhile */
		p->kind = PENDING_APPLYING;
		p->status = (int32_t)get_u32(data + 8);
		p->index = p->status ? 0 : index;
		memcpy(p->msg, data + 22, n);
		p->msg[n] = '\0';
		return;
	}
	}
	d->ts.frames_bad_proto++;
}

int pending_new(struct klbd *d, uint64_t client, uint8_t op, struct pending **out)
{
	struct pending *p;

	if (d->n_pending >= PENDING_MAX) {
		d->stats.pending_over_limit++;
		control_reply(d, client, op, -EBUSY, "too many commands in flight",
			      NULL, 0);
		return -EBUSY;
	}
	p = pending_add(d);
	if (!p) {
		control_reply(d, client, op, -ENOMEM, "out of memory", NULL, 0);
		return -ENOMEM;
	}
	p->client = client;
	p->ctl_op = op;
	*out = p;
	return 0;
}

/* enc: 8 bytes for the forwarding header, then the command (n bytes). */
static void submit_encoded(struct klbd *d, struct pending *p, uint8_t *enc, int n)
{
	struct raft_status rs;
	struct raft_proposal prop;
	struct raft_buf buf;
	const char *msg = "";
	int err;

	raft_status(d->raft, &rs);
	if (rs.role == RAFT_LEADER) {
		buf.data = enc + 8;
		buf.len = n;
		err = raft_propose(d->raft, &buf, 1, &prop);
		if (err) {
			pending_answer(d, p, err == -ENOBUFS ? -EBUSY : -EAGAIN,
				       err == -ENOBUFS ? "too much uncommitted: retry" :
				       "not the leader: retry", 0);
			return;
		}
		d->stats.proposals++;
		p->proposed_ns = loop_now_ns();
		p->kind = PENDING_PROPOSED;
		p->index = prop.index;
		p->term = prop.term;
		return;
	}
	if (!node_leader(d, &msg)) {
		pending_answer(d, p, -EAGAIN, msg, 0);
		return;
	}
	p->kind = PENDING_FORWARDED;
	p->req = ++d->next_req;
	put_u64(enc, p->req);
	transport_send(d, rs.lead, FRAME_FWD_REQ, enc, 8 + n);
	d->stats.forwarded++;
}

void node_submit(struct klbd *d, uint64_t client, const uint8_t *data,
		 size_t len)
{
	uint8_t small[KLBD_CMD_MAX_BYTES + 8], *enc = small;
	struct raft_status rs;
	struct klbd_cmd cmd;
	struct pending *p;
	char why[160];
	int err, n;

	err = klbd_cmd_decode(data, len, &cmd, why, sizeof(why));
	if (!err && cmd.op == KLBD_CMD_HEALTH && client) {
		err = -EPERM;
		snprintf(why, sizeof(why), "verdicts come from klbd's own probes");
	}
	if (!err && cmd.op == KLBD_CMD_BOOTSTRAP_DONE) {
		err = -EPERM;
		snprintf(why, sizeof(why), "the bootstrap marker is the leader's own");
	}
	if (err) {
		d->stats.control_bad_requests++;
		control_reply(d, client, KLBD_CTL_SUBMIT, err, why, NULL, 0);
		return;
	}
	/* The seed is chosen once, here, and replicated with the command. */
	if (cmd.op == KLBD_CMD_SERVICE_ADD && !(cmd.conf.fields & KLB_SVC_SEED)) {
		if (getrandom(cmd.conf.seed, KLB_SEED_LEN, 0) != KLB_SEED_LEN) {
			control_reply(d, client, KLBD_CTL_SUBMIT, -EIO,
				      "no random bytes for the seed", NULL, 0);
			return;
		}
		cmd.conf.fields |= KLB_SVC_SEED;
	}
	/* The leader answers a renewal at once: it moves a deadline only. */
	raft_status(d->raft, &rs);
	if (cmd.op == KLBD_CMD_LEASE_RENEW && rs.role == RAFT_LEADER) {
		err = lease_renew(d, &cmd, why, sizeof(why));
		control_reply(d, client, KLBD_CTL_SUBMIT, err, why, NULL, 0);
		return;
	}
	/* A SERVICE_REPLACE is big: encoded aside, the same bytes as data. */
	if (cmd.op == KLBD_CMD_SERVICE_REPLACE) {
		enc = malloc(8 + klbd_cmd_size(&cmd));
		if (!enc) {
			klbd_cmd_release(&cmd);
			control_reply(d, client, KLBD_CTL_SUBMIT, -ENOMEM,
				      "out of memory", NULL, 0);
			return;
		}
	}
	n = klbd_cmd_encode(&cmd, enc + 8, cmd.op == KLBD_CMD_SERVICE_REPLACE ?
			    klbd_cmd_size(&cmd) : KLBD_CMD_MAX_BYTES);
	klbd_cmd_release(&cmd);
	if (n >= 0 && !pending_new(d, client, KLBD_CTL_SUBMIT, &p))
		submit_encoded(d, p, enc, n);
	if (enc != small)
		free(enc);
}

int node_propose(struct klbd *d, const uint8_t *cmd, size_t len)
{
	struct raft_proposal prop;
	struct raft_buf buf = { .data = cmd, .len = len };
	int err;

	err = raft_propose(d->raft, &buf, 1, &prop);
	if (!err)
		d->stats.proposals++;
	return err;
}

void node_services(struct klbd *d, uint64_t client)
{
	uint8_t *body, *p;
	size_t i;

	body = malloc(d->state.n_svcs * KLBD_SERVICES_ENTRY_MAX + 1);
	if (!body) {
		control_reply(d, client, KLBD_CTL_SERVICES, -ENOMEM, "out of memory",
			      NULL, 0);
		return;
	}
	p = body;
	for (i = 0; i < d->state.n_svcs; i++) {
		const struct state_service *svc = &d->state.svcs[i];

		klbd_key_encode(&svc->key, p);
		put_u64(p + KLBD_KEY_BYTES, state_service_digest(svc));
		p += KLBD_KEY_BYTES + 8;
		p += klbd_check_encode(&svc->check, p);
	}
	control_reply(d, client, KLBD_CTL_SERVICES, 0, NULL, body, p - body);
	free(body);
}

uint64_t node_leader(struct klbd *d, const char **why)
{
	struct raft_status rs;

	raft_status(d->raft, &rs);
	if (!rs.lead) {
		*why = "no leader (is a majority up?): retry";
		return 0;
	}
	if (rs.lead != d->cfg.id && !transport_connected(d, rs.lead)) {
		*why = "the leader is unreachable: retry";
		return 0;
	}
	return rs.lead;
}

uint64_t node_followed(struct klbd *d)
{
	struct raft_status rs;

	raft_status(d->raft, &rs);
	return rs.role == RAFT_FOLLOWER && rs.lead != d->cfg.id ? rs.lead : 0;
}

void node_leader_refused(struct klbd *d, uint64_t id)
{
	/*
	 * The host answers but nothing listens on the leader's port: its
	 * daemon died, and waiting out the election timeout would only delay
	 * a new leader. The core ignores this unless we still follow id; a
	 * wrong guess costs a pre-vote the others turn away.
	 */
	if (node_followed(d) != id || raft_forget_leader(d->raft))
		return;
	klbd_log(LOG_NOTICE, "leader %llu unreachable: its daemon refuses connections; campaigning early",
		 (unsigned long long)id);
	node_process(d);
}

void node_transfer(struct klbd *d, uint64_t client, uint64_t target)
{
	struct raft_status rs;
	struct pending *p;
	uint8_t buf[8];
	int err;

	raft_status(d->raft, &rs);
	if (!conf_is_voter(&rs.conf, target)) {
		control_reply(d, client, KLBD_CTL_TRANSFER, -EINVAL,
			      "no such voter", NULL, 0);
		return;
	}
	if (rs.lead == target) {
		control_reply(d, client, KLBD_CTL_TRANSFER, 0, "it leads already",
			      NULL, 0);
		return;
	}
	if (rs.role == RAFT_LEADER) {
		err = raft_transfer_leader(d->raft, target);
		if (err && err != -EALREADY) {
			control_reply(d, client, KLBD_CTL_TRANSFER, err,
				      "the leader refused the transfer", NULL, 0);
			return;
		}
	} else if (rs.lead) {
		put_u64(buf, target);
		transport_send(d, rs.lead, FRAME_TRANSFER, buf, sizeof(buf));
	} else {
		control_reply(d, client, KLBD_CTL_TRANSFER, -EAGAIN,
			      "no leader (is a majority up?)", NULL, 0);
		return;
	}
	if (pending_new(d, client, KLBD_CTL_TRANSFER, &p))
		return;
	p->kind = PENDING_TRANSFER;
	p->peer = target;
	/* A transfer takes an election at most. */
	p->deadline_ms = d->now_ms + 4ull * d->cfg.election_ticks * d->cfg.tick_ms;
}

/* Answers clients whose command is applied here and given to the kernel. */
static void answer_applied(struct klbd *d)
{
	struct raft_status rs;
	struct pending *p, *next;

	raft_status(d->raft, &rs);
	for (p = d->pending; p; p = next) {
		next = p->next;
		if (p->kind == PENDING_TRANSFER) {
			if (rs.lead == p->peer) {
				control_reply(d, p->client, KLBD_CTL_TRANSFER, 0,
					      NULL, NULL, 0);
				pending_del(d, p);
			}
			continue;
		}
		if (p->kind != PENDING_APPLYING)
			continue;
		/*
		 * A membership change gives the kernel nothing, and the leader's
		 * answer is its commit: a node it removed never applies it.
		 */
		if (p->ctl_op != KLBD_CTL_MEMBER &&
		    (p->index > d->applied || p->index > d->reconcile_tried_index))
			continue;
		control_reply(d, p->client, p->ctl_op ? p->ctl_op : KLBD_CTL_SUBMIT,
			      p->status, p->msg, NULL, 0);
		pending_del(d, p);
	}
}

void node_client_gone(struct klbd *d, uint64_t client)
{
	struct pending *p;

	for (p = d->pending; p; p = p->next)
		if (p->client == client)
			p->client = 0;
}

/* Where a request stood when its time ran out: what an operator chases. */
static void pending_log_timeout(const struct pending *p)
{
	switch (p->kind) {
	case PENDING_PROPOSED:
		klbd_log(LOG_WARNING, "request timed out: entry %llu (term %llu) not applied%s",
			 (unsigned long long)p->index, (unsigned long long)p->term,
			 p->peer ? ", for a follower" : "");
		break;
	case PENDING_FORWARDED:
		klbd_log(LOG_WARNING, "request timed out: forwarded as %llu, no answer from the leader",
			 (unsigned long long)p->req);
		break;
	case PENDING_APPLYING:
		klbd_log(LOG_WARNING, "request timed out: entry %llu committed, not yet applied here",
			 (unsigned long long)p->index);
		break;
	default:
		break;
	}
}

static void tick_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, tick_ev));
	struct pending *p, *next;

	d->now_ms = loop_now_ms();
	/* A removed node does not campaign while it stops. */
	if (!d->stop_at_ms)
		raft_tick(d->raft);
	transport_tick(d);
	lease_tick(d);
	bootstrap_tick(d);
	for (p = d->pending; p; p = next) {
		next = p->next;
		/* member.c keeps its own time, to say what did not finish. */
		if (d->now_ms < p->deadline_ms || p->kind == PENDING_MEMBER)
			continue;
		d->stats.requests_timed_out++;
		pending_log_timeout(p);
		if (p->client && p->kind == PENDING_TRANSFER)
			control_reply(d, p->client, KLBD_CTL_TRANSFER, -ETIMEDOUT,
				      "the transfer did not complete in time", NULL, 0);
		else if (p->client && p->ctl_op == KLBD_CTL_MEMBER)
			control_reply(d, p->client, KLBD_CTL_MEMBER, -ETIMEDOUT,
				      "no answer from the leader in time: check cluster members",
				      NULL, 0);
		else if (p->client)
			control_reply(d, p->client, KLBD_CTL_SUBMIT, -ETIMEDOUT,
				      "no outcome in time: the command may still apply",
				      NULL, 0);
		pending_del(d, p);
	}
	loop_timeout(&d->ring, &d->tick_ev, &d->tick_ts);
}

void node_after_reconcile(struct klbd *d)
{
	answer_applied(d);
}

void node_status(struct klbd *d, char *buf, size_t cap)
{
	struct raft_status rs;
	size_t n = 0, i;

#define LINE(fmt, ...) \
	do { \
		if (n < cap) \
			n += snprintf(buf + n, cap - n, fmt "\n", __VA_ARGS__); \
	} while (0)
#define U(name, v) LINE("%s %llu", name, (unsigned long long)(v))

	raft_status(d->raft, &rs);
	U("id", rs.id);
	LINE("role %s", raft_role_name(rs.role));
	U("term", rs.term);
	U("leader", rs.lead);
	U("leader_forgotten", rs.leader_forgotten);
	U("commit", rs.commit);
	U("applied", d->applied);
	U("reconciled", d->reconciled_index);
	U("snapshot_index", rs.snap_index);
	U("last_index", rs.last_index);
	U("services", d->state.n_svcs);
	U("bootstrapped", d->state.bootstrapped);
	U("bootstrap_services_proposed", d->stats.bootstrap_proposed);
	for (i = 0; i < d->n_peers; i++) {
		char name[64];

		snprintf(name, sizeof(name), "peer_%llu_connected",
			 (unsigned long long)d->peers[i].id);
		U(name, d->peers[i].conn && d->peers[i].conn->state == CONN_OPEN);
		snprintf(name, sizeof(name), "peer_%llu_dropped",
			 (unsigned long long)d->peers[i].id);
		U(name, d->peers[i].dropped);
	}
	U("frames_sent", d->ts.frames_sent);
	U("frames_received", d->ts.frames_received);
	U("frames_bad_crc", d->ts.frames_bad_crc);
	U("frames_bad_mac", d->ts.frames_bad_mac);
	U("frames_bad_seq", d->ts.frames_bad_seq);
	U("frames_bad_proto", d->ts.frames_bad_proto);
	U("frames_too_large", d->ts.frames_too_large);
	U("peers_unknown", d->ts.peers_unknown);
	U("auth_failures", d->ts.auth_failures);
	U("handshake_timeouts", d->ts.handshake_timeouts);
	U("inbound_over_limit", d->ts.inbound_over_limit);
	U("queue_full_drops", d->ts.queue_full_drops);
	U("connects", d->ts.connects);
	U("disconnects", d->ts.disconnects);
	U("applied_entries", d->stats.applied_entries);
	U("apply_refused", d->stats.apply_refused);
	U("service_limit_hits", d->state.service_limit_hits);
	U("backend_limit_hits", d->state.backend_limit_hits);
	U("reconciles", d->stats.reconciles);
	U("reconcile_failures", d->stats.reconcile_failures);
	U("reconciles_partial", d->stats.reconciles_partial);
	U("reconciled_services", d->stats.reconciled_services);
	U("reconcile_dirty_overflows", d->dirty.overflows);
	U("snapshots_taken", d->stats.snapshots_taken);
	U("snapshots_installed", d->stats.snapshots_installed);
	U("proposals", d->stats.proposals);
	U("forwarded", d->stats.forwarded);
	U("pending_over_limit", d->stats.pending_over_limit);
	U("requests_timed_out", d->stats.requests_timed_out);
	U("control_over_limit", d->stats.control_over_limit);
	U("control_bad_requests", d->stats.control_bad_requests);
	U("watchers", d->n_watchers);
	U("watch_events", d->stats.watch_events);
	U("watch_overflows", d->stats.watch_overflows);
	U("watch_over_limit", d->stats.watch_over_limit);
	U("kernel_events", d->stats.kernel_events);
	U("module_events", d->stats.module_events);
	U("reloads", d->stats.reloads);
	U("reload_failures", d->stats.reload_failures);
	U("members", rs.conf.n_voters + rs.conf.n_learners);
	U("members_added", d->stats.members_added);
	U("members_removed", d->stats.members_removed);
	U("member_catchup_timeouts", d->stats.member_catchup_timeouts);
	U("peers_over_limit", d->ts.peers_over_limit);
	U("raft_proposals_too_large", rs.proposals_too_large);
	U("raft_proposals_over_limit", rs.proposals_over_limit);
	U("raft_snapshots_too_large", rs.snapshots_too_large);
	U("probe_targets", d->n_targets);
	U("probes_inflight", d->probes_inflight);
	U("probes_started", d->ps.started);
	U("probes_succeeded", d->ps.succeeded);
	U("probes_failed", d->ps.failed);
	U("probes_timed_out", d->ps.timed_out);
	U("probes_over_limit", d->ps.over_limit);
	U("probes_exec_over_limit", d->ps.exec_over_limit);
	U("probe_scripts_running", d->execs_running);
	U("probe_socket_errors", d->ps.socket_errors);
	U("probes_via_vip_sent", d->ps.vip_sent);
	U("probes_via_vip_answered", d->ps.vip_answered);
	U("health_verdict_changes", d->ps.verdict_changes);
	U("health_reports", d->ps.reports);
	U("leases", d->n_leases);
	U("lease_renewals", d->stats.lease_renewals);
	U("lease_renewals_refused", d->stats.lease_renewals_refused);
	U("lease_expiries", d->stats.lease_expiries);
	U("register_requests", d->reg.srv.answered);
	U("register_unauthorized", d->reg.unauthorized);
	U("register_bad_requests", d->reg.bad_requests);
	U("register_clients_over_limit", d->reg.srv.conns_over_limit);
	U("register_too_large", d->reg.srv.too_large);
	U("register_timeouts", d->reg.srv.timeouts);
#undef U
#undef LINE
}

int node_start(struct klbd *d, char *err, size_t err_len)
{
	struct raft_conf conf = { 0 };
	struct raft_config rc;
	struct raft_boot boot;
	uint64_t seed;
	char why[160];
	size_t i;
	int ret;

	ret = member_check_removed(d, err, err_len);
	if (ret)
		return ret;
	for (i = 0; i < d->cfg.n_peers; i++) {
		conf.voters[conf.n_voters++] = d->cfg.peers[i].id;
		conf.addrs[conf.n_addrs].id = d->cfg.peers[i].id;
		snprintf(conf.addrs[conf.n_addrs].addr, RAFT_ADDR_MAX, "%s",
			 d->cfg.peers[i].addr);
		conf.n_addrs++;
	}
	/*
	 * A joining node never bootstraps: a configuration of its own would
	 * make it a cluster apart. It waits, empty, for the leader.
	 */
	ret = d->cfg.join ? -EEXIST : raft_storage_bootstrap(d->cfg.data_dir, &conf, NULL);
	if (ret && ret != -EEXIST) {
		snprintf(err, err_len, "data-dir %s: %s", d->cfg.data_dir, strerror(-ret));
		return ret;
	}
	if (!ret)
		klbd_log(LOG_NOTICE, "new cluster member: state created in %s",
			 d->cfg.data_dir);
	ret = raft_storage_open(&d->st, d->cfg.data_dir, NULL, &boot);
	if (ret) {
		snprintf(err, err_len, "data-dir %s: %s", d->cfg.data_dir,
			 d->st.error[0] ? d->st.error : strerror(-ret));
		return ret;
	}
	state_init(&d->state);
	/*
	 * The voters as of the snapshot; the log's configuration entries
	 * change them as they are applied, at the same index everywhere.
	 */
	d->conf_applied = boot.snap.conf;
	if (state_set_voters(&d->state, boot.snap.conf.voters, boot.snap.conf.n_voters)) {
		snprintf(err, err_len, "more than %u voters", STATE_MAX_VOTERS);
		return -EINVAL;
	}
	if (!boot.snap.conf.n_voters && !boot.n_entries)
		klbd_log(LOG_NOTICE,
			 "no cluster state yet (join = yes): waiting for the leader to add node %llu (klbctl cluster add-member %llu %s)",
			 (unsigned long long)d->cfg.id, (unsigned long long)d->cfg.id,
			 d->cfg.listen);
	if (boot.snap_len &&
	    state_decode(&d->state, boot.snap_data, boot.snap_len, why, sizeof(why))) {
		snprintf(err, err_len, "data-dir %s: the snapshot at %llu: %s",
			 d->cfg.data_dir, (unsigned long long)boot.snap.index, why);
		return -EBADMSG;
	}
	d->applied = boot.snap.index;
	d->applied_term = boot.snap.term;
	d->snap_index = boot.snap.index;
	boot.applied = boot.snap.index;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = loop_now_ms() ^ d->cfg.id;
	raft_config_default(&rc, d->cfg.id, seed);
	rc.election_ticks = d->cfg.election_ticks;
	rc.heartbeat_ticks = d->cfg.heartbeat_ticks;
	rc.max_entry_bytes = KLBD_ENTRY_MAX_BYTES;
	ret = raft_new(&d->raft, &rc, &boot);
	if (ret) {
		snprintf(err, err_len, "Raft: %s", strerror(-ret));
		return ret;
	}
	/* The state from disk is committed state: the kernel may get it now. */
	if (d->applied)
		dirty_all(&d->dirty);
	klbd_log(LOG_INFO, "node %llu: snapshot at %llu, %zu log entries, term %llu",
		 (unsigned long long)d->cfg.id, (unsigned long long)boot.snap.index,
		 boot.n_entries, (unsigned long long)boot.hs.term);
	d->tick_ts.tv_sec = d->cfg.tick_ms / 1000;
	d->tick_ts.tv_nsec = (d->cfg.tick_ms % 1000) * 1000000ll;
	d->tick_ev.fn = tick_ev;
	loop_timeout(&d->ring, &d->tick_ev, &d->tick_ts);
	return 0;
}

void health_changed(struct klbd *d, const struct probe_target *t)
{
	char addr[INET6_ADDRSTRLEN], why[PROBE_WHY_MAX];

	inet_ntop(t->addr.family, t->addr.addr, addr, sizeof(addr));
	if (t->last_err && t->last_why[0])
		snprintf(why, sizeof(why), "%s", t->last_why);
	else if (t->last_err == -EREMOTEIO)
		snprintf(why, sizeof(why), "HTTP status %d, not %u", t->last_status,
			 t->check.http_status);
	else if (t->last_err == -EBADMSG)
		snprintf(why, sizeof(why), "not an HTTP answer");
	else
		snprintf(why, sizeof(why), "%s", t->last_err ?
			 strerror(-t->last_err) : "probe succeeded");
	klbd_log(LOG_NOTICE, "health: backend %s port %u %s from here (%s)",
		 addr, t->addr.port, t->obs.failing ? "failing" : "healthy", why);
	watch_verdict(d, t, why);
}

void health_report(struct klbd *d, const struct probe_target *t)
{
	struct klbd_cmd cmd = {
		.op = KLBD_CMD_HEALTH, .key = t->key, .node = d->cfg.id,
		.failing = t->obs.failing,
	};
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n;

	cmd.be.addr = t->addr;
	n = klbd_cmd_encode(&cmd, buf, sizeof(buf));
	/* Client 0: the outcome is seen in the state, or the report repeats. */
	if (n > 0)
		node_submit(d, 0, buf, n);
}
