// SPDX-License-Identifier: GPL-2.0
/*
 * klbd.conf: the fuzz input is the file. A refused file says where (the
 * file's name and a line, or the file's name for what no line shows); an
 * accepted one names this node among its peers and has sane timers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "klbd_config: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX];

	if (klbd_config_parse(&cfg, "fuzz.conf", (const char *)data, size, err,
			      sizeof(err))) {
		check(!strncmp(err, "fuzz.conf:", 10), "an error that names no file");
		return 0;
	}
	check(cfg.id && klbd_config_peer(&cfg, cfg.id), "this node among the peers");
	check(cfg.n_peers >= 1 && cfg.n_peers <= RAFT_MAX_NODES, "peers");
	check(cfg.heartbeat_ticks * 2 <= cfg.election_ticks, "timers");
	check(cfg.listen_sa.len != 0, "a listen address");
	return 0;
}
