//! The major-dispute warning notice (重大矛盾纠纷预警提示函): its editable
//! template and how it is filled in. The template is data: an issuing
//! body, a number prefix, a title and body lines with `{placeholders}`; each
//! body line becomes a paragraph of the document.

use serde::{Deserialize, Serialize};

/// The template's name in `notice_templates`.
pub const DISPUTE_WARNING: &str = "dispute_warning";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeTemplate {
    /// The red header: the issuing body (e.g. 江城市公安局城南分局滨江派出所).
    pub issuer: String,
    /// Before the year in the document number, e.g. 滨江派预 → 滨江派预〔2026〕第3号.
    pub number_prefix: String,
    pub title: String,
    /// Lines with placeholders; each line is a paragraph.
    pub body: String,
}

/// The placeholders a template may use, with what they stand for.
pub const PLACEHOLDERS: [(&str, &str); 11] = [
    ("recipients", "主送单位"),
    ("station", "辖区派出所"),
    ("dispute_number", "纠纷编号"),
    ("title", "纠纷标题"),
    ("registered", "登记日期"),
    ("colour", "预警等级"),
    ("facts", "基本情况"),
    ("rules", "预警依据（触发的规则）"),
    ("actions", "工作建议"),
    ("deadline", "反馈期限"),
    ("date", "发文日期"),
];

pub fn default_template() -> NoticeTemplate {
    NoticeTemplate {
        issuer: "{station}".into(),
        number_prefix: "纠预".into(),
        title: "重大矛盾纠纷预警提示函".into(),
        body: [
            "{recipients}：",
            "{station}辖区于{registered}登记的矛盾纠纷“{title}”（编号{dispute_number}），经研判列为{colour}预警。为防止矛盾激化升级，现将有关情况提示如下：",
            "一、基本情况。{facts}",
            "二、预警依据。{rules}",
            "三、工作建议。{actions}",
            "请于{deadline}前将落实情况反馈我所。",
        ]
        .join("\n"),
    }
}

/// Placeholders used in `s` that are not known, in order of appearance.
fn unknown(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
                    out.push(name.to_string());
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push(after.to_string());
                break;
            }
        }
    }
    out
}

/// Checks a template as an admin edits it.
pub fn check_template(t: &NoticeTemplate) -> Result<(), String> {
    if t.issuer.trim().is_empty() || t.title.trim().is_empty() || t.body.trim().is_empty() {
        return Err("发文单位、标题和正文都不能为空".into());
    }
    if t.number_prefix.chars().count() > 20 || t.title.chars().count() > 60 || t.body.chars().count() > 8000 {
        return Err("文号前缀不超过20字，标题不超过60字，正文不超过8000字".into());
    }
    for part in [&t.issuer, &t.number_prefix, &t.title, &t.body] {
        if let Some(u) = unknown(part).first() {
            return Err(format!("未知的占位符 {{{u}}}"));
        }
    }
    Ok(())
}

/// Fills the placeholders (unknown ones stay as they are).
pub fn fill(s: &str, vars: &[(&str, String)]) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A notice as filled in: the red header, its number, title and paragraphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filled {
    pub issuer: String,
    pub number: String,
    pub title: String,
    pub paragraphs: Vec<String>,
}

/// The document number: `{prefix}〔{year}〕第{seq}号`.
pub fn number(prefix: &str, year: i32, seq: i64) -> String {
    format!("{prefix}〔{year}〕第{seq}号")
}

pub fn render(t: &NoticeTemplate, vars: &[(&str, String)], year: i32, seq: i64) -> Filled {
    Filled {
        issuer: fill(&t.issuer, vars),
        number: number(&fill(&t.number_prefix, vars), year, seq),
        title: fill(&t.title, vars),
        paragraphs: fill(&t.body, vars).lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_fills_in() {
        let t = default_template();
        assert!(check_template(&t).is_ok());
        let vars: Vec<(&str, String)> = PLACEHOLDERS.iter().map(|(k, _)| (*k, format!("<{k}>"))).collect();
        let f = render(&t, &vars, 2026, 3);
        assert_eq!(f.number, "纠预〔2026〕第3号");
        assert_eq!(f.issuer, "<station>");
        assert_eq!(f.paragraphs.len(), 6);
        assert!(f.paragraphs.iter().all(|p| !p.contains('{')), "{f:?}");
        assert!(f.paragraphs[0].starts_with("<recipients>"));
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let mut t = default_template();
        t.body.push_str("\n{secret}");
        assert_eq!(check_template(&t), Err("未知的占位符 {secret}".into()));
        t.body = "未闭合 {facts".into();
        assert!(check_template(&t).is_err());
        t.body = " ".into();
        assert!(check_template(&t).is_err());
    }
}
