-- Endpoint health (issue 13): an endpoint can be disabled with a reason and a time — by a person,
-- by its receiver (410 Gone), or by Palaver when every delivery failed for days. While disabled,
-- its pending deliveries are held: not claimed, their retries not spent, sent in order once it is
-- enabled again.
--   disabled_reason, disabled_at: why and since when it is disabled (NULL while enabled).
--   failing_since: when the first failed attempt after its last success was made (NULL when the
--     last attempt succeeded, or none failed yet); Palaver disables it once that is long ago.
--   probe_at: set only while Palaver disabled it for failing: when the next probe is due (one
--     held delivery tried, half-open); a success enables it again. NULL: not probed.
--   probe_seq: the held delivery a probe may send although the endpoint is disabled.
ALTER TABLE endpoints ADD COLUMN disabled_reason TEXT;
ALTER TABLE endpoints ADD COLUMN disabled_at BIGINT;
ALTER TABLE endpoints ADD COLUMN failing_since BIGINT;
ALTER TABLE endpoints ADD COLUMN probe_at BIGINT;
ALTER TABLE endpoints ADD COLUMN probe_seq BIGINT;
CREATE INDEX endpoints_probe ON endpoints (probe_at) WHERE probe_at IS NOT NULL;
-- Webhooks disabled before: by a person (when is not known).
UPDATE endpoints SET disabled_reason = 'disabled by hand' WHERE NOT enabled AND kind = 'webhook';
