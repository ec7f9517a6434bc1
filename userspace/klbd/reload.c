// SPDX-License-Identifier: GPL-2.0
/*
 * SIGHUP (systemctl reload klbd): klbd.conf and the key file read again.
 * A file with any error changes nothing, and says so with the file and
 * line, as at start-up. What can change under a running node changes:
 *
 *   key-file          new handshakes use the new key; connections already
 *                     authenticated keep their session keys
 *   checks-dir        the next exec probe runs from there
 *   snapshot-entries  the next snapshot is due by the new count
 *
 * The rest names this node and its place in the cluster (id, addresses,
 * data-dir, join, the control socket, the metrics address, [peers], the
 * Raft timing, the registration endpoint and its token, the bootstrap
 * services' file): a change
 * there is logged as waiting for the next start, and klbd goes on with
 * what it started with.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "klbd/klbd.h"

static bool peers_equal(const struct klbd_config *a, const struct klbd_config *b)
{
	size_t i;

	if (a->n_peers != b->n_peers)
		return false;
	for (i = 0; i < a->n_peers; i++)
		if (a->peers[i].id != b->peers[i].id ||
		    strcmp(a->peers[i].addr, b->peers[i].addr))
			return false;
	return true;
}

static void add_name(char *list, size_t cap, const char *name)
{
	size_t len = strlen(list);

	snprintf(list + len, cap - len, "%s%s", len ? ", " : "", name);
}

void reload_run(struct klbd *d)
{
	static struct klbd_config next;	/* a key's bytes: not on the stack */
	const struct klbd_config *cur = &d->cfg;
	char err[KLBD_CONFIG_ERR_MAX + 128];
	char now[256] = "", later[256] = "";

	d->stats.reloads++;
	memset(&next, 0, sizeof(next));
	if (klbd_config_read(&next, cur->path, err, sizeof(err)) ||
	    klbd_config_load_key(&next, err, sizeof(err))) {
		d->stats.reload_failures++;
		klbd_log(LOG_ERR, "reload: %s: nothing changed", err);
		return;
	}

	if (next.key_len != cur->key_len ||
	    memcmp(next.key, cur->key, cur->key_len) ||
	    strcmp(next.key_file, cur->key_file))
		add_name(now, sizeof(now), "key-file");
	if (strcmp(next.checks_dir, cur->checks_dir))
		add_name(now, sizeof(now), "checks-dir");
	if (next.snapshot_entries != cur->snapshot_entries)
		add_name(now, sizeof(now), "snapshot-entries");

	if (next.id != cur->id)
		add_name(later, sizeof(later), "id");
	if (strcmp(next.listen, cur->listen))
		add_name(later, sizeof(later), "listen");
	if (strcmp(next.data_dir, cur->data_dir))
		add_name(later, sizeof(later), "data-dir");
	if (strcmp(next.control_socket, cur->control_socket))
		add_name(later, sizeof(later), "control-socket");
	if (next.join != cur->join)
		add_name(later, sizeof(later), "join");
	if (strcmp(next.reg, cur->reg) ||
	    strcmp(next.reg_token_file, cur->reg_token_file))
		add_name(later, sizeof(later), "register");
	if (strcmp(next.metrics, cur->metrics))
		add_name(later, sizeof(later), "metrics");
	if (strcmp(next.bootstrap_services, cur->bootstrap_services))
		add_name(later, sizeof(later), "bootstrap-services");
	if (!peers_equal(&next, cur))
		add_name(later, sizeof(later), "[peers]");
	if (next.tick_ms != cur->tick_ms ||
	    next.election_ticks != cur->election_ticks ||
	    next.heartbeat_ticks != cur->heartbeat_ticks)
		add_name(later, sizeof(later), "[raft] timing");

	memcpy(d->cfg.key, next.key, sizeof(d->cfg.key));
	d->cfg.key_len = next.key_len;
	memcpy(d->cfg.key_file, next.key_file, sizeof(d->cfg.key_file));
	memcpy(d->cfg.checks_dir, next.checks_dir, sizeof(d->cfg.checks_dir));
	d->cfg.snapshot_entries = next.snapshot_entries;
	memset(next.key, 0, sizeof(next.key));

	klbd_log(LOG_NOTICE, "reloaded %s: %s%s", cur->path,
		 now[0] ? "changed " : "nothing to change now", now);
	if (later[0])
		klbd_log(LOG_WARNING,
			 "reload: %s changed in %s: takes effect at the next start",
			 later, cur->path);
}
