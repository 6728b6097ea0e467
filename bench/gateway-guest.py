#!/usr/bin/env python3
"""The guest's side of bench/gateway.ts: three measurements against the
host's loopback servers, reached through whichever user-mode NAT serves the
namespace, as one JSON line."""
import json
import socket
import sys
import time

host, sink, accept, echo, megabytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

# Bulk guest -> host: the time from connect until the host has read everything and closed.
s = socket.create_connection((host, sink))
chunk = b"x" * 65536
total = megabytes * 1024 * 1024
start = time.perf_counter()
sent = 0
while sent < total:
    sent += s.send(chunk)
s.shutdown(socket.SHUT_WR)
s.recv(1)
bulk_seconds = time.perf_counter() - start
s.close()

# Connections per second: connect, wait for the host's close, close; one at a time for 3 s.
count = 0
start = time.perf_counter()
while time.perf_counter() - start < 3:
    c = socket.create_connection((host, accept))
    c.recv(1)
    c.close()
    count += 1
conn_seconds = time.perf_counter() - start

# 1-byte round trips on one connection.
e = socket.create_connection((host, echo))
e.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
samples = []
for _ in range(3000):
    t = time.perf_counter()
    e.send(b"p")
    e.recv(1)
    samples.append(time.perf_counter() - t)
e.close()
samples.sort()
print(json.dumps({
    "bulkMbitPerSecond": total * 8 / bulk_seconds / 1e6,
    "connectionsPerSecond": count / conn_seconds,
    "rttMedianMicros": samples[len(samples) // 2] * 1e6,
    "rttP99Micros": samples[int(len(samples) * 0.99)] * 1e6,
}))
