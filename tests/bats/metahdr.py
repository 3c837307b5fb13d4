#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Metadata header blocks (4 KiB each, see "Metadata device" in
# Documentation/admin-guide/device-mapper/jobmirror.rst) on stdin:
#   metahdr.py show           prints "seq flags bits_set" of each valid one
#   metahdr.py version V      writes them back, each valid one with format
#                             version V and a good checksum
import struct
import sys

MAGIC = 0x444d4d4a


def crc32c(data):
    crc = 0xffffffff
    for x in data:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc


def valid(b):
    magic, crc = struct.unpack_from("<II", b, 0)
    zeroed = bytearray(b)
    struct.pack_into("<I", zeroed, 4, 0)
    return magic == MAGIC and crc32c(zeroed) == crc


data = sys.stdin.buffer.read()
out = bytearray()
for off in range(0, len(data), 4096):
    b = bytearray(data[off:off + 4096])
    if sys.argv[1] == "show":
        if valid(b):
            flags, seq = struct.unpack_from("<IQ", b, 12)
            bits, = struct.unpack_from("<Q", b, 56)
            print(seq, flags, bits)
    elif sys.argv[1] == "version":
        if valid(b):
            struct.pack_into("<I", b, 8, int(sys.argv[2]))
            struct.pack_into("<I", b, 4, 0)
            struct.pack_into("<I", b, 4, crc32c(b))
        out += b
    else:
        sys.exit("metahdr.py: show or version V")
sys.stdout.buffer.write(out)
