// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl save | restore | flush.
 *
 * save prints everything that decides where a flow goes, restore reads it
 * back (see klbctl(8), SAVE FORMAT):
 *
 *   service PROTO VIP:PORT sched S fwd F table-size M bound C
 *           affinity src|none down-policy resteer|drop seed HEX32
 *   backend ADDR:PORT id N weight W state up|drain|down
 *   table BASE64
 *
 * one line each; backend and table lines belong to the service line above
 * them. The table is the M backend ids, one byte each when every id is
 * below 256 and 16-bit little-endian otherwise, base64-encoded (RFC 4648):
 * exact, and quick to read back.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <klb/maglev.h>

#include "klbctl/klbctl.h"

#define SAVE_HEADER "# klbctl save 1"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

/* Decodes exactly len bytes from s; -1 if s is not that. */
static int b64_decode(const char *s, uint8_t *out, size_t len)
{
	static int8_t value[256];
	size_t slen = strlen(s), i, o = 0;
	int c;

	if (!value['B']) {
		memset(value, -1, sizeof(value));
		for (c = 0; c < 64; c++)
			value[(uint8_t)b64_alphabet[c]] = (int8_t)c;
	}
	if (slen != (len + 2) / 3 * 4)
		return -1;
	for (i = 0; i < slen; i += 4) {
		int a = value[(uint8_t)s[i]], b = value[(uint8_t)s[i + 1]];
		int d2 = s[i + 2] == '=' ? 0 : value[(uint8_t)s[i + 2]];
		int d3 = s[i + 3] == '=' ? 0 : value[(uint8_t)s[i + 3]];
		uint32_t v;

		if ((a | b | d2 | d3) < 0)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d2 << 6 | (uint32_t)d3;
		if (o < len)
			out[o++] = (uint8_t)(v >> 16);
		if (o < len)
			out[o++] = (uint8_t)(v >> 8);
		else if (s[i + 2] != '=')
			return -1;
		if (o < len)
			out[o++] = (uint8_t)v;
		else if (s[i + 3] != '=')
			return -1;
	}
	return 0;
}

/* ---- save ------------------------------------------------------------------ */

static void save_service(const struct klb_service *svc,
			 const struct klb_backend *bes, size_t n,
			 const struct klb_table *table, char *b64, uint8_t *raw)
{
	char vip[ENDPOINT_STRLEN], addr[ENDPOINT_STRLEN];
	char seed[2 * KLB_SEED_LEN + 1];
	const struct klb_service_conf *conf = &svc->conf;
	size_t i;

	fmt_hex(conf->seed, KLB_SEED_LEN, seed);
	printf("service %s %s sched %s fwd %s table-size %u bound %u affinity %s down-policy %s seed %s\n",
	       proto_name(svc->key.proto), fmt_endpoint(&svc->key.vip, vip),
	       sched_name(conf->sched), fwd_name(conf->fwd), conf->table_size,
	       conf->bound, conf->flags & KLB_SVC_F_AFFINITY_SRC ? "src" : "none",
	       conf->flags & KLB_SVC_F_DOWN_DROP ? "drop" : "resteer", seed);
	for (i = 0; i < n; i++)
		printf("backend %s id %u weight %u state %s\n",
		       fmt_endpoint(&bes[i].addr, addr), bes[i].id, bes[i].weight,
		       state_name(bes[i].state));
	if (table->ids) {
		uint16_t max = 0;

		for (i = 0; i < table->size; i++)
			if (table->ids[i] > max)
				max = table->ids[i];
		/* One byte per slot when every id fits: half the text to read. */
		if (max <= UINT8_MAX) {
			for (i = 0; i < table->size; i++)
				raw[i] = (uint8_t)table->ids[i];
			b64_encode(raw, table->size, b64);
		} else {
			for (i = 0; i < table->size; i++) {
				raw[2 * i] = (uint8_t)table->ids[i];
				raw[2 * i + 1] = (uint8_t)(table->ids[i] >> 8);
			}
			b64_encode(raw, 2 * (size_t)table->size, b64);
		}
		printf("table %s\n", b64);
	}
}

struct snapshot {
	struct klb_service *svcs;
	size_t n;
	struct klb_backend **bes;
	size_t *nr_bes;
	struct klb_table *tables;
};

static void snapshot_free(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->bes)
			free(s->bes[i]);
		if (s->tables)
			free(s->tables[i].ids);
	}
	free(s->bes);
	free(s->nr_bes);
	free(s->tables);
	free(s->svcs);
	memset(s, 0, sizeof(*s));
}

/*
 * Reads every service, its backends and its table. *consistent: the
 * generation did not move meanwhile, so it is one picture of the config.
 */
static int snapshot_read(struct klb_client *c, struct snapshot *s,
			 bool *consistent, char *what, klb_error *e)
{
	uint64_t gen, gen_after;
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	err = klb_service_list(c, &s->svcs, &s->n, &gen, e);
	if (err)
		return err;
	s->bes = calloc(s->n + 1, sizeof(*s->bes));
	s->nr_bes = calloc(s->n + 1, sizeof(*s->nr_bes));
	s->tables = calloc(s->n + 1, sizeof(*s->tables));
	if (!s->bes || !s->nr_bes || !s->tables)
		return nl_error_set(e, ENOMEM, "out of memory");
	for (i = 0; i < s->n; i++) {
		snprintf(what, SERVICE_STRLEN + 8, "service ");
		fmt_service(&s->svcs[i].key, what + 8);
		if (!(s->svcs[i].conf.fields & KLB_SVC_SEED))
			return nl_error_set(e, EPERM,
					    "reading the hash seed needs CAP_NET_ADMIN: save as root");
		err = klb_backend_list(c, &s->svcs[i].key, &s->bes[i],
				       &s->nr_bes[i], NULL, e);
		if (!err && s->svcs[i].table_loaded)
			err = klb_table_get(c, &s->svcs[i].key, &s->tables[i], e);
		if (err)
			return err;
	}
	snprintf(what, SERVICE_STRLEN + 8, "save");
	err = klb_generation_get(c, &gen_after, e);
	*consistent = !err && gen_after == gen;
	return err;
}

int cmd_save(struct ctx *ctx, int argc, char **argv)
{
	char what[SERVICE_STRLEN + 8] = "save";
	struct snapshot snap;
	struct klb_client *c;
	bool consistent = false;
	uint8_t *raw = NULL;
	char *b64 = NULL;
	klb_error e;
	size_t i;
	int ret, err, tries;

	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	raw = malloc(2 * (size_t)KLB_TABLE_SIZE_LIMIT);
	b64 = malloc((2 * (size_t)KLB_TABLE_SIZE_LIMIT + 2) / 3 * 4 + 1);
	if (!raw || !b64) {
		ret = report_msg(what, "out of memory");
		goto out;
	}
	/* Print only a consistent picture; read again while writers move it. */
	for (tries = 0;; tries++) {
		err = snapshot_read(c, &snap, &consistent, what, &e);
		if (!err && consistent) {
			puts(SAVE_HEADER);
			for (i = 0; i < snap.n; i++)
				save_service(&snap.svcs[i], snap.bes[i], snap.nr_bes[i],
					     &snap.tables[i], b64, raw);
			ret = EXIT_OK;
		} else if (err && err != -ENOENT && err != -ESTALE) {
			ret = report_error(what, &e);
		} else if (tries == KLBCTL_CAS_RETRIES) {
			ret = report_msg("save", "the configuration kept changing; gave up after %d attempts",
					 KLBCTL_CAS_RETRIES);
		} else {
			snapshot_free(&snap);
			continue;
		}
		snapshot_free(&snap);
		break;
	}
out:
	free(raw);
	free(b64);
	return ret;
}

/* ---- restore --------------------------------------------------------------- */

struct parser {
	struct restore_service *svcs;
	size_t n, cap;
	unsigned int line;
	size_t cap_bes;			/* of the last service */
	bool table_given;		/* of the last service */
};

static int parse_fail(const struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_fail(const struct parser *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "klbctl: restore: line %u: ", p->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (nothing was changed)\n", stderr);
	return EXIT_FAIL;
}

static int parse_service_line(struct parser *p, char **tok, int nt)
{
	struct restore_service *svc;
	size_t i;
	int ret;

	if (nt < 3)
		return parse_fail(p, "'service' needs PROTO VIP:PORT");
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct restore_service *svcs = realloc(p->svcs, cap * sizeof(*svcs));

		if (!svcs)
			return parse_fail(p, "out of memory");
		p->svcs = svcs;
		p->cap = cap;
	}
	svc = &p->svcs[p->n];
	memset(svc, 0, sizeof(*svc));
	svc->line = p->line;
	if (parse_proto(tok[1], &svc->key.proto))
		return parse_fail(p, "protocol must be tcp or udp, not '%s'", tok[1]);
	if (parse_endpoint(tok[2], &svc->key.vip))
		return parse_fail(p, "bad address '%s'", tok[2]);
	for (i = 0; i < p->n; i++)
		if (klb_service_key_equal(&p->svcs[i].key, &svc->key))
			return parse_fail(p, "service %s %s already given on line %u",
					  tok[1], tok[2], p->svcs[i].line);
	for (i = 3; i < (size_t)nt; i += 2) {
		const char *kw = tok[i], *val = i + 1 < (size_t)nt ? tok[i + 1] : NULL;

		ret = -1;
		if (!val)
			return parse_fail(p, "'%s' needs a value", kw);
		if (matches(kw, "sched"))
			ret = parse_sched(val, &svc->conf.sched);
		else if (matches(kw, "fwd"))
			ret = parse_fwd(val, &svc->conf.fwd);
		else if (matches(kw, "table-size"))
			ret = parse_u32(val, &svc->conf.table_size);
		else if (matches(kw, "bound"))
			ret = parse_u32(val, &svc->conf.bound);
		else if (matches(kw, "seed"))
			ret = parse_hex(val, svc->conf.seed, KLB_SEED_LEN);
		else if (matches(kw, "affinity") || matches(kw, "down-policy")) {
			uint32_t flag = matches(kw, "affinity") ? KLB_SVC_F_AFFINITY_SRC :
							       KLB_SVC_F_DOWN_DROP;
			const char *on = flag == KLB_SVC_F_AFFINITY_SRC ? "src" : "drop";
			const char *off = flag == KLB_SVC_F_AFFINITY_SRC ? "none" : "resteer";

			if (matches(val, on)) {
				svc->conf.flags |= flag;
				ret = 0;
			} else if (matches(val, off)) {
				ret = 0;
			}
		} else {
			return parse_fail(p, "unknown keyword '%s'", kw);
		}
		if (ret)
			return parse_fail(p, "bad %s '%s'", kw, val);
		if (matches(kw, "sched"))
			svc->conf.fields |= KLB_SVC_SCHED;
		else if (matches(kw, "table-size"))
			svc->conf.fields |= KLB_SVC_TABLE_SIZE;
		else if (matches(kw, "bound"))
			svc->conf.fields |= KLB_SVC_BOUND;
		else if (matches(kw, "seed"))
			svc->conf.fields |= KLB_SVC_SEED;
	}
	if (!(svc->conf.fields & KLB_SVC_TABLE_SIZE))
		svc->conf.table_size = KLB_TABLE_SIZE_DEFAULT;
	if (!klb_maglev_size_valid(svc->conf.table_size))
		return parse_fail(p, "table size %u is not a prime in %u..%u",
				  svc->conf.table_size, KLB_TABLE_SIZE_MIN,
				  KLB_TABLE_SIZE_LIMIT);
	if (!(svc->conf.fields & KLB_SVC_BOUND))
		svc->conf.bound = KLB_BOUND_DEFAULT;
	if (svc->conf.bound < 100 || svc->conf.bound > 1000)
		return parse_fail(p, "bound %u out of range (100..1000)", svc->conf.bound);
	/* A service without a seed gets a fresh one, as 'service add' does. */
	if (!(svc->conf.fields & KLB_SVC_SEED) &&
	    getrandom(svc->conf.seed, KLB_SEED_LEN, 0) != KLB_SEED_LEN)
		return parse_fail(p, "getrandom: %s", strerror(errno));
	svc->conf.fields = KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE |
			   KLB_SVC_BOUND | KLB_SVC_SEED | KLB_SVC_FLAGS;
	p->n++;
	p->cap_bes = 0;
	p->table_given = false;
	return 0;
}

static int parse_backend_line(struct parser *p, char **tok, int nt)
{
	struct restore_service *svc = &p->svcs[p->n - 1];
	struct klb_backend be = { .weight = 1, .state = KLB_BACKEND_UP };
	bool has_id = false;
	uint32_t v;
	size_t i;

	if (nt < 2)
		return parse_fail(p, "'backend' needs ADDR:PORT");
	if (parse_endpoint(tok[1], &be.addr))
		return parse_fail(p, "bad backend address '%s'", tok[1]);
	if (be.addr.family != svc->key.vip.family)
		return parse_fail(p, "backend %s: address family differs from the service's",
				  tok[1]);
	for (i = 2; i < (size_t)nt; i += 2) {
		const char *kw = tok[i], *val = i + 1 < (size_t)nt ? tok[i + 1] : NULL;

		if (!val)
			return parse_fail(p, "'%s' needs a value", kw);
		if (matches(kw, "id")) {
			if (parse_u32(val, &v) || v > KLB_BACKEND_ID_MAX)
				return parse_fail(p, "id '%s' out of range (0..%u)", val,
						  KLB_BACKEND_ID_MAX);
			be.id = (uint16_t)v;
			has_id = true;
		} else if (matches(kw, "weight")) {
			if (parse_u32(val, &be.weight) || be.weight > 65535)
				return parse_fail(p, "weight '%s' out of range (0..65535)", val);
		} else if (matches(kw, "state")) {
			if (parse_state(val, &be.state))
				return parse_fail(p, "state is up, drain or down, not '%s'", val);
		} else {
			return parse_fail(p, "unknown keyword '%s'", kw);
		}
	}
	for (i = 0; i < svc->nr_backends; i++) {
		if (klb_endpoint_equal(&svc->backends[i].addr, &be.addr))
			return parse_fail(p, "backend %s given twice", tok[1]);
		if (has_id && svc->backends[i].id == be.id)
			return parse_fail(p, "backend id %u given twice", be.id);
	}
	if (!has_id) {
		/* The lowest id not in use, as 'backend add' picks. */
		for (v = 0;; v++) {
			for (i = 0; i < svc->nr_backends; i++)
				if (svc->backends[i].id == v)
					break;
			if (i == svc->nr_backends)
				break;
		}
		if (v > KLB_BACKEND_ID_MAX)
			return parse_fail(p, "no backend id left");
		be.id = (uint16_t)v;
	}
	be.fields = KLB_BE_ID | KLB_BE_WEIGHT | KLB_BE_STATE;
	if (svc->nr_backends == p->cap_bes) {
		size_t cap = p->cap_bes ? 2 * p->cap_bes : 16;
		struct klb_backend *bes = realloc(svc->backends, cap * sizeof(*bes));

		if (!bes)
			return parse_fail(p, "out of memory");
		svc->backends = bes;
		p->cap_bes = cap;
	}
	svc->backends[svc->nr_backends++] = be;
	return 0;
}

static int parse_table_line(struct parser *p, char **tok, int nt)
{
	struct restore_service *svc = &p->svcs[p->n - 1];
	uint32_t m = svc->conf.table_size, i;
	uint8_t *raw;

	if (nt != 2)
		return parse_fail(p, "'table' needs one base64 word");
	if (p->table_given)
		return parse_fail(p, "a second table for the service");
	if (!sched_uses_table(svc->conf.sched))
		return parse_fail(p, "scheduler %s does not use a table",
				  sched_name(svc->conf.sched));
	raw = malloc(2 * (size_t)m);
	svc->table = malloc(m * sizeof(uint16_t));
	if (!raw || !svc->table) {
		free(raw);
		return parse_fail(p, "out of memory");
	}
	/* The length says the width: M bytes, or M 16-bit little-endian ids. */
	if (!b64_decode(tok[1], raw, m)) {
		for (i = 0; i < m; i++)
			svc->table[i] = raw[i];
	} else if (!b64_decode(tok[1], raw, 2 * (size_t)m)) {
		for (i = 0; i < m; i++)
			svc->table[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
	} else {
		free(raw);
		return parse_fail(p, "table is not the base64 of %u ids (8 or 16 bits each)", m);
	}
	free(raw);
	p->table_given = true;
	return 0;
}

/* Checks that need a service's whole block: the table names its backends. */
static int check_service(struct parser *p, struct restore_service *svc)
{
	uint8_t *known;
	uint32_t i;
	klb_error e;
	int ret;

	if (!sched_uses_table(svc->conf.sched))
		return 0;
	if (!svc->table) {
		/* Written by hand: build the table a 'backend add' would. */
		struct table_input in = { .conf = &svc->conf,
					  .new_bes = svc->backends,
					  .nr_new = svc->nr_backends };

		svc->table = malloc(svc->conf.table_size * sizeof(uint16_t));
		if (!svc->table)
			return parse_fail(p, "out of memory");
		ret = table_build(&in, svc->table, &e);
		if (ret <= 0) {
			free(svc->table);
			svc->table = NULL;
			if (ret < 0)
				return parse_fail(p, "service of line %u: %s", svc->line, e.msg);
		}
		return 0;
	}
	/* A bitmap of the ids: 8 KiB, not 64, for every service restored. */
	known = calloc((KLB_BACKEND_ID_MAX + 8) / 8, 1);
	if (!known)
		return parse_fail(p, "out of memory");
	for (i = 0; i < svc->nr_backends; i++)
		known[svc->backends[i].id / 8] |= 1 << (svc->backends[i].id % 8);
	for (i = 0; i < svc->conf.table_size; i++) {
		uint16_t id = svc->table[i];

		if (id > KLB_BACKEND_ID_MAX || !(known[id / 8] & (1 << (id % 8)))) {
			free(known);
			return parse_fail(p, "table of the service of line %u: slot %u names backend id %u, which the service does not have",
					  svc->line, i, (unsigned int)id);
		}
	}
	free(known);
	return 0;
}

static void free_services(struct restore_service *svcs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(svcs[i].backends);
		free(svcs[i].table);
	}
	free(svcs);
}

#define MAX_TOKENS 64

int cmd_restore(struct ctx *ctx, int argc, char **argv)
{
	struct parser p = { 0 };
	char *line = NULL, *tok[MAX_TOKENS];
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	if (argc)
		return usage_error(ctx, "unexpected '%s' (restore reads standard input)",
				   argv[0]);
	/* Parse everything first: bad input changes nothing. */
	while (!ret && (len = getline(&line, &cap, stdin)) >= 0) {
		char *save = NULL, *t;
		int nt = 0;

		p.line++;
		for (t = strtok_r(line, " \t\r\n", &save); t;
		     t = strtok_r(NULL, " \t\r\n", &save)) {
			if (nt == MAX_TOKENS) {
				ret = parse_fail(&p, "too many words");
				break;
			}
			tok[nt++] = t;
		}
		if (ret || !nt || tok[0][0] == '#')
			continue;
		if (matches(tok[0], "service")) {
			if (p.n)
				ret = check_service(&p, &p.svcs[p.n - 1]);
			if (!ret)
				ret = parse_service_line(&p, tok, nt);
		} else if (matches(tok[0], "backend") || matches(tok[0], "table")) {
			if (!p.n)
				ret = parse_fail(&p, "'%s' before any 'service' line", tok[0]);
			else if (matches(tok[0], "backend"))
				ret = parse_backend_line(&p, tok, nt);
			else
				ret = parse_table_line(&p, tok, nt);
		} else {
			ret = parse_fail(&p, "unknown keyword '%s' (want service, backend or table)",
					 tok[0]);
		}
	}
	free(line);
	if (!ret && ferror(stdin))
		ret = report_msg("restore", "reading standard input: %s", strerror(errno));
	if (!ret && p.n) {
		p.line++;
		ret = check_service(&p, &p.svcs[p.n - 1]);
	}
	if (!ret)
		ret = ctx->ops->restore(ctx, p.svcs, p.n);
	free_services(p.svcs, p.n);
	return ret;
}

int cmd_flush(struct ctx *ctx, int argc, char **argv)
{
	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	return ctx->ops->flush(ctx);
}
