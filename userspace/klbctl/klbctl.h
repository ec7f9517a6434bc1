/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klbctl internals: the command context, argument parsing and formatting,
 * the output layer, and the write operations interface (the kernel, or
 * klbd).
 */

#ifndef KLBCTL_H
#define KLBCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <klb/sched.h>

#include "lib/klb_apply.h"
#include "lib/klb_client.h"
#include "lib/klb_idset.h"
#include "lib/klb_keyset.h"
#include "lib/klb_save_parse.h"
#include "lib/klb_tables.h"
#include "lib/klb_words.h"
#include "lib/klbd_proto.h"

/* Exit statuses: the contract with scripts. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Reads retried this often while writers move what they read. */
#define KLBCTL_CAS_RETRIES	KLB_APPLY_ATTEMPTS

#define KLBD_CONTROL_SOCKET	"/run/klbd/control.sock"

struct klbctl_ops;

struct ctx {
	bool json;
	bool stats;
	bool direct;
	const char *netns;
	const struct klbctl_ops *ops;
	struct klb_client client;
	bool client_open;
	const struct command *cmd;	/* the command being run */
};

struct command {
	const char *object;		/* NULL for object-less commands */
	const char *name;
	int (*run)(struct ctx *ctx, int argc, char **argv);
	const char *usage;
};

/* main.c */
/*
 * The global options into ctx, then the command they lead to (ctx->cmd);
 * *argc and *argv are left at the command's own arguments. Returns
 * EXIT_OK, or, when there is nothing to run (ctx->cmd NULL: a usage error
 * or the help), the status to exit with. Opens nothing: main does that.
 */
int parse_command_line(struct ctx *ctx, int *argc, char ***argv);
int usage_error(struct ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Opens the netlink client on first use; prints why it cannot. */
int ctx_client(struct ctx *ctx, struct klb_client **c);

/*
 * Prints "klbctl: WHAT: REASON" for a failed operation, REASON being the
 * kernel's message when it gave one; returns EXIT_FAIL.
 */
int report_error(const char *what, const klb_error *e);
int report_msg(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * parse.c (the words themselves are lib/klb_words.h's). Formatting:
 * buffers of at least ENDPOINT_STRLEN / SERVICE_STRLEN.
 */
#define ENDPOINT_STRLEN KLB_ENDPOINT_STRLEN
#define SERVICE_STRLEN 72
#define WHAT_STRLEN (SERVICE_STRLEN + 8)
const char *fmt_endpoint(const struct klb_endpoint *ep, char *buf);
const char *fmt_service(const struct klb_service_key *key, char *buf);
/* "service PROTO VIP:PORT", the object an error names: WHAT_STRLEN. */
const char *fmt_service_what(const struct klb_service_key *key, char *buf);
const char *fmt_backend(const struct klb_service_key *key,
			const struct klb_endpoint *be, char *buf, size_t len);

/*
 * The PROTO VIP:PORT that starts most commands' arguments (argv[0] and
 * argv[1]); on error prints a hint and returns EXIT_USAGE.
 */
int service_key_args(struct ctx *ctx, int argc, char **argv,
		     struct klb_service_key *key);
/* The same, for commands that take nothing else. */
int service_key_only(struct ctx *ctx, int argc, char **argv,
		     struct klb_service_key *key);

/*
 * Service settings from "KEYWORD VALUE" pairs (sched, fwd, table-size,
 * bound, affinity, down-policy, seed, and the health check's). Fills
 * conf->fields and check->fields with what was given; on error prints a
 * hint and returns EXIT_USAGE or EXIT_FAIL.
 */
int parse_service_options(struct ctx *ctx, int argc, char **argv,
			  struct klb_service_conf *conf, uint32_t *clear_flags,
			  struct klbd_check *check);

/* output.c: one print path for text tables and JSON documents. */
void out_init(bool json);
void out_list_begin(void);		/* a list of records */
void out_list_end(void);
void out_record_begin(void);
void out_record_end(void);
void out_str(const char *key, const char *val);
void out_uint(const char *key, uint64_t val);
void out_bool(const char *key, bool val);
void out_str_list(const char *key, const char *const *vals, size_t n);
/* A bare list of strings (e.g. the table): JSON array, text one a line. */
void out_strings(const char *const *vals, size_t n);
/* Streams: each record printed as soon as it ends (monitor). */
void out_stream_begin(void);
void out_finish(void);

/*
 * ops: writes, behind an interface so that they can go through klbd. The
 * kernel's (ops_kernel.c) are calls of the apply engine, lib/klb_apply.h.
 */

struct klbctl_ops {
	const char *name;
	/* check: the health check (klbd's alone), fields 0 for none. */
	int (*service_add)(struct ctx *ctx, const struct klb_service_key *key,
			   const struct klb_service_conf *conf,
			   const struct klbd_check *check);
	int (*service_set)(struct ctx *ctx, const struct klb_service_key *key,
			   const struct klb_service_conf *conf,
			   uint32_t clear_flags, const struct klbd_check *check);
	int (*service_del)(struct ctx *ctx, const struct klb_service_key *key);
	int (*backend_add)(struct ctx *ctx, const struct klb_service_key *key,
			   const struct klb_backend *be);
	int (*backend_set)(struct ctx *ctx, const struct klb_service_key *key,
			   const struct klb_backend *be);
	int (*backend_del)(struct ctx *ctx, const struct klb_service_key *key,
			   const struct klb_backend *be);
	int (*flush)(struct ctx *ctx);
	/* checks: n of them, fields 0 for none (the kernel has none). */
	int (*restore)(struct ctx *ctx, const struct klb_service_spec *specs,
		       const struct klbd_check *checks, size_t n);
};

extern const struct klbctl_ops kernel_ops;
extern const struct klbctl_ops klbd_ops;
/* Leases are klbd's alone (Documentation/klbd.md, Leases). */
int klbd_backend_lease(struct ctx *ctx, const struct klb_service_key *key,
		       const struct klb_backend *be, uint16_t ttl);
int klbd_backend_renew(struct ctx *ctx, const struct klb_service_key *key,
		       const struct klb_backend *be);

/* Gateways named per backend in klbctl backend show. */
#define KLBD_HEALTH_SHOW_IDS	32	/* klbd's voter limit */

/* ops_klbd.c: one request to klbd's control socket (lib/klbd_proto.h). */
struct klbd_answer {
	int status;		/* 0 or -errno: the request's outcome */
	char *msg;		/* why, NUL-terminated ("" for none) */
	char *body;		/* NUL-terminated after body_len bytes */
	size_t body_len;
	uint8_t *buf;		/* holds msg and body: free() it */
};

const char *klbd_socket_path(void);
/* 0 with *a filled, or -errno when klbd could not be asked. */
int klbd_call(uint8_t op, const void *body, size_t len, uint64_t deadline_ms,
	      struct klbd_answer *a);
/* klbd_call in steps, for requests in flight on several connections. */
int klbd_connect(void);		/* fd or -errno */
int klbd_send(int fd, uint8_t op, const void *body, size_t len);
int klbd_receive(int fd, uint64_t deadline_ms, struct klbd_answer *a);
/* restore_klbd.c: the services through klbd (klbd_ops.restore). */
int klbd_restore(struct ctx *ctx, const struct klb_service_spec *specs,
		 const struct klbd_check *checks, size_t n);
/*
 * restore_klbd.c: each service klbd holds, its digest and check
 * (KLBD_CTL_SERVICES); *n of them in *out, malloc'd.
 */
struct klbd_service_sum {
	struct klb_service_key key;
	uint64_t digest;
	struct klbd_check check;
};
int klbd_services(struct klbd_service_sum **out, size_t *n, const char *what);
/*
 * klbd_call, sent again while the answer says it did not apply anywhere
 * (-EAGAIN, -ECANCELED) and the deadline allows; what: for the error.
 * EXIT_OK with *a to free, else the error reported (nothing to free).
 */
int klbd_call_retry(uint8_t op, const void *body, size_t len, uint64_t deadline_ms,
		    const char *what, struct klbd_answer *a);
/*
 * The outcome in klbd's answer: EXIT_OK (a still to free), or klbd's
 * refusal reported as what's, and a freed.
 */
int klbd_answer_check(struct klbd_answer *a, const char *what);
/*
 * klbd_call_retry and klbd_answer_check for a request whose answer carries
 * nothing more: EXIT_OK, or the error reported.
 */
int klbd_call_ok(uint8_t op, const void *body, size_t len, uint64_t deadline_ms,
		 const char *what);
uint64_t klbd_now_ms(void);

/* Commands, one file per object. */
int cmd_service_add(struct ctx *ctx, int argc, char **argv);
int cmd_service_set(struct ctx *ctx, int argc, char **argv);
int cmd_service_del(struct ctx *ctx, int argc, char **argv);
int cmd_service_show(struct ctx *ctx, int argc, char **argv);
int cmd_backend_add(struct ctx *ctx, int argc, char **argv);
int cmd_backend_set(struct ctx *ctx, int argc, char **argv);
int cmd_backend_del(struct ctx *ctx, int argc, char **argv);
int cmd_backend_renew(struct ctx *ctx, int argc, char **argv);
int cmd_backend_show(struct ctx *ctx, int argc, char **argv);
int cmd_table_show(struct ctx *ctx, int argc, char **argv);
int cmd_flow_show(struct ctx *ctx, int argc, char **argv);
int cmd_flow_flush(struct ctx *ctx, int argc, char **argv);
int cmd_flow_where(struct ctx *ctx, int argc, char **argv);
int cmd_stats(struct ctx *ctx, int argc, char **argv);
int cmd_info(struct ctx *ctx, int argc, char **argv);
int cmd_save(struct ctx *ctx, int argc, char **argv);
int cmd_restore(struct ctx *ctx, int argc, char **argv);
int cmd_flush(struct ctx *ctx, int argc, char **argv);
int cmd_monitor(struct ctx *ctx, int argc, char **argv);
int cmd_cluster_status(struct ctx *ctx, int argc, char **argv);
int cmd_cluster_transfer_leader(struct ctx *ctx, int argc, char **argv);
int cmd_cluster_members(struct ctx *ctx, int argc, char **argv);
int cmd_cluster_add_member(struct ctx *ctx, int argc, char **argv);
int cmd_cluster_remove_member(struct ctx *ctx, int argc, char **argv);

/* table.c: "ADDR:PORT" of every backend id (NULL where none). */
char **backend_names(const struct klb_backend *bes, size_t n);
void free_backend_names(char **names);
/*
 * A service's table and the backends it names, from one version (read
 * again while writers move it). On success the caller frees table->ids
 * and *bes.
 */
int read_table(struct klb_client *c, const struct klb_service_key *key,
	       struct klb_table *table, struct klb_backend **bes, size_t *n,
	       klb_error *e);

/* flow.c: [PROTO VIP:PORT] and nothing else; *have says if it was given. */
int only_optional_service(struct ctx *ctx, int argc, char **argv,
			  struct klb_service_key *key, bool *have);

/* stats.c: counters, fetched once for -s on the show commands. */
struct stats_set {
	struct klb_stats_rec *recs;
	size_t n, cap;
};

int stats_read(struct klb_client *c, const struct klb_service_key *key,
	       struct stats_set *set, klb_error *e);
/* A service's own counters (backend_id < 0) or a backend's; NULL if none. */
const struct klb_stats_rec *stats_find(const struct stats_set *set,
				       const struct klb_service_key *key,
				       int backend_id);
void stats_free(struct stats_set *set);
/* The counters as fields of the current record (zeros for NULL). */
void out_stats(const struct klb_stats_rec *r);

#endif /* KLBCTL_H */
