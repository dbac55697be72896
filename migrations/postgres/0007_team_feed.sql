-- The team feed (`GET /api/v1/events`, see src/store/feed.rs): which transaction wrote each event,
-- so that a stream only sends events of transactions that have ended (none can still appear
-- before them); and which message a message event is about.
-- Rows written before read as transaction 1, older than any real one: they are all committed.
-- A constant default is only recorded in the catalogue (no table rewrite); new rows then take
-- the writing transaction's id.
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
ALTER TABLE events ADD COLUMN message_seq BIGINT;
CREATE INDEX events_team_feed ON events (team_seq, xid, seq);
