-- A visitor's version (bumped by every change of the visitor or its conversations: the check
-- that catches concurrent commands) moves to a narrow table of its own, as on SQLite, where it
-- keeps each commit's changes to a few pages.
CREATE TABLE visitor_versions (
    seq     BIGINT PRIMARY KEY, -- the visitor's
    version BIGINT NOT NULL
);
INSERT INTO visitor_versions (seq, version) SELECT seq, version FROM visitors;
ALTER TABLE visitors DROP COLUMN version;
