// node-postgres (pg@8) named queries ({name, text, values}) in transactions and in autocommit, checked.
'use strict';

// The workload is the one of workload.py (see README.md); its constants must agree with it.
const { Client } = require('pg');

const NAME = 'node-postgres';
const PRELOADED = 1000;
const INSERT_BASE = 1000000;
const PER_CLIENT = 10000;

class Mismatch extends Error {}

function expect(got, want, where) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Mismatch(`${where}: expected ${w}, got ${g}`);
}

const key = (c, i) => ((c * 37 + i * 11) % PRELOADED) + 1;

function usage() {
  console.error('usage: node_prepared.js HOST PORT USER DB TABLE CLIENTS ITERATIONS [TIMEOUT_SECONDS]');
  process.exit(2);
}

async function runClient(opts, t, c, iterations, state) {
  const pids = new Set();
  const client = new Client({ ...opts, connectionTimeoutMillis: 30000, query_timeout: 60000 });
  await client.connect();
  const q = (name, text, values) => client.query({ name, text, values, rowMode: 'array' });
  const lo = INSERT_BASE + c * PER_CLIENT, hi = lo + PER_CLIENT;
  try {
    // The same names with client-specific text on client % 3 clients' connections: a name means
    // different statements on different clients (workload.py's warmups() says why).
    for (let j = 0; j < c % 3; ++j) {
      const added = c * 10 + j;
      const r = await q(`warm${j}`, `SELECT $1::int + ${added}`, [c]);
      expect(r.rows, [[c + added]], `client ${c}: warm-up ${j}`);
      state.checks += 1;
    }
    for (let i = 0; i < iterations && !state.stop; ++i) {
      const where = `client ${c} iteration ${i}`;
      const k = key(c, i);
      await client.query('BEGIN');
      let r = await q('sel_row', `SELECT val, n FROM ${t} WHERE id = $1`, [k]);
      expect(r.rows, [[`v${k}`, String(7 * k)]], `${where}: SELECT`);  // int8 arrives as a string
      r = await q('upd_hits', `UPDATE ${t} SET hits = hits + 1 WHERE id = $1`, [k]);
      expect(r.rowCount, 1, `${where}: UPDATE count`);
      r = await q('ins_row', `INSERT INTO ${t} (id, val, n) VALUES ($1, $2, $3)`, [lo + i, `c${c}-i${i}`, c * 1000 + i]);
      expect(r.rowCount, 1, `${where}: INSERT count`);
      r = await q('sum_mine', `SELECT count(*), sum(n)::bigint FROM ${t} WHERE id >= $1 AND id < $2`, [lo, hi]);
      const rows = i + 1;
      expect(r.rows, [[String(rows), String(rows * c * 1000 + (i * (i + 1)) / 2)]], `${where}: count/sum of own rows`);
      await client.query('COMMIT');
      // Autocommit between transactions: the next statement may land on any server.
      r = await q('echo', 'SELECT $1::int * 2, $2::text, pg_backend_pid()', [i, `x${c}`]);
      expect(r.rows.map((row) => row.slice(0, 2)), [[2 * i, `x${c}`]], `${where}: autocommit echo`);
      pids.add(r.rows[0][2]);
      state.checks += 5;
      state.transactions += 1;
    }
  } finally {
    await client.end();
  }
  if (pids.size > 1) state.moved += 1;  // this client's statements ran on more than one server
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length < 7 || argv.length > 8) usage();
  const [host, port, user, database, table] = argv;
  const clients = Number(argv[5]), iterations = Number(argv[6]);
  const timeoutS = argv.length === 8 ? Number(argv[7]) : 100;
  if (!(clients >= 1) || !(iterations >= 1 && iterations <= PER_CLIENT)) usage();
  // A lost reply would hang a driver forever; the run gives up with a clear line instead.
  setTimeout(() => {
    console.log(`FAIL: ${NAME} did not finish within ${timeoutS} s`);
    process.exit(3);
  }, timeoutS * 1000);

  const state = { checks: 0, transactions: 0, moved: 0, stop: false };
  const opts = { host, port: Number(port), user, database };
  const results = await Promise.allSettled(
    Array.from({ length: clients }, (_, c) =>
      runClient(opts, table, c, iterations, state).catch((e) => {
        state.stop = true;
        throw e;
      })));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    const e = failed.reason;
    console.log(`FAIL: ${NAME}: ${e && e.constructor ? e.constructor.name : 'Error'}: ${e && e.message}`);
    process.exit(1);
  }
  console.log(`${NAME}: verified ${state.checks} checks in ${state.transactions} transactions; ` +
              `${state.moved} of ${clients} clients moved between servers`);
  process.exit(0);
}

main().catch((e) => {
  console.log(`FAIL: ${NAME}: ${e && e.stack}`);
  process.exit(1);
});
