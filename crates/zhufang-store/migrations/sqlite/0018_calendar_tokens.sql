-- A person's calendar subscription (.ics): one token each, stored hashed;
-- making a new one revokes the old, and it can be revoked outright.
CREATE TABLE calendar_tokens (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
