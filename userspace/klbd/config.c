// SPDX-License-Identifier: GPL-2.0
/*
 * klbd.conf through inih. inih hands us (section, name, value) but not the
 * line, so the file is fed to it line by line by our own reader, which
 * counts: every setting, and every later check of it, can name its line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klbd/config.h"
#include "klbd/state.h"

/* A config file is a few lines; anything much larger is a mistake. */
#define CONFIG_MAX_BYTES	(1 << 20)

enum {
	LINE_ID, LINE_LISTEN, LINE_DATA_DIR, LINE_KEY_FILE, LINE_CONTROL, LINE_CHECKS_DIR,
	LINE_METRICS, LINE_REGISTER, LINE_REGISTER_TOKEN,
	LINE_TICK, LINE_ELECTION, LINE_HEARTBEAT, LINE_SNAPSHOT, LINE_JOIN,
	LINE_BOOTSTRAP,
	LINE_COUNT
};

struct config_parse {
	struct klbd_config *cfg;
	const char *path;
	const char *p, *end;		/* what the reader has not read yet */
	unsigned int line;		/* the line inih is at */
	unsigned int lines[LINE_COUNT];	/* where each setting was, 0: unset */
	char *err;
	size_t err_len;
	bool failed;
};

static int fail(struct config_parse *cp, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct config_parse *cp, unsigned int line, const char *fmt, ...)
{
	char msg[KLBD_CONFIG_ERR_MAX];
	va_list ap;

	if (cp->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(cp->err, cp->err_len, "%s:%u: %s", cp->path, line, msg);
	else
		snprintf(cp->err, cp->err_len, "%s: %s", cp->path, msg);
	cp->failed = true;
	return 0;
}

/* fgets() over the buffer, counting lines; refuses lines inih would split. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parse *cp = stream;
	const char *nl;
	size_t n, len;

	if (cp->p >= cp->end)
		return NULL;
	cp->line++;
	nl = memchr(cp->p, '\n', cp->end - cp->p);
	len = nl ? (size_t)(nl - cp->p) + 1 : (size_t)(cp->end - cp->p);
	n = len;
	if (n > (size_t)num - 1) {
		fail(cp, cp->line, "line longer than %d characters", num - 2);
		n = num - 1;
	}
	if (memchr(cp->p, '\0', len))
		fail(cp, cp->line, "a NUL byte in the line");
	memcpy(str, cp->p, n);
	str[n] = '\0';
	cp->p += len;
	return str;
}

static int parse_uint(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		return -1;
	return 0;
}

int klbd_parse_addr(const char *s, struct klbd_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	unsigned long long port;
	const char *colon;
	size_t len;

	memset(a, 0, sizeof(*a));
	colon = strrchr(s, ':');
	if (!colon || parse_uint(colon + 1, 1, 65535, &port))
		return -1;
	len = colon - s;
	if (len >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;

		if (len < 3 || host[len - 1] != ']')
			return -1;
		host[len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		a->len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->len = sizeof(*sin);
	}
	return 0;
}

static int set_path(struct config_parse *cp, const char *name, const char *value,
		    char *dst, size_t cap)
{
	if (value[0] != '/')
		return fail(cp, cp->line, "%s must be an absolute path, not '%s'",
			    name, value);
	if (strlen(value) >= cap)
		return fail(cp, cp->line, "%s is longer than %zu characters",
			    name, cap - 1);
	strcpy(dst, value);
	return 1;
}

/* Each setting once: a second one is more likely a mistake than an override. */
static bool once(struct config_parse *cp, int which, const char *section,
		 const char *name)
{
	if (cp->lines[which]) {
		fail(cp, cp->line, "[%s] %s set twice (first on line %u)",
		     section, name, cp->lines[which]);
		return false;
	}
	cp->lines[which] = cp->line;
	return true;
}

static int node_setting(struct config_parse *cp, const char *name, const char *value)
{
	struct klbd_config *cfg = cp->cfg;
	unsigned long long v;

	if (!strcmp(name, "id")) {
		if (!once(cp, LINE_ID, "node", name))
			return 0;
		if (parse_uint(value, 1, UINT64_MAX, &v))
			return fail(cp, cp->line, "node id must be a number from 1, not '%s'",
				    value);
		cfg->id = v;
	} else if (!strcmp(name, "listen")) {
		if (!once(cp, LINE_LISTEN, "node", name))
			return 0;
		if (strlen(value) >= sizeof(cfg->listen) ||
		    klbd_parse_addr(value, &cfg->listen_sa))
			return fail(cp, cp->line,
				    "listen must be IPV4:PORT or [IPV6]:PORT, not '%s'",
				    value);
		strcpy(cfg->listen, value);
	} else if (!strcmp(name, "data-dir")) {
		if (!once(cp, LINE_DATA_DIR, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->data_dir, sizeof(cfg->data_dir));
	} else if (!strcmp(name, "key-file")) {
		if (!once(cp, LINE_KEY_FILE, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->key_file, sizeof(cfg->key_file));
	} else if (!strcmp(name, "control-socket")) {
		if (!once(cp, LINE_CONTROL, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->control_socket,
				sizeof(cfg->control_socket));
	} else if (!strcmp(name, "join")) {
		if (!once(cp, LINE_JOIN, "node", name))
			return 0;
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail(cp, cp->line, "join must be yes or no, not '%s'", value);
		cfg->join = !strcmp(value, "yes");
	} else if (!strcmp(name, "checks-dir")) {
		if (!once(cp, LINE_CHECKS_DIR, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->checks_dir,
				sizeof(cfg->checks_dir));
	} else if (!strcmp(name, "metrics")) {
		if (!once(cp, LINE_METRICS, "node", name))
			return 0;
		if (strlen(value) >= sizeof(cfg->metrics) ||
		    klbd_parse_addr(value, &cfg->metrics_sa))
			return fail(cp, cp->line,
				    "metrics must be IPV4:PORT or [IPV6]:PORT, not '%s'",
				    value);
		strcpy(cfg->metrics, value);
	} else if (!strcmp(name, "register")) {
		if (!once(cp, LINE_REGISTER, "node", name))
			return 0;
		if (strlen(value) >= sizeof(cfg->reg) ||
		    klbd_parse_addr(value, &cfg->reg_sa))
			return fail(cp, cp->line,
				    "register must be IPV4:PORT or [IPV6]:PORT, not '%s'",
				    value);
		strcpy(cfg->reg, value);
	} else if (!strcmp(name, "bootstrap-services")) {
		if (!once(cp, LINE_BOOTSTRAP, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->bootstrap_services,
				sizeof(cfg->bootstrap_services));
	} else if (!strcmp(name, "register-token-file")) {
		if (!once(cp, LINE_REGISTER_TOKEN, "node", name))
			return 0;
		return set_path(cp, name, value, cfg->reg_token_file,
				sizeof(cfg->reg_token_file));
	} else {
		return fail(cp, cp->line, "unknown setting '%s' in [node]", name);
	}
	return 1;
}

static int peer_setting(struct config_parse *cp, const char *name, const char *value)
{
	struct klbd_config *cfg = cp->cfg;
	struct klbd_peer *p;
	unsigned long long id;
	size_t i;

	if (parse_uint(name, 1, UINT64_MAX, &id))
		return fail(cp, cp->line,
			    "a peer is 'ID = ADDRESS' with a numeric id from 1, not '%s'",
			    name);
	for (i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].id == id)
			return fail(cp, cp->line, "peer %llu listed twice (first on line %u)",
				    id, cfg->peers[i].line);
	if (cfg->n_peers == RAFT_MAX_NODES)
		return fail(cp, cp->line, "more than %d peers", RAFT_MAX_NODES);
	p = &cfg->peers[cfg->n_peers];
	if (strlen(value) >= sizeof(p->addr) || klbd_parse_addr(value, &p->sa))
		return fail(cp, cp->line,
			    "peer %llu: the address must be IPV4:PORT or [IPV6]:PORT, not '%s'",
			    id, value);
	p->id = id;
	strcpy(p->addr, value);
	p->line = cp->line;
	cfg->n_peers++;
	return 1;
}

static int raft_setting(struct config_parse *cp, const char *name, const char *value)
{
	static const struct {
		const char *name;
		int which;
		unsigned long long min, max;
		size_t off;
	} settings[] = {
		{ "tick-ms", LINE_TICK, 10, 10000,
		  offsetof(struct klbd_config, tick_ms) },
		{ "election-ticks", LINE_ELECTION, 2, 1000,
		  offsetof(struct klbd_config, election_ticks) },
		{ "heartbeat-ticks", LINE_HEARTBEAT, 1, 500,
		  offsetof(struct klbd_config, heartbeat_ticks) },
		{ "snapshot-entries", LINE_SNAPSHOT, 2, 100000000,
		  offsetof(struct klbd_config, snapshot_entries) },
	};
	unsigned long long v;
	size_t i;

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (strcmp(name, settings[i].name))
			continue;
		if (!once(cp, settings[i].which, "raft", name))
			return 0;
		if (parse_uint(value, settings[i].min, settings[i].max, &v))
			return fail(cp, cp->line, "%s must be a number from %llu to %llu, not '%s'",
				    name, settings[i].min, settings[i].max, value);
		*(unsigned int *)((char *)cp->cfg + settings[i].off) = v;
		return 1;
	}
	return fail(cp, cp->line, "unknown setting '%s' in [raft]", name);
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parse *cp = user;

	if (cp->failed)
		return 0;
	if (!strcmp(section, "node"))
		return node_setting(cp, name, value);
	if (!strcmp(section, "peers"))
		return peer_setting(cp, name, value);
	if (!strcmp(section, "raft"))
		return raft_setting(cp, name, value);
	if (!*section)
		return fail(cp, cp->line, "'%s' outside any section", name);
	return fail(cp, cp->line, "unknown section [%s]", section);
}

static void config_defaults(struct klbd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->data_dir, "/var/lib/klb");
	strcpy(cfg->key_file, "/etc/klb/cluster.key");
	strcpy(cfg->control_socket, "/run/klbd/control.sock");
	strcpy(cfg->checks_dir, "/etc/klb/checks");
	cfg->tick_ms = 100;
	cfg->election_ticks = 10;
	cfg->heartbeat_ticks = 1;
	cfg->snapshot_entries = 1000;
}

/* What only the whole file can tell. */
static int config_check(struct config_parse *cp)
{
	struct klbd_config *cfg = cp->cfg;
	const struct klbd_peer *self;

	if (!cfg->id)
		return fail(cp, 0, "[node] id is missing");
	if (!cfg->n_peers)
		return fail(cp, 0, "[peers] is missing: list every member, this node too");
	self = klbd_config_peer(cfg, cfg->id);
	if (!self)
		return fail(cp, cp->lines[LINE_ID], "node id %llu is not in [peers]",
			    (unsigned long long)cfg->id);
	if (!cfg->listen[0]) {
		strcpy(cfg->listen, self->addr);
		cfg->listen_sa = self->sa;
	}
	if (cfg->metrics[0] && cfg->metrics_sa.len == cfg->listen_sa.len &&
	    !memcmp(&cfg->metrics_sa.sa, &cfg->listen_sa.sa, cfg->listen_sa.len))
		return fail(cp, cp->lines[LINE_METRICS],
			    "metrics and listen are the same address (%s)",
			    cfg->metrics);
	if (cfg->reg[0] && !cfg->reg_token_file[0])
		return fail(cp, cp->lines[LINE_REGISTER],
			    "register needs register-token-file: registrations are authenticated");
	if (!cfg->reg[0] && cfg->reg_token_file[0])
		return fail(cp, cp->lines[LINE_REGISTER_TOKEN],
			    "register-token-file without register");
	if (cfg->reg[0] &&
	    ((cfg->reg_sa.len == cfg->listen_sa.len &&
	      !memcmp(&cfg->reg_sa.sa, &cfg->listen_sa.sa, cfg->listen_sa.len)) ||
	     (cfg->metrics[0] && cfg->reg_sa.len == cfg->metrics_sa.len &&
	      !memcmp(&cfg->reg_sa.sa, &cfg->metrics_sa.sa, cfg->metrics_sa.len))))
		return fail(cp, cp->lines[LINE_REGISTER],
			    "register must not be the listen or metrics address (%s)",
			    cfg->reg);
	if (cfg->heartbeat_ticks * 2 > cfg->election_ticks)
		return fail(cp, cp->lines[LINE_HEARTBEAT] ? cp->lines[LINE_HEARTBEAT] :
			    cp->lines[LINE_ELECTION],
			    "heartbeat-ticks (%u) must be at most half of election-ticks (%u)",
			    cfg->heartbeat_ticks, cfg->election_ticks);
	return 1;
}

int klbd_config_parse(struct klbd_config *cfg, const char *path,
		      const char *text, size_t len, char *err, size_t err_len)
{
	struct config_parse cp = {
		.cfg = cfg, .path = path, .p = text, .end = text + len,
		.err = err, .err_len = err_len,
	};
	int line;

	config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	err[0] = '\0';
	/* Continuation lines would make a typo's line hard to find. */
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	line = ini_parse_stream(config_reader, &cp, config_handler, &cp);
	if (line > 0 && !cp.failed)
		fail(&cp, line, "syntax error: expected '[section]', 'name = value' or a comment");
	else if (line < 0 && !cp.failed)
		fail(&cp, 0, "out of memory");
	if (!cp.failed)
		config_check(&cp);
	return cp.failed ? -1 : 0;
}

int klbd_config_read(struct klbd_config *cfg, const char *path, char *err,
		     size_t err_len)
{
	char *text;
	ssize_t n;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (!text) {
		close(fd);
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	while ((n = read(fd, text + len, CONFIG_MAX_BYTES + 1 - len)) > 0) {
		len += n;
		if (len > CONFIG_MAX_BYTES)
			break;
	}
	close(fd);
	if (n < 0 || len > CONFIG_MAX_BYTES) {
		snprintf(err, err_len, "%s: %s", path,
			 n < 0 ? strerror(errno) : "larger than 1 MiB");
		free(text);
		return -1;
	}
	ret = klbd_config_parse(cfg, path, text, len, err, err_len);
	free(text);
	return ret;
}

int klbd_config_load_key(struct klbd_config *cfg, char *err, size_t err_len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(cfg->key_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, err_len, "%s: key-file %s: %s", cfg->path,
			 cfg->key_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & 0007) {
		snprintf(err, err_len,
			 "%s: key-file %s: readable by others (mode %03o): chmod o= it",
			 cfg->path, cfg->key_file, st.st_mode & 0777);
		close(fd);
		return -1;
	}
	n = read(fd, cfg->key, sizeof(cfg->key));
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "%s: key-file %s: %s", cfg->path,
			 cfg->key_file, strerror(errno));
		return -1;
	}
	while (n > 0 && (cfg->key[n - 1] == '\n' || cfg->key[n - 1] == '\r'))
		n--;
	if (n < KLBD_KEY_MIN || (size_t)n >= sizeof(cfg->key)) {
		snprintf(err, err_len,
			 "%s: key-file %s: the key must be %d to %d bytes",
			 cfg->path, cfg->key_file, KLBD_KEY_MIN, KLBD_KEY_MAX - 1);
		return -1;
	}
	cfg->key_len = n;
	return 0;
}

int klbd_config_load_token(const struct klbd_config *cfg, char *token,
			   size_t *len, char *err, size_t err_len)
{
	const char *path = cfg->reg_token_file;
	struct stat st;
	ssize_t n, i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, err_len, "%s: register-token-file %s: %s", cfg->path,
			 path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & 0007) {
		snprintf(err, err_len,
			 "%s: register-token-file %s: readable by others (mode %03o): chmod o= it",
			 cfg->path, path, st.st_mode & 0777);
		close(fd);
		return -1;
	}
	n = read(fd, token, REG_TOKEN_MAX);
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "%s: register-token-file %s: %s", cfg->path,
			 path, strerror(errno));
		return -1;
	}
	while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r'))
		n--;
	for (i = 0; i < n; i++)
		if (token[i] <= ' ' || token[i] > '~')
			break;
	if (n < REG_TOKEN_MIN || n >= REG_TOKEN_MAX || i < n) {
		snprintf(err, err_len,
			 "%s: register-token-file %s: the token must be %d to %d printable characters, no spaces",
			 cfg->path, path, REG_TOKEN_MIN, REG_TOKEN_MAX - 1);
		return -1;
	}
	*len = n;
	return 0;
}

int klbd_config_load_bootstrap(const struct klbd_config *cfg,
			       struct restore_service **svcs, size_t *n,
			       char *err, size_t err_len)
{
	const char *path = cfg->bootstrap_services;
	char why[KLB_SAVE_ERR_MAX];
	FILE *f;
	int ret;

	*svcs = NULL;
	*n = 0;
	if (!path[0])
		return 0;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, err_len, "%s: bootstrap-services %s: %s", cfg->path,
			 path, strerror(errno));
		return -1;
	}
	ret = restore_parse(f, path, svcs, n, why, sizeof(why));
	fclose(f);
	if (ret) {
		/* A line's error names the file and the line: it says it all. */
		if (ret == -EINVAL)
			snprintf(err, err_len, "%s", why);
		else
			snprintf(err, err_len, "%s: bootstrap-services %s: %s", cfg->path,
				 path, why);
		return -1;
	}
	if (*n > STATE_MAX_SERVICES) {
		snprintf(err, err_len, "%s: %zu services, more than the %u a cluster holds",
			 path, *n, STATE_MAX_SERVICES);
		restore_free(*svcs, *n);
		*svcs = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

const struct klbd_peer *klbd_config_peer(const struct klbd_config *cfg,
					 uint64_t id)
{
	size_t i;

	for (i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].id == id)
			return &cfg->peers[i];
	return NULL;
}
