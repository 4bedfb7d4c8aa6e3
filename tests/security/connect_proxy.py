#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""connect_proxy.py - a small HTTP CONNECT proxy that records what it sees, for test_proxy.sh.

usage: connect_proxy.py PORT_FILE LOG_DIR [--refuse] [--map SUFFIX=ADDRESS]

Listens on 127.0.0.1 (a free port, written to PORT_FILE through a rename once listening). For each
client connection N it records, in LOG_DIR:
  N.head  the request head exactly as received (up to the blank line)
  N.c2s   every byte the client sent through the tunnel
  N.s2c   every byte the server sent back through the tunnel
  N.plain written instead when the request was not CONNECT (the proxy answers 405 and closes)
--refuse answers every CONNECT with 403 (a proxy that does not allow the target).
--map SUFFIX=ADDRESS connects to ADDRESS for target hosts ending in SUFFIX (a name that only the
proxy resolves, as proxies do). Stops on SIGTERM.
"""
import os
import select
import signal
import socket
import sys
import threading

counter = 0
lock = threading.Lock()


def relay(a, b, log_ab, log_ba):
    socks = [a, b]
    with open(log_ab, "ab") as fab, open(log_ba, "ab") as fba:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                try:
                    data = s.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                (b if s is a else a).sendall(data)
                (fab if s is a else fba).write(data)
                (fab if s is a else fba).flush()


def handle(conn, log_dir, refuse, maps):
    global counter
    with lock:
        counter += 1
        n = counter
    base = os.path.join(log_dir, str(n))
    head = b""
    try:
        while b"\r\n\r\n" not in head and len(head) < 16384:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            with open(base + ".plain", "wb") as f:
                f.write(head)
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        end = head.index(b"\r\n\r\n") + 4
        with open(base + ".head", "wb") as f:
            f.write(head[:end])
        if refuse:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        for suffix, addr in maps:
            if host.endswith(suffix):
                host = addr
        try:
            up = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with open(base + ".c2s", "wb") as f:
            f.write(head[end:])  # bytes that came with the head (none from libcurl)
        if head[end:]:
            up.sendall(head[end:])
        relay(conn, up, base + ".c2s", base + ".s2c")
        up.close()
    finally:
        conn.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    port_file, log_dir = sys.argv[1], sys.argv[2]
    refuse = "--refuse" in sys.argv[3:]
    maps = []
    args = sys.argv[3:]
    for i, a in enumerate(args):
        if a == "--map" and i + 1 < len(args):
            suffix, _, addr = args[i + 1].partition("=")
            maps.append((suffix, addr))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, log_dir, refuse, maps), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
