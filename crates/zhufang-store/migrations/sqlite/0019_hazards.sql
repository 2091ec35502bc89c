-- The hazard register (除隐患): editable types (with a base severity) and
-- risk factors (JSON rows, seeded from the domain's defaults at start-up),
-- the hazards with their risk score and the factors behind it, photos before
-- and after rectification, the timeline, seasonal campaigns whose check tasks
-- run on the task loop, and the catalogue item those checks are.
CREATE TABLE hazard_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    base_severity BIGINT NOT NULL DEFAULT 3 CHECK (base_severity BETWEEN 1 AND 5),
    active BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('01', '溺水水域', 4);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('02', '建筑工地', 3);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('03', '校园周边', 3);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('04', '消防', 4);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('05', '道路交通', 3);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('06', '危化品', 5);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('07', '出租屋', 2);
INSERT INTO hazard_types (code, name, base_severity) VALUES ('99', '其他', 2);

CREATE TABLE hazard_factors (
    id TEXT PRIMARY KEY,
    sort BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE hazards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL REFERENCES hazard_types(code),
    description TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT NOT NULL DEFAULT '',
    grid_id BIGINT REFERENCES grids(id),
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    near_school BOOLEAN NOT NULL DEFAULT FALSE,
    people_affected BIGINT NOT NULL DEFAULT 0,
    likelihood BIGINT NOT NULL DEFAULT 3,
    risk_score BIGINT NOT NULL,
    risk TEXT NOT NULL,
    state TEXT NOT NULL,
    responsible_org_id BIGINT REFERENCES org_units(id),
    deadline_at BIGINT,
    found_by_id BIGINT REFERENCES users(id),
    found_by_name TEXT NOT NULL,
    source_task_id BIGINT REFERENCES tasks(id),
    failed_rechecks BIGINT NOT NULL DEFAULT 0,
    assigned_at BIGINT,
    signed_at BIGINT,
    rectified_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX hazards_org ON hazards(org_path);
CREATE INDEX hazards_risk ON hazards(risk_score, created_at);
CREATE INDEX hazards_responsible ON hazards(responsible_org_id);
CREATE INDEX hazards_task ON hazards(source_task_id);

CREATE TABLE hazard_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id BIGINT NOT NULL REFERENCES hazards(id),
    -- before (as found) | after (rectified)
    phase TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX hazard_files_hazard ON hazard_files(hazard_id);

CREATE TABLE hazard_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id BIGINT NOT NULL REFERENCES hazards(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX hazard_events_hazard ON hazard_events(hazard_id, id);

CREATE TABLE hazard_campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    type_codes TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_by_id BIGINT REFERENCES users(id),
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX hazard_campaigns_org ON hazard_campaigns(org_path);

CREATE TABLE hazard_campaign_checks (
    campaign_id BIGINT NOT NULL REFERENCES hazard_campaigns(id),
    hazard_id BIGINT NOT NULL REFERENCES hazards(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (campaign_id, hazard_id)
);

INSERT INTO catalogue_items (code, name, name_en, category, guideline, default_role, accept_hours, finish_workdays, active, updated_at, activity)
VALUES ('ZF-YH-JC', '隐患专项检查', 'Hazard campaign check', '除隐患',
 '专项行动期间到隐患点位实地检查：核对警示标志、防护设施和整改情况，拍照反馈；发现新问题的，在反馈中列出并转为隐患。',
 'community_officer', 24, 5, TRUE, 0, 'patrol')
ON CONFLICT (code) DO NOTHING;

-- Structured patrol and visit feedback: places or households visited and the
-- problems found (JSON), and what each problem became (a hazard or a dispute).
ALTER TABLE tasks ADD COLUMN feedback_data TEXT;
CREATE TABLE task_problems (
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    idx BIGINT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT,
    target_id BIGINT,
    PRIMARY KEY (task_id, idx)
);
