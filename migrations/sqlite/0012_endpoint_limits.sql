-- Per-endpoint limits (README, Delivery guarantees): most attempts in flight at once and most
-- attempts started per second. NULL is unlimited (every endpoint so far).
ALTER TABLE endpoints ADD COLUMN max_in_flight INTEGER;
ALTER TABLE endpoints ADD COLUMN max_per_second INTEGER;
