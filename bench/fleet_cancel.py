#!/usr/bin/python3
"""The cost of forwarding a cancel between fleet peers (issue 20): a client logged in at peer A runs
`SELECT pg_sleep(10)`; its CancelRequest goes either to A itself (local) or to peer B, which
forwards it to A over [peers]. Measured from sending the CancelRequest to the client reading its
ErrorResponse 57014, N times each way, alternating.

    bench/fleet_cancel.py --owner HOST:PORT --other HOST:PORT --direct-port P --db DB --user U
                          --password PW [--runs 20]

A hand-written protocol client (md5 or trust login), because drivers hide the cancel key's secret.
Prints one JSON line: {"local": {"p50_ms", "max_ms", "ok"}, "forwarded": {...}}.
"""
import argparse
import hashlib
import json
import socket
import statistics
import struct
import time

import psycopg


def messages(sock):
    """Yields (type, body) from the socket until it closes."""
    buf = b""
    while True:
        while len(buf) >= 5:
            length = struct.unpack("!I", buf[1:5])[0]
            if len(buf) < 1 + length:
                break
            yield buf[0:1], buf[5:1 + length]
            buf = buf[1 + length:]
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk


def login(addr, db, user, password):
    """Returns (socket, message iterator, (pid, secret)) of a session ready for queries."""
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=20)
    body = struct.pack("!I", 3 << 16) + b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    it = messages(sock)
    key = None
    for kind, msg in it:
        if kind == b"R":
            code = struct.unpack("!I", msg[:4])[0]
            if code == 5:  # md5
                inner = hashlib.md5((password + user).encode()).hexdigest()
                digest = "md5" + hashlib.md5(inner.encode() + msg[4:8]).hexdigest()
                pw = digest.encode() + b"\0"
                sock.sendall(b"p" + struct.pack("!I", len(pw) + 4) + pw)
            elif code == 3:  # cleartext
                pw = password.encode() + b"\0"
                sock.sendall(b"p" + struct.pack("!I", len(pw) + 4) + pw)
        elif kind == b"K":
            key = struct.unpack("!II", msg[:8])
        elif kind == b"E":
            raise RuntimeError(f"login failed: {msg!r}")
        elif kind == b"Z":
            return sock, it, key
    raise RuntimeError("login: connection closed")


def sqlstate(body):
    for field in body.split(b"\0"):
        if field[:1] == b"C":
            return field[1:].decode()
    return ""


def one_cancel(args, to_addr, watcher):
    sock, it, (pid, secret) = login(args.owner, args.db, args.user, args.password)
    tag = f"fleet_cancel_{time.monotonic_ns()}"
    q = f"SELECT pg_sleep(10) /*{tag}*/".encode() + b"\0"
    sock.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the server runs it (a condition, polled)
        row = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                              (f"%{tag}*/",)).fetchone()
        if row[0] == 1:
            break
    host, port = to_addr.rsplit(":", 1)
    t0 = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=10) as c:
        c.sendall(struct.pack("!IIII", 16, 80877102, pid, secret))
    state = ""
    for kind, msg in it:
        if kind == b"E":
            state = sqlstate(msg)
            break
    elapsed = (time.perf_counter() - t0) * 1000
    for kind, _ in it:  # to its ReadyForQuery
        if kind == b"Z":
            break
    sock.sendall(b"X\0\0\0\4")
    sock.close()
    return elapsed, state == "57014"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--owner", required=True)
    ap.add_argument("--other", required=True)
    ap.add_argument("--direct-port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default="")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    watcher = psycopg.connect(host="127.0.0.1", port=args.direct_port, dbname=args.db, user=args.user,
                              autocommit=True)
    times = {"local": [], "forwarded": []}
    ok = {"local": 0, "forwarded": 0}
    for i in range(args.runs * 2):
        way = "local" if i % 2 == 0 else "forwarded"
        ms, cancelled = one_cancel(args, args.owner if way == "local" else args.other, watcher)
        times[way].append(ms)
        ok[way] += cancelled
    out = {w: {"p50_ms": round(statistics.median(t), 2), "max_ms": round(max(t), 2), "ok": ok[w], "runs": len(t)}
           for w, t in times.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
