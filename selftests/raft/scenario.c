// SPDX-License-Identifier: GPL-2.0
/*
 * A small interpreter for scripted Raft scenarios: nodes run the real core
 * over a hand-driven network. Each node's host is synchronous: whatever a
 * ready asks to persist is durable at once, its messages are queued, its
 * committed entries are applied to a state machine that concatenates the
 * entries' data. Scripts decide which queued messages get delivered.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "scenario.h"

#define MAX_NODES 9
#define MAX_TOKENS 32
#define SM_MAX 4096

struct node {
	uint64_t id;
	bool exists;
	bool up;
	struct raft *r;
	struct raft_config cfg;
	/* durable storage */
	struct raft_hard_state hs;
	struct raft_snapshot_meta snap;
	char snap_data[SM_MAX];
	size_t snap_len;
	struct raft_entry *ents;
	size_t n_ents;
	/* state machine: the data of applied entries, comma separated */
	char sm[SM_MAX];
	uint64_t applied;
	struct raft_read reads[64];
	size_t n_reads;
};

struct scenario {
	const char *name;
	int line;
	char *err;
	size_t err_len;
	struct node nodes[MAX_NODES + 1];
	struct raft_msg *q;
	size_t nq;
	size_t capq;
	bool blocked[MAX_NODES + 1][MAX_NODES + 1];
};

static int fail(struct scenario *s, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	off = snprintf(s->err, s->err_len, "%s:%d: ", s->name, s->line);
	if (off < s->err_len) {
		va_start(ap, fmt);
		vsnprintf(s->err + off, s->err_len - off, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- messages ---- */

static void msg_free(struct raft_msg *m)
{
	uint32_t i;

	for (i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
	free(m->snap_data);
}

static void *dup_mem(const void *p, size_t len)
{
	void *c;

	if (!len)
		return NULL;
	c = malloc(len);
	if (c)
		memcpy(c, p, len);
	return c;
}

static void enqueue(struct scenario *s, const struct raft_msg *m)
{
	struct raft_msg *c;
	uint32_t i;

	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 64;
		s->q = realloc(s->q, s->capq * sizeof(*s->q));
	}
	c = &s->q[s->nq++];
	*c = *m;
	c->entries = m->n_entries ? calloc(m->n_entries, sizeof(*c->entries)) : NULL;
	for (i = 0; i < m->n_entries; i++) {
		c->entries[i] = m->entries[i];
		c->entries[i].data = dup_mem(m->entries[i].data, m->entries[i].len);
	}
	c->snap_data = dup_mem(m->snap_data, m->snap_len);
}

/* ---- the synchronous host of one node ---- */

static void storage_append(struct node *n, const struct raft_entry *e)
{
	size_t keep = e->index - n->snap.index - 1;

	while (n->n_ents > keep)
		free(n->ents[--n->n_ents].data);
	n->ents = realloc(n->ents, (n->n_ents + 1) * sizeof(*n->ents));
	n->ents[n->n_ents] = *e;
	n->ents[n->n_ents].data = dup_mem(e->data, e->len);
	n->n_ents++;
}

static void storage_drop_to(struct node *n, uint64_t index)
{
	size_t drop = 0, i;

	while (drop < n->n_ents && n->ents[drop].index <= index)
		drop++;
	for (i = 0; i < drop; i++)
		free(n->ents[i].data);
	/* An empty log has no array: NULL is not for memmove. */
	if (drop)
		memmove(n->ents, n->ents + drop, (n->n_ents - drop) * sizeof(*n->ents));
	n->n_ents -= drop;
}

static void sm_apply(struct node *n, const struct raft_entry *e)
{
	size_t len = strlen(n->sm);

	n->applied = e->index;
	if (e->type != RAFT_ENTRY_NORMAL || !e->len)
		return;
	if (len + e->len + 2 >= SM_MAX)
		return;
	if (len)
		n->sm[len++] = ',';
	memcpy(n->sm + len, e->data, e->len);
	n->sm[len + e->len] = 0;
}

static void process(struct scenario *s, struct node *n)
{
	struct raft_ready rd;
	size_t i;

	if (!n->up)
		return;
	while (raft_has_ready(n->r)) {
		raft_ready(n->r, &rd);
		for (i = 0; i < rd.n_msgs; i++)
			enqueue(s, &rd.msgs[i]);
		if (rd.snapshot) {
			n->snap = rd.snapshot->meta;
			n->snap_len = rd.snapshot->len < SM_MAX ? rd.snapshot->len : SM_MAX - 1;
			memcpy(n->snap_data, rd.snapshot->data, n->snap_len);
			storage_drop_to(n, UINT64_MAX);
			memcpy(n->sm, n->snap_data, n->snap_len);
			n->sm[n->snap_len] = 0;
			n->applied = n->snap.index;
		}
		for (i = 0; i < rd.n_entries; i++)
			storage_append(n, &rd.entries[i]);
		if (rd.hs_changed)
			n->hs = rd.hs;
		for (i = 0; i < rd.n_msgs_after_persist; i++)
			enqueue(s, &rd.msgs_after_persist[i]);
		for (i = 0; i < rd.n_committed; i++)
			sm_apply(n, &rd.committed[i]);
		for (i = 0; i < rd.n_reads && n->n_reads < 64; i++)
			n->reads[n->n_reads++] = rd.reads[i];
		raft_advance(n->r, &rd);
	}
}

static void process_all(struct scenario *s)
{
	int i;

	for (i = 1; i <= MAX_NODES; i++)
		if (s->nodes[i].exists)
			process(s, &s->nodes[i]);
}

static int node_start(struct scenario *s, struct node *n)
{
	struct raft_boot boot = {
		.hs = n->hs,
		.snap = n->snap,
		.snap_data = n->snap_data,
		.snap_len = n->snap_len,
		.entries = n->ents,
		.n_entries = n->n_ents,
		.applied = n->snap.index,
	};
	int err;

	memcpy(n->sm, n->snap_data, n->snap_len);
	n->sm[n->snap_len] = 0;
	n->applied = n->snap.index;
	n->n_reads = 0;
	err = raft_new(&n->r, &n->cfg, &boot);
	if (err)
		return fail(s, "raft_new(%llu): %s", (unsigned long long)n->id, strerror(-err));
	n->up = true;
	return 0;
}

static void node_stop(struct node *n)
{
	raft_free(n->r);
	n->r = NULL;
	n->up = false;
}

/* ---- parsing helpers ---- */

static const struct {
	const char *name;
	int err;
} errnames[] = {
	{ "EPERM", EPERM }, { "EAGAIN", EAGAIN }, { "EBUSY", EBUSY }, { "EINVAL", EINVAL },
	{ "EMSGSIZE", EMSGSIZE }, { "ENOBUFS", ENOBUFS }, { "EEXIST", EEXIST },
	{ "ENOENT", ENOENT }, { "EALREADY", EALREADY }, { "ENOSPC", ENOSPC }, { "EIO", EIO },
	{ "OK", 0 },
};

static int parse_errname(const char *tok)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (!strcmp(tok, errnames[i].name))
			return errnames[i].err;
	return -1;
}

static const char *errname(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	return strerror(err);
}

static int parse_u64(struct scenario *s, const char *tok, uint64_t *v)
{
	char *end;

	*v = strtoull(tok, &end, 0);
	if (!*tok || *end)
		return fail(s, "not a number: '%s'", tok);
	return 0;
}

static int node_arg(struct scenario *s, const char *tok, struct node **out)
{
	uint64_t id;

	if (parse_u64(s, tok, &id))
		return -1;
	if (id < 1 || id > MAX_NODES || !s->nodes[id].exists)
		return fail(s, "no node %s", tok);
	*out = &s->nodes[id];
	return 0;
}

static int up_node_arg(struct scenario *s, const char *tok, struct node **out)
{
	if (node_arg(s, tok, out))
		return -1;
	if (!(*out)->up)
		return fail(s, "node %s is down", tok);
	return 0;
}

static int parse_ids(struct scenario *s, const char *list, uint64_t *ids, uint32_t *n)
{
	char buf[128], *save, *t;

	snprintf(buf, sizeof(buf), "%s", list);
	*n = 0;
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= RAFT_MAX_NODES || parse_u64(s, t, &ids[*n]))
			return fail(s, "bad id list '%s'", list);
		if (ids[*n] < 1 || ids[*n] > MAX_NODES)
			return fail(s, "node ids are 1..%d", MAX_NODES);
		(*n)++;
	}
	return 0;
}

static uint32_t msg_type_arg(const char *name)
{
	uint32_t t;

	for (t = 1; t < RAFT_MSG_TYPE_MAX; t++)
		if (!strcmp(raft_msg_name(t), name))
			return t;
	return 0;
}

struct filter {
	uint64_t from;
	uint64_t to;
	uint32_t type;
	uint64_t limit;
	bool has_count;
	uint64_t count;
};

static int parse_filter(struct scenario *s, char **tok, int ntok, struct filter *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->limit = UINT64_MAX;
	for (i = 0; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq)
			return fail(s, "expected key=value, got '%s'", tok[i]);
		*eq++ = 0;
		if (!strcmp(tok[i], "from")) {
			if (parse_u64(s, eq, &f->from))
				return -1;
		} else if (!strcmp(tok[i], "to")) {
			if (parse_u64(s, eq, &f->to))
				return -1;
		} else if (!strcmp(tok[i], "type")) {
			f->type = msg_type_arg(eq);
			if (!f->type)
				return fail(s, "unknown message type '%s'", eq);
		} else if (!strcmp(tok[i], "n")) {
			if (parse_u64(s, eq, &f->limit))
				return -1;
		} else if (!strcmp(tok[i], "count")) {
			f->has_count = true;
			if (parse_u64(s, eq, &f->count))
				return -1;
		} else {
			return fail(s, "unknown filter key '%s'", tok[i]);
		}
	}
	return 0;
}

static bool filter_match(const struct filter *f, const struct raft_msg *m)
{
	return (!f->from || f->from == m->from) && (!f->to || f->to == m->to) &&
	       (!f->type || f->type == m->type);
}

/* ---- delivery ---- */

static int deliver_one(struct scenario *s, struct raft_msg *m)
{
	struct node *to = m->to <= MAX_NODES ? &s->nodes[m->to] : NULL;
	int err = 0;

	if (to && to->exists && to->up && !s->blocked[m->from][m->to]) {
		err = raft_step(to->r, m);
		process(s, to);
	}
	msg_free(m);
	if (err)
		return fail(s, "node %llu rejected %s from %llu: %s",
			    (unsigned long long)m->to, raft_msg_name(m->type),
			    (unsigned long long)m->from, strerror(-err));
	return 0;
}

/* Deliver (or drop) the matching messages queued now, in order. */
static int deliver(struct scenario *s, const struct filter *f, bool drop)
{
	size_t n = s->nq, i, kept = 0, done = 0;
	struct raft_msg *batch = malloc(n * sizeof(*batch) + 1);
	size_t nb = 0;
	int err = 0;

	for (i = 0; i < n; i++) {
		if (done < f->limit && filter_match(f, &s->q[i])) {
			batch[nb++] = s->q[i];
			done++;
		} else {
			s->q[kept++] = s->q[i];
		}
	}
	s->nq = kept;
	for (i = 0; i < nb; i++) {
		if (drop || err)
			msg_free(&batch[i]);
		else
			err = deliver_one(s, &batch[i]);
	}
	free(batch);
	return err;
}

/*
 * Delivers everything queued, round after round (one network hop each),
 * until the network is quiet; fails if that takes more than max_rounds.
 */
static int stabilize(struct scenario *s, uint64_t max_rounds)
{
	struct filter all = { .limit = UINT64_MAX };
	uint64_t rounds = 0;

	process_all(s);
	while (s->nq) {
		if (++rounds > 10000)
			return fail(s, "stabilize: messages never stop");
		if (deliver(s, &all, false))
			return -1;
	}
	if (rounds > max_rounds)
		return fail(s, "stabilize took %llu rounds, want at most %llu",
			    (unsigned long long)rounds, (unsigned long long)max_rounds);
	return 0;
}

static void scenario_reset(struct scenario *s)
{
	size_t i;
	int j;

	for (i = 0; i < s->nq; i++)
		msg_free(&s->q[i]);
	s->nq = 0;
	for (j = 0; j <= MAX_NODES; j++) {
		struct node *n = &s->nodes[j];

		if (n->up)
			node_stop(n);
		storage_drop_to(n, UINT64_MAX);
		free(n->ents);
		memset(n, 0, sizeof(*n));
	}
	memset(s->blocked, 0, sizeof(s->blocked));
}

/* ---- commands ---- */

static int cmd_cluster(struct scenario *s, char **tok, int ntok)
{
	struct raft_conf conf = { 0 };
	uint64_t spare[RAFT_MAX_NODES], v;
	uint32_t n_spare = 0, i;
	struct raft_config cfg;
	int t;

	scenario_reset(s);
	raft_config_default(&cfg, 1, 0);
	for (t = 1; t < ntok; t++) {
		char *eq = strchr(tok[t], '=');

		if (!eq) {
			if (conf.n_voters >= RAFT_MAX_NODES ||
			    parse_u64(s, tok[t], &conf.voters[conf.n_voters]))
				return -1;
			if (conf.voters[conf.n_voters] < 1 || conf.voters[conf.n_voters] > MAX_NODES)
				return fail(s, "node ids are 1..%d", MAX_NODES);
			conf.n_voters++;
			continue;
		}
		*eq++ = 0;
		if (!strcmp(tok[t], "learners")) {
			if (parse_ids(s, eq, conf.learners, &conf.n_learners))
				return -1;
			continue;
		}
		if (!strcmp(tok[t], "spare")) {
			if (parse_ids(s, eq, spare, &n_spare))
				return -1;
			continue;
		}
		if (!strcmp(tok[t], "bug")) {
			if (!strcmp(eq, "commit-old-term"))
				cfg.bugs |= RAFT_BUG_COMMIT_OLD_TERM;
			else if (!strcmp(eq, "double-vote"))
				cfg.bugs |= RAFT_BUG_DOUBLE_VOTE;
			else
				return fail(s, "unknown bug '%s'", eq);
			continue;
		}
		if (parse_u64(s, eq, &v))
			return -1;
		if (!strcmp(tok[t], "prevote"))
			cfg.pre_vote = v;
		else if (!strcmp(tok[t], "checkquorum"))
			cfg.check_quorum = v;
		else if (!strcmp(tok[t], "election"))
			cfg.election_ticks = v;
		else if (!strcmp(tok[t], "heartbeat"))
			cfg.heartbeat_ticks = v;
		else if (!strcmp(tok[t], "maxmsg"))
			cfg.max_msg_bytes = v;
		else if (!strcmp(tok[t], "inflight"))
			cfg.max_inflight_msgs = v;
		else if (!strcmp(tok[t], "inflightbytes"))
			cfg.max_inflight_bytes = v;
		else if (!strcmp(tok[t], "maxentry"))
			cfg.max_entry_bytes = v;
		else if (!strcmp(tok[t], "maxuncommitted"))
			cfg.max_uncommitted_bytes = v;
		else if (!strcmp(tok[t], "chunk"))
			cfg.snapshot_chunk_bytes = v;
		else
			return fail(s, "unknown cluster option '%s'", tok[t]);
	}
	if (!conf.n_voters)
		return fail(s, "cluster needs voters");
	/*
	 * Every node boots from the same initial configuration at index 0;
	 * spare nodes boot with none and learn it from the leader.
	 */
	for (i = 0; i < conf.n_voters + conf.n_learners + n_spare; i++) {
		uint64_t id = i < conf.n_voters ? conf.voters[i] :
			      i < conf.n_voters + conf.n_learners ?
			      conf.learners[i - conf.n_voters] :
			      spare[i - conf.n_voters - conf.n_learners];
		struct node *n = &s->nodes[id];

		if (n->exists)
			return fail(s, "node %llu listed twice", (unsigned long long)id);
		n->exists = true;
		n->id = id;
		n->cfg = cfg;
		n->cfg.id = id;
		/* Fixed per-node seeds: scenarios are exact scripts. */
		n->cfg.seed = id * 7919;
		if (i < conf.n_voters + conf.n_learners)
			n->snap.conf = conf;
		if (node_start(s, n))
			return -1;
	}
	return 0;
}

static int check_err(struct scenario *s, int got, int want, const char *what)
{
	if (got != -want)
		return fail(s, "%s: got %s, want %s", what, errname(-got), errname(want));
	return 0;
}

static int cmd_expect(struct scenario *s, char **tok, int ntok)
{
	struct raft_status st;
	struct node *n;
	int t;

	if (ntok < 2 || up_node_arg(s, tok[1], &n))
		return ntok < 2 ? fail(s, "expect NODE key=value...") : -1;
	raft_status(n->r, &st);
	for (t = 2; t < ntok; t++) {
		char *eq = strchr(tok[t], '=');
		uint64_t want, got;

		if (!eq)
			return fail(s, "expected key=value, got '%s'", tok[t]);
		*eq++ = 0;
		if (!strcmp(tok[t], "role")) {
			if (strcmp(eq, raft_role_name(st.role)))
				return fail(s, "node %llu role %s, want %s",
					    (unsigned long long)n->id, raft_role_name(st.role), eq);
			continue;
		}
		if (!strcmp(tok[t], "sm")) {
			if (strcmp(eq, n->sm))
				return fail(s, "node %llu state machine '%s', want '%s'",
					    (unsigned long long)n->id, n->sm, eq);
			continue;
		}
		if (!strcmp(tok[t], "voters") || !strcmp(tok[t], "learners")) {
			struct raft_conf c = { 0 };
			bool voters = tok[t][0] == 'v';
			uint32_t i, cnt = voters ? st.conf.n_voters : st.conf.n_learners;
			const uint64_t *have = voters ? st.conf.voters : st.conf.learners;
			uint64_t *ids = voters ? c.voters : c.learners;
			uint32_t *nids = voters ? &c.n_voters : &c.n_learners;

			if (strcmp(eq, "-") && parse_ids(s, eq, ids, nids))
				return -1;
			for (i = 0; i < *nids; i++) {
				uint32_t j;

				for (j = 0; j < cnt && have[j] != ids[i]; j++)
					;
				if (j == cnt)
					break;
			}
			if (i != *nids || cnt != *nids)
				return fail(s, "node %llu %s differ from %s",
					    (unsigned long long)n->id, tok[t], eq);
			continue;
		}
		if (parse_u64(s, eq, &want))
			return -1;
		if (!strcmp(tok[t], "term"))
			got = st.term;
		else if (!strcmp(tok[t], "vote"))
			got = st.vote;
		else if (!strcmp(tok[t], "lead"))
			got = st.lead;
		else if (!strcmp(tok[t], "commit"))
			got = st.commit;
		else if (!strcmp(tok[t], "applied"))
			got = n->applied;
		else if (!strcmp(tok[t], "last"))
			got = st.last_index;
		else if (!strcmp(tok[t], "first"))
			got = st.first_index;
		else if (!strcmp(tok[t], "snap"))
			got = st.snap_index;
		else if (!strcmp(tok[t], "stable"))
			got = st.stable;
		else if (!strcmp(tok[t], "too-large"))
			got = st.proposals_too_large;
		else if (!strcmp(tok[t], "over-limit"))
			got = st.proposals_over_limit;
		else if (!strcmp(tok[t], "reads-dropped"))
			got = st.reads_dropped;
		else if (!strcmp(tok[t], "durable-term"))
			got = n->hs.term;
		else if (!strcmp(tok[t], "durable-vote"))
			got = n->hs.vote;
		else if (!strcmp(tok[t], "durable-last"))
			got = n->n_ents ? n->ents[n->n_ents - 1].index : n->snap.index;
		else
			return fail(s, "unknown expect key '%s'", tok[t]);
		if (got != want)
			return fail(s, "node %llu %s=%llu, want %llu", (unsigned long long)n->id,
				    tok[t], (unsigned long long)got, (unsigned long long)want);
	}
	return 0;
}

/* expect-log NODE TERM...: the terms of the entries first..last. */
static int cmd_expect_log(struct scenario *s, char **tok, int ntok)
{
	struct raft_status st;
	struct node *n;
	uint64_t idx, t, want;
	int i;

	if (ntok < 2 || up_node_arg(s, tok[1], &n))
		return ntok < 2 ? fail(s, "expect-log NODE TERM...") : -1;
	raft_status(n->r, &st);
	if (st.last_index - st.first_index + 1 != (uint64_t)(ntok - 2))
		return fail(s, "node %llu holds entries %llu..%llu, script lists %d",
			    (unsigned long long)n->id, (unsigned long long)st.first_index,
			    (unsigned long long)st.last_index, ntok - 2);
	for (i = 2, idx = st.first_index; i < ntok; i++, idx++) {
		if (parse_u64(s, tok[i], &want))
			return -1;
		raft_term_at(n->r, idx, &t);
		if (t != want)
			return fail(s, "node %llu entry %llu has term %llu, want %llu",
				    (unsigned long long)n->id, (unsigned long long)idx,
				    (unsigned long long)t, (unsigned long long)want);
	}
	return 0;
}

static int cmd_expect_msgs(struct scenario *s, char **tok, int ntok)
{
	struct filter f;
	uint64_t got = 0;
	size_t i;

	if (parse_filter(s, tok + 1, ntok - 1, &f))
		return -1;
	if (!f.has_count)
		return fail(s, "expect-msgs needs count=N");
	for (i = 0; i < s->nq; i++)
		got += filter_match(&f, &s->q[i]);
	if (got != f.count)
		return fail(s, "%llu matching messages queued, want %llu",
			    (unsigned long long)got, (unsigned long long)f.count);
	return 0;
}

static int cmd_expect_read(struct scenario *s, char **tok, int ntok)
{
	struct node *n;
	uint64_t ctx, index;
	size_t i;

	if (ntok != 4 || node_arg(s, tok[1], &n) || parse_u64(s, tok[2], &ctx))
		return ntok != 4 ? fail(s, "expect-read NODE CTX INDEX|-") : -1;
	for (i = 0; i < n->n_reads; i++)
		if (n->reads[i].ctx == ctx)
			break;
	if (!strcmp(tok[3], "-"))
		return i == n->n_reads ? 0 : fail(s, "read %llu is ready", (unsigned long long)ctx);
	if (parse_u64(s, tok[3], &index))
		return -1;
	if (i == n->n_reads)
		return fail(s, "read %llu not ready", (unsigned long long)ctx);
	if (n->reads[i].index != index)
		return fail(s, "read %llu at index %llu, want %llu", (unsigned long long)ctx,
			    (unsigned long long)n->reads[i].index, (unsigned long long)index);
	return 0;
}

static int cmd_partition(struct scenario *s, char **tok, int ntok)
{
	int group[MAX_NODES + 1] = { 0 };
	int g, a, b;

	for (g = 1; g < ntok; g++) {
		uint64_t ids[RAFT_MAX_NODES];
		uint32_t n, i;

		if (parse_ids(s, tok[g], ids, &n))
			return -1;
		for (i = 0; i < n; i++)
			group[ids[i]] = g;
	}
	for (a = 1; a <= MAX_NODES; a++)
		for (b = 1; b <= MAX_NODES; b++)
			s->blocked[a][b] = group[a] != group[b];
	return 0;
}

static int cmd_node_op(struct scenario *s, char **tok, int ntok, int want)
{
	struct node *n;
	uint64_t a = 0, b;
	int err;

	if (ntok < 2 || up_node_arg(s, tok[1], &n))
		return ntok < 2 ? fail(s, "%s needs a node", tok[0]) : -1;
	if (!strcmp(tok[0], "tick")) {
		if (ntok > 2 && parse_u64(s, tok[2], &a))
			return -1;
		for (b = 0; b < (ntok > 2 ? a : 1); b++) {
			raft_tick(n->r);
			process(s, n);
		}
		return 0;
	}
	if (!strcmp(tok[0], "campaign")) {
		err = raft_campaign(n->r);
	} else if (!strcmp(tok[0], "propose")) {
		struct raft_buf bufs[MAX_TOKENS];
		int i;

		for (i = 2; i < ntok; i++)
			bufs[i - 2] = (struct raft_buf){ tok[i], strlen(tok[i]) };
		err = raft_propose(n->r, bufs, ntok - 2, NULL);
	} else if (!strcmp(tok[0], "propose-size")) {
		static char big[1 << 16];

		if (ntok != 3 || parse_u64(s, tok[2], &a) || a > sizeof(big))
			return fail(s, "propose-size NODE BYTES (<= %zu)", sizeof(big));
		memset(big, 'x', a);
		err = raft_propose(n->r, &(struct raft_buf){ big, a }, 1, NULL);
	} else if (!strcmp(tok[0], "conf")) {
		enum raft_conf_op op;

		if (ntok != 4 || parse_u64(s, tok[3], &a))
			return fail(s, "conf NODE add-learner|promote|remove ID");
		if (!strcmp(tok[2], "add-learner"))
			op = RAFT_CONF_ADD_LEARNER;
		else if (!strcmp(tok[2], "promote"))
			op = RAFT_CONF_PROMOTE;
		else if (!strcmp(tok[2], "remove"))
			op = RAFT_CONF_REMOVE;
		else
			return fail(s, "unknown conf op '%s'", tok[2]);
		err = raft_propose_conf(n->r, op, a, NULL, NULL);
	} else if (!strcmp(tok[0], "read")) {
		if (ntok != 3 || parse_u64(s, tok[2], &a))
			return fail(s, "read NODE CTX");
		err = raft_read_index(n->r, a);
	} else if (!strcmp(tok[0], "transfer")) {
		if (ntok != 3 || parse_u64(s, tok[2], &a))
			return fail(s, "transfer NODE TO");
		err = raft_transfer_leader(n->r, a);
	} else if (!strcmp(tok[0], "compact")) {
		/* Snapshot the state machine at its applied index. */
		err = raft_compact(n->r, n->applied, n->sm, strlen(n->sm));
		if (!err) {
			const struct raft_snapshot *sn = raft_snapshot(n->r);

			n->snap = sn->meta;
			n->snap_len = sn->len;
			memcpy(n->snap_data, sn->data, sn->len);
			storage_drop_to(n, sn->meta.index);
		}
	} else {
		return fail(s, "unknown command '%s'", tok[0]);
	}
	if (check_err(s, err, want, tok[0]))
		return -1;
	process(s, n);
	return 0;
}

static int run_line(struct scenario *s, char *line)
{
	char *tok[MAX_TOKENS], *save, *t;
	int ntok = 0, want = 0;
	struct filter f;
	struct node *n;

	for (t = strtok_r(line, " \t\r\n", &save); t && ntok < MAX_TOKENS;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (*t == '#')
			break;
		tok[ntok++] = t;
	}
	if (!ntok)
		return 0;
	/* "... -> ERRNO" expects that error instead of success. */
	if (ntok >= 3 && !strcmp(tok[ntok - 2], "->")) {
		want = parse_errname(tok[ntok - 1]);
		if (want < 0)
			return fail(s, "unknown error name '%s'", tok[ntok - 1]);
		ntok -= 2;
	}
	if (!strcmp(tok[0], "cluster"))
		return cmd_cluster(s, tok, ntok);
	if (!strcmp(tok[0], "expect"))
		return cmd_expect(s, tok, ntok);
	if (!strcmp(tok[0], "expect-log"))
		return cmd_expect_log(s, tok, ntok);
	if (!strcmp(tok[0], "expect-msgs"))
		return cmd_expect_msgs(s, tok, ntok);
	if (!strcmp(tok[0], "expect-read"))
		return cmd_expect_read(s, tok, ntok);
	if (!strcmp(tok[0], "deliver") || !strcmp(tok[0], "drop")) {
		if (parse_filter(s, tok + 1, ntok - 1, &f))
			return -1;
		return deliver(s, &f, tok[0][1] == 'r');
	}
	if (!strcmp(tok[0], "expect-leaders")) {
		uint64_t count, got = 0;
		int i;

		if (ntok != 2 || parse_u64(s, tok[1], &count))
			return fail(s, "expect-leaders COUNT");
		for (i = 1; i <= MAX_NODES; i++) {
			struct raft_status st;

			if (!s->nodes[i].up)
				continue;
			raft_status(s->nodes[i].r, &st);
			got += st.role == RAFT_LEADER;
		}
		if (got != count)
			return fail(s, "%llu leaders, want %llu", (unsigned long long)got,
				    (unsigned long long)count);
		return 0;
	}
	if (!strcmp(tok[0], "dup")) {
		size_t i, queued = s->nq;

		if (parse_filter(s, tok + 1, ntok - 1, &f))
			return -1;
		for (i = 0; i < queued; i++)
			if (filter_match(&f, &s->q[i]))
				enqueue(s, &s->q[i]);
		return 0;
	}
	if (!strcmp(tok[0], "stabilize")) {
		uint64_t max_rounds = UINT64_MAX;

		if (ntok > 2 || (ntok == 2 && (strncmp(tok[1], "max-rounds=", 11) ||
					       parse_u64(s, tok[1] + 11, &max_rounds))))
			return ntok > 2 || strncmp(tok[1], "max-rounds=", 11) ?
			       fail(s, "stabilize [max-rounds=N]") : -1;
		return stabilize(s, max_rounds);
	}
	if (!strcmp(tok[0], "partition"))
		return cmd_partition(s, tok, ntok);
	if (!strcmp(tok[0], "heal")) {
		memset(s->blocked, 0, sizeof(s->blocked));
		return 0;
	}
	if (!strcmp(tok[0], "cut")) {
		uint64_t a, b;

		if (ntok != 3 || parse_u64(s, tok[1], &a) || parse_u64(s, tok[2], &b) ||
		    a > MAX_NODES || b > MAX_NODES)
			return fail(s, "cut FROM TO");
		s->blocked[a][b] = true;
		return 0;
	}
	if (!strcmp(tok[0], "crash")) {
		if (ntok != 2 || up_node_arg(s, tok[1], &n))
			return ntok != 2 ? fail(s, "crash NODE") : -1;
		node_stop(n);
		return 0;
	}
	if (!strcmp(tok[0], "restart")) {
		if (ntok != 2 || node_arg(s, tok[1], &n))
			return ntok != 2 ? fail(s, "restart NODE") : -1;
		if (n->up)
			return fail(s, "node %s is up", tok[1]);
		return node_start(s, n);
	}
	return cmd_node_op(s, tok, ntok, want);
}


int scenario_run_text(const char *name, const char *text, char *err, size_t err_len)
{
	struct scenario *s = calloc(1, sizeof(*s));
	char *copy = strdup(text), *line, *save;
	int ret = 0;

	s->name = name;
	s->err = err;
	s->err_len = err_len;
	err[0] = 0;
	/* strtok_r would merge empty lines; count them by hand. */
	for (line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = 0;
		s->line++;
		ret = run_line(s, line);
		if (ret)
			break;
	}
	scenario_reset(s);
	free(s->q);
	free(s);
	free(copy);
	return ret;
}

int scenario_run_file(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;
	int ret;

	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, len + 1);
	if (fread(text, 1, len, f) != (size_t)len) {
		snprintf(err, err_len, "%s: short read", path);
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	ret = scenario_run_text(path, text, err, err_len);
	free(text);
	return ret;
}
