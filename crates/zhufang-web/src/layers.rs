//! The map's item layers. Each kind of located item (a row kind in
//! `map_items`) is one entry here; the map page, the point/heat/figure APIs
//! and the figure selector all read this list, so a new kind (incidents,
//! disputes, hazards) plugs in by adding an entry and writing its rows, with
//! no change to the map code.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct LayerDef {
    /// Layer id in URLs (`layers=tasks`).
    pub id: &'static str,
    /// `map_items.kind` of its items.
    pub kind: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// Marker colour.
    pub color: &'static str,
    /// Marker colours by the item's category, where the category is a
    /// warning level (disputes: 红/橙/黄/蓝); others take `color`.
    pub tones: &'static [(&'static str, &'static str)],
    /// Items that stand rather than happen (volunteer posts): shown in any
    /// period, with no deadline; a grid is coloured by how many are active.
    pub standing: bool,
    /// Detail page of one item; `{id}` is replaced by the item id.
    pub detail: &'static str,
}

pub static LAYERS: &[LayerDef] = &[
    LayerDef {
        id: "incidents",
        kind: "incident",
        label_zh: "警情",
        label_en: "Incidents",
        color: "#cf1322",
        tones: &[],
        standing: false,
        detail: "/incidents/{id}",
    },
    LayerDef {
        id: "disputes",
        kind: "dispute",
        label_zh: "矛盾纠纷",
        label_en: "Disputes",
        color: "#d46b08",
        tones: &[("red", "#cf1322"), ("orange", "#fa8c16"), ("yellow", "#d4b106"), ("blue", "#2f54eb")],
        standing: false,
        detail: "/disputes/{id}",
    },
    LayerDef {
        id: "hazards",
        kind: "hazard",
        label_zh: "安全隐患",
        label_en: "Hazards",
        color: "#7c3aed",
        tones: &[],
        standing: false,
        detail: "/hazards/{id}",
    },
    LayerDef {
        id: "posts",
        kind: "volunteer_post",
        label_zh: "群防岗位",
        label_en: "Volunteer posts",
        color: "#08979c",
        tones: &[],
        standing: true,
        detail: "/volunteers/posts/{id}",
    },
    LayerDef {
        id: "tasks",
        kind: "task",
        label_zh: "主防任务",
        label_en: "Tasks",
        color: "#1677ff",
        tones: &[],
        standing: false,
        detail: "/tasks/{id}",
    },
];

pub fn by_id(id: &str) -> Option<&'static LayerDef> {
    LAYERS.iter().find(|l| l.id == id)
}

pub fn by_kind(kind: &str) -> Option<&'static LayerDef> {
    LAYERS.iter().find(|l| l.kind == kind)
}

impl LayerDef {
    pub fn url(&self, item_id: i64) -> String {
        self.detail.replace("{id}", &item_id.to_string())
    }
    /// The marker colour of an item of this layer with this category.
    pub fn tone(&self, category: &str) -> &'static str {
        self.tones.iter().find(|(c, _)| *c == category).map(|(_, t)| *t).unwrap_or(self.color)
    }
}

/// The figures a grid can be coloured by: per layer, open now, overdue now
/// and occurred in the period; and patrols/visits done in the period.
#[derive(Debug, Clone, Serialize)]
pub struct FigureDef {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
}

pub fn figures() -> Vec<FigureDef> {
    let mut out = vec![];
    for l in LAYERS {
        if l.standing {
            out.push(FigureDef {
                id: format!("{}.open", l.kind),
                label_zh: format!("{}数", l.label_zh),
                label_en: l.label_en.to_string(),
            });
            continue;
        }
        out.push(FigureDef {
            id: format!("{}.open", l.kind),
            label_zh: format!("在办{}", l.label_zh),
            label_en: format!("Open {}", l.label_en.to_lowercase()),
        });
        out.push(FigureDef {
            id: format!("{}.overdue", l.kind),
            label_zh: format!("超期{}", l.label_zh),
            label_en: format!("Overdue {}", l.label_en.to_lowercase()),
        });
        out.push(FigureDef {
            id: format!("{}.in_period", l.kind),
            label_zh: format!("时段内{}", l.label_zh),
            label_en: format!("{} in period", l.label_en),
        });
    }
    out.push(FigureDef {
        id: "duty_done".into(),
        label_zh: "巡查走访完成数".into(),
        label_en: "Patrols and visits done".into(),
    });
    out
}
