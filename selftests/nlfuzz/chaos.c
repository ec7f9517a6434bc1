// SPDX-License-Identifier: GPL-2.0
/*
 * The disturbances. Unloading the module while requests are in flight and
 * dumps are half read must either be refused (a dump in progress holds the
 * module: EAGAIN, or EBUSY) or tear everything down cleanly; the guest's
 * kernel log and the final checks tell which.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "chaos.h"
#include "worker.h"

int nlf_drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	data[CAP_NET_ADMIN / 32].permitted &= ~(1u << (CAP_NET_ADMIN % 32));
	data[CAP_NET_ADMIN / 32].inheritable &= ~(1u << (CAP_NET_ADMIN % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

int nlf_become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

/*
 * $KLB_MODULE, else kmod/klb.ko from the working directory, else from the
 * checkout this program was built in (build/selftests/nlfuzz/ -> ../../..).
 */
static const char *module_path(void)
{
	static char path[4096 + 16];
	const char *env = getenv("KLB_MODULE");
	char exe[4096];
	char *slash;
	ssize_t n;
	int up;

	if (env && *env)
		return env;
	if (!access("kmod/klb.ko", R_OK))
		return "kmod/klb.ko";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "kmod/klb.ko";
	exe[n] = 0;
	for (up = 0; up < 4; up++) {
		slash = strrchr(exe, '/');
		if (!slash)
			return "kmod/klb.ko";
		*slash = 0;
	}
	snprintf(path, sizeof(path), "%s/kmod/klb.ko", exe);
	return path;
}

int nlf_module_load(void)
{
	int fd = open(module_path(), O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret == -EEXIST ? 0 : ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool stopped(struct nlf_run *run)
{
	return __atomic_load_n(&run->stop, __ATOMIC_ACQUIRE);
}

void nlf_rmmod_loop(struct nlf_run *run, struct nlf_rng *r)
{
	struct nlf_slot *none = &run->slots[NLF_SLOTS - 1];
	int ret, tries;

	while (!stopped(run)) {
		sleep_ms(1000 + nlf_below(r, 3000));
		if (stopped(run))
			break;
		/* Odd first: answers from here on may come from no module. */
		__atomic_add_fetch(&run->epoch, 1, __ATOMIC_ACQ_REL);
		ret = syscall(SYS_delete_module, "klb", O_NONBLOCK) ? -errno : 0;
		if (ret == -EAGAIN || ret == -EBUSY) {
			run->rmmod_busy++;
		} else if (ret) {
			run->rmmod_other++;
			nlf_fail(run, none, "rmmod klb: %s", strerror(-ret));
		} else {
			run->rmmod_ok++;
			sleep_ms(nlf_below(r, 50));
			for (tries = 0; (ret = nlf_module_load()) && tries < 50; tries++)
				sleep_ms(100);
			if (ret)
				nlf_fail(run, none, "insmod klb.ko after rmmod: %s",
					 strerror(-ret));
			__atomic_add_fetch(&run->loads, 1, __ATOMIC_ACQ_REL);
		}
		__atomic_add_fetch(&run->epoch, 1, __ATOMIC_ACQ_REL);
	}
}

static void add_slot(struct nlf_slot *to, const struct nlf_slot *from)
{
	int i;

	to->sent += from->sent;
	to->accepted += from->accepted;
	to->rejected += from->rejected;
	to->silent += from->silent;
	to->unjudged += from->unjudged;
	to->txns += from->txns;
	to->dumps_left += from->dumps_left;
	to->reopened += from->reopened;
	for (i = 0; i < NLF_ERRNO_MAX; i++)
		to->errors[i] += from->errors[i];
	if (from->failed && !to->failed) {
		memcpy(to->failure, from->failure, sizeof(to->failure));
		to->failed = true;
	}
}

/* One doomed worker: a fresh netns, fuzzed until it is killed. */
static void doomed_child(struct nlf_run *run, struct nlf_slot *slot,
			 bool userns)
{
	struct nlf_worker w = { .run = run, .slot = slot };

	if (userns) {
		/* nobody, admin of a netns of its own and of nothing else */
		if (nlf_become_nobody() || unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(3);
	} else if (unshare(CLONE_NEWNET)) {
		_exit(2);
	}
	nlf_worker_run(&w);
	_exit(0);
}

static void netns_killer(struct nlf_run *run, unsigned int index)
{
	struct nlf_slot *sum = &run->slots[index];
	struct nlf_slot *scratch = &run->slots[index + 1];
	struct nlf_rng r = { nlf_subseed(run->seed, 1000) };
	unsigned int n;
	int status;
	pid_t pid;

	for (n = 0; !stopped(run); n++) {
		bool userns = run->userns && n % 2;

		memset(scratch, 0, sizeof(*scratch));
		snprintf(scratch->name, sizeof(scratch->name), "doomed netns %u%s",
			 n, userns ? " (nobody, own userns)" : "");
		scratch->seed = nlf_subseed(run->seed, 1000 + n);
		pid = fork();
		if (pid < 0)
			break;
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			doomed_child(run, scratch, userns);
		}
		sleep_ms(300 + nlf_below(&r, 1200));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status))
			nlf_fail(run, scratch, "%s: could not enter its netns (%d)",
				 scratch->name, WEXITSTATUS(status));
		else
			run->netns_killed++;
		add_slot(sum, scratch);
	}
	_exit(0);
}

pid_t nlf_spawn_netns_killer(struct nlf_run *run, unsigned int slot)
{
	pid_t pid = fork();

	if (!pid) {
		/* Never outlive the run, even one that crashed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		netns_killer(run, slot);
	}
	return pid;
}
