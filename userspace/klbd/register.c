// SPDX-License-Identifier: GPL-2.0
/*
 * Backends' own registrations over HTTP (register.h). A request becomes
 * a command, submitted as klbctl's are (node_submit, answered through
 * control_reply, which hands ours to reg_reply): a PUT first renews, and
 * registers (BACKEND_ADD with a ttl) when there is no lease to renew; a
 * DELETE ends the backend's lease (LEASE_END, any lease: an operator's
 * backend stays). The token is compared by its SHA-256, in constant time:
 * neither its bytes nor its length show in the timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/http.h"
#include "klbd/http_server.h"
#include "klbd/klbd.h"

/* A connection's own: the command its request became. */
struct reg_req {
	struct klbd_cmd cmd;	/* PUT: the registration, if renewing fails */
};

static struct klbd_cmd *conn_cmd(struct http_conn *c)
{
	return &((struct reg_req *)http_conn_priv(c))->cmd;
}

static struct klbd *conn_klbd(struct http_conn *c)
{
	return http_conn_server(c)->d;
}

static void client_answer(struct http_conn *c, int code, const char *body)
{
	const char *extra = "";

	if (code == 401)
		extra = "WWW-Authenticate: Bearer\r\n";
	else if (code == 405)
		extra = "Allow: PUT, DELETE\r\n";
	else if (code == 503)
		extra = "Retry-After: 1\r\n";
	http_answer_text(c, code, extra, body);
}

/* A command's errno as an HTTP status. */
static int http_code(int status)
{
	switch (status) {
	case 0:
		return 200;
	case -EINVAL:
	case -EBADMSG:
		return 400;
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -ESTALE:
	case -EPERM:		/* an operator's backend, without a lease */
		return 409;
	case -EAGAIN:
	case -EBUSY:
	case -ETIMEDOUT:
	case -ECANCELED:
		return 503;
	}
	return 500;
}

static void submit(struct http_conn *c)
{
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n = klbd_cmd_encode(conn_cmd(c), buf, sizeof(buf));

	if (n <= 0) {
		client_answer(c, 500, "cannot encode the command");
		return;
	}
	/* The answer may come at once, through reg_reply. */
	node_submit(conn_klbd(c), http_conn_id(c), buf, n);
}

void reg_reply(struct klbd *d, uint64_t id, int status, const char *msg)
{
	struct http_conn *c = http_server_waiting(&d->reg.srv, id);
	struct klbd_cmd *cmd;
	const char *done;

	if (!c)
		return;
	cmd = conn_cmd(c);
	/* No lease to renew (none, or it just expired): register. */
	if (cmd->op == KLBD_CMD_LEASE_RENEW && status == -ENOENT) {
		cmd->op = KLBD_CMD_BACKEND_ADD;
		submit(c);
		return;
	}
	switch (cmd->op) {
	case KLBD_CMD_LEASE_RENEW:
		done = "renewed";
		break;
	case KLBD_CMD_BACKEND_ADD:
		done = "registered";
		break;
	default:
		done = "deregistered";
		break;
	}
	client_answer(c, http_code(status), status ? (msg && msg[0] ? msg :
						       strerror(-status)) : done);
}

/* "ADDR:PORT" (len bytes) as an endpoint. */
static int parse_ep(const char *s, size_t len, struct klb_endpoint *ep)
{
	struct klbd_addr a;
	char buf[RAFT_ADDR_MAX];

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (klbd_parse_addr(buf, &a))
		return -1;
	memset(ep, 0, sizeof(*ep));
	ep->family = a.sa.ss_family;
	if (ep->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a.sa;

		memcpy(ep->addr, &in->sin_addr, 4);
		ep->port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a.sa;

		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->port = ntohs(in6->sin6_port);
	}
	return ep->port ? 0 : -1;
}

/* /v1/services/PROTO/VIP:PORT/backends/ADDR:PORT into key and addr. */
static int parse_path(const struct http_req *r, struct klbd_cmd *cmd)
{
	static const char pre[] = "/v1/services/", mid[] = "/backends/";
	const char *p = r->path, *end = r->path + r->path_len, *m;
	size_t i;

	if (r->path_len < sizeof(pre) + 4 || memcmp(p, pre, sizeof(pre) - 1))
		return -1;
	p += sizeof(pre) - 1;
	if (!memcmp(p, "tcp/", 4))
		cmd->key.proto = IPPROTO_TCP;
	else if (!memcmp(p, "udp/", 4))
		cmd->key.proto = IPPROTO_UDP;
	else
		return -1;
	p += 4;
	for (m = NULL, i = 0; p + i + sizeof(mid) - 1 <= end; i++)
		if (!memcmp(p + i, mid, sizeof(mid) - 1)) {
			m = p + i;
			break;
		}
	if (!m || parse_ep(p, m - p, &cmd->key.vip))
		return -1;
	p = m + sizeof(mid) - 1;
	return parse_ep(p, end - p, &cmd->be.addr);
}

/* A decimal number from lo to hi, all of s. */
static int parse_num(const char *s, size_t len, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* PUT's query: ttl (required), weight; nothing else. */
static const char *parse_query(const struct http_req *r, struct klbd_cmd *cmd)
{
	const char *v, *p = r->query, *end = r->query + r->query_len, *amp;
	size_t vlen;
	uint32_t n;

	for (; p < end; p = amp + 1) {
		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		if ((amp - p < 4 || memcmp(p, "ttl=", 4)) &&
		    (amp - p < 7 || memcmp(p, "weight=", 7)))
			return "unknown parameter: ttl=S and weight=W only";
	}
	v = http_query(r, "ttl", &vlen);
	if (!v || parse_num(v, vlen, KLBD_LEASE_TTL_MIN, KLBD_LEASE_TTL_MAX, &n))
		return "ttl must be 1 to 3600 seconds";
	cmd->ttl = n;
	v = http_query(r, "weight", &vlen);
	if (v) {
		if (parse_num(v, vlen, 0, KLB_WEIGHT_MAX, &n))
			return "weight out of range";
		cmd->be.fields |= KLB_BE_WEIGHT;
		cmd->be.weight = n;
	}
	return NULL;
}

static bool authorized(struct reg *g, const char *req, size_t len)
{
	uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	const char *v;
	size_t vlen;

	v = http_header(req, len, "Authorization", &vlen);
	if (!v || vlen < 7 || strncasecmp(v, "Bearer ", 7))
		return false;
	v += 7;
	vlen -= 7;
	SHA256((const uint8_t *)g->token, g->token_len, want);
	SHA256((const uint8_t *)v, vlen, got);
	return !CRYPTO_memcmp(want, got, sizeof(want));
}

/* The request is complete: check it, then submit its command. */
static void client_request(struct http_conn *c, const char *req, size_t len)
{
	struct reg *g = &conn_klbd(c)->reg;
	struct klbd_cmd *cmd = conn_cmd(c);
	struct http_req r;
	const char *why;

	if (http_request_line(req, len, &r)) {
		g->bad_requests++;
		client_answer(c, 400, "bad request");
		return;
	}
	if (!authorized(g, req, len)) {
		g->unauthorized++;
		client_answer(c, 401, "a valid 'Authorization: Bearer TOKEN' is needed");
		return;
	}
	if (parse_path(&r, cmd)) {
		g->bad_requests++;
		client_answer(c, 404,
			      "not found: /v1/services/tcp|udp/VIP:PORT/backends/ADDR:PORT");
		return;
	}
	if (r.method_len == 3 && !memcmp(r.method, "PUT", 3)) {
		why = parse_query(&r, cmd);
		if (why) {
			g->bad_requests++;
			client_answer(c, 400, why);
			return;
		}
		cmd->op = KLBD_CMD_LEASE_RENEW;
	} else if (r.method_len == 6 && !memcmp(r.method, "DELETE", 6)) {
		if (r.query_len) {
			g->bad_requests++;
			client_answer(c, 400, "a deregistration takes no parameters");
			return;
		}
		cmd->op = KLBD_CMD_LEASE_END;
	} else {
		g->bad_requests++;
		client_answer(c, 405, "method not allowed: PUT or DELETE");
		return;
	}
	submit(c);
}

/* A connection closed: its command's answer, if still to come, is not wanted. */
static void client_closed(struct http_conn *c)
{
	node_client_gone(conn_klbd(c), http_conn_id(c));
}

static const struct http_server_ops reg_ops = {
	.request = client_request,
	.closed = client_closed,
};

int reg_start(struct klbd *d, char *err, size_t err_len)
{
	struct reg *g = &d->reg;

	g->srv = (struct http_server){
		.d = d, .ops = &reg_ops, .fd = -1,
		.conns_max = REG_CLIENTS_MAX,
		.request_max = REG_REQUEST_MAX,
		.priv_size = sizeof(struct reg_req),
		.timeout_ms = REG_TIMEOUT_MS,
	};
	if (!d->cfg.reg[0])
		return 0;
	if (klbd_config_load_token(&d->cfg, g->token, &g->token_len, err, err_len))
		return -1;
	if (http_server_start(&g->srv, &d->cfg.reg_sa, "register", d->cfg.reg,
			      err, err_len))
		return -1;
	klbd_log(LOG_INFO, "registrations on http://%s/v1/services/", d->cfg.reg);
	return 0;
}
