#!/usr/bin/env python3
"""The Debian package end to end on this machine: scripts/package.sh builds it, lintian finds no
error, dpkg -i installs it, check-config accepts the packaged config, the packaged binary runs with
the unit's ExecStart line as the pgopt user against the test cluster (READY/RELOADING/STOPPING
arrive on a NOTIFY_SOCKET of our own, as systemd would receive them) and answers a query, and
dpkg --purge leaves none of its files behind.

    package_test.py SOURCE_DIR BUILD_DIR CLUSTER_ENV

Runs only with PGOPT_PACKAGE_TEST=1 (scripts/test.sh sets it): it installs a package system-wide,
which a plain `ctest` should not do. Needs root (dpkg). Exits 77 (ctest: skipped) when not root or when a pgopt package is installed
already (we do not replace someone's installation).
"""
import os
import pwd
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile

SKIP = 77
UNIT = "/lib/systemd/system/pgopt.service"
CONFIG = "/etc/pgopt/pgopt.toml"
USERS = "/etc/pgopt/users.txt"


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{shlex.join(cmd)} exited {r.returncode}:\n{r.stdout}")
    return r


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v.strip("'")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "pgopt"], check=False)
    return r.returncode == 0 and r.stdout.strip() not in ("", "not-installed")


class NotifySocket:
    """A datagram socket standing in for systemd's: what pgopt sends with sd_notify."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # the service runs as pgopt, as under systemd (NotifyAccess=main)

    def wait_for(self, field, timeout=30.0):
        """Messages until one with the line `field`; all of them, for the assertions."""
        seen = []
        self.sock.settimeout(timeout)
        while True:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                raise AssertionError(f"no {field} within {timeout} s; got {seen}")
            seen.append(msg)
            if field in msg.split("\n"):
                return seen


def check_package_file(src, deb):
    expect(deb.endswith("_amd64.deb") or deb.endswith(".deb"), f"not a .deb: {deb}")
    expect(os.path.isfile(deb), f"{deb} does not exist")
    contents = run(["dpkg-deb", "-c", deb]).stdout
    for path in ("./usr/bin/pgopt", "./etc/pgopt/pgopt.toml", "./etc/pgopt/users.txt", "." + UNIT,
                 "./usr/share/man/man1/pgopt.1.gz", "./usr/share/doc/pgopt/copyright"):
        expect(f" {path}\n" in contents or contents.endswith(f" {path}"), f"{path} missing from the package:\n{contents}")
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    for lib in ("libc6", "libpq5", "libssl3", "libsystemd0"):
        expect(lib in depends, f"Depends lacks {lib} (dpkg-shlibdeps): {depends}")
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    expect(conffiles == [CONFIG, USERS], f"conffiles: {conffiles}")
    r = run(["lintian", "--fail-on", "error", "--tag-display-limit", "0", deb], check=False)
    print(f"lintian:\n{r.stdout or '(nothing)'}")
    expect(r.returncode == 0, "lintian reports errors")


def check_installed():
    expect(pwd.getpwnam("pgopt").pw_shell in ("/usr/sbin/nologin", "/bin/false"), "pgopt user has a login shell")
    gid = pwd.getpwnam("pgopt").pw_gid
    st = os.stat("/etc/pgopt")
    expect(st.st_uid == 0 and st.st_gid == gid and stat.S_IMODE(st.st_mode) == 0o750, "/etc/pgopt is not root:pgopt 0750")
    st = os.stat(USERS)
    expect(st.st_uid == 0 and st.st_gid == gid and stat.S_IMODE(st.st_mode) == 0o640, f"{USERS} is not root:pgopt 0640")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "pgopt"]).stdout
    expect(CONFIG in conffiles and USERS in conffiles, f"conffiles: {conffiles}")
    r = run(["pgopt", "check-config", CONFIG])
    print(r.stdout.strip())
    with open(CONFIG) as f:
        text = f.read()
    for line in ('listen_addr = "127.0.0.1"', 'auth_type = "scram-sha-256"', 'auth_file = "users.txt"'):
        expect(f"\n{line}\n" in text, f"packaged config lacks the safe default {line}")
    expect("Type=notify" in open(UNIT).read(), "the unit is not Type=notify")
    pid1 = open("/proc/1/comm").read().strip()
    print(f"PID 1 is {pid1}: {'systemd runs' if pid1 == 'systemd' else 'no systemd; the unit is checked offline'}")
    r = run(["systemd-analyze", "verify", UNIT], check=False)
    print(f"systemd-analyze verify: exit {r.returncode} {r.stdout.strip()}")
    expect(r.returncode == 0, "systemd-analyze verify failed")
    run(["man", "-l", "--warnings", "/usr/share/man/man1/pgopt.1.gz"], env={**os.environ, "MANPAGER": "cat"})


def serve_through_package(env, tmp):
    port = free_port()
    with open(CONFIG) as f:
        text = f.read()
    text = text.replace("\nlisten_port = 6432\n", f"\nlisten_port = {port}\n")
    expect(f"listen_port = {port}" in text, "listen_port not found in the packaged config")
    text += f'\n[databases.pgopt_test]\nhost = "127.0.0.1"\nport = {env["PGOPT_PRIMARY_PORT"]}\n'
    with open(CONFIG, "w") as f:
        f.write(text)
    with open(USERS, "a") as f:
        f.write(f'"scram_user" "{env["PGOPT_SCRAM_PASSWORD"]}"\n')
    run(["pgopt", "check-config", CONFIG])

    exec_start = [l[len("ExecStart="):] for l in open(UNIT).read().splitlines() if l.startswith("ExecStart=")]
    expect(len(exec_start) == 1, f"one ExecStart expected: {exec_start}")
    os.chmod(tmp, 0o755)
    notify = NotifySocket(tmp)
    log = open(os.path.join(tmp, "pgopt.log"), "w+")
    cmd = ["setpriv", "--reuid=pgopt", "--regid=pgopt", "--init-groups", "--"] + shlex.split(exec_start[0])
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                            env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path})
    try:
        notify.wait_for("READY=1")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # READY means listening: the very first connect succeeds
        uid = [l.split()[1] for l in open(f"/proc/{proc.pid}/status") if l.startswith("Uid:")][0]
        expect(int(uid) == pwd.getpwnam("pgopt").pw_uid, f"pgopt runs as uid {uid}")
        conn = f"host=127.0.0.1 port={port} dbname=pgopt_test user=scram_user"
        r = run(["psql", "-X", "-At", conn, "-c", "SELECT current_user, 40 + 2"],
                env={**os.environ, "PGPASSWORD": env["PGOPT_SCRAM_PASSWORD"]})
        expect(r.stdout.strip() == "scram_user|42", f"query through the packaged pooler: {r.stdout}")
        proc.send_signal(signal.SIGHUP)
        seen = notify.wait_for("READY=1")
        expect(any("RELOADING=1" in m.split("\n") for m in seen), f"no RELOADING=1 before READY=1: {seen}")
        proc.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING=1")
        expect(proc.wait(timeout=40) == 0, "pgopt did not exit 0 after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        print("pgopt's log:\n" + log.read())


def main():
    src, build, cluster_env = sys.argv[1:4]
    if os.environ.get("PGOPT_PACKAGE_TEST") != "1":
        print("package test: installs a system package; set PGOPT_PACKAGE_TEST=1 to run it; skipped")
        return SKIP
    if os.geteuid() != 0:
        print("package test: needs root (dpkg -i); skipped")
        return SKIP
    if installed():
        print("package test: a pgopt package is installed already; not replacing it; skipped")
        return SKIP
    env = read_env(cluster_env)
    out = run(["bash", os.path.join(src, "scripts/package.sh"), build]).stdout
    deb = out.rstrip("\n").splitlines()[-1]
    print(f"package: {deb}")
    check_package_file(src, deb)

    probe = ["/usr/bin/pgopt", "/etc/pgopt", "/usr/share/doc/pgopt", UNIT]
    expect(not any(os.path.lexists(p) for p in probe), f"leftovers of an earlier install: {probe}")
    run(["dpkg", "-i", deb])
    try:
        paths = [p for p in run(["dpkg-query", "-L", "pgopt"]).stdout.splitlines() if p.startswith("/")]
        ours = [p for p in paths if not os.path.isdir(p) or p.rstrip("/").endswith("pgopt")]
        check_installed()
        with tempfile.TemporaryDirectory(prefix="pgopt-pkg-") as tmp:
            serve_through_package(env, tmp)
    finally:
        run(["dpkg", "--purge", "pgopt"])
    left = [p for p in ours + probe if os.path.lexists(p)]
    expect(not left, f"dpkg --purge left {left}")
    expect(not installed(), "pgopt still known to dpkg after --purge")
    print("package test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
