-- Palaver's PostgreSQL schema: the SQLite schema's twin. Times are unix milliseconds; `seq` is
-- the internal key, `id` the public one.

CREATE TABLE teams (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    site_key     TEXT NOT NULL UNIQUE,
    is_default   BOOLEAN NOT NULL DEFAULT false,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_one_default ON teams (is_default) WHERE is_default;

CREATE TABLE agents (
    team_seq   BIGINT NOT NULL,
    id         TEXT NOT NULL,
    profile    TEXT NOT NULL, -- the Slack user object, compact JSON, keys in the order given
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (team_seq, id)
);

CREATE TABLE endpoints (
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    team_seq              BIGINT NOT NULL,
    url                   TEXT NOT NULL,
    events                BIGINT NOT NULL, -- bit mask of subscribed events
    description           TEXT NOT NULL,
    enabled               BOOLEAN NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until BIGINT,
    created_at            BIGINT NOT NULL
);
CREATE INDEX endpoints_team ON endpoints (team_seq, seq);

CREATE TABLE visitors (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    team_seq     BIGINT NOT NULL,
    name         TEXT NOT NULL,
    channel_name TEXT NOT NULL,
    identity     TEXT NOT NULL, -- JSON
    token_hash   TEXT NOT NULL UNIQUE,
    version      BIGINT NOT NULL, -- bumped by every change of the visitor or its conversations
    created_at   BIGINT NOT NULL,
    UNIQUE (team_seq, channel_name)
);

CREATE TABLE conversations (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    team_seq    BIGINT NOT NULL,
    visitor_seq BIGINT NOT NULL,
    status      TEXT NOT NULL,
    agent_id    TEXT,
    agent       TEXT, -- snapshot of the agent's profile when last entered or written
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX conversations_team ON conversations (team_seq, seq);
CREATE INDEX conversations_team_status ON conversations (team_seq, status, seq);
CREATE INDEX conversations_visitor ON conversations (visitor_seq, seq);
CREATE UNIQUE INDEX conversations_one_active ON conversations (visitor_seq) WHERE status <> 'ended';

CREATE TABLE messages (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_seq BIGINT NOT NULL,
    agent_id         TEXT, -- NULL for the visitor
    user_name        TEXT NOT NULL,
    user_picture     TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_seq, seq);

CREATE TABLE events (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    team_seq         BIGINT NOT NULL,
    conversation_seq BIGINT,
    name             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    body             TEXT NOT NULL -- the request body: a JSON array holding this event, built once
);

-- The outbox; see the SQLite schema for the states. Claims take rows FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    endpoint_seq    BIGINT NOT NULL,
    event_seq       BIGINT NOT NULL,
    lane            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    tries           BIGINT NOT NULL DEFAULT 0,
    leased          BOOLEAN NOT NULL DEFAULT false,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'ready';
-- Lane first: queries name a lane and say `endpoint_seq + 0 = …`, so that the planner can only use
-- this index for them, whatever stale statistics say about an endpoint's size.
CREATE INDEX deliveries_lane ON deliveries (lane, endpoint_seq, seq) WHERE state IN ('ready', 'waiting');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_seq, seq);

CREATE TABLE attempts (
    delivery_seq  BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    status_code   BIGINT,
    duration_ms   BIGINT NOT NULL,
    error         TEXT,
    response_body TEXT NOT NULL,
    PRIMARY KEY (delivery_seq, n)
);

CREATE TABLE idempotency (
    team_seq    BIGINT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (team_seq, key)
);

CREATE TABLE recoveries (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_seq BIGINT NOT NULL,
    since        BIGINT NOT NULL,
    after_seq    BIGINT NOT NULL,
    upto_seq     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
