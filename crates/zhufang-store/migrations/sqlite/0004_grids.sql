-- Grids (警务区 / 网格 / 村): geometry as GeoJSON (WGS-84) plus its bounding
-- box in 1e-7 degrees; routing happens in the application (R-tree + exact
-- integer containment), so no spatial extension is needed on either backend.
CREATE TABLE grids (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    officer_id BIGINT REFERENCES users(id),
    village TEXT,
    geometry TEXT NOT NULL,
    min_x BIGINT NOT NULL,
    min_y BIGINT NOT NULL,
    max_x BIGINT NOT NULL,
    max_y BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
CREATE INDEX grids_station ON grids(station_id);

CREATE TABLE grid_auxiliaries (
    grid_id BIGINT NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (grid_id, user_id)
);

-- Every edit keeps who, when and what the grid was before.
CREATE TABLE grid_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grid_id BIGINT NOT NULL REFERENCES grids(id),
    changed_at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    old_name TEXT NOT NULL,
    old_station_id BIGINT NOT NULL,
    old_geometry TEXT NOT NULL
);
CREATE INDEX grid_history_grid ON grid_history(grid_id, id);

ALTER TABLE tasks ADD COLUMN grid_id BIGINT REFERENCES grids(id);
CREATE INDEX tasks_grid ON tasks(grid_id);
