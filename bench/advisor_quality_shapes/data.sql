-- Seeded data for schema.sql (psql -v scale=N, default 1: about 1.3M rows). Time ends at
-- 2024-07-01 00:00 UTC, the workload's "now"; events are in physical time order.
\if :{?scale}
\else
  \set scale 1
\endif
SELECT setseed(0.1717);
INSERT INTO crm.customers
SELECT g, 1 + g % (500 * :scale),
       CASE WHEN r < 0.80 THEN 'basic' WHEN r < 0.97 THEN 'plus' ELSE 'vip' END,
       (ARRAY['de','fr','us','br','jp','in','ng','se'])[1 + g % 8],
       '2020-01-01 00:00+00'::timestamptz + g * interval '17 minutes'
  FROM (SELECT g, random() AS r FROM generate_series(1, 50000 * :scale) g) s;
-- 6 tickets per customer; 5% still open; attrs.ref is a unique external reference.
INSERT INTO crm.tickets
SELECT g, 1 + (g - 1) % (50000 * :scale),
       CASE WHEN r < 0.95 THEN 'closed' WHEN r < 0.98 THEN 'open' ELSE 'waiting' END,
       1 + floor(random() * 4)::int, 'ticket ' || g || ' ' || md5(g::text),
       jsonb_build_object('ref', 'R' || g, 'channel', (ARRAY['mail','phone','chat'])[1 + g % 3],
                          'tags', jsonb_build_array('t' || (g % 200))),
       '2024-07-01 00:00+00'::timestamptz - (300000 * :scale - g) * interval '90 seconds',
       NULL
  FROM (SELECT g, random() AS r FROM generate_series(1, 300000 * :scale) g) s;
UPDATE crm.tickets SET closed_at = opened_at + interval '2 days' WHERE status = 'closed';
-- 1M events over three months, in time order.
INSERT INTO ops.events
SELECT g, 1 + floor(random() * 50000 * :scale)::int,
       (ARRAY['login','view','click','export','error'])[1 + floor(random() * 5)::int],
       '2024-04-01 00:00+00'::timestamptz + (g - 1) * (interval '91 days' / (1000000 * :scale)),
       jsonb_build_object('v', g % 1000)
  FROM generate_series(1, 1000000 * :scale) g;
