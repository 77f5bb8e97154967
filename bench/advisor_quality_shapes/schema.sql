-- Second advisor quality workload (issue 17, section 6): the schema shapes of section 1. A support
-- desk: customers and tickets in schema crm (tickets carry jsonb attributes), a view of the open
-- tickets, and a time-partitioned event stream in schema ops. Primary keys only.
CREATE SCHEMA crm;
CREATE SCHEMA ops;
CREATE TABLE crm.customers (id integer PRIMARY KEY, org_id integer NOT NULL, tier text NOT NULL,
  country text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE crm.tickets (id integer PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  priority integer NOT NULL, subject text NOT NULL, attrs jsonb NOT NULL, opened_at timestamptz NOT NULL,
  closed_at timestamptz);
CREATE VIEW crm.open_tickets AS
  SELECT id, customer_id, priority, subject, opened_at FROM crm.tickets WHERE status <> 'closed';
CREATE TABLE ops.events (id bigint NOT NULL, customer_id integer NOT NULL, kind text NOT NULL,
  created timestamptz NOT NULL, payload jsonb, PRIMARY KEY (id, created)) PARTITION BY RANGE (created);
CREATE TABLE ops.events_2024_04 PARTITION OF ops.events FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
CREATE TABLE ops.events_2024_05 PARTITION OF ops.events FOR VALUES FROM ('2024-05-01') TO ('2024-06-01');
CREATE TABLE ops.events_2024_06 PARTITION OF ops.events FOR VALUES FROM ('2024-06-01') TO ('2024-07-01');
