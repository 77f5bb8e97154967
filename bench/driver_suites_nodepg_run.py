#!/usr/bin/env python3
"""node-postgres's own `pg` test suite (packages/pg/test/integration) against one target.

Usage: bench/driver_suites_nodepg_run.py TARGET PORT SUITE_DIR OUT_DIR
  SUITE_DIR: the `pg` package from npm with the test/ tree of the same git tag next to its lib/
    (bench/driver_suites.sh prepares it: `npm pack pg@VERSION`, `git archive pg@VERSION:packages/pg
    test` from a clone of github:brianc/node-postgres, `npm install --ignore-scripts`).
  The target (127.0.0.1:PORT, database pgopt_test, user postgres as in node-postgres's CI) is started
  by the caller. Writes OUT_DIR/TARGET.xml (JUnit) and OUT_DIR/TARGET.log. Bounded: each file by
  FILE_TIMEOUT (60 s; the node process is killed), the run by TOTAL_TIMEOUT (900 s; files not
  started by then are recorded as not run).

node-postgres runs each test file as its own node process (`make test-integration`: one file after
another); its runner prints "  <test> ✔" per passed test and stops the file at the first failure
("FAILED!", exit status 255). So each file is run here the same way, bounded by FILE_TIMEOUT
seconds (default 60); a test after the failing one in the same file is recorded as an error "not run"
so that the comparison between targets sees it; a file that fails outside a named test (an uncaught
exception, a timeout) gets a test case "(file)" carrying that failure.
"""
import os, re, subprocess, sys, time
import xml.etree.ElementTree as ET

target, port, suite, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
file_timeout = int(os.environ.get("FILE_TIMEOUT", "60"))
deadline = time.monotonic() + int(os.environ.get("TOTAL_TIMEOUT", "900"))
os.makedirs(out, exist_ok=True)
env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(port), PGUSER="postgres",
           PGDATABASE="pgopt_test", PGTESTNOSSL="true")
for k in ("PGPASSWORD", "SCRAM_TEST_PGUSER", "SCRAM_TEST_PGPASSWORD"):
    env.pop(k, None)

files = sorted(os.path.relpath(os.path.join(d, f), suite)
               for d, _, fs in os.walk(os.path.join(suite, "test", "integration"))
               for f in fs if f.endswith("-tests.js"))
root = ET.Element("testsuite", name=f"pg {target}")
log = open(os.path.join(out, f"{target}.log"), "w")
# A test line: two spaces, the name, a space, then one of the three outcomes.
line_re = re.compile(r"^  (.*?) (✔|FAILED!|\? - SKIPPED)$")

def names_in_order(path):
    """The names a file declares with suite.test('...'), in order (to name the tests not run)."""
    src = open(os.path.join(suite, path), encoding="utf-8").read()
    return re.findall(r"suite\.test(?:Async)?\(\s*(['\"`])(.*?)\1", src, re.S)

for path in files:
    t0 = time.monotonic()
    if t0 + file_timeout > deadline:  # the whole run is bounded too: the rest is recorded, not run
        tc = ET.SubElement(root, "testcase", classname=path, name="(file)")
        ET.SubElement(tc, "error", message="not run: TOTAL_TIMEOUT reached")
        continue
    try:
        p = subprocess.run(["node", path], cwd=suite, env=env, capture_output=True,
                           timeout=file_timeout)
        text, rc, timed_out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"), p.returncode, False
    except subprocess.TimeoutExpired as e:  # subprocess.run kills the child it started
        text = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
        rc, timed_out = None, True
    secs = time.monotonic() - t0
    log.write(f"==== {path} rc={rc} {secs:.1f}s{' TIMEOUT' if timed_out else ''}\n{text}\n")
    seen, failed_at = [], None
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        m = line_re.match(ln)
        if not m:
            continue
        name, outcome = m.group(1), m.group(2)
        tc = ET.SubElement(root, "testcase", classname=path, name=name)
        seen.append(name)
        if outcome == "FAILED!":
            msg = next((l.strip() for l in lines[i + 1:] if l.strip()), "")
            ET.SubElement(tc, "failure", message=msg[:300]).text = "\n".join(lines[i + 1:i + 30])
            failed_at = name
        elif outcome != "✔":
            ET.SubElement(tc, "skipped")
    ok = rc == 0 and not timed_out
    declared = [n for _, n in names_in_order(path)]
    if not ok and failed_at is None:
        # A test that was running when the file died prints its name and no outcome (the error's
        # text follows on the same line): the failure is that test's.
        for i, ln in enumerate(lines):
            running = next((n for n in declared if n not in seen and ln.startswith("  " + n + " ")), None)
            if running is not None:
                rest = ln[len(running) + 3:].strip()
                msg = rest or next((l.strip() for l in lines[i + 1:] if l.strip()), "")
                if timed_out:
                    msg = f"file timeout after {file_timeout}s"
                tc = ET.SubElement(root, "testcase", classname=path, name=running)
                ET.SubElement(tc, "failure", message=msg[:300]).text = "\n".join(lines[i:i + 30])
                seen.append(running)
                failed_at = running
                break
    if not ok and failed_at is None:
        # The file failed outside a test the runner printed (uncaught error, assert in a callback,
        # timeout): one case for the file; its last lines are the reason.
        tail = [l for l in lines if l.strip()][-12:]
        why = "timeout after %ds" % file_timeout if timed_out else f"exit {rc}: " + next(
            (l.strip() for l in tail if re.search(r"Error|assert|Message", l)), tail[-1].strip() if tail else "")
        tc = ET.SubElement(root, "testcase", classname=path, name="(file)")
        ET.SubElement(tc, "failure", message=why[:300]).text = "\n".join(tail)
    elif ok and not seen:  # a file of plain asserts, no named tests: the file is the test
        ET.SubElement(root, "testcase", classname=path, name="(file)")
    if not ok:
        for name in declared:
            if name not in seen:
                tc = ET.SubElement(root, "testcase", classname=path, name=name)
                ET.SubElement(tc, "error", message="not run: the file stopped before it")
log.close()
ET.ElementTree(root).write(os.path.join(out, f"{target}.xml"), encoding="utf-8", xml_declaration=True)
