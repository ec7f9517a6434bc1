// SPDX-License-Identifier: GPL-2.0
/*
 * A worker sends what msg.c builds and judges each answer by the rules
 * every request obeys whatever its content: one answer per message (none
 * for a message the netlink core drops), the genetlink core's errors for
 * broken headers, EPERM for every write of a caller without CAP_NET_ADMIN
 * and never for a read, only the errnos the UAPI header lists, and an
 * extack message with every rejection klb makes. Between messages it
 * stages into transactions, leaves dumps half read and closes sockets
 * that hold transactions.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/klb.h>

#include "api_nl.h"
#include "msg.h"
#include "worker.h"

#define NLF_RCV_MAX	(256 * 1024)
#define NLF_ANSWER_S	20		/* a request unanswered this long: a bug */

struct nlf_answer {
	bool done;
	int error;
	bool has_msg;
	char msg[128];
	unsigned int data;
};

struct nlf_ctx {
	struct nlf_worker *w;
	struct nlf_rng rng;
	struct api_nl nl;
	bool open;
	int sock_epoch;			/* the epoch it was opened in */
	int sock_loads;			/* the module it was opened for */
	int dump_fd;			/* a socket with a dump left half read */
	uint32_t seq;
	struct nlf_pool pool;
	struct nlf_msg *m;
	uint8_t *rcv;
	struct nlf_answer ans[NLF_BATCH_MAX];
	unsigned long n;		/* this worker's message count */
};

void nlf_fail(struct nlf_run *run, struct nlf_slot *slot, const char *fmt, ...)
{
	va_list ap;

	if (!slot->failed) {
		va_start(ap, fmt);
		vsnprintf(slot->failure, sizeof(slot->failure), fmt, ap);
		va_end(ap);
		slot->failed = true;
	}
	__atomic_store_n(&run->failed, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
}

/* The first bytes of a message in hex, to rebuild it without the fuzzer. */
static void hexdump(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < 96 && o + 3 < cap; i++)
		o += snprintf(out + o, cap - o, "%02x", p[i]);
	if (i < len && o + 4 < cap)
		snprintf(out + o, cap - o, "...");
}

static const char *errname(int e)
{
	static __thread char buf[16];

	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOSPC: return "ENOSPC";
	case EBUSY: return "EBUSY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESTALE: return "ESTALE";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static void ctx_fail(struct nlf_ctx *c, unsigned int i, const char *what)
{
	struct nlf_expect *e = &c->m->exp[i];
	char hex[200];

	hexdump(c->m->buf, c->m->len, hex, sizeof(hex));
	nlf_fail(c->w->run, c->w->slot,
		 "%s: message %lu of the worker (seq %u, %s %s%s, shape %s, %zu bytes): answered %s (extack \"%s\"): %s; bytes %s",
		 c->w->slot->name, c->n, e->seq, e->op ? e->op->name : "cmd?",
		 e->dump ? "dump" : "do", c->w->unpriv ? ", unprivileged" : "",
		 c->m->shape, c->m->len, errname(c->ans[i].error), c->ans[i].msg,
		 what, hex);
}

/* ---- sockets ---------------------------------------------------------- */

static void close_dump(struct nlf_ctx *c)
{
	if (c->dump_fd >= 0)
		close(c->dump_fd);
	c->dump_fd = -1;
}

static void close_main(struct nlf_ctx *c)
{
	if (c->open)
		api_close(&c->nl);
	c->open = false;
}

/* Opens the sockets for the module of epoch @epoch. */
static int reopen(struct nlf_ctx *c, int epoch)
{
	struct timeval tv = { .tv_sec = NLF_ANSWER_S };
	int big = NLF_MSG_MAX * 2, ret;

	close_dump(c);
	close_main(c);
	ret = api_open(&c->nl);
	if (ret)
		return ret;
	c->open = true;
	c->sock_epoch = epoch;
	c->sock_loads = __atomic_load_n(&c->w->run->loads, __ATOMIC_ACQUIRE);
	setsockopt(mnl_socket_get_fd(c->nl.sock), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	setsockopt(mnl_socket_get_fd(c->nl.sock), SOL_SOCKET, SO_SNDBUF, &big,
		   sizeof(big));
	c->pool.nr_txns = 0;
	c->w->slot->reopened++;
	return 0;
}

/* ---- answers ---------------------------------------------------------- */

static void parse_ext_ack(const struct nlmsghdr *nlh, size_t off,
			  struct nlf_answer *a)
{
	size_t len = nlh->nlmsg_len;
	const struct nlattr *at;

	while (off + NLA_HDRLEN <= len) {
		at = (const void *)((const uint8_t *)nlh + off);
		if (at->nla_len < NLA_HDRLEN || off + at->nla_len > len)
			break;
		if ((at->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			a->has_msg = at->nla_len > NLA_HDRLEN + 1;
			snprintf(a->msg, sizeof(a->msg), "%.*s",
				 (int)(at->nla_len - NLA_HDRLEN),
				 (const char *)(at + 1));
		}
		off += NLA_ALIGN(at->nla_len);
	}
}

/* A transaction id in a reply: the pool learns it. */
static void learn_txn(struct nlf_ctx *c, const struct nlmsghdr *nlh,
		      unsigned int key)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	const struct nlattr *at;

	while (off + NLA_HDRLEN <= nlh->nlmsg_len) {
		at = (const void *)((const uint8_t *)nlh + off);
		if (at->nla_len < NLA_HDRLEN || off + at->nla_len > nlh->nlmsg_len)
			return;
		if (at->nla_type == KLB_A_TXN && at->nla_len == NLA_HDRLEN + 4) {
			unsigned int i = c->pool.nr_txns < NLF_TXN_POOL ?
					 c->pool.nr_txns++ :
					 nlf_below(&c->rng, NLF_TXN_POOL);

			memcpy(&c->pool.txns[i].id, at + 1, 4);
			c->pool.txns[i].key = key;
			c->w->slot->txns++;
		}
		off += NLA_ALIGN(at->nla_len);
	}
}

static int which(struct nlf_ctx *c, uint32_t seq)
{
	unsigned int i;

	for (i = 0; i < c->m->nr; i++)
		if (c->m->exp[i].seq == seq)
			return i;
	return -1;
}

/* Reads until every message of the datagram has its answer. */
static int collect(struct nlf_ctx *c, unsigned int key)
{
	unsigned int left = c->m->nr;
	int fd = mnl_socket_get_fd(c->nl.sock);

	memset(c->ans, 0, sizeof(c->ans));
	while (left) {
		ssize_t n = recv(fd, c->rcv, NLF_RCV_MAX, 0);
		const struct nlmsghdr *nlh;
		int len, i;

		if (n < 0)
			return -errno;
		len = (int)n;
		for (nlh = (const void *)c->rcv; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			struct nlf_answer *a;

			i = which(c, nlh->nlmsg_seq);
			if (i < 0 || c->ans[i].done)
				continue;
			a = &c->ans[i];
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);
				size_t off = NLMSG_HDRLEN + sizeof(*e);

				if (nlh->nlmsg_len < off)
					return -EBADMSG;
				a->error = -e->error;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += NLMSG_ALIGN(e->msg.nlmsg_len) -
					       NLMSG_HDRLEN;
				if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_ext_ack(nlh, off, a);
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				int code = 0;

				if (nlh->nlmsg_len >= NLMSG_HDRLEN + 4)
					memcpy(&code, NLMSG_DATA(nlh), 4);
				a->error = -code;
				if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_ext_ack(nlh, NLMSG_HDRLEN + 4, a);
			} else {
				a->data++;
				if (c->m->exp[i].op &&
				    c->m->exp[i].op->cmd == KLB_CMD_TXN_BEGIN)
					learn_txn(c, nlh, key);
				continue;
			}
			a->done = true;
			left--;
		}
	}
	return 0;
}

static bool errno_listed(int e)
{
	switch (e) {
	case 0: case EINVAL: case ERANGE: case EEXIST: case ENOENT:
	case ENOSPC: case EBUSY: case EOPNOTSUPP: case ESTALE: case EPERM:
	case E2BIG:
		return true;
	}
	return false;
}

static bool earlier_dump(const struct nlf_ctx *c, unsigned int i)
{
	while (i--)
		if (c->m->exp[i].dump)
			return true;
	return false;
}

/* The rules every answer obeys; false after recording a failure. */
static bool judge(struct nlf_ctx *c, unsigned int i)
{
	const struct nlf_expect *e = &c->m->exp[i];
	const struct nlf_answer *a = &c->ans[i];
	const struct nlf_op *op = e->op;
	int want = -1;

	if (e->short_hdr || e->bad_hdr)
		want = EINVAL;
	else if (!op)
		want = EOPNOTSUPP;
	else if (c->w->unpriv && op->admin)
		want = EPERM;
	else if (e->dump ? !op->has_dump : !op->has_do)
		want = EOPNOTSUPP;
	if (want >= 0 && a->error != want) {
		ctx_fail(c, i, want == EPERM ? "a write without CAP_NET_ADMIN not refused with EPERM" :
			 "the genetlink core's answer expected");
		return false;
	}
	if (want >= 0)
		return true;
	if (a->error == EPERM) {
		ctx_fail(c, i, "EPERM for a request anyone may make");
		return false;
	}
	if (!errno_listed(a->error)) {
		ctx_fail(c, i, "an errno the UAPI header does not list");
		return false;
	}
	/*
	 * A dump behind another dump of the same datagram finds the socket
	 * busy: the netlink core's EBUSY, which carries no message.
	 */
	if (a->error == EBUSY && e->dump && earlier_dump(c, i))
		return true;
	if (a->error && !a->has_msg) {
		ctx_fail(c, i, "a rejection without an extack message");
		return false;
	}
	return true;
}

/* Sends the built message and judges what comes back. */
static void exchange(struct nlf_ctx *c)
{
	struct nlf_slot *s = c->w->slot;
	int e0 = nlf_epoch(c->w->run), e1, ret;
	unsigned int i;

	s->sent += c->m->nr;
	nlf_ticket(c->w->run, c->m->nr);
	c->n++;
	if (send(mnl_socket_get_fd(c->nl.sock), c->m->buf, c->m->len, 0) < 0) {
		ctx_fail(c, 0, strerror(errno));
		return;
	}
	if (c->m->silent) {
		s->silent++;
		return;
	}
	ret = collect(c, c->m->key);
	e1 = nlf_epoch(c->w->run);
	if (ret) {
		c->ans[0].error = -ret;
		ctx_fail(c, 0, ret == -EAGAIN ? "no answer within 20 s" :
			 "the answer could not be read");
		return;
	}
	if (e0 != e1 || e0 % 2 ||
	    c->sock_loads != __atomic_load_n(&c->w->run->loads, __ATOMIC_ACQUIRE)) {
		s->unjudged += c->m->nr;
		return;
	}
	for (i = 0; i < c->m->nr; i++) {
		int err = c->ans[i].error;

		s->errors[err >= 0 && err < NLF_ERRNO_MAX ? err : 0]++;
		if (err)
			s->rejected++;
		else
			s->accepted++;
		if (!judge(c, i))
			return;
		/* An ended transaction leaves the pool. */
		if (!err && c->m->exp[i].op &&
		    (c->m->exp[i].op->cmd == KLB_CMD_TXN_COMMIT ||
		     c->m->exp[i].op->cmd == KLB_CMD_TXN_ABORT) &&
		    c->pool.nr_txns && !nlf_one_in(&c->rng, 4))
			c->pool.txns[0] = c->pool.txns[--c->pool.nr_txns];
	}
}

/* ---- actions ---------------------------------------------------------- */

/* A dump on a small socket, read once or not at all, then forgotten. */
static void dump_half_read(struct nlf_ctx *c)
{
	int small = 1024;
	char buf[512];

	if (c->dump_fd < 0) {
		c->dump_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
				    NETLINK_GENERIC);
		if (c->dump_fd < 0)
			return;
		setsockopt(c->dump_fd, SOL_SOCKET, SO_RCVBUF, &small,
			   sizeof(small));
	}
	nlf_msg_dump(c->m, &c->rng, c->nl.family, &c->seq);
	c->w->slot->sent++;
	nlf_ticket(c->w->run, 1);
	if (send(c->dump_fd, c->m->buf, c->m->len, 0) < 0) {
		close_dump(c);
		return;
	}
	c->w->slot->dumps_left++;
	if (nlf_one_in(&c->rng, 2))
		recv(c->dump_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (nlf_one_in(&c->rng, 3))
		close_dump(c);		/* mid-dump */
}

/* Services and backends for the other requests to find. */
static void set_up(struct nlf_ctx *c, unsigned int key)
{
	uint16_t id;

	nlf_msg_service(c->m, c->nl.family, &c->seq, key);
	exchange(c);
	for (id = 0; id < 4; id++) {
		nlf_msg_backend(c->m, c->nl.family, &c->seq, key, id);
		exchange(c);
	}
}

static void one_action(struct nlf_ctx *c)
{
	uint32_t pick = nlf_below(&c->rng, 100);
	unsigned int key = nlf_below(&c->rng, NLF_NR_KEYS);

	if (pick < 74) {
		nlf_msg_random(c->m, &c->rng, &c->pool, c->nl.family, &c->seq);
		exchange(c);
	} else if (pick < 88) {
		enum nlf_txn_action act = (enum nlf_txn_action)nlf_below(&c->rng, 4);

		nlf_msg_txn(c->m, &c->rng, &c->pool, c->nl.family, &c->seq, act);
		/* The key a new transaction is on, for the pool. */
		exchange(c);
	} else if (pick < 94) {
		dump_half_read(c);
	} else if (pick < 96) {
		/* Closed with its transactions open: the kernel aborts them. */
		if (reopen(c, c->sock_epoch))
			c->open = false;
	} else {
		set_up(c, key);
	}
}

void nlf_worker_run(struct nlf_worker *w)
{
	struct nlf_run *run = w->run;
	struct nlf_ctx c = { .w = w, .dump_fd = -1, .seq = 1 };
	unsigned int key;
	int epoch, loads;

	c.rng.s = w->slot->seed;
	c.m = malloc(sizeof(*c.m));
	c.rcv = malloc(NLF_RCV_MAX);
	if (!c.m || !c.rcv) {
		nlf_fail(run, w->slot, "%s: out of memory", w->slot->name);
		goto out;
	}
	while (!__atomic_load_n(&run->stop, __ATOMIC_ACQUIRE)) {
		if (w->limit && w->slot->sent >= w->limit)
			break;
		epoch = nlf_epoch(run);
		loads = __atomic_load_n(&run->loads, __ATOMIC_ACQUIRE);
		if (!c.open || loads != c.sock_loads) {
			if (epoch % 2 || reopen(&c, epoch)) {
				c.open = false;
				if (nlf_epoch(run) == epoch && epoch % 2 == 0) {
					nlf_fail(run, w->slot,
						 "%s: no klb family with the module loaded",
						 w->slot->name);
					break;
				}
				usleep(1000);
				continue;
			}
			if (!w->unpriv)
				for (key = 0; key < NLF_NR_KEYS; key++)
					set_up(&c, key);
		}
		if (__atomic_load_n(&run->taken, __ATOMIC_RELAXED) >= run->budget ||
		    !nlf_ticket(run, 0))
			break;
		one_action(&c);
	}
out:
	close_dump(&c);
	close_main(&c);
	free(c.m);
	free(c.rcv);
}
