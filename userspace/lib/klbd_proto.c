// SPDX-License-Identifier: GPL-2.0
/* Commands as bytes (klbd_proto.h): one encoding, strictly decoded. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <klb/siphash.h>

#include "lib/klbd_bytes.h"
#include "lib/klbd_proto.h"

#define EP_BYTES	20
#define KEY_BYTES	(2 + EP_BYTES)
#define CONF_BYTES	(4 + 4 + 4 + 4 + 4 + KLB_SEED_LEN)
#define BE_BYTES	(4 + 4 + EP_BYTES + 4 + 4)
#define CHECK_BYTES	(4 + 4 + 2 + 2 + 4 + 4)
#define VIA_VIP_BYTES	4
#define SVC_CMD_BYTES	(4 + KEY_BYTES + CONF_BYTES + 4)

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

int klbd_why(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *klbd_cmd_name(uint8_t op)
{
	static const char *const names[] = {
		[KLBD_CMD_SERVICE_ADD] = "service add",
		[KLBD_CMD_SERVICE_SET] = "service set",
		[KLBD_CMD_SERVICE_DEL] = "service del",
		[KLBD_CMD_BACKEND_ADD] = "backend add",
		[KLBD_CMD_BACKEND_SET] = "backend set",
		[KLBD_CMD_BACKEND_DEL] = "backend del",
		[KLBD_CMD_FLUSH] = "flush",
		[KLBD_CMD_HEALTH] = "health",
		[KLBD_CMD_LEASE_RENEW] = "lease renew",
		[KLBD_CMD_LEASE_END] = "lease end",
		[KLBD_CMD_SERVICE_REPLACE] = "service replace",
		[KLBD_CMD_BOOTSTRAP_DONE] = "bootstrap done",
	};

	if (op < 1 || op > KLBD_CMD_OP_MAX)
		return "unknown";
	return names[op];
}

static size_t cmd_len(uint8_t op)
{
	switch (op) {
	case KLBD_CMD_SERVICE_ADD:
	case KLBD_CMD_SERVICE_SET:
		return SVC_CMD_BYTES;
	case KLBD_CMD_SERVICE_DEL:
		return 4 + KEY_BYTES;
	case KLBD_CMD_BACKEND_ADD:
	case KLBD_CMD_BACKEND_SET:
	case KLBD_CMD_BACKEND_DEL:
		return 4 + KEY_BYTES + BE_BYTES;
	case KLBD_CMD_FLUSH:
	case KLBD_CMD_BOOTSTRAP_DONE:
		return 4;
	case KLBD_CMD_HEALTH:
		return 4 + KEY_BYTES + EP_BYTES + 8 + 4;
	case KLBD_CMD_LEASE_RENEW:
		return 4 + KEY_BYTES + EP_BYTES;
	case KLBD_CMD_LEASE_END:
		return 4 + KEY_BYTES + EP_BYTES + 8;
	case KLBD_CMD_SERVICE_REPLACE:
		return KLBD_REPLACE_FIXED_BYTES;
	}
	return 0;
}

static void put_ep(uint8_t *p, const struct klb_endpoint *ep)
{
	size_t n = ep->family == AF_INET6 ? 16 : 4;

	put_u16(p, ep->family);
	memset(p + 2, 0, 16);
	memcpy(p + 2, ep->addr, n);
	put_u16(p + 18, ep->port);
}

static int get_ep(const uint8_t *p, struct klb_endpoint *ep, const char *what,
		  char *why, size_t why_len)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = get_u16(p);
	if (ep->family != AF_INET && ep->family != AF_INET6)
		return klbd_why(why, why_len, -EINVAL, "%s: unknown address family %u",
			       what, ep->family);
	if (ep->family == AF_INET && !zero(p + 6, 12))
		return klbd_why(why, why_len, -EBADMSG, "%s: bytes after an IPv4 address",
			       what);
	memcpy(ep->addr, p + 2, ep->family == AF_INET6 ? 16 : 4);
	ep->port = get_u16(p + 18);
	if (!ep->port)
		return klbd_why(why, why_len, -EINVAL, "%s: port 0", what);
	return 0;
}

const char *klbd_check_name(uint8_t type)
{
	static const char *const names[] = {
		[KLBD_CHECK_NONE] = "none",
		[KLBD_CHECK_TCP] = "tcp",
		[KLBD_CHECK_HTTP] = "http",
		[KLBD_CHECK_HTTPS] = "https",
		[KLBD_CHECK_DNS] = "dns",
		[KLBD_CHECK_EXEC] = "exec",
	};

	return type <= KLBD_CHECK_TYPE_MAX ? names[type] : "unknown";
}

bool klbd_check_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len > KLBD_CHECK_NAME_MAX)
		return false;
	/* No '/', no '.': the name cannot leave the checks directory. */
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

bool klbd_check_same_kind(const struct klbd_check *a,
			  const struct klbd_check *b)
{
	return a->type == b->type && a->port == b->port &&
	       a->http_status == b->http_status &&
	       !strcmp(a->exec_name, b->exec_name) && a->via_vip == b->via_vip;
}

int klbd_check_merge(const struct klbd_check *base, const struct klbd_check *c,
		     struct klbd_check *out, char *why, size_t why_len)
{
	static const struct klbd_check defaults = {
		.fields = KLBD_CHECK_F_ALL, .type = KLBD_CHECK_NONE,
		.rise = KLBD_CHECK_RISE_DEFAULT, .fall = KLBD_CHECK_FALL_DEFAULT,
		.http_status = KLBD_CHECK_STATUS_DEFAULT,
		.interval_ms = KLBD_CHECK_INTERVAL_DEFAULT,
		.timeout_ms = KLBD_CHECK_TIMEOUT_DEFAULT,
	};
	struct klbd_check r = base ? *base : defaults;

	if (c->fields & ~(uint32_t)KLBD_CHECK_F_ALL)
		return klbd_why(why, why_len, -EINVAL, "unknown check settings %#x",
			       c->fields & ~(uint32_t)KLBD_CHECK_F_ALL);
	if (c->fields & KLBD_CHECK_F_TYPE) {
		r.type = c->type;
		/* The script's name comes with the type, and goes with it. */
		memset(r.exec_name, 0, sizeof(r.exec_name));
		if (c->type == KLBD_CHECK_EXEC)
			memcpy(r.exec_name, c->exec_name, sizeof(r.exec_name));
		/* Through the VIP, too, is a property of the type. */
		r.via_vip = false;
	}
	if (c->fields & KLBD_CHECK_F_VIA_VIP)
		r.via_vip = c->via_vip;
	if (c->fields & KLBD_CHECK_F_PORT)
		r.port = c->port;
	if (c->fields & KLBD_CHECK_F_STATUS)
		r.http_status = c->http_status;
	if (c->fields & KLBD_CHECK_F_INTERVAL)
		r.interval_ms = c->interval_ms;
	if (c->fields & KLBD_CHECK_F_TIMEOUT)
		r.timeout_ms = c->timeout_ms;
	if (c->fields & KLBD_CHECK_F_RISE)
		r.rise = c->rise;
	if (c->fields & KLBD_CHECK_F_FALL)
		r.fall = c->fall;
	r.fields = KLBD_CHECK_F_ALL;
	if (r.type > KLBD_CHECK_TYPE_MAX)
		return klbd_why(why, why_len, -EINVAL, "unknown check type %u", r.type);
	r.exec_name[KLBD_CHECK_NAME_MAX] = '\0';
	if (r.type == KLBD_CHECK_EXEC &&
	    !klbd_check_name_valid(r.exec_name, strlen(r.exec_name)))
		return klbd_why(why, why_len, -EINVAL,
			       "an exec check's NAME is 1 to %u letters, digits, '-' or '_', not '%s'",
			       KLBD_CHECK_NAME_MAX, r.exec_name);
	if (r.via_vip && r.type != KLBD_CHECK_TCP)
		return klbd_why(why, why_len, -EINVAL,
			       "via-vip is for tcp checks only, not %s",
			       klbd_check_name(r.type));
	if (r.interval_ms < KLBD_CHECK_INTERVAL_MIN ||
	    r.interval_ms > KLBD_CHECK_INTERVAL_MAX)
		return klbd_why(why, why_len, -EINVAL,
			       "check interval must be %u to %u ms, not %u",
			       KLBD_CHECK_INTERVAL_MIN, KLBD_CHECK_INTERVAL_MAX,
			       r.interval_ms);
	/* A probe still running when the next is due would pile up. */
	if (r.timeout_ms < KLBD_CHECK_TIMEOUT_MIN || r.timeout_ms > r.interval_ms)
		return klbd_why(why, why_len, -EINVAL,
			       "check timeout must be %u ms to the interval (%u ms), not %u",
			       KLBD_CHECK_TIMEOUT_MIN, r.interval_ms, r.timeout_ms);
	if (r.rise < 1 || r.rise > KLBD_CHECK_RISE_FALL_MAX ||
	    r.fall < 1 || r.fall > KLBD_CHECK_RISE_FALL_MAX)
		return klbd_why(why, why_len, -EINVAL,
			       "rise and fall must be 1 to %u, not %u and %u",
			       KLBD_CHECK_RISE_FALL_MAX, r.rise, r.fall);
	if (r.http_status < 100 || r.http_status > 599)
		return klbd_why(why, why_len, -EINVAL,
			       "an HTTP status is 100 to 599, not %u", r.http_status);
	*out = r;
	return 0;
}

/* The name travels with the type only (see klbd_proto.h). */
static size_t check_name_len(const struct klbd_check *c)
{
	if (!(c->fields & KLBD_CHECK_F_TYPE) || c->type != KLBD_CHECK_EXEC)
		return 0;
	return strnlen(c->exec_name, KLBD_CHECK_NAME_MAX);
}

/* A check block's bytes: the fixed part, the name, the via-vip word. */
static size_t check_bytes(const struct klbd_check *c)
{
	return CHECK_BYTES + check_name_len(c) +
	       (c->fields & KLBD_CHECK_F_VIA_VIP ? VIA_VIP_BYTES : 0);
}

/* The same, read from an encoded block's first CHECK_BYTES. */
static size_t check_bytes_at(const uint8_t *p)
{
	return CHECK_BYTES + p[7] +
	       (get_u32(p) & KLBD_CHECK_F_VIA_VIP ? VIA_VIP_BYTES : 0);
}

static size_t enc_len(const struct klbd_cmd *cmd)
{
	size_t len = cmd_len(cmd->op);

	if (cmd->op == KLBD_CMD_SERVICE_REPLACE) {
		len += (size_t)cmd->n_bes * KLBD_REPLACE_BE_BYTES;
		if (cmd->table)
			len += 2 * (size_t)cmd->conf.table_size;
		if (cmd->check.fields)
			len += check_bytes(&cmd->check);
		return len;
	}

	if ((cmd->op == KLBD_CMD_SERVICE_ADD || cmd->op == KLBD_CMD_SERVICE_SET) &&
	    cmd->check.fields)
		len += check_bytes(&cmd->check);
	return len;
}

static void put_check(uint8_t *p, const struct klbd_check *c)
{
	put_u32(p, c->fields);
	p[4] = c->type;
	p[5] = c->rise;
	p[6] = c->fall;
	p[7] = check_name_len(c);
	put_u16(p + 8, c->port);
	put_u16(p + 10, c->http_status);
	put_u32(p + 12, c->interval_ms);
	put_u32(p + 16, c->timeout_ms);
	memcpy(p + CHECK_BYTES, c->exec_name, p[7]);
	if (c->fields & KLBD_CHECK_F_VIA_VIP) {
		/* Every byte written: a caller's buffer may not be zeroed. */
		memset(p + CHECK_BYTES + p[7], 0, VIA_VIP_BYTES);
		p[CHECK_BYTES + p[7]] = c->via_vip;
	}
}

static int get_check(const uint8_t *p, struct klbd_check *c, char *why,
		     size_t why_len)
{
	c->fields = get_u32(p);
	c->type = p[4];
	c->rise = p[5];
	c->fall = p[6];
	c->port = get_u16(p + 8);
	c->http_status = get_u16(p + 10);
	c->interval_ms = get_u32(p + 12);
	c->timeout_ms = get_u32(p + 16);
	/* Present means something is set: one encoding per command. */
	if (!c->fields || c->fields & ~(uint32_t)KLBD_CHECK_F_ALL)
		return klbd_why(why, why_len, -EBADMSG, "check settings malformed");
	/* A name exactly when the type is set to exec, and a valid one. */
	if ((p[7] != 0) != ((c->fields & KLBD_CHECK_F_TYPE) &&
			    c->type == KLBD_CHECK_EXEC) ||
	    (p[7] && !klbd_check_name_valid((const char *)p + CHECK_BYTES, p[7])))
		return klbd_why(why, why_len, -EBADMSG, "check script name malformed");
	memcpy(c->exec_name, p + CHECK_BYTES, p[7]);
	if (c->fields & KLBD_CHECK_F_VIA_VIP) {
		p += CHECK_BYTES + p[7];
		if (p[0] > 1 || p[1] || p[2] || p[3])
			return klbd_why(why, why_len, -EBADMSG, "check via-vip malformed");
		c->via_vip = p[0];
	}
	return 0;
}

static void put_conf(uint8_t *p, const struct klb_service_conf *c)
{
	put_u32(p, c->fields);
	p[4] = c->sched;
	p[5] = c->fwd;
	put_u32(p + 8, c->table_size);
	put_u32(p + 12, c->bound);
	put_u32(p + 16, c->flags);
	memcpy(p + 20, c->seed, KLB_SEED_LEN);
}

static int get_conf(const uint8_t *p, struct klb_service_conf *c, char *why,
		    size_t why_len)
{
	c->fields = get_u32(p);
	c->sched = p[4];
	c->fwd = p[5];
	c->table_size = get_u32(p + 8);
	c->bound = get_u32(p + 12);
	c->flags = get_u32(p + 16);
	memcpy(c->seed, p + 20, KLB_SEED_LEN);
	if (get_u16(p + 6) || c->fields & ~(uint32_t)0x3f)
		return klbd_why(why, why_len, -EBADMSG, "service settings malformed");
	return 0;
}

size_t klbd_cmd_size(const struct klbd_cmd *cmd)
{
	if (!cmd_len(cmd->op))
		return 0;
	if (cmd->op == KLBD_CMD_SERVICE_REPLACE &&
	    (cmd->n_bes > KLBD_REPLACE_MAX_BACKENDS ||
	     (cmd->table && cmd->conf.table_size > KLBD_REPLACE_MAX_TABLE)))
		return 0;
	return enc_len(cmd);
}

static int be_id_cmp(const void *a, const void *b)
{
	const struct klb_backend *x = a, *y = b;

	return (int)x->id - (int)y->id;
}

int klbd_replace_build(struct klbd_cmd *cmd, const struct klb_service_key *key,
		       const struct klb_service_conf *conf,
		       const struct klb_backend *bes, size_t n,
		       const uint16_t *table, const struct klbd_check *check)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = KLBD_CMD_SERVICE_REPLACE;
	cmd->key = *key;
	cmd->conf = *conf;
	cmd->check = *check;
	cmd->bes = malloc((n ? n : 1) * sizeof(*cmd->bes));
	if (!cmd->bes)
		return -ENOMEM;
	if (n)
		memcpy(cmd->bes, bes, n * sizeof(*cmd->bes));
	cmd->n_bes = n;
	qsort(cmd->bes, n, sizeof(*cmd->bes), be_id_cmp);
	/* Read only: the encoder and the digest do not write it. */
	cmd->table = (uint16_t *)table;
	return 0;
}

void klbd_cmd_release(struct klbd_cmd *cmd)
{
	if (cmd->op != KLBD_CMD_SERVICE_REPLACE)
		return;
	free(cmd->bes);
	free(cmd->table);
	cmd->bes = NULL;
	cmd->table = NULL;
	cmd->n_bes = 0;
}

static int replace_encode(const struct klbd_cmd *cmd, uint8_t *p)
{
	uint32_t i;

	put_conf(p, &cmd->conf);
	p += CONF_BYTES;
	put_u32(p, !!cmd->check.fields);
	p += 4;
	if (cmd->check.fields) {
		put_check(p, &cmd->check);
		p += check_bytes(&cmd->check);
	}
	put_u32(p, cmd->n_bes);
	p += 4;
	for (i = 0; i < cmd->n_bes; i++, p += KLBD_REPLACE_BE_BYTES) {
		const struct klb_backend *be = &cmd->bes[i];

		put_u16(p, be->id);
		p[2] = be->state;
		put_ep(p + 4, &be->addr);
		put_u32(p + 4 + EP_BYTES, be->weight);
	}
	put_u32(p, !!cmd->table);
	p += 4;
	if (cmd->table)
		for (i = 0; i < cmd->conf.table_size; i++)
			put_u16(p + 2 * i, cmd->table[i]);
	return 0;
}

static int ep_order(const void *a, const void *b)
{
	const struct klb_backend *x = *(const struct klb_backend *const *)a;
	const struct klb_backend *y = *(const struct klb_backend *const *)b;
	int d = memcmp(x->addr.addr, y->addr.addr, sizeof(x->addr.addr));

	if (d)
		return d;
	return (int)x->addr.port - (int)y->addr.port;
}

/* Two backends with one address: found by sorting pointers to them. */
static int replace_addrs_unique(const struct klbd_cmd *cmd, char *why,
				size_t why_len)
{
	const struct klb_backend **v;
	uint32_t i;
	int err = 0;

	if (cmd->n_bes < 2)
		return 0;
	v = malloc(cmd->n_bes * sizeof(*v));
	if (!v)
		return klbd_why(why, why_len, -ENOMEM, "out of memory");
	for (i = 0; i < cmd->n_bes; i++)
		v[i] = &cmd->bes[i];
	qsort(v, cmd->n_bes, sizeof(*v), ep_order);
	for (i = 1; i < cmd->n_bes && !err; i++)
		if (!ep_order(&v[i - 1], &v[i]))
			err = klbd_why(why, why_len, -EINVAL,
				       "backend id %u and %u have one address",
				       v[i - 1]->id, v[i]->id);
	free(v);
	return err;
}

/*
 * The rest of a SERVICE_REPLACE after its key (len bytes at p), every
 * length checked against what is left before anything is allocated.
 */
static int replace_decode(const uint8_t *p, size_t len, struct klbd_cmd *cmd,
			  char *why, size_t why_len)
{
	const uint8_t *end = p + len;
	uint32_t has, i, n;
	uint8_t *seen;
	int err;

#define NEED(n_) do { \
		if ((size_t)(end - p) < (size_t)(n_)) \
			return klbd_why(why, why_len, -EBADMSG, \
					"service replace truncated"); \
	} while (0)
	NEED(CONF_BYTES + 4);
	err = get_conf(p, &cmd->conf, why, why_len);
	if (err)
		return err;
	if (cmd->conf.fields != 0x3f)
		return klbd_why(why, why_len, -EBADMSG,
				"service replace: settings not all given");
	p += CONF_BYTES;
	has = get_u32(p);
	p += 4;
	if (has > 1)
		return klbd_why(why, why_len, -EBADMSG, "service replace: has_check %u", has);
	if (has) {
		NEED(CHECK_BYTES);
		NEED(check_bytes_at(p));
		err = get_check(p, &cmd->check, why, why_len);
		if (err)
			return err;
		p += check_bytes_at(p);
	}
	NEED(4);
	n = get_u32(p);
	p += 4;
	if (n > KLBD_REPLACE_MAX_BACKENDS)
		return klbd_why(why, why_len, -EINVAL,
				"service replace: %u backends, more than %u", n,
				KLBD_REPLACE_MAX_BACKENDS);
	NEED((size_t)n * KLBD_REPLACE_BE_BYTES + 4);
	cmd->bes = calloc(n ? n : 1, sizeof(*cmd->bes));
	if (!cmd->bes)
		return klbd_why(why, why_len, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++, p += KLBD_REPLACE_BE_BYTES) {
		struct klb_backend *be = &cmd->bes[i];

		be->fields = KLB_BE_ID | KLB_BE_WEIGHT | KLB_BE_STATE;
		be->id = get_u16(p);
		be->state = p[2];
		be->weight = get_u32(p + 4 + EP_BYTES);
		cmd->n_bes = i + 1;
		if (p[3] || be->id > KLB_BACKEND_ID_MAX ||
		    (i && be->id <= cmd->bes[i - 1].id))
			return klbd_why(why, why_len, -EBADMSG,
					"service replace: backend %u malformed or out of order", i);
		err = get_ep(p + 4, &be->addr, "backend", why, why_len);
		if (err)
			return err;
		if (be->addr.family != cmd->key.vip.family)
			return klbd_why(why, why_len, -EINVAL,
					"backend id %u: address family is not the service's",
					be->id);
	}
	err = replace_addrs_unique(cmd, why, why_len);
	if (err)
		return err;
	has = get_u32(p);
	p += 4;
	if (has > 1)
		return klbd_why(why, why_len, -EBADMSG, "service replace: has_table %u", has);
	if (has) {
		if (cmd->conf.table_size > KLBD_REPLACE_MAX_TABLE)
			return klbd_why(why, why_len, -EINVAL,
					"service replace: a table of %u entries, more than %u",
					cmd->conf.table_size, KLBD_REPLACE_MAX_TABLE);
		NEED(2 * (size_t)cmd->conf.table_size);
		cmd->table = malloc(cmd->conf.table_size * sizeof(*cmd->table));
		seen = calloc(KLB_BACKEND_ID_MAX + 1, 1);
		if (!cmd->table || !seen) {
			free(seen);
			return klbd_why(why, why_len, -ENOMEM, "out of memory");
		}
		for (i = 0; i < n; i++)
			seen[cmd->bes[i].id] = 1;
		for (i = 0; i < cmd->conf.table_size && !err; i++) {
			uint16_t id = get_u16(p + 2 * i);

			cmd->table[i] = id;
			if (id > KLB_BACKEND_ID_MAX || !seen[id])
				err = klbd_why(why, why_len, -EINVAL,
					       "service replace: table slot %u names backend %u, which the service does not have",
					       i, id);
		}
		free(seen);
		if (err)
			return err;
		p += 2 * (size_t)cmd->conf.table_size;
	}
	if (p != end)
		return klbd_why(why, why_len, -EBADMSG, "service replace: %zu bytes too many",
				(size_t)(end - p));
#undef NEED
	return 0;
}

size_t klbd_check_encode(const struct klbd_check *c, uint8_t *buf)
{
	put_check(buf, c);
	return check_bytes(c);
}

int klbd_check_decode(const uint8_t *buf, size_t len, struct klbd_check *c,
		      size_t *used)
{
	memset(c, 0, sizeof(*c));
	if (len < CHECK_BYTES || len < check_bytes_at(buf))
		return -EBADMSG;
	*used = check_bytes_at(buf);
	return get_check(buf, c, NULL, 0);
}

uint64_t klbd_replace_digest(const struct klbd_cmd *cmd)
{
	/* Any fixed key: the digest only tells equal from different. */
	static const struct klb_hash_seed key = { 0x6b6c6264, 0x7265706c };
	struct klbd_cmd c = *cmd;
	size_t len, tlen;
	uint8_t *buf;
	uint64_t h;
	uint32_t i;

	/* The table as bytes after the rest, whatever its size. */
	c.check.fields = 0;
	c.table = NULL;
	len = klbd_cmd_size(&c);
	tlen = cmd->table ? 2 * (size_t)cmd->conf.table_size : 0;
	if (!len)
		return 0;
	buf = malloc(len + tlen);
	if (!buf)
		return 0;
	klbd_cmd_encode(&c, buf, len);
	for (i = 0; i < tlen / 2; i++)
		put_u16(buf + len + 2 * i, cmd->table[i]);
	h = klb_siphash(buf, len + tlen, &key);
	free(buf);
	return h ? h : 1;
}

void klbd_key_encode(const struct klb_service_key *key, uint8_t *buf)
{
	buf[0] = key->proto;
	buf[1] = 0;
	put_ep(buf + 2, &key->vip);
}

int klbd_key_decode(const uint8_t *buf, size_t len,
		    struct klb_service_key *key, char *why, size_t why_len)
{
	memset(key, 0, sizeof(*key));
	if (len != KEY_BYTES)
		return klbd_why(why, why_len, -EBADMSG, "a service key is %u bytes, not %zu",
			       KEY_BYTES, len);
	key->proto = buf[0];
	if ((buf[0] != IPPROTO_TCP && buf[0] != IPPROTO_UDP) || buf[1])
		return klbd_why(why, why_len, -EINVAL, "protocol %u is not tcp or udp",
			       buf[0]);
	return get_ep(buf + 2, &key->vip, "service", why, why_len);
}

int klbd_cmd_encode(const struct klbd_cmd *cmd, uint8_t *buf, size_t cap)
{
	size_t len = klbd_cmd_size(cmd);
	uint8_t *p = buf;

	if (!len || cap < len)
		return -EINVAL;
	memset(buf, 0, len);
	p[0] = KLBD_PROTO_VERSION;
	p[1] = cmd->op;
	p += 4;
	if (cmd->op == KLBD_CMD_FLUSH || cmd->op == KLBD_CMD_BOOTSTRAP_DONE)
		return len;
	p[0] = cmd->key.proto;
	put_ep(p + 2, &cmd->key.vip);
	p += KEY_BYTES;
	switch (cmd->op) {
	case KLBD_CMD_SERVICE_REPLACE:
		replace_encode(cmd, p);
		break;
	case KLBD_CMD_SERVICE_ADD:
	case KLBD_CMD_SERVICE_SET:
		put_conf(p, &cmd->conf);
		put_u32(p + CONF_BYTES, cmd->clear_flags);
		if (cmd->check.fields)
			put_check(p + CONF_BYTES + 4, &cmd->check);
		break;
	case KLBD_CMD_BACKEND_ADD:
	case KLBD_CMD_BACKEND_SET:
	case KLBD_CMD_BACKEND_DEL:
		put_u32(p, cmd->be.fields);
		put_u16(p + 4, cmd->be.id);
		put_ep(p + 8, &cmd->be.addr);
		put_u32(p + 8 + EP_BYTES, cmd->be.weight);
		p[12 + EP_BYTES] = cmd->be.state;
		if (cmd->op == KLBD_CMD_BACKEND_ADD)
			put_u16(p + 14 + EP_BYTES, cmd->ttl);
		break;
	case KLBD_CMD_LEASE_RENEW:
		put_ep(p, &cmd->be.addr);
		break;
	case KLBD_CMD_LEASE_END:
		put_ep(p, &cmd->be.addr);
		put_u64(p + EP_BYTES, cmd->lease);
		break;
	case KLBD_CMD_HEALTH:
		put_ep(p, &cmd->be.addr);
		put_u32(p + EP_BYTES, cmd->node);
		put_u32(p + EP_BYTES + 4, cmd->node >> 32);
		p[EP_BYTES + 8] = cmd->failing;
		break;
	}
	return len;
}

int klbd_cmd_decode(const uint8_t *buf, size_t len, struct klbd_cmd *cmd,
		    char *why, size_t why_len)
{
	const uint8_t *p = buf;
	size_t want;
	int err;

	memset(cmd, 0, sizeof(*cmd));
	if (len < 4)
		return klbd_why(why, why_len, -EBADMSG, "command truncated");
	if (p[0] != KLBD_PROTO_VERSION)
		return klbd_why(why, why_len, -EPROTO, "command version %u, not %u",
			       p[0], KLBD_PROTO_VERSION);
	want = cmd_len(p[1]);
	if (!want)
		return klbd_why(why, why_len, -EPROTO, "unknown command %u", p[1]);
	/* Its own lengths say how long a SERVICE_REPLACE is. */
	if (p[1] == KLBD_CMD_SERVICE_REPLACE && len >= 4 + KEY_BYTES)
		want = len;
	/* The check block's name length byte says how long the rest is. */
	if (want == SVC_CMD_BYTES && len >= want + CHECK_BYTES)
		want += check_bytes_at(buf + SVC_CMD_BYTES);
	if (len != want || get_u16(p + 2))
		return klbd_why(why, why_len, -EBADMSG, "%s: %zu bytes, not %zu",
			       klbd_cmd_name(p[1]), len, want);
	cmd->op = p[1];
	p += 4;
	if (cmd->op == KLBD_CMD_FLUSH || cmd->op == KLBD_CMD_BOOTSTRAP_DONE)
		return 0;
	cmd->key.proto = p[0];
	if ((p[0] != IPPROTO_TCP && p[0] != IPPROTO_UDP) || p[1])
		return klbd_why(why, why_len, -EINVAL, "protocol %u is not tcp or udp",
			       p[0]);
	err = get_ep(p + 2, &cmd->key.vip, "service", why, why_len);
	if (err)
		return err;
	p += KEY_BYTES;
	switch (cmd->op) {
	case KLBD_CMD_SERVICE_REPLACE:
		err = replace_decode(p, len - 4 - KEY_BYTES, cmd, why, why_len);
		if (err)
			klbd_cmd_release(cmd);
		return err;
	case KLBD_CMD_SERVICE_ADD:
	case KLBD_CMD_SERVICE_SET:
		err = get_conf(p, &cmd->conf, why, why_len);
		if (err)
			return err;
		cmd->clear_flags = get_u32(p + CONF_BYTES);
		if (len > SVC_CMD_BYTES)
			return get_check(p + CONF_BYTES + 4, &cmd->check, why,
					 why_len);
		break;
	case KLBD_CMD_BACKEND_ADD:
	case KLBD_CMD_BACKEND_SET:
	case KLBD_CMD_BACKEND_DEL:
		cmd->be.fields = get_u32(p);
		cmd->be.id = get_u16(p + 4);
		cmd->ttl = get_u16(p + 14 + EP_BYTES);
		/* A lease comes with an add only: one encoding per command. */
		if (get_u16(p + 6) || p[13 + EP_BYTES] ||
		    (cmd->ttl && cmd->op != KLBD_CMD_BACKEND_ADD) ||
		    cmd->be.fields & ~(uint32_t)0x7)
			return klbd_why(why, why_len, -EBADMSG, "backend malformed");
		err = get_ep(p + 8, &cmd->be.addr, "backend", why, why_len);
		if (err)
			return err;
		cmd->be.weight = get_u32(p + 8 + EP_BYTES);
		cmd->be.state = p[12 + EP_BYTES];
		if (cmd->ttl > KLBD_LEASE_TTL_MAX)
			return klbd_why(why, why_len, -EINVAL,
				       "a lease's ttl is %u to %u seconds, not %u",
				       KLBD_LEASE_TTL_MIN, KLBD_LEASE_TTL_MAX, cmd->ttl);
		break;
	case KLBD_CMD_LEASE_RENEW:
	case KLBD_CMD_LEASE_END:
		err = get_ep(p, &cmd->be.addr, "backend", why, why_len);
		if (err)
			return err;
		if (cmd->op == KLBD_CMD_LEASE_END)
			cmd->lease = get_u64(p + EP_BYTES);
		break;
	case KLBD_CMD_HEALTH:
		err = get_ep(p, &cmd->be.addr, "backend", why, why_len);
		if (err)
			return err;
		cmd->node = get_u32(p + EP_BYTES) |
			    (uint64_t)get_u32(p + EP_BYTES + 4) << 32;
		cmd->failing = p[EP_BYTES + 8];
		if (!cmd->node || p[EP_BYTES + 8] > 1 ||
		    !zero(p + EP_BYTES + 9, 3))
			return klbd_why(why, why_len, -EBADMSG, "health malformed");
		break;
	}
	return 0;
}

/* An address as text: printable, no spaces (it is a field of a line). */
static bool member_addr_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

static int member_check(const struct klbd_member_req *m, size_t alen, char *why,
			size_t why_len)
{
	if (m->op != KLBD_MEMBER_ADD && m->op != KLBD_MEMBER_REMOVE)
		return klbd_why(why, why_len, -EINVAL, "unknown membership change %u", m->op);
	if (!m->id)
		return klbd_why(why, why_len, -EINVAL, "member id 0");
	if (alen >= KLBD_MEMBER_ADDR_MAX)
		return klbd_why(why, why_len, -ENAMETOOLONG,
				"the address is longer than %d characters",
				KLBD_MEMBER_ADDR_MAX - 1);
	if (m->op == KLBD_MEMBER_ADD && !alen)
		return klbd_why(why, why_len, -EINVAL, "a new member needs an address");
	if (m->op == KLBD_MEMBER_REMOVE && alen)
		return klbd_why(why, why_len, -EINVAL, "a removal takes no address");
	if (!member_addr_ok(m->addr, alen))
		return klbd_why(why, why_len, -EINVAL,
				"the address must be IPV4:PORT or [IPV6]:PORT");
	return 0;
}

int klbd_member_encode(const struct klbd_member_req *m, uint8_t *buf, size_t cap)
{
	size_t alen = strnlen(m->addr, sizeof(m->addr));
	int err = member_check(m, alen, NULL, 0);

	if (err)
		return err;
	if (cap < KLBD_MEMBER_HEADER_BYTES + alen)
		return -EINVAL;
	buf[0] = m->op;
	buf[1] = alen;
	put_u16(buf + 2, 0);
	put_u64(buf + 4, m->id);
	memcpy(buf + KLBD_MEMBER_HEADER_BYTES, m->addr, alen);
	return KLBD_MEMBER_HEADER_BYTES + alen;
}

int klbd_member_decode(const uint8_t *buf, size_t len, struct klbd_member_req *m,
		       char *why, size_t why_len)
{
	size_t alen;

	memset(m, 0, sizeof(*m));
	if (len < KLBD_MEMBER_HEADER_BYTES)
		return klbd_why(why, why_len, -EBADMSG, "membership change truncated");
	alen = buf[1];
	if (get_u16(buf + 2) || len != KLBD_MEMBER_HEADER_BYTES + alen)
		return klbd_why(why, why_len, -EBADMSG, "membership change malformed");
	m->op = buf[0];
	m->id = get_u64(buf + 4);
	if (alen >= KLBD_MEMBER_ADDR_MAX)
		return klbd_why(why, why_len, -ENAMETOOLONG,
				"the address is longer than %d characters",
				KLBD_MEMBER_ADDR_MAX - 1);
	memcpy(m->addr, buf + KLBD_MEMBER_HEADER_BYTES, alen);
	return member_check(m, alen, why, why_len);
}

#define EV_HEADER_BYTES	4

const char *klbd_event_name(uint8_t type)
{
	static const char *const names[] = {
		[KLBD_EV_VERDICT] = "verdict",
		[KLBD_EV_HEALTH] = "health",
		[KLBD_EV_LEADER] = "leader",
		[KLBD_EV_MEMBER] = "member",
		[KLBD_EV_OVERFLOW] = "overflow",
	};

	if (type < 1 || type > KLBD_EV_TYPE_MAX)
		return "unknown";
	return names[type];
}

const char *klbd_role_name(uint8_t role)
{
	static const char *const names[] = {
		[KLBD_ROLE_FOLLOWER] = "follower",
		[KLBD_ROLE_CANDIDATE] = "candidate",
		[KLBD_ROLE_LEADER] = "leader",
	};

	return role <= KLBD_ROLE_MAX ? names[role] : "unknown";
}

static void put_ids(uint8_t *p, const uint64_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put_u64(p + 8 * i, ids[i]);
}

int klbd_event_encode(const struct klbd_event *ev, uint8_t *buf, size_t cap)
{
	size_t len = EV_HEADER_BYTES, rlen;

	if (cap < KLBD_EVENT_MAX_BYTES)
		return -EINVAL;
	memset(buf, 0, EV_HEADER_BYTES);
	buf[0] = ev->type;
	switch (ev->type) {
	case KLBD_EV_VERDICT:
		rlen = strnlen(ev->reason, KLBD_EVENT_REASON_MAX);
		buf[1] = ev->on;
		put_u16(buf + 2, rlen);
		klbd_key_encode(&ev->key, buf + len);
		put_ep(buf + len + KEY_BYTES, &ev->backend);
		len += KEY_BYTES + EP_BYTES;
		put_u64(buf + len, ev->node);
		memcpy(buf + len + 8, ev->reason, rlen);
		return len + 8 + rlen;
	case KLBD_EV_HEALTH:
		if (ev->n_ids > KLBD_EVENT_IDS_MAX)
			return -EINVAL;
		buf[1] = ev->on;
		put_u16(buf + 2, ev->n_ids);
		klbd_key_encode(&ev->key, buf + len);
		put_ep(buf + len + KEY_BYTES, &ev->backend);
		len += KEY_BYTES + EP_BYTES;
		put_u64(buf + len, ev->index);
		put_ids(buf + len + 8, ev->ids, ev->n_ids);
		return len + 8 + 8 * ev->n_ids;
	case KLBD_EV_LEADER:
		if (ev->role > KLBD_ROLE_MAX)
			return -EINVAL;
		buf[1] = ev->role;
		put_u64(buf + len, ev->term);
		put_u64(buf + len + 8, ev->leader);
		return len + 16;
	case KLBD_EV_MEMBER:
		if (ev->n_ids > KLBD_EVENT_IDS_MAX ||
		    ev->n_learners > KLBD_EVENT_IDS_MAX)
			return -EINVAL;
		buf[1] = ev->n_learners;
		put_u16(buf + 2, ev->n_ids);
		put_u64(buf + len, ev->index);
		put_ids(buf + len + 8, ev->ids, ev->n_ids);
		put_ids(buf + len + 8 + 8 * ev->n_ids, ev->learners, ev->n_learners);
		return len + 8 + 8 * (ev->n_ids + ev->n_learners);
	case KLBD_EV_OVERFLOW:
		return len;
	}
	return -EINVAL;
}

static void get_ids(const uint8_t *p, uint64_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ids[i] = get_u64(p + 8 * i);
}

static int ev_len(size_t len, size_t want, const char *what, char *why,
		  size_t why_len)
{
	if (len != want)
		return klbd_why(why, why_len, -EBADMSG,
				"a %s event is %zu bytes, not %zu", what, want, len);
	return 0;
}

/* The service key and the backend of a VERDICT or HEALTH record. */
static int get_key_ep(const uint8_t *p, struct klbd_event *ev, char *why,
		      size_t why_len)
{
	int err = klbd_key_decode(p, KEY_BYTES, &ev->key, why, why_len);

	return err ? err : get_ep(p + KEY_BYTES, &ev->backend, "backend", why,
				  why_len);
}

int klbd_event_decode(const uint8_t *buf, size_t len, struct klbd_event *ev,
		      char *why, size_t why_len)
{
	const uint8_t *p = buf + EV_HEADER_BYTES;
	const size_t fixed = EV_HEADER_BYTES + KEY_BYTES + EP_BYTES + 8;
	size_t count;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (len < EV_HEADER_BYTES)
		return klbd_why(why, why_len, -EBADMSG, "an event of %zu bytes", len);
	ev->type = buf[0];
	count = get_u16(buf + 2);
	switch (ev->type) {
	case KLBD_EV_VERDICT:
	case KLBD_EV_HEALTH:
		if (buf[1] > 1)
			return klbd_why(why, why_len, -EINVAL, "a %s of %u",
					klbd_event_name(ev->type), buf[1]);
		ev->on = buf[1];
		if (ev->type == KLBD_EV_VERDICT &&
		    count > KLBD_EVENT_REASON_MAX)
			return klbd_why(why, why_len, -EINVAL,
					"a reason of %zu bytes", count);
		if (ev->type == KLBD_EV_HEALTH && count > KLBD_EVENT_IDS_MAX)
			return klbd_why(why, why_len, -EINVAL,
					"%zu gateways failing", count);
		err = ev_len(len, fixed + (ev->type == KLBD_EV_VERDICT ?
					   count : 8 * count),
			     klbd_event_name(ev->type), why, why_len);
		if (!err)
			err = get_key_ep(p, ev, why, why_len);
		if (err)
			return err;
		p += KEY_BYTES + EP_BYTES;
		if (ev->type == KLBD_EV_HEALTH) {
			ev->index = get_u64(p);
			ev->n_ids = count;
			get_ids(p + 8, ev->ids, count);
			return 0;
		}
		ev->node = get_u64(p);
		if (memchr(p + 8, '\0', count))
			return klbd_why(why, why_len, -EINVAL, "a NUL in the reason");
		memcpy(ev->reason, p + 8, count);
		return 0;
	case KLBD_EV_LEADER:
		if (buf[1] > KLBD_ROLE_MAX || count)
			return klbd_why(why, why_len, -EINVAL, "role %u, count %zu",
					buf[1], count);
		err = ev_len(len, EV_HEADER_BYTES + 16, "leader", why, why_len);
		if (err)
			return err;
		ev->role = buf[1];
		ev->term = get_u64(p);
		ev->leader = get_u64(p + 8);
		return 0;
	case KLBD_EV_MEMBER:
		if (count > KLBD_EVENT_IDS_MAX || buf[1] > KLBD_EVENT_IDS_MAX)
			return klbd_why(why, why_len, -EINVAL,
					"%zu voters, %u learners", count, buf[1]);
		err = ev_len(len, EV_HEADER_BYTES + 8 + 8 * (count + buf[1]),
			     "member", why, why_len);
		if (err)
			return err;
		ev->index = get_u64(p);
		ev->n_ids = count;
		ev->n_learners = buf[1];
		get_ids(p + 8, ev->ids, count);
		get_ids(p + 8 + 8 * count, ev->learners, buf[1]);
		return 0;
	case KLBD_EV_OVERFLOW:
		if (buf[1] || count)
			return klbd_why(why, why_len, -EBADMSG,
					"bytes after an overflow event");
		return ev_len(len, EV_HEADER_BYTES, "overflow", why, why_len);
	}
	return klbd_why(why, why_len, -EINVAL, "unknown event type %u", buf[0]);
}
