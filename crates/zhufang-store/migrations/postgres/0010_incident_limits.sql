-- Time limits of a diverted matter by incident type (longest code prefix
-- wins; '' is the default): hours to sign for, working days to finish. A
-- deployment edits the rows (cities differ); urgent matters (severity 2–3)
-- take at most 1 hour and 1 working day.
CREATE TABLE incident_limits (
    type_prefix TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    sign_for_hours BIGINT NOT NULL CHECK (sign_for_hours > 0),
    done_workdays BIGINT NOT NULL CHECK (done_workdays > 0)
);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('', '一般事项', 2, 5);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('05', '求助', 1, 3);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('08', '社会联动', 2, 5);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('09', '咨询', 2, 3);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('04', '纠纷', 2, 10);
INSERT INTO incident_limits (type_prefix, label, sign_for_hours, done_workdays) VALUES ('11', '投诉', 2, 15);

ALTER TABLE incidents ADD COLUMN sign_due_at BIGINT;
ALTER TABLE incidents ADD COLUMN done_due_at BIGINT;
-- when the command room was told the agency is late (once per hand-over)
ALTER TABLE incidents ADD COLUMN escalated_at BIGINT;
CREATE INDEX incidents_due ON incidents(state, sign_due_at, done_due_at) WHERE escalated_at IS NULL;
