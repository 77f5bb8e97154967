-- pgbench script for scripts/demo.sh: an order-management app's hot statements. None of them has
-- a fitting index in the demo schema, which is what `pgopt analyze` is expected to find.
\set cid random(1, 20000)
\set oid random(1, 200000)
SELECT id, total, created_at FROM orders WHERE customer_id = :cid ORDER BY created_at DESC LIMIT 10;
SELECT count(*) FROM orders WHERE status = 'pending' AND created_at > now() - interval '1 day';
SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.id = :oid;
UPDATE orders SET status = 'shipped' WHERE id = :oid AND status = 'pending';
SELECT id FROM customers WHERE lower(email) = 'user' || :cid || '@example.com';
