#!/usr/bin/env python3
"""The guest's side of the gateway tests, run inside the guest namespace.

Each subcommand does one thing with the kernel's sockets and prints one
JSON line (servers print "ready" first). Errors a test expects (refused,
reset) are reported in the JSON, not raised.
"""
import json
import socket
import struct
import sys
import time


def out(**kv):
    print(json.dumps(kv), flush=True)


def recv_all(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def half_close_from_guest(host, port):
    # Send, shut our side, and still read the host's answer, which it sends after our FIN.
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"guest-data")
    s.shutdown(socket.SHUT_WR)
    got = recv_all(s)
    s.close()
    out(received=got.decode())


def half_close_from_host(host, port):
    # The host sends and shuts its side first; we read to EOF and then answer.
    s = socket.create_connection((host, port), timeout=10)
    got = recv_all(s)
    s.sendall(b"answer-after-eof")
    s.shutdown(socket.SHUT_WR)
    recv_all(s)
    s.close()
    out(received=got.decode())


def expect_reset(host, port):
    s = socket.create_connection((host, port), timeout=10)
    try:
        s.sendall(b"x")
        data = s.recv(10)
        out(error=None, received=data.decode())
    except ConnectionResetError:
        out(error="ECONNRESET")


def reset_from_guest(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"before-reset")
    time.sleep(0.3)
    # SO_LINGER with a zero timeout: close() sends a RST.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out(done=True)


def connect(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.close()
        out(error=None)
    except ConnectionRefusedError:
        out(error="ECONNREFUSED")
    except socket.timeout:
        out(error="ETIMEDOUT")


def udp_exchange(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, port))
    try:
        s.send(b"udp-ping")
        data = s.recv(2048)
        out(error=None, received=data.decode())
    except ConnectionRefusedError:
        out(error="ECONNREFUSED")
    except socket.timeout:
        out(error="ETIMEDOUT")


def dns_query(server, name, transport):
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(q, (server, 53))
        a, _ = s.recvfrom(4096)
    else:
        s = socket.create_connection((server, 53), timeout=5)
        s.sendall(struct.pack(">H", len(q)) + q)
        length = struct.unpack(">H", s.recv(2))[0]
        a = b""
        while len(a) < length:
            a += s.recv(length - len(a))
        s.close()
    # The answer's last 4 bytes are the A record's address (one answer, as the test server sends).
    out(id=struct.unpack(">H", a[:2])[0], address=socket.inet_ntoa(a[-4:]))


def send_garbage(host, port, hexdata):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.sendto(bytes.fromhex(hexdata), (host, port))
    out(sent=True)


def echo_server(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(8)
    print("ready", flush=True)
    c, addr = srv.accept()
    data = recv_all(c)
    c.sendall(data.upper())
    c.shutdown(socket.SHUT_WR)
    c.close()
    out(peer=addr[0], received=data.decode())


def flood(host, port, count):
    # One flow first, kept open; then `count` more; then the first one must still work.
    first = socket.create_connection((host, port), timeout=10)
    opened, refused, others = 0, 0, []
    for _ in range(count):
        try:
            others.append(socket.create_connection((host, port), timeout=10))
            opened += 1
        except ConnectionRefusedError:
            refused += 1
    first.sendall(b"still-alive")
    first.shutdown(socket.SHUT_WR)
    echoed = recv_all(first)
    for s in others:
        s.close()
    out(opened=opened, refused=refused, echoed=echoed.decode())


def stall_send(host, port, total):
    # Send `total` bytes; when nothing more is taken for 2 s (the window is
    # closed end to end), say "ready" and how much went, then wait for the
    # host to read and send the rest.
    s = socket.create_connection((host, port), timeout=30)
    s.setblocking(False)
    chunk = b"z" * 65536
    sent, stalled_at, idle_since = 0, None, None
    while sent < total:
        try:
            n = s.send(chunk[: min(len(chunk), total - sent)])
            sent += n
            idle_since = None
        except BlockingIOError:
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            elif stalled_at is None and now - idle_since > 2:
                stalled_at = sent
                print("ready", flush=True)
            time.sleep(0.01)
    s.setblocking(True)
    s.shutdown(socket.SHUT_WR)
    recv_all(s)
    s.close()
    out(sent=sent, stalled_at=stalled_at)


def ping(host):
    # An ICMP echo over a raw socket (root in the namespace): the gateway answers its own address.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(5)
    payload = b"tcpts-ping"
    header = struct.pack(">BBHHH", 8, 0, 0, 0x4242, 1)
    total = sum(struct.unpack(">%dH" % ((len(header) + len(payload)) // 2), header + payload))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    header = struct.pack(">BBHHH", 8, 0, ~total & 0xFFFF, 0x4242, 1)
    s.sendto(header + payload, (host, 0))
    while True:
        data, addr = s.recvfrom(2048)
        icmp = data[(data[0] & 0x0F) * 4 :]
        if icmp[0] == 0 and icmp[4:6] == b"\x42\x42":
            out(from_=addr[0], payload=icmp[8:].decode())
            return


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "half-close-from-guest":
        half_close_from_guest(args[0], int(args[1]))
    elif cmd == "half-close-from-host":
        half_close_from_host(args[0], int(args[1]))
    elif cmd == "expect-reset":
        expect_reset(args[0], int(args[1]))
    elif cmd == "reset-from-guest":
        reset_from_guest(args[0], int(args[1]))
    elif cmd == "connect":
        connect(args[0], int(args[1]))
    elif cmd == "udp":
        udp_exchange(args[0], int(args[1]))
    elif cmd == "dns":
        dns_query(args[0], args[1], args[2])
    elif cmd == "garbage":
        send_garbage(args[0], int(args[1]), args[2])
    elif cmd == "echo-server":
        echo_server(int(args[0]))
    elif cmd == "flood":
        flood(args[0], int(args[1]), int(args[2]))
    elif cmd == "stall-send":
        stall_send(args[0], int(args[1]), int(args[2]))
    elif cmd == "ping":
        ping(args[0])
    else:
        raise SystemExit("unknown command " + cmd)


main()
