#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Maglev slot of a new flow, computed independently of the C code.

Implements SipHash-2-4 and the flow key encoding exactly as documented in
include/klb/flow_hash.h and the slot rule of include/klb/maglev.h, so that
the test can check 'klbctl flow where' against the documentation rather
than against klbctl's own arithmetic.

usage: flow_slot.py SEED_HEX32 PROTO VIP:PORT CLIENT:PORT M [src]
prints: SLOT HASH_HEX16
"""

import ipaddress
import socket
import sys

MASK = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key, data):
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n):
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & MASK
            v1 = rotl(v1, 13) ^ v0
            v0 = rotl(v0, 32)
            v2 = (v2 + v3) & MASK
            v3 = rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & MASK
            v3 = rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & MASK
            v1 = rotl(v1, 17) ^ v2
            v2 = rotl(v2, 32)

    full = len(data) - len(data) % 8
    for i in range(0, full, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v3 ^= m
        rounds(2)
        v0 ^= m
    last = (len(data) & 0xFF) << 56
    last |= int.from_bytes(data[full:], "little")
    v3 ^= last
    rounds(2)
    v0 ^= last
    v2 ^= 0xFF
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3


def endpoint(s):
    host, port = s.rsplit(":", 1)
    addr = ipaddress.ip_address(host.strip("[]"))
    if addr.version == 4:
        canon = bytes(10) + b"\xff\xff" + addr.packed
        family = socket.AF_INET
    else:
        canon = addr.packed
        family = socket.AF_INET6
    return family, canon, int(port)


def flow_slot(seed_hex, proto_name, vip, client, m, mode=""):
    """Returns "SLOT HASH_HEX16" for a new flow from client to vip."""
    seed = bytes.fromhex(seed_hex)
    proto = {"tcp": 6, "udp": 17}[proto_name]
    family, daddr, dport = endpoint(vip)
    _, saddr, sport = endpoint(client)
    m = int(m)
    if mode == "src":
        key = bytes([2, family]) + bytes(6) + saddr
    else:
        key = (bytes([1, family, proto, 0]) + sport.to_bytes(2, "big") +
               dport.to_bytes(2, "big") + saddr + daddr)
    h = siphash24(seed, key)
    slot = ((h & 0xFFFFFFFF) * m) >> 32
    return "%d %016x" % (slot, h)


if __name__ == "__main__":
    print(flow_slot(*sys.argv[1:7]))
