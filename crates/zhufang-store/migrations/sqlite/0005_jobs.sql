-- Resumable background jobs (e.g. re-routing located items after grids
-- change): the cursor is saved with each batch, so a restart continues.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
    cursor_id BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    requested_at BIGINT NOT NULL,
    finished_at BIGINT
);
