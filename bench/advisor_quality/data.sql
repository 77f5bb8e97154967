-- Seeded data generator for schema.sql (psql -v scale=N, default 1: about 5.8M rows, 700 MB).
-- One session, setseed first: the same scale always yields the same rows. Time columns end at
-- 2024-07-01 00:00 UTC, the workload's "now".
\if :{?scale}
\else
  \set scale 1
\endif
SELECT setseed(0.4242);
INSERT INTO accounts
SELECT g, 'account ' || g,
       CASE WHEN r < 0.70 THEN 'free' WHEN r < 0.95 THEN 'pro' ELSE 'enterprise' END,
       (ARRAY['us-east','us-west','eu-west','eu-central','ap-south','ap-east','sa-east','af-south'])[1 + g % 8],
       '2020-01-01 00:00+00'::timestamptz + g * interval '1 hour'
  FROM (SELECT g, random() AS r FROM generate_series(1, 1000 * :scale) g) s;
-- 100 users per account, interleaved (user u belongs to account 1 + (u - 1) % accounts).
INSERT INTO users
SELECT g, 1 + (g - 1) % (1000 * :scale), 'User' || g || '@Example.com',
       (ARRAY['Ann','Bob','Carla','Dmitri','Emma','Farid','Grace','Hiro','Ines','Jon'])[1 + floor(random() * 10)::int] || ' ' ||
       (ARRAY['Smith','Jones','Garcia','Larsson','Nguyen','Okafor','Rossi','Tanaka','Weber','Young'])[1 + floor(random() * 10)::int],
       CASE WHEN r < 0.90 THEN 'active' WHEN r < 0.95 THEN 'invited' ELSE 'disabled' END,
       CASE WHEN random() < 0.03 THEN '2024-07-01 00:00+00'::timestamptz - random() * interval '300 days' END,
       '2024-07-01 00:00+00'::timestamptz - random() * interval '365 days',
       '2024-07-01 00:00+00'::timestamptz - (100000 * :scale - g) * interval '5 minutes'
  FROM (SELECT g, random() AS r FROM generate_series(1, 100000 * :scale) g) s;
INSERT INTO products
SELECT g, 1 + (g - 1) % (1000 * :scale), 'SKU-' || g,
       (ARRAY['red','blue','green','black','white','silver'])[1 + floor(random() * 6)::int] || ' ' ||
       (ARRAY['chair','lamp','desk','mug','shelf','rug','clock','vase'])[1 + floor(random() * 8)::int],
       1 + floor(random() * 50)::int, round((5 + random() * 495)::numeric, 2), random() < 0.9
  FROM generate_series(1, 20000 * :scale) g;
-- 1000 orders per account over one year, in time order; a user orders from their own account.
INSERT INTO orders (id, account_id, user_id, status, total, created_at, shipped_at)
SELECT g, a, a + 1000 * :scale * floor(random() * 100)::int,
       CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.90 THEN 'shipped' WHEN r < 0.97 THEN 'paid'
            WHEN r < 0.99 THEN 'pending' ELSE 'cancelled' END,
       round((10 + random() * 990)::numeric, 2), t,
       CASE WHEN r < 0.90 THEN t + interval '2 days' END
  FROM (SELECT g, 1 + floor(random() * 1000 * :scale)::int AS a, random() AS r,
               '2024-07-01 00:00+00'::timestamptz - (1000000 * :scale - g) * (interval '31536 seconds' / :scale) AS t
          FROM generate_series(1, 1000000 * :scale) g) s;
SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders));
-- 2.5 items per order, written with their order.
INSERT INTO order_items (id, order_id, product_id, quantity, price)
SELECT g, 1 + ((g - 1) * 2) / 5, 1 + floor(random() * 20000 * :scale)::int, 1 + floor(random() * 4)::int,
       round((5 + random() * 95)::numeric, 2)
  FROM generate_series(1, 2500000 * :scale) g;
SELECT setval(pg_get_serial_sequence('order_items', 'id'), (SELECT max(id) FROM order_items));
-- 2M events over 180 days; a few kinds dominate.
INSERT INTO events (id, account_id, user_id, kind, created_at, payload)
SELECT g, a, a + 1000 * :scale * floor(random() * 100)::int,
       CASE WHEN r < 0.50 THEN 'page_view' WHEN r < 0.70 THEN 'click' WHEN r < 0.80 THEN 'search'
            WHEN r < 0.88 THEN 'add_to_cart' ELSE 'kind_' || floor(r * 100)::int END,
       '2024-07-01 00:00+00'::timestamptz - (2000000 * :scale - g) * (interval '7776 milliseconds' / :scale),
       repeat('x', 40)
  FROM (SELECT g, 1 + floor(random() * 1000 * :scale)::int AS a, random() AS r
          FROM generate_series(1, 2000000 * :scale) g) s;
SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events));
-- A job queue: almost everything done, a few pending jobs due around "now".
INSERT INTO jobs (id, queue, status, priority, run_at, attempts, payload)
SELECT g, 1 + g % 5,
       CASE WHEN r < 0.97 THEN 'done' WHEN r < 0.98 THEN 'failed' WHEN r < 0.995 THEN 'pending' ELSE 'running' END,
       floor(random() * 10)::int,
       CASE WHEN r >= 0.98 THEN '2024-07-01 00:00+00'::timestamptz + (random() - 0.5) * interval '2 days'
            ELSE '2024-07-01 00:00+00'::timestamptz - (200000 * :scale - g) * interval '60 seconds' END,
       CASE WHEN r < 0.97 THEN 1 ELSE 0 END, 'job payload ' || g
  FROM (SELECT g, random() AS r FROM generate_series(1, 200000 * :scale) g) s;
SELECT setval(pg_get_serial_sequence('jobs', 'id'), (SELECT max(id) FROM jobs));
