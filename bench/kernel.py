#!/usr/bin/env python3
"""The kernel's side of `npm run bench`, run inside a network namespace
(`ip netns exec <ns> python3 kernel.py <command> ...`). Every command
prints one JSON line with what it measured on its own clock; a server
prints "ready" first, once it listens. Nothing here hashes or checks the
bytes (the interop tests do that): the point is to cost the kernel as
little Python as possible, so the figures are the kernel's.

  sink ADDRESS PORT [WINDOW]    accept one connection, read to EOF; bytes and
                                seconds from accept to EOF; with WINDOW (s),
                                only what came in the first WINDOW seconds
  source ADDRESS PORT BYTES [SECONDS]
                                connect, send BYTES (or for SECONDS if BYTES
                                is 0), half-close, wait for EOF
  crr ADDRESS PORT SECONDS PARALLEL
                                connect / read EOF / close cycles, PARALLEL at
                                a time, for SECONDS: cycles and seconds
  crr-server ADDRESS PORT       accept and close at once, until killed
  rr ADDRESS PORT SECONDS       1-byte request/response round trips on one
                                connection (TCP_NODELAY) for SECONDS
  echo-server ADDRESS PORT      echo one connection's bytes back, until EOF
  scale ADDRESS BASEPORT CONNECTIONS
                                open CONNECTIONS idle connections to
                                listeners of our own, over PROCESSES pairs of
                                child processes (each below RLIMIT_NOFILE);
                                seconds to open them and the kernel's slab
                                growth (/proc/meminfo Slab) per socket
"""
import json
import os
import resource
import select
import socket
import subprocess
import sys
import time

CHUNK = 1 << 20


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


# The congestion control for this process's sockets (KERNEL_CC, e.g. "cubic");
# unset: the namespace's default. A namespace may only pick from
# net.ipv4.tcp_allowed_congestion_control, but a socket of a root process may
# choose any loaded algorithm, so the bench can compare like with like
# (CUBIC against CUBIC) whatever the host's default is.
CONGESTION = os.environ.get("KERNEL_CC", "")


def with_congestion(sock):
    if CONGESTION:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CONGESTION.encode())
    return sock


def connect(address, port):
    sock = with_congestion(socket.socket(family_of(address), socket.SOCK_STREAM))
    sock.settimeout(60)
    sock.connect((address, port))
    return sock


def listen(address, port, backlog=4096):
    listener = with_congestion(socket.socket(family_of(address), socket.SOCK_STREAM))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(backlog)
    return listener


def emit(record):
    print(json.dumps(record), flush=True)


def sink(address, port, window):
    listener = listen(address, port, 1)
    print("ready", flush=True)
    sock, _ = listener.accept()
    started = time.monotonic()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    if window > 0:
        # Goodput over a window: stop once it has passed, whatever the
        # sender is doing (on a lossy path it may be stalled in a timeout).
        sock.settimeout(0.1)
    while True:
        try:
            n = sock.recv_into(view)
        except socket.timeout:
            n = -1
        except ConnectionResetError:
            break
        if window > 0 and time.monotonic() - started >= window:
            # This read may straddle the window's end, so it does not count.
            break
        if n == 0:
            break
        if n > 0:
            total += n
    seconds = time.monotonic() - started
    sock.close()
    emit({"bytes": total, "seconds": seconds})


def source(address, port, size, duration):
    sock = connect(address, port)
    started = time.monotonic()
    data = memoryview(bytes(CHUNK))
    sent = 0
    try:
        if size > 0:
            while sent < size:
                n = sock.send(data[: min(CHUNK, size - sent)])
                sent += n
        else:
            while time.monotonic() - started < duration:
                sent += sock.send(data)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(CHUNK):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    seconds = time.monotonic() - started
    sock.close()
    emit({"bytes": sent, "seconds": seconds})


def crr(address, port, duration, parallel):
    """Keeps PARALLEL connections in the cycle connect, read EOF (the server
    closes first), close; counts completed cycles."""
    family = family_of(address)
    poller = select.epoll()
    socks = {}
    cycles = 0
    errors = 0

    def start():
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect((address, port))
        except BlockingIOError:
            pass
        socks[sock.fileno()] = sock
        poller.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP)

    started = time.monotonic()
    for _ in range(parallel):
        start()
    while True:
        now = time.monotonic()
        if now - started >= duration:
            break
        for fd, events in poller.poll(0.5):
            sock = socks.pop(fd)
            poller.unregister(fd)
            try:
                data = sock.recv(1)
                if data == b"":
                    cycles += 1
                else:
                    errors += 1
            except OSError:
                errors += 1
            sock.close()
            start()
    seconds = time.monotonic() - started
    for sock in socks.values():
        sock.close()
    emit({"cycles": cycles, "seconds": seconds, "errors": errors})


def crr_server(address, port):
    listener = listen(address, port)
    print("ready", flush=True)
    while True:
        sock, _ = listener.accept()
        sock.close()


def rr(address, port, duration):
    sock = socket.create_connection((address, port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    one = b"x"
    count = 0
    started = time.monotonic()
    deadline = started + duration
    while True:
        # Check the clock every 64 round trips: a syscall per round trip is
        # the thing measured, not time.monotonic().
        for _ in range(64):
            sock.send(one)
            if not sock.recv(1):
                raise SystemExit("rr: the server closed the connection")
        count += 64
        if time.monotonic() >= deadline:
            break
    seconds = time.monotonic() - started
    sock.close()
    emit({"roundTrips": count, "seconds": seconds})


def echo_server(address, port):
    listener = listen(address, port, 1)
    print("ready", flush=True)
    sock, _ = listener.accept()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = bytearray(65536)
    while True:
        n = sock.recv_into(buffer)
        if n == 0:
            break
        sock.sendall(memoryview(buffer)[:n])
    sock.close()


def slab_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1]) * 1024
    return -1


def scale_worker(role, address, port, count):
    """One process's share of `scale`: a listener that accepts `count`
    connections, or a client that opens `count`; both hold them until stdin
    closes."""
    if role == "server":
        listener = listen(address, port)
        print("ready", flush=True)
        held = []
        while len(held) < count:
            held.append(listener.accept()[0])
        print("done", flush=True)
    else:
        held = []
        family = family_of(address)
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.connect((address, port))
            held.append(sock)
        print("done", flush=True)
    sys.stdin.read()


def scale(address, base_port, connections):
    # Each process holds at most PER_PROCESS descriptors: the hard
    # RLIMIT_NOFILE may be low (containers), and only it can be raised to.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = hard if hard != resource.RLIM_INFINITY else 1 << 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    per_process = max(1, min(10000, limit - 64))
    shares = []
    left = connections
    while left > 0:
        shares.append(min(per_process, left))
        left -= shares[-1]
    me = os.path.abspath(__file__)

    def spawn(role, port, count):
        return subprocess.Popen(
            [sys.executable, me, "scale-worker", role, address, str(port), str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    servers = [spawn("server", base_port + i, n) for i, n in enumerate(shares)]
    for p in servers:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("scale: a server did not start")
    before = slab_bytes()
    started = time.monotonic()
    clients = [spawn("client", base_port + i, n) for i, n in enumerate(shares)]
    for p in clients + servers:
        if p.stdout.readline().strip() != "done":
            raise SystemExit("scale: a worker failed")
    seconds = time.monotonic() - started
    # Let deferred frees and per-CPU caches settle a moment before reading.
    time.sleep(0.2)
    after = slab_bytes()
    for p in clients + servers:
        p.stdin.close()
    for p in clients + servers:
        p.wait()
    emit(
        {
            "connections": connections,
            "processes": 2 * len(shares),
            "seconds": seconds,
            "slabBytesPerSocket": (after - before) / (2 * connections),
        }
    )


def main(argv):
    command = argv[1]
    if command == "sink":
        sink(argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else 0.0)
    elif command == "source":
        source(argv[2], int(argv[3]), int(argv[4]), float(argv[5]) if len(argv) > 5 else 0.0)
    elif command == "crr":
        crr(argv[2], int(argv[3]), float(argv[4]), int(argv[5]))
    elif command == "crr-server":
        crr_server(argv[2], int(argv[3]))
    elif command == "rr":
        rr(argv[2], int(argv[3]), float(argv[4]))
    elif command == "echo-server":
        echo_server(argv[2], int(argv[3]))
    elif command == "scale":
        scale(argv[2], int(argv[3]), int(argv[4]))
    elif command == "scale-worker":
        scale_worker(argv[2], argv[3], int(argv[4]), int(argv[5]))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
