-- Workload of the advisor quality benchmark: one pgbench script per template (bench/advisor_quality.sh
-- splits this file at each header). Header: "-- template NAME KIND WEIGHT: what it stands for".
-- KIND: read | write | trap (no B-tree index can make it cheap; reported apart). WEIGHT: relative
-- frequency. :sc is the data scale (pgbench -D sc=N). Literal constants that never change between
-- calls are application constants (status names, queues), as in real code.

-- template order_history read 20: a tenant's latest orders (equality + ORDER BY ... LIMIT)
\set a random(1, 1000 * :sc)
SELECT id, status, total, created_at FROM orders WHERE account_id = :a ORDER BY created_at DESC LIMIT 20;

-- template user_orders read 12: a user's latest orders (few rows per user)
\set u random(1, 100000 * :sc)
SELECT id, total, created_at FROM orders WHERE user_id = :u ORDER BY created_at DESC LIMIT 10;

-- template paid_totals read 8: multi-column filter, equality on a tenant and a status
\set a random(1, 1000 * :sc)
SELECT count(*), sum(total) FROM orders WHERE account_id = :a AND status = 'paid';

-- template pending_orders read 6: rare constant (2% of rows), oldest first
SELECT id, account_id, total FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50;

-- template order_by_id read 15: primary key lookup (already indexed)
\set o random(1, 1000000 * :sc)
SELECT * FROM orders WHERE id = :o;

-- template order_lines read 12: FK join from an order to its items and their products
\set o random(1, 1000000 * :sc)
SELECT p.name, oi.quantity, oi.price FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = :o;

-- template product_sales read 4: FK lookup, narrow read
\set p random(1, 20000 * :sc)
SELECT sum(quantity) FROM order_items WHERE product_id = :p;

-- template user_by_email read 8: case-insensitive login lookup (an expression)
\set u random(1, 100000 * :sc)
SELECT id, account_id, status FROM users WHERE lower(email) = lower('User' || :u || '@example.com');

-- template team_members read 6: multi-column filter with ORDER BY ... LIMIT
\set a random(1, 1000 * :sc)
SELECT id, name, last_login FROM users WHERE account_id = :a AND status = 'active' ORDER BY last_login DESC LIMIT 20;

-- template live_user_count read 4: IS NULL on a sparse column plus a tenant
\set a random(1, 1000 * :sc)
SELECT count(*) FROM users WHERE account_id = :a AND deleted_at IS NULL;

-- template stale_users read 2: tenant plus a time range
\set a random(1, 1000 * :sc)
SELECT id, email FROM users WHERE account_id = :a AND last_login < '2023-09-01';

-- template login write 10: HOT-friendly update of an unindexed column
\set u random(1, 100000 * :sc)
UPDATE users SET last_login = '2024-07-01 00:00+00'::timestamptz + :u * interval '1 millisecond' WHERE id = :u;

-- template catalog_page read 8: narrow read, two equalities and a boolean flag
\set a random(1, 1000 * :sc)
\set c random(1, 50)
SELECT id, sku, price FROM products WHERE account_id = :a AND category = :c AND active;

-- template product_by_sku read 5: equality on a unique business key
\set p random(1, 20000 * :sc)
SELECT id, name, price FROM products WHERE sku = 'SKU-' || :p;

-- template job_poll read 12: a worker polls its queue for due pending jobs (rare constant)
\set q random(1, 5)
SELECT id, payload FROM jobs WHERE queue = :q AND status = 'pending' AND run_at <= '2024-07-01 12:00+00' ORDER BY run_at LIMIT 10;

-- template job_claim write 12: claiming a job changes its status
\set j random(1, 200000 * :sc)
UPDATE jobs SET status = 'running', attempts = attempts + 1 WHERE id = :j;

-- template job_enqueue write 10: insert into the queue
\set q random(1, 5)
\set p random(0, 9)
INSERT INTO jobs (queue, status, priority, run_at, payload) VALUES (:q, 'pending', :p, '2024-07-01 00:00+00'::timestamptz + :p * interval '1 minute', 'job');

-- template track_event write 25: the busiest statement, an append-only insert
\set a random(1, 1000 * :sc)
\set u random(1, 100000 * :sc)
INSERT INTO events (account_id, user_id, kind, created_at, payload) VALUES (:a, :u, 'page_view', '2024-07-01 00:00+00', 'x');

-- template tenant_activity read 8: a tenant's events of one day (equality + time range)
\set a random(1, 1000 * :sc)
\set d random(0, 29)
SELECT kind, count(*) FROM events WHERE account_id = :a AND created_at >= '2024-06-01 00:00+00'::timestamptz + :d * interval '1 day' AND created_at < '2024-06-01 00:00+00'::timestamptz + (:d + 1) * interval '1 day' GROUP BY kind;

-- template recent_events read 4: a 10-minute window over all tenants (narrow time range)
\set m random(0, 1400)
SELECT count(*) FROM events WHERE created_at >= '2024-06-30 00:00+00'::timestamptz + :m * interval '1 minute' AND created_at < '2024-06-30 00:10+00'::timestamptz + :m * interval '1 minute';

-- template place_order write 6: insert an order
\set a random(1, 1000 * :sc)
\set u random(1, 100000 * :sc)
INSERT INTO orders (account_id, user_id, status, total, created_at) VALUES (:a, :u, 'pending', 42.50, '2024-07-01 00:00+00');

-- template add_item write 10: insert an order line
\set o random(1, 1000000 * :sc)
\set p random(1, 20000 * :sc)
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (:o, :p, 1, 9.99);

-- template ship_order write 6: status change on an order
\set o random(1, 1000000 * :sc)
UPDATE orders SET status = 'shipped', shipped_at = '2024-07-01 00:00+00' WHERE id = :o AND status = 'paid';

-- template unshipped read 3: tenant plus IS NULL (10% of rows)
\set a random(1, 1000 * :sc)
SELECT count(*) FROM orders WHERE account_id = :a AND shipped_at IS NULL;

-- template daily_revenue read 2: a tenant's revenue per day over two months
\set a random(1, 1000 * :sc)
SELECT date_trunc('day', created_at) AS day, sum(total) FROM orders WHERE account_id = :a AND created_at >= '2024-05-01' GROUP BY 1 ORDER BY 1;

-- template enterprise_accounts read 3: small table, an index would not pay
SELECT id, name FROM accounts WHERE region = 'eu-west' AND plan = 'enterprise';

-- template search_people trap 3: infix ILIKE (needs pg_trgm, not a B-tree)
SELECT count(*) FROM users WHERE name ILIKE '%son%';

-- template search_products trap 2: leading-wildcard LIKE
SELECT id, name FROM products WHERE name LIKE '%blue%';

-- template kinds_since trap 2: a range covering about 90% of the table
SELECT kind, count(*) FROM events WHERE created_at >= '2024-01-15' GROUP BY kind;

-- template status_report trap 1: aggregate over the whole table
SELECT status, count(*), avg(total) FROM orders GROUP BY status;

-- template orders_of_day trap 2: a function of the column (date_trunc on timestamptz is not IMMUTABLE)
\set d random(0, 59)
SELECT count(*) FROM orders WHERE date_trunc('day', created_at) = '2024-05-01 00:00+00'::timestamptz + :d * interval '1 day';
