-- The Slack bridge, Slack → Palaver (issue 12, phase C).

-- Events API events answered 200 and not yet acted on. Queued in the same transaction as their
-- seen mark (slack_events_seen), so that an acknowledged event is on disk before Slack hears
-- back; deleted once acted on (or found to need nothing). A worker claims the oldest event of
-- each lane (a Slack channel: its events are acted on in order) under a lease; a failure (Slack
-- down during users.info, say) retries it later; a pending event survives a crash and is resumed.
CREATE TABLE slack_inbox (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,      -- Slack's event_id
    team_seq        BIGINT NOT NULL,
    lane            TEXT NOT NULL,             -- the Slack channel id ('' when none)
    body            TEXT NOT NULL,             -- the event, as Slack sent it
    received_at     BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX slack_inbox_lane ON slack_inbox (team_seq, lane, seq);

-- Private notes between agents on a conversation (a reply in a thread of the visitor's Slack
-- channel): shown in the console, never to the visitor nor in webhooks.
CREATE TABLE notes (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_seq BIGINT NOT NULL,
    agent_id         TEXT NOT NULL,            -- the Slack user id (the agent registry's)
    user_name        TEXT NOT NULL,            -- the agent's real_name (else name) when written
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    origin           TEXT NOT NULL DEFAULT ''  -- slack:<ts>: a Slack message becomes one note
);
CREATE INDEX notes_conversation ON notes (conversation_seq, seq);
CREATE UNIQUE INDEX notes_origin ON notes (conversation_seq, origin) WHERE origin <> '';

-- Which visitor's channel an event is in: the channel map (0009) read by Slack's id.
CREATE INDEX slack_channels_id ON slack_channels (team_seq, channel_id);
