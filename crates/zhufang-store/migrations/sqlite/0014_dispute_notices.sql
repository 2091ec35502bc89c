-- 四个一 for key (red) disputes: one plan, one mechanism (the responsible
-- people), one list (a checklist), one notice; and the warning notices
-- (重大矛盾纠纷预警提示函) issued to recipient bodies, each of which signs for
-- it; unsigned ones past the reply deadline are escalated once.
CREATE TABLE dispute_plans (
    dispute_id BIGINT PRIMARY KEY REFERENCES disputes(id),
    plan TEXT NOT NULL DEFAULT '',
    responsible TEXT NOT NULL DEFAULT '',
    -- JSON list of {"item": "...", "done": bool}
    checklist TEXT NOT NULL DEFAULT '[]',
    updated_by_name TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The notice template a deployment edits (JSON: issuer, title, body with {placeholders}).
CREATE TABLE notice_templates (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    number TEXT NOT NULL,
    issuer TEXT NOT NULL,
    title TEXT NOT NULL,
    -- the rendered paragraphs (JSON list of strings), kept as issued
    paragraphs TEXT NOT NULL,
    requested_actions TEXT NOT NULL,
    deadline_at BIGINT NOT NULL,
    issued_by BIGINT REFERENCES users(id),
    issued_by_name TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    escalated_at BIGINT,
    UNIQUE (year, seq)
);
CREATE INDEX notices_dispute ON notices(dispute_id);

CREATE TABLE notice_recipients (
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    org_id BIGINT NOT NULL REFERENCES org_units(id),
    signed_at BIGINT,
    signed_by_name TEXT,
    reply TEXT,
    PRIMARY KEY (notice_id, org_id)
);
CREATE INDEX notice_recipients_org ON notice_recipients(org_id, signed_at);
