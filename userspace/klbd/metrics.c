// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus endpoint (metrics.h): the HTTP server and the text
 * exposition format. Names follow Prometheus' conventions: a klb_
 * prefix, base units (seconds, bytes), _total on counters, a HELP and
 * a TYPE line for each family, and every sample of a family together.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/http.h"
#include "klbd/http_server.h"
#include "klbd/klbd.h"
#include "klbd/metrics.h"

/* Upper bounds of the latency histograms, in seconds. */
static const double hist_le[METRICS_HIST_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

static const struct {
	int code;
	const char *reason;
} codes[METRICS_CODES] = {
	[METRICS_200] = { 200, "OK" },
	[METRICS_400] = { 400, "Bad Request" },
	[METRICS_404] = { 404, "Not Found" },
	[METRICS_405] = { 405, "Method Not Allowed" },
	[METRICS_431] = { 431, "Request Header Fields Too Large" },
	[METRICS_500] = { 500, "Internal Server Error" },
};

void metrics_observe(struct metrics_hist *h, uint64_t ns)
{
	size_t i;

	h->count++;
	h->sum_ns += ns;
	for (i = 0; i < METRICS_HIST_BUCKETS; i++)
		if (ns <= (uint64_t)(hist_le[i] * 1e9)) {
			h->bucket[i]++;
			break;
		}
}

/* The body being written; once over its bound it only says so. */
struct out {
	struct wbuf *b;
	bool failed;
};

static void emit(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (o->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    o->b->len + n > METRICS_RESPONSE_MAX ||
	    wbuf_append(o->b, line, n))
		o->failed = true;
}

static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void single(struct out *o, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(o, name, type, help);
	emit(o, "%s %llu\n", name, (unsigned long long)v);
}

static void histogram(struct out *o, const char *name, const char *help,
		      const struct metrics_hist *h)
{
	uint64_t cum = 0;
	size_t i;

	family(o, name, "histogram", help);
	for (i = 0; i < METRICS_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		emit(o, "%s_bucket{le=\"%g\"} %llu\n", name, hist_le[i],
		     (unsigned long long)cum);
	}
	emit(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	emit(o, "%s_sum %.9f\n", name, h->sum_ns / 1e9);
	emit(o, "%s_count %llu\n", name, (unsigned long long)h->count);
}

/* service="proto:vip:port" */
static const char *service_label(const struct klb_service_key *key, char *buf,
				 size_t len)
{
	char vip[KLB_ENDPOINT_STRLEN];

	snprintf(buf, len, "%s:%s", klb_proto_name(key->proto),
		 klb_endpoint_format(&key->vip, vip));
	return buf;
}

/* The kernel's counters: klbctl stats, by family. */
static const struct kstat_family {
	const char *name;	/* after klb_service_ or klb_backend_ */
	const char *type;
	const char *help;
	const char *label;	/* NULL: one sample */
	struct {
		const char *value;
		int attr;
	} v[6];
} kstat_families[] = {
	{ "packets_total", "counter",
	  "Packets forwarded: in, client to backend; out, replies translated (NAT).",
	  "direction", { { "in", KLB_STATS_A_PKTS_IN }, { "out", KLB_STATS_A_PKTS_OUT } } },
	{ "bytes_total", "counter",
	  "Bytes forwarded: in, client to backend; out, replies translated (NAT).",
	  "direction", { { "in", KLB_STATS_A_BYTES_IN }, { "out", KLB_STATS_A_BYTES_OUT } } },
	{ "flows_created_total", "counter", "New flows scheduled to a backend.",
	  NULL, { { NULL, KLB_STATS_A_FLOWS_NEW } } },
	{ "flows_active", "gauge", "Flows in the flow table now.",
	  NULL, { { NULL, KLB_STATS_A_FLOWS_ACTIVE } } },
	{ "flows_stateless_total", "counter",
	  "Tunnel flows forwarded without a flow table entry (the table was full).",
	  NULL, { { NULL, KLB_STATS_A_FLOWS_STATELESS } } },
	{ "flows_resteered_total", "counter",
	  "Flows moved off a down or removed backend.",
	  NULL, { { NULL, KLB_STATS_A_FLOWS_RESTEERED } } },
	{ "drops_total", "counter", "Packets dropped, by reason.",
	  "reason", {
		{ "no_backend", KLB_STATS_A_DROP_NO_BACKEND },
		{ "down", KLB_STATS_A_DROP_DOWN },
		{ "mtu", KLB_STATS_A_DROP_MTU },
		{ "no_route", KLB_STATS_A_DROP_NO_ROUTE },
		{ "error", KLB_STATS_A_DROP_ERROR },
		{ "table_full", KLB_STATS_A_DROP_TABLE_FULL },
	  } },
};

struct kstats {
	struct klb_stats_rec *recs;
	size_t n, cap;
};

static int kstats_collect(const struct klb_stats_rec *r, void *data)
{
	struct kstats *ks = data;
	struct klb_stats_rec *recs;

	if (ks->n == METRICS_STATS_RECS_MAX)
		return -E2BIG;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 64;
		recs = realloc(ks->recs, ks->cap * sizeof(*recs));
		if (!recs)
			return -ENOMEM;
		ks->recs = recs;
	}
	ks->recs[ks->n++] = *r;
	return 0;
}

static void kstats_emit(struct out *o, const struct kstats *ks, bool backends)
{
	char name[96], svc[96], be[KLB_ENDPOINT_STRLEN], labels[256];
	size_t f, i, j;

	for (f = 0; f < sizeof(kstat_families) / sizeof(kstat_families[0]); f++) {
		const struct kstat_family *kf = &kstat_families[f];

		snprintf(name, sizeof(name), "klb_%s_%s",
			 backends ? "backend" : "service", kf->name);
		family(o, name, kf->type, kf->help);
		for (i = 0; i < ks->n; i++) {
			const struct klb_stats_rec *r = &ks->recs[i];

			if (r->has_backend != backends)
				continue;
			service_label(&r->key, svc, sizeof(svc));
			if (backends)
				snprintf(labels, sizeof(labels),
					 "service=\"%s\",backend=\"%s\"", svc,
					 klb_endpoint_format(&r->backend.addr, be));
			else
				snprintf(labels, sizeof(labels), "service=\"%s\"", svc);
			for (j = 0; j < 6 && (j == 0 || kf->v[j].value); j++) {
				if (kf->label)
					emit(o, "%s{%s,%s=\"%s\"} %llu\n", name, labels,
					     kf->label, kf->v[j].value,
					     (unsigned long long)r->ctr[kf->v[j].attr]);
				else
					emit(o, "%s{%s} %llu\n", name, labels,
					     (unsigned long long)r->ctr[kf->v[j].attr]);
			}
		}
	}
}

/* The kernel's generation and its age: since klbd set it, or first saw it. */
static uint64_t generation_age_ms(struct klbd *d, uint64_t gen)
{
	struct metrics *m = &d->metrics;

	if (d->generation_ms && gen == d->generation)
		return d->now_ms - d->generation_ms;
	if (!m->gen_seen_ms || m->gen_seen != gen) {
		m->gen_seen = gen;
		m->gen_seen_ms = d->now_ms;
	}
	return d->now_ms - m->gen_seen_ms;
}

static void kernel_emit(struct klbd *d, struct out *o)
{
	struct metrics *m = &d->metrics;
	struct kstats ks = { 0 };
	struct klb_info info;
	klb_error e = { 0 };
	bool up = false;
	int err;

	if (!m->nl_open && !klb_client_open(&m->nl, &e))
		m->nl_open = true;
	if (m->nl_open) {
		err = klb_info_get(&m->nl, &info, &e);
		if (!err)
			err = klb_stats_dump(&m->nl, NULL, kstats_collect, &ks, &e);
		up = !err;
		if (err == -E2BIG)
			o->failed = true;	/* too many to answer */
		if (err) {
			klb_client_close(&m->nl);
			m->nl_open = false;
		}
	}
	single(o, "klb_kernel_up", "gauge",
	       "Whether this scrape could read the kernel's counters (the klb module is loaded).",
	       up);
	if (up) {
		single(o, "klb_kernel_generation", "gauge",
		       "The configuration generation the kernel holds: the Raft index klbd gave it.",
		       info.generation);
		family(o, "klb_kernel_generation_age_seconds", "gauge",
		       "Seconds since klbd set the kernel's generation (or first saw it, when it did not set it).");
		emit(o, "klb_kernel_generation_age_seconds %.3f\n",
		     generation_age_ms(d, info.generation) / 1e3);
		single(o, "klb_kernel_services", "gauge", "Services in the kernel.",
		       info.services);
		single(o, "klb_kernel_flows", "gauge", "Entries in the kernel's flow table.",
		       info.flows);
		single(o, "klb_kernel_flows_max", "gauge", "The flow table's size.",
		       info.max_flows);
		single(o, "klb_kernel_flow_limit_hits_total", "counter",
		       "Flows refused an entry: the flow table was full.",
		       info.flow_limit_hits);
		single(o, "klb_kernel_flow_evictions_total", "counter",
		       "Flow table entries evicted to make room.", info.flow_evictions);
		kstats_emit(o, &ks, false);
		kstats_emit(o, &ks, true);
	}
	free(ks.recs);
}

/* What the replicated state gives each backend, and its health. */
static void health_emit(struct klbd *d, struct out *o)
{
	static const char *const states[] = { "up", "drain", "down" };
	const struct klbd_state *s = &d->state;
	char svc[96], be[KLB_ENDPOINT_STRLEN];
	size_t i, j, k;
	int pass;

	for (pass = 0; pass < 3; pass++) {
		if (pass == 0)
			family(o, "klb_backend_state", "gauge",
			       "The state the cluster gives the backend (what the kernel gets): 1 for the one it is in.");
		else if (pass == 1)
			family(o, "klb_backend_healthy", "gauge",
			       "Health-checked backends: 1 healthy, 0 failing; view local is this gateway's verdict, cluster the majority's.");
		else
			family(o, "klb_backend_failing_gateways", "gauge",
			       "Health-checked backends: gateways the cluster records as seeing it failing.");
		for (i = 0; i < s->n_svcs; i++) {
			const struct state_service *sv = &s->svcs[i];

			if (pass && sv->check.type == KLBD_CHECK_NONE)
				continue;
			service_label(&sv->key, svc, sizeof(svc));
			for (j = 0; j < sv->n_bes; j++) {
				const struct probe_target *t;
				uint32_t failing = sv->health[j].failing;

				klb_endpoint_format(&sv->bes[j].addr, be);
				if (pass == 0) {
					for (k = 0; k < 3; k++)
						emit(o, "klb_backend_state{service=\"%s\",backend=\"%s\",state=\"%s\"} %d\n",
						     svc, be, states[k],
						     sv->bes[j].state == k);
				} else if (pass == 1) {
					t = probe_find(d, &sv->key, &sv->bes[j].addr);
					if (t)
						emit(o, "klb_backend_healthy{service=\"%s\",backend=\"%s\",view=\"local\"} %d\n",
						     svc, be, !t->obs.failing);
					emit(o, "klb_backend_healthy{service=\"%s\",backend=\"%s\",view=\"cluster\"} %d\n",
					     svc, be,
					     !health_majority_down(failing, s->n_voters));
				} else {
					emit(o, "klb_backend_failing_gateways{service=\"%s\",backend=\"%s\"} %d\n",
					     svc, be, __builtin_popcount(failing));
				}
			}
		}
	}
	single(o, "klb_probe_targets", "gauge", "Backends this gateway probes.",
	       d->n_targets);
	single(o, "klb_probes_inflight", "gauge", "Probes in flight now.",
	       d->probes_inflight);
	family(o, "klb_probes_total", "counter", "Health probes finished, by result.");
	emit(o, "klb_probes_total{result=\"success\"} %llu\n",
	     (unsigned long long)d->ps.succeeded);
	emit(o, "klb_probes_total{result=\"failure\"} %llu\n",
	     (unsigned long long)d->ps.failed);
	emit(o, "klb_probes_total{result=\"timeout\"} %llu\n",
	     (unsigned long long)d->ps.timed_out);
	single(o, "klb_probes_over_limit_total", "counter",
	       "Probes that waited: the in-flight limit was reached.", d->ps.over_limit);
	single(o, "klb_probe_socket_errors_total", "counter",
	       "Probes that could not get a socket.", d->ps.socket_errors);
	single(o, "klb_probes_via_vip_sent_total", "counter",
	       "TCP probes through the VIP: SYNs sent through the tunnel.",
	       d->ps.vip_sent);
	single(o, "klb_probes_via_vip_answered_total", "counter",
	       "TCP probes through the VIP: SYN-ACKs from the VIP.",
	       d->ps.vip_answered);
	single(o, "klb_health_verdict_changes_total", "counter",
	       "Changes of this gateway's verdict on a backend.", d->ps.verdict_changes);
	single(o, "klb_health_reports_total", "counter",
	       "Verdicts this gateway proposed to the cluster.", d->ps.reports);
	histogram(o, "klb_probe_duration_seconds",
		  "Health probes: from the start to the result.", &d->metrics.probe);
}

static void raft_emit(struct klbd *d, struct out *o)
{
	static const enum raft_role roles[] = {
		RAFT_FOLLOWER, RAFT_PRE_CANDIDATE, RAFT_CANDIDATE, RAFT_LEADER,
	};
	struct raft_status rs;
	size_t i;

	raft_status(d->raft, &rs);
	family(o, "klb_raft_role", "gauge", "This node's Raft role: 1 for the one it has.");
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		emit(o, "klb_raft_role{role=\"%s\"} %d\n", raft_role_name(roles[i]),
		     rs.role == roles[i]);
	single(o, "klb_raft_term", "gauge", "The current Raft term.", rs.term);
	single(o, "klb_raft_leader_id", "gauge", "The leader this node knows, 0 for none.",
	       rs.lead);
	single(o, "klb_raft_commit_index", "gauge", "The highest log index known committed.",
	       rs.commit);
	single(o, "klb_raft_applied_index", "gauge", "The highest log index applied here.",
	       d->applied);
	single(o, "klb_raft_last_index", "gauge", "The last index in this node's log.",
	       rs.last_index);
	single(o, "klb_raft_snapshot_index", "gauge", "The index of the latest snapshot.",
	       rs.snap_index);
	single(o, "klb_raft_leader_changes_total", "counter",
	       "Times this node saw a new leader (the first one included).",
	       d->stats.leader_changes);
	single(o, "klb_raft_leader_forgotten_total", "counter",
	       "Times this node gave up on its leader early: its daemon refused connections.",
	       rs.leader_forgotten);
	single(o, "klb_raft_applied_entries_total", "counter", "Log entries applied.",
	       d->stats.applied_entries);
	single(o, "klb_raft_apply_refused_total", "counter",
	       "Committed commands the state could not take (each changed nothing).",
	       d->stats.apply_refused);
	single(o, "klb_raft_proposals_total", "counter", "Commands proposed on this node.",
	       d->stats.proposals);
	single(o, "klb_raft_proposals_forwarded_total", "counter",
	       "Commands forwarded to the leader.", d->stats.forwarded);
	single(o, "klb_raft_proposals_too_large_total", "counter",
	       "Proposals refused: larger than an entry may be.", rs.proposals_too_large);
	single(o, "klb_raft_proposals_over_limit_total", "counter",
	       "Proposals refused: too much uncommitted.", rs.proposals_over_limit);
	single(o, "klb_raft_snapshots_taken_total", "counter", "Snapshots taken here.",
	       d->stats.snapshots_taken);
	single(o, "klb_raft_snapshots_installed_total", "counter",
	       "Snapshots installed from the leader.", d->stats.snapshots_installed);
	single(o, "klb_raft_snapshots_too_large_total", "counter",
	       "Snapshots refused: too large.", rs.snapshots_too_large);
	histogram(o, "klb_raft_proposal_duration_seconds",
		  "Commands proposed on this node: from the proposal to applied here.",
		  &d->metrics.proposal);
	single(o, "klb_reconciles_total", "counter",
	       "Times the kernel was made to hold the applied state.", d->stats.reconciles);
	single(o, "klb_reconcile_failures_total", "counter",
	       "Reconciles the kernel refused (retried every second).",
	       d->stats.reconcile_failures);
	single(o, "klb_reconciles_partial_total", "counter",
	       "Reconciles that pushed the changed services only.",
	       d->stats.reconciles_partial);
	single(o, "klb_reconciled_services_total", "counter",
	       "Services pushed (or deleted) by partial reconciles.",
	       d->stats.reconciled_services);
	single(o, "klb_reconcile_dirty_overflows_total", "counter",
	       "Times more services changed than a partial reconcile remembers.",
	       d->dirty.overflows);
	histogram(o, "klb_reconcile_duration_seconds",
		  "Successful reconciles: the whole push into the kernel.",
		  &d->metrics.reconcile);
	single(o, "klb_state_bootstrapped", "gauge",
	       "1 once the cluster took its bootstrap services (never again).",
	       d->state.bootstrapped);
	single(o, "klb_bootstrap_services_proposed_total", "counter",
	       "Bootstrap services this node proposed as the leader.",
	       d->stats.bootstrap_proposed);
	single(o, "klb_state_service_limit_hits_total", "counter",
	       "Commands refused: the service limit.", d->state.service_limit_hits);
	single(o, "klb_state_backend_limit_hits_total", "counter",
	       "Commands refused: the per-service backend limit.",
	       d->state.backend_limit_hits);
	single(o, "klb_control_pending_over_limit_total", "counter",
	       "Commands refused: too many in flight.", d->stats.pending_over_limit);
	single(o, "klb_control_requests_timed_out_total", "counter",
	       "Commands with no outcome in time.", d->stats.requests_timed_out);
	single(o, "klb_control_over_limit_total", "counter",
	       "Control clients refused (too many) and answers too large.",
	       d->stats.control_over_limit);
	single(o, "klb_control_bad_requests_total", "counter",
	       "Malformed control requests and commands.", d->stats.control_bad_requests);
}

static void transport_emit(struct klbd *d, struct out *o)
{
	const struct transport_stats *ts = &d->ts;
	size_t i;

	single(o, "klb_transport_frames_sent_total", "counter", "Frames sent to peers.",
	       ts->frames_sent);
	single(o, "klb_transport_frames_received_total", "counter",
	       "Frames received from peers.", ts->frames_received);
	family(o, "klb_transport_frames_rejected_total", "counter",
	       "Frames that dropped their connection, by reason.");
	emit(o, "klb_transport_frames_rejected_total{reason=\"bad_crc\"} %llu\n",
	     (unsigned long long)ts->frames_bad_crc);
	emit(o, "klb_transport_frames_rejected_total{reason=\"bad_mac\"} %llu\n",
	     (unsigned long long)ts->frames_bad_mac);
	emit(o, "klb_transport_frames_rejected_total{reason=\"bad_seq\"} %llu\n",
	     (unsigned long long)ts->frames_bad_seq);
	emit(o, "klb_transport_frames_rejected_total{reason=\"bad_proto\"} %llu\n",
	     (unsigned long long)ts->frames_bad_proto);
	emit(o, "klb_transport_frames_rejected_total{reason=\"too_large\"} %llu\n",
	     (unsigned long long)ts->frames_too_large);
	single(o, "klb_transport_peers_unknown_total", "counter",
	       "Handshakes refused: an id that is not a peer.", ts->peers_unknown);
	single(o, "klb_transport_auth_failures_total", "counter",
	       "Handshakes refused: a wrong proof of the key.", ts->auth_failures);
	single(o, "klb_transport_handshake_timeouts_total", "counter",
	       "Handshakes that did not finish in time.", ts->handshake_timeouts);
	single(o, "klb_transport_inbound_over_limit_total", "counter",
	       "Inbound connections refused: too many.", ts->inbound_over_limit);
	single(o, "klb_transport_queue_full_drops_total", "counter",
	       "Messages dropped: a peer's queue was full.", ts->queue_full_drops);
	single(o, "klb_transport_connects_total", "counter",
	       "Connections to peers established.", ts->connects);
	single(o, "klb_transport_disconnects_total", "counter",
	       "Connections to peers lost or dropped.", ts->disconnects);
	family(o, "klb_peer_connected", "gauge",
	       "Whether this node's connection to the peer is open.");
	for (i = 0; i < d->n_peers; i++)
		emit(o, "klb_peer_connected{peer=\"%llu\"} %d\n",
		     (unsigned long long)d->peers[i].id,
		     d->peers[i].conn && d->peers[i].conn->state == CONN_OPEN);
	family(o, "klb_peer_dropped_messages_total", "counter",
	       "Messages to the peer dropped: its queue was full.");
	for (i = 0; i < d->n_peers; i++)
		emit(o, "klb_peer_dropped_messages_total{peer=\"%llu\"} %llu\n",
		     (unsigned long long)d->peers[i].id,
		     (unsigned long long)d->peers[i].dropped);
}

static void self_emit(struct klbd *d, struct out *o)
{
	const struct metrics *m = &d->metrics;
	size_t i;

	family(o, "klb_metrics_requests_total", "counter",
	       "Requests to this endpoint, by status code (431: the request was too large; 500: the answer would be).");
	for (i = 0; i < METRICS_CODES; i++)
		emit(o, "klb_metrics_requests_total{code=\"%d\"} %llu\n", codes[i].code,
		     (unsigned long long)(i == METRICS_431 ? m->srv.too_large :
					  m->requests[i]));
	single(o, "klb_metrics_clients_over_limit_total", "counter",
	       "Connections to this endpoint refused: too many at once.",
	       m->srv.conns_over_limit);
	single(o, "klb_metrics_timeouts_total", "counter",
	       "Connections to this endpoint closed: the exchange took too long.",
	       m->srv.timeouts);
}

/* The whole page; -E2BIG when it would be over METRICS_RESPONSE_MAX. */
static int metrics_page(struct klbd *d, struct wbuf *b)
{
	struct out o = { .b = b };

	kernel_emit(d, &o);
	health_emit(d, &o);
	raft_emit(d, &o);
	transport_emit(d, &o);
	self_emit(d, &o);
	return o.failed ? -E2BIG : 0;
}

/* The request line's verdict; the headers after it are not needed. */
static enum metrics_code request_route(const char *req, size_t len)
{
	struct http_req r;

	if (http_request_line(req, len, &r))
		return METRICS_400;
	if (r.method_len != 3 || memcmp(r.method, "GET", 3))
		return METRICS_405;
	if (r.path_len != 8 || memcmp(r.path, "/metrics", 8))
		return METRICS_404;
	return METRICS_200;
}

/* A whole request: route it and answer. */
static void client_request(struct http_conn *c, const char *req, size_t len)
{
	static const char *const texts[METRICS_CODES] = {
		[METRICS_400] = "bad request",
		[METRICS_404] = "not found: try /metrics",
		[METRICS_405] = "method not allowed: GET only",
		[METRICS_500] = "the metrics are too large to answer",
	};
	struct klbd *d = http_conn_server(c)->d;
	enum metrics_code code = request_route(req, len);
	struct wbuf page = { 0 };

	if (code == METRICS_200 && metrics_page(d, &page)) {
		wbuf_free(&page);
		code = METRICS_500;
	}
	d->metrics.requests[code]++;
	if (code == METRICS_200)
		http_answer(c, 200, "text/plain; version=0.0.4", "", &page);
	else
		http_answer_text(c, codes[code].code,
				 code == METRICS_405 ? "Allow: GET\r\n" : "",
				 texts[code]);
}

static const struct http_server_ops metrics_ops = {
	.request = client_request,
};

int metrics_start(struct klbd *d, char *err, size_t err_len)
{
	struct metrics *m = &d->metrics;

	m->srv = (struct http_server){
		.d = d, .ops = &metrics_ops, .fd = -1,
		.conns_max = METRICS_CLIENTS_MAX,
		.request_max = METRICS_REQUEST_MAX,
		.timeout_ms = METRICS_TIMEOUT_MS,
	};
	if (!d->cfg.metrics[0])
		return 0;
	if (http_server_start(&m->srv, &d->cfg.metrics_sa, "metrics",
			      d->cfg.metrics, err, err_len))
		return -1;
	klbd_log(LOG_INFO, "metrics on http://%s/metrics", d->cfg.metrics);
	return 0;
}
