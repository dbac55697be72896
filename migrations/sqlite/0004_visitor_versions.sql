-- A visitor's version (bumped by every change of the visitor or its conversations: the check
-- that catches concurrent commands) moves to a narrow table of its own. Every chat command
-- changes it; in the visitors table each change rewrote a page of identities, here a page holds
-- hundreds of versions, so a group of commits touches a few pages instead of one per visitor.
CREATE TABLE visitor_versions (
    seq     INTEGER PRIMARY KEY, -- the visitor's
    version INTEGER NOT NULL
);
INSERT INTO visitor_versions (seq, version) SELECT seq, version FROM visitors;
ALTER TABLE visitors DROP COLUMN version;
