// SPDX-License-Identifier: GPL-2.0
/*
 * Writes through klbd, so that every gateway of the cluster agrees on
 * them: each write is one command (lib/klbd_proto.h) sent to the local
 * klbd's control socket, answered once the cluster committed it and this
 * gateway applied it. "No leader" and "overwritten" answers mean the
 * command did not apply: it is sent again until a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "klbctl/klbctl.h"
#include "lib/klbd_proto.h"

/* How long a write may wait for a leader, a commit and the kernel. */
#define KLBD_DEADLINE_MS	30000

uint64_t klbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *klbd_socket_path(void)
{
	const char *path = getenv("KLB_CONTROL_SOCKET");

	return path && *path ? path : KLBD_CONTROL_SOCKET;
}

static int read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
	uint8_t *p = buf;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (len) {
		uint64_t now = klbd_now_ms();

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, deadline - now) < 0 && errno != EINTR)
			return -errno;
		n = read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int klbd_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", klbd_socket_path());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int klbd_send(int fd, uint8_t op, const void *body, size_t len)
{
	uint8_t *req = calloc(1, KLBD_CTL_HEADER_BYTES + len);
	const uint8_t *p;
	uint32_t rlen;
	size_t left;
	ssize_t n;

	if (!req)
		return -ENOMEM;
	rlen = KLBD_CTL_HEADER_BYTES - 4 + len;
	req[0] = rlen;
	req[1] = rlen >> 8;
	req[2] = rlen >> 16;
	req[3] = rlen >> 24;
	req[4] = KLBD_PROTO_VERSION;
	req[5] = op;
	if (len)
		memcpy(req + KLBD_CTL_HEADER_BYTES, body, len);
	/* A SERVICE_REPLACE may take more than one write. */
	for (p = req, left = KLBD_CTL_HEADER_BYTES + len; left; p += n, left -= n) {
		n = write(fd, p, left);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			free(req);
			return -EIO;
		}
	}
	free(req);
	return 0;
}

int klbd_receive(int fd, uint64_t deadline, struct klbd_answer *a)
{
	uint8_t hdr[KLBD_CTL_RESP_HEADER_BYTES];
	uint32_t rlen, mlen;
	int err;

	memset(a, 0, sizeof(*a));
	err = read_full(fd, hdr, sizeof(hdr), deadline);
	if (err)
		return err;
	rlen = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	a->status = (int32_t)(hdr[8] | hdr[9] << 8 | hdr[10] << 16 |
			      (uint32_t)hdr[11] << 24);
	mlen = hdr[12] | hdr[13] << 8 | hdr[14] << 16 | (uint32_t)hdr[15] << 24;
	if (rlen < sizeof(hdr) - 4 || rlen > KLBD_CTL_MAX_BYTES ||
	    mlen > rlen - (sizeof(hdr) - 4))
		return -EBADMSG;
	a->body_len = rlen - (sizeof(hdr) - 4) - mlen;
	a->buf = malloc(mlen + a->body_len + 2);
	if (!a->buf)
		return -ENOMEM;
	err = read_full(fd, a->buf, mlen + a->body_len, deadline);
	if (err) {
		free(a->buf);
		a->buf = NULL;
		return err;
	}
	/* The message and the body, each NUL-terminated. */
	memmove(a->buf + mlen + 1, a->buf + mlen, a->body_len);
	a->buf[mlen] = '\0';
	a->buf[mlen + 1 + a->body_len] = '\0';
	a->msg = (char *)a->buf;
	a->body = (char *)a->buf + mlen + 1;
	return 0;
}

int klbd_call(uint8_t op, const void *body, size_t len, uint64_t deadline,
	      struct klbd_answer *a)
{
	int fd, err;

	memset(a, 0, sizeof(*a));
	fd = klbd_connect();
	if (fd < 0)
		return fd;
	err = klbd_send(fd, op, body, len);
	if (!err)
		err = klbd_receive(fd, deadline, a);
	close(fd);
	return err;
}

int klbd_call_retry(uint8_t op, const void *body, size_t len, uint64_t deadline,
		    const char *what, struct klbd_answer *a)
{
	unsigned int backoff = 50;
	int err;

	for (;;) {
		err = klbd_call(op, body, len, deadline, a);
		if (err)
			return report_msg(what, "klbd (%s): %s%s", klbd_socket_path(),
					  strerror(-err),
					  err == -ECONNREFUSED || err == -ENOENT ?
					  " (is klbd running? --direct writes to this kernel alone)" :
					  "");
		/* Not applied anywhere: safe to send again. */
		if ((a->status == -EAGAIN || a->status == -ECANCELED) &&
		    klbd_now_ms() + backoff < deadline) {
			free(a->buf);
			usleep(backoff * 1000);
			backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
			continue;
		}
		return EXIT_OK;
	}
}

int klbd_answer_check(struct klbd_answer *a, const char *what)
{
	if (!a->status)
		return EXIT_OK;
	report_msg(what, "%s", a->msg[0] ? a->msg : strerror(-a->status));
	free(a->buf);
	a->buf = NULL;
	return EXIT_FAIL;
}

int klbd_call_ok(uint8_t op, const void *body, size_t len, uint64_t deadline,
		 const char *what)
{
	struct klbd_answer a;
	int err;

	err = klbd_call_retry(op, body, len, deadline, what, &a);
	if (!err)
		err = klbd_answer_check(&a, what);
	if (err)
		return err;
	free(a.buf);
	return EXIT_OK;
}

static int klbd_submit(const struct klbd_cmd *cmd, const char *what)
{
	uint8_t buf[KLBD_CMD_MAX_BYTES];
	int n;

	n = klbd_cmd_encode(cmd, buf, sizeof(buf));
	if (n < 0)
		return report_msg(what, "cannot encode the command");
	return klbd_call_ok(KLBD_CTL_SUBMIT, buf, n, klbd_now_ms() + KLBD_DEADLINE_MS,
			    what);
}

static int klbd_service_add(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf,
			    const struct klbd_check *check)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_SERVICE_ADD, .key = *key,
				.conf = *conf, .check = *check };
	char what[WHAT_STRLEN];

	return klbd_submit(&cmd, fmt_service_what(key, what));
}

static int klbd_service_set(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_service_conf *conf,
			    uint32_t clear_flags, const struct klbd_check *check)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_SERVICE_SET, .key = *key,
				.conf = *conf, .clear_flags = clear_flags,
				.check = *check };
	char what[WHAT_STRLEN];

	return klbd_submit(&cmd, fmt_service_what(key, what));
}

static int klbd_service_del(struct ctx *ctx, const struct klb_service_key *key)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_SERVICE_DEL, .key = *key };
	char what[WHAT_STRLEN];

	return klbd_submit(&cmd, fmt_service_what(key, what));
}

static int klbd_backend(uint8_t op, const struct klb_service_key *key,
			const struct klb_backend *be)
{
	struct klbd_cmd cmd = { .op = op, .key = *key, .be = *be };
	char what[WHAT_STRLEN + ENDPOINT_STRLEN];

	return klbd_submit(&cmd, fmt_backend(key, &be->addr, what, sizeof(what)));
}

static int klbd_backend_add(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_backend *be)
{
	return klbd_backend(KLBD_CMD_BACKEND_ADD, key, be);
}

static int klbd_backend_set(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_backend *be)
{
	return klbd_backend(KLBD_CMD_BACKEND_SET, key, be);
}

static int klbd_backend_del(struct ctx *ctx, const struct klb_service_key *key,
			    const struct klb_backend *be)
{
	return klbd_backend(KLBD_CMD_BACKEND_DEL, key, be);
}

int klbd_backend_lease(struct ctx *ctx, const struct klb_service_key *key,
		       const struct klb_backend *be, uint16_t ttl)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_BACKEND_ADD, .key = *key,
				.be = *be, .ttl = ttl };
	char what[WHAT_STRLEN + ENDPOINT_STRLEN];

	return klbd_submit(&cmd, fmt_backend(key, &be->addr, what, sizeof(what)));
}

int klbd_backend_renew(struct ctx *ctx, const struct klb_service_key *key,
		       const struct klb_backend *be)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_LEASE_RENEW, .key = *key };
	char what[WHAT_STRLEN + ENDPOINT_STRLEN];

	cmd.be.addr = be->addr;
	return klbd_submit(&cmd, fmt_backend(key, &be->addr, what, sizeof(what)));
}

static int klbd_flush(struct ctx *ctx)
{
	struct klbd_cmd cmd = { .op = KLBD_CMD_FLUSH };

	return klbd_submit(&cmd, "flush");
}

const struct klbctl_ops klbd_ops = {
	.name = "klbd",
	.service_add = klbd_service_add,
	.service_set = klbd_service_set,
	.service_del = klbd_service_del,
	.backend_add = klbd_backend_add,
	.backend_set = klbd_backend_set,
	.backend_del = klbd_backend_del,
	.flush = klbd_flush,
	.restore = klbd_restore,
};
