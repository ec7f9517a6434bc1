// SPDX-License-Identifier: GPL-2.0
/*
 * klbd-bench: the timing half of tools/bench/klbd.sh. Speaks klbd's
 * control socket directly (lib/klbd_proto.h), so that no process start
 * is timed, and watches each gateway's kernel through klb's change events
 * (multicast group "events") in that gateway's network namespace.
 *
 *   klbd-bench latency N VIP SOCK NETNS...
 *	N writes, one at a time, through SOCK: a backend of VIP added, then
 *	deleted, and so on. For each: the time until SOCK answered, and until
 *	each kernel published it: the first change event after the write
 *	(klbd's reconcile applies a change as one transaction, whose commit
 *	swaps the new tables in and carries the generation, the Raft
 *	index). One line per write: "ack_us k1_us k2_us ...".
 *
 *   klbd-bench throughput N W VIP SOCK... -- NETNS...
 *	N changes from W connections (spread over the SOCKs) in flight at
 *	once, each connection adding and deleting its own backend of VIP.
 *	Prints the time until every answer came, and until every kernel's
 *	generation reached the commit index the first SOCK then reports.
 *
 *   klbd-bench failover PID OLD SOCK...
 *	kill -9 PID (klbd OLD, the leader), then polls the SOCKs' status
 *	until one of them reports a leader other than OLD. Prints the time
 *	in microseconds and the new leader.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/klb.h>

#include "lib/klb_client.h"
#include "lib/klbd_proto.h"
#include "lib/nl.h"

#define MAX_NS		8
#define MAX_CONN	48

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "klbd-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int send_req(int fd, uint8_t op, const void *body, size_t len)
{
	uint8_t req[KLBD_CTL_HEADER_BYTES + KLBD_CMD_MAX_BYTES] = { 0 };

	put_u32(req, KLBD_CTL_HEADER_BYTES - 4 + len);
	req[4] = KLBD_PROTO_VERSION;
	req[5] = op;
	memcpy(req + KLBD_CTL_HEADER_BYTES, body, len);
	return write(fd, req, KLBD_CTL_HEADER_BYTES + len) ==
	       (ssize_t)(KLBD_CTL_HEADER_BYTES + len) ? 0 : -1;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* One response: its status; the body (NUL-terminated) into body. */
static int read_resp(int fd, int32_t *status, char *body, size_t cap)
{
	uint8_t hdr[KLBD_CTL_RESP_HEADER_BYTES];
	static char buf[KLBD_CTL_MAX_BYTES];
	uint32_t rlen, mlen, blen;

	if (read_full(fd, hdr, sizeof(hdr)))
		return -1;
	rlen = get_u32(hdr);
	mlen = get_u32(hdr + 12);
	*status = (int32_t)get_u32(hdr + 8);
	if (rlen < sizeof(hdr) - 4 || rlen - (sizeof(hdr) - 4) > sizeof(buf) ||
	    mlen > rlen - (sizeof(hdr) - 4))
		return -1;
	blen = rlen - (sizeof(hdr) - 4);
	if (read_full(fd, buf, blen))
		return -1;
	if (body) {
		blen -= mlen;
		if (blen >= cap)
			blen = cap - 1;
		memcpy(body, buf + mlen, blen);
		body[blen] = '\0';
	}
	return 0;
}

static int cmd_encode(uint8_t op, const struct klb_service_key *key,
		      int addr_index, uint16_t port, uint8_t *buf)
{
	struct klbd_cmd cmd = { .op = op, .key = *key };

	cmd.be.addr.family = AF_INET;
	cmd.be.addr.addr[0] = 198;
	cmd.be.addr.addr[1] = 51;
	cmd.be.addr.addr[2] = 100;
	cmd.be.addr.addr[3] = 1 + addr_index;
	cmd.be.addr.port = port;
	if (op == KLBD_CMD_BACKEND_ADD) {
		cmd.be.fields = KLB_BE_WEIGHT | KLB_BE_STATE;
		cmd.be.weight = KLB_WEIGHT_DEFAULT;
		cmd.be.state = KLB_BACKEND_UP;
	}
	return klbd_cmd_encode(&cmd, buf, KLBD_CMD_MAX_BYTES);
}

static void parse_vip(const char *s, struct klb_service_key *key)
{
	char host[64], *colon;

	memset(key, 0, sizeof(*key));
	key->proto = IPPROTO_TCP;
	key->vip.family = AF_INET;
	snprintf(host, sizeof(host), "%s", s);
	colon = strrchr(host, ':');
	if (!colon)
		die("bad VIP %s (want a.b.c.d:port)", s);
	*colon = '\0';
	if (inet_pton(AF_INET, host, key->vip.addr) != 1)
		die("bad VIP %s", s);
	key->vip.port = atoi(colon + 1);
}

/* A klb client opened in network namespace NAME (ip netns). */
static void open_in_ns(const char *name, struct klb_client *c, bool events)
{
	char path[256];
	int self, fd;
	klb_error e;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET))
		die("cannot enter netns %s", name);
	if (klb_client_open(c, &e) || (events && klb_events_subscribe(c, &e)))
		die("klb client: %s", klb_error_msg(&e));
	if (setns(self, CLONE_NEWNET))
		die("cannot return to the netns of %s", "klbd-bench");
	close(fd);
	close(self);
}

struct ev_wait {
	bool seen;
	int n, last_cmd;
};

static int on_event(const struct klb_event *ev, void *data)
{
	struct ev_wait *w = data;

	w->n++;
	w->last_cmd = ev->cmd;
	/*
	 * klbd's reconcile publishes a change as one transaction (its commit
	 * carries the new generation, the Raft index); a generation of its
	 * own or single writes would do as well.
	 */
	if (ev->cmd == KLB_CMD_TXN_COMMIT || ev->cmd == KLB_CMD_GENERATION_SET ||
	    ev->cmd == KLB_CMD_BACKEND_NEW || ev->cmd == KLB_CMD_BACKEND_DEL)
		w->seen = true;
	return 0;
}

static void drain_events(struct klb_client *k, int nk)
{
	struct pollfd pfd;
	struct ev_wait w;
	klb_error e;
	int i;

	for (i = 0; i < nk; i++) {
		pfd.fd = nl_fd(&k[i].nl);
		pfd.events = POLLIN;
		while (poll(&pfd, 1, 0) > 0)
			if (klb_events_read(&k[i], on_event, &w, &e))
				die("events: %s", klb_error_msg(&e));
	}
}

static int latency(int argc, char **argv)
{
	struct klb_client k[MAX_NS];
	struct klb_service_key key;
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n, nk, i, j, fd, len;
	klb_error e;

	if (argc < 5)
		die("%s", "usage: latency N VIP SOCK NETNS...");
	n = atoi(argv[1]);
	parse_vip(argv[2], &key);
	fd = sock_connect(argv[3]);
	if (fd < 0)
		die("cannot connect to %s", argv[3]);
	nk = argc - 4;
	if (nk > MAX_NS)
		die("%s", "too many namespaces");
	for (j = 0; j < nk; j++)
		open_in_ns(argv[4 + j], &k[j], true);
	for (i = 0; i < n; i++) {
		uint64_t t0, ack = 0, at[MAX_NS] = { 0 };
		struct ev_wait w[MAX_NS] = { 0 };
		struct pollfd pfd[MAX_NS + 1];
		int left = nk + 1;
		int32_t status;

		drain_events(k, nk);
		len = cmd_encode(i % 2 ? KLBD_CMD_BACKEND_DEL : KLBD_CMD_BACKEND_ADD,
				 &key, 200, 9000, buf);
		t0 = now_us();
		if (send_req(fd, KLBD_CTL_SUBMIT, buf, len))
			die("%s", "cannot send a request");
		for (j = 0; j < nk; j++) {
			pfd[j].fd = nl_fd(&k[j].nl);
			pfd[j].events = POLLIN;
		}
		pfd[nk].fd = fd;
		pfd[nk].events = POLLIN;
		while (left) {
			if (poll(pfd, nk + 1, 30000) <= 0)
				die("write %d: after 30 s, answer %s, first kernel: %s, %d events, last %d",
				    i, ack ? "yes" : "no", at[0] ? "changed" : "unchanged",
				    w[0].n, w[0].last_cmd);
			for (j = 0; j < nk; j++) {
				if (!(pfd[j].revents & POLLIN))
					continue;
				if (klb_events_read(&k[j], on_event, &w[j], &e))
					die("events: %s", klb_error_msg(&e));
				if (w[j].seen && !at[j]) {
					at[j] = now_us() - t0;
					pfd[j].fd = -1;
					left--;
				}
			}
			if (pfd[nk].revents & POLLIN) {
				if (read_resp(fd, &status, NULL, 0))
					die("%s", "control socket closed");
				if (status) {
					/* -EAGAIN (no leader, retry) and the like */
					fprintf(stderr, "write %d: status %d\n", i, status);
					die("%s", "a write was refused");
				}
				ack = now_us() - t0;
				pfd[nk].fd = -1;
				left--;
			}
		}
		printf("%llu", (unsigned long long)ack);
		for (j = 0; j < nk; j++)
			printf(" %llu", (unsigned long long)at[j]);
		putchar('\n');
	}
	return 0;
}

static int status_field(int fd, const char *name, unsigned long long *v)
{
	static char body[8192];
	int32_t status;
	char *p;
	size_t l = strlen(name);

	if (send_req(fd, KLBD_CTL_STATUS, NULL, 0) ||
	    read_resp(fd, &status, body, sizeof(body)) || status)
		return -1;
	for (p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, l) && p[l] == ' ')
			return sscanf(p + l + 1, "%llu", v) == 1 ? 0 : -1;
	return -1;
}

static int throughput(int argc, char **argv)
{
	struct klb_client k[MAX_NS];
	struct klb_service_key key;
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int fds[MAX_CONN], done[MAX_CONN], quota[MAX_CONN];
	struct pollfd pfd[MAX_CONN];
	int n, w, nsock, nk, i, j, left, len, sep, retries = 0;
	unsigned long long commit;
	uint64_t t0, t_ack, t_all;
	klb_error e;

	if (argc < 7)
		die("%s", "usage: throughput N W VIP SOCK... -- NETNS...");
	n = atoi(argv[1]);
	w = atoi(argv[2]);
	if (w < 1 || w > MAX_CONN)
		die("%s", "W must be 1..48");
	parse_vip(argv[3], &key);
	for (sep = 4; sep < argc && strcmp(argv[sep], "--"); sep++)
		;
	nsock = sep - 4;
	nk = argc - sep - 1;
	if (nsock < 1 || nk < 1 || nk > MAX_NS)
		die("%s", "want SOCK... -- NETNS...");
	for (j = 0; j < nk; j++)
		open_in_ns(argv[sep + 1 + j], &k[j], false);
	for (i = 0; i < w; i++) {
		fds[i] = sock_connect(argv[4 + i % nsock]);
		if (fds[i] < 0)
			die("cannot connect to %s", argv[4 + i % nsock]);
		done[i] = 0;
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	/*
	 * Connection i makes changes i, i + w, ... (quota[i] of them), each
	 * on its own backend: added, deleted, added, ...
	 */
	t0 = now_us();
	left = 0;
	for (i = 0; i < w; i++) {
		quota[i] = i < n ? (n - i + w - 1) / w : 0;
		if (!quota[i]) {
			pfd[i].fd = -1;
			continue;
		}
		len = cmd_encode(KLBD_CMD_BACKEND_ADD, &key, i, 9000, buf);
		send_req(fds[i], KLBD_CTL_SUBMIT, buf, len);
		left++;
	}
	while (left) {
		if (poll(pfd, w, 30000) <= 0)
			die("%s", "no answer within 30 s");
		for (i = 0; i < w; i++) {
			int32_t status;

			if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN))
				continue;
			if (read_resp(fds[i], &status, NULL, 0))
				die("%s", "control socket closed");
			if (status == -EAGAIN || status == -ECANCELED) {
				retries++;	/* not applied: sent again */
			} else if (status) {
				fprintf(stderr, "status %d\n", status);
				die("%s", "a change was refused");
			} else if (++done[i] == quota[i]) {
				pfd[i].fd = -1;
				left--;
				continue;
			}
			len = cmd_encode(done[i] % 2 ? KLBD_CMD_BACKEND_DEL :
				KLBD_CMD_BACKEND_ADD, &key, i, 9000, buf);
			send_req(fds[i], KLBD_CTL_SUBMIT, buf, len);
		}
	}
	t_ack = now_us();
	if (status_field(fds[0], "commit", &commit))
		die("%s", "no status");
	for (j = 0; j < nk; j++) {
		uint64_t gen = 0;

		for (;;) {
			if (klb_generation_get(&k[j], &gen, &e))
				die("generation: %s", klb_error_msg(&e));
			if (gen >= commit)
				break;
			if (now_us() - t_ack > 30000000)
				die("%s", "a kernel did not catch up within 30 s");
			usleep(1000);
		}
	}
	t_all = now_us();
	for (i = 0, j = 0; i < w; i++)
		j += done[i];
	printf("changes %d writers %d acked_s %.3f all_kernels_s %.3f "
	       "acked_per_s %.1f applied_per_s %.1f retries %d\n", j, w,
	       (t_ack - t0) / 1e6, (t_all - t0) / 1e6, j / ((t_ack - t0) / 1e6),
	       j / ((t_all - t0) / 1e6), retries);
	return 0;
}

static int failover(int argc, char **argv)
{
	unsigned long long old, lead;
	int fds[MAX_NS], n, i;
	pid_t pid;
	uint64_t t0;

	if (argc < 4)
		die("%s", "usage: failover PID OLD SOCK...");
	pid = atoi(argv[1]);
	old = strtoull(argv[2], NULL, 10);
	n = argc - 3;
	if (n > MAX_NS)
		die("%s", "too many sockets");
	for (i = 0; i < n; i++) {
		fds[i] = sock_connect(argv[3 + i]);
		if (fds[i] < 0)
			die("cannot connect to %s", argv[3 + i]);
	}
	t0 = now_us();
	if (kill(pid, SIGKILL))
		die("%s", "kill failed");
	for (;;) {
		for (i = 0; i < n; i++) {
			if (status_field(fds[i], "leader", &lead))
				die("no status from %s", argv[3 + i]);
			if (lead && lead != old) {
				printf("%llu %llu\n", (unsigned long long)(now_us() - t0),
				       lead);
				return 0;
			}
		}
		if (now_us() - t0 > 60000000)
			die("%s", "no new leader within 60 s");
		usleep(2000);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "latency"))
		return latency(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "throughput"))
		return throughput(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "failover"))
		return failover(argc - 1, argv + 1);
	fprintf(stderr, "usage: klbd-bench latency|throughput|failover ...\n");
	return 2;
}
