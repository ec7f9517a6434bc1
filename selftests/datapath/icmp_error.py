#!/usr/bin/env python3
"""Sends to a VIP the ICMP error a router would send about a packet the
service sent to a client (VIP:vport -> client:cport, UDP), as the datapath
test needs it:

  icmp_error.py VIP VPORT CLIENT CPORT MTU

IPv4: "fragmentation needed" with MTU; IPv6: "packet too big" with MTU.
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    vip, vport, client, cport, mtu = sys.argv[1:6]
    vport, cport, mtu = int(vport), int(cport), int(mtu)
    udp = struct.pack("!HHHH", vport, cport, 8 + 1400, 0)
    if ":" in vip:
        inner = struct.pack("!IHBB16s16s", 6 << 28, 8 + 1400, socket.IPPROTO_UDP,
                            64, socket.inet_pton(socket.AF_INET6, vip),
                            socket.inet_pton(socket.AF_INET6, client))
        # The kernel fills the ICMPv6 checksum of a raw ICMPv6 socket.
        msg = struct.pack("!BBHI", 2, 0, 0, mtu) + inner + udp
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.sendto(msg, (vip, 0))
        return
    inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 1400, 0, 0x4000, 64,
                        socket.IPPROTO_UDP, 0, socket.inet_aton(vip),
                        socket.inet_aton(client))
    inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + inner + udp
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(body, (vip, 0))


if __name__ == "__main__":
    main()
