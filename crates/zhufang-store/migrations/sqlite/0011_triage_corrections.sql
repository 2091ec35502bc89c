-- Officers' corrections at triage: the incident's text with the department
-- the officer chose where it differs from the model's suggestion. Exported
-- with `zhufang triage corrections --out FILE` and fed to
-- `zhufang triage train --corrections FILE`.
CREATE TABLE triage_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    police BOOLEAN NOT NULL,
    suggested TEXT NOT NULL,
    model_version TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
