// SPDX-License-Identifier: GPL-2.0
/*
 * Writes straight to the kernel. Each write reads the kernel's current
 * state, computes the change from it (for Maglev services: the new table,
 * incrementally from the published one) and applies it under the config
 * generation compare-and-swap: when another writer got in between, the
 * kernel refuses with ESTALE and the whole read-compute-write runs again.
 * A backend change and its table go in one transaction, so packets see
 * both or neither.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <klb/maglev.h>

#include "klbctl/klbctl.h"

/* A service as read from the kernel, all parts from one version. */
struct svc_state {
	struct klb_service svc;
	struct klb_backend *bes;
	size_t nr_bes;
	struct klb_table table;		/* ids NULL when there is none */
	uint64_t generation;		/* as of the first read */
};

static void svc_state_free(struct svc_state *st)
{
	free(st->bes);
	free(st->table.ids);
	memset(st, 0, sizeof(*st));
}

static int read_service(struct klb_client *c, const struct klb_service_key *key,
			struct svc_state *st, klb_error *e)
{
	uint64_t version;
	int err;

	memset(st, 0, sizeof(*st));
	err = klb_service_get(c, key, &st->svc, e);
	if (err)
		return err;
	st->generation = c->generation;
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
	err = nl_error_set(e, ESTALE, "service changed while being read");
fail:
	svc_state_free(st);
	return err;
}

static struct klb_backend *find_backend(struct klb_backend *bes, size_t n,
					const struct klb_endpoint *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (klb_endpoint_equal(&bes[i].addr, addr))
			return &bes[i];
	return NULL;
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

/*
 * The table the service should have with backends bes: *out is NULL when
 * no backend takes new flows (the table is then deleted).
 */
static int new_table(const struct svc_state *st,
		     const struct klb_service_conf *conf, bool incremental,
		     const struct klb_backend *bes, size_t n, uint16_t **out,
		     klb_error *e)
{
	struct table_input in = {
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
		return nl_error_set(e, ENOMEM, "out of memory");
	ret = table_build(&in, table, e);
	if (ret <= 0) {
		free(table);
		return ret;
	}
	*out = table;
	return 0;
}

/* Staged writes of one transaction; called between batch begin and end. */
typedef int (*stage_fn)(struct klb_client *c, const struct klb_write *w,
			void *arg, klb_error *e);

/*
 * One transaction: begin, stage, commit under the generation guard. A
 * failure aborts it, so nothing is left half done.
 */
static int run_txn(struct klb_client *c, const struct klb_service_key *key,
		   uint64_t generation, stage_fn stage, void *arg, klb_error *e)
{
	struct klb_write w = { .check_generation = true,
			       .expect_generation = generation };
	klb_error ignored;
	int err;

	uint64_t now;

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
			return nl_error_set(e, ESTALE, "configuration changed");
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

typedef int (*attempt_fn)(struct klb_client *c, void *arg, klb_error *e);

/*
 * Runs attempt until no other writer gets in between; reports a failure
 * naming what (which the attempt may fill in) and returns the exit status.
 */
static int with_retries(struct ctx *ctx, const char *what, attempt_fn attempt,
			void *arg)
{
	struct klb_client *c;
	klb_error e = { 0 };
	int i, err = 0, ret;

	ret = ctx_client(ctx, &c);
	if (ret)
		return ret;
	for (i = 0; i < KLBCTL_CAS_RETRIES; i++) {
		err = attempt(c, arg, &e);
		if (err != -ESTALE)
			break;
		backoff(i);
	}
	if (err == -ESTALE)
		return report_msg(what, "the configuration kept changing under us; gave up after %d attempts",
				  KLBCTL_CAS_RETRIES);
	if (err)
		return report_error(what, &e);
	return EXIT_OK;
}

static struct klb_write cas(uint64_t generation)
{
	return (struct klb_write){ .check_generation = true,
				   .expect_generation = generation };
}

/* A write of the whole configuration's current generation. */
static int cas_now(struct klb_client *c, struct klb_write *w, klb_error *e)
{
	uint64_t gen;
	int err;

	err = klb_generation_get(c, &gen, e);
	if (!err)
		*w = cas(gen);
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

static int kernel_service_add(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_service_conf *conf)
{
	struct service_op op = { .key = key, .conf = conf };
	char what[WHAT_STRLEN];

	fmt_service_what(key, what);
	return with_retries(ctx, what, service_add_attempt, &op);
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
	struct svc_state st;
	bool rebuild, incremental;
	struct klb_write w;
	int err;

	err = read_service(c, op->key, &st, e);
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
		err = new_table(&st, m, false, st.bes, st.nr_bes, &op->table, e);
		if (err)
			goto out;
		op->del_table = !op->table && st.table.ids;
	}
	if (op->table || op->del_table) {
		err = run_txn(c, op->key, st.generation, service_set_stage, op, e);
	} else {
		w = cas(st.generation);
		err = klb_service_set(c, op->key, m, &w, e);
	}
out:
	free(op->table);
	op->table = NULL;
	svc_state_free(&st);
	return err;
}

static int kernel_service_set(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_service_conf *conf,
			      uint32_t clear_flags)
{
	struct service_op op = { .key = key, .conf = conf,
				 .clear_flags = clear_flags };
	char what[WHAT_STRLEN];

	fmt_service_what(key, what);
	return with_retries(ctx, what, service_set_attempt, &op);
}

static int service_del_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct service_op *op = arg;
	struct klb_write w;
	int err = cas_now(c, &w, e);

	return err ? err : klb_service_del(c, op->key, &w, e);
}

static int kernel_service_del(struct ctx *ctx, const struct klb_service_key *key)
{
	struct service_op op = { .key = key };
	char what[WHAT_STRLEN];

	fmt_service_what(key, what);
	return with_retries(ctx, what, service_del_attempt, &op);
}

static int flush_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct klb_write w;
	int err = cas_now(c, &w, e);

	return err ? err : klb_flush(c, &w, e);
}

static int kernel_flush(struct ctx *ctx)
{
	return with_retries(ctx, "flush", flush_attempt, NULL);
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
	struct svc_state st;
	struct klb_write w;
	size_t n;
	int err, id;

	err = read_service(c, op->key, &st, e);
	if (err)
		return err;
	cur = find_backend(st.bes, st.nr_bes, &op->req->addr);
	bes = malloc((st.nr_bes + 1) * sizeof(*bes));
	if (!bes) {
		err = nl_error_set(e, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(bes, st.bes, st.nr_bes * sizeof(*bes));
	n = st.nr_bes;
	op->be = *op->req;
	if (op->cmd == BE_ADD) {
		if (cur) {
			err = nl_error_set(e, EEXIST,
					   "backend address and port already exist in the service");
			goto out;
		}
		id = lowest_free_id(st.bes, st.nr_bes);
		if (id < 0) {
			err = nl_error_set(e, -id, "no backend id left in the service");
			goto out;
		}
		op->be.id = (uint16_t)id;
		op->be.fields |= KLB_BE_ID;
		bes[n++] = op->be;
	} else {
		if (!cur) {
			err = nl_error_set(e, ENOENT, "no such backend in the service");
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
		err = new_table(&st, &st.svc.conf, st.table.ids != NULL, bes, n,
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
		err = run_txn(c, op->key, st.generation, backend_stage, op, e);
	} else {
		w = cas(st.generation);
		err = backend_send(c, op, &w, e);
	}
out:
	free(op->table);
	op->table = NULL;
	free(bes);
	svc_state_free(&st);
	return err;
}

static int backend_write(struct ctx *ctx, enum backend_cmd cmd,
			 const struct klb_service_key *key,
			 const struct klb_backend *be)
{
	struct backend_op op = { .cmd = cmd, .key = key, .req = be };
	char what[160];

	fmt_backend(key, &be->addr, what, sizeof(what));
	return with_retries(ctx, what, backend_attempt, &op);
}

static int kernel_backend_add(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, BE_ADD, key, be);
}

static int kernel_backend_set(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, BE_SET, key, be);
}

static int kernel_backend_del(struct ctx *ctx, const struct klb_service_key *key,
			      const struct klb_backend *be)
{
	return backend_write(ctx, BE_DEL, key, be);
}

/* ---- restore --------------------------------------------------------------- */

struct restore_op {
	const struct restore_service *want;
	size_t n;
	const struct restore_service *svc;	/* being staged */
	struct svc_state *cur;			/* its current state, or NULL */
	char what[WHAT_STRLEN];			/* for errors */
};

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

/* The kernel already holds exactly what the input says. */
static bool service_same(const struct restore_service *want,
			 const struct svc_state *cur)
{
	size_t i;

	if (!conf_same(&want->conf, &cur->svc.conf) ||
	    want->nr_backends != cur->nr_bes || !want->table != !cur->table.ids)
		return false;
	for (i = 0; i < want->nr_backends; i++) {
		struct klb_backend *b = find_backend(cur->bes, cur->nr_bes,
						     &want->backends[i].addr);

		if (!b || !backend_same(b, &want->backends[i]))
			return false;
	}
	return !want->table || !memcmp(want->table, cur->table.ids,
				       want->conf.table_size * sizeof(uint16_t));
}

static int restore_stage(struct klb_client *c, const struct klb_write *w,
			 void *arg, klb_error *e)
{
	struct restore_op *op = arg;
	const struct restore_service *svc = op->svc;
	struct svc_state *cur = op->cur;
	size_t i;
	int err;

	if (cur) {
		err = klb_service_set(c, &svc->key, &svc->conf, w, e);
		/* Backends that go, or keep their address under a new id. */
		for (i = 0; !err && i < cur->nr_bes; i++) {
			const struct klb_backend *b = &cur->bes[i];
			size_t j;

			for (j = 0; j < svc->nr_backends; j++)
				if (klb_endpoint_equal(&svc->backends[j].addr, &b->addr) &&
				    svc->backends[j].id == b->id)
					break;
			if (j == svc->nr_backends)
				err = klb_backend_del(c, &svc->key, b, w, e);
		}
		if (err)
			return err;
	}
	/*
	 * Highest id first: the kernel sizes a snapshot's slot array by the
	 * largest id, so ascending ids would regrow it for every backend.
	 */
	for (i = svc->nr_backends; i-- > 0;) {
		const struct klb_backend *b = &svc->backends[i];
		const struct klb_backend *old = cur ?
			find_backend(cur->bes, cur->nr_bes, &b->addr) : NULL;

		if (old && old->id == b->id) {
			if (!backend_same(old, b))
				err = klb_backend_set(c, &svc->key, b, w, e);
		} else {
			err = klb_backend_new(c, &svc->key, b, w, e);
		}
		if (err)
			return err;
	}
	if (svc->table)
		return klb_table_set(c, &svc->key, svc->table, svc->conf.table_size,
				     w, e);
	if (cur && cur->table.ids)
		return klb_table_del(c, &svc->key, w, e);
	return 0;
}

static int restore_attempt(struct klb_client *c, void *arg, klb_error *e)
{
	struct restore_op *op = arg;
	struct klb_service *have = NULL;
	struct klb_write w;
	size_t nr_have, i, j;
	uint64_t gen;
	int err;

	err = klb_service_list(c, &have, &nr_have, &gen, e);
	if (err)
		return err;
	snprintf(op->what, sizeof(op->what), "restore");
	/* Services the input does not name go first, freeing their room. */
	for (i = 0; i < nr_have; i++) {
		for (j = 0; j < op->n; j++)
			if (klb_service_key_equal(&have[i].key, &op->want[j].key))
				break;
		if (j < op->n)
			continue;
		fmt_service_what(&have[i].key, op->what);
		w = cas(gen);
		err = klb_service_del(c, &have[i].key, &w, e);
		if (err)
			goto out;
		gen++;
	}
	for (j = 0; j < op->n; j++) {
		const struct restore_service *svc = &op->want[j];
		struct svc_state cur, *curp = NULL;

		fmt_service_what(&svc->key, op->what);
		for (i = 0; i < nr_have; i++)
			if (klb_service_key_equal(&have[i].key, &svc->key))
				break;
		if (i < nr_have) {
			err = read_service(c, &svc->key, &cur, e);
			if (err)
				goto out;
			if (cur.generation != gen) {
				svc_state_free(&cur);
				err = nl_error_set(e, ESTALE, "configuration changed");
				goto out;
			}
			if (service_same(svc, &cur)) {
				svc_state_free(&cur);
				continue;
			}
			curp = &cur;
		} else {
			w = cas(gen);
			err = klb_service_new(c, &svc->key, &svc->conf, &w, e);
			if (err)
				goto out;
			gen++;
			if (!svc->nr_backends && !svc->table)
				continue;
		}
		op->svc = svc;
		op->cur = curp;
		err = run_txn(c, &svc->key, gen, restore_stage, op, e);
		if (curp)
			svc_state_free(curp);
		if (err && !curp && err != -ESTALE) {
			/* All of the service or none: not an empty shell. */
			klb_error ignored;

			w = cas(gen);
			klb_service_del(c, &svc->key, &w, &ignored);
		}
		if (err)
			goto out;
		gen++;
	}
out:
	/* Not one service's fault: the whole restore starts over. */
	if (err == -ESTALE)
		snprintf(op->what, sizeof(op->what), "restore");
	free(have);
	return err;
}

static int kernel_restore(struct ctx *ctx, const struct restore_service *svcs,
			  size_t n)
{
	struct restore_op op = { .want = svcs, .n = n, .what = "restore" };

	/* The attempt names the service it was at when it failed. */
	return with_retries(ctx, op.what, restore_attempt, &op);
}

const struct klbctl_ops kernel_ops = {
	.name = "kernel",
	.service_add = kernel_service_add,
	.service_set = kernel_service_set,
	.service_del = kernel_service_del,
	.backend_add = kernel_backend_add,
	.backend_set = kernel_backend_set,
	.backend_del = kernel_backend_del,
	.flush = kernel_flush,
	.restore = kernel_restore,
};
