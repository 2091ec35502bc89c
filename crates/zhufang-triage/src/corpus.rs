//! The training corpus, generated deterministically from checked-in source:
//!
//! * `data/taxonomy-12345.txt` — the public 12345 taxonomy (15 domains,
//!   517 leaves; 2020 TipDM contest, attachment 1): each leaf other than
//!   其他 becomes a few short examples of its domain;
//! * `data/corpus.txt` — per class, topic phrases (`k:`) and example
//!   sentences (`s:`) written by hand from what each department (and each
//!   110 category) handles;
//! * the templates, places and people below, shared by every class, so that
//!   the words of the wrappers carry no class signal.
//!
//! The same source always gives the same examples in the same order
//! ([`examples`]); `zhufang triage corpus --out FILE` exports them as TSV.

use crate::model::{DOMAINS, Example};

pub const TAXONOMY: &str = include_str!("../data/taxonomy-12345.txt");
pub const SOURCE: &str = include_str!("../data/corpus.txt");
pub const SOURCE_MORE: &str = include_str!("../data/corpus-more.txt");
pub const SOURCE_LONG: &str = include_str!("../data/corpus-long.txt");
pub const SOURCE_VOCAB: &str = include_str!("../data/corpus-vocab.txt");
/// More whole letters (same `m:` format as `-long.txt`), written by hand in
/// three batches by domain group for the breadth of each domain's categories.
pub const SOURCE_LETTERS: [&str; 3] = [
    include_str!("../data/letters-a.txt"),
    include_str!("../data/letters-b.txt"),
    include_str!("../data/letters-c.txt"),
];

/// Places (shared by every class).
const PLACES: &[&str] = &[
    "我们小区",
    "幸福路",
    "城南新区",
    "青山镇",
    "东湖街道",
    "我们村",
    "市中心",
    "开发区",
    "人民路和解放路交叉口",
    "老城区",
    "江北区",
    "县城",
    "滨江花园小区",
    "高新区",
    "火车站附近",
    "学府路",
    "向阳社区",
    "河西村",
    "工业园区",
    "我家附近",
    "某某县",
    "某某镇",
    "新华街",
    "金色家园",
];

/// People (shared by every class).
const ACTORS: &[&str] =
    &["居民", "业主", "村民", "市民", "群众", "住户", "家长", "老百姓", "租户", "职工", "商户", "网友"];

/// Wrappers for a topic phrase `{k}` (shared by every class).
const TOPIC_TEMPLATES: &[&str] = &[
    "{p}{k}问题",
    "反映{p}的{k}问题，希望相关部门尽快处理。",
    "关于{k}的投诉",
    "{p}{k}，多次反映一直没有解决，请领导重视。",
    "请问{k}的问题应该找哪个部门？",
    "咨询{k}相关政策",
    "{a}反映：{p}存在{k}的情况，严重影响群众生活。",
    "强烈要求解决{p}{k}问题",
    "尊敬的领导：您好！我是{p}的{a}，现就{k}一事向您反映，望尽快给予答复。",
    "{k}怎么办？",
    "建议加强{k}方面的管理",
    "{p}{k}严重，{a}意见很大",
    "{p}的{k}问题什么时候能解决？",
    "投诉{p}{k}",
];

/// Wrappers for a whole sentence `{s}` (shared by every class).
const SENTENCE_TEMPLATES: &[&str] = &[
    "{s}",
    "我是{p}的{a}，{s}",
    "尊敬的领导：{s}希望尽快处理，谢谢！",
    "{s}请相关部门尽快解决。",
    "您好，{s}",
    "{p}{a}反映：{s}",
];

/// Extra wrappers for 110 records (police classes only).
const POLICE_TEMPLATES: &[&str] = &["报警：{p}{k}", "{p}发生{k}，请民警快来", "报警人称{p}{k}，请求出警"];

/// A class of the source: name, topic phrases, sentences.
#[derive(Debug, Clone, Default)]
pub struct SourceClass {
    pub name: String,
    pub topics: Vec<String>,
    pub sentences: Vec<String>,
    /// Whole messages: (title, body).
    pub messages: Vec<(String, String)>,
}

/// The hand-written source files by name (as in `data/`), in the order they
/// are read.
pub const SOURCE_FILES: [(&str, &str); 7] = [
    ("corpus.txt", SOURCE),
    ("corpus-more.txt", SOURCE_MORE),
    ("corpus-long.txt", SOURCE_LONG),
    ("corpus-vocab.txt", SOURCE_VOCAB),
    ("letters-a.txt", SOURCE_LETTERS[0]),
    ("letters-b.txt", SOURCE_LETTERS[1]),
    ("letters-c.txt", SOURCE_LETTERS[2]),
];

/// The name of the taxonomy source, for [`examples_without`].
pub const TAXONOMY_FILE: &str = "taxonomy-12345.txt";

/// Parses `data/corpus.txt`, `-more.txt`, `-long.txt`, `-vocab.txt`, then `letters-{a,b,c}.txt`, in that order; sections of the
/// same class merge (in file order).
pub fn source_classes() -> Vec<SourceClass> {
    source_classes_without(&[])
}

/// [`source_classes`] without the named files of [`SOURCE_FILES`].
pub fn source_classes_without(skip: &[&str]) -> Vec<SourceClass> {
    parse_sources(SOURCE_FILES.iter().filter(|(n, _)| !skip.contains(n)).map(|(_, s)| *s))
}

fn parse_sources<'a>(files: impl Iterator<Item = &'a str>) -> Vec<SourceClass> {
    let mut out: Vec<SourceClass> = Vec::new();
    let mut cur = 0usize;
    for line in files.flat_map(str::lines) {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("## ") {
            let name = name.trim();
            cur = match out.iter().position(|c| c.name == name) {
                Some(i) => i,
                None => {
                    out.push(SourceClass { name: name.to_string(), ..Default::default() });
                    out.len() - 1
                }
            };
        } else if let Some(k) = line.strip_prefix("k:") {
            if let Some(c) = out.get_mut(cur) {
                c.topics.extend(k.split('|').map(str::trim).filter(|s| !s.is_empty()).map(String::from));
            }
        } else if let Some(m) = line.strip_prefix("m:") {
            if let Some(c) = out.get_mut(cur) {
                let (title, body) = m.split_once('|').unwrap_or(("", m));
                c.messages.push((title.trim().to_string(), body.trim().to_string()));
            }
        } else if let Some(s) = line.strip_prefix("s:")
            && let Some(c) = out.get_mut(cur)
        {
            c.sentences.push(s.trim().to_string());
        }
    }
    out
}

/// Taxonomy leaves: (domain, second level, leaf), skipping 其他.
pub fn taxonomy_leaves() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in TAXONOMY.lines() {
        let Some((head, rest)) = line.split_once(':') else { continue };
        let domain = head.split_whitespace().next().unwrap_or("").to_string();
        if !DOMAINS.contains(&domain.as_str()) {
            continue;
        }
        for group in rest.split(';') {
            let group = group.trim().trim_end_matches(']');
            let Some((second, leaves)) = group.split_once('[') else { continue };
            let second = second.trim();
            for leaf in leaves.split('/') {
                let leaf = leaf.trim();
                if leaf.is_empty() || leaf == "其他" {
                    continue;
                }
                let second = if second == "其他" { "" } else { second };
                out.push((domain.clone(), second.to_string(), leaf.to_string()));
            }
        }
    }
    out
}

fn fill(t: &str, k: &str, p: &str, a: &str) -> String {
    t.replace("{k}", k).replace("{s}", k).replace("{p}", p).replace("{a}", a)
}

/// Topic phrases per class are each wrapped this many times.
const PER_TOPIC: usize = 4;
/// Taxonomy leaves are each wrapped this many times in the topic templates.
const LEAF_TOPIC: usize = 3;
/// Sentences are each wrapped this many times.
const PER_SENTENCE: usize = 4;
/// Longer, several-sentence messages per class.
const COMBOS: usize = 40;

/// The whole training corpus, in a fixed order.
pub fn examples() -> Vec<Example> {
    examples_without(&[])
}

/// The training corpus without the named sources (file names of
/// [`SOURCE_FILES`], or [`TAXONOMY_FILE`]), for leave-source-out
/// evaluation: e.g. train without `letters-a.txt` and test on
/// [`letters_of`] it. Without any, the same as [`examples`].
pub fn examples_without(skip: &[&str]) -> Vec<Example> {
    let mut out = Vec::new();
    // 1. Taxonomy leaves.
    let leaf_templates = ["{s}{k}", "关于{k}的问题", "反映{s}方面的{k}问题", "{k}相关问题咨询"];
    let leaves = if skip.contains(&TAXONOMY_FILE) { Vec::new() } else { taxonomy_leaves() };
    for (i, (d, s, l)) in leaves.into_iter().enumerate() {
        for r in 0..3 {
            let t = leaf_templates[(i + r) % leaf_templates.len()];
            out.push(Example::new(t.replace("{s}", &s).replace("{k}", &l), d.clone()));
        }
        // The leaf as a topic in the shared complaint wrappers too.
        for r in 0..LEAF_TOPIC {
            let t = TOPIC_TEMPLATES[(i * 5 + r * 3) % TOPIC_TEMPLATES.len()];
            let p = PLACES[(i * 7 + r * 11) % PLACES.len()];
            let a = ACTORS[(i * 3 + r * 5) % ACTORS.len()];
            out.push(Example::new(fill(t, &l, p, a), d.clone()));
        }
    }
    // 2. The hand-written source.
    for (ci, c) in source_classes_without(skip).iter().enumerate() {
        let police = crate::model::is_police_label(&c.name) || crate::model::POLICE_CLASSES.contains(&c.name.as_str());
        for (j, k) in c.topics.iter().enumerate() {
            for r in 0..PER_TOPIC {
                let t = TOPIC_TEMPLATES[(j * 5 + r * 3 + ci) % TOPIC_TEMPLATES.len()];
                let p = PLACES[(j * 7 + r * 11 + ci * 3) % PLACES.len()];
                let a = ACTORS[(j * 3 + r * 5 + ci) % ACTORS.len()];
                out.push(Example::new(fill(t, k, p, a), c.name.clone()));
            }
            if police {
                let t = POLICE_TEMPLATES[(j + ci) % POLICE_TEMPLATES.len()];
                let p = PLACES[(j * 5 + ci) % PLACES.len()];
                out.push(Example::new(fill(t, k, p, ""), c.name.clone()));
            }
        }
        for (j, s) in c.sentences.iter().enumerate() {
            for r in 0..PER_SENTENCE {
                let t = SENTENCE_TEMPLATES[(j * 3 + r * 2 + ci) % SENTENCE_TEMPLATES.len()];
                let p = PLACES[(j * 5 + r * 7 + ci) % PLACES.len()];
                let a = ACTORS[(j + r * 3 + ci) % ACTORS.len()];
                out.push(Example::new(fill(t, s, p, a), c.name.clone()));
            }
        }
        // Whole messages: as written, title alone, body alone, and each
        // sentence of the body on its own.
        // (A letter without a title is the body, once.)
        for (title, body) in &c.messages {
            if !title.is_empty() {
                out.push(Example::new(format!("{title}\n{body}"), c.name.clone()));
                out.push(Example::new(title.clone(), c.name.clone()));
            }
            out.push(Example::new(body.clone(), c.name.clone()));
            for part in body.split('。').map(str::trim).filter(|p| p.chars().count() >= 8) {
                out.push(Example::new(format!("{part}。"), c.name.clone()));
            }
        }
        // Longer messages: a title from a topic, two or three sentences, a plea.
        let (nk, ns) = (c.topics.len(), c.sentences.len());
        if nk > 0 && ns > 0 {
            for i in 0..COMBOS {
                let k = &c.topics[(i * 7 + ci) % nk];
                let s1 = &c.sentences[i % ns];
                let s2 = &c.sentences[(i * 3 + 1) % ns];
                let k2 = &c.topics[(i * 11 + 3) % nk];
                let p = PLACES[(i * 5 + ci) % PLACES.len()];
                let a = ACTORS[(i * 7 + ci) % ACTORS.len()];
                let text = format!(
                    "{p}{k}问题\n尊敬的领导：我是{p}的{a}。{s1}另外，{s2}还有{k2}的情况也很突出。恳请有关部门重视，尽快调查处理，给群众一个满意的答复。"
                );
                out.push(Example::new(text, c.name.clone()));
            }
        }
    }
    out
}

/// The whole letters (`m:` lines) of one source file of [`SOURCE_FILES`],
/// as written (title, a line break, body; the body alone when untitled),
/// labelled with their section's class. Empty for an unknown name.
pub fn letters_of(name: &str) -> Vec<Example> {
    let files = SOURCE_FILES.iter().filter(|(n, _)| *n == name).map(|(_, s)| *s);
    let mut out = Vec::new();
    for c in parse_sources(files) {
        for (title, body) in c.messages {
            let text = if title.is_empty() { body } else { format!("{title}\n{body}") };
            out.push(Example::new(text, c.name.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxonomy_has_the_domains() {
        let leaves = taxonomy_leaves();
        assert!(leaves.len() > 400, "{}", leaves.len());
        for d in DOMAINS {
            assert!(leaves.iter().any(|l| l.0 == d), "{d}");
        }
    }

    #[test]
    fn every_class_has_source_and_the_corpus_is_stable() {
        let classes = source_classes();
        let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
        for d in DOMAINS.iter().chain(crate::model::POLICE_CLASSES.iter()) {
            assert!(names.contains(d), "{d} missing from corpus.txt");
        }
        for c in &classes {
            assert!(!c.topics.is_empty() && !c.sentences.is_empty(), "{}", c.name);
        }
        let a = examples();
        assert_eq!(a, examples());
        assert!(a.len() > 5000, "{}", a.len());
    }

    #[test]
    fn leave_source_out() {
        let all = examples();
        let letters = letters_of("letters-a.txt");
        assert!(letters.len() > 100, "{}", letters.len());
        assert!(letters.iter().all(|l| DOMAINS.contains(&l.label.as_str())));
        assert!(letters.iter().all(|l| all.contains(l)), "each titled or untitled letter is a training text");
        let without = examples_without(&["letters-a.txt"]);
        assert!(letters.iter().all(|l| !without.iter().any(|e| e.text == l.text)));
        assert!(without.len() < all.len());
        assert_eq!(examples_without(&["no-such-file.txt"]), all);
        assert!(letters_of("no-such-file.txt").is_empty());
    }
}
