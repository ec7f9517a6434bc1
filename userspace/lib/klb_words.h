/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The words of klbctl's commands and of its save format (klbctl(8)),
 * read and written the same way by klbctl and klbd.
 */
#ifndef KLB_WORDS_H
#define KLB_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"
#include "lib/klbd_proto.h"

/* Each returns 0 or -1 (bad syntax). */
int parse_proto(const char *s, uint8_t *proto);
/* "A.B.C.D:PORT" or "[IPV6]:PORT", port 1..65535. */
int parse_endpoint(const char *s, struct klb_endpoint *ep);
int parse_service_key(const char *proto, const char *vip,
		      struct klb_service_key *key);
int parse_u32(const char *s, uint32_t *v);
int parse_u64(const char *s, uint64_t *v);
int parse_sched(const char *s, uint8_t *sched);
int parse_fwd(const char *s, uint8_t *fwd);
int parse_state(const char *s, uint8_t *state);
int parse_hex(const char *s, uint8_t *out, size_t len);
bool matches(const char *arg, const char *keyword);

const char *proto_name(uint8_t proto);
const char *sched_name(uint8_t sched);
const char *fwd_name(uint8_t fwd);
const char *state_name(uint8_t state);
/* len bytes as 2 * len lowercase hex digits and a NUL. */
void fmt_hex(const uint8_t *in, size_t len, char *out);

/*
 * One service setting, KEYWORD VALUE, into conf (and, for the flags,
 * clear_flags). Returns 0, or -1 with why (why_len bytes) saying what is
 * wrong with it.
 */
int parse_service_option(const char *kw, const char *val,
			 struct klb_service_conf *conf, uint32_t *clear_flags,
			 char *why, size_t why_len);

/*
 * One health-check setting (check, check-port, interval, timeout, rise,
 * fall) into check. Returns 0, 1 when kw is not one, or -1 with why.
 */
int parse_check_option(const char *kw, const char *val,
		       struct klbd_check *check, char *why, size_t why_len);

#endif
