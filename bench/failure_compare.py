#!/usr/bin/python3
"""The same faults against pgopt and PgBouncer, side by side: what clients see, what is lost, how
fast each recovers (docs/operations.md, "Failure behaviour").

    bench/failure_compare.py [--work-dir DIR] [--only NAME,...]     # ~8 min; needs build/pgopt

Starts its own PostgreSQL 15 primary (scripts/cluster.sh), then for each pooler in turn (pgopt with
2 workers; Debian's PgBouncer, as pgopt-test when root) in transaction mode with pool size 4,
server_connect_timeout and client_login_timeout 2 s and every other setting at its default, runs
each scenario below. Network faults come from a small proxy in this script (the C++ tests use
tests/support/fault_proxy.*) between the pooler and the primary. Prints a Markdown table.
Everything it starts is stopped by PID on exit.
"""
import argparse
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PGOPT_BIN = os.environ.get("PGOPT_BIN", os.path.join(ROOT, "build", "pgopt"))
PGBOUNCER_BIN = os.environ.get("PGBOUNCER_BIN", "/usr/sbin/pgbouncer")
RUN_USER = "pgopt-test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(cond, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Proxy:
    """Threaded TCP proxy: mode none | stall | blackhole | close | reset, applied to every link."""

    def __init__(self, upstream):
        self.upstream, self.mode, self.links, self.lock = upstream, "none", [], threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def open_links(self):
        with self.lock:
            return len(self.links)

    @staticmethod
    def _end(socks, rst):
        for s in socks:
            if rst:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    def _serve(self, c):
        if self.mode in ("close", "reset"):
            return self._end([c], self.mode == "reset")
        try:
            s = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            return self._end([c], True)
        with self.lock:
            self.links.append(c)
        peer = {c: s, s: c}
        try:
            while True:
                mode = self.mode
                if mode in ("close", "reset") or self.stopping:
                    return self._end([c, s], mode == "reset")
                if mode == "stall":
                    time.sleep(0.01)
                    continue
                r, _, _ = select.select([c, s], [], [], 0.01)
                for x in r:
                    try:
                        data = x.recv(65536)
                    except OSError:
                        return self._end([c, s], True)
                    if mode == "blackhole":
                        continue  # dropped, and an EOF is not passed on either
                    if not data:
                        return self._end([c, s], False)
                    peer[x].sendall(data)
        finally:
            with self.lock:
                if c in self.links:
                    self.links.remove(c)

    def stop(self):
        self.stopping = True
        self.sock.close()


class Env:
    def __init__(self, work):
        self.work = work
        subprocess.run(["bash", f"{ROOT}/scripts/cluster.sh", "start", f"{work}/cluster"], check=True,
                       stdout=subprocess.DEVNULL)
        self.vars = {}
        for line in open(f"{work}/cluster/env"):
            k, _, v = line.strip().partition("=")
            self.vars[k] = v.strip("'")
        self.primary = int(self.vars["PGOPT_PRIMARY_PORT"])
        d = self.direct()
        d.execute("DO $$ BEGIN CREATE ROLE chaos_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        # The cluster runs with synchronous_commit = off, which loses acknowledged commits at a
        # crash by design; the writers' role turns it on so the pooler is what is measured.
        d.execute("ALTER ROLE chaos_writer SET synchronous_commit = on")
        d.close()

    def direct(self, db="pgopt_test"):
        return psycopg.connect(host="127.0.0.1", port=self.primary, user="postgres", dbname=db, autocommit=True)

    def pgctl(self, *args):
        return subprocess.run(["bash", f"{ROOT}/scripts/cluster.sh", "pgctl", f"{self.work}/cluster", "primary", *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    def postmaster_pid(self):
        with open(os.path.join(self.vars["PGOPT_DATA_DIR"], "primary", "postmaster.pid")) as f:
            return int(f.readline())

    def stop(self):
        subprocess.run(["bash", f"{ROOT}/scripts/cluster.sh", "stop", f"{self.work}/cluster"], stdout=subprocess.DEVNULL)


class Pooler:
    """pgopt or PgBouncer in front of host:port."""

    def __init__(self, kind, env, server_port):
        self.kind, self.port = kind, free_port()
        d = os.path.join(env.work, f"{kind}-{self.port}")
        os.makedirs(d)
        os.chmod(d, 0o755)
        with open(f"{d}/users.txt", "w") as f:
            f.write('"postgres" "unused"\n"chaos_writer" "unused"\n')  # trust: never checked
        if kind == "pgopt":
            with open(f"{d}/pgopt.toml", "w") as f:
                f.write(f'[pooler]\nlisten_addr = "127.0.0.1"\nlisten_port = {self.port}\nworkers = 2\n'
                        'pool_mode = "transaction"\ndefault_pool_size = 4\nauth_type = "trust"\n'
                        'auth_file = "users.txt"\nserver_connect_timeout = "2s"\nclient_login_timeout = "2s"\n'
                        f'\n[databases.pgopt_test]\nhost = "127.0.0.1"\nport = {server_port}\n')
            cmd = [PGOPT_BIN, "pool", "--config", f"{d}/pgopt.toml"]
        else:
            with open(f"{d}/pgbouncer.ini", "w") as f:
                f.write(f"[databases]\npgopt_test = host=127.0.0.1 port={server_port} dbname=pgopt_test\n\n"
                        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
                        f"auth_type = trust\nauth_file = {d}/users.txt\npool_mode = transaction\n"
                        f"default_pool_size = 4\nmax_client_conn = 1000\nserver_connect_timeout = 2\n"
                        f"client_login_timeout = 2\nlogfile = {d}/pgbouncer.log\n")
            cmd = [PGBOUNCER_BIN, f"{d}/pgbouncer.ini"]
            if os.getuid() == 0:
                subprocess.run(["chown", "-R", RUN_USER, d], check=True)
                cmd = ["setpriv", f"--reuid={RUN_USER}", f"--regid={RUN_USER}", "--init-groups", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=open(f"{d}/stdout.log", "w"), stderr=subprocess.STDOUT)
        if not wait_until(lambda: self._listening(), 10):
            raise RuntimeError(f"{kind} did not start; see {d}")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def connect(self, user="postgres", timeout=5):
        # prepare_threshold=None: psycopg would prepare a statement run 5 times, which PgBouncer
        # 1.18 does not support in transaction mode; the comparison is about faults, not that.
        return psycopg.connect(host="127.0.0.1", port=self.port, user=user, dbname="pgopt_test", autocommit=True,
                               connect_timeout=timeout, prepare_threshold=None)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def short(e):
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    state = getattr(e, "sqlstate", None)
    return f"{state} {s}" if state else s


# ---- scenarios: each returns (what clients saw, what was lost, recovery) -------------------------

def primary_kill(env, kind):
    d = env.direct()
    d.execute("DROP TABLE IF EXISTS fc_writes; CREATE TABLE fc_writes (writer int, seq int)")
    d.execute("GRANT ALL ON fc_writes TO chaos_writer")
    d.close()
    p = Pooler(kind, env, env.primary)
    acked = [[] for _ in range(4)]
    doubt = [[] for _ in range(4)]
    errors, first_error = [0], [None]
    state = {"stop": False, "restarted": None, "first_ack_after": None}

    def writer(w):
        conn, seq = None, 0
        while not state["stop"]:
            seq += 1
            try:
                if conn is None:
                    conn = p.connect("chaos_writer", timeout=3)
                conn.execute("INSERT INTO fc_writes VALUES (%s, %s)", (w, seq))
                acked[w].append(seq)
                if state["restarted"] and state["first_ack_after"] is None:
                    state["first_ack_after"] = time.monotonic()
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                doubt[w].append(seq)
                errors[0] += 1
                first_error[0] = first_error[0] or short(e)
                try:
                    conn and conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                time.sleep(0.02)
    ts = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(4)]
    for t in ts:
        t.start()
    try:
        wait_until(lambda: sum(map(len, acked)) >= 200, 20)
        os.kill(env.postmaster_pid(), signal.SIGKILL)
        wait_until(lambda: env.pgctl("start", "-w", "-t", "30") == 0, 60, step=0.2)
        state["restarted"] = time.monotonic()
        wait_until(lambda: state["first_ack_after"] is not None and sum(map(len, acked)) >= 400, 60)
    finally:
        state["stop"] = True
        for t in ts:
            t.join()
        p.stop()
    d = env.direct()
    present = {}
    for w, s, n in d.execute("SELECT writer, seq, count(*) FROM fc_writes GROUP BY 1, 2").fetchall():
        present[(w, s)] = n
    d.close()
    n_acked = sum(map(len, acked))
    lost = sum(1 for w in range(4) for s in acked[w] if (w, s) not in present)
    dup = sum(1 for n in present.values() if n > 1)
    rec = state["first_ack_after"] - state["restarted"] if state["first_ack_after"] else None
    return (f"{errors[0]} failed statements ({first_error[0]})",
            f"{lost} of {n_acked} acknowledged rows lost, {dup} duplicated",
            f"{rec:.2f} s from restart to the first acknowledged write" if rec is not None else "no write within 60 s")


def reset_mid_transaction(env, kind):
    d = env.direct()
    d.execute("DROP TABLE IF EXISTS fc_net; CREATE TABLE fc_net (id int)")
    d.close()
    proxy = Proxy(env.primary)
    p = Pooler(kind, env, proxy.port)
    try:
        c = p.connect()
        c.execute("BEGIN")
        c.execute("INSERT INTO fc_net VALUES (1)")
        proxy.mode = "reset"
        wait_until(lambda: proxy.open_links() == 0, 5)
        proxy.mode = "none"
        t0 = time.monotonic()
        try:
            c.execute("INSERT INTO fc_net VALUES (2)")
            seen = "no error"
        except Exception as e:  # noqa: BLE001
            seen = short(e)
        took = time.monotonic() - t0
        t1 = time.monotonic()
        first = None
        for _ in range(100):
            try:
                with p.connect() as n:
                    n.execute("SELECT 1")
                first = time.monotonic() - t1
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.05)
        d = env.direct()
        rows = d.execute("SELECT count(*) FROM fc_net").fetchone()[0]
        d.close()
        return (f"{seen} after {took * 1000:.0f} ms",
                f"the open transaction ({rows} of its rows committed)",
                f"next client served in {first * 1000:.0f} ms" if first is not None else "not within 5 s")
    finally:
        p.stop()
        proxy.stop()


def idle_servers_closed(env, kind):
    proxy = Proxy(env.primary)
    p = Pooler(kind, env, proxy.port)
    try:
        a, b = p.connect(), p.connect()
        a.execute("BEGIN"), b.execute("BEGIN"), a.execute("COMMIT"), b.execute("COMMIT")
        a.close(), b.close()
        proxy.mode = "close"
        wait_until(lambda: proxy.open_links() == 0, 5)
        proxy.mode = "none"
        errs = []
        for _ in range(4):
            try:
                with p.connect() as n:
                    n.execute("SELECT 1")
            except Exception as e:  # noqa: BLE001
                errs.append(short(e))
        return (f"{len(errs)} of 4 next clients got an error" + (f" ({errs[0]})" if errs else ""), "nothing",
                "at once" if not errs else "after the failed attempts")
    finally:
        p.stop()
        proxy.stop()


def stalled_server(env, kind):
    proxy = Proxy(env.primary)
    p = Pooler(kind, env, proxy.port)
    try:
        held = p.connect()
        held.execute("SELECT 1")
        proxy.mode = "stall"
        result = {}

        def run_held():
            try:
                result["v"] = held.execute("SELECT 42").fetchone()[0]
            except Exception as e:  # noqa: BLE001
                result["v"] = short(e)
        t = threading.Thread(target=run_held)
        t.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        try:
            with p.connect(timeout=30) as o:
                o.execute("SELECT 2")
            seen = "no error"
        except Exception as e:  # noqa: BLE001
            seen = short(e)
        took = time.monotonic() - t0
        proxy.mode = "none"
        t.join(15)
        return (f"new server needed: {seen} after {took:.1f} s; a query on a stalled server waits",
                "nothing (the held query answered " + str(result.get("v", "never")) + " once the stall ended)",
                "when the stall ends")
    finally:
        p.stop()
        proxy.stop()


def half_open(env, kind):
    proxy = Proxy(env.primary)
    p = Pooler(kind, env, proxy.port)
    try:
        with p.connect() as w:
            w.execute("SELECT 1")
        proxy.mode = "blackhole"
        c = p.connect()
        done = {}

        def run():
            try:
                done["v"] = c.execute("SELECT 42").fetchone()[0]
            except Exception as e:  # noqa: BLE001
                done["v"] = short(e)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(0.5)
        hung = t.is_alive()
        # The client gives up: its socket is shut down under the running query.
        socket.socket(fileno=os.dup(c.fileno())).shutdown(socket.SHUT_RDWR)
        t.join(5)
        proxy.mode = "none"
        t1 = time.monotonic()
        got = None
        for _ in range(50):
            try:
                with p.connect() as n:
                    got = n.execute("SELECT 7").fetchone()[0]
                break
            except Exception as e:  # noqa: BLE001
                got = short(e)
                time.sleep(0.1)
        return ("the query waits (no reply, no error)" if hung else f"answer: {done.get('v')}",
                "the abandoned query",
                f"next client's SELECT 7 returned {got} after {(time.monotonic() - t1) * 1000:.0f} ms")
    finally:
        p.stop()
        proxy.stop()


def slow_logins(env, kind):
    p = Pooler(kind, env, env.primary)
    try:
        body = struct.pack("!I", 196608) + b"user\0postgres\0database\0pgopt_test\0\0"
        startup = struct.pack("!I", len(body) + 4) + body
        slow = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", p.port))
            s.send(startup[:1])
            slow.append(s)
        t0 = time.monotonic()
        worst, fails, sent = 0.0, 0, 1
        closed_at = None
        while time.monotonic() - t0 < 15:
            for s in slow:
                try:
                    if sent < len(startup):
                        s.send(startup[sent:sent + 1])
                except OSError:
                    pass
            sent += 1
            time.sleep(0.15)
            b0 = time.monotonic()
            try:
                with p.connect() as n:
                    n.execute("SELECT 1")
            except Exception:  # noqa: BLE001
                fails += 1
            worst = max(worst, time.monotonic() - b0)
            r, _, _ = select.select(slow, [], [], 0)
            if len(r) == len(slow):
                closed_at = time.monotonic() - t0
                break
        for s in slow:
            s.close()
        return (f"bystanders: {fails} failed, slowest login + query {worst * 1000:.0f} ms",
                "nothing",
                f"20 slow logins closed after {closed_at:.1f} s" if closed_at else "slow logins still open after 15 s")
    finally:
        p.stop()


def client_storm(env, kind):
    p = Pooler(kind, env, env.primary)
    try:
        stop = [False]
        fails, worst, rounds = [0], [0.0], [0]

        def storm(i):
            n = 0
            while not stop[0]:
                n += 1
                try:
                    if (i + n) % 3 == 0:
                        s = socket.create_connection(("127.0.0.1", p.port))
                        s.send(b"\0\0\0\x28\0\3\0\0us")
                        s.close()
                    elif (i + n) % 3 == 1:
                        c = p.connect()
                        c.pgconn.send_query(b"SELECT pg_sleep(0.05)")
                        c.close()
                    else:
                        with p.connect() as c:
                            c.execute("SELECT 1")
                except Exception:  # noqa: BLE001
                    fails[0] += 1
                rounds[0] += 1

        def watch():
            while not stop[0]:
                b0 = time.monotonic()
                try:
                    with p.connect() as c:
                        c.execute("SELECT 1")
                except Exception:  # noqa: BLE001
                    fails[0] += 1
                worst[0] = max(worst[0], time.monotonic() - b0)
        ts = [threading.Thread(target=storm, args=(i,)) for i in range(8)] + [threading.Thread(target=watch)]
        for t in ts:
            t.start()
        time.sleep(5)
        stop[0] = True
        for t in ts:
            t.join()
        d = env.direct("postgres")
        wait_until(lambda: d.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgopt_test' "
                                     "AND state <> 'idle'").fetchone()[0] == 0, 5)
        servers = d.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgopt_test'").fetchone()[0]
        d.close()
        return (f"{rounds[0]} storm rounds in 5 s, {fails[0]} failures; a bystander's slowest query {worst[0] * 1000:.0f} ms",
                "nothing",
                f"{servers} server connections afterwards (pool 4)")
    finally:
        p.stop()


SCENARIOS = [
    ("kill -9 of the primary's postmaster under 4 writers", primary_kill),
    ("server connection reset mid-transaction", reset_mid_transaction),
    ("idle pooled server connections closed by the network", idle_servers_closed),
    ("server stalls (a query running, a new connection needed)", stalled_server),
    ("server half-open (silent) under a query", half_open),
    ("20 slowloris logins (a byte every 150 ms)", slow_logins),
    ("connect/disconnect storm, 8 threads, 5 s", client_storm),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir")
    ap.add_argument("--only", help="comma-separated scenario function names")
    args = ap.parse_args()
    if not os.access(PGOPT_BIN, os.X_OK):
        sys.exit(f"failure_compare.py: no pgopt at {PGOPT_BIN} (build first)")
    work = args.work_dir or tempfile.mkdtemp(prefix="pgopt-failures.")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    env = Env(work)
    try:
        print(f"pgopt {PGOPT_BIN} vs {subprocess.run([PGBOUNCER_BIN, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
        print("| fault | pooler | what clients saw | lost | recovery |\n|---|---|---|---|---|", flush=True)
        only = set(args.only.split(",")) if args.only else None
        for title, fn in SCENARIOS:
            if only and fn.__name__ not in only:
                continue
            for kind in ("pgopt", "pgbouncer"):
                try:
                    saw, lost, rec = fn(env, kind)
                except Exception as e:  # noqa: BLE001 - a broken scenario is reported, the rest run
                    saw, lost, rec = f"scenario failed: {short(e)}", "?", "?"
                print(f"| {title} | {'PgBouncer' if kind == 'pgbouncer' else 'pgopt'} | {saw} | {lost} | {rec} |", flush=True)
    finally:
        env.stop()


if __name__ == "__main__":
    main()
