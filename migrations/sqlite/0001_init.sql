-- Palaver's SQLite schema. Times are unix milliseconds; `seq` is the internal key, `id` the public one.

CREATE TABLE teams (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    site_key     TEXT NOT NULL UNIQUE,
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

CREATE TABLE agents (
    team_seq   INTEGER NOT NULL,
    id         TEXT NOT NULL,
    profile    TEXT NOT NULL, -- the Slack user object, compact JSON, keys in the order given
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (team_seq, id)
) WITHOUT ROWID;

CREATE TABLE endpoints (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    team_seq              INTEGER NOT NULL,
    url                   TEXT NOT NULL,
    events                INTEGER NOT NULL, -- bit mask of subscribed events
    description           TEXT NOT NULL,
    enabled               INTEGER NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until INTEGER,
    created_at            INTEGER NOT NULL
);
CREATE INDEX endpoints_team ON endpoints (team_seq, seq);

CREATE TABLE visitors (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    team_seq     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    channel_name TEXT NOT NULL,
    identity     TEXT NOT NULL, -- JSON
    token_hash   TEXT NOT NULL UNIQUE,
    version      INTEGER NOT NULL, -- bumped by every change of the visitor or its conversations
    created_at   INTEGER NOT NULL,
    UNIQUE (team_seq, channel_name)
);

CREATE TABLE conversations (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    team_seq    INTEGER NOT NULL,
    visitor_seq INTEGER NOT NULL,
    status      TEXT NOT NULL,
    agent_id    TEXT,
    agent       TEXT, -- snapshot of the agent's profile when last entered or written
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX conversations_team ON conversations (team_seq, seq);
CREATE INDEX conversations_team_status ON conversations (team_seq, status, seq);
CREATE INDEX conversations_visitor ON conversations (visitor_seq, seq);
CREATE UNIQUE INDEX conversations_one_active ON conversations (visitor_seq) WHERE status <> 'ended';

CREATE TABLE messages (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_seq INTEGER NOT NULL,
    agent_id         TEXT, -- NULL for the visitor
    user_name        TEXT NOT NULL,
    user_picture     TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_seq, seq);

CREATE TABLE events (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    team_seq         INTEGER NOT NULL,
    conversation_seq INTEGER,
    name             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    body             TEXT NOT NULL -- the request body: a JSON array holding this event, built once
);

-- The outbox. `state`: ready (head of its lane, claimable when due), waiting (behind an earlier
-- delivery of the same endpoint and lane), delivered, failed. A claim moves next_attempt_at to
-- the end of the lease, so an expired lease makes the row due again.
CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    endpoint_seq    INTEGER NOT NULL,
    event_seq       INTEGER NOT NULL,
    lane            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0, -- all attempts ever; fences a lease's outcome
    tries           INTEGER NOT NULL DEFAULT 0, -- attempts since last queued; indexes the schedule
    leased          INTEGER NOT NULL DEFAULT 0, -- 1 while a worker holds it (until next_attempt_at)
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'ready';
CREATE INDEX deliveries_lane ON deliveries (endpoint_seq, lane, seq) WHERE state IN ('ready', 'waiting');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_seq, seq);

CREATE TABLE attempts (
    delivery_seq  INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    status_code   INTEGER,
    duration_ms   INTEGER NOT NULL,
    error         TEXT,
    response_body TEXT NOT NULL,
    PRIMARY KEY (delivery_seq, n)
) WITHOUT ROWID;

CREATE TABLE idempotency (
    team_seq    INTEGER NOT NULL,
    key         TEXT NOT NULL, -- scope (api, site, or visitor id) + ':' + the client's key
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (team_seq, key)
) WITHOUT ROWID;

-- `recover` requests, worked through in batches so that a restart resumes them.
CREATE TABLE recoveries (
    seq          INTEGER PRIMARY KEY,
    endpoint_seq INTEGER NOT NULL,
    since        INTEGER NOT NULL,
    after_seq    INTEGER NOT NULL, -- deliveries up to here are done
    upto_seq     INTEGER NOT NULL, -- the newest delivery when asked
    created_at   INTEGER NOT NULL
);
