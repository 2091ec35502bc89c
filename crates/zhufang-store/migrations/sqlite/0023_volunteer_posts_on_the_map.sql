-- Volunteer posts (护学岗 …) are a layer of the map: a located post has a map
-- item (kind 'volunteer_post', open while the post is active) and keeps the
-- grid its point falls in. Posts placed before this are added here and
-- routed by the re-routing job, requested below (it runs at start).
ALTER TABLE volunteer_posts ADD COLUMN grid_id BIGINT REFERENCES grids(id);
INSERT INTO map_items (kind, item_id, label, category, activity, state, is_open, deadline_at, done_at, org_path,
                       lat_e7, lon_e7, grid_id, station_id, occurred_at)
SELECT 'volunteer_post', p.id, p.name, 'post', '', CASE WHEN p.active THEN 'active' ELSE 'inactive' END, p.active,
       NULL, NULL, p.org_path, CAST(ROUND(p.lat * 10000000) AS BIGINT), CAST(ROUND(p.lon * 10000000) AS BIGINT),
       NULL, p.station_id, p.created_at
FROM volunteer_posts p WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL;
INSERT INTO jobs (name, state, cursor_id, total, done, changed, requested_at, finished_at)
SELECT 'reroute_items', 'pending', 0, 0, 0, 0, 0, NULL
WHERE EXISTS (SELECT 1 FROM volunteer_posts WHERE lat IS NOT NULL)
ON CONFLICT (name) DO UPDATE SET state = 'pending', cursor_id = 0, total = 0, done = 0, changed = 0, finished_at = NULL;
