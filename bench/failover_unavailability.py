#!/usr/bin/python3
"""Write unavailability after a Patroni leader kill and after a planned switchover (issue 18):
pgopt with `hosts` vs PgBouncer pointed at the first leader's address vs libpq's own multi-host
`target_session_attrs=read-write` reconnect.

    bench/failover_unavailability.py [--runs 5] [--work-dir DIR] [--only pgopt,pgbouncer,libpq]
                                                                  # ~10 min; needs build/pgopt

Starts a 3-member Patroni cluster (scripts/patroni.sh: etcd, PostgreSQL 15, ttl 10 s, loop_wait
1 s, synchronous_mode) once. For each client path and each event (kill -9 of the leader's
postmaster; `patronictl switchover`) it runs one writer: one autocommit INSERT at a time, 10 ms
apart, on one connection that it opens again only when it broke (counted as reconnects). For each
run it records, from the moment of the event t0:
  recovered   t0 -> the acknowledgement that ends the longest pause between two acknowledged writes
  pause       that longest pause
  leader_ok   t0 -> the first moment the new leader's REST API answers 200 on /primary
  behind      recovered - leader_ok (how long after Patroni's new leader could take writes the
              client's writes resumed; the issue's target for pgopt is at most 1 s)
A path that has not written again 30 s after the event is recorded as not recovered (PgBouncer
pointed at one address: the new leader is elsewhere; it needs a config change and a reload), and
then gets no more runs. Between runs the script waits until the cluster again has a leader with two
streaming replicas (the killed leader rewound and rejoined). Prints a Markdown table; everything it
starts is stopped by PID.
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PGOPT_BIN = os.environ.get("PGOPT_BIN", os.path.join(ROOT, "build", "pgopt"))
PGBOUNCER_BIN = os.environ.get("PGBOUNCER_BIN", "/usr/sbin/pgbouncer")
PATRONI = os.path.join(ROOT, "scripts", "patroni.sh")
RUN_USER = "pgopt-test"
GIVE_UP_S = 30.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Cluster:
    def __init__(self, work):
        self.dir = os.path.join(work, "patroni")
        out = subprocess.run(["bash", PATRONI, "start", self.dir], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("patroni.sh start failed:\n" + out.stdout + out.stderr)
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.env[k] = v.strip("'")
        self.ports = [int(self.env[f"PGOPT_PATRONI_PORT_{i}"]) for i in (1, 2, 3)]
        self.apis = [int(self.env[f"PGOPT_PATRONI_API_{i}"]) for i in (1, 2, 3)]

    def sh(self, *args, timeout=180):
        out = subprocess.run(["bash", PATRONI, *args[:1], self.dir, *args[1:]], capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"patroni.sh {args[0]} failed:\n{out.stdout}{out.stderr}")
        return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""

    def leader_port(self):
        m = self.sh("leader")
        return self.ports[int(m[1:]) - 1]

    def primary_api_ok(self, not_member):
        for i, api in enumerate(self.apis):
            if f"m{i + 1}" == not_member:
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api}/primary", timeout=0.5) as r:
                    if r.status == 200:
                        return True
            except Exception:
                pass
        return False

    def stop(self):
        subprocess.run(["bash", PATRONI, "stop", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Pooler:
    """pgopt (every member in `hosts`) or PgBouncer (the leader at start) in transaction mode."""

    def __init__(self, kind, work, cluster):
        self.kind, self.port = kind, free_port()
        d = os.path.join(work, f"{kind}-{self.port}")
        os.makedirs(d)
        os.chmod(d, 0o755)
        with open(f"{d}/users.txt", "w") as f:
            f.write('"postgres" "unused"\n')  # trust: never checked
        if kind == "pgopt":
            hosts = ", ".join(f'"127.0.0.1:{p}"' for p in cluster.ports)
            with open(f"{d}/pgopt.toml", "w") as f:
                f.write(f'[pooler]\nlisten_addr = "127.0.0.1"\nlisten_port = {self.port}\nworkers = 2\n'
                        'pool_mode = "transaction"\ndefault_pool_size = 4\nauth_type = "trust"\n'
                        'auth_file = "users.txt"\nserver_connect_timeout = "2s"\n'
                        'health_check_period = "200ms"\nfailover_wait_timeout = "30s"\n'
                        f'\n[databases.postgres]\nhosts = [{hosts}]\n')
            cmd = [PGOPT_BIN, "pool", "--config", f"{d}/pgopt.toml"]
        else:
            with open(f"{d}/pgbouncer.ini", "w") as f:
                f.write(f"[databases]\npostgres = host=127.0.0.1 port={cluster.leader_port()} dbname=postgres\n\n"
                        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
                        f"auth_type = trust\nauth_file = {d}/users.txt\npool_mode = transaction\n"
                        f"default_pool_size = 4\nserver_connect_timeout = 2\nlogfile = {d}/pgbouncer.log\n")
            cmd = [PGBOUNCER_BIN, f"{d}/pgbouncer.ini"]
            if os.getuid() == 0:
                subprocess.run(["chown", "-R", RUN_USER, d], check=True)
                cmd = ["setpriv", f"--reuid={RUN_USER}", f"--regid={RUN_USER}", "--init-groups", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=open(f"{d}/stdout.log", "w"), stderr=subprocess.STDOUT)
        if not wait_until(self._listening, 10):
            raise RuntimeError(f"{kind} did not start; see {d}")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def conninfo(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Writer(threading.Thread):
    def __init__(self, conninfo):
        super().__init__(daemon=True)
        self.conninfo, self.done = conninfo, threading.Event()
        self.acks, self.errors, self.reconnects = [], [], 0

    def run(self):
        conn = None
        while not self.done.is_set():
            try:
                if conn is None or conn.closed or conn.broken:
                    if conn is not None:
                        self.reconnects += 1
                    conn = psycopg.connect(self.conninfo, autocommit=True, prepare_threshold=None)
                conn.execute("INSERT INTO fo_bench DEFAULT VALUES")
                self.acks.append(time.monotonic())
            except Exception as e:  # what each path shows its client is part of the record
                self.errors.append((time.monotonic(), (getattr(e, "sqlstate", None) or type(e).__name__)))
                time.sleep(0.02)
            time.sleep(0.01)
        if conn is not None:
            conn.close()

    def outage_after(self, t0):
        acks = [a for a in self.acks]
        best = (None, None)
        for prev, cur in zip(acks, acks[1:]):
            if cur < t0:
                continue
            if best[0] is None or cur - prev > best[0]:
                best = (cur - prev, cur - t0)
        return best


def one_run(cluster, path, event):
    conninfo = path["conninfo"]()
    w = Writer(conninfo)
    w.start()
    if not wait_until(lambda: len(w.acks) >= 20, 20):
        w.done.set()
        raise RuntimeError(f"{path['name']}: no writes before the event: {w.errors[-3:]}")
    old = cluster.sh("leader")
    t0 = time.monotonic()
    leader_ok = [None]

    def watch_leader():
        while time.monotonic() - t0 < GIVE_UP_S and leader_ok[0] is None:
            if cluster.primary_api_ok(old):
                leader_ok[0] = time.monotonic() - t0
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_leader, daemon=True)
    watcher.start()
    if event == "kill":
        cluster.sh("kill-primary")
    else:
        threading.Thread(target=lambda: cluster.sh("switchover"), daemon=True).start()
    # Recovered: a write acknowledged after the new leader could take writes (a kill -9 leaves the
    # old backends alive for a moment, so acknowledgements just after t0 do not count).
    recovered = wait_until(lambda: leader_ok[0] is not None and w.acks[-1] - t0 > leader_ok[0], GIVE_UP_S)
    time.sleep(0.5)  # a few more writes so the pause that ends the outage is closed on both sides
    w.done.set()
    w.join(10)
    watcher.join(GIVE_UP_S)
    pause, rec = w.outage_after(t0)
    errors = sorted({e for _, e in w.errors if _ >= t0})
    result = {"recovered": rec if recovered else None, "pause": pause if recovered else None,
              "leader_ok": leader_ok[0], "reconnects": w.reconnects, "errors": errors}
    cluster.sh("ready", "120", timeout=200)
    return result


def fmt_s(v):
    return "-" if v is None else f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work-dir")
    ap.add_argument("--only", default="pgopt,pgbouncer,libpq")
    args = ap.parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix="pgopt-fo-bench-")
    os.chmod(work, 0o755)
    cluster = Cluster(work)
    poolers = []
    try:
        leader = cluster.leader_port()
        with psycopg.connect(f"host=127.0.0.1 port={leader} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("CREATE TABLE IF NOT EXISTS fo_bench (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
        paths = []
        for name in args.only.split(","):
            if name == "libpq":
                hosts = ",".join("127.0.0.1" for _ in cluster.ports)
                ports = ",".join(str(p) for p in cluster.ports)
                info = (f"host={hosts} port={ports} user=postgres dbname=postgres connect_timeout=2 "
                        "target_session_attrs=read-write")
                paths.append({"name": "libpq target_session_attrs=read-write", "conninfo": lambda info=info: info})
            else:
                # pgopt is started once and follows the cluster. PgBouncer is started again before
                # each run, pointed at the leader of that moment: the config change and restart it
                # needs after every failover, not counted in its numbers.
                def conninfo(name=name):
                    for p in list(poolers):
                        if p.kind == name and name == "pgopt":
                            return p.conninfo()
                        if p.kind == name:
                            p.stop()
                            poolers.remove(p)
                    poolers.append(Pooler(name, work, cluster))
                    return poolers[-1].conninfo()
                paths.append({"name": name, "conninfo": conninfo})
        rows = []
        for path in paths:
            for event in ("kill", "switchover"):
                results = []
                for i in range(args.runs):
                    r = one_run(cluster, path, event)
                    results.append(r)
                    print(f"{path['name']} {event} run {i + 1}: recovered {fmt_s(r['recovered'])} s, pause "
                          f"{fmt_s(r['pause'])} s, leader ok {fmt_s(r['leader_ok'])} s, reconnects {r['reconnects']}, "
                          f"errors {','.join(r['errors']) or 'none'}", flush=True)
                    if r["recovered"] is None:
                        break  # never comes back by itself: one run says so
                rows.append((path["name"], event, results))
        print("\n| client path | event | runs | recovered p50 / max (s) | longest pause p50 / max (s) | "
              "new leader OK p50 (s) | behind leader max (s) | reconnects | errors seen |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, event, results in rows:
            ok = [r for r in results if r["recovered"] is not None]
            if not ok:
                print(f"| {name} | {event} | {len(results)} | never (>{GIVE_UP_S:.0f} s) | - | "
                      f"{fmt_s(results[0]['leader_ok'])} | - | {results[0]['reconnects']} | "
                      f"{','.join(results[0]['errors'])} |")
                continue
            rec = [r["recovered"] for r in ok]
            pause = [r["pause"] for r in ok]
            behind = [r["recovered"] - r["leader_ok"] for r in ok if r["leader_ok"] is not None]
            errs = sorted({e for r in results for e in r["errors"]})
            print(f"| {name} | {event} | {len(results)} | {statistics.median(rec):.2f} / {max(rec):.2f} | "
                  f"{statistics.median(pause):.2f} / {max(pause):.2f} | "
                  f"{statistics.median([r['leader_ok'] for r in ok if r['leader_ok'] is not None] or [0]):.2f} | "
                  f"{max(behind) if behind else 0:.2f} | {sum(r['reconnects'] for r in results)} | "
                  f"{','.join(errs) or 'none'} |")
    finally:
        for p in poolers:
            p.stop()
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
