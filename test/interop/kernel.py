#!/usr/bin/env python3
"""The kernel's side of the interop tests, run inside the test's network
namespace (`ip netns exec <ns> python3 kernel.py <command> ...`). Each
command prints one JSON line with what it saw; a server prints "ready"
first, once it listens.

  ping ADDRESS COUNT SIZE       ICMP/ICMPv6 echo over a raw socket (root)
  echo-client ADDRESS PORT BYTES SEED
                                connect, send BYTES while reading the echo,
                                half-close, read to EOF
  server ADDRESS PORT BYTES SEED
                                accept one connection, send BYTES while
                                receiving until EOF, then close
  connect ADDRESS PORT          connect once and report how it ended
  half-client ADDRESS PORT BYTES SEED
                                connect, send BYTES, half-close, wait, and
                                only then read to EOF (the echo all comes
                                back after our FIN)
  fin-first-server ADDRESS PORT accept one connection, half-close it at once,
                                then read to EOF
  read-first-server ADDRESS PORT BYTES SEED
                                accept one connection, read to EOF, then send
                                BYTES and close
  reset-server ADDRESS PORT     accept one connection and reset it (SO_LINGER 0)
  idle-client ADDRESS PORT      connect, say "ready", wait for the peer to end
  chargen-client ADDRESS PORT BYTES
                                read BYTES of RFC 864's pattern and check them
  many ADDRESS PORT COUNT BYTES open COUNT connections at once; each sends
                                BYTES of its own (once all are established),
                                reads them echoed, half-closes, reads to EOF
  slowloris ADDRESS PORT COUNT SECONDS
                                open COUNT connections, send each half a
                                request header and then one header line every
                                half second; report when each was closed
  never-read ADDRESS PORT COUNT BYTES SECONDS
                                open COUNT connections, try to send BYTES on
                                each, never read; hold them for SECONDS
  frag-needed FROM TO MTU       send TO an ICMP "fragmentation needed" with
                                next-hop MTU, quoting a UDP datagram from TO
                                to FROM that no socket sent
  mss-client ADDRESS PORT BYTES connect, send BYTES, read the echo back, and
                                report the largest segment received (tcp_info)
"""
import hashlib
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def payload(size, seed):
    # Deterministic, incompressible bytes: what was sent can be regenerated.
    return random.Random(seed).randbytes(size)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(address, count, size):
    v6 = ":" in address
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        request_type, reply_type = 128, 129
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        request_type, reply_type = 8, 0
    ident = os.getpid() & 0xFFFF
    replies = []
    for seq in range(1, count + 1):
        data = bytes((seq + i) & 0xFF for i in range(size))
        header = struct.pack("!BBHHH", request_type, 0, 0, ident, seq)
        # The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket
        # (RFC 3542 §3.1); ICMPv4 is ours to compute.
        csum = 0 if v6 else checksum(header + data)
        packet = struct.pack("!BBHHH", request_type, 0, csum, ident, seq) + data
        sent_at = time.monotonic()
        sock.sendto(packet, (address, 0))
        deadline = sent_at + 2.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            raw, _ = sock.recvfrom(65535)
            icmp = raw if v6 else raw[(raw[0] & 0x0F) * 4 :]
            if len(icmp) < 8:
                continue
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if kind == reply_type and rid == ident and rseq == seq:
                replies.append(
                    {
                        "seq": seq,
                        "ms": round((time.monotonic() - sent_at) * 1000, 3),
                        "intact": icmp[8:] == data,
                    }
                )
                break
    print(json.dumps({"sent": count, "replies": replies}))


def echo_client(address, port, size, seed):
    data = payload(size, seed)
    sock = socket.create_connection((address, port), timeout=30)
    started = time.monotonic()
    received = hashlib.sha256()
    count = 0
    errors = []

    def sender():
        try:
            view = memoryview(data)
            for offset in range(0, len(view), CHUNK):
                sock.sendall(view[offset : offset + CHUNK])
            sock.shutdown(socket.SHUT_WR)
        except OSError as error:
            errors.append(repr(error))

    thread = threading.Thread(target=sender)
    thread.start()
    while True:
        chunk = sock.recv(CHUNK)
        if not chunk:
            break
        received.update(chunk)
        count += len(chunk)
    thread.join()
    seconds = time.monotonic() - started
    sock.close()
    print(
        json.dumps(
            {
                "sent": size,
                "sentSha256": hashlib.sha256(data).hexdigest(),
                "received": count,
                "receivedSha256": received.hexdigest(),
                "seconds": round(seconds, 3),
                "errors": errors,
            }
        )
    )


def server(address, port, size, seed):
    data = payload(size, seed)
    listener = socket.socket(family_of(address), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    print("ready", flush=True)
    listener.settimeout(30)
    sock, peer = listener.accept()
    sock.settimeout(30)
    started = time.monotonic()
    received = hashlib.sha256()
    count = 0
    errors = []

    def sender():
        try:
            view = memoryview(data)
            for offset in range(0, len(view), CHUNK):
                sock.sendall(view[offset : offset + CHUNK])
            sock.shutdown(socket.SHUT_WR)
        except OSError as error:
            errors.append(repr(error))

    thread = threading.Thread(target=sender)
    thread.start()
    while True:
        chunk = sock.recv(CHUNK)
        if not chunk:
            break
        received.update(chunk)
        count += len(chunk)
    thread.join()
    seconds = time.monotonic() - started
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    # struct tcp_info: tcpi_total_retrans is the u32 at offset 100 (Linux).
    retrans = struct.unpack_from("I", info, 100)[0] if len(info) >= 104 else -1
    sock.close()
    listener.close()
    print(
        json.dumps(
            {
                "peer": peer[0],
                "sent": size,
                "sentSha256": hashlib.sha256(data).hexdigest(),
                "received": count,
                "receivedSha256": received.hexdigest(),
                "seconds": round(seconds, 3),
                "kernelRetransmits": retrans,
                "errors": errors,
            }
        )
    )


def connect(address, port):
    sock = socket.socket(family_of(address), socket.SOCK_STREAM)
    sock.settimeout(10)
    started = time.monotonic()
    try:
        sock.connect((address, port))
        outcome = "connected"
    except ConnectionRefusedError:
        outcome = "ECONNREFUSED"
    except socket.timeout:
        outcome = "ETIMEDOUT"
    except OSError as error:
        outcome = os.strerror(error.errno) if error.errno else repr(error)
    print(json.dumps({"outcome": outcome, "ms": round((time.monotonic() - started) * 1000, 3)}))


def accept_one(address, port):
    listener = socket.socket(family_of(address), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    print("ready", flush=True)
    listener.settimeout(30)
    sock, peer = listener.accept()
    sock.settimeout(30)
    listener.close()
    return sock, peer


def read_to_eof(sock):
    received = hashlib.sha256()
    count = 0
    while True:
        chunk = sock.recv(CHUNK)
        if not chunk:
            return count, received.hexdigest()
        received.update(chunk)
        count += len(chunk)


def half_client(address, port, size, seed):
    data = payload(size, seed)
    sock = socket.create_connection((address, port), timeout=30)
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    # Let our FIN arrive before reading anything: every byte of the echo
    # that was not sent yet is then sent by a peer in CLOSE-WAIT.
    time.sleep(0.3)
    count, digest = read_to_eof(sock)
    sock.close()
    print(
        json.dumps(
            {
                "sent": size,
                "sentSha256": hashlib.sha256(data).hexdigest(),
                "received": count,
                "receivedSha256": digest,
            }
        )
    )


def fin_first_server(address, port):
    sock, peer = accept_one(address, port)
    sock.shutdown(socket.SHUT_WR)
    count, digest = read_to_eof(sock)
    sock.close()
    print(json.dumps({"peer": peer[0], "received": count, "receivedSha256": digest}))


def read_first_server(address, port, size, seed):
    data = payload(size, seed)
    sock, peer = accept_one(address, port)
    count, digest = read_to_eof(sock)
    # The peer's FIN is in; everything from here on goes to a half-closed peer.
    sock.sendall(data)
    sock.close()
    print(
        json.dumps(
            {
                "peer": peer[0],
                "receivedBeforeSending": count,
                "receivedSha256": digest,
                "sent": size,
                "sentSha256": hashlib.sha256(data).hexdigest(),
            }
        )
    )


def reset_server(address, port):
    sock, peer = accept_one(address, port)
    # SO_LINGER on with a zero timeout: close() sends RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    print(json.dumps({"peer": peer[0], "reset": True}))


def idle_client(address, port):
    sock = socket.create_connection((address, port), timeout=30)
    print("ready", flush=True)
    try:
        data = sock.recv(CHUNK)
        outcome = "eof" if not data else "data"
    except ConnectionResetError:
        outcome = "reset"
    except socket.timeout:
        outcome = "timeout"
    sock.close()
    print(json.dumps({"outcome": outcome}))


def chargen_expected(size):
    lines = []
    for start in range(95):
        lines.append(bytes(32 + (start + i) % 95 for i in range(72)) + b"\r\n")
    cycle = b"".join(lines)
    return (cycle * (size // len(cycle) + 1))[:size]


def chargen_client(address, port, size):
    sock = socket.create_connection((address, port), timeout=30)
    got = bytearray()
    while len(got) < size:
        chunk = sock.recv(min(CHUNK, size - len(got)))
        if not chunk:
            break
        got += chunk
    sock.close()
    print(json.dumps({"received": len(got), "intact": bytes(got) == chargen_expected(size)}))


def many(address, port, count, size):
    import resource
    import selectors

    # Each connection needs a descriptor: make room for them (we are root).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, hard), max(want, hard)))
    sel = selectors.DefaultSelector()
    started = time.monotonic()
    states = []
    for i in range(count):
        sock = socket.socket(family_of(address), socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((address, port))
        data = payload(size, 1000 + i)
        state = {"sock": sock, "data": data, "sent": 0, "got": bytearray(), "eof": False, "error": None}
        states.append(state)
        sel.register(sock, selectors.EVENT_WRITE, state)
    # First every connection is established, so that all of them are open
    # at once; only then does any send.
    pending = count
    deadline = started + 60
    while pending > 0 and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            st = key.data
            error = st["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error != 0:
                st["error"] = os.strerror(error)
            sel.unregister(st["sock"])
            pending -= 1
    established = round(time.monotonic() - started, 3)
    for st in states:
        if st["error"] is None:
            sel.register(st["sock"], selectors.EVENT_READ | selectors.EVENT_WRITE, st)
    open_count = count
    deadline = started + 60
    while open_count > 0 and time.monotonic() < deadline:
        for key, events in sel.select(timeout=1):
            st = key.data
            sock = st["sock"]
            try:
                if events & selectors.EVENT_WRITE and st["sent"] < size:
                    st["sent"] += sock.send(st["data"][st["sent"] :])
                    if st["sent"] == size:
                        sock.shutdown(socket.SHUT_WR)
                        sel.modify(sock, selectors.EVENT_READ, st)
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(65536)
                    if chunk:
                        st["got"] += chunk
                    else:
                        st["eof"] = True
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as error:
                st["error"] = repr(error)
            if st["eof"] or st["error"] is not None:
                sel.unregister(sock)
                sock.close()
                open_count -= 1
    ok = sum(1 for st in states if st["eof"] and st["error"] is None and bytes(st["got"]) == st["data"])
    failures = [
        {"index": i, "error": st["error"], "sent": st["sent"], "got": len(st["got"]), "eof": st["eof"]}
        for i, st in enumerate(states)
        if not (st["eof"] and st["error"] is None and bytes(st["got"]) == st["data"])
    ][:10]
    for st in states:
        if not st["eof"]:
            st["sock"].close()
    print(
        json.dumps(
            {
                "count": count,
                "ok": ok,
                "failures": failures,
                "established": established,
                "seconds": round(time.monotonic() - started, 3),
            }
        )
    )


def slowloris(address, port, count, seconds):
    started = time.monotonic()
    socks = []
    for _ in range(count):
        sock = socket.create_connection((address, port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: tcpts\r\n")
        sock.setblocking(False)
        socks.append(sock)
    print("ready", flush=True)
    closed_after = {}
    got_408 = 0
    next_trickle = time.monotonic() + 0.5
    while len(closed_after) < count and time.monotonic() - started < seconds:
        live = [s for s in socks if s.fileno() not in closed_after]
        readable, _, _ = select.select(live, [], [], 0.1)
        for sock in readable:
            try:
                data = sock.recv(CHUNK)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if data.startswith(b"HTTP/1.1 408"):
                got_408 += 1
            if not data:
                closed_after[sock.fileno()] = round(time.monotonic() - started, 3)
        if time.monotonic() >= next_trickle:
            next_trickle += 0.5
            for sock in live:
                if sock.fileno() in closed_after:
                    continue
                try:
                    sock.send(b"X-Trickle: 1\r\n")
                except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                    pass
    for sock in socks:
        sock.close()
    times = sorted(closed_after.values())
    print(json.dumps({"closed": len(times), "open": count - len(times), "got408": got_408,
                      "firstClose": times[0] if times else None,
                      "lastClose": times[-1] if times else None}))


def never_read(address, port, count, size, seconds):
    started = time.monotonic()
    socks = []
    for _ in range(count):
        sock = socket.create_connection((address, port), timeout=10)
        sock.setblocking(False)
        socks.append(sock)
    print("ready", flush=True)
    sent = [0] * count
    failed = set()
    block = b"x" * CHUNK
    while time.monotonic() - started < seconds:
        progress = False
        for i, sock in enumerate(socks):
            if i in failed or sent[i] >= size:
                continue
            try:
                n = sock.send(block[: min(CHUNK, size - sent[i])])
                sent[i] += n
                progress = progress or n > 0
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                failed.add(i)
        if not progress:
            time.sleep(0.05)
    for sock in socks:
        sock.close()
    print(json.dumps({"sent": sum(sent), "reset": len(failed)}))


def frag_needed(source, target, mtu):
    def ipv4_header(src, dst, proto, length):
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0x1234, 0, 64, proto, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
        return header[:10] + struct.pack("!H", checksum(header)) + header[12:]

    # The quoted datagram: as if the target had sent it to us (port 9 of a
    # host with nothing there); it carries 8 bytes of UDP header, as RFC 792 asks.
    udp = struct.pack("!HHHH", 40000, 33434, 16, 0) + b"\0" * 8
    quoted = ipv4_header(target, source, 17, 20 + len(udp)) + udp[:8]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quoted
    icmp = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.sendto(icmp, (target, 0))
    sock.close()
    print(json.dumps({"sent": len(icmp)}))


def mss_client(address, port, size):
    sock = socket.create_connection((address, port), timeout=10)
    data = b"m" * size
    sock.sendall(data)
    got = 0
    while got < size:
        chunk = sock.recv(CHUNK)
        if not chunk:
            break
        got += len(chunk)
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    snd_mss, rcv_mss = struct.unpack_from("II", info, 16)
    sock.close()
    print(json.dumps({"received": got, "sndMss": snd_mss, "rcvMss": rcv_mss}))


def main(argv):
    command = argv[1]
    if command == "ping":
        ping(argv[2], int(argv[3]), int(argv[4]))
    elif command == "echo-client":
        echo_client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif command == "server":
        server(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif command == "connect":
        connect(argv[2], int(argv[3]))
    elif command == "half-client":
        half_client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif command == "fin-first-server":
        fin_first_server(argv[2], int(argv[3]))
    elif command == "read-first-server":
        read_first_server(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif command == "reset-server":
        reset_server(argv[2], int(argv[3]))
    elif command == "idle-client":
        idle_client(argv[2], int(argv[3]))
    elif command == "chargen-client":
        chargen_client(argv[2], int(argv[3]), int(argv[4]))
    elif command == "slowloris":
        slowloris(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    elif command == "never-read":
        never_read(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]))
    elif command == "frag-needed":
        frag_needed(argv[2], argv[3], int(argv[4]))
    elif command == "mss-client":
        mss_client(argv[2], int(argv[3]), int(argv[4]))
    elif command == "many":
        many(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
