-- A chat event's body is stored as its head (up to where the transcript starts) and the
-- transcript's length in messages; the rest is rebuilt from the conversation's messages.
-- NULL: `body` is the whole request body (rows written before, test events).
ALTER TABLE events ADD COLUMN transcript_len INTEGER;
