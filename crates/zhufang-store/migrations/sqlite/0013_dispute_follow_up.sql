-- The catalogue item that dispute follow-up visits (回访, 7 and 30 days after a
-- settlement) are scheduled as, on the task loop. A deployment may edit its
-- name, guideline and limits like any catalogue item; the code is fixed.
INSERT INTO catalogue_items (code, name, name_en, category, guideline, default_role, accept_hours, finish_workdays, active, updated_at, activity)
VALUES ('ZF-MD-HF', '矛盾纠纷化解回访', 'Dispute follow-up visit', '矛盾纠纷',
 '对调解成功的矛盾纠纷，在第7天、第30天上门或电话回访，了解协议履行情况和当事人情绪变化；发现反复的，在纠纷台账中点“复发重启”重新调处。',
 'community_officer', 24, 3, TRUE, 0, 'visit')
ON CONFLICT (code) DO NOTHING;

-- Which tasks are a dispute's follow-up visits (day 7, day 30, …).
CREATE TABLE dispute_follow_ups (
    dispute_id BIGINT NOT NULL REFERENCES disputes(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    day BIGINT NOT NULL,
    PRIMARY KEY (dispute_id, task_id)
);

-- Days to settle a dispute of each class (for the on-time rate), editable.
ALTER TABLE dispute_classes ADD COLUMN limit_days BIGINT NOT NULL DEFAULT 15;
UPDATE dispute_classes SET limit_days = 3 WHERE code = 'A';
UPDATE dispute_classes SET limit_days = 30 WHERE code = 'C';
