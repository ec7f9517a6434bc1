// SPDX-License-Identifier: GPL-2.0
/*
 * A dump that is never read on pins nothing. Reads are open to everyone,
 * so an unprivileged user can start any number of table dumps and stop
 * reading; if a dump held its snapshot between parts, each would keep a
 * replaced table alive (2 MiB at the largest size, charged to the writer's
 * memory cgroup) for as long as its socket lives.
 *
 * The writer runs in a memory cgroup of its own. Between its table
 * replacements, a process running as nobody starts a table dump on a new
 * socket, reads one datagram of it and leaves it there. Once the writer is
 * done, its cgroup's memory.current must fall back to about one table
 * (polled with a deadline: replaced tables are freed after an RCU grace
 * period), with every half-read dump still open.
 */

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "api_test.h"

#define PIN_M		KLB_TABLE_SIZE_LIMIT
#define TABLE_BYTES	(PIN_M * 2ull)
#define ROUNDS		8
#define CGROUP_ROOT	"/sys/fs/cgroup"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static long long memory_current(const char *cg)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * As nobody: for each byte on @go, start a table dump on a new socket,
 * read one datagram of it and say so on @done. Keeps every socket open
 * until @go is closed.
 */
static int half_reader(const struct api_key *k, int go, int done)
{
	static struct api_nl nl[ROUNDS];
	struct api_req *req = malloc(sizeof(*req));
	int i, opened = 0;
	char c;

	if (!req || setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 1;
	while (read(go, &c, 1) == 1 && opened < ROUNDS) {
		struct api_nl *s = &nl[opened];

		if (api_open(s))
			return 2;
		opened++;
		api_req_start(req, s, KLB_CMD_TABLE_GET, NLM_F_DUMP);
		api_put_service(req->nlh, k);
		if (api_send_raw(s, req->nlh, req->nlh->nlmsg_len))
			return 3;
		if (mnl_socket_recvfrom(s->sock, s->rcv, API_RCV_MAX) <= 0)
			return 4;
		if (write(done, "r", 1) != 1)
			return 5;
	}
	/* @go closed: the parent has measured; the sockets may go. */
	for (i = 0; i < opened; i++)
		api_close(&nl[i]);
	free(req);
	return 0;
}

static void fill(uint16_t *t, int salt)
{
	uint32_t i;

	for (i = 0; i < PIN_M; i++)
		t[i] = (i + salt) % 2;
}

TEST(unread_dumps_pin_no_table)
{
	uint16_t *t = malloc(TABLE_BYTES);
	int go[2], done[2], status, r;
	long long mem0, mem = -1;
	struct api_key k;
	struct api_be be;
	struct api_nl nl;
	char cg[128], c;
	pid_t pid;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&nl)) TH_LOG("no klb family: is klb.ko loaded?");
	api_key_v4(&k, IPPROTO_TCP, API_VIP(1), 80);
	ASSERT_EQ(0, api_service_new_sched(&nl, &k, KLB_SCHED_MAGLEV, PIN_M, NULL));
	for (r = 0; r < 2; r++) {
		api_be_v4(&be, r, API_BE_ADDR(r + 1), 80);
		ASSERT_EQ(0, api_backend_new(&nl, &k, &be, 1, 0, NULL));
	}

	/* The reader is forked first: only the writer is in the cgroup. */
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(done[0]);
		_exit(half_reader(&k, go[0], done[1]));
	}
	close(go[0]);
	close(done[1]);

	write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(cg, sizeof(cg), CGROUP_ROOT "/klb-dump-pin-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	{
		char path[192], self[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(self, sizeof(self), "%d\n", getpid());
		ASSERT_EQ(0, write_file(path, self));
	}
	mem0 = memory_current(cg);
	ASSERT_LE(0, mem0) TH_LOG("no memory controller in %s", cg);

	for (r = 0; r < ROUNDS; r++) {
		fill(t, r);
		ASSERT_EQ(0, api_table_push(&nl, &k, PIN_M, t, NULL)) TH_LOG("round %d", r);
		ASSERT_EQ(1, write(go[1], "g", 1));
		ASSERT_EQ(1, read(done[0], &c, 1)) TH_LOG("the reader failed in round %d", r);
	}
	/* One more: the table the last dump started on is replaced too. */
	fill(t, ROUNDS);
	ASSERT_EQ(0, api_table_push(&nl, &k, PIN_M, t, NULL));

	/* Every replaced table is freed, with all those dumps still open. */
	for (r = 0; r < 200; r++) {
		mem = memory_current(cg);
		if (mem >= 0 && mem < mem0 + 3 * (long long)TABLE_BYTES)
			break;
		usleep(100 * 1000);
	}
	TH_LOG("writer's cgroup: %lld KiB before, %lld KiB after %d tables replaced under %d half-read dumps",
	       mem0 / 1024, mem / 1024, ROUNDS + 1, ROUNDS);
	EXPECT_LT(mem, mem0 + 3 * (long long)TABLE_BYTES);

	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	api_close(&nl);
	write_file(CGROUP_ROOT "/cgroup.procs", "0\n");
	rmdir(cg);
	free(t);
}

TEST_HARNESS_MAIN
