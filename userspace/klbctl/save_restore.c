// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl save | restore | flush.
 *
 * save prints everything that decides where a flow goes, restore reads it
 * back (see klbctl(8), SAVE FORMAT; the reading is lib/klb_save_parse.c's,
 * which klbd shares for its bootstrap services):
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klb/maglev.h>

#include "klbctl/klbctl.h"

#define SAVE_HEADER "# klbctl save 1"

static void b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = klb_save_b64_alphabet[v >> 18];
		*out++ = klb_save_b64_alphabet[(v >> 12) & 63];
		*out++ = klb_save_b64_alphabet[(v >> 6) & 63];
		*out++ = klb_save_b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		*out++ = klb_save_b64_alphabet[v >> 18];
		*out++ = klb_save_b64_alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? klb_save_b64_alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
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

int cmd_restore(struct ctx *ctx, int argc, char **argv)
{
	char err[KLB_SAVE_ERR_MAX];
	struct restore_service *svcs;
	size_t n;
	int ret;

	if (argc)
		return usage_error(ctx, "unexpected '%s' (restore reads standard input)",
				   argv[0]);
	/* Parse everything first: bad input changes nothing. */
	ret = restore_parse(stdin, NULL, &svcs, &n, err, sizeof(err));
	if (ret)
		return report_msg("restore", "%s%s", err,
				  ret == -EINVAL ? " (nothing was changed)" : "");
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
