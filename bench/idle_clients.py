#!/usr/bin/env python3
"""Holds N idle, logged-in client connections to a pooler and measures its memory (for pooler_bench.sh).

Speaks just enough of protocol v3 itself (startup, trust/cleartext/md5 auth, ReadyForQuery) so the
client side stays cheap and needs no driver: the cost measured is the pooler's, not a driver's.

  idle_clients.py --port P --user U --password PW --dbname DB --pid POOLER_PID --clients N

1. warm-up: one client logs in and runs SELECT 1 (the pool and its first server connection exist
   before the baseline, in both poolers);
2. baseline VmRSS and CPU ticks of POOLER_PID (from /proc);
3. opens N connections (at most --concurrency logins at a time), each logs in and then sits idle;
4. after --settle seconds: VmRSS again, and a liveness check (a fresh client runs SELECT 1 while
   the N are connected) and counts the idle clients the pooler dropped meanwhile;
5. with --admin-db, times each of --admin-commands on the pooler's admin console while the N are
   still connected (a fresh connection per command: login + query + every row), since SHOW commands
   must stay responsive with 10,000 clients;
6. closes everything and prints one JSON object on stdout.
Bounded by --timeout seconds overall.
"""
import argparse
import asyncio
import hashlib
import json
import os
import resource
import struct
import sys
import time


def read_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def read_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()  # comm may contain spaces; fields after it start at #3
    return int(fields[11]) + int(fields[12])  # utime + stime (#14, #15), whole thread group


class LoginError(Exception):
    pass


def message(type_byte, body):
    return type_byte + struct.pack("!I", len(body) + 4) + body


async def read_message(reader):
    head = await reader.readexactly(5)
    length = struct.unpack("!I", head[1:])[0]
    return head[:1], await reader.readexactly(length - 4)


async def login(args):
    """Returns (reader, writer) of a connection that has seen ReadyForQuery."""
    reader, writer = await asyncio.open_connection(args.host, args.port)
    try:
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                          for k, v in (("user", args.user), ("database", args.dbname),
                                       ("application_name", "idle_clients")))
        body = struct.pack("!I", 196608) + params + b"\0"
        writer.write(struct.pack("!I", len(body) + 4) + body)
        while True:
            t, body = await read_message(reader)
            if t == b"R":
                code = struct.unpack("!I", body[:4])[0]
                if code == 0:
                    continue
                if code == 3:
                    writer.write(message(b"p", args.password.encode() + b"\0"))
                elif code == 5:
                    inner = hashlib.md5((args.password + args.user).encode()).hexdigest()
                    outer = hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                    writer.write(message(b"p", b"md5" + outer.encode() + b"\0"))
                else:
                    raise LoginError(f"unsupported authentication request {code} (use md5 or trust)")
            elif t == b"E":
                raise LoginError(error_text(body))
            elif t == b"Z":
                return reader, writer
            # 'S' ParameterStatus, 'K' BackendKeyData, 'N' notices: nothing to do
    except BaseException:
        writer.close()
        raise


def error_text(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return f"{fields.get('C', '?')}: {fields.get('M', '?')}"


async def select_one(args):
    reader, writer = await login(args)
    try:
        writer.write(message(b"Q", b"SELECT 1\0"))
        ok = False
        while True:
            t, body = await read_message(reader)
            if t == b"E":
                raise LoginError(error_text(body))
            if t == b"D":
                ok = True
            if t == b"Z":
                break
        writer.write(message(b"X", b""))
        await writer.drain()
        return ok
    finally:
        writer.close()


async def admin_command(args, command):
    """(milliseconds for login + the command + all rows, rows) on the admin database."""
    t0 = time.monotonic()
    reader, writer = await login(argparse.Namespace(**{**vars(args), "dbname": args.admin_db}))
    try:
        writer.write(message(b"Q", command.encode() + b"\0"))
        rows = 0
        while True:
            t, body = await read_message(reader)
            if t == b"E":
                raise LoginError(f"{command}: {error_text(body)}")
            if t == b"D":
                rows += 1
            if t == b"Z":
                break
        ms = (time.monotonic() - t0) * 1000
        writer.write(message(b"X", b""))
        await writer.drain()
        return round(ms, 1), rows
    finally:
        writer.close()


async def main(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.clients + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if min(want, hard) < want:
        raise SystemExit(f"idle_clients.py: need {want} file descriptors, hard limit is {hard}")

    if not await asyncio.wait_for(select_one(args), 30):
        raise SystemExit("idle_clients.py: warm-up SELECT 1 returned no row")
    await asyncio.sleep(0.5)
    rss_before = read_rss_kb(args.pid)
    cpu_before = read_cpu_ticks(args.pid)

    sem = asyncio.Semaphore(args.concurrency)
    conns, errors, watchers = [], {}, []
    dropped = 0

    async def watch(reader):
        # An idle client hears nothing; anything (a FATAL, EOF) means the pooler let it go.
        nonlocal dropped
        try:
            await reader.read(1)
            dropped += 1
        except OSError:
            dropped += 1

    async def open_one():
        async with sem:
            try:
                conn = await asyncio.wait_for(login(args), args.login_timeout)
                conns.append(conn)
                watchers.append(asyncio.create_task(watch(conn[0])))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, LoginError) as e:
                key = f"{type(e).__name__}: {e}"[:200]
                errors[key] = errors.get(key, 0) + 1

    t0 = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(args.clients)))
    login_seconds = time.monotonic() - t0
    cpu_logins = read_cpu_ticks(args.pid) - cpu_before
    await asyncio.sleep(args.settle)
    rss_after = read_rss_kb(args.pid)
    try:
        alive = await asyncio.wait_for(select_one(args), 30)
        alive_error = ""
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, LoginError) as e:
        alive, alive_error = False, f"{type(e).__name__}: {e}"
    admin = {}
    if args.admin_db:
        for command in [c.strip() for c in args.admin_commands.split(";") if c.strip()]:
            try:
                ms, rows = await asyncio.wait_for(admin_command(args, command), 60)
                admin[command] = {"ms": ms, "rows": rows}
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, LoginError) as e:
                admin[command] = {"error": f"{type(e).__name__}: {e}"[:200]}
    await asyncio.sleep(0)  # let the watchers see anything that arrived
    for t in watchers:
        t.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    for _, w in conns:
        w.close()
    await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)

    clk = os.sysconf("SC_CLK_TCK")
    connected = len(conns)
    return {
        "requested": args.clients,
        "connected": connected,
        "failed": args.clients - connected,
        "errors": errors,
        "dropped_while_idle": dropped,
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "kb_per_client": round((rss_after - rss_before) / connected, 2) if connected else None,
        "login_seconds": round(login_seconds, 2),
        "pooler_cpu_ms_per_login": round(cpu_logins * 1000 / clk / connected, 3) if connected else None,
        "select_1_while_idle_clients": alive,
        "select_1_error": alive_error,
        "admin": admin,
    }


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", default="")
    p.add_argument("--dbname", required=True)
    p.add_argument("--pid", type=int, required=True, help="pooler process to measure")
    p.add_argument("--clients", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=100, help="logins in flight at once")
    p.add_argument("--login-timeout", type=float, default=30)
    p.add_argument("--settle", type=float, default=4,
                   help="seconds between last login and RSS (pgopt parks a client idle for a second)")
    p.add_argument("--timeout", type=float, default=600, help="bound on the whole run")
    p.add_argument("--admin-db", default="", help="admin console database (pgopt, pgbouncer); empty: skip")
    p.add_argument("--admin-commands", default="SHOW POOLS;SHOW CLIENTS;SHOW SERVERS;SHOW STATS",
                   help="';'-separated commands to time while the idle clients are connected")
    return p.parse_args()


if __name__ == "__main__":
    a = parse_args()
    try:
        result = asyncio.run(asyncio.wait_for(main(a), a.timeout))
    except asyncio.TimeoutError:
        sys.exit(f"idle_clients.py: did not finish within {a.timeout}s")
    except (OSError, LoginError, asyncio.IncompleteReadError) as e:
        sys.exit(f"idle_clients.py: {type(e).__name__}: {e}")
    print(json.dumps(result))
