-- The Slack bridge, Palaver → Slack (issue 12, phase B). Slack deliveries ride the outbox as
-- deliveries of the team's Slack endpoint (`endpoints.kind = 'slack'`, its url `slack:<team id>`);
-- these tables are what their Web API calls need beyond it.

-- Where each visitor's channel is in the team's workspace: the channel named after the visitor's
-- `channelName` (and the notification channel, under its own name), by Slack's id. `archived`:
-- Palaver archived it (archiveOnEnd); the next `start` in it unarchives it first.
CREATE TABLE slack_channels (
    team_seq   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    archived   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (team_seq, name)
) WITHOUT ROWID;

-- How far a pending Slack delivery of several calls got (the header posted, say), so that its
-- retry does not post again what already reached Slack. Deleted when the delivery is delivered.
CREATE TABLE slack_progress (
    delivery_seq INTEGER PRIMARY KEY,
    steps_done   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
