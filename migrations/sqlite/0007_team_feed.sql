-- The team feed (`GET /api/v1/events`, see src/store/feed.rs): which message a message event is
-- about, and a team's events in order. (PostgreSQL also records each event's transaction; here
-- one writer commits events in `seq` order, which is all the feed needs.)
ALTER TABLE events ADD COLUMN message_seq INTEGER;
CREATE INDEX events_team_feed ON events (team_seq, seq);
