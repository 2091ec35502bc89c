-- Chinese official working-day calendar (法定节假日与调休上班), 2026–2027.
-- One row per day off inside a public-holiday block (kind 'holiday', weekend
-- days inside the block included) and one row per weekend make-up working day
-- (调休上班, kind 'workday'). Ordinary weekends are not listed: the code treats
-- Saturday and Sunday as rest days unless a row marks them 'workday'.
-- This file is identical for SQLite and PostgreSQL.

-- 2026. Source: 国务院办公厅关于2026年部分节假日安排的通知, dated 2025-11-04
-- (新华社北京11月4日电, as republished e.g. at
-- https://politics.gmw.cn/2025-11/04/content_38391083.htm). Official.
--   元旦 1月1日至3日放假, 1月4日(周日)上班;
--   春节 2月15日至23日放假, 2月14日(周六)、2月28日(周六)上班;
--   清明节 4月4日至6日; 劳动节 5月1日至5日, 5月9日(周六)上班;
--   端午节 6月19日至21日; 中秋节 9月25日至27日;
--   国庆节 10月1日至7日, 9月20日(周日)、10月10日(周六)上班.
INSERT INTO calendar_days (day, kind, name) VALUES
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦调休上班'),
    ('2026-02-14', 'workday', '春节调休上班'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节调休上班'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节调休上班'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-20', 'workday', '国庆节调休上班'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节调休上班');

-- 2027. PROVISIONAL: the State Council notice for 2027 (国务院办公厅关于2027年
-- 部分节假日安排的通知) could not be found when this file was written. These
-- rows are derived from the statutory holidays in force since 2025 (元旦1天,
-- 春节4天自除夕起, 清明1天, 劳动节2天, 端午1天, 中秋1天, 国庆3天), the 2027
-- dates (除夕 2月5日周五, 清明 4月5日周一, 端午 6月9日周三, 中秋 9月15日周三)
-- and the usual make-up pattern (春节放假调休8天, 劳动节5天, 国庆节7天; 逢周末
-- 补休; 周三的单日节日不调休). They MUST be replaced by the official notice
-- once it is published (a later migration deleting and re-inserting 2027 rows).
INSERT INTO calendar_days (day, kind, name) VALUES
    ('2027-01-01', 'holiday', '元旦'),
    ('2027-01-02', 'holiday', '元旦'),
    ('2027-01-03', 'holiday', '元旦'),
    ('2027-01-31', 'workday', '春节调休上班'),
    ('2027-02-05', 'holiday', '春节'),
    ('2027-02-06', 'holiday', '春节'),
    ('2027-02-07', 'holiday', '春节'),
    ('2027-02-08', 'holiday', '春节'),
    ('2027-02-09', 'holiday', '春节'),
    ('2027-02-10', 'holiday', '春节'),
    ('2027-02-11', 'holiday', '春节'),
    ('2027-02-12', 'holiday', '春节'),
    ('2027-02-13', 'workday', '春节调休上班'),
    ('2027-04-03', 'holiday', '清明节'),
    ('2027-04-04', 'holiday', '清明节'),
    ('2027-04-05', 'holiday', '清明节'),
    ('2027-05-01', 'holiday', '劳动节'),
    ('2027-05-02', 'holiday', '劳动节'),
    ('2027-05-03', 'holiday', '劳动节'),
    ('2027-05-04', 'holiday', '劳动节'),
    ('2027-05-05', 'holiday', '劳动节'),
    ('2027-05-08', 'workday', '劳动节调休上班'),
    ('2027-06-09', 'holiday', '端午节'),
    ('2027-09-15', 'holiday', '中秋节'),
    ('2027-09-26', 'workday', '国庆节调休上班'),
    ('2027-10-01', 'holiday', '国庆节'),
    ('2027-10-02', 'holiday', '国庆节'),
    ('2027-10-03', 'holiday', '国庆节'),
    ('2027-10-04', 'holiday', '国庆节'),
    ('2027-10-05', 'holiday', '国庆节'),
    ('2027-10-06', 'holiday', '国庆节'),
    ('2027-10-07', 'holiday', '国庆节'),
    ('2027-10-09', 'workday', '国庆节调休上班');
