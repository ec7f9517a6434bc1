// SPDX-License-Identifier: GPL-2.0
/*
 * Incremental updates. Random sequences of adds, removes, weight and state
 * changes and batches, seeded (KLB_SEED), with every property checked after
 * every step against counts this file computes itself:
 *
 *  - balance: every active backend within one entry of M * w / W, nobody
 *    else holds anything;
 *  - least movement: as many entries move as the bounds force and no more
 *    (a removal moves the removed share, an addition the new share, a weight
 *    change the difference), entries only leave backends that shrink or
 *    went away and only reach backends that grow;
 *  - a backend (or a batch) that leaves and comes back with nothing else
 *    changed gets exactly its old entries: the table is the one before;
 *  - determinism: a replica fed the same changes through the other entry
 *    point (a shuffled full list), and one decoded from the encoded state,
 *    stay byte-identical;
 *  - what klbctl can do from the kernel's table and the list alone
 *    (maglev_state_import without base) gives the same next table unless a
 *    backend is coming back.
 */
#include "kselftest_harness.h"
#include "lib/maglev.h"
#include "testutil.h"

#define MAX_BACKENDS	400
#define NONE		KLB_BACKEND_ID_NONE

struct model {
	uint32_t m;
	struct klb_hash_seed seed;
	struct maglev_backend b[MAX_BACKENDS];
	size_t n;
	size_t cap;			/* most backends this run keeps */
	int weights;			/* 0 equal, 1 small, 2 any 16-bit */
	uint32_t next_host;		/* fresh identities */
};

/* What one step did, for the report at the end. */
struct tally {
	size_t steps, flaps, exact_returns, between, moved, returning;
};

static int64_t find(const struct maglev_backend *b, size_t n, uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].id == id)
			return i;
	return -1;
}

static bool same_backend(const struct maglev_backend *a,
			 const struct maglev_backend *b)
{
	return a->id == b->id && !memcmp(a->addr, b->addr, 16) &&
	       a->port == b->port;
}

static bool active(const struct maglev_backend *b)
{
	return b->state == KLB_BACKEND_UP && b->weight > 0;
}

/*
 * All the per-step properties, from first principles: prev is the state
 * before, nb[n] the list after, table/base the state after. slack is how
 * many entries above the least the step may move: a backend coming back
 * takes back as many of its reserved entries as its bounds allow, up to
 * two above its lower bound when its fair share is a whole number.
 * Returns the number of entries moved; *between tells whether entries had
 * to move between backends that stayed (a weight change, an addition, or
 * rounding).
 */
static size_t check_step(struct __test_metadata *_metadata,
			 const struct maglev_state *prev,
			 const struct maglev_backend *nb, size_t n,
			 const uint16_t *table, const uint16_t *base,
			 size_t slack, bool *between)
{
	static int32_t old_of[NONE + 1], new_of[NONE + 1];
	static uint32_t had[NONE + 1], holds[NONE + 1];
	const uint16_t *old = prev->table;
	uint32_t m = prev->m, s;
	uint64_t total = 0, lack = 0, extra = 0, freed = 0, least;
	size_t i, moved = 0, nactive = 0, ids = 1;

	for (i = 0; i < prev->nr_backends; i++)
		if (prev->backends[i].id >= ids)
			ids = prev->backends[i].id + 1;
	for (i = 0; i < n; i++)
		if (nb[i].id >= ids)
			ids = nb[i].id + 1;
	memset(old_of, 0xff, ids * sizeof(*old_of));
	memset(new_of, 0xff, ids * sizeof(*new_of));
	memset(had, 0, n * sizeof(*had));
	memset(holds, 0, n * sizeof(*holds));
	old_of[NONE] = new_of[NONE] = -1;
	for (i = 0; i < prev->nr_backends; i++)
		old_of[prev->backends[i].id] = i;
	for (i = 0; i < n; i++) {
		new_of[nb[i].id] = i;
		if (active(&nb[i])) {
			total += nb[i].weight;
			nactive++;
		}
	}

	for (s = 0; s < m; s++) {
		int32_t o = old[s] == NONE ? -1 : old_of[old[s]];
		int32_t k = table[s] == NONE ? -1 : new_of[table[s]];

		/* Only active backends of the new list, and all slots if any. */
		if (nactive)
			ASSERT_NE(-1, k) TH_LOG("slot %u empty", s);
		if (k >= 0)
			ASSERT_TRUE(active(&nb[k])) TH_LOG("slot %u", s);
		if (k >= 0)
			holds[k]++;
		/* Old entries of backends that are the same one now. */
		if (o >= 0 && new_of[old[s]] >= 0 &&
		    same_backend(&prev->backends[o], &nb[new_of[old[s]]]))
			had[new_of[old[s]]]++;
		/* Base: a reservation only for a present, unavailable backend. */
		if (base[s] != table[s]) {
			int32_t r = base[s] == NONE ? -1 : new_of[base[s]];

			ASSERT_NE(-1, r) TH_LOG("base slot %u", s);
			ASSERT_FALSE(active(&nb[r]));
		}
	}

	for (i = 0; i < n; i++) {
		uint64_t mw = (uint64_t)m * nb[i].weight, lo, hi;

		if (!active(&nb[i])) {
			ASSERT_EQ(0, holds[i]);
			continue;
		}
		/* |holds * W - M * w| <= W */
		ASSERT_LE((uint64_t)holds[i] * total, mw + total)
			TH_LOG("backend %u holds %u, weight %u of %llu",
			       nb[i].id, holds[i], nb[i].weight,
			       (unsigned long long)total);
		ASSERT_GE((uint64_t)holds[i] * total + total, mw)
			TH_LOG("backend %u holds %u, weight %u of %llu",
			       nb[i].id, holds[i], nb[i].weight,
			       (unsigned long long)total);
		lo = mw <= total ? 0 : (mw - total + total - 1) / total;
		hi = (mw + total) / total;
		if (had[i] < lo)
			lack += lo - had[i];
		if (had[i] > hi)
			extra += had[i] - hi;
	}

	/* Entries whose backend is gone or not active any more must move. */
	for (s = 0; s < m; s++) {
		int32_t k = new_of[old[s]];
		int32_t o = old_of[old[s]];

		if (!nactive)
			break;
		if (old[s] == NONE || k < 0 || !active(&nb[k]) ||
		    !same_backend(&prev->backends[o], &nb[k]))
			freed++;
	}
	least = lack > freed + extra ? lack : freed + extra;

	for (s = 0; s < m; s++) {
		int32_t o = old[s] == NONE ? -1 : old_of[old[s]];
		int32_t to = table[s] == NONE ? -1 : new_of[table[s]];
		int32_t from = o >= 0 && new_of[old[s]] >= 0 &&
			       same_backend(&prev->backends[o],
					    &nb[new_of[old[s]]]) ?
			       new_of[old[s]] : -1;

		if (from == to && (from >= 0 || table[s] == old[s]))
			continue;
		moved++;
		/* Leaves a backend that shrinks or is gone ... */
		if (from >= 0 && active(&nb[from]))
			ASSERT_LT(holds[from], had[from])
				TH_LOG("slot %u left backend %u", s, nb[from].id);
		/* ... for one that grows. */
		if (to >= 0)
			ASSERT_GT(holds[to], had[to])
				TH_LOG("slot %u went to backend %u", s, nb[to].id);
	}
	if (nactive) {
		ASSERT_GE(moved, least);
		ASSERT_LE(moved, least + slack)
			TH_LOG("moved %zu, least %llu, slack %zu", moved,
			       (unsigned long long)least, slack);
	}
	*between = least > freed && nactive;
	return moved;
}

/* Backends active after but not before, that were already in the list. */
static size_t count_returning(const struct maglev_state *prev,
			      const struct maglev_backend *nb, size_t n)
{
	size_t i, r = 0;

	for (i = 0; i < n; i++) {
		int64_t o = find(prev->backends, prev->nr_backends, nb[i].id);

		if (o >= 0 && active(&nb[i]) && !active(&prev->backends[o]) &&
		    same_backend(&prev->backends[o], &nb[i]))
			r++;
	}
	return r;
}

static bool states_equal(const struct maglev_state *a,
			 const struct maglev_state *b)
{
	size_t la = maglev_state_encoded_size(a);
	uint8_t *ea = malloc(la), *eb = malloc(la);
	bool eq = la == maglev_state_encoded_size(b);

	if (eq) {
		maglev_state_encode(a, ea, la);
		maglev_state_encode(b, eb, la);
		eq = !memcmp(ea, eb, la);
	}
	free(ea);
	free(eb);
	return eq;
}

static uint16_t lowest_free_id(const struct maglev_backend *b, size_t n)
{
	uint16_t id;

	for (id = 0; find(b, n, id) >= 0; id++)
		;
	return id;
}

static uint32_t random_weight(struct model *md, struct test_rng *rng)
{
	switch (md->weights) {
	case 0:
		return 1;
	case 1:
		return 1 + test_below(rng, 10);
	default:
		return test_below(rng, 4) ? 1 + test_below(rng, 65535) :
		       1 + test_below(rng, 3);
	}
}

/*
 * One random change, applied to the model's list and appended to ch[].
 * Returns false when it does not apply (e.g. remove from an empty list).
 */
static bool random_change(struct model *md, struct test_rng *rng,
			  struct maglev_change *ch)
{
	uint32_t kind = test_below(rng, 10);
	int64_t i = md->n ? (int64_t)test_below(rng, md->n) : -1;

	memset(ch, 0, sizeof(*ch));
	if ((kind < 3 && md->n < md->cap) || md->n == 0) {
		if (md->n >= md->cap)
			return false;
		ch->op = MAGLEV_ADD;
		test_backend(&ch->backend, md->next_host++,
			     lowest_free_id(md->b, md->n),
			     random_weight(md, rng),
			     test_below(rng, 6) ? KLB_BACKEND_UP :
			     test_below(rng, 3));
		md->b[md->n++] = ch->backend;
		return true;
	}
	ch->backend.id = md->b[i].id;
	if (kind < 5) {
		ch->op = MAGLEV_REMOVE;
		md->b[i] = md->b[--md->n];
	} else if (kind < 7) {
		ch->op = MAGLEV_SET_WEIGHT;
		ch->backend.weight = test_below(rng, 8) ?
				     random_weight(md, rng) : 0;
		md->b[i].weight = ch->backend.weight;
	} else {
		ch->op = MAGLEV_SET_STATE;
		ch->backend.state = test_below(rng, 3);
		md->b[i].state = ch->backend.state;
	}
	return true;
}

struct replicas {
	struct maglev_state primary;	/* fed change lists */
	struct maglev_state replica;	/* fed full, shuffled lists */
};

/*
 * Applies ch[] (already applied to md's list) to both replicas and checks
 * everything.
 */
static void apply(struct __test_metadata *_metadata, struct model *md,
		  struct replicas *r, const struct maglev_change *ch, size_t nch,
		  struct test_rng *rng, struct tally *t, bool *between)
{
	struct maglev_backend shuffled[MAX_BACKENDS];
	struct maglev_state prev, cli;
	size_t i, returning, moved;
	bool cli_between;

	ASSERT_EQ(0, maglev_state_copy(&prev, &r->primary));
	ASSERT_EQ(0, maglev_update(&r->primary, ch, nch));

	memcpy(shuffled, md->b, md->n * sizeof(*shuffled));
	for (i = md->n; i > 1; i--) {
		size_t j = test_below(rng, i);
		struct maglev_backend tmp = shuffled[i - 1];

		shuffled[i - 1] = shuffled[j];
		shuffled[j] = tmp;
	}
	ASSERT_EQ(0, maglev_update_list(&r->replica, shuffled, md->n));
	ASSERT_TRUE(states_equal(&r->primary, &r->replica));
	ASSERT_EQ(md->n, r->primary.nr_backends);
	for (i = 0; i < md->n; i++) {
		int64_t k = find(r->primary.backends, md->n, md->b[i].id);

		ASSERT_LE(0, k);
		ASSERT_TRUE(same_backend(&md->b[i], &r->primary.backends[k]));
		ASSERT_EQ(md->b[i].weight, r->primary.backends[k].weight);
		ASSERT_EQ(md->b[i].state, r->primary.backends[k].state);
	}

	returning = count_returning(&prev, md->b, md->n);
	moved = check_step(_metadata, &prev, md->b, md->n, r->primary.table,
			   r->primary.base, 2 * returning, between);

	/* The same step from the kernel's table and the list alone. */
	ASSERT_EQ(0, maglev_state_import(&cli, prev.m, &prev.seed,
					 prev.backends, prev.nr_backends,
					 prev.table, NULL));
	ASSERT_EQ(0, maglev_update_list(&cli, shuffled, md->n));
	if (!returning)
		ASSERT_EQ(0, memcmp(cli.table, r->primary.table,
				    prev.m * sizeof(*cli.table)));
	check_step(_metadata, &prev, md->b, md->n, cli.table, cli.base, 0,
		   &cli_between);

	t->steps++;
	t->moved += moved;
	t->returning += returning;
	t->between += *between;
	maglev_state_free(&cli);
	maglev_state_free(&prev);
}

/* Encode, decode, and go on with the decoded replica. */
static void round_trip(struct __test_metadata *_metadata, struct replicas *r)
{
	size_t len = maglev_state_encoded_size(&r->replica);
	uint8_t *buf = malloc(len);
	struct maglev_state decoded;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((long)len, maglev_state_encode(&r->replica, buf, len));
	ASSERT_EQ(0, maglev_state_decode(&decoded, buf, len));
	ASSERT_TRUE(states_equal(&decoded, &r->primary));
	maglev_state_free(&r->replica);
	r->replica = decoded;
	free(buf);
}

/*
 * A random subset of the active backends (one, or about 5%) goes down,
 * drains or drops to weight 0; then all of them come back in one batch.
 */
static void flap(struct __test_metadata *_metadata, struct model *md,
		 struct replicas *r, struct test_rng *rng, struct tally *t)
{
	struct maglev_change leave[MAX_BACKENDS], back[MAX_BACKENDS];
	size_t i, k = 0, want;
	uint16_t *before;
	bool between_leave, between_back;
	size_t nactive = 0;

	for (i = 0; i < md->n; i++)
		nactive += active(&md->b[i]);
	if (!nactive)
		return;
	want = test_below(rng, 2) ? 1 : (nactive + 19) / 20;
	before = malloc(md->m * sizeof(*before));
	ASSERT_NE(NULL, before);
	memcpy(before, r->primary.table, md->m * sizeof(*before));
	for (i = 0; i < md->n && k < want; i++) {
		struct maglev_backend *b = &md->b[(i + test_below(rng, 3)) % md->n];
		bool dup = false;
		size_t j;

		for (j = 0; j < k; j++)
			dup |= back[j].backend.id == b->id;
		if (!active(b) || dup)
			continue;
		memset(&leave[k], 0, sizeof(leave[k]));
		leave[k].backend.id = b->id;
		back[k] = leave[k];
		if (test_below(rng, 3)) {
			leave[k].op = back[k].op = MAGLEV_SET_STATE;
			leave[k].backend.state = test_below(rng, 2) ?
						 KLB_BACKEND_DOWN :
						 KLB_BACKEND_DRAIN;
			back[k].backend.state = KLB_BACKEND_UP;
			b->state = leave[k].backend.state;
		} else {
			leave[k].op = back[k].op = MAGLEV_SET_WEIGHT;
			back[k].backend.weight = b->weight;
			b->weight = 0;
		}
		k++;
	}
	if (!k) {
		free(before);
		return;
	}
	apply(_metadata, md, r, leave, k, rng, t, &between_leave);
	for (i = 0; i < k; i++) {
		int64_t j = find(md->b, md->n, back[i].backend.id);

		if (back[i].op == MAGLEV_SET_STATE)
			md->b[j].state = KLB_BACKEND_UP;
		else
			md->b[j].weight = back[i].backend.weight;
	}
	apply(_metadata, md, r, back, k, rng, t, &between_back);
	t->flaps++;
	/*
	 * Leaving moved only the leavers' entries: coming back must restore
	 * the table exactly. (Were rounding to force other entries to move
	 * too, those would not be tied to the leavers.)
	 */
	if (!between_leave) {
		ASSERT_EQ(0, memcmp(before, r->primary.table,
				    md->m * sizeof(*before)))
			TH_LOG("%zu backends came back to a different table", k);
		t->exact_returns++;
	}
	free(before);
}

static void run_sequence(struct __test_metadata *_metadata, uint64_t seed,
			 uint32_t m, size_t cap, int weights, size_t steps,
			 struct tally *t)
{
	struct test_rng rng = { seed };
	struct model *md = calloc(1, sizeof(*md));
	struct maglev_change ch[8];
	struct replicas r;
	size_t step, i, n0;

	ASSERT_NE(NULL, md);
	md->m = m;
	md->cap = cap;
	md->weights = weights;
	md->seed.k0 = test_rand(&rng);
	md->seed.k1 = test_rand(&rng);
	md->next_host = 1 + test_below(&rng, 1000);
	n0 = 1 + test_below(&rng, cap);
	for (i = 0; i < n0; i++)
		test_backend(&md->b[md->n++], md->next_host++, i,
			     random_weight(md, &rng), KLB_BACKEND_UP);
	ASSERT_EQ(0, maglev_state_init(&r.primary, m, &md->seed, md->b, md->n));
	ASSERT_EQ(0, maglev_state_copy(&r.replica, &r.primary));

	for (step = 0; step < steps; step++) {
		uint32_t what = test_below(&rng, 20);
		size_t nch = 0, want;
		bool between;

		if (what < 2) {
			flap(_metadata, md, &r, &rng, t);
			continue;
		}
		want = what < 5 ? 2 + test_below(&rng, 7) : 1;
		while (nch < want)
			if (random_change(md, &rng, &ch[nch]))
				nch++;
		apply(_metadata, md, &r, ch, nch, &rng, t, &between);
		if (test_below(&rng, 50) == 0)
			round_trip(_metadata, &r);
	}
	maglev_state_free(&r.primary);
	maglev_state_free(&r.replica);
	free(md);
}

static void report(const char *name, const struct tally *t)
{
	printf("# %s: %zu steps, %zu entries moved, %zu steps moved entries "
	       "between staying backends, %zu leave-and-return batches, "
	       "%zu of them checked to restore the table exactly\n",
	       name, t->steps, t->moved, t->between, t->flaps,
	       t->exact_returns);
	fflush(stdout);
}

/* >= 10,000 steps over table sizes, list sizes and weight kinds. */
TEST(random_sequences)
{
	static const struct {
		uint32_t m;
		size_t cap;
		int weights;
		size_t steps;
	} runs[] = {
		{ 7, 7, 0, 1000 }, { 7, 7, 2, 1000 },
		{ 13, 13, 1, 1000 }, { 13, 6, 2, 1000 },
		{ 251, 40, 0, 1000 }, { 251, 60, 1, 1000 }, { 251, 30, 2, 1000 },
		{ 16381, 100, 0, 800 }, { 16381, 100, 1, 800 },
		{ 16381, 300, 2, 800 },
		{ 65537, 400, 0, 300 }, { 65537, 50, 2, 300 },
	};
	uint64_t seed = test_seed("random_sequences");
	struct tally t = { 0 };
	size_t i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		run_sequence(_metadata, seed + i, runs[i].m, runs[i].cap,
			     runs[i].weights, runs[i].steps, &t);
	report("random_sequences", &t);
	EXPECT_GE(t.steps, 10000);
}

/* The model's side of a change. */
static void model_apply(struct model *md, const struct maglev_change *ch)
{
	int64_t i = find(md->b, md->n, ch->backend.id);

	switch (ch->op) {
	case MAGLEV_ADD:
		md->b[md->n++] = ch->backend;
		break;
	case MAGLEV_REMOVE:
		md->b[i] = md->b[--md->n];
		break;
	case MAGLEV_SET_WEIGHT:
		md->b[i].weight = ch->backend.weight;
		break;
	case MAGLEV_SET_STATE:
		md->b[i].state = ch->backend.state;
		break;
	}
}

/* Every single change of a small list: removes, adds, weights, states. */
static size_t all_changes(const struct model *md, struct maglev_change *ch)
{
	size_t i, k = 0;
	uint32_t w;

	for (i = 0; i < md->n; i++) {
		uint16_t id = md->b[i].id;

		memset(&ch[k], 0, sizeof(ch[k]));
		ch[k].op = MAGLEV_REMOVE;
		ch[k++].backend.id = id;
		for (w = 0; w <= 3; w++) {
			if (w == md->b[i].weight)
				continue;
			memset(&ch[k], 0, sizeof(ch[k]));
			ch[k].op = MAGLEV_SET_WEIGHT;
			ch[k].backend.id = id;
			ch[k++].backend.weight = w;
		}
		for (w = 0; w <= KLB_BACKEND_STATE_MAX; w++) {
			if (w == md->b[i].state)
				continue;
			memset(&ch[k], 0, sizeof(ch[k]));
			ch[k].op = MAGLEV_SET_STATE;
			ch[k].backend.id = id;
			ch[k++].backend.state = w;
		}
	}
	for (w = 1; w <= 3 && md->n < md->m; w++) {
		ch[k].op = MAGLEV_ADD;
		test_backend(&ch[k++].backend, 100 + 10 * md->n + w,
			     lowest_free_id(md->b, md->n), w, KLB_BACKEND_UP);
	}
	return k;
}

/* The change that undoes ch when ch made a backend unavailable. */
static bool undo_leave(const struct model *before,
		       const struct maglev_change *ch, struct maglev_change *back)
{
	int64_t i = find(before->b, before->n, ch->backend.id);

	if (i < 0 || !active(&before->b[i]))
		return false;
	*back = *ch;
	if (ch->op == MAGLEV_SET_WEIGHT && ch->backend.weight == 0)
		back->backend.weight = before->b[i].weight;
	else if (ch->op == MAGLEV_SET_STATE)
		back->backend.state = KLB_BACKEND_UP;
	else
		return false;
	return true;
}

/*
 * Applies ch on top of md/r, checks it, and when it made a backend
 * unavailable, checks that undoing it restores the table.
 */
static void try_change(struct __test_metadata *_metadata,
		       const struct model *md, const struct replicas *r,
		       const struct maglev_change *ch, struct test_rng *rng,
		       struct tally *t, struct model *out_md,
		       struct replicas *out_r)
{
	struct maglev_change back;
	bool between;

	*out_md = *md;
	ASSERT_EQ(0, maglev_state_copy(&out_r->primary, &r->primary));
	ASSERT_EQ(0, maglev_state_copy(&out_r->replica, &r->replica));
	model_apply(out_md, ch);
	apply(_metadata, out_md, out_r, ch, 1, rng, t, &between);
	if (undo_leave(md, ch, &back)) {
		struct model again = *out_md;
		struct replicas r2;
		bool between_back;

		ASSERT_EQ(0, maglev_state_copy(&r2.primary, &out_r->primary));
		ASSERT_EQ(0, maglev_state_copy(&r2.replica, &out_r->replica));
		model_apply(&again, &back);
		apply(_metadata, &again, &r2, &back, 1, rng, t, &between_back);
		t->flaps++;
		if (!between) {
			ASSERT_EQ(0, memcmp(r->primary.table, r2.primary.table,
					    md->m * sizeof(uint16_t)));
			t->exact_returns++;
		}
		maglev_state_free(&r2.primary);
		maglev_state_free(&r2.replica);
	}
}

static void free_replicas(struct replicas *r)
{
	maglev_state_free(&r->primary);
	maglev_state_free(&r->replica);
}

/*
 * Exhaustive small cases: M = 7, 13, 251, every list of up to four backends
 * with weights 1..3, every single change (and at M = 7 and 13 with up to
 * three backends, every pair of changes), each undone when it made a
 * backend unavailable.
 */
TEST(exhaustive_small)
{
	static const uint32_t sizes[] = { 7, 13, 251 };
	static struct model md, md1, md2;
	struct maglev_change ch1[64], ch2[64];
	struct test_rng rng = { 1 };
	struct tally t = { 0 };
	size_t si, n, i, j, k1, k2;
	uint32_t code, combos;

	for (si = 0; si < 3; si++) {
		for (n = 1; n <= 4; n++) {
			for (combos = 1, i = 0; i < n; i++)
				combos *= 3;
			for (code = 0; code < combos; code++) {
				struct replicas r, r1, r2;
				uint32_t c = code;

				memset(&md, 0, sizeof(md));
				md.m = sizes[si];
				md.seed.k0 = code;
				md.n = n;
				for (i = 0; i < n; i++, c /= 3)
					test_backend(&md.b[i], 3 * i + 1, i,
						     1 + c % 3, KLB_BACKEND_UP);
				ASSERT_EQ(0, maglev_state_init(&r.primary, md.m,
							       &md.seed, md.b,
							       n));
				ASSERT_EQ(0, maglev_state_copy(&r.replica,
							       &r.primary));
				k1 = all_changes(&md, ch1);
				for (i = 0; i < k1; i++) {
					try_change(_metadata, &md, &r, &ch1[i],
						   &rng, &t, &md1, &r1);
					if (md.m > 13 || n > 3) {
						free_replicas(&r1);
						continue;
					}
					k2 = all_changes(&md1, ch2);
					for (j = 0; j < k2; j++) {
						try_change(_metadata, &md1, &r1,
							   &ch2[j], &rng, &t,
							   &md2, &r2);
						free_replicas(&r2);
					}
					free_replicas(&r1);
				}
				free_replicas(&r);
			}
		}
	}
	report("exhaustive_small", &t);
}

/* 5% of 100 backends fail in one batch and come back in one batch. */
TEST(five_percent_fail_and_return)
{
	enum { N = 100, M = 16381 };
	struct maglev_change down[5], up[5];
	static uint16_t before[M];
	struct maglev_backend b[N];
	struct klb_hash_seed seed = { 7, 8 };
	struct maglev_state st;
	size_t i, held = 0, moved;
	uint32_t s;

	for (i = 0; i < N; i++)
		test_backend(&b[i], i + 1, i, 1 + i % 3, KLB_BACKEND_UP);
	ASSERT_EQ(0, maglev_state_init(&st, M, &seed, b, N));
	memcpy(before, st.table, sizeof(before));
	for (i = 0; i < 5; i++) {
		memset(&down[i], 0, sizeof(down[i]));
		down[i].op = MAGLEV_SET_STATE;
		down[i].backend.id = 11 + 17 * i;
		down[i].backend.state = KLB_BACKEND_DOWN;
		up[i] = down[i];
		up[i].backend.state = KLB_BACKEND_UP;
	}
	for (s = 0; s < M; s++)
		held += (before[s] - 11) % 17 == 0 && before[s] >= 11 &&
			before[s] <= 79;
	ASSERT_EQ(0, maglev_update(&st, down, 5));
	moved = maglev_table_moved(before, st.table, M);
	TH_LOG("5 of %d backends down: %zu entries held, %zu moved", N, held,
	       moved);
	EXPECT_EQ(held, moved);
	for (s = 0; s < M; s++)
		ASSERT_EQ(0, before[s] != st.table[s] &&
			  !((before[s] - 11) % 17 == 0 && before[s] >= 11 &&
			    before[s] <= 79));
	ASSERT_EQ(0, maglev_update(&st, up, 5));
	EXPECT_EQ(0, memcmp(before, st.table, sizeof(before)));
	maglev_state_free(&st);
}

/* Bad changes and bad imports are refused and change nothing. */
TEST(bad_input)
{
	struct klb_hash_seed seed = { 1, 2 };
	struct maglev_backend b[8];
	struct maglev_change ch[2];
	struct maglev_state st, other;
	uint16_t table[7], base[7];
	uint8_t *enc, *enc2;
	size_t len, i;

	for (i = 0; i < 7; i++)
		test_backend(&b[i], i + 1, i, 1, KLB_BACKEND_UP);
	ASSERT_EQ(0, maglev_state_init(&st, 7, &seed, b, 6));
	len = maglev_state_encoded_size(&st);
	enc = malloc(len);
	enc2 = malloc(len + 64);
	ASSERT_EQ((long)len, maglev_state_encode(&st, enc, len));
	EXPECT_EQ(-MAGLEV_E_SHORT, maglev_state_encode(&st, enc2, len - 1));

#define REFUSED(err, n) do {						\
		EXPECT_EQ(err, maglev_update(&st, ch, n));		\
		ASSERT_EQ((long)len, maglev_state_encode(&st, enc2, len)); \
		EXPECT_EQ(0, memcmp(enc, enc2, len));			\
	} while (0)

	memset(ch, 0, sizeof(ch));
	ch[0].op = MAGLEV_REMOVE;
	ch[0].backend.id = 40;
	REFUSED(-MAGLEV_E_UNKNOWN_ID, 1);
	ch[0].op = MAGLEV_ADD;
	ch[0].backend = b[1];		/* same id and identity */
	REFUSED(-MAGLEV_E_DUP_ID, 1);
	ch[0].backend.id = 30;		/* same identity */
	REFUSED(-MAGLEV_E_DUP_IDENTITY, 1);
	ch[0].backend = b[6];
	ch[0].backend.id = 6;
	ch[1] = ch[0];
	ch[1].backend.id = 7;
	test_backend(&ch[1].backend, 20, 7, 1, KLB_BACKEND_UP);
	REFUSED(-MAGLEV_E_SIZE_SMALL, 2);	/* 8 backends, M = 7 */
	ch[0].op = MAGLEV_SET_WEIGHT;
	ch[0].backend.id = 2;
	ch[0].backend.weight = 65536;
	REFUSED(-MAGLEV_E_WEIGHT_RANGE, 1);
	ch[0].op = MAGLEV_SET_STATE;
	ch[0].backend.state = 9;
	REFUSED(-MAGLEV_E_STATE, 1);
	ch[0].op = 17;
	REFUSED(-MAGLEV_E_OP, 1);
	/* A valid change followed by a bad one: nothing is applied. */
	ch[0].op = MAGLEV_REMOVE;
	ch[0].backend.id = 2;
	ch[1] = ch[0];
	REFUSED(-MAGLEV_E_UNKNOWN_ID, 2);
	ch[0].op = MAGLEV_ADD;
	ch[0].backend = b[6];
	ch[0].backend.id = KLB_BACKEND_ID_NONE;
	REFUSED(-MAGLEV_E_ID_RANGE, 1);

	/* Imports: tables naming unknown ids, and the size rules. */
	memcpy(table, st.table, sizeof(table));
	memcpy(base, st.table, sizeof(base));
	table[3] = 6;
	EXPECT_EQ(-MAGLEV_E_TABLE, maglev_state_import(&other, 7, &seed, b, 6,
						       table, NULL));
	table[3] = st.table[3];
	base[5] = 99;
	EXPECT_EQ(-MAGLEV_E_TABLE, maglev_state_import(&other, 7, &seed, b, 6,
						       table, base));
	EXPECT_EQ(-MAGLEV_E_SIZE_NOT_PRIME,
		  maglev_state_import(&other, 9, &seed, b, 6, table, NULL));

	/* Decoding: truncated, wrong magic or version, bad padding, bad M. */
	EXPECT_EQ(-MAGLEV_E_FORMAT, maglev_state_decode(&other, enc, len - 1));
	memcpy(enc2, enc, len);
	enc2[0] = 'X';
	EXPECT_EQ(-MAGLEV_E_FORMAT, maglev_state_decode(&other, enc2, len));
	memcpy(enc2, enc, len);
	enc2[4] = 2;
	EXPECT_EQ(-MAGLEV_E_FORMAT, maglev_state_decode(&other, enc2, len));
	memcpy(enc2, enc, len);
	enc2[32 + 23] = 1;
	EXPECT_EQ(-MAGLEV_E_FORMAT, maglev_state_decode(&other, enc2, len));
	memcpy(enc2, enc, len);
	enc2[8] = 8;
	EXPECT_EQ(-MAGLEV_E_SIZE_NOT_PRIME,
		  maglev_state_decode(&other, enc2, len));
	memcpy(enc2, enc, len);
	enc2[len - 1] = 0x40;	/* base names id 0x40xx */
	EXPECT_EQ(-MAGLEV_E_TABLE, maglev_state_decode(&other, enc2, len));
	ASSERT_EQ(0, maglev_state_decode(&other, enc, len));
	EXPECT_EQ(0, maglev_state_encode(&other, enc2, len) - (long)len);
	EXPECT_EQ(0, memcmp(enc, enc2, len));
	maglev_state_free(&other);
	maglev_state_free(&st);
	free(enc);
	free(enc2);
}

/* With nobody active the table is empty; whoever comes back refills it. */
TEST(everyone_down_and_back)
{
	struct klb_hash_seed seed = { 5, 6 };
	struct maglev_change ch[3];
	struct maglev_backend b[3];
	static uint16_t before[251];
	struct maglev_state st;
	size_t i;

	for (i = 0; i < 3; i++)
		test_backend(&b[i], i + 1, i, i + 1, KLB_BACKEND_UP);
	ASSERT_EQ(0, maglev_state_init(&st, 251, &seed, b, 3));
	memcpy(before, st.table, sizeof(before));
	for (i = 0; i < 3; i++) {
		memset(&ch[i], 0, sizeof(ch[i]));
		ch[i].op = MAGLEV_SET_STATE;
		ch[i].backend.id = i;
		ch[i].backend.state = KLB_BACKEND_DOWN;
	}
	ASSERT_EQ(0, maglev_update(&st, ch, 3));
	for (i = 0; i < 251; i++)
		ASSERT_EQ(KLB_BACKEND_ID_NONE, st.table[i]);
	for (i = 0; i < 3; i++)
		ch[i].backend.state = KLB_BACKEND_UP;
	ASSERT_EQ(0, maglev_update(&st, ch, 3));
	EXPECT_EQ(0, memcmp(before, st.table, sizeof(before)));
	maglev_state_free(&st);
}

TEST_HARNESS_MAIN
