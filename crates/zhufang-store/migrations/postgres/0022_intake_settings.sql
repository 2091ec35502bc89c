-- The intake windows a deployment edits: repeat calls from the same phone
-- (minutes; longer for disputes) and near-duplicates suggested at intake
-- (same type within this many metres and minutes). One row.
CREATE TABLE intake_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    repeat_minutes BIGINT NOT NULL CHECK (repeat_minutes BETWEEN 1 AND 43200),
    repeat_dispute_minutes BIGINT NOT NULL CHECK (repeat_dispute_minutes BETWEEN 1 AND 43200),
    similar_metres BIGINT NOT NULL CHECK (similar_metres BETWEEN 10 AND 5000),
    similar_minutes BIGINT NOT NULL CHECK (similar_minutes BETWEEN 1 AND 43200)
);
INSERT INTO intake_settings (id, repeat_minutes, repeat_dispute_minutes, similar_metres, similar_minutes)
VALUES (1, 60, 4320, 500, 120);
