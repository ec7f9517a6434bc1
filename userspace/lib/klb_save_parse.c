// SPDX-License-Identifier: GPL-2.0
/*
 * Reading klbctl's save format (klbctl(8), SAVE FORMAT): what 'klbctl
 * restore' reads, and klbd's bootstrap services (klbd.conf(5)). Writing
 * it is klbctl's (save_restore.c). The format, one line each:
 *
 *   service PROTO VIP:PORT sched S fwd F table-size M bound C
 *           affinity src|none down-policy resteer|drop seed HEX32
 *   backend ADDR:PORT id N weight W state up|drain|down
 *   table BASE64
 *
 * backend and table lines belong to the service line above them. The
 * table is the M backend ids, one byte each when every id is below 256
 * and 16-bit little-endian otherwise, base64-encoded (RFC 4648).
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klb/maglev.h>
#include <klb/sched.h>

#include "lib/klb_idset.h"
#include "lib/klb_keyset.h"
#include "lib/klb_save_parse.h"
#include "lib/klb_tables.h"
#include "lib/klb_words.h"

const char klb_save_b64_alphabet[65] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * For each place in a group of four characters, the character's six bits
 * already shifted to where they go in the group's 24, or B64_BAD: a group
 * decodes with four loads and three ORs, and one test at the end tells
 * whether any character was not base64 (a table is most of restore's
 * input).
 */
#define B64_BAD	(1u << 24)
static uint32_t b64_value[4][256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
	int k, c;

	for (k = 0; k < 4; k++) {
		for (c = 0; c < 256; c++)
			b64_value[k][c] = B64_BAD;
		for (c = 0; c < 64; c++)
			b64_value[k][(uint8_t)klb_save_b64_alphabet[c]] = (uint32_t)c << (18 - 6 * k);
	}
}

/* Decodes exactly len bytes from s (slen chars); -1 if s is not that. */
static int b64_decode(const char *s, size_t slen, uint8_t *out, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, o = 0;
	uint32_t v, bad = 0;

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

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

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
	char *copy;			/* the line being split, a copy */
	size_t copy_cap;
	/* Where errors go: "NAME:LINE: problem", or "line LINE: problem". */
	const char *name;
	char *err;
	size_t err_len;
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

/* The problem, after where it is: -EINVAL. */
static int parse_fail(const struct restore_parser *p, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int len;

	if (!p->err_len)
		return -EINVAL;
	if (p->name)
		len = snprintf(p->err, p->err_len, "%s:%u: ", p->name, p->line);
	else
		len = snprintf(p->err, p->err_len, "line %u: ", p->line);
	if (len > 0)
		n = (size_t)len < p->err_len ? (size_t)len : p->err_len - 1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
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

/* word (len chars, as table_word() gives it) is the base64. */
static int parse_table_line(struct restore_parser *p, const char *word, size_t len)
{
	struct restore_service *svc = &p->svcs[p->n - 1];
	uint32_t m = svc->conf.table_size, i;
	uint8_t *raw;

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
	if (!b64_decode(word, len, raw, m)) {
		for (i = 0; i < m; i++)
			svc->table[i] = raw[i];
	} else if (!b64_decode(word, len, raw, 2 * (size_t)m)) {
		for (i = 0; i < m; i++)
			svc->table[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
	} else {
		free(raw);
		/* The decoder refused the blank; the message names the cause. */
		if (memchr(word, ' ', len) || memchr(word, '\t', len) ||
		    memchr(word, '\r', len))
			return parse_fail(p, "'table' needs one base64 word");
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

#define MAX_TOKENS 64

/*
 * Splits line in place into its blank-separated words: their number, or -1
 * when it has more than max. A plain loop, not strtok_r: a restore reads
 * 100,000 lines and megabytes of tables, and strtok_r's strspn and strcspn
 * per word cost more than the byte tests (in an emulated guest, whose
 * SSE4.2 string instructions are slow, a fifth of a restore's time).
 */
static int split_words(char *line, char **tok, int max)
{
	char *s = line;
	int nt = 0;

	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			return nt;
		if (nt == max)
			return -1;
		tok[nt++] = s;
		while (*s && !is_blank(*s))
			s++;
		if (!*s)
			return nt;
		*s++ = '\0';
	}
}

/*
 * Of a table line, "table BASE64" with any blanks around the words (len
 * bytes, its newline excluded): the second word and its length; 0 for any
 * other line. The base64 word is most of a restore's input, and
 * b64_decode() looks at each of its characters anyway, refusing a blank:
 * so it is decoded where it lies, not copied, not scanned for blanks, only
 * trimmed at the end of the line.
 */
static size_t table_word(const char *line, size_t len, const char **word)
{
	const char *s = line, *end = line + len;

	while (s < end && is_blank(*s))
		s++;
	if (end - s < 6 || memcmp(s, "table", 5) || !is_blank(s[5]))
		return 0;
	s += 6;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	if (s == end)
		return 0;
	*word = s;
	return (size_t)(end - s);
}

/* A copy of the line (len bytes), terminated, for split_words(). */
static char *line_copy(struct restore_parser *p, const char *line, size_t len)
{
	if (len + 1 > p->copy_cap) {
		char *copy = realloc(p->copy, len + 1);

		if (!copy)
			return NULL;
		p->copy = copy;
		p->copy_cap = len + 1;
	}
	memcpy(p->copy, line, len);
	p->copy[len] = '\0';
	return p->copy;
}

static int parse_line(struct restore_parser *p, const char *text, size_t len)
{
	char *line, *tok[MAX_TOKENS];
	size_t table_len;
	const char *word;
	int nt;

	/* Before any service, the general path below says so. */
	table_len = p->n ? table_word(text, len, &word) : 0;
	if (table_len)
		return parse_table_line(p, word, table_len);
	line = line_copy(p, text, len);
	if (!line)
		return parse_fail(p, "out of memory");
	nt = split_words(line, tok, MAX_TOKENS);
	if (nt < 0)
		return parse_fail(p, "too many words");
	if (!nt || tok[0][0] == '#')
		return 0;
	if (matches(tok[0], "service")) {
		int ret = p->n ? check_service(p, &p->svcs[p->n - 1]) : 0;

		return ret ? ret : parse_service_line(p, tok, nt);
	}
	if (matches(tok[0], "backend") || matches(tok[0], "table")) {
		if (!p->n)
			return parse_fail(p, "'%s' before any 'service' line", tok[0]);
		if (matches(tok[0], "backend"))
			return parse_backend_line(p, tok, nt);
		/* table_word() found no word after it */
		return parse_fail(p, "'table' needs one base64 word");
	}
	return parse_fail(p, "unknown keyword '%s' (want service, backend or table)",
			  tok[0]);
}

static int parser_init(struct restore_parser *p, const char *name, char *err,
		       size_t err_len)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->err = err;
	p->err_len = err_len;
	p->id_byte = calloc(UINT16_MAX + 1, 1);
	if (!p->id_byte) {
		if (err_len)
			snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* All but the services, which are handed over or freed with restore_free(). */
static void parser_free(struct restore_parser *p)
{
	klb_keyset_free(&p->keys);
	klb_keyset_free(&p->addrs);
	free(p->id_byte);
	free(p->copy);
}

/*
 * Parses the lines of text (len bytes), numbering them from p->line + 1,
 * and checks the last service: 0, or the first error.
 */
static int parse_lines(struct restore_parser *p, const char *text, size_t len)
{
	const char *end = text + len, *nl;
	int ret = 0;

	while (!ret && text < end) {
		nl = memchr(text, '\n', (size_t)(end - text));
		if (!nl)
			nl = end;
		p->line++;
		ret = parse_line(p, text, (size_t)(nl - text));
		text = nl + 1;
	}
	/* The last service's errors are the end's, the line after the last. */
	if (!ret && p->n) {
		p->line++;
		ret = check_service(p, &p->svcs[p->n - 1]);
		p->line--;
	}
	return ret;
}

/*
 * A large input is cut into parts that each begin with a service line
 * and parsed by a thread each: the services of one are independent of
 * the others' but for their keys, checked across parts afterwards. A
 * restore of 1,000 services of 100 backends is 27 MB, and its parse was a
 * quarter of its time, on one core of several.
 */
#define PART_MIN	(1u << 20)	/* bytes: smaller inputs are not cut */
#define PARTS_MAX	8

struct parse_part {
	struct restore_parser p;
	const char *text;
	size_t len;
	int ret;
	pthread_t thread;
	bool started;
};

/* The first service line at or after text + from, or len when there is none. */
static size_t next_service_line(const char *text, size_t len, size_t from)
{
	const char *s = text + from, *end = text + len;

	while (s < end && (s = memmem(s, (size_t)(end - s), "\nservice", 8))) {
		s++;
		if (end - s > 7 && (s[7] == ' ' || s[7] == '\t'))
			return (size_t)(s - text);
	}
	return len;
}

/* Cuts text into at most max parts; their number. */
static unsigned int cut_parts(const char *text, size_t len, unsigned int max,
			      struct parse_part *parts)
{
	unsigned int n = 0, k;
	size_t start = 0, next;

	if (max > len / PART_MIN)
		max = (unsigned int)(len / PART_MIN);
	for (k = 1; k <= max; k++) {
		next = k == max ? len :
		       next_service_line(text, len, len / max * k);
		if (next <= start)
			continue;
		parts[n].text = text + start;
		parts[n].len = next - start;
		n++;
		start = next;
	}
	return n;
}

static void *parse_part_run(void *arg)
{
	struct parse_part *part = arg;

	part->ret = parse_lines(&part->p, part->text, part->len);
	return NULL;
}

/*
 * Moves the parts' services into the first's, numbering their lines
 * through, and checks that no two parts give the same service: 0,
 * -EEXIST (the caller parses again in one piece to name the line), or
 * -ENOMEM. The first part holds every service either way.
 */
static int join_parts(struct parse_part *parts, unsigned int n)
{
	struct restore_parser *first = &parts[0].p;
	unsigned int lines = first->line, k;
	uint8_t key[KLB_KEYSET_KEY_MAX];
	size_t total = first->n, i, j;
	struct restore_service *svcs;
	uint32_t old;
	int ret;

	for (k = 1; k < n; k++)
		total += parts[k].p.n;
	svcs = realloc(first->svcs, (total ? total : 1) * sizeof(*svcs));
	if (!svcs)
		return -ENOMEM;
	first->svcs = svcs;
	i = first->n;
	for (k = 1; k < n; k++) {
		struct restore_parser *p = &parts[k].p;

		for (j = 0; j < p->n; j++) {
			svcs[first->n] = p->svcs[j];
			svcs[first->n++].line += lines;
		}
		lines += p->line;
		free(p->svcs);
		p->svcs = NULL;
		p->n = 0;
	}
	for (; i < first->n; i++) {
		ret = klb_keyset_add(&first->keys, key,
				     klb_service_key_bytes(&svcs[i].key, key),
				     (uint32_t)i, &old);
		if (ret)
			return ret < 0 ? -ENOMEM : -EEXIST;
	}
	return 0;
}

/*
 * text parsed in parts, one thread each: 0, or -1 when it was not, or did
 * not go through (the caller parses it in one piece, which names the
 * first error as it would have). On 0 the first part holds the services.
 */
static int parse_in_parts(struct parse_part *parts, unsigned int n)
{
	unsigned int k, started = 0;
	int ret = 0;

	for (k = 0; k < n; k++) {
		/* No message: only whether it went through counts. */
		if (parser_init(&parts[k].p, NULL, NULL, 0)) {
			ret = -1;
			n = k;
			goto out;
		}
	}
	for (k = 1; k < n; k++) {
		if (pthread_create(&parts[k].thread, NULL, parse_part_run, &parts[k]))
			break;
		parts[k].started = true;
		started++;
	}
	/* Without threads (at the limit of a container), here in turn. */
	for (k = started + 1; k < n; k++)
		parse_part_run(&parts[k]);
	parse_part_run(&parts[0]);
	for (k = 1; k < n; k++)
		if (parts[k].started)
			pthread_join(parts[k].thread, NULL);
	for (k = 0; k < n; k++)
		if (parts[k].ret)
			ret = -1;
	if (!ret && join_parts(parts, n))
		ret = -1;
out:
	for (k = 0; k < n; k++) {
		if (ret)
			restore_free(parts[k].p.svcs, parts[k].p.n);
		parser_free(&parts[k].p);
	}
	return ret;
}

int restore_parse_text(const char *text, size_t len, const char *name,
		       unsigned int *parts_used, struct restore_service **svcs,
		       size_t *n, char *err, size_t err_len)
{
	unsigned int nparts, threads = *parts_used;
	struct parse_part parts[PARTS_MAX];
	struct restore_parser p;
	long cpus;
	int ret;

	*svcs = NULL;
	*n = 0;
	*parts_used = 1;
	pthread_once(&b64_once, b64_init);
	if (!threads) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned int)cpus : 1;
	}
	if (threads > PARTS_MAX)
		threads = PARTS_MAX;
	memset(parts, 0, sizeof(parts));
	nparts = cut_parts(text, len, threads, parts);
	if (nparts > 1 && !parse_in_parts(parts, nparts)) {
		*svcs = parts[0].p.svcs;
		*n = parts[0].p.n;
		*parts_used = nparts;
		return 0;
	}
	ret = parser_init(&p, name, err, err_len);
	if (ret)
		return ret;
	ret = parse_lines(&p, text, len);
	parser_free(&p);
	if (ret) {
		restore_free(p.svcs, p.n);
		return ret;
	}
	*svcs = p.svcs;
	*n = p.n;
	return 0;
}

/* All of in, in memory: a file's size is read at once. */
static int read_all(FILE *in, char **text, size_t *len)
{
	size_t cap = 1u << 16, got = 0, r;
	struct stat st;
	char *buf;

	if (!fstat(fileno(in), &st) && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (got == cap) {
			char *more = realloc(buf, 2 * cap);

			if (!more) {
				free(buf);
				return -ENOMEM;
			}
			buf = more;
			cap *= 2;
		}
		r = fread(buf + got, 1, cap - got, in);
		got += r;
		if (r)
			continue;
		if (ferror(in)) {
			free(buf);
			return -(errno ? errno : EIO);
		}
		break;
	}
	*text = buf;
	*len = got;
	return 0;
}

/*
 * A file large enough to be parsed in parts is mapped, not read: a 27 MB
 * restore input is then neither copied nor given fresh zeroed memory.
 * The map starts at in's position. 0 when it is mapped; the caller unmaps
 * it (*map_len bytes at *map). A file truncated meanwhile kills the
 * process (SIGBUS) where read() would have parsed a part of it, which
 * restore would then apply: the worse outcome of the two.
 */
static int map_file(FILE *in, const char **text, size_t *len, void **map,
		    size_t *map_len)
{
	struct stat st;
	off_t at;

	if (fstat(fileno(in), &st) || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)PART_MIN)
		return -1;
	at = ftello(in);
	if (at < 0 || at >= st.st_size)
		return -1;
	*map = mmap(NULL, (size_t)st.st_size, PROT_READ,
		    MAP_PRIVATE | MAP_POPULATE, fileno(in), 0);
	if (*map == MAP_FAILED)
		return -1;
	*map_len = (size_t)st.st_size;
	*text = (const char *)*map + at;
	*len = (size_t)(st.st_size - at);
	return 0;
}

int restore_parse(FILE *in, const char *name, struct restore_service **svcs,
		  size_t *n, char *err, size_t err_len)
{
	unsigned int parts = 0;
	size_t len, map_len;
	const char *text;
	char *buf;
	void *map;
	int ret;

	*svcs = NULL;
	*n = 0;
	if (!map_file(in, &text, &len, &map, &map_len)) {
		ret = restore_parse_text(text, len, name, &parts, svcs, n, err,
					 err_len);
		munmap(map, map_len);
		return ret;
	}
	ret = read_all(in, &buf, &len);
	if (ret == -ENOMEM) {
		snprintf(err, err_len, "out of memory");
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "reading %s: %s", name ? name : "standard input",
			 strerror(-ret));
		return ret;
	}
	ret = restore_parse_text(buf, len, name, &parts, svcs, n, err, err_len);
	free(buf);
	return ret;
}
