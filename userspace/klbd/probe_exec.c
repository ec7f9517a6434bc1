// SPDX-License-Identifier: GPL-2.0
/* The exec check's process (probe_exec.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "klbd/probe_exec.h"
#include "lib/klbd_bytes.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int probe_exec_start(struct probe_exec *x, const char *dir, const char *name,
		     const struct klb_service_key *key,
		     const struct klb_endpoint *be, char *why, size_t why_len)
{
	char path[PATH_MAX], addr[INET6_ADDRSTRLEN], vip[INET6_ADDRSTRLEN];
	char port[8], vport[8];
	char env[6][INET6_ADDRSTRLEN + 24];
	const char *proto = key->proto == IPPROTO_UDP ? "udp" : "tcp";
	char *argv[7], *envp[7];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int err;

	x->pid = -1;
	x->pidfd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return klbd_why(why, why_len, -ENAMETOOLONG, "script path too long");
	inet_ntop(be->family, be->addr, addr, sizeof(addr));
	inet_ntop(key->vip.family, key->vip.addr, vip, sizeof(vip));
	snprintf(port, sizeof(port), "%u", be->port);
	snprintf(vport, sizeof(vport), "%u", key->vip.port);
	snprintf(env[0], sizeof(env[0]), "KLB_BACKEND_ADDR=%s", addr);
	snprintf(env[1], sizeof(env[1]), "KLB_BACKEND_PORT=%s", port);
	snprintf(env[2], sizeof(env[2]), "KLB_SERVICE_PROTO=%s", proto);
	snprintf(env[3], sizeof(env[3]), "KLB_VIP=%s", vip);
	snprintf(env[4], sizeof(env[4]), "KLB_VIP_PORT=%s", vport);
	snprintf(env[5], sizeof(env[5]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	argv[0] = path;
	argv[1] = addr;
	argv[2] = port;
	argv[3] = (char *)proto;
	argv[4] = vip;
	argv[5] = vport;
	argv[6] = NULL;
	for (err = 0; err < 6; err++)
		envp[err] = env[err];
	envp[6] = NULL;

	/* klbd blocks nothing, but ignores SIGPIPE: the script must not. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	err = posix_spawn(&x->pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		x->pid = -1;
		return klbd_why(why, why_len, -err, "script %s: %s", path, strerror(err));
	}
	/* Not reaped yet, so the pid is still this child's. */
	x->pidfd = syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd < 0) {
		err = -errno;
		probe_exec_kill(x);
		waitpid(x->pid, NULL, 0);
		x->pid = -1;
		return klbd_why(why, why_len, err, "pidfd_open: %s", strerror(-err));
	}
	return 0;
}

int probe_exec_reap(struct probe_exec *x, int *status)
{
	pid_t r;

	if (x->pid < 0)
		return -ECHILD;
	r = waitpid(x->pid, status, WNOHANG);
	if (r < 0)
		return -errno;
	if (!r)
		return 0;
	x->pid = -1;
	return 1;
}

void probe_exec_kill(struct probe_exec *x)
{
	if (x->pid > 0)
		kill(-x->pid, SIGKILL);
}

void probe_exec_close(struct probe_exec *x)
{
	if (x->pidfd >= 0)
		close(x->pidfd);
	x->pidfd = -1;
}

void probe_exec_why(int status, char *why, size_t why_len)
{
	if (WIFEXITED(status))
		snprintf(why, why_len, "script: exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, why_len, "script: killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, why_len, "script: status %#x", status);
}
