-- Everything with a place, for the map, the grid figures and the unrouted
-- queue: one row per located item (tasks now; incidents, disputes and hazards
-- add their own kind). The owning module writes it in the same transaction as
-- the item; routing fills grid_id (NULL = outside every grid) and station_id
-- (the grid's station, or the nearest station's for an unrouted item).
CREATE TABLE map_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item_id BIGINT NOT NULL,
    label TEXT NOT NULL,
    category TEXT NOT NULL,
    activity TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    is_open BOOLEAN NOT NULL,
    deadline_at BIGINT,
    done_at BIGINT,
    org_path TEXT NOT NULL,
    lat_e7 BIGINT NOT NULL,
    lon_e7 BIGINT NOT NULL,
    grid_id BIGINT REFERENCES grids(id),
    station_id BIGINT REFERENCES org_units(id),
    occurred_at BIGINT NOT NULL,
    UNIQUE (kind, item_id)
);
CREATE INDEX map_items_pos ON map_items(lon_e7, lat_e7);
CREATE INDEX map_items_time ON map_items(occurred_at);
CREATE INDEX map_items_grid ON map_items(grid_id);
CREATE INDEX map_items_unrouted ON map_items(station_id) WHERE grid_id IS NULL;

-- Which duty a catalogue item is, for the duty map's coverage: patrol, visit or none.
ALTER TABLE catalogue_items ADD COLUMN activity TEXT NOT NULL DEFAULT '';

INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, done_at, org_path,
                       lat_e7, lon_e7, grid_id, station_id, occurred_at)
SELECT 'task', t.id, t.number || ' ' || t.title, t.catalogue_code, '', t.state,
       t.state NOT IN ('evaluated', 'cancelled'), t.deadline_at, t.feedback_at, t.org_path,
       CAST(ROUND(t.lat * 10000000) AS BIGINT), CAST(ROUND(t.lon * 10000000) AS BIGINT),
       t.grid_id, (SELECT g.station_id FROM grids g WHERE g.id = t.grid_id), t.created_at
FROM tasks t WHERE t.lat IS NOT NULL AND t.lon IS NOT NULL;
