#!/usr/bin/env python3
"""Staleness of the result cache after writes that bypass the pooler (bench/cache_bench.sh).

For each of --writes rounds: make sure the probed row's answer is cached in pgopt (read it through
pgopt until a read is a hit, i.e. twice after it changed), UPDATE it directly on the primary, note
when that commit returned, then read it through pgopt every --poll-ms until the new value comes
back. The delay from the direct commit to the first fresh answer is the staleness a reader could
see. Prints one JSON object: p50/p99/max in ms, the count, and how many rounds never saw the value
within --timeout (each counted at the timeout).

Plain protocol 3.0 over a socket (trust auth only: the bench cluster and pooler use trust), so it
needs nothing beyond Python's standard library.
"""
import argparse
import json
import socket
import struct
import sys
import time


class Conn:
    def __init__(self, port, user, db):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in (("user", user), ("database", db)))
        body = struct.pack("!I", 196608) + params + b"\0"
        self.s.sendall(struct.pack("!I", len(body) + 4) + body)
        while True:
            t, b = self.read()
            if t == b"E":
                raise RuntimeError("login failed: %r" % b)
            if t == b"R" and struct.unpack("!I", b[:4])[0] != 0:
                raise RuntimeError("only trust auth is supported")
            if t == b"Z":
                return

    def read(self):
        while True:
            if len(self.buf) >= 5:
                n = struct.unpack("!I", self.buf[1:5])[0]
                if len(self.buf) >= 1 + n:
                    t, b = self.buf[:1], self.buf[5:1 + n]
                    self.buf = self.buf[1 + n:]
                    return t, b
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk

    def query(self, sql):
        """First column of the first row (or None), raising on an error."""
        body = sql.encode() + b"\0"
        self.s.sendall(b"Q" + struct.pack("!I", len(body) + 4) + body)
        value, error = None, None
        while True:
            t, b = self.read()
            if t == b"D" and value is None:
                n = struct.unpack("!i", b[2:6])[0]
                value = b[6:6 + n].decode() if n >= 0 else None
            elif t == b"E":
                error = b
            elif t == b"Z":
                if error is not None:
                    raise RuntimeError("query failed: %r" % error)
                return value


def percentile(sorted_values, q):
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pgopt-port", type=int, required=True)
    ap.add_argument("--direct-port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--poll-ms", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--sql", default="SELECT name FROM products WHERE id = 1")
    ap.add_argument("--sync-commit", default="on", choices=["on", "off"],
                    help="the writer's synchronous_commit: with off, a commit returns before its WAL is flushed, and "
                         "a walsender only sends flushed WAL (up to wal_writer_delay later)")
    ap.add_argument("--update", default="UPDATE products SET name = '{v}' WHERE id = 1")
    a = ap.parse_args()
    via = Conn(a.pgopt_port, a.user, a.db)
    direct = Conn(a.direct_port, a.user, a.db)
    direct.query("SET synchronous_commit = " + a.sync_commit)
    delays, timeouts = [], 0
    for i in range(a.writes):
        want = "probe-%d-%d" % (int(time.time()), i)
        via.query(a.sql)  # cached now (a miss fills, a hit keeps it)
        via.query(a.sql)
        direct.query(a.update.format(v=want))
        committed = time.monotonic()
        while True:
            got = via.query(a.sql)
            now = time.monotonic()
            if got == want:
                delays.append((now - committed) * 1000)
                break
            if now - committed > a.timeout:
                timeouts += 1
                delays.append(a.timeout * 1000)
                break
            time.sleep(a.poll_ms / 1000)
    delays.sort()
    print(json.dumps({"writes": a.writes, "synchronous_commit": a.sync_commit, "p50_ms": round(percentile(delays, 0.50), 2),
                      "p99_ms": round(percentile(delays, 0.99), 2), "max_ms": round(delays[-1], 2) if delays else 0,
                      "timeouts": timeouts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
