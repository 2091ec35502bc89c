-- zhufang schema, SQLite flavour. Times are BIGINT milliseconds since the
-- Unix epoch, UTC. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE org_units (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES org_units(id),
    path TEXT NOT NULL
);
CREATE INDEX org_units_path ON org_units(path);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    phone TEXT,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_unit_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL,
    success BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);

CREATE TABLE catalogue_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    guideline TEXT NOT NULL,
    default_role TEXT NOT NULL,
    accept_hours INTEGER NOT NULL,
    finish_workdays INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workflow_states (
    workflow TEXT NOT NULL,
    state TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    terminal BOOLEAN NOT NULL,
    initial BOOLEAN NOT NULL,
    sort INTEGER NOT NULL,
    PRIMARY KEY (workflow, state)
);

CREATE TABLE workflow_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow TEXT NOT NULL,
    from_state TEXT NOT NULL,
    action TEXT NOT NULL,
    to_state TEXT NOT NULL,
    allowed TEXT NOT NULL,
    required_fields TEXT NOT NULL,
    effects TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    sort INTEGER NOT NULL,
    UNIQUE (workflow, from_state, action)
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    catalogue_code TEXT NOT NULL REFERENCES catalogue_items(code),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    state TEXT NOT NULL,
    creator_id INTEGER REFERENCES users(id),
    dispatcher_id INTEGER REFERENCES users(id),
    assignee_id INTEGER REFERENCES users(id),
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    due_at BIGINT,
    clock_started_at BIGINT,
    due_soon_at BIGINT,
    deadline_at BIGINT,
    rework_count INTEGER NOT NULL DEFAULT 0,
    refuse_count INTEGER NOT NULL DEFAULT 0,
    score INTEGER,
    eval_comment TEXT,
    feedback_text TEXT,
    feedback_lat DOUBLE PRECISION,
    feedback_lon DOUBLE PRECISION,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    dispatched_at BIGINT,
    accepted_at BIGINT,
    started_at BIGINT,
    feedback_at BIGINT,
    closed_at BIGINT,
    overdue_notified_at BIGINT,
    due_soon_notified_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tasks_org_path ON tasks(org_path);
CREATE INDEX tasks_assignee ON tasks(assignee_id, state);
CREATE INDEX tasks_deadline ON tasks(deadline_at);
CREATE INDEX tasks_created ON tasks(created_at);
CREATE INDEX tasks_state ON tasks(state);

CREATE TABLE task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    at BIGINT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX task_events_task ON task_events(task_id, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    event_id INTEGER REFERENCES task_events(id),
    stored_name TEXT NOT NULL,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by INTEGER REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_task ON attachments(task_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    task_id INTEGER REFERENCES tasks(id),
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    action TEXT NOT NULL,
    before_digest TEXT NOT NULL,
    after_digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
