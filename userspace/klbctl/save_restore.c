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

/*
 * For each place in a group of four characters, the character's six bits
 * already shifted to where they go in the group's 24, or B64_BAD: a group
 * decodes with four loads and three ORs, and one test at the end tells
 * whether any character was not base64 (a table is most of restore's
 * input).
 */
#define B64_BAD	(1u << 24)
static uint32_t b64_value[4][256];

static void b64_init(void)
{
	int k, c;

	for (k = 0; k < 4; k++) {
		for (c = 0; c < 256; c++)
			b64_value[k][c] = B64_BAD;
		for (c = 0; c < 64; c++)
			b64_value[k][(uint8_t)b64_alphabet[c]] = (uint32_t)c << (18 - 6 * k);
	}
}

/* Decodes exactly len bytes from s (slen chars); -1 if s is not that. */
static int b64_decode(const char *s, size_t slen, uint8_t *out, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, o = 0;
	uint32_t v, bad = 0;

	if (!b64_value[0][0])
		b64_init();
	if (slen != (len + 2) / 3 * 4)
		return -1;
	/* Whole groups first: no padding to look for in a table's bulk. */
	for (; o + 3 <= len; i += 4, o += 3) {
		v = b64_value[0][u[i]] | b64_value[1][u[i + 1]] |
		    b64_value[2][u[i + 2]] | b64_value[3][u[i + 3]];
		bad |= v;
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
	}
	if (bad & B64_BAD)
		return -1;
	if (o == len)
		return 0;
	/* The last group: one or two bytes, padded with '='. */
	v = b64_value[0][u[i]] | b64_value[1][u[i + 1]];
	if (o + 2 == len)
		v |= b64_value[2][u[i + 2]];
	else if (u[i + 2] != '=')
		return -1;
	if ((v & B64_BAD) || u[i + 3] != '=')
		return -1;
	out[o] = (uint8_t)(v >> 16);
	if (o + 2 == len)
		out[o + 1] = (uint8_t)(v >> 8);
	return 0;
}

/* ---- save ------------------------------------------------------------------ */

/* A check as the words 'service add' takes (klbd's checks only). */
static void save_check(const struct klbd_check *c)
{
	printf(" check %s", klbd_check_name(c->type));
	if (c->type == KLBD_CHECK_HTTP || c->type == KLBD_CHECK_HTTPS)
		printf(":%u", c->http_status);
	else if (c->type == KLBD_CHECK_EXEC)
		printf(":%s", c->exec_name);
	if (c->via_vip)
		printf(" via-vip");
	if (c->port)
		printf(" check-port %u", c->port);
	printf(" interval %u timeout %u rise %u fall %u", c->interval_ms,
	       c->timeout_ms, c->rise, c->fall);
}

static void save_service(const struct klb_service *svc,
			 const struct klb_backend *bes, size_t n,
			 const struct klb_table *table, char *b64, uint8_t *raw,
			 const struct klbd_check *check)
{
	char vip[ENDPOINT_STRLEN], addr[ENDPOINT_STRLEN];
	char seed[2 * KLB_SEED_LEN + 1];
	const struct klb_service_conf *conf = &svc->conf;
	size_t i;

	fmt_hex(conf->seed, KLB_SEED_LEN, seed);
	printf("service %s %s sched %s fwd %s table-size %u bound %u affinity %s down-policy %s seed %s",
	       proto_name(svc->key.proto), fmt_endpoint(&svc->key.vip, vip),
	       sched_name(conf->sched), fwd_name(conf->fwd), conf->table_size,
	       conf->bound, conf->flags & KLB_SVC_F_AFFINITY_SRC ? "src" : "none",
	       conf->flags & KLB_SVC_F_DOWN_DROP ? "drop" : "resteer", seed);
	if (check && check->type != KLBD_CHECK_NONE)
		save_check(check);
	putchar('\n');
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
		fmt_service_what(&s->svcs[i].key, what);
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
	snprintf(what, WHAT_STRLEN, "save");
	err = klb_generation_get(c, &gen_after, e);
	*consistent = !err && gen_after == gen;
	return err;
}

/* The check klbd has for key, or NULL. */
static const struct klbd_check *sum_check(const struct klbd_service_sum *sums,
					  size_t n, const struct klb_service_key *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sums[i].key.proto == key->proto &&
		    sums[i].key.vip.family == key->vip.family &&
		    sums[i].key.vip.port == key->vip.port &&
		    !memcmp(sums[i].key.vip.addr, key->vip.addr, sizeof(key->vip.addr)))
			return &sums[i].check;
	return NULL;
}

int cmd_save(struct ctx *ctx, int argc, char **argv)
{
	struct klbd_service_sum *sums = NULL;
	size_t n_sums = 0;
	char what[WHAT_STRLEN] = "save";
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
	/* Health checks live in klbd alone: asked when it runs. */
	if (ctx->ops == &klbd_ops) {
		ret = klbd_services(&sums, &n_sums, what);
		if (ret)
			return ret;
	}
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
					     &snap.tables[i], b64, raw,
					     sum_check(sums, n_sums, &snap.svcs[i].key));
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
	free(sums);
	free(raw);
	free(b64);
	return ret;
}

/* ---- restore --------------------------------------------------------------- */

/* A service block of the input, until it is handed over as a spec. */
struct restore_parser {
	struct restore_service *svcs;
	size_t n, cap;
	unsigned int line;
	struct klb_keyset keys;		/* service key -> index in svcs */
	/* Of the last service: */
	size_t cap_bes;
	bool table_given;
	struct klb_keyset addrs;		/* backend address -> index */
	struct klb_idset ids;		/* the ids its backends have */
	/*
	 * [id]: 1 when the service being checked has a backend with it. The
	 * same fact as ids, a byte each: a table check costs one load and
	 * one AND per slot where a bit test costs twice that.
	 */
	uint8_t *id_byte;
};

static int parse_fail(const struct restore_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * arr (n used of *cap elements of size bytes) with room for one more,
 * doubling from first: lines come one at a time. NULL when out of memory.
 */
static void *grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t c = *cap ? 2 * *cap : first;

	if (n < *cap)
		return arr;
	arr = realloc(arr, c * size);
	if (arr)
		*cap = c;
	return arr;
}

static int parse_fail(const struct restore_parser *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "klbctl: restore: line %u: ", p->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (nothing was changed)\n", stderr);
	return EXIT_FAIL;
}

static int parse_service_line(struct restore_parser *p, char **tok, int nt)
{
	struct restore_service *svc, *svcs;
	struct klbd_check merged;
	uint8_t key[KLB_KEYSET_KEY_MAX];
	uint32_t clear = 0, old;
	char why[160];
	size_t i, len;
	int ret;

	if (nt < 3)
		return parse_fail(p, "'service' needs PROTO VIP:PORT");
	svcs = grow(p->svcs, p->n, &p->cap, sizeof(*svcs), 64);
	if (!svcs)
		return parse_fail(p, "out of memory");
	p->svcs = svcs;
	svc = &p->svcs[p->n];
	memset(svc, 0, sizeof(*svc));
	svc->line = p->line;
	if (parse_proto(tok[1], &svc->key.proto))
		return parse_fail(p, "protocol must be tcp or udp, not '%s'", tok[1]);
	if (parse_endpoint(tok[2], &svc->key.vip))
		return parse_fail(p, "bad address '%s'", tok[2]);
	len = klb_service_key_bytes(&svc->key, key);
	ret = klb_keyset_add(&p->keys, key, len, (uint32_t)p->n, &old);
	if (ret < 0)
		return parse_fail(p, "out of memory");
	if (ret)
		return parse_fail(p, "service %s %s already given on line %u",
				  tok[1], tok[2], p->svcs[old].line);
	for (i = 3; i < (size_t)nt; i += 2) {
		const char *val = i + 1 < (size_t)nt ? tok[i + 1] : NULL;

		/* The check's flag, without a value, as 'service add' takes it. */
		if (!strcmp(tok[i], "via-vip")) {
			svc->check.via_vip = true;
			svc->check.fields |= KLBD_CHECK_F_VIA_VIP;
			i--;
			continue;
		}
		ret = parse_check_option(tok[i], val, &svc->check, why, sizeof(why));
		if (ret < 0)
			return parse_fail(p, "%s", why);
		if (ret && parse_service_option(tok[i], val, &svc->conf, &clear, why,
						sizeof(why)))
			return parse_fail(p, "%s", why);
	}
	/* klbd's bounds, here: a bad check names its line. */
	if (svc->check.fields &&
	    klbd_check_merge(NULL, &svc->check, &merged, why, sizeof(why)))
		return parse_fail(p, "%s", why);
	if (!(svc->conf.fields & KLB_SVC_TABLE_SIZE))
		svc->conf.table_size = KLB_TABLE_SIZE_DEFAULT;
	if (!klb_maglev_size_valid(svc->conf.table_size))
		return parse_fail(p, "table size %u is not a prime in %u..%u",
				  svc->conf.table_size, KLB_TABLE_SIZE_MIN,
				  KLB_TABLE_SIZE_LIMIT);
	if (!(svc->conf.fields & KLB_SVC_BOUND))
		svc->conf.bound = KLB_BOUND_DEFAULT;
	if (svc->conf.bound < KLB_BOUND_MIN || svc->conf.bound > KLB_BOUND_MAX)
		return parse_fail(p, "bound %u out of range (%u..%u)", svc->conf.bound,
				  KLB_BOUND_MIN, KLB_BOUND_MAX);
	/* A service without a seed gets a fresh one, as 'service add' does. */
	if (!(svc->conf.fields & KLB_SVC_SEED) &&
	    getrandom(svc->conf.seed, KLB_SEED_LEN, 0) != KLB_SEED_LEN)
		return parse_fail(p, "getrandom: %s", strerror(errno));
	svc->conf.fields = KLB_SVC_SCHED | KLB_SVC_FWD | KLB_SVC_TABLE_SIZE |
			   KLB_SVC_BOUND | KLB_SVC_SEED | KLB_SVC_FLAGS;
	/* The previous service's backends no longer count. */
	if (p->n)
		for (i = 0; i < p->svcs[p->n - 1].nr_backends; i++)
			klb_idset_del(&p->ids, p->svcs[p->n - 1].backends[i].id);
	klb_keyset_clear(&p->addrs);
	p->n++;
	p->cap_bes = 0;
	p->table_given = false;
	return 0;
}

static int parse_backend_line(struct restore_parser *p, char **tok, int nt)
{
	struct restore_service *svc = &p->svcs[p->n - 1];
	struct klb_backend be = { .weight = KLB_WEIGHT_DEFAULT,
				  .state = KLB_BACKEND_UP }, *bes;
	uint8_t key[KLB_KEYSET_KEY_MAX];
	bool has_id = false;
	uint32_t v, old;
	size_t i;
	int ret;

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
			if (parse_u32(val, &be.weight) || be.weight > KLB_WEIGHT_MAX)
				return parse_fail(p, "weight '%s' out of range (0..%u)", val,
						  KLB_WEIGHT_MAX);
		} else if (matches(kw, "state")) {
			if (parse_state(val, &be.state))
				return parse_fail(p, "state is up, drain or down, not '%s'", val);
		} else {
			return parse_fail(p, "unknown keyword '%s'", kw);
		}
	}
	ret = klb_keyset_add(&p->addrs, key, klb_endpoint_key(&be.addr, key),
			 (uint32_t)svc->nr_backends, &old);
	if (ret < 0)
		return parse_fail(p, "out of memory");
	if (ret)
		return parse_fail(p, "backend %s given twice", tok[1]);
	if (has_id && klb_idset_has(&p->ids, be.id))
		return parse_fail(p, "backend id %u given twice", be.id);
	if (!has_id) {
		/* The lowest id not in use, as 'backend add' picks. */
		ret = klb_idset_lowest_free(&p->ids);
		if (ret < 0)
			return parse_fail(p, "no backend id left");
		be.id = (uint16_t)ret;
	}
	be.fields = KLB_BE_ID | KLB_BE_WEIGHT | KLB_BE_STATE;
	bes = grow(svc->backends, svc->nr_backends, &p->cap_bes, sizeof(*bes),
		   16);
	if (!bes)
		return parse_fail(p, "out of memory");
	svc->backends = bes;
	svc->backends[svc->nr_backends++] = be;
	klb_idset_add(&p->ids, be.id);
	return 0;
}

static int parse_table_line(struct restore_parser *p, char **tok, int nt)
{
	struct restore_service *svc = &p->svcs[p->n - 1];
	uint32_t m = svc->conf.table_size, i;
	uint8_t *raw;
	size_t len;

	if (nt != 2)
		return parse_fail(p, "'table' needs one base64 word");
	len = strlen(tok[1]);
	if (p->table_given)
		return parse_fail(p, "a second table for the service");
	if (!klb_sched_is_maglev(svc->conf.sched))
		return parse_fail(p, "scheduler %s does not use a table",
				  sched_name(svc->conf.sched));
	raw = malloc(2 * (size_t)m);
	svc->table = malloc(m * sizeof(uint16_t));
	if (!raw || !svc->table) {
		free(raw);
		return parse_fail(p, "out of memory");
	}
	/* The length says the width: M bytes, or M 16-bit little-endian ids. */
	if (!b64_decode(tok[1], len, raw, m)) {
		for (i = 0; i < m; i++)
			svc->table[i] = raw[i];
	} else if (!b64_decode(tok[1], len, raw, 2 * (size_t)m)) {
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
static int check_service(struct restore_parser *p, struct restore_service *svc)
{
	uint8_t ok = 1;
	uint32_t i;
	size_t k;
	klb_error e;
	int ret;

	if (!klb_sched_is_maglev(svc->conf.sched))
		return 0;
	if (!svc->table) {
		/* Written by hand: build the table a 'backend add' would. */
		struct klb_table_input in = { .conf = &svc->conf,
					      .new_bes = svc->backends,
					      .nr_new = svc->nr_backends };

		svc->table = malloc(svc->conf.table_size * sizeof(uint16_t));
		if (!svc->table)
			return parse_fail(p, "out of memory");
		ret = klb_table_compute(&in, svc->table, &e);
		if (ret <= 0) {
			free(svc->table);
			svc->table = NULL;
			if (ret < 0)
				return parse_fail(p, "service of line %u: %s", svc->line,
						  klb_error_msg(&e));
		}
		return 0;
	}
	/*
	 * id_byte has 65536 entries, so every id is in range and the common
	 * case (a good table) is one AND per slot; only a bad table is walked
	 * again to name its first bad slot.
	 */
	for (k = 0; k < svc->nr_backends; k++)
		p->id_byte[svc->backends[k].id] = 1;
	for (i = 0; i < svc->conf.table_size; i++)
		ok &= p->id_byte[svc->table[i]];
	if (!ok)
		for (i = 0; p->id_byte[svc->table[i]]; i++)
			;
	for (k = 0; k < svc->nr_backends; k++)
		p->id_byte[svc->backends[k].id] = 0;
	if (ok)
		return 0;
	return parse_fail(p, "table of the service of line %u: slot %u names backend id %u, which the service does not have",
			  svc->line, i, (unsigned int)svc->table[i]);
}

void restore_free(struct restore_service *svcs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(svcs[i].backends);
		free(svcs[i].table);
	}
	free(svcs);
}

/* Hands the services over as the specs the apply engine takes. */
static int restore_apply(struct ctx *ctx, const struct restore_service *svcs,
			 size_t n)
{
	struct klb_service_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	struct klbd_check *checks = calloc(n ? n : 1, sizeof(*checks));
	size_t i;
	int ret;

	if (!specs || !checks) {
		free(specs);
		free(checks);
		return report_msg("restore", "out of memory");
	}
	for (i = 0; i < n; i++) {
		checks[i] = svcs[i].check;
		specs[i].key = svcs[i].key;
		specs[i].conf = svcs[i].conf;
		specs[i].backends = svcs[i].backends;
		specs[i].nr_backends = svcs[i].nr_backends;
		specs[i].table = svcs[i].table;
	}
	ret = ctx->ops->restore(ctx, specs, checks, n);
	free(specs);
	free(checks);
	return ret;
}

#define MAX_TOKENS 64

int restore_parse(FILE *in, struct restore_service **svcs, size_t *n)
{
	struct restore_parser p = { 0 };
	char *line = NULL, *tok[MAX_TOKENS];
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	*svcs = NULL;
	*n = 0;
	p.id_byte = calloc(UINT16_MAX + 1, 1);
	if (!p.id_byte)
		return report_msg("restore", "out of memory");
	while (!ret && (len = getline(&line, &cap, in)) >= 0) {
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
	if (!ret && ferror(in))
		ret = report_msg("restore", "reading standard input: %s", strerror(errno));
	if (!ret && p.n) {
		p.line++;
		ret = check_service(&p, &p.svcs[p.n - 1]);
	}
	klb_keyset_free(&p.keys);
	klb_keyset_free(&p.addrs);
	free(p.id_byte);
	if (ret) {
		restore_free(p.svcs, p.n);
		return ret;
	}
	*svcs = p.svcs;
	*n = p.n;
	return EXIT_OK;
}

int cmd_restore(struct ctx *ctx, int argc, char **argv)
{
	struct restore_service *svcs;
	size_t n;
	int ret;

	if (argc)
		return usage_error(ctx, "unexpected '%s' (restore reads standard input)",
				   argv[0]);
	/* Parse everything first: bad input changes nothing. */
	ret = restore_parse(stdin, &svcs, &n);
	if (ret)
		return ret;
	ret = restore_apply(ctx, svcs, n);
	restore_free(svcs, n);
	return ret;
}

int cmd_flush(struct ctx *ctx, int argc, char **argv)
{
	if (argc)
		return usage_error(ctx, "unexpected '%s'", argv[0]);
	return ctx->ops->flush(ctx);
}
