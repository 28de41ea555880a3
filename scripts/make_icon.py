#!/usr/bin/env python3
"""Draws assets/icon.png (256x256): a key on a rounded indigo square. Standard library only."""
import math, struct, zlib, sys, os

N, SS = 256, 4  # size, supersampling per axis

def inside_rrect(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r); cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1

def key(x, y):
    # bow: a ring centred left of centre; shaft to the right; two teeth down
    bx, by = 92, 128
    d = math.hypot(x - bx, y - by)
    if 22 <= d <= 46: return True
    if 128 - 11 <= y <= 128 + 11 and bx + 40 <= x <= 206: return True
    if 170 <= x <= 184 and 128 <= y <= 162: return True
    if 192 <= x <= 206 and 128 <= y <= 152: return True
    return False

rows = []
for j in range(N):
    row = bytearray([0])
    for i in range(N):
        acc = [0.0, 0.0, 0.0, 0.0]
        for sj in range(SS):
            for si in range(SS):
                x = i + (si + 0.5) / SS; y = j + (sj + 0.5) / SS
                if not inside_rrect(x, y, 8, 8, 248, 248, 52):
                    continue
                t = (x + y) / 512.0  # diagonal gradient, indigo to violet
                bg = (int(79 + (124 - 79) * t), int(70 + (58 - 70) * t), int(229 + (237 - 229) * t))
                c = (255, 255, 255) if key(x, y) else bg
                acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
        n = SS * SS
        a = acc[3] / n
        if a > 0:
            row += bytes([int(acc[0] / (acc[3] / 255)), int(acc[1] / (acc[3] / 255)), int(acc[2] / (acc[3] / 255)), int(a)])
        else:
            row += bytes([0, 0, 0, 0])
    rows.append(bytes(row))

def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "assets", "icon.png")
open(out, "wb").write(png)
print(out)
