-- Opt-in batching: an endpoint may take up to `batch_size` events in one request. A batch's
-- members share `batch_id` (the request's `webhook-id`) from the moment it is first sent, so
-- every retry sends the same events again under the same id.
ALTER TABLE endpoints ADD COLUMN batch_size INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deliveries ADD COLUMN batch_id TEXT;
CREATE INDEX deliveries_batch ON deliveries (batch_id) WHERE batch_id IS NOT NULL;
