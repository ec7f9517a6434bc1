// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz: a structure-aware fuzzer of klb's generic netlink family, run as
 * root in the test guest with klb.ko loaded. TAP on stdout.
 *
 * Workers, each with its own sockets and random stream:
 *   - three threads as root, two in netns A and one in netns B;
 *   - a thread in netns A without CAP_NET_ADMIN;
 *   - a process in netns B as nobody;
 *   - processes forked into fresh network namespaces (half of them nobody
 *     in a user namespace of their own) and killed after a while, which
 *     deletes the namespace under the fuzzing;
 * while the main thread unloads and reloads the module now and then.
 * Before: the regression cases. After: every netns used is flushed and
 * reports no service, transaction or flow, and a service with backends
 * and a table reads back as written.
 *
 * KLB_SEED           the run's seed (printed); each worker's derives from it
 * KLB_FUZZ_MESSAGES  messages over all workers (default 20000)
 * KLB_FUZZ_SECONDS   stop after this long too (default: no limit)
 * KLB_FUZZ_RMMOD     0: never unload the module
 * KLB_FUZZ_ONLY      run only the worker of this number (0-4, see the report),
 *                    alone: its stream of messages replays exactly
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <linux/genetlink.h>

#include "api_klb.h"
#include "chaos.h"
#include "msg.h"
#include "regress.h"
#include "worker.h"

enum {
	W_ROOT_A1,
	W_ROOT_A2,
	W_ROOT_B,
	W_NOCAP_A,
	W_NOBODY_B,
	W_DOOMED,			/* and its scratch slot after it */
	NR_WORKERS = W_DOOMED,
};

static const char *const worker_names[] = {
	[W_ROOT_A1] = "root, netns A",
	[W_ROOT_A2] = "root, netns A, second",
	[W_ROOT_B] = "root, netns B",
	[W_NOCAP_A] = "no CAP_NET_ADMIN, netns A",
	[W_NOBODY_B] = "nobody, netns B",
	[W_DOOMED] = "doomed netns, all",
};

struct thread_arg {
	struct nlf_worker w;
	int netns;
	bool drop;
};

static struct nlf_run *run;
static int tap_n, tap_failed;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_failed |= !ok;
}

uint64_t nlf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool nlf_ticket(struct nlf_run *r, unsigned long n)
{
	if (__atomic_fetch_add(&r->taken, n, __ATOMIC_RELAXED) >= r->budget ||
	    (r->deadline_ns && nlf_now_ns() > r->deadline_ns)) {
		__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static uint64_t pick_seed(void)
{
	const char *env = getenv("KLB_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^
	       ((uint64_t)getpid() << 32);
}

/* A fresh netns for the calling thread, returned as an fd; back to @home. */
static int new_netns(int home)
{
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(home, CLONE_NEWNET))
		return -errno;
	return fd < 0 ? -errno : fd;
}

static bool userns_works(void)
{
	int status;
	pid_t pid = fork();

	if (!pid)
		_exit(nlf_become_nobody() || unshare(CLONE_NEWUSER | CLONE_NEWNET));
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       !WEXITSTATUS(status);
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	if (setns(a->netns, CLONE_NEWNET))
		nlf_fail(run, a->w.slot, "%s: setns: %s", a->w.slot->name,
			 strerror(errno));
	else if (a->drop && nlf_drop_net_admin())
		nlf_fail(run, a->w.slot, "%s: capset: %s", a->w.slot->name,
			 strerror(errno));
	else
		nlf_worker_run(&a->w);
	return NULL;
}

/* ---- after the fuzzing ------------------------------------------------ */

struct counts {
	uint32_t services, txns, flows;
	bool seen;
};

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counts *c = data;
	const struct nlattr *a, *i;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != KLB_A_INFO)
			continue;
		c->seen = true;
		mnl_attr_for_each_nested(i, a) {
			switch (mnl_attr_get_type(i)) {
			case KLB_INFO_A_SERVICES:
				c->services = mnl_attr_get_u32(i);
				break;
			case KLB_INFO_A_TXNS:
				c->txns = mnl_attr_get_u32(i);
				break;
			case KLB_INFO_A_FLOWS:
				c->flows = mnl_attr_get_u32(i);
				break;
			}
		}
	}
	return MNL_CB_OK;
}

static int counts_get(struct api_nl *nl, struct counts *c)
{
	static struct api_req req;
	struct nlmsghdr *nlh = api_req_start(&req, nl, KLB_CMD_INFO_GET, 0);
	int ret;

	memset(c, 0, sizeof(*c));
	ret = api_transact(nl, nlh, info_cb, c, NULL);
	return ret ?: c->seen ? 0 : -EBADMSG;
}

/* Flush, then nothing may be left: services, transactions, flows. */
static void check_empty(int netns, const char *name)
{
	struct counts c;
	struct api_nl nl;
	int ret;

	if (setns(netns, CLONE_NEWNET)) {
		tap(false, "%s: setns: %s", name, strerror(errno));
		return;
	}
	ret = api_open(&nl);
	if (ret) {
		tap(false, "%s: no klb family after the fuzzing: %s", name,
		    strerror(-ret));
		return;
	}
	ret = api_flush(&nl, NULL);
	ret = ret ?: counts_get(&nl, &c);
	tap(!ret && !c.services && !c.txns && !c.flows,
	    "%s: after flush, services %u, txns %u, flows %u%s%s", name,
	    c.services, c.txns, c.flows, ret ? ": " : "",
	    ret ? strerror(-ret) : "");
	api_close(&nl);
}

/* The module still does its job: a service, backends, a table read back. */
static int smoke(int netns)
{
	uint16_t t[7] = { 0, 1, 2, 0, 1, 2, KLB_BACKEND_ID_NONE }, got[7];
	struct api_tbl_dump td = { .entries = got, .size = 7 };
	struct api_backend bes[4];
	struct api_be_dump bd = { .be = bes, .max = 4 };
	struct api_service svc;
	struct api_nl nl;
	struct api_key k;
	struct api_be be;
	int i, ret;

	if (setns(netns, CLONE_NEWNET))
		return -errno;
	ret = api_open(&nl);
	if (ret)
		return ret;
	api_key_v4(&k, IPPROTO_TCP, 0xc0000200u | 200, 80);
	ret = api_flush(&nl, NULL);
	ret = ret ?: api_service_new_sched(&nl, &k, KLB_SCHED_MAGLEV, 7, NULL);
	for (i = 0; i < 3 && !ret; i++) {
		api_be_v4(&be, i, 0xc6336400u | (i + 1), 8080);
		ret = api_backend_new(&nl, &k, &be, 1 + i, 0, NULL);
	}
	ret = ret ?: api_table_set(&nl, &k, 7, 0, t, 7, 0, NULL);
	ret = ret ?: api_service_get(&nl, &k, &svc, NULL, NULL);
	if (!ret && (svc.backends != 3 || !svc.table_loaded ||
		     svc.table_size != 7 || svc.sched != KLB_SCHED_MAGLEV))
		ret = -EUCLEAN;
	ret = ret ?: api_backend_dump(&nl, &k, &bd, NULL);
	if (!ret && bd.n != 3)
		ret = -EUCLEAN;
	for (i = 0; !ret && i < 3; i++)
		if (bes[i].be.id != i || bes[i].weight != (uint32_t)i + 1)
			ret = -EUCLEAN;
	ret = ret ?: api_table_dump(&nl, &k, &td, NULL);
	if (!ret && (td.filled != 7 || memcmp(t, got, sizeof(t))))
		ret = -EUCLEAN;
	api_close(&nl);
	return ret;
}

static void report(void)
{
	unsigned long sent = 0, acc = 0, rej = 0;
	int i, e;

	for (i = 0; i <= W_DOOMED; i++) {
		struct nlf_slot *s = &run->slots[i];
		char hist[512];
		size_t o = 0;

		if (!s->name[0])
			continue;
		for (e = 0; e < NLF_ERRNO_MAX; e++)
			if (s->errors[e] && o < sizeof(hist) - 32)
				o += snprintf(hist + o, sizeof(hist) - o, " %s:%lu",
					      e ? strerrorname_np(e) : "ok",
					      s->errors[e]);
		hist[o] = 0;
		printf("# worker %d (%s): seed %llu, %lu messages (%lu accepted, %lu rejected, %lu silent, %lu unjudged), %lu txns begun, %lu dumps left, %lu sockets opened;%s\n",
		       i, s->name, (unsigned long long)s->seed, s->sent,
		       s->accepted, s->rejected, s->silent, s->unjudged, s->txns,
		       s->dumps_left, s->reopened, hist);
		sent += s->sent;
		acc += s->accepted;
		rej += s->rejected;
	}
	printf("# total %lu messages, %lu accepted, %lu rejected; rmmod: %lu unloaded, %lu busy; %lu netns deleted under a worker\n",
	       sent, acc, rej, run->rmmod_ok, run->rmmod_busy, run->netns_killed);
}

int main(void)
{
	unsigned long only = env_ul("KLB_FUZZ_ONLY", ~0UL), sent = 0;
	bool rmmod = env_ul("KLB_FUZZ_RMMOD", 1) && only == ~0UL;
	struct thread_arg args[NR_WORKERS];
	pthread_t threads[NR_WORKERS];
	bool started[NR_WORKERS] = { 0 };
	pid_t nobody = -1, killer = -1;
	int home, netns[2], i, ret;
	unsigned int nr_cases;
	struct nlf_rng rng;
	struct api_nl nl;
	uint64_t t0, t1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	run = mmap(NULL, sizeof(*run), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (run == MAP_FAILED)
		return 1;
	run->seed = pick_seed();
	run->budget = env_ul("KLB_FUZZ_MESSAGES", 20000);
	if (env_ul("KLB_FUZZ_SECONDS", 0))
		run->deadline_ns = nlf_now_ns() +
				   env_ul("KLB_FUZZ_SECONDS", 0) * 1000000000ULL;
	printf("# seed %llu (replay with KLB_SEED=%llu), %lu messages\n",
	       (unsigned long long)run->seed, (unsigned long long)run->seed,
	       run->budget);
	rng.s = nlf_subseed(run->seed, 999);
	nlf_msg_init();
	if (nlf_module_load()) {
		printf("not ok 1 klb.ko not loaded\n");
		return 1;
	}
	run->userns = userns_works();

	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	netns[0] = new_netns(home);
	netns[1] = new_netns(home);
	if (home < 0 || netns[0] < 0 || netns[1] < 0) {
		printf("not ok 1 network namespaces: %s\n", strerror(errno));
		return 1;
	}

	/* The fixed cases first, in netns A. */
	if (setns(netns[0], CLONE_NEWNET) || api_open(&nl)) {
		printf("not ok 1 no klb family\n");
		return 1;
	}
	ret = nlf_regress(&nl, &nr_cases);
	api_flush(&nl, NULL);
	api_close(&nl);
	setns(home, CLONE_NEWNET);
	tap(!ret, "regression cases: %u, %d failed", nr_cases, ret);

	for (i = 0; i <= W_DOOMED + 1; i++) {
		snprintf(run->slots[i].name, sizeof(run->slots[i].name), "%s",
			 i <= W_DOOMED ? worker_names[i] : "");
		run->slots[i].seed = nlf_subseed(run->seed, i);
	}
	t0 = nlf_now_ns();
	/* Processes first: fork before there are threads. */
	if (only == ~0UL || only == W_NOBODY_B) {
		nobody = fork();
		if (!nobody) {
			struct nlf_worker w = { .run = run, .unpriv = true,
						.slot = &run->slots[W_NOBODY_B] };

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (setns(netns[1], CLONE_NEWNET) || nlf_become_nobody())
				nlf_fail(run, w.slot, "cannot become nobody in B");
			else
				nlf_worker_run(&w);
			_exit(0);
		}
	}
	if (only == ~0UL)
		killer = nlf_spawn_netns_killer(run, W_DOOMED);
	for (i = 0; i < W_NOBODY_B; i++) {
		if (only != ~0UL && only != (unsigned long)i)
			continue;
		args[i] = (struct thread_arg){
			.w = { .run = run, .slot = &run->slots[i],
			       .unpriv = i == W_NOCAP_A },
			.netns = netns[i == W_ROOT_B],
			.drop = i == W_NOCAP_A,
		};
		started[i] = !pthread_create(&threads[i], NULL, thread_main,
					     &args[i]);
	}
	if (rmmod)
		nlf_rmmod_loop(run, &rng);
	for (i = 0; i < W_NOBODY_B; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	if (nobody > 0)
		waitpid(nobody, NULL, 0);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
	if (killer > 0)
		waitpid(killer, NULL, 0);
	t1 = nlf_now_ns();

	report();
	for (i = 0; i <= W_DOOMED; i++)
		sent += run->slots[i].sent;
	printf("# %lu messages in %.1f s: %.0f messages/s\n", sent,
	       (t1 - t0) / 1e9, sent / ((t1 - t0) / 1e9));
	for (i = 0; i < NLF_SLOTS; i++)
		if (run->slots[i].failed)
			printf("# FAILED %s\n", run->slots[i].failure);
	tap(!run->failed, "fuzzing: every answer as the contract says");

	ret = nlf_module_load();
	tap(!ret, "klb.ko loaded after the fuzzing");
	check_empty(netns[0], "netns A");
	check_empty(netns[1], "netns B");
	ret = smoke(netns[0]);
	tap(!ret, "a service, backends and a table read back as written%s%s",
	    ret ? ": " : "", ret ? strerror(-ret) : "");
	check_empty(netns[0], "netns A after the smoke test");
	printf("1..%d\n", tap_n);
	return tap_failed;
}
