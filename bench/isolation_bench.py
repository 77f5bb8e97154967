#!/usr/bin/env python3
"""Can one client hurt the others? Three measurements per pooler (for pooler_bench.sh --suite isolation).

  isolation_bench.py --target NAME:PORT:PID [--target ...] --direct-port P --user U --password PW --dbname DB

1. dead clients: while 20 clients run SELECT 1 in a loop, 3,000 clients log in and die (a third
   in an open transaction after an INSERT, a third half-way through a message, a third in the
   middle of a COPY FROM STDIN), 200 at a time, closing with RST as a killed process does. Then a
   new client logs in and runs SELECT 1: its latency, and how many server sessions PostgreSQL
   started during the whole step (pg_stat_database.sessions; the pool itself holds at most its
   pool size).
2. flood: N clients (20, then 200) send `SELECT 1` as fast as the socket takes it and never read a
   reply, for --flood-seconds; the pooler's peak VmRSS above its baseline, sampled every 50 ms.
3. big statements: a client sends one 1, 5 and 50 MB statement while another runs SELECT 1 in a
   loop; the other client's p50/p99/max latency during the sends.
Each step is bounded in time; prints one JSON object per (target, step) on stdout.
"""
import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time


# The protocol pieces idle_clients.py already speaks (startup, trust/cleartext/md5, framing).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_clients import login as _login, message, read_message  # noqa: E402


def query(sql):
    return message(b"Q", sql.encode() + b"\0")


async def login(args, port):
    return await _login(argparse.Namespace(host="127.0.0.1", port=port, user=args.user, password=args.password,
                                           dbname=args.dbname))


async def run_query(reader, writer, sql):
    writer.write(query(sql))
    while True:
        t, body = await read_message(reader)
        if t == b"Z":
            return
        if t == b"E":
            raise RuntimeError(body.decode(errors="replace"))


def kill(writer):
    """Close with RST, as a killed process's socket does."""
    sock = writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def direct_value(args, sql):
    out = subprocess.run([args.psql, "-X", "-At", "-h", "127.0.0.1", "-p", str(args.direct_port), "-U", "postgres",
                          "-d", args.dbname, "-c", sql], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


async def background_load(args, port, stop, latencies):
    async def one():
        r, w = await login(args, port)
        while not stop.is_set():
            t0 = time.perf_counter()
            await run_query(r, w, "SELECT 1")
            latencies.append(time.perf_counter() - t0)
        w.close()
    await asyncio.gather(*(one() for _ in range(args.load_clients)))


async def dead_clients(args, name, port, pid):
    direct_value(args, "CREATE TABLE IF NOT EXISTS isolation_dead (v text)")
    sessions_before = int(direct_value(args, f"SELECT sessions FROM pg_stat_database WHERE datname = '{args.dbname}'"))
    stop = asyncio.Event()
    lat = []
    load = asyncio.create_task(background_load(args, port, stop, lat))
    failures = 0

    async def die(i):
        nonlocal failures
        try:
            r, w = await login(args, port)
            kind = i % 3
            if kind == 0:
                await run_query(r, w, "BEGIN")
                await run_query(r, w, "INSERT INTO isolation_dead VALUES ('dead')")
            elif kind == 1:
                await run_query(r, w, "BEGIN")
                w.write(query("SELECT 1")[:7])  # half a message
                await w.drain()
            else:
                await run_query(r, w, "BEGIN")
                w.write(query("COPY isolation_dead FROM STDIN"))
                t, _ = await read_message(r)  # CopyInResponse
                w.write(message(b"d", b"dead\n"))
                await w.drain()
            kill(w)
        except Exception:
            failures += 1

    sem = asyncio.Semaphore(200)

    async def limited(i):
        async with sem:
            await die(i)
    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(limited(i) for i in range(args.dead_clients))), args.step_timeout)
    storm = time.perf_counter() - t0
    stop.set()
    await asyncio.wait_for(load, 30)
    t1 = time.perf_counter()
    r, w = await login(args, port)
    await run_query(r, w, "SELECT 1")
    first = time.perf_counter() - t1
    w.close()
    sessions_after = int(direct_value(args, f"SELECT sessions FROM pg_stat_database WHERE datname = '{args.dbname}'"))
    rows = int(direct_value(args, "SELECT count(*) FROM isolation_dead"))
    return {"target": name, "step": "dead_clients", "dead_clients": args.dead_clients, "storm_s": round(storm, 2),
            "new_client_first_query_ms": round(first * 1000, 1), "server_sessions_started": sessions_after - sessions_before,
            "dead_rows_committed": rows, "dead_client_errors": failures, "load_queries": len(lat)}


async def flood(args, name, port, pid, clients):
    base = rss_kb(pid)
    peak = base
    conns = [await login(args, port) for _ in range(clients)]
    stop = time.monotonic() + args.flood_seconds
    batch = query("SELECT 1") * 64

    async def pump(w):
        while time.monotonic() < stop:
            w.write(batch)
            try:
                await asyncio.wait_for(w.drain(), max(0.01, stop - time.monotonic()))
            except (asyncio.TimeoutError, ConnectionError):
                return
    tasks = [asyncio.create_task(pump(w)) for _, w in conns]
    while time.monotonic() < stop:
        peak = max(peak, rss_kb(pid))
        await asyncio.sleep(0.05)
    await asyncio.gather(*tasks, return_exceptions=True)
    peak = max(peak, rss_kb(pid))
    for _, w in conns:
        kill(w)
    # The pooler must still answer.
    r, w = await login(args, port)
    await asyncio.wait_for(run_query(r, w, "SELECT 1"), 30)
    w.close()
    return {"target": name, "step": f"flood_{clients}", "clients": clients, "seconds": args.flood_seconds,
            "rss_base_mb": round(base / 1024, 1), "rss_peak_mb": round(peak / 1024, 1),
            "rss_growth_mb": round((peak - base) / 1024, 1)}


async def big_statements(args, name, port, pid):
    stop = asyncio.Event()
    lat = []
    load = asyncio.create_task(background_load(args, port, stop, lat))
    await asyncio.sleep(0.5)
    lat.clear()
    r, w = await login(args, port)
    sizes = []
    for mb in (1, 5, 50):
        pad = "x" * (mb * 1024 * 1024)
        t0 = time.perf_counter()
        await asyncio.wait_for(run_query(r, w, f"SELECT length('{pad}')"), args.step_timeout)
        sizes.append({"mb": mb, "s": round(time.perf_counter() - t0, 3)})
    w.close()
    stop.set()
    await asyncio.wait_for(load, 30)
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None
    return {"target": name, "step": "big_statements", "statements": sizes, "other_p50_ms": pick(0.5),
            "other_p99_ms": pick(0.99), "other_max_ms": round(lat[-1] * 1000, 2) if lat else None, "other_queries": len(lat)}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", action="append", required=True, help="NAME:PORT:PID")
    ap.add_argument("--direct-port", type=int, required=True)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--password", default="")
    ap.add_argument("--dbname", default="bench")
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dead-clients", type=int, default=3000)
    ap.add_argument("--load-clients", type=int, default=20)
    ap.add_argument("--flood-seconds", type=float, default=10)
    ap.add_argument("--step-timeout", type=float, default=300)
    ap.add_argument("--steps", default="dead,flood,big")
    args = ap.parse_args()
    targets = [t.split(":") for t in args.target]
    steps = args.steps.split(",")
    for rnd in range(1, args.rounds + 1):
        for step in steps:
            for name, port, pid in targets:  # alternating: each step runs on every target in turn
                port, pid = int(port), int(pid)
                if step == "dead":
                    out = [await dead_clients(args, name, port, pid)]
                elif step == "flood":
                    out = [await flood(args, name, port, pid, 20), await flood(args, name, port, pid, 200)]
                elif step == "big":
                    out = [await big_statements(args, name, port, pid)]
                else:
                    sys.exit(f"unknown step {step}")
                for o in out:
                    o["round"] = rnd
                    print(json.dumps(o), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
