#!/usr/bin/env python3
"""listener_probe.py PORT PROBE [ARGS] - hostile clients for pmbot's HTTP
listener, as tests/e2e_listener.sh runs them. Each probe prints one line
of facts for the script to check and exits 0 when it could run at all.

  raw HEX          send bytes (hex), half-close, print the status line
                   and the body that came back
  send HEX         the same without the half-close (the listener ends
                   the connection after its answer)
  slow BODY_TIMEOUT  50 clients trickling a body a byte at a time and one
                   idle after its head: print when each was hung up on
  replay FILE...   send each file on a connection of its own, then ask
                   /healthz: print how many were sent and how many
                   /healthz answers were not 200
  flood N          hold N connections (half of them mid-head) while
                   /healthz is asked on new connections: print the
                   slowest /healthz answer and how many failed
"""
import socket
import sys
import time

HOST = "127.0.0.1"


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    return s


def healthz(port, timeout=5.0):
    """status of GET /healthz on a new connection, or 0"""
    try:
        s = connect(port, timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.") else 0
    except (OSError, ValueError, IndexError):
        return 0


def probe_raw(port, hexbytes, half_close=True):
    s = connect(port)
    s.sendall(bytes.fromhex(hexbytes))
    try:
        if half_close:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    first = data.split(b"\r\n", 1)[0].decode("latin-1")
    body = data.split(b"\r\n\r\n", 1)[-1].decode("latin-1")
    print(f"answer={first!r}")
    print(f"body={body}")


def probe_slow(port, body_timeout):
    body_timeout = float(body_timeout)
    head = (b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100000\r\n\r\n")
    trick = [connect(port) for _ in range(50)]
    idle = connect(port)
    t0 = time.monotonic()
    for s in trick:
        s.sendall(head)
    idle.sendall(head + b"{")
    closed = {}
    idle_closed = None
    end = t0 + body_timeout + 6
    open_socks = {i: s for i, s in enumerate(trick)}
    for s in trick + [idle]:
        s.settimeout(0.01)
    # a byte every 0.5 s on every trickler until it is hung up on; the
    # idle one only listens
    while (open_socks or idle_closed is None) and time.monotonic() < end:
        for i, s in list(open_socks.items()):
            try:
                s.sendall(b"x")
                if s.recv(4096) == b"":
                    raise OSError
            except socket.timeout:
                pass
            except OSError:
                closed[i] = time.monotonic() - t0
                del open_socks[i]
        if idle_closed is None:
            try:
                if idle.recv(4096) == b"":
                    idle_closed = time.monotonic() - t0
            except socket.timeout:
                pass
            except OSError:
                idle_closed = time.monotonic() - t0
        time.sleep(0.5)
    worst = max(closed.values()) if len(closed) == 50 else -1
    best = min(closed.values()) if closed else -1
    print(f"trickle_closed={len(closed)} trickle_first={best:.1f} "
          f"trickle_last={worst:.1f} "
          f"idle_closed={-1 if idle_closed is None else round(idle_closed, 1)}")


def probe_replay(port, *files):
    bad = 0
    for name in files:
        with open(name, "rb") as f:
            data = f.read()
        try:
            s = connect(port)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
            s.close()
        except OSError:
            pass  # the listener may hang up mid-send: that is its right
        if healthz(port) != 200:
            bad += 1
    print(f"replayed={len(files)} healthz_not_200={bad}")


def probe_flood(port, n):
    n = int(n)
    held = []
    refused = 0
    for i in range(n):
        try:
            s = connect(port, 2.0)
            if i % 2:
                s.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            held.append(s)
        except OSError:
            refused += 1
    slowest = 0.0
    failed = 0
    for _ in range(20):
        t = time.monotonic()
        if healthz(port, 5.0) != 200:
            failed += 1
        slowest = max(slowest, time.monotonic() - t)
    for s in held:
        s.close()
    print(f"opened={len(held)} refused={refused} healthz_failed={failed} "
          f"healthz_slowest={slowest:.2f}")


def main():
    port = int(sys.argv[1])
    probe = sys.argv[2]
    args = sys.argv[3:]
    {"raw": probe_raw, "send": lambda p, h: probe_raw(p, h, False),
     "slow": probe_slow, "replay": probe_replay,
     "flood": probe_flood}[probe](
        port, *args)


if __name__ == "__main__":
    main()
