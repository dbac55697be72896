-- The event fan-out's lane check now asks by endpoint and lane (deliveries_lane_head, 0015):
-- nothing reads the lane-first index any more.
DROP INDEX IF EXISTS deliveries_lane;
