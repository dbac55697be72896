-- Retention (issue 13), as on SQLite: what `--retention` and `--message-retention` purge,
-- found by index.

-- Finished deliveries by when they finished: once delivered or failed, a delivery's
-- `next_attempt_at` is the time of its last attempt.
CREATE INDEX deliveries_finished ON deliveries (next_attempt_at) WHERE state IN ('delivered', 'failed');
-- An event's deliveries: whether a pending one still needs the event, and those purged with it.
CREATE INDEX deliveries_event ON deliveries (event_seq);
-- A conversation's events.
CREATE INDEX events_conversation ON events (conversation_seq) WHERE conversation_seq IS NOT NULL;
-- Ended conversations by when they ended.
CREATE INDEX conversations_ended ON conversations (ended_at, seq) WHERE status = 'ended';
