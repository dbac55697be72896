-- Lanes in O(1). Pending deliveries by endpoint, lane (channel), state and seq: the first entry of
-- an (endpoint, lane) is its head, its ready delivery if it has one ('ready' sorts before
-- 'waiting'), else its oldest waiting one, the next to promote. A fan-out's lane check, a
-- promotion and a recovery's hold of a newer head each read one entry, whatever the lane's length
-- and however many pending deliveries other endpoints have in the same channel. With the state in
-- the key, a lane of waiting deliveries need not be walked to learn that none of them is ready.
-- It replaces deliveries_lane (endpoint_seq, lane, seq), which /metrics' backlog used too: it reads
-- this one the same way (by endpoint first).
CREATE INDEX deliveries_lane_head ON deliveries (endpoint_seq, lane, state, seq) WHERE state IN ('ready', 'waiting');
DROP INDEX deliveries_lane;
