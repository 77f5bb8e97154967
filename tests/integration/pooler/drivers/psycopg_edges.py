#!/usr/bin/python3
# psycopg 3 behaviours a transaction pooler must keep (issue 22), one scenario per run:
#   psycopg_edges.py SCENARIO HOST PORT USER DB TABLE
# Prints "OK SCENARIO ..." and exits 0, or prints "FAIL: ..." and exits 1 at the first surprise.
import sys

import psycopg
from psycopg import errors


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def expect(got, want, what):
    if got != want:
        fail(f"{what}: expected {want!r}, got {got!r}")


def connect(a, **kw):
    return psycopg.connect(host=a.host, port=a.port, user=a.user, dbname=a.db, connect_timeout=30, **kw)


def executemany_duplicate(a):
    """A 5,000-row executemany (psycopg pipelines it) with a duplicate key early: the server fails
    the 11th row and skips everything the client sent before its Sync."""
    rows = [(i,) for i in range(1, 5001)]
    rows.insert(11, (10,))
    with connect(a) as conn:
        for attempt in range(3):
            with conn.cursor() as cur:
                try:
                    cur.executemany(f"INSERT INTO {a.table} (id) VALUES (%s)", rows)
                    fail(f"attempt {attempt}: executemany with a duplicate key raised nothing")
                except errors.UniqueViolation:
                    pass
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM {a.table}")
                expect(cur.fetchone(), (0,), f"attempt {attempt}: rows left by the failed batch")
            conn.rollback()
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.executemany(f"INSERT INTO {a.table} (id) VALUES (%s)", rows)
                fail("autocommit: executemany with a duplicate key raised nothing")
            except errors.UniqueViolation:
                pass
            cur.execute("SELECT 'usable'")
            expect(cur.fetchone(), ("usable",), "autocommit: after the violation")
    print("OK executemany_duplicate", flush=True)


def pipeline_error(a):
    """Explicit pipelines: an error in the middle, statements after it, then more work."""
    with connect(a, autocommit=True) as conn:
        for attempt in range(20):
            try:
                with conn.pipeline():
                    with conn.cursor() as cur:
                        for i in range(50):
                            cur.execute("SELECT %s::int / (%s::int - 25)", (i, i))
                fail(f"attempt {attempt}: division by zero raised nothing")
            except errors.DivisionByZero:
                pass
            with conn.pipeline(), conn.cursor() as cur:
                cur.execute("SELECT %s::int + 1", (attempt,))
                expect(cur.fetchone(), (attempt + 1,), f"attempt {attempt}: after the failed pipeline")
    print("OK pipeline_error", flush=True)


def prepared_lru(a):
    """psycopg's statement cache evicting: DEALLOCATE sent with the extended protocol, in and out of
    pipelines, with prepare_threshold=0 so that every query is a named statement."""
    with connect(a, autocommit=True, prepare_threshold=0) as conn:
        conn.prepared_max = 5
        for rnd in range(3):
            for k in range(30):
                with conn.cursor() as cur:
                    cur.execute(f"SELECT %s::int + {k}", (rnd,))
                    expect(cur.fetchone(), (rnd + k,), f"round {rnd} statement {k}")
            with conn.pipeline(), conn.cursor() as cur:
                for k in range(30):
                    cur.execute(f"SELECT %s::int * {k + 1}", (rnd,))
                    expect(cur.fetchone(), (rnd * (k + 1),), f"pipelined round {rnd} statement {k}")
    print("OK prepared_lru", flush=True)


def reserved_names(a):
    """A client cannot drop or run the statements the pooler shares (pgopt_N) however it asks."""
    with connect(a, autocommit=True, prepare_threshold=0) as other, connect(a, autocommit=True) as conn:
        with other.cursor() as cur:
            cur.execute("SELECT %s::int + 100", (1,))
            expect(cur.fetchone(), (101,), "other client: first use")
        attempts = [("simple", "DEALLOCATE pgopt_1", False), ("simple, prepare keyword", "DEALLOCATE PREPARE pgopt_1", False),
                    ("multi-statement", "SELECT 1; DEALLOCATE pgopt_1", False),
                    ("extended", "DEALLOCATE pgopt_1", True), ("execute, extended", "EXECUTE pgopt_1(1)", True)]
        for what, sql, extended in attempts:
            with conn.cursor() as cur:
                try:
                    if extended:
                        with conn.pipeline():
                            cur.execute(sql)
                    else:
                        cur.execute(sql)
                    fail(f"{what}: {sql!r} succeeded")
                except errors.InvalidSqlStatementName as e:
                    if "pgopt_1" not in str(e):
                        fail(f"{what}: the error names another statement: {e}")
            with other.cursor() as cur:
                cur.execute("SELECT %s::int + 100", (2,))
                expect(cur.fetchone(), (102,), f"other client after {what}")
        # DEALLOCATE ALL from this client leaves the other's statements alone too.
        conn.execute("DEALLOCATE ALL")
        with conn.pipeline():
            conn.execute("DEALLOCATE ALL")
        with other.cursor() as cur:
            cur.execute("SELECT %s::int + 100", (3,))
            expect(cur.fetchone(), (103,), "other client after DEALLOCATE ALL")
    print("OK reserved_names", flush=True)


def deallocate_extended(a):
    """DEALLOCATE of the client's own statements by the extended protocol, then the same names again."""
    with connect(a, autocommit=True) as conn, conn.cursor() as cur:
        for rnd in range(3):
            cur.execute("PREPARE mine AS SELECT $1::int * 3")  # no parameters: a simple query
            with conn.pipeline():  # the extended protocol
                cur.execute(f"EXECUTE mine({rnd})")
                expect(cur.fetchone(), (3 * rnd,), f"round {rnd}: EXECUTE")
            cur.execute("DEALLOCATE mine" if rnd % 2 else "DEALLOCATE ALL", prepare=False)
            # prepare=False: executed 5 times, psycopg would make these texts named statements, and a
            # named statement whose text is DEALLOCATE/PREPARE runs on the server as it is (not done yet).
            with conn.pipeline():
                cur.execute("PREPARE mine AS SELECT 1", prepare=False)
                cur.execute("DEALLOCATE mine", prepare=False)
            try:
                with conn.pipeline():
                    cur.execute("DEALLOCATE mine", prepare=False)
                fail(f"round {rnd}: DEALLOCATE of a gone statement succeeded")
            except errors.InvalidSqlStatementName as e:
                if '"mine"' not in str(e):
                    fail(f"round {rnd}: the error names another statement: {e}")
    print("OK deallocate_extended", flush=True)


def named_commands(a):
    """DEALLOCATE / PREPARE / EXECUTE as the text of a named statement (prepare=True here; psycopg
    prepares any text it runs prepare_threshold times): each run acts on the client's own names."""
    with connect(a, autocommit=True, prepare_threshold=0) as other, connect(a, autocommit=True) as conn:
        cur = conn.cursor()
        for rnd in range(3):
            cur.execute("PREPARE mine AS SELECT 3 * 2", prepare=True)
            cur.execute("EXECUTE mine", prepare=True)
            expect(cur.fetchone(), (6,), f"round {rnd}: EXECUTE by a named statement")
            with other.cursor() as oc:
                oc.execute("SELECT %s::int + 200", (rnd,))
                expect(oc.fetchone(), (200 + rnd,), f"round {rnd}: other client")
            cur.execute("DEALLOCATE mine", prepare=True)
            try:
                cur.execute("DEALLOCATE mine", prepare=True)  # the same named statement again
                fail(f"round {rnd}: DEALLOCATE of a gone statement succeeded")
            except errors.InvalidSqlStatementName as e:
                if '"mine"' not in str(e):
                    fail(f"round {rnd}: the error names another statement: {e}")
            try:
                cur.execute("EXECUTE mine", prepare=True)
                fail(f"round {rnd}: EXECUTE after DEALLOCATE succeeded")
            except errors.InvalidSqlStatementName as e:
                if '"mine"' not in str(e):
                    fail(f"round {rnd}: the error names another statement: {e}")
        with other.cursor() as oc:
            oc.execute("SELECT %s::int + 200", (9,))
            expect(oc.fetchone(), (209,), "other client at the end")
    print("OK named_commands", flush=True)


def both_servers_free(a, what):
    """Two more clients each hold a transaction at once: only possible when no client keeps one of
    the pool's two servers (the pooler's query_wait_timeout fails the second otherwise)."""
    with connect(a) as x, connect(a) as y:
        px = x.execute("SELECT pg_backend_pid()").fetchone()[0]
        py = y.execute("SELECT pg_backend_pid()").fetchone()[0]
        if px == py:
            fail(f"{what}: two open transactions on one server")
        for c in (x, y):
            expect(c.execute("SELECT count(*) FROM pg_cursors").fetchone(), (0,), f"{what}: cursors left on a server")


def hold_cursor(a):
    """A WITH HOLD cursor read across transactions while another client takes servers in between;
    closing it (or leaving) gives the server back. Needs a pool of two servers."""
    with connect(a, autocommit=True) as conn, connect(a) as other:
        cur = conn.cursor("held", withhold=True)
        cur.execute("SELECT g FROM generate_series(1, 100) g")
        mine = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        got = []
        for i in range(10):
            # Between our transactions another client holds one open: it must get the other server.
            theirs = other.execute("SELECT pg_backend_pid()").fetchone()[0]
            if theirs == mine:
                fail(f"fetch {i}: another client got the server our hold cursor lives on")
            got += [r[0] for r in cur.fetchmany(10)]
            expect(conn.execute("SELECT pg_backend_pid()").fetchone()[0], mine, f"fetch {i}: our server")
            other.commit()
        expect(got, list(range(1, 101)), "rows read through the hold cursor")
        cur.close()
    both_servers_free(a, "after CLOSE")
    # Declared in a transaction that rolls back: nothing to keep.
    with connect(a) as conn:
        conn.execute("DECLARE gone CURSOR WITH HOLD FOR SELECT 1")
        conn.rollback()
        both_servers_free(a, "after a rolled-back DECLARE")
    # Left open by a client that goes away: the server is reset before anyone else gets it.
    with connect(a, autocommit=True) as conn:
        conn.execute("DECLARE left_open CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g")
        expect(conn.execute("FETCH 2 FROM left_open").fetchall(), [(1,), (2,)], "left_open")
    both_servers_free(a, "after the client left")
    print("OK hold_cursor", flush=True)


def prepared_visibility(a):
    """pg_prepared_statements lists this client's statements under its names, and no other client's."""
    with connect(a, autocommit=True, prepare_threshold=0) as other, \
            connect(a, autocommit=True, prepare_threshold=0) as conn:
        expect(other.execute("SELECT %s::int + 1000 AS other_secret", (1,)).fetchone(), (1001,), "other client")
        for k in range(3):
            expect(conn.execute(f"SELECT %s::int + {k} AS mine", (k,)).fetchone(), (2 * k,), f"statement {k}")
        check = "SELECT name, statement FROM pg_prepared_statements ORDER BY name"
        seen = [conn.execute(check, prepare=False).fetchall()]
        with conn.pipeline(), conn.cursor() as cur:  # the extended protocol
            cur.execute(check, prepare=False)
            seen.append(cur.fetchall())
        for how, rows in zip(("simple query", "pipeline"), seen):
            if len(rows) != 3 or any(not name.startswith("_pg3_") or "AS mine" not in text for name, text in rows):
                fail(f"{how}: pg_prepared_statements shows {rows!r}, expected this client's 3 statements")
    print("OK prepared_visibility", flush=True)


def view_at_execute(a):
    """psycopg's test_auto_prepare: a statement it prepares at the 6th run, counting
    pg_prepared_statements, counts itself (the view is read at each Execute, as directly); a statement
    prepared later shows at its next run; and no other client's statement shows, through SQL
    PREPARE/EXECUTE either."""
    with connect(a, autocommit=True, prepare_threshold=0) as other, connect(a, autocommit=True) as conn:
        expect(other.execute("SELECT %s::int + 2000 AS other_secret", (1,)).fetchone(), (2001,), "other client")
        conn.prepare_threshold = 5
        q = "select count(*) from pg_prepared_statements where name != ''"
        with conn.pipeline():
            cursors = [conn.execute(q) for _ in range(10)]
        expect([c.fetchone()[0] for c in cursors], [0] * 5 + [1] * 5, "counts in the pipeline")
        expect(conn.execute("SELECT %s::int AS later", (7,), prepare=True).fetchone(), (7,), "later statement")
        expect(conn.execute(q).fetchone(), (2,), "count after a later statement")
        conn.execute("PREPARE v AS SELECT name, statement FROM pg_prepared_statements")
        rows = conn.execute("EXECUTE v").fetchall()
        if not rows or any("other_secret" in (text or "") or name.startswith("pgopt_") for name, text in rows):
            fail(f"EXECUTE of a PREPAREd view shows {rows!r}")
    print("OK view_at_execute", flush=True)


def on_both_servers(a, sql, params=()):
    """Runs `sql` as a prepared statement in two transactions open at once: on both servers of the pool."""
    with connect(a, prepare_threshold=0) as x, connect(a, prepare_threshold=0) as y:
        for c in (x, y):
            c.execute(sql, params)
        pids = {c.execute("SELECT pg_backend_pid()").fetchone()[0] for c in (x, y)}
        if len(pids) != 2:
            fail("two open transactions on one server")


def stale_after_ddl(a):
    """Statements other clients prepared before DDL: a new client preparing the same text after it
    gets what PostgreSQL gives a fresh session, not a stale shared statement."""
    t = a.table
    with connect(a, autocommit=True) as ddl:
        ddl.execute(f"DROP TABLE IF EXISTS {t}_m; DROP TYPE IF EXISTS {t}_mood")
        ddl.execute(f"CREATE TYPE {t}_mood AS ENUM ('sad', 'ok'); CREATE TABLE {t}_m (m {t}_mood)")
        insert = f"INSERT INTO {t}_m (m) VALUES (%s)"  # psycopg sends str as unknown: the server infers the type
        on_both_servers(a, insert, ("ok",))
        select = f"SELECT * FROM {t}"
        on_both_servers(a, select)
        # The parameter's type is dropped and made again (new OID); the table changes shape.
        ddl.execute(f"DROP TABLE {t}_m; DROP TYPE {t}_mood")
        ddl.execute(f"CREATE TYPE {t}_mood AS ENUM ('sad', 'ok'); CREATE TABLE {t}_m (m {t}_mood)")
        ddl.execute(f"ALTER TABLE {t} ADD COLUMN extra text DEFAULT 'x'")
        ddl.execute(f"INSERT INTO {t} (id) VALUES (1)")
        for i in range(4):  # new clients, each preparing and running in one batch
            with connect(a, autocommit=True, prepare_threshold=0) as conn:
                conn.execute(insert, ("sad",))
                expect(conn.execute(select).fetchall(), [(1, "x")], f"client {i}: SELECT * after ADD COLUMN")
        with connect(a, autocommit=True) as conn:
            expect(conn.execute(f"SELECT count(*) FROM {t}_m").fetchone(), (4,), "rows inserted after the DDL")
        ddl.execute(f"DROP TABLE {t}_m; DROP TYPE {t}_mood")
    print("OK stale_after_ddl", flush=True)


def stale_in_transaction(a):
    """Statements whose parameter type was dropped, used inside a transaction block, where the stale
    statement's error could not be retried: psycopg's own test_change_type* (a type made and rolled
    back, dropped and made again, made in a savepoint rolled back) and another client's DDL between
    two transactions that run on both servers of the pool."""
    t = a.table
    typ, tab = f"{t}_st", f"{t}_stt"
    insert = f"INSERT INTO {tab} (bar) VALUES (%(v)s::{typ}[])"
    with connect(a, autocommit=True) as ddl:
        ddl.execute(f"DROP TABLE IF EXISTS {tab}; DROP TYPE IF EXISTS {typ}")
    with connect(a, prepare_threshold=0) as conn:
        for i in range(3):  # test_change_type_execute: each round's type is gone at its rollback
            conn.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
            conn.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
            conn.execute(insert, {"v": ["foo"]})
            conn.rollback()
        # test_change_type: dropped and made again in one transaction.
        conn.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
        conn.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
        conn.execute(insert, {"v": ["foo"]})
        conn.execute(f"DROP TABLE {tab}")
        conn.execute(f"DROP TYPE {typ}")
        conn.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
        conn.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
        conn.execute(insert, {"v": ["bar"]})
        conn.rollback()
        with conn.transaction():  # test_change_type_savepoint
            for i in range(3):
                try:
                    with conn.transaction():
                        conn.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
                        conn.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
                        conn.execute(insert, {"v": ["foo"]})
                        raise ZeroDivisionError()
                except ZeroDivisionError:
                    pass
    # Another client's DDL: both servers hold the statement from before it; new transactions use it.
    with connect(a, autocommit=True) as ddl:
        ddl.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar'); CREATE TABLE {tab} (id int, bar {typ}[])")
        on_both_servers(a, insert, {"v": ["foo"]})
        ddl.execute(f"DROP TABLE {tab}; DROP TYPE {typ}")
        ddl.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar'); CREATE TABLE {tab} (id int, bar {typ}[])")
        for round in range(2):
            on_both_servers(a, insert, {"v": ["bar"]})
        ddl.execute(f"DROP TABLE {tab}; DROP TYPE {typ}")
    print("OK stale_in_transaction", flush=True)


def stale_after_abandoned_transaction(a):
    """A client drops and makes again a type, prepares a statement using it, and disconnects inside
    that transaction (psycopg's test_change_type leaves it so); pgopt rolls the transaction back,
    so the type is gone. Clients that then prepare the same text on either server, inside a
    savepoint as test_change_type_savepoint does, must get a fresh statement, not the dead one."""
    t = a.table
    typ, tab = f"{t}_ab", f"{t}_abt"
    insert = f"INSERT INTO {tab} (bar) VALUES (%(v)s::{typ}[])"
    with connect(a, autocommit=True) as ddl:
        ddl.execute(f"DROP TABLE IF EXISTS {tab}; DROP TYPE IF EXISTS {typ}")
    for rnd in range(2):
        gone = connect(a, prepare_threshold=0)
        for step in range(2):
            if step:
                gone.execute(f"DROP TABLE {tab}")
                gone.execute(f"DROP TYPE {typ}")
            gone.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
            gone.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
            gone.execute(insert, {"v": ["foo"]})
        gone_pid = gone.execute("SELECT pg_backend_pid()").fetchone()[0]
        gone.close()  # in the transaction: pgopt rolls it back on its server
        # Two transactions open at once: one on each server, the salvaged one included. It goes
        # first: a rollback to savepoint on the other server would outdate the statement anyway.
        with connect(a, prepare_threshold=0) as x, connect(a, prepare_threshold=0) as y:
            pids = [c.execute("SELECT pg_backend_pid()").fetchone()[0] for c in (x, y)]
            if pids[0] == pids[1]:
                fail("two open transactions on one server")
            if gone_pid not in pids:
                fail("neither transaction runs on the server the gone client left")
            for c in (x, y) if pids[0] == gone_pid else (y, x):
                try:
                    with c.transaction():
                        c.execute(f"CREATE TYPE {typ} AS ENUM ('foo', 'bar')")
                        c.execute(f"CREATE TABLE {tab} (id int, bar {typ}[])")
                        c.execute(insert, {"v": ["foo"]})
                        raise ZeroDivisionError()
                except ZeroDivisionError:
                    pass
            for c in (x, y):
                c.commit()
    print("OK stale_after_abandoned_transaction", flush=True)


SCENARIOS = {f.__name__: f for f in (executemany_duplicate, pipeline_error, prepared_lru, reserved_names,
                                      deallocate_extended, named_commands, hold_cursor, prepared_visibility,
                                      stale_after_ddl, stale_in_transaction, stale_after_abandoned_transaction,
                                      view_at_execute)}


class Args:
    def __init__(self, argv):
        self.scenario, self.host, port, self.user, self.db, self.table = argv[1:7]
        self.port = int(port)


if __name__ == "__main__":
    args = Args(sys.argv)
    if args.scenario not in SCENARIOS:
        fail("unknown scenario " + args.scenario)
    try:
        SCENARIOS[args.scenario](args)
    except SystemExit:
        raise
    except Exception as e:  # any driver error is a failure with its text
        fail(f"{args.scenario}: {type(e).__name__}: {e}")
