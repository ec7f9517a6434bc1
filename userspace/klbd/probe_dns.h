/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS health check's messages, apart from the probe so that tests can
 * drive them: one fixed query (name ".", type SOA, class IN, RD clear)
 * under a fresh id, and the judgement of what came back.
 */
#ifndef KLBD_PROBE_DNS_H
#define KLBD_PROBE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_DNS_QUERY_BYTES	17
/* Over this a UDP answer is cut by recv; the header is what counts. */
#define PROBE_DNS_ANSWER_MAX	512

/* Writes the query with id into q (PROBE_DNS_QUERY_BYTES). */
void probe_dns_query(uint8_t *q, uint16_t id);

/*
 * What an answer to the query with id says: 0 healthy (a well-formed
 * answer whose RCODE is not SERVFAIL), 1 not an answer to this query
 * (another id: keep waiting), -EBADMSG not a well-formed answer,
 * -EREMOTEIO SERVFAIL; why says which (may be NULL).
 */
int probe_dns_answer(const uint8_t *a, size_t len, uint16_t id, char *why,
		     size_t why_len);

#endif
