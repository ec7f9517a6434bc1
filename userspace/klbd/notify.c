// SPDX-License-Identifier: GPL-2.0
/*
 * systemd's notification protocol (sd_notify(3)), spoken directly: one
 * datagram to $NOTIFY_SOCKET per message. READY=1 once this gateway has
 * heard from a leader and its kernel holds the applied state; STATUS=
 * with role, term and applied index when they change; WATCHDOG=1 at half
 * the watchdog interval while the loop runs. Without $NOTIFY_SOCKET
 * (not under systemd) nothing is sent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "klbd/klbd.h"

static void notify_send(struct klbd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notify_send(struct klbd *d, const char *fmt, ...)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	char msg[256];
	socklen_t len;
	va_list ap;
	int n;

	if (!path || !*path || strlen(path) >= sizeof(sun.sun_path))
		return;
	if (d->notify_fd < 0)
		d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->notify_fd < 0)
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')	/* an abstract socket */
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		sendto(d->notify_fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
}

void notify_tick(struct klbd *d)
{
	const char *usec = getenv("WATCHDOG_USEC");
	struct raft_status rs;

	raft_status(d->raft, &rs);
	if (!d->notified_ready && rs.lead && !dirty_any(&d->dirty)) {
		notify_send(d, "READY=1");
		d->notified_ready = true;
	}
	if (rs.role != d->notified_role || rs.term != d->notified_term ||
	    d->applied != d->notified_applied) {
		notify_send(d, "STATUS=%s, term %llu, leader %llu, applied %llu",
			    raft_role_name(rs.role), (unsigned long long)rs.term,
			    (unsigned long long)rs.lead,
			    (unsigned long long)d->applied);
		d->notified_role = rs.role;
		d->notified_term = rs.term;
		d->notified_applied = d->applied;
	}
	if (usec && *usec &&
	    d->now_ms - d->watchdog_ms >= strtoull(usec, NULL, 10) / 2000) {
		notify_send(d, "WATCHDOG=1");
		d->watchdog_ms = d->now_ms;
	}
}

void notify_stopping(struct klbd *d)
{
	notify_send(d, "STOPPING=1");
}

void notify_reload(struct klbd *d, bool start)
{
	if (start)
		notify_send(d, "RELOADING=1");
	else if (d->notified_ready)
		notify_send(d, "READY=1");
}
