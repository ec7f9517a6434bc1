/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The canonical 16-byte form of an address, shared by the flow hash and by
 * a backend's Maglev identity: an IPv6 address as is, an IPv4 address
 * a.b.c.d as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291,
 * 2.5.5.2). Bytes are in network order.
 */

#ifndef _KLB_ADDR_H
#define _KLB_ADDR_H

#include <klb/types.h>

#define KLB_ADDR_LEN	16

/* addr = ::ffff:v4; v4 is in network byte order. */
static inline void klb_addr_from_ipv4(u8 *addr, __be32 v4)
{
	const u8 *b = (const u8 *)&v4;
	int i;

	for (i = 0; i < 10; i++)
		addr[i] = 0;
	addr[10] = 0xff;
	addr[11] = 0xff;
	for (i = 0; i < 4; i++)
		addr[12 + i] = b[i];
}

static inline void klb_addr_from_ipv6(u8 *addr, const u8 *v6)
{
	int i;

	for (i = 0; i < KLB_ADDR_LEN; i++)
		addr[i] = v6[i];
}

static inline bool klb_addr_is_ipv4(const u8 *addr)
{
	int i;

	for (i = 0; i < 10; i++)
		if (addr[i])
			return false;
	return addr[10] == 0xff && addr[11] == 0xff;
}

#endif /* _KLB_ADDR_H */
