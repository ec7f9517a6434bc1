/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A TCP check through the VIP (check tcp via-vip, tunnel services only):
 * the SYN goes to VIP:port, encapsulated to the backend as klb.ko would
 * (IPIP for IPv4, IPv6-in-IPv6 for IPv6; the outer source is the
 * gateway's address toward the backend, the kernel's choice for a raw
 * socket as for klb.ko), with that same address as the inner source. The
 * backend decapsulates and answers this "client" directly, from the VIP:
 * a SYN-ACK proves that it serves the VIP, which a plain connect to the
 * backend's own address cannot (a backend without the VIP on lo accepts
 * that and drops every client's packet). An encapsulated RST then frees
 * its half-open connection.
 *
 * The packets, built and judged here apart from the ring so that tests
 * can drive them; the sockets, set up here for the probe (probe.c).
 */
#ifndef KLBD_PROBE_VIP_H
#define KLBD_PROBE_VIP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/klb_client.h"

/* The inner packet: an IPv6 header and a TCP header, no options. */
#define PROBE_VIP_PKT_MAX	(40 + 20)
#define PROBE_VIP_TCP_SYN	0x02
#define PROBE_VIP_TCP_RST	0x04
#define PROBE_VIP_TCP_ACK	0x10

/*
 * The inner packet from src (the gateway's address and the probe's port)
 * to dst (VIP:port), TCP flags and seq, checksums filled: its length.
 */
size_t probe_vip_packet(uint8_t *buf, const struct klb_endpoint *src,
			const struct klb_endpoint *dst, uint8_t flags,
			uint32_t seq);

/*
 * What the raw TCP socket received says (for IPv4 from the IP header on,
 * for IPv6 from the TCP header on; from: its source address): 1 the
 * SYN-ACK to the SYN with sequence number isn, -ECONNREFUSED a RST for
 * it, 0 anything else (keep waiting).
 */
int probe_vip_answer(const uint8_t *pkt, size_t len, int family,
		     const uint8_t *from, const struct klb_endpoint *src,
		     const struct klb_endpoint *dst, uint32_t isn);

/*
 * The sockets of one probe: *rx a raw TCP socket filtered (classic BPF)
 * to the answers from dst's port to the probe's port, *hold a TCP socket
 * bound to the gateway's address toward the backend and an ephemeral
 * port, so that no other connection takes that port while the probe
 * runs; *src that address and port. 0 or -errno (both closed).
 */
int probe_vip_open(const struct klb_endpoint *backend,
		   const struct klb_endpoint *dst, struct klb_endpoint *src,
		   int *rx, int *hold);

/*
 * The raw socket that sends encapsulated packets for one family (opened
 * once, shared by the probes), or -errno. It filters out all it would
 * receive.
 */
int probe_vip_tx_open(int family);

#endif
