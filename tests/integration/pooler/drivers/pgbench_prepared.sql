-- pgbench -M prepared script; the test substitutes the table name. pgbench cannot compare results
-- itself, so gset brings them back and a wrong value evaluates 1 / 0, which aborts that client.
\set k random(1, 1000)
BEGIN;
SELECT n, (val = 'v' || :k::text)::int AS val_ok FROM {table} WHERE id = :k \gset
\if :val_ok != 1 or :n != 7 * :k
\set wrong_row 1 / 0
\endif
UPDATE {table} SET hits = hits + 1 WHERE id = :k;
END;
SELECT :k::int * 2 AS twice \gset
\if :twice != 2 * :k
\set wrong_echo 1 / 0
\endif
