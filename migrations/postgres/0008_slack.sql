-- The Slack bridge (issue 12). One connection per team: the bot token and signing secret are
-- stored as webhook secrets are (never answered nor logged); the rest comes from `auth.test`.
CREATE TABLE slack_connections (
    team_seq       BIGINT PRIMARY KEY,
    bot_token      TEXT NOT NULL,                           -- xoxb-…
    signing_secret TEXT NOT NULL,                           -- checks X-Slack-Signature
    notify_channel TEXT NOT NULL DEFAULT 'palaver-support', -- where new visitors are announced
    archive_on_end BOOLEAN NOT NULL DEFAULT false,          -- archive a visitor's channel on `end`
    workspace_id   TEXT NOT NULL,                           -- auth.test team_id (T…)
    workspace_name TEXT NOT NULL DEFAULT '',                -- auth.test team
    workspace_url  TEXT NOT NULL DEFAULT '',                -- auth.test url
    bot_user_id    TEXT NOT NULL,                           -- auth.test user_id (U…)
    bot_id         TEXT NOT NULL DEFAULT '',                -- auth.test bot_id (B…), on the bot's own messages
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX slack_connections_workspace ON slack_connections (workspace_id);

-- Events API deliveries already acted on: Slack retries an event (same event_id) when it was not
-- answered in 3 s; a retry is acknowledged and ignored. Pruned after a day.
CREATE TABLE slack_events_seen (
    event_id TEXT PRIMARY KEY,
    team_seq BIGINT NOT NULL,
    seen_at  BIGINT NOT NULL
);
CREATE INDEX slack_events_seen_at ON slack_events_seen (seen_at);

-- What an endpoint delivers to: a webhook receiver, or (`slack`) a team's Slack workspace, whose
-- deliveries are Web API calls riding the same outbox. /webhooks shows webhooks only.
ALTER TABLE endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
CREATE UNIQUE INDEX endpoints_one_slack ON endpoints (team_seq) WHERE kind = 'slack';

-- Where a message came from when not from Palaver's own APIs: `slack:<ts>` for an agent's
-- message written in Slack (so that it is not posted back there).
ALTER TABLE messages ADD COLUMN origin TEXT NOT NULL DEFAULT '';
