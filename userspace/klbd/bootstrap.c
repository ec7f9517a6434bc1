// SPDX-License-Identifier: GPL-2.0
/*
 * Bootstrap services (Documentation/klbd.md): the services of klbd.conf's
 * bootstrap-services file, which a new cluster starts with. Once, for the
 * cluster's whole life: the replicated state says whether it was
 * bootstrapped (KLBD_CMD_BOOTSTRAP_DONE), so an operator's later changes
 * stick across restarts and leader changes.
 *
 * The leader does it, once its state holds everything committed before
 * its term (it applied an entry of its own term): a SERVICE_REPLACE for
 * each of the file's services the state lacks, then BOOTSTRAP_DONE. A
 * leader lost midway leaves the flag unset and the next leader, in its
 * own term, proposes what is still missing: a service already there is
 * never touched, so doing it again is harmless. Gateways with different
 * files: the first leader's wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "klbd/klbd.h"

/* The SERVICE_REPLACE of svc, proposed; 0 or -errno (raft_propose's). */
static int propose_service(struct klbd *d, const struct restore_service *svc)
{
	struct klbd_cmd cmd;
	uint8_t *buf;
	size_t len;
	int ret;

	if (klbd_replace_build(&cmd, &svc->key, &svc->conf, svc->backends,
			       svc->nr_backends, svc->table, &svc->check))
		return -ENOMEM;
	/* Too big a table for one command: klbd computes it, as for restore. */
	if (cmd.table && cmd.conf.table_size > KLBD_REPLACE_MAX_TABLE)
		cmd.table = NULL;
	len = klbd_cmd_size(&cmd);
	buf = len ? malloc(len) : NULL;
	if (!buf) {
		free(cmd.bes);
		return len ? -ENOMEM : -EMSGSIZE;
	}
	klbd_cmd_encode(&cmd, buf, len);
	free(cmd.bes);
	ret = node_propose(d, buf, len);
	free(buf);
	return ret;
}

static int propose_done(struct klbd *d)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_BOOTSTRAP_DONE };
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n = klbd_cmd_encode(&cmd, buf, sizeof(buf));

	return n < 0 ? n : node_propose(d, buf, n);
}

static void bootstrap_forget(struct klbd *d)
{
	restore_free(d->boot_svcs, d->n_boot_svcs);
	d->boot_svcs = NULL;
	d->n_boot_svcs = 0;
	d->boot_loaded = false;
}

void bootstrap_tick(struct klbd *d)
{
	const struct restore_service *svc;
	char what[KLB_ENDPOINT_STRLEN];
	struct raft_status rs;
	int err;

	if (!d->boot_loaded)
		return;
	/* Bootstrapped, by whichever leader: the file is done with. */
	if (d->state.bootstrapped) {
		klbd_log(LOG_INFO, "bootstrap-services %s: the cluster is bootstrapped; not read again",
			 d->cfg.bootstrap_services);
		bootstrap_forget(d);
		return;
	}
	raft_status(d->raft, &rs);
	if (rs.role != RAFT_LEADER || d->applied_term != rs.term)
		return;
	if (d->boot_term != rs.term) {
		d->boot_term = rs.term;
		d->boot_next = 0;
		klbd_log(LOG_NOTICE, "bootstrap-services %s: the cluster is not bootstrapped: proposing the services it lacks",
			 d->cfg.bootstrap_services);
	}
	/* Once per term: all proposed, and the marker after them. */
	if (d->boot_next > d->n_boot_svcs)
		return;
	for (; d->boot_next < d->n_boot_svcs; d->boot_next++) {
		svc = &d->boot_svcs[d->boot_next];
		if (state_find(&d->state, &svc->key))
			continue;
		err = propose_service(d, svc);
		/* Too much uncommitted, say: the next tick goes on from here. */
		if (err && err != -EMSGSIZE)
			return;
		if (err) {
			klbd_log(LOG_ERR, "bootstrap-services %s:%u: service %s %s: too big for one command: left out",
				 d->cfg.bootstrap_services, svc->line,
				 klb_proto_name(svc->key.proto),
				 klb_endpoint_format(&svc->key.vip, what));
			continue;
		}
		d->stats.bootstrap_proposed++;
	}
	if (propose_done(d))
		return;
	d->boot_next++;
	klbd_log(LOG_NOTICE, "bootstrap-services %s: proposed (%llu services so far here), then the marker",
		 d->cfg.bootstrap_services,
		 (unsigned long long)d->stats.bootstrap_proposed);
}

int bootstrap_start(struct klbd *d, char *err, size_t err_len)
{
	if (!d->cfg.bootstrap_services[0])
		return 0;
	if (klbd_config_load_bootstrap(&d->cfg, &d->boot_svcs, &d->n_boot_svcs,
				       err, err_len))
		return -1;
	d->boot_loaded = true;
	return 0;
}
