#!/usr/bin/python3
# Prisma-style client on raw libpq (psycopg.pq): DEALLOCATE ALL between transactions, then re-prepare s0..s4.
import sys

sys.dont_write_bytecode = True  # the source tree stays clean when the tests import workload.py


from psycopg import pq  # noqa: E402

from workload import (AUTOCOMMIT_ECHO, INSERT_ROW, SELECT_ROW, SUM_MINE, UPDATE_HITS,  # noqa: E402
                      Mismatch, expect, key, my_range, my_totals, new_id, new_n, run_threaded_clients)

NAME = "prisma-style"
STATEMENTS = (SELECT_ROW, UPDATE_HITS, INSERT_ROW, SUM_MINE, AUTOCOMMIT_ECHO)


def b(v):
    return str(v).encode()


class Client:
    def __init__(self, args, c, stop):
        self.args, self.c, self.stop = args, c, stop
        self.checks = self.transactions = 0
        self.pids = set()
        self.error = None
        self.conn = None

    def run(self):
        try:
            self._work()
        except Exception as e:  # reported by main; the others stop at their next iteration
            self.error = e
            self.stop.set()
        finally:
            if self.conn is not None:
                self.conn.finish()

    def _ok(self, res, want, where):
        if res.status != want:
            status = pq.ExecStatus(res.status).name
            raise Mismatch(f"{where}: {status}: {res.error_message.decode(errors='replace').strip()}")
        return res

    def _exec(self, sql, where):
        return self._ok(self.conn.exec_(sql.encode()), pq.ExecStatus.COMMAND_OK, where)

    def _run(self, name, values, want, where):
        return self._ok(self.conn.exec_prepared(name, [b(v) for v in values]), want, where)

    def _work(self):
        a, c = self.args, self.c
        conninfo = f"host={a.host} port={a.port} user={a.user} dbname={a.db} connect_timeout=30"
        self.conn = pq.PGconn.connect(conninfo.encode())
        if self.conn.status != pq.ConnStatus.OK:
            raise Mismatch(f"client {c}: connect: {self.conn.error_message.decode(errors='replace').strip()}")
        lo, hi = my_range(c)
        # Names follow each client's own history, as Prisma's s<n> do: s0 is a different
        # statement on different clients (see workload.warmups for why that matters).
        s = [b(f"s{(n + c) % len(STATEMENTS)}") for n in range(len(STATEMENTS))]
        tuples, command = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK
        for i in range(a.iterations):
            if self.stop.is_set():
                return
            where = f"client {c} iteration {i}"
            k = key(c, i)
            # What Prisma does to start from a clean slate; afterwards this client's names are gone.
            res = self._exec("DEALLOCATE ALL", where + ": DEALLOCATE ALL")
            expect(res.command_status, b"DEALLOCATE ALL", where + ": DEALLOCATE ALL tag")
            res = self.conn.exec_prepared(s[0], [b(k)])
            expect((res.status, res.error_field(pq.DiagnosticField.SQLSTATE)),
                   (pq.ExecStatus.FATAL_ERROR, b"26000"), where + ": SELECT statement after DEALLOCATE ALL")
            for n, sql in enumerate(STATEMENTS):
                self._ok(self.conn.prepare(s[n], sql.format(t=a.table).encode()), command,
                         f"{where}: prepare {s[n].decode()}")
            # Prisma describes each statement to learn its parameter and column types.
            res = self._ok(self.conn.describe_prepared(s[0]), command, where + ": describe")
            expect((res.nparams, [res.fname(f) for f in range(res.nfields)]), (1, [b"val", b"n"]),
                   where + ": describe SELECT shape")

            self._exec("BEGIN", where + ": BEGIN")
            res = self._run(s[0], [k], tuples, where + ": SELECT")
            expect([(res.get_value(r, 0), res.get_value(r, 1)) for r in range(res.ntuples)],
                   [(b(f"v{k}"), b(7 * k))], where + ": SELECT row")
            res = self._run(s[1], [k], command, where + ": UPDATE")
            expect(res.command_tuples, 1, where + ": UPDATE count")
            res = self._run(s[2], [new_id(c, i), f"c{c}-i{i}", new_n(c, i)], command, where + ": INSERT")
            expect(res.command_tuples, 1, where + ": INSERT count")
            res = self._run(s[3], [lo, hi], tuples, where + ": count/sum")
            count, total = my_totals(c, i)
            expect((res.get_value(0, 0), res.get_value(0, 1)), (b(count), b(total)), where + ": count/sum of own rows")
            self._exec("COMMIT", where + ": COMMIT")
            res = self._run(s[4], [i, f"x{c}"], tuples, where + ": echo")
            expect((res.get_value(0, 0), res.get_value(0, 1)), (b(2 * i), b(f"x{c}")), where + ": autocommit echo")
            self.pids.add(res.get_value(0, 2))
            self.checks += 8
            self.transactions += 1


def main():
    run_threaded_clients(NAME, "Prisma-style DEALLOCATE ALL / re-prepare workload on libpq", Client)


if __name__ == "__main__":
    main()
