-- Console sign-in: sessions kept server-side (the cookie holds a token whose hash is the key), so
-- that signing out or going idle really ends them; and agents' console passwords (argon2id).
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    team_seq     BIGINT NOT NULL,
    agent_id     TEXT,             -- NULL: an admin, signed in with the team's API key
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

ALTER TABLE agents ADD COLUMN password_hash TEXT;
