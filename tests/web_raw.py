#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Raw HTTP clients for the checkupd tests (no library would send these).

  web_raw.py raw PORT BYTES
      Sends BYTES (Python escapes: \\r\\n, \\x00) to 127.0.0.1:PORT and reads
      until the server closes or 2 s pass. Prints "STATUS CLOSED RESPONSES":
      the first status code (or "none"), "closed" or "open", and how many
      responses came back.

  web_raw.py trickle PORT HEAD SECONDS
      Sends HEAD, then one body byte every half second for at most SECONDS.
      Prints "closed" or "open" and the seconds until the server closed.

  web_raw.py flood PORT SOURCE COUNT HOLD READY
      Opens COUNT connections from address SOURCE, each sending an
      unfinished request head and then one header line a second, for at
      most HOLD seconds (or until the file READY.stop exists); touches READY
      once all are opened. Prints "opened N closed_by_server M": M counts
      the connections the server ended. Every socket is closed on exit.
"""
import os
import resource
import select
import socket
import sys
import time


def raw(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(data.encode().decode("unicode_escape").encode("latin1"))
    out, closed, end = b"", "open", time.time() + 2
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = "closed"
            break
        if not b:
            closed = "closed"
            break
        out += b
    s.close()
    parts = out.split(b"HTTP/1.1 ")
    status = parts[1][:3].decode() if len(parts) > 1 else "none"
    print(status, closed, len(parts) - 1)


def flood(port, source, count, hold, ready):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    conns = {}
    for _ in range(min(count, want - 64)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            continue
        conns[s.fileno()] = s
    opened = len(conns)
    # Each connection starts a head once connected; none ever finishes it.
    poller = select.poll()
    for fd in conns:
        poller.register(fd, select.POLLOUT)
    started, end = set(), time.time() + 5
    while len(started) < len(conns) and time.time() < end:
        for fd, ev in poller.poll(200):
            if fd in started or fd not in conns:
                continue
            try:
                conns[fd].send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                pass
            started.add(fd)
            poller.modify(fd, select.POLLIN)
    open(ready, "w").close()
    t0, open_1s, end = time.time(), None, time.time() + hold
    next_line = t0
    while conns and time.time() < end and not os.path.exists(ready + ".stop"):
        for fd, ev in poller.poll(100):
            s = conns.get(fd)
            if s is None:
                continue
            try:
                b = s.recv(4096)
            except OSError:
                b = b""
            if not b:
                poller.unregister(fd)
                del conns[fd]
                s.close()
        if open_1s is None and time.time() - t0 >= 1:
            open_1s = len(conns)
        if time.time() >= next_line:
            next_line += 0.5
            for s in conns.values():
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
    print("opened", opened, "open_after_1s", open_1s if open_1s is not None else len(conns),
          "open_at_end", len(conns))
    sys.stdout.flush()
    for s in conns.values():
        s.close()


def trickle(port, head, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    s.sendall(head.encode().decode("unicode_escape").encode("latin1"))
    t0, state = time.time(), "open"
    while time.time() - t0 < secs:
        try:
            s.send(b"a")
            if s.recv(4096) == b"":
                state = "closed"
                break
        except socket.timeout:
            continue
        except OSError:
            state = "closed"
            break
    print(state, int(time.time() - t0))
    s.close()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "raw":
        raw(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "trickle":
        trickle(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    elif len(sys.argv) == 7 and sys.argv[1] == "flood":
        flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]),
              sys.argv[6])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


main()
