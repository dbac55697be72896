-- The Slack bridge, Palaver → Slack (issue 12, phase B). Slack deliveries ride the outbox as
-- deliveries of the team's Slack endpoint (`endpoints.kind = 'slack'`, its url `slack:<team id>`);
-- these tables are what their Web API calls need beyond it.

-- Where each visitor's channel is in the team's workspace: the channel named after the visitor's
-- `channelName` (and the notification channel, under its own name), by Slack's id. `archived`:
-- Palaver archived it (archiveOnEnd); the next `start` in it unarchives it first.
CREATE TABLE slack_channels (
    team_seq   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    archived   BOOLEAN NOT NULL DEFAULT false,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (team_seq, name)
);

-- How far a pending Slack delivery of several calls got (the header posted, say), so that its
-- retry does not post again what already reached Slack. Deleted when the delivery is delivered.
CREATE TABLE slack_progress (
    delivery_seq BIGINT PRIMARY KEY,
    steps_done   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
