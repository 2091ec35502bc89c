-- Disputes (矛盾纠纷排查化解): the categories (17 named + 其他) and the ABC
-- class definitions (both editable rows), the colour rules (JSON rows, seeded
-- from the domain's defaults at start-up), the ledger with its colour and the
-- rules that fired, the parties (name and phone only; phones shown masked,
-- every read audited), links to incidents, mediation sessions, escalations
-- (each handed to the next level's body, which signs for it) and the timeline.
CREATE TABLE dispute_categories (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO dispute_categories (code, name) VALUES ('01', '婚姻家庭');
INSERT INTO dispute_categories (code, name) VALUES ('02', '邻里');
INSERT INTO dispute_categories (code, name) VALUES ('03', '房产宅基地');
INSERT INTO dispute_categories (code, name) VALUES ('04', '合同');
INSERT INTO dispute_categories (code, name) VALUES ('05', '生产经营');
INSERT INTO dispute_categories (code, name) VALUES ('06', '损害赔偿');
INSERT INTO dispute_categories (code, name) VALUES ('07', '山林土地');
INSERT INTO dispute_categories (code, name) VALUES ('08', '征地拆迁');
INSERT INTO dispute_categories (code, name) VALUES ('09', '环境污染');
INSERT INTO dispute_categories (code, name) VALUES ('10', '劳动争议');
INSERT INTO dispute_categories (code, name) VALUES ('11', '旅游');
INSERT INTO dispute_categories (code, name) VALUES ('12', '消费');
INSERT INTO dispute_categories (code, name) VALUES ('13', '医疗');
INSERT INTO dispute_categories (code, name) VALUES ('14', '道路交通事故');
INSERT INTO dispute_categories (code, name) VALUES ('15', '物业管理');
INSERT INTO dispute_categories (code, name) VALUES ('16', '知识产权');
INSERT INTO dispute_categories (code, name) VALUES ('17', '互联网');
INSERT INTO dispute_categories (code, name) VALUES ('99', '其他');

CREATE TABLE dispute_classes (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    definition TEXT NOT NULL
);
INSERT INTO dispute_classes (code, label, definition) VALUES ('A', 'A类（简单）', '事实清楚、争议不大，由网格（村、社区）当场调处化解');
INSERT INTO dispute_classes (code, label, definition) VALUES ('B', 'B类（一般）', '需要多方参与调解，由乡镇（街道）组织派出所、司法所等联合化解');
INSERT INTO dispute_classes (code, label, definition) VALUES ('C', 'C类（复杂）', '案情复杂或风险较高，涉及多个部门，由县（区）级牵头跨部门化解');

CREATE TABLE dispute_rules (
    id TEXT PRIMARY KEY,
    sort BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES dispute_categories(code),
    source TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT NOT NULL DEFAULT '',
    grid_id BIGINT REFERENCES grids(id),
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    people_involved BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL DEFAULT 0,
    class TEXT,
    -- 1 村(社区), 2 乡镇(街道), 3 县(区)
    level BIGINT NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 3),
    -- the body answering for it at that level (none: the station's own)
    level_org_id BIGINT REFERENCES org_units(id),
    colour TEXT NOT NULL,
    fired_rules TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users(id),
    creator_id BIGINT REFERENCES users(id),
    incident_id BIGINT REFERENCES incidents(id),
    failed_mediations BIGINT NOT NULL DEFAULT 0,
    relapses BIGINT NOT NULL DEFAULT 0,
    accepted_at BIGINT,
    settled_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX disputes_org ON disputes(org_path);
CREATE INDEX disputes_created ON disputes(created_at);
CREATE INDEX disputes_colour ON disputes(colour, state);
CREATE INDEX disputes_level_org ON disputes(level_org_id);

CREATE TABLE dispute_parties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT
);
CREATE INDEX dispute_parties_dispute ON dispute_parties(dispute_id);
CREATE INDEX dispute_parties_phone ON dispute_parties(phone);

CREATE TABLE dispute_incidents (
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    PRIMARY KEY (dispute_id, incident_id)
);

CREATE TABLE dispute_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    held_at BIGINT NOT NULL,
    mediators TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    -- settled | partial | failed | adjourned
    outcome TEXT NOT NULL,
    agreement TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dispute_sessions_dispute ON dispute_sessions(dispute_id, held_at);

CREATE TABLE dispute_escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    from_level BIGINT NOT NULL,
    to_level BIGINT NOT NULL,
    to_org_id BIGINT REFERENCES org_units(id),
    reason TEXT NOT NULL,
    by_id BIGINT REFERENCES users(id),
    by_name TEXT NOT NULL,
    at BIGINT NOT NULL,
    signed_by_name TEXT,
    signed_at BIGINT
);
CREATE INDEX dispute_escalations_dispute ON dispute_escalations(dispute_id, id);
CREATE INDEX dispute_escalations_org ON dispute_escalations(to_org_id, signed_at);

CREATE TABLE dispute_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX dispute_events_dispute ON dispute_events(dispute_id, id);
