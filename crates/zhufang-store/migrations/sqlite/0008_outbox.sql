-- Messages to external systems (e.g. a 12345 platform's webhook), written in
-- the same transaction as the change they report, then delivered and
-- retried with backoff until the receiver acknowledges: nothing is lost
-- while the receiver is down. `msg_key` is the receiver's idempotency key.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    msg_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL;
