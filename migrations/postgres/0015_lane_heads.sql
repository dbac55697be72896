-- Lanes in O(1), as on SQLite (see its 0015): pending deliveries by endpoint, lane, state and seq;
-- the first entry of an (endpoint, lane) is its head (the ready one, else the oldest waiting one,
-- the next to promote). Queries say `endpoint_seq = … AND lane = …` and order like the index
-- (`ORDER BY state, seq LIMIT 1`), so that no other plan looks cheaper whatever the statistics.
-- deliveries_lane (lane first, read with `endpoint_seq + 0`) stays while the event fan-out's lane
-- check still asks by lane first; it goes when that check asks by endpoint and lane.
CREATE INDEX deliveries_lane_head ON deliveries (endpoint_seq, lane, state, seq) WHERE state IN ('ready', 'waiting');
