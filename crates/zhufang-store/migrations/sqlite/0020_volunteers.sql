-- 群防群治 (issue 6, section 3): volunteers (红马甲, 义警, …) with the least
-- personal data — a name and a phone, shown masked, every full read audited,
-- purged on request (name overwritten, phone cleared, attendance kept as
-- anonymous counts) — posts such as a school gate (护学岗) staffed on its
-- weekdays and time slots (Beijing time, `07:20-08:00,16:30-17:30`), the
-- shifts of those slots (made when first needed, one per post, day and
-- start), sign-ups for a shift and attendance marked by the post's officer.
CREATE TABLE volunteers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    -- 红马甲, 义警, 平安志愿者, a school's parents, …
    organisation TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    purged_at BIGINT,
    purged_by BIGINT REFERENCES users(id)
);
CREATE INDEX volunteers_path ON volunteers(org_path, id);

CREATE TABLE volunteer_posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    name TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    -- the officer who marks attendance
    officer_id BIGINT NOT NULL REFERENCES users(id),
    -- ISO weekdays `1,2,3,4,5` and slots `07:20-08:00,16:30-17:30`
    weekdays TEXT NOT NULL,
    slots TEXT NOT NULL,
    -- only on working days of the calendar (holidays off, make-up days on)
    workdays_only BOOLEAN NOT NULL DEFAULT FALSE,
    -- volunteers wanted per shift
    capacity BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX volunteer_posts_path ON volunteer_posts(org_path, id);

CREATE TABLE volunteer_shifts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id BIGINT NOT NULL REFERENCES volunteer_posts(id),
    -- local day and times
    day TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    -- sign-ups so far (raised under the row lock, never past the post's capacity)
    signed BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (post_id, day, start_time)
);
CREATE INDEX volunteer_shifts_day ON volunteer_shifts(day, post_id);

CREATE TABLE volunteer_signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shift_id BIGINT NOT NULL REFERENCES volunteer_shifts(id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    signed_at BIGINT NOT NULL,
    signed_by BIGINT REFERENCES users(id),
    -- present, late or absent; NULL until marked
    attendance TEXT CHECK (attendance IN ('present', 'late', 'absent')),
    marked_by BIGINT REFERENCES users(id),
    marked_at BIGINT,
    UNIQUE (shift_id, volunteer_id)
);
CREATE INDEX volunteer_signups_volunteer ON volunteer_signups(volunteer_id);
