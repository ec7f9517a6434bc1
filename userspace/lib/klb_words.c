// SPDX-License-Identifier: GPL-2.0
/*
 * The words of klbctl's commands and of its save format (klbctl(8)):
 * protocols, addresses, numbers, names, and a service's and a health
 * check's settings. Shared by klbctl and klbd (which reads save files
 * as bootstrap services): one reading of each word.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/klb_words.h"

static const char *const sched_names[] = {
	[KLB_SCHED_MAGLEV] = "maglev",
	[KLB_SCHED_MAGLEV_BOUNDED] = "maglev-bounded",
	[KLB_SCHED_WLC] = "wlc",
	[KLB_SCHED_WRR] = "wrr",
	[KLB_SCHED_RR] = "rr",
};

static const char *const fwd_names[] = {
	[KLB_FWD_NAT] = "nat",
	[KLB_FWD_TUNNEL] = "tunnel",
};

static const char *const state_names[] = {
	[KLB_BACKEND_UP] = "up",
	[KLB_BACKEND_DRAIN] = "drain",
	[KLB_BACKEND_DOWN] = "down",
};

bool matches(const char *arg, const char *keyword)
{
	return !strcmp(arg, keyword);
}

static int parse_name(const char *s, const char *const *names, size_t n,
		      uint8_t *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*v = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

int parse_sched(const char *s, uint8_t *sched)
{
	return parse_name(s, sched_names, KLB_SCHED_MAX + 1, sched);
}

int parse_fwd(const char *s, uint8_t *fwd)
{
	return parse_name(s, fwd_names, KLB_FWD_MAX + 1, fwd);
}

int parse_state(const char *s, uint8_t *state)
{
	return parse_name(s, state_names, KLB_BACKEND_STATE_MAX + 1, state);
}

const char *sched_name(uint8_t sched)
{
	return sched <= KLB_SCHED_MAX ? sched_names[sched] : "unknown";
}

const char *fwd_name(uint8_t fwd)
{
	return fwd <= KLB_FWD_MAX ? fwd_names[fwd] : "unknown";
}

const char *state_name(uint8_t state)
{
	return state <= KLB_BACKEND_STATE_MAX ? state_names[state] : "unknown";
}

const char *proto_name(uint8_t proto)
{
	return klb_proto_name(proto);
}

int parse_proto(const char *s, uint8_t *proto)
{
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return -1;
	return 0;
}

/* By hand: restore reads hundreds of thousands of these. */
int parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

int parse_u32(const char *s, uint32_t *v)
{
	uint64_t v64;

	if (parse_u64(s, &v64) || v64 > UINT32_MAX)
		return -1;
	*v = (uint32_t)v64;
	return 0;
}

/* "A.B.C.D:PORT" or "[IPV6]:PORT", port 1..65535. */
int parse_endpoint(const char *s, struct klb_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	uint32_t p;
	size_t len;

	memset(ep, 0, sizeof(*ep));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		len = (size_t)(close - s - 1);
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, ep->addr) != 1)
			return -1;
		ep->family = AF_INET6;
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		len = (size_t)(colon - s);
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, ep->addr) != 1)
			return -1;
		ep->family = AF_INET;
		port = colon + 1;
	}
	if (parse_u32(port, &p) || p < 1 || p > 65535)
		return -1;
	ep->port = (uint16_t)p;
	return 0;
}

int parse_service_key(const char *proto, const char *vip,
		      struct klb_service_key *key)
{
	memset(key, 0, sizeof(*key));
	if (parse_proto(proto, &key->proto))
		return -1;
	return parse_endpoint(vip, &key->vip);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_hex(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void fmt_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* affinity src|none, down-policy drop|resteer: one flag each. */
static int parse_flag(const char *val, const char *on, const char *off,
		      uint32_t flag, struct klb_service_conf *conf,
		      uint32_t *clear_flags)
{
	if (matches(val, on)) {
		conf->flags |= flag;
		*clear_flags &= ~flag;
	} else if (matches(val, off)) {
		conf->flags &= ~flag;
		*clear_flags |= flag;
	} else {
		return -1;
	}
	conf->fields |= KLB_SVC_FLAGS;
	return 0;
}

int parse_service_option(const char *kw, const char *val,
			 struct klb_service_conf *conf, uint32_t *clear_flags,
			 char *why, size_t why_len)
{
	/* What is wrong with val: the words before and after it. */
	const char *pre = NULL, *post = "";

	if (!matches(kw, "sched") && !matches(kw, "fwd") &&
	    !matches(kw, "table-size") && !matches(kw, "bound") &&
	    !matches(kw, "affinity") && !matches(kw, "down-policy") &&
	    !matches(kw, "seed")) {
		snprintf(why, why_len, "unknown keyword '%s'", kw);
		return -1;
	}
	if (!val) {
		snprintf(why, why_len, "'%s' needs a value", kw);
		return -1;
	}
	if (matches(kw, "sched")) {
		if (parse_sched(val, &conf->sched))
			pre = "unknown scheduler ";
		conf->fields |= KLB_SVC_SCHED;
	} else if (matches(kw, "fwd")) {
		if (parse_fwd(val, &conf->fwd))
			pre = "unknown forwarding method ";
		conf->fields |= KLB_SVC_FWD;
	} else if (matches(kw, "table-size")) {
		if (parse_u32(val, &conf->table_size)) {
			pre = "table-size ";
			post = " is not a number";
		}
		conf->fields |= KLB_SVC_TABLE_SIZE;
	} else if (matches(kw, "bound")) {
		if (parse_u32(val, &conf->bound)) {
			pre = "bound ";
			post = " is not a number";
		}
		conf->fields |= KLB_SVC_BOUND;
	} else if (matches(kw, "seed")) {
		if (parse_hex(val, conf->seed, KLB_SEED_LEN)) {
			pre = "seed ";
			post = " is not 32 hex digits";
		}
		conf->fields |= KLB_SVC_SEED;
	} else if (matches(kw, "affinity")) {
		if (parse_flag(val, "src", "none", KLB_SVC_F_AFFINITY_SRC,
			       conf, clear_flags))
			pre = "affinity is 'src' or 'none', not ";
	} else if (parse_flag(val, "drop", "resteer", KLB_SVC_F_DOWN_DROP,
			      conf, clear_flags)) {
		pre = "down-policy is 'resteer' or 'drop', not ";
	}
	if (!pre)
		return 0;
	snprintf(why, why_len, "%s'%s'%s", pre, val, post);
	return -1;
}

/* check tcp|http[:STATUS]|https[:STATUS]|dns|exec:NAME|none */
static int parse_check_type(const char *val, struct klbd_check *check)
{
	const char *colon = strchr(val, ':');
	size_t head = colon ? (size_t)(colon - val) : strlen(val);
	uint32_t status;

	memset(check->exec_name, 0, sizeof(check->exec_name));
	if (matches(val, "none") || matches(val, "tcp") || matches(val, "dns")) {
		check->type = matches(val, "tcp") ? KLBD_CHECK_TCP :
			      matches(val, "dns") ? KLBD_CHECK_DNS : KLBD_CHECK_NONE;
	} else if ((head == 4 && !strncmp(val, "http", 4)) ||
		   (head == 5 && !strncmp(val, "https", 5))) {
		/* Plain http means 200, whatever the status was before. */
		check->type = head == 4 ? KLBD_CHECK_HTTP : KLBD_CHECK_HTTPS;
		status = KLBD_CHECK_STATUS_DEFAULT;
		if (colon && (parse_u32(colon + 1, &status) || status > UINT16_MAX))
			return -1;
		check->http_status = status;
		check->fields |= KLBD_CHECK_F_STATUS;
	} else if (colon && head == 4 && !strncmp(val, "exec", 4)) {
		/* Only the name: each gateway runs its own script of that name. */
		if (!klbd_check_name_valid(colon + 1, strlen(colon + 1)))
			return -1;
		check->type = KLBD_CHECK_EXEC;
		strcpy(check->exec_name, colon + 1);
	} else {
		return -1;
	}
	check->fields |= KLBD_CHECK_F_TYPE;
	return 0;
}

static int parse_small(const char *val, uint32_t max, uint32_t *v)
{
	return parse_u32(val, v) || *v > max ? -1 : 0;
}

int parse_check_option(const char *kw, const char *val,
		       struct klbd_check *check, char *why, size_t why_len)
{
	uint32_t v = 0;

	if (!matches(kw, "check") && !matches(kw, "check-port") &&
	    !matches(kw, "interval") && !matches(kw, "timeout") &&
	    !matches(kw, "rise") && !matches(kw, "fall"))
		return 1;
	if (!val) {
		snprintf(why, why_len, "'%s' needs a value", kw);
		return -1;
	}
	if (matches(kw, "check")) {
		if (!parse_check_type(val, check))
			return 0;
		snprintf(why, why_len,
			 "check is 'tcp', 'http[:STATUS]', 'https[:STATUS]', 'dns', 'exec:NAME' (NAME: 1 to %u of A-Z a-z 0-9 _ -) or 'none', not '%s'",
			 KLBD_CHECK_NAME_MAX, val);
		return -1;
	}
	/* Bounds beyond the field's width are klbd's to check. */
	if (parse_small(val, matches(kw, "rise") || matches(kw, "fall") ? UINT8_MAX :
			matches(kw, "check-port") ? UINT16_MAX : UINT32_MAX, &v)) {
		snprintf(why, why_len, "%s '%s' is not a number in range", kw, val);
		return -1;
	}
	if (matches(kw, "check-port")) {
		check->port = v;
		check->fields |= KLBD_CHECK_F_PORT;
	} else if (matches(kw, "interval")) {
		check->interval_ms = v;
		check->fields |= KLBD_CHECK_F_INTERVAL;
	} else if (matches(kw, "timeout")) {
		check->timeout_ms = v;
		check->fields |= KLBD_CHECK_F_TIMEOUT;
	} else if (matches(kw, "rise")) {
		check->rise = v;
		check->fields |= KLBD_CHECK_F_RISE;
	} else {
		check->fall = v;
		check->fields |= KLBD_CHECK_F_FALL;
	}
	return 0;
}
