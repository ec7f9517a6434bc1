// SPDX-License-Identifier: GPL-2.0
/*
 * Whole services: replace one with what it should be, or make the kernel
 * hold exactly a set of them (klbctl restore, klbd's reconcile). What
 * changes for a service (its settings, the backends that go, come or
 * change, its table) is staged in one transaction and committed under the
 * generation read, so that each service moves at once from what it was to
 * what it should be; a service that is already right costs reads only.
 *
 * Everything is matched through hash sets (lib/klb_keyset.h), services by
 * key and backends by address, so that the work is linear in services
 * and backends: a reconcile of thousands of services must not compare
 * every pair.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <klb/maglev.h>
#include <klb/sched.h>

#include "lib/klb_apply_internal.h"
#include "lib/klb_keyset.h"

static bool backend_same(const struct klb_backend *a, const struct klb_backend *b)
{
	return a->id == b->id && klb_endpoint_equal(&a->addr, &b->addr) &&
	       a->weight == b->weight && a->state == b->state;
}

static bool conf_same(const struct klb_service_conf *a,
		      const struct klb_service_conf *b)
{
	return a->sched == b->sched && a->fwd == b->fwd &&
	       a->table_size == b->table_size && a->bound == b->bound &&
	       a->flags == b->flags && !memcmp(a->seed, b->seed, KLB_SEED_LEN);
}

/* What one service's transaction stages. */
struct replace_op {
	const struct klb_service_spec *spec;
	const uint16_t *table;		/* the spec's, or computed */
	const struct apply_svc *cur;	/* the service as read, or NULL */
	/* With cur: */
	const struct klb_backend **old;	/* [spec backend]: cur's at its address */
	bool *kept;			/* [cur backend]: same address and id */
};

/*
 * Pairs the spec's backends with cur's by address, through one hash set:
 * old[] and kept[] (freed by match_free()).
 */
static int match_backends(struct replace_op *op, klb_error *e)
{
	const struct klb_service_spec *spec = op->spec;
	const struct apply_svc *cur = op->cur;
	uint8_t key[KLB_KEYSET_KEY_MAX];
	struct klb_keyset by_addr = { 0 };
	uint32_t j;
	size_t i;
	int err = 0;

	op->old = calloc(spec->nr_backends + 1, sizeof(*op->old));
	op->kept = calloc(cur->nr_bes + 1, sizeof(*op->kept));
	if (!op->old || !op->kept)
		goto nomem;
	for (i = 0; i < cur->nr_bes; i++)
		if (klb_keyset_add(&by_addr, key,
				   klb_endpoint_key(&cur->bes[i].addr, key),
				   (uint32_t)i, &j) < 0)
			goto nomem;
	for (i = 0; i < spec->nr_backends; i++) {
		const struct klb_backend *b = &spec->backends[i];

		if (klb_keyset_find(&by_addr, key, klb_endpoint_key(&b->addr, key), &j))
			continue;
		op->old[i] = &cur->bes[j];
		if (cur->bes[j].id == b->id)
			op->kept[j] = true;
	}
	goto out;
nomem:
	err = klb_error_set(e, ENOMEM, "out of memory");
out:
	klb_keyset_free(&by_addr);
	return err;
}

static void match_free(struct replace_op *op)
{
	free(op->old);
	free(op->kept);
	op->old = NULL;
	op->kept = NULL;
}

/* The kernel already holds exactly what op says. */
static bool service_same(const struct replace_op *op)
{
	const struct klb_service_spec *spec = op->spec;
	const struct apply_svc *cur = op->cur;
	size_t i;

	if (!conf_same(&spec->conf, &cur->svc.conf) ||
	    spec->nr_backends != cur->nr_bes || !op->table != !cur->table.ids)
		return false;
	for (i = 0; i < spec->nr_backends; i++)
		if (!op->old[i] || !backend_same(op->old[i], &spec->backends[i]))
			return false;
	return !op->table || !memcmp(op->table, cur->table.ids,
				     spec->conf.table_size * sizeof(uint16_t));
}

static int backend_id_cmp(const void *a, const void *b)
{
	const struct klb_backend *x = *(const struct klb_backend *const *)a;
	const struct klb_backend *y = *(const struct klb_backend *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

static int replace_stage(struct klb_client *c, const struct klb_write *w,
			 void *arg, klb_error *e)
{
	const struct replace_op *op = arg;
	const struct klb_service_spec *spec = op->spec;
	const struct apply_svc *cur = op->cur;
	const struct klb_backend **news;
	size_t i, n_new = 0;
	int err = 0;

	if (cur) {
		err = klb_service_set(c, &spec->key, &spec->conf, w, e);
		/* Backends that go, or keep their address under a new id. */
		for (i = 0; !err && i < cur->nr_bes; i++)
			if (!op->kept[i])
				err = klb_backend_del(c, &spec->key, &cur->bes[i], w, e);
		if (err)
			return err;
	}
	news = malloc((spec->nr_backends + 1) * sizeof(*news));
	if (!news)
		return klb_error_set(e, ENOMEM, "out of memory");
	for (i = 0; !err && i < spec->nr_backends; i++) {
		const struct klb_backend *b = &spec->backends[i];
		const struct klb_backend *old = cur ? op->old[i] : NULL;

		if (!old || old->id != b->id)
			news[n_new++] = b;
		else if (!backend_same(old, b))
			err = klb_backend_set(c, &spec->key, b, w, e);
	}
	/*
	 * The new ones go together, one request rather than one per backend,
	 * and in ascending id order: the kernel keeps a snapshot's slots
	 * sorted by id, so each lands at the end, where any other order
	 * moves the slots after it (O(n^2) in all for descending ids).
	 */
	if (!err && n_new) {
		qsort(news, n_new, sizeof(*news), backend_id_cmp);
		err = klb_backends_new(c, &spec->key, news, n_new, w, e);
	}
	free(news);
	if (err)
		return err;
	if (op->table)
		return klb_table_set(c, &spec->key, op->table,
				     spec->conf.table_size, w, e);
	if (cur && cur->table.ids)
		return klb_table_del(c, &spec->key, w, e);
	return 0;
}

/*
 * A Maglev service given without a table gets the one its backends
 * should have: from the kernel's, when it has one of the same size and
 * seed, so that only what must move moves.
 */
static int replace_table(const struct klb_service_spec *spec,
			 const struct apply_svc *cur, uint16_t **computed,
			 klb_error *e)
{
	static const struct apply_svc none;
	bool incremental;

	*computed = NULL;
	/* A size the kernel refuses: let it say why. */
	if (spec->table || !klb_sched_is_maglev(spec->conf.sched) ||
	    !klb_maglev_size_valid(spec->conf.table_size))
		return 0;
	incremental = cur && cur->table.ids &&
		      cur->svc.conf.table_size == spec->conf.table_size &&
		      !memcmp(cur->svc.conf.seed, spec->conf.seed, KLB_SEED_LEN);
	return apply_new_table(cur ? cur : &none, &spec->conf, incremental,
			       spec->backends, spec->nr_backends, computed, e);
}

/*
 * Makes spec's service what spec says, the configuration being at
 * generation *gen (which follows the writes). may_exist: the service may
 * be there (else it is known not to be, and is created).
 */
static int replace_at(struct klb_client *c, const struct klb_service_spec *spec,
		      bool may_exist, uint64_t *gen, klb_error *e)
{
	struct replace_op op = { .spec = spec };
	struct apply_svc cur;
	uint16_t *computed = NULL;
	struct klb_write w;
	int err;

	if (may_exist) {
		err = apply_svc_read(c, &spec->key, &cur, e);
		if (!err && cur.generation != *gen) {
			apply_svc_free(&cur);
			return klb_error_set(e, ESTALE, "configuration changed");
		}
		if (!err)
			op.cur = &cur;
		else if (err != -ENOENT)
			return err;
	}
	if (op.cur) {
		err = match_backends(&op, e);
		if (err)
			goto out;
	}
	err = replace_table(spec, op.cur, &computed, e);
	if (err)
		goto out;
	op.table = spec->table ? spec->table : computed;
	if (op.cur && service_same(&op))
		goto out;
	if (!op.cur) {
		w = apply_cas(*gen);
		err = klb_service_new(c, &spec->key, &spec->conf, &w, e);
		if (err)
			goto out;
		++*gen;
		if (!spec->nr_backends && !op.table)
			goto out;
	}
	err = apply_txn(c, &spec->key, *gen, replace_stage, &op, e);
	if (err && !op.cur && err != -ESTALE) {
		/* All of the service or none: not an empty shell. */
		klb_error ignored;

		w = apply_cas(*gen);
		klb_service_del(c, &spec->key, &w, &ignored);
	}
	if (!err)
		++*gen;
out:
	free(computed);
	match_free(&op);
	if (op.cur)
		apply_svc_free(&cur);
	return err;
}

static int replace_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	uint64_t gen;
	int err;

	err = klb_generation_get(c, &gen, e);
	return err ? err : replace_at(c, arg, true, &gen, e);
}

int klb_apply_service_replace(struct klb_client *c,
			      const struct klb_service_spec *spec,
			      klb_error *e)
{
	return apply_retry(c, replace_attempt, (void *)spec, e);
}

struct services_op {
	const struct klb_service_spec *specs;
	size_t n;
	struct klb_keyset keys;		/* service key -> index in specs */
	bool *exists;			/* [spec]: the kernel lists it */
	struct klb_apply_failure *where;
};

static void fail_at(struct klb_apply_failure *where,
		    const struct klb_service_key *key)
{
	where->has_service = !!key;
	if (key)
		where->service = *key;
}

static int services_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct services_op *op = arg;
	uint8_t key[KLB_KEYSET_KEY_MAX];
	struct klb_service *have = NULL;
	struct klb_write w;
	size_t nr_have, i;
	uint64_t gen;
	uint32_t j;
	int err;

	fail_at(op->where, NULL);
	err = klb_service_list(c, &have, &nr_have, &gen, e);
	if (err)
		return err;
	memset(op->exists, 0, op->n * sizeof(*op->exists));
	/* Services the specs do not name go first, freeing their room. */
	for (i = 0; i < nr_have; i++) {
		if (!klb_keyset_find(&op->keys, key,
				     klb_service_key_bytes(&have[i].key, key), &j)) {
			op->exists[j] = true;
			continue;
		}
		fail_at(op->where, &have[i].key);
		w = apply_cas(gen);
		err = klb_service_del(c, &have[i].key, &w, e);
		if (err)
			goto out;
		gen++;
	}
	for (i = 0; i < op->n; i++) {
		fail_at(op->where, &op->specs[i].key);
		err = replace_at(c, &op->specs[i], op->exists[i], &gen, e);
		if (err)
			goto out;
	}
	fail_at(op->where, NULL);
out:
	/* Not one service's fault: the whole attempt starts over. */
	if (err == -ESTALE)
		fail_at(op->where, NULL);
	free(have);
	return err;
}

int klb_apply_services(struct klb_client *c,
		       const struct klb_service_spec *specs, size_t n,
		       struct klb_apply_failure *where, klb_error *e)
{
	struct klb_apply_failure ignored;
	struct services_op op = { .specs = specs, .n = n,
				  .where = where ? where : &ignored };
	uint8_t key[KLB_KEYSET_KEY_MAX];
	uint32_t old;
	size_t i;
	int err = 0;

	fail_at(op.where, NULL);
	op.exists = calloc(n + 1, sizeof(*op.exists));
	if (!op.exists)
		return klb_error_set(e, ENOMEM, "out of memory");
	for (i = 0; !err && i < n; i++) {
		err = klb_keyset_add(&op.keys, key,
				     klb_service_key_bytes(&specs[i].key, key),
				     (uint32_t)i, &old);
		if (err > 0) {
			fail_at(op.where, &specs[i].key);
			err = klb_error_set(e, EINVAL, "service given twice");
		} else if (err < 0) {
			err = klb_error_set(e, ENOMEM, "out of memory");
		}
	}
	if (!err)
		err = apply_retry(c, services_attempt, &op, e);
	klb_keyset_free(&op.keys);
	free(op.exists);
	return err;
}

struct some_op {
	const struct klb_service_spec *specs;
	size_t n;
	const struct klb_service_key *gone;
	size_t n_gone;
	uint64_t from;
	struct klb_apply_failure *where;
};

static int some_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct some_op *op = arg;
	struct klb_write w;
	uint64_t gen;
	size_t i;
	int err;

	fail_at(op->where, NULL);
	err = klb_generation_get(c, &gen, e);
	if (err)
		return err;
	/*
	 * Another writer, or a part of an earlier attempt: the other
	 * services may not be what the caller thinks any more.
	 */
	if (gen != op->from)
		return klb_error_set(e, EAGAIN,
				     "the configuration is at generation %llu, not %llu",
				     (unsigned long long)gen,
				     (unsigned long long)op->from);
	/* The ones that go first, freeing their room. */
	for (i = 0; i < op->n_gone; i++) {
		fail_at(op->where, &op->gone[i]);
		w = apply_cas(gen);
		err = klb_service_del(c, &op->gone[i], &w, e);
		if (err == -ENOENT)
			continue;	/* never pushed, or already gone */
		if (err)
			goto out;
		gen++;
	}
	for (i = 0; i < op->n; i++) {
		fail_at(op->where, &op->specs[i].key);
		err = replace_at(c, &op->specs[i], true, &gen, e);
		if (err)
			goto out;
	}
	fail_at(op->where, NULL);
out:
	if (err == -ESTALE)
		fail_at(op->where, NULL);
	return err;
}

int klb_apply_services_some(struct klb_client *c,
			    const struct klb_service_spec *specs, size_t n,
			    const struct klb_service_key *gone, size_t n_gone,
			    uint64_t from, struct klb_apply_failure *where,
			    klb_error *e)
{
	struct klb_apply_failure ignored;
	struct some_op op = { .specs = specs, .n = n, .gone = gone,
			      .n_gone = n_gone, .from = from,
			      .where = where ? where : &ignored };

	return apply_retry(c, some_attempt, &op, e);
}
