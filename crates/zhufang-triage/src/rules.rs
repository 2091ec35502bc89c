//! The 国办发〔2022〕12号 scope as data: keyword rules that override the
//! model's police / non-police answer (and, when a rule names one, the
//! department). The default set is `data/rules.tsv`; a model file carries the
//! rules it was trained with, so a deployment edits the TSV and retrains.

use crate::TriageError;
use aho_corasick::{AhoCorasick, MatchKind};

/// The rules shipped with the crate.
pub const DEFAULT_RULES: &str = include_str!("../data/rules.tsv");

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// true: a 110 (police) matter; false: a 12345 (non-police) matter.
    pub police: bool,
    /// The department (class) the rule sends the matter to, if any.
    pub department: Option<String>,
    pub name: String,
    pub keywords: Vec<String>,
}

/// Parsed rules with their matcher.
#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// For each automaton pattern, its rule.
    owner: Vec<usize>,
    ac: Option<AhoCorasick>,
}

/// A rule that fired and the keyword that fired it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'r> {
    pub rule: &'r Rule,
    pub keyword: &'r str,
}

impl Rules {
    /// Parses the TSV form (see `data/rules.tsv`).
    pub fn parse(src: &str) -> Result<Rules, TriageError> {
        let mut rules = Vec::new();
        for (n, line) in src.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let bad = |m: &str| TriageError::Rules { line: n + 1, message: m.to_string() };
            if cols.len() != 4 {
                return Err(bad("expected 4 tab-separated columns: kind, department, name, keywords"));
            }
            let police = match cols[0] {
                "police" => true,
                "nonpolice" => false,
                _ => return Err(bad("kind must be police or nonpolice")),
            };
            let department = match cols[1].trim() {
                "" | "-" => None,
                d => Some(d.to_string()),
            };
            let keywords: Vec<String> =
                cols[3].split('|').map(|k| crate::features::normalize(k.trim())).filter(|k| !k.is_empty()).collect();
            if keywords.is_empty() {
                return Err(bad("no keywords"));
            }
            rules.push(Rule { police, department, name: cols[2].trim().to_string(), keywords });
        }
        let mut owner = Vec::new();
        let mut patterns = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for k in &r.keywords {
                owner.push(i);
                patterns.push(k.as_str());
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|e| TriageError::Rules { line: 0, message: e.to_string() })?,
            )
        };
        Ok(Rules { rules, owner, ac })
    }

    /// The deciding rule for a normalised text: the first police rule that
    /// matches, else the first non-police rule that matches.
    pub fn decide<'r>(&'r self, norm: &str) -> Option<Hit<'r>> {
        let ac = self.ac.as_ref()?;
        let mut best: Option<(bool, usize, usize)> = None; // (police, rule, pattern)
        for m in ac.find_overlapping_iter(norm) {
            let p = m.pattern().as_usize();
            let r = self.owner[p];
            let police = self.rules[r].police;
            let better = match best {
                None => true,
                Some((bp, br, _)) => (police && !bp) || (police == bp && r < br),
            };
            if better {
                best = Some((police, r, p));
            }
        }
        best.map(|(_, r, p)| {
            let rule = &self.rules[r];
            let mut off = p;
            for (i, o) in self.owner.iter().enumerate() {
                if *o == r {
                    off = p - i;
                    break;
                }
            }
            Hit { rule, keyword: &rule.keywords[off] }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_parse() {
        let r = Rules::parse(DEFAULT_RULES).unwrap();
        assert!(r.rules.len() >= 5);
        let hit = r.decide("有人溺水了").unwrap();
        assert!(hit.rule.police);
        assert_eq!(hit.keyword, "有人溺水");
        assert_eq!(hit.rule.department.as_deref(), Some("群众紧急求助"));
        assert!(!r.decide("小区路灯坏了好几天").unwrap().rule.police);
        // Police beats non-police when both match.
        assert!(r.decide("路灯坏了，有人溺水").unwrap().rule.police);
        assert!(r.decide("今天天气很好").is_none());
    }

    #[test]
    fn bad_rules_are_named_by_line() {
        let e = Rules::parse("# c\npolice\tx\ty\n").unwrap_err();
        assert!(matches!(e, TriageError::Rules { line: 2, .. }), "{e:?}");
        let e = Rules::parse("maybe\t-\tn\tk\n").unwrap_err();
        assert!(matches!(e, TriageError::Rules { line: 1, .. }));
    }
}
