#!/usr/bin/python3
# asyncpg with its defaults (statement cache on) and an explicit conn.prepare() reused across transactions.
import sys

sys.dont_write_bytecode = True  # the source tree stays clean when the tests import workload.py

import asyncio  # noqa: E402

import asyncpg  # noqa: E402

from workload import (AUTOCOMMIT_ECHO, INSERT_ROW, SELECT_ROW, SUM_MINE, UPDATE_HITS,  # noqa: E402
                      expect, fail, key, warmups, my_range, my_totals, new_id, new_n, parse_args, report,
                      start_watchdog)

NAME = "asyncpg"


async def client(pool, t, c, iterations, counts, pids):
    # One connection per client for the whole run: an explicit prepared statement belongs to it.
    async with pool.acquire() as conn:
        for sql, added in warmups(c):
            expect(await conn.fetchval(sql, c), c + added, f"client {c}: warm-up {sql}")
            counts[0] += 1
        select_row = await conn.prepare(SELECT_ROW.format(t=t))
        expect([a.name for a in select_row.get_attributes()], ["val", "n"], f"client {c}: prepared attributes")
        counts[0] += 1
        lo, hi = my_range(c)
        for i in range(iterations):
            where = f"client {c} iteration {i}"
            k = key(c, i)
            async with conn.transaction():
                row = await select_row.fetchrow(k)
                expect(tuple(row), (f"v{k}", 7 * k), where + ": explicit prepared SELECT")
                # The rest goes through asyncpg's statement cache, prepared on first use.
                expect(await conn.execute(UPDATE_HITS.format(t=t), k), "UPDATE 1", where + ": UPDATE")
                status = await conn.execute(INSERT_ROW.format(t=t), new_id(c, i), f"c{c}-i{i}", new_n(c, i))
                expect(status, "INSERT 0 1", where + ": INSERT")
                row = await conn.fetchrow(SUM_MINE.format(t=t), lo, hi)
                expect(tuple(row), my_totals(c, i), where + ": count/sum of own rows")
            # Autocommit between transactions: the next statement may land on any server.
            row = await conn.fetchrow(AUTOCOMMIT_ECHO, i, f"x{c}")
            expect(tuple(row)[:2], (2 * i, f"x{c}"), where + ": autocommit echo")
            pids.add(row[2])
            counts[0] += 5
            counts[1] += 1


async def run(args):
    pool = await asyncpg.create_pool(host=args.host, port=int(args.port), user=args.user, database=args.db,
                                     min_size=args.clients, max_size=args.clients, command_timeout=60)
    counts = [0, 0]  # checks, transactions
    pids = [set() for _ in range(args.clients)]
    try:
        await asyncio.gather(*(client(pool, args.table, c, args.iterations, counts, pids[c])
                               for c in range(args.clients)))
    except BaseException:
        pool.terminate()  # the other clients stop at once instead of finishing their loops
        raise
    await pool.close()
    return counts[0], counts[1], pids


def main():
    args = parse_args("asyncpg prepared-statement workload")
    start_watchdog(args.timeout, NAME)
    try:
        checks, txns, pids = asyncio.run(run(args))
    except Exception as e:  # any driver or check error ends the run with its text
        fail(NAME, e)
    report(NAME, checks, txns, pids)


if __name__ == "__main__":
    main()
