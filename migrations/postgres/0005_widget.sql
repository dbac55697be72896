-- The team's widget settings (title, greeting, colour, position, allowed origins) as JSON:
-- missing keys read as their defaults, so that later settings need no migration.
ALTER TABLE teams ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';
