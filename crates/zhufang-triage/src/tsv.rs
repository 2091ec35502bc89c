//! Reading labelled examples from TSV: a header line, then one example a
//! line. The text is the `text` column, or `title` and `detail` joined by a
//! newline; the label is the `label` column. Other columns are ignored. No
//! quoting; inside a field `\n`, `\t` and `\\` stand for a line break, a
//! tab and a backslash (what [`write_examples`] writes).

use crate::TriageError;
use crate::model::Example;

/// Parses TSV text (see the module docs).
pub fn read_examples(src: &str) -> Result<Vec<Example>, TriageError> {
    let mut lines = src.lines().enumerate();
    let header = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((_, l)) => break l.trim_start_matches('\u{feff}').trim_end_matches('\r'),
            None => return Err(TriageError::Tsv { line: 1, message: "empty file".into() }),
        }
    };
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |n: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(n));
    let label = find("label").ok_or(TriageError::Tsv { line: 1, message: "no label column".into() })?;
    enum Src {
        Text(usize),
        TitleDetail(usize, usize),
    }
    let text = match (find("text"), find("title"), find("detail")) {
        (Some(t), _, _) => Src::Text(t),
        (None, Some(t), Some(d)) => Src::TitleDetail(t, d),
        _ => {
            return Err(TriageError::Tsv {
                line: 1,
                message: "need a text column, or title and detail columns".into(),
            });
        }
    };
    let mut out = Vec::new();
    for (n, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| {
            f.get(i).copied().ok_or(TriageError::Tsv {
                line: n + 1,
                message: format!("{} columns, header has {}", f.len(), cols.len()),
            })
        };
        let label = get(label)?.trim();
        if label.is_empty() {
            return Err(TriageError::Tsv { line: n + 1, message: "empty label".into() });
        }
        let text = match text {
            Src::Text(t) => unescape(get(t)?),
            Src::TitleDetail(t, d) => format!("{}\n{}", unescape(get(t)?), unescape(get(d)?)),
        };
        out.push(Example { text, label: label.to_string() });
    }
    Ok(out)
}

fn unescape(f: &str) -> String {
    if !f.contains('\\') {
        return f.to_string();
    }
    let mut out = String::with_capacity(f.len());
    let mut it = f.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn escape(f: &str) -> String {
    let mut out = String::with_capacity(f.len());
    for c in f.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes examples as a `text\tlabel` TSV (line breaks, tabs and
/// backslashes in the text escaped as `\n`, `\t`, `\\`).
pub fn write_examples(examples: &[Example]) -> String {
    let mut s = String::from("text\tlabel\n");
    for e in examples {
        let t = escape(&e.text);
        s.push_str(&t);
        s.push('\t');
        s.push_str(&e.label);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_column() {
        let ex = read_examples("id\ttext\tlabel\n1\t路灯坏了\t城乡建设\n\n2\t有人溺水\t群众紧急求助\r\n").unwrap();
        assert_eq!(ex, vec![Example::new("路灯坏了", "城乡建设"), Example::new("有人溺水", "群众紧急求助")]);
    }

    #[test]
    fn title_and_detail_columns() {
        let ex =
            read_examples("\u{feff}id\ttitle\tdetail\tlabel\n7\t工资\t老板拖欠工资三个月\t劳动和社会保障\n").unwrap();
        assert_eq!(ex[0].text, "工资\n老板拖欠工资三个月");
        assert_eq!(ex[0].label, "劳动和社会保障");
    }

    #[test]
    fn errors_name_the_line() {
        assert!(matches!(read_examples("text\n路灯\n"), Err(TriageError::Tsv { line: 1, .. })));
        assert!(matches!(read_examples("title\tlabel\nx\ty\n"), Err(TriageError::Tsv { line: 1, .. })));
        assert!(matches!(read_examples("id\ttext\tlabel\n1\tx\n"), Err(TriageError::Tsv { line: 2, .. })));
        assert!(matches!(read_examples(""), Err(TriageError::Tsv { .. })));
    }

    #[test]
    fn write_then_read() {
        let ex = vec![Example::new("标题\n正文\t有\\n", "城乡建设")];
        assert_eq!(read_examples(&write_examples(&ex)).unwrap(), ex);
    }
}
