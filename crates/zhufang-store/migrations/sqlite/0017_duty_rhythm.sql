-- The duty rhythm (八个一): catalogue items for the eight duties, duty
-- templates (a recurrence as an RRULE, Asia/Shanghai, with a holiday policy),
-- and the occurrences the scheduler has turned into tasks — keyed by the day
-- the rule gave and the person, so a window generated twice creates nothing new
-- (keyed by the day it happens: two rule days moved onto one workday are one duty).
INSERT INTO catalogue_items (code, name, name_en, category, guideline, default_role, accept_hours, finish_workdays, active, updated_at, activity) VALUES
 ('ZF-BG-01', '每日一调度', 'Daily dispatch meeting', '八个一', '每个工作日早上由指挥室召集当日调度：通报前一日警情、部署当日巡逻防控和重点工作。', 'command_room', 2, 1, TRUE, 0, ''),
 ('ZF-BG-02', '每日一巡查', 'Daily patrol', '八个一', '每天按巡查路线对警务区的重点部位、水域、学校周边开展巡查，发现问题当场处置或上报。', 'auxiliary', 4, 1, TRUE, 0, 'patrol'),
 ('ZF-BG-03', '每周一研判', 'Weekly analysis', '八个一', '每周一由所领导组织研判上周警情、矛盾纠纷和隐患，确定本周防控重点。', 'station_leader', 8, 1, TRUE, 0, ''),
 ('ZF-BG-04', '每周一走访', 'Weekly visits', '八个一', '社区民警每周走访辖区群众、重点单位和场所，收集社情民意，排查矛盾隐患。', 'community_officer', 8, 2, TRUE, 0, 'visit'),
 ('ZF-BG-05', '每月一检查', 'Monthly inspection', '八个一', '每月对警务区工作台账、重点场所安全防范和上月问题整改情况开展一次检查。', 'station_leader', 24, 3, TRUE, 0, ''),
 ('ZF-BG-06', '每月一练兵', 'Monthly training', '八个一', '每月组织一次实战练兵：警情处置、应急处突、装备使用和法律法规学习。', 'station_leader', 24, 3, TRUE, 0, ''),
 ('ZF-BG-07', '每月一谈心', 'Monthly talks', '八个一', '所领导每月与民警、辅警谈心谈话，了解思想、工作和家庭情况。', 'station_leader', 24, 3, TRUE, 0, ''),
 ('ZF-BG-08', '每月一小结', 'Monthly review', '八个一', '每月最后一个工作日小结本月工作，查找问题，部署下月重点。', 'station_leader', 8, 1, TRUE, 0, '')
ON CONFLICT (code) DO NOTHING;

CREATE TABLE duty_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    catalogue_code TEXT NOT NULL REFERENCES catalogue_items(code),
    -- who does it: a named person, or everyone with this role in each station of the scope
    role TEXT,
    assignee_id BIGINT REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES org_units(id),
    rrule TEXT NOT NULL,
    start_day TEXT NOT NULL,
    at_time TEXT NOT NULL,
    holiday TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- seeded from 八个一 (one of each per station)
    seeded BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX duty_templates_org ON duty_templates(org_id);

CREATE TABLE duty_occurrences (
    template_id BIGINT NOT NULL REFERENCES duty_templates(id),
    -- the day the rule gave (before any holiday move), and the person
    due_day TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    -- the day it happens
    day TEXT NOT NULL,
    task_id BIGINT REFERENCES tasks(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (template_id, day, user_id)
);
CREATE INDEX duty_occurrences_user ON duty_occurrences(user_id, day);
