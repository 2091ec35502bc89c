-- When a hazard's late rectification was raised with the responsible body and
-- the station's leaders (once per deadline: a new deadline clears it).
ALTER TABLE hazards ADD COLUMN overdue_notified_at BIGINT;
