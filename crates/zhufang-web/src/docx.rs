//! A warning notice as a Word document (DOCX, opens in Word and WPS), laid
//! out as a Chinese official document (GB/T 9704): A4, the issuing body as
//! a red header, the document number, a red rule, the title, the body in
//! 仿宋 三号 with a two-character first-line indent, the issuer and date on
//! the right. Written with the `zip` crate; the XML is ours.

use std::io::Write;
use zip::write::SimpleFileOptions;

/// What goes into the document.
pub struct NoticeDoc<'a> {
    pub issuer: &'a str,
    pub number: &'a str,
    pub title: &'a str,
    /// The first is the salutation (no indent); the rest are body paragraphs.
    pub paragraphs: &'a [String],
    pub signature: &'a str,
    pub date: &'a str,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // characters XML 1.0 does not allow
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// One paragraph: alignment, indent (twips), and one run of text.
fn para(text: &str, font: &str, half_points: u32, opts: &ParaOpts) -> String {
    let mut ppr = String::new();
    if let Some(j) = opts.align {
        ppr.push_str(&format!("<w:jc w:val=\"{j}\"/>"));
    }
    if opts.indent {
        ppr.push_str("<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>");
    }
    if opts.rule {
        ppr.push_str("<w:pBdr><w:bottom w:val=\"single\" w:sz=\"18\" w:space=\"4\" w:color=\"E60012\"/></w:pBdr>");
    }
    ppr.push_str("<w:spacing w:line=\"560\" w:lineRule=\"exact\"/>");
    let mut rpr = format!(
        "<w:rFonts w:ascii=\"{font}\" w:eastAsia=\"{font}\" w:hAnsi=\"{font}\"/><w:sz w:val=\"{half_points}\"/><w:szCs w:val=\"{half_points}\"/>"
    );
    if opts.bold {
        rpr.push_str("<w:b/>");
    }
    if opts.red {
        rpr.push_str("<w:color w:val=\"E60012\"/>");
    }
    format!(
        "<w:p><w:pPr>{ppr}</w:pPr><w:r><w:rPr>{rpr}</w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
        esc(text)
    )
}

#[derive(Default)]
struct ParaOpts {
    align: Option<&'static str>,
    indent: bool,
    bold: bool,
    red: bool,
    rule: bool,
}

/// The `word/document.xml` of a notice.
pub fn document_xml(d: &NoticeDoc) -> String {
    let center = || ParaOpts { align: Some("center"), ..Default::default() };
    let mut body = String::new();
    // red header: 方正小标宋 二号 (22pt), red
    body.push_str(&para(d.issuer, "方正小标宋简体", 44, &ParaOpts { red: true, bold: true, ..center() }));
    // the number, then the red rule under it
    body.push_str(&para(d.number, "仿宋_GB2312", 32, &ParaOpts { rule: true, ..center() }));
    body.push_str(&para("", "仿宋_GB2312", 32, &ParaOpts::default()));
    body.push_str(&para(d.title, "方正小标宋简体", 44, &ParaOpts { bold: true, ..center() }));
    body.push_str(&para("", "仿宋_GB2312", 32, &ParaOpts::default()));
    for (i, p) in d.paragraphs.iter().enumerate() {
        body.push_str(&para(p, "仿宋_GB2312", 32, &ParaOpts { indent: i > 0, ..Default::default() }));
    }
    body.push_str(&para("", "仿宋_GB2312", 32, &ParaOpts::default()));
    let right = || ParaOpts { align: Some("right"), ..Default::default() };
    body.push_str(&para(d.signature, "仿宋_GB2312", 32, &right()));
    body.push_str(&para(d.date, "仿宋_GB2312", 32, &right()));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
<w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
<w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1588\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/>\
</w:sectPr></w:body></w:document>"
    )
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
</Types>";

const RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
</Relationships>";

/// The whole DOCX file.
pub fn notice_docx(d: &NoticeDoc) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opt = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let core = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{}</dc:title><dc:creator>{}</dc:creator></cp:coreProperties>",
            esc(d.title),
            esc(d.issuer)
        );
        for (name, content) in [
            ("[Content_Types].xml", CONTENT_TYPES.to_string()),
            ("_rels/.rels", RELS.to_string()),
            ("docProps/core.xml", core),
            ("word/document.xml", document_xml(d)),
        ] {
            z.start_file(name, opt)?;
            z.write_all(content.as_bytes())?;
        }
        z.finish()?;
    }
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_keeps_the_order() {
        let paragraphs = vec!["甲单位：".to_string(), "第一段 <b>&\u{1}".to_string()];
        let d = NoticeDoc {
            issuer: "某派出所",
            number: "纠预〔2026〕第1号",
            title: "重大矛盾纠纷预警提示函",
            paragraphs: &paragraphs,
            signature: "某派出所",
            date: "2026年11月28日",
        };
        let xml = document_xml(&d);
        assert!(xml.contains("第一段 &lt;b&gt;&amp;") && !xml.contains('\u{1}'));
        let (a, b) = (xml.find("纠预").unwrap(), xml.find("第一段").unwrap());
        assert!(a < b);
        let bytes = notice_docx(&d).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }
}
