// SPDX-License-Identifier: GPL-2.0
/*
 * What tells klbd that its kernel changed: two netlink listeners on the
 * ring. klb's own "events" group reports every write to the kernel's
 * configuration; the generic netlink controller's "notify" group reports
 * the klb family appearing and going away, which is the module being
 * loaded and unloaded. Either makes reconcile.c compare the kernel's
 * config generation with the index klbd last gave it, at once, and a
 * mismatch (someone wrote behind klbd's back, or a fresh module holds
 * nothing) is reconciled in the same loop iteration.
 *
 * An event only says "look": our own writes raise them too, and the
 * comparison tells them apart. Lost events (the receive queue overflowed)
 * are handled the same way. reconcile.c keeps a slow poll of the
 * generation as a backstop for a listener that cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>

#include <linux/genetlink.h>

#include "klbd/klbd.h"

#define KEVENTS_RETRY_MS	5000
#define KLB_FAMILY		"klb"

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -1 : 0;
}

static void events_close(struct klbd *d)
{
	if (!d->kev_open)
		return;
	loop_poll_cancel(&d->ring, &d->kev_ev);
	klb_client_close(&d->kev);
	d->kev_open = false;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct klbd *d = data;
	const struct nlattr *a;

	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != CTRL_ATTR_FAMILY_NAME ||
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    strcmp(mnl_attr_get_str(a), KLB_FAMILY))
			continue;
		klbd_log(LOG_NOTICE, "the klb module was %s",
			 g->cmd == CTRL_CMD_NEWFAMILY ? "loaded" : "unloaded");
		d->stats.module_events++;
		/* Its sockets name a family that is gone: start afresh. */
		events_close(d);
		d->kevents_retry_ms = 0;
		reconcile_kernel_changed(d, true);
	}
	return 0;
}

static void ctrl_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, kctl_ev));
	struct nl_error e = { 0 };

	if (!d->kctl_open || res < 0)	/* closed, or its poll cancelled */
		return;
	while (!nl_recv_events(&d->kctl, family_cb, d, &e))
		;
	if (e.err == ENOBUFS) {
		/* Something was lost: whatever it was, look. */
		reconcile_kernel_changed(d, true);
		events_close(d);
	} else if (e.err != EAGAIN) {
		klbd_log(LOG_WARNING, "generic netlink notifications: %s", e.msg);
		nl_close(&d->kctl);
		d->kctl_open = false;
		d->kevents_retry_ms = d->now_ms + KEVENTS_RETRY_MS;
		return;
	}
	loop_poll(&d->ring, &d->kctl_ev, nl_fd(&d->kctl), POLLIN);
}

static int event_cb(const struct klb_event *kev, void *data)
{
	struct klbd *d = data;

	d->stats.kernel_events++;
	return 0;
}

static void events_ev(struct loop_ev *ev, int res)
{
	struct klbd *d = (struct klbd *)((char *)ev - offsetof(struct klbd, kev_ev));
	klb_error e = { 0 };
	uint64_t seen = d->stats.kernel_events;

	if (!d->kev_open || res < 0)
		return;
	while (!klb_events_read(&d->kev, event_cb, d, &e))
		;
	if (d->stats.kernel_events != seen || klb_error_errno(&e) == ENOBUFS)
		reconcile_kernel_changed(d, false);
	if (klb_error_errno(&e) != EAGAIN && klb_error_errno(&e) != ENOBUFS) {
		events_close(d);
		d->kevents_retry_ms = d->now_ms + KEVENTS_RETRY_MS;
		return;
	}
	loop_poll(&d->ring, &d->kev_ev, nl_fd(&d->kev.nl), POLLIN);
}

static void ctrl_open(struct klbd *d)
{
	struct nl_error e = { 0 };

	if (d->kctl_ev.armed)
		return;
	if (nl_open(&d->kctl, "nlctrl", &e))
		goto fail;
	if (nl_join_group(&d->kctl, "nlctrl", "notify", &e) ||
	    set_nonblocking(nl_fd(&d->kctl))) {
		nl_close(&d->kctl);
		goto fail;
	}
	d->kctl_open = true;
	d->kctl_ev.fn = ctrl_ev;
	loop_poll(&d->ring, &d->kctl_ev, nl_fd(&d->kctl), POLLIN);
	return;
fail:
	klbd_log(LOG_WARNING,
		 "generic netlink notifications: %s (a reloaded klb module is found by polling)",
		 e.msg[0] ? e.msg : strerror(e.err));
	d->kevents_retry_ms = d->now_ms + KEVENTS_RETRY_MS;
}

static void events_open(struct klbd *d)
{
	klb_error e = { 0 };

	if (d->kev_ev.armed)	/* the closed socket's poll is not done yet */
		return;
	/* ENOENT: the module is not loaded; its NEWFAMILY brings us back. */
	if (klb_client_open(&d->kev, &e)) {
		d->kevents_retry_ms = d->now_ms + KEVENTS_RETRY_MS;
		return;
	}
	if (klb_events_subscribe(&d->kev, &e) ||
	    set_nonblocking(nl_fd(&d->kev.nl))) {
		klb_client_close(&d->kev);
		d->kevents_retry_ms = d->now_ms + KEVENTS_RETRY_MS;
		return;
	}
	d->kev_open = true;
	d->kev_ev.fn = events_ev;
	loop_poll(&d->ring, &d->kev_ev, nl_fd(&d->kev.nl), POLLIN);
	/* Whatever happened before we listened. */
	reconcile_kernel_changed(d, false);
}

void kevents_tick(struct klbd *d)
{
	if ((d->kctl_open && d->kev_open) || d->now_ms < d->kevents_retry_ms)
		return;
	/* The family listener first, so a load between the two is seen. */
	if (!d->kctl_open)
		ctrl_open(d);
	if (!d->kev_open)
		events_open(d);
}
