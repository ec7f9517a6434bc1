// SPDX-License-Identifier: GPL-2.0
/*
 * The apply engine's single-object operations (a service's settings, one
 * backend, flush) and what every operation shares: reading a service in
 * one piece, computing its next table, the transaction and the retries.
 * Whole services and whole configurations are in klb_apply_services.c.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <klb/maglev.h>
#include <klb/sched.h>

#include "lib/klb_apply_internal.h"
#include "lib/klb_idset.h"
#include "lib/klb_tables.h"

void apply_svc_free(struct apply_svc *st)
{
	free(st->bes);
	free(st->table.ids);
	memset(st, 0, sizeof(*st));
}

int apply_svc_read(struct klb_client *c, const struct klb_service_key *key,
		   struct apply_svc *st, klb_error *e)
{
	uint64_t version;
	int err;

	memset(st, 0, sizeof(*st));
	err = klb_service_get(c, key, &st->svc, e);
	if (err)
		return err;
	st->generation = klb_client_generation(c);
	err = klb_backend_list(c, key, &st->bes, &st->nr_bes, &version, e);
	if (err)
		goto fail;
	if (st->nr_bes && version != st->svc.version)
		goto changed;
	if (klb_sched_is_maglev(st->svc.conf.sched) && st->svc.table_loaded) {
		err = klb_table_get(c, key, &st->table, e);
		if (err == -ENOENT)
			goto changed;	/* deleted since we looked */
		if (err)
			goto fail;
		if (st->table.version != st->svc.version)
			goto changed;
	}
	return 0;
changed:
	err = klb_error_set(e, ESTALE, "service changed while being read");
fail:
	apply_svc_free(st);
	return err;
}

/* Backend ids name table entries: the lowest one bes does not use. */
static int lowest_free_id(const struct klb_backend *bes, size_t n)
{
	struct klb_idset used;
	size_t i;

	klb_idset_clear(&used);
	for (i = 0; i < n; i++)
		klb_idset_add(&used, bes[i].id);
	return klb_idset_lowest_free(&used);
}

int apply_new_table(const struct apply_svc *st,
		    const struct klb_service_conf *conf, bool incremental,
		    const struct klb_backend *bes, size_t n, uint16_t **out,
		    klb_error *e)
{
	struct klb_table_input in = {
		.conf = conf,
		.old_bes = st->bes,
		.nr_old = st->nr_bes,
		.old_table = incremental ? st->table.ids : NULL,
		.new_bes = bes,
		.nr_new = n,
	};
	uint16_t *table = malloc(conf->table_size * sizeof(*table));
	int ret;

	*out = NULL;
	if (!table)
		return klb_error_set(e, ENOMEM, "out of memory");
	ret = klb_table_compute(&in, table, e);
	if (ret <= 0) {
		free(table);
		return ret;
	}
	*out = table;
	return 0;
}

int apply_txn(struct klb_client *c, const struct klb_service_key *key,
	      uint64_t generation, apply_stage_fn stage, void *arg,
	      klb_error *e)
{
	struct klb_write w = apply_cas(generation);
	klb_error ignored;
	uint64_t now;
	int err;

	err = klb_txn_begin(c, key, &w.txn, e);
	if (err)
		return err;
	klb_batch_begin(c);
	err = stage(c, &w, arg, e);
	if (!err)
		err = klb_batch_end(c, e);
	else
		klb_batch_end(c, &ignored);
	if (err) {
		klb_txn_abort(c, w.txn, &ignored);
		/*
		 * Staged writes are checked against the service as it is now,
		 * not as we read it: a concurrent writer shows up as a clash
		 * (a backend id taken meanwhile). Start over in that case.
		 */
		if (!klb_generation_get(c, &now, &ignored) && now != generation)
			return klb_error_set(e, ESTALE, "configuration changed");
		return err;
	}
	return klb_txn_commit(c, &w, e);
}

/* Random backoff, so that racing writers do not collide again in step. */
static void backoff(int attempt)
{
	unsigned int r = 0;
	struct timespec ts;
	long max_us = 1000L << (attempt < 6 ? attempt : 6);

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)attempt * 7919u;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(r % (unsigned long)max_us) * 1000;
	nanosleep(&ts, NULL);
}

int apply_retry(struct klb_client *c, apply_attempt_fn attempt, void *arg,
		klb_error *e)
{
	int i, err = 0;

	for (i = 0; i < KLB_APPLY_ATTEMPTS; i++) {
		err = attempt(c, arg, e);
		if (err != -ESTALE)
			return err;
		backoff(i);
	}
	return klb_error_set(e, ESTALE,
			     "the configuration kept changing under us; gave up after %d attempts",
			     KLB_APPLY_ATTEMPTS);
}

/* A write guarded by the whole configuration's current generation. */
static int cas_now(struct klb_client *c, struct klb_write *w, klb_error *e)
{
	uint64_t gen;
	int err;

	err = klb_generation_get(c, &gen, e);
	if (!err)
		*w = apply_cas(gen);
	return err;
}

/* ---- services -------------------------------------------------------------- */

struct service_op {
	const struct klb_service_key *key;
	const struct klb_service_conf *conf;
	uint32_t clear_flags;
	/* service set: what the transaction stages */
	struct klb_service_conf merged;
	uint16_t *table;
	bool del_table;
};

static int service_add_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct service_op *op = arg;
	struct klb_write w;
	int err = cas_now(c, &w, e);

	return err ? err : klb_service_new(c, op->key, op->conf, &w, e);
}

int klb_apply_service_add(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_service_conf *conf, klb_error *e)
{
	struct service_op op = { .key = key, .conf = conf };

	return apply_retry(c, service_add_attempt, &op, e);
}

static int service_set_stage(struct klb_client *c, const struct klb_write *w,
			     void *arg, klb_error *e)
{
	struct service_op *op = arg;
	int err;

	err = klb_service_set(c, op->key, &op->merged, w, e);
	if (!err && op->table)
		err = klb_table_set(c, op->key, op->table, op->merged.table_size, w, e);
	else if (!err && op->del_table)
		err = klb_table_del(c, op->key, w, e);
	return err;
}

static int service_set_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct service_op *op = arg;
	const struct klb_service_conf *set = op->conf;
	struct klb_service_conf *m = &op->merged;
	struct apply_svc st;
	bool rebuild, incremental;
	struct klb_write w;
	int err;

	err = apply_svc_read(c, op->key, &st, e);
	if (err)
		return err;
	*m = st.svc.conf;
	m->fields = set->fields;
	if (set->fields & KLB_SVC_SCHED)
		m->sched = set->sched;
	if (set->fields & KLB_SVC_FWD)
		m->fwd = set->fwd;
	if (set->fields & KLB_SVC_TABLE_SIZE)
		m->table_size = set->table_size;
	if (set->fields & KLB_SVC_BOUND)
		m->bound = set->bound;
	if (set->fields & KLB_SVC_SEED)
		memcpy(m->seed, set->seed, KLB_SEED_LEN);
	if (set->fields & KLB_SVC_FLAGS)
		m->flags = (st.svc.conf.flags | set->flags) & ~op->clear_flags;

	/*
	 * A table belongs to one size and seed: a new size or seed, or a
	 * scheduler that starts using a table, needs a table built anew.
	 */
	incremental = st.table.ids && m->table_size == st.svc.conf.table_size &&
		      !memcmp(m->seed, st.svc.conf.seed, KLB_SEED_LEN);
	rebuild = klb_sched_is_maglev(m->sched) &&
		  (!incremental || !klb_sched_is_maglev(st.svc.conf.sched));
	op->table = NULL;
	op->del_table = false;
	/* A size the kernel refuses: let it say why. */
	if (rebuild && klb_maglev_size_valid(m->table_size)) {
		err = apply_new_table(&st, m, false, st.bes, st.nr_bes, &op->table, e);
		if (err)
			goto out;
		op->del_table = !op->table && st.table.ids;
	}
	if (op->table || op->del_table) {
		err = apply_txn(c, op->key, st.generation, service_set_stage, op, e);
	} else {
		w = apply_cas(st.generation);
		err = klb_service_set(c, op->key, m, &w, e);
	}
out:
	free(op->table);
	op->table = NULL;
	apply_svc_free(&st);
	return err;
}

int klb_apply_service_set(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_service_conf *conf,
			  uint32_t clear_flags, klb_error *e)
{
	struct service_op op = { .key = key, .conf = conf,
				 .clear_flags = clear_flags };

	return apply_retry(c, service_set_attempt, &op, e);
}

static int service_del_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct service_op *op = arg;
	struct klb_write w;
	int err = cas_now(c, &w, e);

	return err ? err : klb_service_del(c, op->key, &w, e);
}

int klb_apply_service_del(struct klb_client *c,
			  const struct klb_service_key *key, klb_error *e)
{
	struct service_op op = { .key = key };

	return apply_retry(c, service_del_attempt, &op, e);
}

static int flush_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct klb_write w;
	int err = cas_now(c, &w, e);

	return err ? err : klb_flush(c, &w, e);
}

int klb_apply_flush(struct klb_client *c, klb_error *e)
{
	return apply_retry(c, flush_attempt, NULL, e);
}

/* ---- backends -------------------------------------------------------------- */

enum backend_cmd { BE_ADD, BE_SET, BE_DEL };

struct backend_op {
	enum backend_cmd cmd;
	const struct klb_service_key *key;
	const struct klb_backend *req;
	struct klb_backend be;		/* what is sent: with id, full */
	uint16_t *table;
	uint32_t table_size;
	bool del_table;
};

static int backend_send(struct klb_client *c, struct backend_op *op,
			const struct klb_write *w, klb_error *e)
{
	switch (op->cmd) {
	case BE_ADD:
		return klb_backend_new(c, op->key, &op->be, w, e);
	case BE_SET:
		return klb_backend_set(c, op->key, &op->be, w, e);
	default:
		return klb_backend_del(c, op->key, &op->be, w, e);
	}
}

static int backend_stage(struct klb_client *c, const struct klb_write *w,
			 void *arg, klb_error *e)
{
	struct backend_op *op = arg;
	int err;

	err = backend_send(c, op, w, e);
	if (!err && op->table)
		err = klb_table_set(c, op->key, op->table, op->table_size, w, e);
	else if (!err && op->del_table)
		err = klb_table_del(c, op->key, w, e);
	return err;
}

static int backend_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct backend_op *op = arg;
	struct klb_backend *bes = NULL, *cur;
	struct apply_svc st;
	struct klb_write w;
	size_t n;
	int err, id;

	err = apply_svc_read(c, op->key, &st, e);
	if (err)
		return err;
	cur = klb_backend_find(st.bes, st.nr_bes, &op->req->addr);
	bes = malloc((st.nr_bes + 1) * sizeof(*bes));
	if (!bes) {
		err = klb_error_set(e, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(bes, st.bes, st.nr_bes * sizeof(*bes));
	n = st.nr_bes;
	op->be = *op->req;
	if (op->cmd == BE_ADD) {
		if (cur) {
			err = klb_error_set(e, EEXIST,
					    "backend address and port already exist in the service");
			goto out;
		}
		id = lowest_free_id(st.bes, st.nr_bes);
		if (id < 0) {
			err = klb_error_set(e, -id, "no backend id left in the service");
			goto out;
		}
		op->be.id = (uint16_t)id;
		op->be.fields |= KLB_BE_ID;
		bes[n++] = op->be;
	} else {
		if (!cur) {
			err = klb_error_set(e, ENOENT, "no such backend in the service");
			goto out;
		}
		op->be.id = cur->id;
		op->be.fields |= KLB_BE_ID;
		cur = &bes[cur - st.bes];
		if (op->cmd == BE_SET) {
			if (op->req->fields & KLB_BE_WEIGHT)
				cur->weight = op->req->weight;
			if (op->req->fields & KLB_BE_STATE)
				cur->state = op->req->state;
		} else {
			*cur = bes[--n];
		}
	}

	op->table = NULL;
	op->del_table = false;
	op->table_size = st.svc.conf.table_size;
	if (klb_sched_is_maglev(st.svc.conf.sched)) {
		err = apply_new_table(&st, &st.svc.conf, !!st.table.ids, bes, n,
				      &op->table, e);
		if (err)
			goto out;
		op->del_table = !op->table && st.table.ids;
		if (op->table && st.table.ids &&
		    !memcmp(op->table, st.table.ids, op->table_size * sizeof(uint16_t))) {
			free(op->table);	/* nothing moves: keep it */
			op->table = NULL;
		}
	}
	if (op->table || op->del_table) {
		err = apply_txn(c, op->key, st.generation, backend_stage, op, e);
	} else {
		w = apply_cas(st.generation);
		err = backend_send(c, op, &w, e);
	}
out:
	free(op->table);
	op->table = NULL;
	free(bes);
	apply_svc_free(&st);
	return err;
}

static int backend_write(struct klb_client *c, enum backend_cmd cmd,
			 const struct klb_service_key *key,
			 const struct klb_backend *be, klb_error *e)
{
	struct backend_op op = { .cmd = cmd, .key = key, .req = be };

	return apply_retry(c, backend_attempt, &op, e);
}

int klb_apply_backend_add(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e)
{
	return backend_write(c, BE_ADD, key, be, e);
}

int klb_apply_backend_set(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e)
{
	return backend_write(c, BE_SET, key, be, e);
}

int klb_apply_backend_del(struct klb_client *c,
			  const struct klb_service_key *key,
			  const struct klb_backend *be, klb_error *e)
{
	return backend_write(c, BE_DEL, key, be, e);
}
