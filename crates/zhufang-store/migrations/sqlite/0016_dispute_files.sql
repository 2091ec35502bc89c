-- Files of a dispute: the signed mediation agreement (scan or PDF) of a
-- session. Stored under DATA_DIR/uploads like task photos; type checked by content.
CREATE TABLE dispute_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    session_id BIGINT REFERENCES dispute_sessions(id),
    stored_name TEXT NOT NULL,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX dispute_files_dispute ON dispute_files(dispute_id);
