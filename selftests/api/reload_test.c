// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod with state in several network namespaces (services, backends,
 * tables, an open transaction), then insmod again: the unload frees it all
 * (the guest's kernel log shows any leak or WARN) and the new module
 * starts from nothing. The module is loaded again at the end, from
 * kmod/klb.ko of the repository (see module_path()).
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define NR_CHILDREN	3

/*
 * $KLB_MODULE, else kmod/klb.ko from the working directory, else from the
 * checkout this program was built in (build/selftests/api/ -> ../../..).
 */
static const char *module_path(void)
{
	static char path[4096 + 16];
	const char *env = getenv("KLB_MODULE");
	char exe[4096];
	ssize_t n;
	char *slash;
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

static bool module_loaded(void)
{
	struct stat st;

	return !stat("/sys/module/klb", &st);
}

static int load_module(void)
{
	int fd = open(module_path(), O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, "klb", O_NONBLOCK) ? -errno : 0;
}

static int fill(struct api_nl *nl, int n, bool leave_txn)
{
	uint16_t t[KLB_TABLE_SIZE_DEFAULT];
	struct api_key k;
	struct api_be be;
	uint32_t txn;
	int i, ret = 0;

	for (i = 0; i < 4 && !ret; i++) {
		api_key_v4(&k, IPPROTO_TCP, API_VIP(n), 80 + i);
		ret = api_service_new(nl, &k, NULL);
	}
	for (i = 0; i < 16 && !ret; i++) {
		api_be_v4(&be, i, API_BE_ADDR(i + 1), 8080);
		ret = api_backend_new(nl, &k, &be, 1, 0, NULL);
	}
	for (i = 0; i < KLB_TABLE_SIZE_DEFAULT; i++)
		t[i] = i % 16;
	ret = ret ?: api_table_push(nl, &k, KLB_TABLE_SIZE_DEFAULT, t, NULL);
	if (!ret && leave_txn) {
		ret = api_txn_begin(nl, &k, &txn, NULL);
		ret = ret ?: api_table_set(nl, &k, KLB_TABLE_SIZE_DEFAULT, 0, t,
					   100, txn, NULL);
	}
	return ret;
}

/* A fresh module: the netns holds nothing, and takes writes again. */
static int check_fresh(void)
{
	struct api_info info;
	struct api_key k;
	struct api_nl nl;
	int ret;

	ret = api_open(&nl);
	if (ret)
		return 10;
	ret = api_info_get(&nl, &info, NULL);
	if (ret || info.services || info.txns)
		ret = 11;
	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 80);
	if (!ret && api_service_new(&nl, &k, NULL))
		ret = 12;
	api_close(&nl);
	return ret;
}

FIXTURE(reload)
{
	pid_t child[NR_CHILDREN];
	int go[2];
};

FIXTURE_SETUP(reload)
{
	ASSERT_TRUE(module_loaded()) TH_LOG("klb.ko is not loaded");
	ASSERT_EQ(0, access(module_path(), R_OK))
		TH_LOG("%s: run from the repository root or set KLB_MODULE",
		       module_path());
	ASSERT_EQ(0, pipe(self->go));
}

FIXTURE_TEARDOWN(reload)
{
	int i;

	close(self->go[1]);
	for (i = 0; i < NR_CHILDREN; i++)
		if (self->child[i] > 0)
			waitpid(self->child[i], NULL, 0);
	/* Whatever happened, leave the module loaded. */
	if (!module_loaded())
		load_module();
}

TEST_F_TIMEOUT(reload, rmmod_insmod_with_state, 180)
{
	struct api_nl nl;
	int ready[2], i, status;
	char c;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < NR_CHILDREN; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct api_nl cnl;

			close(self->go[1]);
			close(ready[0]);
			if (api_enter_new_netns() || api_open(&cnl) ||
			    fill(&cnl, i, i == 0))
				_exit(2);
			if (write(ready[1], "r", 1) != 1)
				_exit(3);
			/* Wait for the reload with the netns and socket alive. */
			if (read(self->go[0], &c, 1) != 0)
				_exit(4);
			_exit(check_fresh());
		}
		self->child[i] = pid;
	}
	close(ready[1]);
	for (i = 0; i < NR_CHILDREN; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("child %d failed to fill", i);
	close(ready[0]);

	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&nl));
	ASSERT_EQ(0, fill(&nl, 100, true));

	ASSERT_EQ(0, unload_module()) TH_LOG("rmmod: %s", strerror(errno));
	ASSERT_FALSE(module_loaded());
	/* The family went with the module (it cannot autoload from here). */
	{
		struct api_nl gone;

		EXPECT_NE(0, api_open(&gone));
	}
	ASSERT_EQ(0, load_module()) TH_LOG("insmod %s failed", module_path());
	ASSERT_EQ(0, check_fresh());
	api_close(&nl);

	/* Children check their own netns. */
	close(self->go[1]);
	self->go[1] = -1;
	for (i = 0; i < NR_CHILDREN; i++) {
		ASSERT_EQ(self->child[i], waitpid(self->child[i], &status, 0));
		self->child[i] = 0;
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child %d", i);
	}
}

TEST_HARNESS_MAIN
