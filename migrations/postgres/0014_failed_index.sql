-- Failed deliveries by endpoint, for /metrics' exact failed backlog: the count reads this
-- partial index only (failed rows are few and purged by --retention), not the history.
CREATE INDEX deliveries_failed ON deliveries (endpoint_seq) WHERE state = 'failed';
