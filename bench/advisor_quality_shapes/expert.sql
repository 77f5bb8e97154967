CREATE INDEX ON crm.tickets (customer_id, opened_at DESC) WHERE status <> 'closed';
CREATE INDEX ON crm.tickets ((attrs ->> 'ref'));
CREATE INDEX ON ops.events (customer_id, created);
CREATE INDEX ON ops.events (created);
CREATE INDEX ON crm.customers (org_id);
CREATE INDEX ON crm.tickets (opened_at) WHERE status = 'open' AND priority = 4;
