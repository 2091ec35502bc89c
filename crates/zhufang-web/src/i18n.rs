//! zh-CN first, English available. The language comes from the `zf_lang`
//! cookie (set by the switch in the top bar); every page string is a key here.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_headers(h: &HeaderMap) -> Lang {
        let cookie = h.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
        if cookie.split(';').any(|c| c.trim() == "zf_lang=en") { Lang::En } else { Lang::Zh }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Translator handed to every template as `tr`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    pub fn t(&self, key: &str) -> &'static str {
        match TABLE.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
            Ok(i) => match self.lang {
                Lang::Zh => TABLE[i].1,
                Lang::En => TABLE[i].2,
            },
            Err(_) => {
                tracing::warn!(key, "missing translation");
                "?"
            }
        }
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// Picks the zh or en variant of a data label.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.lang == Lang::En && !en.is_empty() { en } else { zh }
    }
}

/// (key, zh-CN, en), sorted by key (a unit test checks the order and that
/// every key used in a template is here).
pub static TABLE: &[(&str, &str, &str)] = &[
    ("account.change_password", "修改密码", "Change password"),
    ("account.current_password", "当前密码", "Current password"),
    ("account.must_change", "首次登录或密码被重置，请先设置新密码。", "Please set a new password before continuing."),
    ("account.new_password", "新密码", "New password"),
    ("account.password_changed", "密码已修改", "Password changed"),
    ("account.password_rule", "8至128位，同时包含字母和数字", "8–128 characters with letters and digits"),
    ("action.back", "返回", "Back"),
    ("action.cancel", "取消", "Cancel"),
    ("action.create", "新建", "Create"),
    ("action.edit", "编辑", "Edit"),
    ("action.export", "导出Excel", "Export xlsx"),
    ("action.reset", "重置", "Reset"),
    ("action.save", "保存", "Save"),
    ("action.search", "查询", "Search"),
    ("action.submit", "提交", "Submit"),
    ("app.name", "派出所主防平台", "Station Prevention Platform"),
    ("app.short", "主防", "Zhufang"),
    ("audit.action", "操作", "Action"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.at", "时间", "Time"),
    ("audit.broken", "审计链已被破坏", "Audit chain BROKEN"),
    ("audit.hash", "哈希", "Hash"),
    ("audit.intact", "审计链完整", "Audit chain intact"),
    ("audit.object", "对象", "Object"),
    ("audit.verify", "校验审计链", "Verify chain"),
    ("board.due_soon", "即将到期", "Due soon"),
    ("board.my_tasks", "我的任务", "My tasks"),
    ("board.none", "暂无", "Nothing here"),
    ("board.open", "在办任务", "Open tasks"),
    ("board.overdue", "已超期", "Overdue"),
    ("board.title", "工作台", "Dashboard"),
    ("board.to_evaluate", "待评价", "To evaluate"),
    ("cal.day", "日期", "Day"),
    ("cal.holiday", "放假", "Holiday"),
    ("cal.kind", "类型", "Kind"),
    ("cal.name", "名称", "Name"),
    ("cal.ordinary", "恢复为普通日", "Ordinary day"),
    ("cal.title", "工作日历（法定节假日与调休）", "Working-day calendar (holidays and make-up days)"),
    ("cal.workday", "调休上班", "Make-up workday"),
    ("cat.accept_hours", "接单时限(小时)", "Accept within (hours)"),
    ("cat.active", "启用", "Active"),
    ("cat.activity", "勤务类型", "Duty type"),
    ("cat.activity_none", "不计", "None"),
    ("cat.activity_patrol", "巡查", "Patrol"),
    ("cat.activity_visit", "走访", "Visit"),
    ("cat.category", "防什么", "Category"),
    ("cat.code", "编码", "Code"),
    ("cat.default_role", "谁来防", "Responsible role"),
    ("cat.finish_workdays", "办结时限(工作日)", "Finish within (workdays)"),
    ("cat.guideline", "怎么防(工作指引)", "Guideline"),
    ("cat.inactive", "停用", "Inactive"),
    ("cat.name", "事项名称", "Item"),
    ("cat.name_en", "英文名称", "English name"),
    ("cat.title", "主防职责任务清单", "Prevention task catalogue"),
    ("common.actions", "操作", "Actions"),
    ("common.all", "全部", "All"),
    ("common.no", "否", "No"),
    ("common.page", "页", "page"),
    ("common.total", "共", "Total"),
    ("common.yes", "是", "Yes"),
    ("dispute.accepted_at", "受理时间", "Accepted"),
    ("dispute.agreement", "协议内容", "Agreement"),
    ("dispute.amount", "涉及金额（元）", "Amount (yuan)"),
    ("dispute.board", "预警看板", "Warning board"),
    (
        "dispute.board_hint",
        "在办的红色、橙色预警纠纷，红色在前、登记早的在前。",
        "Open red and orange disputes, red first, oldest first.",
    ),
    ("dispute.category", "纠纷类别", "Category"),
    ("dispute.class", "ABC分类", "Class"),
    ("dispute.closed_at", "归档时间", "Archived"),
    ("dispute.colour", "预警", "Warning"),
    ("dispute.description", "纠纷情况", "Description"),
    ("dispute.escalated_at", "上报时间", "Escalated"),
    ("dispute.escalations", "上报记录", "Escalations"),
    ("dispute.failed", "调解失败次数", "Failed mediations"),
    ("dispute.fired", "触发的预警规则", "Rules that fired"),
    ("dispute.follow_up_day", "调解后第几天", "Day after settlement"),
    ("dispute.follow_ups", "回访任务", "Follow-up visits"),
    ("dispute.from_incident", "由警情转来：", "From incident"),
    ("dispute.held_at", "调解时间", "Held at"),
    ("dispute.incidents", "关联警情", "Linked incidents"),
    ("dispute.kind", "类型", "Kind"),
    ("dispute.level", "化解层级", "Level"),
    ("dispute.link_incident", "关联警情ID", "Link an incident (id)"),
    ("dispute.mediators", "调解员", "Mediators"),
    ("dispute.new", "登记矛盾纠纷", "Register a dispute"),
    ("dispute.number", "编号", "Number"),
    ("dispute.outcome", "调解结果", "Outcome"),
    ("dispute.parties", "当事人", "Parties"),
    (
        "dispute.parties_hint",
        "只填姓名（名称）和电话；默认脱敏显示，查看完整信息会记入审计日志。空行不保存。",
        "Name and phone only; shown masked, every full read is audited. Blank rows are skipped.",
    ),
    ("dispute.party_name", "姓名/名称", "Name"),
    ("dispute.party_phone", "联系电话", "Phone"),
    ("dispute.people", "涉及人数", "People involved"),
    ("dispute.place", "调解地点", "Place"),
    ("dispute.reason", "上报人与理由", "By and why"),
    ("dispute.registered", "登记", "Registered"),
    ("dispute.registered_at", "登记时间", "Registered"),
    ("dispute.relapses", "复发次数", "Relapses"),
    ("dispute.search_hint", "编号、标题、情况或地址", "Number, title, description or address"),
    ("dispute.sessions", "调解记录", "Mediation sessions"),
    ("dispute.settled_at", "化解时间", "Settled"),
    ("dispute.side", "身份", "Side"),
    ("dispute.signed", "签收", "Signed for"),
    ("dispute.source", "发现方式", "Found by"),
    ("dispute.submit", "登记", "Register"),
    ("dispute.title", "标题", "Title"),
    ("dispute.to_leaders", "本所领导签收", "The station's leaders"),
    ("dispute.to_org", "接收单位", "Receiving body"),
    ("dispute.unclassed", "待受理时分类", "Set on acceptance"),
    ("dispute.unsigned", "待签收", "Not yet signed"),
    ("error.title", "出错了", "Something went wrong"),
    ("grid.auxiliaries", "驻村(社区)辅警", "Auxiliaries"),
    ("grid.changed_at", "修改时间", "Changed at"),
    ("grid.changed_by", "修改人", "Changed by"),
    ("grid.code", "网格编码", "Code"),
    ("grid.commit", "确认导入", "Commit import"),
    ("grid.created", "新增", "Created"),
    ("grid.datum", "坐标系", "Datum"),
    ("grid.datum_amap", "高德", "Amap"),
    ("grid.datum_baidu", "百度", "Baidu"),
    ("grid.export", "导出GeoJSON", "Export GeoJSON"),
    ("grid.file", "GeoJSON 文件", "GeoJSON file"),
    ("grid.gaps", "空隙", "Gaps"),
    ("grid.geometry", "边界(GeoJSON，WGS-84)", "Boundary (GeoJSON, WGS-84)"),
    (
        "grid.geometry_hint",
        "可粘贴 Polygon / MultiPolygon 几何，或只含一个要素的 Feature / FeatureCollection；留空则不改边界。",
        "Paste a Polygon / MultiPolygon geometry, or a Feature / FeatureCollection of one; leave empty to keep the boundary.",
    ),
    ("grid.history", "修改历史", "History"),
    ("grid.import", "导入网格", "Import grids"),
    ("grid.import_done", "已导入", "Imported"),
    ("grid.import_failed", "文件有误，未导入任何内容", "The file has problems; nothing was imported"),
    (
        "grid.import_hint",
        "上传 GeoJSON FeatureCollection（每个要素的属性：code 15位网格编码、name、station 派出所编码、kind、officer、auxiliaries、village）。先预览：所有问题按要素序号列出，有任何问题则不写入；同一派出所网格间的重叠与空隙会提示。确认后导入，已落点的事项在后台重新落格。",
        "Upload a GeoJSON FeatureCollection (properties: code (15 digits), name, station (org code), kind, officer, auxiliaries, village). Preview first: every problem is listed by feature index and nothing is written while any remain; overlaps and gaps between a station's grids are reported. Commit, and located items are re-routed in the background.",
    ),
    ("grid.import_ok", "校验通过", "Checks passed"),
    ("grid.kind", "类型", "Kind"),
    ("grid.name", "网格名称", "Name"),
    ("grid.no_history", "尚无修改记录", "No changes yet"),
    ("grid.none", "未配备", "None"),
    ("grid.officer", "社区民警", "Community officer"),
    ("grid.old_geometry", "原边界", "Old boundary"),
    ("grid.old_name", "原名称", "Old name"),
    ("grid.overlaps", "重叠", "Overlaps"),
    ("grid.preview", "预览校验", "Preview"),
    ("grid.reroute", "重新落格进度", "Re-routing progress"),
    ("grid.search_hint", "编码、名称、村(社区)、民警", "Code, name, village, officer"),
    ("grid.show_on_map", "在地图上显示", "Show on map"),
    ("grid.station", "所属派出所", "Station"),
    ("grid.updated", "更新", "Updated"),
    ("grid.version", "版本", "Version"),
    ("grid.village", "村(社区)", "Village / community"),
    ("inbox.actions", "操作", "Actions"),
    ("inbox.closed", "已归档", "Closed"),
    ("inbox.done", "待回访", "Done, awaiting call-back"),
    ("inbox.finish_by", "办结时限", "Finish by"),
    ("inbox.from", "移交单位", "From"),
    ("inbox.in_hand", "办理中", "In hand"),
    ("inbox.late_by", "已超时", "late by"),
    ("inbox.left", "后到期", "left"),
    ("inbox.limit", "办理时限", "Time limit"),
    ("inbox.overdue", "已超时", "Late"),
    ("inbox.reason", "退回理由", "Reason for returning"),
    ("inbox.result_text", "办理结果", "What was done"),
    ("inbox.returned", "已退回", "Returned"),
    ("inbox.sign_by", "签收时限", "Sign for by"),
    ("inbox.to_sign", "待签收", "To sign for"),
    ("incident.address", "地址", "Address"),
    ("incident.agency", "联动单位", "Partner agency"),
    ("incident.agency_done", "办结率", "Finished"),
    ("incident.agency_done_at", "办结时间", "Done by agency"),
    ("incident.agency_on_time", "联动按时办结率", "Agency on time"),
    ("incident.agency_redo", "重办率", "Re-handed over"),
    ("incident.agency_return", "回退率", "Returned"),
    ("incident.agency_sign_for", "联动签收率", "Agency signed"),
    ("incident.arrival_avg", "平均到场（分钟）", "Avg arrival (min)"),
    ("incident.arrival_median", "到场中位数（分钟）", "Median arrival (min)"),
    ("incident.arrived_at", "到场时间", "Arrived"),
    ("incident.assignee", "出警民警", "Officer sent"),
    ("incident.by_grid", "按网格", "By grid"),
    ("incident.by_station", "按派出所", "By station"),
    ("incident.callback", "回访率", "Called back"),
    ("incident.caller_name", "报警人", "Caller"),
    ("incident.caller_phone", "联系电话", "Phone"),
    ("incident.channel", "来源渠道", "Channel"),
    ("incident.closed_at", "结束时间", "Closed"),
    ("incident.count", "警情数", "Incidents"),
    ("incident.decision", "警务/非警务", "Police or not"),
    ("incident.department", "责任部门", "Responsible department"),
    ("incident.department_keep", "采纳建议", "As suggested"),
    ("incident.description", "警情描述", "Description"),
    ("incident.dispatched_at", "派警时间", "Dispatched"),
    ("incident.diversion", "分流率", "Diverted"),
    ("incident.diverted_at", "分流时间", "Diverted"),
    ("incident.done_due_at", "办结时限", "Finish by"),
    ("incident.escalated_at", "超时提醒", "Escalated"),
    ("incident.feedback_min", "处置反馈（分钟）", "Feedback (min)"),
    ("incident.figures", "接处警指标", "Response figures"),
    (
        "incident.figures_hint",
        "签收：接警至研判；出警到场：派警至到场；处置反馈：到场至处置完毕。自处率：非立案警情中现场自处的比例；分流率：研判后移交联动单位的比例。",
        "Sign-for: received to triaged; turn-out: dispatched to arrived; feedback: arrived to handled. Self-handled: share of non-case matters closed on site; diverted: share of triaged incidents handed to an agency.",
    ),
    ("incident.group_by", "分组", "Group by"),
    ("incident.handled_at", "处置完毕", "Handled"),
    ("incident.keep", "（不改）", "(keep)"),
    (
        "incident.keyboard_hint",
        "光标已在“警情描述”；Tab 切换字段，Ctrl+Enter 提交。",
        "The cursor is in the description; Tab moves between fields, Ctrl+Enter submits.",
    ),
    ("incident.new", "接警登记", "New incident"),
    ("incident.non_police", "非警务类", "Non-police"),
    ("incident.number", "警情编号", "Number"),
    ("incident.place", "所属派出所 · 网格", "Station · grid"),
    ("incident.police", "警务类", "Police matter"),
    ("incident.rating", "回访评价", "Call-back rating"),
    ("incident.received", "接警", "Received"),
    ("incident.received_at", "接警时间", "Received"),
    ("incident.register_dispute", "登记矛盾纠纷", "Register a dispute"),
    ("incident.repeat", "重复报警", "Repeat call"),
    ("incident.repeat_rate", "重复报警率", "Repeat calls"),
    ("incident.result", "处置结果", "Result"),
    ("incident.returned_at", "退回时间", "Returned"),
    ("incident.satisfaction", "满意率", "Satisfied"),
    ("incident.search_hint", "编号、描述、地址", "Number, description, address"),
    ("incident.self_handled", "自处率", "Self-handled"),
    ("incident.severity", "警情等级", "Severity"),
    ("incident.sign_due_at", "签收时限", "Sign for by"),
    ("incident.sign_for_s", "签收用时（秒）", "Sign-for (s)"),
    ("incident.signed_for_at", "签收时间", "Signed for"),
    (
        "incident.similar",
        "疑似重复警情（同类型、500米与2小时内）",
        "Possible duplicates (same type, within 500 m and 2 hours)",
    ),
    (
        "incident.similar_intake",
        "可能重复：附近 2 小时内已有同类警情",
        "Possible duplicates: incidents of this type nearby in the last 2 hours",
    ),
    ("incident.submit", "登记（Ctrl+Enter）", "Register (Ctrl+Enter)"),
    ("incident.suggestion", "研判建议", "Suggestion"),
    ("incident.triaged_at", "研判时间", "Triaged"),
    ("incident.turn_out_min", "出警到场（分钟）", "Turn-out (min)"),
    ("incident.type", "警情类型", "Type"),
    ("incident.type_later", "（研判时再定）", "(decide at triage)"),
    ("incident.untriaged", "待研判", "Not triaged"),
    ("incident.within_5", "5分钟到场率", "Within 5 min"),
    ("itype.code", "编码", "Code"),
    ("itype.code_hint", "如 0801、080103", "e.g. 0801, 080103"),
    ("itype.default", "默认", "Default"),
    ("itype.dispute", "纠纷类（重复来电按72小时关联）", "A dispute (repeat calls link over 72 hours)"),
    ("itype.dispute_short", "纠纷", "Dispute"),
    ("itype.done_workdays", "办结时限（工作日）", "Finish within (working days)"),
    (
        "itype.hint",
        "四级字典（类别/类型/细类/子类），每级两位编码；新增下级前须有上级。已使用的类别只能停用，不能删除。",
        "A 4-level dictionary (category/type/subtype/detail), two digits a level; a parent must exist before its children. Types in use are retired, never deleted.",
    ),
    ("itype.level", "级别", "Level"),
    ("itype.limits", "移交时限", "Hand-over time limits"),
    (
        "itype.limits_hint",
        "按类别编码前缀匹配，最长前缀优先；留空为默认。紧急警情最多1小时签收、1个工作日办结。",
        "Matched by type code prefix, the longest first; empty is the default. Urgent matters: at most 1 hour to sign for and 1 working day to finish.",
    ),
    ("itype.name", "名称", "Name"),
    ("itype.parent", "上级", "Parent"),
    ("itype.police", "通常为警务类（研判时的默认判断）", "Usually a police matter (the default at triage)"),
    ("itype.police_short", "通常判断", "Usual decision"),
    ("itype.prefix", "类别编码前缀", "Type prefix"),
    ("itype.sign_for_hours", "签收时限（小时）", "Sign for within (hours)"),
    ("itype.title", "警情类别字典与移交时限", "Incident types and hand-over limits"),
    ("login.failed", "登录失败", "Login failed"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.title", "用户登录", "Sign in"),
    ("login.username", "用户名", "Username"),
    ("map.analysis", "情报研判一张图", "Analysis map"),
    ("map.category", "事项类型", "Type"),
    (
        "map.click_grid",
        "点击网格查看责任民警、辅警和当前数据；点击点位打开详情。",
        "Click a grid for its officer, auxiliaries and figures; click a point to open it.",
    ),
    ("map.command", "综合指挥一张图", "Command map"),
    ("map.count", "数量", "Count"),
    ("map.duty", "勤务管理一张图", "Duty map"),
    ("map.fig_done", "时段内办结", "Done in period"),
    ("map.fig_duty", "时段内巡查走访", "Patrols and visits in period"),
    ("map.fig_in_period", "时段内新增", "New in period"),
    ("map.fig_open", "在办", "Open"),
    ("map.fig_overdue", "超期", "Overdue"),
    ("map.figure", "网格着色指标", "Colour grids by"),
    ("map.from", "开始日期", "From"),
    ("map.grids", "网格", "Grids"),
    ("map.heat", "热力(H3)", "Heat (H3)"),
    ("map.idle_grids", "本周无活动网格", "Grids with no activity this week"),
    ("map.item", "事项", "Item"),
    ("map.layer", "图层", "Layer"),
    ("map.layers", "图层", "Layers"),
    ("map.live", "实时：近24小时，每分钟刷新", "Live: last 24 hours, refreshed every minute"),
    ("map.nearest_station", "就近派出所", "Nearest station"),
    ("map.no_grid", "不在网格内", "Outside every grid"),
    ("map.occurred_at", "发生时间", "When"),
    ("map.position", "位置", "Position"),
    ("map.to", "结束日期", "To"),
    ("map.top_cells", "热点排行", "Top cells"),
    ("map.unrouted", "未落格事项", "Unrouted items"),
    (
        "map.unrouted_hint",
        "以下事项的位置不在任何网格内，已按就近原则转入最近派出所指挥室队列，请核实位置或调整网格。",
        "These items lie outside every grid and went to the nearest station's command room queue: check the position or adjust the grids.",
    ),
    ("nav.admin", "系统管理", "Administration"),
    ("nav.agency_inbox", "转办工单", "Hand-overs"),
    ("nav.api", "接口文档", "API docs"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.catalogue", "任务清单", "Catalogue"),
    ("nav.disputes", "矛盾纠纷", "Disputes"),
    ("nav.grids", "警务网格", "Grids"),
    ("nav.home", "工作台", "Dashboard"),
    ("nav.incident_types", "警情类别字典", "Incident types"),
    ("nav.incidents", "警情", "Incidents"),
    ("nav.logout", "退出", "Sign out"),
    ("nav.map", "一张图", "One map"),
    ("nav.mine", "我的任务(手机)", "My tasks (phone)"),
    ("nav.new_task", "制定任务", "New task"),
    ("nav.notifications", "消息", "Inbox"),
    ("nav.tasks", "任务台账", "Task ledger"),
    ("nav.users", "用户管理", "Users"),
    ("nav.workflow", "流程与日历", "Workflow & calendar"),
    ("notif.mark_all", "全部标为已读", "Mark all read"),
    ("notif.title", "消息通知", "Notifications"),
    ("notif.unread", "未读", "Unread"),
    ("role.label", "角色", "Roles"),
    ("task.accept_due", "接单时限", "Accept by"),
    ("task.actions", "可执行操作", "Available actions"),
    ("task.assignee", "接收人", "Assignee"),
    ("task.catalogue", "任务事项", "Catalogue item"),
    ("task.created_at", "制定时间", "Created"),
    ("task.created_from", "制定日期起", "Created from"),
    ("task.created_to", "制定日期止", "Created to"),
    ("task.deadline", "当前时限", "Deadline"),
    ("task.description", "任务说明", "Description"),
    ("task.dispatch_now", "制定后立即派单给", "Dispatch right away to"),
    ("task.due_at", "要求完成时间", "Due"),
    ("task.due_soon", "即将到期", "Due soon"),
    ("task.feedback", "处置反馈", "Feedback"),
    ("task.guideline", "工作指引", "Guideline"),
    ("task.keyword", "关键词", "Keyword"),
    ("task.lat", "纬度", "Latitude"),
    ("task.location", "位置", "Location"),
    ("task.lon", "经度", "Longitude"),
    ("task.new", "制定任务", "New task"),
    ("task.no_actions", "当前没有您可执行的操作", "No actions available to you"),
    ("task.none_selected", "（暂不派单）", "(do not dispatch yet)"),
    ("task.note", "说明", "Note"),
    ("task.number", "任务编号", "Number"),
    ("task.org_unit", "责任单位", "Unit"),
    ("task.overdue", "已超期", "Overdue"),
    ("task.overdue_only", "仅看超期", "Overdue only"),
    ("task.photos", "现场照片", "Photos"),
    ("task.rework", "退回重办次数", "Reworks"),
    ("task.score", "评分", "Score"),
    ("task.state", "状态", "State"),
    ("task.timeline", "办理过程", "Timeline"),
    ("task.title", "任务标题", "Title"),
    ("task.use_my_location", "使用当前位置", "Use my location"),
    ("unit.days", "天", "days"),
    ("unit.hours", "小时", "h"),
    ("unit.minutes", "分钟", "min"),
    ("user.active", "在用", "Active"),
    ("user.create", "新增用户", "New user"),
    ("user.display_name", "姓名", "Name"),
    ("user.initial_password", "初始密码", "Initial password"),
    ("user.org", "所属单位", "Unit"),
    ("user.phone", "联系电话", "Phone"),
    ("user.phone_keep", "留空则不修改", "Leave empty to keep"),
    ("user.reset_done", "密码已重置，用户下次登录须修改密码", "Password reset; the user must change it at next login"),
    ("user.reset_password", "重置密码", "Reset password"),
    ("user.show_phone", "查看完整号码", "Show full number"),
    ("user.title", "用户管理", "Users"),
    ("user.username", "用户名", "Username"),
    ("wf.action", "动作", "Action"),
    ("wf.assignee", "承办人", "Assignee"),
    ("wf.creator", "制定人", "Creator"),
    ("wf.dispatcher", "派单人", "Dispatcher"),
    (
        "wf.edit_hint",
        "流转规则是数据：管理员可通过 PUT /api/v1/workflows/task 修改（接口文档中有说明）。",
        "Transitions are data: admins change them with PUT /api/v1/workflows/task (see the API docs).",
    ),
    ("wf.effects", "效果", "Effects"),
    ("wf.from", "当前状态", "From"),
    ("wf.guards", "限制条件", "Guards"),
    ("wf.initial", "初始", "Initial"),
    ("wf.label", "名称", "Label"),
    ("wf.required", "必填项", "Required"),
    ("wf.state", "状态码", "State"),
    ("wf.states", "任务状态", "Task states"),
    ("wf.terminal", "终结", "Terminal"),
    ("wf.to", "流转至", "To"),
    ("wf.transitions", "流转规则", "Transitions"),
    ("wf.who", "可执行人", "Who may"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in TABLE.windows(2) {
            assert!(w[0].0 < w[1].0, "{} must sort before {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn every_template_key_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut missing = vec![];
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("tr.t(\"").skip(1) {
                    let key = part.split('"').next().unwrap();
                    if TABLE.binary_search_by(|(k, _, _)| (*k).cmp(key)).is_err() {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }
}
