// SPDX-License-Identifier: GPL-2.0
/*
 * klbctl's Unix socket (the protocol: lib/klbd_proto.h). Mode 0660, group
 * klb when that group exists: root and the klb group may change the
 * cluster. One request at a time per client, answered in order; a
 * KLBD_CTL_WATCH makes the connection a stream of events (watch.c), each
 * queued without waiting and bounded per watcher.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "klbd/klbd.h"

/* Requests read ahead of their answers: a few, not a flood. */
#define CONTROL_RBUF_BYTES	4096

static void client_read_ev(struct loop_ev *ev, int res);
static void client_write_ev(struct loop_ev *ev, int res);

static struct control_client *client_find(struct klbd *d, uint64_t id)
{
	struct control_client *c;

	for (c = d->clients; c; c = c->next)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

static void client_close(struct control_client *c)
{
	struct klbd *d = c->d;

	if (c->dead)
		return;
	c->dead = true;
	if (c->watching) {
		c->watching = false;
		d->n_watchers--;
	}
	loop_poll_cancel(&d->ring, &c->rev);
	loop_poll_cancel(&d->ring, &c->wev);
	close(c->fd);
	c->fd = -1;
	node_client_gone(d, c->id);
}

void control_reap(struct klbd *d)
{
	struct control_client **pp = &d->clients, *c;

	while ((c = *pp)) {
		if (!c->dead || c->rev.armed || c->wev.armed) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		d->n_clients--;
		free(c->rbuf);
		wbuf_free(&c->out);
		free(c);
	}
}

static void client_flush(struct control_client *c)
{
	ssize_t n;

	while (c->out.off < c->out.len) {
		n = write(c->fd, c->out.p + c->out.off, c->out.len - c->out.off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!c->wev.armed)
				loop_poll(&c->d->ring, &c->wev, c->fd, POLLOUT);
			return;
		}
		if (n < 0) {
			client_close(c);
			return;
		}
		c->out.off += n;
	}
	c->out.off = c->out.len = 0;
	/* The overflow event is out: the stream ends. */
	if (c->overflowed)
		client_close(c);
}

static void client_process(struct control_client *c);

static int append_msg(struct control_client *c, uint8_t op, int status,
		      const char *msg, const void *body, size_t len)
{
	uint8_t hdr[KLBD_CTL_RESP_HEADER_BYTES];
	size_t mlen = msg ? strlen(msg) : 0;

	put_u32(hdr, KLBD_CTL_RESP_HEADER_BYTES - 4 + mlen + len);
	hdr[4] = KLBD_PROTO_VERSION;
	hdr[5] = op;
	put_u16(hdr + 6, 0);
	put_u32(hdr + 8, (uint32_t)status);
	put_u32(hdr + 12, mlen);
	if (wbuf_append(&c->out, hdr, sizeof(hdr)) ||
	    wbuf_append(&c->out, msg ? msg : "", mlen) ||
	    wbuf_append(&c->out, body ? body : "", len))
		return -ENOMEM;
	return 0;
}

/*
 * One event to one watcher, unless its queue would pass the limit: then
 * the overflow event instead, and the watcher is closed once that is out
 * (or after WATCH_CLOSE_MS: a client that never reads never takes it).
 */
static void watch_queue(struct control_client *c, const void *rec, size_t len)
{
	struct klbd *d = c->d;
	struct klbd_event ev = { .type = KLBD_EV_OVERFLOW };
	uint8_t buf[KLBD_EVENT_MAX_BYTES];
	int n;

	if (c->dead || !c->watching || c->overflowed)
		return;
	if (c->out.len - c->out.off + KLBD_CTL_RESP_HEADER_BYTES + len >
	    KLBD_WATCH_QUEUE_MAX_BYTES) {
		d->stats.watch_overflows++;
		klbd_log(LOG_WARNING, "control: a watcher fell %zu bytes behind: disconnected",
			 c->out.len - c->out.off);
		c->overflowed = true;
		c->close_ms = d->now_ms + WATCH_CLOSE_MS;
		n = klbd_event_encode(&ev, buf, sizeof(buf));
		rec = buf;
		len = n > 0 ? (size_t)n : 0;
	} else {
		d->stats.watch_events++;
	}
	if (append_msg(c, KLBD_CTL_WATCH, 0, NULL, rec, len)) {
		client_close(c);
		return;
	}
	client_flush(c);
}

void control_watch_send(struct klbd *d, const void *rec, size_t len)
{
	struct control_client *c;

	for (c = d->clients; c; c = c->next)
		watch_queue(c, rec, len);
}

void control_watch_send_one(struct klbd *d, uint64_t id, const void *rec,
			    size_t len)
{
	struct control_client *c = client_find(d, id);

	if (c)
		watch_queue(c, rec, len);
}

void control_tick(struct klbd *d)
{
	struct control_client *c;

	for (c = d->clients; c; c = c->next)
		if (c->overflowed && !c->dead && d->now_ms >= c->close_ms)
			client_close(c);
}

/*
 * The connection becomes a stream: answered, then events. Its socket
 * buffer is made small so that a watcher that does not read holds
 * little in the kernel too; klbd's own queue is the bound that counts.
 */
static void watch_start(struct control_client *c)
{
	struct klbd *d = c->d;
	int sndbuf = WATCH_SNDBUF_BYTES;

	if (d->n_watchers >= KLBD_WATCHERS_MAX) {
		d->stats.watch_over_limit++;
		control_reply(d, c->id, KLBD_CTL_WATCH, -EBUSY,
			      "too many watchers", NULL, 0);
		return;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->watching = true;
	d->n_watchers++;
	control_reply(d, c->id, KLBD_CTL_WATCH, 0, NULL, NULL, 0);
	watch_started(d, c->id);
}

void control_reply(struct klbd *d, uint64_t id, uint8_t op, int status,
		   const char *msg, const void *body, size_t len)
{
	struct control_client *c = client_find(d, id);

	/* Not a control client: maybe a registration over HTTP. */
	if (!c) {
		reg_reply(d, id, status, msg);
		return;
	}
	if (append_msg(c, op, status, msg, body, len)) {
		client_close(c);
		return;
	}
	c->busy = false;
	client_flush(c);
	if (!c->dead)
		client_process(c);
	/* Reading stopped at a full buffer: there is room again. */
	if (!c->dead && !c->rev.armed && c->rlen < c->rcap)
		loop_poll(&d->ring, &c->rev, c->fd, POLLIN);
}

/*
 * The whole requests in the buffer, one at a time: each is taken out of
 * the buffer before it runs, since its answer may come at once.
 */
static void client_process(struct control_client *c)
{
	uint8_t small[KLBD_CTL_HEADER_BYTES + KLBD_CMD_MAX_BYTES], *req;
	struct klbd *d = c->d;
	uint32_t len;
	uint8_t op;

	if (c->processing)
		return;
	c->processing = true;
	/* A watcher only listens: what it sends is read and dropped. */
	if (c->watching)
		c->rlen = 0;
	while (!c->watching && !c->busy && !c->dead && c->rlen >= 4) {
		len = get_u32(c->rbuf) + 4;
		if (len < KLBD_CTL_HEADER_BYTES || len > KLBD_CTL_MAX_BYTES) {
			d->stats.control_bad_requests++;
			client_close(c);
			break;
		}
		if (c->rlen < len)
			break;
		/* A SERVICE_REPLACE does not fit the stack. */
		req = len > sizeof(small) ? malloc(len) : small;
		if (!req) {
			client_close(c);
			break;
		}
		memcpy(req, c->rbuf, len);
		memmove(c->rbuf, c->rbuf + len, c->rlen - len);
		c->rlen -= len;
		op = req[5];
		c->busy = true;
		if (req[4] != KLBD_PROTO_VERSION || get_u16(req + 6)) {
			d->stats.control_bad_requests++;
			control_reply(d, c->id, op, -EPROTO,
				      "unknown protocol version", NULL, 0);
		} else if (op == KLBD_CTL_SUBMIT) {
			node_submit(d, c->id, req + KLBD_CTL_HEADER_BYTES,
				    len - KLBD_CTL_HEADER_BYTES);
		} else if (op == KLBD_CTL_TRANSFER &&
			   len == KLBD_CTL_HEADER_BYTES + 8) {
			node_transfer(d, c->id, get_u64(req + KLBD_CTL_HEADER_BYTES));
		} else if (op == KLBD_CTL_MEMBER) {
			member_request(d, c->id, req + KLBD_CTL_HEADER_BYTES,
				       len - KLBD_CTL_HEADER_BYTES);
		} else if (op == KLBD_CTL_SERVICES && len == KLBD_CTL_HEADER_BYTES) {
			node_services(d, c->id);
		} else if (op == KLBD_CTL_MEMBERS && len == KLBD_CTL_HEADER_BYTES) {
			member_show(d, c->id);
		} else if (op == KLBD_CTL_WATCH && len == KLBD_CTL_HEADER_BYTES) {
			watch_start(c);
		} else if (op == KLBD_CTL_HEALTH) {
			health_show(d, c->id, req + KLBD_CTL_HEADER_BYTES,
				    len - KLBD_CTL_HEADER_BYTES);
		} else if (op == KLBD_CTL_STATUS) {
			char buf[8192];

			node_status(d, buf, sizeof(buf));
			control_reply(d, c->id, op, 0, NULL, buf, strlen(buf));
		} else {
			d->stats.control_bad_requests++;
			control_reply(d, c->id, op, -EOPNOTSUPP, "unknown request",
				      NULL, 0);
		}
		if (req != small)
			free(req);
	}
	c->processing = false;
}

static void client_read_ev(struct loop_ev *ev, int res)
{
	struct control_client *c =
		(struct control_client *)((char *)ev - offsetof(struct control_client, rev));
	ssize_t n;

	if (c->dead)
		return;
	for (;;) {
		/* A request longer than the buffer: room for it, up to the limit. */
		if (c->rlen >= 4 && get_u32(c->rbuf) + (size_t)4 > c->rcap &&
		    get_u32(c->rbuf) + (size_t)4 <= KLBD_CTL_MAX_BYTES) {
			uint8_t *np = realloc(c->rbuf, get_u32(c->rbuf) + (size_t)4);

			if (!np) {
				client_close(c);
				return;
			}
			c->rbuf = np;
			c->rcap = get_u32(c->rbuf) + (size_t)4;
		}
		if (c->rlen == c->rcap)
			return;	/* waits for answers (control_reply) */
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->rlen += n;
		client_process(c);
		if (c->dead)
			return;
	}
	/*
	 * An answer given at once (control_reply) may have armed it: a
	 * second poll would outlive the client's cancel and its free.
	 */
	if (!c->rev.armed)
		loop_poll(&c->d->ring, &c->rev, c->fd, POLLIN);
}

static void client_write_ev(struct loop_ev *ev, int res)
{
	struct control_client *c =
		(struct control_client *)((char *)ev - offsetof(struct control_client, wev));

	if (!c->dead)
		client_flush(c);
}

static void control_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, control_ev));
	struct control_client *c;
	int fd;

	while ((fd = accept4(d->control_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (d->n_clients >= CONTROL_CLIENTS_MAX) {
			d->stats.control_over_limit++;
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->rbuf = malloc(CONTROL_RBUF_BYTES);
		if (!c || !c->rbuf) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->rcap = CONTROL_RBUF_BYTES;
		c->id = ++d->next_client;
		c->rev.fn = client_read_ev;
		c->wev.fn = client_write_ev;
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
		loop_poll(&d->ring, &c->rev, fd, POLLIN);
	}
	loop_poll(&d->ring, &d->control_ev, d->control_fd, POLLIN);
}

int control_start(struct klbd *d, char *err, size_t err_len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	char dir[sizeof(sun.sun_path)];
	struct group *g;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST) {
			snprintf(err, err_len, "control-socket directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	d->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* A socket left by a klbd that died: nobody listens on it. */
	unlink(path);
	if (d->control_fd < 0 ||
	    bind(d->control_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || listen(d->control_fd, 16)) {
		snprintf(err, err_len, "control-socket %s: %s", path, strerror(errno));
		return -1;
	}
	g = getgrnam("klb");
	if (g && chown(path, 0, g->gr_gid))
		klbd_log(LOG_WARNING, "control-socket %s: group klb: %s", path,
			 strerror(errno));
	d->control_ev.fn = control_ev;
	loop_poll(&d->ring, &d->control_ev, d->control_fd, POLLIN);
	return 0;
}
