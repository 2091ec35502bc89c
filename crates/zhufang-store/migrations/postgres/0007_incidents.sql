-- Incidents (警情): the 4-level type dictionary (类别/类型/细类/子类, seeded
-- from the public code lists; a deployment edits the rows), the incidents
-- with their step times, and their timeline. Phones are stored whole and
-- shown masked; every full read is audited.
CREATE TABLE incident_types (
    code TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES incident_types(code),
    level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 4),
    name TEXT NOT NULL,
    -- the usual decision for this type: a police matter or not (国办发〔2022〕12号 scope)
    police BOOLEAN NOT NULL DEFAULT TRUE,
    -- a dispute: repeat calls link over the longer window
    dispute BOOLEAN NOT NULL DEFAULT FALSE,
    sort BIGINT NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('01', NULL, 1, '刑事类警情', TRUE, FALSE, 0);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0101', '01', 2, '盗窃', TRUE, FALSE, 1);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010101', '0101', 3, '入室盗窃', TRUE, FALSE, 2);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010102', '0101', 3, '盗窃机动车', TRUE, FALSE, 3);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010103', '0101', 3, '盗窃车内财物', TRUE, FALSE, 4);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010104', '0101', 3, '扒窃', TRUE, FALSE, 5);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010199', '0101', 3, '其他盗窃', TRUE, FALSE, 6);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0102', '01', 2, '诈骗', TRUE, FALSE, 7);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010201', '0102', 3, '电信诈骗', TRUE, FALSE, 8);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('01020101', '010201', 4, '冒充公检法', TRUE, FALSE, 9);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('01020102', '010201', 4, '刷单返利', TRUE, FALSE, 10);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('01020103', '010201', 4, '虚假投资理财', TRUE, FALSE, 11);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('01020104', '010201', 4, '冒充客服', TRUE, FALSE, 12);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010202', '0102', 3, '网络诈骗', TRUE, FALSE, 13);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010203', '0102', 3, '信用卡诈骗', TRUE, FALSE, 14);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010204', '0102', 3, '迷信诈骗', TRUE, FALSE, 15);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('010299', '0102', 3, '其他诈骗', TRUE, FALSE, 16);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0103', '01', 2, '抢劫抢夺', TRUE, FALSE, 17);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0104', '01', 2, '伤害', TRUE, FALSE, 18);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0105', '01', 2, '杀人', TRUE, FALSE, 19);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0106', '01', 2, '敲诈勒索', TRUE, FALSE, 20);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0107', '01', 2, '强奸', TRUE, FALSE, 21);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0108', '01', 2, '爆炸', TRUE, FALSE, 22);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0109', '01', 2, '投毒', TRUE, FALSE, 23);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0110', '01', 2, '贩毒', TRUE, FALSE, 24);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0199', '01', 2, '其他刑事', TRUE, FALSE, 25);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('02', NULL, 1, '行政（治安）类警情', TRUE, FALSE, 26);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0201', '02', 2, '殴打他人', TRUE, FALSE, 27);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0202', '02', 2, '扰乱公共秩序', TRUE, FALSE, 28);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0203', '02', 2, '损毁公私财物', TRUE, FALSE, 29);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0204', '02', 2, '威胁恐吓', TRUE, FALSE, 30);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0205', '02', 2, '侵犯人身权利', TRUE, FALSE, 31);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0206', '02', 2, '强制消费', TRUE, FALSE, 32);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0207', '02', 2, '物品失窃', TRUE, FALSE, 33);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0299', '02', 2, '其他治安', TRUE, FALSE, 34);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('03', NULL, 1, '道路交通类警情', TRUE, FALSE, 35);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0301', '03', 2, '道路交通事故', TRUE, FALSE, 36);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0302', '03', 2, '非道路交通事故', TRUE, FALSE, 37);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0303', '03', 2, '交通堵塞', TRUE, FALSE, 38);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0304', '03', 2, '挪车', FALSE, FALSE, 39);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0399', '03', 2, '其他交通', TRUE, FALSE, 40);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('04', NULL, 1, '纠纷', TRUE, TRUE, 41);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0401', '04', 2, '民事纠纷', TRUE, TRUE, 42);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0402', '04', 2, '经济纠纷', TRUE, TRUE, 43);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0403', '04', 2, '家庭纠纷', TRUE, TRUE, 44);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0404', '04', 2, '邻里纠纷', TRUE, TRUE, 45);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0405', '04', 2, '劳资纠纷', FALSE, TRUE, 46);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0406', '04', 2, '物业纠纷', FALSE, TRUE, 47);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0499', '04', 2, '其他纠纷', TRUE, TRUE, 48);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('05', NULL, 1, '群众紧急求助', TRUE, FALSE, 49);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0501', '05', 2, '人员失踪', TRUE, FALSE, 50);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0502', '05', 2, '溺水', TRUE, FALSE, 51);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0503', '05', 2, '坠楼自杀', TRUE, FALSE, 52);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0504', '05', 2, '水电气热险情', TRUE, FALSE, 53);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0505', '05', 2, '自然灾害险情', TRUE, FALSE, 54);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0506', '05', 2, '日常生活求助', FALSE, FALSE, 55);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0507', '05', 2, '卫生求助', FALSE, FALSE, 56);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0508', '05', 2, '社会救助', FALSE, FALSE, 57);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0599', '05', 2, '其他群众求助', TRUE, FALSE, 58);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('06', NULL, 1, '火灾事故', TRUE, FALSE, 59);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0601', '06', 2, '火灾', TRUE, FALSE, 60);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0699', '06', 2, '其他火灾', TRUE, FALSE, 61);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('07', NULL, 1, '群体性事件', TRUE, FALSE, 62);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0701', '07', 2, '群体性事件', TRUE, FALSE, 63);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('08', NULL, 1, '社会联动', FALSE, FALSE, 64);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0801', '08', 2, '公共设施维护', FALSE, FALSE, 65);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0802', '08', 2, '非法排污', FALSE, FALSE, 66);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0803', '08', 2, '林水管理', FALSE, FALSE, 67);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0804', '08', 2, '物业管理', FALSE, FALSE, 68);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0899', '08', 2, '其他联动', FALSE, FALSE, 69);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('09', NULL, 1, '咨询', FALSE, FALSE, 70);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0901', '09', 2, '政策咨询', FALSE, FALSE, 71);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('0902', '09', 2, '办事咨询', FALSE, FALSE, 72);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('10', NULL, 1, '举报', TRUE, FALSE, 73);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('1001', '10', 2, '举报线索', TRUE, FALSE, 74);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('11', NULL, 1, '投诉监督', TRUE, FALSE, 75);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('1101', '11', 2, '投诉民警', TRUE, FALSE, 76);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('12', NULL, 1, '其他警情', TRUE, FALSE, 77);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('1299', '12', 2, '其他', TRUE, FALSE, 78);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('13', NULL, 1, '无效警情', FALSE, FALSE, 79);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('1301', '13', 2, '骚扰电话', FALSE, FALSE, 80);
INSERT INTO incident_types (code, parent_code, level, name, police, dispute, sort) VALUES ('1302', '13', 2, '谎报警情', FALSE, FALSE, 81);

CREATE TABLE incidents (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    caller_name TEXT,
    caller_phone TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT NOT NULL DEFAULT '',
    grid_id BIGINT REFERENCES grids(id),
    station_id BIGINT NOT NULL REFERENCES org_units(id),
    org_path TEXT NOT NULL,
    description TEXT NOT NULL,
    type_code TEXT REFERENCES incident_types(code),
    severity BIGINT NOT NULL DEFAULT 1 CHECK (severity BETWEEN 1 AND 3),
    police BOOLEAN,
    state TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users(id),
    agency_id BIGINT REFERENCES org_units(id),
    result TEXT,
    rating BIGINT,
    repeat_of BIGINT REFERENCES incidents(id),
    triage TEXT NOT NULL DEFAULT '{}',
    creator_id BIGINT REFERENCES users(id),
    triaged_at BIGINT,
    dispatched_at BIGINT,
    arrived_at BIGINT,
    handled_at BIGINT,
    diverted_at BIGINT,
    signed_for_at BIGINT,
    agency_done_at BIGINT,
    returned_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX incidents_phone ON incidents(caller_phone, received_at);
CREATE INDEX incidents_received ON incidents(received_at);
CREATE INDEX incidents_org ON incidents(org_path);
CREATE INDEX incidents_agency ON incidents(agency_id);

CREATE TABLE incident_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);
