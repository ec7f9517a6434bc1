/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klbd's configuration file (klbd.conf, Documentation/klbd.md): an INI
 * file read with inih. Every error names the file, the line and the
 * problem; a file with any error configures nothing.
 */
#ifndef KLBD_CONFIG_H
#define KLBD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/klb_save_parse.h"
#include "raft/raft.h"

#define KLBD_CONFIG_DEFAULT	"/etc/klb/klbd.conf"
#define KLBD_CONFIG_ERR_MAX	512
/* The cluster key: its file's bytes (trailing newline dropped). */
#define KLBD_KEY_MIN		32
#define KLBD_KEY_MAX		1024

struct klbd_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct klbd_peer {
	uint64_t id;
	char addr[RAFT_ADDR_MAX];	/* as written, for Raft's conf */
	struct klbd_addr sa;
	unsigned int line;
};

struct klbd_config {
	char path[PATH_MAX];
	uint64_t id;
	char listen[RAFT_ADDR_MAX];
	struct klbd_addr listen_sa;
	struct klbd_peer peers[RAFT_MAX_NODES];
	size_t n_peers;
	char data_dir[PATH_MAX];
	char key_file[PATH_MAX];
	char control_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* join an existing cluster: never bootstrap one (Documentation/klbd.md) */
	bool join;
	/* where exec checks' scripts are: this gateway's own */
	char checks_dir[PATH_MAX];
	/* The Prometheus endpoint (metrics.h); "" when off. */
	char metrics[RAFT_ADDR_MAX];
	struct klbd_addr metrics_sa;
	/*
	 * Backends' own registrations over HTTP (register.h); "" when off.
	 * The token file is read at start (klbd_config_load_token).
	 */
	char reg[RAFT_ADDR_MAX];
	struct klbd_addr reg_sa;
	char reg_token_file[PATH_MAX];
	/*
	 * The services a new cluster starts with: a save file (klbctl(8)),
	 * read at start (klbd_config_load_bootstrap). "" for none.
	 */
	char bootstrap_services[PATH_MAX];
	/* [raft] */
	unsigned int tick_ms;
	unsigned int election_ticks;
	unsigned int heartbeat_ticks;
	unsigned int snapshot_entries;
	/* the key, once klbd_config_load_key() read it */
	uint8_t key[KLBD_KEY_MAX];
	size_t key_len;
};

/*
 * Reads and checks path into cfg (defaults for what it leaves out).
 * Returns 0, or -1 with err holding "FILE:LINE: problem" (or "FILE:
 * problem" for what no line can show, such as a missing setting).
 */
int klbd_config_read(struct klbd_config *cfg, const char *path, char *err,
		     size_t err_len);
/* The same, from a buffer (path only names it in errors): for tests. */
int klbd_config_parse(struct klbd_config *cfg, const char *path,
		      const char *text, size_t len, char *err, size_t err_len);
/* Reads the cluster key file; refuses one others may read. */
int klbd_config_load_key(struct klbd_config *cfg, char *err, size_t err_len);
/*
 * Reads register-token-file into token (REG_TOKEN_MIN to _MAX - 1
 * printable bytes, no spaces, a final newline dropped): *len set, 0; or
 * -1 and err. Refuses a file others may read, as the key file.
 */
#define REG_TOKEN_MIN	16
#define REG_TOKEN_MAX	256
int klbd_config_load_token(const struct klbd_config *cfg, char *token,
			   size_t *len, char *err, size_t err_len);
/*
 * Reads bootstrap-services (nothing when unset: *n 0): 0 with *svcs to
 * free with restore_free(), or -1 and err ("FILE:LINE: problem" for a
 * bad line; a missing file is an error too).
 */
int klbd_config_load_bootstrap(const struct klbd_config *cfg,
			       struct restore_service **svcs, size_t *n,
			       char *err, size_t err_len);
const struct klbd_peer *klbd_config_peer(const struct klbd_config *cfg,
					 uint64_t id);
/* "IPv4:PORT" or "[IPv6]:PORT" into a; -1 when it is not one. */
int klbd_parse_addr(const char *s, struct klbd_addr *a);

#endif
