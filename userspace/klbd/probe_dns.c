// SPDX-License-Identifier: GPL-2.0
/* The DNS health check's query and its answer's judgement (probe_dns.h). */
#include <errno.h>
#include <string.h>

#include "klbd/probe_dns.h"
#include "lib/klbd_bytes.h"

#define DNS_HEADER	12
#define DNS_QR		0x8000
#define DNS_OPCODE(f)	((f) >> 11 & 0xf)
#define DNS_RCODE(f)	((f) & 0xf)
#define DNS_SERVFAIL	2

/* The question: the root name, type SOA (6), class IN (1). */
static const uint8_t question[] = { 0, 0, 6, 0, 1 };

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void probe_dns_query(uint8_t *q, uint16_t id)
{
	memset(q, 0, DNS_HEADER);
	put_be16(q, id);
	/* Flags 0: a standard query, no recursion desired. */
	put_be16(q + 4, 1);
	memcpy(q + DNS_HEADER, question, sizeof(question));
}

int probe_dns_answer(const uint8_t *a, size_t len, uint16_t id, char *why,
		     size_t why_len)
{
	uint16_t flags, qd;

	if (len < DNS_HEADER)
		return klbd_why(why, why_len, -EBADMSG,
			       "DNS: a %zu-byte answer, shorter than a header", len);
	if (get_be16(a) != id)
		return 1;
	flags = get_be16(a + 2);
	qd = get_be16(a + 4);
	if (!(flags & DNS_QR) || DNS_OPCODE(flags))
		return klbd_why(why, why_len, -EBADMSG,
			       "DNS: not an answer to a standard query");
	/* Servers may leave the question out (FORMERR, some REFUSED). */
	if (qd > 1 || (qd == 1 && (len < DNS_HEADER + sizeof(question) ||
				   memcmp(a + DNS_HEADER, question, sizeof(question)))))
		return klbd_why(why, why_len, -EBADMSG,
			       "DNS: the answer is to another question");
	if (DNS_RCODE(flags) == DNS_SERVFAIL)
		return klbd_why(why, why_len, -EREMOTEIO, "DNS: SERVFAIL");
	return 0;
}
