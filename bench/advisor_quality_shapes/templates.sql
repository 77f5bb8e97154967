-- Workload of the second advisor quality benchmark (bench/advisor_quality.sh with
-- WORKLOAD=advisor_quality_shapes): the shapes of issue 17, section 1. Header:
-- "-- template NAME KIND WEIGHT: what it stands for"; KIND read | write | trap (no B-tree can make it
-- cheap; reported apart); :sc is the data scale.

-- template open_by_customer read 20: through a view, a customer's open tickets, newest first
\set c random(1, 50000 * :sc)
SELECT id, priority, subject FROM crm.open_tickets WHERE customer_id = :c ORDER BY opened_at DESC LIMIT 10;

-- template ticket_by_ref read 15: a jsonb field as text (an expression index)
\set t random(1, 300000 * :sc)
SELECT id, status, customer_id FROM crm.tickets WHERE attrs ->> 'ref' = 'R' || :t;

-- template customer_events read 12: a CTE over the partitioned events, one customer's last week
\set c random(1, 50000 * :sc)
WITH recent AS (SELECT kind, created FROM ops.events WHERE customer_id = :c AND created >= '2024-06-24 00:00+00') SELECT kind, count(*) FROM recent GROUP BY kind;

-- template events_window read 8: a 10-minute window of the stream (partition pruning, then a range)
\set m random(0, 1400)
SELECT kind, count(*) FROM ops.events WHERE created >= '2024-06-29 00:00+00'::timestamptz + :m * interval '1 minute' AND created < '2024-06-29 00:10+00'::timestamptz + :m * interval '1 minute' GROUP BY kind;

-- template org_customers read 6: customers of an organisation by tier
\set o random(1, 500 * :sc)
SELECT id, country FROM crm.customers WHERE org_id = :o AND tier = 'plus';

-- template ticket_by_id read 10: primary key (already indexed)
\set t random(1, 300000 * :sc)
SELECT subject, status FROM crm.tickets WHERE id = :t;

-- template urgent_open read 4: a rare constant (open, priority 4) oldest first
SELECT id, customer_id FROM crm.tickets WHERE status = 'open' AND priority = 4 ORDER BY opened_at LIMIT 20;

-- template new_event write 15: the stream's inserts
\set c random(1, 50000 * :sc)
\set e random(1, 1000000000)
INSERT INTO ops.events (id, customer_id, kind, created, payload) VALUES (2000000 * :sc + :e, :c, 'view', '2024-06-30 23:59+00', '{"v": 1}');

-- template close_ticket write 6: a status change (non-HOT when status is indexed)
\set t random(1, 300000 * :sc)
UPDATE crm.tickets SET status = 'closed', closed_at = '2024-07-01 00:00+00' WHERE id = :t AND status <> 'closed';

-- template tagged trap 2: jsonb containment (GIN, which HypoPG cannot cost)
\set g random(0, 199)
SELECT count(*) FROM crm.tickets WHERE attrs @> jsonb_build_object('tags', jsonb_build_array('t' || :g));

-- template subject_search trap 2: infix LIKE
SELECT count(*) FROM crm.tickets WHERE subject LIKE '%beef%';

-- template kinds_quarter trap 1: aggregate over the whole stream
SELECT kind, count(*) FROM ops.events GROUP BY kind;
