// SPDX-License-Identifier: GPL-2.0
/*
 * restore through klbd: the services klbd holds that the input lacks are
 * deleted, then each service that differs is replaced whole, one
 * SERVICE_REPLACE each (lib/klbd_proto.h). Whether a service differs is
 * told by klbd's digest of it (KLBD_CTL_SERVICES), so a restore of what
 * the cluster holds sends nothing. klbd answers one request at a time per
 * connection, each once it is committed and applied here: several
 * connections keep several commands in flight, and Raft commits them
 * together.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "klbctl/klbctl.h"
#include "lib/klb_keyset.h"
#include "lib/klbd_proto.h"

/* Commands in flight: enough to fill Raft's batches, few sockets. */
#define RESTORE_CONNECTIONS	8
/* Waiting for any answer at all; klbd itself gives up on one after 15 s. */
#define RESTORE_IDLE_MS		60000
#define RESTORE_RETRY_MS	50

int klbd_services(struct klbd_service_sum **out, size_t *n, const char *what)
{
	struct klbd_service_sum *v = NULL;
	struct klbd_answer a;
	const uint8_t *p, *end;
	size_t cap = 0, used;
	int ret;

	*out = NULL;
	*n = 0;
	ret = klbd_call_retry(KLBD_CTL_SERVICES, NULL, 0, klbd_now_ms() + 30000,
			      what, &a);
	if (ret)
		return ret;
	if (a.status) {
		ret = report_msg(what, "klbd: %s", a.msg[0] ? a.msg : strerror(-a.status));
		free(a.buf);
		return ret;
	}
	p = (const uint8_t *)a.body;
	end = p + a.body_len;
	while (p < end) {
		struct klbd_service_sum *s;

		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			s = realloc(v, cap * sizeof(*v));
			if (!s)
				goto bad;
			v = s;
		}
		s = &v[*n];
		if (end - p < KLBD_KEY_BYTES + 8 ||
		    klbd_key_decode(p, KLBD_KEY_BYTES, &s->key, NULL, 0))
			goto bad;
		p += KLBD_KEY_BYTES;
		s->digest = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
			    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
			    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
			    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
		p += 8;
		if (klbd_check_decode(p, end - p, &s->check, &used))
			goto bad;
		p += used;
		(*n)++;
	}
	free(a.buf);
	*out = v;
	return EXIT_OK;
bad:
	free(a.buf);
	free(v);
	*n = 0;
	return report_msg(what, "klbd's list of services is malformed");
}

struct job {
	uint8_t *buf;			/* the command */
	size_t len;
	const struct klb_service_key *key;
};

/* The SERVICE_REPLACE of specs[i] into *job, or nothing when klbd holds it. */
static int replace_job(const struct klb_service_spec *spec,
		       const struct klbd_check *check,
		       const struct klbd_service_sum *have, struct job *job)
{
	struct klbd_check merged;
	struct klbd_cmd cmd;
	size_t len;
	int ret = 0;

	memset(job, 0, sizeof(*job));
	if (klbd_replace_build(&cmd, &spec->key, &spec->conf, spec->backends,
			       spec->nr_backends, spec->table, check))
		return -ENOMEM;
	if (have && have->digest == klbd_replace_digest(&cmd) &&
	    (!check->fields ||
	     (!klbd_check_merge(NULL, check, &merged, NULL, 0) &&
	      !memcmp(&merged, &have->check, sizeof(merged)))))
		goto out;
	/* Too big a table to send: klbd computes it. */
	if (cmd.table && cmd.conf.table_size > KLBD_REPLACE_MAX_TABLE)
		cmd.table = NULL;
	len = klbd_cmd_size(&cmd);
	job->buf = len ? malloc(len) : NULL;
	if (!job->buf) {
		ret = len ? -ENOMEM : -E2BIG;
		goto out;
	}
	job->len = klbd_cmd_encode(&cmd, job->buf, len);
	job->key = &spec->key;
out:
	free(cmd.bes);
	return ret;
}

struct slot {
	int fd;
	long job;			/* in flight, or -1 */
};

/*
 * jobs[0..n) with RESTORE_CONNECTIONS in flight. Returns EXIT_OK, or the
 * first refused job's error (reported); *first_bad: its index, else n.
 */
static int run_jobs(struct slot *slots, struct job *jobs, size_t n,
		    const char *what, size_t *first_bad)
{
	struct pollfd pfd[RESTORE_CONNECTIONS];
	uint64_t deadline = klbd_now_ms() + RESTORE_IDLE_MS;
	char why[256] = "", whatbuf[WHAT_STRLEN];
	size_t next = 0, busy = 0, i;
	int err = 0, status = 0;
	struct klbd_answer a;

	*first_bad = n;
	for (;;) {
		for (i = 0; i < RESTORE_CONNECTIONS && !err; i++) {
			if (slots[i].job >= 0 || next >= n || *first_bad < n)
				continue;
			while (next < n && !jobs[next].buf)
				next++;
			if (next >= n)
				break;
			err = klbd_send(slots[i].fd, KLBD_CTL_SUBMIT, jobs[next].buf,
					jobs[next].len);
			slots[i].job = next++;
			busy++;
		}
		if (err || !busy)
			break;
		for (i = 0; i < RESTORE_CONNECTIONS; i++) {
			pfd[i].fd = slots[i].job >= 0 ? slots[i].fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (klbd_now_ms() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(pfd, RESTORE_CONNECTIONS, deadline - klbd_now_ms()) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (i = 0; i < RESTORE_CONNECTIONS && !err; i++) {
			size_t j;

			if (!pfd[i].revents)
				continue;
			err = klbd_receive(slots[i].fd, deadline, &a);
			if (err)
				break;
			/* An answer is progress: the next one gets its own wait. */
			deadline = klbd_now_ms() + RESTORE_IDLE_MS;
			j = slots[i].job;
			/* Not applied anywhere: the same command again. */
			if (a.status == -EAGAIN || a.status == -ECANCELED) {
				free(a.buf);
				usleep(RESTORE_RETRY_MS * 1000);
				err = klbd_send(slots[i].fd, KLBD_CTL_SUBMIT,
						jobs[j].buf, jobs[j].len);
				continue;
			}
			slots[i].job = -1;
			busy--;
			if (a.status && j < *first_bad) {
				*first_bad = j;
				status = a.status;
				snprintf(why, sizeof(why), "%s",
					 a.msg[0] ? a.msg : strerror(-a.status));
			}
			free(a.buf);
		}
	}
	if (err)
		return report_msg(what, "klbd (%s): %s", klbd_socket_path(),
				  strerror(-err));
	if (*first_bad < n)
		return report_msg(fmt_service_what(jobs[*first_bad].key, whatbuf),
				  "%s (%s; the services before it are restored)",
				  why, strerror(-status));
	return EXIT_OK;
}

int klbd_restore(struct ctx *ctx, const struct klb_service_spec *specs,
		 const struct klbd_check *checks, size_t n)
{
	struct slot slots[RESTORE_CONNECTIONS];
	struct klbd_service_sum *have = NULL;
	struct klb_keyset keys = { 0 };
	uint8_t key[KLB_KEYSET_KEY_MAX];
	struct klbd_cmd del = { .op = KLBD_CMD_SERVICE_DEL };
	struct job *jobs = NULL;
	size_t n_have, n_jobs = 0, i, bad;
	uint32_t at;
	bool *kept = NULL;
	int ret, fd;

	for (i = 0; i < RESTORE_CONNECTIONS; i++)
		slots[i] = (struct slot){ .fd = -1, .job = -1 };
	ret = klbd_services(&have, &n_have, "restore");
	if (ret)
		return ret;
	jobs = calloc(n + n_have + 1, sizeof(*jobs));
	kept = calloc(n_have + 1, sizeof(*kept));
	if (!jobs || !kept) {
		ret = report_msg("restore", "out of memory");
		goto out;
	}
	for (i = 0; i < n_have; i++)
		if (klb_keyset_add(&keys, key, klb_service_key_bytes(&have[i].key, key),
				   i, &at) < 0) {
			ret = report_msg("restore", "out of memory");
			goto out;
		}
	/* What the input keeps, and the replacements of what differs. */
	for (i = 0; i < n; i++) {
		const struct klbd_service_sum *h = NULL;

		if (!klb_keyset_find(&keys, key, klb_service_key_bytes(&specs[i].key, key),
				     &at)) {
			h = &have[at];
			kept[at] = true;
		}
		ret = replace_job(&specs[i], &checks[i], h, &jobs[n_have + i]);
		if (ret) {
			char what[WHAT_STRLEN];

			ret = report_msg(fmt_service_what(&specs[i].key, what), "%s",
					 ret == -E2BIG ? "too big for one command" :
					 strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < n_have; i++) {
		int len;

		if (kept[i])
			continue;
		del.key = have[i].key;
		jobs[n_jobs].buf = malloc(KLBD_CMD_MAX_BYTES);
		if (!jobs[n_jobs].buf) {
			ret = report_msg("restore", "out of memory");
			goto out;
		}
		len = klbd_cmd_encode(&del, jobs[n_jobs].buf, KLBD_CMD_MAX_BYTES);
		jobs[n_jobs].len = len;
		jobs[n_jobs].key = &have[i].key;
		n_jobs++;
	}
	for (i = 0; i < RESTORE_CONNECTIONS; i++) {
		fd = klbd_connect();
		if (fd < 0) {
			ret = report_msg("restore", "klbd (%s): %s", klbd_socket_path(),
					 strerror(-fd));
			goto out;
		}
		slots[i].fd = fd;
	}
	/* Deletions first: they make room under the service limit. */
	ret = run_jobs(slots, jobs, n_jobs, "restore", &bad);
	if (!ret)
		ret = run_jobs(slots, jobs + n_have, n, "restore", &bad);
out:
	for (i = 0; i < RESTORE_CONNECTIONS; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	if (jobs)
		for (i = 0; i < n + n_have; i++)
			free(jobs[i].buf);
	free(jobs);
	free(kept);
	free(have);
	klb_keyset_free(&keys);
	return ret;
}
