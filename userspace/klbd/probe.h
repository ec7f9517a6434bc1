/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health probes on klbd's ring: every backend of every service with a
 * check is probed from this gateway every interval, each probe a
 * non-blocking socket whose connect, send and receive are ring requests
 * with a linked timeout, so that thousands of probes need no thread:
 * TLS runs on memory BIOs (probe_tls.h), a script is watched through
 * its pidfd (probe_exec.h), a SYN through the VIP goes out of a raw
 * socket (probe_vip.h).
 * Each result goes to the backend's health_obs (health.h). A verdict
 * that differs from what the replicated state records for this gateway
 * is proposed (a HEALTH command) until the state records it: a lost
 * proposal, a new leader or a restart need nothing more.
 */
#ifndef KLBD_PROBE_H
#define KLBD_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "klbd/health.h"
#include "lib/klb_client.h"
#include "lib/klbd_proto.h"

/* Probes in flight at once (each holds a socket); over it, one waits. */
#define PROBE_INFLIGHT_MAX	1024
/* The longest the loop sleeps while probes are due. */
#define PROBE_WAKE_MAX_MS	100
#define PROBE_HTTP_BUF		256
/* Scripts of exec checks running at once; over it, one waits. */
#define PROBE_EXEC_MAX		16
/* A failure's reason as the log line gives it ("TLS handshake: ..."). */
#define PROBE_WHY_MAX		96
/* A verdict the cluster has not recorded yet is sent again this often. */
#define HEALTH_REPORT_RETRY_MS	1000

/* One backend as this gateway probes it. */
struct probe_target {
	struct klb_service_key key;
	struct klb_endpoint addr;	/* the backend */
	struct klbd_check check;
	struct health_obs obs;
	uint64_t next_ms;
	bool busy;			/* a probe in flight */
	bool recorded;			/* the cluster's record of our verdict */
	uint64_t report_ms;		/* when to send it (again) */
	int last_err;			/* 0, or why the last probe failed */
	int last_status;		/* HTTP: the status the last answer had */
	char last_why[PROBE_WHY_MAX];	/* "": strerror(last_err) says it */
};

struct probe_stats {
	uint64_t started, succeeded, failed, timed_out;
	uint64_t over_limit;		/* due, but PROBE_INFLIGHT_MAX in flight */
	uint64_t exec_over_limit;	/* due, but PROBE_EXEC_MAX scripts run */
	uint64_t socket_errors, verdict_changes;
	uint64_t reports;		/* verdicts proposed to the cluster */
	uint64_t vip_sent, vip_answered;	/* via-vip: SYNs, SYN-ACKs */
};

struct klbd;

/* The targets made to match the applied state, verdicts kept. */
void probe_sync(struct klbd *d);
/* Starts the probes that are due and keeps the loop waking for them. */
void probe_run(struct klbd *d);
/* At exit: the scripts still running killed with their groups; TLS freed. */
void probe_stop(struct klbd *d);
const struct probe_target *probe_find(const struct klbd *d,
				      const struct klb_service_key *key,
				      const struct klb_endpoint *addr);

#endif
